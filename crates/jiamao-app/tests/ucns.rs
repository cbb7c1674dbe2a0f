#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! 单耗 against the national standards and customs' review of 单耗 versions (质疑 / 磋商), with
//! enterprise self-verification (企业自核单耗), on a SQLite file.

use chrono::NaiveDate;
use jiamao_app::platform::Ctx;
use jiamao_app::ucns::{CheckOptions, SelfVerificationDoc};
use jiamao_app::{AppError, Engine};
use jiamao_domain::access::{Identity, Principal, Role};
use jiamao_domain::norms::{Norms, ReviewAction, ReviewState, Verdict};
use jiamao_store::Store;
use jiamao_store_sqlite::{Durability, SqliteStore};

const E1: &str = "91441900698123458E";
const E2: &str = "91320505735624180G";

const NORMS: &str = "row_id,standard_no,policy_basis,finished_code,finished_name,finished_unit,finished_spec,material_codes,material_name,material_unit,material_spec,value_kind,value,value_unit,process_loss_rate_pct,source_url,note
1,HDB/FZ061-2010,海关总署、国家发展改革委联合公告2010年第50号,60019100,棉制拉绒针织布(单面拉绒),千克,宽度>30厘米,60041010;60049010,棉制针织未整理布,千克,宽度>30厘米,net,1,千克/千克,4.5,http://quanruntong.com/cate/article/3/687,copied from the shared transcription (row 1; material codes shortened)
";

/// A book of `uscc` in district `customs`: cotton pile fabric from cotton knit fabric, version 1
/// (净耗 1 at 6 % loss: above HDB/FZ061-2010) and version 2 (1.04: within).
fn book(no: &str, uscc: &str, customs_code: &str, region: &str, customs: &str) -> String {
    format!(
        r#"{{"book_no":"{no}","book_type":"E","trade_mode":"0615",
 "operator":{{"uscc":"{uscc}","customs_code":"{customs_code}","name":"测试","region_code":"{region}"}},
 "master_customs":"{customs}","valid_from":"2026-01-01","valid_until":"2026-12-31",
 "materials":[{{"seq":1,"part_no":"M","hs_code":"6004101000","name":"棉针织布","unit":"035","unit_price":"1","currency":"502"}}],
 "products":[{{"seq":1,"part_no":"P","hs_code":"6001910000","name":"拉绒布","unit":"035","unit_price":"2","currency":"502"}}],
 "consumption":[
  {{"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-01-01","net":"1","tangible_loss_rate":"0.06"}},
  {{"product_seq":1,"material_seq":1,"version":"2","valid_from":"2026-06-01","unit_consumption":"1.04"}}]}}"#
    )
}

fn engine(dir: &std::path::Path) -> Engine<SqliteStore> {
    let mut e = Engine::new(SqliteStore::open(&dir.join("j.db"), Durability::Normal).unwrap());
    e.import_book(&book("E1", E1, "4419960123", "441900", "5200"), "e1").unwrap();
    e.import_book(&book("E2", E2, "3205960321", "320505", "2300"), "e2").unwrap();
    e
}

fn as_user(e: &mut Engine<SqliteStore>, login: &str, role: Role, enterprise: Option<&str>, customs: Option<&str>) {
    let id = Identity { login: login.into(), role, enterprise: enterprise.map(Into::into), customs: customs.map(Into::into), province: None, read_only: false };
    e.set_ctx(Ctx { principal: Principal::User(id), request_id: "t".into(), source: "test".into(), now: "2026-07-01T08:00:00Z".parse().unwrap() });
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn state(e: &mut Engine<SqliteStore>, book: &str, version: &str) -> ReviewState {
    e.ucns_reviews(book, &CheckOptions::default()).unwrap().versions.into_iter().find(|v| v.version == version).unwrap().state
}

fn rule(err: AppError) -> &'static str {
    match err {
        AppError::Book { error, .. } => error.rule,
        other => panic!("not a rule: {other}"),
    }
}

