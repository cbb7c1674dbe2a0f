//! Verification cycles (核销周期): closing a cycle (核销结案) freezes its 报核 report, records the
//! agreed adjustments (核增 / 核减, RULES.md §5.4 vrfaddQty / vrfredQty) and opens the next cycle with
//! the adjusted remains as its opening balances. Lists dated in a closed cycle are refused after.

use crate::book::{Book, BookError};
use crate::decimal;
use crate::doc::BookType;
use crate::ledger::BookLedger;
use crate::report::{self, ReconcileReport};
use chrono::{Days, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// 核增 (increase) or 核减 (decrease) agreed with customs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentKind {
    Increase,
    Decrease,
}

/// One adjustment of a material's remain at a cycle's close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentDoc {
    pub seq: u32,
    pub kind: AdjustmentKind,
    #[serde(deserialize_with = "decimal::deserialize", serialize_with = "decimal::serialize")]
    pub qty: Decimal,
    /// Why: the customs decision or the agreed difference it records.
    pub reason: String,
}

/// The adjustments file of `jiamao cycle close --adjustments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentsDoc {
    pub book_no: String,
    pub adjustments: Vec<AdjustmentDoc>,
}

/// A material's opening balance in the next cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    pub seq: u32,
    #[serde(deserialize_with = "decimal::deserialize", serialize_with = "decimal::serialize")]
    pub opening: Decimal,
}

/// A closed cycle, as recorded (append-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub book_no: String,
    /// 1 for the first cycle closed.
    pub cycle_no: u32,
    pub from: NaiveDate,
    /// The last day of the cycle: the write-off date (最近核销日期) that deferred-interest rules start from.
    pub to: NaiveDate,
    /// The frozen 报核 report of the cycle (with the stocktake when one was given).
    pub report: ReconcileReport,
    pub adjustments: Vec<AdjustmentDoc>,
    /// Whether the openings start from the counted remains (a stocktake) or the should-remain.
    pub from_stocktake: bool,
    pub openings: Vec<Opening>,
}

fn err(at: impl Into<String>, rule: &'static str, message: impl Into<String>) -> BookError {
    BookError { at: at.into(), rule, message: message.into() }
}

/// Closes the cycle that `ledger` holds (every list up to `to`, from the previous closure on).
/// The next cycle opens, per material, with the counted remain (else the should-remain) plus
/// increases minus decreases; an opening below zero is refused.
pub fn close(ledger: &BookLedger, cycle_no: u32, from: NaiveDate, to: NaiveDate, stocktake: Option<&crate::doc::StocktakeDoc>, adjustments: Option<&AdjustmentsDoc>) -> Result<Closure, BookError> {
    let book = ledger.book();
    if to < from {
        return Err(err("--to", "cycle_dates", format!("the cycle would end on {to}, before it starts on {from}")));
    }
    if let Some(st) = stocktake {
        if st.taken_on != to {
            return Err(err("taken_on", "cycle_stocktake_date", format!("the stocktake was taken on {}, not on the cycle's last day {to}", st.taken_on)));
        }
    }
    let report = report::reconcile(ledger, stocktake)?;
    let actual = stocktake.map(|st| report::actual_remain(ledger, st)).transpose()?;
    let mut delta: BTreeMap<u32, Decimal> = BTreeMap::new();
    if let Some(a) = adjustments {
        if a.book_no != book.book_no {
            return Err(err("book_no", "unknown_book", format!("the adjustments are for book {}, not {}", a.book_no, book.book_no)));
        }
        for (k, adj) in a.adjustments.iter().enumerate() {
            let at = format!("adjustments[{k}] (seq {})", adj.seq);
            if book.material_idx(adj.seq).is_none() {
                return Err(err(at, "unknown_item", format!("material seq {} is not in book {}", adj.seq, book.book_no)));
            }
            if adj.qty <= Decimal::ZERO {
                return Err(err(at, "quantity_not_positive", "an adjustment quantity must be positive; its kind says increase or decrease"));
            }
            if adj.reason.trim().is_empty() {
                return Err(err(at, "adjustment_reason", "every adjustment states its reason (the customs decision or agreed difference)"));
            }
            let d = delta.entry(adj.seq).or_default();
            *d = match adj.kind {
                AdjustmentKind::Increase => *d + adj.qty,
                AdjustmentKind::Decrease => *d - adj.qty,
            };
        }
    }
    let mut openings = Vec::with_capacity(book.materials.len());
    for (k, (item, t)) in book.materials.iter().zip(ledger.material_totals()).enumerate() {
        let base = actual.as_ref().and_then(|a| a.get(k).copied()).unwrap_or_else(|| t.should_remain());
        let opening = base + delta.get(&item.seq).copied().unwrap_or_default();
        if opening < Decimal::ZERO {
            return Err(err(format!("materials (seq {})", item.seq), "cycle_opening_negative", format!("material {} would open the next cycle at {}", item.seq, decimal::report_qty(opening))));
        }
        openings.push(Opening { seq: item.seq, opening });
    }
    Ok(Closure {
        book_no: book.book_no.clone(),
        cycle_no,
        from,
        to,
        report,
        adjustments: adjustments.map(|a| a.adjustments.clone()).unwrap_or_default(),
        from_stocktake: stocktake.is_some(),
        openings,
    })
}

