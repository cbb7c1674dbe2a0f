//! Dated rates (FORMAT.md `jiamao rates load`): exchange rates by currency, the deferred-tax interest
//! rate (缓税利息率) and the late-payment surcharge rate (滞纳金), each valid from a date until the next
//! one of the same kind and key.
//!
//! The file is CSV with a header `kind,key,rate,valid_from` (an optional fifth column `source`):
//! `exchange,502,7.1030,2026-06-01` (CNY per unit of the currency), `deferred_interest,,0.0035,2012-07-06`
//! (a yearly fraction), `late_surcharge,,0.0005,2001-01-01` (a daily fraction).

use super::TaxError;
use crate::codes::CurrencyCode;
use crate::decimal;
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a dated rate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateKind {
    /// CNY per unit of a currency (计征汇率); key: the currency code.
    Exchange,
    /// 缓税利息率, a yearly fraction; no key.
    DeferredInterest,
    /// 滞纳金, a daily fraction; no key.
    LateSurcharge,
}

impl RateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RateKind::Exchange => "exchange",
            RateKind::DeferredInterest => "deferred_interest",
            RateKind::LateSurcharge => "late_surcharge",
        }
    }
    fn parse(s: &str) -> Option<RateKind> {
        [RateKind::Exchange, RateKind::DeferredInterest, RateKind::LateSurcharge].into_iter().find(|k| k.as_str() == s)
    }
}

/// One dated rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatedRate {
    pub kind: RateKind,
    #[serde(default)]
    pub key: String,
    #[serde(with = "decimal")]
    pub rate: Decimal,
    pub valid_from: NaiveDate,
    #[serde(default)]
    pub source: String,
}

/// Reads a rates file; every problem is listed with its line number, and a file with any problem is
/// refused whole.
pub fn parse_rates_csv(text: &str, file: &str) -> Result<Vec<DatedRate>, Vec<String>> {
    let mut problems = Vec::new();
    let mut out: Vec<DatedRate> = Vec::new();
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    match lines.next() {
        Some((_, h)) if h.trim().trim_start_matches('\u{feff}').starts_with("kind,key,rate,valid_from") => {}
        _ => return Err(vec![format!("{file}: the first line must be the header kind,key,rate,valid_from[,source]")]),
    }
    let mut seen: BTreeMap<(RateKind, String, NaiveDate), usize> = BTreeMap::new();
    for (i, line) in lines {
        let n = i + 1;
        let cells: Vec<&str> = line.splitn(5, ',').map(str::trim).collect();
        if cells.len() < 4 {
            problems.push(format!("{file}:{n}: expected kind,key,rate,valid_from"));
            continue;
        }
        let Some(kind) = RateKind::parse(cells[0]) else {
            problems.push(format!("{file}:{n}: unknown kind \"{}\" (exchange, deferred_interest or late_surcharge)", cells[0]));
            continue;
        };
        let key = cells[1].to_owned();
        let key_problem = match kind {
            RateKind::Exchange if CurrencyCode::parse(&key).is_err() => Some(format!("\"{key}\" is not a customs currency code (502 USD, 142 CNY …)")),
            RateKind::DeferredInterest | RateKind::LateSurcharge if !key.is_empty() => Some(format!("a {} rate has no key (found \"{key}\")", kind.as_str())),
            _ => None,
        };
        if let Some(p) = key_problem {
            problems.push(format!("{file}:{n}: {p}"));
            continue;
        }
        let rate = match decimal::parse(cells[2]) {
            Ok(r) if r.is_sign_negative() || (kind == RateKind::Exchange && r.is_zero()) => {
                problems.push(format!("{file}:{n}: rate {} must be positive", cells[2]));
                continue;
            }
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{file}:{n}: rate: {e}"));
                continue;
            }
        };
        let Ok(valid_from) = NaiveDate::parse_from_str(cells[3], "%Y-%m-%d") else {
            problems.push(format!("{file}:{n}: valid_from \"{}\" is not a YYYY-MM-DD date", cells[3]));
            continue;
        };
        if let Some(first) = seen.insert((kind, key.clone(), valid_from), n) {
            problems.push(format!("{file}:{n}: {} {key} from {valid_from} is also on line {first}", kind.as_str()));
            continue;
        }
        let source = cells.get(4).map(|s| s.to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| file.to_owned());
        out.push(DatedRate { kind, key, rate, valid_from, source });
    }
    if out.is_empty() && problems.is_empty() {
        problems.push(format!("{file}: no rates"));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The rates Jiamao ships (interest and surcharge history, RULES.md §8.4, §8.5, §19); loaded rates
/// are added on top. Exchange rates are never built in.
pub fn default_rates() -> Vec<DatedRate> {
    parse_rates_csv(DEFAULT_RATES, "jiamao default rates").unwrap_or_default()
}

const DEFAULT_RATES: &str = include_str!("../../data/rates.csv");

/// How the exchange rate of a tax date is found (RULES.md §8.3, §19: UNCONFIRMED, a policy setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeRule {
    /// The rate in force on the tax date (the latest `valid_from` on or before it): for tables of the
    /// monthly customs rates (海关计征汇率) dated the first of each month.
    #[default]
    InForce,
    /// The rate of the third Wednesday of the previous month (the next rate in that month when that
    /// day has none, a holiday), used for the whole month: for tables of daily central parities.
    ThirdWednesdayOfPreviousMonth,
}

