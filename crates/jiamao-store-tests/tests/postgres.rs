#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The conformance suite on PostgreSQL, when `JIAMAO_TEST_PG_URL` names a server (`cargo xtask
//! test` starts one); each test gets a database of its own.

use jiamao_store_postgres::scratch::ScratchDb;
use jiamao_store_postgres::PgStore;
use jiamao_store_tests as suite;

struct Postgres {
    db: ScratchDb,
}

impl Postgres {
    fn new() -> Option<Self> {
        let Ok(url) = std::env::var("JIAMAO_TEST_PG_URL") else {
            println!("skipping: JIAMAO_TEST_PG_URL not set");
            return None;
        };
        Some(Postgres { db: ScratchDb::create(&url, "jiamao_conformance").unwrap() })
    }
}

impl suite::Backend for Postgres {
    type S = PgStore;
    fn connect(&self) -> PgStore {
        PgStore::connect(&self.db.url).unwrap()
    }
}

#[test]
fn example() {
    let Some(b) = Postgres::new() else { return };
    suite::example(&b);
}

#[test]
fn idempotency_and_ownership() {
    let Some(b) = Postgres::new() else { return };
    suite::idempotency_and_ownership(&b);
}

#[test]
fn checkpoints() {
    let Some(b) = Postgres::new() else { return };
    suite::checkpoints(&b);
}

#[test]
fn cycles() {
    let Some(b) = Postgres::new() else { return };
    suite::cycles(&b);
}

#[test]
fn concurrent_writers() {
    let Some(b) = Postgres::new() else { return };
    suite::concurrent_writers(&b, 20);
}

#[test]
fn policies_and_records() {
    let Some(b) = Postgres::new() else { return };
    suite::policies_and_records(&b);
}

#[test]
fn identity_audit_events() {
    let Some(b) = Postgres::new() else { return };
    suite::identity_audit_events(&b);
}

/// Citus readiness: every statement that touches a distributed table names its distribution column
/// (the enterprise; the chain of the audit trail), except the declared fan-out queries. Checked over
/// the statement log (pg_stat_statements) of a run of the conformance scenarios on a database of its
/// own.
#[test]
fn every_transactional_statement_filters_by_enterprise() {
    let Some(b) = Postgres::new() else { return };
    let mut raw = b.db.raw().unwrap();
    if raw.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").is_err() || raw.query("SELECT 1 FROM pg_stat_statements LIMIT 1", &[]).is_err() {
        println!("skipping: pg_stat_statements is not loaded on this server (cargo xtask test loads it)");
        return;
    }
    // Each scenario on a database of its own; the log is read for all of them.
    let (b2, b3, b4, b5) = (Postgres::new().unwrap(), Postgres::new().unwrap(), Postgres::new().unwrap(), Postgres::new().unwrap());
    suite::example(&b);
    suite::idempotency_and_ownership(&b2);
    suite::checkpoints(&b3);
    suite::policies_and_records(&b4);
    suite::identity_audit_events(&b5);
    let names = vec![b.db.name.clone(), b2.db.name.clone(), b3.db.name.clone(), b4.db.name.clone(), b5.db.name.clone()];
    let rows = raw.query("SELECT query FROM pg_stat_statements WHERE dbid IN (SELECT oid FROM pg_database WHERE datname = ANY($1))", &[&names]).unwrap();
    // Each distributed table and its distribution column.
    let owned = [
        ("book_revisions", "enterprise"),
        ("lists", "enterprise"),
        ("list_lines", "enterprise"),
        ("line_resolutions", "enterprise"),
        ("ledger_checkpoints", "enterprise"),
        ("enterprise_records", "enterprise"),
        ("events", "enterprise"),
        ("audit_log", "chain"),
    ];
    let mentions = |q: &str, t: &str| q.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).any(|w| w == t);
    // Schema changes, the statement log itself, and the declared fan-out queries (all books, counts,
    // events by id across enterprises, the names of the audit chains).
    let exempt = |q: &str| {
        let code: String = q.lines().filter(|l| !l.trim_start().starts_with("--") && !l.trim().is_empty()).collect::<Vec<_>>().join("\n");
        let head = code.trim_start().to_ascii_uppercase();
        ["CREATE", "COMMENT", "ALTER", "DROP"].iter().any(|k| head.starts_with(k))
            || q.contains("pg_stat_statements")
            || q.contains("DISTINCT ON (enterprise, book_no)")
            || q.contains("COUNT(*) FROM lists")
            || q.contains("FROM events WHERE id > $")
            || q.contains("SELECT DISTINCT chain")
            || q.contains("schema_migrations")
    };
    let mut checked = 0;
    let mut checked_chain = 0;
    for r in rows {
        let q: String = r.get(0);
        if exempt(&q) {
            continue;
        }
        for (table, column) in owned.iter().filter(|(t, _)| mentions(&q, t)) {
            checked += 1;
            if *column == "chain" {
                checked_chain += 1;
            }
            // A filter on the distribution column, or rows inserted with it as their first column.
            let inserts_with_it = (q.starts_with("INSERT INTO") || q.starts_with("COPY")) && q.contains(&format!(" ({column},"));
            // Foreign-key checks that PostgreSQL runs itself are written `"enterprise" OPERATOR(pg_catalog.=) $1`.
            let names_it = q.contains(&format!("{column} = $")) || q.contains(&format!("\"{column}\" OPERATOR(pg_catalog.=) $")) || inserts_with_it;
            assert!(names_it, "a statement on {table} (distributed by {column}) does not filter by {column}: {q}");
        }
    }
    assert!(checked >= 8, "only {checked} statements were seen; the statement log is not collecting");
    assert!(checked_chain >= 3, "only {checked_chain} statements on the audit trail were seen");
}
