//! How each trade mode (监管方式) posts: the effect table of FORMAT.md, and its rejection rules.

use crate::book::{Book, Family};
use crate::doc::{Direction, Goods};

/// What one list line does to the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Movement {
    /// 料件进口 (0615 / 0214 / 0715 I material).
    MaterialImport,
    /// 深加工结转 in (0654 / 0255 I material).
    MaterialCarryIn,
    /// 余料结转 in (0657 / 0258 I material).
    SurplusIn,
    /// 余料结转 out (0657 / 0258 E material).
    SurplusOut,
    /// 料件内销 (0644 / 0245, zone 0544 / 0545 E material).
    MaterialDomesticSale,
    /// 料件复出 (0664 / 0265).
    ReExport,
    /// 料件退换 out (0700 / 0300 E).
    ReplacedOut,
    /// 料件退换 in (0700 / 0300 I).
    ReplacedIn,
    /// 边角料内销 / 复出 / 销毁 (0844 0845 0864 0865 0400): no effect on the balance.
    LeftoverDisposal,
    /// 料件销毁 (0200 E material).
    MaterialDestroyed,
    /// 成品出口 (0615 / 0214 E product).
    ProductExport,
    /// 深加工结转 out (0654 / 0255 E product).
    ProductCarryOut,
    /// 成品/残次品内销 (0644 / 0245, zone 0544 / 0545 / 0444 / 0445).
    ProductDomesticSale,
    /// 成品退换 in: a returned product (4600 / 4400 I).
    ProductReturn,
    /// 成品退换 out: the returned product shipped again (4600 / 4400 E).
    ProductReship,
    /// 残次品销毁, converted to materials through 单耗 (0200 E defective).
    DefectiveDestroyed,
}

impl Movement {
    /// Every movement, in a fixed order (an index for dense tables).
    pub const ALL: [Movement; 16] = [
        Movement::MaterialImport,
        Movement::MaterialCarryIn,
        Movement::SurplusIn,
        Movement::SurplusOut,
        Movement::MaterialDomesticSale,
        Movement::ReExport,
        Movement::ReplacedOut,
        Movement::ReplacedIn,
        Movement::LeftoverDisposal,
        Movement::MaterialDestroyed,
        Movement::ProductExport,
        Movement::ProductCarryOut,
        Movement::ProductDomesticSale,
        Movement::ProductReturn,
        Movement::ProductReship,
        Movement::DefectiveDestroyed,
    ];

    /// This movement's position in [`Movement::ALL`].
    pub fn index(self) -> usize {
        Movement::ALL.iter().position(|m| *m == self).unwrap_or(0)
    }

    /// Whether the line's item is a product (so its effect on materials goes through 单耗).
    pub fn through_consumption(self) -> bool {
        matches!(self, Movement::ProductExport | Movement::ProductCarryOut | Movement::ProductDomesticSale | Movement::ProductReturn | Movement::ProductReship | Movement::DefectiveDestroyed)
    }

    /// Whether a counterparty book is required (carry-overs).
    pub fn needs_counterparty(self) -> bool {
        matches!(self, Movement::MaterialCarryIn | Movement::ProductCarryOut | Movement::SurplusIn | Movement::SurplusOut)
    }
}

/// The 报核 figure of a material that a movement changes (FORMAT.md effect table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialFigure {
    Imported,
    CarriedIn,
    SurplusIn,
    ReplacedIn,
    Consumed,
    DomesticSold,
    ReExported,
    ReplacedOut,
    SurplusOut,
    Destroyed,
    LeftoverDisposed,
}

impl MaterialFigure {
    /// Every figure, in declaration order (so `figure as usize` indexes it).
    pub const ALL: [MaterialFigure; 11] = [
        MaterialFigure::Imported,
        MaterialFigure::CarriedIn,
        MaterialFigure::SurplusIn,
        MaterialFigure::ReplacedIn,
        MaterialFigure::Consumed,
        MaterialFigure::DomesticSold,
        MaterialFigure::ReExported,
        MaterialFigure::ReplacedOut,
        MaterialFigure::SurplusOut,
        MaterialFigure::Destroyed,
        MaterialFigure::LeftoverDisposed,
    ];

    /// The figure's field name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            MaterialFigure::Imported => "imported",
            MaterialFigure::CarriedIn => "carried_in",
            MaterialFigure::SurplusIn => "surplus_in",
            MaterialFigure::ReplacedIn => "replaced_in",
            MaterialFigure::Consumed => "consumed",
            MaterialFigure::DomesticSold => "domestic_sold",
            MaterialFigure::ReExported => "re_exported",
            MaterialFigure::ReplacedOut => "replaced_out",
            MaterialFigure::SurplusOut => "surplus_out",
            MaterialFigure::Destroyed => "destroyed",
            MaterialFigure::LeftoverDisposed => "leftover_disposed",
        }
    }
}

impl Movement {
    /// The material figure this movement changes, and whether it adds (`true`) or takes back.
    /// For product movements the quantity is converted through 单耗 first.
    pub fn material_figure(self) -> (MaterialFigure, bool) {
        use MaterialFigure as F;
        match self {
            Movement::MaterialImport => (F::Imported, true),
            Movement::MaterialCarryIn => (F::CarriedIn, true),
            Movement::SurplusIn => (F::SurplusIn, true),
            Movement::SurplusOut => (F::SurplusOut, true),
            Movement::MaterialDomesticSale | Movement::ProductDomesticSale => (F::DomesticSold, true),
            Movement::ReExport => (F::ReExported, true),
            Movement::ReplacedOut => (F::ReplacedOut, true),
            Movement::ReplacedIn => (F::ReplacedIn, true),
            Movement::LeftoverDisposal => (F::LeftoverDisposed, true),
            Movement::MaterialDestroyed | Movement::DefectiveDestroyed => (F::Destroyed, true),
            Movement::ProductExport | Movement::ProductCarryOut | Movement::ProductReship => (F::Consumed, true),
            Movement::ProductReturn => (F::Consumed, false),
        }
    }

