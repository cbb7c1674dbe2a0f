//! The ledger of one book: balances derived from posted lists, and the posting rules.
//!
//! A [`BookLedger`] is pure state: posting a list either changes nothing and says which rule was
//! broken, or applies every effect of the list at once. Replaying the same posted lists in the same
//! order always gives the same balances; balances are derived, never stored as truth.

use crate::book::{Book, BookError};
use crate::doc::{ConsumptionStage, Goods, ListDoc};
use crate::movement::{classify, MaterialFigure, Movement};
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use std::fmt;

macro_rules! totals {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub struct $name { $($(#[$fmeta])* pub $field: Decimal),* }

        impl $name {
            /// Adds `other` field by field; `None` on overflow.
            pub fn checked_add(&self, other: &Self) -> Option<Self> {
                Some(Self { $($field: self.$field.checked_add(other.$field)?),* })
            }

            /// Subtracts `other` field by field; `None` on overflow.
            pub fn checked_sub(&self, other: &Self) -> Option<Self> {
                Some(Self { $($field: self.$field.checked_sub(other.$field)?),* })
            }
        }

        impl RowCodec for $name {
            fn write_row(&self, seq: u32, out: &mut String) {
                use std::fmt::Write;
                let _ = write!(out, "{seq}");
                $(
                    out.push(',');
                    if !self.$field.is_zero() {
                        let _ = write!(out, "{}", self.$field.normalize());
                    }
                )*
                out.push('\n');
            }

            fn read_row(row: &str) -> Option<(u32, Self)> {
                let mut row = RowReader::new(row.as_bytes())?;
                let seq = row.seq;
                let t = Self { $($field: row.next()?),* };
                row.rest.is_empty().then_some((seq, t))
            }
        }
    };
}

totals!(
    /// A material's movements (per 报核 field, RULES.md §5.4), in the material's unit.
    MaterialTotals {
        /// 期初数量.
        opening,
        imported,
        carried_in,
        surplus_in,
        replaced_in,
        /// 消耗 (csmTotalQty).
        consumed,
        /// 内销 (sdinQty).
        domestic_sold,
        re_exported,
        replaced_out,
        surplus_out,
        destroyed,
        /// 边角料 accrued within the tangible process loss.
        leftover_accrued,
        leftover_disposed,
        /// Quantity of inflows that carried an amount (for the weighted average price).
        priced_qty,
        /// Their amount, in the item's currency.
        priced_amount,
    }
);

totals!(
    /// A product's movements, in the product's unit.
    ProductTotals { exported, carried_out, domestic_sold, returned, reexported, destroyed }
);

impl ProductTotals {
    /// The figure a product movement counts in ([`Movement::product_figure`]).
    pub fn movement_mut(&mut self, mv: Movement) -> &mut Decimal {
        match mv.product_figure() {
            0 => &mut self.exported,
            1 => &mut self.carried_out,
            2 => &mut self.domestic_sold,
            3 => &mut self.returned,
            4 => &mut self.reexported,
            _ => &mut self.destroyed,
        }
    }
}

impl MaterialTotals {
    /// The field of a figure.
    pub fn figure_mut(&mut self, f: MaterialFigure) -> &mut Decimal {
        match f {
            MaterialFigure::Imported => &mut self.imported,
            MaterialFigure::CarriedIn => &mut self.carried_in,
            MaterialFigure::SurplusIn => &mut self.surplus_in,
            MaterialFigure::ReplacedIn => &mut self.replaced_in,
            MaterialFigure::Consumed => &mut self.consumed,
            MaterialFigure::DomesticSold => &mut self.domestic_sold,
            MaterialFigure::ReExported => &mut self.re_exported,
            MaterialFigure::ReplacedOut => &mut self.replaced_out,
            MaterialFigure::SurplusOut => &mut self.surplus_out,
            MaterialFigure::Destroyed => &mut self.destroyed,
            MaterialFigure::LeftoverDisposed => &mut self.leftover_disposed,
        }
    }

    /// 应剩余 (FORMAT.md): opening + inflows − outflows. Leftovers lie within consumption.
    pub fn should_remain(&self) -> Decimal {
        self.opening + self.imported + self.carried_in + self.surplus_in + self.replaced_in
            - self.consumed
            - self.domestic_sold
            - self.re_exported
            - self.replaced_out
            - self.surplus_out
            - self.destroyed
    }

    /// What counts against 备案数量: imports, deep-processing and surplus carry-ins.
    pub fn authorized_inflow(&self) -> Decimal {
        self.imported + self.carried_in + self.surplus_in
    }
}

/// Why a list was refused: the rule, the line where there is one, and words for a customs officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub rule: &'static str,
    pub line: Option<u32>,
    pub message: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {} (rule {})", self.message, self.rule),
            None => write!(f, "{} (rule {})", self.message, self.rule),
        }
    }
}

fn reject(rule: &'static str, line: Option<u32>, message: impl Into<String>) -> Rejection {
    Rejection { rule, line, message: message.into() }
}

fn overflow(line: u32) -> Rejection {
    reject("overflow", Some(line), "quantities too large to compute exactly (more than 28 significant digits)")
}

/// Versions given to pending lines by a change: (list_no, line, version).
pub type Resolved = Vec<(String, u32, String)>;

