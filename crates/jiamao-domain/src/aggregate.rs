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
                *t.movement_mut(mv) += l.qty;
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

/// Decimal places of the scaled integers the column kernel sums (quantities and amounts with more
/// places fall back to the decimal kernel, [`Aggregator`]).
pub const COLUMN_SCALE: u32 = 9;

const NO_VERSION: u16 = u16::MAX;
const NO_AMOUNT: i128 = i128::MIN;

/// Posted lines as columns of scaled integers, for the `--verify` kernel: the in-memory form of
/// the movement lines (item and version resolved to dense indexes, movement to a code).
#[derive(Debug, Clone, Default)]
pub struct LineColumns {
    movement: Vec<u8>,
    item: Vec<u32>,
    version: Vec<u16>,
    qty: Vec<i128>,
    amount: Vec<i128>,
}

impl LineColumns {
    pub fn len(&self) -> usize {
        self.qty.len()
    }

    pub fn is_empty(&self) -> bool {
        self.qty.is_empty()
    }
}

/// `d` as an integer of `COLUMN_SCALE` places, when that is exact.
fn scaled(d: Decimal) -> Option<i128> {
    if d.scale() > COLUMN_SCALE {
        return None;
    }
    let factor = 10i128.checked_pow(COLUMN_SCALE - d.scale())?;
    d.mantissa().checked_mul(factor)
}

impl LineColumns {
    /// Appends a posted list (skipped when dated in a closed cycle). `None` when a quantity or amount
    /// has more than [`COLUMN_SCALE`] places or a line does not read against the book: then use
    /// [`Aggregator`].
    pub fn push(&mut self, book: &Book, closed_to: Option<NaiveDate>, list: &ListDoc, versions: &[Option<String>]) -> Option<()> {
        if closed_to.is_some_and(|d| list.declared_on <= d) {
            return Some(());
        }
        let mv = classify(book, list.trade_mode.as_str(), list.direction, list.goods).ok()?;
        let code = u8::try_from(mv.index()).ok()?;
        let through = mv.through_consumption();
        for (k, l) in list.lines.iter().enumerate() {
            let (item, version) = if through {
                let p = book.product_idx(l.item_seq)?;
                let v = match versions.get(k).and_then(|v| v.as_deref()) {
                    Some(name) => u16::try_from(book.versions.get(p)?.iter().position(|v| v.version == name)?).ok()?,
                    None => NO_VERSION,
                };
                (p, v)
            } else {
                (book.material_idx(l.item_seq)?, NO_VERSION)
            };
            self.movement.push(code);
            self.item.push(u32::try_from(item).ok()?);
            self.version.push(version);
            self.qty.push(scaled(l.qty)?);
            self.amount.push(match (mv.is_priced_inflow(), l.amount) {
                (true, Some(a)) => scaled(a)?,
                _ => NO_AMOUNT,
            });
        }
        Some(())
    }
}

/// Builds the columns from posted lists (after `closed_to`, when a cycle was closed); see
/// [`LineColumns::push`].
pub fn columns<'a>(book: &Book, closed_to: Option<NaiveDate>, lists: impl IntoIterator<Item = (&'a ListDoc, &'a [Option<String>])>) -> Option<LineColumns> {
    let mut c = LineColumns::default();
    for (list, versions) in lists {
        c.push(book, closed_to, list, versions)?;
    }
    Some(c)
}

