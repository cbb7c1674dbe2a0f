//! The embedded default backend: SQLite in WAL mode, schema migrations embedded in the binary.
//!
//! Durability: every write transaction commits before the caller acknowledges anything. In WAL mode
//! a committed transaction is in the log file before `COMMIT` returns, so a crash of the process
//! never loses it. With [`Durability::Full`] (the default) SQLite also fsyncs the log at each commit,
//! so power loss does not either; [`Durability::Normal`] skips that fsync (docs/perf.md measures both).

use chrono::NaiveDate;
use jiamao_domain::codes::{CountryCode, TradeModeCode};
use jiamao_domain::doc::{Direction, Goods, ListDoc, ListLineDoc};
use jiamao_domain::ledger::Posting;
use jiamao_store::{
    AccountRecord, AuditRecord, BookKey, BookRecord, ClosureRecord, EnterpriseRecord, EventRecord, PolicyRecord, Resolution, SessionRecord, Store, StoreError, StoredList, TokenRecord, WebhookRecord,
};
use rusqlite::{params, Connection, OptionalExtension};
use rust_decimal::Decimal;
use std::path::Path;
use std::str::FromStr;

/// Embedded migrations, applied in order; never edited once shipped.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "ledger", include_str!("../migrations/0001_ledger.sql")),
    (2, "checkpoints", include_str!("../migrations/0002_checkpoints.sql")),
    (3, "cycles", include_str!("../migrations/0003_cycles.sql")),
    (4, "policy_records", include_str!("../migrations/0004_policy_records.sql")),
    (5, "identity_audit_events", include_str!("../migrations/0005_identity_audit_events.sql")),
    (6, "large_rows_out_of_keys", include_str!("../migrations/0006_large_rows_out_of_keys.sql")),
];

/// How hard a commit holds on to its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: survives process crash and power loss.
    #[default]
    Full,
    /// `synchronous=NORMAL`: survives process crash; the last commits may be lost on power loss.
    Normal,
}

impl FromStr for Durability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "full" => Ok(Durability::Full),
            "normal" => Ok(Durability::Normal),
            other => Err(format!("durability must be full or normal, not {other}")),
        }
    }
}

/// The SQLite store.
pub struct SqliteStore {
    conn: Connection,
}

fn db(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Conflict(e.to_string()),
        _ => StoreError::Database(e.to_string()),
    }
}

fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(db)?;
        Self::setup(conn, durability)
    }

    /// An in-memory database (tests, benchmarks of the domain alone).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory().map_err(db)?, Durability::Full)
    }

    fn setup(conn: Connection, durability: Durability) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
        let sync = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync).map_err(db)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
        // Read through a memory map (large checkpoints and replays read many pages); writes still
        // go through the WAL as before.
        conn.pragma_update(None, "mmap_size", 1i64 << 30).map_err(db)?;
        let mut store = SqliteStore { conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)").map_err(db)?;
        let current: i64 = self.conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0)).map_err(db)?;
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if current > known {
            return Err(StoreError::SchemaTooNew { found: current, known });
        }
        for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            let tx = self.conn.transaction().map_err(db)?;
            tx.execute_batch(sql).map_err(db)?;
            tx.execute("INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)", params![version, name]).map_err(db)?;
            tx.commit().map_err(db)?;
        }
        Ok(())
    }

    /// The schema version in force.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0)).map_err(db)
    }

    /// Direct access for tests that check append-only guarantees.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

fn dec_text(d: Decimal) -> String {
    jiamao_domain::decimal::plain(d)
}

fn dec_parse(s: &str) -> Result<Decimal, StoreError> {
    Decimal::from_str(s).map_err(|_| corrupt(format!("stored decimal {s:?} is not a number")))
}

fn goods_text(g: Goods) -> &'static str {
    match g {
        Goods::Material => "material",
        Goods::Product => "product",
        Goods::Defective => "defective",
    }
}

