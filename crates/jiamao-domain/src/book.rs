//! A validated book (账册 / 手册): items, 单耗 versions, and the rules of a change (变更).

use crate::decimal;
use crate::doc::{BookDoc, BookType, ConsumptionDoc, ConsumptionStage};
use crate::policy::Policy;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Why a book document (or a change to a book) was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookError {
    /// Where in the document (`consumption[3]`, `materials[0].seq`).
    pub at: String,
    /// Machine-readable rule name.
    pub rule: &'static str,
    pub message: String,
}

impl std::error::Error for BookError {}

impl fmt::Display for BookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            write!(f, "{} (rule {})", self.message, self.rule)
        } else {
            write!(f, "{}: {} (rule {})", self.at, self.message, self.rule)
        }
    }
}

fn err(at: impl Into<String>, rule: &'static str, message: impl Into<String>) -> BookError {
    BookError { at: at.into(), rule, message: message.into() }
}

/// 加工贸易方式 family: 来料 (consigned, 0214) or 进料 (purchased, 0615).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Consigned,
    Purchased,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Consigned => "来料加工 (0214)",
            Family::Purchased => "进料加工 (0615)",
        }
    }
}

/// One material's line in a 单耗 version, with its derived figures.
#[derive(Debug, Clone, PartialEq)]
pub struct BomLine {
    pub material_seq: u32,
    /// Dense index of the material in [`Book::materials`].
    pub material_idx: usize,
    /// 单耗, 9 decimal places when derived from net consumption (RULES.md §4.2, FORMAT.md).
    pub uc: Decimal,
    pub net: Option<Decimal>,
    pub tangible: Decimal,
    pub intangible: Decimal,
    /// 保税料件比例.
    pub share: Decimal,
    /// `uc·share`: bonded material per product unit, exact.
    pub uc_share: Decimal,
    /// `share·(uc − net)`: the base of leftover (边角料) per product unit, exact; the leftover is
    /// `base·t/(t+i)`, divided only when read (see [`LeftoverBucket`]). Zero when 单耗 was declared
    /// directly or there is no tangible loss.
    pub leftover_base_per_unit: Decimal,
    /// Index into [`Book::leftover_buckets`] when this line accrues leftovers.
    pub bucket: Option<usize>,
}

/// Leftovers of one material accrued at one pair of loss rates. Posting adds the exact
/// `q·share·(uc − net)` to the bucket; the leftover `sum·t/(t+i)` is divided out only when read, so
/// accrued leftovers do not depend on the order lists were posted in.
#[derive(Debug, Clone, PartialEq)]
pub struct LeftoverBucket {
    pub material_idx: usize,
    pub tangible: Decimal,
    /// t + i.
    pub loss: Decimal,
}

/// A 单耗 version of one product.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub version: String,
    pub valid_from: NaiveDate,
    pub lines: Vec<BomLine>,
}

/// A 料件 or 成品 of a book.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub seq: u32,
    pub part_no: String,
    pub hs_code: String,
    pub name: String,
    pub unit: String,
    pub unit_price: Decimal,
    pub currency: String,
    pub opening_qty: Decimal,
    pub authorized_qty: Option<Decimal>,
}

/// A validated book.
#[derive(Debug, Clone, PartialEq)]
pub struct Book {
    pub book_no: String,
    pub book_type: BookType,
    pub family: Family,
    pub zone: Option<String>,
    pub master_customs: String,
    pub operator_uscc: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub quantity_control: bool,
    pub consumption_stage: ConsumptionStage,
    /// Materials in ascending `seq`.
    pub materials: Vec<Item>,
    /// Products in ascending `seq`.
    pub products: Vec<Item>,
    /// For each product (same index as `products`), its versions in ascending `valid_from`.
    pub versions: Vec<Vec<Version>>,
    /// The leftover buckets of the book, and for each material the buckets it has.
    pub leftover_buckets: Vec<LeftoverBucket>,
    pub material_buckets: Vec<Vec<usize>>,
    /// The document this book was built from.
    pub doc: BookDoc,
}

fn index_of(items: &[Item], seq: u32) -> Option<usize> {
    items.binary_search_by_key(&seq, |i| i.seq).ok()
}

impl Book {
    pub fn material_idx(&self, seq: u32) -> Option<usize> {
        index_of(&self.materials, seq)
    }

    pub fn product_idx(&self, seq: u32) -> Option<usize> {
        index_of(&self.products, seq)
    }

