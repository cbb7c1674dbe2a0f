//! Policy settings that the regulations leave open (RULES.md §0: UNCONFIRMED or DERIVED rules are
//! configurable data, never constants buried in code).

/// The base of the difference rate (差异率, RULES.md §5.4 dsmlRate): no source confirms it
/// (RULES.md §5.5, UNCONFIRMED), so it is a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateBase {
    /// difference ÷ should-remain (应剩余).
    ShouldRemain,
    /// difference ÷ (opening + every inflow: imports, carry-ins, surplus carry-ins, replacements in).
    Inflow,
}

impl std::str::FromStr for RateBase {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "should_remain" => Ok(RateBase::ShouldRemain),
            "inflow" => Ok(RateBase::Inflow),
            other => Err(format!("the difference rate base is should_remain or inflow, not {other}")),
        }
    }
}

/// Decimal places of a difference rate (a fraction, rounded half away from zero).
pub const DIFFERENCE_RATE_DP: u32 = 6;

/// Settings of the ledger that are policy, not law.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Decimal places of 单耗 derived from net consumption (FORMAT.md: Jiamao's default 9, since the
    /// official rounding is not confirmed; Golden Customs II vendor schemas hold numeric(19,9), RULES.md §19).
    pub uc_decimal_places: u32,
    /// When set, a report with a stocktake also gives each material's `difference_rate` on this base.
    pub difference_rate_base: Option<RateBase>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { uc_decimal_places: 9, difference_rate_base: None }
    }
}