impl Store for SqliteStore {
    fn begin_write(&mut self, _books: &[BookKey]) -> Result<(), StoreError> {
        // SQLite has one writer for the whole database: BEGIN IMMEDIATE takes it (waiting up to the
        // busy timeout), which covers every book.
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(db)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT").map_err(db)
    }

    fn rollback(&mut self) -> Result<(), StoreError> {
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.conn.execute_batch("ROLLBACK").map_err(db)
    }

    fn book_owner(&mut self, book_no: &str) -> Result<Option<String>, StoreError> {
        self.conn.prepare_cached("SELECT enterprise FROM book_directory WHERE book_no = ?1").map_err(db)?.query_row(params![book_no], |r| r.get(0)).optional().map_err(db)
    }

    fn book(&mut self, key: &BookKey) -> Result<Option<BookRecord>, StoreError> {
        self.conn
            .prepare_cached("SELECT revision, doc FROM book_revisions WHERE enterprise = ?1 AND book_no = ?2 ORDER BY revision DESC LIMIT 1")
            .map_err(db)?
            .query_row(params![key.enterprise, key.book_no], |r| Ok(BookRecord { key: key.clone(), revision: r.get(0)?, doc_json: r.get(1)? }))
            .optional()
            .map_err(db)
    }

    fn book_revision(&mut self, key: &BookKey) -> Result<Option<u32>, StoreError> {
        self.conn
            // The index without the documents (a seek in the table itself reads a whole document).
            .prepare_cached("SELECT MAX(revision) FROM book_revisions INDEXED BY book_revisions_revision WHERE enterprise = ?1 AND book_no = ?2")
            .map_err(db)?
            .query_row(params![key.enterprise, key.book_no], |r| r.get(0))
            .map_err(db)
    }

