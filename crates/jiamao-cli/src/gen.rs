//! `jiamao gen`: a synthetic enterprise in the interchange format (FORMAT.md).
//!
//! Writes into `--out`:
//!
//! - `book.json`: a 进料加工 (0615) E-book of `--materials` materials and `--products` products;
//!   every product has three 单耗 versions (the first valid from 2026-01-01, the others from a
//!   date in March–June and in mid-July–mid-November, different per product) naming 20 to 60
//!   materials, exactly 40 on average (products are paired: 40 + d and 40 − d), so the book has
//!   exactly `3 × 40 × products` 单耗 lines. Most lines give net consumption with tangible and
//!   intangible loss rates, some give 单耗 directly, some have a bonded share below 1. Some
//!   materials have an authorised quantity (备案数量), always well above what is imported.
//! - `lists-001.json`, `lists-002.json` …: arrays of lists, at most 50,000 lines per file, dated
//!   through 2026 in non-decreasing order, with exactly `--lines` lines in all, of every kind such
//!   a book supports: imports 0615 and 0715, deep-processing carry-in and carry-out 0654, surplus
//!   carry-in and carry-out 0657, domestic sales 0644 of materials, products and defectives,
//!   re-export 0664, replacement 0700 out and in, exports 0615, returns and re-shipments 4600,
//!   leftover sales 0844 and re-exports 0864, destruction 0200 of materials and defectives, and
//!   leftover destruction 0400. Most lines are imports and exports; lists have 1 to 100 lines,
//!   mostly 20 to 60.
//! - `stocktake.json`: a year-end count (2026-12-31) of every material's exact should-remain,
//!   split between products in the warehouse, work in process, material at subcontractors and
//!   material on hand, with small deterministic differences on about one material in seven.
//!
//! No list is refused when the book is imported and the files are posted in order: the generator
//! posts every list it writes to a [`BookLedger`] of the generated book (the posting rules of
//! `jiamao list post`) and writes only lists that posted. Quantities are planned against an
//! exact mirror of the balances (integers in 10⁻¹² of the unit), so the ledger is not expected to
//! refuse anything; if it does, the offending line is dropped and the list posted again (the
//! summary counts such repairs). Imports follow demand (each material is replenished toward a
//! stock of a few days of its expected consumption), exports are capped by what is in stock,
//! returns by what was shipped, leftover disposals by what has accrued.
//!
//! Deterministic: the same arguments give byte-identical files. Memory stays moderate: lists are
//! written as they post, never held.

use anyhow::{bail, Context, Result};
use chrono::{Days, NaiveDate};
use jiamao_domain::book::Book;
use jiamao_domain::codes::{CountryCode, CurrencyCode, CustomsCode, CustomsDistrict, HsCode, RegionCode, TradeModeCode, UnitCode, Uscc};
use jiamao_domain::doc::{BookDoc, BookType, ConsumptionDoc, CountDoc, Direction, EnterpriseDoc, Goods, ListDoc, ListLineDoc, MaterialDoc, ProductDoc, StocktakeDoc};
use jiamao_domain::ledger::BookLedger;
use jiamao_domain::policy::Policy;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct GenArgs {
    /// Folder to write book.json, lists-NNN.json and stocktake.json into (created when missing;
    /// earlier lists-NNN.json files there are removed).
    #[arg(long)]
    out: PathBuf,
    /// List lines in all (exactly this many are written).
    #[arg(long, default_value_t = 5_000_000)]
    lines: u64,
    /// Materials (料件) in the book (at least 100).
    #[arg(long, default_value_t = 20_000)]
    materials: usize,
    /// Products (成品) in the book, each with 3 单耗 versions of 20 to 60 materials (40 on average).
    #[arg(long, default_value_t = 5_000)]
    products: usize,
    /// Seed of the generator: the same arguments give byte-identical files.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

const BOOK_NO: &str = "E52002600001";
const USCC: &str = "91441900698123458E";
const CUSTOMS_CODE: &str = "4419960123";
const REGION: &str = "441900";
const MASTER_CUSTOMS: &str = "5200";
const UNIT: &str = "035";
const CURRENCY: &str = "502";
/// At most this many list lines per file.
const MAX_FILE_LINES: usize = 50_000;
/// Balances are integers in 10⁻¹² kg: material quantities have 3 decimals, product quantities 1
/// and bonded 单耗 (uc·share, in 10⁻¹¹) at most 11, so every effect is exact.
const BAL_SCALE: u32 = 12;
const UCS_SCALE: u32 = 11;
/// A material quantity in 0.001 kg, as a balance.
const MILLI: i128 = 1_000_000_000;
/// One kg as a balance.
const KG: f64 = 1e12;
/// Other books of carry-overs (深加工结转, 余料结转).
const COUNTERPARTIES: [&str; 4] = ["E52002600117", "E44192600042", "C51012600356", "E32052600208"];
/// Countries of origin of imports.
const ORIGINS: [&str; 9] = ["116", "133", "143", "502", "304", "136", "132", "110", "142"];
const PACKAGING: [(&str, &str); 3] = [("4819100000", "瓦楞纸箱"), ("4821100000", "印刷标签"), ("3919909090", "封箱胶带")];
const MATERIAL_HS: [(&str, &str); 9] = [
    ("3901100090", "低密度聚乙烯颗粒"),
    ("3902100090", "聚丙烯颗粒"),
    ("3903300090", "ABS树脂"),
    ("3907619000", "PET切片"),
    ("3908101100", "尼龙66切片"),
    ("7408110000", "精炼铜线"),
    ("8532241000", "片式多层陶瓷电容器"),
    ("8533211000", "片式电阻器"),
    ("8536490000", "继电器"),
];
const PRODUCT_HS: [(&str, &str); 8] = [
    ("3920109090", "聚乙烯薄膜"),
    ("3923210000", "塑料包装袋"),
    ("3926909090", "塑料结构件"),
    ("8544422900", "线束组件"),
    ("8504409999", "电源适配器"),
    ("8536690000", "连接器"),
    ("8473309000", "电脑配件"),
    ("9405420000", "LED灯具"),
];
/// Export quantities (kg): magnitudes and their weights; each is scaled by 0.5–1.5.
const EXPORT_KG: [(i64, u64); 10] = [(5, 2), (10, 4), (20, 8), (50, 12), (100, 16), (200, 18), (500, 16), (1000, 12), (2000, 8), (5000, 4)];
/// Their mean (kg per export line).
const EXPORT_MEAN_KG: f64 = 620.1;

/// The kinds of lists, by what they do.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Import0615,
    Import0715,
    CarryIn0654,
    SurplusIn0657,
    ReplaceIn0700,
    SurplusOut0657,
    MaterialSale0644,
    ReExport0664,
    ReplaceOut0700,
    Destroy0200,
    Leftover0844,
    Leftover0864,
    Leftover0400,
    Export0615,
    CarryOut0654,
    ProductSale0644,
    DefectiveSale0644,
    DefectiveDestroy0200,
    Reship4600,
    Return4600,
}

impl Kind {
    /// Material inflows that replenish stock (and count against 备案数量).
    fn is_inflow(self) -> bool {
        matches!(self, Kind::Import0615 | Kind::Import0715 | Kind::CarryIn0654 | Kind::SurplusIn0657)
    }
    fn is_material_out(self) -> bool {
        matches!(self, Kind::SurplusOut0657 | Kind::MaterialSale0644 | Kind::ReExport0664 | Kind::ReplaceOut0700 | Kind::Destroy0200)
    }
    fn is_leftover(self) -> bool {
        matches!(self, Kind::Leftover0844 | Kind::Leftover0864 | Kind::Leftover0400)
    }
    /// Product lines that consume materials through 单耗.
    fn consumes(self) -> bool {
        matches!(self, Kind::Export0615 | Kind::CarryOut0654 | Kind::ProductSale0644 | Kind::DefectiveSale0644 | Kind::DefectiveDestroy0200 | Kind::Reship4600)
    }
    /// Product outflows a return may come back from.
    fn ships(self) -> bool {
        matches!(self, Kind::Export0615 | Kind::CarryOut0654 | Kind::Reship4600)
    }
    fn is_product(self) -> bool {
        self.consumes() || self == Kind::Return4600
    }
}

