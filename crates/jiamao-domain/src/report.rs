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
    reconcile_range_totals(to, before, stocktake, rate_base).map(|t| t.report())
}

/// [`reconcile_range`] before rendering: the exact figures, to render as a [`ReconcileReport`] or
/// straight to JSON.
pub fn reconcile_range_totals(to: &BookLedger, before: Option<&BookLedger>, stocktake: Option<&StocktakeDoc>, rate_base: Option<crate::policy::RateBase>) -> Result<ReportTotals, BookError> {
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
    Ok(ReportTotals {
        book_no: book.book_no.clone(),
        materials: book.materials.iter().map(|i| i.seq).zip(material_totals).collect(),
        products: book.products.iter().map(|i| i.seq).zip(product_totals).collect(),
        actual,
        rate_base,
    })
}

/// The 报核 report before rendering: exact totals by item (from a ledger, or a checkpoint's
/// snapshot without the book), the stocktake's actual remains by material when one was given, and
/// the base of the difference rate.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportTotals {
    pub book_no: String,
    pub materials: Vec<(u32, MaterialTotals)>,
    pub products: Vec<(u32, crate::ledger::ProductTotals)>,
    pub actual: Option<Vec<Decimal>>,
    pub rate_base: Option<crate::policy::RateBase>,
}

impl ReportTotals {
    /// The report, rounded for output ([`report_from_totals`]).
    pub fn report(&self) -> ReconcileReport {
        report_from_totals(&self.book_no, self.materials.iter().copied(), self.products.iter().copied(), self.actual.as_deref(), self.rate_base)
    }

    /// Appends the report's JSON to `out`: exactly the bytes `serde_json` writes for
    /// [`ReportTotals::report`], without building it (no string per figure). Whenever `out` holds
    /// `chunk` bytes or more, and once at the end, `out` is handed to `spill`, which may write it
    /// out and clear it (or keep it growing).
    pub fn write_json<E>(&self, out: &mut Vec<u8>, chunk: usize, spill: &mut dyn FnMut(&mut Vec<u8>) -> Result<(), E>) -> Result<(), E> {
        out.extend_from_slice(b"{\"book_no\":");
        write_json_str(out, &self.book_no);
        out.extend_from_slice(b",\"materials\":[");
        for (k, (seq, t)) in self.materials.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            match self.actual.as_deref().and_then(|a| a.get(k).copied()) {
                None => write_material_totals(out, *seq, t),
                Some(a) => write_material_report(out, &material_report(*seq, t, Some(a), self.rate_base)),
            }
            if out.len() >= chunk {
                spill(out)?;
            }
        }
        out.extend_from_slice(b"],\"products\":[");
        for (k, (seq, t)) in self.products.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            write_seq(out, *seq);
            for (name, v) in [
                (&b"exported"[..], t.exported),
                (b"carried_out", t.carried_out),
                (b"domestic_sold", t.domestic_sold),
                (b"returned", t.returned),
                (b"reexported", t.reexported),
                (b"destroyed", t.destroyed),
            ] {
                write_qty_field(out, name, v);
            }
            out.push(b'}');
            if out.len() >= chunk {
                spill(out)?;
            }
        }
        out.extend_from_slice(b"]}");
        spill(out)
    }
}

fn write_seq(out: &mut Vec<u8>, seq: u32) {
    out.extend_from_slice(b"{\"seq\":");
    let mut digits = [0u8; 10];
    let mut n = 0;
    let mut x = seq;
    while x > 0 || n == 0 {
        digits[n] = b'0' + (x % 10) as u8;
        x /= 10;
        n += 1;
    }
    out.extend(digits[..n].iter().rev());
}

/// `,"name":"figure"` with the figure rounded as a report quantity.
fn write_qty_field(out: &mut Vec<u8>, name: &[u8], v: Decimal) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name);
    out.extend_from_slice(b"\":\"");
    crate::decimal::write_rounded(out, v, crate::decimal::REPORT_QTY_DP);
    out.push(b'"');
}

/// A material without a stocktake: the fields of [`MaterialReport`] that are always there.
fn write_material_totals(out: &mut Vec<u8>, seq: u32, t: &MaterialTotals) {
    write_seq(out, seq);
    for (name, v) in [
        (&b"opening"[..], t.opening),
        (b"imported", t.imported),
        (b"carried_in", t.carried_in),
        (b"surplus_in", t.surplus_in),
        (b"replaced_in", t.replaced_in),
        (b"consumed", t.consumed),
        (b"domestic_sold", t.domestic_sold),
        (b"re_exported", t.re_exported),
        (b"replaced_out", t.replaced_out),
        (b"surplus_out", t.surplus_out),
        (b"destroyed", t.destroyed),
        (b"leftover_accrued", t.leftover_accrued),
        (b"leftover_disposed", t.leftover_disposed),
        (b"should_remain", t.should_remain()),
    ] {
        write_qty_field(out, name, v);
    }
    out.push(b'}');
}

