//! The PostgreSQL backend of Jiamao: the [`Store`] trait on a PostgreSQL server (the synchronous
//! `postgres` client, no TLS), with the schema migrations in `migrations/` embedded in the binary.
//!
//! - Exact numbers: quantities and amounts are `NUMERIC` columns, read back as [`Decimal`] (never
//!   floating point). `NUMERIC` keeps the scale it was given, so a rebuilt list compares equal by
//!   value to the posted one; the idempotency comparison uses the stored canonical text.
//! - Migrations are applied by [`PgStore::connect`] in one transaction under an advisory lock, so
//!   several processes may connect to a new database at once; a schema newer than this program is
//!   refused ([`StoreError::SchemaTooNew`]).
//! - Locking: [`Store::begin_write`] opens a `READ COMMITTED` transaction and takes one transaction
//!   advisory lock per book, `pg_advisory_xact_lock(hashtextextended(enterprise || '/' || book_no, 0))`,
//!   in increasing order of that key (so two writers never deadlock on them). Every statement after
//!   the lock sees what the previous holder committed. Writers of different books run in parallel;
//!   a clash between them on a unique key (the same `list_no` of one enterprise posted on two books,
//!   a book number filed by two enterprises) is a [`StoreError::Conflict`], which the engine retries.
//! - Bulk posting: ids come from one `nextval` call over `generate_series`, lists and lines go in by
//!   `COPY … FROM STDIN`.
//! - Reading a book streams: [`Store::for_each_list`] declares a cursor and fetches
//!   [`FETCH_ROWS`] rows at a time (inside the write transaction when there is one, else in a
//!   read-only transaction of its own), so a book of millions of lines never sits in memory whole.
//! - Laid out for Citus: every enterprise-owned table has `enterprise` first in its primary key, in
//!   every unique constraint and every foreign key, and every query on those tables filters by it;
//!   the table comments say which tables are distributed by enterprise and which are reference tables.

pub mod scratch;

use chrono::NaiveDate;
use jiamao_domain::codes::{CountryCode, TradeModeCode};
use jiamao_domain::doc::{Direction, Goods, ListDoc, ListLineDoc};
use jiamao_domain::ledger::Posting;
use jiamao_store::{
    AccountRecord, AuditRecord, BookKey, BookRecord, ClosureRecord, EnterpriseRecord, EventRecord, PolicyRecord, Resolution, SessionRecord, Store, StoreError, StoredList, TokenRecord, WebhookRecord,
};
use postgres::error::SqlState;
use postgres::types::{FromSql, ToSql};
use postgres::{Client, Config, NoTls, Row, Statement};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::io::Write;
use std::str::FromStr;

/// Embedded migrations, applied in order; never edited once shipped.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "ledger", include_str!("../migrations/0001_ledger.sql")),
    (2, "checkpoints", include_str!("../migrations/0002_checkpoints.sql")),
    (3, "cycles", include_str!("../migrations/0003_cycles.sql")),
    (4, "policy_records", include_str!("../migrations/0004_policy_records.sql")),
    (5, "identity_audit_events", include_str!("../migrations/0005_identity_audit_events.sql")),
];

/// The schema version this program knows.
pub const SCHEMA_VERSION: i64 = 5;

/// Rows of a book's lines fetched from the server at a time by [`Store::for_each_list`].
pub const FETCH_ROWS: usize = 10_000;

/// Bytes of `COPY` data sent to the server at a time.
const COPY_CHUNK: usize = 64 * 1024;

/// The advisory lock that serializes migrations: `pg_advisory_xact_lock(hashtext(…), 0)`, in the
/// two-key lock space, apart from the one-key space of the book locks.
const MIGRATION_LOCK: &str = "jiamao/schema_migrations";

const SCHEMA_MIGRATIONS: &str = "CREATE TABLE schema_migrations (\
     version    BIGINT      NOT NULL PRIMARY KEY, \
     name       TEXT        NOT NULL, \
     applied_at TIMESTAMPTZ NOT NULL DEFAULT now()); \
     COMMENT ON TABLE schema_migrations IS 'citus:reference';";

/// Takes the per-book locks: one advisory transaction lock per distinct key, in increasing key order
/// (the sorted subquery fixes the order in which the locks are taken).
/// The lock that orders event ids by commit (see `append_event`).
const LOCK_EVENTS: &str = "SELECT pg_advisory_xact_lock(hashtext('jiamao events'), 1)";
const LOCK_BOOKS: &str = "SELECT pg_advisory_xact_lock(s.h) FROM \
     (SELECT DISTINCT hashtextextended(u.e || '/' || u.b, 0) AS h FROM unnest($1::text[], $2::text[]) AS u(e, b) ORDER BY h) AS s";

const BOOK_OWNER: &str = "SELECT enterprise FROM book_directory WHERE book_no = $1";
const BOOK: &str = "SELECT revision, doc FROM book_revisions WHERE enterprise = $1 AND book_no = $2 ORDER BY revision DESC LIMIT 1";
const BOOKS: &str = "SELECT enterprise, book_no, revision, doc FROM \
     (SELECT DISTINCT ON (enterprise, book_no) enterprise, book_no, revision, doc FROM book_revisions ORDER BY enterprise, book_no, revision DESC) AS latest \
     ORDER BY book_no COLLATE \"C\", enterprise COLLATE \"C\"";
const LATEST_REVISION: &str = "SELECT MAX(revision) FROM book_revisions WHERE enterprise = $1 AND book_no = $2";
const INSERT_DIRECTORY: &str = "INSERT INTO book_directory (book_no, enterprise) VALUES ($1, $2)";
const INSERT_REVISION: &str = "INSERT INTO book_revisions (enterprise, book_no, revision, doc) VALUES ($1, $2, $3, $4)";
const INSERT_RESOLUTION: &str = "INSERT INTO line_resolutions (enterprise, list_id, line, version, book_revision) \
     SELECT l.enterprise, l.id, $3, $4, $5 FROM lists l WHERE l.enterprise = $1 AND l.list_no = $2";
