//! Cross-checks that only networking makes possible (多方联网): what other departments hand over,
//! compared with what the ledger knows.
//!
//! - Foreign exchange (外汇): the receipts the FX side records for an enterprise against the export
//!   values declared on its lists (product exports and material re-exports that carried an amount).
//! - Tax (税务): the import VAT the tax side expects (for example from the enterprise's VAT deduction
//!   claims on customs payment notes) against the VAT assessed on its domestic sales and the tax
//!   payments recorded.
//!
//! File formats (CSV with a header, UTF-8; documented in docs/platform.md):
//! - `fx_receipts.csv`: `enterprise,receipt_no,received_on,currency,amount,list_no` (`list_no` may be
//!   empty; `currency` a customs currency code; `amount` in that currency).
//! - `tax_vat.csv`: `enterprise,period,vat_expected` (`period` as Jiamao labels it: `2026-05`,
//!   `2026Q2`, or a list number for a list declared on its own; CNY).

use crate::codes::{CurrencyCode, Uscc};
use crate::decimal;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One foreign-exchange receipt reported by the FX side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FxReceipt {
    pub enterprise: String,
    pub receipt_no: String,
    pub received_on: NaiveDate,
    pub currency: String,
    #[serde(with = "decimal")]
    pub amount: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_no: Option<String>,
}

/// The VAT the tax side expects of an enterprise for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatExpectation {
    pub enterprise: String,
    pub period: String,
    #[serde(with = "decimal")]
    pub vat_expected: Decimal,
}

fn csv_rows<'a>(text: &'a str, file: &str, header: &str, problems: &mut Vec<String>) -> Vec<(usize, Vec<&'a str>)> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    match lines.next() {
        Some((_, h)) if h.trim().trim_start_matches('\u{feff}') == header => {}
        _ => {
            problems.push(format!("{file}: the first line must be the header {header}"));
            return Vec::new();
        }
    }
    let width = header.split(',').count();
    lines
        .filter_map(|(i, l)| {
            let cells: Vec<&str> = l.split(',').map(str::trim).collect();
            if cells.len() != width {
                problems.push(format!("{file}:{}: expected {width} cells ({header}), found {}", i + 1, cells.len()));
                return None;
            }
            Some((i + 1, cells))
        })
        .collect()
}

/// Reads an FX receipts file; every problem is listed and a file with any is refused whole.
pub fn parse_fx_receipts(text: &str, file: &str) -> Result<Vec<FxReceipt>, Vec<String>> {
    let mut problems = Vec::new();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (n, c) in csv_rows(text, file, "enterprise,receipt_no,received_on,currency,amount,list_no", &mut problems) {
        let at = format!("{file}:{n}");
        let before = problems.len();
        if let Err(e) = Uscc::parse(c[0]) {
            problems.push(format!("{at}: enterprise: {e}"));
        }
        if c[1].is_empty() {
            problems.push(format!("{at}: receipt_no is empty"));
        } else if !seen.insert((c[0].to_owned(), c[1].to_owned())) {
            problems.push(format!("{at}: receipt {} of {} appears twice", c[1], c[0]));
        }
        let date = crate::date::parse(c[2]).map_err(|e| problems.push(format!("{at}: received_on: {e}"))).ok();
        if CurrencyCode::parse(c[3]).is_err() {
            problems.push(format!("{at}: currency \"{}\" is not a customs currency code (502 USD …)", c[3]));
        }
        let amount = decimal::parse(c[4]).map_err(|e| problems.push(format!("{at}: amount: {e}"))).ok();
        if amount.is_some_and(|a| a <= Decimal::ZERO) {
            problems.push(format!("{at}: amount must be positive"));
        }
        if problems.len() == before {
            if let (Some(received_on), Some(amount)) = (date, amount) {
                out.push(FxReceipt { enterprise: c[0].to_owned(), receipt_no: c[1].to_owned(), received_on, currency: c[3].to_owned(), amount, list_no: (!c[5].is_empty()).then(|| c[5].to_owned()) });
            }
        }
    }
    if out.is_empty() && problems.is_empty() {
        problems.push(format!("{file}: no receipts"));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Reads a tax-side VAT file; every problem is listed and a file with any is refused whole.
pub fn parse_vat_expectations(text: &str, file: &str) -> Result<Vec<VatExpectation>, Vec<String>> {
    let mut problems = Vec::new();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (n, c) in csv_rows(text, file, "enterprise,period,vat_expected", &mut problems) {
        let at = format!("{file}:{n}");
        let before = problems.len();
        if let Err(e) = Uscc::parse(c[0]) {
            problems.push(format!("{at}: enterprise: {e}"));
        }
        if c[1].is_empty() || !seen.insert((c[0].to_owned(), c[1].to_owned())) {
            problems.push(format!("{at}: period \"{}\" is empty or appears twice", c[1]));
        }
        let vat = decimal::parse(c[2]).map_err(|e| problems.push(format!("{at}: vat_expected: {e}"))).ok();
        if vat.is_some_and(|v| v.is_sign_negative()) {
            problems.push(format!("{at}: vat_expected must not be negative"));
        }
        if problems.len() == before {
            if let Some(vat_expected) = vat {
                out.push(VatExpectation { enterprise: c[0].to_owned(), period: c[1].to_owned(), vat_expected });
            }
        }
    }
    if out.is_empty() && problems.is_empty() {
        problems.push(format!("{file}: no rows"));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// An export value declared on a list line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportValue {
    pub book_no: String,
    pub list_no: String,
    pub declared_on: NaiveDate,
    pub currency: String,
    pub amount: Decimal,
}

/// Exports against receipts in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FxRow {
    pub currency: String,
    #[serde(with = "decimal")]
    pub exported: Decimal,
    #[serde(with = "decimal")]
    pub received: Decimal,
    /// exported − received (positive: receipts short of exports).
    #[serde(with = "decimal")]
    pub shortfall: Decimal,
    /// received ÷ exported, 6 places (absent when nothing was exported).
    #[serde(serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub received_ratio: Option<Decimal>,
    pub flagged: bool,
}

/// A list whose export value no receipt names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnpaidList {
    pub book_no: String,
    pub list_no: String,
    pub declared_on: NaiveDate,
    pub currency: String,
    #[serde(with = "decimal")]
    pub amount: Decimal,
}

/// The FX cross-check of one enterprise over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FxCheck {
    pub enterprise: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Receipts short of exports by more than this share are flagged.
    #[serde(with = "decimal")]
    pub tolerance: Decimal,
    pub rows: Vec<FxRow>,
    /// Export lists in the period that no receipt names (informational: receipts need not name lists).
    pub lists_without_named_receipt: Vec<UnpaidList>,
    /// Receipts that name a list the enterprise did not declare as an export.
    pub receipts_naming_unknown_lists: Vec<String>,
    pub flagged: bool,
}