/// The third Wednesday of the month before `date`'s.
pub fn third_wednesday_before(date: NaiveDate) -> Option<NaiveDate> {
    let first = date.with_day(1)?;
    let prev = first.pred_opt()?.with_day(1)?;
    let offset = (7 + Weekday::Wed.num_days_from_monday() as i64 - prev.weekday().num_days_from_monday() as i64) % 7;
    prev.checked_add_signed(Duration::days(offset + 14))
}

/// A rate found for a date, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundRate {
    #[serde(with = "decimal")]
    pub rate: Decimal,
    pub valid_from: NaiveDate,
    pub source: String,
}

/// Dated rates by (kind, key), each in ascending `valid_from`.
#[derive(Debug, Clone, Default)]
pub struct Rates {
    series: BTreeMap<(RateKind, String), BTreeMap<NaiveDate, (Decimal, String)>>,
}

impl Rates {
    /// The built-in defaults.
    pub fn with_defaults() -> Self {
        let mut r = Rates::default();
        r.add(default_rates());
        r
    }

    /// Adds rates; one for the same (kind, key, valid_from) replaces the earlier.
    pub fn add(&mut self, rates: impl IntoIterator<Item = DatedRate>) {
        for r in rates {
            self.series.entry((r.kind, r.key)).or_default().insert(r.valid_from, (r.rate, r.source));
        }
    }

    fn in_force(&self, kind: RateKind, key: &str, date: NaiveDate) -> Result<FoundRate, TaxError> {
        let what = match kind {
            RateKind::Exchange => format!("exchange rate of currency {key}"),
            k => format!("{} rate", k.as_str()),
        };
        let Some(series) = self.series.get(&(kind, key.to_owned())) else {
            return Err(TaxError::new(kind.as_str(), "rate_missing", format!("no {what} is loaded (jiamao rates load <file.csv>)")));
        };
        match series.range(..=date).next_back() {
            Some((from, (rate, source))) => Ok(FoundRate { rate: *rate, valid_from: *from, source: source.clone() }),
            None => {
                let first = series.keys().next().map(|d| d.to_string()).unwrap_or_default();
                Err(TaxError::new(kind.as_str(), "rate_missing", format!("no {what} for {date}: the earliest loaded is from {first}")))
            }
        }
    }

