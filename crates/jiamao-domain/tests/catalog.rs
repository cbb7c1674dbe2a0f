#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The prohibited / restricted catalogs (RULES.md §13): strict reading of a version (every problem
//! listed), in-force lookup and time travel, diffs, the filing and posting checks with the exceptions
//! of §13.1, the approval list of §2.3, and the impact of a new version.
//!
//! Entries use the codes RULES.md §13.2 names (2836200000 sodium carbonate, removed 2020-12-01;
//! 2207100000 ethyl alcohol, import-only "医用物资除外" from 2020-12-01) and entries written for the test;
//! the official lists are not public in machine-readable form.

use chrono::NaiveDate;
use jiamao_domain::book::Book;
use jiamao_domain::catalog::*;
use jiamao_domain::doc::{parse_book, parse_lists, BookDoc, ListDoc};
use jiamao_domain::policy::Policy;
use std::collections::BTreeSet;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

const V2014: &str = "\
hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement
2836200000,prohibited,both,,,2015-01-01,2020-11-30,商务部 海关总署公告2014年第90号
2207100000,prohibited,both,,,2015-01-01,2020-11-30,商务部 海关总署公告2014年第90号
2207100000,prohibited,import,,医用物资除外,2020-12-01,,商务部 海关总署公告2020年第54号
7208100000,restricted,import,实转,,2015-12-01,,商务部 海关总署公告2015年第63号
3920109090,restricted,export,,,2015-12-01,,written for the test
";

/// A small book: materials 1 (sodium carbonate, 2836200000) and 2 (resin), product 1 (film).
fn book_doc(from: &str, until: &str, material_hs: &str) -> BookDoc {
    let text = format!(
        r#"{{"book_no":"C1","book_type":"C","trade_mode":"0615",
 "operator":{{"uscc":"91441900698123458E","customs_code":"4419960123","name":"测试","region_code":"441900"}},
 "master_customs":"5200","valid_from":"{from}","valid_until":"{until}",
 "materials":[{{"seq":1,"part_no":"A","hs_code":"{material_hs}","name":"纯碱","unit":"035","unit_price":"1","currency":"502"}},
              {{"seq":2,"part_no":"B","hs_code":"3901100090","name":"树脂","unit":"035","unit_price":"1","currency":"502"}}],
 "products":[{{"seq":1,"part_no":"P","hs_code":"3920109090","name":"薄膜","unit":"035","unit_price":"2","currency":"502"}}],
 "consumption":[{{"product_seq":1,"material_seq":1,"version":"1","valid_from":"{from}","unit_consumption":"0.1"}},
                {{"product_seq":1,"material_seq":2,"version":"1","valid_from":"{from}","unit_consumption":"1"}}]}}"#
    );
    parse_book(&text, "book").unwrap()
}

fn list(date: &str, dir: &str, goods: &str, mode: &str, item: u32) -> ListDoc {
    let cp = if mode == "0654" { r#","counterparty_book_no":"C2""# } else { "" };
    let text =
        format!(r#"{{"list_no":"L{date}","book_no":"C1","declared_on":"{date}","direction":"{dir}","goods":"{goods}","trade_mode":"{mode}"{cp},"lines":[{{"line":1,"item_seq":{item},"qty":"10"}}]}}"#);
    parse_lists(&text, "list").unwrap().remove(0).unwrap()
}

fn version(name: &str, text: &str) -> CatalogVersion {
    CatalogVersion::new(name, parse_catalog_csv(text, name).unwrap()).unwrap()
}

#[test]
fn a_good_file_reads_with_history_per_key() {
    let entries = parse_catalog_csv(V2014, "v.csv").unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[2].note, "医用物资除外");
    assert!(entries[3].is_shizhuan());
    assert_eq!(entries[2].valid_until, None);
    // CRLF, a byte-order mark and quoted fields are read too.
    let crlf = format!("\u{feff}{}", V2014.replace('\n', "\r\n").replace("商务部 海关总署公告2015年第63号", "\"商务部, 海关总署公告2015年第63号\""));
    let again = parse_catalog_csv(&crlf, "v.csv").unwrap();
    assert_eq!(again[3].announcement, "商务部, 海关总署公告2015年第63号");
    // JSON round trip (the stored form and `catalog check --json`).
    let json = serde_json::to_value(&entries[2]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"hs_code": "2207100000", "catalog": "prohibited", "direction": "import", "mode": null, "note": "医用物资除外",
                           "valid_from": "2020-12-01", "valid_until": null, "announcement": "商务部 海关总署公告2020年第54号"})
    );
    assert_eq!(serde_json::to_value(&entries[3]).unwrap()["mode"], "实转");
    let back: CatalogEntry = serde_json::from_value(json).unwrap();
    assert_eq!(back, entries[2]);
    let mut blank = serde_json::to_value(&entries[0]).unwrap();
    blank["mode"] = "".into();
    assert_eq!(serde_json::from_value::<CatalogEntry>(blank.clone()).unwrap(), entries[0]);
    blank["mode"] = "半实转".into();
    assert!(serde_json::from_value::<CatalogEntry>(blank).is_err());
}

