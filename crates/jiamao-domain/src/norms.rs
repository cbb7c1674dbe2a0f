//! National 单耗 standards (加工贸易单耗标准, RULES.md §4.5) as data, the comparison of a book's
//! 单耗 lines with them, and the review states of a 单耗 version (质疑 / 磋商, RULES.md §4.6).
//!
//! A standard row names a finished product and the materials it is made of by HS codes **of the
//! standard's year** (8 or 10 digits), a value (净耗 or 单耗, sometimes a range) and a process loss
//! rate in percent. Its 单耗 is 净耗 / (1 − 工艺损耗率) (RULES.md §4.2). For bonded products the
//! standard is a **maximum**; for products taxable on export a **minimum** (RULES.md §4.5): which
//! products are export-taxable is for the caller to say.
//!
//! Matching to today's codes: a book item (10 digits, today's tariff) matches a standard code when
//! the standard code is a prefix of it (8 digits) or equal to it (10 digits). The only HS
//! correspondence the data gives is the HS 2022 nomenclature at 6 digits (the caller hands it in):
//! when the subheading of a standard code is not an HS 2022 subheading it has been renumbered, split
//! or merged since the standard's year, and the match is **uncertain** — the result says so. Such a
//! standard code also matches items under today's subheadings of the same one-dash group (`854140`
//! → `85414x`; else the same heading) that may have replaced it, again as uncertain. National 8- and
//! 10-digit subdivisions are not checked (no correspondence table for them is at hand). Without the
//! HS 2022 nomenclature, codes match as written and the result says they were not checked.

use crate::book::{Book, Item, Version};
use crate::codes::UnitCode;
use crate::decimal;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

// ---- Standards as data ------------------------------------------------------------------------

/// What a standard row's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// 净耗: the standard 单耗 is value / (1 − loss %).
    Net,
    /// 单耗 given directly.
    Ucns,
    /// Only the 工艺损耗率: the standard 单耗 of a line is the line's own 净耗 / (1 − loss %).
    LossOnly,
}

impl ValueKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "net" => Some(ValueKind::Net),
            "ucns" => Some(ValueKind::Ucns),
            "loss_only" => Some(ValueKind::LossOnly),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::Net => "net",
            ValueKind::Ucns => "ucns",
            ValueKind::LossOnly => "loss_only",
        }
    }
}

/// One row of a national 单耗 standard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Norm {
    /// The row's id in its file (`row_id`), or its line number when the file has none.
    pub row: String,
    /// Line of the file the row was read from.
    pub line: usize,
    pub standard_no: String,
    /// The year of the standard (`HDB/FZ061-2010` → 2010): the year of its HS codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub policy_basis: String,
    pub finished_code: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub finished_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub finished_unit: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub finished_spec: String,
    pub material_codes: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub material_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub material_unit: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub material_spec: String,
    pub value_kind: ValueKind,
    /// The value when the row gives one figure.
    #[serde(default, deserialize_with = "decimal::deserialize_opt", serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub value: Option<Decimal>,
    /// The bounds when the row gives a range (`0.2~0.7`, or `value_min` / `value_max` columns).
    #[serde(default, deserialize_with = "decimal::deserialize_opt", serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub min: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal::deserialize_opt", serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub max: Option<Decimal>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value_unit: String,
    /// 工艺损耗率 in percent (`4.5` = 4.5 %).
    #[serde(default, deserialize_with = "decimal::deserialize_opt", serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub loss_rate_pct: Option<Decimal>,
    /// Where the row comes from (`source_url` or `source`).
    pub source: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl Norm {
    /// The highest value the row allows (its single value, or the top of its range).
    pub fn value_high(&self) -> Option<Decimal> {
        self.max.or(self.value)
    }

    /// The lowest value the row allows.
    pub fn value_low(&self) -> Option<Decimal> {
        self.min.or(self.value)
    }
}

/// A set of standard rows (one file, or every loaded file merged).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Norms {
    pub rows: Vec<Norm>,
}

/// The columns of a norms file (the layout of `shared/data/cn-unit-consumption-norms/norms_transcribed.csv`).
const REQUIRED: [&str; 6] = ["standard_no", "finished_code", "material_codes", "value_kind", "value", "process_loss_rate_pct"];

impl Norms {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The distinct standard numbers.
    pub fn standards(&self) -> BTreeSet<&str> {
        self.rows.iter().map(|r| r.standard_no.as_str()).collect()
    }

