//! The storage trait of Jiamao: the few operations the application needs from a database, and one
//! error enum. Each backend is its own crate (`jiamao-store-sqlite`, `jiamao-store-postgres`).
//!
//! Architecture invariants:
//! - What is stored is append-only. Book revisions, posted lists and their lines, policy documents
//!   and enterprise records are only ever inserted; balances are never stored as truth, they are
//!   derived by replaying posted lines (a backend may keep checkpoints of derived state, always
//!   recomputable).
//! - The enterprise is the unit (以企业为单元): every book, list and line belongs to the enterprise
//!   that operates the book (经营企业, by its unified social credit code), and every operation on
//!   them names that enterprise, so that a distributed backend can shard by it. Only the book
//!   directory (which enterprise owns a book number), the national policy documents
//!   ([`PolicyRecord`]: shared by every enterprise) and fan-out reports span enterprises; an
//!   enterprise's other business records ([`EnterpriseRecord`]) are keyed by it like its books.
//! - Identity and the audit trail (national platform data): accounts, API tokens, browser sessions
//!   and webhook subscriptions are state (updated: a password changed, a token revoked, an account
//!   disabled) but never deleted; the audit trail ([`AuditRecord`], hash chains: one per enterprise
//!   and one for the system) and the business events for the departments ([`EventRecord`], keyed by
//!   enterprise) are append-only.
//! - The store never reads the clock: timestamps come in as RFC 3339 UTC text
//!   (`2026-11-27T01:02:03.123456Z`) and are stored and returned as that exact text on every
//!   backend, so that hashes computed over them stay stable.

use chrono::NaiveDate;
use jiamao_domain::doc::ListDoc;
use jiamao_domain::ledger::Posting;

/// A failure of the store itself (not of the input).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    /// Another writer committed a conflicting record first (a unique key); retrying the whole
    /// operation sees it and decides again.
    #[error("concurrent write conflict: {0}")]
    Conflict(String),
    /// The book number is filed by another enterprise (permanent, not worth retrying).
    #[error("{0}")]
    BookOwner(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("database schema is version {found}, newer than this program knows ({known}); upgrade jiamao")]
    SchemaTooNew { found: i64, known: i64 },
}

/// A book and the enterprise that owns it: the unit of storage and locking.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BookKey {
    /// The operating enterprise's unified social credit code (统一社会信用代码).
    pub enterprise: String,
    pub book_no: String,
}

/// One filed revision of a book (the document as canonical JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookRecord {
    pub key: BookKey,
    /// 1 for the first filing, then one more for each change (变更).
    pub revision: u32,
    pub doc_json: String,
}

/// A posted list as stored, with the 单耗 version each line used (including versions resolved
/// later for lines posted while pending).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredList {
    /// Posting order: increasing, within a book, in the order lists were committed.
    pub id: i64,
    pub list: ListDoc,
    pub versions: Vec<Option<String>>,
}

/// A version given later to a product line posted while its 单耗 was pending (报核前 stage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub list_no: String,
    pub line: u32,
    pub version: String,
}

/// A closed verification cycle (核销结案) as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosureRecord {
    /// 1 for the first cycle closed, then one more each time.
    pub cycle_no: u32,
    /// The cycle's last day.
    pub closed_to: NaiveDate,
    /// The closure (report, adjustments, openings) as JSON.
    pub record_json: String,
}

/// A dated policy document shared by all enterprises (national data: a tariff version, a table of
/// dated rates, later catalog versions): append-only, unique by (kind, name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRecord {
    /// Assigned by the store on append (increasing); ignored by `append_policy`.
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub valid_from: NaiveDate,
    /// The document (JSON text; may be several MB).
    pub body: String,
}

