//! Throwaway databases on a PostgreSQL server: created empty, dropped when the value is dropped.
//! Used by tests (one database each, so they run in parallel) and by `jiamao bench`.

use jiamao_store::StoreError;
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

/// An empty database of its own, dropped (with its connections) on drop.
pub struct ScratchDb {
    admin: postgres::Config,
    /// The database's name (`<prefix>_<random>`).
    pub name: String,
    /// The connection string of the scratch database, in the form the server URL was given.
    pub url: String,
}

/// A name no other user of this server is using now.
fn unique_suffix() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(N.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", h.finish())
}

/// `url` with its database replaced by `db` (URL or key-value form).
pub fn with_database(url: &str, db: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let rest = url.get(scheme_end + 3..).unwrap_or_default();
        let query_at = rest.find('?').unwrap_or(rest.len());
        let (before_query, query) = rest.split_at(query_at);
        let authority_end = before_query.find('/').unwrap_or(before_query.len());
        format!("{}{}/{db}{query}", url.get(..scheme_end + 3).unwrap_or_default(), before_query.get(..authority_end).unwrap_or_default())
    } else {
        format!("{url} dbname={db}")
    }
}

fn db(e: postgres::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

impl ScratchDb {
    /// Creates an empty database `<prefix>_<random>` on the server of `server_url`.
    pub fn create(server_url: &str, prefix: &str) -> Result<ScratchDb, StoreError> {
        let admin = postgres::Config::from_str(server_url).map_err(db)?;
        let name = format!("{prefix}_{}", unique_suffix());
        let mut c = admin.connect(postgres::NoTls).map_err(db)?;
        c.batch_execute(&format!("CREATE DATABASE {name}")).map_err(db)?;
        Ok(ScratchDb { admin, url: with_database(server_url, &name), name })
    }

    /// A plain client on the scratch database (no migrations).
    pub fn raw(&self) -> Result<postgres::Client, StoreError> {
        let mut cfg = self.admin.clone();
        cfg.dbname(&self.name);
        cfg.connect(postgres::NoTls).map_err(db)
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Ok(mut c) = self.admin.connect(postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}