    /// Several documents in load order: a standard number (one with digits) in a later document
    /// replaces that standard's rows from earlier ones (a revised standard); rows without a usable
    /// standard number (`(not in excerpt)`) are all kept.
    pub fn merged(docs: impl IntoIterator<Item = Norms>) -> Norms {
        let mut rows: Vec<Norm> = Vec::new();
        for doc in docs {
            let replaced: BTreeSet<String> = doc.rows.iter().filter(|r| r.standard_no.bytes().any(|b| b.is_ascii_digit())).map(|r| r.standard_no.clone()).collect();
            rows.retain(|r| !replaced.contains(&r.standard_no));
            rows.extend(doc.rows);
        }
        Norms { rows }
    }

    /// Parses a norms file in the column layout of `norms_transcribed.csv`: `standard_no`,
    /// `finished_code`, `material_codes` (`;`-separated), `value_kind` (`net`, `ucns`, `loss_only`),
    /// `value` (one figure, or a range `low~high`), `process_loss_rate_pct`, and `source_url` (or
    /// `source`); optional `row_id`, `policy_basis`, names, units, specs, `value_unit`, `note`,
    /// `value_min` / `value_max`. Other columns are ignored. Every problem is listed.
    pub fn parse_csv(text: &str, file: &str) -> Result<Norms, Vec<String>> {
        let records = csv_records(text).map_err(|e| vec![format!("{file}: {e}")])?;
        let mut it = records.into_iter().filter(|(_, cells)| !(cells.len() == 1 && cells.first().is_some_and(|c| c.trim().is_empty())));
        let Some((_, header)) = it.next() else { return Err(vec![format!("{file}: empty file; the first line must be the header")]) };
        let cols: BTreeMap<String, usize> = header.iter().enumerate().map(|(i, h)| (h.trim().trim_start_matches('\u{feff}').to_owned(), i)).collect();
        let mut problems = Vec::new();
        for c in REQUIRED {
            if !cols.contains_key(c) {
                problems.push(format!("{file}: the header has no column {c} (required: {}, and source_url or source)", REQUIRED.join(", ")));
            }
        }
        let source_col = cols.get("source_url").or_else(|| cols.get("source")).copied();
        if source_col.is_none() {
            problems.push(format!("{file}: the header has no column source_url (or source)"));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut rows = Vec::new();
        for (line, cells) in it {
            let at = format!("{file}:{line}");
            let source = source_col.and_then(|i| cells.get(i)).map(|s| s.trim()).unwrap_or("");
            match parse_row(&Cells { cols: &cols, cells: &cells }, source, line, &at) {
                Ok(r) => rows.push(r),
                Err(mut p) => problems.append(&mut p),
            }
        }
        if problems.is_empty() {
            Ok(Norms { rows })
        } else {
            Err(problems)
        }
    }
}

/// One record's cells by column name.
struct Cells<'a> {
    cols: &'a BTreeMap<String, usize>,
    cells: &'a [String],
}

impl<'a> Cells<'a> {
    fn get(&self, name: &str) -> &'a str {
        self.cols.get(name).and_then(|&i| self.cells.get(i)).map(|s| s.trim()).unwrap_or("")
    }
}

