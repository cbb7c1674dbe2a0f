//! The prohibited and restricted catalogs of processing trade (加工贸易禁止类 / 限制类商品目录, RULES.md §13)
//! as versioned, dated data, and the decisions that read them; the list of goods that still need the
//! commerce department's approval (RULES.md §2.3).
//!
//! **The file** (FORMAT.md "Catalog file"): CSV with the header
//! `hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement`. `catalog` is `prohibited`
//! or `restricted`; `direction` is `import`, `export` or `both`; `mode` is empty or `实转` (the restricted
//! codes managed 实转, RULES.md §11.5; a prohibited entry has no mode); `note` is the qualifier
//! (`医用物资除外`); `valid_until` is empty (open) or the last day in force (inclusive); `announcement`
//! names the legal basis (`商务部 海关总署公告2014年第90号`) and is required. Fields may be quoted
//! (`"a, b"`, `""` for a quote inside). A version is read strictly: any problem refuses the whole file
//! and every problem is listed (see [`parse_catalog_csv`]).
//!
//! **Entries and keys.** An entry is keyed by (hs_code, direction, note). One version may hold several
//! entries of one key as long as their validity does not overlap: that is the history of the key
//! (prohibited 2015-01-01…2020-11-30, then not, RULES.md §13.2). Two entries of one key starting the
//! same day are a duplicate; two whose validity overlaps are refused too.
//!
//! **Versions replace each other whole.** [`Catalogs`] keeps every loaded version in load order, for
//! diffs and the record; the decisions read only the **latest loaded** version. A new version is the
//! complete catalog, history included: an entry left out of it is gone, for every date. Time travel
//! works inside that version: asked about a date, it answers with the entries whose validity covers
//! the date, so a past date gets what was then in force (as far as the latest version records it).
//!
//! **Decisions.** Materials are checked against `import` and `both` entries, products against
//! `export` and `both` entries ([`Side`]). At book filing (or change) an item prohibited on the book's
//! date is refused ([`check_book`]). At posting, a list is checked against the entries in force on its
//! `declared_on` ([`check_list`]): material imports (0615 / 0214 / 0715 I material) and product exports
//! (0615 / 0214 E product). Restricted entries never refuse; they drive guarantees
//! ([`restricted_items`]). The exceptions of RULES.md §13.1:
//! - deep-processing carry-overs (深加工结转 0654 / 0255, in and out) are not prohibited;
//! - other movements are not imports or exports of processing goods and are not checked: returns and
//!   replacements of goods already admitted (4600 / 4400, 0700 / 0300), surplus carry-overs between the
//!   enterprise's own books (0657 / 0258), domestic sales, re-exports of materials, disposals;
//! - transition (过渡期): "business approved before may finish within the contract period". The CSV
//!   has no per-entry transition rule, so it is one policy setting ([`CatalogPolicy::transition`],
//!   default on, dated: [`CatalogSettings`]): a book whose `valid_from` (its filing, as the contract
//!   period starts) is before an entry's `valid_from` may keep posting under that entry until the
//!   book's `valid_until`. The 2014 announcement's own cut-offs (business approved before 2014-12-31;
//!   enterprise-as-unit books until 2015-06-30) are not in the file and are not modelled;
//! - zone enterprises registered before an announcement: the book document carries no registration
//!   date, so they are covered only as far as their books were filed before the entry (the transition
//!   rule above).
//!
//! A qualifier (`note`) is shown, never evaluated: an entry applies whatever its note says, and its
//! refusal quotes the note so that a person can judge it.

use crate::book::{Book, BookError};
use crate::codes::HsCode;
use crate::doc::{BookDoc, Goods, ListDoc};
use crate::ledger::Rejection;
use crate::movement::{self, Movement};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Which catalog an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatalogKind {
    /// 禁止类: refused at filing and posting.
    Prohibited,
    /// 限制类: allowed, with a guarantee by credit class and region (RULES.md §11).
    Restricted,
}

impl CatalogKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CatalogKind::Prohibited => "prohibited",
            CatalogKind::Restricted => "restricted",
        }
    }
}

/// Which trade flow an entry covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatalogDirection {
    Import,
    Export,
    Both,
}

impl CatalogDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            CatalogDirection::Import => "import",
            CatalogDirection::Export => "export",
            CatalogDirection::Both => "both",
        }
    }

    /// Whether an entry of this direction applies to items on `side`.
    pub fn covers(self, side: Side) -> bool {
        matches!((self, side), (CatalogDirection::Both, _) | (CatalogDirection::Import, Side::Import) | (CatalogDirection::Export, Side::Export))
    }
}

/// The management mode of a restricted entry (RULES.md §11.5: 81 codes managed 实转).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ManagementMode {
    /// 实转: a deposit (since 2018-02-02 a customs guarantee) on the bonded materials.
    #[serde(rename = "实转")]
    Shizhuan,
}

/// The side of a book item: materials are imported, products exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Import,
    Export,
}

impl Side {
    /// The side of a material (`true`) or a product.
    pub fn of(is_material: bool) -> Side {
        if is_material {
            Side::Import
        } else {
            Side::Export
        }
    }
}