/// How many lines a list of a kind has.
#[derive(Clone, Copy)]
enum Size {
    /// 1–100, mostly 20–60.
    Main,
    /// 1–40, mostly 5–30.
    Medium,
    /// 1–20.
    Small,
    /// 1–8.
    Tiny,
}

impl Size {
    fn sample(self, rng: &mut Rng) -> usize {
        match self {
            Size::Main => match rng.below(100) {
                0..=79 => rng.range(20, 60),
                80..=91 => rng.range(1, 19),
                _ => rng.range(61, 100),
            },
            Size::Medium => {
                if rng.below(10) < 7 {
                    rng.range(5, 30)
                } else {
                    rng.range(1, 40)
                }
            }
            Size::Small => rng.range(1, 20),
            Size::Tiny => rng.range(1, 8),
        }
    }
    fn mean(self) -> f64 {
        match self {
            Size::Main => 39.6,
            Size::Medium => 18.4,
            Size::Small => 10.5,
            Size::Tiny => 4.5,
        }
    }
}

struct Spec {
    kind: Kind,
    mode: &'static str,
    dir: Direction,
    goods: Goods,
    /// Planned share of lines, in 1/10,000.
    share: u32,
    size: Size,
    label: &'static str,
}

const SPECS: [Spec; 20] = [
    Spec { kind: Kind::Import0615, mode: "0615", dir: Direction::I, goods: Goods::Material, share: 3800, size: Size::Main, label: "进料料件进口" },
    Spec { kind: Kind::Export0615, mode: "0615", dir: Direction::E, goods: Goods::Product, share: 4000, size: Size::Main, label: "进料成品出口" },
    Spec { kind: Kind::Import0715, mode: "0715", dir: Direction::I, goods: Goods::Material, share: 300, size: Size::Medium, label: "进料非对口" },
    Spec { kind: Kind::CarryIn0654, mode: "0654", dir: Direction::I, goods: Goods::Material, share: 300, size: Size::Medium, label: "深加工结转转入" },
    Spec { kind: Kind::CarryOut0654, mode: "0654", dir: Direction::E, goods: Goods::Product, share: 400, size: Size::Medium, label: "深加工结转转出" },
    Spec { kind: Kind::SurplusIn0657, mode: "0657", dir: Direction::I, goods: Goods::Material, share: 70, size: Size::Small, label: "余料结转转入" },
    Spec { kind: Kind::SurplusOut0657, mode: "0657", dir: Direction::E, goods: Goods::Material, share: 70, size: Size::Small, label: "余料结转转出" },
    Spec { kind: Kind::MaterialSale0644, mode: "0644", dir: Direction::E, goods: Goods::Material, share: 120, size: Size::Small, label: "料件内销" },
    Spec { kind: Kind::ProductSale0644, mode: "0644", dir: Direction::E, goods: Goods::Product, share: 120, size: Size::Small, label: "成品内销" },
    Spec { kind: Kind::DefectiveSale0644, mode: "0644", dir: Direction::E, goods: Goods::Defective, share: 60, size: Size::Small, label: "残次品内销" },
    Spec { kind: Kind::ReExport0664, mode: "0664", dir: Direction::E, goods: Goods::Material, share: 100, size: Size::Small, label: "料件复出" },
    Spec { kind: Kind::ReplaceOut0700, mode: "0700", dir: Direction::E, goods: Goods::Material, share: 60, size: Size::Tiny, label: "料件退换出" },
    Spec { kind: Kind::ReplaceIn0700, mode: "0700", dir: Direction::I, goods: Goods::Material, share: 50, size: Size::Tiny, label: "料件退换进" },
    Spec { kind: Kind::Return4600, mode: "4600", dir: Direction::I, goods: Goods::Product, share: 80, size: Size::Tiny, label: "成品退换退回" },
    Spec { kind: Kind::Reship4600, mode: "4600", dir: Direction::E, goods: Goods::Product, share: 60, size: Size::Tiny, label: "成品退换复出" },
    Spec { kind: Kind::Leftover0844, mode: "0844", dir: Direction::E, goods: Goods::Material, share: 120, size: Size::Small, label: "边角料内销" },
    Spec { kind: Kind::Leftover0864, mode: "0864", dir: Direction::E, goods: Goods::Material, share: 60, size: Size::Small, label: "边角料复出" },
    Spec { kind: Kind::Destroy0200, mode: "0200", dir: Direction::E, goods: Goods::Material, share: 30, size: Size::Tiny, label: "料件销毁" },
    Spec { kind: Kind::DefectiveDestroy0200, mode: "0200", dir: Direction::E, goods: Goods::Defective, share: 40, size: Size::Tiny, label: "残次品销毁" },
    Spec { kind: Kind::Leftover0400, mode: "0400", dir: Direction::E, goods: Goods::Material, share: 60, size: Size::Small, label: "边角料销毁" },
];

/// A small deterministic generator (xorshift64*, as `jiamao bench`), seeded through splitmix64.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// 0 ≤ x < n.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// lo ≤ x ≤ hi.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }
    fn range_i(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo).max(0) as u64 + 1)) as i64
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// One material of a 单耗 version as planned: quantities as integers (net in 10⁻⁶, loss rates
/// in 10⁻³, share in 10⁻²).
#[derive(Clone)]
struct BomSpec {
    m: usize,
    net: i64,
    t: i64,
    i: i64,
    direct: bool,
    share: i64,
}

impl BomSpec {
    /// 单耗 declared directly: net / (1 − t − i) rounded to 6 places (half up).
    fn direct_uc(&self) -> i64 {
        let den = 1000 - self.t - self.i;
        (2 * self.net * 1000 + den) / (2 * den)
    }
    /// Bonded material per product unit, approximately (planning only).
    fn ucs_f64(&self) -> f64 {
        let uc = if self.direct { self.direct_uc() as f64 / 1e6 } else { self.net as f64 / 1e6 / (1.0 - (self.t + self.i) as f64 / 1000.0) };
        uc * self.share as f64 / 100.0
    }
}

/// A 单耗 version as the generator uses it.
struct Ver {
    from: NaiveDate,
    name: String,
    bom: Vec<Bom>,
}

/// One material of a version: bonded 单耗 exactly (in 10⁻¹¹ per product unit) and the leftover
/// accrued per product unit (kg, planning only).
struct Bom {
    m: u32,
    ucs: i128,
    lo: f64,
}

/// One line of a list being built: the item's index, the quantity (0.001 for materials, 0.1 for
/// products) and whether the 单耗 version is named explicitly.
#[derive(Clone, Copy)]
struct Line {
    idx: u32,
    qty: i64,
    explicit: bool,
}

fn date(y: i32, m: u32, d: u32) -> Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).with_context(|| format!("invalid date {y}-{m}-{d}"))
}

/// `d` as an integer in 10^-scale, when exact.
fn scaled(d: Decimal, scale: u32) -> Option<i128> {
    let d = d.normalize();
    let (m, s) = (d.mantissa(), d.scale());
    if s <= scale {
        m.checked_mul(10i128.checked_pow(scale - s)?)
    } else {
        let div = 10i128.checked_pow(s - scale)?;
        (m % div == 0).then_some(m / div)
    }
}

/// Rounds a quantity (kg) up to a plausible precision: whole kg from 100 kg, 0.01 kg from 1 kg,
/// else 0.001 kg. In 0.001 kg.
fn ceil_qty(kg: f64) -> i64 {
    if kg >= 100.0 {
        kg.ceil() as i64 * 1000
    } else if kg >= 1.0 {
        (kg * 100.0).ceil() as i64 * 10
    } else {
        ((kg * 1000.0).ceil() as i64).max(1)
    }
}

/// As [`ceil_qty`], rounding down (may give 0).
fn floor_qty(kg: f64) -> i64 {
    if kg >= 100.0 {
        kg.floor() as i64 * 1000
    } else if kg >= 1.0 {
        (kg * 100.0).floor() as i64 * 10
    } else {
        (kg * 1000.0).floor().max(0.0) as i64
    }
}