fn parse_row(c: &Cells<'_>, source: &str, line: usize, at: &str) -> Result<Norm, Vec<String>> {
    let get = |name: &str| c.get(name);
    let mut problems = Vec::new();
    let standard_no = get("standard_no").to_owned();
    if standard_no.is_empty() {
        problems.push(format!("{at}: standard_no is empty"));
    }
    let finished_code = get("finished_code").to_owned();
    if let Err(e) = check_code(&finished_code) {
        problems.push(format!("{at}: finished_code: {e}"));
    }
    let material_codes: Vec<String> = get("material_codes").split(';').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect();
    if material_codes.is_empty() {
        problems.push(format!("{at}: material_codes is empty"));
    }
    for c in &material_codes {
        if let Err(e) = check_code(c) {
            problems.push(format!("{at}: material_codes: {e}"));
        }
    }
    let kind_text = get("value_kind");
    let value_kind = ValueKind::parse(kind_text);
    if value_kind.is_none() {
        problems.push(format!("{at}: value_kind \"{kind_text}\" is not net, ucns or loss_only"));
    }
    let mut dec = |col: &str, text: &str| -> Option<Decimal> {
        match decimal::parse(text) {
            Ok(d) if d.is_sign_negative() && !d.is_zero() => {
                problems.push(format!("{at}: {col} {text} must not be negative"));
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                problems.push(format!("{at}: {col}: {e}"));
                None
            }
        }
    };
    let value_text = get("value");
    let (mut value, mut min, mut max) = (None, None, None);
    if let Some((lo, hi)) = value_text.split_once(['~', '～']) {
        min = dec("value", lo.trim());
        max = dec("value", hi.trim());
    } else if !value_text.is_empty() {
        value = dec("value", value_text);
    }
    for (col, slot) in [("value_min", &mut min), ("value_max", &mut max)] {
        let t = get(col);
        if !t.is_empty() {
            *slot = dec(col, t);
        }
    }
    let loss_text = get("process_loss_rate_pct");
    let loss_rate_pct = if loss_text.is_empty() { None } else { dec("process_loss_rate_pct", loss_text) };
    if loss_rate_pct.is_some_and(|l| l >= Decimal::ONE_HUNDRED) {
        problems.push(format!("{at}: process_loss_rate_pct {loss_text} must be below 100"));
    }
    if let (Some(lo), Some(hi)) = (min, max) {
        if lo > hi {
            problems.push(format!("{at}: the range {} ~ {} runs backwards", decimal::plain(lo), decimal::plain(hi)));
        }
    }
    let has_value = value.is_some() || min.is_some() || max.is_some();
    match value_kind {
        Some(ValueKind::LossOnly) if has_value => problems.push(format!("{at}: a loss_only row gives no value (found \"{value_text}\")")),
        Some(ValueKind::LossOnly) if loss_rate_pct.is_none() => problems.push(format!("{at}: a loss_only row gives process_loss_rate_pct")),
        Some(ValueKind::Net | ValueKind::Ucns) if !has_value && value_text.is_empty() => problems.push(format!("{at}: value is empty")),
        Some(ValueKind::Net | ValueKind::Ucns) if [value, min, max].iter().flatten().any(|v| v.is_zero()) => problems.push(format!("{at}: value must be positive")),
        _ => {}
    }
    if source.is_empty() {
        problems.push(format!("{at}: the source is empty (say where the row comes from)"));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let Some(value_kind) = value_kind else { return Err(vec![format!("{at}: value_kind missing")]) };
    let row = match get("row_id") {
        "" => line.to_string(),
        r => r.to_owned(),
    };
    Ok(Norm {
        row,
        line,
        year: year_of(&standard_no),
        standard_no,
        policy_basis: get("policy_basis").to_owned(),
        finished_code,
        finished_name: get("finished_name").to_owned(),
        finished_unit: get("finished_unit").to_owned(),
        finished_spec: get("finished_spec").to_owned(),
        material_codes,
        material_name: get("material_name").to_owned(),
        material_unit: get("material_unit").to_owned(),
        material_spec: get("material_spec").to_owned(),
        value_kind,
        value,
        min,
        max,
        value_unit: get("value_unit").to_owned(),
        loss_rate_pct,
        source: source.to_owned(),
        note: get("note").to_owned(),
    })
}

/// A standard's HS code: 4, 6, 8 or 10 digits.
fn check_code(c: &str) -> Result<(), String> {
    if c.bytes().all(|b| b.is_ascii_digit()) && matches!(c.len(), 4 | 6 | 8 | 10) {
        Ok(())
    } else {
        Err(format!("\"{c}\" is not an HS code of 4, 6, 8 or 10 digits"))
    }
}

/// The year a standard number ends with (`HDB/FZ061-2010` → 2010).
fn year_of(standard_no: &str) -> Option<i32> {
    let tail = standard_no.rsplit(['-', '—']).next()?.trim();
    (tail.len() == 4 && tail.bytes().all(|b| b.is_ascii_digit())).then(|| tail.parse().ok()).flatten().filter(|y| (1950..=2100).contains(y))
}

/// Splits CSV text (RFC 4180: quoted fields, doubled quotes, CRLF) into records with the line each
/// starts on.
fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let mut out = Vec::new();
    let mut cells = Vec::new();
    let mut cell = String::new();
    let (mut line, mut start) = (1usize, 1usize);
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, '\n') => {
                line += 1;
                cell.push('\n');
            }
            (true, c) => cell.push(c),
            (false, '"') if cell.trim().is_empty() => {
                cell.clear();
                quoted = true;
            }
            (false, ',') => cells.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                cells.push(std::mem::take(&mut cell));
                out.push((start, std::mem::take(&mut cells)));
                line += 1;
                start = line;
            }
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return Err(format!("a quoted field opened on line {start} is never closed"));
    }
    if !cell.is_empty() || !cells.is_empty() {
        cells.push(cell);
        out.push((start, cells));
    }
    Ok(out)
}

