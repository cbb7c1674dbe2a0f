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

/// Appends `plain(round(d, dp))` to `out` without allocating: the same text as [`report_qty`]
/// (`dp` = 5) and [`report_amount`] (`dp` = 2), computed on the exact mantissa (reports print
/// hundreds of thousands of figures).
pub fn write_rounded(out: &mut Vec<u8>, d: Decimal, dp: u32) {
    let neg = d.is_sign_negative();
    let mut a = d.mantissa().unsigned_abs();
    let mut scale = d.scale();
    if scale > dp {
        // Half away from zero on the exact mantissa, as `round` does.
        let p = POW10.get((scale - dp) as usize).copied().unwrap_or(u128::MAX);
        let (q, r) = match (u64::try_from(a), u64::try_from(p)) {
            (Ok(a), Ok(p)) => (u128::from(a / p), u128::from(a % p)),
            _ => (a / p, a % p),
        };
        a = if r >= p - r { q + 1 } else { q };
        scale = dp;
    }
    if a == 0 {
        out.push(b'0');
        return;
    }
    // The text right to left: the fraction without its trailing zeros, the point, the integer
    // part (at least "0"), the sign. At most 29 digits, a point, a zero and a sign.
    let mut buf = [0u8; 40];
    let mut i = buf.len();
    let mut put = |c: u8| {
        i -= 1;
        buf[i] = c;
    };
    // The same digits loop on u64 when the value fits (the common case: much faster than u128).
    macro_rules! digits {
        ($x:expr) => {{
            let mut x = $x;
            while scale > 0 && x.is_multiple_of(10) {
                x /= 10;
                scale -= 1;
            }
            for _ in 0..scale {
                put(b'0' + (x % 10) as u8);
                x /= 10;
            }
            if scale > 0 {
                put(b'.');
            }
            loop {
                put(b'0' + (x % 10) as u8);
                x /= 10;
                if x == 0 {
                    break;
                }
            }
        }};
    }
    match u64::try_from(a) {
        Ok(x) => digits!(x),
        Err(_) => digits!(a),
    }
    if neg {
        put(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

const POW10: [u128; 29] = {
    let mut t = [1u128; 29];
    let mut k = 1;
    while k < 29 {
        t[k] = t[k - 1] * 10;
        k += 1;
    }
    t
};

/// Reads the text of a decimal as [`Decimal`]'s own `Display` writes it (`"-12.5"`, `"3"`) with a
/// quick exact path, and any other text as `str::parse` does (a checkpoint holds a few hundred
/// thousand of them).
pub fn parse_display(text: &str) -> Option<Decimal> {
    parse_display_bytes(text.as_bytes())
}

/// [`parse_display`] of UTF-8 bytes.
pub fn parse_display_bytes(text: &[u8]) -> Option<Decimal> {
    match quick_parse(text, None) {
        (Some(d), end) if end == text.len() => Some(d),
        _ => std::str::from_utf8(text).ok()?.parse().ok(),
    }
}

/// [`parse_display_bytes`] of the start of `text`, up to the first `stop` byte or the end: the
/// value and the number of bytes it took.
pub fn parse_display_until(text: &[u8], stop: u8) -> Option<(Decimal, usize)> {
    match quick_parse(text, Some(stop)) {
        (Some(d), end) => Some((d, end)),
        (None, _) => {
            let end = text.iter().position(|&c| c == stop).unwrap_or(text.len());
            Some((parse_display_bytes(text.get(..end)?)?, end))
        }
    }
}

/// The quick exact path: an optional `-`, up to 19 digits with at most one inner `.`, ended by
/// `stop` or the end of `b`. `None` (with where it stopped) for anything else.
fn quick_parse(b: &[u8], stop: Option<u8>) -> (Option<Decimal>, usize) {
    let neg = b.first() == Some(&b'-');
    let start = usize::from(neg);
    let mut k = start;
    let mut m: u64 = 0;
    let mut digits = 0;
    let mut point: Option<usize> = None;
    while let Some(&c) = b.get(k) {
        if c.is_ascii_digit() && digits < 19 {
            m = m * 10 + u64::from(c - b'0');
            digits += 1;
        } else if c == b'.' && point.is_none() {
            point = Some(k);
        } else if Some(c) == stop {
            break;
        } else {
            return (None, k);
        }
        k += 1;
    }
    let scale = match point {
        None => 0,
        Some(p) if p > start && p + 1 < k => (k - p - 1) as u32,
        Some(_) => return (None, k),
    };
    if digits == 0 || scale > 28 {
        return (None, k);
    }
    (Some(Decimal::from_parts(m as u32, (m >> 32) as u32, 0, neg, scale)), k)
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
    fn write_rounded_is_plain_of_round() {
        for text in [
            "0",
            "-0",
            "1.000005",
            "-1.000005",
            "9.999995",
            "-9.999995",
            "0.000004",
            "-0.000005",
            "85.57280",
            "50000",
            "1142.2779188839714853611953238",
            "-0.425",
            "0.00001",
            "7.9228162514264337593543950335",
            "-79228162514264337593543950335",
            "0.0000000000000000000000000001",
            "123456789012345678901.5",
        ] {
            let v = d(text);
            for dp in [0, 2, 5, 9] {
                let mut out = Vec::new();
                write_rounded(&mut out, v, dp);
                assert_eq!(String::from_utf8(out).unwrap(), plain(round(v, dp)), "{text} to {dp}");
            }
        }
    }

    #[test]
    fn parse_display_reads_what_display_writes() {
        for text in [
            "0",
            "5",
            "-5",
            "1.35",
            "-0.000001",
            "-.5",
            "-",
            "--1",
            "1-",
            "0.",
            "9999999999999999999",
            "99999999999999999999",
            "9223372036854775807",
            "9223372036854775808",
            "-18446744073709551616.5",
            "0.0000000000000000000000000001",
            "1142.2779188839714853611953238",
            "79228162514264337593543950335",
            "-7.9228162514264337593543950335",
            "1e3",
            "1.",
            ".5",
            "+1",
            "",
            "-",
            "1.2.3",
        ] {
            assert_eq!(parse_display(text), text.parse::<Decimal>().ok(), "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn write_rounded_matches_round_then_plain(lo: u32, mid: u32, hi: u32, neg: bool, scale in 0u32..=28, dp in 0u32..=9) {
            let v = Decimal::from_parts(lo, mid, hi, neg, scale);
            let mut out = Vec::new();
            write_rounded(&mut out, v, dp);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), plain(round(v, dp)));
        }

        #[test]
        fn parse_display_round_trips(lo: u32, mid: u32, hi: u32, neg: bool, scale in 0u32..=28, small: i64, small_scale in 0u32..=28) {
            for v in [Decimal::from_parts(lo, mid, hi, neg, scale), Decimal::new(small, small_scale)] {
                for text in [v.to_string(), v.normalize().to_string()] {
                    let parsed = parse_display(&text);
                    proptest::prop_assert_eq!(parsed, Some(v));
                    proptest::prop_assert_eq!(parsed, text.parse::<Decimal>().ok());
                    let field = format!("{text},7");
                    proptest::prop_assert_eq!(parse_display_until(field.as_bytes(), b','), Some((v, text.len())));
                }
            }
        }

        #[test]
        fn write_rounded_matches_for_small_mantissas(m: i64, scale in 0u32..=28, dp in 0u32..=9) {
            let v = Decimal::new(m, scale);
            let mut out = Vec::new();
            write_rounded(&mut out, v, dp);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), plain(round(v, dp)));
        }
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
