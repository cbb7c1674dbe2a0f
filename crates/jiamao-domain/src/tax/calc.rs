//! The tax formulas (RULES.md §8.2), deferred-tax interest (§8.4), the surplus threshold (§7.2),
//! consolidated periods (§9) and the late-payment surcharge (§8.5). Every amount is exact until its
//! named rounding point: each tax of a line is rounded to the fen (half away from zero) where it is
//! computed, and the next tax is computed from the rounded one, as a payment note shows them.

use super::tariff::Rate;
use super::{TaxError, TaxPolicy};
use crate::decimal;
use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The taxes of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Taxes {
    pub duty: Decimal,
    pub consumption_tax: Decimal,
    pub vat: Decimal,
}

impl Taxes {
    pub fn total(&self) -> Decimal {
        self.duty + self.consumption_tax + self.vat
    }
}

fn specific_qty(per: &str, qty: Decimal, unit_name: &str, what: &str) -> Result<Decimal, TaxError> {
    if per == unit_name {
        Ok(qty)
    } else {
        Err(TaxError::new(what, "rate_unit_mismatch", format!("the {what} rate is per {per} but the quantity is in {unit_name}; quote with an explicit rate or a quantity in {per}")))
    }
}

/// 关税 = 完税价格 × rate (ad valorem), qty × amount (specific), or both (compound).
pub fn duty(value: Decimal, qty: Decimal, unit_name: &str, rate: &Rate, policy: &TaxPolicy) -> Result<Decimal, TaxError> {
    let exact = match rate {
        Rate::AdValorem(r) => value * r,
        Rate::Specific { per_unit, unit } => specific_qty(unit, qty, unit_name, "duty")? * per_unit,
        Rate::Compound { ad_valorem, per_unit, unit } => value * ad_valorem + specific_qty(unit, qty, unit_name, "duty")? * per_unit,
        Rate::Other(text) => {
            return Err(TaxError::new("duty_rate", "rate_not_computable", format!("the duty rate \"{text}\" (sliding scale or quota) is not computed by Jiamao; quote with an explicit duty_rate")))
        }
    };
    Ok(decimal::round(exact, policy.tax_dp))
}

/// 消费税: ad valorem (完税价格 + 关税) ÷ (1 − t) × t; specific qty × amount; compound
/// (完税价格 + 关税 + qty × amount) ÷ (1 − t) × t + qty × amount (the composite-price formula).
pub fn consumption_tax(value: Decimal, duty: Decimal, qty: Decimal, unit_name: &str, rate: Option<&Rate>, policy: &TaxPolicy) -> Result<Decimal, TaxError> {
    let composite = |base: Decimal, t: Decimal| -> Result<Decimal, TaxError> {
        if t >= Decimal::ONE {
            return Err(TaxError::new("consumption_tax_rate", "rate_invalid", format!("a consumption tax rate of {} leaves no composite price", decimal::plain(t))));
        }
        // One division, after the multiplication: exact to 28 significant digits before rounding.
        Ok(base * t / (Decimal::ONE - t))
    };
    let exact = match rate {
        None => Decimal::ZERO,
        Some(Rate::AdValorem(t)) => composite(value + duty, *t)?,
        Some(Rate::Specific { per_unit, unit }) => specific_qty(unit, qty, unit_name, "consumption tax")? * per_unit,
        Some(Rate::Compound { ad_valorem, per_unit, unit }) => {
            let s = specific_qty(unit, qty, unit_name, "consumption tax")? * per_unit;
            composite(value + duty + s, *ad_valorem)? + s
        }
        Some(Rate::Other(text)) => {
            return Err(TaxError::new(
                "consumption_tax_rate",
                "rate_not_computable",
                format!("the consumption tax rate \"{text}\" is not computed by Jiamao; quote with an explicit consumption_tax_rate"),
            ));
        }
    };
    Ok(decimal::round(exact, policy.tax_dp))
}

/// 进口环节增值税 = (完税价格 + 关税 + 消费税) × rate.
pub fn vat(value: Decimal, duty: Decimal, consumption_tax: Decimal, rate: &Rate, policy: &TaxPolicy) -> Result<Decimal, TaxError> {
    match rate {
        Rate::AdValorem(v) => Ok(decimal::round((value + duty + consumption_tax) * v, policy.tax_dp)),
        other => Err(TaxError::new("vat_rate", "rate_not_computable", format!("the VAT rate \"{other}\" is not ad valorem"))),
    }
}

/// All three taxes of a line, in order, each from the rounded ones before it.
pub fn taxes(value: Decimal, qty: Decimal, unit_name: &str, duty_rate: &Rate, consumption_rate: Option<&Rate>, vat_rate: &Rate, policy: &TaxPolicy) -> Result<Taxes, TaxError> {
    let d = duty(value, qty, unit_name, duty_rate, policy)?;
    let c = consumption_tax(value, d, qty, unit_name, consumption_rate, policy)?;
    let v = vat(value, d, c, vat_rate, policy)?;
    Ok(Taxes { duty: d, consumption_tax: c, vat: v })
}