// ---- HS 2022 ----------------------------------------------------------------------------------

/// The HS 2022 subheadings (6 digits): the correspondence by which a standard's codes of its year
/// are judged current or uncertain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hs2022 {
    subheadings: BTreeSet<String>,
}

impl Hs2022 {
    /// From codes; only 6-digit ones are kept.
    pub fn from_codes<S: AsRef<str>>(codes: impl IntoIterator<Item = S>) -> Self {
        Hs2022 { subheadings: codes.into_iter().map(|c| c.as_ref().trim().to_owned()).filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())).collect() }
    }

    /// Reads the nomenclature in the layout of datahub's `harmonized-system.csv` (`hscode` column,
    /// `level` 6 for subheadings; without a `level` column every 6-digit `hscode` counts).
    pub fn parse_csv(text: &str, file: &str) -> Result<Self, String> {
        let records = csv_records(text).map_err(|e| format!("{file}: {e}"))?;
        let mut it = records.into_iter();
        let Some((_, header)) = it.next() else { return Err(format!("{file}: empty file")) };
        let find = |name: &str| header.iter().position(|h| h.trim().trim_start_matches('\u{feff}') == name);
        let Some(code_col) = find("hscode") else { return Err(format!("{file}: the header has no column hscode")) };
        let level_col = find("level");
        let codes = it.filter(|(_, c)| level_col.is_none_or(|l| c.get(l).is_some_and(|v| v.trim() == "6"))).filter_map(|(_, c)| c.get(code_col).cloned());
        let hs = Hs2022::from_codes(codes);
        if hs.subheadings.is_empty() {
            return Err(format!("{file}: no 6-digit subheading found"));
        }
        Ok(hs)
    }

    pub fn contains(&self, subheading: &str) -> bool {
        self.subheadings.contains(subheading)
    }

    pub fn len(&self) -> usize {
        self.subheadings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.subheadings.is_empty()
    }
}

/// Whether a standard's code (of its year) covers a book item's 10-digit code as written: equal, or
/// a prefix of it (an 8-digit standard code covers every 10-digit line under it).
pub fn code_matches(standard: &str, item: &str) -> bool {
    if standard.len() >= item.len() {
        standard == item
    } else {
        item.starts_with(standard)
    }
}

impl Hs2022 {
    /// Today's subheadings that may have replaced a subheading HS 2022 no longer has: those of the
    /// same one-dash group (`854140` → `85414x`), else of the same heading. Returns the group and
    /// its subheadings (empty when neither has any).
    pub fn successors(&self, vanished: &str) -> (String, Vec<&str>) {
        for len in [5, 4] {
            let Some(group) = vanished.get(..len) else { continue };
            let found: Vec<&str> = self.subheadings.range(group.to_owned()..).map(String::as_str).take_while(|c| c.starts_with(group)).collect();
            if !found.is_empty() {
                return (group.to_owned(), found);
            }
        }
        (String::new(), Vec::new())
    }
}

/// How a standard code (of its year) corresponds to a book item's code (of today).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Correspondence {
    /// The standard code covers the item code, and its subheading is an HS 2022 subheading (or no
    /// HS 2022 nomenclature was given to check it).
    Direct,
    /// The standard code covers the item code as written, but its subheading is not in HS 2022:
    /// one of the two codes is out of date.
    Outdated { subheading: String },
    /// The standard's subheading is gone from HS 2022 and the item's subheading is one of today's
    /// subheadings of the same group that may have replaced it (8/10-digit detail not comparable).
    Successor { subheading: String, group: String },
}

/// Matches a standard code to an item code through HS 2022 (when given); `None`: no match.
pub fn correspond(standard: &str, item: &str, hs: Option<&Hs2022>) -> Option<Correspondence> {
    let sub = standard.get(..6).unwrap_or(standard);
    let current = hs.is_none_or(|h| h.contains(sub));
    if code_matches(standard, item) {
        return Some(if current { Correspondence::Direct } else { Correspondence::Outdated { subheading: sub.to_owned() } });
    }
    let hs = hs?;
    if current || standard.len() < 6 {
        return None;
    }
    let (group, successors) = hs.successors(sub);
    let item_sub = item.get(..6)?;
    successors.contains(&item_sub).then(|| Correspondence::Successor { subheading: sub.to_owned(), group })
}