const POSTED_CANONICAL: &str = "SELECT canonical FROM lists WHERE enterprise = $1 AND list_no = $2";
const NEXT_IDS: &str = "SELECT nextval('lists_id_seq') FROM generate_series(1::bigint, $1::bigint)";
const COPY_LISTS: &str = "COPY lists (enterprise, id, list_no, book_no, declared_on, direction, goods, trade_mode, counterparty_book_no, declaration_no, line_count, canonical) FROM STDIN";
const COPY_LINES: &str = "COPY list_lines (enterprise, list_id, pos, line, item_seq, qty, amount, consumption_version, version, origin_country, legal_qty, second_legal_qty) FROM STDIN";
/// A book's lines in posting order, with versions resolved later; `$4`, when present, bounds the date.
///
/// The lines and resolutions are LATERAL subqueries, so each list's lines are fetched through the
/// primary key: the plan stays an index nested loop whatever the statistics say (a hash join over
/// all lines, chosen while a fresh table's statistics still say "empty", made every refresh scan
/// the whole table).
const LIST_LINES: &str = "SELECT l.id, l.list_no, l.declared_on, l.direction, l.goods, l.trade_mode, l.counterparty_book_no, l.declaration_no, l.line_count, \
            d.line, d.item_seq, d.qty, d.amount, d.consumption_version, COALESCE(d.version, r.version), d.origin_country, d.legal_qty, d.second_legal_qty \
     FROM lists l \
     CROSS JOIN LATERAL (SELECT * FROM list_lines x WHERE x.enterprise = l.enterprise AND x.list_id = l.id) d \
     LEFT JOIN LATERAL (SELECT y.version FROM line_resolutions y WHERE y.enterprise = l.enterprise AND y.list_id = l.id AND y.line = d.line) r ON true \
     WHERE l.enterprise = $1 AND l.book_no = $2 AND l.id > $3";
const LIST_LINES_ORDER: &str = " ORDER BY l.id, d.pos";
/// A checkpoint replaces one of the same position (for example one written in an older format).
const DROP_CHECKPOINT: &str = "DELETE FROM ledger_checkpoints WHERE enterprise = $1 AND book_no = $2 AND revision = $3 AND last_id = $4";
const SAVE_CHECKPOINT: &str = "INSERT INTO ledger_checkpoints (enterprise, book_no, revision, last_id, state) VALUES ($1, $2, $3, $4, $5)";
const LATEST_CHECKPOINT: &str = "SELECT last_id, state FROM ledger_checkpoints WHERE enterprise = $1 AND book_no = $2 AND revision = $3 ORDER BY last_id DESC LIMIT 1";
const PRUNE_CHECKPOINTS: &str = "DELETE FROM ledger_checkpoints WHERE enterprise = $1 AND book_no = $2 AND (revision, last_id) NOT IN \
     (SELECT revision, last_id FROM ledger_checkpoints WHERE enterprise = $1 AND book_no = $2 ORDER BY revision DESC, last_id DESC LIMIT 2)";
const LATEST_CYCLE: &str = "SELECT MAX(cycle_no) FROM cycle_closures WHERE enterprise = $1 AND book_no = $2";
const INSERT_CLOSURE: &str = "INSERT INTO cycle_closures (enterprise, book_no, cycle_no, closed_to, record) VALUES ($1, $2, $3, $4, $5)";
const CLOSURES: &str = "SELECT cycle_no, closed_to, record FROM cycle_closures WHERE enterprise = $1 AND book_no = $2 ORDER BY cycle_no";
const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM lists), (SELECT COUNT(*) FROM list_lines)";
const INSERT_POLICY: &str = "INSERT INTO policy_documents (kind, name, valid_from, body) VALUES ($1, $2, $3, $4) RETURNING id";
const POLICY: &str = "SELECT id, kind, name, valid_from, body FROM policy_documents WHERE kind = $1 AND name = $2";
const POLICIES: &str = "SELECT id, kind, name, valid_from, body FROM policy_documents WHERE kind = $1 ORDER BY id";
const INSERT_RECORD: &str = "INSERT INTO enterprise_records (enterprise, book_no, kind, key, recorded_on, body) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
const RECORD: &str = "SELECT id, enterprise, book_no, kind, key, recorded_on, body FROM enterprise_records WHERE enterprise = $1 AND kind = $2 AND key = $3";
const RECORDS: &str = "SELECT id, enterprise, book_no, kind, key, recorded_on, body FROM enterprise_records WHERE enterprise = $1 AND book_no = $2 AND kind = $3 ORDER BY id";
const UPSERT_ACCOUNT: &str = "INSERT INTO accounts (login, role, enterprise, customs, province, password_hash, disabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (login) DO UPDATE SET role = excluded.role, enterprise = excluded.enterprise, customs = excluded.customs, province = excluded.province, \
     password_hash = excluded.password_hash, disabled = excluded.disabled, updated_at = excluded.updated_at";
const ACCOUNT: &str = "SELECT login, role, enterprise, customs, province, password_hash, disabled, created_at, updated_at FROM accounts WHERE login = $1";
/// By login in byte order (as SQLite's BINARY collation), whatever the database's collation.
const ACCOUNTS: &str = "SELECT login, role, enterprise, customs, province, password_hash, disabled, created_at, updated_at FROM accounts ORDER BY login COLLATE \"C\"";
const INSERT_TOKEN: &str = "INSERT INTO api_tokens (token_id, login, secret_hash, read_only, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const TOKEN: &str = "SELECT token_id, login, secret_hash, read_only, created_at, expires_at, revoked_at FROM api_tokens WHERE token_id = $1";
const REVOKE_TOKEN: &str = "UPDATE api_tokens SET revoked_at = $2 WHERE token_id = $1 AND revoked_at IS NULL";
const TOKENS: &str = "SELECT token_id, login, secret_hash, read_only, created_at, expires_at, revoked_at FROM api_tokens WHERE login = $1 ORDER BY token_id COLLATE \"C\"";
const INSERT_SESSION: &str = "INSERT INTO sessions (session_id, login, csrf_hash, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)";
const SESSION: &str = "SELECT session_id, login, csrf_hash, created_at, expires_at, revoked_at FROM sessions WHERE session_id = $1";
const REVOKE_SESSION: &str = "UPDATE sessions SET revoked_at = $2 WHERE session_id = $1 AND revoked_at IS NULL";
const AUDIT_HEAD: &str = "SELECT seq, hash FROM audit_log WHERE chain = $1 ORDER BY seq DESC LIMIT 1";
const INSERT_AUDIT: &str = "INSERT INTO audit_log (chain, seq, at, actor, role, action, target, request_id, source, outcome, detail, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
/// Every chain's name (a fan-out query), in byte order.
const AUDIT_CHAINS: &str = "SELECT DISTINCT chain COLLATE \"C\" AS c FROM audit_log ORDER BY c";
/// The next links of a chain after a position, a page at a time (keyset paging: no transaction
/// has to stay open while the caller works through a long chain).
const AUDIT_PAGE: &str = "SELECT chain, seq, at, actor, role, action, target, request_id, source, outcome, detail, prev_hash, hash FROM audit_log \
     WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3";