/// Compares exports declared from `from` to `to` with receipts received in the same period.
pub fn fx_check(enterprise: &str, from: NaiveDate, to: NaiveDate, exports: &[ExportValue], receipts: &[FxReceipt], tolerance: Decimal) -> FxCheck {
    let mut by_currency: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    let in_period = |d: NaiveDate| from <= d && d <= to;
    for e in exports.iter().filter(|e| in_period(e.declared_on)) {
        by_currency.entry(e.currency.clone()).or_default().0 += e.amount;
    }
    let mine: Vec<&FxReceipt> = receipts.iter().filter(|r| r.enterprise == enterprise).collect();
    for r in mine.iter().filter(|r| in_period(r.received_on)) {
        by_currency.entry(r.currency.clone()).or_default().1 += r.amount;
    }
    let rows: Vec<FxRow> = by_currency
        .into_iter()
        .map(|(currency, (exported, received))| {
            let shortfall = exported - received;
            let ratio = (!exported.is_zero()).then(|| decimal::round(received / exported, 6));
            let flagged = shortfall > exported * tolerance;
            FxRow { currency, exported, received, shortfall, received_ratio: ratio, flagged }
        })
        .collect();
    let named: BTreeSet<&str> = mine.iter().filter_map(|r| r.list_no.as_deref()).collect();
    let exported_lists: BTreeSet<&str> = exports.iter().map(|e| e.list_no.as_str()).collect();
    let mut unpaid: BTreeMap<&str, UnpaidList> = BTreeMap::new();
    for e in exports.iter().filter(|e| in_period(e.declared_on) && !named.contains(e.list_no.as_str())) {
        unpaid.entry(e.list_no.as_str()).and_modify(|u| u.amount += e.amount).or_insert_with(|| UnpaidList {
            book_no: e.book_no.clone(),
            list_no: e.list_no.clone(),
            declared_on: e.declared_on,
            currency: e.currency.clone(),
            amount: e.amount,
        });
    }
    let unknown: Vec<String> = mine.iter().filter(|r| r.list_no.as_deref().is_some_and(|l| !exported_lists.contains(l))).map(|r| r.receipt_no.clone()).collect();
    let flagged = rows.iter().any(|r| r.flagged) || !unknown.is_empty();
    FxCheck { enterprise: enterprise.to_owned(), from, to, tolerance, rows, lists_without_named_receipt: unpaid.into_values().collect(), receipts_naming_unknown_lists: unknown, flagged }
}

