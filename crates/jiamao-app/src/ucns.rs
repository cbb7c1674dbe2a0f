//! 单耗 against the national standards (RULES.md §4.5), customs' review of 单耗 versions (质疑 /
//! 磋商, RULES.md §4.6) and enterprise self-verification (企业自核单耗, RULES.md §4.8).
//!
//! - **Standards** are policy documents of kind `ucns_norms` (national data, loaded like a tariff:
//!   the same document twice is a no-op, other content under a taken name is refused). A check
//!   uses every document loaded (as of a date when asked), a later document replacing the rows of
//!   a standard an earlier one gave (`norms::Norms::merged`), or a file the caller hands in.
//! - **Review** of each 单耗 version (product, version) is kept as append-only enterprise records of
//!   kind `ucns_review`, key `<book_no>/<product_seq>/<version>/<n>`, one per transition: declared →
//!   questioned (质疑) → consulting (磋商) → accepted | adjusted (`norms::review_transition`). A
//!   version without any record is `declared`; a version of an enterprise eligible for
//!   self-verification on the version's first day is `accepted` (self-verified) from its declaration.
//! - **Decision: the review is customs' check, not a gate.** A declared, questioned or consulting
//!   version stays usable for posting lists: Order 155 has the enterprise declare 单耗 and customs
//!   verify it afterwards; holding up exports while customs questions a version is not what the
//!   sources describe. An `adjusted` version names its replacement, which the enterprise files as a
//!   book change (变更); lists already posted keep the version they used (the ledger's rule).
//! - **Eligibility** for self-verification is UNCONFIRMED (RULES.md §4.8): for now a policy — an
//!   enterprise is eligible on a date when its latest `self_verification` record from on or before
//!   that date says `allowed: true` ([`Engine::self_verification_allowed`], the one place to
//!   replace when eligibility is derived from credit classes).

use crate::tax::{PolicyLoaded, Recorded};
use crate::{AppError, Engine};
use chrono::NaiveDate;
use jiamao_domain::access::{Action, Target};
use jiamao_domain::audit::SYSTEM_CHAIN;
use jiamao_domain::book::{Book, BookError};
use jiamao_domain::norms::{self, CheckSettings, Hs2022, LineCheck, Norms, ReviewAction, ReviewState, Summary, Verdict};
use jiamao_store::{BookKey, EnterpriseRecord, PolicyRecord, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Policy documents of national 单耗 standards.
pub const NORMS_KIND: &str = "ucns_norms";
/// Enterprise records: one transition of a 单耗 version's review.
pub const REVIEW_KIND: &str = "ucns_review";
/// Enterprise records (no book): whether the enterprise may self-verify its 单耗, from a date.
pub const SELF_VERIFICATION_KIND: &str = "self_verification";

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Store(StoreError::Corrupt(format!("{what}: {e}")))
}

/// A refusal about a book's 单耗, with its rule.
fn refused(book_no: &str, at: String, rule: &'static str, message: String) -> AppError {
    AppError::Book { source_name: format!("book {book_no}"), error: BookError { at, rule, message } }
}

/// What a check compares with, beside the book.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions<'a> {
    /// Standards given directly (a file); else the loaded `ucns_norms` documents.
    pub norms: Option<&'a Norms>,
    /// The HS 2022 subheadings; without them codes match as written (and the result says so).
    pub hs2022: Option<&'a Hs2022>,
    /// Products taxable on export: their standard is a minimum (RULES.md §4.5).
    pub export_taxable: BTreeSet<u32>,
    /// Use the documents loaded with `valid_from` on or before this date (default: all).
    pub as_of: Option<NaiveDate>,
}

/// The standards a check used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NormsUsed {
    /// `given` (a file handed in) or `loaded` (policy documents).
    pub source: &'static str,
    /// The loaded documents' names, in load order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<String>,
    pub rows: usize,
    pub standards: usize,
}