    /// For product movements, which product figure they count in: 0 exported, 1 carried out,
    /// 2 domestic sale, 3 returned, 4 re-shipped, 5 destroyed (the order of `ProductTotals`).
    pub fn product_figure(self) -> usize {
        match self {
            Movement::ProductExport => 0,
            Movement::ProductCarryOut => 1,
            Movement::ProductDomesticSale => 2,
            Movement::ProductReturn => 3,
            Movement::ProductReship => 4,
            _ => 5,
        }
    }

    /// Whether a priced material inflow counts toward the weighted average price.
    pub fn is_priced_inflow(self) -> bool {
        matches!(self, Movement::MaterialImport | Movement::MaterialCarryIn | Movement::SurplusIn)
    }
}

/// A trade-mode rejection: the rule and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeError {
    pub rule: &'static str,
    pub message: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ModeFamily {
    Consigned,
    Purchased,
    Both,
}

/// The supported trade modes: (code, family, zone-only).
const MODES: &[(&str, ModeFamily, bool)] = &[
    ("0214", ModeFamily::Consigned, false),
    ("0245", ModeFamily::Consigned, false),
    ("0255", ModeFamily::Consigned, false),
    ("0258", ModeFamily::Consigned, false),
    ("0265", ModeFamily::Consigned, false),
    ("0300", ModeFamily::Consigned, false),
    ("0845", ModeFamily::Consigned, false),
    ("0865", ModeFamily::Consigned, false),
    ("0445", ModeFamily::Consigned, true),
    ("0545", ModeFamily::Consigned, true),
    ("4400", ModeFamily::Consigned, false),
    ("0615", ModeFamily::Purchased, false),
    ("0715", ModeFamily::Purchased, false),
    ("0644", ModeFamily::Purchased, false),
    ("0654", ModeFamily::Purchased, false),
    ("0657", ModeFamily::Purchased, false),
    ("0664", ModeFamily::Purchased, false),
    ("0700", ModeFamily::Purchased, false),
    ("0844", ModeFamily::Purchased, false),
    ("0864", ModeFamily::Purchased, false),
    ("0444", ModeFamily::Purchased, true),
    ("0544", ModeFamily::Purchased, true),
    ("4600", ModeFamily::Purchased, false),
    ("0200", ModeFamily::Both, false),
    ("0400", ModeFamily::Both, false),
];

/// Classifies a list's (trade mode, direction, goods) on `book` (FORMAT.md effect table).
pub fn classify(book: &Book, mode: &str, dir: Direction, goods: Goods) -> Result<Movement, ModeError> {
    use Direction::{E, I};
    use Goods::{Defective, Material, Product};
    use Movement::*;
    let Some(&(_, family, zone_only)) = MODES.iter().find(|(c, _, _)| *c == mode) else {
        return Err(ModeError { rule: "trade_mode_unsupported", message: format!("trade mode {mode} is not supported on processing-trade books (FORMAT.md effect table)") });
    };
    let fits = match family {
        ModeFamily::Both => true,
        ModeFamily::Consigned => book.family == Family::Consigned,
        ModeFamily::Purchased => book.family == Family::Purchased,
    };
    if !fits {
        return Err(ModeError { rule: "trade_mode_family", message: format!("trade mode {mode} belongs to the other family: book {} is {}", book.book_no, book.family.name()) });
    }
    if zone_only && book.zone.is_none() {
        return Err(ModeError { rule: "trade_mode_zone", message: format!("trade mode {mode} is for books in a special customs supervision zone; book {} has no zone", book.book_no) });
    }
    let m = match (mode, dir, goods) {
        ("0615" | "0214" | "0715", I, Material) => MaterialImport,
        ("0615" | "0214", E, Product) => ProductExport,
        ("0654" | "0255", I, Material) => MaterialCarryIn,
        ("0654" | "0255", E, Product) => ProductCarryOut,
        ("0657" | "0258", I, Material) => SurplusIn,
        ("0657" | "0258", E, Material) => SurplusOut,
        ("0644" | "0245" | "0544" | "0545", E, Material) => MaterialDomesticSale,
        ("0644" | "0245" | "0544" | "0545" | "0444" | "0445", E, Product | Defective) => ProductDomesticSale,
        ("0664" | "0265", E, Material) => ReExport,
        ("0700" | "0300", E, Material) => ReplacedOut,
        ("0700" | "0300", I, Material) => ReplacedIn,
        ("4600" | "4400", I, Product) => ProductReturn,
        ("4600" | "4400", E, Product) => ProductReship,
        ("0844" | "0845" | "0864" | "0865" | "0400", E, Material) => LeftoverDisposal,
        ("0200", E, Material) => MaterialDestroyed,
        ("0200", E, Defective) => DefectiveDestroyed,
        _ => {
            let d = match dir {
                I => "in (I)",
                E => "out (E)",
            };
            let g = match goods {
                Material => "material",
                Product => "product",
                Defective => "defective",
            };
            return Err(ModeError { rule: "trade_mode_goods", message: format!("trade mode {mode} does not move {g} goods {d} (FORMAT.md effect table)") });
        }
    };
    Ok(m)
}