    /// The version of product `p` in force on `date`: the last one whose `valid_from` ≤ `date`.
    pub fn version_on(&self, p: usize, date: NaiveDate) -> Option<&Version> {
        self.versions.get(p)?.iter().rev().find(|v| v.valid_from <= date)
    }

    pub fn version_named(&self, p: usize, name: &str) -> Option<&Version> {
        self.versions.get(p)?.iter().find(|v| v.version == name)
    }

    /// Builds a book from its document, checking every rule of FORMAT.md's book section.
    pub fn from_doc(doc: BookDoc, policy: &Policy) -> Result<Book, BookError> {
        if doc.book_no.trim().is_empty() {
            return Err(err("book_no", "book_no_empty", "book_no must not be empty"));
        }
        let family = match doc.trade_mode.as_str() {
            "0214" => Family::Consigned,
            "0615" => Family::Purchased,
            other => return Err(err("trade_mode", "book_trade_mode", format!("a book's trade mode must be 0214 (来料加工) or 0615 (进料加工), not {other}"))),
        };
        match (doc.book_type, family) {
            (BookType::B, Family::Purchased) => return Err(err("trade_mode", "book_type_mode", "a type B book (来料加工手册) must have trade mode 0214")),
            (BookType::C, Family::Consigned) => return Err(err("trade_mode", "book_type_mode", "a type C book (进料加工手册) must have trade mode 0615")),
            _ => {}
        }
        if doc.valid_from > doc.valid_until {
            return Err(err("valid_until", "book_validity", format!("valid_until {} is before valid_from {}", doc.valid_until, doc.valid_from)));
        }
        if let Some(z) = &doc.zone {
            if z.trim().is_empty() {
                return Err(err("zone", "book_zone", "zone, when given, must name the special customs supervision zone"));
            }
        }
        let mut materials = Vec::with_capacity(doc.materials.len());
        for (i, m) in doc.materials.iter().enumerate() {
            let at = format!("materials[{i}] (seq {})", m.seq);
            check_item_common(&at, m.seq, m.unit_price)?;
            let opening = m.opening_qty.unwrap_or(Decimal::ZERO);
            if opening.is_sign_negative() && !opening.is_zero() {
                return Err(err(at, "quantity_negative", "opening_qty must not be negative"));
            }
            if let Some(a) = m.authorized_qty {
                if a.is_sign_negative() && !a.is_zero() {
                    return Err(err(at, "quantity_negative", "authorized_qty must not be negative"));
                }
            }
            materials.push(Item {
                seq: m.seq,
                part_no: m.part_no.clone(),
                hs_code: m.hs_code.as_str().to_owned(),
                name: m.name.clone(),
                unit: m.unit.as_str().to_owned(),
                unit_price: m.unit_price,
                currency: m.currency.as_str().to_owned(),
                opening_qty: opening,
                authorized_qty: m.authorized_qty,
            });
        }
        let mut products = Vec::with_capacity(doc.products.len());
        for (i, p) in doc.products.iter().enumerate() {
            let at = format!("products[{i}] (seq {})", p.seq);
            check_item_common(&at, p.seq, p.unit_price)?;
            products.push(Item {
                seq: p.seq,
                part_no: p.part_no.clone(),
                hs_code: p.hs_code.as_str().to_owned(),
                name: p.name.clone(),
                unit: p.unit.as_str().to_owned(),
                unit_price: p.unit_price,
                currency: p.currency.as_str().to_owned(),
                opening_qty: Decimal::ZERO,
                authorized_qty: None,
            });
        }
        sort_unique(&mut materials, "materials")?;
        sort_unique(&mut products, "products")?;

        // 单耗 versions, grouped by product then version name.
        let mut grouped: Vec<BTreeMap<String, Version>> = vec![BTreeMap::new(); products.len()];
        for (i, c) in doc.consumption.iter().enumerate() {
            let at = format!("consumption[{i}] (product {}, material {}, version {})", c.product_seq, c.material_seq, c.version);
            let p = index_of(&products, c.product_seq).ok_or_else(|| err(&at, "unknown_item", format!("product seq {} is not a product of this book", c.product_seq)))?;
            let m = index_of(&materials, c.material_seq).ok_or_else(|| err(&at, "unknown_item", format!("material seq {} is not a material of this book", c.material_seq)))?;
            if c.version.trim().is_empty() {
                return Err(err(&at, "version_empty", "version must not be empty"));
            }
            let line = bom_line(c, m, policy).map_err(|(rule, msg)| err(&at, rule, msg))?;
            let entry = grouped.get_mut(p).ok_or_else(|| err(&at, "unknown_item", "product index out of range"))?;
            let v = entry.entry(c.version.clone()).or_insert_with(|| Version { version: c.version.clone(), valid_from: c.valid_from, lines: Vec::new() });
            if v.valid_from != c.valid_from {
                return Err(err(&at, "version_dates", format!("all lines of version {} must share one valid_from ({} here, {} before)", c.version, c.valid_from, v.valid_from)));
            }
            if v.lines.iter().any(|l| l.material_seq == c.material_seq) {
                return Err(err(&at, "version_duplicate_material", format!("material {} appears twice in version {}", c.material_seq, c.version)));
            }
            v.lines.push(line);
        }
        let mut versions = Vec::with_capacity(products.len());
        for (p, g) in grouped.into_iter().enumerate() {
            let mut vs: Vec<Version> = g.into_values().collect();
            vs.sort_by_key(|v| v.valid_from);
            for w in vs.windows(2) {
                if let [a, b] = w {
                    if a.valid_from == b.valid_from {
                        let seq = products.get(p).map_or(0, |i| i.seq);
                        return Err(err(
                            format!("consumption (product {seq})"),
                            "version_same_day",
                            format!("versions {} and {} of product {seq} both start on {}; two versions never start on the same day", a.version, b.version, a.valid_from),
                        ));
                    }
                }
            }
            for v in &mut vs {
                v.lines.sort_by_key(|l| l.material_seq);
            }
            versions.push(vs);
        }
        let mut leftover_buckets: Vec<LeftoverBucket> = Vec::new();
        let mut material_buckets: Vec<Vec<usize>> = vec![Vec::new(); materials.len()];
        let mut keys: BTreeMap<(usize, Decimal, Decimal), usize> = BTreeMap::new();
        for b in versions.iter_mut().flatten().flat_map(|v| v.lines.iter_mut()) {
            if b.leftover_base_per_unit.is_zero() {
                continue;
            }
            let loss = b.tangible + b.intangible;
            let key = (b.material_idx, b.tangible, loss);
            let idx = *keys.entry(key).or_insert_with(|| {
                leftover_buckets.push(LeftoverBucket { material_idx: b.material_idx, tangible: b.tangible, loss });
                if let Some(mb) = material_buckets.get_mut(b.material_idx) {
                    mb.push(leftover_buckets.len() - 1);
                }
                leftover_buckets.len() - 1
            });
            b.bucket = Some(idx);
        }
        let processor_uscc = doc.operator.uscc.as_str().to_owned();
        Ok(Book {
            book_no: doc.book_no.clone(),
            book_type: doc.book_type,
            family,
            zone: doc.zone.clone(),
            master_customs: doc.master_customs.as_str().to_owned(),
            operator_uscc: processor_uscc,
            valid_from: doc.valid_from,
            valid_until: doc.valid_until,
            quantity_control: doc.quantity_control.unwrap_or(true),
            consumption_stage: doc.consumption_stage.unwrap_or_default(),
            materials,
            products,
            versions,
            leftover_buckets,
            material_buckets,
            doc,
        })
    }