/// The `--verify` kernel over columns: material lines summed by material and figure, product lines
/// by product, version and movement, all in exact scaled integers, then converted through 单耗
/// once per group. Gives exactly what [`Aggregator`] (and posting line by line) gives.
pub fn aggregate_columns(book: &Book, closure: Option<&crate::cycle::Closure>, c: &LineColumns) -> Option<(Vec<MaterialTotals>, Vec<ProductTotals>)> {
    const FIGURES: usize = 11;
    let nv = book.versions.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let nk = Movement::ALL.len();
    let mut mat = vec![[0i128; FIGURES + 2]; book.materials.len()];
    let mut prod = vec![[0i128; 6]; book.products.len()];
    let mut groups = vec![0i128; book.products.len() * nv * nk];
    let figure_of: Vec<(usize, bool)> = Movement::ALL.iter().map(|m| (m.material_figure().0 as usize, m.material_figure().1)).collect();
    let slots: Vec<usize> = Movement::ALL.iter().map(|m| m.product_figure()).collect();
    let through: Vec<bool> = Movement::ALL.iter().map(|m| m.through_consumption()).collect();
    for i in 0..c.len() {
        let (k, item, q) = (*c.movement.get(i)? as usize, *c.item.get(i)? as usize, *c.qty.get(i)?);
        let (fig, adds) = *figure_of.get(k)?;
        if !*through.get(k)? {
            let t = mat.get_mut(item)?;
            let f = t.get_mut(fig)?;
            *f = f.checked_add(q)?;
            let a = *c.amount.get(i)?;
            if a != NO_AMOUNT {
                t[FIGURES] = t[FIGURES].checked_add(q)?;
                t[FIGURES + 1] = t[FIGURES + 1].checked_add(a)?;
            }
            continue;
        }
        let s = prod.get_mut(item)?.get_mut(*slots.get(k)?)?;
        *s = s.checked_add(q)?;
        let v = *c.version.get(i)?;
        if v != NO_VERSION {
            let g = groups.get_mut((item * nv + v as usize) * nk + k)?;
            *g = g.checked_add(if adds { q } else { -q })?;
        }
    }
    let dec = |v: i128| Decimal::try_from_i128_with_scale(v, COLUMN_SCALE).ok();
    let mut materials = Vec::with_capacity(book.materials.len());
    for (m, acc) in book.materials.iter().zip(&mat) {
        let opening = closure.and_then(|c| c.openings.iter().find(|o| o.seq == m.seq)).map_or(m.opening_qty, |o| o.opening);
        let mut t = MaterialTotals { opening, ..Default::default() };
        for (f, v) in acc.iter().take(FIGURES).enumerate() {
            if *v != 0 {
                *t.figure_mut(*crate::movement::MaterialFigure::ALL.get(f)?) = dec(*v)?;
            }
        }
        t.priced_qty = dec(acc[FIGURES])?;
        t.priced_amount = dec(acc[FIGURES + 1])?;
        materials.push(t);
    }
    let mut buckets = vec![Decimal::ZERO; book.leftover_buckets.len()];
    for p in 0..book.products.len() {
        for v in 0..nv {
            for (k, mv) in Movement::ALL.iter().enumerate() {
                let g = *groups.get((p * nv + v) * nk + k)?;
                if g == 0 {
                    continue;
                }
                let version = book.versions.get(p)?.get(v)?;
                let q = dec(g)?;
                let (figure, _) = mv.material_figure();
                for b in &version.lines {
                    if let Some(t) = materials.get_mut(b.material_idx) {
                        let f = t.figure_mut(figure);
                        *f = f.checked_add(q.checked_mul(b.uc_share)?)?;
                    }
                    if let Some(slot) = b.bucket.and_then(|k| buckets.get_mut(k)) {
                        *slot = slot.checked_add(q.checked_mul(b.leftover_base_per_unit)?)?;
                    }
                }
            }
        }
    }
    for (m, t) in materials.iter_mut().enumerate() {
        let mut sum = Decimal::ZERO;
        for &k in book.material_buckets.get(m).map(Vec::as_slice).unwrap_or(&[]) {
            if let (Some(bucket), Some(base)) = (book.leftover_buckets.get(k), buckets.get(k)) {
                sum += *base * bucket.tangible / bucket.loss;
            }
        }
        t.leftover_accrued = sum;
    }
    let products = prod
        .iter()
        .map(|a| Some(ProductTotals { exported: dec(a[0])?, carried_out: dec(a[1])?, domestic_sold: dec(a[2])?, returned: dec(a[3])?, reexported: dec(a[4])?, destroyed: dec(a[5])? }))
        .collect::<Option<Vec<_>>>()?;
    Some((materials, products))
}
