//! Exact decimals: parsing from JSON text, the one rounding rule, and plain output.
//!
//! Every quantity, price, amount and rate is a [`Decimal`]; nothing passes through a float.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::fmt;

/// Rounding of the interchange format: half away from zero (四舍五入; `-0.425` → `-0.43`).
pub const ROUNDING: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// Decimal places of report quantities (FORMAT.md, "rounded once, at output, to 5 decimal places").
pub const REPORT_QTY_DP: u32 = 5;
/// Decimal places of report amounts.
pub const REPORT_AMOUNT_DP: u32 = 2;

/// Rounds `d` to `dp` places, half away from zero.
pub fn round(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, ROUNDING)
}

/// Plain decimal notation without trailing zeros (`"85.5728"`, `"0"`, `"-0.43"`).
pub fn plain(d: Decimal) -> String {
    let n = d.normalize();
    if n.is_zero() {
        return "0".to_owned();
    }
    n.to_string()
}

/// Rounds for a report quantity and prints it plainly.
pub fn report_qty(d: Decimal) -> String {
    plain(round(d, REPORT_QTY_DP))
}

/// Rounds for a report amount and prints it plainly.
pub fn report_amount(d: Decimal) -> String {
    plain(round(d, REPORT_AMOUNT_DP))
}

/// Parses plain decimal notation (`"1.35"`, `"-5"`, `"50000"`); no exponents, no spaces, no `+`.
pub fn parse(text: &str) -> Result<Decimal, String> {
    let t = text;
    let body = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits_ok = !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()) && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !digits_ok {
        return Err(format!("\"{text}\" is not a plain decimal number"));
    }
    Decimal::from_str_exact(t).map_err(|_| format!("\"{text}\" has more digits than the 28 Jiamao keeps exactly"))
}

/// Serde adapter: a decimal given as a JSON string or a JSON number, read from its text.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(DecVisitor)
}

/// Serde adapter for optional decimals.
pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    d.deserialize_any(DecVisitor).map(Some)
}

struct DecVisitor;

impl<'de> Visitor<'de> for DecVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal number as a string (\"1.35\") or a JSON number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Decimal, E> {
        Err(E::custom("a decimal must not pass through a float; give it as a string"))
    }

    // serde_json's arbitrary_precision hands a number over as a one-entry map holding its text.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Decimal, A::Error> {
        let n: serde_json::Number = serde::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
        let text = n.to_string();
        if text.contains(['e', 'E']) {
            Decimal::from_scientific(&text).map_err(|_| de::Error::custom(format!("number {text} cannot be held exactly")))
        } else {
            parse(&text).map_err(de::Error::custom)
        }
    }
}

/// Serializes a decimal as a plain string.
pub fn serialize<S: serde::Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&plain(*d))
}

/// Serializes an optional decimal as a plain string.
pub fn serialize_opt<S: serde::Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&plain(*d)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(plain(round(d("-0.425"), 2)), "-0.43");
        assert_eq!(plain(round(d("0.425"), 2)), "0.43");
        assert_eq!(plain(round(d("1.000005"), 5)), "1.00001");
        assert_eq!(plain(round(d("-0.000004"), 5)), "0");
    }

    #[test]
    fn prints_plain_without_trailing_zeros() {
        assert_eq!(plain(d("50000")), "50000");
        assert_eq!(plain(d("85.57280")), "85.5728");
        assert_eq!(plain(d("0.000")), "0");
        assert_eq!(plain(d("1E+3")), "1000");
    }

    #[test]
    fn parses_only_plain_notation() {
        assert_eq!(parse("1.35"), Ok(d("1.35")));
        assert_eq!(parse("-5"), Ok(d("-5")));
        assert!(parse("1e3").is_err());
        assert!(parse(" 1").is_err());
        assert!(parse("1.").is_err());
        assert!(parse(".5").is_err());
        assert!(parse("").is_err());
        assert!(parse("abc").is_err());
    }

    #[test]
    fn json_numbers_are_read_from_their_text() {
        #[derive(serde::Deserialize)]
        struct T {
            #[serde(deserialize_with = "deserialize")]
            v: Decimal,
        }
        let t: Result<T, _> = serde_json::from_str(r#"{"v": 0.1000000000000000055511151231257827}"#);
        assert!(t.is_err(), "more digits than can be held exactly must be refused, not rounded");
        let t: Result<T, _> = serde_json::from_str(r#"{"v": 0.1}"#);
        assert_eq!(t.map(|t| plain(t.v)).ok().as_deref(), Some("0.1"));
        let t: Result<T, _> = serde_json::from_str(r#"{"v": 1.35}"#);
        assert_eq!(t.map(|t| plain(t.v)).ok().as_deref(), Some("1.35"));
        let t: Result<T, _> = serde_json::from_str(r#"{"v": 7}"#);
        assert_eq!(t.map(|t| plain(t.v)).ok().as_deref(), Some("7"));
    }
}
