//! The prohibited and restricted catalogs (RULES.md §13) and the approval list (RULES.md §2.3) as
//! policy documents, their impact, and the admission checks of filing and posting.
//!
//! A catalog version is a policy document of kind `catalog` named by the loader: the same name with
//! the same content again is a no-op, other content under a taken name is refused. Decisions read the
//! latest loaded version (a new version replaces the previous one as a whole; time travel happens
//! inside it, by the entries' dates: `jiamao_domain::catalog`). Loading reports its impact first,
//! computed against the version in force before it: every book and item the loader may read that the
//! new version newly prohibits or restricts (or no longer does), from the impact date on.
//!
//! Settings (the §13.1 transition, default on) are dated policy documents of kind `catalog_settings`
//! named by their first day; the approval list is the project's built-in table unless a list was
//! loaded (kind `approval_required`, the latest wins).
//!
//! Loads write an audit link in the system chain; a catalog load emits the national event
//! `catalog_loaded`.

use crate::{AppError, Engine};
use chrono::NaiveDate;
use jiamao_domain::access::{Action, Target};
use jiamao_domain::audit::SYSTEM_CHAIN;
use jiamao_domain::book::{Book, BookError};
use jiamao_domain::catalog::{self, ApprovalList, ApprovalRule, CatalogDiff, CatalogEntry, CatalogPolicy, CatalogSettings, CatalogVersion, Catalogs, ItemImpact};
use jiamao_domain::doc::{BookDoc, ListDoc};
use jiamao_domain::ledger::Rejection;
use jiamao_store::{PolicyRecord, Store, StoreError};
use serde::Serialize;

const CATALOG: &str = "catalog";
const SETTINGS: &str = "catalog_settings";
const APPROVALS: &str = "approval_required";

/// The impact of a catalog version before it is loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogImpact {
    pub version: String,
    /// The version in force before (none: the first catalog).
    pub previous: Option<String>,
    /// The first day counted: days before it are not reported.
    pub as_of: NaiveDate,
    pub entries: usize,
    /// Keys added, removed and changed against the previous version.
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    /// The books with at least one item in `items`.
    pub books: Vec<String>,
    /// Every item of every book (that the loader may read) whose catalog status changes, with the
    /// days and the entry.
    pub items: Vec<ItemImpact>,
    /// Every guarantee whose required amount changes on `as_of` (books of `books`).
    pub guarantees: Vec<crate::guarantee::GuaranteeChange>,
}

/// What loading a catalog version did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogLoad {
    pub name: String,
    /// `loaded`, or `unchanged` when the same version was loaded before (then nothing changes and the
    /// impact lists nothing).
    pub status: &'static str,
    pub impact: CatalogImpact,
}

/// `jiamao catalog check --json` (FORMAT.md): the entries in force on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogCheck {
    pub hs_code: String,
    pub date: NaiveDate,
    /// The version answering (none when no catalog is loaded).
    pub version: Option<String>,
    pub entries: Vec<CatalogEntry>,
}

/// One loaded version (`jiamao catalog list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogVersionInfo {
    pub name: String,
    pub entries: usize,
    pub valid_from: Option<NaiveDate>,
    /// Whether this is the version in force (the latest loaded).
    pub in_force: bool,
}

/// The catalog a batch of lists is checked against: the version in force and the settings.
pub(crate) struct CatalogState {
    version: CatalogVersion,
    settings: CatalogSettings,
}

impl CatalogState {
    /// The version in force (the latest loaded).
    pub(crate) fn version(&self) -> &CatalogVersion {
        &self.version
    }

    /// The dated settings (the §13.1 transition).
    pub(crate) fn settings(&self) -> &CatalogSettings {
        &self.settings
    }
}

/// The posting check of one list (RULES.md §13.1): `Some` refusal (rule `catalog_prohibited`) or
/// `None`. No catalog loaded: nothing to check.
pub(crate) fn refuse_list(state: Option<&CatalogState>, book: &Book, list: &ListDoc) -> Option<Rejection> {
    let s = state?;
    catalog::check_list(s.version(), s.settings(), book, list)
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Store(StoreError::Corrupt(format!("{what}: {e}")))
}

