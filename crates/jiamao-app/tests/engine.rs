#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The engine over a real SQLite file: several engines (processes) on one database, pending 单耗
//! (报核前), and checkpoints.

use jiamao_app::Engine;
use jiamao_store_sqlite::{Durability, SqliteStore};

const BOOK: &str = r#"{"book_no":"E1","book_type":"E","trade_mode":"0615",
 "operator":{"uscc":"91441900698123458E","customs_code":"4419960123","name":"测试","region_code":"441900"},
 "master_customs":"5200","valid_from":"2026-01-01","valid_until":"2026-12-31","consumption_stage":"before_report",
 "materials":[{"seq":1,"part_no":"A","hs_code":"3901100090","name":"甲","unit":"035","unit_price":"1","currency":"502"}],
 "products":[{"seq":1,"part_no":"P","hs_code":"3920109090","name":"成品","unit":"035","unit_price":"2","currency":"502"}],
 "consumption":[]}"#;

fn list(no: &str, date: &str, dir: &str, goods: &str, qty: &str) -> String {
    format!(r#"{{"list_no":"{no}","book_no":"E1","declared_on":"{date}","direction":"{dir}","goods":"{goods}","trade_mode":"0615","lines":[{{"line":1,"item_seq":1,"qty":"{qty}"}}]}}"#)
}

fn engine(path: &std::path::Path) -> Engine<SqliteStore> {
    Engine::new(SqliteStore::open(path, Durability::Full).unwrap())
}

fn balance(e: &mut Engine<SqliteStore>) -> String {
    e.balance("E1", None).unwrap().materials[0].balance.clone()
}

#[test]
fn two_engines_on_one_database_see_each_others_lists() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    let mut a = engine(&db);
    let mut b = engine(&db);
    a.import_book(&BOOK.replace("\"consumption_stage\":\"before_report\",", ""), "book").unwrap();
    let out = a.post_text(&list("I1", "2026-01-05", "I", "material", "100"), "a").unwrap();
    assert_eq!(out[0].status, "posted");
    // B loaded nothing yet; it must see A's import before judging its own sale.
    let out = b.post_text(&list("S1", "2026-02-01", "E", "material", "60").replace("0615", "0644"), "b").unwrap();
    assert_eq!(out[0].status, "posted", "{:?}", out[0].error);
    // A's in-memory state is stale now; a second sale of 60 must be refused (only 40 remain).
    let out = a.post_text(&list("S2", "2026-02-02", "E", "material", "60").replace("0615", "0644"), "a").unwrap();
    assert_eq!(out[0].status, "rejected");
    assert_eq!(out[0].error.as_ref().unwrap().rule, "balance_negative");
    assert_eq!(balance(&mut a), "40");
    assert_eq!(balance(&mut b), "40");
}