/// The scratch delta of material `m`, marking it touched (by `line`) the first time.
fn slot<'a>(scratch: &'a mut [MaterialTotals], touched: &mut Vec<(usize, u32)>, mark: &mut [bool], m: usize, line: u32) -> &'a mut MaterialTotals {
    if let Some(flag) = mark.get_mut(m) {
        if !*flag {
            *flag = true;
            touched.push((m, line));
        }
    }
    // `m` always comes from the book's own index; the fallback only keeps this panic-free.
    let idx = if m < scratch.len() { m } else { 0 };
    &mut scratch[idx]
}

/// A product line posted before any 单耗 version was valid (单耗申报环节 报核前): its material effects
/// wait until a version is declared.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingLine {
    pub list_no: String,
    pub line: u32,
    pub product_idx: usize,
    pub qty: Decimal,
    pub movement: Movement,
    pub declared_on: chrono::NaiveDate,
}

/// Totals by item in the compact checkpoint form: one line per item, `seq,value,value,…`, plain
/// decimals, empty for zero (a tenth of the JSON object form to read and write).
pub trait RowCodec: Sized {
    /// Appends `seq,field,field,…\n` (plain decimals, empty for zero) to `out`.
    fn write_row(&self, seq: u32, out: &mut String);

    /// Reads one row written by `write_row` (without its line end).
    fn read_row(row: &str) -> Option<(u32, Self)>;

    fn encode(rows: &[(u32, Self)]) -> String {
        let mut out = String::with_capacity(rows.len() * 32);
        for (seq, t) in rows {
            t.write_row(*seq, &mut out);
        }
        out
    }

    fn decode(text: &str) -> Option<Vec<(u32, Self)>> {
        // One allocation of the right size (a book has tens of thousands of items).
        let mut rows = Vec::with_capacity(text.bytes().filter(|&b| b == b'\n').count() + 1);
        for row in text.lines() {
            rows.push(Self::read_row(row)?);
        }
        Some(rows)
    }
}

/// The fields of one row, read in one pass: `seq` then `,value` after `,value` (empty for zero).
struct RowReader<'a> {
    seq: u32,
    rest: &'a [u8],
}

impl<'a> RowReader<'a> {
    fn new(row: &'a [u8]) -> Option<Self> {
        let end = row.iter().position(|&b| b == b',').unwrap_or(row.len());
        let (seq, rest) = row.split_at(end);
        Some(RowReader { seq: std::str::from_utf8(seq).ok()?.parse().ok()?, rest })
    }

    fn next(&mut self) -> Option<Decimal> {
        let (&comma, field) = self.rest.split_first()?;
        if comma != b',' {
            return None;
        }
        if field.first().is_none_or(|&b| b == b',') {
            self.rest = field;
            return Some(Decimal::ZERO);
        }
        let (d, used) = crate::decimal::parse_display_until(field, b',')?;
        self.rest = field.get(used..)?;
        Some(d)
    }
}

/// Serde adapter: totals by item as one compact string.
pub mod rows {
    use super::RowCodec;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, T: RowCodec>(rows: &[(u32, T)], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&T::encode(rows))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: RowCodec>(d: D) -> Result<Vec<(u32, T)>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        T::decode(&text).ok_or_else(|| D::Error::custom("malformed totals rows"))
    }
}

/// The derived state of a ledger, to save as a checkpoint and restore without replaying every line.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LedgerSnapshot {
    pub book_no: String,
    #[serde(with = "rows")]
    pub materials: Vec<(u32, MaterialTotals)>,
    #[serde(with = "rows")]
    pub products: Vec<(u32, ProductTotals)>,
    pub used_versions: Vec<(u32, String)>,
    pub pending: Vec<PendingLine>,
    /// Exact leftover bases, one per [`crate::book::LeftoverBucket`].
    pub leftover_base: Vec<Decimal>,
    /// The last closed cycle's end, when the state starts from a closure.
    #[serde(default)]
    pub closed_to: Option<chrono::NaiveDate>,
    /// The latest export or carry-over out (报核 deadline of manuals).
    #[serde(default)]
    pub last_export: Option<chrono::NaiveDate>,
    pub lists_posted: u64,
    pub lines_posted: u64,
}

/// The first line of a checkpoint in the current format. Checkpoints are derived data: one in a
/// format not read here is ignored (the state is rebuilt from the posted lists instead).
pub const CHECKPOINT_FORMAT: &str = "jiamao-checkpoint 2";

/// The head of a checkpoint (its second line, JSON): what a report needs besides the rows.
#[derive(serde::Serialize, serde::Deserialize)]
struct CheckpointHead<'a> {
    #[serde(borrow)]
    book_no: std::borrow::Cow<'a, str>,
    closed_to: Option<chrono::NaiveDate>,
    materials: usize,
    products: usize,
}

/// The rest of a snapshot (the checkpoint's last line, JSON), which a report does not read.
#[derive(serde::Serialize)]
struct CheckpointRestRef<'a> {
    used_versions: &'a [(u32, String)],
    pending: &'a [PendingLine],
    leftover_base: &'a [Decimal],
    last_export: Option<chrono::NaiveDate>,
    lists_posted: u64,
    lines_posted: u64,
}

#[derive(serde::Deserialize)]
struct CheckpointRest {
    used_versions: Vec<(u32, String)>,
    pending: Vec<PendingLine>,
    leftover_base: Vec<Decimal>,
    last_export: Option<chrono::NaiveDate>,
    lists_posted: u64,
    lines_posted: u64,
}

/// What the 报核 report needs from a checkpoint: the book, the closure it starts from and the
/// totals by item (with the accrued leftovers divided out).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointTotals {
    pub book_no: String,
    pub closed_to: Option<chrono::NaiveDate>,
    pub materials: Vec<(u32, MaterialTotals)>,
    pub products: Vec<(u32, ProductTotals)>,
}

