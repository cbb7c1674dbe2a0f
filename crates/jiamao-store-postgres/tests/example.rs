#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The example of the interchange format through the engine on PostgreSQL reproduces expected.json
//! exactly (as the CLI test does on SQLite).

mod common;

use common::TestDb;
use jiamao_app::Engine;
use jiamao_store::Store;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn examples() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interchange/examples");
    if p.join("expected.json").exists() {
        Some(p)
    } else {
        println!("skipping: ../shared/interchange/examples not found");
        None
    }
}

fn read(dir: &Path, f: &str) -> String {
    std::fs::read_to_string(dir.join(f)).unwrap()
}

#[test]
fn example_reproduces_expected_json_exactly() {
    let Some(db) = TestDb::new() else { return };
    let Some(dir) = examples() else { return };
    let mut engine = Engine::new(db.store());
    let imported = engine.import_book(&read(&dir, "book.json"), "book.json").unwrap();
    assert_eq!((imported.status, imported.revision), ("filed", 1));

    let expected: Value = serde_json::from_str(&read(&dir, "expected.json")).unwrap();
    let mut outcomes = Vec::new();
    for f in ["lists.json", "lists-bad.json"] {
        for o in engine.post_text(&read(&dir, f), f).unwrap() {
            if o.status == "rejected" {
                let e = o.error.as_ref().expect("a rejection says why");
                assert!(!e.rule.is_empty() && !e.message.is_empty(), "{o:?}");
            }
            outcomes.push(serde_json::json!({"list_no": o.list_no, "status": o.status}));
        }
    }
    assert_eq!(Value::Array(outcomes), expected["outcomes"]);

    let st = jiamao_domain::doc::parse_stocktake(&read(&dir, "stocktake.json"), "stocktake.json").unwrap();
    let report = engine.reconcile("C52002600001", None, Some((&st, "stocktake.json"))).unwrap();
    assert_eq!(serde_json::to_value(&report).unwrap(), expected["reconcile"]);

    // Another process rebuilds the same state from the stored lines alone.
    let mut other = Engine::new(db.store());
    let report = other.reconcile("C52002600001", None, Some((&st, "stocktake.json"))).unwrap();
    assert_eq!(serde_json::to_value(&report).unwrap(), expected["reconcile"]);
    let recomputed = other.recompute("C52002600001").unwrap().material_totals();
    assert_eq!(engine.ledger("C52002600001").unwrap().unwrap().material_totals(), recomputed);

    // Balances agree with the report; as of a date only the lists declared by then count.
    let bal = other.balance("C52002600001", None).unwrap();
    assert_eq!(bal.materials[0].balance, "49138.50265");
    let early = other.balance("C52002600001", Some("2026-01-31".parse().unwrap())).unwrap();
    assert_eq!(early.materials[0].balance, "50000");

    // Re-posting the whole file is a no-op.
    let again = other.post_text(&read(&dir, "lists.json"), "lists.json").unwrap();
    assert!(again.iter().all(|o| o.status == "duplicate"), "{again:?}");
    let (lists, _) = other.store_mut().counts().unwrap();
    assert_eq!(lists, 14);
}