const INSERT_EVENT: &str = "INSERT INTO events (enterprise, kind, at, body) VALUES ($1, $2, $3, $4) RETURNING id";
/// Events by id across enterprises: a fan-out query by design.
const EVENTS_AFTER: &str = "SELECT id, enterprise, kind, at, body FROM events WHERE id > $1 ORDER BY id LIMIT $2";
const UPSERT_WEBHOOK: &str = "INSERT INTO webhooks (id, login, url, kinds, created_at, disabled) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (id) DO UPDATE SET login = excluded.login, url = excluded.url, kinds = excluded.kinds, disabled = excluded.disabled";
const WEBHOOKS: &str = "SELECT id, login, url, kinds, created_at, disabled FROM webhooks ORDER BY id COLLATE \"C\"";
const WEBHOOK_CURSOR: &str = "SELECT event_id FROM webhook_cursors WHERE webhook_id = $1";
const SET_WEBHOOK_CURSOR: &str = "INSERT INTO webhook_cursors (webhook_id, event_id) VALUES ($1, $2) ON CONFLICT (webhook_id) DO UPDATE SET event_id = excluded.event_id";

/// The PostgreSQL store: one connection, at most one write transaction at a time on it.
pub struct PgStore {
    client: Client,
    /// How to connect again when the connection was lost between transactions.
    config: Config,
    /// Inside a write transaction (between `begin_write` and `commit`/`rollback`).
    in_write: bool,
    /// A statement failed inside the write transaction: PostgreSQL has aborted it, so `commit`
    /// must not report success (a `COMMIT` of an aborted transaction silently rolls back).
    failed: bool,
    statements: HashMap<&'static str, Statement>,
    cursors: u64,
}

/// The text of a client error, with its causes (the server's message and SQLSTATE for a
/// database error).
fn describe(e: &postgres::Error) -> String {
    if let Some(d) = e.as_db_error() {
        return format!("{}: {} (SQLSTATE {})", d.severity(), d.message(), d.code().code())
            + &d.detail().map(|x| format!("; {x}")).unwrap_or_default()
            + &d.where_().map(|x| format!("; where: {x}")).unwrap_or_default();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Maps a client error: a unique violation (another writer committed the same key first), a
/// deadlock or a serialization failure is a [`StoreError::Conflict`] (retrying decides again);
/// anything else is a [`StoreError::Database`].
fn db(e: &postgres::Error) -> StoreError {
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION || *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE => StoreError::Conflict(describe(e)),
        _ => StoreError::Database(describe(e)),
    }
}

fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

/// A column of a row, or `Corrupt` when the stored value cannot be read as `T`.
fn col<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> Result<T, StoreError> {
    row.try_get(i).map_err(|e| corrupt(format!("column {i}: {}", describe(&e))))
}

fn to_u32(v: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| corrupt(format!("stored {what} {v} is out of range")))
}

fn goods_text(g: Goods) -> &'static str {
    match g {
        Goods::Material => "material",
        Goods::Product => "product",
        Goods::Defective => "defective",
    }
}

fn direction_text(d: Direction) -> &'static str {
    match d {
        Direction::I => "I",
        Direction::E => "E",
    }
}

/// A `COPY` failure: from the server, or (in theory) from the writer itself.
enum CopyError {
    Pg(postgres::Error),
    Io(std::io::Error),
}

impl From<postgres::Error> for CopyError {
    fn from(e: postgres::Error) -> Self {
        CopyError::Pg(e)
    }
}

impl From<std::io::Error> for CopyError {
    fn from(e: std::io::Error) -> Self {
        // The writer reports the server's errors wrapped in an io::Error: unwrap them to keep the
        // SQLSTATE (a unique violation is a conflict).
        if e.get_ref().is_some_and(|inner| inner.is::<postgres::Error>()) {
            if let Some(inner) = e.into_inner() {
                return match inner.downcast::<postgres::Error>() {
                    Ok(pg) => CopyError::Pg(*pg),
                    Err(other) => CopyError::Io(std::io::Error::other(other)),
                };
            }
            return CopyError::Io(std::io::Error::other("COPY failed"));
        }
        CopyError::Io(e)
    }
}

/// One field of a `COPY … FROM STDIN` row in text format: backslash, tab, newline and carriage
/// return escaped.
fn copy_text(buf: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
}

/// An optional field: `\N` is NULL.
fn copy_opt(buf: &mut String, s: Option<&str>) {
    match s {
        Some(s) => copy_text(buf, s),
        None => buf.push_str("\\N"),
    }
}

/// A decimal as `NUMERIC` input: plain notation, keeping its scale (no escaping needed).
fn copy_dec(buf: &mut String, d: Option<Decimal>) {
    match d {
        Some(d) => buf.push_str(&d.to_string()),
        None => buf.push_str("\\N"),
    }
}