/// Lines of a text one at a time, and what is left after them.
struct LineCursor<'a> {
    text: &'a str,
}

impl<'a> LineCursor<'a> {
    fn next_line(&mut self) -> Option<&'a str> {
        let (line, rest) = self.text.split_once('\n')?;
        self.text = rest;
        Some(line)
    }

    fn rows<T: RowCodec>(&mut self, n: usize) -> Option<Vec<(u32, T)>> {
        // Bounded by the text itself, whatever the head claims (a row takes at least 8 bytes).
        let mut rows = Vec::with_capacity(n.min(self.text.len() / 8 + 1));
        for _ in 0..n {
            rows.push(T::read_row(self.next_line()?)?);
        }
        Some(rows)
    }
}

impl LedgerSnapshot {
    /// The checkpoint text ([`CHECKPOINT_FORMAT`]): the format line; a JSON head (book, closure,
    /// numbers of rows); the material rows then the product rows, one plain-text line each
    /// ([`RowCodec`]); the rest of the state as one line of JSON. A report reads the head and the
    /// rows straight from the stored text and stops there.
    pub fn to_checkpoint(&self) -> Result<String, serde_json::Error> {
        let head = CheckpointHead { book_no: std::borrow::Cow::Borrowed(&self.book_no), closed_to: self.closed_to, materials: self.materials.len(), products: self.products.len() };
        let rest = CheckpointRestRef {
            used_versions: &self.used_versions,
            pending: &self.pending,
            leftover_base: &self.leftover_base,
            last_export: self.last_export,
            lists_posted: self.lists_posted,
            lines_posted: self.lines_posted,
        };
        let mut out = String::with_capacity(self.materials.len() * 160 + self.products.len() * 48 + self.leftover_base.len() * 24 + 4096);
        out.push_str(CHECKPOINT_FORMAT);
        out.push('\n');
        out.push_str(&serde_json::to_string(&head)?);
        out.push('\n');
        for (seq, t) in &self.materials {
            t.write_row(*seq, &mut out);
        }
        for (seq, t) in &self.products {
            t.write_row(*seq, &mut out);
        }
        out.push_str(&serde_json::to_string(&rest)?);
        Ok(out)
    }

    /// Reads a checkpoint: [`LedgerSnapshot::to_checkpoint`]'s text, or the JSON object of the
    /// earlier format. `None` when it is neither.
    pub fn from_checkpoint(text: &str) -> Option<LedgerSnapshot> {
        if text.starts_with('{') {
            return serde_json::from_str(text).ok();
        }
        let (head, mut lines) = checkpoint_head(text)?;
        let materials = lines.rows(head.materials)?;
        let products = lines.rows(head.products)?;
        let rest: CheckpointRest = serde_json::from_str(lines.text).ok()?;
        Some(LedgerSnapshot {
            book_no: head.book_no.into_owned(),
            materials,
            products,
            used_versions: rest.used_versions,
            pending: rest.pending,
            leftover_base: rest.leftover_base,
            closed_to: head.closed_to,
            last_export: rest.last_export,
            lists_posted: rest.lists_posted,
            lines_posted: rest.lines_posted,
        })
    }
}

fn checkpoint_head(text: &str) -> Option<(CheckpointHead<'_>, LineCursor<'_>)> {
    let mut lines = LineCursor { text };
    if lines.next_line()? != CHECKPOINT_FORMAT {
        return None;
    }
    let head: CheckpointHead = serde_json::from_str(lines.next_line()?).ok()?;
    Some((head, lines))
}

/// The totals a report needs, read from a checkpoint's text without the rest of the state (in
/// the earlier JSON format, the rest is skipped unparsed). `None` when the text is not a
/// checkpoint.
pub fn checkpoint_totals(text: &str) -> Option<CheckpointTotals> {
    if text.starts_with('{') {
        #[derive(serde::Deserialize)]
        struct ReportPart {
            book_no: String,
            #[serde(with = "rows")]
            materials: Vec<(u32, MaterialTotals)>,
            #[serde(with = "rows")]
            products: Vec<(u32, ProductTotals)>,
            #[serde(default)]
            closed_to: Option<chrono::NaiveDate>,
        }
        let p: ReportPart = serde_json::from_str(text).ok()?;
        return Some(CheckpointTotals { book_no: p.book_no, closed_to: p.closed_to, materials: p.materials, products: p.products });
    }
    let (head, mut lines) = checkpoint_head(text)?;
    let materials = lines.rows(head.materials)?;
    let products = lines.rows(head.products)?;
    Some(CheckpointTotals { book_no: head.book_no.into_owned(), closed_to: head.closed_to, materials, products })
}

/// A list accepted by [`BookLedger::post`]: what the store must keep.
#[derive(Debug, Clone, PartialEq)]
pub struct Posting {
    pub list: ListDoc,
    /// The canonical text (the idempotency comparison).
    pub canonical: String,
    /// The 单耗 version each line used (`None` for material lines and pending product lines).
    pub versions: Vec<Option<String>>,
}

