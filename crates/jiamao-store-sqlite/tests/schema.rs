#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The SQLite schema: migrations apply once, the ledger tables (and the policy documents, enterprise
//! records, audit trail and events beside them) refuse UPDATE and DELETE, and the identity tables
//! (accounts, API tokens, sessions, webhooks) may be updated but refuse DELETE.

use jiamao_store_sqlite::{Durability, SqliteStore};

#[test]
fn migrations_apply_once_and_records_are_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db");
    let s = SqliteStore::open(&path, Durability::Full).unwrap();
    assert_eq!(s.schema_version().unwrap(), 6);
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
         INSERT INTO ledger_checkpoints (enterprise, book_no, revision, last_id, state) VALUES ('E', 'B', 1, 1, 's');
         INSERT INTO policy_documents (kind, name, valid_from, body) VALUES ('tariff', '2026', '2026-01-01', '{}');
         INSERT INTO enterprise_records (enterprise, book_no, kind, key, recorded_on, body) VALUES ('E', 'B', 'tax_payment', 'P1', '2026-03-15', '{}');
         INSERT INTO audit_log VALUES ('E', 1, '2026-11-27T01:02:03.123456Z', 'a', 'enterprise', 'list.post', 'L', 'r1', '127.0.0.1', 'ok', '{}', '0', 'h1');
         INSERT INTO events (enterprise, kind, at, body) VALUES ('E', 'list.posted', '2026-11-27T01:02:03Z', '{}');
         INSERT INTO accounts VALUES ('a', 'enterprise', 'E', NULL, NULL, 'h', 0, '2026-11-27T01:00:00Z', '2026-11-27T01:00:00Z');
         INSERT INTO api_tokens VALUES ('t', 'a', 'h', 0, '2026-11-27T01:00:00Z', NULL, NULL);
         INSERT INTO sessions VALUES ('s', 'a', 'h', '2026-11-27T01:00:00Z', '2026-11-27T02:00:00Z', NULL);
         INSERT INTO webhooks VALUES ('w', 'a', 'https://x', '*', '2026-11-27T01:00:00Z', 0);
         INSERT INTO webhook_cursors VALUES ('w', 1);",
    )
    .unwrap();
    for sql in [
        "UPDATE book_revisions SET doc = 'x'",
        "DELETE FROM book_revisions",
        "UPDATE lists SET book_no = 'C'",
        "DELETE FROM lists",
        "UPDATE list_lines SET qty = '6'",
        "DELETE FROM list_lines",
        "UPDATE ledger_checkpoints SET state = 'x'",
        "UPDATE cycle_closures SET record = 'x'",
        "DELETE FROM cycle_closures",
        "UPDATE policy_documents SET body = 'x'",
        "DELETE FROM policy_documents",
        "UPDATE enterprise_records SET body = 'x'",
        "DELETE FROM enterprise_records",
        "UPDATE audit_log SET hash = 'x'",
        "DELETE FROM audit_log",
        "UPDATE events SET body = 'x'",
        "DELETE FROM events",
    ] {
        let err = c.execute_batch(sql).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    let n: i64 = c.query_row("SELECT (SELECT COUNT(*) FROM cycle_closures) + (SELECT COUNT(*) FROM policy_documents) + (SELECT COUNT(*) FROM enterprise_records)", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 3, "nothing was changed");
    let n: i64 = c.query_row("SELECT (SELECT COUNT(*) FROM audit_log) + (SELECT COUNT(*) FROM events WHERE body = '{}')", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 2, "nothing was changed");
    // Identity is state: updated (a password changed, a token revoked), never deleted.
    c.execute_batch(
        "UPDATE accounts SET password_hash = 'h2', disabled = 1;
         UPDATE api_tokens SET revoked_at = '2026-11-27T03:00:00Z';
         UPDATE sessions SET revoked_at = '2026-11-27T03:00:00Z';
         UPDATE webhooks SET disabled = 1;
         UPDATE webhook_cursors SET event_id = 2;",
    )
    .unwrap();
    for sql in ["DELETE FROM accounts", "DELETE FROM api_tokens", "DELETE FROM sessions", "DELETE FROM webhooks"] {
        let err = c.execute_batch(sql).unwrap_err().to_string();
        assert!(err.contains("never deleted"), "{sql}: {err}");
    }
    let n: i64 =
        c.query_row("SELECT (SELECT COUNT(*) FROM accounts) + (SELECT COUNT(*) FROM api_tokens) + (SELECT COUNT(*) FROM sessions) + (SELECT COUNT(*) FROM webhooks)", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 4, "nothing was deleted");
    // The store's upsert is an update in place (ON CONFLICT DO UPDATE), which the DELETE trigger lets through.
    c.execute_batch("INSERT INTO accounts VALUES ('a', 'platform', NULL, NULL, NULL, 'h3', 0, 'x', 'y') ON CONFLICT (login) DO UPDATE SET role = excluded.role").unwrap();
    let role: String = c.query_row("SELECT role FROM accounts WHERE login = 'a'", [], |r| r.get(0)).unwrap();
    assert_eq!(role, "platform");
    drop(s);
    // Reopening applies nothing twice.
    let s = SqliteStore::open(&path, Durability::Normal).unwrap();
    assert_eq!(s.schema_version().unwrap(), 6);
    let n: i64 = s.connection().query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 6);
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