/// How the days of an interest period are counted (RULES.md §19: not found; a policy setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    /// end − start (the start day not counted).
    #[default]
    EndMinusStart,
    /// Both ends counted: end − start + 1.
    BothEnds,
}

/// Days of an interest period.
pub fn interest_days(start: NaiveDate, end: NaiveDate, count: DayCount) -> Result<i64, TaxError> {
    if end < start {
        return Err(TaxError::new("payment_note_date", "interest_period_negative", format!("the payment note date {end} is before the interest start {start}")));
    }
    let d = (end - start).num_days();
    Ok(match count {
        DayCount::EndMinusStart => d,
        DayCount::BothEnds => d + 1,
    })
}

/// 缓税利息 = 应征税额 × 计息天数 × 缓税利息率 ÷ 360 (公告2009年第13号), rounded to the fen.
pub fn interest(tax_due: Decimal, days: i64, yearly_rate: Decimal, policy: &TaxPolicy) -> Decimal {
    decimal::round(tax_due * Decimal::from(days) * yearly_rate / Decimal::from(360), policy.tax_dp)
}

/// A period of the interest waiver (RULES.md §8.4): payment notes issued within it owe no interest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterestWaiver {
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub source: String,
}

/// The surplus / defective threshold of RULES.md §7.2: at most 3 % of the contract's actual imported
/// materials **and** at most RMB 10,000 is de minimis (licences exempt; tax and interest still due).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Threshold {
    #[serde(with = "decimal")]
    pub value: Decimal,
    #[serde(with = "decimal")]
    pub imported_value: Decimal,
    /// value ÷ imported value, rounded to 6 places (absent when nothing was imported).
    #[serde(serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub share: Option<Decimal>,
    #[serde(with = "decimal")]
    pub share_limit: Decimal,
    #[serde(with = "decimal")]
    pub amount_limit: Decimal,
    pub de_minimis: bool,
    pub rule: String,
}

pub fn threshold(value: Decimal, imported_value: Decimal, policy: &TaxPolicy) -> Threshold {
    let share = (!imported_value.is_zero()).then(|| value / imported_value);
    let de_minimis = share.is_some_and(|s| s <= policy.surplus_share_limit) && value <= policy.surplus_amount_limit;
    let rule = if de_minimis {
        "de minimis (RULES.md §7.2): within 3 % of the imported materials and RMB 10,000; import licences exempt, tax and interest due".to_owned()
    } else {
        "above the 3 % / RMB 10,000 threshold (RULES.md §7.2): tax and interest on all of it, import licences required".to_owned()
    };
    Threshold { value, imported_value, share: share.map(|s| decimal::round(s, 6)), share_limit: policy.surplus_share_limit, amount_limit: policy.surplus_amount_limit, de_minimis, rule }
}

/// How an enterprise declares domestic-sale tax (RULES.md §8.5, §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Each list on its own: due 15 days after the tax date (the notice).
    PerList,
    /// 内销集中征税 by month: by the 15th of the next month; December's by 31 December.
    Monthly,
    /// By quarter: 15 April, 15 July, 15 October, 31 December (never across a year end).
    Quarterly,
}

impl std::str::FromStr for Schedule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "per_list" => Ok(Schedule::PerList),
            "monthly" => Ok(Schedule::Monthly),
            "quarterly" => Ok(Schedule::Quarterly),
            o => Err(format!("a schedule is per_list, monthly or quarterly, not {o}")),
        }
    }
}

/// A declaration period: the lists dated in [from, to] are declared together, due on `due`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Period {
    /// `2026-05`, `2026Q2`, or the tax date for a single list.
    pub label: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub due: NaiveDate,
}

fn ymd(y: i32, m: u32, d: u32) -> Result<NaiveDate, TaxError> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| TaxError::new("date", "date_out_of_range", format!("{y}-{m}-{d} is not a date")))
}

/// The period of `date` under `schedule`.
pub fn period_of(schedule: Schedule, date: NaiveDate) -> Result<Period, TaxError> {
    let (y, m) = (date.year(), date.month());
    Ok(match schedule {
        Schedule::PerList => Period { label: date.to_string(), from: date, to: date, due: date + Duration::days(15) },
        Schedule::Monthly => {
            let from = ymd(y, m, 1)?;
            let (to, due) = if m == 12 { (ymd(y, 12, 31)?, ymd(y, 12, 31)?) } else { (ymd(y, m + 1, 1)?.pred_opt().unwrap_or(from), ymd(y, m + 1, 15)?) };
            Period { label: format!("{y}-{m:02}"), from, to, due }
        }
        Schedule::Quarterly => {
            let q = (m - 1) / 3 + 1;
            let from = ymd(y, 3 * q - 2, 1)?;
            let to = if q == 4 { ymd(y, 12, 31)? } else { ymd(y, 3 * q + 1, 1)?.pred_opt().unwrap_or(from) };
            let due = if q == 4 { ymd(y, 12, 31)? } else { ymd(y, 3 * q + 1, 15)? };
            Period { label: format!("{y}Q{q}"), from, to, due }
        }
    })
}

