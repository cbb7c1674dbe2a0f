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
fn concurrent_writers() {
    let Some(b) = Postgres::new() else { return };
    suite::concurrent_writers(&b, 20);
}