/// How sure a match by code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HsMatch {
    /// Every matched standard code's subheading is an HS 2022 subheading and covers the item's code.
    Current,
    /// Matched through a subheading HS 2022 no longer has: changed since the standard's year.
    Uncertain,
    /// No HS 2022 nomenclature was given: the codes were matched as they are.
    Unchecked,
}

/// Judges a standard row's matched codes: `(standard code, item code, correspondence)` each.
pub fn hs_judgement(norm: &Norm, matched: &[(&str, &str, &Correspondence)], hs: Option<&Hs2022>) -> (HsMatch, Option<String>) {
    let year = norm.year.map(|y| format!("of {y}")).unwrap_or_else(|| "of the standard's year".to_owned());
    if hs.is_none() {
        return (HsMatch::Unchecked, Some(format!("{}: codes {year} matched as written, not checked against HS 2022", norm.standard_no)));
    }
    let notes: Vec<String> = matched
        .iter()
        .filter_map(|(std, item, c)| match c {
            Correspondence::Direct => None,
            Correspondence::Outdated { subheading } => {
                Some(format!("subheading {subheading} of {} code {std} ({year}) is not an HS 2022 subheading, yet the book's {item} begins with it: one of the codes is out of date", norm.standard_no))
            }
            Correspondence::Successor { subheading, group } => Some(format!(
                "subheading {subheading} of {} code {std} ({year}) is not in HS 2022; the book's {item} falls under {}, one of today's subheadings of {group} that may have replaced it",
                norm.standard_no,
                item.get(..6).unwrap_or(item)
            )),
        })
        .collect();
    if notes.is_empty() {
        (HsMatch::Current, None)
    } else {
        (HsMatch::Uncertain, Some(format!("{}; the match is uncertain, check the correspondence", notes.join("; "))))
    }
}

// ---- The standard 单耗 and the comparison -----------------------------------------------------

/// A standard's 单耗 for one line: the bounds, and how they were computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandardUc {
    #[serde(with = "decimal")]
    pub max: Decimal,
    #[serde(with = "decimal")]
    pub min: Decimal,
    pub basis: String,
}

fn pct(p: Decimal) -> String {
    format!("{} %", decimal::plain(p))
}

/// RULES.md §4.2: 单耗 = 净耗 / (1 − 工艺损耗率), rounded to `places` (the book's 单耗 places). For a
/// `loss_only` row the 净耗 is the line's own (`line_net`); `Err` says why no figure can be given.
pub fn standard_uc(norm: &Norm, line_net: Option<Decimal>, places: u32) -> Result<StandardUc, String> {
    let loss = norm.loss_rate_pct.unwrap_or(Decimal::ZERO);
    let keep = Decimal::ONE_HUNDRED - loss;
    if keep <= Decimal::ZERO {
        return Err(format!("loss rate {} leaves nothing", pct(loss)));
    }
    let through =
        |net: Decimal| net.checked_mul(Decimal::ONE_HUNDRED).and_then(|n| n.checked_div(keep)).map(|q| decimal::round(q, places)).ok_or_else(|| "the standard 单耗 cannot be computed".to_owned());
    let range = |lo: Decimal, hi: Decimal| if lo == hi { decimal::plain(lo) } else { format!("{} ~ {}", decimal::plain(lo), decimal::plain(hi)) };
    match norm.value_kind {
        ValueKind::Net => {
            let (Some(lo), Some(hi)) = (norm.value_low(), norm.value_high()) else { return Err("the row gives no 净耗".to_owned()) };
            Ok(StandardUc { max: through(hi)?, min: through(lo)?, basis: format!("净耗 {} / (1 − {})", range(lo, hi), pct(loss)) })
        }
        ValueKind::Ucns => {
            let (Some(lo), Some(hi)) = (norm.value_low(), norm.value_high()) else { return Err("the row gives no 单耗".to_owned()) };
            Ok(StandardUc { max: hi, min: lo, basis: format!("单耗 {}", range(lo, hi)) })
        }
        ValueKind::LossOnly => {
            let Some(net) = line_net else { return Err(format!("the standard gives only the loss rate ({}); the line declares 单耗 directly, without 净耗", pct(loss))) };
            let uc = through(net)?;
            Ok(StandardUc { max: uc, min: uc, basis: format!("the line's 净耗 {} / (1 − {})", decimal::plain(net), pct(loss)) })
        }
    }
}

