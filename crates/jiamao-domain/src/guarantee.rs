//! The guarantee a book owes for its restricted items (RULES.md §11): the 2007 formulas, the 2015
//! matrix, and the 2018 change from the bank deposit ledger (银行保证金台账) to customs guarantees
//! (海关事务担保, cash or a letter of guarantee valid to the book's expiry + 80 days).
//!
//! Which rules apply is dated policy data ([`regime_on`]), decided by the book's `valid_from` (the
//! contract's date stands for the filing date, which the book document does not carry).

use crate::credit::Tier;
use crate::decimal;
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// How the amount is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// 商务部 海关总署公告2007年第44号 (from 2007-08-23).
    Formula2007,
    /// 商务部 海关总署公告2015年第63号 (from 2015-12-01, the date of the repost RULES.md cites: verify).
    Matrix2015,
}

/// How it is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holding {
    /// 银行保证金台账 (until 2018-02-01).
    BankDepositLedger,
    /// 海关事务担保 (from 2018-02-02, 公告2017年第62号): cash deposit or letter of guarantee.
    CustomsGuarantee,
}

/// The dated regime: (method, holding, sources).
pub fn regime_on(date: NaiveDate) -> Option<(Method, Holding, &'static str)> {
    let method = if date >= day(2015, 12, 1) {
        Method::Matrix2015
    } else if date >= day(2007, 8, 23) {
        Method::Formula2007
    } else {
        return None;
    };
    let holding = if date >= day(2018, 2, 2) { Holding::CustomsGuarantee } else { Holding::BankDepositLedger };
    let source = match (method, holding) {
        (Method::Formula2007, _) => "商务部 海关总署公告2007年第44号 (RULES.md §11.3)",
        (Method::Matrix2015, Holding::BankDepositLedger) => "商务部 海关总署公告2015年第63号 (RULES.md §11.5)",
        (Method::Matrix2015, Holding::CustomsGuarantee) => "公告2015年第63号 amounts as customs guarantees, 公告2017年第62号 / 2018年第18号 (RULES.md §11.5–11.6)",
    };
    Some((method, holding, source))
}

/// A letter of guarantee runs to the book's expiry + 80 days (公告2018年第18号).
pub fn letter_valid_until(book_valid_until: NaiveDate) -> NaiveDate {
    book_valid_until + Duration::days(80)
}

/// A restricted imported material of a book, valued (CNY): the base is duty + import VAT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestrictedMaterial {
    pub seq: u32,
    pub hs_code: String,
    /// Managed 实转 (the 81 codes of 2015年第63号).
    pub shizhuan: bool,
    #[serde(with = "decimal")]
    pub value: Decimal,
    #[serde(with = "decimal")]
    pub duty: Decimal,
    #[serde(with = "decimal")]
    pub vat: Decimal,
    /// The catalog entry that restricts it (announcement).
    pub basis: String,
}

/// The 2007 restricted-export inputs: bonded imports, restricted-export and all products (values),
/// and the composite tax rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestrictedExport {
    #[serde(with = "decimal")]
    pub bonded_imports: Decimal,
    #[serde(with = "decimal")]
    pub restricted_products: Decimal,
    #[serde(with = "decimal")]
    pub all_products: Decimal,
    #[serde(with = "decimal")]
    pub composite_rate: Decimal,
}

/// Everything the amount depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    pub tier: Tier,
    /// Both the operating and the processing enterprise are in central/western China (RULES.md §11.5 (2)).
    pub both_central_west: bool,
    /// The book belongs to a special supervision zone (deposit rules do not apply there).
    pub zone: bool,
    pub materials: Vec<RestrictedMaterial>,
    pub export: Option<RestrictedExport>,
}

/// One line of the amount: what, its base, the share and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub what: String,
    #[serde(with = "decimal")]
    pub base: Decimal,
    #[serde(with = "decimal")]
    pub share: Decimal,
    #[serde(with = "decimal")]
    pub amount: Decimal,
    pub rule: String,
}

/// The amount required, with its lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Required {
    pub method: Method,
    #[serde(with = "decimal")]
    pub amount: Decimal,
    pub lines: Vec<Line>,
    /// Processing trade not allowed at all for this tier (the amount is then moot).
    pub not_allowed: bool,
}

fn half() -> Decimal {
    Decimal::new(5, 1)
}

