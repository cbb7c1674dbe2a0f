#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The SQLite schema: migrations apply once, and the ledger tables (and the policy documents and
//! enterprise records beside them) refuse UPDATE and DELETE.

use jiamao_store_sqlite::{Durability, SqliteStore};

#[test]
fn migrations_apply_once_and_records_are_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db");
    let s = SqliteStore::open(&path, Durability::Full).unwrap();
    assert_eq!(s.schema_version().unwrap(), 4);
    let c = s.connection();
    let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = c.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
    assert_eq!(sync, 2, "FULL by default");
    c.execute_batch(
        "INSERT INTO book_directory VALUES ('B', 'E');
         INSERT INTO book_revisions VALUES ('E', 'B', 1, '{}');
         INSERT INTO lists (id, enterprise, list_no, book_no, declared_on, direction, goods, trade_mode, line_count, canonical) VALUES (1, 'E', 'L', 'B', '2026-01-01', 'I', 'material', '0615', 1, '{}');
         INSERT INTO list_lines (list_id, pos, line, item_seq, qty) VALUES (1, 0, 1, 1, '5');
         INSERT INTO cycle_closures VALUES ('E', 'B', 1, '2026-06-30', '{}');
         INSERT INTO policy_documents (kind, name, valid_from, body) VALUES ('tariff', '2026', '2026-01-01', '{}');
         INSERT INTO enterprise_records (enterprise, book_no, kind, key, recorded_on, body) VALUES ('E', 'B', 'tax_payment', 'P1', '2026-03-15', '{}');",
    )
    .unwrap();
    for sql in [
        "UPDATE book_revisions SET doc = 'x'",
        "DELETE FROM book_revisions",
        "UPDATE lists SET book_no = 'C'",
        "DELETE FROM lists",
        "UPDATE list_lines SET qty = '6'",
        "DELETE FROM list_lines",
        "UPDATE cycle_closures SET record = 'x'",
        "DELETE FROM cycle_closures",
        "UPDATE policy_documents SET body = 'x'",
        "DELETE FROM policy_documents",
        "UPDATE enterprise_records SET body = 'x'",
        "DELETE FROM enterprise_records",
    ] {
        let err = c.execute_batch(sql).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    let n: i64 = c.query_row("SELECT (SELECT COUNT(*) FROM cycle_closures) + (SELECT COUNT(*) FROM policy_documents) + (SELECT COUNT(*) FROM enterprise_records)", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 3, "nothing was changed");
    drop(s);
    // Reopening applies nothing twice.
    let s = SqliteStore::open(&path, Durability::Normal).unwrap();
    assert_eq!(s.schema_version().unwrap(), 4);
    let n: i64 = s.connection().query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 4);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db");
    let s = SqliteStore::open(&path, Durability::Full).unwrap();
    s.connection().execute("INSERT INTO schema_migrations VALUES (99, 'future')", []).unwrap();
    drop(s);
    let err = SqliteStore::open(&path, Durability::Full).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("newer"), "{err}");
}