/// The ledger of one book.
#[derive(Debug, Clone)]
pub struct BookLedger {
    book: Book,
    materials: Vec<MaterialTotals>,
    products: Vec<ProductTotals>,
    used_versions: BTreeSet<(u32, String)>,
    pending: Vec<PendingLine>,
    lists_posted: u64,
    lines_posted: u64,
    // Scratch space of one posting: deltas by material, which materials were touched and by which line.
    scratch: Vec<MaterialTotals>,
    touched: Vec<(usize, u32)>,
    mark: Vec<bool>,
    /// Exact leftover bases per bucket, and the scratch of one posting.
    leftover_base: Vec<Decimal>,
    lo_scratch: Vec<Decimal>,
    /// The last closed cycle's end: lists dated on or before it are refused (核销结案).
    closed_to: Option<chrono::NaiveDate>,
    /// The latest export or carry-over out posted.
    last_export: Option<chrono::NaiveDate>,
}

impl BookLedger {
    /// A ledger with nothing posted: balances are the opening quantities.
    pub fn new(book: Book) -> Self {
        let materials = book.materials.iter().map(|m| MaterialTotals { opening: m.opening_qty, ..Default::default() }).collect::<Vec<_>>();
        let n = materials.len();
        let products = vec![ProductTotals::default(); book.products.len()];
        let nb = book.leftover_buckets.len();
        BookLedger {
            book,
            materials,
            products,
            used_versions: BTreeSet::new(),
            pending: Vec::new(),
            lists_posted: 0,
            lines_posted: 0,
            scratch: vec![MaterialTotals::default(); n],
            touched: Vec::new(),
            mark: vec![false; n],
            leftover_base: vec![Decimal::ZERO; nb],
            lo_scratch: vec![Decimal::ZERO; nb],
            closed_to: None,
            last_export: None,
        }
    }

    pub fn book(&self) -> &Book {
        &self.book
    }

    /// Every material's totals, with the accrued leftovers divided out of their exact bases.
    pub fn material_totals(&self) -> Vec<MaterialTotals> {
        (0..self.materials.len())
            .filter_map(|m| {
                let mut t = *self.materials.get(m)?;
                t.leftover_accrued = self.accrued(m, false);
                Some(t)
            })
            .collect()
    }

    /// Leftovers accrued for material `m`: Σ over its buckets of base·t/(t+i), in bucket order;
    /// with `staged`, including the posting being staged.
    fn accrued(&self, m: usize, staged: bool) -> Decimal {
        let mut sum = Decimal::ZERO;
        for &b in self.book.material_buckets.get(m).map(Vec::as_slice).unwrap_or(&[]) {
            let (Some(bucket), Some(base)) = (self.book.leftover_buckets.get(b), self.leftover_base.get(b)) else { continue };
            let extra = if staged { self.lo_scratch.get(b).copied().unwrap_or_default() } else { Decimal::ZERO };
            let v = base.checked_add(extra).and_then(|x| x.checked_mul(bucket.tangible)).and_then(|x| x.checked_div(bucket.loss));
            sum = v.and_then(|v| sum.checked_add(v)).unwrap_or(sum);
        }
        sum
    }

    /// Every material's intangible (无形) process loss: Σ over its buckets of base·i/(t+i), the
    /// complement of [`BookLedger::material_totals`]'s accrued leftovers within the process loss.
    pub fn intangible_losses(&self) -> Vec<Decimal> {
        (0..self.materials.len())
            .map(|m| {
                let mut sum = Decimal::ZERO;
                for &b in self.book.material_buckets.get(m).map(Vec::as_slice).unwrap_or(&[]) {
                    let (Some(bucket), Some(base)) = (self.book.leftover_buckets.get(b), self.leftover_base.get(b)) else { continue };
                    let v = base.checked_mul(bucket.loss - bucket.tangible).and_then(|x| x.checked_div(bucket.loss));
                    sum = v.and_then(|v| sum.checked_add(v)).unwrap_or(sum);
                }
                sum
            })
            .collect()
    }

    pub fn product_totals(&self) -> &[ProductTotals] {
        &self.products
    }

    pub fn used_versions(&self) -> &BTreeSet<(u32, String)> {
        &self.used_versions
    }

    pub fn pending(&self) -> &[PendingLine] {
        &self.pending
    }

    pub fn lists_posted(&self) -> u64 {
        self.lists_posted
    }

    pub fn lines_posted(&self) -> u64 {
        self.lines_posted
    }

    /// The derived state, for a checkpoint.
    pub fn snapshot(&self) -> LedgerSnapshot {
        LedgerSnapshot {
            book_no: self.book.book_no.clone(),
            // With the accrued leftovers divided out, so that a report can be read from the
            // snapshot alone; restoring drops them again (they derive from the buckets).
            materials: self.book.materials.iter().map(|i| i.seq).zip(self.material_totals()).collect(),
            products: self.book.products.iter().map(|i| i.seq).zip(self.products.iter().copied()).collect(),
            used_versions: self.used_versions.iter().cloned().collect(),
            pending: self.pending.clone(),
            leftover_base: self.leftover_base.clone(),
            closed_to: self.closed_to,
            last_export: self.last_export,
            lists_posted: self.lists_posted,
            lines_posted: self.lines_posted,
        }
    }

    /// A ledger that starts from a closed cycle: the closure's openings (materials added to the
    /// book since open at their filed opening), nothing posted, and lists dated on or before the
    /// closure's end refused.
    pub fn after_closure(book: Book, closure: &crate::cycle::Closure) -> Self {
        let mut l = BookLedger::new(book);
        for (t, item) in l.materials.iter_mut().zip(&l.book.materials) {
            if let Some(o) = closure.openings.iter().find(|o| o.seq == item.seq) {
                t.opening = o.opening;
            }
        }
        l.closed_to = Some(closure.to);
        l
    }

