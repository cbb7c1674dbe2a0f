//! The reconciliation report (报核, FORMAT.md `reconcile`) and the balance report.
//!
//! Figures are exact until output, then rounded once: quantities to 5 places, amounts to 2,
//! half away from zero (RULES.md §5.4 field mapping; FORMAT.md "Every figure in a report …").

use crate::book::BookError;
use crate::decimal::{report_amount, report_qty};
use crate::doc::StocktakeDoc;
use crate::ledger::{BookLedger, MaterialTotals};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeSet;

/// One material of the 报核 report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MaterialReport {
    pub seq: u32,
    pub opening: String,
    pub imported: String,
    pub carried_in: String,
    pub surplus_in: String,
    pub replaced_in: String,
    pub consumed: String,
    pub domestic_sold: String,
    pub re_exported: String,
    pub replaced_out: String,
    pub surplus_out: String,
    pub destroyed: String,
    pub leftover_accrued: String,
    pub leftover_disposed: String,
    pub should_remain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_remain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difference_amount: Option<String>,
    /// 差异率: difference ÷ the base the policy names (only when one is set; the official base is
    /// UNCONFIRMED, RULES.md §5.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference_rate: Option<String>,
}

/// One product of the 报核 report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ProductReport {
    pub seq: u32,
    pub exported: String,
    pub carried_out: String,
    pub domestic_sold: String,
    pub returned: String,
    pub reexported: String,
    pub destroyed: String,
}

/// The 报核 report of a book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ReconcileReport {
    pub book_no: String,
    pub materials: Vec<MaterialReport>,
    pub products: Vec<ProductReport>,
}

/// A material's balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MaterialBalance {
    pub seq: u32,
    pub balance: String,
}

/// The balance report: `{book_no, as_of, materials: [{seq, balance}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BalanceReport {
    pub book_no: String,
    pub as_of: Option<NaiveDate>,
    pub materials: Vec<MaterialBalance>,
}

/// The balances of a ledger (built from the lists up to `as_of`).
pub fn balance(ledger: &BookLedger, as_of: Option<NaiveDate>) -> BalanceReport {
    let book = ledger.book();
    BalanceReport {
        book_no: book.book_no.clone(),
        as_of,
        materials: book.materials.iter().zip(ledger.material_totals()).map(|(i, t)| MaterialBalance { seq: i.seq, balance: report_qty(t.should_remain()) }).collect(),
    }
}

fn serr(at: impl Into<String>, rule: &'static str, message: impl Into<String>) -> BookError {
    BookError { at: at.into(), rule, message: message.into() }
}

/// 实际剩余 per material from a stocktake (盘点): on hand + wip + outsourced + products through the
/// 单耗 version valid on `taken_on` (FORMAT.md stocktake).
pub fn actual_remain(ledger: &BookLedger, st: &StocktakeDoc) -> Result<Vec<Decimal>, BookError> {
    let book = ledger.book();
    if st.book_no != book.book_no {
        return Err(serr("book_no", "unknown_book", format!("the stocktake is for book {}, not {}", st.book_no, book.book_no)));
    }
    let mut actual = vec![Decimal::ZERO; book.materials.len()];
    for (section, counts) in [("materials", &st.materials), ("wip", &st.wip), ("outsourced", &st.outsourced)] {
        let mut seen = BTreeSet::new();
        for (k, c) in counts.iter().enumerate() {
            let at = format!("{section}[{k}] (seq {})", c.seq);
            if !seen.insert(c.seq) {
                return Err(serr(at, "stocktake_duplicate", format!("material {} is counted twice in {section}", c.seq)));
            }
            if c.qty.is_sign_negative() && !c.qty.is_zero() {
                return Err(serr(at, "quantity_negative", "a counted quantity must not be negative"));
            }
            let m = book.material_idx(c.seq).ok_or_else(|| serr(&at, "unknown_item", format!("material seq {} is not in book {}", c.seq, book.book_no)))?;
            if let Some(a) = actual.get_mut(m) {
                *a = a.checked_add(c.qty).ok_or_else(|| serr(&at, "overflow", "too large"))?;
            }
        }
    }
    let mut seen = BTreeSet::new();
    for (k, c) in st.products.iter().enumerate() {
        let at = format!("products[{k}] (seq {})", c.seq);
        if !seen.insert(c.seq) {
            return Err(serr(at, "stocktake_duplicate", format!("product {} is counted twice", c.seq)));
        }
        if c.qty.is_sign_negative() && !c.qty.is_zero() {
            return Err(serr(at, "quantity_negative", "a counted quantity must not be negative"));
        }
        let p = book.product_idx(c.seq).ok_or_else(|| serr(&at, "unknown_item", format!("product seq {} is not in book {}", c.seq, book.book_no)))?;
        let v = book
            .version_on(p, st.taken_on)
            .ok_or_else(|| serr(&at, "no_valid_version", format!("product {} has no 单耗 version valid on {}, so it cannot be counted as materials", c.seq, st.taken_on)))?;
        for b in &v.lines {
            let x = c.qty.checked_mul(b.uc_share).ok_or_else(|| serr(&at, "overflow", "too large"))?;
            if let Some(a) = actual.get_mut(b.material_idx) {
                *a = a.checked_add(x).ok_or_else(|| serr(&at, "overflow", "too large"))?;
            }
        }
    }
    Ok(actual)
}