/// One catalog entry (RULES.md §18.11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    pub hs_code: HsCode,
    pub catalog: CatalogKind,
    pub direction: CatalogDirection,
    /// `实转` or none (JSON: `null`, or `""` as in the file).
    #[serde(default, deserialize_with = "deserialize_mode")]
    pub mode: Option<ManagementMode>,
    /// The qualifier (`医用物资除外`); empty when none.
    #[serde(default)]
    pub note: String,
    #[serde(deserialize_with = "crate::date::deserialize", serialize_with = "crate::date::serialize")]
    pub valid_from: NaiveDate,
    /// The last day in force (inclusive); none: open.
    #[serde(default, deserialize_with = "crate::date::deserialize_opt", serialize_with = "serialize_opt_date")]
    pub valid_until: Option<NaiveDate>,
    /// The announcement that made the entry (its legal basis).
    pub announcement: String,
}

fn deserialize_mode<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<ManagementMode>, D::Error> {
    match Option::<String>::deserialize(d)?.as_deref() {
        None | Some("") => Ok(None),
        Some("实转") => Ok(Some(ManagementMode::Shizhuan)),
        Some(other) => Err(serde::de::Error::custom(format!("mode \"{other}\" is not empty or 实转"))),
    }
}

fn serialize_opt_date<S: serde::Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => crate::date::serialize(d, s),
        None => s.serialize_none(),
    }
}

/// The key of an entry: (hs_code, direction, note).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct EntryKey {
    pub hs_code: String,
    pub direction: CatalogDirection,
    pub note: String,
}

impl fmt::Display for EntryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {}, \"{}\")", self.hs_code, self.direction.as_str(), self.note)
    }
}

impl CatalogEntry {
    pub fn key(&self) -> EntryKey {
        EntryKey { hs_code: self.hs_code.as_str().to_owned(), direction: self.direction, note: self.note.clone() }
    }

    /// Whether the entry is in force on `date` (both ends inclusive).
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && self.valid_until.is_none_or(|u| date <= u)
    }

    /// Whether the entry applies to items on `side` (materials: import / both; products: export / both).
    pub fn applies_to(&self, side: Side) -> bool {
        self.direction.covers(side)
    }

    /// Whether the entry is managed 实转 (RULES.md §11.5).
    pub fn is_shizhuan(&self) -> bool {
        self.mode == Some(ManagementMode::Shizhuan)
    }

    /// The validity as an inclusive span (an open end is the last representable day).
    fn span(&self) -> Span {
        (self.valid_from, self.valid_until.unwrap_or(NaiveDate::MAX))
    }

    /// The entry in words, for refusals: `2836200000 prohibited (both, 医用物资除外) from 2015-01-01 to
    /// 2020-11-30, 商务部 海关总署公告2014年第90号`.
    pub fn describe(&self) -> String {
        let mut qual = self.direction.as_str().to_owned();
        if let Some(ManagementMode::Shizhuan) = self.mode {
            qual.push_str(", 实转");
        }
        if !self.note.is_empty() {
            qual.push_str(&format!(", {}", self.note));
        }
        let until = self.valid_until.map(|u| format!(" to {u}")).unwrap_or_else(|| ", open-ended".to_owned());
        format!("{} {} ({qual}) from {}{until}, {}", self.hs_code, self.catalog.as_str(), self.valid_from, self.announcement)
    }
}

/// The header of a catalog file.
pub const CATALOG_HEADER: &str = "hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement";

/// Splits one CSV line into fields (RFC 4180 quoting within the line: `"a, b"`, `""` inside quotes).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                    // After a closing quote only a separator (or the end) may follow.
                    match chars.peek() {
                        None | Some(',') => {}
                        Some(other) => return Err(format!("unexpected '{other}' after a closing quote")),
                    }
                }
            } else {
                field.push(c);
            }
        } else if c == ',' {
            out.push(std::mem::take(&mut field));
            at_start = true;
            continue;
        } else if c == '"' && at_start && field.trim().is_empty() {
            field.clear();
            quoted = true;
        } else {
            field.push(c);
        }
        at_start = false;
    }
    if quoted {
        return Err("a quoted field is not closed".to_owned());
    }
    out.push(field);
    Ok(out)
}