#[test]
fn pending_consumption_is_computed_when_a_version_is_declared() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    let mut e = engine(&db);
    e.import_book(BOOK, "book").unwrap();
    e.post_text(&list("I1", "2026-01-05", "I", "material", "100"), "l").unwrap();
    // 报核前: a product export may post before any 单耗 version; its consumption waits.
    let out = e.post_text(&list("X1", "2026-03-01", "E", "product", "50"), "l").unwrap();
    assert_eq!(out[0].status, "posted", "{:?}", out[0].error);
    assert_eq!(balance(&mut e), "100");
    assert_eq!(e.ledger("E1").unwrap().unwrap().pending().len(), 1);
    // A version that would overdraw the material is refused as a change, and nothing changes.
    let too_much = BOOK.replace("\"consumption\":[]", r#""consumption":[{"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-01-01","unit_consumption":"3"}]"#);
    let err = e.import_book(&too_much, "change.json").unwrap_err();
    assert!(err.to_string().contains("balance_negative"), "{err}");
    assert_eq!(balance(&mut e), "100");
    // A version of 1.2 per unit resolves the pending line: 100 − 50 × 1.2 = 40.
    let fits = BOOK.replace("\"consumption\":[]", r#""consumption":[{"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-01-01","unit_consumption":"1.2"}]"#);
    let r = e.import_book(&fits, "change.json").unwrap();
    assert_eq!((r.status, r.revision, r.resolved_lines), ("changed", 2, 1));
    assert_eq!(balance(&mut e), "40");
    // A fresh engine (another process) rebuilds the same state from the stored resolution.
    let mut other = engine(&db);
    assert_eq!(balance(&mut other), "40");
    assert!(other.ledger("E1").unwrap().unwrap().pending().is_empty());
    // The version is now used: altering it is refused.
    let altered = fits.replace("\"1.2\"", "\"1.1\"");
    assert!(other.import_book(&altered, "change.json").unwrap_err().to_string().contains("change_used_version"));
}

#[test]
fn state_restored_from_a_checkpoint_equals_recomputation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    let book = BOOK.replace("\"consumption_stage\":\"before_report\",", "").replace(
        "\"consumption\":[]",
        r#""consumption":[{"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-01-01","net":"0.685","tangible_loss_rate":"0.025","intangible_loss_rate":"0.005"}]"#,
    );
    let mut e = Engine::new(SqliteStore::open(&db, Durability::Full).unwrap()).with_checkpoint_lines(3);
    e.import_book(&book, "book").unwrap();
    for i in 0..20 {
        let l = if i % 2 == 0 { list(&format!("I{i}"), "2026-01-05", "I", "material", "10.5") } else { list(&format!("X{i}"), "2026-02-05", "E", "product", "3.3") };
        assert_eq!(e.post_text(&l, "l").unwrap()[0].status, "posted");
    }
    let checkpoints: i64 = e.store_mut().connection().query_row("SELECT COUNT(*) FROM ledger_checkpoints", [], |r| r.get(0)).unwrap();
    assert_eq!(checkpoints, 2, "checkpoints were saved, and only the newest two kept");
    let mut fresh = engine(&db);
    let loaded = fresh.ledger("E1").unwrap().unwrap().material_totals();
    let recomputed = fresh.recompute("E1").unwrap().material_totals();
    assert_eq!(loaded, recomputed);
    assert_eq!(e.ledger("E1").unwrap().unwrap().material_totals(), recomputed);
}

#[test]
fn a_report_is_read_from_the_checkpoint_in_either_format() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    let book = BOOK.replace("\"consumption_stage\":\"before_report\",", "").replace(
        "\"consumption\":[]",
        r#""consumption":[{"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-01-01","net":"0.685","tangible_loss_rate":"0.025","intangible_loss_rate":"0.005"}]"#,
    );
    let mut e = engine(&db);
    e.import_book(&book, "book").unwrap();
    for i in 0..6 {
        let l = if i % 2 == 0 { list(&format!("I{i}"), "2026-01-05", "I", "material", "10.5") } else { list(&format!("X{i}"), "2026-02-05", "E", "product", "3.3") };
        assert_eq!(e.post_text(&l, "l").unwrap()[0].status, "posted");
    }
    e.flush_checkpoints().unwrap();
    let expected = e.reconcile_range("E1", None, None, None).unwrap();
    let state: String = e.store_mut().connection().query_row("SELECT state FROM ledger_checkpoints ORDER BY last_id DESC LIMIT 1", [], |r| r.get(0)).unwrap();
    assert!(state.starts_with("jiamao-checkpoint 2\n"), "{state}");

    // A new process: the report from the checkpoint alone, rendered straight to JSON, is the same.
    let mut fresh = engine(&db);
    let totals = fresh.reconcile_range_totals("E1", None, None, None).unwrap();
    assert_eq!(totals.report(), expected);
    let mut json = Vec::new();
    totals.write_json(&mut json, 64, &mut |_: &mut Vec<u8>| Ok::<(), ()>(())).unwrap();
    assert_eq!(String::from_utf8(json).unwrap(), serde_json::to_string(&expected).unwrap());

    // A checkpoint of the earlier format (one JSON object) is still read. Its imports are altered
    // here, so the report shows it was read from the checkpoint and not rebuilt.
    let mut snap = jiamao_domain::ledger::LedgerSnapshot::from_checkpoint(&state).unwrap();
    snap.materials[0].1.imported = "12345".parse().unwrap();
    let old = serde_json::to_string(&snap).unwrap();
    let c = e.store_mut().connection();
    c.execute("DELETE FROM ledger_checkpoints", []).unwrap();
    c.execute("INSERT INTO ledger_checkpoints (enterprise, book_no, revision, last_id, state) SELECT enterprise, book_no, 1, (SELECT MAX(id) FROM lists), ?1 FROM book_directory", [&old]).unwrap();
    let mut fresh = engine(&db);
    let r = fresh.reconcile_range("E1", None, None, None).unwrap();
    assert_eq!(r.materials[0].imported, "12345");
    assert_eq!(r.products, expected.products);
}
