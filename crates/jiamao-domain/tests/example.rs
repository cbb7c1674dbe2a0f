#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The complete example of ../shared/interchange/examples, through the pure ledger.

use jiamao_domain::book::Book;
use jiamao_domain::doc::{parse_book, parse_lists, parse_stocktake};
use jiamao_domain::ledger::{Ledger, Outcome};
use jiamao_domain::policy::Policy;
use jiamao_domain::report::reconcile;
use std::path::PathBuf;

fn examples() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interchange/examples");
    if p.join("expected.json").exists() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/interchange/examples not found");
        None
    }
}

fn read(p: &std::path::Path, f: &str) -> String {
    std::fs::read_to_string(p.join(f)).unwrap_or_default()
}

#[test]
fn example_reproduces_expected_outcomes_and_report() {
    let Some(dir) = examples() else { return };
    let book = parse_book(&read(&dir, "book.json"), "book.json").map_err(|e| e.to_string());
    let book = Book::from_doc(book.unwrap_or_else(|e| panic!("{e}")), &Policy::default()).map_err(|e| e.to_string());
    let mut ledger = Ledger::default();
    ledger.add_book(book.unwrap_or_else(|e| panic!("{e}")));
    let mut outcomes = Vec::new();
    for f in ["lists.json", "lists-bad.json"] {
        let lists = parse_lists(&read(&dir, f), f).map_err(|e| e.to_string()).unwrap_or_else(|e| panic!("{e}"));
        for l in lists {
            let l = l.unwrap_or_else(|e| panic!("{e}"));
            let no = l.list_no.clone();
            let o = ledger.post(l);
            if let Outcome::Rejected(r) = &o {
                eprintln!("{no}: {r}");
            }
            let status = match o {
                Outcome::Posted => "posted",
                Outcome::Duplicate => "duplicate",
                Outcome::Rejected(_) => "rejected",
            };
            outcomes.push(serde_json::json!({"list_no": no, "status": status}));
        }
    }
    let expected: serde_json::Value = serde_json::from_str(&read(&dir, "expected.json")).unwrap_or_default();
    assert_eq!(serde_json::Value::Array(outcomes), expected["outcomes"]);
    let st = parse_stocktake(&read(&dir, "stocktake.json"), "stocktake.json").unwrap_or_else(|e| panic!("{e}"));
    let bl = ledger.book("C52002600001").unwrap_or_else(|| panic!("book missing"));
    let report = reconcile(bl, Some(&st)).unwrap_or_else(|e| panic!("{e}"));
    let got = serde_json::to_value(&report).unwrap_or_default();
    assert_eq!(got, expected["reconcile"], "\ngot: {}", serde_json::to_string_pretty(&got).unwrap_or_default());
}

#[test]
fn drill_down_adds_up_to_every_figure_of_the_report() {
    use jiamao_domain::explain::Explainer;
    use jiamao_domain::ledger::BookLedger;
    use jiamao_domain::Decimal;
    let Some(dir) = examples() else { return };
    let book = Book::from_doc(parse_book(&read(&dir, "book.json"), "book.json").unwrap(), &Policy::default()).unwrap();
    let mut ledger = BookLedger::new(book.clone());
    let mut posted = Vec::new();
    for l in parse_lists(&read(&dir, "lists.json"), "lists.json").unwrap() {
        posted.push(ledger.post(l.unwrap()).unwrap());
    }
    let report = serde_json::to_value(reconcile(&ledger, None).unwrap()).unwrap();
    for (k, item) in book.materials.iter().enumerate() {
        let mut ex = Explainer::new(&book, item.seq).unwrap();
        for p in &posted {
            ex.add(&p.list, &p.versions);
        }
        let ex = serde_json::to_value(ex.finish()).unwrap();
        for figure in ["imported", "carried_in", "surplus_in", "replaced_in", "consumed", "domestic_sold", "re_exported", "replaced_out", "surplus_out", "destroyed", "leftover_disposed"] {
            let sum: Decimal = ex["contributions"].as_array().unwrap().iter().filter(|c| c["figure"] == figure).map(|c| c["qty"].as_str().unwrap().parse::<Decimal>().unwrap()).sum();
            assert_eq!(serde_json::Value::String(jiamao_domain::decimal::report_qty(sum)), report["materials"][k][figure], "material {} {figure}", item.seq);
        }
        let by_version: Decimal = ex["by_product_version"].as_array().unwrap().iter().filter(|v| v["figure"] == "consumed").map(|v| v["qty"].as_str().unwrap().parse::<Decimal>().unwrap()).sum();
        assert_eq!(serde_json::Value::String(jiamao_domain::decimal::report_qty(by_version)), report["materials"][k]["consumed"]);
    }
}