    /// The last closed cycle's end, if any.
    pub fn closed_to(&self) -> Option<chrono::NaiveDate> {
        self.closed_to
    }

    /// The latest export or carry-over out posted (in the open cycle).
    pub fn last_export(&self) -> Option<chrono::NaiveDate> {
        self.last_export
    }

    /// A ledger of `book` (after `closure`, when one was closed) with the state of a checkpoint;
    /// `None` when the checkpoint does not fit (then replay everything instead).
    pub fn restore(book: Book, closure: Option<&crate::cycle::Closure>, snap: LedgerSnapshot) -> Option<Self> {
        let start = match closure {
            Some(c) => BookLedger::after_closure(book.clone(), c),
            None => BookLedger::new(book.clone()),
        };
        let fits = snap.closed_to == start.closed_to
            && snap.book_no == book.book_no
            && snap.materials.len() == book.materials.len()
            && snap.products.len() == book.products.len()
            && snap.materials.iter().zip(&book.materials).all(|((s, _), i)| *s == i.seq)
            && snap.products.iter().zip(&book.products).all(|((s, _), i)| *s == i.seq)
            && snap.materials.iter().zip(&start.materials).all(|((_, t), s)| t.opening == s.opening)
            && snap.leftover_base.len() == book.leftover_buckets.len();
        if !fits {
            return None;
        }
        let mut l = start;
        l.materials = snap.materials.into_iter().map(|(_, t)| MaterialTotals { leftover_accrued: Decimal::ZERO, ..t }).collect();
        l.products = snap.products.into_iter().map(|(_, t)| t).collect();
        l.used_versions = snap.used_versions.into_iter().collect();
        l.pending = snap.pending;
        l.leftover_base = snap.leftover_base;
        l.last_export = snap.last_export;
        l.lists_posted = snap.lists_posted;
        l.lines_posted = snap.lines_posted;
        Some(l)
    }

    /// Posts a list: every rule of FORMAT.md is checked against the balances so far (whatever
    /// their dates); on success every effect applies, on failure nothing does.
    pub fn post(&mut self, list: ListDoc) -> Result<Posting, Rejection> {
        let result = self.stage(&list);
        match result {
            Ok(versions) => {
                self.commit_scratch(&list, &versions);
                let canonical = list.canonical();
                Ok(Posting { list, canonical, versions })
            }
            Err(r) => {
                self.clear_scratch();
                Err(r)
            }
        }
    }

    /// Applies a list posted earlier, with the versions it used then, without checking balances
    /// (they were checked when it was posted). Used to rebuild state from the store.
    pub fn replay(&mut self, list: &ListDoc, versions: &[Option<String>]) -> Result<(), Rejection> {
        match self.stage_with_versions(list, Some(versions)) {
            Ok(v) => {
                self.commit_scratch(list, &v);
                Ok(())
            }
            Err(r) => {
                self.clear_scratch();
                Err(r)
            }
        }
    }

    fn stage(&mut self, list: &ListDoc) -> Result<Vec<Option<String>>, Rejection> {
        let versions = self.stage_with_versions(list, None)?;
        self.check_limits(list)?;
        Ok(versions)
    }