#[test]
fn checkpoints_written_before_migration_6_are_carried_over() {
    // A database at schema 5 (checkpoints in a WITHOUT ROWID table), then opened by this version.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)").unwrap();
        for (v, name, sql) in [
            (1, "ledger", include_str!("../migrations/0001_ledger.sql")),
            (2, "checkpoints", include_str!("../migrations/0002_checkpoints.sql")),
            (3, "cycles", include_str!("../migrations/0003_cycles.sql")),
            (4, "policy_records", include_str!("../migrations/0004_policy_records.sql")),
            (5, "identity_audit_events", include_str!("../migrations/0005_identity_audit_events.sql")),
        ] {
            c.execute_batch(sql).unwrap();
            c.execute("INSERT INTO schema_migrations VALUES (?1, ?2)", rusqlite::params![v, name]).unwrap();
        }
        c.execute_batch(
            "INSERT INTO book_directory VALUES ('B', 'E');
             INSERT INTO book_revisions VALUES ('E', 'B', 1, '{}');
             INSERT INTO cycle_closures VALUES ('E', 'B', 1, '2026-06-30', '{}');
             INSERT INTO ledger_checkpoints VALUES ('E', 'B', 1, 7, 'old state'), ('E', 'B', 1, 9, 'newer state');",
        )
        .unwrap();
    }
    let mut s = SqliteStore::open(&path, Durability::Full).unwrap();
    assert_eq!(s.schema_version().unwrap(), 6);
    use jiamao_store::Store;
    let key = jiamao_store::BookKey { enterprise: "E".into(), book_no: "B".into() };
    assert_eq!(s.latest_checkpoint(&key, 1).unwrap(), Some((9, "newer state".to_owned())));
    let mut seen = None;
    assert!(s.with_latest_checkpoint(&key, 1, &mut |id, state| seen = Some((id, state.to_owned()))).unwrap());
    assert_eq!(seen, Some((9, "newer state".to_owned())));
    assert_eq!(s.book_revision(&key).unwrap(), Some(1));
    assert_eq!(s.last_closed_to(&key).unwrap(), chrono::NaiveDate::from_ymd_opt(2026, 6, 30));
    let other = jiamao_store::BookKey { enterprise: "E".into(), book_no: "C".into() };
    assert!(!s.with_latest_checkpoint(&other, 1, &mut |_, _| {}).unwrap());
    assert_eq!(s.last_closed_to(&other).unwrap(), None);
    let err = s.connection().execute_batch("UPDATE ledger_checkpoints SET state = 'x'").unwrap_err().to_string();
    assert!(err.contains("append-only"), "{err}");
}