/// RULES.md §17 A: the material a declared 单耗 draws beyond another (the standard's, or the one
/// customs found) over `product_qty` units: (declared − standard) × quantity.
pub fn excess_material(declared_uc: Decimal, standard_uc: Decimal, product_qty: Decimal) -> Option<Decimal> {
    (declared_uc - standard_uc).checked_mul(product_qty)
}

/// The verdict on a line (or on one standard for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Within,
    /// A bonded product's 单耗 above the standard's maximum.
    AboveMaximum,
    /// An export-taxable product's 单耗 below the standard's minimum.
    BelowMinimum,
    /// No standard covers the product and material.
    NoStandard,
    /// Standards match, but none can be compared (units differ, a loss-only standard and a 单耗
    /// declared without 净耗).
    NotComparable,
    /// Several rows match (they differ by specification, which codes do not tell) and disagree.
    SpecDependent,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Within => "within",
            Verdict::AboveMaximum => "above_maximum",
            Verdict::BelowMinimum => "below_minimum",
            Verdict::NoStandard => "no_standard",
            Verdict::NotComparable => "not_comparable",
            Verdict::SpecDependent => "spec_dependent",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One standard row that matches a line, and the line judged against it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NormMatch {
    pub standard_no: String,
    pub row: String,
    pub source: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub policy_basis: String,
    /// The standard's codes that matched (of its year).
    pub finished_code: String,
    pub material_code: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub finished_spec: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub material_spec: String,
    pub value_kind: ValueKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard: Option<StandardUc>,
    pub verdict: Verdict,
    /// By how much the line passes the bound: 单耗 − maximum, or minimum − 单耗.
    #[serde(serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub excess_per_unit: Option<Decimal>,
    pub hs2022: HsMatch,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hs_note: Option<String>,
    /// Why the line cannot be compared with this row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One BOM line (product, material, version) judged against the standards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineCheck {
    pub product_seq: u32,
    pub product_hs: String,
    pub material_seq: u32,
    pub material_hs: String,
    pub version: String,
    pub valid_from: NaiveDate,
    /// The book's 单耗.
    #[serde(with = "decimal")]
    pub uc: Decimal,
    #[serde(serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub net: Option<Decimal>,
    /// 有形 + 无形 loss rate (fraction) when 净耗 was declared.
    #[serde(serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub loss_rate: Option<Decimal>,
    /// Judged as a product taxable on export (the standard is a minimum).
    pub export_taxable: bool,
    pub verdict: Verdict,
    /// Some matched standard's codes no longer correspond to HS 2022.
    pub uncertain: bool,
    pub standards: Vec<NormMatch>,
}

/// What the comparison needs beside the book and the standards.
#[derive(Debug, Clone, Copy)]
pub struct CheckSettings<'a> {
    pub hs2022: Option<&'a Hs2022>,
    /// Product seqs taxable on export (their standard is a minimum).
    pub export_taxable: &'a BTreeSet<u32>,
    /// Decimal places of a standard 单耗 computed from 净耗 (the book's policy, default 9).
    pub uc_places: u32,
}

/// Counts of a check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub lines: usize,
    pub within: usize,
    pub above_maximum: usize,
    pub below_minimum: usize,
    pub no_standard: usize,
    pub not_comparable: usize,
    pub spec_dependent: usize,
    /// Lines with an uncertain HS match.
    pub uncertain: usize,
}

impl Summary {
    pub fn of(lines: &[LineCheck]) -> Summary {
        let mut s = Summary { lines: lines.len(), ..Summary::default() };
        for l in lines {
            match l.verdict {
                Verdict::Within => s.within += 1,
                Verdict::AboveMaximum => s.above_maximum += 1,
                Verdict::BelowMinimum => s.below_minimum += 1,
                Verdict::NoStandard => s.no_standard += 1,
                Verdict::NotComparable => s.not_comparable += 1,
                Verdict::SpecDependent => s.spec_dependent += 1,
            }
            s.uncertain += usize::from(l.uncertain);
        }
        s
    }
}

/// The unit name of an item (`035` → 千克), or its code when the table does not know it.
fn unit_name(item: &Item) -> String {
    UnitCode::parse(&item.unit).map(|u| u.name().to_owned()).unwrap_or_else(|_| item.unit.clone())
}

