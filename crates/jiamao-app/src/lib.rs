//! Application services of Jiamao: the ledger engine over a store.
//!
//! The engine keeps each book's ledger in memory as state derived from the durable lines (loaded
//! by replaying them the first time a book is used) and posts lists in batches: one write
//! transaction per batch (group commit), each list judged and applied on its own, so each stays
//! atomic and independent. Nothing is acknowledged before the transaction has committed.

use chrono::NaiveDate;
use jiamao_domain::access::{self, Action, Principal, Role, Target};
use jiamao_domain::aggregate::{Aggregator, LineColumns};
use jiamao_domain::book::{Book, BookError};
use jiamao_domain::cycle::{self, AdjustmentsDoc, Closure, CycleStatus, DeadlinePolicy};
use jiamao_domain::doc::{self, BookDoc, DocError, ListDoc, StocktakeDoc};
use jiamao_domain::explain::{Explainer, Explanation};
use jiamao_domain::ledger::{self, judge_repost, unknown_book, BookLedger, LedgerSnapshot, Outcome, Posting, Rejection};
use jiamao_domain::ledger::{MaterialTotals, ProductTotals};
use jiamao_domain::policy::Policy;
use jiamao_domain::report::{self, BalanceReport, ReconcileReport, ReportTotals};
use jiamao_domain::report_full;
use jiamao_store::{BookKey, BookRecord, ClosureRecord, Resolution, Store, StoreError};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

pub mod catalog;
pub mod crosscheck;
pub mod guarantee;
pub mod platform;
pub mod tax;
pub mod ucns;
pub mod webhooks;

/// A failure of an application operation.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input document could not be read.
    #[error("{0}")]
    Document(#[from] DocError),
    /// A book (or stocktake) document broke a rule.
    #[error("{source_name}: {error}")]
    Book { source_name: String, error: BookError },
    #[error("book {0} is not known; import it first (jiamao book import)")]
    UnknownBook(String),
    /// An input that is not acceptable (an account, a token request), with what is wrong.
    #[error("{0}")]
    Input(String),
    /// The acting principal may not do this (logged). Books and their data answer `UnknownBook`
    /// instead, so that nothing says whether they exist.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// A tax quote, rate or payment could not be given or recorded: what is missing, where, the rule.
    #[error("{0}")]
    Tax(jiamao_domain::tax::TaxError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    /// Whether the fault lies in the input (exit status 2) rather than in the system (1).
    pub fn is_rejection(&self) -> bool {
        !matches!(self, AppError::Store(_))
    }
}

/// What [`Engine::posted_columns`] reads: the book, its last closed cycle, the posted lines as
/// columns (`None` when a figure has more places than the integer kernel keeps), and the number
/// of lists and lines read.
pub type PostedColumns = (Book, Option<Closure>, Option<LineColumns>, u64, u64);

/// The error object of a rejected list in `list post --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListError {
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
}

/// What became of one list: `{list_no, status, error?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListOutcome {
    pub list_no: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ListError>,
}

impl ListOutcome {
    fn rejected(list_no: String, r: &Rejection) -> Self {
        ListOutcome { list_no, status: "rejected", error: Some(ListError { rule: r.rule.to_owned(), line: r.line, message: r.message.clone() }) }
    }
}

/// The result of importing a book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookImported {
    pub book_no: String,
    pub revision: u32,
    /// `filed` for a new book, `changed` for a change (变更), `unchanged` when identical to the latest.
    pub status: &'static str,
    /// Pending product lines that the change gave a 单耗 version.
    pub resolved_lines: usize,
}

struct Loaded {
    key: BookKey,
    /// The last closed cycle the state starts from, and how many cycles are closed.
    closure: Option<Closure>,
    closures: usize,
    ledger: BookLedger,
    revision: u32,
    last_id: i64,
    /// Lines applied since the last checkpoint was saved or restored.
    unsaved_lines: u64,
}

/// Default: a checkpoint of a book's derived state after this many newly posted lines.
pub const DEFAULT_CHECKPOINT_LINES: u64 = 100_000;

/// How many times a write that lost a race to another writer is decided again.
const CONFLICT_RETRIES: usize = 8;

/// The ledger engine.
pub struct Engine<S: Store> {
    store: S,
    policy: Policy,
    books: HashMap<String, Loaded>,
    /// Book number → owning enterprise; the directory never changes once written.
    owners: HashMap<String, String>,
    checkpoint_lines: u64,
    /// The tariff and rates, rebuilt when the stored documents change.
    tax: Option<tax::TaxTables>,
    /// Who acts (set per request).
    ctx: platform::Ctx,
    /// The decoded catalog in force, with the ids of the documents it was built from.
    catalog_cache: Option<(Vec<i64>, std::sync::Arc<catalog::CatalogState>)>,
    /// Events of the write under way, appended just before its commit.
    pending_events: Vec<jiamao_store::EventRecord>,
    /// Recent failed logins by login (login throttling).
    login_failures: HashMap<String, Vec<chrono::DateTime<chrono::Utc>>>,
}

fn book_from_record(rec: &BookRecord, policy: &Policy) -> Result<Book, StoreError> {
    let doc: BookDoc = serde_json::from_str(&rec.doc_json).map_err(|e| StoreError::Corrupt(format!("book {} revision {}: {e}", rec.key.book_no, rec.revision)))?;
    Book::from_doc(doc, policy).map_err(|e| StoreError::Corrupt(format!("book {} revision {}: {e}", rec.key.book_no, rec.revision)))
}