/// The amount under `method`; each line rounded to the fen (half away from zero).
pub fn required(method: Method, i: &Inputs) -> Required {
    let mut lines = Vec::new();
    let not_allowed = i.tier == Tier::SeverelyUntrustworthy && method == Method::Formula2007;
    if i.zone {
        return Required {
            method,
            amount: Decimal::ZERO,
            lines: vec![Line {
                what: "zone book".into(),
                base: Decimal::ZERO,
                share: Decimal::ZERO,
                amount: Decimal::ZERO,
                rule: "deposit rules do not apply in special supervision zones (2015年第63号 point 4)".into(),
            }],
            not_allowed,
        };
    }
    let untrustworthy = matches!(i.tier, Tier::Untrustworthy | Tier::SeverelyUntrustworthy);
    for m in &i.materials {
        let base = m.duty + m.vat;
        let (share, rule) = match method {
            Method::Matrix2015 if untrustworthy => (Decimal::ONE, "失信: 100 % on any restricted item (2015年第63号 (3))".to_owned()),
            Method::Matrix2015 if i.both_central_west => (Decimal::ZERO, "operating and processing enterprises both central/western: 空转 (2015年第63号 (2))".to_owned()),
            Method::Matrix2015 if m.shizhuan && i.tier == Tier::General => (half(), "实转 code, 一般信用 in the east: 50 % of duty + VAT (2015年第63号 (1))".to_owned()),
            Method::Matrix2015 if m.shizhuan => (Decimal::ZERO, "实转 code, certified: 空转 (2015年第63号 (1))".to_owned()),
            Method::Matrix2015 => (Decimal::ZERO, "restricted code outside the 81 实转: 空转 for non-失信 (2015年第63号 (1))".to_owned()),
            Method::Formula2007 if untrustworthy => (Decimal::ONE, "C: 100 % (2007年第44号)".to_owned()),
            Method::Formula2007 => (half(), "A/B: 50 % of duty + VAT of restricted imports (2007年第44号)".to_owned()),
        };
        lines.push(Line { what: format!("material {} ({})", m.seq, m.hs_code), base, share, amount: decimal::round(base * share, 2), rule: format!("{rule}; restricted by {}", m.basis) });
    }
    if let Some(e) = &i.export {
        // Only when no restricted import decides it (both: the import formula, 2007年第44号).
        if i.materials.is_empty() && !e.all_products.is_zero() {
            let base = e.bonded_imports * e.restricted_products / e.all_products * e.composite_rate;
            let (share, rule) = match (method, untrustworthy) {
                (_, true) => (Decimal::ONE, "失信 / C: 100 %"),
                (Method::Formula2007, false) => (half(), "A/B: 50 % (2007年第44号 restricted-export formula)"),
                (Method::Matrix2015, false) => (Decimal::ZERO, "restricted export outside the 实转 codes: 空转 (2015年第63号)"),
            };
            lines.push(Line { what: "restricted-export products".into(), base: decimal::round(base, 2), share, amount: decimal::round(base * share, 2), rule: rule.into() });
        }
    }
    let amount = lines.iter().map(|l| l.amount).sum();
    Required { method, amount, lines, not_allowed }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    /// RULES.md §17 C: CIF 1,000,000, duty 10 %, VAT 13 % → base 243,000.
    fn example_c(tier: Tier, both_central_west: bool, shizhuan: bool) -> Decimal {
        let m = RestrictedMaterial { seq: 1, hs_code: "7403111111".into(), shizhuan, value: d("1000000"), duty: d("100000"), vat: d("143000"), basis: "test".into() };
        required(Method::Matrix2015, &Inputs { tier, both_central_west, zone: false, materials: vec![m], export: None }).amount
    }

    #[test]
    fn worked_example_c() {
        assert_eq!(example_c(Tier::General, false, true), d("121500"), "east 一般信用");
        assert_eq!(example_c(Tier::Advanced, false, true), Decimal::ZERO, "east 高级认证");
        assert_eq!(example_c(Tier::Certified, false, true), Decimal::ZERO, "east 一般认证");
        assert_eq!(example_c(Tier::General, true, true), Decimal::ZERO, "both central/western, 一般信用");
        assert_eq!(example_c(Tier::Untrustworthy, true, true), d("243000"), "失信 anywhere");
        assert_eq!(example_c(Tier::Untrustworthy, false, false), d("243000"), "失信, any restricted code");
        assert_eq!(example_c(Tier::General, false, false), Decimal::ZERO, "other 370 codes, non-失信");
    }

    #[test]
    fn worked_example_d() {
        // 2,000,000 × (300,000 / 1,500,000) × 24.3 % × 50 % = 48,600 (A/B).
        let e = RestrictedExport { bonded_imports: d("2000000"), restricted_products: d("300000"), all_products: d("1500000"), composite_rate: d("0.243") };
        let r = required(Method::Formula2007, &Inputs { tier: Tier::Certified, both_central_west: false, zone: false, materials: vec![], export: Some(e) });
        assert_eq!(r.amount, d("48600"));
    }

    #[test]
    fn regimes_by_date() {
        assert_eq!(regime_on(day(2010, 1, 1)).unwrap().0, Method::Formula2007);
        assert_eq!(regime_on(day(2017, 1, 1)).unwrap().1, Holding::BankDepositLedger);
        assert_eq!(regime_on(day(2018, 2, 2)).unwrap().1, Holding::CustomsGuarantee);
        assert!(regime_on(day(2006, 1, 1)).is_none());
        assert_eq!(letter_valid_until(day(2026, 12, 31)), day(2027, 3, 21));
        let zone = required(Method::Matrix2015, &Inputs { tier: Tier::Untrustworthy, both_central_west: false, zone: true, materials: vec![], export: None });
        assert_eq!(zone.amount, Decimal::ZERO);
    }
}