    /// Computes the list's effects into the scratch space; checks everything but balances.
    fn stage_with_versions(&mut self, list: &ListDoc, given: Option<&[Option<String>]>) -> Result<Vec<Option<String>>, Rejection> {
        let posting = given.is_none();
        let BookLedger { book, scratch, touched, mark, lo_scratch, products, .. } = self;
        let book = &*book;
        if list.book_no != book.book_no {
            return Err(reject("unknown_book", None, format!("list is for book {}, not {}", list.book_no, book.book_no)));
        }
        if let Some(c) = self.closed_to {
            if list.declared_on <= c {
                return Err(reject("cycle_closed", None, format!("declared on {}, in a verification cycle closed on {c} (核销结案); corrections go in the open cycle", list.declared_on)));
            }
        }
        if list.declared_on < book.valid_from || list.declared_on > book.valid_until {
            return Err(reject("outside_validity", None, format!("declared on {}, outside the validity of book {} ({} – {})", list.declared_on, book.book_no, book.valid_from, book.valid_until)));
        }
        let mv = classify(book, list.trade_mode.as_str(), list.direction, list.goods).map_err(|e| reject(e.rule, None, e.message))?;
        if mv.needs_counterparty() && list.counterparty_book_no.as_deref().is_none_or(|c| c.trim().is_empty()) {
            return Err(reject("counterparty_required", None, format!("a carry-over ({}) needs counterparty_book_no, the other book", list.trade_mode.as_str())));
        }
        if list.lines.is_empty() {
            return Err(reject("no_lines", None, "the list has no lines"));
        }
        let mut versions = Vec::with_capacity(list.lines.len());
        let mut seen = BTreeSet::new();
        let mut returns: Vec<(usize, Decimal)> = Vec::new();
        for (k, l) in list.lines.iter().enumerate() {
            if !seen.insert(l.line) {
                return Err(reject("line_duplicate", Some(l.line), format!("line number {} appears twice", l.line)));
            }
            if l.qty <= Decimal::ZERO {
                return Err(reject("quantity_not_positive", Some(l.line), format!("quantity {} must be positive; corrections are made by further lists", crate::decimal::plain(l.qty))));
            }
            if !mv.through_consumption() {
                if list.goods != Goods::Material {
                    return Err(reject("trade_mode_goods", Some(l.line), "this movement is for materials"));
                }
                let m = book.material_idx(l.item_seq).ok_or_else(|| reject("unknown_item", Some(l.line), format!("material seq {} is not in book {}", l.item_seq, book.book_no)))?;
                if l.consumption_version.is_some() {
                    return Err(reject("version_on_material", Some(l.line), "consumption_version applies only to product lines"));
                }
                let d = slot(scratch, touched, mark, m, l.line);
                let q = l.qty;
                let field = d.figure_mut(mv.material_figure().0);
                *field = field.checked_add(q).ok_or_else(|| overflow(l.line))?;
                if mv.is_priced_inflow() {
                    if let Some(a) = l.amount {
                        d.priced_qty = d.priced_qty.checked_add(q).ok_or_else(|| overflow(l.line))?;
                        d.priced_amount = d.priced_amount.checked_add(a).ok_or_else(|| overflow(l.line))?;
                    }
                }
                versions.push(None);
                continue;
            }
            let p = book.product_idx(l.item_seq).ok_or_else(|| reject("unknown_item", Some(l.line), format!("product seq {} is not in book {}", l.item_seq, book.book_no)))?;
            let version = match given {
                Some(g) => match g.get(k).cloned().flatten() {
                    Some(name) => {
                        Some(book.version_named(p, &name).ok_or_else(|| reject("unknown_version", Some(l.line), format!("单耗 version {name} of product {} is not in the book", l.item_seq)))?)
                    }
                    None => None,
                },
                None => match &l.consumption_version {
                    Some(name) => {
                        let v = book
                            .version_named(p, name)
                            .ok_or_else(|| reject("unknown_version", Some(l.line), format!("单耗 version {name} of product {} is not in book {}", l.item_seq, book.book_no)))?;
                        if v.valid_from > list.declared_on {
                            return Err(reject(
                                "version_not_valid",
                                Some(l.line),
                                format!("单耗 version {name} of product {} is valid only from {}, after the list's date {}", l.item_seq, v.valid_from, list.declared_on),
                            ));
                        }
                        Some(v)
                    }
                    None => match book.version_on(p, list.declared_on) {
                        Some(v) => Some(v),
                        None if book.consumption_stage == ConsumptionStage::BeforeReport => None,
                        None => {
                            return Err(reject(
                                "no_valid_version",
                                Some(l.line),
                                format!("product {} has no 单耗 version valid on {}; declare one before export (单耗申报环节 出口前)", l.item_seq, list.declared_on),
                            ))
                        }
                    },
                },
            };
            if posting && mv == Movement::ProductReturn {
                // Jiamao's rule: a product comes back only as far as it went out (成品退换).
                let Some(t) = products.get(p) else { continue };
                let so_far = returns.iter().filter(|(x, _)| *x == p).map(|(_, q)| *q).sum::<Decimal>();
                let shipped = t.exported + t.carried_out + t.reexported;
                if t.returned + so_far + l.qty > shipped {
                    return Err(reject(
                        "return_exceeds_shipped",
                        Some(l.line),
                        format!(
                            "product {} would have {} returned but only {} shipped out (exported, carried over or re-shipped)",
                            l.item_seq,
                            crate::decimal::plain(t.returned + so_far + l.qty),
                            crate::decimal::plain(shipped)
                        ),
                    ));
                }
                returns.push((p, l.qty));
            }
            let Some(version) = version else {
                versions.push(None);
                continue;
            };
            let q = l.qty;
            versions.push(Some(version.version.clone()));
            for b in &version.lines {
                let x = q.checked_mul(b.uc_share).ok_or_else(|| overflow(l.line))?;
                let lo = q.checked_mul(b.leftover_base_per_unit).ok_or_else(|| overflow(l.line))?;
                let d = slot(scratch, touched, mark, b.material_idx, l.line);
                let (figure, adds) = mv.material_figure();
                let (x, lo) = if adds { (x, lo) } else { (-x, -lo) };
                let field = d.figure_mut(figure);
                *field = field.checked_add(x).ok_or_else(|| overflow(l.line))?;
                // The bucket belongs to this (now touched) material; commit and clear visit it there.
                if let Some(s) = b.bucket.and_then(|k| lo_scratch.get_mut(k)) {
                    *s = s.checked_add(lo).ok_or_else(|| overflow(l.line))?;
                }
            }
        }
        Ok(versions)
    }