#[test]
fn consumption_check_flags_the_line_above_the_standard() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    assert!(matches!(e.consumption_check("E1", &CheckOptions::default()), Err(AppError::Input(_))), "nothing to compare with yet");
    let norms = Norms::parse_csv(NORMS, "norms.csv").unwrap();
    let loaded = e.load_ucns_norms("fz061", date("2026-01-01"), &norms).unwrap();
    assert_eq!((loaded.status, loaded.entries), ("loaded", 1));
    assert_eq!(e.load_ucns_norms("fz061", date("2026-01-01"), &norms).unwrap().status, "unchanged");
    let other = Norms::parse_csv(&NORMS.replace(",4.5,", ",3,"), "other.csv").unwrap();
    assert!(e.load_ucns_norms("fz061", date("2026-01-01"), &other).is_err(), "other content under a taken name");

    let c = e.consumption_check("E1", &CheckOptions::default()).unwrap();
    assert_eq!(c.norms.documents, ["fz061"]);
    assert!(!c.hs2022.checked);
    assert_eq!((c.summary.above_maximum, c.summary.within), (1, 1));
    let l = c.lines.iter().find(|l| l.version == "1").unwrap();
    assert_eq!(l.verdict, Verdict::AboveMaximum);
    assert_eq!(l.standards[0].standard_no, "HDB/FZ061-2010");
    // As of a day before the document's date, nothing was loaded yet.
    let before = CheckOptions { as_of: Some(date("2025-12-31")), ..CheckOptions::default() };
    assert!(e.consumption_check("E1", &before).is_err());

    // Another enterprise's operator learns nothing; the customs officer of the district reads it.
    as_user(&mut e, "op2", Role::EnterpriseOperator, Some(E2), None);
    assert!(matches!(e.consumption_check("E1", &CheckOptions::default()), Err(AppError::UnknownBook(_))));
    as_user(&mut e, "c5200", Role::CustomsOfficer, None, Some("5200"));
    assert_eq!(e.consumption_check("E1", &CheckOptions::default()).unwrap().summary.above_maximum, 1);
}

