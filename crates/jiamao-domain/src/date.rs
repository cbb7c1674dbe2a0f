//! Business dates in the interchange format: exactly `YYYY-MM-DD` (FORMAT.md common rules).
//! chrono alone also reads `2026-3-1`; documents are strict, so dates go through here.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serializer};

/// Parses exactly `YYYY-MM-DD`.
pub fn parse(text: &str) -> Result<NaiveDate, String> {
    let well_formed = text.len() == 10 && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    let date = if well_formed { NaiveDate::parse_from_str(text, "%Y-%m-%d").ok() } else { None };
    date.ok_or_else(|| format!("\"{text}\" is not a date; write it as YYYY-MM-DD"))
}

/// Serde adapter: a strict `YYYY-MM-DD` date.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).map_err(serde::de::Error::custom)
}

/// Serde adapter for an optional date.
pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    Option::<String>::deserialize(d)?.map(|s| parse(&s).map_err(serde::de::Error::custom)).transpose()
}

/// Serializes as `YYYY-MM-DD`.
pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&d.format("%Y-%m-%d"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_the_full_form() {
        assert_eq!(parse("2026-03-01").unwrap().to_string(), "2026-03-01");
        for bad in ["2026-3-1", "2026-03-1", "20260301", "2026-02-30", " 2026-03-01", "2026/03/01"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