/// A business record of one enterprise kept beside the ledger (a tax payment, a chosen declaration
/// schedule, ...): append-only, unique by (enterprise, kind, key), where `key` is the idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseRecord {
    /// Assigned by the store on append (increasing); ignored by `append_record`.
    pub id: i64,
    pub enterprise: String,
    pub book_no: String,
    pub kind: String,
    pub key: String,
    /// The business date the record is about (e.g. the payment date).
    pub recorded_on: NaiveDate,
    pub body: String,
}

/// A platform account. Mutable (password change, disabling) — every change is audited by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// The login name: the account's key.
    pub login: String,
    pub role: String,
    /// The enterprise (USCC) an enterprise account acts for.
    pub enterprise: Option<String>,
    /// The customs district a customs account supervises.
    pub customs: Option<String>,
    /// The province a department account supervises.
    pub province: Option<String>,
    /// A hash of the password (never the password).
    pub password_hash: String,
    pub disabled: bool,
    /// RFC 3339 UTC; kept as first stored by [`Store::upsert_account`].
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

/// An API token: only a hash of its secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The token's public identifier: its key.
    pub token_id: String,
    /// The account the token acts for.
    pub login: String,
    pub secret_hash: String,
    pub read_only: bool,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC; `None`: does not expire.
    pub expires_at: Option<String>,
    /// RFC 3339 UTC; set once by [`Store::revoke_token`].
    pub revoked_at: Option<String>,
}

/// A browser session: only hashes of the cookie secret and of the CSRF token are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session's identifier (a hash of the cookie secret): its key.
    pub session_id: String,
    pub login: String,
    pub csrf_hash: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub expires_at: String,
    /// RFC 3339 UTC; set once by [`Store::revoke_session`].
    pub revoked_at: Option<String>,
}

/// One link of a hash chain of the audit trail (a chain per enterprise USCC, and "system").
///
/// Append-only, unique by (chain, seq). The store does not compute or check hashes: the caller
/// reads the head ([`Store::audit_head`]), links the next record to it and appends it; a writer that
/// lost the race to the same `seq` gets [`StoreError::Conflict`] and starts again from the new head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// The chain: an enterprise's USCC, or "system".
    pub chain: String,
    /// Position in the chain.
    pub seq: i64,
    /// RFC 3339 UTC.
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub target: String,
    pub request_id: String,
    pub source: String,
    pub outcome: String,
    pub detail: String,
    /// The hash of the previous link.
    pub prev_hash: String,
    /// The hash of this link.
    pub hash: String,
}

/// A business event for the departments (ordered by id across enterprises). Append-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// Assigned by the store on append; ignored by [`Store::append_event`].
    pub id: i64,
    /// The enterprise (USCC) the event is about.
    pub enterprise: String,
    pub kind: String,
    /// RFC 3339 UTC.
    pub at: String,
    /// The event (JSON text).
    pub body: String,
}

/// A webhook subscription of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    /// The subscription's identifier: its key.
    pub id: String,
    /// The account that subscribed.
    pub login: String,
    pub url: String,
    /// The event kinds delivered (as the caller encodes them).
    pub kinds: String,
    /// RFC 3339 UTC; kept as first stored by [`Store::upsert_webhook`].
    pub created_at: String,
    pub disabled: bool,
}

/// What a backend must do.
///
/// Writes happen between [`Store::begin_write`] and [`Store::commit`]: one transaction, all or
/// nothing, durable when `commit` returns `Ok`. `begin_write` takes the writer lock of the named
/// books (SQLite: the database's single writer lock; PostgreSQL: a lock per book), so that the
/// caller can bring its in-memory state up to date and then judge lists against balances no one
/// else is changing.
pub trait Store: Send {
    /// Starts a write transaction holding the writer lock of `books`.
    fn begin_write(&mut self, books: &[BookKey]) -> Result<(), StoreError>;

    /// Commits the write transaction; durable on return.
    fn commit(&mut self) -> Result<(), StoreError>;

    /// Abandons the write transaction (a no-op outside one).
    fn rollback(&mut self) -> Result<(), StoreError>;

    /// Which enterprise owns `book_no` (the book directory).
    fn book_owner(&mut self, book_no: &str) -> Result<Option<String>, StoreError>;