    /// Authorised quantities, leftovers and (with 数量控制) non-negative balances after the list.
    fn check_limits(&self, list: &ListDoc) -> Result<(), Rejection> {
        let disposal = list.goods == Goods::Material && matches!(list.trade_mode.as_str(), "0844" | "0845" | "0864" | "0865" | "0400");
        for &(m, line) in &self.touched {
            let (Some(cur), Some(d), Some(item)) = (self.materials.get(m), self.scratch.get(m), self.book.materials.get(m)) else { continue };
            let after = cur.checked_add(d).ok_or_else(|| overflow(line))?;
            if let Some(limit) = item.authorized_qty {
                if after.authorized_inflow() > limit && d.authorized_inflow() > Decimal::ZERO {
                    return Err(reject(
                        "authorized_exceeded",
                        Some(line),
                        format!(
                            "material {} would reach {} in imports and carry-ins, above its authorised quantity (备案数量) {}",
                            item.seq,
                            crate::decimal::plain(after.authorized_inflow()),
                            crate::decimal::plain(limit)
                        ),
                    ));
                }
            }
            if disposal {
                let accrued = self.accrued(m, true);
                if after.leftover_disposed > accrued {
                    return Err(reject(
                        "leftover_exceeded",
                        Some(line),
                        format!(
                            "material {}: leftovers disposed would reach {}, above the {} accrued within the tangible process loss (边角料)",
                            item.seq,
                            crate::decimal::report_qty(after.leftover_disposed),
                            crate::decimal::report_qty(accrued)
                        ),
                    ));
                }
            }
            if self.book.quantity_control {
                let bal = after.should_remain();
                if bal < Decimal::ZERO {
                    return Err(reject(
                        "balance_negative",
                        Some(line),
                        format!(
                            "material {} ({}) would fall to {} (数量控制: no balance below zero); {} remain",
                            item.seq,
                            item.name,
                            crate::decimal::report_qty(bal),
                            crate::decimal::report_qty(cur.should_remain())
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn commit_scratch(&mut self, list: &ListDoc, versions: &[Option<String>]) {
        for &(m, _) in &self.touched {
            if let (Some(cur), Some(d)) = (self.materials.get_mut(m), self.scratch.get(m)) {
                // Staging already proved the sum fits; keep the old value if it somehow does not.
                if let Some(sum) = cur.checked_add(d) {
                    *cur = sum;
                }
            }
            if let Some(d) = self.scratch.get_mut(m) {
                *d = MaterialTotals::default();
            }
            if let Some(f) = self.mark.get_mut(m) {
                *f = false;
            }
        }
        for &(m, _) in &self.touched {
            for &k in self.book.material_buckets.get(m).map(Vec::as_slice).unwrap_or(&[]) {
                if let (Some(base), Some(d)) = (self.leftover_base.get_mut(k), self.lo_scratch.get_mut(k)) {
                    *base = base.checked_add(*d).unwrap_or(*base);
                    *d = Decimal::ZERO;
                }
            }
        }
        self.touched.clear();
        let through = classify(&self.book, list.trade_mode.as_str(), list.direction, list.goods).ok();
        if through.is_some_and(|m| matches!(m, Movement::ProductExport | Movement::ProductCarryOut)) {
            self.last_export = self.last_export.max(Some(list.declared_on));
        }
        if let Some(mv) = through.filter(|m| m.through_consumption()) {
            for (l, v) in list.lines.iter().zip(versions) {
                let Some(p) = self.book.product_idx(l.item_seq) else { continue };
                if let Some(t) = self.products.get_mut(p) {
                    let f = t.movement_mut(mv);
                    *f = f.checked_add(l.qty).unwrap_or(*f);
                }
                match v {
                    Some(name) => {
                        self.used_versions.insert((l.item_seq, name.clone()));
                    }
                    None => self.pending.push(PendingLine { list_no: list.list_no.clone(), line: l.line, product_idx: p, qty: l.qty, movement: mv, declared_on: list.declared_on }),
                }
            }
        }
        self.lists_posted += 1;
        self.lines_posted += list.lines.len() as u64;
    }

    fn clear_scratch(&mut self) {
        for &(m, _) in &self.touched {
            if let Some(d) = self.scratch.get_mut(m) {
                *d = MaterialTotals::default();
            }
            if let Some(f) = self.mark.get_mut(m) {
                *f = false;
            }
        }
        for &(m, _) in &self.touched {
            for &k in self.book.material_buckets.get(m).map(Vec::as_slice).unwrap_or(&[]) {
                if let Some(d) = self.lo_scratch.get_mut(k) {
                    *d = Decimal::ZERO;
                }
            }
        }
        self.touched.clear();
    }

    /// Files a change (变更): checks it against what has been posted and rebuilds the derived state
    /// by replaying `history` (every posted list of the book with its versions, in posting order;
    /// after a closed cycle, the lists dated after it, starting from `closure`).
    /// Pending product lines whose version is now declared take that version. Returns the new
    /// ledger and the versions resolved for pending lines (list_no, line, version).
    pub fn rebook<'a>(
        &self,
        new_book: Book,
        closure: Option<&crate::cycle::Closure>,
        history: impl IntoIterator<Item = (&'a ListDoc, &'a [Option<String>])>,
    ) -> Result<(BookLedger, Resolved), BookError> {
        new_book.check_change(&self.book, &self.used_versions)?;
        let mut next = match closure {
            Some(c) => BookLedger::after_closure(new_book, c),
            None => BookLedger::new(new_book),
        };
        let mut resolved = Vec::new();
        for (list, versions) in history {
            let mut vs: Vec<Option<String>> = versions.to_vec();
            for (k, l) in list.lines.iter().enumerate() {
                let is_pending = vs.get(k).is_some_and(Option::is_none) && list.goods != Goods::Material;
                if is_pending {
                    if let Some(p) = next.book.product_idx(l.item_seq) {
                        if let Some(v) = next.book.version_on(p, list.declared_on) {
                            resolved.push((list.list_no.clone(), l.line, v.version.clone()));
                            if let Some(slot) = vs.get_mut(k) {
                                *slot = Some(v.version.clone());
                            }
                        }
                    }
                }
            }
            next.replay(list, &vs).map_err(|r| BookError { at: format!("list {}", list.list_no), rule: r.rule, message: format!("the change would invalidate a posted list: {}", r.message) })?;
        }
        if next.book.quantity_control {
            for (t, item) in next.materials.iter().zip(&next.book.materials) {
                if t.should_remain() < Decimal::ZERO {
                    return Err(BookError {
                        at: format!("materials (seq {})", item.seq),
                        rule: "balance_negative",
                        message: format!("after this change material {} would stand at {} (数量控制)", item.seq, crate::decimal::report_qty(t.should_remain())),
                    });
                }
                if let Some(limit) = item.authorized_qty {
                    if t.authorized_inflow() > limit {
                        return Err(BookError {
                            at: format!("materials (seq {})", item.seq),
                            rule: "authorized_exceeded",
                            message: format!("authorised quantity {} is below the {} already imported or carried in", crate::decimal::plain(limit), crate::decimal::plain(t.authorized_inflow())),
                        });
                    }
                }
            }
        }
        Ok((next, resolved))
    }
}

/// What became of one list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Posted,
    /// The same `list_no` with the same content was posted before: no effect.
    Duplicate,
    Rejected(Rejection),
}

/// Judges a list number seen before: same content → duplicate; different → rejected.
pub fn judge_repost(list_no: &str, earlier_canonical: &str, canonical: &str) -> Outcome {
    if earlier_canonical == canonical {
        Outcome::Duplicate
    } else {
        Outcome::Rejected(reject("list_no_conflict", None, format!("list {list_no} was posted before with different content; a posted list is never changed, correct it with a further list")))
    }
}

/// Rejection for a list naming a book that does not exist.
pub fn unknown_book(book_no: &str) -> Rejection {
    reject("unknown_book", None, format!("book {book_no} is not known; import it first (jiamao book import)"))
}

/// An in-memory ledger of many books: the whole posting semantics without a store.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    books: std::collections::BTreeMap<String, BookLedger>,
    posted: std::collections::HashMap<String, String>,
}

impl Ledger {
    pub fn add_book(&mut self, book: Book) {
        self.books.insert(book.book_no.clone(), BookLedger::new(book));
    }

    pub fn book(&self, book_no: &str) -> Option<&BookLedger> {
        self.books.get(book_no)
    }

    /// Posts one list: atomic, and idempotent by `list_no`.
    pub fn post(&mut self, list: ListDoc) -> Outcome {
        let canonical = list.canonical();
        if let Some(earlier) = self.posted.get(&list.list_no) {
            return judge_repost(&list.list_no, earlier, &canonical);
        }
        let Some(bl) = self.books.get_mut(&list.book_no) else {
            return Outcome::Rejected(unknown_book(&list.book_no));
        };
        match bl.post(list) {
            Ok(p) => {
                self.posted.insert(p.list.list_no, p.canonical);
                Outcome::Posted
            }
            Err(r) => Outcome::Rejected(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn snapshot() -> LedgerSnapshot {
        let m = MaterialTotals { opening: d("2874"), consumed: d("96782.200324055038"), leftover_accrued: d("1142.2779188839714853611953238"), surplus_out: d("-0.5"), ..Default::default() };
        LedgerSnapshot {
            book_no: "E\"1\\\n中".to_owned(),
            materials: vec![(1, m), (7, MaterialTotals::default())],
            products: vec![(3, ProductTotals { exported: d("140900.2"), destroyed: d("0.000000001"), ..Default::default() })],
            used_versions: vec![(3, "v,1\n".to_owned())],
            pending: vec![PendingLine {
                list_no: "L1".to_owned(),
                line: 2,
                product_idx: 0,
                qty: d("5.5"),
                movement: Movement::MaterialImport,
                declared_on: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            }],
            leftover_base: vec![d("1679.151388455093"), Decimal::ZERO],
            closed_to: chrono::NaiveDate::from_ymd_opt(2026, 6, 30),
            last_export: chrono::NaiveDate::from_ymd_opt(2026, 7, 2),
            lists_posted: 9,
            lines_posted: 12,
        }
    }

    #[test]
    fn a_checkpoint_reads_back_in_either_format() {
        let snap = snapshot();
        let text = snap.to_checkpoint().unwrap();
        assert!(text.starts_with("jiamao-checkpoint 2\n"), "{text}");
        assert_eq!(LedgerSnapshot::from_checkpoint(&text), Some(snap.clone()));
        // The earlier format: the snapshot as one JSON object.
        let old = serde_json::to_string(&snap).unwrap();
        assert_eq!(LedgerSnapshot::from_checkpoint(&old), Some(snap.clone()));
        let totals = CheckpointTotals { book_no: snap.book_no.clone(), closed_to: snap.closed_to, materials: snap.materials.clone(), products: snap.products.clone() };
        assert_eq!(checkpoint_totals(&text), Some(totals.clone()));
        assert_eq!(checkpoint_totals(&old), Some(totals));
    }

    #[test]
    fn a_damaged_checkpoint_is_not_read() {
        let text = snapshot().to_checkpoint().unwrap();
        for bad in [
            text.replacen("jiamao-checkpoint 2", "jiamao-checkpoint 3", 1),
            text.replacen("\"materials\":2", "\"materials\":3", 1),
            text.replacen("96782.200324055038", "96782.2003x4055038", 1),
            text.replacen("2874,", "2874", 1),
            text.replacen("2874,", "2874,1,", 1),
            text[..text.len() / 2].to_owned(),
            String::new(),
        ] {
            assert_eq!(LedgerSnapshot::from_checkpoint(&bad), None, "{bad}");
        }
        // A report reads the rows only, so a damaged rest of the state does not stop it.
        let cut = text.rfind('\n').unwrap();
        assert!(checkpoint_totals(&text[..=cut]).is_some());
        assert_eq!(LedgerSnapshot::from_checkpoint(&text[..=cut]), None);
    }
}