    /// Checks that `self` (the book as filed again) is an allowed change (变更) of `old`:
    /// nothing removed, type and mode kept, validity only extended, used 单耗 versions unaltered.
    pub fn check_change(&self, old: &Book, used_versions: &BTreeSet<(u32, String)>) -> Result<(), BookError> {
        if self.book_type != old.book_type || self.family != old.family {
            return Err(err("book_type", "change_type", "a change may not alter the book type or trade mode"));
        }
        if self.valid_from > old.valid_from || self.valid_until < old.valid_until {
            return Err(err("valid_until", "change_validity", format!("a change may only extend validity ({} – {} now)", old.valid_from, old.valid_until)));
        }
        for (kind, olds, news) in [("material", &old.materials, &self.materials), ("product", &old.products, &self.products)] {
            for o in olds.iter() {
                match index_of(news, o.seq).and_then(|i| news.get(i)) {
                    None => return Err(err(format!("{kind}s"), "change_removes_item", format!("{kind} seq {} may not be removed by a change", o.seq))),
                    Some(n) if n.unit != o.unit => {
                        return Err(err(format!("{kind}s (seq {})", o.seq), "change_unit", format!("the unit of {kind} {} may not change ({} → {})", o.seq, o.unit, n.unit)))
                    }
                    Some(_) => {}
                }
            }
        }
        for (pseq, vname) in used_versions {
            let (Some(po), Some(pn)) = (old.product_idx(*pseq), self.product_idx(*pseq)) else { continue };
            let before = old.version_named(po, vname);
            let after = self.version_named(pn, vname);
            if before != after {
                return Err(err(
                    format!("consumption (product {pseq}, version {vname})"),
                    "change_used_version",
                    format!("单耗 version {vname} of product {pseq} has been used by posted lists and may not be altered or removed; declare a new version instead"),
                ));
            }
        }
        Ok(())
    }
}