/// The generated book and what the simulation needs of its plan.
struct Planned {
    doc: BookDoc,
    mat_price: Vec<i64>,
    prod_price: Vec<i64>,
    /// Expected consumption of each material between two of its replenishments, and the stock
    /// replenishment aims at (kg).
    lot: Vec<f64>,
    target: Vec<f64>,
    opening: Vec<i64>,
    authorized: Vec<Option<i64>>,
    /// Cumulative product popularity.
    prod_cum: Vec<u64>,
    imp_order: Vec<u32>,
}

fn plan_book(rng: &mut Rng, a: &GenArgs) -> Result<Planned> {
    let (nm, np) = (a.materials, a.products);
    let n_pack = (nm / 1000).max(3);
    let others = nm - n_pack;
    let families = (np / 50).min(others / 150).max(1);
    let pool_size = others / families;
    let mut perm: Vec<usize> = (n_pack..nm).collect();
    rng.shuffle(&mut perm);

    // Materials per product: pairs of 40 + d and 40 − d, so exactly 40 on average.
    let mut counts = vec![40usize; np];
    for p in (0..np).step_by(2) {
        if p + 1 < np {
            let d = rng.range(0, 20);
            counts[p] = 40 + d;
            counts[p + 1] = 40 - d;
        }
    }

    // Loss rates (10⁻³) are mostly the material's standard process loss; some products differ.
    let standard: Vec<(i64, i64)> = (0..nm).map(|_| (rng.range_i(5, 60), if rng.chance(0.3) { 0 } else { rng.range_i(1, 15) })).collect();
    let loss = |rng: &mut Rng, m: usize| -> (i64, i64) {
        let (t, i) = standard.get(m).copied().unwrap_or((20, 5));
        if rng.chance(0.75) {
            return (t, i);
        }
        const STEPS: [i64; 5] = [-5, -2, 2, 5, 10];
        let t = (t + STEPS.get(rng.below(STEPS.len())).copied().unwrap_or(2)).max(1);
        let i = if rng.chance(0.5) { i } else { rng.range_i(0, 15) };
        (t, i)
    };
    let year_start = date(2026, 1, 1)?;
    let mut versions: Vec<[(NaiveDate, Vec<BomSpec>); 3]> = Vec::with_capacity(np);
    for (p, &n) in counts.iter().enumerate() {
        let pool = perm.get((p % families) * pool_size..(p % families + 1) * pool_size).unwrap_or(&perm);
        let mut set: Vec<BomSpec> = Vec::with_capacity(n);
        let packs = rng.range(1, 2);
        let fresh = |rng: &mut Rng, set: &[BomSpec]| -> usize {
            for _ in 0..1000 {
                let m = if rng.chance(0.7) { pool.get(rng.below(pool.len())).copied().unwrap_or(n_pack) } else { n_pack + rng.below(others) };
                if !set.iter().any(|b| b.m == m) {
                    return m;
                }
            }
            (n_pack..nm).find(|m| !set.iter().any(|b| b.m == *m)).unwrap_or(n_pack)
        };
        while set.len() < packs {
            let m = rng.below(n_pack);
            if !set.iter().any(|b| b.m == m) {
                set.push(BomSpec { m, net: 0, t: 0, i: 0, direct: false, share: 100 });
            }
        }
        while set.len() < n {
            let m = fresh(rng, &set);
            set.push(BomSpec { m, net: 0, t: 0, i: 0, direct: false, share: 100 });
        }
        // Net consumption: about 0.98 kg of material per kg of product, one main material.
        let raw: Vec<i64> = (0..n)
            .map(|k| match k {
                k if k < packs => rng.range_i(1, 5),
                k if k == packs => rng.range_i(200, 2000),
                _ => rng.range_i(1, 100),
            })
            .collect();
        let total: i64 = raw.iter().sum();
        for (b, r) in set.iter_mut().zip(&raw) {
            b.net = ((980_000 * r + total / 2) / total.max(1)).max(1);
            (b.t, b.i) = loss(rng, b.m);
            b.direct = rng.chance(0.15);
            b.share = if rng.chance(0.2) { rng.range_i(60, 98) } else { 100 };
        }
        let next_version = |rng: &mut Rng, prev: &[BomSpec]| -> Vec<BomSpec> {
            let mut v = prev.to_vec();
            let movable = n.saturating_sub(packs + 1);
            for _ in 0..rng.range(1, 2) {
                if movable == 0 {
                    break;
                }
                let j = packs + 1 + rng.below(movable);
                let m = fresh(rng, &v);
                if let Some(b) = v.get_mut(j) {
                    b.m = m;
                }
            }
            for b in &mut v {
                if rng.chance(0.3) {
                    b.net = (b.net * rng.range_i(900, 1100) / 1000).max(1);
                }
                if rng.chance(0.2) {
                    (b.t, b.i) = loss(rng, b.m);
                }
            }
            v
        };
        let v2 = next_version(rng, &set);
        let v3 = next_version(rng, &v2);
        let d2 = date(2026, 3, 1)? + Days::new(rng.below(122) as u64);
        let d3 = date(2026, 7, 15)? + Days::new(rng.below(120) as u64);
        versions.push([(year_start, set), (d2, v2), (d3, v3)]);
    }

    // Popularity: weight 1/(rank + 20) over a random ranking.
    let mut ranks: Vec<usize> = (0..np).collect();
    rng.shuffle(&mut ranks);
    let weights: Vec<u64> = ranks.iter().map(|r| 1_000_000_000 / (*r as u64 + 20)).collect();
    let wsum: u64 = weights.iter().sum();
    let mut prod_cum = Vec::with_capacity(np);
    let mut acc = 0u64;
    for w in &weights {
        acc += w;
        prod_cum.push(acc);
    }

    // Demand per product-outflow line (kg), using each material's largest 单耗 over the versions.
    let mut demand = vec![0f64; nm];
    let mut seen: Vec<(usize, f64)> = Vec::new();
    for (p, vs) in versions.iter().enumerate() {
        seen.clear();
        for (_, bom) in vs {
            for b in bom {
                seen.push((b.m, b.ucs_f64()));
            }
        }
        seen.sort_by(|x, y| x.0.cmp(&y.0).then(y.1.total_cmp(&x.1)));
        seen.dedup_by_key(|x| x.0);
        let w = weights.get(p).copied().unwrap_or(0) as f64 / wsum.max(1) as f64;
        for &(m, u) in &seen {
            if let Some(d) = demand.get_mut(m) {
                *d += w * EXPORT_MEAN_KG * u;
            }
        }
    }
    let inflow_share: u32 = SPECS.iter().filter(|s| s.kind.is_inflow()).map(|s| s.share).sum();
    let product_share: u32 = SPECS.iter().filter(|s| s.kind.consumes()).map(|s| s.share).sum();
    let all_share: u32 = SPECS.iter().map(|s| s.share).sum();
    let used = demand.iter().filter(|d| **d > 0.0).count().max(1);
    // Product-outflow lines between two replenishments of a material, and replenishments a year.
    let cycle = used as f64 * product_share as f64 / inflow_share as f64;
    let cycles = a.lines as f64 * inflow_share as f64 / all_share as f64 / used as f64;
    let lot: Vec<f64> = demand.iter().map(|d| d * cycle).collect();
    let target: Vec<f64> = lot.iter().map(|l| 2.0 * l).collect();

    let ent = EnterpriseDoc { uscc: Uscc::parse(USCC)?, customs_code: CustomsCode::parse(CUSTOMS_CODE)?, name: "东莞嘉茂塑胶电子有限公司".into(), region_code: RegionCode::parse(REGION)? };
    let unit = UnitCode::parse(UNIT)?;
    let currency = CurrencyCode::parse(CURRENCY)?;
    let mut materials = Vec::with_capacity(nm);
    let mut mat_price = Vec::with_capacity(nm);
    let mut opening = Vec::with_capacity(nm);
    let mut authorized = Vec::with_capacity(nm);
    for m in 0..nm {
        let (hs, name) = if m < n_pack { PACKAGING[m % PACKAGING.len()] } else { MATERIAL_HS[(m * 7) % MATERIAL_HS.len()] };
        let price = rng.range_i(50, 5000);
        let l = lot.get(m).copied().unwrap_or(0.0);
        let open = if l > 0.0 {
            ceil_qty(3.0 * l)
        } else if rng.chance(0.5) {
            rng.range_i(10, 1000) * 1000
        } else {
            0
        };
        let auth = (m % 5 < 2).then(|| if l > 0.0 { ((3.0 * l * cycles).ceil() as i64 + 1000) * 1000 } else { 10_000_000 });
        materials.push(MaterialDoc {
            seq: m as u32 + 1,
            part_no: format!("M{:06}", m + 1),
            hs_code: HsCode::parse(hs)?,
            name: name.into(),
            spec: Some(format!("规格 M-{:06}", m + 1)),
            unit,
            unit_price: Decimal::new(price, 2),
            currency,
            opening_qty: (open > 0).then(|| Decimal::new(open, 3)),
            authorized_qty: auth.map(|q| Decimal::new(q, 3)),
            approval_ref: None,
        });
        mat_price.push(price);
        opening.push(open);
        authorized.push(auth);
    }
    let mut products = Vec::with_capacity(np);
    let mut prod_price = Vec::with_capacity(np);
    for p in 0..np {
        let (hs, name) = PRODUCT_HS[(p * 5) % PRODUCT_HS.len()];
        let price = rng.range_i(300, 20_000);
        products.push(ProductDoc {
            seq: p as u32 + 1,
            part_no: format!("P{:05}", p + 1),
            hs_code: HsCode::parse(hs)?,
            name: name.into(),
            spec: Some(format!("型号 P-{:05}", p + 1)),
            unit,
            unit_price: Decimal::new(price, 2),
            currency,
            approval_ref: None,
        });
        prod_price.push(price);
    }
    let mut consumption = Vec::with_capacity(np * 120);
    for (p, vs) in versions.iter().enumerate() {
        for (k, (from, bom)) in vs.iter().enumerate() {
            let mut bom: Vec<&BomSpec> = bom.iter().collect();
            bom.sort_by_key(|b| b.m);
            for b in bom {
                consumption.push(ConsumptionDoc {
                    product_seq: p as u32 + 1,
                    material_seq: b.m as u32 + 1,
                    version: (k + 1).to_string(),
                    valid_from: *from,
                    net: (!b.direct).then(|| Decimal::new(b.net, 6)),
                    tangible_loss_rate: (!b.direct).then(|| Decimal::new(b.t, 3)),
                    intangible_loss_rate: (!b.direct && b.i > 0).then(|| Decimal::new(b.i, 3)),
                    unit_consumption: b.direct.then(|| Decimal::new(b.direct_uc(), 6)),
                    bonded_share: (b.share < 100).then(|| Decimal::new(b.share, 2)),
                });
            }
        }
    }
    let doc = BookDoc {
        book_no: BOOK_NO.into(),
        book_type: BookType::E,
        trade_mode: TradeModeCode::parse("0615")?,
        operator: ent,
        processor: None,
        master_customs: CustomsDistrict::parse(MASTER_CUSTOMS)?,
        zone: None,
        valid_from: year_start,
        valid_until: date(2026, 12, 31)?,
        quantity_control: Some(true),
        consumption_stage: None,
        materials,
        products,
        consumption,
    };
    let mut imp_order: Vec<u32> = (0..nm as u32).collect();
    rng.shuffle(&mut imp_order);
    Ok(Planned { doc, mat_price, prod_price, lot, target, opening, authorized, prod_cum, imp_order })
}

