//! Application services of Jiamao: the ledger engine over a store.
//!
//! The engine keeps each book's ledger in memory as state derived from the durable lines (loaded
//! by replaying them the first time a book is used) and posts lists in batches: one write
//! transaction per batch (group commit), each list judged and applied on its own, so each stays
//! atomic and independent. Nothing is acknowledged before the transaction has committed.

use chrono::NaiveDate;
use jiamao_domain::book::{Book, BookError};
use jiamao_domain::doc::{self, BookDoc, DocError, ListDoc, StocktakeDoc};
use jiamao_domain::ledger::{judge_repost, unknown_book, BookLedger, Outcome, Posting, Rejection};
use jiamao_domain::policy::Policy;
use jiamao_domain::report::{self, BalanceReport, ReconcileReport};
use jiamao_store::{BookRecord, Resolution, Store, StoreError};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

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
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    /// Whether the fault lies in the input (exit status 2) rather than in the system (1).
    pub fn is_rejection(&self) -> bool {
        !matches!(self, AppError::Store(_))
    }
}

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
    ledger: BookLedger,
    revision: u32,
    last_id: i64,
    /// Lines applied since the last checkpoint was saved or restored.
    unsaved_lines: u64,
}

/// Default: a checkpoint of a book's derived state after this many newly posted lines.
pub const DEFAULT_CHECKPOINT_LINES: u64 = 100_000;

/// The ledger engine.
pub struct Engine<S: Store> {
    store: S,
    policy: Policy,
    books: HashMap<String, Loaded>,
    checkpoint_lines: u64,
}

fn book_from_record(rec: &BookRecord, policy: &Policy) -> Result<Book, StoreError> {
    let doc: BookDoc = serde_json::from_str(&rec.doc_json).map_err(|e| StoreError::Corrupt(format!("book {} revision {}: {e}", rec.book_no, rec.revision)))?;
    Book::from_doc(doc, policy).map_err(|e| StoreError::Corrupt(format!("book {} revision {}: {e}", rec.book_no, rec.revision)))
}