    fn books(&mut self) -> Result<Vec<BookRecord>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT b.enterprise, b.book_no, b.revision, b.doc FROM book_revisions b \
                 WHERE b.revision = (SELECT MAX(revision) FROM book_revisions c WHERE c.enterprise = b.enterprise AND c.book_no = b.book_no) ORDER BY b.book_no",
            )
            .map_err(db)?;
        let rows = st.query_map([], |r| Ok(BookRecord { key: BookKey { enterprise: r.get(0)?, book_no: r.get(1)? }, revision: r.get(2)?, doc_json: r.get(3)? })).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn file_book(&mut self, record: &BookRecord, resolutions: &[Resolution]) -> Result<(), StoreError> {
        let key = &record.key;
        let latest: Option<u32> =
            self.conn.query_row("SELECT MAX(revision) FROM book_revisions WHERE enterprise = ?1 AND book_no = ?2", params![key.enterprise, key.book_no], |r| r.get(0)).map_err(db)?;
        if latest.unwrap_or(0) + 1 != record.revision {
            return Err(StoreError::Conflict(format!("book {} changed concurrently (revision {} expected, {} stored)", key.book_no, record.revision, latest.unwrap_or(0))));
        }
        if record.revision == 1 {
            if let Some(owner) = self.book_owner(&key.book_no)? {
                return Err(StoreError::BookOwner(format!("book number {} already belongs to enterprise {owner}", key.book_no)));
            }
            self.conn.prepare_cached("INSERT INTO book_directory (book_no, enterprise) VALUES (?1, ?2)").map_err(db)?.execute(params![key.book_no, key.enterprise]).map_err(db)?;
        }
        self.conn
            .prepare_cached("INSERT INTO book_revisions (enterprise, book_no, revision, doc) VALUES (?1, ?2, ?3, ?4)")
            .map_err(db)?
            .execute(params![key.enterprise, key.book_no, record.revision, record.doc_json])
            .map_err(db)?;
        for r in resolutions {
            let n = self
                .conn
                .prepare_cached("INSERT INTO line_resolutions (list_id, line, version, book_revision) SELECT id, ?3, ?4, ?5 FROM lists WHERE enterprise = ?1 AND list_no = ?2")
                .map_err(db)?
                .execute(params![key.enterprise, r.list_no, r.line, r.version, record.revision])
                .map_err(db)?;
            if n != 1 {
                return Err(corrupt(format!("pending line {} of list {} not found", r.line, r.list_no)));
            }
        }
        Ok(())
    }

    fn posted_canonical(&mut self, enterprise: &str, list_no: &str) -> Result<Option<String>, StoreError> {
        self.conn.prepare_cached("SELECT canonical FROM lists WHERE enterprise = ?1 AND list_no = ?2").map_err(db)?.query_row(params![enterprise, list_no], |r| r.get(0)).optional().map_err(db)
    }

    fn append_lists(&mut self, enterprise: &str, postings: &[Posting]) -> Result<Vec<i64>, StoreError> {
        let mut ids = Vec::with_capacity(postings.len());
        let mut head = self
            .conn
            .prepare_cached(
                "INSERT INTO lists (list_no, book_no, declared_on, direction, goods, trade_mode, counterparty_book_no, declaration_no, line_count, canonical, enterprise) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(db)?;
        let mut line = self
            .conn
            .prepare_cached(
                "INSERT INTO list_lines (list_id, pos, line, item_seq, qty, amount, consumption_version, version, origin_country, legal_qty, second_legal_qty) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(db)?;
        for p in postings {
            let l = &p.list;
            let dir = match l.direction {
                Direction::I => "I",
                Direction::E => "E",
            };
            head.execute(params![
                l.list_no,
                l.book_no,
                l.declared_on.to_string(),
                dir,
                goods_text(l.goods),
                l.trade_mode.as_str(),
                l.counterparty_book_no,
                l.declaration_no,
                l.lines.len() as i64,
                p.canonical,
                enterprise
            ])
            .map_err(db)?;
            let id = self.conn.last_insert_rowid();
            for (pos, (ln, v)) in l.lines.iter().zip(&p.versions).enumerate() {
                line.execute(params![
                    id,
                    pos as i64,
                    ln.line,
                    ln.item_seq,
                    dec_text(ln.qty),
                    ln.amount.map(dec_text),
                    ln.consumption_version,
                    v,
                    ln.origin_country.as_ref().map(|c| c.as_str().to_owned()),
                    ln.legal_qty.map(dec_text),
                    ln.second_legal_qty.map(dec_text)
                ])
                .map_err(db)?;
            }
            ids.push(id);
        }
        Ok(ids)
    }

    fn for_each_list(&mut self, key: &BookKey, after_id: i64, to: Option<NaiveDate>, f: &mut dyn FnMut(StoredList) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let to_text = to.map(|d| d.to_string()).unwrap_or_else(|| "9999-12-31".to_owned());
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT l.id, l.list_no, l.declared_on, l.direction, l.goods, l.trade_mode, l.counterparty_book_no, l.declaration_no, l.line_count, \
                        d.line, d.item_seq, d.qty, d.amount, d.consumption_version, COALESCE(d.version, r.version), d.origin_country, d.legal_qty, d.second_legal_qty \
                 FROM lists l JOIN list_lines d ON d.list_id = l.id \
                 LEFT JOIN line_resolutions r ON r.list_id = l.id AND r.line = d.line \
                 WHERE l.enterprise = ?4 AND l.book_no = ?1 AND l.id > ?2 AND l.declared_on <= ?3 ORDER BY l.id, d.pos",
            )
            .map_err(db)?;
        let book_no = key.book_no.as_str();
        let mut rows = st.query(params![book_no, after_id, to_text, key.enterprise]).map_err(db)?;
        let mut cur: Option<(StoredList, usize)> = None;
        while let Some(r) = rows.next().map_err(db)? {
            let id: i64 = r.get(0).map_err(db)?;
            if cur.as_ref().is_none_or(|(c, _)| c.id != id) {
                if let Some((done, n)) = cur.take() {
                    finish(done, n, f)?;
                }
                let list_no: String = r.get(1).map_err(db)?;
                let declared: String = r.get(2).map_err(db)?;
                let dir: String = r.get(3).map_err(db)?;
                let goods: String = r.get(4).map_err(db)?;
                let mode: String = r.get(5).map_err(db)?;
                let n: i64 = r.get(8).map_err(db)?;
                let list = ListDoc {
                    list_no: list_no.clone(),
                    book_no: book_no.to_owned(),
                    declared_on: NaiveDate::from_str(&declared).map_err(|_| corrupt(format!("list {list_no}: bad date {declared}")))?,
                    direction: match dir.as_str() {
                        "I" => Direction::I,
                        "E" => Direction::E,
                        _ => return Err(corrupt(format!("list {list_no}: bad direction {dir}"))),
                    },
                    goods: match goods.as_str() {
                        "material" => Goods::Material,
                        "product" => Goods::Product,
                        "defective" => Goods::Defective,
                        _ => return Err(corrupt(format!("list {list_no}: bad goods {goods}"))),
                    },
                    trade_mode: TradeModeCode::parse(&mode).map_err(|e| corrupt(format!("list {list_no}: {e}")))?,
                    counterparty_book_no: r.get(6).map_err(db)?,
                    declaration_no: r.get(7).map_err(db)?,
                    lines: Vec::with_capacity(n as usize),
                };
                cur = Some((StoredList { id, list, versions: Vec::with_capacity(n as usize) }, n as usize));
            }
            if let Some((c, _)) = cur.as_mut() {
                let qty: String = r.get(11).map_err(db)?;
                let amount: Option<String> = r.get(12).map_err(db)?;
                let origin: Option<String> = r.get(15).map_err(db)?;
                let legal: Option<String> = r.get(16).map_err(db)?;
                let legal2: Option<String> = r.get(17).map_err(db)?;
                c.list.lines.push(ListLineDoc {
                    line: r.get(9).map_err(db)?,
                    item_seq: r.get(10).map_err(db)?,
                    qty: dec_parse(&qty)?,
                    amount: amount.as_deref().map(dec_parse).transpose()?,
                    consumption_version: r.get(13).map_err(db)?,
                    origin_country: origin.as_deref().map(CountryCode::parse).transpose().map_err(|e| corrupt(e.to_string()))?,
                    legal_qty: legal.as_deref().map(dec_parse).transpose()?,
                    second_legal_qty: legal2.as_deref().map(dec_parse).transpose()?,
                });
                c.versions.push(r.get(14).map_err(db)?);
            }
        }
        if let Some((done, n)) = cur.take() {
            finish(done, n, f)?;
        }
        Ok(())
    }

    fn save_checkpoint(&mut self, key: &BookKey, revision: u32, last_id: i64, state_json: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO ledger_checkpoints (enterprise, book_no, revision, last_id, state) VALUES (?1, ?2, ?3, ?4, ?5)")
            .map_err(db)?
            .execute(params![key.enterprise, key.book_no, revision, last_id, state_json])
            .map_err(db)?;
        // Keep the newest two checkpoints of the book; older ones are derived data no one reads.
        self.conn
            .prepare_cached(
                "DELETE FROM ledger_checkpoints WHERE enterprise = ?1 AND book_no = ?2 AND (revision, last_id) NOT IN \
                 (SELECT revision, last_id FROM ledger_checkpoints WHERE enterprise = ?1 AND book_no = ?2 ORDER BY revision DESC, last_id DESC LIMIT 2)",
            )
            .map_err(db)?
            .execute(params![key.enterprise, key.book_no])
            .map_err(db)?;
        Ok(())
    }

    fn latest_checkpoint(&mut self, key: &BookKey, revision: u32) -> Result<Option<(i64, String)>, StoreError> {
        self.conn
            .prepare_cached("SELECT last_id, state FROM ledger_checkpoints WHERE enterprise = ?1 AND book_no = ?2 AND revision = ?3 ORDER BY last_id DESC LIMIT 1")
            .map_err(db)?
            .query_row(params![key.enterprise, key.book_no, revision], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db)
    }

    fn with_latest_checkpoint(&mut self, key: &BookKey, revision: u32, f: &mut dyn FnMut(i64, &str)) -> Result<bool, StoreError> {
        let mut st = self.conn.prepare_cached("SELECT last_id, state FROM ledger_checkpoints WHERE enterprise = ?1 AND book_no = ?2 AND revision = ?3 ORDER BY last_id DESC LIMIT 1").map_err(db)?;
        let mut rows = st.query(params![key.enterprise, key.book_no, revision]).map_err(db)?;
        let Some(r) = rows.next().map_err(db)? else { return Ok(false) };
        let last_id: i64 = r.get(0).map_err(db)?;
        // The state as SQLite holds it, without a copy.
        let state = r.get_ref(1).map_err(db)?.as_str().map_err(|e| corrupt(format!("checkpoint of book {}: {e}", key.book_no)))?;
        f(last_id, state);
        Ok(true)
    }

    fn file_closure(&mut self, key: &BookKey, record: &ClosureRecord) -> Result<(), StoreError> {
        let latest: Option<u32> =
            self.conn.query_row("SELECT MAX(cycle_no) FROM cycle_closures WHERE enterprise = ?1 AND book_no = ?2", params![key.enterprise, key.book_no], |r| r.get(0)).map_err(db)?;
        if latest.unwrap_or(0) + 1 != record.cycle_no {
            return Err(StoreError::Conflict(format!("cycle {} of book {} closed concurrently", record.cycle_no, key.book_no)));
        }
        self.conn
            .prepare_cached("INSERT INTO cycle_closures (enterprise, book_no, cycle_no, closed_to, record) VALUES (?1, ?2, ?3, ?4, ?5)")
            .map_err(db)?
            .execute(params![key.enterprise, key.book_no, record.cycle_no, record.closed_to.to_string(), record.record_json])
            .map_err(db)?;
        Ok(())
    }

    fn last_closed_to(&mut self, key: &BookKey) -> Result<Option<NaiveDate>, StoreError> {
        let text: Option<String> = self
            .conn
            // The index without the records (a seek in the table itself reads whole frozen reports).
            .prepare_cached("SELECT closed_to FROM cycle_closures INDEXED BY cycle_closures_closed_to WHERE enterprise = ?1 AND book_no = ?2 ORDER BY cycle_no DESC LIMIT 1")
            .map_err(db)?
            .query_row(params![key.enterprise, key.book_no], |r| r.get(0))
            .optional()
            .map_err(db)?;
        text.map(|t| NaiveDate::from_str(&t).map_err(|_| corrupt(format!("book {}: bad closure date {t}", key.book_no)))).transpose()
    }

    fn closures(&mut self, key: &BookKey) -> Result<Vec<ClosureRecord>, StoreError> {
        let mut st = self.conn.prepare_cached("SELECT cycle_no, closed_to, record FROM cycle_closures WHERE enterprise = ?1 AND book_no = ?2 ORDER BY cycle_no").map_err(db)?;
        let rows = st.query_map(params![key.enterprise, key.book_no], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))).map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (cycle_no, to, record_json) = row.map_err(db)?;
            let closed_to = NaiveDate::from_str(&to).map_err(|_| corrupt(format!("closure {cycle_no} of book {}: bad date {to}", key.book_no)))?;
            out.push(ClosureRecord { cycle_no, closed_to, record_json });
        }
        Ok(out)
    }

    fn counts(&mut self) -> Result<(u64, u64), StoreError> {
        let lists: i64 = self.conn.query_row("SELECT COUNT(*) FROM lists", [], |r| r.get(0)).map_err(db)?;
        let lines: i64 = self.conn.query_row("SELECT COUNT(*) FROM list_lines", [], |r| r.get(0)).map_err(db)?;
        Ok((lists as u64, lines as u64))
    }

    fn append_policy(&mut self, record: &PolicyRecord) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached("INSERT INTO policy_documents (kind, name, valid_from, body) VALUES (?1, ?2, ?3, ?4)")
            .map_err(db)?
            .execute(params![record.kind, record.name, record.valid_from.to_string(), record.body])
            .map_err(db)?;
        Ok(self.conn.last_insert_rowid())
    }

    fn policy(&mut self, kind: &str, name: &str) -> Result<Option<PolicyRecord>, StoreError> {
        let row = self
            .conn
            .prepare_cached("SELECT id, kind, name, valid_from, body FROM policy_documents WHERE kind = ?1 AND name = ?2")
            .map_err(db)?
            .query_row(params![kind, name], policy_row)
            .optional()
            .map_err(db)?;
        row.map(policy_record).transpose()
    }

    fn policies(&mut self, kind: &str) -> Result<Vec<PolicyRecord>, StoreError> {
        let mut st = self.conn.prepare_cached("SELECT id, kind, name, valid_from, body FROM policy_documents WHERE kind = ?1 ORDER BY id").map_err(db)?;
        let rows = st.query_map(params![kind], policy_row).map_err(db)?;
        rows.map(|r| r.map_err(db).and_then(policy_record)).collect()
    }

    fn append_record(&mut self, record: &EnterpriseRecord) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached("INSERT INTO enterprise_records (enterprise, book_no, kind, key, recorded_on, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .map_err(db)?
            .execute(params![record.enterprise, record.book_no, record.kind, record.key, record.recorded_on.to_string(), record.body])
            .map_err(db)?;
        Ok(self.conn.last_insert_rowid())
    }

    fn record(&mut self, enterprise: &str, kind: &str, key: &str) -> Result<Option<EnterpriseRecord>, StoreError> {
        let row = self
            .conn
            .prepare_cached("SELECT id, enterprise, book_no, kind, key, recorded_on, body FROM enterprise_records WHERE enterprise = ?1 AND kind = ?2 AND key = ?3")
            .map_err(db)?
            .query_row(params![enterprise, kind, key], record_row)
            .optional()
            .map_err(db)?;
        row.map(enterprise_record).transpose()
    }

    fn records(&mut self, book: &BookKey, kind: &str) -> Result<Vec<EnterpriseRecord>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id, enterprise, book_no, kind, key, recorded_on, body FROM enterprise_records WHERE enterprise = ?1 AND book_no = ?2 AND kind = ?3 ORDER BY id")
            .map_err(db)?;
        let rows = st.query_map(params![book.enterprise, book.book_no, kind], record_row).map_err(db)?;
        rows.map(|r| r.map_err(db).and_then(enterprise_record)).collect()
    }

    fn upsert_account(&mut self, a: &AccountRecord) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO accounts (login, role, enterprise, customs, province, password_hash, disabled, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (login) DO UPDATE SET role = excluded.role, enterprise = excluded.enterprise, customs = excluded.customs, province = excluded.province, \
                 password_hash = excluded.password_hash, disabled = excluded.disabled, updated_at = excluded.updated_at",
            )
            .map_err(db)?
            .execute(params![a.login, a.role, a.enterprise, a.customs, a.province, a.password_hash, a.disabled, a.created_at, a.updated_at])
            .map_err(db)?;
        Ok(())
    }

    fn account(&mut self, login: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.conn.prepare_cached(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE login = ?1")).map_err(db)?.query_row(params![login], account_row).optional().map_err(db)
    }

    fn accounts(&mut self) -> Result<Vec<AccountRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY login")).map_err(db)?;
        let rows = st.query_map([], account_row).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn insert_token(&mut self, t: &TokenRecord) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT INTO api_tokens (token_id, login, secret_hash, read_only, created_at, expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .map_err(db)?
            .execute(params![t.token_id, t.login, t.secret_hash, t.read_only, t.created_at, t.expires_at, t.revoked_at])
            .map_err(db)?;
        Ok(())
    }

    fn token(&mut self, token_id: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.conn.prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_id = ?1")).map_err(db)?.query_row(params![token_id], token_row).optional().map_err(db)
    }

    fn revoke_token(&mut self, token_id: &str, at: &str) -> Result<bool, StoreError> {
        let n = self.conn.prepare_cached("UPDATE api_tokens SET revoked_at = ?2 WHERE token_id = ?1 AND revoked_at IS NULL").map_err(db)?.execute(params![token_id, at]).map_err(db)?;
        Ok(n == 1)
    }

    fn tokens(&mut self, login: &str) -> Result<Vec<TokenRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE login = ?1 ORDER BY token_id")).map_err(db)?;
        let rows = st.query_map(params![login], token_row).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn insert_session(&mut self, x: &SessionRecord) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT INTO sessions (session_id, login, csrf_hash, created_at, expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .map_err(db)?
            .execute(params![x.session_id, x.login, x.csrf_hash, x.created_at, x.expires_at, x.revoked_at])
            .map_err(db)?;
        Ok(())
    }

    fn session(&mut self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.conn
            .prepare_cached("SELECT session_id, login, csrf_hash, created_at, expires_at, revoked_at FROM sessions WHERE session_id = ?1")
            .map_err(db)?
            .query_row(params![session_id], |r| {
                Ok(SessionRecord { session_id: r.get(0)?, login: r.get(1)?, csrf_hash: r.get(2)?, created_at: r.get(3)?, expires_at: r.get(4)?, revoked_at: r.get(5)? })
            })
            .optional()
            .map_err(db)
    }

    fn revoke_session(&mut self, session_id: &str, at: &str) -> Result<bool, StoreError> {
        let n = self.conn.prepare_cached("UPDATE sessions SET revoked_at = ?2 WHERE session_id = ?1 AND revoked_at IS NULL").map_err(db)?.execute(params![session_id, at]).map_err(db)?;
        Ok(n == 1)
    }

    fn audit_head(&mut self, chain: &str) -> Result<Option<(i64, String)>, StoreError> {
        self.conn
            .prepare_cached("SELECT seq, hash FROM audit_log WHERE chain = ?1 ORDER BY seq DESC LIMIT 1")
            .map_err(db)?
            .query_row(params![chain], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db)
    }

    fn append_audit(&mut self, a: &AuditRecord) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(&format!("INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"))
            .map_err(db)?
            .execute(params![a.chain, a.seq, a.at, a.actor, a.role, a.action, a.target, a.request_id, a.source, a.outcome, a.detail, a.prev_hash, a.hash])
            .map_err(db)?;
        Ok(())
    }

    fn audit_chains(&mut self) -> Result<Vec<String>, StoreError> {
        let mut st = self.conn.prepare_cached("SELECT DISTINCT chain FROM audit_log ORDER BY chain").map_err(db)?;
        let rows = st.query_map([], |r| r.get(0)).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn for_each_audit(&mut self, chain: &str, f: &mut dyn FnMut(AuditRecord) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let mut st = self.conn.prepare_cached(&format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE chain = ?1 ORDER BY seq")).map_err(db)?;
        let mut rows = st.query(params![chain]).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            f(audit_row(r).map_err(db)?)?;
        }
        Ok(())
    }

    fn append_event(&mut self, e: &EventRecord) -> Result<i64, StoreError> {
        self.conn.prepare_cached("INSERT INTO events (enterprise, kind, at, body) VALUES (?1, ?2, ?3, ?4)").map_err(db)?.execute(params![e.enterprise, e.kind, e.at, e.body]).map_err(db)?;
        Ok(self.conn.last_insert_rowid())
    }

    fn events_after(&mut self, after_id: i64, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut st = self.conn.prepare_cached("SELECT id, enterprise, kind, at, body FROM events WHERE id > ?1 ORDER BY id LIMIT ?2").map_err(db)?;
        let rows = st.query_map(params![after_id, limit], |r| Ok(EventRecord { id: r.get(0)?, enterprise: r.get(1)?, kind: r.get(2)?, at: r.get(3)?, body: r.get(4)? })).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn upsert_webhook(&mut self, w: &WebhookRecord) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO webhooks (id, login, url, kinds, created_at, disabled) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (id) DO UPDATE SET login = excluded.login, url = excluded.url, kinds = excluded.kinds, disabled = excluded.disabled",
            )
            .map_err(db)?
            .execute(params![w.id, w.login, w.url, w.kinds, w.created_at, w.disabled])
            .map_err(db)?;
        Ok(())
    }

    fn webhooks(&mut self) -> Result<Vec<WebhookRecord>, StoreError> {
        let mut st = self.conn.prepare_cached("SELECT id, login, url, kinds, created_at, disabled FROM webhooks ORDER BY id").map_err(db)?;
        let rows = st.query_map([], |r| Ok(WebhookRecord { id: r.get(0)?, login: r.get(1)?, url: r.get(2)?, kinds: r.get(3)?, created_at: r.get(4)?, disabled: r.get(5)? })).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn webhook_cursor(&mut self, webhook_id: &str) -> Result<i64, StoreError> {
        let cursor: Option<i64> =
            self.conn.prepare_cached("SELECT event_id FROM webhook_cursors WHERE webhook_id = ?1").map_err(db)?.query_row(params![webhook_id], |r| r.get(0)).optional().map_err(db)?;
        Ok(cursor.unwrap_or(0))
    }

    fn set_webhook_cursor(&mut self, webhook_id: &str, event_id: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT INTO webhook_cursors (webhook_id, event_id) VALUES (?1, ?2) ON CONFLICT (webhook_id) DO UPDATE SET event_id = excluded.event_id")
            .map_err(db)?
            .execute(params![webhook_id, event_id])
            .map_err(db)?;
        Ok(())
    }
}

