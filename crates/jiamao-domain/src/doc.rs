//! The public interchange documents (FORMAT.md): books, lists and stocktakes, parsed strictly.
//!
//! Parsing is pure: callers hand in the text and a name for it (a file name); errors say where,
//! in that text, the document went wrong.

use crate::codes::{CountryCode, CurrencyCode, CustomsCode, CustomsDistrict, HsCode, RegionCode, TradeModeCode, UnitCode, Uscc};
use crate::decimal;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::fmt;

/// 账册/手册类型: book types B (来料加工手册), C (进料加工手册) and E (电子账册).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BookType {
    B,
    C,
    E,
}

/// 单耗申报环节: when 单耗 must be declared (RULES.md §4.4, ucnsDclSegcd 1 / 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsumptionStage {
    #[default]
    BeforeExport,
    BeforeReport,
}

/// An enterprise as a book names it (经营企业 / 加工企业).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseDoc {
    pub uscc: Uscc,
    pub customs_code: CustomsCode,
    pub name: String,
    pub region_code: RegionCode,
}

/// 料件 as filed in a book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialDoc {
    pub seq: u32,
    pub part_no: String,
    pub hs_code: HsCode,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    pub unit: UnitCode,
    #[serde(deserialize_with = "decimal::deserialize", serialize_with = "decimal::serialize")]
    pub unit_price: Decimal,
    pub currency: CurrencyCode,
    #[serde(default, deserialize_with = "decimal::deserialize_opt", serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub opening_qty: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal::deserialize_opt", serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub authorized_qty: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_ref: Option<String>,
}

/// 成品 as filed in a book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductDoc {
    pub seq: u32,
    pub part_no: String,
    pub hs_code: HsCode,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    pub unit: UnitCode,
    #[serde(deserialize_with = "decimal::deserialize", serialize_with = "decimal::serialize")]
    pub unit_price: Decimal,
    pub currency: CurrencyCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_ref: Option<String>,
}

/// One 单耗 line: how much of a material one unit of a product uses, in one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumptionDoc {
    pub product_seq: u32,
    pub material_seq: u32,
    pub version: String,
    #[serde(deserialize_with = "crate::date::deserialize")]
    pub valid_from: NaiveDate,
    #[serde(default, deserialize_with = "decimal::deserialize_opt", serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub net: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal::deserialize_opt", serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub tangible_loss_rate: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal::deserialize_opt", serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub intangible_loss_rate: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal::deserialize_opt", serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub unit_consumption: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal::deserialize_opt", serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub bonded_share: Option<Decimal>,
}

/// Book document (账册 / 手册).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookDoc {
    pub book_no: String,
    pub book_type: BookType,
    pub trade_mode: TradeModeCode,
    pub operator: EnterpriseDoc,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor: Option<EnterpriseDoc>,
    pub master_customs: CustomsDistrict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(deserialize_with = "crate::date::deserialize")]
    pub valid_from: NaiveDate,
    #[serde(deserialize_with = "crate::date::deserialize")]
    pub valid_until: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_control: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumption_stage: Option<ConsumptionStage>,
    pub materials: Vec<MaterialDoc>,
    pub products: Vec<ProductDoc>,
    pub consumption: Vec<ConsumptionDoc>,
}

/// 进出口标记: I in, E out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    I,
    E,
}

/// 料件 / 成品 / 残次品.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goods {
    Material,
    Product,
    Defective,
}

/// One line (表体) of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListLineDoc {
    pub line: u32,
    pub item_seq: u32,
    #[serde(deserialize_with = "decimal::deserialize", serialize_with = "decimal::serialize")]
    pub qty: Decimal,
    #[serde(default, deserialize_with = "decimal::deserialize_opt", serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumption_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_country: Option<CountryCode>,
    #[serde(default, deserialize_with = "decimal::deserialize_opt", serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub legal_qty: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal::deserialize_opt", serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub second_legal_qty: Option<Decimal>,
}

/// List document (保税核注清单).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListDoc {
    pub list_no: String,
    pub book_no: String,
    #[serde(deserialize_with = "crate::date::deserialize")]
    pub declared_on: NaiveDate,
    pub direction: Direction,
    pub goods: Goods,
    pub trade_mode: TradeModeCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty_book_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration_no: Option<String>,
    pub lines: Vec<ListLineDoc>,
}

impl ListDoc {
    /// The canonical text of a list: fixed key order, decimals by value. Two documents that FORMAT.md
    /// calls "the same content" have the same canonical text.
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A counted item of a stocktake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountDoc {
    pub seq: u32,
    #[serde(deserialize_with = "decimal::deserialize", serialize_with = "decimal::serialize")]
    pub qty: Decimal,
}

/// Stocktake document (盘点).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StocktakeDoc {
    pub book_no: String,
    #[serde(deserialize_with = "crate::date::deserialize")]
    pub taken_on: NaiveDate,
    pub materials: Vec<CountDoc>,
    pub products: Vec<CountDoc>,
    #[serde(default)]
    pub wip: Vec<CountDoc>,
    #[serde(default)]
    pub outsourced: Vec<CountDoc>,
}

/// A document that could not be read: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocError {
    /// The name of the text (a file name).
    pub source: String,
    /// Which list of a file of lists (1-based position and its `list_no` when readable).
    pub list: Option<(usize, Option<String>)>,
    /// The field path inside the document (`lines[1].qty`), empty when the text is not JSON at all.
    pub path: String,
    /// 1-based line and column in the text.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::error::Error for DocError {}

impl DocError {
    /// The rule broken: always the document format.
    pub const RULE: &'static str = "document_format";
}

