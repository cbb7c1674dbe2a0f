//! Enterprise credit classes (分类管理 → 信用管理, RULES.md §12, §19): the schemes as dated data, each
//! class mapped to a tier, and the effects of each tier as a policy table.
//!
//! Schemes: Decree 170 (2008-04-01, AA–D); Decree 225 (2014-12-01) and 237 (2018-05-01): 高级认证,
//! 一般认证, 一般信用, 失信; Decree 251 (2021-11-01): 高级认证, 失信 and the others (called 一般信用 here);
//! Decree 282 (2026-04-01, reported, verify): 高级认证企业, 认证企业, 常规企业, 失信企业, 严重失信企业.
//! The mapping of the old letters to the later classes (AA→高级认证 …) is UNCONFIRMED standard practice.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What a class means for supervision, across schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// 高级认证 (AA).
    Advanced,
    /// 一般认证 / 认证企业 (A).
    Certified,
    /// 一般信用 / 常规企业 (B).
    General,
    /// 失信 (C).
    Untrustworthy,
    /// 严重失信 (D; Decree 282).
    SeverelyUntrustworthy,
}

/// A credit scheme: its decree, from when, and its classes with their tiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    pub decree: &'static str,
    pub from: NaiveDate,
    pub classes: &'static [(&'static str, Tier)],
    pub source: &'static str,
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// The schemes, oldest first (RULES.md §12, §19).
pub fn schemes() -> Vec<Scheme> {
    vec![
        Scheme {
            decree: "170",
            from: day(2008, 4, 1),
            classes: &[("AA", Tier::Advanced), ("A", Tier::Certified), ("B", Tier::General), ("C", Tier::Untrustworthy), ("D", Tier::SeverelyUntrustworthy)],
            source: "Decree 170 (RULES.md §12)",
        },
        Scheme {
            decree: "225",
            from: day(2014, 12, 1),
            classes: &[("高级认证", Tier::Advanced), ("一般认证", Tier::Certified), ("一般信用", Tier::General), ("失信", Tier::Untrustworthy)],
            source: "Decree 225 (RULES.md §12)",
        },
        Scheme {
            decree: "237",
            from: day(2018, 5, 1),
            classes: &[("高级认证", Tier::Advanced), ("一般认证", Tier::Certified), ("一般信用", Tier::General), ("失信", Tier::Untrustworthy)],
            source: "Decree 237 (RULES.md §12)",
        },
        Scheme {
            decree: "251",
            from: day(2021, 11, 1),
            classes: &[("高级认证", Tier::Advanced), ("一般信用", Tier::General), ("失信", Tier::Untrustworthy)],
            source: "Decree 251 (RULES.md §12, §19; date to verify)",
        },
        Scheme {
            decree: "282",
            from: day(2026, 4, 1),
            classes: &[("高级认证企业", Tier::Advanced), ("认证企业", Tier::Certified), ("常规企业", Tier::General), ("失信企业", Tier::Untrustworthy), ("严重失信企业", Tier::SeverelyUntrustworthy)],
            source: "Decree 282 (RULES.md §19: reported, verify)",
        },
    ]
}

/// The scheme in force on a date.
pub fn scheme_on(date: NaiveDate) -> Option<Scheme> {
    schemes().into_iter().rev().find(|s| s.from <= date)
}

/// The tier of a class name in the scheme in force on `date` (a class of another scheme is refused,
/// naming the classes that are valid then).
pub fn tier_of(class: &str, date: NaiveDate) -> Result<(Scheme, Tier), String> {
    let scheme = scheme_on(date).ok_or_else(|| format!("no credit scheme before {}", day(2008, 4, 1)))?;
    match scheme.classes.iter().find(|(c, _)| *c == class) {
        Some((_, t)) => {
            let t = *t;
            Ok((scheme, t))
        }
        None => Err(format!("{class:?} is not a class of Decree {} (in force on {date}); its classes: {}", scheme.decree, scheme.classes.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", "))),
    }
}

/// What a tier allows: the policy table (sourced where RULES.md gives a source, else a setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Effects {
    /// Processing trade allowed (D banned, RULES.md §11.2).
    pub processing_trade: bool,
    /// Outward processing (出境加工) needs 一般信用 or better (RULES.md §6.4).
    pub outward_processing: bool,
    /// Self-verified 单耗 (企业自核单耗): eligibility UNCONFIRMED (RULES.md §4.8) — policy: certified or better.
    pub self_verification: bool,
}

pub fn effects(tier: Tier) -> Effects {
    match tier {
        Tier::Advanced | Tier::Certified => Effects { processing_trade: true, outward_processing: true, self_verification: true },
        Tier::General => Effects { processing_trade: true, outward_processing: true, self_verification: false },
        Tier::Untrustworthy => Effects { processing_trade: true, outward_processing: false, self_verification: false },
        Tier::SeverelyUntrustworthy => Effects { processing_trade: false, outward_processing: false, self_verification: false },
    }
}

/// One entry of an enterprise's credit history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditEntry {
    pub class: String,
    #[serde(deserialize_with = "crate::date::deserialize")]
    pub from: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
}

/// The class in force on `date` from a history (the latest entry from on or before the date).
pub fn in_force(history: &[CreditEntry], date: NaiveDate) -> Option<&CreditEntry> {
    history.iter().filter(|e| e.from <= date).max_by_key(|e| e.from)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn classes_belong_to_their_scheme() {
        assert_eq!(tier_of("B", day(2010, 1, 1)).unwrap().1, Tier::General);
        assert!(tier_of("B", day(2019, 1, 1)).is_err(), "letters ended with Decree 225");
        assert_eq!(tier_of("一般认证", day(2019, 1, 1)).unwrap().1, Tier::Certified);
        assert!(tier_of("一般认证", day(2022, 1, 1)).is_err(), "abolished by Decree 251");
        assert_eq!(tier_of("常规企业", day(2026, 6, 1)).unwrap().0.decree, "282");
        assert!(!effects(Tier::SeverelyUntrustworthy).processing_trade);
    }

    #[test]
    fn history_in_force() {
        let h = vec![CreditEntry { class: "一般信用".into(), from: day(2019, 1, 1), decision: None }, CreditEntry { class: "高级认证".into(), from: day(2020, 6, 1), decision: None }];
        assert_eq!(in_force(&h, day(2020, 5, 31)).unwrap().class, "一般信用");
        assert_eq!(in_force(&h, day(2020, 6, 1)).unwrap().class, "高级认证");
        assert!(in_force(&h, day(2018, 1, 1)).is_none());
    }
}