fn closure_from_record(key: &BookKey, rec: &ClosureRecord) -> Result<Closure, StoreError> {
    serde_json::from_str(&rec.record_json).map_err(|e| StoreError::Corrupt(format!("closure {} of book {}: {e}", rec.cycle_no, key.book_no)))
}

/// A ledger of `book` starting from `closure` (or from the book's openings).
fn start_ledger(book: Book, closure: Option<&Closure>) -> BookLedger {
    match closure {
        Some(c) => BookLedger::after_closure(book, c),
        None => BookLedger::new(book),
    }
}

fn corrupt_replay(list_no: &str, r: &Rejection) -> StoreError {
    StoreError::Corrupt(format!("posted list {list_no} no longer applies: {r}"))
}

impl<S: Store> Engine<S> {
    pub fn new(store: S) -> Self {
        Engine {
            store,
            policy: Policy::default(),
            books: HashMap::new(),
            owners: HashMap::new(),
            checkpoint_lines: DEFAULT_CHECKPOINT_LINES,
            tax: None,
            ctx: platform::Ctx::default(),
            catalog_cache: None,
            pending_events: Vec::new(),
            login_failures: HashMap::new(),
        }
    }

    /// The policy settings (RULES.md §0: what the regulations leave open).
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Saves a checkpoint of a book's derived state after every `lines` newly posted lines
    /// (0: never).
    pub fn with_checkpoint_lines(mut self, lines: u64) -> Self {
        self.checkpoint_lines = lines;
        self
    }

    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The key (owning enterprise and number) of a book, if it exists.
    pub fn book_key(&mut self, book_no: &str) -> Result<Option<BookKey>, StoreError> {
        if let Some(e) = self.owners.get(book_no) {
            return Ok(Some(BookKey { enterprise: e.clone(), book_no: book_no.to_owned() }));
        }
        let Some(owner) = self.store.book_owner(book_no)? else { return Ok(None) };
        self.owners.insert(book_no.to_owned(), owner.clone());
        Ok(Some(BookKey { enterprise: owner, book_no: book_no.to_owned() }))
    }

    fn known_key(&mut self, book_no: &str) -> Result<BookKey, AppError> {
        self.book_key(book_no)?.ok_or_else(|| AppError::UnknownBook(book_no.to_owned()))
    }

    /// The key of a book the acting principal may act on with `action`. A refusal is logged and
    /// answered exactly like an unknown book, so that nothing says whether the book exists.
    pub(crate) fn guard_book(&mut self, action: Action, book_no: &str) -> Result<BookKey, AppError> {
        let key = self.known_key(book_no)?;
        // Enterprise roles and the auditor are decided by the enterprise alone (no book to load).
        let by_enterprise = match &self.ctx.principal {
            Principal::Local => return Ok(key),
            Principal::Anonymous => true,
            Principal::User(id) => matches!(id.role, Role::EnterpriseOperator | Role::EnterpriseAdmin | Role::Bank | Role::Auditor | Role::Admin),
        };
        let (customs, region) = if by_enterprise {
            (None, None)
        } else {
            if !self.refresh(&key)? {
                return Err(AppError::UnknownBook(book_no.to_owned()));
            }
            match self.books.get(book_no) {
                Some(l) => (Some(l.ledger.book().master_customs.clone()), Some(l.ledger.book().doc.operator.region_code.as_str().to_owned())),
                None => return Err(AppError::UnknownBook(book_no.to_owned())),
            }
        };
        let target = Target { enterprise: Some(&key.enterprise), master_customs: customs.as_deref(), region: region.as_deref() };
        match access::decide(&self.ctx.principal, action, &target) {
            Ok(()) => Ok(key),
            Err(denied) => {
                self.log_refusal(action, &format!("book {book_no}"), &denied)?;
                Err(AppError::UnknownBook(book_no.to_owned()))
            }
        }
    }

    /// The audit chain and event details of a book: (enterprise, master customs, region).
    fn book_scope(&self, book_no: &str) -> (String, String, String) {
        match self.books.get(book_no) {
            Some(l) => (l.key.enterprise.clone(), l.ledger.book().master_customs.clone(), l.ledger.book().doc.operator.region_code.as_str().to_owned()),
            None => Default::default(),
        }
    }

    /// Brings the in-memory ledger of a book up to date with the store (another process may have
    /// posted or filed a change). Returns false when the book does not exist.
    fn refresh(&mut self, key: &BookKey) -> Result<bool, StoreError> {
        let Some(rec) = self.store.book(key)? else {
            self.books.remove(&key.book_no);
            return Ok(false);
        };
        let closures = self.store.closures(key)?;
        let stale = self.books.get(&key.book_no).is_none_or(|l| l.revision != rec.revision || l.closures != closures.len());
        if stale {
            let book = book_from_record(&rec, &self.policy)?;
            let closure = closures.last().map(|c| closure_from_record(key, c)).transpose()?;
            let checkpoint = self.store.latest_checkpoint(key, rec.revision)?;
            let restored = checkpoint.and_then(|(last_id, state)| {
                let snap = LedgerSnapshot::from_checkpoint(&state)?;
                BookLedger::restore(book.clone(), closure.as_ref(), snap).map(|l| (l, last_id))
            });
            let (ledger, last_id) = restored.unwrap_or_else(|| (start_ledger(book, closure.as_ref()), 0));
            self.books.insert(key.book_no.clone(), Loaded { key: key.clone(), closure, closures: closures.len(), ledger, revision: rec.revision, last_id, unsaved_lines: 0 });
        }
        let Some(loaded) = self.books.get_mut(&key.book_no) else { return Ok(false) };
        let mut last = loaded.last_id;
        let mut lines = 0u64;
        let closed_to = loaded.ledger.closed_to();
        let ledger = &mut loaded.ledger;
        self.store.for_each_list(key, last, None, &mut |s| {
            last = s.id;
            if closed_to.is_some_and(|c| s.list.declared_on <= c) {
                return Ok(()); // In the closed cycle: counted in the closure's openings.
            }
            ledger.replay(&s.list, &s.versions).map_err(|r| corrupt_replay(&s.list.list_no, &r))?;
            lines += s.list.lines.len() as u64;
            Ok(())
        })?;
        loaded.last_id = last;
        loaded.unsaved_lines += lines;
        Ok(true)
    }