fn check_item_common(at: &str, seq: u32, price: Decimal) -> Result<(), BookError> {
    if seq == 0 {
        return Err(err(at, "item_seq", "seq (备案序号) starts at 1"));
    }
    if price.is_sign_negative() && !price.is_zero() {
        return Err(err(at, "price_negative", "unit_price must not be negative"));
    }
    Ok(())
}

fn sort_unique(items: &mut [Item], kind: &str) -> Result<(), BookError> {
    items.sort_by_key(|i| i.seq);
    for w in items.windows(2) {
        if let [a, b] = w {
            if a.seq == b.seq {
                return Err(err(kind, "item_seq_duplicate", format!("seq {} appears twice in {kind}", a.seq)));
            }
        }
    }
    Ok(())
}

fn fraction_ok(v: Decimal, allow_one: bool) -> bool {
    !v.is_sign_negative() && (v < Decimal::ONE || (allow_one && v == Decimal::ONE))
}

/// RULES.md §4.2: 单耗 = 净耗 / (1 − 有形损耗率 − 无形损耗率), rounded per policy (default 9 places).
fn bom_line(c: &ConsumptionDoc, material_idx: usize, policy: &Policy) -> Result<BomLine, (&'static str, String)> {
    let share = c.bonded_share.unwrap_or(Decimal::ONE);
    if !(share > Decimal::ZERO && share <= Decimal::ONE) {
        return Err(("bonded_share", format!("bonded_share must be above 0 and at most 1, not {}", decimal::plain(share))));
    }
    let (uc, net, t, i) = match (c.net, c.unit_consumption) {
        (Some(_), Some(_)) => return Err(("consumption_both", "give either net (净耗) with loss rates or unit_consumption (单耗), never both".into())),
        (None, None) => return Err(("consumption_missing", "give net (净耗) with loss rates, or unit_consumption (单耗)".into())),
        (None, Some(uc)) => {
            if c.tangible_loss_rate.is_some() || c.intangible_loss_rate.is_some() {
                return Err(("consumption_loss_with_uc", "loss rates go with net (净耗); when unit_consumption (单耗) is declared directly they stay empty (RULES.md §4.3)".into()));
            }
            if uc <= Decimal::ZERO {
                return Err(("consumption_not_positive", "unit_consumption must be positive".into()));
            }
            (uc, None, Decimal::ZERO, Decimal::ZERO)
        }
        (Some(net), None) => {
            let t = c.tangible_loss_rate.unwrap_or(Decimal::ZERO);
            let i = c.intangible_loss_rate.unwrap_or(Decimal::ZERO);
            if net <= Decimal::ZERO {
                return Err(("consumption_not_positive", "net must be positive".into()));
            }
            if !fraction_ok(t, false) || !fraction_ok(i, false) || t + i >= Decimal::ONE {
                return Err(("loss_rate", format!("loss rates are fractions from 0 and their sum must stay below 1 (有形 {}, 无形 {})", decimal::plain(t), decimal::plain(i))));
            }
            let denom = Decimal::ONE - t - i;
            let uc = net.checked_div(denom).map(|q| decimal::round(q, policy.uc_decimal_places)).ok_or(("overflow", "net / (1 − loss) cannot be computed".to_owned()))?;
            (uc, Some(net), t, i)
        }
    };
    let uc_share = uc.checked_mul(share).ok_or(("overflow", "单耗 × share is too large".to_owned()))?;
    // Leftovers arise only within the tangible process loss (FORMAT.md; RULES.md §7.1).
    let leftover_base_per_unit = match net {
        Some(net) if !t.is_zero() => share.checked_mul(uc - net).ok_or(("overflow", "leftover per unit cannot be computed".to_owned()))?,
        _ => Decimal::ZERO,
    };
    Ok(BomLine { material_seq: c.material_seq, material_idx, uc, net, tangible: t, intangible: i, share, uc_share, leftover_base_per_unit, bucket: None })
}