#[test]
fn a_bad_file_is_refused_whole_with_every_problem() {
    let bad = "\
hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement
283620000,prohibited,both,,,2015-01-01,,a
2836300000,forbidden,both,,,2015-01-01,,a
2836300001,prohibited,inbound,,,2015-01-01,,a
2836300002,restricted,import,半实转,,2015-01-01,,a
2836300003,prohibited,both,,,2015-1-1,,a
2836300004,prohibited,both,,,2015-06-01,2015-05-31,a
2836300005,prohibited,both,实转,,2015-01-01,,a
2836300006,prohibited,both,,,2015-01-01,,
2836300007,prohibited,both,,,2015-01-01
2836200000,prohibited,both,,,2015-01-01,2020-11-30,a
2836200000,restricted,both,,,2015-01-01,,b
3102100001,prohibited,import,,,2015-01-01,2020-11-30,a
3102100001,prohibited,import,,,2020-06-01,,b
3102100001,prohibited,export,,,2020-06-01,,distinct key: no problem
3102100001,prohibited,import,,note,2020-06-01,,distinct key: no problem
";
    let problems = parse_catalog_csv(bad, "bad.csv").unwrap_err();
    let expect = [
        ("bad.csv:2:", "hs_code"),
        ("bad.csv:3:", "forbidden"),
        ("bad.csv:4:", "inbound"),
        ("bad.csv:5:", "半实转"),
        ("bad.csv:6:", "valid_from"),
        ("bad.csv:7:", "before valid_from"),
        ("bad.csv:8:", "restricted entries only"),
        ("bad.csv:9:", "announcement is empty"),
        ("bad.csv:10:", "expected 8 fields"),
        ("bad.csv:12:", "duplicate key (2836200000, both, \"\")"),
        ("bad.csv:14:", "overlapping validity for key (3102100001, import, \"\")"),
    ];
    for (at, what) in expect {
        assert!(problems.iter().any(|p| p.starts_with(at) && p.contains(what)), "missing {at} {what} in {problems:#?}");
    }
    assert_eq!(problems.len(), expect.len(), "{problems:#?}");

    let header = parse_catalog_csv("hs,catalog\n2836200000,prohibited\n", "h.csv").unwrap_err();
    assert_eq!(header.len(), 1);
    assert!(header[0].contains("header"), "{header:?}");
    assert!(parse_catalog_csv(&format!("{CATALOG_HEADER}\n"), "e.csv").unwrap_err()[0].contains("no entries"));

    // Entries handed in directly are checked the same way.
    let mut entries = parse_catalog_csv(V2014, "v").unwrap();
    entries.push(entries[0].clone());
    let problems = CatalogVersion::new("x", entries).unwrap_err();
    assert!(problems[0].contains("entries[5]") && problems[0].contains("duplicate key"), "{problems:?}");
}

