//! The extended 报核 report (`jiamao reconcile --full`): the FORMAT.md report plus the header and
//! the per-item fields of RULES.md §5.3–§5.4 that the ledger knows. Opt-in: the default report and
//! its JSON stay exactly as FORMAT.md fixes them.
//!
//! What it adds, and the rules chosen:
//! - `header`: the period the report covers (`from`: the range start, else the day after the last
//!   closed cycle the report starts from, else the book's first valid day; `to`: the range end,
//!   else the date of the latest list counted, absent when none); the list counts (impInvtTotalCnt /
//!   expInvtTotalCnt): an *import list* is a list the ledger classifies as a priced material inflow
//!   (料件进口, 深加工结转 in, 余料结转 in, [`Movement::is_priced_inflow`]), an *export list* one it
//!   classifies as a product export or 深加工结转 out (the lists that also move the last-export date);
//!   and per currency (the item's currency in the book) the amounts of those lists' lines that carry
//!   one (impMtpckTotalAmt / expEndprdTotalAmt). Counts and amounts are the range's own lists.
//! - per material: `average_price` (dclcusInvtAvgUprcAmt), the weighted average unit price of every
//!   priced inflow up to the report's end (the one `difference_amount` uses; 5 places at output),
//!   and `consumed_amount` / `domestic_sold_amount` / `should_remain_amount` valued at it (one
//!   division from the exact figures, 2 places, half away from zero); all four absent without a
//!   price. `tangible_loss` / `intangible_loss` (tgblLossQty / intgbLossQty): Σ base·t/(t+i) and
//!   Σ base·i/(t+i) over the material's leftover buckets (the tangible loss *is* the accrued
//!   leftovers). `increase` / `decrease` (vrfaddQty / vrfredQty): the adjustments recorded when the
//!   cycle that ends the day before the report's start was closed, 0 otherwise (informational: they
//!   are already inside `opening`).
//! - per product: `exported_amount` / `carried_out_amount`, the sums of the amounts of the range's
//!   export / 深加工结转 out lines, absent when no such line carried one.
//!
//! Left out because the ledger does not track them without a larger change: the intangible loss of
//! 单耗 lines that accrue no leftovers (declared 单耗 directly, or no tangible loss: the ledger keeps
//! a loss base only where leftovers accrue, so their intangible loss counts as 0 here); the counts
//! of materials / products / leftovers / defectives reported (chgoff…TotalCnt), the type and the
//! deadline (see `jiamao cycle status`); amounts of 边角料 and 残次品 (lfmtImprTotalAmt); 本期结余 and
//! 核销周期初数量 beyond `opening`.

use crate::book::{Book, BookError};
use crate::cycle::{AdjustmentDoc, AdjustmentKind};
use crate::decimal::{report_amount, report_qty};
use crate::doc::{ListDoc, StocktakeDoc};
use crate::ledger::BookLedger;
use crate::movement::{classify, Movement};
use crate::report::{self, MaterialReport, ProductReport};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// The header of the extended report (RULES.md §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FullHeader {
    /// First day covered (chgoffBeginTime).
    pub from: NaiveDate,
    /// Last day covered: the range end, else the latest list counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    /// impInvtTotalCnt: lists of priced material inflows.
    pub import_lists: u64,
    /// expInvtTotalCnt: lists of product exports and 深加工结转 out.
    pub export_lists: u64,
    /// impMtpckTotalAmt by currency.
    pub import_amounts: BTreeMap<String, String>,
    /// expEndprdTotalAmt by currency.
    pub export_amounts: BTreeMap<String, String>,
}

/// A material of the extended report: the FORMAT.md fields, then the extra ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FullMaterial {
    #[serde(flatten)]
    pub base: MaterialReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average_price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domestic_sold_amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub should_remain_amount: Option<String>,
    pub tangible_loss: String,
    pub intangible_loss: String,
    pub increase: String,
    pub decrease: String,
}

/// A product of the extended report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FullProduct {
    #[serde(flatten)]
    pub base: ProductReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exported_amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carried_out_amount: Option<String>,
}

/// The extended 报核 report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FullReport {
    pub book_no: String,
    pub header: FullHeader,
    pub materials: Vec<FullMaterial>,
    pub products: Vec<FullProduct>,
}

/// The lists of the report's range, tallied for the header and the product amounts. Feed it every
/// list the report counts ([`ListTally::add`]); lists the book cannot classify are skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct ListTally {
    pub import_lists: u64,
    pub export_lists: u64,
    pub import_amounts: BTreeMap<String, Decimal>,
    pub export_amounts: BTreeMap<String, Decimal>,
    /// By product index: (exported amount, carried-out amount), `None` until a line carried one.
    pub product_amounts: Vec<(Option<Decimal>, Option<Decimal>)>,
    pub last_date: Option<NaiveDate>,
}

impl ListTally {
    pub fn new(book: &Book) -> Self {
        ListTally { import_lists: 0, export_lists: 0, import_amounts: BTreeMap::new(), export_amounts: BTreeMap::new(), product_amounts: vec![(None, None); book.products.len()], last_date: None }
    }

