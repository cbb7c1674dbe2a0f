//! The national tariff as dated data (税则): 10-digit lines with their MFN, provisional, general and
//! agreement duty rates, consumption tax and import VAT (RULES.md §8.2), in versions valid from a date.
//!
//! Rates keep the tariff's notation (`"6.5%"`, `"0.6元/千克"`, `"20%+0.912元/升"`) as their source and
//! are parsed into [`Rate`]. Sliding and quota rates ("完税价不高于…", "关税配额税率…") are kept as text and
//! refused at computation with a message asking for the rate, never taken as zero.

use super::TaxError;
use crate::codes::{CountryCode, HsCode};
use crate::decimal;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A rate as the tariff states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rate {
    /// A share of the value (a fraction: `6.5%` is 0.065).
    AdValorem(Decimal),
    /// An amount in CNY per unit (`0.6元/千克`).
    Specific { per_unit: Decimal, unit: String },
    /// Both (`20%+0.912元/升`).
    Compound { ad_valorem: Decimal, per_unit: Decimal, unit: String },
    /// A form Jiamao does not compute (sliding scale, tariff quota): the tariff's text.
    Other(String),
}

impl Rate {
    /// Parses the tariff's notation; whitespace inside is ignored (the source wraps some cells).
    /// `bare_percent`: agreement columns write `1.5` for 1.5 %.
    pub fn parse(text: &str, bare_percent: bool) -> Option<Rate> {
        let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if t.is_empty() {
            return None;
        }
        let pct = |s: &str| -> Option<Decimal> { decimal::parse(s).ok().filter(|d| !d.is_sign_negative()).map(|d| d / Decimal::ONE_HUNDRED) };
        let specific = |s: &str| -> Option<(Decimal, String)> {
            let (amount, unit) = s.split_once("元/")?;
            let d = decimal::parse(amount).ok().filter(|d| !d.is_sign_negative())?;
            (!unit.is_empty() && !unit.chars().any(|c| c.is_ascii_digit())).then(|| (d, unit.to_owned()))
        };
        if let Some((a, s)) = t.split_once('+') {
            if let (Some(p), Some((per_unit, unit))) = (a.strip_suffix('%').and_then(pct), specific(s)) {
                return Some(Rate::Compound { ad_valorem: p, per_unit, unit });
            }
        } else if let Some(p) = t.strip_suffix('%').and_then(pct) {
            return Some(Rate::AdValorem(p));
        } else if let Some((per_unit, unit)) = specific(&t) {
            return Some(Rate::Specific { per_unit, unit });
        } else if bare_percent {
            if let Some(p) = pct(&t) {
                return Some(Rate::AdValorem(p));
            }
        }
        Some(Rate::Other(t))
    }

    /// The ad valorem part, when the rate is purely ad valorem.
    pub fn ad_valorem(&self) -> Option<Decimal> {
        match self {
            Rate::AdValorem(r) => Some(*r),
            _ => None,
        }
    }
}

impl fmt::Display for Rate {
    /// Ad valorem rates as a fraction (`0.065`); others in the tariff's notation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rate::AdValorem(r) => f.write_str(&decimal::plain(*r)),
            Rate::Specific { per_unit, unit } => write!(f, "{}元/{unit}", decimal::plain(*per_unit)),
            Rate::Compound { ad_valorem, per_unit, unit } => write!(f, "{}+{}元/{unit}", decimal::plain(*ad_valorem), decimal::plain(*per_unit)),
            Rate::Other(t) => f.write_str(t),
        }
    }
}

/// One tariff line as loaded (the tariff's own text for each rate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffLineDoc {
    pub code: String,
    pub name: String,
    /// 最惠国税率.
    pub mfn: String,
    /// 暂定税率 (empty: none).
    pub provisional: String,
    /// 普通税率.
    pub general: String,
    /// 协定税率 by agreement name (`东盟`, `韩国`, …): the tariff's text, bare percent.
    pub agreements: BTreeMap<String, String>,
    /// 消费税.
    pub consumption: String,
    /// 进口环节增值税.
    pub vat: String,
    /// 法定第一单位.
    pub legal_unit: String,
}

/// A tariff version: its lines and the date from which it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffDoc {
    pub name: String,
    pub valid_from: NaiveDate,
    pub source: String,
    pub lines: Vec<TariffLineDoc>,
}

/// One line of the tariff on the shape of `shared/data/cn-tariff-2026/v2.0.0/tariff/p*.json`.
#[derive(Debug, Deserialize)]
struct SourceLine {
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    t1: String,
    #[serde(default)]
    t2: String,
    #[serde(default)]
    t3: String,
    #[serde(default)]
    t4: String,
    #[serde(default)]
    t5: String,
    #[serde(default)]
    t6: String,
    #[serde(default)]
    u: String,
}

