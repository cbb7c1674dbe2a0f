//! Policy settings that the regulations leave open (RULES.md §0: UNCONFIRMED or DERIVED rules are
//! configurable data, never constants buried in code).

/// Settings of the ledger that are policy, not law.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Decimal places of 单耗 derived from net consumption (FORMAT.md: Jiamao's default 9, since the
    /// official rounding is not confirmed; Golden Customs II vendor schemas hold numeric(19,9), RULES.md §19).
    pub uc_decimal_places: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { uc_decimal_places: 9 }
    }
}