impl DocError {
    /// Where in the text and what, without the source and list (`line 2 column 42, field lines[0].qty: …`).
    pub fn detail(&self) -> String {
        let mut out = format!("line {} column {}", self.line, self.column);
        if !self.path.is_empty() && self.path != "." {
            out.push_str(&format!(", field {}", self.path));
        }
        out.push_str(&format!(": {}", self.message));
        out
    }
}

impl fmt::Display for DocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some((pos, no)) = &self.list {
            match no {
                Some(no) => write!(f, ", list {pos} ({no})")?,
                None => write!(f, ", list {pos}")?,
            }
        }
        write!(f, ", {} (rule {})", self.detail(), Self::RULE)
    }
}

fn strip_serde_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

fn line_col_of(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let col = before.rfind('\n').map_or(before.chars().count(), |i| before[i + 1..].chars().count()) + 1;
    (line, col)
}

/// Deserializes one document from `raw` (a slice of `text`), naming positions in `text`.
fn parse_part<T: serde::de::DeserializeOwned>(text: &str, raw: &str, source: &str, list: Option<(usize, Option<String>)>) -> Result<T, DocError> {
    let mut de = serde_json::Deserializer::from_str(raw);
    let locate = |path: String, inner: serde_json::Error| {
        let start = (raw.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        let (base_line, base_col) = line_col_of(text, start);
        let (line, column) = if inner.line() <= 1 { (base_line, base_col + inner.column().saturating_sub(1)) } else { (base_line + inner.line() - 1, inner.column()) };
        DocError { source: source.to_owned(), list: list.clone(), path, line, column, message: strip_serde_position(&inner.to_string()) }
    };
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        locate(path, e.into_inner())
    })?;
    de.end().map_err(|e| locate(String::new(), e))?;
    Ok(value)
}

fn syntax_error(source: &str, e: &serde_json::Error) -> DocError {
    let message = if e.is_eof() {
        format!("the text ends too early, it is truncated or incomplete ({})", strip_serde_position(&e.to_string()))
    } else {
        format!("not valid JSON: {}", strip_serde_position(&e.to_string()))
    };
    DocError { source: source.to_owned(), list: None, path: String::new(), line: e.line(), column: e.column(), message }
}

/// Parses a book document.
pub fn parse_book(text: &str, source: &str) -> Result<BookDoc, DocError> {
    let raw: &RawValue = serde_json::from_str(text).map_err(|e| syntax_error(source, &e))?;
    parse_part(text, raw.get(), source, None)
}

/// Parses any strict document (for example an adjustments file), naming the place of an error.
pub fn parse_document<T: serde::de::DeserializeOwned>(text: &str, source: &str) -> Result<T, DocError> {
    let raw: &RawValue = serde_json::from_str(text).map_err(|e| syntax_error(source, &e))?;
    parse_part(text, raw.get(), source, None)
}

/// Parses a stocktake document.
pub fn parse_stocktake(text: &str, source: &str) -> Result<StocktakeDoc, DocError> {
    let raw: &RawValue = serde_json::from_str(text).map_err(|e| syntax_error(source, &e))?;
    parse_part(text, raw.get(), source, None)
}

/// A file of lists: one list object or an array of them. The file must be valid JSON as a whole
/// (else nothing in it is read); each list is then read on its own, so one malformed list is
/// reported without stopping the others.
pub fn parse_lists(text: &str, source: &str) -> Result<Vec<Result<ListDoc, DocError>>, DocError> {
    let trimmed = text.trim_start();
    let raws: Vec<&RawValue> =
        if trimmed.starts_with('[') { serde_json::from_str(text).map_err(|e| syntax_error(source, &e))? } else { vec![serde_json::from_str(text).map_err(|e| syntax_error(source, &e))?] };
    Ok(raws
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let list_no = serde_json::from_str::<serde_json::Value>(raw.get()).ok().and_then(|v| v.get("list_no").and_then(|n| n.as_str()).map(str::to_owned));
            parse_part(text, raw.get(), source, Some((i + 1, list_no)))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"{"list_no":"Q1","book_no":"B1","declared_on":"2026-01-10","direction":"I","goods":"material","trade_mode":"0615","lines":[{"line":1,"item_seq":1,"qty":"50000.0"}]}"#;

    #[test]
    fn canonical_text_ignores_key_order_and_decimal_form() {
        let a = parse_lists(LIST, "a.json").ok().and_then(|mut v| v.pop()).and_then(Result::ok);
        let b_text = r#"[{"lines":[{"qty":50000,"item_seq":1,"line":1}],"trade_mode":"0615","goods":"material","direction":"I","declared_on":"2026-01-10","book_no":"B1","list_no":"Q1"}]"#;
        let b = parse_lists(b_text, "b.json").ok().and_then(|mut v| v.pop()).and_then(Result::ok);
        assert!(a.is_some());
        assert_eq!(a.map(|a| a.canonical()), b.map(|b| b.canonical()));
    }

    #[test]
    fn unknown_field_is_named_with_its_place() {
        let text = "[\n{\"list_no\":\"Q1\",\"book_no\":\"B1\",\"declared_on\":\"2026-01-10\",\"direction\":\"I\",\"goods\":\"material\",\n\"trade_mode\":\"0615\",\"lines\":[{\"line\":1,\"item_seq\":1,\"qty\":\"5\",\"colour\":\"red\"}]}]";
        let parsed = parse_lists(text, "f.json").unwrap_or_default();
        let err = parsed.into_iter().next().and_then(Result::err);
        let err = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("f.json, list 1 (Q1), line 3"), "{err}");
        assert!(err.contains("lines[0]"), "{err}");
        assert!(err.contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn truncated_text_is_reported_as_truncated() {
        let err = parse_lists(&LIST[..40], "t.json").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("truncated"), "{err}");
    }
}