/// Reads a catalog file (FORMAT.md "Catalog file"). Any problem refuses the whole file; every problem
/// is listed, each with its line: a wrong header, a wrong number of fields, an HS code that is not 10
/// digits, an unknown catalog, direction or mode, a bad date, an end before the start, a missing
/// announcement, a duplicate key (one key twice from the same day) and overlapping validity of
/// entries of one key. An empty file (header only) is refused too.
pub fn parse_catalog_csv(text: &str, file: &str) -> Result<Vec<CatalogEntry>, Vec<String>> {
    let mut problems = Vec::new();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l))).filter(|(_, l)| !l.trim().is_empty());
    match lines.next() {
        Some((_, h)) => {
            let header: Vec<String> = csv_fields(h.trim_start_matches('\u{feff}')).unwrap_or_default().iter().map(|f| f.trim().to_owned()).collect();
            if header.join(",") != CATALOG_HEADER {
                return Err(vec![format!("{file}:1: the header must be {CATALOG_HEADER} (found {h})")]);
            }
        }
        None => return Err(vec![format!("{file}: empty file; the first line must be the header {CATALOG_HEADER}")]),
    }
    let mut entries = Vec::new();
    let mut places = Vec::new();
    for (n, line) in lines {
        let at = format!("{file}:{n}");
        let fields = match csv_fields(line) {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("{at}: {e}"));
                continue;
            }
        };
        if fields.len() != 8 {
            problems.push(format!("{at}: expected 8 fields ({CATALOG_HEADER}), found {}", fields.len()));
            continue;
        }
        let f: Vec<&str> = fields.iter().map(|s| s.trim()).collect();
        let mut bad = Vec::new();
        let hs_code = HsCode::parse(f[0]).map_err(|e| bad.push(format!("hs_code: {e}"))).ok();
        let catalog = match f[1] {
            "prohibited" => Some(CatalogKind::Prohibited),
            "restricted" => Some(CatalogKind::Restricted),
            other => {
                bad.push(format!("catalog \"{other}\" is neither prohibited nor restricted"));
                None
            }
        };
        let direction = match f[2] {
            "import" => Some(CatalogDirection::Import),
            "export" => Some(CatalogDirection::Export),
            "both" => Some(CatalogDirection::Both),
            other => {
                bad.push(format!("direction \"{other}\" is not import, export or both"));
                None
            }
        };
        let mode = match f[3] {
            "" => Some(None),
            "实转" => Some(Some(ManagementMode::Shizhuan)),
            other => {
                bad.push(format!("mode \"{other}\" is not empty or 实转"));
                None
            }
        };
        let valid_from = crate::date::parse(f[5]).map_err(|e| bad.push(format!("valid_from: {e}"))).ok();
        let valid_until = if f[6].is_empty() { Some(None) } else { crate::date::parse(f[6]).map(Some).map_err(|e| bad.push(format!("valid_until: {e}"))).ok() };
        if let (Some(hs_code), Some(catalog), Some(direction), Some(mode), Some(valid_from), Some(valid_until)) = (hs_code, catalog, direction, mode, valid_from, valid_until) {
            let e = CatalogEntry { hs_code, catalog, direction, mode, note: f[4].to_owned(), valid_from, valid_until, announcement: f[7].to_owned() };
            bad.extend(entry_problems(&e));
            entries.push(e);
            places.push(at.clone());
        } else if f[7].is_empty() {
            bad.push("announcement is empty; name the announcement that made the entry".to_owned());
        }
        for b in bad {
            problems.push(format!("{at}: {b}"));
        }
    }
    if entries.is_empty() && problems.is_empty() {
        problems.push(format!("{file}: no entries; a catalog version lists every entry in force (an empty catalog is not loaded)"));
    }
    problems.extend(key_problems(&entries, &places));
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}

/// Problems of one entry on its own: end before start, 实转 on a prohibited entry, no announcement.
fn entry_problems(e: &CatalogEntry) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(u) = e.valid_until {
        if u < e.valid_from {
            out.push(format!("valid_until {u} is before valid_from {}", e.valid_from));
        }
    }
    if e.catalog == CatalogKind::Prohibited && e.mode.is_some() {
        out.push("mode 实转 applies to restricted entries only".to_owned());
    }
    if e.announcement.trim().is_empty() {
        out.push("announcement is empty; name the announcement that made the entry".to_owned());
    }
    out
}

/// Duplicate keys (same key, same start) and overlapping validity of entries of one key.
fn key_problems(entries: &[CatalogEntry], places: &[String]) -> Vec<String> {
    let mut by_key: BTreeMap<EntryKey, Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        by_key.entry(e.key()).or_default().push(i);
    }
    let place = |i: usize| places.get(i).cloned().unwrap_or_else(|| format!("entries[{i}]"));
    let mut out = Vec::new();
    for (key, idx) in by_key {
        for (a, &i) in idx.iter().enumerate() {
            for &j in idx.iter().skip(a + 1) {
                let (Some(x), Some(y)) = (entries.get(i), entries.get(j)) else { continue };
                if x.valid_from == y.valid_from {
                    out.push(format!("{}: duplicate key {key}: the entry at {} starts the same day ({})", place(j), place(i), x.valid_from));
                } else if overlap(x.span(), y.span()).is_some() {
                    out.push(format!(
                        "{}: overlapping validity for key {key}: {}…{} here and {}…{} at {}",
                        place(j),
                        y.valid_from,
                        y.valid_until.map(|d| d.to_string()).unwrap_or_default(),
                        x.valid_from,
                        x.valid_until.map(|d| d.to_string()).unwrap_or_default(),
                        place(i)
                    ));
                }
            }
        }
    }
    out
}