/// Judges every line of one 单耗 version of `product`.
pub fn check_version(book: &Book, product: &Item, version: &Version, norms: &Norms, s: &CheckSettings<'_>) -> Vec<LineCheck> {
    let taxable = s.export_taxable.contains(&product.seq);
    let mut out = Vec::with_capacity(version.lines.len());
    for line in &version.lines {
        let Some(material) = book.materials.get(line.material_idx) else { continue };
        let loss_rate = line.net.map(|_| line.tangible + line.intangible);
        let mut standards = Vec::new();
        for norm in &norms.rows {
            let Some(fc) = correspond(&norm.finished_code, &product.hs_code, s.hs2022) else { continue };
            // A direct match of a material code beats a successor match of another.
            let mut found: Vec<(&String, Correspondence)> = norm.material_codes.iter().filter_map(|c| correspond(c, &material.hs_code, s.hs2022).map(|m| (c, m))).collect();
            found.sort_by_key(|(_, m)| !matches!(m, Correspondence::Direct));
            let Some((mcode, mc)) = found.into_iter().next() else { continue };
            let (hs2022, hs_note) = hs_judgement(norm, &[(&norm.finished_code, &product.hs_code, &fc), (mcode, &material.hs_code, &mc)], s.hs2022);
            let mut m = NormMatch {
                standard_no: norm.standard_no.clone(),
                row: norm.row.clone(),
                source: norm.source.clone(),
                policy_basis: norm.policy_basis.clone(),
                finished_code: norm.finished_code.clone(),
                material_code: mcode.clone(),
                finished_spec: norm.finished_spec.clone(),
                material_spec: norm.material_spec.clone(),
                value_kind: norm.value_kind,
                standard: None,
                verdict: Verdict::NotComparable,
                excess_per_unit: None,
                hs2022,
                hs_note,
                reason: None,
            };
            let (pu, mu) = (unit_name(product), unit_name(material));
            if !norm.finished_unit.is_empty() && norm.finished_unit != pu {
                m.reason = Some(format!("the standard counts the product in {}, the book in {pu}", norm.finished_unit));
            } else if !norm.material_unit.is_empty() && norm.material_unit != mu {
                m.reason = Some(format!("the standard counts the material in {}, the book in {mu}", norm.material_unit));
            } else {
                match standard_uc(norm, line.net, s.uc_places) {
                    Err(why) => m.reason = Some(why),
                    Ok(std) => {
                        // RULES.md §4.5: a maximum for bonded products, a minimum for export-taxable ones.
                        (m.verdict, m.excess_per_unit) = if taxable {
                            if line.uc < std.min {
                                (Verdict::BelowMinimum, Some(std.min - line.uc))
                            } else {
                                (Verdict::Within, None)
                            }
                        } else if line.uc > std.max {
                            (Verdict::AboveMaximum, Some(line.uc - std.max))
                        } else {
                            (Verdict::Within, None)
                        };
                        m.standard = Some(std);
                    }
                }
            }
            standards.push(m);
        }
        let verdict = overall(&standards);
        let uncertain = standards.iter().any(|m| m.hs2022 == HsMatch::Uncertain);
        out.push(LineCheck {
            product_seq: product.seq,
            product_hs: product.hs_code.clone(),
            material_seq: line.material_seq,
            material_hs: material.hs_code.clone(),
            version: version.version.clone(),
            valid_from: version.valid_from,
            uc: line.uc,
            net: line.net,
            loss_rate,
            export_taxable: taxable,
            verdict,
            uncertain,
            standards,
        });
    }
    out
}

/// The line's verdict from its standards: none → `no_standard`; none comparable →
/// `not_comparable`; all comparable agree → theirs; else `spec_dependent`.
fn overall(standards: &[NormMatch]) -> Verdict {
    if standards.is_empty() {
        return Verdict::NoStandard;
    }
    let verdicts: BTreeSet<Verdict> = standards.iter().map(|m| m.verdict).filter(|v| *v != Verdict::NotComparable).collect();
    match verdicts.len() {
        0 => Verdict::NotComparable,
        1 => verdicts.into_iter().next().unwrap_or(Verdict::NotComparable),
        _ => Verdict::SpecDependent,
    }
}

/// Judges every line of every version of a book.
pub fn check_book(book: &Book, norms: &Norms, s: &CheckSettings<'_>) -> Vec<LineCheck> {
    let mut out = Vec::new();
    for (product, versions) in book.products.iter().zip(&book.versions) {
        for v in versions {
            out.extend(check_version(book, product, v, norms, s));
        }
    }
    out
}

// ---- Review of a 单耗 version (质疑 / 磋商) -----------------------------------------------------

