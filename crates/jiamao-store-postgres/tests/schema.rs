#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The PostgreSQL schema: migrations apply once (also when several processes connect at once), a
//! newer schema is refused, the ledger tables (and the policy documents, enterprise records, audit
//! trail and events beside them) refuse UPDATE, DELETE and TRUNCATE, and the identity tables
//! (accounts, API tokens, sessions, webhooks) may be updated but refuse DELETE and TRUNCATE.

mod common;

use common::TestDb;
use jiamao_store::StoreError;
use jiamao_store_postgres::{PgStore, SCHEMA_VERSION};

#[test]
fn connection_strings_name_the_test_database() {
    use common::with_database;
    assert_eq!(with_database("postgres://postgres@%2Ftmp%2Fs:54329/postgres", "x"), "postgres://postgres@%2Ftmp%2Fs:54329/x");
    assert_eq!(with_database("postgresql://u:p@h:1/d?connect_timeout=5", "x"), "postgresql://u:p@h:1/x?connect_timeout=5");
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    assert_eq!(with_database("host=/tmp port=1 user=postgres", "x"), "host=/tmp port=1 user=postgres dbname=x");
}

#[test]
fn a_bad_connection_string_is_a_database_error() {
    let err = PgStore::connect("postgres://nobody@%2Fnonexistent%2Fdir:1/x").err().expect("no server there");
    assert!(matches!(err, StoreError::Database(_)), "{err:?}");
    let err = PgStore::connect("postgres://[not a url").err().expect("malformed");
    assert!(matches!(err, StoreError::Database(_)), "{err:?}");
}

#[test]
fn migrations_apply_once() {
    let Some(db) = TestDb::new() else { return };
    let mut s = db.store();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    drop(s);
    // Connecting again applies nothing twice.
    let mut s = db.store();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    let n: i64 = s.client().query_one("SELECT COUNT(*) FROM schema_migrations", &[]).unwrap().get(0);
    assert_eq!(n, SCHEMA_VERSION);
}

#[test]
fn many_processes_may_connect_to_a_new_database_at_once() {
    let Some(db) = TestDb::new() else { return };
    let barrier = std::sync::Barrier::new(8);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    db.store().schema_version().unwrap()
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), SCHEMA_VERSION);
        }
    });
    let n: i64 = db.raw().query_one("SELECT COUNT(*) FROM schema_migrations", &[]).unwrap().get(0);
    assert_eq!(n, SCHEMA_VERSION);
}

#[test]
fn a_newer_schema_is_refused() {
    let Some(db) = TestDb::new() else { return };
    let mut s = db.store();
    s.client().execute("INSERT INTO schema_migrations (version, name) VALUES (99, 'future')", &[]).unwrap();
    drop(s);
    match PgStore::connect(&db.url) {
        Err(StoreError::SchemaTooNew { found: 99, known }) => assert_eq!(known, SCHEMA_VERSION),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a newer schema must be refused"),
    }
}