/// One period of the tax cross-check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VatRow {
    pub period: String,
    /// VAT assessed on the period's domestic sales (Jiamao's quotes).
    #[serde(with = "decimal")]
    pub vat_assessed: Decimal,
    /// Tax paid on the period (payments recorded: duty, consumption tax, VAT and interest together).
    #[serde(with = "decimal")]
    pub paid: Decimal,
    /// What the tax side expects (absent when it reported nothing for the period).
    #[serde(serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub vat_expected: Option<Decimal>,
    /// expected − assessed.
    #[serde(serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub difference: Option<Decimal>,
    pub flagged: bool,
    pub reason: String,
}

/// What the ledger assessed on a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Assessed {
    pub vat: Decimal,
    pub paid: Decimal,
    pub tax_due: Decimal,
    /// Whether every list of the period could be quoted (a missing rate makes it incomplete).
    pub complete: bool,
}

/// Compares, period by period, the VAT assessed and paid with what the tax side expects.
pub fn vat_check(assessed: &BTreeMap<String, Assessed>, expected: &[VatExpectation]) -> Vec<VatRow> {
    let mut periods: BTreeSet<String> = assessed.keys().cloned().collect();
    periods.extend(expected.iter().map(|e| e.period.clone()));
    periods
        .into_iter()
        .map(|period| {
            let a = assessed.get(&period).copied().unwrap_or(Assessed { complete: true, ..Assessed::default() });
            let (vat, paid, due) = (a.vat, a.paid, a.tax_due);
            let exp = expected.iter().find(|e| e.period == period).map(|e| e.vat_expected);
            let difference = exp.map(|e| e - vat);
            let (flagged, reason) = match (exp, difference) {
                _ if !a.complete => (true, "the period's domestic sales could not all be quoted (a missing tariff line or rate): see jiamao tax periods".to_owned()),
                (None, _) => (true, "the tax side reported no VAT for a period with domestic sales".to_owned()),
                (Some(_), Some(d)) if !d.is_zero() => (true, format!("the tax side expects {} more VAT than was assessed", decimal::plain(d))),
                _ if paid < due => (true, "the assessed tax is not fully paid".to_owned()),
                _ => (false, "consistent".to_owned()),
            };
            VatRow { period, vat_assessed: vat, paid, vat_expected: exp, difference, flagged, reason }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }
    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    const E: &str = "91441900698123458E";

    #[test]
    fn fx_short_receipts_are_flagged() {
        let exports = vec![
            ExportValue { book_no: "B".into(), list_no: "L1".into(), declared_on: day("2026-02-15"), currency: "502".into(), amount: d("78000") },
            ExportValue { book_no: "B".into(), list_no: "L2".into(), declared_on: day("2026-07-15"), currency: "502".into(), amount: d("65000") },
        ];
        let receipts = parse_fx_receipts(&format!("enterprise,receipt_no,received_on,currency,amount,list_no\n{E},R1,2026-03-01,502,78000,L1\n{E},R2,2026-08-01,502,60000,\n"), "fx.csv").unwrap();
        let c = fx_check(E, day("2026-01-01"), day("2026-12-31"), &exports, &receipts, Decimal::ZERO);
        assert_eq!(c.rows[0].shortfall, d("5000"));
        assert!(c.flagged);
        assert_eq!(c.lists_without_named_receipt.len(), 1);
        let c = fx_check(E, day("2026-01-01"), day("2026-12-31"), &exports, &receipts, d("0.05"));
        assert!(!c.flagged, "5,000 of 143,000 is within 5 %");
    }

    #[test]
    fn bad_files_are_refused_whole() {
        let e = parse_fx_receipts(&format!("enterprise,receipt_no,received_on,currency,amount,list_no\n{E},R1,2026-3-01,502,1,\nX,R2,2026-03-01,999,-1,\n{E},R1,2026-03-01,502,1,\n"), "fx.csv")
            .unwrap_err();
        assert!(e.len() >= 4, "{e:?}");
        assert!(parse_vat_expectations("enterprise,period,vat_expected\nX,2026-05,1\n", "t.csv").is_err());
    }

    #[test]
    fn vat_rows() {
        let mut assessed = BTreeMap::new();
        assessed.insert("2026-05".to_owned(), Assessed { vat: d("619.29"), paid: d("911.42"), tax_due: d("911.42"), complete: true });
        assessed.insert("2026-06".to_owned(), Assessed { vat: d("2723.08"), paid: d("0"), tax_due: d("3931.96"), complete: true });
        let expected = parse_vat_expectations(&format!("enterprise,period,vat_expected\n{E},2026-05,619.29\n{E},2026-06,2800\n"), "t.csv").unwrap();
        let rows = vat_check(&assessed, &expected);
        assert!(!rows[0].flagged);
        assert!(rows[1].flagged);
        assert_eq!(rows[1].difference, Some(d("76.92")));
    }
}