/// Where customs' review of a 单耗 version stands (RULES.md §4.6 单耗质疑标志 / 磋商标志).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Declared by the enterprise; not (yet) questioned.
    Declared,
    /// 质疑: customs doubts it and asks the enterprise for evidence.
    Questioned,
    /// 磋商: customs and the enterprise consult.
    Consulting,
    /// Accepted by customs, or self-verified (企业自核单耗) from its declaration.
    Accepted,
    /// Customs determined another 单耗: the enterprise files the replacement version as a change.
    Adjusted,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Declared => "declared",
            ReviewState::Questioned => "questioned",
            ReviewState::Consulting => "consulting",
            ReviewState::Accepted => "accepted",
            ReviewState::Adjusted => "adjusted",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, ReviewState::Accepted | ReviewState::Adjusted)
    }
}

impl fmt::Display for ReviewState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a customs officer does to a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    Question,
    Consult,
    Accept,
    Adjust,
}

impl ReviewAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewAction::Question => "question",
            ReviewAction::Consult => "consult",
            ReviewAction::Accept => "accept",
            ReviewAction::Adjust => "adjust",
        }
    }
}

impl std::str::FromStr for ReviewAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "question" => Ok(ReviewAction::Question),
            "consult" => Ok(ReviewAction::Consult),
            "accept" => Ok(ReviewAction::Accept),
            "adjust" => Ok(ReviewAction::Adjust),
            o => Err(format!("unknown review action {o:?}; one of question, consult, accept, adjust")),
        }
    }
}

/// A refused transition: the rule and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionError {
    pub rule: &'static str,
    pub message: String,
}

/// The review's transitions: declared → questioned (质疑) → consulting (磋商) → accepted | adjusted;
/// customs may accept a declared or questioned version at once; accepted and adjusted are final (a
/// different 单耗 is a new version, filed as a book change).
pub fn review_transition(from: ReviewState, action: ReviewAction) -> Result<ReviewState, TransitionError> {
    use ReviewAction as A;
    use ReviewState as S;
    let refused = |allowed: &str| Err(TransitionError { rule: "ucns_transition", message: format!("{} applies to a version that is {allowed}; this one is {from}", action.as_str()) });
    if from.is_final() {
        return Err(TransitionError { rule: "ucns_review_final", message: format!("the version is {from}, which is final; a different 单耗 is a new version filed as a book change (变更)") });
    }
    match (action, from) {
        (A::Question, S::Declared) => Ok(S::Questioned),
        (A::Question, _) => refused("declared"),
        (A::Consult, S::Questioned) => Ok(S::Consulting),
        (A::Consult, _) => refused("questioned (质疑)"),
        (A::Accept, S::Declared | S::Questioned | S::Consulting) => Ok(S::Accepted),
        (A::Accept, _) => refused("declared, questioned or consulting"),
        (A::Adjust, S::Consulting) => Ok(S::Adjusted),
        (A::Adjust, _) => refused("under consultation (磋商)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_handle_quotes_and_crlf() {
        let r = csv_records("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n").unwrap();
        assert_eq!(r, vec![(1, vec!["a".to_owned(), "b".to_owned()]), (2, vec!["x, y".to_owned(), "say \"hi\"".to_owned()])]);
        assert!(csv_records("a,\"b\n").is_err());
    }

    #[test]
    fn years_of_standard_numbers() {
        assert_eq!(year_of("HDB/FZ061-2010"), Some(2010));
        assert_eq!(year_of("(not in excerpt)"), None);
    }

    #[test]
    fn codes_match_by_prefix_or_equality() {
        assert!(code_matches("60019100", "6001910000"));
        assert!(code_matches("6001910000", "6001910000"));
        assert!(!code_matches("6001910010", "6001910000"));
        assert!(!code_matches("60019200", "6001910000"));
    }

    #[test]
    fn transitions() {
        use ReviewAction as A;
        use ReviewState as S;
        assert_eq!(review_transition(S::Declared, A::Question), Ok(S::Questioned));
        assert_eq!(review_transition(S::Questioned, A::Consult), Ok(S::Consulting));
        assert_eq!(review_transition(S::Consulting, A::Adjust), Ok(S::Adjusted));
        assert_eq!(review_transition(S::Declared, A::Accept), Ok(S::Accepted));
        assert_eq!(review_transition(S::Declared, A::Consult).unwrap_err().rule, "ucns_transition");
        assert_eq!(review_transition(S::Questioned, A::Adjust).unwrap_err().rule, "ucns_transition");
        assert_eq!(review_transition(S::Accepted, A::Question).unwrap_err().rule, "ucns_review_final");
    }
}