fn material_report(seq: u32, t: &MaterialTotals, actual: Option<Decimal>, rate_base: Option<crate::policy::RateBase>) -> MaterialReport {
    let should = t.should_remain();
    let difference = actual.map(|a| should - a);
    let base = rate_base.map(|b| match b {
        crate::policy::RateBase::ShouldRemain => should,
        crate::policy::RateBase::Inflow => t.opening + t.imported + t.carried_in + t.surplus_in + t.replaced_in,
    });
    let difference_rate = match (difference, base) {
        (Some(d), Some(b)) if !b.is_zero() => d.checked_div(b).map(|r| crate::decimal::plain(crate::decimal::round(r, crate::policy::DIFFERENCE_RATE_DP))),
        _ => None,
    };
    // Weighted average unit price of priced inflows, applied to the exact difference; one division.
    let difference_amount = match difference {
        Some(d) if !t.priced_qty.is_zero() => d.checked_mul(t.priced_amount).and_then(|x| x.checked_div(t.priced_qty)).map(report_amount),
        _ => None,
    };
    MaterialReport {
        seq,
        opening: report_qty(t.opening),
        imported: report_qty(t.imported),
        carried_in: report_qty(t.carried_in),
        surplus_in: report_qty(t.surplus_in),
        replaced_in: report_qty(t.replaced_in),
        consumed: report_qty(t.consumed),
        domestic_sold: report_qty(t.domestic_sold),
        re_exported: report_qty(t.re_exported),
        replaced_out: report_qty(t.replaced_out),
        surplus_out: report_qty(t.surplus_out),
        destroyed: report_qty(t.destroyed),
        leftover_accrued: report_qty(t.leftover_accrued),
        leftover_disposed: report_qty(t.leftover_disposed),
        should_remain: report_qty(should),
        actual_remain: actual.map(report_qty),
        difference: difference.map(report_qty),
        difference_amount,
        difference_rate,
    }
}

/// The 报核 report of a ledger (built from the lists up to the report date), with a stocktake when given.
pub fn reconcile(ledger: &BookLedger, stocktake: Option<&StocktakeDoc>) -> Result<ReconcileReport, BookError> {
    reconcile_range(ledger, None, stocktake, None)
}

/// The 报核 report of a date range: `to` holds the lists up to the range's end, `before` (when the
/// range has a start) the lists up to the day before it. The opening of the range is the
/// should-remain of the day before; every flow is the range's own. Difference amounts use the
/// weighted average price of all priced inflows up to the range's end.
pub fn reconcile_range(to: &BookLedger, before: Option<&BookLedger>, stocktake: Option<&StocktakeDoc>, rate_base: Option<crate::policy::RateBase>) -> Result<ReconcileReport, BookError> {
    let book = to.book();
    let actual = stocktake.map(|st| actual_remain(to, st)).transpose()?;
    let overflow = || serr("", "overflow", "figures too large to subtract exactly");
    let mut material_totals = to.material_totals();
    let mut product_totals = to.product_totals().to_vec();
    if let Some(b) = before {
        for (t, bt) in material_totals.iter_mut().zip(b.material_totals()) {
            let mut flows = t.checked_sub(&bt).ok_or_else(overflow)?;
            flows.opening = bt.should_remain();
            flows.priced_qty = t.priced_qty;
            flows.priced_amount = t.priced_amount;
            *t = flows;
        }
        for (t, bt) in product_totals.iter_mut().zip(b.product_totals()) {
            *t = t.checked_sub(bt).ok_or_else(overflow)?;
        }
    }
    let seqs_m: Vec<u32> = book.materials.iter().map(|i| i.seq).collect();
    let seqs_p: Vec<u32> = book.products.iter().map(|i| i.seq).collect();
    Ok(report_from_totals(&book.book_no, seqs_m.into_iter().zip(material_totals), seqs_p.into_iter().zip(product_totals), actual.as_deref(), rate_base))
}

/// The 报核 report from totals by item (for example a checkpoint's snapshot), without the book.
pub fn report_from_totals(
    book_no: &str,
    materials: impl IntoIterator<Item = (u32, MaterialTotals)>,
    products: impl IntoIterator<Item = (u32, crate::ledger::ProductTotals)>,
    actual: Option<&[Decimal]>,
    rate_base: Option<crate::policy::RateBase>,
) -> ReconcileReport {
    let materials = materials.into_iter().enumerate().map(|(k, (seq, t))| material_report(seq, &t, actual.and_then(|a| a.get(k).copied()), rate_base)).collect();
    let products = products
        .into_iter()
        .map(|(seq, t)| ProductReport {
            seq,
            exported: report_qty(t.exported),
            carried_out: report_qty(t.carried_out),
            domestic_sold: report_qty(t.domestic_sold),
            returned: report_qty(t.returned),
            reexported: report_qty(t.reexported),
            destroyed: report_qty(t.destroyed),
        })
        .collect();
    ReconcileReport { book_no: book_no.to_owned(), materials, products }
}
