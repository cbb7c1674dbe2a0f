//! Domestic-sale taxation (内销征税, RULES.md §7–§10): the tariff and dated rates as data, valuation,
//! the tax formulas, deferred-tax interest, consolidated periods and the surcharge, and the quote.

pub mod calc;
pub mod quote;
pub mod rates;
pub mod tariff;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a quote cannot be given: what is missing or wrong, where, and the rule. Never a silent zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxError {
    /// Where (`items[2].item_seq`, `exchange`, `hs_code`).
    pub at: String,
    pub rule: &'static str,
    pub message: String,
}

impl TaxError {
    pub fn new(at: impl Into<String>, rule: &'static str, message: impl Into<String>) -> Self {
        TaxError { at: at.into(), rule, message: message.into() }
    }

    /// The same error located under `prefix` (`lines[3]`).
    pub fn at(mut self, prefix: &str) -> Self {
        self.at = if self.at.is_empty() { prefix.to_owned() } else { format!("{prefix}.{}", self.at) };
        self
    }
}

impl std::error::Error for TaxError {}

impl fmt::Display for TaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (rule {})", self.at, self.message, self.rule)
    }
}

/// Settings of taxation that the regulations leave open (RULES.md §8.3, §8.4, §19: UNCONFIRMED).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaxPolicy {
    /// Decimal places of the customs value (计税价格): 2, to the fen (RULES.md §19; "to the yuan" is a
    /// pre-2005 rule).
    pub value_dp: u32,
    /// Decimal places of each tax and of interest: 2, to the fen.
    pub tax_dp: u32,
    pub day_count: calc::DayCount,
    pub exchange_rule: rates::ExchangeRule,
    /// Payment notes issued in these periods owe no deferred-tax interest.
    pub interest_waivers: Vec<calc::InterestWaiver>,
    /// The surplus / defective threshold (RULES.md §7.2).
    #[serde(with = "crate::decimal")]
    pub surplus_share_limit: Decimal,
    #[serde(with = "crate::decimal")]
    pub surplus_amount_limit: Decimal,
}

impl Default for TaxPolicy {
    fn default() -> Self {
        TaxPolicy {
            value_dp: 2,
            tax_dp: 2,
            day_count: calc::DayCount::EndMinusStart,
            exchange_rule: rates::ExchangeRule::InForce,
            interest_waivers: vec![calc::InterestWaiver {
                from: NaiveDate::from_ymd_opt(2020, 4, 15).unwrap_or_default(),
                until: NaiveDate::from_ymd_opt(2020, 12, 31).unwrap_or_default(),
                source: "2020 waiver of deferred-tax interest (RULES.md §8.4)".to_owned(),
            }],
            surplus_share_limit: Decimal::new(3, 2),
            surplus_amount_limit: Decimal::from(10_000),
        }
    }
}