/// Writes a JSON object with one key per line and the elements of its big arrays one per line.
fn write_object<W: Write>(w: &mut W, header: &serde_json::Value, mut array: impl FnMut(&str, &mut W) -> Result<bool>) -> Result<()> {
    let map = header.as_object().context("a document must be a JSON object")?;
    w.write_all(b"{")?;
    for (i, (k, v)) in map.iter().enumerate() {
        w.write_all(if i == 0 { b"\n  " } else { b",\n  " })?;
        serde_json::to_writer(&mut *w, k)?;
        w.write_all(b": ")?;
        if !array(k, w)? {
            serde_json::to_writer(&mut *w, v)?;
        }
    }
    w.write_all(b"\n}\n")?;
    Ok(())
}

fn write_items<W: Write, T: Serialize>(w: &mut W, items: &[T]) -> Result<bool> {
    if items.is_empty() {
        w.write_all(b"[]")?;
        return Ok(true);
    }
    w.write_all(b"[")?;
    for (i, it) in items.iter().enumerate() {
        w.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
        serde_json::to_writer(&mut *w, it)?;
    }
    w.write_all(b"\n  ]")?;
    Ok(true)
}

fn create(path: &Path) -> Result<BufWriter<std::fs::File>> {
    Ok(BufWriter::with_capacity(1 << 20, std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?))
}