    /// Counts one list.
    pub fn add(&mut self, book: &Book, list: &ListDoc) {
        let Ok(mv) = classify(book, list.trade_mode.as_str(), list.direction, list.goods) else { return };
        self.last_date = self.last_date.max(Some(list.declared_on));
        let export = matches!(mv, Movement::ProductExport | Movement::ProductCarryOut);
        if mv.is_priced_inflow() {
            self.import_lists += 1;
            for l in &list.lines {
                let (Some(a), Some(item)) = (l.amount, book.material_idx(l.item_seq).and_then(|m| book.materials.get(m))) else { continue };
                add_to(self.import_amounts.entry(item.currency.clone()).or_default(), a);
            }
        } else if export {
            self.export_lists += 1;
            for l in &list.lines {
                let Some(a) = l.amount else { continue };
                let Some(p) = book.product_idx(l.item_seq) else { continue };
                if let Some(item) = book.products.get(p) {
                    add_to(self.export_amounts.entry(item.currency.clone()).or_default(), a);
                }
                if let Some(slot) = self.product_amounts.get_mut(p) {
                    let x = if mv == Movement::ProductExport { &mut slot.0 } else { &mut slot.1 };
                    add_to(x.get_or_insert(Decimal::ZERO), a);
                }
            }
        }
    }
}

fn add_to(sum: &mut Decimal, a: Decimal) {
    *sum = sum.checked_add(a).unwrap_or(*sum);
}

/// `qty × amount ÷ priced_qty`, rounded as an amount; `None` without a price.
fn valued(qty: Decimal, priced_qty: Decimal, priced_amount: Decimal) -> Option<String> {
    if priced_qty.is_zero() {
        return None;
    }
    qty.checked_mul(priced_amount).and_then(|x| x.checked_div(priced_qty)).map(report_amount)
}

/// What the extended report covers beyond the ledgers: the first day, the range end when given,
/// the range's lists tallied, and the adjustments of the closure of the day before `from`.
#[derive(Debug, Clone, Copy)]
pub struct FullScope<'a> {
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub lists: &'a ListTally,
    pub adjustments: &'a [AdjustmentDoc],
}

/// The extended 报核 report of a range: `to` / `before` / `stocktake` / `rate_base` as for
/// [`report::reconcile_range`], plus what [`FullScope`] says. Pure.
pub fn reconcile_full(
    to: &BookLedger,
    before: Option<&BookLedger>,
    stocktake: Option<&StocktakeDoc>,
    rate_base: Option<crate::policy::RateBase>,
    scope: FullScope<'_>,
) -> Result<FullReport, BookError> {
    let FullScope { from, to: to_date, lists, adjustments } = scope;
    let totals = report::reconcile_range_totals(to, before, stocktake, rate_base)?;
    let base = totals.report();
    let mut intangible = to.intangible_losses();
    if let Some(b) = before {
        for (x, y) in intangible.iter_mut().zip(b.intangible_losses()) {
            *x = x.checked_sub(y).unwrap_or(*x);
        }
    }
    let materials = base
        .materials
        .into_iter()
        .zip(&totals.materials)
        .enumerate()
        .map(|(k, (m, (seq, t)))| {
            let (mut inc, mut dec) = (Decimal::ZERO, Decimal::ZERO);
            for a in adjustments.iter().filter(|a| a.seq == *seq) {
                match a.kind {
                    AdjustmentKind::Increase => add_to(&mut inc, a.qty),
                    AdjustmentKind::Decrease => add_to(&mut dec, a.qty),
                }
            }
            let average_price = if t.priced_qty.is_zero() { None } else { t.priced_amount.checked_div(t.priced_qty).map(report_qty) };
            FullMaterial {
                average_price,
                consumed_amount: valued(t.consumed, t.priced_qty, t.priced_amount),
                domestic_sold_amount: valued(t.domestic_sold, t.priced_qty, t.priced_amount),
                should_remain_amount: valued(t.should_remain(), t.priced_qty, t.priced_amount),
                tangible_loss: m.leftover_accrued.clone(),
                intangible_loss: report_qty(intangible.get(k).copied().unwrap_or_default()),
                increase: report_qty(inc),
                decrease: report_qty(dec),
                base: m,
            }
        })
        .collect();
    let products = base
        .products
        .into_iter()
        .enumerate()
        .map(|(k, p)| {
            let (e, c) = lists.product_amounts.get(k).copied().unwrap_or_default();
            FullProduct { base: p, exported_amount: e.map(report_amount), carried_out_amount: c.map(report_amount) }
        })
        .collect();
    let header = FullHeader {
        from,
        to: to_date.or(lists.last_date),
        import_lists: lists.import_lists,
        export_lists: lists.export_lists,
        import_amounts: lists.import_amounts.iter().map(|(c, a)| (c.clone(), report_amount(*a))).collect(),
        export_amounts: lists.export_amounts.iter().map(|(c, a)| (c.clone(), report_amount(*a))).collect(),
    };
    Ok(FullReport { book_no: base.book_no, header, materials, products })
}