#[test]
fn in_force_lookup_and_time_travel() {
    let mut cats = Catalogs::new();
    assert!(cats.in_force("2836200000", day("2016-01-01"), None).is_empty());
    cats.add(version("2014-90", V2014));
    // Sodium carbonate: prohibited up to and including 2020-11-30, not from 2020-12-01.
    assert_eq!(cats.in_force("2836200000", day("2020-11-30"), None).len(), 1);
    assert!(cats.in_force("2836200000", day("2020-12-01"), None).is_empty());
    assert!(cats.in_force("2836200000", day("2014-12-31"), None).is_empty());
    // Ethyl alcohol: both directions before, import only (with the qualifier) after.
    assert_eq!(cats.in_force("2207100000", day("2019-05-05"), Some(Side::Export)).len(), 1);
    assert!(cats.in_force("2207100000", day("2021-05-05"), Some(Side::Export)).is_empty());
    let imp = cats.in_force("2207100000", day("2021-05-05"), Some(Side::Import));
    assert_eq!(imp.len(), 1);
    assert_eq!(imp[0].note, "医用物资除外");

    // A second version replaces the first as a whole: what it leaves out is gone for every date.
    let v2 = "hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement\n2836200000,prohibited,both,,,2015-01-01,2020-11-30,商务部 海关总署公告2014年第90号\n";
    cats.add(version("2020-54", v2));
    assert_eq!(cats.current().unwrap().name(), "2020-54");
    assert!(cats.in_force("2207100000", day("2019-05-05"), None).is_empty());
    assert_eq!(cats.in_force("2836200000", day("2019-05-05"), None).len(), 1);
    assert_eq!(cats.versions().len(), 2);
    assert_eq!(cats.version("2014-90").unwrap().entries().len(), 5);
}

#[test]
fn diff_by_key() {
    let old = version("a", V2014);
    let new_text = V2014
        .replace("2836200000,prohibited,both,,,2015-01-01,2020-11-30", "2836200000,prohibited,both,,,2015-01-01,2020-12-31")
        .replace("3920109090,restricted,export,,,2015-12-01,,written for the test\n", "")
        + "3102100001,prohibited,both,,,2021-01-01,,written for the test\n";
    let new = version("b", &new_text);
    let d = diff(&old, &new);
    assert_eq!((d.from.as_str(), d.to.as_str()), ("a", "b"));
    assert_eq!(d.added.len(), 1);
    assert_eq!(d.added[0].hs_code.as_str(), "3102100001");
    assert_eq!(d.removed.len(), 1);
    assert_eq!(d.removed[0].hs_code.as_str(), "3920109090");
    assert_eq!(d.changed.len(), 1);
    assert_eq!(d.changed[0].key.hs_code, "2836200000");
    assert_eq!(d.changed[0].before[0].valid_until, Some(day("2020-11-30")));
    assert_eq!(d.changed[0].after[0].valid_until, Some(day("2020-12-31")));
    let same = diff(&old, &old);
    assert!(same.added.is_empty() && same.removed.is_empty() && same.changed.is_empty());
}

#[test]
fn posting_stops_being_refused_after_the_end_date() {
    let v = version("2014-90", V2014);
    let settings = CatalogSettings::default();
    // A book whose contract period starts inside the prohibition (so no transition applies).
    let book = Book::from_doc(book_doc("2020-06-01", "2021-05-31", "2836200000"), &Policy::default()).unwrap();
    let before = check_list(&v, &settings, &book, &list("2020-11-29", "I", "material", "0615", 1)).expect("refused the day before");
    assert_eq!(before.rule, "catalog_prohibited");
    assert_eq!(before.line, Some(1));
    assert!(before.message.contains("2836200000") && before.message.contains("商务部 海关总署公告2014年第90号") && before.message.contains("material 1"), "{}", before.message);
    assert!(check_list(&v, &settings, &book, &list("2020-11-30", "I", "material", "0615", 1)).is_some(), "the end date is inclusive");
    assert!(check_list(&v, &settings, &book, &list("2020-12-01", "I", "material", "0615", 1)).is_none(), "accepted the day after");
    // Another material, and 进料非对口 0715 is an import too.
    assert!(check_list(&v, &settings, &book, &list("2020-11-29", "I", "material", "0615", 2)).is_none());
    assert!(check_list(&v, &settings, &book, &list("2020-11-29", "I", "material", "0715", 1)).is_some());
}

