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