/// Runs `COPY … FROM STDIN` with the rows `encode` writes (each ending in a newline), sending
/// about [`COPY_CHUNK`] bytes at a time.
fn copy_in<R>(client: &mut Client, sql: &str, rows: impl Iterator<Item = R>, mut encode: impl FnMut(R, &mut String)) -> Result<u64, CopyError> {
    let mut w = client.copy_in(sql)?;
    let mut buf = String::with_capacity(COPY_CHUNK + 4096);
    for r in rows {
        encode(r, &mut buf);
        if buf.len() >= COPY_CHUNK {
            w.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        w.write_all(buf.as_bytes())?;
    }
    Ok(w.finish()?)
}

impl PgStore {
    /// Connects to the database at `url` (no TLS) and brings its schema up to date.
    ///
    /// `url` is a libpq-style connection string: a URL such as `postgres://user@host:5432/db`, where
    /// a Unix socket directory is given percent-encoded as the host
    /// (`postgres://postgres@%2Ftmp%2Fpgsock:54329/jiamao`), or the key-value form
    /// (`host=/tmp/pgsock port=54329 user=postgres dbname=jiamao`).
    pub fn connect(url: &str) -> Result<PgStore, StoreError> {
        let config = Config::from_str(url).map_err(|e| StoreError::Database(format!("invalid PostgreSQL connection string: {}", describe(&e))))?;
        Self::connect_config(&config)
    }

    /// Connects with a parsed configuration (no TLS) and brings the schema up to date.
    pub fn connect_config(config: &Config) -> Result<PgStore, StoreError> {
        let mut config = config.clone();
        if config.get_application_name().is_none() {
            config.application_name("jiamao");
        }
        let client = config.connect(NoTls).map_err(|e| StoreError::Database(format!("cannot connect to PostgreSQL: {}", describe(&e))))?;
        let mut store = PgStore { client, config, in_write: false, failed: false, statements: HashMap::new(), cursors: 0 };
        store.migrate()?;
        Ok(store)
    }

    /// Applies the migrations this database lacks, all in one transaction under an advisory lock
    /// (another process connecting at the same time waits, then finds them applied).
    fn migrate(&mut self) -> Result<(), StoreError> {
        self.client.batch_execute("BEGIN ISOLATION LEVEL READ COMMITTED").map_err(|e| db(&e))?;
        match self.migrate_locked() {
            Ok(()) => self.client.batch_execute("COMMIT").map_err(|e| db(&e)),
            Err(e) => {
                let _ = self.client.batch_execute("ROLLBACK");
                Err(e)
            }
        }
    }

    fn migrate_locked(&mut self) -> Result<(), StoreError> {
        let c = &mut self.client;
        c.execute("SELECT pg_advisory_xact_lock(hashtext($1), 0)", &[&MIGRATION_LOCK]).map_err(|e| db(&e))?;
        let row = c.query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[]).map_err(|e| db(&e))?;
        if !col::<bool>(&row, 0)? {
            c.batch_execute(SCHEMA_MIGRATIONS).map_err(|e| db(&e))?;
        }
        let row = c.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).map_err(|e| db(&e))?;
        let current: i64 = col(&row, 0)?;
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if current > known {
            return Err(StoreError::SchemaTooNew { found: current, known });
        }
        for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            c.batch_execute(sql).map_err(|e| StoreError::Database(format!("migration {version} ({name}): {}", describe(&e))))?;
            c.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", &[version, name]).map_err(|e| db(&e))?;
        }
        Ok(())
    }

    /// The schema version in force.
    pub fn schema_version(&mut self) -> Result<i64, StoreError> {
        self.reconnect_if_lost()?;
        let row = self.client.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).map_err(|e| db(&e))?;
        col(&row, 0)
    }

    /// Direct access to the connection, for tests that check the schema and its append-only
    /// guarantees. Do not use it inside a write transaction of the store.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Outside a write transaction, replaces a connection that was lost (the server restarted, a
    /// network fault) by a new one: the operation that met the fault failed, the next one works.
    /// Inside a write nothing is replaced: the transaction is lost and the caller must roll back.
    fn reconnect_if_lost(&mut self) -> Result<(), StoreError> {
        if self.in_write || !self.client.is_closed() {
            return Ok(());
        }
        *self = Self::connect_config(&self.config)?;
        Ok(())
    }

    /// Maps a failed statement; inside the write transaction, notes that PostgreSQL aborted it.
    fn fail(&mut self, e: &postgres::Error) -> StoreError {
        if self.in_write {
            self.failed = true;
        }
        db(e)
    }

    fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        self.reconnect_if_lost()?;
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.client.prepare(sql);
        let s = prepared.map_err(|e| self.fail(&e))?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    fn query(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, StoreError> {
        let s = self.statement(sql)?;
        let r = self.client.query(&s, params);
        r.map_err(|e| self.fail(&e))
    }

    fn query_opt(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>, StoreError> {
        let s = self.statement(sql)?;
        let r = self.client.query_opt(&s, params);
        r.map_err(|e| self.fail(&e))
    }

    fn query_one(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, StoreError> {
        let s = self.statement(sql)?;
        let r = self.client.query_one(&s, params);
        r.map_err(|e| self.fail(&e))
    }

    fn execute(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let s = self.statement(sql)?;
        let r = self.client.execute(&s, params);
        r.map_err(|e| self.fail(&e))
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        let r = self.client.batch_execute(sql);
        r.map_err(|e| self.fail(&e))
    }

    fn copy(&mut self, sql: &str, result: Result<u64, CopyError>) -> Result<u64, StoreError> {
        match result {
            Ok(n) => Ok(n),
            Err(CopyError::Pg(e)) => Err(self.fail(&e)),
            Err(CopyError::Io(e)) => {
                if self.in_write {
                    self.failed = true;
                }
                Err(StoreError::Database(format!("{sql}: {e}")))
            }
        }
    }

    fn require_write(&self, what: &str) -> Result<(), StoreError> {
        if self.in_write {
            Ok(())
        } else {
            Err(StoreError::Database(format!("{what} must be called inside a write transaction (begin_write … commit)")))
        }
    }

    /// Streams a book's lines through a cursor; the caller opened the transaction it lives in.
    fn stream_lists(&mut self, cursor: &str, key: &BookKey, after_id: i64, to: Option<NaiveDate>, f: &mut dyn FnMut(StoredList) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let declare = match to {
            Some(_) => format!("DECLARE {cursor} NO SCROLL CURSOR FOR {LIST_LINES} AND l.declared_on <= $4{LIST_LINES_ORDER}"),
            None => format!("DECLARE {cursor} NO SCROLL CURSOR FOR {LIST_LINES}{LIST_LINES_ORDER}"),
        };
        let declared = match &to {
            Some(to) => self.client.execute(&declare, &[&key.enterprise, &key.book_no, &after_id, to]),
            None => self.client.execute(&declare, &[&key.enterprise, &key.book_no, &after_id]),
        };
        declared.map_err(|e| self.fail(&e))?;
        let prepared = self.client.prepare(&format!("FETCH FORWARD {FETCH_ROWS} FROM {cursor}"));
        let fetch = prepared.map_err(|e| self.fail(&e))?;
        let mut cur: Option<(StoredList, usize)> = None;
        loop {
            let fetched = self.client.query(&fetch, &[]);
            let rows = fetched.map_err(|e| self.fail(&e))?;
            for r in &rows {
                let id: i64 = col(r, 0)?;
                if cur.as_ref().is_none_or(|(c, _)| c.id != id) {
                    if let Some((done, n)) = cur.take() {
                        finish(done, n, f)?;
                    }
                    cur = Some(list_head(r, id, &key.book_no)?);
                }
                if let Some((c, _)) = cur.as_mut() {
                    let origin: Option<&str> = col(r, 15)?;
                    c.list.lines.push(ListLineDoc {
                        line: to_u32(col(r, 9)?, "line number")?,
                        item_seq: to_u32(col(r, 10)?, "item number")?,
                        qty: col(r, 11)?,
                        amount: col(r, 12)?,
                        consumption_version: col(r, 13)?,
                        origin_country: origin.map(CountryCode::parse).transpose().map_err(|e| corrupt(format!("list {}: {e}", c.list.list_no)))?,
                        legal_qty: col(r, 16)?,
                        second_legal_qty: col(r, 17)?,
                    });
                    c.versions.push(col(r, 14)?);
                }
            }
            if rows.len() < FETCH_ROWS {
                break;
            }
        }
        if let Some((done, n)) = cur.take() {
            finish(done, n, f)?;
        }
        self.batch(&format!("CLOSE {cursor}"))
    }
}

/// The list of the first row of its lines (without lines yet), and its line count.
fn list_head(r: &Row, id: i64, book_no: &str) -> Result<(StoredList, usize), StoreError> {
    let list_no: String = col(r, 1)?;
    let dir: &str = col(r, 3)?;
    let goods: &str = col(r, 4)?;
    let mode: &str = col(r, 5)?;
    let n: i32 = col(r, 8)?;
    let n = usize::try_from(n).map_err(|_| corrupt(format!("list {list_no}: bad line count {n}")))?;
    let list = ListDoc {
        book_no: book_no.to_owned(),
        declared_on: col(r, 2)?,
        direction: match dir {
            "I" => Direction::I,
            "E" => Direction::E,
            _ => return Err(corrupt(format!("list {list_no}: bad direction {dir}"))),
        },
        goods: match goods {
            "material" => Goods::Material,
            "product" => Goods::Product,
            "defective" => Goods::Defective,
            _ => return Err(corrupt(format!("list {list_no}: bad goods {goods}"))),
        },
        trade_mode: TradeModeCode::parse(mode).map_err(|e| corrupt(format!("list {list_no}: {e}")))?,
        counterparty_book_no: col(r, 6)?,
        declaration_no: col(r, 7)?,
        lines: Vec::with_capacity(n),
        list_no,
    };
    Ok((StoredList { id, list, versions: Vec::with_capacity(n) }, n))
}

fn finish(done: StoredList, expected_lines: usize, f: &mut dyn FnMut(StoredList) -> Result<(), StoreError>) -> Result<(), StoreError> {
    if done.list.lines.len() != expected_lines {
        return Err(corrupt(format!("list {} has {} stored lines, {} expected", done.list.list_no, done.list.lines.len(), expected_lines)));
    }
    f(done)
}

impl Store for PgStore {
    fn begin_write(&mut self, books: &[BookKey]) -> Result<(), StoreError> {
        if self.in_write {
            return Err(StoreError::Database("a write transaction is already open on this connection".into()));
        }
        self.reconnect_if_lost()?;
        // READ COMMITTED whatever the server's default: each statement after the locks sees what
        // the previous holder of a book's lock committed.
        self.client.batch_execute("BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE").map_err(|e| db(&e))?;
        self.in_write = true;
        self.failed = false;
        if books.is_empty() {
            return Ok(());
        }
        let enterprises: Vec<&str> = books.iter().map(|k| k.enterprise.as_str()).collect();
        let book_nos: Vec<&str> = books.iter().map(|k| k.book_no.as_str()).collect();
        self.execute(LOCK_BOOKS, &[&enterprises, &book_nos])?;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        if !self.in_write {
            return Err(StoreError::Database("commit without a write transaction".into()));
        }
        self.in_write = false;
        if std::mem::take(&mut self.failed) {
            let _ = self.client.batch_execute("ROLLBACK");
            return Err(StoreError::Database("the write transaction failed earlier and was rolled back".into()));
        }
        self.client.batch_execute("COMMIT").map_err(|e| db(&e))
    }

    fn rollback(&mut self) -> Result<(), StoreError> {
        if !self.in_write {
            return Ok(());
        }
        self.in_write = false;
        self.failed = false;
        self.client.batch_execute("ROLLBACK").map_err(|e| db(&e))
    }

    fn book_owner(&mut self, book_no: &str) -> Result<Option<String>, StoreError> {
        self.query_opt(BOOK_OWNER, &[&book_no])?.map(|r| col(&r, 0)).transpose()
    }

    fn book(&mut self, key: &BookKey) -> Result<Option<BookRecord>, StoreError> {
        let Some(r) = self.query_opt(BOOK, &[&key.enterprise, &key.book_no])? else { return Ok(None) };
        Ok(Some(BookRecord { key: key.clone(), revision: to_u32(col(&r, 0)?, "book revision")?, doc_json: col(&r, 1)? }))
    }

    fn book_revision(&mut self, key: &BookKey) -> Result<Option<u32>, StoreError> {
        let latest: Option<i64> = col(&self.query_one(LATEST_REVISION, &[&key.enterprise, &key.book_no])?, 0)?;
        latest.map(|n| u32::try_from(n).map_err(|_| corrupt(format!("revision {n} of book {}", key.book_no)))).transpose()
    }

    fn books(&mut self) -> Result<Vec<BookRecord>, StoreError> {
        self.query(BOOKS, &[])?
            .iter()
            .map(|r| Ok(BookRecord { key: BookKey { enterprise: col(r, 0)?, book_no: col(r, 1)? }, revision: to_u32(col(r, 2)?, "book revision")?, doc_json: col(r, 3)? }))
            .collect()
    }

    fn file_book(&mut self, record: &BookRecord, resolutions: &[Resolution]) -> Result<(), StoreError> {
        self.require_write("file_book")?;
        let key = &record.key;
        let latest: Option<i64> = col(&self.query_one(LATEST_REVISION, &[&key.enterprise, &key.book_no])?, 0)?;
        let latest = latest.unwrap_or(0);
        if latest + 1 != i64::from(record.revision) {
            return Err(StoreError::Conflict(format!("book {} changed concurrently (revision {} expected, {} stored)", key.book_no, record.revision, latest)));
        }
        if record.revision == 1 {
            if let Some(owner) = self.book_owner(&key.book_no)? {
                return Err(StoreError::BookOwner(format!("book number {} already belongs to enterprise {owner}", key.book_no)));
            }
            self.execute(INSERT_DIRECTORY, &[&key.book_no, &key.enterprise])?;
        }
        let revision = i64::from(record.revision);
        self.execute(INSERT_REVISION, &[&key.enterprise, &key.book_no, &revision, &record.doc_json])?;
        for r in resolutions {
            let n = self.execute(INSERT_RESOLUTION, &[&key.enterprise, &r.list_no, &i64::from(r.line), &r.version, &revision])?;
            if n != 1 {
                return Err(corrupt(format!("pending line {} of list {} not found", r.line, r.list_no)));
            }
        }
        Ok(())
    }

    fn posted_canonical(&mut self, enterprise: &str, list_no: &str) -> Result<Option<String>, StoreError> {
        self.query_opt(POSTED_CANONICAL, &[&enterprise, &list_no])?.map(|r| col(&r, 0)).transpose()
    }

    fn append_lists(&mut self, enterprise: &str, postings: &[Posting]) -> Result<Vec<i64>, StoreError> {
        self.require_write("append_lists")?;
        if postings.is_empty() {
            return Ok(Vec::new());
        }
        let n = i64::try_from(postings.len()).map_err(|_| StoreError::Database("too many lists".into()))?;
        let mut ids = self.query(NEXT_IDS, &[&n])?.iter().map(|r| col::<i64>(r, 0)).collect::<Result<Vec<_>, _>>()?;
        // Increasing in posting order whatever order the server numbered the rows in.
        ids.sort_unstable();
        if ids.len() != postings.len() {
            return Err(StoreError::Database(format!("{} ids allocated for {} lists", ids.len(), postings.len())));
        }
        for p in postings {
            if p.versions.len() != p.list.lines.len() {
                return Err(StoreError::Database(format!("list {}: {} versions for {} lines", p.list.list_no, p.versions.len(), p.list.lines.len())));
            }
        }
        let heads = copy_in(&mut self.client, COPY_LISTS, postings.iter().zip(&ids), |(p, id), b| {
            let l = &p.list;
            copy_text(b, enterprise);
            b.push('\t');
            b.push_str(&id.to_string());
            b.push('\t');
            copy_text(b, &l.list_no);
            b.push('\t');
            copy_text(b, &l.book_no);
            b.push('\t');
            b.push_str(&l.declared_on.format("%Y-%m-%d").to_string());
            b.push('\t');
            b.push_str(direction_text(l.direction));
            b.push('\t');
            b.push_str(goods_text(l.goods));
            b.push('\t');
            copy_text(b, l.trade_mode.as_str());
            b.push('\t');
            copy_opt(b, l.counterparty_book_no.as_deref());
            b.push('\t');
            copy_opt(b, l.declaration_no.as_deref());
            b.push('\t');
            b.push_str(&l.lines.len().to_string());
            b.push('\t');
            copy_text(b, &p.canonical);
            b.push('\n');
        });
        self.copy(COPY_LISTS, heads)?;
        let lines = postings.iter().zip(&ids).flat_map(|(p, id)| p.list.lines.iter().zip(&p.versions).enumerate().map(move |(pos, (ln, v))| (*id, pos, ln, v)));
        let written = copy_in(&mut self.client, COPY_LINES, lines, |(id, pos, ln, v), b| {
            copy_text(b, enterprise);
            b.push('\t');
            b.push_str(&id.to_string());
            b.push('\t');
            b.push_str(&pos.to_string());
            b.push('\t');
            b.push_str(&ln.line.to_string());
            b.push('\t');
            b.push_str(&ln.item_seq.to_string());
            b.push('\t');
            copy_dec(b, Some(ln.qty));
            b.push('\t');
            copy_dec(b, ln.amount);
            b.push('\t');
            copy_opt(b, ln.consumption_version.as_deref());
            b.push('\t');
            copy_opt(b, v.as_deref());
            b.push('\t');
            copy_opt(b, ln.origin_country.as_ref().map(|c| c.as_str()));
            b.push('\t');
            copy_dec(b, ln.legal_qty);
            b.push('\t');
            copy_dec(b, ln.second_legal_qty);
            b.push('\n');
        });
        self.copy(COPY_LINES, written)?;
        Ok(ids)
    }

    fn for_each_list(&mut self, key: &BookKey, after_id: i64, to: Option<NaiveDate>, f: &mut dyn FnMut(StoredList) -> Result<(), StoreError>) -> Result<(), StoreError> {
        self.reconnect_if_lost()?;
        self.cursors += 1;
        let cursor = format!("jiamao_lists_{}", self.cursors);
        if self.in_write {
            let result = self.stream_lists(&cursor, key, after_id, to, f);
            if result.is_err() {
                // Free the cursor if the transaction is still usable (a later read may follow).
                let _ = self.client.batch_execute(&format!("CLOSE {cursor}"));
            }
            return result;
        }
        // Outside a write: a read-only transaction of its own, one snapshot for the whole book.
        self.client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").map_err(|e| db(&e))?;
        match self.stream_lists(&cursor, key, after_id, to, f) {
            Ok(()) => self.client.batch_execute("COMMIT").map_err(|e| db(&e)),
            Err(e) => {
                let _ = self.client.batch_execute("ROLLBACK");
                Err(e)
            }
        }
    }

    fn save_checkpoint(&mut self, key: &BookKey, revision: u32, last_id: i64, state_json: &str) -> Result<(), StoreError> {
        self.require_write("save_checkpoint")?;
        self.execute(DROP_CHECKPOINT, &[&key.enterprise, &key.book_no, &i64::from(revision), &last_id])?;
        self.execute(SAVE_CHECKPOINT, &[&key.enterprise, &key.book_no, &i64::from(revision), &last_id, &state_json])?;
        // Keep the newest two checkpoints of the book; older ones are derived data no one reads.
        self.execute(PRUNE_CHECKPOINTS, &[&key.enterprise, &key.book_no])?;
        Ok(())
    }

    fn latest_checkpoint(&mut self, key: &BookKey, revision: u32) -> Result<Option<(i64, String)>, StoreError> {
        let Some(r) = self.query_opt(LATEST_CHECKPOINT, &[&key.enterprise, &key.book_no, &i64::from(revision)])? else { return Ok(None) };
        Ok(Some((col(&r, 0)?, col(&r, 1)?)))
    }

    fn file_closure(&mut self, key: &BookKey, record: &ClosureRecord) -> Result<(), StoreError> {
        self.require_write("file_closure")?;
        let latest: Option<i64> = col(&self.query_one(LATEST_CYCLE, &[&key.enterprise, &key.book_no])?, 0)?;
        if latest.unwrap_or(0) + 1 != i64::from(record.cycle_no) {
            return Err(StoreError::Conflict(format!("cycle {} of book {} closed concurrently", record.cycle_no, key.book_no)));
        }
        self.execute(INSERT_CLOSURE, &[&key.enterprise, &key.book_no, &i64::from(record.cycle_no), &record.closed_to, &record.record_json])?;
        Ok(())
    }

    fn closures(&mut self, key: &BookKey) -> Result<Vec<ClosureRecord>, StoreError> {
        let rows = self.query(CLOSURES, &[&key.enterprise, &key.book_no])?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let n: i64 = col(&r, 0)?;
            let cycle_no = u32::try_from(n).map_err(|_| corrupt(format!("cycle number {n} of book {}", key.book_no)))?;
            out.push(ClosureRecord { cycle_no, closed_to: col(&r, 1)?, record_json: col(&r, 2)? });
        }
        Ok(out)
    }

    fn counts(&mut self) -> Result<(u64, u64), StoreError> {
        let r = self.query_one(COUNTS, &[])?;
        let lists: i64 = col(&r, 0)?;
        let lines: i64 = col(&r, 1)?;
        Ok((lists.unsigned_abs(), lines.unsigned_abs()))
    }

    fn append_policy(&mut self, record: &PolicyRecord) -> Result<i64, StoreError> {
        self.require_write("append_policy")?;
        col(&self.query_one(INSERT_POLICY, &[&record.kind, &record.name, &record.valid_from, &record.body])?, 0)
    }

    fn policy(&mut self, kind: &str, name: &str) -> Result<Option<PolicyRecord>, StoreError> {
        self.query_opt(POLICY, &[&kind, &name])?.as_ref().map(policy_record).transpose()
    }

    fn policies(&mut self, kind: &str) -> Result<Vec<PolicyRecord>, StoreError> {
        self.query(POLICIES, &[&kind])?.iter().map(policy_record).collect()
    }

    fn append_record(&mut self, record: &EnterpriseRecord) -> Result<i64, StoreError> {
        self.require_write("append_record")?;
        col(&self.query_one(INSERT_RECORD, &[&record.enterprise, &record.book_no, &record.kind, &record.key, &record.recorded_on, &record.body])?, 0)
    }

    fn record(&mut self, enterprise: &str, kind: &str, key: &str) -> Result<Option<EnterpriseRecord>, StoreError> {
        self.query_opt(RECORD, &[&enterprise, &kind, &key])?.as_ref().map(enterprise_record).transpose()
    }

    fn records(&mut self, book: &BookKey, kind: &str) -> Result<Vec<EnterpriseRecord>, StoreError> {
        self.query(RECORDS, &[&book.enterprise, &book.book_no, &kind])?.iter().map(enterprise_record).collect()
    }

    fn upsert_account(&mut self, a: &AccountRecord) -> Result<(), StoreError> {
        self.require_write("upsert_account")?;
        self.execute(UPSERT_ACCOUNT, &[&a.login, &a.role, &a.enterprise, &a.customs, &a.province, &a.password_hash, &a.disabled, &a.created_at, &a.updated_at])?;
        Ok(())
    }

    fn account(&mut self, login: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.query_opt(ACCOUNT, &[&login])?.as_ref().map(account_record).transpose()
    }

    fn accounts(&mut self) -> Result<Vec<AccountRecord>, StoreError> {
        self.query(ACCOUNTS, &[])?.iter().map(account_record).collect()
    }

    fn insert_token(&mut self, t: &TokenRecord) -> Result<(), StoreError> {
        self.require_write("insert_token")?;
        self.execute(INSERT_TOKEN, &[&t.token_id, &t.login, &t.secret_hash, &t.read_only, &t.created_at, &t.expires_at, &t.revoked_at])?;
        Ok(())
    }

    fn token(&mut self, token_id: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.query_opt(TOKEN, &[&token_id])?.as_ref().map(token_record).transpose()
    }

    fn revoke_token(&mut self, token_id: &str, at: &str) -> Result<bool, StoreError> {
        self.require_write("revoke_token")?;
        Ok(self.execute(REVOKE_TOKEN, &[&token_id, &at])? == 1)
    }

    fn tokens(&mut self, login: &str) -> Result<Vec<TokenRecord>, StoreError> {
        self.query(TOKENS, &[&login])?.iter().map(token_record).collect()
    }

    fn insert_session(&mut self, x: &SessionRecord) -> Result<(), StoreError> {
        self.require_write("insert_session")?;
        self.execute(INSERT_SESSION, &[&x.session_id, &x.login, &x.csrf_hash, &x.created_at, &x.expires_at, &x.revoked_at])?;
        Ok(())
    }

    fn session(&mut self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        let Some(r) = self.query_opt(SESSION, &[&session_id])? else { return Ok(None) };
        Ok(Some(SessionRecord { session_id: col(&r, 0)?, login: col(&r, 1)?, csrf_hash: col(&r, 2)?, created_at: col(&r, 3)?, expires_at: col(&r, 4)?, revoked_at: col(&r, 5)? }))
    }

    fn revoke_session(&mut self, session_id: &str, at: &str) -> Result<bool, StoreError> {
        self.require_write("revoke_session")?;
        Ok(self.execute(REVOKE_SESSION, &[&session_id, &at])? == 1)
    }

    fn audit_head(&mut self, chain: &str) -> Result<Option<(i64, String)>, StoreError> {
        let Some(r) = self.query_opt(AUDIT_HEAD, &[&chain])? else { return Ok(None) };
        Ok(Some((col(&r, 0)?, col(&r, 1)?)))
    }

    fn append_audit(&mut self, a: &AuditRecord) -> Result<(), StoreError> {
        self.require_write("append_audit")?;
        self.execute(INSERT_AUDIT, &[&a.chain, &a.seq, &a.at, &a.actor, &a.role, &a.action, &a.target, &a.request_id, &a.source, &a.outcome, &a.detail, &a.prev_hash, &a.hash])?;
        Ok(())
    }

    fn audit_chains(&mut self) -> Result<Vec<String>, StoreError> {
        self.query(AUDIT_CHAINS, &[])?.iter().map(|r| col(r, 0)).collect()
    }

    fn for_each_audit(&mut self, chain: &str, f: &mut dyn FnMut(AuditRecord) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let page = i64::try_from(FETCH_ROWS).unwrap_or(i64::MAX);
        let mut after = i64::MIN;
        loop {
            let rows = self.query(AUDIT_PAGE, &[&chain, &after, &page])?;
            for r in &rows {
                let link = audit_record(r)?;
                after = link.seq;
                f(link)?;
            }
            if rows.len() < FETCH_ROWS {
                return Ok(());
            }
        }
    }

    fn append_event(&mut self, e: &EventRecord) -> Result<i64, StoreError> {
        self.require_write("append_event")?;
        // Event ids must become visible in id order, or a reader's cursor could pass an id whose
        // transaction has not committed yet and never see it. Writers append their events last,
        // just before committing, under one transaction-scoped lock: ids are then taken and
        // committed one transaction at a time (the lock is held only for the insert and the commit).
        self.execute(LOCK_EVENTS, &[])?;
        col(&self.query_one(INSERT_EVENT, &[&e.enterprise, &e.kind, &e.at, &e.body])?, 0)
    }

    fn events_after(&mut self, after_id: i64, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query(EVENTS_AFTER, &[&after_id, &limit])?.iter().map(|r| Ok(EventRecord { id: col(r, 0)?, enterprise: col(r, 1)?, kind: col(r, 2)?, at: col(r, 3)?, body: col(r, 4)? })).collect()
    }

    fn upsert_webhook(&mut self, w: &WebhookRecord) -> Result<(), StoreError> {
        self.require_write("upsert_webhook")?;
        self.execute(UPSERT_WEBHOOK, &[&w.id, &w.login, &w.url, &w.kinds, &w.created_at, &w.disabled])?;
        Ok(())
    }

    fn webhooks(&mut self) -> Result<Vec<WebhookRecord>, StoreError> {
        self.query(WEBHOOKS, &[])?.iter().map(|r| Ok(WebhookRecord { id: col(r, 0)?, login: col(r, 1)?, url: col(r, 2)?, kinds: col(r, 3)?, created_at: col(r, 4)?, disabled: col(r, 5)? })).collect()
    }

    fn webhook_cursor(&mut self, webhook_id: &str) -> Result<i64, StoreError> {
        let Some(r) = self.query_opt(WEBHOOK_CURSOR, &[&webhook_id])? else { return Ok(0) };
        col(&r, 0)
    }

    fn set_webhook_cursor(&mut self, webhook_id: &str, event_id: i64) -> Result<(), StoreError> {
        self.require_write("set_webhook_cursor")?;
        self.execute(SET_WEBHOOK_CURSOR, &[&webhook_id, &event_id])?;
        Ok(())
    }
}

fn account_record(r: &Row) -> Result<AccountRecord, StoreError> {
    Ok(AccountRecord {
        login: col(r, 0)?,
        role: col(r, 1)?,
        enterprise: col(r, 2)?,
        customs: col(r, 3)?,
        province: col(r, 4)?,
        password_hash: col(r, 5)?,
        disabled: col(r, 6)?,
        created_at: col(r, 7)?,
        updated_at: col(r, 8)?,
    })
}

fn token_record(r: &Row) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord { token_id: col(r, 0)?, login: col(r, 1)?, secret_hash: col(r, 2)?, read_only: col(r, 3)?, created_at: col(r, 4)?, expires_at: col(r, 5)?, revoked_at: col(r, 6)? })
}

fn audit_record(r: &Row) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        chain: col(r, 0)?,
        seq: col(r, 1)?,
        at: col(r, 2)?,
        actor: col(r, 3)?,
        role: col(r, 4)?,
        action: col(r, 5)?,
        target: col(r, 6)?,
        request_id: col(r, 7)?,
        source: col(r, 8)?,
        outcome: col(r, 9)?,
        detail: col(r, 10)?,
        prev_hash: col(r, 11)?,
        hash: col(r, 12)?,
    })
}

fn policy_record(r: &Row) -> Result<PolicyRecord, StoreError> {
    Ok(PolicyRecord { id: col(r, 0)?, kind: col(r, 1)?, name: col(r, 2)?, valid_from: col(r, 3)?, body: col(r, 4)? })
}

fn enterprise_record(r: &Row) -> Result<EnterpriseRecord, StoreError> {
    Ok(EnterpriseRecord { id: col(r, 0)?, enterprise: col(r, 1)?, book_no: col(r, 2)?, kind: col(r, 3)?, key: col(r, 4)?, recorded_on: col(r, 5)?, body: col(r, 6)? })
}