const ACCOUNT_COLUMNS: &str = "login, role, enterprise, customs, province, password_hash, disabled, created_at, updated_at";

fn account_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccountRecord> {
    Ok(AccountRecord {
        login: r.get(0)?,
        role: r.get(1)?,
        enterprise: r.get(2)?,
        customs: r.get(3)?,
        province: r.get(4)?,
        password_hash: r.get(5)?,
        disabled: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

const TOKEN_COLUMNS: &str = "token_id, login, secret_hash, read_only, created_at, expires_at, revoked_at";

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRecord> {
    Ok(TokenRecord { token_id: r.get(0)?, login: r.get(1)?, secret_hash: r.get(2)?, read_only: r.get(3)?, created_at: r.get(4)?, expires_at: r.get(5)?, revoked_at: r.get(6)? })
}

const AUDIT_COLUMNS: &str = "chain, seq, at, actor, role, action, target, request_id, source, outcome, detail, prev_hash, hash";

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        chain: r.get(0)?,
        seq: r.get(1)?,
        at: r.get(2)?,
        actor: r.get(3)?,
        role: r.get(4)?,
        action: r.get(5)?,
        target: r.get(6)?,
        request_id: r.get(7)?,
        source: r.get(8)?,
        outcome: r.get(9)?,
        detail: r.get(10)?,
        prev_hash: r.get(11)?,
        hash: r.get(12)?,
    })
}