impl<S: Store> Engine<S> {
    pub fn new(store: S) -> Self {
        Engine { store, policy: Policy::default(), books: HashMap::new(), checkpoint_lines: DEFAULT_CHECKPOINT_LINES }
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

    /// Brings the in-memory ledger of `book_no` up to date with the store (another process may
    /// have posted). Returns false when the book does not exist.
    fn refresh(&mut self, book_no: &str) -> Result<bool, StoreError> {
        let Some(rec) = self.store.book(book_no)? else {
            self.books.remove(book_no);
            return Ok(false);
        };
        let stale = self.books.get(book_no).is_none_or(|l| l.revision != rec.revision);
        if stale {
            let book = book_from_record(&rec, &self.policy)?;
            let checkpoint = self.store.latest_checkpoint(book_no, rec.revision)?;
            let restored = checkpoint.and_then(|(last_id, state)| {
                let snap = serde_json::from_str(&state).ok()?;
                BookLedger::restore(book.clone(), snap).map(|l| (l, last_id))
            });
            let (ledger, last_id) = restored.unwrap_or_else(|| (BookLedger::new(book), 0));
            self.books.insert(book_no.to_owned(), Loaded { ledger, revision: rec.revision, last_id, unsaved_lines: 0 });
        }
        let Some(loaded) = self.books.get_mut(book_no) else { return Ok(false) };
        let mut last = loaded.last_id;
        let mut lines = 0u64;
        let ledger = &mut loaded.ledger;
        self.store.for_each_list(book_no, last, None, &mut |s| {
            ledger.replay(&s.list, &s.versions).map_err(|r| StoreError::Corrupt(format!("posted list {} no longer applies: {r}", s.list.list_no)))?;
            last = s.id;
            lines += s.list.lines.len() as u64;
            Ok(())
        })?;
        loaded.last_id = last;
        loaded.unsaved_lines += lines;
        Ok(true)
    }

    /// A ledger rebuilt from the lists declared on or before `to` (reports as of a date).
    fn ledger_to(&mut self, book_no: &str, to: Option<NaiveDate>) -> Result<BookLedger, AppError> {
        if to.is_none() {
            if !self.refresh(book_no)? {
                return Err(AppError::UnknownBook(book_no.to_owned()));
            }
            return self.books.get(book_no).map(|l| l.ledger.clone()).ok_or_else(|| AppError::UnknownBook(book_no.to_owned()));
        }
        let rec = self.store.book(book_no)?.ok_or_else(|| AppError::UnknownBook(book_no.to_owned()))?;
        let mut ledger = BookLedger::new(book_from_record(&rec, &self.policy)?);
        self.store.for_each_list(book_no, 0, to, &mut |s| ledger.replay(&s.list, &s.versions).map_err(|r| StoreError::Corrupt(format!("posted list {} no longer applies: {r}", s.list.list_no))))?;
        Ok(ledger)
    }

    /// Files a book or a change (变更) to it, from the text of a book document.
    pub fn import_book(&mut self, text: &str, source: &str) -> Result<BookImported, AppError> {
        let doc = doc::parse_book(text, source)?;
        self.import_book_doc(doc, source)
    }

    pub fn import_book_doc(&mut self, doc: BookDoc, source: &str) -> Result<BookImported, AppError> {
        let book = Book::from_doc(doc.clone(), &self.policy).map_err(|error| AppError::Book { source_name: source.to_owned(), error })?;
        let book_no = book.book_no.clone();
        let doc_json = serde_json::to_string(&doc).map_err(|e| StoreError::Database(e.to_string()))?;
        self.store.begin_write(&[&book_no])?;
        let result = self.import_locked(book, doc_json, source);
        match result {
            Ok(r) => {
                if r.status != "unchanged" {
                    if let Err(e) = self.store.commit() {
                        self.books.remove(&book_no);
                        let _ = self.store.rollback();
                        return Err(e.into());
                    }
                } else {
                    self.store.rollback()?;
                }
                Ok(r)
            }
            Err(e) => {
                self.books.remove(&book_no);
                let _ = self.store.rollback();
                Err(e)
            }
        }
    }

    fn import_locked(&mut self, book: Book, doc_json: String, source: &str) -> Result<BookImported, AppError> {
        let book_no = book.book_no.clone();
        if !self.refresh(&book_no)? {
            self.store.file_book(&BookRecord { book_no: book_no.clone(), revision: 1, doc_json }, &[])?;
            self.books.insert(book_no.clone(), Loaded { ledger: BookLedger::new(book), revision: 1, last_id: 0, unsaved_lines: 0 });
            return Ok(BookImported { book_no, revision: 1, status: "filed", resolved_lines: 0 });
        }
        let Some(loaded) = self.books.get(&book_no) else { return Err(AppError::UnknownBook(book_no)) };
        if loaded.ledger.book().doc == book.doc {
            return Ok(BookImported { book_no, revision: loaded.revision, status: "unchanged", resolved_lines: 0 });
        }
        let mut history = Vec::new();
        self.store.for_each_list(&book_no, 0, None, &mut |s| {
            history.push(s);
            Ok(())
        })?;
        let (next, resolved) = loaded.ledger.rebook(book, history.iter().map(|s| (&s.list, s.versions.as_slice()))).map_err(|error| AppError::Book { source_name: source.to_owned(), error })?;
        let revision = loaded.revision + 1;
        let last_id = history.last().map_or(0, |s| s.id);
        let resolutions: Vec<Resolution> = resolved.into_iter().map(|(list_no, line, version)| Resolution { list_no, line, version }).collect();
        self.store.file_book(&BookRecord { book_no: book_no.clone(), revision, doc_json }, &resolutions)?;
        let n = resolutions.len();
        let unsaved_lines = next.lines_posted();
        self.books.insert(book_no.clone(), Loaded { ledger: next, revision, last_id, unsaved_lines });
        Ok(BookImported { book_no, revision, status: "changed", resolved_lines: n })
    }

    /// Posts the lists of one file (or request) in order, in one transaction (group commit).
    /// Malformed lists come in as `Err` and are rejected without stopping the others.
    pub fn post_lists(&mut self, lists: Vec<Result<ListDoc, DocError>>) -> Result<Vec<ListOutcome>, AppError> {
        let mut book_nos: Vec<String> = lists.iter().filter_map(|l| l.as_ref().ok().map(|l| l.book_no.clone())).collect();
        book_nos.sort();
        book_nos.dedup();
        let names: Vec<&str> = book_nos.iter().map(String::as_str).collect();
        self.store.begin_write(&names)?;
        match self.post_locked(lists, &book_nos) {
            Ok((outcomes, postings)) => {
                let committed = if postings.is_empty() { self.store.rollback() } else { self.commit_postings(&postings) };
                if let Err(e) = committed {
                    for b in &book_nos {
                        self.books.remove(b);
                    }
                    let _ = self.store.rollback();
                    return Err(e.into());
                }
                Ok(outcomes)
            }
            Err(e) => {
                for b in &book_nos {
                    self.books.remove(b);
                }
                let _ = self.store.rollback();
                Err(e)
            }
        }
    }

    fn commit_postings(&mut self, postings: &[Posting]) -> Result<(), StoreError> {
        let ids = self.store.append_lists(postings)?;
        self.store.commit()?;
        let mut due = Vec::new();
        for (p, id) in postings.iter().zip(ids) {
            if let Some(l) = self.books.get_mut(&p.list.book_no) {
                l.last_id = l.last_id.max(id);
                l.unsaved_lines += p.list.lines.len() as u64;
                if self.checkpoint_lines > 0 && l.unsaved_lines >= self.checkpoint_lines && !due.contains(&p.list.book_no) {
                    due.push(p.list.book_no.clone());
                }
            }
        }
        for b in due {
            // A checkpoint is derived state: failing to save one loses nothing, so it is not an error
            // of the posting that has already committed.
            let _ = self.save_checkpoint(&b);
        }
        Ok(())
    }

    /// Saves a checkpoint of a book's derived state in its own transaction.
    fn save_checkpoint(&mut self, book_no: &str) -> Result<(), StoreError> {
        let Some(l) = self.books.get_mut(book_no) else { return Ok(()) };
        let state = serde_json::to_string(&l.ledger.snapshot()).map_err(|e| StoreError::Database(e.to_string()))?;
        let (revision, last_id) = (l.revision, l.last_id);
        l.unsaved_lines = 0;
        self.store.begin_write(&[book_no])?;
        let saved = self.store.save_checkpoint(book_no, revision, last_id, &state).and_then(|_| self.store.commit());
        if saved.is_err() {
            let _ = self.store.rollback();
        }
        saved
    }

    fn post_locked(&mut self, lists: Vec<Result<ListDoc, DocError>>, book_nos: &[String]) -> Result<(Vec<ListOutcome>, Vec<Posting>), AppError> {
        for b in book_nos {
            self.refresh(b)?;
        }
        let mut outcomes = Vec::with_capacity(lists.len());
        let mut postings: Vec<Posting> = Vec::new();
        let mut in_batch: BTreeMap<String, usize> = BTreeMap::new();
        for item in lists {
            let list = match item {
                Ok(l) => l,
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
            let earlier = match in_batch.get(&list_no).and_then(|i| postings.get(*i)) {
                Some(p) => Some(p.canonical.clone()),
                None => self.store.posted_canonical(&list_no)?,
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
            match loaded.ledger.post(list) {
                Ok(p) => {
                    in_batch.insert(list_no.clone(), postings.len());
                    postings.push(p);
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
        let ledger = self.ledger_to(book_no, as_of)?;
        Ok(report::balance(&ledger, as_of))
    }

    /// The 报核 report up to a date, with a stocktake when given.
    pub fn reconcile(&mut self, book_no: &str, to: Option<NaiveDate>, stocktake: Option<(&StocktakeDoc, &str)>) -> Result<ReconcileReport, AppError> {
        let ledger = self.ledger_to(book_no, to)?;
        report::reconcile(&ledger, stocktake.map(|s| s.0)).map_err(|error| AppError::Book { source_name: stocktake.map_or(String::new(), |s| s.1.to_owned()), error })
    }

    /// The current in-memory ledger of a book (brought up to date first).
    pub fn ledger(&mut self, book_no: &str) -> Result<Option<&BookLedger>, AppError> {
        if !self.refresh(book_no)? {
            return Ok(None);
        }
        Ok(self.books.get(book_no).map(|l| &l.ledger))
    }

    /// A ledger recomputed from scratch from the posted lines (to check the in-memory one).
    pub fn recompute(&mut self, book_no: &str) -> Result<BookLedger, AppError> {
        let rec = self.store.book(book_no)?.ok_or_else(|| AppError::UnknownBook(book_no.to_owned()))?;
        let mut ledger = BookLedger::new(book_from_record(&rec, &self.policy)?);
        self.store.for_each_list(book_no, 0, None, &mut |s| ledger.replay(&s.list, &s.versions).map_err(|r| StoreError::Corrupt(r.to_string())))?;
        Ok(ledger)
    }

    /// Every book's latest revision.
    pub fn books(&mut self) -> Result<Vec<BookRecord>, AppError> {
        Ok(self.store.books()?)
    }
}