#[test]
fn review_workflow_of_an_enterprise_not_eligible() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    assert_eq!(state(&mut e, "E1", "1"), ReviewState::Declared, "no record: declared");

    // An officer of another district is refused, as if the book did not exist, and it is logged.
    as_user(&mut e, "c2300", Role::CustomsOfficer, None, Some("2300"));
    assert!(matches!(e.review_ucns("E1", 1, "1", ReviewAction::Question, None, ""), Err(AppError::UnknownBook(_))));
    // An enterprise may not review its own 单耗.
    as_user(&mut e, "op1", Role::EnterpriseOperator, Some(E1), None);
    assert!(matches!(e.review_ucns("E1", 1, "1", ReviewAction::Accept, None, ""), Err(AppError::UnknownBook(_))));

    as_user(&mut e, "c5200", Role::CustomsOfficer, None, Some("5200"));
    // Consultation before a question: refused with its rule.
    assert_eq!(rule(e.review_ucns("E1", 1, "1", ReviewAction::Consult, None, "").unwrap_err()), "ucns_transition");
    assert_eq!(rule(e.review_ucns("E1", 1, "9", ReviewAction::Question, None, "").unwrap_err()), "unknown_version");
    let r = e.review_ucns("E1", 1, "1", ReviewAction::Question, None, "6 % loss against 4.5 % in HDB/FZ061-2010").unwrap();
    assert_eq!((r.from, r.to, r.n), (ReviewState::Declared, ReviewState::Questioned, 1));
    assert_eq!(rule(e.review_ucns("E1", 1, "1", ReviewAction::Adjust, Some("3"), "").unwrap_err()), "ucns_transition", "adjust follows consultation");
    assert_eq!(e.review_ucns("E1", 1, "1", ReviewAction::Consult, None, "").unwrap().to, ReviewState::Consulting);
    assert_eq!(rule(e.review_ucns("E1", 1, "1", ReviewAction::Adjust, None, "").unwrap_err()), "ucns_replacement");
    as_user(&mut e, "s5200", Role::CustomsSupervisor, None, Some("5200"));
    assert_eq!(e.review_ucns("E1", 1, "1", ReviewAction::Accept, None, "evidence of the loss accepted").unwrap().to, ReviewState::Accepted);
    assert_eq!(rule(e.review_ucns("E1", 1, "1", ReviewAction::Question, None, "").unwrap_err()), "ucns_review_final");

    let q = e.ucns_reviews("E1", &CheckOptions::default()).unwrap();
    let v1 = q.versions.iter().find(|v| v.version == "1").unwrap();
    assert_eq!(v1.history.iter().map(|s| s.to).collect::<Vec<_>>(), [ReviewState::Questioned, ReviewState::Consulting, ReviewState::Accepted]);
    assert_eq!(v1.history[0].by, "c5200");
    assert!(!v1.open && !v1.self_verified);
    assert_eq!(q.states.get("declared"), Some(&1), "version 2 untouched");

    // Version 2: questioned, consulted, adjusted to a version 3 not yet filed.
    as_user(&mut e, "c5200", Role::CustomsOfficer, None, Some("5200"));
    e.review_ucns("E1", 1, "2", ReviewAction::Question, None, "").unwrap();
    e.review_ucns("E1", 1, "2", ReviewAction::Consult, None, "").unwrap();
    assert_eq!(e.review_ucns("E1", 1, "2", ReviewAction::Adjust, Some("3"), "1.02 agreed").unwrap().to, ReviewState::Adjusted);
    let q = e.ucns_reviews("E1", &CheckOptions::default()).unwrap();
    let v2 = q.versions.iter().find(|v| v.version == "2").unwrap();
    assert_eq!((v2.replacement.as_deref(), v2.replacement_filed), (Some("3"), Some(false)));

    // Every transition is in the enterprise's audit chain and in the event feed.
    e.set_ctx(Ctx::default());
    let mut reviews = 0;
    e.store_mut()
        .for_each_audit(E1, &mut |r| {
            reviews += usize::from(r.action == "review_ucns");
            Ok(())
        })
        .unwrap();
    assert_eq!(reviews, 6);
    let (events, _) = e.events(0, 1000).unwrap();
    assert_eq!(events.iter().filter(|ev| ev.kind == "ucns_reviewed").count(), 6);
    let mut refusals = 0;
    e.store_mut()
        .for_each_audit(jiamao_domain::audit::SYSTEM_CHAIN, &mut |r| {
            refusals += usize::from(r.outcome == "refused" && r.action == "review_consumption");
            Ok(())
        })
        .unwrap();
    assert_eq!(refusals, 2, "the other district's officer and the enterprise operator");
    // The review is not a gate: lists post whatever the state of the version they use (2: adjusted).
    let out =
        e.post_text(r#"{"list_no":"I1","book_no":"E1","declared_on":"2026-01-05","direction":"I","goods":"material","trade_mode":"0615","lines":[{"line":1,"item_seq":1,"qty":"100"}]}"#, "l").unwrap();
    assert_eq!(out[0].status, "posted");
    let out =
        e.post_text(r#"{"list_no":"X1","book_no":"E1","declared_on":"2026-07-05","direction":"E","goods":"product","trade_mode":"0615","lines":[{"line":1,"item_seq":1,"qty":"10"}]}"#, "l").unwrap();
    assert_eq!(out[0].status, "posted", "{:?}", out[0].error);
}

#[test]
fn an_eligible_enterprise_self_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let allow = SelfVerificationDoc { allowed: true, from: date("2026-03-01"), basis: "test policy".into() };
    assert_eq!(e.set_self_verification(E2, &allow).unwrap().status, "recorded");
    assert_eq!(e.set_self_verification(E2, &allow).unwrap().status, "duplicate");
    assert!(e.set_self_verification(E2, &SelfVerificationDoc { allowed: false, ..allow.clone() }).is_err());
    assert!(!e.self_verification_allowed(E2, date("2026-02-28")).unwrap());
    assert!(e.self_verification_allowed(E2, date("2026-03-01")).unwrap());
    assert!(!e.self_verification_allowed(E1, date("2026-03-01")).unwrap(), "another enterprise");

    // Version 2 starts after eligibility: accepted (self-verified) at once; version 1 before it: declared.
    let q = e.ucns_reviews("E2", &CheckOptions::default()).unwrap();
    let v2 = q.versions.iter().find(|v| v.version == "2").unwrap();
    assert_eq!((v2.state, v2.self_verified, v2.open), (ReviewState::Accepted, true, false));
    assert_eq!(state(&mut e, "E2", "1"), ReviewState::Declared);
    as_user(&mut e, "c2300", Role::CustomsOfficer, None, Some("2300"));
    assert_eq!(rule(e.review_ucns("E2", 1, "2", ReviewAction::Question, None, "").unwrap_err()), "ucns_self_verified");
    assert_eq!(e.review_ucns("E2", 1, "1", ReviewAction::Accept, None, "").unwrap().to, ReviewState::Accepted);

    // Eligibility withdrawn later: versions from then on go through review again.
    e.set_ctx(Ctx::default());
    e.set_self_verification(E2, &SelfVerificationDoc { allowed: false, from: date("2026-05-01"), basis: "withdrawn".into() }).unwrap();
    assert!(!e.self_verification_allowed(E2, date("2026-06-01")).unwrap());
    assert_eq!(state(&mut e, "E2", "2"), ReviewState::Declared);
    // Only customs supervisors (and the local operator) record eligibility.
    as_user(&mut e, "c2300", Role::CustomsOfficer, None, Some("2300"));
    assert!(matches!(e.set_self_verification(E2, &allow), Err(AppError::Forbidden(_))));
}