/// Whether codes were checked against HS 2022.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HsUsed {
    pub checked: bool,
    pub subheadings: usize,
    pub note: String,
}

impl HsUsed {
    fn of(hs: Option<&Hs2022>) -> Self {
        match hs {
            Some(h) => HsUsed {
                checked: true,
                subheadings: h.len(),
                note: "standard codes matched to today's through the HS 2022 subheadings (6 digits); national 8/10-digit subdivisions not checked".to_owned(),
            },
            None => HsUsed { checked: false, subheadings: 0, note: "no HS 2022 nomenclature given: standard codes matched as written, their correspondence not checked".to_owned() },
        }
    }
}

/// `jiamao ucns check`: every 单耗 line of a book against the standards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsumptionCheck {
    pub book_no: String,
    pub norms: NormsUsed,
    pub hs2022: HsUsed,
    pub summary: Summary,
    pub lines: Vec<LineCheck>,
}

/// A loaded standards document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NormsDocument {
    pub name: String,
    pub valid_from: NaiveDate,
    pub rows: usize,
    pub standards: Vec<String>,
}

/// Whether an enterprise may self-verify its 单耗 (企业自核单耗), from a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfVerificationDoc {
    pub allowed: bool,
    #[serde(deserialize_with = "jiamao_domain::date::deserialize")]
    pub from: NaiveDate,
    /// The decision or rule it rests on.
    #[serde(default)]
    pub basis: String,
}

/// One transition of a version's review, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewStep {
    pub product_seq: u32,
    pub version: String,
    /// 1, 2, … within the version.
    pub n: u32,
    pub action: ReviewAction,
    pub from: ReviewState,
    pub to: ReviewState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    pub by: String,
    pub role: String,
    pub at: String,
}

/// One 单耗 version in the review queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionReview {
    pub product_seq: u32,
    pub product_hs: String,
    pub version: String,
    pub valid_from: NaiveDate,
    pub state: ReviewState,
    /// Accepted from its declaration by self-verification (no review recorded).
    pub self_verified: bool,
    /// Still open to customs' review (not accepted or adjusted).
    pub open: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    /// Whether the replacement version has been filed in the book (when adjusted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement_filed: Option<bool>,
    /// Lines above the maximum, below the minimum, or depending on the specification.
    pub flagged_lines: usize,
    pub history: Vec<ReviewStep>,
    pub lines: Vec<LineCheck>,
}

/// `jiamao ucns reviews`: the book's 单耗 versions with their review states and norm comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UcnsReviews {
    pub book_no: String,
    pub enterprise: String,
    pub master_customs: String,
    pub norms: NormsUsed,
    pub hs2022: HsUsed,
    /// Versions by state.
    pub states: BTreeMap<&'static str, usize>,
    pub versions: Vec<VersionReview>,
}

/// What a review did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reviewed {
    pub book_no: String,
    pub product_seq: u32,
    pub version: String,
    pub n: u32,
    pub action: ReviewAction,
    pub from: ReviewState,
    pub to: ReviewState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

fn is_flagged(v: Verdict) -> bool {
    matches!(v, Verdict::AboveMaximum | Verdict::BelowMinimum | Verdict::SpecDependent)
}

impl<S: Store> Engine<S> {
    // ---- Standards --------------------------------------------------------------------------