    /// CNY per unit of `currency` for a tax date under `rule` (CNY itself is 1).
    pub fn exchange(&self, currency: &str, date: NaiveDate, rule: ExchangeRule) -> Result<FoundRate, TaxError> {
        if currency == "142" {
            return Ok(FoundRate { rate: Decimal::ONE, valid_from: date, source: "CNY".to_owned() });
        }
        match rule {
            ExchangeRule::InForce => self.in_force(RateKind::Exchange, currency, date),
            ExchangeRule::ThirdWednesdayOfPreviousMonth => {
                let Some(wed) = third_wednesday_before(date) else {
                    return Err(TaxError::new("exchange", "rate_missing", format!("no month before {date}")));
                };
                let month_end = date.with_day(1).and_then(|d| d.pred_opt()).unwrap_or(wed);
                let found = self.series.get(&(RateKind::Exchange, currency.to_owned())).and_then(|s| s.range(wed..=month_end).next());
                match found {
                    Some((from, (rate, source))) => Ok(FoundRate { rate: *rate, valid_from: *from, source: source.clone() }),
                    None => {
                        Err(TaxError::new("exchange", "rate_missing", format!("no exchange rate of currency {currency} from {wed} (the third Wednesday of the month before {date}) to {month_end}")))
                    }
                }
            }
        }
    }

    /// The deferred-tax interest rate published when the payment note is issued (RULES.md §8.4).
    pub fn deferred_interest(&self, payment_note: NaiveDate) -> Result<FoundRate, TaxError> {
        self.in_force(RateKind::DeferredInterest, "", payment_note)
    }

    /// The daily late-payment surcharge rate on a date (RULES.md §8.5).
    pub fn late_surcharge(&self, date: NaiveDate) -> Result<FoundRate, TaxError> {
        self.in_force(RateKind::LateSurcharge, "", date)
    }

    /// Every rate, for listing.
    pub fn all(&self) -> Vec<DatedRate> {
        let mut out = Vec::new();
        for ((kind, key), series) in &self.series {
            for (from, (rate, source)) in series {
                out.push(DatedRate { kind: *kind, key: key.clone(), rate: *rate, valid_from: *from, source: source.clone() });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_parse_and_carry_the_2012_rate() {
        let r = Rates::with_defaults();
        assert_eq!(r.deferred_interest(day("2024-07-08")).unwrap().rate.to_string(), "0.0035");
        assert_eq!(r.deferred_interest(day("2011-05-01")).unwrap().rate.to_string(), "0.0050");
        assert_eq!(r.late_surcharge(day("2026-01-01")).unwrap().rate.to_string(), "0.0005");
    }

    #[test]
    fn third_wednesdays() {
        assert_eq!(third_wednesday_before(day("2026-06-12")), Some(day("2026-05-20")));
        assert_eq!(third_wednesday_before(day("2026-01-31")), Some(day("2025-12-17")));
        assert_eq!(third_wednesday_before(day("2026-04-01")), Some(day("2026-03-18")));
    }

    #[test]
    fn bad_files_list_every_problem() {
        let e = parse_rates_csv("kind,key,rate,valid_from\nexchange,999,7,2026-01-01\nfx,502,7,2026-01-01\nexchange,502,x,2026-01-01\nexchange,502,7,2026-13-01\ndeferred_interest,,0.0035,2012-07-06\ndeferred_interest,,0.0036,2012-07-06\n", "r.csv").unwrap_err();
        assert_eq!(e.len(), 5, "{e:?}");
        assert!(e[0].starts_with("r.csv:2:"));
    }

    #[test]
    fn monthly_rule_takes_the_third_wednesday_or_the_next_trading_day() {
        let mut r = Rates::default();
        r.add(parse_rates_csv("kind,key,rate,valid_from\nexchange,502,7.10,2026-05-19\nexchange,502,7.12,2026-05-21\nexchange,502,7.20,2026-06-10\n", "r").unwrap());
        // 2026-05-20 (the third Wednesday) has no rate: the next one in May counts.
        assert_eq!(r.exchange("502", day("2026-06-12"), ExchangeRule::ThirdWednesdayOfPreviousMonth).unwrap().rate.to_string(), "7.12");
        assert_eq!(r.exchange("502", day("2026-06-12"), ExchangeRule::InForce).unwrap().rate.to_string(), "7.20");
        assert!(r.exchange("502", day("2026-05-12"), ExchangeRule::ThirdWednesdayOfPreviousMonth).is_err());
        assert!(r.exchange("303", day("2026-06-12"), ExchangeRule::InForce).unwrap_err().to_string().contains("currency 303"));
    }
}
