#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Catalogs through the engine, on a SQLite file: the acceptance of issue 5 (a catalog entry that
//! stops being prohibited on its end date: a list dated the day before is refused, the day after
//! accepted), time travel, filing refusals, approvals, the deep-processing exception, the transition
//! setting, the impact analysis, idempotent loading, audit and events.
//!
//! The book is the interchange example moved to 2020, with its white masterbatch (material 3) given
//! the HS code of sodium carbonate, 2836200000, which RULES.md §13.2 says 2020年第54号 removed from the
//! prohibited catalog from 2020-12-01. The catalog entries are written for the test.

use chrono::NaiveDate;
use jiamao_app::{AppError, Engine};
use jiamao_domain::catalog::{parse_catalog_csv, CatalogEntry, CatalogPolicy, ImpactChange};
use jiamao_store_sqlite::{Durability, SqliteStore};
use std::path::{Path, PathBuf};

const CATALOG: &str = "\
hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement
2836200000,prohibited,both,,,2015-01-01,2020-11-30,商务部 海关总署公告2014年第90号
2207100000,prohibited,import,,医用物资除外,2020-12-01,,商务部 海关总署公告2020年第54号
3920109090,restricted,export,实转,,2015-12-01,,written for the test
";

fn examples() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interchange/examples");
    if p.join("book.json").exists() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/interchange/examples not found (the example book is needed)");
        None
    }
}

/// The example book moved to `year`, numbered `book_no`, material 3 as sodium carbonate.
fn book(year: &str, book_no: &str) -> Option<String> {
    let text = std::fs::read_to_string(examples()?.join("book.json")).unwrap();
    Some(text.replace("2026-", &format!("{year}-")).replace("C52002600001", book_no).replace("3206499000", "2836200000"))
}

fn import(book_no: &str, list_no: &str, date: &str, mode: &str, item: u32) -> String {
    let cp = if mode == "0654" { r#","counterparty_book_no":"C99999999999""# } else { "" };
    format!(
        r#"{{"list_no":"{list_no}","book_no":"{book_no}","declared_on":"{date}","direction":"I","goods":"material","trade_mode":"{mode}"{cp},"lines":[{{"line":1,"item_seq":{item},"qty":"100"}}]}}"#
    )
}

fn entries(text: &str) -> Vec<CatalogEntry> {
    parse_catalog_csv(text, "catalog.csv").unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn engine(dir: &tempfile::TempDir) -> Engine<SqliteStore> {
    Engine::new(SqliteStore::open(&dir.path().join("j.db"), Durability::Normal).unwrap())
}

fn post(e: &mut Engine<SqliteStore>, list: &str) -> jiamao_app::ListOutcome {
    e.post_text(list, "lists.json").unwrap().remove(0)
}

#[test]
fn an_entry_stops_being_prohibited_on_its_end_date() {
    let Some(book) = book("2020", "C52002000001") else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(&dir);
    // Filed before the catalog is loaded (its contract starts inside the prohibition: no transition).
    e.import_book(&book, "book.json").unwrap();
    let load = e.load_catalog("test-2020", entries(CATALOG)).unwrap();
    assert_eq!(load.status, "loaded");
    // The impact names the book and the item, with the days.
    assert_eq!(load.impact.books, vec!["C52002000001".to_owned()]);
    let hit = load.impact.items.iter().find(|i| i.change == ImpactChange::NewlyProhibited).unwrap();
    assert_eq!((hit.book_no.as_str(), hit.item_seq, hit.hs_code.as_str()), ("C52002000001", 3, "2836200000"));
    assert_eq!((hit.from, hit.until), (day("2020-01-01"), day("2020-11-30")));
    assert!(load.impact.items.iter().any(|i| i.change == ImpactChange::NewlyRestricted && i.hs_code == "3920109090" && i.entry.is_shizhuan()));

    let before = post(&mut e, &import("C52002000001", "Q1", "2020-11-29", "0615", 3));
    assert_eq!(before.status, "rejected");
    let err = before.error.unwrap();
    assert_eq!(err.rule, "catalog_prohibited");
    assert_eq!(err.line, Some(1));
    assert!(err.message.contains("2836200000") && err.message.contains("商务部 海关总署公告2014年第90号"), "{}", err.message);
    let end = post(&mut e, &import("C52002000001", "Q2", "2020-11-30", "0615", 3));
    assert_eq!(end.status, "rejected", "the end date is inclusive");
    // Nothing of the refused lists was posted.
    assert_eq!(e.balance("C52002000001", None).unwrap().materials[2].balance, "0");
    let after = post(&mut e, &import("C52002000001", "Q3", "2020-12-01", "0615", 3));
    assert_eq!(after.status, "posted", "{:?}", after.error);
    assert_eq!(e.balance("C52002000001", None).unwrap().materials[2].balance, "100");
    // Other materials were never prohibited.
    assert_eq!(post(&mut e, &import("C52002000001", "Q4", "2020-11-29", "0615", 1)).status, "posted");
    // RULES.md §13.1: goods received by 深加工结转 are not prohibited.
    let carry = post(&mut e, &import("C52002000001", "Q5", "2020-11-29", "0654", 3));
    assert_eq!(carry.status, "posted", "{:?}", carry.error);
    // A refused list reserved nothing: sent again after the end date it posts.
    assert_eq!(post(&mut e, &import("C52002000001", "Q1", "2020-12-02", "0615", 3)).status, "posted");

    // Time travel: the check answers with what was in force on the day asked.
    let then = e.catalog_check("2836200000", day("2019-06-01")).unwrap();
    assert_eq!(then.entries.len(), 1);
    assert_eq!(then.version.as_deref(), Some("test-2020"));
    assert!(e.catalog_check("2836200000", day("2021-06-01")).unwrap().entries.is_empty());
    assert!(e.catalog_check("2836200000", day("2014-12-31")).unwrap().entries.is_empty());
    assert!(matches!(e.catalog_check("28362000", day("2021-06-01")), Err(AppError::Book { .. })));

    // Restricted items for guarantees (another engineer's part).
    let r = e.restricted_items("C52002000001", day("2020-06-01")).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].0, r[0].1, r[0].2.is_shizhuan()), (1, false, true));
}