    /// Replays a book from the last cycle closed before `to` (or from its openings), counting only
    /// lists declared on or before `to` when given.
    fn rebuild(&mut self, key: &BookKey, to: Option<NaiveDate>) -> Result<BookLedger, AppError> {
        let rec = self.store.book(key)?.ok_or_else(|| AppError::UnknownBook(key.book_no.clone()))?;
        let closures = self.store.closures(key)?;
        let base = closures.iter().rev().find(|c| to.is_none_or(|t| c.closed_to < t)).map(|c| closure_from_record(key, c)).transpose()?;
        let closed_to = base.as_ref().map(|c| c.to);
        let mut ledger = start_ledger(book_from_record(&rec, &self.policy)?, base.as_ref());
        self.store.for_each_list(key, 0, to, &mut |s| {
            if closed_to.is_some_and(|c| s.list.declared_on <= c) {
                return Ok(());
            }
            ledger.replay(&s.list, &s.versions).map_err(|r| corrupt_replay(&s.list.list_no, &r))
        })?;
        Ok(ledger)
    }

    /// The ledger counting lists declared on or before `to` (or all of them).
    fn ledger_to(&mut self, book_no: &str, to: Option<NaiveDate>) -> Result<BookLedger, AppError> {
        let key = self.known_key(book_no)?;
        if to.is_some() {
            return self.rebuild(&key, to);
        }
        if !self.refresh(&key)? {
            return Err(AppError::UnknownBook(book_no.to_owned()));
        }
        self.books.get(book_no).map(|l| l.ledger.clone()).ok_or_else(|| AppError::UnknownBook(book_no.to_owned()))
    }