/// Checks entries handed in directly (not from a file; the HTTP API): every problem, placed as
/// `entries[i]`.
pub fn validate_entries(entries: &[CatalogEntry]) -> Vec<String> {
    let places: Vec<String> = (0..entries.len()).map(|i| format!("entries[{i}]")).collect();
    let mut out: Vec<String> = entries.iter().zip(&places).flat_map(|(e, p)| entry_problems(e).into_iter().map(move |m| format!("{p}: {m}"))).collect();
    if entries.is_empty() {
        out.push("no entries; a catalog version lists every entry in force (an empty catalog is not loaded)".to_owned());
    }
    out.extend(key_problems(entries, &places));
    out
}

/// An inclusive span of days.
type Span = (NaiveDate, NaiveDate);

fn overlap(a: Span, b: Span) -> Option<Span> {
    let from = a.0.max(b.0);
    let to = a.1.min(b.1);
    (from <= to).then_some((from, to))
}

/// `span` minus the union of `covered`: the days of `span` no span of `covered` holds.
fn subtract(span: Span, covered: &[Span]) -> Vec<Span> {
    let mut parts = vec![span];
    for c in covered {
        let mut next = Vec::new();
        for p in parts {
            if overlap(p, *c).is_none() {
                next.push(p);
                continue;
            }
            if p.0 < c.0 {
                if let Some(before) = c.0.pred_opt() {
                    next.push((p.0, before));
                }
            }
            if c.1 < p.1 {
                if let Some(after) = c.1.succ_opt() {
                    next.push((after, p.1));
                }
            }
        }
        parts = next;
    }
    parts
}

/// One loaded catalog version: a name and its entries (validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogVersion {
    name: String,
    entries: Vec<CatalogEntry>,
    /// HS code → positions in `entries`.
    by_hs: BTreeMap<String, Vec<usize>>,
}

impl CatalogVersion {
    /// A version from its entries; every problem is listed (see [`validate_entries`]).
    pub fn new(name: &str, entries: Vec<CatalogEntry>) -> Result<Self, Vec<String>> {
        let problems = validate_entries(&entries);
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self::unchecked(name, entries))
    }

    /// A version from entries already validated (read back from the store).
    pub fn unchecked(name: &str, entries: Vec<CatalogEntry>) -> Self {
        let mut by_hs: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, e) in entries.iter().enumerate() {
            by_hs.entry(e.hs_code.as_str().to_owned()).or_default().push(i);
        }
        CatalogVersion { name: name.to_owned(), entries, by_hs }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    /// The earliest `valid_from` of the version's entries.
    pub fn valid_from(&self) -> Option<NaiveDate> {
        self.entries.iter().map(|e| e.valid_from).min()
    }

    /// Every entry of an HS code, whatever its dates.
    pub fn of_hs(&self, hs: &str) -> impl Iterator<Item = &CatalogEntry> {
        self.by_hs.get(hs).into_iter().flatten().filter_map(|&i| self.entries.get(i))
    }

    /// The entries of an HS code in force on `date` (every direction).
    pub fn in_force(&self, hs: &str, date: NaiveDate) -> Vec<&CatalogEntry> {
        self.of_hs(hs).filter(|e| e.covers(date)).collect()
    }

    /// The entries of `kind` for an item on `side` in force on `date`.
    pub fn matching(&self, hs: &str, date: NaiveDate, side: Side, kind: CatalogKind) -> impl Iterator<Item = &CatalogEntry> {
        self.of_hs(hs).filter(move |e| e.catalog == kind && e.applies_to(side) && e.covers(date))
    }

    /// The entries of `kind` for an item on `side`, whatever their dates.
    fn matching_any_date(&self, hs: &str, side: Side, kind: CatalogKind) -> impl Iterator<Item = &CatalogEntry> {
        self.of_hs(hs).filter(move |e| e.catalog == kind && e.applies_to(side))
    }
}

/// Every loaded catalog version, in load order. Decisions read the latest ([`Catalogs::current`]):
/// a new version replaces the previous one as a whole.
#[derive(Debug, Clone, Default)]
pub struct Catalogs {
    versions: Vec<CatalogVersion>,
}

impl Catalogs {
    pub fn new() -> Self {
        Catalogs::default()
    }

    /// Adds a version as the latest loaded.
    pub fn add(&mut self, version: CatalogVersion) {
        self.versions.push(version);
    }

    /// Every version, in load order.
    pub fn versions(&self) -> &[CatalogVersion] {
        &self.versions
    }

    pub fn version(&self, name: &str) -> Option<&CatalogVersion> {
        self.versions.iter().find(|v| v.name == name)
    }

    /// The version in force: the latest loaded.
    pub fn current(&self) -> Option<&CatalogVersion> {
        self.versions.last()
    }

    /// The entries in force for an HS code on a date (of the latest version), for items on `side`
    /// (every direction when `None`).
    pub fn in_force(&self, hs: &str, date: NaiveDate, side: Option<Side>) -> Vec<&CatalogEntry> {
        self.current().map(|v| v.in_force(hs, date).into_iter().filter(|e| side.is_none_or(|s| e.applies_to(s))).collect()).unwrap_or_default()
    }
}