/// Reads the agreement cell `<东盟>0</东盟><韩国>1.5</韩国>…`; empty cells are no rate.
fn agreement_cells(cell: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut rest = cell.trim();
    while !rest.is_empty() {
        let open = rest.strip_prefix('<').ok_or_else(|| format!("agreement rates: expected <name> at \"{}\"", rest.chars().take(20).collect::<String>()))?;
        let (name, after) = open.split_once('>').ok_or("agreement rates: unterminated tag")?;
        let close = format!("</{name}>");
        let (value, after) = after.split_once(close.as_str()).ok_or_else(|| format!("agreement rates: no {close}"))?;
        if !value.trim().is_empty() {
            out.insert(name.to_owned(), value.to_owned());
        }
        rest = after.trim_start();
    }
    Ok(out)
}

/// Builds a tariff version from the files of the national tariff (each a JSON array of lines with
/// `code, name, t1` MFN, `t2` provisional, `t3` general, `t4` agreements, `t5` consumption tax, `t6`
/// VAT, `u` legal unit). Every problem of every file is listed; a code twice is a problem.
pub fn tariff_from_source(name: &str, valid_from: NaiveDate, source: &str, files: &[(String, String)]) -> Result<TariffDoc, Vec<String>> {
    let mut problems = Vec::new();
    let mut lines: BTreeMap<String, TariffLineDoc> = BTreeMap::new();
    for (file, text) in files {
        let rows: Vec<SourceLine> = match serde_json::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{file}: not a JSON array of tariff lines: {e}"));
                continue;
            }
        };
        for (i, r) in rows.into_iter().enumerate() {
            let at = format!("{file}[{i}] ({})", r.code);
            if let Err(e) = HsCode::parse(&r.code) {
                problems.push(format!("{at}: {e}"));
                continue;
            }
            let agreements = match agreement_cells(&r.t4) {
                Ok(a) => a,
                Err(e) => {
                    problems.push(format!("{at}: {e}"));
                    continue;
                }
            };
            let line = TariffLineDoc { code: r.code.clone(), name: r.name, mfn: r.t1, provisional: r.t2, general: r.t3, agreements, consumption: r.t5, vat: r.t6, legal_unit: r.u };
            if lines.insert(r.code.clone(), line).is_some() {
                problems.push(format!("{at}: code {} appears twice", r.code));
            }
        }
    }
    if lines.is_empty() && problems.is_empty() {
        problems.push("no tariff lines found".to_owned());
    }
    if problems.is_empty() {
        Ok(TariffDoc { name: name.to_owned(), valid_from, source: source.to_owned(), lines: lines.into_values().collect() })
    } else {
        Err(problems)
    }
}

/// Where a rate came from, for the answer ("tariff 2026 (from 2026-01-01): provisional").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RateSource {
    pub table: String,
    pub valid_from: NaiveDate,
    /// `mfn`, `provisional`, `agreement:东盟`, `consumption`, `vat`, or `request`.
    pub column: String,
}

impl fmt::Display for RateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {}): {}", self.table, self.valid_from, self.column)
    }
}

/// The duty, consumption tax and VAT rates that apply to one line, each with its source.
#[derive(Debug, Clone, PartialEq)]
pub struct LineRates {
    pub hs_code: String,
    pub name: String,
    pub duty: (Rate, RateSource),
    pub consumption: Option<(Rate, RateSource)>,
    pub vat: (Rate, RateSource),
}

/// Tariff versions in force by date, and the countries each agreement covers.
#[derive(Debug, Clone, Default)]
pub struct Tariff {
    /// Ascending `valid_from`.
    versions: Vec<(TariffDoc, BTreeMap<String, usize>)>,
}

/// Which agreements (the tariff's column names) cover a country of origin: the project's table
/// `data/agreements.csv` (`agreement,country_code`).
pub fn agreements_of(origin: &CountryCode) -> Vec<&'static str> {
    AGREEMENTS.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).filter_map(|l| l.split_once(',')).filter(|(_, c)| c.trim() == origin.as_str()).map(|(a, _)| a).collect()
}

const AGREEMENTS: &str = include_str!("../../data/agreements.csv");

impl Tariff {
    pub fn new() -> Self {
        Tariff::default()
    }

    /// Adds a version; versions are ordered by `valid_from` (two on one day: the later one added wins).
    pub fn add(&mut self, doc: TariffDoc) {
        let index = doc.lines.iter().enumerate().map(|(i, l)| (l.code.clone(), i)).collect();
        let pos = self.versions.partition_point(|(v, _)| v.valid_from <= doc.valid_from);
        self.versions.insert(pos, (doc, index));
    }

    pub fn versions(&self) -> impl Iterator<Item = &TariffDoc> {
        self.versions.iter().map(|(v, _)| v)
    }

