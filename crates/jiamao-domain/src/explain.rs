//! Drill-down of the 报核 report: for one material, every list line that moved each figure, and
//! the same grouped by product and 单耗 version. The figures are recomputed here line by line with
//! the same movement rules as the ledger, so a test can check that they add up to the report.

use crate::book::Book;
use crate::decimal::plain;
use crate::doc::ListDoc;
use crate::movement::{classify, MaterialFigure};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// One list line's effect on the material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contribution {
    pub list_no: String,
    pub declared_on: NaiveDate,
    pub trade_mode: String,
    pub line: u32,
    pub figure: MaterialFigure,
    /// The change of the figure, exact (negative for a returned product).
    pub qty: String,
    /// For lines converted through 单耗: the product, its quantity and the version's figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_seq: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_qty: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_consumption: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bonded_share: Option<String>,
    /// Leftover (边角料) accrued by the line, rounded to 9 places for display.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leftover: Option<String>,
    /// The line's amount when it is a priced inflow (weighted average price).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
}

/// Contributions of one product and 单耗 version to one figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ByVersion {
    pub product_seq: u32,
    pub version: String,
    pub figure: MaterialFigure,
    pub lines: u64,
    /// Net product quantity (returns count negative).
    pub product_qty: String,
    pub qty: String,
}

/// The drill-down of one material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub book_no: String,
    pub material_seq: u32,
    pub name: String,
    pub contributions: Vec<Contribution>,
    pub by_product_version: Vec<ByVersion>,
    /// Product lines still waiting for a 单耗 version (报核前), which move no figure yet.
    pub pending_lines: Vec<String>,
}

/// Collects the contributions to one material, list by list.
pub struct Explainer<'a> {
    book: &'a Book,
    m: usize,
    contributions: Vec<Contribution>,
    by_version: BTreeMap<(u32, String, MaterialFigure), (u64, Decimal, Decimal)>,
    pending: Vec<String>,
}

impl<'a> Explainer<'a> {
    /// `None` when the material is not in the book.
    pub fn new(book: &'a Book, material_seq: u32) -> Option<Self> {
        let m = book.material_idx(material_seq)?;
        Some(Explainer { book, m, contributions: Vec::new(), by_version: BTreeMap::new(), pending: Vec::new() })
    }

    /// Adds a posted list with the versions its lines used.
    pub fn add(&mut self, list: &ListDoc, versions: &[Option<String>]) {
        let Ok(mv) = classify(self.book, list.trade_mode.as_str(), list.direction, list.goods) else { return };
        let (figure, adds) = mv.material_figure();
        let sign = |d: Decimal| if adds { d } else { -d };
        let Some(item) = self.book.materials.get(self.m) else { return };
        for (k, l) in list.lines.iter().enumerate() {
            let base = Contribution {
                list_no: list.list_no.clone(),
                declared_on: list.declared_on,
                trade_mode: list.trade_mode.as_str().to_owned(),
                line: l.line,
                figure,
                qty: String::new(),
                product_seq: None,
                version: None,
                product_qty: None,
                unit_consumption: None,
                bonded_share: None,
                leftover: None,
                amount: None,
            };
            if !mv.through_consumption() {
                if l.item_seq == item.seq {
                    let amount = if mv.is_priced_inflow() { l.amount.map(plain) } else { None };
                    self.contributions.push(Contribution { qty: plain(l.qty), amount, ..base });
                }
                continue;
            }
            let Some(p) = self.book.product_idx(l.item_seq) else { continue };
            let Some(vname) = versions.get(k).cloned().flatten() else {
                if self.book.version_on(p, list.declared_on).is_none_or(|v| v.lines.iter().any(|b| b.material_idx == self.m)) {
                    self.pending.push(format!("{} line {}", list.list_no, l.line));
                }
                continue;
            };
            let Some(v) = self.book.version_named(p, &vname) else { continue };
            let Some(b) = v.lines.iter().find(|b| b.material_idx == self.m) else { continue };
            let x = sign(l.qty * b.uc_share);
            let leftover = match b.bucket.and_then(|i| self.book.leftover_buckets.get(i)) {
                Some(bucket) if !bucket.loss.is_zero() => Some(sign(l.qty * b.leftover_base_per_unit * bucket.tangible / bucket.loss)),
                _ => None,
            };
            let e = self.by_version.entry((l.item_seq, vname.clone(), figure)).or_insert((0, Decimal::ZERO, Decimal::ZERO));
            e.0 += 1;
            e.1 += sign(l.qty);
            e.2 += x;
            self.contributions.push(Contribution {
                qty: plain(x),
                product_seq: Some(l.item_seq),
                version: Some(vname),
                product_qty: Some(plain(l.qty)),
                unit_consumption: Some(plain(b.uc)),
                bonded_share: Some(plain(b.share)),
                leftover: leftover.map(|d| plain(crate::decimal::round(d, 9))),
                ..base
            });
        }
    }

    pub fn finish(self) -> Explanation {
        let name = self.book.materials.get(self.m).map(|i| i.name.clone()).unwrap_or_default();
        let seq = self.book.materials.get(self.m).map_or(0, |i| i.seq);
        Explanation {
            book_no: self.book.book_no.clone(),
            material_seq: seq,
            name,
            contributions: self.contributions,
            by_product_version: self
                .by_version
                .into_iter()
                .map(|((product_seq, version, figure), (lines, pq, q))| ByVersion { product_seq, version, figure, lines, product_qty: plain(pq), qty: plain(q) })
                .collect(),
            pending_lines: self.pending,
        }
    }
}