/// The entries of one key in two versions, when they differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    #[serde(flatten)]
    pub key: EntryKey,
    pub before: Vec<CatalogEntry>,
    pub after: Vec<CatalogEntry>,
}

/// What changed between two versions, by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogDiff {
    pub from: String,
    pub to: String,
    /// Entries of keys only in the new version.
    pub added: Vec<CatalogEntry>,
    /// Entries of keys only in the old version.
    pub removed: Vec<CatalogEntry>,
    /// Keys in both whose entries differ (any field, or the number of periods).
    pub changed: Vec<KeyChange>,
}

fn by_key(v: &CatalogVersion) -> BTreeMap<EntryKey, Vec<CatalogEntry>> {
    let mut m: BTreeMap<EntryKey, Vec<CatalogEntry>> = BTreeMap::new();
    for e in &v.entries {
        m.entry(e.key()).or_default().push(e.clone());
    }
    for list in m.values_mut() {
        list.sort_by_key(|e| e.valid_from);
    }
    m
}

/// The difference between two versions, by key: added, removed and changed keys.
pub fn diff(old: &CatalogVersion, new: &CatalogVersion) -> CatalogDiff {
    let before = by_key(old);
    let mut after = by_key(new);
    let mut d = CatalogDiff { from: old.name.clone(), to: new.name.clone(), added: Vec::new(), removed: Vec::new(), changed: Vec::new() };
    for (key, olds) in before {
        match after.remove(&key) {
            None => d.removed.extend(olds),
            Some(news) if news != olds => d.changed.push(KeyChange { key, before: olds, after: news }),
            Some(_) => {}
        }
    }
    d.added = after.into_values().flatten().collect();
    d
}

/// Settings of the catalog decisions that the regulations leave to the project (RULES.md §0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogPolicy {
    /// RULES.md §13.1 transition: a book whose `valid_from` is before a prohibited entry's
    /// `valid_from` keeps posting under it until the book's `valid_until` ("business approved before
    /// may finish within the contract period"). Default on.
    pub transition: bool,
}

impl Default for CatalogPolicy {
    fn default() -> Self {
        CatalogPolicy { transition: true }
    }
}

/// The catalog settings by date: each applies from its date until the next one; before the first,
/// the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogSettings {
    /// Ascending dates.
    rows: Vec<(NaiveDate, CatalogPolicy)>,
}

impl CatalogSettings {
    /// Adds a setting from a date (a second one on the same date replaces the first).
    pub fn add(&mut self, from: NaiveDate, policy: CatalogPolicy) {
        match self.rows.binary_search_by_key(&from, |r| r.0) {
            Ok(i) => {
                if let Some(r) = self.rows.get_mut(i) {
                    r.1 = policy;
                }
            }
            Err(i) => self.rows.insert(i, (from, policy)),
        }
    }

    /// The setting in force on `date`.
    pub fn on(&self, date: NaiveDate) -> CatalogPolicy {
        self.rows.iter().rev().find(|r| r.0 <= date).map(|r| r.1).unwrap_or_default()
    }

    /// Every dated setting.
    pub fn rows(&self) -> &[(NaiveDate, CatalogPolicy)] {
        &self.rows
    }
}

/// Whether `entry` spares a book under the transition rule of RULES.md §13.1: the book's contract
/// period started before the entry, and the setting in force on `date` allows it.
pub fn in_transition(entry: &CatalogEntry, book_valid_from: NaiveDate, settings: &CatalogSettings, date: NaiveDate) -> bool {
    settings.on(date).transition && book_valid_from < entry.valid_from
}

/// A book item that an entry matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemHit<'a> {
    pub is_material: bool,
    /// Position in the document's `materials` or `products`.
    pub index: usize,
    pub seq: u32,
    pub name: String,
    pub hs_code: String,
    pub entry: &'a CatalogEntry,
}

impl ItemHit<'_> {
    /// `materials[2]` / `products[0]`.
    pub fn at(&self) -> String {
        format!("{}[{}]", if self.is_material { "materials" } else { "products" }, self.index)
    }
    fn describe(&self) -> String {
        format!("{} {} ({}, HS {})", if self.is_material { "material" } else { "product" }, self.seq, self.name, self.hs_code)
    }
}

/// Every item of a book document, with its side: (is_material, index, seq, name, hs_code).
fn items(book: &BookDoc) -> impl Iterator<Item = (bool, usize, u32, &str, &str)> {
    let m = book.materials.iter().enumerate().map(|(i, x)| (true, i, x.seq, x.name.as_str(), x.hs_code.as_str()));
    let p = book.products.iter().enumerate().map(|(i, x)| (false, i, x.seq, x.name.as_str(), x.hs_code.as_str()));
    m.chain(p)
}

/// The items of `book` that `kind` entries in force on `date` match (materials against import / both,
/// products against export / both), restricted to the items `only` names when given
/// ((is_material, seq) pairs).
pub fn items_in_catalog<'a>(version: &'a CatalogVersion, book: &BookDoc, date: NaiveDate, kind: CatalogKind, only: Option<&BTreeSet<(bool, u32)>>) -> Vec<ItemHit<'a>> {
    let mut out = Vec::new();
    for (is_material, index, seq, name, hs) in items(book) {
        if only.is_some_and(|o| !o.contains(&(is_material, seq))) {
            continue;
        }
        for entry in version.matching(hs, date, Side::of(is_material), kind) {
            out.push(ItemHit { is_material, index, seq, name: name.to_owned(), hs_code: hs.to_owned(), entry });
        }
    }
    out
}

