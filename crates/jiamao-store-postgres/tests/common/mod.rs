//! A fresh database per test on the server of `JIAMAO_TEST_PG_URL`, dropped at the end, so tests
//! run in parallel without seeing each other.
#![allow(dead_code)]

use jiamao_store_postgres::scratch::ScratchDb;
use jiamao_store_postgres::PgStore;

#[allow(unused_imports)]
pub use jiamao_store_postgres::scratch::with_database;

pub struct TestDb {
    db: ScratchDb,
    /// The database's name (`jiamao_test_…`).
    pub name: String,
    /// The connection string of the test database, in the form the variable was given.
    pub url: String,
}

impl TestDb {
    /// A new empty database, or `None` (after saying so) when no server is given.
    pub fn new() -> Option<TestDb> {
        let Ok(url) = std::env::var("JIAMAO_TEST_PG_URL") else {
            println!("skipping: JIAMAO_TEST_PG_URL not set");
            return None;
        };
        let db = ScratchDb::create(&url, "jiamao_test").expect("create the test database");
        Some(TestDb { name: db.name.clone(), url: db.url.clone(), db })
    }

    /// A new connection to the test database through `PgStore::connect` (migrating it if needed).
    pub fn store(&self) -> PgStore {
        PgStore::connect(&self.url).expect("connect to the test database")
    }

    /// A plain client on the test database (no migrations).
    pub fn raw(&self) -> postgres::Client {
        self.db.raw().expect("connect to the test database")
    }
}