    /// The tariff line of `hs` in the version in force on `date`.
    pub fn line(&self, hs: &str, date: NaiveDate) -> Result<(&TariffDoc, &TariffLineDoc), TaxError> {
        let Some((doc, index)) = self.versions.iter().rev().find(|(v, _)| v.valid_from <= date) else {
            let msg = match self.versions.first() {
                Some((v, _)) => format!("no tariff is in force on {date}: the earliest loaded, {}, applies from {}", v.name, v.valid_from),
                None => "no tariff is loaded (jiamao tariff load <dir>)".to_owned(),
            };
            return Err(TaxError::new("tariff", "tariff_missing", msg));
        };
        let line = index
            .get(hs)
            .and_then(|&i| doc.lines.get(i))
            .ok_or_else(|| TaxError::new("hs_code", "hs_code_unknown", format!("HS code {hs} is not in tariff {} (in force from {})", doc.name, doc.valid_from)))?;
        Ok((doc, line))
    }

    /// The rates for `hs` on `date`. Provisional beats MFN; with a certificate of origin from a
    /// country under an agreement that has a rate for the line, the lower of that rate and the MFN or
    /// provisional one applies (从低适用); a rate that cannot be compared (specific) is taken as the
    /// agreement's.
    pub fn rates(&self, hs: &str, date: NaiveDate, certified_origin: Option<&CountryCode>) -> Result<LineRates, TaxError> {
        let (doc, line) = self.line(hs, date)?;
        let src = |column: &str| RateSource { table: doc.name.clone(), valid_from: doc.valid_from, column: column.to_owned() };
        let bad = |what: &str, text: &str| {
            if text.trim().is_empty() {
                TaxError::new("tariff", "rate_not_in_tariff", format!("tariff {} states no {what} for {hs} (a line under a tariff quota, for one); quote with explicit rates", doc.name))
            } else {
                TaxError::new("tariff", "rate_unreadable", format!("the {what} of {hs} in tariff {} is \"{text}\", not a rate", doc.name))
            }
        };
        let mfn = Rate::parse(&line.mfn, false).ok_or_else(|| bad("MFN rate", &line.mfn))?;
        let mut duty = match Rate::parse(&line.provisional, false) {
            Some(p) => (p, src("provisional")),
            None => (mfn, src("mfn")),
        };
        if let Some(origin) = certified_origin {
            let mut best: Option<(Rate, String)> = None;
            for name in agreements_of(origin) {
                if let Some(rate) = line.agreements.get(name).and_then(|t| Rate::parse(t, true)) {
                    let better = match (&best, rate.ad_valorem()) {
                        (None, _) => true,
                        (Some((b, _)), Some(r)) => b.ad_valorem().is_some_and(|b| r < b),
                        _ => false,
                    };
                    if better {
                        best = Some((rate, name.to_owned()));
                    }
                }
            }
            if let Some((rate, name)) = best {
                let lower = match (rate.ad_valorem(), duty.0.ad_valorem()) {
                    (Some(a), Some(d)) => a < d,
                    _ => true,
                };
                if lower {
                    duty = (rate, src(&format!("agreement:{name}")));
                }
            }
        }
        let consumption = Rate::parse(&line.consumption, false).filter(|r| *r != Rate::AdValorem(Decimal::ZERO)).map(|r| (r, src("consumption")));
        let vat = Rate::parse(&line.vat, false).ok_or_else(|| bad("VAT rate", &line.vat))?;
        Ok(LineRates { hs_code: hs.to_owned(), name: line.name.clone(), duty, consumption, vat: (vat, src("vat")) })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn parses_the_tariff_notations() {
        assert_eq!(Rate::parse("6.5%", false), Some(Rate::AdValorem(d("0.065"))));
        assert_eq!(Rate::parse("", false), None);
        assert_eq!(Rate::parse("0.6元/千克", false), Some(Rate::Specific { per_unit: d("0.6"), unit: "千克".into() }));
        assert_eq!(Rate::parse("0.2元/ 千克", true), Some(Rate::Specific { per_unit: d("0.2"), unit: "千克".into() }));
        assert_eq!(Rate::parse("20%+0.912元/升", false), Some(Rate::Compound { ad_valorem: d("0.2"), per_unit: d("0.912"), unit: "升".into() }));
        assert_eq!(Rate::parse("1.5", true), Some(Rate::AdValorem(d("0.015"))));
        assert!(matches!(Rate::parse("1.5", false), Some(Rate::Other(_))));
        assert!(matches!(Rate::parse("完税价不高于9元/千克：10%，完税价高于9元/千克：0%+0.9元/千克。", false), Some(Rate::Other(_))));
        assert!(matches!(Rate::parse("关税 配额 税 率： 15", true), Some(Rate::Other(_))));
        assert_eq!(Rate::parse("20%+0.912元/升", false).unwrap().to_string(), "0.2+0.912元/升");
    }

    #[test]
    fn agreement_cells_are_read_and_empty_ones_skipped() {
        let a = agreement_cells("<亚太></亚太><韩国>1.5</韩国><东盟>0</东盟>").unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a["韩国"], "1.5");
        assert!(agreement_cells("<韩国>1.5</东盟>").is_err());
    }
}