fn refused(source: &str, at: &str, rule: &'static str, message: String) -> AppError {
    AppError::Book { source_name: source.to_owned(), error: BookError { at: at.to_owned(), rule, message } }
}

fn version_of(p: &PolicyRecord) -> Result<CatalogVersion, AppError> {
    let entries: Vec<CatalogEntry> = serde_json::from_str(&p.body).map_err(|e| corrupt(&format!("catalog {}", p.name), e))?;
    Ok(CatalogVersion::unchecked(&p.name, entries))
}

impl<S: Store> Engine<S> {
    /// Today, as the acting context gives it (the library never reads the clock).
    fn catalog_today(&self) -> NaiveDate {
        self.ctx.now.date_naive()
    }

    /// Appends a policy document (same name and content: `unchanged`; other content: refused), with
    /// its audit link in the system chain and, when given, the event `catalog_loaded`.
    fn put_catalog_policy(&mut self, kind: &str, name: &str, valid_from: NaiveDate, body: String, detail: serde_json::Value, event: Option<serde_json::Value>) -> Result<&'static str, AppError> {
        if name.trim().is_empty() {
            return Err(refused(kind, "--version", "policy_name_empty", format!("a {kind} needs a name")));
        }
        self.write(&[], |me| {
            if let Some(old) = me.store.policy(kind, name)? {
                if old.body == body && old.valid_from == valid_from {
                    return Ok(("unchanged", false));
                }
                return Err(refused(kind, "--version", "policy_name_taken", format!("a {kind} named {name} is already loaded with other content; load this one under another name")));
            }
            me.store.append_policy(&PolicyRecord { id: 0, kind: kind.to_owned(), name: name.to_owned(), valid_from, body: body.clone() })?;
            let mut detail = detail.clone();
            detail["digest"] = serde_json::Value::String(jiamao_domain::audit::sha256_hex(body.as_bytes()));
            me.audit_link(SYSTEM_CHAIN, &format!("load_{kind}"), &format!("{kind} {name}"), "ok", &detail.to_string())?;
            if let Some(ev) = &event {
                me.emit("", "catalog_loaded", ev.clone())?;
            }
            Ok(("loaded", true))
        })
    }

    /// Every stored catalog version, in load order (no authorization: internal).
    fn stored_catalogs(&mut self) -> Result<Catalogs, AppError> {
        let mut out = Catalogs::new();
        for p in self.store.policies(CATALOG)? {
            out.add(version_of(&p)?);
        }
        Ok(out)
    }

    fn stored_settings(&mut self) -> Result<CatalogSettings, AppError> {
        let mut s = CatalogSettings::default();
        for p in self.store.policies(SETTINGS)? {
            let policy: CatalogPolicy = serde_json::from_str(&p.body).map_err(|e| corrupt(&format!("catalog settings {}", p.name), e))?;
            s.add(p.valid_from, policy);
        }
        Ok(s)
    }

    fn stored_approvals(&mut self) -> Result<ApprovalList, AppError> {
        let Some(p) = self.store.policies(APPROVALS)?.pop() else { return Ok(ApprovalList::builtin()) };
        let rules: Vec<ApprovalRule> = serde_json::from_str(&p.body).map_err(|e| corrupt(&format!("approval list {}", p.name), e))?;
        Ok(ApprovalList { name: p.name, rules })
    }

    /// The catalog the checks read: the latest loaded version (only it is decoded) and the settings.
    /// Decoded once and kept while the stored documents (the latest version and the settings) stay
    /// the same: posting reads it once per batch.
    pub(crate) fn catalog_in_force(&mut self) -> Result<Option<std::sync::Arc<CatalogState>>, AppError> {
        let Some(p) = self.store.policies(CATALOG)?.pop() else { return Ok(None) };
        let mut ids = vec![p.id];
        ids.extend(self.store.policies(SETTINGS)?.iter().map(|x| x.id));
        if let Some((cached, state)) = &self.catalog_cache {
            if *cached == ids {
                return Ok(Some(std::sync::Arc::clone(state)));
            }
        }
        let version = version_of(&p)?;
        let state = std::sync::Arc::new(CatalogState { version, settings: self.stored_settings()? });
        self.catalog_cache = Some((ids, std::sync::Arc::clone(&state)));
        Ok(Some(state))
    }

    /// The admission checks of a filing or change (RULES.md §13, §2.3): a filing checks every item on
    /// the book's `valid_from`; a change checks the items it adds or alters, on the later of the book's
    /// `valid_from` and today. A prohibited item is refused (`catalog_prohibited`), and so is an item
    /// needing the commerce department's approval without `approval_ref` (`approval_required`).
    pub(crate) fn check_admission(&mut self, book: &Book, source: &str) -> Result<(), AppError> {
        let previous: Option<BookDoc> = match self.book_key(&book.book_no)? {
            Some(key) => match self.store.book(&key)? {
                Some(rec) => Some(serde_json::from_str(&rec.doc_json).map_err(|e| corrupt(&format!("book {}", book.book_no), e))?),
                None => None,
            },
            None => None,
        };
        let changed = catalog::changed_items(previous.as_ref(), &book.doc);
        if changed.is_empty() {
            return Ok(());
        }
        let (date, only) = match previous {
            Some(_) => (book.valid_from.max(self.catalog_today()), Some(&changed)),
            None => (book.valid_from, None),
        };
        let bad = |error: BookError| AppError::Book { source_name: source.to_owned(), error };
        if let Some(state) = self.catalog_in_force()? {
            catalog::check_book(&state.version, &book.doc, date, only).map_err(bad)?;
        }
        let approvals = self.stored_approvals()?;
        catalog::check_approvals(&approvals, &book.doc, date, only).map_err(bad)
    }

    /// Every loaded catalog version, in load order.
    pub fn catalogs(&mut self) -> Result<Catalogs, AppError> {
        self.authorize(Action::ReadPolicy, &Target::default(), "catalog")?;
        self.stored_catalogs()
    }

    /// The loaded versions (`jiamao catalog list`).
    pub fn catalog_versions(&mut self) -> Result<Vec<CatalogVersionInfo>, AppError> {
        let cats = self.catalogs()?;
        let n = cats.versions().len();
        Ok(cats.versions().iter().enumerate().map(|(i, v)| CatalogVersionInfo { name: v.name().to_owned(), entries: v.entries().len(), valid_from: v.valid_from(), in_force: i + 1 == n }).collect())
    }

    /// The difference between two loaded versions, by key.
    pub fn catalog_diff(&mut self, from: &str, to: &str) -> Result<CatalogDiff, AppError> {
        let cats = self.catalogs()?;
        let find = |name: &str, at: &str| cats.version(name).ok_or_else(|| refused("catalog", at, "catalog_unknown", format!("no catalog version named {name} is loaded (jiamao catalog list)")));
        Ok(catalog::diff(find(from, "v1")?, find(to, "v2")?))
    }

    /// The entries in force for an HS code on a date, every direction (FORMAT.md `catalog check`): of
    /// the latest loaded version, by the entries' dates, so a past date answers with what was then in
    /// force.
    pub fn catalog_check(&mut self, hs: &str, date: NaiveDate) -> Result<CatalogCheck, AppError> {
        let code = jiamao_domain::codes::HsCode::parse(hs).map_err(|e| refused("catalog check", "hs_code", "hs_code", e.to_string()))?;
        self.authorize(Action::ReadPolicy, &Target::default(), "catalog")?;
        let state = self.catalog_in_force()?;
        let entries = state.as_ref().map(|s| s.version.in_force(code.as_str(), date).into_iter().cloned().collect()).unwrap_or_default();
        Ok(CatalogCheck { hs_code: code.as_str().to_owned(), date, version: state.map(|s| s.version.name().to_owned()), entries })
    }

    /// The impact of loading `entries` as version `name`, without loading it: against the version in
    /// force, from `as_of` (default today) on, over the books the acting principal may read. A name
    /// already taken by other content is refused here too.
    pub fn impact_preview(&mut self, name: &str, entries: &[CatalogEntry], as_of: Option<NaiveDate>) -> Result<CatalogImpact, AppError> {
        self.authorize(Action::LoadPolicy, &Target::default(), &format!("catalog {name}"))?;
        let new = CatalogVersion::new(name, entries.to_vec()).map_err(|p| refused(&format!("catalog {name}"), "entries", "catalog_invalid", p.join("; ")))?;
        if let Some(old) = self.store.policy(CATALOG, name)? {
            if old.body != serde_json::to_string(entries).map_err(|e| corrupt("catalog", e))? {
                return Err(refused(CATALOG, "--version", "policy_name_taken", format!("a catalog named {name} is already loaded with other content; load this one under another name")));
            }
        }
        self.impact_of(&new, as_of)
    }

    fn impact_of(&mut self, new: &CatalogVersion, as_of: Option<NaiveDate>) -> Result<CatalogImpact, AppError> {
        let as_of = as_of.unwrap_or_else(|| self.catalog_today());
        let old = self.catalog_in_force()?;
        let settings = match &old {
            Some(s) => s.settings.clone(),
            None => self.stored_settings()?,
        };
        let old = old.map(|s| s.version.clone());
        let (added, removed, changed) = match &old {
            Some(o) => {
                let d = catalog::diff(o, new);
                (d.added.len(), d.removed.len(), d.changed.len())
            }
            None => (new.entries().iter().map(|e| e.key()).collect::<std::collections::BTreeSet<_>>().len(), 0, 0),
        };
        // Whoever may load a catalog sees every book it touches (the impact is the point of loading).
        let records = self.store.books()?;
        let mut docs: Vec<(String, BookDoc)> = Vec::with_capacity(records.len());
        for r in records {
            let doc: BookDoc = serde_json::from_str(&r.doc_json).map_err(|e| corrupt(&format!("book {}", r.key.book_no), e))?;
            docs.push((r.key.enterprise, doc));
        }
        let refs: Vec<catalog::BookRef<'_>> = docs.iter().map(|(e, d)| (e.as_str(), d)).collect();
        let items = catalog::impact(old.as_ref(), new, &refs, as_of, &settings);
        let mut books: Vec<String> = items.iter().map(|i| i.book_no.clone()).collect();
        books.sort();
        books.dedup();
        let guarantees = self.guarantee_changes(new, &docs, &books, as_of)?;
        Ok(CatalogImpact { version: new.name().to_owned(), previous: old.map(|o| o.name().to_owned()), as_of, entries: new.entries().len(), added, removed, changed, books, items, guarantees })
    }

    /// Loads a catalog version (`jiamao catalog load … --yes`), reporting its impact from today on.
    pub fn load_catalog(&mut self, name: &str, entries: Vec<CatalogEntry>) -> Result<CatalogLoad, AppError> {
        self.load_catalog_as_of(name, entries, None)
    }

    /// Loads a catalog version, with its impact computed before storing, from `as_of` (default today)
    /// on. The same name with the same content is a no-op (`unchanged`, empty impact); other content
    /// under a taken name is refused.
    pub fn load_catalog_as_of(&mut self, name: &str, entries: Vec<CatalogEntry>, as_of: Option<NaiveDate>) -> Result<CatalogLoad, AppError> {
        self.authorize(Action::LoadPolicy, &Target::default(), &format!("catalog {name}"))?;
        let new = CatalogVersion::new(name, entries).map_err(|p| refused(&format!("catalog {name}"), "entries", "catalog_invalid", p.join("; ")))?;
        let body = serde_json::to_string(new.entries()).map_err(|e| corrupt("catalog", e))?;
        let valid_from = new.valid_from().unwrap_or_default();
        if let Some(old) = self.store.policy(CATALOG, name)? {
            if old.body == body {
                let previous = self.store.policies(CATALOG)?.pop().map(|p| p.name);
                let impact = CatalogImpact {
                    version: name.to_owned(),
                    previous,
                    as_of: as_of.unwrap_or_else(|| self.catalog_today()),
                    entries: new.entries().len(),
                    added: 0,
                    removed: 0,
                    changed: 0,
                    books: Vec::new(),
                    items: Vec::new(),
                    guarantees: Vec::new(),
                };
                return Ok(CatalogLoad { name: name.to_owned(), status: "unchanged", impact });
            }
        }
        let impact = self.impact_of(&new, as_of)?;
        let detail = serde_json::json!({"name": name, "entries": impact.entries, "previous": impact.previous, "books": impact.books.len(), "items": impact.items.len()});
        let event = serde_json::json!({"name": name, "valid_from": valid_from, "entries": impact.entries, "previous": impact.previous, "added": impact.added, "removed": impact.removed, "changed": impact.changed, "books": impact.books});
        let status = self.put_catalog_policy(CATALOG, name, valid_from, body, detail, Some(event))?;
        Ok(CatalogLoad { name: name.to_owned(), status, impact })
    }

    /// The items of a book that restricted entries in force on `date` match, with the entry: (item seq,
    /// is_material, entry). Guarantees read them (`CatalogEntry::is_shizhuan` for 实转). Empty when no
    /// catalog is loaded.
    pub fn restricted_items(&mut self, book_no: &str, date: NaiveDate) -> Result<Vec<(u32, bool, CatalogEntry)>, AppError> {
        let key = self.guard_book(Action::ReadBook, book_no)?;
        let rec = self.store.book(&key)?.ok_or_else(|| AppError::UnknownBook(book_no.to_owned()))?;
        let doc: BookDoc = serde_json::from_str(&rec.doc_json).map_err(|e| corrupt(&format!("book {book_no}"), e))?;
        let Some(state) = self.catalog_in_force()? else { return Ok(Vec::new()) };
        Ok(catalog::restricted_items(state.version(), &doc, date).into_iter().map(|(seq, is_material, e)| (seq, is_material, e.clone())).collect())
    }

    /// The dated catalog settings (the §13.1 transition; default on).
    pub fn catalog_settings(&mut self) -> Result<CatalogSettings, AppError> {
        self.authorize(Action::ReadPolicy, &Target::default(), "catalog settings")?;
        self.stored_settings()
    }

    /// Sets the catalog settings from a date (a policy document named by the date; one per date).
    pub fn set_catalog_settings(&mut self, from: NaiveDate, policy: CatalogPolicy) -> Result<&'static str, AppError> {
        let name = from.to_string();
        self.authorize(Action::LoadPolicy, &Target::default(), &format!("catalog settings {name}"))?;
        let body = serde_json::to_string(&policy).map_err(|e| corrupt("catalog settings", e))?;
        let detail = serde_json::json!({"from": name, "transition": policy.transition});
        self.put_catalog_policy(SETTINGS, &name, from, body, detail, None)
    }

    /// The approval list in force: the latest loaded, else the built-in one.
    pub fn approval_list(&mut self) -> Result<ApprovalList, AppError> {
        self.authorize(Action::ReadPolicy, &Target::default(), "approval list")?;
        self.stored_approvals()
    }

    /// Loads an approval list (replacing the built-in one, and any loaded before, as a whole).
    pub fn load_approval_list(&mut self, name: &str, rules: Vec<ApprovalRule>) -> Result<&'static str, AppError> {
        self.authorize(Action::LoadPolicy, &Target::default(), &format!("approval list {name}"))?;
        let valid_from = rules.iter().map(|r| r.valid_from).min().unwrap_or_default();
        let body = serde_json::to_string(&rules).map_err(|e| corrupt("approval list", e))?;
        let detail = serde_json::json!({"name": name, "rules": rules.len()});
        self.put_catalog_policy(APPROVALS, name, valid_from, body, detail, None)
    }
}