#[test]
fn deep_processing_carry_overs_and_other_movements_are_not_prohibited() {
    let v = version("2014-90", V2014);
    let settings = CatalogSettings::default();
    let book = Book::from_doc(book_doc("2020-06-01", "2021-05-31", "2836200000"), &Policy::default()).unwrap();
    // RULES.md §13.1: goods received by 深加工结转 are not prohibited.
    assert!(check_list(&v, &settings, &book, &list("2020-11-29", "I", "material", "0654", 1)).is_none());
    // A material sold domestically or re-exported is not an import of processing goods.
    assert!(check_list(&v, &settings, &book, &list("2020-11-29", "E", "material", "0644", 1)).is_none());
    assert!(check_list(&v, &settings, &book, &list("2020-11-29", "E", "material", "0664", 1)).is_none());
    // Products: an export-prohibited product is refused on export, not on carry-over out.
    let text = format!("{V2014}3920109090,prohibited,export,,,2020-01-01,,written for the test\n").replace("3920109090,restricted,export,,,2015-12-01,,written for the test\n", "");
    let v = version("x", &text);
    let r = check_list(&v, &settings, &book, &list("2020-11-29", "E", "product", "0615", 1)).unwrap();
    assert!(r.message.contains("product 1") && r.message.contains("exported"), "{}", r.message);
    assert!(check_list(&v, &settings, &book, &list("2020-11-29", "E", "product", "0654", 1)).is_none());
}

#[test]
fn transition_spares_books_filed_before_the_entry_unless_turned_off() {
    let v = version("2014-90", V2014);
    // Filed (contract period starting) 2014-06-01, before the entry's 2015-01-01.
    let book = Book::from_doc(book_doc("2014-06-01", "2015-05-31", "2836200000"), &Policy::default()).unwrap();
    let l = list("2015-03-01", "I", "material", "0615", 1);
    let on = CatalogSettings::default();
    assert!(on.on(day("2015-03-01")).transition, "default on");
    assert!(check_list(&v, &on, &book, &l).is_none(), "may finish within the contract period");
    let mut off = CatalogSettings::default();
    off.add(day("2015-01-01"), CatalogPolicy { transition: false });
    assert!(check_list(&v, &off, &book, &l).is_some());
    // The setting is dated: before its date the default holds.
    assert!(off.on(day("2014-12-31")).transition);
}

#[test]
fn filing_refuses_items_prohibited_on_the_books_date() {
    let v = version("2014-90", V2014);
    let doc = book_doc("2020-06-01", "2021-05-31", "2836200000");
    let e = check_book(&v, &doc, doc.valid_from, None).unwrap_err();
    assert_eq!(e.rule, "catalog_prohibited");
    assert_eq!(e.at, "materials[0].hs_code");
    assert!(e.message.contains("material 1 (纯碱, HS 2836200000)") && e.message.contains("商务部 海关总署公告2014年第90号"), "{}", e.message);
    // After the removal the same item is admitted.
    let later = book_doc("2020-12-01", "2021-11-30", "2836200000");
    assert!(check_book(&v, &later, later.valid_from, None).is_ok());
    // A change checks only the items it adds.
    let only: BTreeSet<(bool, u32)> = [(true, 2)].into();
    assert!(check_book(&v, &doc, doc.valid_from, Some(&only)).is_ok());
    assert_eq!(changed_items(Some(&doc), &doc), BTreeSet::new());
    assert_eq!(changed_items(None, &doc).len(), 3);
    // Restricted entries do not refuse; they are reported for guarantees.
    let restricted = restricted_items(&v, &later, later.valid_from);
    assert_eq!(restricted.len(), 1);
    assert_eq!((restricted[0].0, restricted[0].1, restricted[0].2.hs_code.as_str()), (1, false, "3920109090"));
}