#[test]
fn filing_refuses_prohibited_items_on_the_books_date() {
    let (Some(in_2020), Some(in_2021)) = (book("2020", "C52002000002"), book("2021", "C52002100002")) else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(&dir);
    e.load_catalog("test-2020", entries(CATALOG)).unwrap();
    let Err(AppError::Book { error, .. }) = e.import_book(&in_2020, "book.json") else { panic!("filed a prohibited item") };
    assert_eq!(error.rule, "catalog_prohibited");
    assert_eq!(error.at, "materials[2].hs_code");
    assert!(error.message.contains("material 3") && error.message.contains("2836200000") && error.message.contains("商务部 海关总署公告2014年第90号"), "{}", error.message);
    assert!(e.book_key("C52002000002").unwrap().is_none(), "nothing was filed");
    // The same item from 2021 on is admitted.
    assert_eq!(e.import_book(&in_2021, "book.json").unwrap().status, "filed");
}

#[test]
fn items_needing_approval_need_an_approval_ref() {
    let Some(book) = book("2026", "C52002600003") else { return };
    let copper = book.replace("3901402090", "2603000010");
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(&dir);
    let Err(AppError::Book { error, .. }) = e.import_book(&copper, "book.json") else { panic!("filed without approval") };
    assert_eq!(error.rule, "approval_required");
    assert_eq!(error.at, "materials[1].approval_ref");
    let approved = copper.replacen(r#""hs_code": "2603000010","#, r#""hs_code": "2603000010", "approval_ref": "商务部批件 2026-001","#, 1);
    assert_ne!(approved, copper);
    assert_eq!(e.import_book(&approved, "book.json").unwrap().status, "filed");
    // A change that adds an item needing approval without one is refused; the book stays as it was.
    let mut doc: serde_json::Value = serde_json::from_str(&approved).unwrap();
    let mut oil = doc["materials"][0].clone();
    oil["seq"] = 9.into();
    oil["hs_code"] = "2710199100".into();
    oil["part_no"] = "OIL-9".into();
    oil.as_object_mut().unwrap().remove("authorized_qty");
    doc["materials"].as_array_mut().unwrap().push(oil.clone());
    let Err(AppError::Book { error, .. }) = e.import_book(&doc.to_string(), "change.json") else { panic!("changed without approval") };
    assert_eq!((error.rule, error.at.as_str()), ("approval_required", "materials[5].approval_ref"));
    doc["materials"][5]["approval_ref"] = "商务部批件 2026-002".into();
    assert_eq!(e.import_book(&doc.to_string(), "change.json").unwrap().status, "changed");
}

#[test]
fn transition_and_its_setting() {
    let Some(book) = book("2014", "C52001400004") else { return };
    // Contract period 2014-01-01 … 2014-12-31 extended into 2015: filed before the 2015-01-01 entry.
    let book = book.replace(r#""valid_until": "2014-12-31""#, r#""valid_until": "2015-06-30""#);
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(&dir);
    e.import_book(&book, "book.json").unwrap();
    let load = e.load_catalog("test", entries(CATALOG)).unwrap();
    assert!(load.impact.items.iter().any(|i| i.change == ImpactChange::NewlyProhibited && i.transition));
    // Default on: business approved before may finish within the contract period.
    assert_eq!(post(&mut e, &import("C52001400004", "T1", "2015-03-01", "0615", 3)).status, "posted");
    // Turned off from 2015-04-01 (a dated setting): lists from that day are refused.
    assert_eq!(e.set_catalog_settings(day("2015-04-01"), CatalogPolicy { transition: false }).unwrap(), "loaded");
    assert_eq!(e.set_catalog_settings(day("2015-04-01"), CatalogPolicy { transition: false }).unwrap(), "unchanged");
    assert!(e.set_catalog_settings(day("2015-04-01"), CatalogPolicy { transition: true }).is_err(), "one setting per date");
    assert_eq!(post(&mut e, &import("C52001400004", "T2", "2015-03-31", "0615", 3)).status, "posted");
    let off = post(&mut e, &import("C52001400004", "T3", "2015-04-01", "0615", 3));
    assert_eq!(off.error.map(|x| x.rule), Some("catalog_prohibited".to_owned()));
}

#[test]
fn loading_is_idempotent_audited_and_announced() {
    let Some(book) = book("2020", "C52002000005") else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(&dir);
    e.import_book(&book, "book.json").unwrap();
    // A preview loads nothing.
    let preview = e.impact_preview("v1", &entries(CATALOG), None).unwrap();
    assert_eq!(preview.books, vec!["C52002000005".to_owned()]);
    assert!(e.catalog_versions().unwrap().is_empty());
    assert_eq!(e.load_catalog("v1", entries(CATALOG)).unwrap().status, "loaded");
    let again = e.load_catalog("v1", entries(CATALOG)).unwrap();
    assert_eq!(again.status, "unchanged");
    assert!(again.impact.items.is_empty());
    // Other content under a taken name is refused (in the preview too).
    let other = entries(&CATALOG.replace("2020-11-30", "2020-12-31"));
    let Err(AppError::Book { error, .. }) = e.load_catalog("v1", other.clone()) else { panic!("name reused") };
    assert_eq!(error.rule, "policy_name_taken");
    assert!(e.impact_preview("v1", &other, None).is_err());
    // Under a new name it loads; the impact is against v1: only December is newly prohibited.
    let v2 = e.load_catalog("v2", other).unwrap();
    assert_eq!(v2.impact.previous.as_deref(), Some("v1"));
    assert_eq!(v2.impact.changed, 1);
    assert_eq!(v2.impact.items.len(), 1);
    assert_eq!((v2.impact.items[0].from, v2.impact.items[0].until), (day("2020-12-01"), day("2020-12-31")));
    let versions = e.catalog_versions().unwrap();
    assert_eq!(versions.iter().map(|v| (v.name.as_str(), v.in_force)).collect::<Vec<_>>(), vec![("v1", false), ("v2", true)]);
    let d = e.catalog_diff("v1", "v2").unwrap();
    assert_eq!(d.changed.len(), 1);
    assert!(e.catalog_diff("v1", "nope").is_err());
    // Invalid entries are refused whole.
    let mut dup = entries(CATALOG);
    dup.push(dup[0].clone());
    let Err(AppError::Book { error, .. }) = e.load_catalog("v3", dup) else { panic!("duplicate loaded") };
    assert_eq!(error.rule, "catalog_invalid");
    // Two loads: two links in the system chain, two national events; the chain is intact.
    let (events, _) = e.events(0, 100).unwrap();
    let loaded: Vec<_> = events.iter().filter(|x| x.kind == "catalog_loaded").collect();
    assert_eq!(loaded.len(), 2);
    assert!(loaded[1].body.contains("\"previous\":\"v1\""), "{}", loaded[1].body);
    assert!(e.audit_verify().unwrap().intact);
}