#[test]
fn records_are_append_only() {
    let Some(db) = TestDb::new() else { return };
    let mut s = db.store();
    let c = s.client();
    c.batch_execute(
        "INSERT INTO book_directory VALUES ('B', 'E');
         INSERT INTO book_revisions VALUES ('E', 'B', 1, '{}');
         INSERT INTO lists (enterprise, id, list_no, book_no, declared_on, direction, goods, trade_mode, line_count, canonical) VALUES ('E', 1, 'L', 'B', '2026-01-01', 'I', 'material', '0615', 1, '{}');
         INSERT INTO list_lines (enterprise, list_id, pos, line, item_seq, qty) VALUES ('E', 1, 0, 1, 1, 5);
         INSERT INTO line_resolutions VALUES ('E', 1, 1, '1', 2);
         INSERT INTO ledger_checkpoints VALUES ('E', 'B', 1, 1, '{}');
         INSERT INTO cycle_closures VALUES ('E', 'B', 1, '2026-06-30', '{}');
         INSERT INTO policy_documents (kind, name, valid_from, body) VALUES ('tariff', '2026', '2026-01-01', '{}');
         INSERT INTO enterprise_records (enterprise, book_no, kind, key, recorded_on, body) VALUES ('E', 'B', 'tax_payment', 'P1', '2026-03-15', '{}');
         INSERT INTO audit_log VALUES ('E', 1, '2026-11-27T01:02:03.123456Z', 'a', 'enterprise', 'list.post', 'L', 'r1', '127.0.0.1', 'ok', '{}', '0', 'h1');
         INSERT INTO events (enterprise, kind, at, body) VALUES ('E', 'list.posted', '2026-11-27T01:02:03Z', '{}');
         INSERT INTO accounts VALUES ('a', 'enterprise', 'E', NULL, NULL, 'h', false, '2026-11-27T01:00:00Z', '2026-11-27T01:00:00Z');
         INSERT INTO api_tokens VALUES ('t', 'a', 'h', false, '2026-11-27T01:00:00Z', NULL, NULL);
         INSERT INTO sessions VALUES ('s', 'a', 'h', '2026-11-27T01:00:00Z', '2026-11-27T02:00:00Z', NULL);
         INSERT INTO webhooks VALUES ('w', 'a', 'https://x', '*', '2026-11-27T01:00:00Z', false);
         INSERT INTO webhook_cursors VALUES ('w', 1);",
    )
    .unwrap();
    for sql in [
        "UPDATE book_directory SET enterprise = 'F'",
        "DELETE FROM book_directory",
        "TRUNCATE book_directory CASCADE",
        "UPDATE book_revisions SET doc = 'x'",
        "DELETE FROM book_revisions",
        "TRUNCATE book_revisions",
        "UPDATE lists SET book_no = 'C'",
        "DELETE FROM lists",
        "TRUNCATE lists CASCADE",
        "UPDATE list_lines SET qty = 6",
        "DELETE FROM list_lines",
        "TRUNCATE list_lines",
        "UPDATE line_resolutions SET version = '2'",
        "DELETE FROM line_resolutions",
        "TRUNCATE line_resolutions",
        "UPDATE ledger_checkpoints SET state = 'x'",
        "UPDATE cycle_closures SET record = 'x'",
        "DELETE FROM cycle_closures",
        "TRUNCATE cycle_closures",
        "UPDATE policy_documents SET body = 'x'",
        "DELETE FROM policy_documents",
        "TRUNCATE policy_documents",
        "UPDATE enterprise_records SET body = 'x'",
        "DELETE FROM enterprise_records",
        "TRUNCATE enterprise_records",
        "UPDATE audit_log SET hash = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE events SET body = 'x'",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        let err = c.batch_execute(sql).unwrap_err();
        let text = err.as_db_error().map(|d| d.message().to_owned()).unwrap_or_else(|| err.to_string());
        assert!(text.contains("append-only"), "{sql}: {text}");
    }
    let n: i64 = c.query_one("SELECT (SELECT COUNT(*) FROM lists) + (SELECT COUNT(*) FROM list_lines) + (SELECT COUNT(*) FROM line_resolutions)", &[]).unwrap().get(0);
    assert_eq!(n, 3, "nothing was changed");
    let n: i64 = c.query_one("SELECT (SELECT COUNT(*) FROM cycle_closures) + (SELECT COUNT(*) FROM policy_documents) + (SELECT COUNT(*) FROM enterprise_records)", &[]).unwrap().get(0);
    assert_eq!(n, 3, "nothing was changed");
    let n: i64 = c.query_one("SELECT (SELECT COUNT(*) FROM audit_log) + (SELECT COUNT(*) FROM events WHERE body = '{}')", &[]).unwrap().get(0);
    assert_eq!(n, 2, "nothing was changed");
    // Identity is state: updated (a password changed, a token revoked), never deleted.
    c.batch_execute(
        "UPDATE accounts SET password_hash = 'h2', disabled = true;
         UPDATE api_tokens SET revoked_at = '2026-11-27T03:00:00Z';
         UPDATE sessions SET revoked_at = '2026-11-27T03:00:00Z';
         UPDATE webhooks SET disabled = true;
         UPDATE webhook_cursors SET event_id = 2;
         INSERT INTO accounts VALUES ('a', 'platform', NULL, NULL, NULL, 'h3', false, 'x', 'y') ON CONFLICT (login) DO UPDATE SET role = excluded.role;",
    )
    .unwrap();
    for sql in ["DELETE FROM accounts", "TRUNCATE accounts", "DELETE FROM api_tokens", "TRUNCATE api_tokens", "DELETE FROM sessions", "TRUNCATE sessions", "DELETE FROM webhooks", "TRUNCATE webhooks"]
    {
        let err = c.batch_execute(sql).unwrap_err();
        let text = err.as_db_error().map(|d| d.message().to_owned()).unwrap_or_else(|| err.to_string());
        assert!(text.contains("never deleted"), "{sql}: {text}");
    }
    let n: i64 = c
        .query_one("SELECT (SELECT COUNT(*) FROM accounts WHERE role = 'platform') + (SELECT COUNT(*) FROM api_tokens) + (SELECT COUNT(*) FROM sessions) + (SELECT COUNT(*) FROM webhooks)", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 4, "nothing was deleted");
    // Checkpoints are derived: one may be deleted, never changed.
    c.batch_execute("DELETE FROM ledger_checkpoints").unwrap();
}