/// A policy document as read, its date still text.
type PolicyRow = (i64, String, String, String, String);

fn policy_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PolicyRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn policy_record((id, kind, name, valid_from, body): PolicyRow) -> Result<PolicyRecord, StoreError> {
    let valid_from = NaiveDate::from_str(&valid_from).map_err(|_| corrupt(format!("policy document {kind}/{name}: bad date {valid_from}")))?;
    Ok(PolicyRecord { id, kind, name, valid_from, body })
}

/// An enterprise record as read, its date still text.
type RecordRow = (i64, String, String, String, String, String, String);

fn record_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecordRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

fn enterprise_record((id, enterprise, book_no, kind, key, recorded_on, body): RecordRow) -> Result<EnterpriseRecord, StoreError> {
    let recorded_on = NaiveDate::from_str(&recorded_on).map_err(|_| corrupt(format!("record {kind}/{key} of enterprise {enterprise}: bad date {recorded_on}")))?;
    Ok(EnterpriseRecord { id, enterprise, book_no, kind, key, recorded_on, body })
}

fn finish(done: StoredList, expected_lines: usize, f: &mut dyn FnMut(StoredList) -> Result<(), StoreError>) -> Result<(), StoreError> {
    if done.list.lines.len() != expected_lines {
        return Err(corrupt(format!("list {} has {} stored lines, {} expected", done.list.list_no, done.list.lines.len(), expected_lines)));
    }
    f(done)
}