/// A material already rendered (with a stocktake), field by field as `serde_json` writes it.
fn write_material_report(out: &mut Vec<u8>, m: &MaterialReport) {
    write_seq(out, m.seq);
    let fields = [
        (&b"opening"[..], Some(&m.opening)),
        (b"imported", Some(&m.imported)),
        (b"carried_in", Some(&m.carried_in)),
        (b"surplus_in", Some(&m.surplus_in)),
        (b"replaced_in", Some(&m.replaced_in)),
        (b"consumed", Some(&m.consumed)),
        (b"domestic_sold", Some(&m.domestic_sold)),
        (b"re_exported", Some(&m.re_exported)),
        (b"replaced_out", Some(&m.replaced_out)),
        (b"surplus_out", Some(&m.surplus_out)),
        (b"destroyed", Some(&m.destroyed)),
        (b"leftover_accrued", Some(&m.leftover_accrued)),
        (b"leftover_disposed", Some(&m.leftover_disposed)),
        (b"should_remain", Some(&m.should_remain)),
        (b"actual_remain", m.actual_remain.as_ref()),
        (b"difference", m.difference.as_ref()),
        (b"difference_amount", m.difference_amount.as_ref()),
        (b"difference_rate", m.difference_rate.as_ref()),
    ];
    for (name, v) in fields {
        if let Some(v) = v {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name);
            out.extend_from_slice(b"\":");
            write_json_str(out, v);
        }
    }
    out.push(b'}');
}

/// A JSON string as `serde_json` writes it (`\"`, `\\`, the short escapes, `\u00XX` for other
/// control characters; everything else as it is).
fn write_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::ProductTotals;
    use proptest::prelude::*;

    fn dec() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            Just(Decimal::ZERO),
            (any::<i64>(), 0u32..=12).prop_map(|(m, s)| Decimal::new(m, s)),
            (any::<u32>(), any::<u32>(), any::<u32>(), any::<bool>(), 0u32..=28).prop_map(|(lo, mid, hi, neg, s)| Decimal::from_parts(lo, mid, hi & 0x0fff_ffff, neg, s)),
        ]
    }

    fn material() -> impl Strategy<Value = MaterialTotals> {
        proptest::collection::vec(dec(), 15).prop_map(|v| MaterialTotals {
            opening: v[0],
            imported: v[1],
            carried_in: v[2],
            surplus_in: v[3],
            replaced_in: v[4],
            consumed: v[5],
            domestic_sold: v[6],
            re_exported: v[7],
            replaced_out: v[8],
            surplus_out: v[9],
            destroyed: v[10],
            leftover_accrued: v[11],
            leftover_disposed: v[12],
            priced_qty: v[13],
            priced_amount: v[14],
        })
    }

    fn product() -> impl Strategy<Value = ProductTotals> {
        proptest::collection::vec(dec(), 6).prop_map(|v| ProductTotals { exported: v[0], carried_out: v[1], domestic_sold: v[2], returned: v[3], reexported: v[4], destroyed: v[5] })
    }

    fn rendered(t: &ReportTotals, chunk: usize) -> Vec<u8> {
        let mut all = Vec::new();
        let mut out = Vec::new();
        let r: Result<(), ()> = t.write_json(&mut out, chunk, &mut |b: &mut Vec<u8>| {
            all.extend_from_slice(b);
            b.clear();
            Ok(())
        });
        assert!(r.is_ok() && out.is_empty());
        all
    }

    proptest! {
        #[test]
        fn write_json_is_serde_json_of_the_report(
            book_no in "[A-Z0-9\"\\\\\u{0}-\u{1f}\u{7f}中]{0,14}",
            materials in proptest::collection::vec((1u32..100_000, material()), 0..6),
            products in proptest::collection::vec((1u32..100_000, product()), 0..4),
            actual in proptest::option::of(proptest::collection::vec(dec(), 0..8)),
            rate_base in proptest::option::of(prop_oneof![Just(crate::policy::RateBase::ShouldRemain), Just(crate::policy::RateBase::Inflow)]),
            chunk in 1usize..4096,
        ) {
            // Sums of the generated figures stay well within 96 bits (should_remain adds 11 of them).
            let t = ReportTotals { book_no, materials, products, actual, rate_base };
            let expected = serde_json::to_vec(&t.report()).unwrap();
            prop_assert_eq!(String::from_utf8(rendered(&t, chunk)).unwrap(), String::from_utf8(expected).unwrap());
        }
    }
}