/// The items of a book that restricted entries in force on `date` match: (item seq, is_material,
/// entry). The guarantee (RULES.md §11) reads them, with [`CatalogEntry::is_shizhuan`].
pub fn restricted_items<'a>(version: &'a CatalogVersion, book: &BookDoc, date: NaiveDate) -> Vec<(u32, bool, &'a CatalogEntry)> {
    items_in_catalog(version, book, date, CatalogKind::Restricted, None).into_iter().map(|h| (h.seq, h.is_material, h.entry)).collect()
}

/// The filing check (RULES.md §13, §2.3 refusal grounds): refuses a book (or a change) when an item is
/// prohibited on `date` (the book's `valid_from` at filing). `only`: the items to check (a change
/// checks the items it adds). The error names the first item at `at` and every prohibited item, its
/// entry and announcement in the message; rule `catalog_prohibited`.
pub fn check_book(version: &CatalogVersion, book: &BookDoc, date: NaiveDate, only: Option<&BTreeSet<(bool, u32)>>) -> Result<(), BookError> {
    let hits = items_in_catalog(version, book, date, CatalogKind::Prohibited, only);
    let Some(first) = hits.first() else { return Ok(()) };
    let what: Vec<String> = hits.iter().map(|h| format!("{} is prohibited for processing trade on {date}: catalog entry {}", h.describe(), h.entry.describe())).collect();
    Err(BookError { at: format!("{}.hs_code", first.at()), rule: "catalog_prohibited", message: format!("{} (catalog version {}; RULES.md §13)", what.join("; "), version.name) })
}

/// The posting check (RULES.md §13.1): the entries in force on the list's `declared_on`. Material
/// imports (0615 / 0214 / 0715 I) are checked against import / both entries, product exports
/// (0615 / 0214 E) against export / both entries; deep-processing carry-overs (0654 / 0255) are not
/// prohibited; other movements are not checked (module documentation). A book in transition
/// ([`in_transition`]) is spared. `None`: the list may post (as far as the catalog goes).
pub fn check_list(version: &CatalogVersion, settings: &CatalogSettings, book: &Book, list: &ListDoc) -> Option<Rejection> {
    let Ok(mv) = movement::classify(book, list.trade_mode.as_str(), list.direction, list.goods) else {
        return None; // The ledger refuses it with the trade-mode rule.
    };
    let side = match mv {
        Movement::MaterialImport => Side::Import,
        Movement::ProductExport => Side::Export,
        // RULES.md §13.1: goods received or sent by 深加工结转 are not prohibited.
        Movement::MaterialCarryIn | Movement::ProductCarryOut => return None,
        _ => return None,
    };
    let date = list.declared_on;
    for line in &list.lines {
        let item = match side {
            Side::Import => book.material_idx(line.item_seq).and_then(|i| book.materials.get(i)),
            Side::Export => book.product_idx(line.item_seq).and_then(|i| book.products.get(i)),
        };
        let Some(item) = item else { continue }; // The ledger refuses an unknown item.
        let blocking = version.matching(&item.hs_code, date, side, CatalogKind::Prohibited).find(|e| !in_transition(e, book.valid_from, settings, date));
        if let Some(e) = blocking {
            let (what, flow) = if side == Side::Import { ("material", "imported") } else { ("product", "exported") };
            return Some(Rejection {
                rule: "catalog_prohibited",
                line: Some(line.line),
                message: format!(
                    "{what} {} ({}, HS {}) may not be {flow} under processing trade on {date}: prohibited by catalog entry {} (catalog version {}; RULES.md §13)",
                    item.seq,
                    item.name,
                    item.hs_code,
                    e.describe(),
                    version.name
                ),
            });
        }
    }
    None
}

/// What loading a version does to one item of one book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImpactChange {
    NewlyProhibited,
    NewlyRestricted,
    NoLongerProhibited,
    NoLongerRestricted,
}

/// One item of one book whose catalog status a new version changes, over the days it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemImpact {
    pub book_no: String,
    /// The operating enterprise (USCC).
    pub enterprise: String,
    pub goods: Goods,
    pub item_seq: u32,
    pub hs_code: String,
    pub name: String,
    pub change: ImpactChange,
    /// The days of the book's validity (from the impact date on) the change covers.
    #[serde(serialize_with = "crate::date::serialize")]
    pub from: NaiveDate,
    #[serde(serialize_with = "crate::date::serialize")]
    pub until: NaiveDate,
    /// The entry behind the change: of the new version (newly …) or of the old one (no longer …).
    pub entry: CatalogEntry,
    /// For a newly prohibited item: the book's contract period started before the entry, so under
    /// the transition rule (when on) its lists still post until the book expires.
    pub transition: bool,
}

