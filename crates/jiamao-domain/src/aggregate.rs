//! The recomputation kernel of `--verify`: all balances from the raw posted lines, grouped first.
//!
//! Product lines are summed by (product, 单耗 version, movement) before being converted through
//! 单耗, so millions of lines cost one multiplication per material of each version actually used,
//! not one per line. In exact decimal arithmetic `Σ(q·uc·share) = (Σq)·uc·share`, so the result is
//! identical to posting the lines one by one (a property test checks it against [`BookLedger`]).

use crate::book::Book;
use crate::doc::ListDoc;
use crate::ledger::{MaterialTotals, ProductTotals};
use crate::movement::{classify, Movement};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Accumulates posted lists; [`Aggregator::finish`] converts the product groups through 单耗.
pub struct Aggregator<'a> {
    book: &'a Book,
    closed_to: Option<NaiveDate>,
    materials: Vec<MaterialTotals>,
    products: Vec<ProductTotals>,
    /// (product index, version index, movement) → net product quantity.
    groups: HashMap<(usize, usize, Movement), Decimal>,
    /// Lines whose list or version could not be read (never expected for posted lists).
    pub skipped: u64,
}

impl<'a> Aggregator<'a> {
    /// Starts from the book's openings, or from the openings of a closed cycle.
    pub fn new(book: &'a Book, closure: Option<&crate::cycle::Closure>) -> Self {
        let materials = book
            .materials
            .iter()
            .map(|m| {
                let opening = closure.and_then(|c| c.openings.iter().find(|o| o.seq == m.seq)).map_or(m.opening_qty, |o| o.opening);
                MaterialTotals { opening, ..Default::default() }
            })
            .collect();
        Aggregator { book, closed_to: closure.map(|c| c.to), materials, products: vec![ProductTotals::default(); book.products.len()], groups: HashMap::new(), skipped: 0 }
    }

    /// Adds one posted list with the versions its lines used.
    pub fn add(&mut self, list: &ListDoc, versions: &[Option<String>]) {
        if self.closed_to.is_some_and(|c| list.declared_on <= c) {
            return;
        }
        let Ok(mv) = classify(self.book, list.trade_mode.as_str(), list.direction, list.goods) else {
            self.skipped += list.lines.len() as u64;
            return;
        };
        let (figure, adds) = mv.material_figure();
        for (k, l) in list.lines.iter().enumerate() {
            if !mv.through_consumption() {
                let Some(t) = self.book.material_idx(l.item_seq).and_then(|m| self.materials.get_mut(m)) else {
                    self.skipped += 1;
                    continue;
                };
                *t.figure_mut(figure) += l.qty;
                if mv.is_priced_inflow() {
                    if let Some(a) = l.amount {
                        t.priced_qty += l.qty;
                        t.priced_amount += a;
                    }
                }
                continue;
            }
            let Some(p) = self.book.product_idx(l.item_seq) else {
                self.skipped += 1;
                continue;
            };
            if let Some(t) = self.products.get_mut(p) {
                let f = match mv {
                    Movement::ProductExport => &mut t.exported,
                    Movement::ProductCarryOut => &mut t.carried_out,
                    Movement::ProductDomesticSale => &mut t.domestic_sold,
                    Movement::ProductReturn => &mut t.returned,
                    Movement::ProductReship => &mut t.reexported,
                    _ => &mut t.destroyed,
                };
                *f += l.qty;
            }
            // Pending lines (no version yet) move no material.
            let Some(name) = versions.get(k).and_then(|v| v.as_deref()) else { continue };
            let Some(v) = self.book.versions.get(p).and_then(|vs| vs.iter().position(|v| v.version == name)) else {
                self.skipped += 1;
                continue;
            };
            *self.groups.entry((p, v, mv)).or_default() += if adds { l.qty } else { -l.qty };
        }
    }

    /// Converts the product groups through 单耗 and returns every material's and product's totals
    /// (accrued leftovers divided out per loss-rate bucket, as the ledger does).
    pub fn finish(mut self) -> (Vec<MaterialTotals>, Vec<ProductTotals>) {
        let mut buckets = vec![Decimal::ZERO; self.book.leftover_buckets.len()];
        let mut groups: Vec<_> = self.groups.into_iter().collect();
        groups.sort_by_key(|((p, v, _), _)| (*p, *v));
        for ((p, v, mv), q) in groups {
            let Some(version) = self.book.versions.get(p).and_then(|vs| vs.get(v)) else { continue };
            let (figure, _) = mv.material_figure();
            for b in &version.lines {
                if let Some(t) = self.materials.get_mut(b.material_idx) {
                    *t.figure_mut(figure) += q * b.uc_share;
                }
                if let Some(slot) = b.bucket.and_then(|k| buckets.get_mut(k)) {
                    *slot += q * b.leftover_base_per_unit;
                }
            }
        }
        for (m, t) in self.materials.iter_mut().enumerate() {
            let mut sum = Decimal::ZERO;
            for &k in self.book.material_buckets.get(m).map(Vec::as_slice).unwrap_or(&[]) {
                if let (Some(bucket), Some(base)) = (self.book.leftover_buckets.get(k), buckets.get(k)) {
                    sum += *base * bucket.tangible / bucket.loss;
                }
            }
            t.leftover_accrued = sum;
        }
        (self.materials, self.products)
    }
}