    /// The latest revision of a book.
    fn book(&mut self, key: &BookKey) -> Result<Option<BookRecord>, StoreError>;

    /// The number of the latest revision of a book, without reading its document.
    fn book_revision(&mut self, key: &BookKey) -> Result<Option<u32>, StoreError>;

    /// The latest revision of every book of every enterprise (a fan-out query), by `book_no`.
    fn books(&mut self) -> Result<Vec<BookRecord>, StoreError>;

    /// Appends a book revision (inside a write), with the versions it resolves for pending lines.
    /// Revision 1 also enters the book in the directory. Fails with `Conflict` if the revision is
    /// not exactly one more than the stored latest, and with `BookOwner` if the book number belongs to
    /// another enterprise.
    fn file_book(&mut self, record: &BookRecord, resolutions: &[Resolution]) -> Result<(), StoreError>;

    /// The canonical text of a list the enterprise posted, if it posted `list_no`.
    fn posted_canonical(&mut self, enterprise: &str, list_no: &str) -> Result<Option<String>, StoreError>;

    /// Appends postings of one enterprise (inside a write; group commit: many lists, each whole).
    /// Returns their ids. A `list_no` the enterprise already posted gives `Conflict`.
    fn append_lists(&mut self, enterprise: &str, postings: &[Posting]) -> Result<Vec<i64>, StoreError>;

    /// Calls `f` with every posted list of a book whose id is above `after_id`, in posting order;
    /// only lists declared on or before `to` when it is given.
    fn for_each_list(&mut self, key: &BookKey, after_id: i64, to: Option<NaiveDate>, f: &mut dyn FnMut(StoredList) -> Result<(), StoreError>) -> Result<(), StoreError>;

    /// Saves a checkpoint of a book's derived state (inside a write): the state after every list
    /// up to `last_id` under book revision `revision`, replacing one at the same position.
    /// Checkpoints are derived and recomputable, so a backend keeps only the newest two of a book
    /// and removes older ones.
    fn save_checkpoint(&mut self, key: &BookKey, revision: u32, last_id: i64, state_json: &str) -> Result<(), StoreError>;

    /// The latest checkpoint of a book revision: `(last_id, state_json)`.
    fn latest_checkpoint(&mut self, key: &BookKey, revision: u32) -> Result<Option<(i64, String)>, StoreError>;