/// One payment applied to a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedPayment {
    pub paid_on: NaiveDate,
    #[serde(with = "decimal")]
    pub amount: Decimal,
    /// Days after the due date (0 when on time).
    pub late_days: i64,
    #[serde(with = "decimal")]
    pub surcharge: Decimal,
}

/// What is owed on a period as of a date: payments applied in date order to the tax due, and the
/// surcharge (滞纳金) of each late part, daily from the day after the due date to the payment (or to
/// `as_of` for what is still unpaid): amount × daily rate × days, rounded to the fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settlement {
    pub payments: Vec<AppliedPayment>,
    #[serde(with = "decimal")]
    pub paid: Decimal,
    #[serde(with = "decimal")]
    pub outstanding: Decimal,
    pub late: bool,
    pub outstanding_late_days: i64,
    #[serde(with = "decimal")]
    pub surcharge: Decimal,
}

pub fn settle(
    tax_due: Decimal,
    due: NaiveDate,
    payments: &[(NaiveDate, Decimal)],
    as_of: NaiveDate,
    daily_rate: impl Fn(NaiveDate) -> Result<Decimal, TaxError>,
    policy: &TaxPolicy,
) -> Result<Settlement, TaxError> {
    let mut sorted: Vec<(NaiveDate, Decimal)> = payments.iter().copied().filter(|(d, _)| *d <= as_of).collect();
    sorted.sort();
    let mut left = tax_due;
    let mut applied = Vec::new();
    let mut surcharge_total = Decimal::ZERO;
    let mut paid = Decimal::ZERO;
    for (paid_on, amount) in sorted {
        let toward_tax = amount.min(left.max(Decimal::ZERO));
        let late_days = (paid_on - due).num_days().max(0);
        let surcharge = if late_days > 0 && toward_tax > Decimal::ZERO { decimal::round(toward_tax * daily_rate(paid_on)? * Decimal::from(late_days), policy.tax_dp) } else { Decimal::ZERO };
        left -= toward_tax;
        paid += amount;
        surcharge_total += surcharge;
        applied.push(AppliedPayment { paid_on, amount, late_days, surcharge });
    }
    let outstanding = left.max(Decimal::ZERO);
    let outstanding_late_days = if outstanding > Decimal::ZERO { (as_of - due).num_days().max(0) } else { 0 };
    if outstanding_late_days > 0 {
        surcharge_total += decimal::round(outstanding * daily_rate(as_of)? * Decimal::from(outstanding_late_days), policy.tax_dp);
    }
    let late = outstanding_late_days > 0 || applied.iter().any(|p| p.late_days > 0);
    Ok(Settlement { payments: applied, paid, outstanding, late, outstanding_late_days, surcharge: surcharge_total })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }
    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_and_due_dates() {
        let p = period_of(Schedule::Monthly, day("2026-05-08")).unwrap();
        assert_eq!((p.label.as_str(), p.from, p.to, p.due), ("2026-05", day("2026-05-01"), day("2026-05-31"), day("2026-06-15")));
        assert_eq!(period_of(Schedule::Monthly, day("2026-12-20")).unwrap().due, day("2026-12-31"));
        assert_eq!(period_of(Schedule::Monthly, day("2026-02-03")).unwrap().to, day("2026-02-28"));
        let dues: Vec<_> = ["2026-02-01", "2026-05-01", "2026-09-30", "2026-11-11"].iter().map(|s| period_of(Schedule::Quarterly, day(s)).unwrap().due).collect();
        assert_eq!(dues, vec![day("2026-04-15"), day("2026-07-15"), day("2026-10-15"), day("2026-12-31")]);
        assert_eq!(period_of(Schedule::Quarterly, day("2026-11-11")).unwrap().label, "2026Q4");
        assert_eq!(period_of(Schedule::PerList, day("2026-06-12")).unwrap().due, day("2026-06-27"));
    }

    #[test]
    fn surcharge_runs_from_the_day_after_the_deadline() {
        let p = TaxPolicy::default();
        let rate = |_| Ok(d("0.0005"));
        // 10,000 due 15 June, paid 4,000 on 15 June and 6,000 on 25 June: 10 days late on 6,000 → 30.
        let s = settle(d("10000"), day("2026-06-15"), &[(day("2026-06-15"), d("4000")), (day("2026-06-25"), d("6000"))], day("2026-07-01"), rate, &p).unwrap();
        assert_eq!(s.surcharge, d("30.00"));
        assert_eq!(s.outstanding, Decimal::ZERO);
        assert!(s.late);
        // Unpaid: accrues to the as-of date.
        let s = settle(d("10000"), day("2026-06-15"), &[], day("2026-06-16"), rate, &p).unwrap();
        assert_eq!((s.outstanding_late_days, s.surcharge), (1, d("5.00")));
        let s = settle(d("10000"), day("2026-06-15"), &[], day("2026-06-15"), rate, &p).unwrap();
        assert!(!s.late);
    }
}