    /// Loads national 单耗 standards as a policy document (`jiamao ucns norms load`); the same
    /// document twice is a no-op, other content under a taken name is refused.
    pub fn load_ucns_norms(&mut self, name: &str, valid_from: NaiveDate, norms: &Norms) -> Result<PolicyLoaded, AppError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::Input("a standards document needs a name".to_owned()));
        }
        if norms.is_empty() {
            return Err(AppError::Input(format!("standards document {name} has no rows")));
        }
        self.authorize(Action::LoadPolicy, &Target::default(), &format!("{NORMS_KIND} {name}"))?;
        let body = serde_json::to_string(norms).map_err(|e| corrupt("ucns norms", e))?;
        let entries = norms.len();
        let status = self.write(&[], |me| {
            if let Some(old) = me.store.policy(NORMS_KIND, name)? {
                if old.body == body {
                    return Ok(("unchanged", false));
                }
                return Err(AppError::Input(format!("a {NORMS_KIND} document named {name} (from {}) is already loaded with other content; load this one under another name", old.valid_from)));
            }
            me.store.append_policy(&PolicyRecord { id: 0, kind: NORMS_KIND.to_owned(), name: name.to_owned(), valid_from, body: body.clone() })?;
            let detail = serde_json::json!({"name": name, "valid_from": valid_from, "entries": entries, "digest": jiamao_domain::audit::sha256_hex(body.as_bytes())}).to_string();
            me.audit_link(SYSTEM_CHAIN, "load_ucns_norms", &format!("{NORMS_KIND} {name}"), "ok", &detail)?;
            me.emit("", "ucns_norms_loaded", serde_json::json!({"name": name, "valid_from": valid_from, "entries": entries}))?;
            Ok(("loaded", true))
        })?;
        Ok(PolicyLoaded { kind: NORMS_KIND.to_owned(), name: name.to_owned(), valid_from, status, entries })
    }

    /// The loaded standards documents.
    pub fn ucns_norm_documents(&mut self) -> Result<Vec<NormsDocument>, AppError> {
        self.authorize(Action::ReadPolicy, &Target::default(), NORMS_KIND)?;
        let mut out = Vec::new();
        for p in self.store.policies(NORMS_KIND)? {
            let n: Norms = serde_json::from_str(&p.body).map_err(|e| corrupt(&format!("{NORMS_KIND} {}", p.name), e))?;
            out.push(NormsDocument { name: p.name, valid_from: p.valid_from, rows: n.len(), standards: n.standards().into_iter().map(str::to_owned).collect() });
        }
        Ok(out)
    }

    /// The standards a check uses: the given ones, or the loaded documents (as of a date) merged.
    fn norms_for(&mut self, opts: &CheckOptions<'_>) -> Result<(Norms, NormsUsed), AppError> {
        if let Some(n) = opts.norms {
            return Ok((n.clone(), NormsUsed { source: "given", documents: Vec::new(), rows: n.len(), standards: n.standards().len() }));
        }
        let mut docs = Vec::new();
        let mut names = Vec::new();
        for p in self.store.policies(NORMS_KIND)?.into_iter().filter(|p| opts.as_of.is_none_or(|d| p.valid_from <= d)) {
            docs.push(serde_json::from_str::<Norms>(&p.body).map_err(|e| corrupt(&format!("{NORMS_KIND} {}", p.name), e))?);
            names.push(p.name);
        }
        let merged = Norms::merged(docs);
        let used = NormsUsed { source: "loaded", documents: names, rows: merged.len(), standards: merged.standards().len() };
        Ok((merged, used))
    }

    /// The latest revision of a book.
    fn ucns_book(&mut self, key: &BookKey) -> Result<Book, AppError> {
        let rec = self.store.book(key)?.ok_or_else(|| AppError::UnknownBook(key.book_no.clone()))?;
        Ok(crate::book_from_record(&rec, &self.policy)?)
    }

    /// Every 单耗 line of a book (every version of every product) against the national standards
    /// (RULES.md §4.5): above the maximum, below the minimum for export-taxable products, within,
    /// or no standard; each match citing the standard and saying how sure its HS match is.
    pub fn consumption_check(&mut self, book_no: &str, opts: &CheckOptions<'_>) -> Result<ConsumptionCheck, AppError> {
        let key = self.guard_book(Action::ReadReport, book_no)?;
        let (norms, used) = self.norms_for(opts)?;
        if norms.is_empty() {
            return Err(AppError::Input("no 单耗 standards to compare with: load a file (jiamao ucns norms load) or give one (--norms)".to_owned()));
        }
        let book = self.ucns_book(&key)?;
        let settings = CheckSettings { hs2022: opts.hs2022, export_taxable: &opts.export_taxable, uc_places: self.policy.uc_decimal_places };
        let lines = norms::check_book(&book, &norms, &settings);
        Ok(ConsumptionCheck { book_no: book_no.to_owned(), norms: used, hs2022: HsUsed::of(opts.hs2022), summary: Summary::of(&lines), lines })
    }

    // ---- Self-verification (企业自核单耗) -----------------------------------------------------

    /// Records whether an enterprise may self-verify its 单耗 from a date (a policy decision while
    /// eligibility is UNCONFIRMED, RULES.md §4.8); the same record twice is a no-op, another for
    /// the same date is refused.
    pub fn set_self_verification(&mut self, enterprise: &str, doc: &SelfVerificationDoc) -> Result<Recorded, AppError> {
        jiamao_domain::codes::Uscc::parse(enterprise).map_err(|e| AppError::Input(format!("enterprise: {e}")))?;
        self.authorize(Action::LoadPolicy, &Target::default(), &format!("{SELF_VERIFICATION_KIND} {enterprise}"))?;
        let body = serde_json::to_string(doc).map_err(|e| corrupt(SELF_VERIFICATION_KIND, e))?;
        let record_key = doc.from.to_string();
        let key = BookKey { enterprise: enterprise.to_owned(), book_no: String::new() };
        let status = self.write(&[], |me| {
            if let Some(old) = me.store.record(enterprise, SELF_VERIFICATION_KIND, &record_key)? {
                if old.body == body {
                    return Ok(("duplicate", false));
                }
                return Err(AppError::Input(format!("enterprise {enterprise} already has a self-verification record from {record_key} with other content; record the change from another date")));
            }
            me.store.append_record(&EnterpriseRecord {
                id: 0,
                enterprise: key.enterprise.clone(),
                book_no: String::new(),
                kind: SELF_VERIFICATION_KIND.to_owned(),
                key: record_key.clone(),
                recorded_on: doc.from,
                body: body.clone(),
            })?;
            let detail = serde_json::json!({"allowed": doc.allowed, "from": doc.from, "basis": doc.basis}).to_string();
            me.audit_link(enterprise, "set_self_verification", &format!("enterprise {enterprise}"), "ok", &detail)?;
            me.emit(enterprise, "self_verification_set", serde_json::json!({"enterprise": enterprise, "allowed": doc.allowed, "from": doc.from, "basis": doc.basis}))?;
            Ok(("recorded", true))
        })?;
        Ok(Recorded { book_no: String::new(), key: record_key, status })
    }

    /// Whether `enterprise` may self-verify its 单耗 on `date`: its latest `self_verification`
    /// record from on or before the date says so (none: not eligible).
    ///
    /// RULES.md §4.8: eligibility is UNCONFIRMED, so it is a policy. This is the one place it is
    /// decided; derive it here from the credit class in force when credit classes carry it.
    pub fn self_verification_allowed(&mut self, enterprise: &str, date: NaiveDate) -> Result<bool, AppError> {
        let key = BookKey { enterprise: enterprise.to_owned(), book_no: String::new() };
        let mut latest: Option<SelfVerificationDoc> = None;
        for r in self.store.records(&key, SELF_VERIFICATION_KIND)? {
            let doc: SelfVerificationDoc = serde_json::from_str(&r.body).map_err(|e| corrupt(&format!("{SELF_VERIFICATION_KIND} {}", r.key), e))?;
            if doc.from <= date && latest.as_ref().is_none_or(|l| l.from <= doc.from) {
                latest = Some(doc);
            }
        }
        if !latest.is_some_and(|d| d.allowed) {
            return Ok(false);
        }
        // The flag and the credit class: a class in force must allow self-verification (the effects
        // table of jiamao_domain::credit); with no class recorded the flag alone decides.
        let credit = self.credit_in_force(enterprise, date)?;
        Ok(credit.is_none_or(|(_, effects)| effects.self_verification))
    }

    // ---- Review (质疑 / 磋商) ----------------------------------------------------------------

    /// The recorded review steps of a book, by (product, version), in order.
    fn review_steps(&mut self, key: &BookKey) -> Result<BTreeMap<(u32, String), Vec<ReviewStep>>, AppError> {
        let mut out: BTreeMap<(u32, String), Vec<ReviewStep>> = BTreeMap::new();
        for r in self.store.records(key, REVIEW_KIND)? {
            let step: ReviewStep = serde_json::from_str(&r.body).map_err(|e| corrupt(&format!("{REVIEW_KIND} {}", r.key), e))?;
            out.entry((step.product_seq, step.version.clone())).or_default().push(step);
        }
        for steps in out.values_mut() {
            steps.sort_by_key(|s| s.n);
        }
        Ok(out)
    }

    /// The review queue of a book: every 单耗 version with its state, history and the comparison
    /// of its lines with the standards (none loaded: every line `no_standard`).
    pub fn ucns_reviews(&mut self, book_no: &str, opts: &CheckOptions<'_>) -> Result<UcnsReviews, AppError> {
        let key = self.guard_book(Action::ReadReport, book_no)?;
        let (norms, used) = self.norms_for(opts)?;
        let book = self.ucns_book(&key)?;
        let mut steps = self.review_steps(&key)?;
        let settings = CheckSettings { hs2022: opts.hs2022, export_taxable: &opts.export_taxable, uc_places: self.policy.uc_decimal_places };
        let mut eligible: BTreeMap<NaiveDate, bool> = BTreeMap::new();
        let mut versions = Vec::new();
        let mut states: BTreeMap<&'static str, usize> = BTreeMap::new();
        for (product, vs) in book.products.iter().zip(&book.versions) {
            for v in vs {
                let history = steps.remove(&(product.seq, v.version.clone())).unwrap_or_default();
                let allowed = match eligible.get(&v.valid_from) {
                    Some(a) => *a,
                    None => {
                        let a = self.self_verification_allowed(&key.enterprise, v.valid_from)?;
                        eligible.insert(v.valid_from, a);
                        a
                    }
                };
                let self_verified = history.is_empty() && allowed;
                let state = match history.last() {
                    Some(s) => s.to,
                    None if self_verified => ReviewState::Accepted,
                    None => ReviewState::Declared,
                };
                let replacement = history.iter().rev().find_map(|s| s.replacement.clone()).filter(|_| state == ReviewState::Adjusted);
                let replacement_filed = replacement.as_ref().map(|r| vs.iter().any(|x| &x.version == r));
                let lines = norms::check_version(&book, product, v, &norms, &settings);
                *states.entry(state.as_str()).or_default() += 1;
                versions.push(VersionReview {
                    product_seq: product.seq,
                    product_hs: product.hs_code.clone(),
                    version: v.version.clone(),
                    valid_from: v.valid_from,
                    state,
                    self_verified,
                    open: !state.is_final(),
                    replacement,
                    replacement_filed,
                    flagged_lines: lines.iter().filter(|l| is_flagged(l.verdict)).count(),
                    history,
                    lines,
                });
            }
        }
        Ok(UcnsReviews { book_no: book_no.to_owned(), enterprise: key.enterprise.clone(), master_customs: book.master_customs.clone(), norms: used, hs2022: HsUsed::of(opts.hs2022), states, versions })
    }

    /// A customs officer of the book's district reviews a 单耗 version: `question` (质疑) a declared
    /// one, `consult` (磋商) on a questioned one, `accept` it (declared, questioned or consulting),
    /// or `adjust` it after consultation, naming the replacement version the enterprise is to file
    /// as a change. Each transition is an enterprise record, a link of the enterprise's audit chain
    /// and an `ucns_reviewed` event; an invalid one is refused with its rule.
    pub fn review_ucns(&mut self, book_no: &str, product_seq: u32, version: &str, action: ReviewAction, replacement: Option<&str>, note: &str) -> Result<Reviewed, AppError> {
        let key = self.guard_book(Action::ReviewConsumption, book_no)?;
        let at = format!("product {product_seq}, version {version}");
        let replacement = replacement.map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
        match (action, &replacement) {
            (ReviewAction::Adjust, None) => return Err(refused(book_no, at, "ucns_replacement", "adjust names the replacement version (--replacement) the enterprise files as a change".to_owned())),
            (ReviewAction::Adjust, Some(r)) if r == version => return Err(refused(book_no, at, "ucns_replacement", "the replacement must be another version".to_owned())),
            (ReviewAction::Question | ReviewAction::Consult | ReviewAction::Accept, Some(_)) => {
                return Err(refused(book_no, at, "ucns_replacement", format!("only adjust names a replacement version, not {}", action.as_str())))
            }
            _ => {}
        }
        let note = note.trim().to_owned();
        // Decided inside the write (the book's lock held): the book as filed and the review so far.
        self.write(std::slice::from_ref(&key), |me| {
            let book = me.ucns_book(&key)?;
            let Some(p) = book.product_idx(product_seq) else { return Err(refused(book_no, at.clone(), "unknown_item", format!("product seq {product_seq} is not a product of this book"))) };
            let Some(valid_from) = book.version_named(p, version).map(|v| v.valid_from) else {
                return Err(refused(book_no, at.clone(), "unknown_version", format!("product {product_seq} has no 单耗 version {version}")));
            };
            let (customs, region) = (book.master_customs.clone(), book.doc.operator.region_code.as_str().to_owned());
            let history = me.review_steps(&key)?.remove(&(product_seq, version.to_owned())).unwrap_or_default();
            let from = match history.last() {
                Some(s) => s.to,
                None if me.self_verification_allowed(&key.enterprise, valid_from)? => {
                    return Err(refused(
                        book_no,
                        at.clone(),
                        "ucns_self_verified",
                        format!("the enterprise was eligible for self-verification (企业自核单耗) on {valid_from}: the version is accepted from its declaration; customs checks it by verification (核查), not through this review"),
                    ));
                }
                None => ReviewState::Declared,
            };
            let to = norms::review_transition(from, action).map_err(|e| refused(book_no, at.clone(), e.rule, e.message))?;
            let n = u32::try_from(history.len()).unwrap_or(u32::MAX).saturating_add(1);
            let step = ReviewStep {
                product_seq,
                version: version.to_owned(),
                n,
                action,
                from,
                to,
                replacement: replacement.clone(),
                note: note.clone(),
                by: me.ctx.principal.login().to_owned(),
                role: me.ctx.principal.role_name().to_owned(),
                at: me.ctx.at(),
            };
            let body = serde_json::to_string(&step).map_err(|e| corrupt(REVIEW_KIND, e))?;
            me.store.append_record(&EnterpriseRecord {
                id: 0,
                enterprise: key.enterprise.clone(),
                book_no: book_no.to_owned(),
                kind: REVIEW_KIND.to_owned(),
                key: format!("{book_no}/{product_seq}/{version}/{n}"),
                recorded_on: me.ctx.now.date_naive(),
                body,
            })?;
            let detail = serde_json::json!({"product_seq": product_seq, "version": version, "n": n, "action": action, "from": from, "to": to, "replacement": replacement, "note": note}).to_string();
            me.audit_link(&key.enterprise, "review_ucns", &format!("book {book_no}"), "ok", &detail)?;
            me.emit(
                &key.enterprise,
                "ucns_reviewed",
                serde_json::json!({"book_no": book_no, "product_seq": product_seq, "version": version, "action": action, "from": from, "to": to, "replacement": replacement, "master_customs": customs, "region": region}),
            )?;
            Ok((Reviewed { book_no: book_no.to_owned(), product_seq, version: version.to_owned(), n, action, from, to, replacement: replacement.clone() }, true))
        })
    }
}