    /// Runs `op` inside a write transaction on `keys`, committing when it says so; a conflict with
    /// another writer rolls back, forgets the books' state and decides again.
    fn write<T>(&mut self, keys: &[BookKey], mut op: impl FnMut(&mut Self) -> Result<(T, bool), AppError>) -> Result<T, AppError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.pending_events.clear();
            let result = self.store.begin_write(keys).map_err(AppError::from).and_then(|_| op(self)).and_then(|(value, commit)| {
                if commit {
                    for event in std::mem::take(&mut self.pending_events) {
                        self.store.append_event(&event)?;
                    }
                    self.store.commit()?;
                } else {
                    self.store.rollback()?;
                }
                Ok(value)
            });
            match result {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let _ = self.store.rollback();
                    for k in keys {
                        self.books.remove(&k.book_no);
                    }
                    let conflict = matches!(e, AppError::Store(StoreError::Conflict(_)));
                    if !conflict || attempt >= CONFLICT_RETRIES {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Files a book or a change (变更) to it, from the text of a book document.
    pub fn import_book(&mut self, text: &str, source: &str) -> Result<BookImported, AppError> {
        let doc = doc::parse_book(text, source)?;
        self.import_book_doc(doc, source)
    }

    pub fn import_book_doc(&mut self, doc: BookDoc, source: &str) -> Result<BookImported, AppError> {
        let book = Book::from_doc(doc.clone(), &self.policy).map_err(|error| AppError::Book { source_name: source.to_owned(), error })?;
        let key = BookKey { enterprise: book.operator_uscc.clone(), book_no: book.book_no.clone() };
        let (customs, region) = (book.master_customs.clone(), doc.operator.region_code.as_str().to_owned());
        let target = Target { enterprise: Some(&key.enterprise), master_customs: Some(&customs), region: Some(&region) };
        if let Err(denied) = access::decide(&self.ctx.principal, Action::FileBook, &target) {
            self.log_refusal(Action::FileBook, &format!("book {}", key.book_no), &denied)?;
            return Err(AppError::Forbidden(format!("book {} cannot be filed by this account", key.book_no)));
        }
        if let Some(owner) = self.book_key(&key.book_no)? {
            if owner.enterprise != key.enterprise {
                // Only the local operator learns which enterprise holds the number.
                let holder = if self.ctx.principal == Principal::Local { format!("enterprise {}", owner.enterprise) } else { "another enterprise".to_owned() };
                let error = BookError { at: "operator.uscc".into(), rule: "book_owner", message: format!("book {} belongs to {holder}; a book cannot change its operating enterprise", key.book_no) };
                return Err(AppError::Book { source_name: source.to_owned(), error });
            }
        }
        self.check_admission(&book, source)?; // RULES.md §13, §2.3: prohibited items, approvals
        self.check_credit_allows(&key.enterprise, &key.book_no, book.valid_from, source)?; // RULES.md §11.2, §12
        let doc_json = serde_json::to_string(&doc).map_err(|e| StoreError::Database(e.to_string()))?;
        let result = self.write(std::slice::from_ref(&key), |me| {
            let r = me.import_locked(&key, book.clone(), doc_json.clone(), source)?;
            let commit = r.status != "unchanged";
            if commit {
                let detail = serde_json::json!({"revision": r.revision, "status": r.status, "digest": jiamao_domain::audit::sha256_hex(doc_json.as_bytes())}).to_string();
                me.audit_link(&key.enterprise, "file_book", &format!("book {}", key.book_no), "ok", &detail)?;
                let kind = if r.status == "filed" { "book_filed" } else { "book_changed" };
                me.emit(&key.enterprise, kind, serde_json::json!({"book_no": key.book_no, "revision": r.revision, "master_customs": customs, "region": region}))?;
            }
            Ok((r, commit))
        });
        if let Err(AppError::Store(StoreError::BookOwner(m))) = &result {
            let message = if self.ctx.principal == Principal::Local { m.clone() } else { format!("book number {} already belongs to another enterprise", key.book_no) };
            let error = BookError { at: "book_no".into(), rule: "book_owner", message };
            return Err(AppError::Book { source_name: source.to_owned(), error });
        }
        result
    }

    fn import_locked(&mut self, key: &BookKey, book: Book, doc_json: String, source: &str) -> Result<BookImported, AppError> {
        let book_no = key.book_no.clone();
        if !self.refresh(key)? {
            self.store.file_book(&BookRecord { key: key.clone(), revision: 1, doc_json }, &[])?;
            self.owners.insert(book_no.clone(), key.enterprise.clone());
            self.books.insert(book_no.clone(), Loaded { key: key.clone(), closure: None, closures: 0, ledger: BookLedger::new(book), revision: 1, last_id: 0, unsaved_lines: 0 });
            return Ok(BookImported { book_no, revision: 1, status: "filed", resolved_lines: 0 });
        }
        let Some(loaded) = self.books.get(&book_no) else { return Err(AppError::UnknownBook(book_no)) };
        if loaded.ledger.book().doc == book.doc {
            return Ok(BookImported { book_no, revision: loaded.revision, status: "unchanged", resolved_lines: 0 });
        }
        let closed_to = loaded.ledger.closed_to();
        let mut history = Vec::new();
        let mut last_seen = 0;
        self.store.for_each_list(key, 0, None, &mut |s| {
            last_seen = s.id;
            if closed_to.is_none_or(|c| s.list.declared_on > c) {
                history.push(s);
            }
            Ok(())
        })?;
        let (closure, closures) = (loaded.closure.clone(), loaded.closures);
        let (next, resolved) =
            loaded.ledger.rebook(book, closure.as_ref(), history.iter().map(|s| (&s.list, s.versions.as_slice()))).map_err(|error| AppError::Book { source_name: source.to_owned(), error })?;
        let revision = loaded.revision + 1;
        let last_id = last_seen;
        let resolutions: Vec<Resolution> = resolved.into_iter().map(|(list_no, line, version)| Resolution { list_no, line, version }).collect();
        self.store.file_book(&BookRecord { key: key.clone(), revision, doc_json }, &resolutions)?;
        let n = resolutions.len();
        let unsaved_lines = next.lines_posted();
        self.books.insert(book_no.clone(), Loaded { key: key.clone(), closure, closures, ledger: next, revision, last_id, unsaved_lines });
        Ok(BookImported { book_no, revision, status: "changed", resolved_lines: n })
    }

    /// Posts the lists of one file (or request) in order, in one transaction (group commit).
    /// Malformed lists come in as `Err` and are rejected without stopping the others.
    pub fn post_lists(&mut self, lists: Vec<Result<ListDoc, DocError>>) -> Result<Vec<ListOutcome>, AppError> {
        let mut book_nos: Vec<&str> = lists.iter().filter_map(|l| l.as_ref().ok().map(|l| l.book_no.as_str())).collect();
        book_nos.sort_unstable();
        book_nos.dedup();
        let mut keys = Vec::with_capacity(book_nos.len());
        let mut allowed = std::collections::HashSet::new();
        for b in book_nos {
            match self.guard_book(Action::PostLists, b) {
                Ok(k) => {
                    allowed.insert(b.to_owned());
                    keys.push(k);
                }
                Err(AppError::UnknownBook(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let (outcomes, due) = self.write(&keys, |me| {
            let (outcomes, postings) = me.post_locked(&lists, &keys, &allowed)?;
            let commit = !postings.is_empty();
            for (enterprise, p) in &postings {
                let l = &p.list;
                let (_, customs, region) = me.book_scope(&l.book_no);
                let detail = serde_json::json!({"list_no": l.list_no, "book_no": l.book_no, "digest": jiamao_domain::audit::sha256_hex(p.canonical.as_bytes())}).to_string();
                me.audit_link(enterprise, "post_list", &format!("list {}", l.list_no), "ok", &detail)?;
                let body = serde_json::json!({
                    "book_no": l.book_no, "list_no": l.list_no, "declared_on": l.declared_on, "trade_mode": l.trade_mode.as_str(),
                    "direction": l.direction, "goods": l.goods, "lines": l.lines.len(), "master_customs": customs, "region": region,
                });
                me.emit(enterprise, "list_posted", body)?;
            }
            let due = me.append_postings(postings)?;
            Ok(((outcomes, due), commit))
        })?;
        for key in due {
            // A checkpoint is derived state: failing to save one loses nothing, so it is not an
            // error of the posting, which has already committed.
            let _ = self.save_checkpoint(&key);
        }
        Ok(outcomes)
    }

    /// Writes postings (inside the write) and advances the books' positions; returns the books
    /// whose checkpoint is due once the transaction has committed.
    fn append_postings(&mut self, mut postings: Vec<(String, Posting)>) -> Result<Vec<BookKey>, AppError> {
        // Grouped by enterprise (stable: each book keeps its posting order), without copying.
        postings.sort_by(|a, b| a.0.cmp(&b.0));
        let (enterprises, postings): (Vec<String>, Vec<Posting>) = postings.into_iter().unzip();
        let mut due = Vec::new();
        let mut start = 0;
        while start < postings.len() {
            let e = enterprises.get(start).map(String::as_str).unwrap_or_default();
            let end = enterprises.iter().skip(start).position(|x| x != e).map_or(postings.len(), |n| start + n);
            let mine = postings.get(start..end).unwrap_or_default();
            let ids = self.store.append_lists(e, mine)?;
            for (p, id) in mine.iter().zip(ids) {
                if let Some(l) = self.books.get_mut(&p.list.book_no) {
                    l.last_id = l.last_id.max(id);
                    l.unsaved_lines += p.list.lines.len() as u64;
                    if self.checkpoint_lines > 0 && l.unsaved_lines >= self.checkpoint_lines && !due.contains(&l.key) {
                        due.push(l.key.clone());
                    }
                }
            }
            start = end;
        }
        Ok(due)
    }

    /// Saves a checkpoint of a book's derived state in its own transaction.
    fn save_checkpoint(&mut self, key: &BookKey) -> Result<(), StoreError> {
        let Some(l) = self.books.get_mut(&key.book_no) else { return Ok(()) };
        let state = l.ledger.snapshot().to_checkpoint().map_err(|e| StoreError::Database(e.to_string()))?;
        let (revision, last_id) = (l.revision, l.last_id);
        l.unsaved_lines = 0;
        self.store.begin_write(std::slice::from_ref(key))?;
        let saved = self.store.save_checkpoint(key, revision, last_id, &state).and_then(|_| self.store.commit());
        if saved.is_err() {
            let _ = self.store.rollback();
        }
        saved
    }

    #[allow(clippy::type_complexity)]
    fn post_locked(&mut self, lists: &[Result<ListDoc, DocError>], keys: &[BookKey], allowed: &std::collections::HashSet<String>) -> Result<(Vec<ListOutcome>, Vec<(String, Posting)>), AppError> {
        for k in keys {
            self.refresh(k)?;
        }
        let catalog_now = self.catalog_in_force()?; // RULES.md §13: the catalog in force, read once per batch
        let mut outcomes = Vec::with_capacity(lists.len());
        let mut postings: Vec<(String, Posting)> = Vec::new();
        let mut in_batch: BTreeMap<(String, String), usize> = BTreeMap::new();
        for item in lists {
            let list = match item {
                Ok(l) => l.clone(),
                Err(e) => {
                    let list_no = e.list.as_ref().and_then(|(_, n)| n.clone()).unwrap_or_default();
                    outcomes.push(ListOutcome {
                        list_no,
                        status: "rejected",
                        error: Some(ListError { rule: DocError::RULE.to_owned(), line: None, message: format!("the document is malformed at {}", e.detail()) }),
                    });
                    continue;
                }
            };
            let list_no = list.list_no.clone();
            let Some(enterprise) = self.books.get(&list.book_no).map(|l| l.key.enterprise.clone()) else {
                outcomes.push(ListOutcome::rejected(list_no, &unknown_book(&list.book_no)));
                continue;
            };
            if !allowed.contains(&list.book_no) {
                outcomes.push(ListOutcome::rejected(list_no, &unknown_book(&list.book_no)));
                continue;
            }
            let batch_key = (enterprise.clone(), list_no.clone());
            let earlier = match in_batch.get(&batch_key).and_then(|i| postings.get(*i)) {
                Some((_, p)) => Some(p.canonical.clone()),
                None => self.store.posted_canonical(&enterprise, &list_no)?,
            };
            if let Some(earlier) = earlier {
                let outcome = match judge_repost(&list_no, &earlier, &list.canonical()) {
                    Outcome::Duplicate => ListOutcome { list_no, status: "duplicate", error: None },
                    Outcome::Rejected(r) => ListOutcome::rejected(list_no, &r),
                    Outcome::Posted => ListOutcome { list_no, status: "posted", error: None },
                };
                outcomes.push(outcome);
                continue;
            }
            let Some(loaded) = self.books.get_mut(&list.book_no) else {
                outcomes.push(ListOutcome::rejected(list_no, &unknown_book(&list.book_no)));
                continue;
            };
            if let Some(r) = catalog::refuse_list(catalog_now.as_deref(), loaded.ledger.book(), &list) {
                outcomes.push(ListOutcome::rejected(list_no, &r));
                continue;
            }
            match loaded.ledger.post(list) {
                Ok(p) => {
                    in_batch.insert(batch_key, postings.len());
                    postings.push((enterprise, p));
                    outcomes.push(ListOutcome { list_no, status: "posted", error: None });
                }
                Err(r) => outcomes.push(ListOutcome::rejected(list_no, &r)),
            }
        }
        Ok((outcomes, postings))
    }

    /// Posts the lists in the text of a list file.
    pub fn post_text(&mut self, text: &str, source: &str) -> Result<Vec<ListOutcome>, AppError> {
        let lists = doc::parse_lists(text, source)?;
        self.post_lists(lists)
    }

    /// Balances as of a date (lists declared on or before it), or over everything posted.
    pub fn balance(&mut self, book_no: &str, as_of: Option<NaiveDate>) -> Result<BalanceReport, AppError> {
        self.guard_book(Action::ReadBook, book_no)?;
        let ledger = self.ledger_to(book_no, as_of)?;
        Ok(report::balance(&ledger, as_of))
    }

    /// The 报核 report up to a date, with a stocktake when given.
    pub fn reconcile(&mut self, book_no: &str, to: Option<NaiveDate>, stocktake: Option<(&StocktakeDoc, &str)>) -> Result<ReconcileReport, AppError> {
        self.reconcile_range(book_no, None, to, stocktake)
    }

    /// The current 报核 report read from the latest checkpoint alone, when the book is not in memory
    /// and nothing was posted, filed or closed since that checkpoint: no book document to parse, no
    /// line to replay. `None` when that does not hold (then the report is computed as usual).
    fn report_from_checkpoint(&mut self, book_no: &str) -> Result<Option<ReportTotals>, AppError> {
        if self.books.contains_key(book_no) {
            return Ok(None);
        }
        let Some(key) = self.book_key(book_no)? else { return Ok(None) };
        let Some(revision) = self.store.book_revision(&key)? else { return Ok(None) };
        // Only what the report needs, read in place from the stored text; the rest of the snapshot
        // is not read.
        let mut read = None;
        self.store.with_latest_checkpoint(&key, revision, &mut |last_id, state| read = Some((last_id, ledger::checkpoint_totals(state))))?;
        let Some((last_id, Some(snap))) = read else { return Ok(None) };
        let closed_to = self.store.last_closed_to(&key)?;
        if snap.closed_to != closed_to || snap.book_no != book_no {
            return Ok(None);
        }
        let mut newer = false;
        self.store
            .for_each_list(&key, last_id, None, &mut |_| {
                newer = true;
                Err(StoreError::Database("stop".into()))
            })
            .or_else(|e| if newer { Ok(()) } else { Err(e) })?;
        if newer {
            return Ok(None);
        }
        Ok(Some(ReportTotals { book_no: snap.book_no, materials: snap.materials, products: snap.products, actual: None, rate_base: None }))
    }

    /// Saves a checkpoint of every book in memory that has lines not yet in one, so that the next
    /// process reads its state without replaying them (`jiamao list post` calls it before it exits).
    pub fn flush_checkpoints(&mut self) -> Result<(), AppError> {
        let due: Vec<BookKey> = self.books.values().filter(|l| l.unsaved_lines > 0).map(|l| l.key.clone()).collect();
        for key in due {
            self.save_checkpoint(&key)?;
        }
        Ok(())
    }

    /// The 报核 report of a date range (`from` inclusive: its opening is the should-remain of the
    /// day before), with a stocktake when given.
    pub fn reconcile_range(&mut self, book_no: &str, from: Option<NaiveDate>, to: Option<NaiveDate>, stocktake: Option<(&StocktakeDoc, &str)>) -> Result<ReconcileReport, AppError> {
        self.reconcile_range_totals(book_no, from, to, stocktake).map(|t| t.report())
    }

    /// [`Engine::reconcile_range`] before rendering: the exact figures, which
    /// [`ReportTotals::write_json`] renders without building the report.
    pub fn reconcile_range_totals(&mut self, book_no: &str, from: Option<NaiveDate>, to: Option<NaiveDate>, stocktake: Option<(&StocktakeDoc, &str)>) -> Result<ReportTotals, AppError> {
        self.guard_book(Action::ReadReport, book_no)?;
        if from.is_none() && to.is_none() && stocktake.is_none() {
            if let Some(r) = self.report_from_checkpoint(book_no)? {
                return Ok(r);
            }
        }
        let source = stocktake.map_or(String::new(), |s| s.1.to_owned());
        let (ledger, before) = self.range_ledgers(book_no, from, to, &source)?;
        report::reconcile_range_totals(&ledger, before.as_ref(), stocktake.map(|s| s.0), self.policy.difference_rate_base).map_err(|error| AppError::Book { source_name: source, error })
    }

    /// The ledgers of a report range: up to `to`, and up to the day before `from` (its opening).
    fn range_ledgers(&mut self, book_no: &str, from: Option<NaiveDate>, to: Option<NaiveDate>, source: &str) -> Result<(BookLedger, Option<BookLedger>), AppError> {
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                let error = BookError { at: "--from".into(), rule: "range", message: format!("the range starts on {f}, after its end {t}") };
                return Err(AppError::Book { source_name: source.to_owned(), error });
            }
        }
        let ledger = self.ledger_to(book_no, to)?;
        let before = match from.and_then(|f| f.pred_opt()) {
            Some(day_before) => Some(self.ledger_to(book_no, Some(day_before))?),
            None => None,
        };
        Ok((ledger, before))
    }

    /// The extended 报核 report (`reconcile --full`, [`report_full::reconcile_full`]): the report of
    /// [`Engine::reconcile_range`] with the header and the extra per-item fields of RULES.md §5.3–§5.4
    /// that the ledger knows. Reads the range's lists once more to count them.
    pub fn reconcile_full(&mut self, book_no: &str, from: Option<NaiveDate>, to: Option<NaiveDate>, stocktake: Option<(&StocktakeDoc, &str)>) -> Result<report_full::FullReport, AppError> {
        self.guard_book(Action::ReadReport, book_no)?;
        let source = stocktake.map_or(String::new(), |s| s.1.to_owned());
        let (ledger, before) = self.range_ledgers(book_no, from, to, &source)?;
        let key = self.known_key(book_no)?;
        let closed_to = ledger.closed_to();
        let cycle_start = closed_to.and_then(|c| c.succ_opt()).unwrap_or(ledger.book().valid_from);
        let start = from.unwrap_or(cycle_start);
        // 核增 / 核减 of the closure that ends the day before the report's start.
        let closures = self.store.closures(&key)?;
        let adjustments = match closures.iter().find(|c| c.closed_to.succ_opt() == Some(start)) {
            Some(c) => closure_from_record(&key, c)?.adjustments,
            None => Vec::new(),
        };
        let book = ledger.book();
        let mut tally = report_full::ListTally::new(book);
        self.store.for_each_list(&key, 0, to, &mut |s| {
            if closed_to.is_none_or(|c| s.list.declared_on > c) && from.is_none_or(|f| s.list.declared_on >= f) {
                tally.add(book, &s.list);
            }
            Ok(())
        })?;
        let scope = report_full::FullScope { from: start, to, lists: &tally, adjustments: &adjustments };
        report_full::reconcile_full(&ledger, before.as_ref(), stocktake.map(|s| s.0), self.policy.difference_rate_base, scope).map_err(|error| AppError::Book { source_name: source, error })
    }

    /// The drill-down of one material over the lists declared in `from ..= to` (open ends when
    /// not given): every line that moved each figure, and the totals by product and 单耗 version.
    pub fn explain(&mut self, book_no: &str, material_seq: u32, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Explanation, AppError> {
        self.guard_book(Action::ReadReport, book_no)?;
        let key = self.known_key(book_no)?;
        let rec = self.store.book(&key)?.ok_or_else(|| AppError::UnknownBook(book_no.to_owned()))?;
        let book = book_from_record(&rec, &self.policy)?;
        let mut explainer = Explainer::new(&book, material_seq).ok_or_else(|| AppError::Book {
            source_name: String::new(),
            error: BookError { at: "--explain".into(), rule: "unknown_item", message: format!("material seq {material_seq} is not in book {book_no}") },
        })?;
        self.store.for_each_list(&key, 0, to, &mut |s| {
            if from.is_none_or(|f| s.list.declared_on >= f) {
                explainer.add(&s.list, &s.versions);
            }
            Ok(())
        })?;
        Ok(explainer.finish())
    }

    /// Everything `--verify` needs, read from the store: the book, the last closed cycle and every
    /// posted list after it.
    pub fn posted_lists(&mut self, book_no: &str) -> Result<(Book, Option<Closure>, Vec<jiamao_store::StoredList>), AppError> {
        self.guard_book(Action::ReadReport, book_no)?;
        let key = self.known_key(book_no)?;
        let rec = self.store.book(&key)?.ok_or_else(|| AppError::UnknownBook(book_no.to_owned()))?;
        let closure = self.store.closures(&key)?.last().map(|c| closure_from_record(&key, c)).transpose()?;
        let closed_to = closure.as_ref().map(|c| c.to);
        let mut lists = Vec::new();
        self.store.for_each_list(&key, 0, None, &mut |s| {
            if closed_to.is_none_or(|c| s.list.declared_on > c) {
                lists.push(s);
            }
            Ok(())
        })?;
        Ok((book_from_record(&rec, &self.policy)?, closure, lists))
    }

    /// The posted lines of a book (after its last closed cycle) as columns for the `--verify`
    /// kernel, streamed from the store without holding the lists: the book, the closure, the
    /// columns (`None` when a figure has more places than the integer kernel keeps) and the number
    /// of lists and lines read.
    pub fn posted_columns(&mut self, book_no: &str) -> Result<PostedColumns, AppError> {
        self.guard_book(Action::ReadReport, book_no)?;
        let key = self.known_key(book_no)?;
        let rec = self.store.book(&key)?.ok_or_else(|| AppError::UnknownBook(book_no.to_owned()))?;
        let closure = self.store.closures(&key)?.last().map(|c| closure_from_record(&key, c)).transpose()?;
        let book = book_from_record(&rec, &self.policy)?;
        let closed_to = closure.as_ref().map(|c| c.to);
        let mut cols = Some(LineColumns::default());
        let (mut lists, mut lines) = (0u64, 0u64);
        self.store.for_each_list(&key, 0, None, &mut |s| {
            lists += 1;
            lines += s.list.lines.len() as u64;
            if let Some(c) = cols.as_mut() {
                if c.push(&book, closed_to, &s.list, &s.versions).is_none() {
                    cols = None;
                }
            }
            Ok(())
        })?;
        Ok((book, closure, cols, lists, lines))
    }

    /// Checks the maintained state of a book against `recomputed` (the `--verify` kernel's totals):
    /// `Ok(None)` when they agree exactly, else a description of the first difference.
    pub fn verify_against(&mut self, book_no: &str, recomputed: &(Vec<MaterialTotals>, Vec<ProductTotals>)) -> Result<Option<String>, AppError> {
        self.guard_book(Action::ReadReport, book_no)?;
        let maintained = self.ledger(book_no)?.ok_or_else(|| AppError::UnknownBook(book_no.to_owned()))?;
        let (materials, products) = recomputed;
        for ((a, b), item) in maintained.material_totals().iter().zip(materials).zip(&maintained.book().materials) {
            if a != b {
                return Ok(Some(format!("material {}: maintained {a:?}, recomputed {b:?}", item.seq)));
            }
        }
        for ((a, b), item) in maintained.product_totals().iter().zip(products).zip(&maintained.book().products) {
            if a != b {
                return Ok(Some(format!("product {}: maintained {a:?}, recomputed {b:?}", item.seq)));
            }
        }
        Ok(None)
    }

    /// Recomputes a book from every posted line with the grouped kernel and checks the maintained
    /// state agrees exactly.
    pub fn verify(&mut self, book_no: &str) -> Result<Option<String>, AppError> {
        let (book, closure, lists) = self.posted_lists(book_no)?;
        let mut agg = Aggregator::new(&book, closure.as_ref());
        for s in &lists {
            agg.add(&s.list, &s.versions);
        }
        if agg.skipped > 0 {
            return Ok(Some(format!("{} posted lines no longer read against the book", agg.skipped)));
        }
        let recomputed = agg.finish();
        self.verify_against(book_no, &recomputed)
    }

    /// Closes the open verification cycle of a book on `to` (核销结案): freezes its 报核 report (with
    /// the stocktake taken on `to`, when given), records the adjustments (核增/核减) and opens the
    /// next cycle with the adjusted remains. Lists dated on or before `to` are refused afterwards.
    pub fn close_cycle(&mut self, book_no: &str, to: NaiveDate, stocktake: Option<(&StocktakeDoc, &str)>, adjustments: Option<(&AdjustmentsDoc, &str)>) -> Result<Closure, AppError> {
        self.guard_book(Action::CloseCycle, book_no)?;
        let key = self.known_key(book_no)?;
        let source = stocktake.map(|s| s.1).or(adjustments.map(|a| a.1)).unwrap_or("").to_owned();
        let bad = |error: BookError| AppError::Book { source_name: source.clone(), error };
        self.write(std::slice::from_ref(&key), |me| {
            if !me.refresh(&key)? {
                return Err(AppError::UnknownBook(key.book_no.clone()));
            }
            let (cycle_no, from) = {
                let Some(l) = me.books.get(&key.book_no) else { return Err(AppError::UnknownBook(key.book_no.clone())) };
                let from = l.closure.as_ref().and_then(|c| c.to.succ_opt()).unwrap_or(l.ledger.book().valid_from);
                (l.closures as u32 + 1, from)
            };
            if to < from {
                return Err(bad(BookError { at: "--to".into(), rule: "cycle_dates", message: format!("the open cycle starts on {from}; it cannot close on {to}") }));
            }
            let ledger = me.rebuild(&key, Some(to))?;
            let closure = cycle::close(&ledger, cycle_no, from, to, stocktake.map(|s| s.0), adjustments.map(|a| a.0)).map_err(&bad)?;
            let record_json = serde_json::to_string(&closure).map_err(|e| StoreError::Database(e.to_string()))?;
            me.store.file_closure(&key, &ClosureRecord { cycle_no, closed_to: to, record_json })?;
            let (_, customs, region) = me.book_scope(&key.book_no);
            let detail = serde_json::json!({"cycle_no": cycle_no, "from": from, "to": to, "adjustments": closure.adjustments.len()}).to_string();
            me.audit_link(&key.enterprise, "close_cycle", &format!("book {}", key.book_no), "ok", &detail)?;
            me.emit(&key.enterprise, "cycle_closed", serde_json::json!({"book_no": key.book_no, "cycle_no": cycle_no, "to": to, "master_customs": customs, "region": region}))?;
            // The in-memory state starts again from the new closure.
            me.books.remove(&key.book_no);
            Ok((closure, true))
        })
    }

    /// The open cycle of a book and what is due when (RULES.md §5.1–§5.2).
    pub fn cycle_status(&mut self, book_no: &str, policy: &DeadlinePolicy) -> Result<CycleStatus, AppError> {
        self.guard_book(Action::ReadReport, book_no)?;
        let key = self.known_key(book_no)?;
        if !self.refresh(&key)? {
            return Err(AppError::UnknownBook(book_no.to_owned()));
        }
        let l = self.books.get(book_no).ok_or_else(|| AppError::UnknownBook(book_no.to_owned()))?;
        let book = l.ledger.book();
        let from = l.closure.as_ref().and_then(|c| c.to.succ_opt()).unwrap_or(book.valid_from);
        Ok(cycle::status(book, l.closures as u32 + 1, from, l.closure.as_ref().map(|c| c.to), l.ledger.last_export(), policy))
    }

    /// Every closed cycle of a book.
    pub fn closures(&mut self, book_no: &str) -> Result<Vec<Closure>, AppError> {
        self.guard_book(Action::ReadReport, book_no)?;
        let key = self.known_key(book_no)?;
        let records = self.store.closures(&key)?;
        Ok(records.iter().map(|r| closure_from_record(&key, r)).collect::<Result<_, _>>()?)
    }

    /// The current in-memory ledger of a book (brought up to date first).
    pub fn ledger(&mut self, book_no: &str) -> Result<Option<&BookLedger>, AppError> {
        let key = match self.guard_book(Action::ReadBook, book_no) {
            Ok(k) => k,
            Err(AppError::UnknownBook(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        if !self.refresh(&key)? {
            return Ok(None);
        }
        Ok(self.books.get(book_no).map(|l| &l.ledger))
    }

    /// A ledger recomputed from scratch from the posted lines (to check the in-memory one).
    pub fn recompute(&mut self, book_no: &str) -> Result<BookLedger, AppError> {
        self.guard_book(Action::ReadReport, book_no)?;
        let key = self.known_key(book_no)?;
        self.rebuild(&key, None)
    }

    /// Every book's latest revision.
    pub fn books(&mut self) -> Result<Vec<BookRecord>, AppError> {
        let all = self.store.books()?;
        if self.ctx.principal == Principal::Local {
            return Ok(all);
        }
        #[derive(serde::Deserialize)]
        struct Scope {
            master_customs: String,
            operator: Operator,
        }
        #[derive(serde::Deserialize)]
        struct Operator {
            region_code: String,
        }
        Ok(all
            .into_iter()
            .filter(|r| {
                let scope: Option<Scope> = serde_json::from_str(&r.doc_json).ok();
                let target =
                    Target { enterprise: Some(&r.key.enterprise), master_customs: scope.as_ref().map(|s| s.master_customs.as_str()), region: scope.as_ref().map(|s| s.operator.region_code.as_str()) };
                access::decide(&self.ctx.principal, Action::ReadBook, &target).is_ok()
            })
            .collect())
    }
}