fn write_book(path: &Path, doc: &mut BookDoc) -> Result<()> {
    let materials = std::mem::take(&mut doc.materials);
    let products = std::mem::take(&mut doc.products);
    let consumption = std::mem::take(&mut doc.consumption);
    let header = serde_json::to_value(&*doc);
    let mut w = create(path)?;
    let written = header.map_err(anyhow::Error::from).and_then(|h| {
        write_object(&mut w, &h, |k, w| match k {
            "materials" => write_items(w, &materials),
            "products" => write_items(w, &products),
            "consumption" => write_items(w, &consumption),
            _ => Ok(false),
        })
    });
    doc.materials = materials;
    doc.products = products;
    doc.consumption = consumption;
    written?;
    w.flush().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The list files: each an array of lists, at most [`MAX_FILE_LINES`] lines.
struct Sink {
    dir: PathBuf,
    width: usize,
    w: Option<BufWriter<std::fs::File>>,
    lines: usize,
    lists: usize,
    bytes: u64,
    /// (name, lists, lines, bytes) of every file.
    files: Vec<(String, usize, usize, u64)>,
}

impl Sink {
    /// Adds a list; true when it starts a new file.
    fn push(&mut self, text: &str, lines: usize) -> Result<bool> {
        let mut opened = false;
        if self.w.is_none() || self.lines + lines > MAX_FILE_LINES {
            self.close()?;
            let name = format!("lists-{:0width$}.json", self.files.len() + 1, width = self.width);
            let mut w = create(&self.dir.join(&name))?;
            w.write_all(b"[\n")?;
            self.w = Some(w);
            self.files.push((name, 0, 0, 0));
            (self.lines, self.lists, self.bytes) = (0, 0, 2);
            opened = true;
        }
        let w = self.w.as_mut().context("no list file open")?;
        if self.lists > 0 {
            w.write_all(b",\n")?;
            self.bytes += 2;
        }
        w.write_all(text.as_bytes())?;
        self.bytes += text.len() as u64;
        self.lines += lines;
        self.lists += 1;
        Ok(opened)
    }

    fn close(&mut self) -> Result<()> {
        if let Some(mut w) = self.w.take() {
            w.write_all(b"\n]\n")?;
            w.flush()?;
            self.bytes += 3;
            if let Some(f) = self.files.last_mut() {
                *f = (f.0.clone(), self.lists, self.lines, self.bytes);
            }
        }
        Ok(())
    }
}

/// Removes list files of an earlier run, so that DIR holds only this run's files.
fn remove_stale_lists(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stale = name.strip_prefix("lists-").and_then(|r| r.strip_suffix(".json")).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if stale {
            std::fs::remove_file(entry.path()).with_context(|| format!("cannot remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The simulation: the ledger, an exact mirror of what the generator needs of it, and the plan.
struct Gen {
    rng: Rng,
    ledger: BookLedger,
    n_lines: u64,
    start: NaiveDate,
    n_mat: usize,
    n_prod: usize,
    mat_price: Vec<i64>,
    prod_price: Vec<i64>,
    lot: Vec<f64>,
    target: Vec<f64>,
    ver: Vec<Vec<Ver>>,
    prod_cum: Vec<u64>,
    imp_order: Vec<u32>,
    imp_ptr: usize,
    modes: Vec<TradeModeCode>,
    origins: Vec<CountryCode>,
    // The mirror: balances (10⁻¹² kg), authorised inflows, leftovers, replacements (0.001 kg);
    // products shipped, returned and awaiting re-shipment (0.1 kg).
    bal: Vec<i128>,
    inflow: Vec<i64>,
    auth: Vec<i64>,
    lo_acc: Vec<f64>,
    lo_disp: Vec<i64>,
    repl_open: Vec<i64>,
    shipped: Vec<i64>,
    returned: Vec<i64>,
    reship_left: Vec<i64>,
    shipped_list: Vec<u32>,
    returned_list: Vec<u32>,
    repl_list: Vec<u32>,
    // Scratch of the list being built.
    pend: Vec<i128>,
    pend_lo: Vec<f64>,
    touched: Vec<u32>,
    mstamp: Vec<u64>,
    pstamp: Vec<u64>,
    stamp: u64,
    // Counters.
    list_seq: u64,
    decl_seq: u64,
    posted_lines: u64,
    stats: Vec<(u64, u64)>,
    repaired: u64,
    dropped_lines: u64,
}

impl Gen {
    fn new(rng: Rng, ledger: BookLedger, plan: Planned, n_lines: u64) -> Result<Gen> {
        let book = ledger.book();
        let n_mat = book.materials.len();
        let n_prod = book.products.len();
        let mut ver = Vec::with_capacity(n_prod);
        for (p, vs) in book.versions.iter().enumerate() {
            let mut out = Vec::with_capacity(vs.len());
            for v in vs {
                let mut bom = Vec::with_capacity(v.lines.len());
                for b in &v.lines {
                    let ucs = scaled(b.uc_share, UCS_SCALE).with_context(|| format!("product {} version {}: 单耗 × share {} has more than {UCS_SCALE} decimals", p + 1, v.version, b.uc_share))?;
                    let lo = match b.bucket {
                        Some(_) => b.leftover_base_per_unit.checked_mul(b.tangible).and_then(|x| x.checked_div(b.tangible + b.intangible)).and_then(|x| x.to_f64()).unwrap_or(0.0),
                        None => 0.0,
                    };
                    bom.push(Bom { m: b.material_idx as u32, ucs, lo });
                }
                out.push(Ver { from: v.valid_from, name: v.version.clone(), bom });
            }
            ver.push(out);
        }
        let modes = SPECS.iter().map(|s| TradeModeCode::parse(s.mode)).collect::<Result<Vec<_>, _>>()?;
        let origins = ORIGINS.iter().map(|c| CountryCode::parse(c)).collect::<Result<Vec<_>, _>>()?;
        Ok(Gen {
            rng,
            ledger,
            n_lines,
            start: date(2026, 1, 1)?,
            n_mat,
            n_prod,
            mat_price: plan.mat_price,
            prod_price: plan.prod_price,
            lot: plan.lot,
            target: plan.target,
            ver,
            prod_cum: plan.prod_cum,
            imp_order: plan.imp_order,
            imp_ptr: 0,
            modes,
            origins,
            bal: plan.opening.iter().map(|q| *q as i128 * MILLI).collect(),
            inflow: vec![0; n_mat],
            auth: plan.authorized.iter().map(|a| a.unwrap_or(i64::MAX)).collect(),
            lo_acc: vec![0.0; n_mat],
            lo_disp: vec![0; n_mat],
            repl_open: vec![0; n_mat],
            shipped: vec![0; n_prod],
            returned: vec![0; n_prod],
            reship_left: vec![0; n_prod],
            shipped_list: Vec::new(),
            returned_list: Vec::new(),
            repl_list: Vec::new(),
            pend: vec![0; n_mat],
            pend_lo: vec![0.0; n_mat],
            touched: Vec::new(),
            mstamp: vec![0; n_mat],
            pstamp: vec![0; n_prod],
            stamp: 0,
            list_seq: 0,
            decl_seq: 0,
            posted_lines: 0,
            stats: vec![(0, 0); SPECS.len()],
            repaired: 0,
            dropped_lines: 0,
        })
    }

    /// The version of product `p` in force on `d` (its index).
    fn version_at(&self, p: usize, d: NaiveDate) -> usize {
        self.ver.get(p).map_or(0, |vs| vs.iter().rposition(|v| v.from <= d).unwrap_or(0))
    }

    fn pick_product(&mut self) -> usize {
        let total = self.prod_cum.last().copied().unwrap_or(1);
        let x = self.next_below_u64(total);
        self.prod_cum.partition_point(|&c| c <= x).min(self.n_prod.saturating_sub(1))
    }

    fn next_below_u64(&mut self, n: u64) -> u64 {
        self.rng.next() % n.max(1)
    }

    fn export_kg(&mut self) -> i64 {
        let total: u64 = EXPORT_KG.iter().map(|e| e.1).sum();
        let mut x = self.next_below_u64(total);
        let mut mag = 100;
        for (m, w) in EXPORT_KG {
            if x < w {
                mag = m;
                break;
            }
            x -= w;
        }
        ((mag as f64 * self.rng.uniform(0.5, 1.5)).round() as i64).max(1)
    }

    /// Builds up to `k` lines of a kind that the mirror says will post.
    fn build(&mut self, kind: Kind, k: usize, d: NaiveDate) -> Vec<Line> {
        self.stamp += 1;
        let mut out = Vec::with_capacity(k);
        if kind.is_inflow() {
            self.inflow_lines(k, &mut out);
        } else if kind.is_material_out() {
            self.material_out_lines(kind, k, &mut out);
        } else if kind.is_leftover() {
            self.leftover_lines(k, &mut out);
        } else if kind == Kind::ReplaceIn0700 {
            self.replace_in_lines(k, &mut out);
        } else if kind == Kind::Return4600 {
            self.return_lines(k, d, &mut out);
        } else {
            self.product_lines(kind, k, d, &mut out);
        }
        for &m in &self.touched {
            if let Some(p) = self.pend.get_mut(m as usize) {
                *p = 0;
            }
            if let Some(p) = self.pend_lo.get_mut(m as usize) {
                *p = 0.0;
            }
        }
        self.touched.clear();
        out
    }

    /// Replenishment: materials in a fixed cyclic order, each brought back toward its target stock.
    fn inflow_lines(&mut self, k: usize, out: &mut Vec<Line>) {
        let mut scanned = 0;
        while out.len() < k && scanned < self.n_mat {
            scanned += 1;
            let m = self.imp_order.get(self.imp_ptr).copied().unwrap_or(0) as usize;
            self.imp_ptr = (self.imp_ptr + 1) % self.n_mat.max(1);
            if self.mstamp[m] == self.stamp {
                continue;
            }
            let (lot, target) = (self.lot[m], self.target[m]);
            let kg = if lot > 0.0 {
                let need = target + lot - self.bal[m] as f64 / KG;
                if need < 0.05 * lot {
                    continue;
                }
                need * self.rng.uniform(0.95, 1.1)
            } else if self.rng.chance(0.03) {
                self.rng.range(10, 200) as f64
            } else {
                continue;
            };
            let mut q = ceil_qty(kg);
            let room = self.auth[m].saturating_sub(self.inflow[m]);
            if q > room {
                q = floor_qty(room as f64 / 1000.0);
                if q <= 0 || q > room {
                    continue;
                }
            }
            self.mstamp[m] = self.stamp;
            out.push(Line { idx: m as u32, qty: q, explicit: false });
        }
    }

    fn material_out_lines(&mut self, kind: Kind, k: usize, out: &mut Vec<Line>) {
        let mut attempts = 0;
        while out.len() < k && attempts < 6 * k + 8 {
            attempts += 1;
            let m = self.rng.below(self.n_mat);
            if self.mstamp[m] == self.stamp {
                continue;
            }
            let kg = self.bal[m] as f64 / KG;
            if kg < 1.0 || kg < 0.3 * self.target[m] {
                continue;
            }
            let frac = match kind {
                Kind::SurplusOut0657 => self.rng.uniform(0.05, 0.2),
                Kind::ReplaceOut0700 => self.rng.uniform(0.005, 0.03),
                Kind::Destroy0200 => self.rng.uniform(0.001, 0.01),
                _ => self.rng.uniform(0.02, 0.1),
            };
            let q = floor_qty(kg * frac);
            if q < 1 || q as i128 * MILLI > self.bal[m] {
                continue;
            }
            self.mstamp[m] = self.stamp;
            out.push(Line { idx: m as u32, qty: q, explicit: false });
        }
    }

    fn leftover_lines(&mut self, k: usize, out: &mut Vec<Line>) {
        let mut attempts = 0;
        while out.len() < k && attempts < 8 * k + 16 {
            attempts += 1;
            let m = self.rng.below(self.n_mat);
            if self.mstamp[m] == self.stamp {
                continue;
            }
            let avail = self.lo_acc[m] - self.lo_disp[m] as f64 / 1000.0;
            if avail < 0.01 {
                continue;
            }
            let q = floor_qty(avail * self.rng.uniform(0.3, 0.9));
            if q < 1 {
                continue;
            }
            self.mstamp[m] = self.stamp;
            out.push(Line { idx: m as u32, qty: q, explicit: false });
        }
    }

    fn replace_in_lines(&mut self, k: usize, out: &mut Vec<Line>) {
        let mut attempts = 0;
        while out.len() < k && !self.repl_list.is_empty() && attempts < 4 * k + 8 {
            attempts += 1;
            let i = self.rng.below(self.repl_list.len());
            let m = self.repl_list.get(i).copied().unwrap_or(0) as usize;
            let open = self.repl_open[m];
            if open <= 0 {
                self.repl_list.swap_remove(i);
                continue;
            }
            if self.mstamp[m] == self.stamp {
                continue;
            }
            let q = if self.rng.chance(0.7) { open } else { ((open as f64 * self.rng.uniform(0.3, 0.9)) as i64).clamp(1, open) };
            self.mstamp[m] = self.stamp;
            out.push(Line { idx: m as u32, qty: q, explicit: false });
        }
    }

    fn return_lines(&mut self, k: usize, d: NaiveDate, out: &mut Vec<Line>) {
        let mut attempts = 0;
        while out.len() < k && !self.shipped_list.is_empty() && attempts < 4 * k + 8 {
            attempts += 1;
            let p = self.shipped_list.get(self.rng.below(self.shipped_list.len())).copied().unwrap_or(0) as usize;
            if self.pstamp[p] == self.stamp {
                continue;
            }
            let avail = self.shipped[p] - self.returned[p];
            if avail < 1 {
                continue;
            }
            let mut q = ((avail as f64 * self.rng.uniform(0.001, 0.01)) as i64).clamp(1, avail);
            // A return takes its leftovers back: keep what was accrued above what was disposed.
            let v = self.version_at(p, d);
            let Some(ver) = self.ver.get(p).and_then(|vs| vs.get(v)) else { continue };
            for b in ver.bom.iter().filter(|b| b.lo > 0.0) {
                let m = b.m as usize;
                let room = self.lo_acc[m] - self.lo_disp[m] as f64 / 1000.0 - self.pend_lo[m];
                q = q.min((room * 0.9 / (b.lo / 10.0)).max(0.0) as i64);
            }
            if q >= 100 {
                q -= q % 10;
            }
            if q < 1 {
                continue;
            }
            for b in ver.bom.iter().filter(|b| b.lo > 0.0) {
                self.pend_lo[b.m as usize] += q as f64 * b.lo / 10.0;
                self.touched.push(b.m);
            }
            self.pstamp[p] = self.stamp;
            out.push(Line { idx: p as u32, qty: q, explicit: self.rng.chance(0.08) });
        }
    }

    /// Product outflows: the wanted quantity, or as much as the materials in stock allow.
    fn product_lines(&mut self, kind: Kind, k: usize, d: NaiveDate, out: &mut Vec<Line>) {
        let k = k.min(self.n_prod.div_ceil(2));
        let mut attempts = 0;
        while out.len() < k && attempts < 4 * k + 8 {
            attempts += 1;
            let (p, want, min) = match kind {
                Kind::Reship4600 => {
                    if self.returned_list.is_empty() {
                        break;
                    }
                    let i = self.rng.below(self.returned_list.len());
                    let p = self.returned_list.get(i).copied().unwrap_or(0) as usize;
                    let left = self.reship_left[p];
                    if left <= 0 {
                        self.returned_list.swap_remove(i);
                        continue;
                    }
                    let mut q = ((left as f64 * self.rng.uniform(0.3, 1.0)) as i64).clamp(1, left);
                    if q >= 100 {
                        q -= q % 10;
                    }
                    (p, q, 1)
                }
                Kind::DefectiveSale0644 | Kind::DefectiveDestroy0200 => (self.pick_product(), self.rng.range_i(1, 2000), 1),
                Kind::ProductSale0644 => {
                    let p = self.pick_product();
                    (p, (self.export_kg() / 5).max(1) * 10, 10)
                }
                _ => {
                    let p = self.pick_product();
                    (p, self.export_kg() * 10, 10)
                }
            };
            if self.pstamp[p] == self.stamp {
                continue;
            }
            let v = self.version_at(p, d);
            if let Some(q) = self.fit(p, v, want, min) {
                self.pstamp[p] = self.stamp;
                let explicit = self.rng.chance(0.08);
                out.push(Line { idx: p as u32, qty: q, explicit });
            }
        }
    }

    /// The quantity of product `p` (version `v`) that the stock allows, at most `want` and not
    /// below `min` (else `None`); reserves its materials in the list's scratch.
    fn fit(&mut self, p: usize, v: usize, want: i64, min: i64) -> Option<i64> {
        let bom = &self.ver.get(p)?.get(v)?.bom;
        let w = want as i128;
        let ok = bom.iter().all(|b| w * b.ucs <= self.bal[b.m as usize] + self.pend[b.m as usize]);
        let q = if ok {
            want
        } else {
            let mut qmax = w;
            for b in bom {
                if b.ucs > 0 {
                    let avail = (self.bal[b.m as usize] + self.pend[b.m as usize]).max(0);
                    qmax = qmax.min(avail / b.ucs);
                }
            }
            let mut q = (qmax * 9 / 10) as i64;
            if q >= 100 {
                q -= q % 10;
            }
            if q < min {
                return None;
            }
            q
        };
        for b in bom {
            let m = b.m as usize;
            if self.pend[m] == 0 {
                self.touched.push(b.m);
            }
            self.pend[m] -= q as i128 * b.ucs;
        }
        Some(q)
    }

    fn amount(&self, kind: Kind, l: &Line) -> Option<Decimal> {
        let i = l.idx as usize;
        let cents = match kind {
            Kind::Destroy0200 | Kind::DefectiveDestroy0200 | Kind::Leftover0400 => return None,
            Kind::Leftover0844 | Kind::Leftover0864 => (l.qty * (self.mat_price[i] / 10).max(1) + 500) / 1000,
            Kind::DefectiveSale0644 => (l.qty * (self.prod_price[i] * 3 / 10).max(1) + 5) / 10,
            k if k.is_product() => (l.qty * self.prod_price[i] + 5) / 10,
            _ => (l.qty * self.mat_price[i] + 500) / 1000,
        };
        Some(Decimal::new(cents.max(1), 2))
    }

    /// Posts a list built of `lines` to the ledger; on a refusal drops the line named (or the
    /// last) and tries again. Returns the list's canonical text when it posted.
    fn post(&mut self, si: usize, d: NaiveDate, mut lines: Vec<Line>) -> Result<Option<String>> {
        let spec = SPECS.get(si).context("unknown list kind")?;
        let kind = spec.kind;
        let mode = self.modes.get(si).context("unknown list kind")?.clone();
        let origin = matches!(kind, Kind::Import0615 | Kind::Import0715 | Kind::ReplaceIn0700).then(|| self.origins.get(self.rng.below(self.origins.len())).copied()).flatten();
        let counterparty = matches!(kind, Kind::CarryIn0654 | Kind::CarryOut0654 | Kind::SurplusIn0657 | Kind::SurplusOut0657)
            .then(|| COUNTERPARTIES.get(self.rng.below(COUNTERPARTIES.len())).map(|c| (*c).to_owned()))
            .flatten();
        let declared = !matches!(kind, Kind::Destroy0200 | Kind::DefectiveDestroy0200 | Kind::Leftover0400 | Kind::CarryIn0654 | Kind::CarryOut0654 | Kind::SurplusIn0657 | Kind::SurplusOut0657);
        let dir = match spec.dir {
            Direction::I => 'I',
            Direction::E => 'E',
        };
        let list_no = format!("QD520026{dir}{:010}", self.list_seq + 1);
        let declaration_no = declared.then(|| format!("52002026{}{:09}", if spec.dir == Direction::I { 1 } else { 0 }, self.decl_seq + 1));
        loop {
            let doc_lines = lines
                .iter()
                .enumerate()
                .map(|(n, l)| {
                    let version = (kind.is_product() && l.explicit).then(|| self.ver.get(l.idx as usize).and_then(|vs| vs.get(self.version_at(l.idx as usize, d))).map(|v| v.name.clone())).flatten();
                    ListLineDoc {
                        line: n as u32 + 1,
                        item_seq: l.idx + 1,
                        qty: Decimal::new(l.qty, if kind.is_product() { 1 } else { 3 }),
                        amount: self.amount(kind, l),
                        consumption_version: version,
                        origin_country: origin,
                        legal_qty: None,
                        second_legal_qty: None,
                    }
                })
                .collect();
            let doc = ListDoc {
                list_no: list_no.clone(),
                book_no: BOOK_NO.into(),
                declared_on: d,
                direction: spec.dir,
                goods: spec.goods,
                trade_mode: mode.clone(),
                counterparty_book_no: counterparty.clone(),
                declaration_no: declaration_no.clone(),
                lines: doc_lines,
            };
            match self.ledger.post(doc) {
                Ok(posting) => {
                    self.list_seq += 1;
                    if declared {
                        self.decl_seq += 1;
                    }
                    self.apply(kind, &lines, d);
                    self.posted_lines += lines.len() as u64;
                    if let Some(s) = self.stats.get_mut(si) {
                        s.0 += 1;
                        s.1 += lines.len() as u64;
                    }
                    return Ok(Some(posting.canonical));
                }
                Err(r) => {
                    // Not expected (the mirror is exact for everything but leftovers, planned with
                    // a wide margin); counted in the summary.
                    self.repaired += 1;
                    let at = r.line.and_then(|l| (l as usize).checked_sub(1)).filter(|i| *i < lines.len());
                    match at {
                        Some(i) if lines.len() > 1 => {
                            lines.remove(i);
                            self.dropped_lines += 1;
                        }
                        _ => {
                            self.dropped_lines += lines.len() as u64;
                            return Ok(None);
                        }
                    }
                }
            }
        }
    }

    /// Applies a posted list to the mirror.
    fn apply(&mut self, kind: Kind, lines: &[Line], d: NaiveDate) {
        for l in lines {
            let i = l.idx as usize;
            let q = l.qty;
            match kind {
                k if k.is_inflow() => {
                    self.bal[i] += q as i128 * MILLI;
                    self.inflow[i] += q;
                }
                Kind::ReplaceIn0700 => {
                    self.bal[i] += q as i128 * MILLI;
                    self.repl_open[i] -= q;
                }
                Kind::ReplaceOut0700 => {
                    self.bal[i] -= q as i128 * MILLI;
                    if self.repl_open[i] <= 0 {
                        self.repl_list.push(l.idx);
                    }
                    self.repl_open[i] += q;
                }
                k if k.is_material_out() => self.bal[i] -= q as i128 * MILLI,
                k if k.is_leftover() => self.lo_disp[i] += q,
                _ => {
                    let v = self.version_at(i, d);
                    let sign: i128 = if kind == Kind::Return4600 { 1 } else { -1 };
                    if let Some(ver) = self.ver.get(i).and_then(|vs| vs.get(v)) {
                        for b in &ver.bom {
                            let m = b.m as usize;
                            self.bal[m] += sign * q as i128 * b.ucs;
                            self.lo_acc[m] -= sign as f64 * q as f64 / 10.0 * b.lo;
                        }
                    }
                    if kind == Kind::Return4600 {
                        self.returned[i] += q;
                        if self.reship_left[i] <= 0 {
                            self.returned_list.push(l.idx);
                        }
                        self.reship_left[i] += q;
                    } else if kind.ships() {
                        if self.shipped[i] == 0 {
                            self.shipped_list.push(l.idx);
                        }
                        self.shipped[i] += q;
                        if kind == Kind::Reship4600 {
                            self.reship_left[i] -= q;
                        }
                    }
                }
            }
        }
    }

    /// Checks the mirror against the ledger (exactly, for balances) and takes the ledger's
    /// accrued leftovers.
    fn resync(&mut self) -> Result<()> {
        for (m, t) in self.ledger.material_totals().iter().enumerate() {
            let sr = scaled(t.should_remain(), BAL_SCALE).with_context(|| format!("material {}: should-remain {} has too many decimals", m + 1, t.should_remain()))?;
            if self.bal.get(m) != Some(&sr) {
                bail!("internal error: the generator's balance of material {} differs from the ledger's ({})", m + 1, t.should_remain());
            }
            if let Some(lo) = self.lo_acc.get_mut(m) {
                *lo = t.leftover_accrued.to_f64().unwrap_or(*lo);
            }
        }
        Ok(())
    }

    /// Generates and posts every list, writing them to the list files.
    fn lists(&mut self, dir: &Path) -> Result<Sink> {
        let weights: Vec<f64> = SPECS.iter().map(|s| s.share as f64 / s.size.mean()).collect();
        let wsum: f64 = weights.iter().sum();
        let probs: Vec<f64> = weights.iter().map(|w| w / wsum).collect();
        let int_w: Vec<u64> = weights.iter().map(|w| (w * 1000.0).round() as u64).collect();
        let int_total: u64 = int_w.iter().sum();
        let import_i = SPECS.iter().position(|s| s.kind == Kind::Import0615).unwrap_or(0);
        let export_i = SPECS.iter().position(|s| s.kind == Kind::Export0615).unwrap_or(0);
        let mut issued = vec![0u64; SPECS.len()];
        let mut lists_done = 0u64;
        let mut retry_after = vec![0u64; SPECS.len()];
        let retry_gap = (self.n_lines / 2000).max(50);
        let width = ((self.n_lines / (MAX_FILE_LINES as u64 - 100) + 2).to_string().len()).max(3);
        let mut sink = Sink { dir: dir.to_owned(), width, w: None, lines: 0, lists: 0, bytes: 0, files: Vec::new() };
        let mut fails = 0u32;
        let mut next_report = 1u64;
        while self.posted_lines < self.n_lines {
            let posted = self.posted_lines;
            let day = posted * 365 / self.n_lines;
            let d = self.start + Days::new(day);
            // A kind that has fallen two lists behind its share goes next; else a weighted draw.
            let mut chosen = None;
            let mut best = 2.0;
            for (k, p) in probs.iter().enumerate() {
                let deficit = (lists_done + 1) as f64 * p - issued[k] as f64;
                if retry_after[k] <= posted && deficit > best {
                    best = deficit;
                    chosen = Some(k);
                }
            }
            let si = match chosen {
                Some(k) => k,
                None => {
                    let mut x = self.next_below_u64(int_total);
                    let mut pick = import_i;
                    for (k, w) in int_w.iter().enumerate() {
                        if x < *w {
                            pick = k;
                            break;
                        }
                        x -= w;
                    }
                    if retry_after[pick] > posted {
                        if self.rng.chance(0.5) {
                            import_i
                        } else {
                            export_i
                        }
                    } else {
                        pick
                    }
                }
            };
            let spec = SPECS.get(si).context("unknown list kind")?;
            let k = spec.size.sample(&mut self.rng).min((self.n_lines - posted) as usize);
            let lines = self.build(spec.kind, k, d);
            let text = if lines.is_empty() { None } else { self.post(si, d, lines)? };
            let Some(text) = text else {
                retry_after[si] = posted + retry_gap;
                fails += 1;
                if fails > 10_000 {
                    bail!("cannot make any list post on {d} after {posted} lines; the parameters leave nothing to import or export");
                }
                continue;
            };
            fails = 0;
            issued[si] += 1;
            lists_done += 1;
            let n = (self.posted_lines - posted) as usize;
            if sink.push(&text, n)? && sink.files.len() > 1 {
                self.resync()?;
            }
            if self.posted_lines * 10 >= next_report * self.n_lines && next_report < 10 {
                eprintln!("jiamao gen: {}0% ({} lines, {} lists, through {d})", next_report, self.posted_lines, lists_done);
                next_report += 1;
            }
        }
        sink.close()?;
        self.resync()?;
        Ok(sink)
    }

    /// The year-end stocktake: every material's exact should-remain, split into products, work in
    /// process, subcontractors and on hand, with small differences on about one material in seven.
    fn stocktake(&mut self, path: &Path) -> Result<(usize, usize, usize, usize)> {
        let taken_on = date(2026, 12, 31)?;
        let totals = self.ledger.material_totals();
        let mut rem = Vec::with_capacity(totals.len());
        for (m, t) in totals.iter().enumerate() {
            rem.push(scaled(t.should_remain(), BAL_SCALE).with_context(|| format!("material {}: should-remain has too many decimals", m + 1))?);
        }
        self.stamp += 1;
        let mut products = Vec::new();
        let want = (self.n_prod / 50).max(3).min(self.n_prod);
        for _ in 0..want * 3 {
            if products.len() >= want {
                break;
            }
            let p = self.rng.below(self.n_prod);
            if self.pstamp[p] == self.stamp {
                continue;
            }
            self.pstamp[p] = self.stamp;
            let v = self.version_at(p, taken_on);
            let Some(ver) = self.ver.get(p).and_then(|vs| vs.get(v)) else { continue };
            let mut qmax = i128::from(i64::MAX);
            for b in &ver.bom {
                if b.ucs > 0 {
                    qmax = qmax.min(rem.get(b.m as usize).copied().unwrap_or(0).max(0) / 4 / b.ucs);
                }
            }
            let mut q = (qmax as f64 * self.rng.uniform(0.3, 1.0)) as i64;
            if q >= 100 {
                q -= q % 10;
            }
            if q < 1 {
                continue;
            }
            for b in &ver.bom {
                if let Some(r) = rem.get_mut(b.m as usize) {
                    *r -= q as i128 * b.ucs;
                }
            }
            products.push(CountDoc { seq: p as u32 + 1, qty: Decimal::new(q, 1) });
        }
        products.sort_by_key(|c| c.seq);
        let mut wip = Vec::new();
        let mut outsourced = Vec::new();
        let mut materials = Vec::new();
        for (m, r) in rem.iter_mut().enumerate() {
            for (p, list) in [(0.05, &mut wip), (0.01, &mut outsourced)] {
                if *r > 0 && self.rng.chance(p) {
                    let q = floor_qty(*r as f64 / KG * self.rng.uniform(0.02, 0.1));
                    if q >= 1 && q as i128 * MILLI <= *r {
                        *r -= q as i128 * MILLI;
                        list.push(CountDoc { seq: m as u32 + 1, qty: Decimal::new(q, 3) });
                    }
                }
            }
            if *r <= 0 {
                continue;
            }
            let qty = if self.rng.chance(0.15) {
                let base = (*r / MILLI) as i64;
                let delta = ((base as f64 * self.rng.uniform(0.0005, 0.01)) as i64).max(1);
                let q = if self.rng.chance(0.7) { base - delta } else { base + delta };
                if q <= 0 {
                    continue;
                }
                Decimal::new(q, 3)
            } else {
                Decimal::try_from_i128_with_scale(*r, BAL_SCALE).map_err(|e| anyhow::anyhow!("material {}: {e}", m + 1))?.normalize()
            };
            materials.push(CountDoc { seq: m as u32 + 1, qty });
        }
        let counts = (materials.len(), products.len(), wip.len(), outsourced.len());
        let mut doc = StocktakeDoc { book_no: BOOK_NO.into(), taken_on, materials: Vec::new(), products: Vec::new(), wip: Vec::new(), outsourced: Vec::new() };
        let header = serde_json::to_value(&doc)?;
        (doc.materials, doc.products, doc.wip, doc.outsourced) = (materials, products, wip, outsourced);
        let mut w = create(path)?;
        write_object(&mut w, &header, |k, w| match k {
            "materials" => write_items(w, &doc.materials),
            "products" => write_items(w, &doc.products),
            "wip" => write_items(w, &doc.wip),
            "outsourced" => write_items(w, &doc.outsourced),
            _ => Ok(false),
        })?;
        w.flush().with_context(|| format!("cannot write {}", path.display()))?;
        Ok(counts)
    }
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

pub fn run(a: &GenArgs) -> Result<()> {
    let t0 = Instant::now();
    if a.materials < 100 {
        bail!("--materials must be at least 100 (a 单耗 version names up to 60 materials)");
    }
    if a.products < 1 || a.lines < 1 {
        bail!("--products and --lines must be at least 1");
    }
    if a.materials > 999_999 || a.products > 99_999 {
        bail!("at most 999,999 materials and 99,999 products");
    }
    std::fs::create_dir_all(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    remove_stale_lists(&a.out)?;
    let mut rng = Rng::new(a.seed);
    let mut plan = plan_book(&mut rng, a)?;
    let book_path = a.out.join("book.json");
    write_book(&book_path, &mut plan.doc)?;
    let header = book_header(&plan.doc);
    let doc = std::mem::replace(&mut plan.doc, header);
    let consumption_lines = doc.consumption.len();
    let book = Book::from_doc(doc, &Policy::default()).context("the generated book does not validate")?;
    eprintln!("jiamao gen: book written ({} materials, {} products, {consumption_lines} 单耗 lines), {:.1} s", a.materials, a.products, t0.elapsed().as_secs_f64());
    let mut g = Gen::new(rng, BookLedger::new(book), plan, a.lines)?;
    let sink = g.lists(&a.out)?;
    let st_path = a.out.join("stocktake.json");
    let (st_m, st_p, st_w, st_o) = g.stocktake(&st_path)?;

    let lists: usize = sink.files.iter().map(|f| f.1).sum();
    let list_bytes: u64 = sink.files.iter().map(|f| f.3).sum();
    println!("jiamao gen: seed {}, into {}", a.seed, a.out.display());
    println!("  book.json: book {BOOK_NO}, {} materials, {} products, {consumption_lines} 单耗 lines (3 versions per product), {} bytes", a.materials, a.products, file_size(&book_path));
    println!(
        "  {} list files ({} … {}): {lists} lists, {} lines, {list_bytes} bytes",
        sink.files.len(),
        sink.files.first().map_or("", |f| f.0.as_str()),
        sink.files.last().map_or("", |f| f.0.as_str()),
        g.posted_lines
    );
    println!("  stocktake.json: {st_m} materials on hand, {st_p} products, {st_w} wip, {st_o} outsourced, {} bytes", file_size(&st_path));
    println!("  {:<6} {:<3} {:<10} {:<14} {:>9} {:>10}", "mode", "dir", "goods", "kind", "lists", "lines");
    for (s, (n, l)) in SPECS.iter().zip(&g.stats) {
        let goods = match s.goods {
            Goods::Material => "material",
            Goods::Product => "product",
            Goods::Defective => "defective",
        };
        let dir = if s.dir == Direction::I { "I" } else { "E" };
        println!("  {:<6} {:<3} {:<10} {}{} {n:>9} {l:>10}", s.mode, dir, goods, s.label, " ".repeat(14usize.saturating_sub(s.label.chars().count() * 2)));
    }
    println!("  lists repaired by the ledger check: {} ({} lines dropped)", g.repaired, g.dropped_lines);
    println!("  {:.1} s{}", t0.elapsed().as_secs_f64(), peak_rss_mib().map(|m| format!(", peak resident memory {m:.0} MiB")).unwrap_or_default());
    Ok(())
}

/// The book without its items and 单耗 lines.
fn book_header(d: &BookDoc) -> BookDoc {
    BookDoc {
        book_no: d.book_no.clone(),
        book_type: d.book_type,
        trade_mode: d.trade_mode.clone(),
        operator: d.operator.clone(),
        processor: d.processor.clone(),
        master_customs: d.master_customs.clone(),
        zone: d.zone.clone(),
        valid_from: d.valid_from,
        valid_until: d.valid_until,
        quantity_control: d.quantity_control,
        consumption_stage: d.consumption_stage,
        materials: Vec::new(),
        products: Vec::new(),
        consumption: Vec::new(),
    }
}