/// A book as the impact reads it: its operating enterprise and document.
pub type BookRef<'a> = (&'a str, &'a BookDoc);

/// The impact of loading `new` over `old` (none: the first version) on `books`, from `as_of` on:
/// for every item and catalog kind, the days of the book's validity (not before `as_of`) that `new`
/// covers and `old` did not (newly prohibited / restricted), and the reverse (no longer …). Each is
/// named with the entry responsible.
pub fn impact(old: Option<&CatalogVersion>, new: &CatalogVersion, books: &[BookRef<'_>], as_of: NaiveDate, settings: &CatalogSettings) -> Vec<ItemImpact> {
    let mut out = Vec::new();
    for (enterprise, book) in books {
        let window = (as_of.max(book.valid_from), book.valid_until);
        if window.0 > window.1 {
            continue;
        }
        for (is_material, _, seq, name, hs) in items(book) {
            let side = Side::of(is_material);
            for (kind, newly, lifted) in
                [(CatalogKind::Prohibited, ImpactChange::NewlyProhibited, ImpactChange::NoLongerProhibited), (CatalogKind::Restricted, ImpactChange::NewlyRestricted, ImpactChange::NoLongerRestricted)]
            {
                let old_entries: Vec<&CatalogEntry> = old.map(|o| o.matching_any_date(hs, side, kind).collect()).unwrap_or_default();
                let new_entries: Vec<&CatalogEntry> = new.matching_any_date(hs, side, kind).collect();
                if old_entries.is_empty() && new_entries.is_empty() {
                    continue;
                }
                let old_spans: Vec<Span> = old_entries.iter().map(|e| e.span()).collect();
                let new_spans: Vec<Span> = new_entries.iter().map(|e| e.span()).collect();
                for (entries, against, change) in [(&new_entries, &old_spans, newly), (&old_entries, &new_spans, lifted)] {
                    for e in entries.iter() {
                        let Some(clipped) = overlap(e.span(), window) else { continue };
                        for (from, until) in subtract(clipped, against) {
                            let transition = change == ImpactChange::NewlyProhibited && in_transition(e, book.valid_from, settings, from);
                            out.push(ItemImpact {
                                book_no: book.book_no.clone(),
                                enterprise: (*enterprise).to_owned(),
                                goods: if is_material { Goods::Material } else { Goods::Product },
                                item_seq: seq,
                                hs_code: hs.to_owned(),
                                name: name.to_owned(),
                                change,
                                from,
                                until,
                                entry: (*e).clone(),
                                transition,
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

// ---- Goods that need the commerce department's approval (RULES.md §2.3) --------------------------

/// One row of the approval list: HS codes starting with `hs_prefix` need the commerce department's
/// approval (`approval_ref` in the book) from `valid_from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRule {
    /// 2 to 10 digits: a chapter, heading, subheading or line.
    pub hs_prefix: String,
    pub name: String,
    #[serde(deserialize_with = "crate::date::deserialize", serialize_with = "crate::date::serialize")]
    pub valid_from: NaiveDate,
    pub source: String,
}

/// The header of an approval list file.
pub const APPROVAL_HEADER: &str = "hs_prefix,name,valid_from,source";

/// The project's built-in list (`data/approval_required.csv`, hand-compiled: see the file).
const APPROVALS: &str = include_str!("../data/approval_required.csv");

/// Reads an approval list (`hs_prefix,name,valid_from,source`; lines starting with `#` are comments).
/// Every problem is listed; a prefix twice from the same day is a problem.
pub fn parse_approval_csv(text: &str, file: &str) -> Result<Vec<ApprovalRule>, Vec<String>> {
    let mut problems = Vec::new();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l))).filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    match lines.next() {
        Some((_, h)) if h.trim_start_matches('\u{feff}').trim() == APPROVAL_HEADER => {}
        _ => return Err(vec![format!("{file}: the first line (after comments) must be the header {APPROVAL_HEADER}")]),
    }
    let mut out: Vec<ApprovalRule> = Vec::new();
    let mut seen: BTreeMap<(String, NaiveDate), usize> = BTreeMap::new();
    for (n, line) in lines {
        let fields = match csv_fields(line) {
            Ok(f) if f.len() == 4 => f,
            Ok(f) => {
                problems.push(format!("{file}:{n}: expected 4 fields ({APPROVAL_HEADER}), found {}", f.len()));
                continue;
            }
            Err(e) => {
                problems.push(format!("{file}:{n}: {e}"));
                continue;
            }
        };
        let f: Vec<&str> = fields.iter().map(|s| s.trim()).collect();
        let prefix = f[0];
        if !(2..=10).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(format!("{file}:{n}: hs_prefix \"{prefix}\" must be 2 to 10 digits"));
            continue;
        }
        let valid_from = match crate::date::parse(f[2]) {
            Ok(d) => d,
            Err(e) => {
                problems.push(format!("{file}:{n}: valid_from: {e}"));
                continue;
            }
        };
        if let Some(first) = seen.insert((prefix.to_owned(), valid_from), n) {
            problems.push(format!("{file}:{n}: prefix {prefix} from {valid_from} is listed twice (line {first})"));
            continue;
        }
        out.push(ApprovalRule { hs_prefix: prefix.to_owned(), name: f[1].to_owned(), valid_from, source: f[3].to_owned() });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The goods that need the commerce department's approval, by date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApprovalList {
    /// Where the list comes from (`built-in`, or the name it was loaded under).
    pub name: String,
    pub rules: Vec<ApprovalRule>,
}

impl ApprovalList {
    /// The project's built-in list (`data/approval_required.csv`).
    pub fn builtin() -> Self {
        ApprovalList { name: "built-in".to_owned(), rules: parse_approval_csv(APPROVALS, "approval_required.csv").unwrap_or_default() }
    }

    /// The rule an HS code falls under on `date` (the longest matching prefix in force), if any.
    pub fn required(&self, hs: &str, date: NaiveDate) -> Option<&ApprovalRule> {
        self.rules.iter().filter(|r| r.valid_from <= date && hs.starts_with(&r.hs_prefix)).max_by_key(|r| (r.hs_prefix.len(), r.valid_from))
    }
}

/// The admission check of RULES.md §2.3: an item that needs the commerce department's approval on
/// `date` must carry an `approval_ref`; `only` restricts the items checked (a change checks the items
/// it adds or alters). Rule `approval_required`, at the first such item; the message names all.
pub fn check_approvals(list: &ApprovalList, book: &BookDoc, date: NaiveDate, only: Option<&BTreeSet<(bool, u32)>>) -> Result<(), BookError> {
    let mut missing = Vec::new();
    let refs = book.materials.iter().map(|m| m.approval_ref.as_deref()).chain(book.products.iter().map(|p| p.approval_ref.as_deref()));
    for ((is_material, index, seq, name, hs), approval_ref) in items(book).zip(refs) {
        if only.is_some_and(|o| !o.contains(&(is_material, seq))) || approval_ref.is_some_and(|r| !r.trim().is_empty()) {
            continue;
        }
        if let Some(rule) = list.required(hs, date) {
            let at = format!("{}[{index}].approval_ref", if is_material { "materials" } else { "products" });
            let what = format!(
                "{} {seq} ({name}, HS {hs}) needs the commerce department's approval ({}: HS {}…, {}, from {}); give its approval_ref",
                if is_material { "material" } else { "product" },
                rule.name,
                rule.hs_prefix,
                rule.source,
                rule.valid_from
            );
            missing.push((at, what));
        }
    }
    let Some((at, _)) = missing.first() else { return Ok(()) };
    Err(BookError {
        at: at.clone(),
        rule: "approval_required",
        message: format!("{} (approval list {}; RULES.md §2.3)", missing.iter().map(|m| m.1.as_str()).collect::<Vec<_>>().join("; "), list.name),
    })
}

/// The items of `new` that a change adds or alters against `old` (another HS code or approval
/// reference): (is_material, seq). All items when there is no `old`.
pub fn changed_items(old: Option<&BookDoc>, new: &BookDoc) -> BTreeSet<(bool, u32)> {
    let key = |b: &BookDoc| -> BTreeMap<(bool, u32), (String, Option<String>)> {
        let m = b.materials.iter().map(|x| ((true, x.seq), (x.hs_code.as_str().to_owned(), x.approval_ref.clone())));
        let p = b.products.iter().map(|x| ((false, x.seq), (x.hs_code.as_str().to_owned(), x.approval_ref.clone())));
        m.chain(p).collect()
    };
    let before = old.map(key).unwrap_or_default();
    key(new).into_iter().filter(|(k, v)| before.get(k) != Some(v)).map(|(k, _)| k).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::date::parse(s).unwrap()
    }

    #[test]
    fn the_builtin_approval_list_reads() {
        let rules = parse_approval_csv(APPROVALS, "approval_required.csv").unwrap();
        assert!(rules.iter().any(|r| r.hs_prefix == "2603"));
        let list = ApprovalList::builtin();
        assert_eq!(list.required("2603000010", d("2026-01-01")).map(|r| r.hs_prefix.as_str()), Some("2603"));
        assert!(list.required("3901100090", d("2026-01-01")).is_none());
    }

    #[test]
    fn csv_fields_quote() {
        assert_eq!(csv_fields(r#"a,"b, c","d ""e""",,"#).unwrap(), vec!["a", "b, c", "d \"e\"", "", ""]);
        assert!(csv_fields(r#"a,"b"#).is_err());
        assert!(csv_fields(r#""b"x,c"#).is_err());
    }

    #[test]
    fn subtract_spans() {
        let s = (d("2020-01-01"), d("2020-12-31"));
        assert_eq!(subtract(s, &[(d("2020-03-01"), d("2020-03-31"))]), vec![(d("2020-01-01"), d("2020-02-29")), (d("2020-04-01"), d("2020-12-31"))]);
        assert_eq!(subtract(s, &[(d("2019-01-01"), NaiveDate::MAX)]), vec![]);
        assert_eq!(subtract(s, &[]), vec![s]);
    }
}