    /// Calls `f` with the latest checkpoint of a book revision (`last_id`, the state), read in
    /// place where the backend can (a checkpoint of a large book is several MB); false when there
    /// is none.
    fn with_latest_checkpoint(&mut self, key: &BookKey, revision: u32, f: &mut dyn FnMut(i64, &str)) -> Result<bool, StoreError> {
        match self.latest_checkpoint(key, revision)? {
            Some((last_id, state)) => {
                f(last_id, &state);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Appends a closed cycle (inside a write). Fails with `Conflict` unless `cycle_no` is exactly one
    /// more than the stored latest.
    fn file_closure(&mut self, key: &BookKey, record: &ClosureRecord) -> Result<(), StoreError>;

    /// Every closed cycle of a book, in order.
    fn closures(&mut self, key: &BookKey) -> Result<Vec<ClosureRecord>, StoreError>;

    /// The last day of a book's latest closed cycle, if any, without reading the closures' records.
    fn last_closed_to(&mut self, key: &BookKey) -> Result<Option<NaiveDate>, StoreError> {
        Ok(self.closures(key)?.last().map(|c| c.closed_to))
    }

    /// Number of posted lists and lines in the whole store (a fan-out query).
    fn counts(&mut self) -> Result<(u64, u64), StoreError>;

    /// Appends a policy document (inside a write). `Conflict` if (kind, name) exists. Returns its id.
    ///
    /// Policy documents are national data, owned by no enterprise: the write may be opened with
    /// `begin_write(&[])` (no book lock).
    fn append_policy(&mut self, record: &PolicyRecord) -> Result<i64, StoreError>;

    /// One policy document by (kind, name).
    fn policy(&mut self, kind: &str, name: &str) -> Result<Option<PolicyRecord>, StoreError>;

    /// Every policy document of a kind, in append order (by id).
    fn policies(&mut self, kind: &str) -> Result<Vec<PolicyRecord>, StoreError>;

    /// Appends an enterprise record (inside a write). `Conflict` if (enterprise, kind, key) exists. Returns its id.
    fn append_record(&mut self, record: &EnterpriseRecord) -> Result<i64, StoreError>;

    /// One enterprise record by (enterprise, kind, key).
    fn record(&mut self, enterprise: &str, kind: &str, key: &str) -> Result<Option<EnterpriseRecord>, StoreError>;

    /// Every record of a kind for a book, in append order (by id).
    fn records(&mut self, book: &BookKey, kind: &str) -> Result<Vec<EnterpriseRecord>, StoreError>;

    // Identity, the audit trail, events and webhooks: national platform data, written (like every
    // write) between `begin_write` and `commit`, usually `begin_write(&[])` (no book lock). Nothing
    // here is ever deleted.

    /// Stores an account (inside a write): inserts it, or updates every field of the stored account
    /// of that login but `created_at`.
    fn upsert_account(&mut self, account: &AccountRecord) -> Result<(), StoreError>;

    /// One account by login.
    fn account(&mut self, login: &str) -> Result<Option<AccountRecord>, StoreError>;

    /// Every account, by login.
    fn accounts(&mut self) -> Result<Vec<AccountRecord>, StoreError>;

    /// Stores a new API token (inside a write). `Conflict` if `token_id` exists.
    fn insert_token(&mut self, token: &TokenRecord) -> Result<(), StoreError>;

    /// One API token by id (revoked and expired ones too: the caller judges).
    fn token(&mut self, token_id: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// Revokes a token at `at` (inside a write). `false` when the token is unknown or already revoked
    /// (its `revoked_at` is then left as it was).
    fn revoke_token(&mut self, token_id: &str, at: &str) -> Result<bool, StoreError>;

    /// Every token of an account, by `token_id`.
    fn tokens(&mut self, login: &str) -> Result<Vec<TokenRecord>, StoreError>;

    /// Stores a new session (inside a write). `Conflict` if `session_id` exists.
    fn insert_session(&mut self, session: &SessionRecord) -> Result<(), StoreError>;

    /// One session by id (revoked and expired ones too: the caller judges).
    fn session(&mut self, session_id: &str) -> Result<Option<SessionRecord>, StoreError>;

    /// Revokes a session at `at` (inside a write). `false` when the session is unknown or already
    /// revoked.
    fn revoke_session(&mut self, session_id: &str, at: &str) -> Result<bool, StoreError>;

    /// The last link of an audit chain: `(seq, hash)`; `None` for a chain with no link yet.
    fn audit_head(&mut self, chain: &str) -> Result<Option<(i64, String)>, StoreError>;

    /// Appends a link to an audit chain (inside a write). `Conflict` if (chain, seq) exists: another
    /// writer appended that link first; the caller reads the head again and retries.
    fn append_audit(&mut self, record: &AuditRecord) -> Result<(), StoreError>;

    /// The names of every audit chain, sorted (a fan-out query).
    fn audit_chains(&mut self) -> Result<Vec<String>, StoreError>;

    /// Calls `f` with every link of an audit chain, in `seq` order (streamed: a chain may be long).
    fn for_each_audit(&mut self, chain: &str, f: &mut dyn FnMut(AuditRecord) -> Result<(), StoreError>) -> Result<(), StoreError>;

    /// Appends a business event (inside a write); returns the id assigned to it.
    ///
    /// Ids are unique and increase with each insertion, but they are taken when the row is
    /// inserted, not when its transaction commits: on a backend with concurrent writers
    /// (PostgreSQL) an event may become visible after one with a higher id.
    fn append_event(&mut self, event: &EventRecord) -> Result<i64, StoreError>;

    /// At most `limit` events with an id above `after_id`, by id, across every enterprise (a fan-out
    /// query).
    fn events_after(&mut self, after_id: i64, limit: usize) -> Result<Vec<EventRecord>, StoreError>;

    /// Stores a webhook subscription (inside a write): inserts it, or updates every field of the
    /// stored one of that id but `created_at`.
    fn upsert_webhook(&mut self, webhook: &WebhookRecord) -> Result<(), StoreError>;

    /// Every webhook subscription, by id.
    fn webhooks(&mut self) -> Result<Vec<WebhookRecord>, StoreError>;

    /// The id of the last event delivered to a webhook; 0 when none was.
    fn webhook_cursor(&mut self, webhook_id: &str) -> Result<i64, StoreError>;

    /// Sets the id of the last event delivered to a webhook (inside a write).
    fn set_webhook_cursor(&mut self, webhook_id: &str, event_id: i64) -> Result<(), StoreError>;
}

/// A boxed store is a store: the backend can be chosen at run time (`--db` path or URL).
impl<T: Store + ?Sized> Store for Box<T> {
    fn begin_write(&mut self, books: &[BookKey]) -> Result<(), StoreError> {
        (**self).begin_write(books)
    }
    fn commit(&mut self) -> Result<(), StoreError> {
        (**self).commit()
    }
    fn rollback(&mut self) -> Result<(), StoreError> {
        (**self).rollback()
    }
    fn book_owner(&mut self, book_no: &str) -> Result<Option<String>, StoreError> {
        (**self).book_owner(book_no)
    }
    fn book(&mut self, key: &BookKey) -> Result<Option<BookRecord>, StoreError> {
        (**self).book(key)
    }
    fn books(&mut self) -> Result<Vec<BookRecord>, StoreError> {
        (**self).books()
    }
    fn book_revision(&mut self, key: &BookKey) -> Result<Option<u32>, StoreError> {
        (**self).book_revision(key)
    }
    fn file_book(&mut self, record: &BookRecord, resolutions: &[Resolution]) -> Result<(), StoreError> {
        (**self).file_book(record, resolutions)
    }
    fn posted_canonical(&mut self, enterprise: &str, list_no: &str) -> Result<Option<String>, StoreError> {
        (**self).posted_canonical(enterprise, list_no)
    }
    fn append_lists(&mut self, enterprise: &str, postings: &[Posting]) -> Result<Vec<i64>, StoreError> {
        (**self).append_lists(enterprise, postings)
    }
    fn for_each_list(&mut self, key: &BookKey, after_id: i64, to: Option<NaiveDate>, f: &mut dyn FnMut(StoredList) -> Result<(), StoreError>) -> Result<(), StoreError> {
        (**self).for_each_list(key, after_id, to, f)
    }
    fn save_checkpoint(&mut self, key: &BookKey, revision: u32, last_id: i64, state_json: &str) -> Result<(), StoreError> {
        (**self).save_checkpoint(key, revision, last_id, state_json)
    }
    fn latest_checkpoint(&mut self, key: &BookKey, revision: u32) -> Result<Option<(i64, String)>, StoreError> {
        (**self).latest_checkpoint(key, revision)
    }
    fn with_latest_checkpoint(&mut self, key: &BookKey, revision: u32, f: &mut dyn FnMut(i64, &str)) -> Result<bool, StoreError> {
        (**self).with_latest_checkpoint(key, revision, f)
    }
    fn file_closure(&mut self, key: &BookKey, record: &ClosureRecord) -> Result<(), StoreError> {
        (**self).file_closure(key, record)
    }
    fn closures(&mut self, key: &BookKey) -> Result<Vec<ClosureRecord>, StoreError> {
        (**self).closures(key)
    }
    fn last_closed_to(&mut self, key: &BookKey) -> Result<Option<NaiveDate>, StoreError> {
        (**self).last_closed_to(key)
    }
    fn counts(&mut self) -> Result<(u64, u64), StoreError> {
        (**self).counts()
    }
    fn append_policy(&mut self, record: &PolicyRecord) -> Result<i64, StoreError> {
        (**self).append_policy(record)
    }
    fn policy(&mut self, kind: &str, name: &str) -> Result<Option<PolicyRecord>, StoreError> {
        (**self).policy(kind, name)
    }
    fn policies(&mut self, kind: &str) -> Result<Vec<PolicyRecord>, StoreError> {
        (**self).policies(kind)
    }
    fn append_record(&mut self, record: &EnterpriseRecord) -> Result<i64, StoreError> {
        (**self).append_record(record)
    }
    fn record(&mut self, enterprise: &str, kind: &str, key: &str) -> Result<Option<EnterpriseRecord>, StoreError> {
        (**self).record(enterprise, kind, key)
    }
    fn records(&mut self, book: &BookKey, kind: &str) -> Result<Vec<EnterpriseRecord>, StoreError> {
        (**self).records(book, kind)
    }
    fn upsert_account(&mut self, account: &AccountRecord) -> Result<(), StoreError> {
        (**self).upsert_account(account)
    }
    fn account(&mut self, login: &str) -> Result<Option<AccountRecord>, StoreError> {
        (**self).account(login)
    }
    fn accounts(&mut self) -> Result<Vec<AccountRecord>, StoreError> {
        (**self).accounts()
    }
    fn insert_token(&mut self, token: &TokenRecord) -> Result<(), StoreError> {
        (**self).insert_token(token)
    }
    fn token(&mut self, token_id: &str) -> Result<Option<TokenRecord>, StoreError> {
        (**self).token(token_id)
    }
    fn revoke_token(&mut self, token_id: &str, at: &str) -> Result<bool, StoreError> {
        (**self).revoke_token(token_id, at)
    }
    fn tokens(&mut self, login: &str) -> Result<Vec<TokenRecord>, StoreError> {
        (**self).tokens(login)
    }
    fn insert_session(&mut self, session: &SessionRecord) -> Result<(), StoreError> {
        (**self).insert_session(session)
    }
    fn session(&mut self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        (**self).session(session_id)
    }
    fn revoke_session(&mut self, session_id: &str, at: &str) -> Result<bool, StoreError> {
        (**self).revoke_session(session_id, at)
    }
    fn audit_head(&mut self, chain: &str) -> Result<Option<(i64, String)>, StoreError> {
        (**self).audit_head(chain)
    }
    fn append_audit(&mut self, record: &AuditRecord) -> Result<(), StoreError> {
        (**self).append_audit(record)
    }
    fn audit_chains(&mut self) -> Result<Vec<String>, StoreError> {
        (**self).audit_chains()
    }
    fn for_each_audit(&mut self, chain: &str, f: &mut dyn FnMut(AuditRecord) -> Result<(), StoreError>) -> Result<(), StoreError> {
        (**self).for_each_audit(chain, f)
    }
    fn append_event(&mut self, event: &EventRecord) -> Result<i64, StoreError> {
        (**self).append_event(event)
    }
    fn events_after(&mut self, after_id: i64, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        (**self).events_after(after_id, limit)
    }
    fn upsert_webhook(&mut self, webhook: &WebhookRecord) -> Result<(), StoreError> {
        (**self).upsert_webhook(webhook)
    }
    fn webhooks(&mut self) -> Result<Vec<WebhookRecord>, StoreError> {
        (**self).webhooks()
    }
    fn webhook_cursor(&mut self, webhook_id: &str) -> Result<i64, StoreError> {
        (**self).webhook_cursor(webhook_id)
    }
    fn set_webhook_cursor(&mut self, webhook_id: &str, event_id: i64) -> Result<(), StoreError> {
        (**self).set_webhook_cursor(webhook_id, event_id)
    }
}
