#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The conformance suite on the embedded SQLite backend.

use jiamao_store_sqlite::{Durability, SqliteStore};
use jiamao_store_tests as suite;

struct Sqlite {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl Sqlite {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conformance.db");
        Sqlite { _dir: dir, path }
    }
}

impl suite::Backend for Sqlite {
    type S = SqliteStore;
    fn connect(&self) -> SqliteStore {
        SqliteStore::open(&self.path, Durability::Normal).unwrap()
    }
}

#[test]
fn example() {
    suite::example(&Sqlite::new());
}

#[test]
fn idempotency_and_ownership() {
    suite::idempotency_and_ownership(&Sqlite::new());
}

#[test]
fn checkpoints() {
    suite::checkpoints(&Sqlite::new());
}

#[test]
fn concurrent_writers() {
    suite::concurrent_writers(&Sqlite::new(), 20);
}

#[test]
fn cycles() {
    suite::cycles(&Sqlite::new());
}

#[test]
fn policies_and_records() {
    suite::policies_and_records(&Sqlite::new());
}

#[test]
fn identity_audit_events() {
    suite::identity_audit_events(&Sqlite::new());
}