#[test]
fn approval_needed_items_need_an_approval_ref() {
    let list = ApprovalList::builtin();
    let mut doc = book_doc("2026-01-01", "2026-12-31", "2603000010");
    let e = check_approvals(&list, &doc, doc.valid_from, None).unwrap_err();
    assert_eq!(e.rule, "approval_required");
    assert_eq!(e.at, "materials[0].approval_ref");
    assert!(e.message.contains("2603"), "{}", e.message);
    doc.materials[0].approval_ref = Some("商产函〔2026〕1号".into());
    assert!(check_approvals(&list, &doc, doc.valid_from, None).is_ok());
    // Petroleum products: refined oil 2710 as a material; a blank reference is no reference.
    let mut oil = book_doc("2026-01-01", "2026-12-31", "2710122000");
    oil.materials[0].approval_ref = Some("  ".into());
    assert!(check_approvals(&list, &oil, oil.valid_from, None).is_err());
    // Other goods need nothing.
    let plain = book_doc("2026-01-01", "2026-12-31", "3901100090");
    assert!(check_approvals(&list, &plain, plain.valid_from, None).is_ok());
    // A loaded list replaces the built-in one.
    let rules = parse_approval_csv("# test\nhs_prefix,name,valid_from,source\n3901,written for the test,2026-06-01,test\n", "a.csv").unwrap();
    let mine = ApprovalList { name: "test".into(), rules };
    assert!(check_approvals(&mine, &plain, day("2026-05-31"), None).is_ok(), "not yet in force");
    assert!(check_approvals(&mine, &plain, day("2026-06-01"), None).is_err());
    assert!(parse_approval_csv("hs_prefix,name,valid_from,source\n39x,a,2026-01-01,b\n3901,a,2026-13-01,b\n", "b.csv").unwrap_err().len() == 2);
}

#[test]
fn impact_names_the_book_and_item_newly_prohibited() {
    let doc = book_doc("2020-06-01", "2021-05-31", "2836200000");
    let books = [("91441900698123458E", &doc)];
    let settings = CatalogSettings::default();
    let v1 = version("v1", V2014);
    // First version: material 1 newly prohibited from the book's start to the entry's end.
    let first = impact(None, &v1, &books, day("2020-01-01"), &settings);
    let hit = first.iter().find(|i| i.change == ImpactChange::NewlyProhibited).unwrap();
    assert_eq!((hit.book_no.as_str(), hit.item_seq, hit.hs_code.as_str()), ("C1", 1, "2836200000"));
    assert_eq!((hit.from, hit.until), (day("2020-06-01"), day("2020-11-30")));
    assert!(!hit.transition);
    // The restricted product too.
    assert!(first.iter().any(|i| i.change == ImpactChange::NewlyRestricted && i.item_seq == 1 && i.goods == jiamao_domain::doc::Goods::Product));
    // From a later date on, nothing of the ended entry remains.
    assert!(impact(None, &v1, &books, day("2020-12-01"), &settings).iter().all(|i| i.change != ImpactChange::NewlyProhibited));
    // A second version extending the prohibition to 2021-03-31: only the extra months are new.
    let v2 = version("v2", &V2014.replace("2836200000,prohibited,both,,,2015-01-01,2020-11-30", "2836200000,prohibited,both,,,2015-01-01,2021-03-31"));
    let second = impact(Some(&v1), &v2, &books, day("2020-01-01"), &settings);
    assert_eq!(second.len(), 1, "{second:#?}");
    assert_eq!((second[0].from, second[0].until), (day("2020-12-01"), day("2021-03-31")));
    // And back: those months are no longer prohibited.
    let back = impact(Some(&v2), &v1, &books, day("2020-01-01"), &settings);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].change, ImpactChange::NoLongerProhibited);
    // A book whose contract started before a new entry is flagged as in transition.
    let old_doc = book_doc("2014-06-01", "2015-05-31", "2836200000");
    let t = impact(None, &v1, &[("91441900698123458E", &old_doc)], day("2014-01-01"), &settings);
    assert!(t.iter().any(|i| i.change == ImpactChange::NewlyProhibited && i.transition));
}