/// What is due when (RULES.md §5.1–§5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CycleStatus {
    pub book_no: String,
    pub book_type: BookType,
    /// The open cycle's number and first day.
    pub cycle_no: u32,
    pub cycle_from: NaiveDate,
    /// The last day of the open cycle: the manual's validity, or for an E book the chosen period.
    pub cycle_until: NaiveDate,
    /// The last write-off (最近核销日期): the last closed cycle's end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_write_off: Option<NaiveDate>,
    /// The last export or carry-over out in the open cycle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_export: Option<NaiveDate>,
    /// 报核 deadline: manuals within the set days of the last export or of expiry, whichever comes
    /// first; E books within the set days of the cycle's end.
    pub report_due: NaiveDate,
    pub basis: String,
}

/// Settings of the deadline rules (policy: RULES.md §5.1 sourced days; the E-book period is the
/// enterprise's choice and "at most one year" is UNCONFIRMED).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlinePolicy {
    /// 报核 within this many days (Order 219: 30).
    pub report_days: u64,
    /// An E book's verification cycle, in months, when the enterprise has not chosen.
    pub e_book_cycle_months: u32,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        DeadlinePolicy { report_days: 30, e_book_cycle_months: 12 }
    }
}

/// The status of the open cycle.
pub fn status(book: &Book, cycle_no: u32, cycle_from: NaiveDate, last_write_off: Option<NaiveDate>, last_export: Option<NaiveDate>, policy: &DeadlinePolicy) -> CycleStatus {
    let days = Days::new(policy.report_days);
    let (cycle_until, report_due, basis) = match book.book_type {
        BookType::E => {
            let end = cycle_from.checked_add_months(Months::new(policy.e_book_cycle_months)).and_then(|d| d.pred_opt()).unwrap_or(book.valid_until).min(book.valid_until);
            (end, end + days, format!("E book: 报核 within {} days of the end of a {}-month cycle", policy.report_days, policy.e_book_cycle_months))
        }
        BookType::B | BookType::C => {
            let trigger = last_export.map_or(book.valid_until, |e| e.min(book.valid_until));
            let why = if last_export.is_some_and(|e| e < book.valid_until) { "the last export" } else { "the manual's expiry" };
            (book.valid_until, trigger + days, format!("manual: 报核 within {} days of the last export or of expiry, whichever comes first (here {why}, {trigger}; Order 219)", policy.report_days))
        }
    };
    CycleStatus { book_no: book.book_no.clone(), book_type: book.book_type, cycle_no, cycle_from, cycle_until, last_write_off, last_export, report_due, basis }
}
