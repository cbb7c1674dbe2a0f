//! Validated customs and enterprise codes ("parse, don't validate").
//!
//! Every type here can only be built through `parse` (or `FromStr`, `TryFrom<String>`, serde
//! deserialization, which all call `parse`), so a value of the type is known to be good.
//! Serialization writes the plain code string.
//!
//! Syntax-only codes: [`Uscc`] (统一社会信用代码, GB 32100-2015 with the embedded GB 11714
//! organisation code), [`CustomsCode`] (海关编码), [`HsCode`] (商品编码, 10 digits),
//! [`RegionCode`] (行政区划代码), [`CustomsDistrict`] (关区代码), [`TradeModeCode`] (监管方式).
//!
//! Table codes: [`UnitCode`] (计量单位), [`CurrencyCode`] (币制), [`CountryCode`] (国别地区) must
//! also be present in the project's own code tables, `data/*.csv`, embedded at compile time.
//! Each table carries a header naming the table, its edition and its start date, so an official
//! update is a data change (see `shared/domain/CODES.md`). Tables are parsed once, lazily; a
//! malformed row in an embedded table is skipped (and counted, see [`CodeTable::skipped`]) rather
//! than causing a panic — unit tests pin every table's row count.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Which kind of code a rejected value was meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeKind {
    /// 统一社会信用代码
    Uscc,
    /// 海关编码
    CustomsCode,
    /// 商品编码
    HsCode,
    /// 行政区划代码
    RegionCode,
    /// 关区代码
    CustomsDistrict,
    /// 计量单位
    UnitCode,
    /// 币制
    CurrencyCode,
    /// 国别地区
    CountryCode,
    /// 监管方式
    TradeModeCode,
}

impl CodeKind {
    /// English description with the Chinese term, as used in error messages.
    pub fn description(self) -> &'static str {
        match self {
            CodeKind::Uscc => "unified social credit code (统一社会信用代码)",
            CodeKind::CustomsCode => "customs code (海关编码)",
            CodeKind::HsCode => "HS code (商品编码)",
            CodeKind::RegionCode => "administrative region code (行政区划代码)",
            CodeKind::CustomsDistrict => "customs district code (关区代码)",
            CodeKind::UnitCode => "unit code (计量单位)",
            CodeKind::CurrencyCode => "currency code (币制)",
            CodeKind::CountryCode => "country/region code (国别地区)",
            CodeKind::TradeModeCode => "trade mode code (监管方式)",
        }
    }

    /// What the project's code table for this kind is called in messages.
    fn table_description(self) -> &'static str {
        match self {
            CodeKind::UnitCode => "customs unit table",
            CodeKind::CurrencyCode => "customs currency table",
            CodeKind::CountryCode => "customs country/region table",
            CodeKind::TradeModeCode => "customs trade mode table",
            _ => "code table",
        }
    }
}

impl fmt::Display for CodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// Why a string is not a valid code. Messages are plain English with the Chinese term, and name
/// the value (shortened to 64 characters) and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Wrong number of characters (an empty value has 0).
    #[error("invalid {kind} {value:?}: must be {rule}, but has {len} characters")]
    Length { kind: CodeKind, value: String, rule: &'static str, len: usize },
    /// A lowercase letter where only uppercase letters are allowed (not silently upper-cased).
    #[error("invalid {kind} {value:?}: lowercase letter {ch:?} at position {position}; letters must be uppercase ({rule})")]
    Lowercase { kind: CodeKind, value: String, ch: char, position: usize, rule: &'static str },
    /// A character outside the code's character set (`position` counts from 1).
    #[error("invalid {kind} {value:?}: character {ch:?} at position {position} is not allowed; {rule}")]
    Character { kind: CodeKind, value: String, ch: char, position: usize, rule: &'static str },
    /// The 18th character of a unified social credit code does not match its check computation.
    #[error("invalid unified social credit code (统一社会信用代码) {value:?}: check character should be '{expected}' (GB 32100-2015)")]
    UsccCheck { value: String, expected: char, found: char },
    /// The organisation code embedded in positions 9–17 has a wrong check character.
    #[error(
        "invalid unified social credit code (统一社会信用代码) {value:?}: embedded organisation code (组织机构代码, positions 9-17) {org_code:?} should end in check character '{expected}' (GB 11714)"
    )]
    OrgCodeCheck { value: String, org_code: String, expected: char, found: char },
    /// Syntactically fine but absent from the project's code table.
    #[error("unknown {kind} {value:?}: not in the {} {table} ({edition} edition)", .kind.table_description())]
    Unknown { kind: CodeKind, value: String, table: &'static str, edition: &'static str },
}

impl CodeError {
    /// The kind of code that was rejected.
    pub fn kind(&self) -> CodeKind {
        match self {
            CodeError::Length { kind, .. } | CodeError::Lowercase { kind, .. } | CodeError::Character { kind, .. } | CodeError::Unknown { kind, .. } => *kind,
            CodeError::UsccCheck { .. } | CodeError::OrgCodeCheck { .. } => CodeKind::Uscc,
        }
    }
}

const MAX_SHOWN_CHARS: usize = 64;

/// The value as shown in an error: at most 64 characters, then "…".
fn shown(value: &str) -> String {
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(MAX_SHOWN_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

fn check_len(kind: CodeKind, value: &str, len: usize, rule: &'static str) -> Result<(), CodeError> {
    let actual = value.chars().count();
    if actual == len {
        Ok(())
    } else {
        Err(CodeError::Length { kind, value: shown(value), rule, len: actual })
    }
}

fn check_digits(kind: CodeKind, value: &str) -> Result<(), CodeError> {
    match value.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        None => Ok(()),
        Some((i, ch)) => Err(CodeError::Character { kind, value: shown(value), ch, position: i + 1, rule: "only digits 0-9 are allowed" }),
    }
}

/// Checks that every character satisfies `allowed`; lowercase ASCII letters get their own error.
fn check_charset(kind: CodeKind, value: &str, allowed: impl Fn(char) -> bool, rule: &'static str) -> Result<(), CodeError> {
    for (i, ch) in value.chars().enumerate() {
        if allowed(ch) {
            continue;
        }
        if ch.is_ascii_lowercase() {
            return Err(CodeError::Lowercase { kind, value: shown(value), ch, position: i + 1, rule });
        }
        return Err(CodeError::Character { kind, value: shown(value), ch, position: i + 1, rule });
    }
    Ok(())
}

/// Fixed-length string of ASCII digits.
fn parse_digits(kind: CodeKind, value: &str, len: usize, rule: &'static str) -> Result<(), CodeError> {
    check_len(kind, value, len, rule)?;
    check_digits(kind, value)
}

// ---------------------------------------------------------------------------------------------
// Shared trait impls
// ---------------------------------------------------------------------------------------------

macro_rules! code_common {
    ($ty:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = CodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = CodeError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $ty::parse(&s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = CodeError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                $ty::parse(s)
            }
        }

        impl From<$ty> for String {
            fn from(code: $ty) -> String {
                code.as_str().to_owned()
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
    };
}

/// Code types backed by a table row compare, order and hash by their code only.
macro_rules! table_code_common {
    ($ty:ident) => {
        code_common!($ty);

        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                self.row.code == other.row.code
            }
        }
        impl Eq for $ty {}
        impl std::hash::Hash for $ty {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.row.code.hash(state)
            }
        }
        impl PartialOrd for $ty {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $ty {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.row.code.cmp(other.row.code)
            }
        }
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($ty)).field(&self.row.code).finish()
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// 统一社会信用代码
// ---------------------------------------------------------------------------------------------

/// The 31 characters of GB 32100-2015, in value order (no I, O, S, V, Z).
const USCC_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17 for the check character (3^(i) mod 31).
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/// Weights of the 8 body characters of a GB 11714 organisation code.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
const USCC_CHARSET_RULE: &str = "allowed are 0-9 and A-H, J-N, P-R, T, U, W-Y (no I, O, S, V, Z; GB 32100-2015)";

fn uscc_value(ch: char) -> Option<u32> {
    let b = u8::try_from(ch).ok()?;
    USCC_CHARSET.iter().position(|&c| c == b).and_then(|p| u32::try_from(p).ok())
}

/// GB 11714 value: digits 0–9, letters A–Z as 10–35.
fn org_value(ch: char) -> Option<u32> {
    match ch {
        '0'..='9' => ch.to_digit(10),
        'A'..='Z' => ch.to_digit(36),
        _ => None,
    }
}

/// The GB 32100-2015 check character for the first 17 characters.
fn uscc_check_char(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut n = 0usize;
    for (ch, w) in first17.chars().zip(USCC_WEIGHTS) {
        sum += uscc_value(ch)? * w;
        n += 1;
    }
    if n != 17 {
        return None;
    }
    let c = (31 - sum % 31) % 31;
    let idx = usize::try_from(c).ok()?;
    USCC_CHARSET.get(idx).map(|&b| char::from(b))
}

/// The GB 11714 check character for an 8-character organisation code body.
fn org_check_char(body: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut n = 0usize;
    for (ch, w) in body.chars().zip(ORG_WEIGHTS) {
        sum += org_value(ch)? * w;
        n += 1;
    }
    if n != 8 {
        return None;
    }
    match 11 - sum % 11 {
        10 => Some('X'),
        11 => Some('0'),
        c => char::from_digit(c, 10),
    }
}

/// 统一社会信用代码 (GB 32100-2015): 18 characters from the 31-character set (digits and
/// uppercase letters except I, O, S, V, Z), a valid check character in position 18, and in
/// positions 9–17 an organisation code (组织机构代码) valid under GB 11714.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

impl Uscc {
    /// Parses and checks a unified social credit code. Lowercase letters are rejected, not
    /// upper-cased; surrounding whitespace is rejected, not trimmed.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let kind = CodeKind::Uscc;
        check_len(kind, s, 18, "18 characters (GB 32100-2015)")?;
        check_charset(kind, s, |c| uscc_value(c).is_some(), USCC_CHARSET_RULE)?;
        // All 18 characters are ASCII from here on, so byte slicing is exact.
        let (first17, check) = (s.get(..17).unwrap_or(""), s.get(17..).unwrap_or(""));
        let found = check.chars().next().unwrap_or('?');
        let expected = uscc_check_char(first17).unwrap_or('?');
        if expected != found {
            return Err(CodeError::UsccCheck { value: s.to_owned(), expected, found });
        }
        let org_body = s.get(8..16).unwrap_or("");
        let org_found = s.get(16..17).and_then(|c| c.chars().next()).unwrap_or('?');
        let org_expected = org_check_char(org_body).unwrap_or('?');
        if org_expected != org_found {
            return Err(CodeError::OrgCodeCheck { value: s.to_owned(), org_code: s.get(8..17).unwrap_or("").to_owned(), expected: org_expected, found: org_found });
        }
        Ok(Uscc(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Positions 3–8: the registering authority's administrative region code (登记管理机关行政区划码).
    pub fn region_code(&self) -> &str {
        self.0.get(2..8).unwrap_or("")
    }

    /// Positions 9–17: the embedded organisation code (组织机构代码, GB 11714), check character included.
    pub fn organisation_code(&self) -> &str {
        self.0.get(8..17).unwrap_or("")
    }
}

code_common!(Uscc);

// ---------------------------------------------------------------------------------------------
// Syntax-only codes
// ---------------------------------------------------------------------------------------------

/// 海关编码 (customs registration code of an enterprise): exactly 10 characters, digits and
/// uppercase letters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomsCode(String);

impl CustomsCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let kind = CodeKind::CustomsCode;
        check_len(kind, s, 10, "exactly 10 characters (digits and uppercase letters)")?;
        check_charset(kind, s, |c| c.is_ascii_digit() || c.is_ascii_uppercase(), "only digits and uppercase letters are allowed")?;
        Ok(CustomsCode(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

code_common!(CustomsCode);

/// 商品编码: a 10-digit line of China's national tariff. 8- or 9-digit codes are rejected.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HsCode(String);

impl HsCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        parse_digits(CodeKind::HsCode, s, 10, "10 digits (a 10-digit line of China's national tariff)")?;
        Ok(HsCode(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// HS chapter (章): the first 2 digits.
    pub fn chapter(&self) -> &str {
        self.0.get(..2).unwrap_or("")
    }

    /// HS heading (品目): the first 4 digits.
    pub fn heading(&self) -> &str {
        self.0.get(..4).unwrap_or("")
    }

    /// HS subheading (子目): the first 6 digits, the internationally common part.
    pub fn subheading(&self) -> &str {
        self.0.get(..6).unwrap_or("")
    }
}

code_common!(HsCode);

/// 行政区划代码: 6 digits; the first two are the province.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

/// Provinces counted as east (东部) by the guarantee rules (CODES.md, RULES.md §11.5):
/// 北京, 天津, 河北, 辽宁, 上海, 江苏, 浙江, 福建, 山东, 广东.
const EAST_PROVINCES: [&str; 10] = ["11", "12", "13", "21", "31", "32", "33", "35", "37", "44"];

impl RegionCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        parse_digits(CodeKind::RegionCode, s, 6, "6 digits")?;
        Ok(RegionCode(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The province: the first 2 digits.
    pub fn province(&self) -> &str {
        self.0.get(..2).unwrap_or("")
    }

    /// Whether the province is in the east (东部) rather than central/west (中西部).
    pub fn is_east(&self) -> bool {
        EAST_PROVINCES.contains(&self.province())
    }
}

code_common!(RegionCode);

/// 关区代码: 4 digits (for example 主管关区 `masterCuscd`, 申报地关区 `dclPlcCuscd`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomsDistrict(String);

impl CustomsDistrict {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        parse_digits(CodeKind::CustomsDistrict, s, 4, "4 digits")?;
        Ok(CustomsDistrict(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

code_common!(CustomsDistrict);

/// 监管方式: 4 digits. Only syntax is checked here; whether Jiamao supports a mode is decided
/// elsewhere. [`TradeModeCode::name`] gives the name of the processing-trade modes of RULES.md §15.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TradeModeCode(String);

impl TradeModeCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        parse_digits(CodeKind::TradeModeCode, s, 4, "4 digits")?;
        Ok(TradeModeCode(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The short Chinese name (简称), for the modes in the project's table (RULES.md §15).
    pub fn name(&self) -> Option<&'static str> {
        trade_mode_table().get(&self.0).map(|row| row.name)
    }

    /// The project's trade-mode name table.
    pub fn table() -> &'static CodeTable {
        trade_mode_table()
    }
}

code_common!(TradeModeCode);

// ---------------------------------------------------------------------------------------------
// Embedded code tables
// ---------------------------------------------------------------------------------------------

const UNITS_CSV: &str = include_str!("../data/units.csv");
const CURRENCIES_CSV: &str = include_str!("../data/currencies.csv");
const COUNTRIES_CSV: &str = include_str!("../data/countries.csv");
const TRADE_MODES_CSV: &str = include_str!("../data/trade_modes.csv");

/// The comment line naming the metadata fields; the next comment line holds their values.
const META_KEYS: &str = "table,edition,valid_from,source";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    code: &'static str,
    name: &'static str,
    extra: Option<&'static str>,
}

/// Whether a table has a third column, and what it must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extra {
    /// Two columns only.
    None,
    /// A third column of 3 uppercase ASCII letters (ISO code), always present.
    RequiredIso,
    /// A third column of 3 uppercase ASCII letters, or empty.
    OptionalIso,
}

/// One of the project's code tables, with its metadata (from the file's header comment).
#[derive(Debug, Clone)]
pub struct CodeTable {
    table: &'static str,
    edition: &'static str,
    valid_from: &'static str,
    source: &'static str,
    rows: Vec<Row>,
    skipped: usize,
}

impl CodeTable {
    /// The official table this one follows, e.g. `cusUnit`.
    pub fn table(&self) -> &'static str {
        self.table
    }
    /// The edition label, e.g. `2026`.
    pub fn edition(&self) -> &'static str {
        self.edition
    }
    /// The date (`YYYY-MM-DD`) from which this edition applies.
    pub fn valid_from(&self) -> &'static str {
        self.valid_from
    }
    /// Where the table comes from.
    pub fn source(&self) -> &'static str {
        self.source
    }
    /// Number of usable rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    /// Number of malformed or duplicate rows that were skipped when the table was read.
    pub fn skipped(&self) -> usize {
        self.skipped
    }
    /// `(code, name)` pairs in code order.
    pub fn entries(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.rows.iter().map(|r| (r.code, r.name))
    }

    fn get(&self, code: &str) -> Option<&Row> {
        self.rows.binary_search_by(|r| r.code.cmp(code)).ok().and_then(|i| self.rows.get(i))
    }
}

fn is_iso_alpha3(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// Reads an embedded table. Never fails: rows that do not fit (wrong code length or characters,
/// empty name, wrong column count, bad third column, duplicate code) are skipped and counted.
fn parse_table(text: &'static str, code_len: usize, extra: Extra, default_table: &'static str) -> CodeTable {
    let mut meta: Option<[&'static str; 4]> = None;
    let mut rows = Vec::new();
    let mut skipped = 0usize;
    let mut header_seen = false;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim();
            if comment == META_KEYS || meta.is_some() {
                continue;
            }
            let parts: Vec<&'static str> = comment.splitn(4, ',').map(str::trim).collect();
            if let &[table, edition, valid_from, source] = parts.as_slice() {
                meta = Some([table, edition, valid_from, source]);
            }
            continue;
        }
        if !header_seen && line.starts_with("code,") {
            header_seen = true;
            continue;
        }
        match parse_row(line, code_len, extra) {
            Some(row) => rows.push(row),
            None => skipped += 1,
        }
    }
    rows.sort_by(|a: &Row, b: &Row| a.code.cmp(b.code));
    let before = rows.len();
    rows.dedup_by(|later, earlier| later.code == earlier.code);
    skipped += before - rows.len();
    let [table, edition, valid_from, source] = meta.unwrap_or([default_table, "unknown", "", "embedded table without header"]);
    CodeTable { table, edition, valid_from, source, rows, skipped }
}

fn parse_row(line: &'static str, code_len: usize, extra: Extra) -> Option<Row> {
    let fields: Vec<&'static str> = line.split(',').map(str::trim).collect();
    let (code, name, third) = match (extra, fields.as_slice()) {
        (Extra::None, &[code, name]) => (code, name, None),
        (Extra::RequiredIso | Extra::OptionalIso, &[code, name, third]) => (code, name, Some(third)),
        (Extra::OptionalIso, &[code, name]) => (code, name, None),
        _ => return None,
    };
    if code.len() != code_len || !code.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return None;
    }
    let third = third.filter(|t| !t.is_empty());
    match (extra, third) {
        (Extra::None, _) => {}
        (Extra::RequiredIso, None) => return None,
        (_, Some(t)) if !is_iso_alpha3(t) => return None,
        _ => {}
    }
    Some(Row { code, name, extra: third })
}

fn unit_table() -> &'static CodeTable {
    static TABLE: OnceLock<CodeTable> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(UNITS_CSV, 3, Extra::None, "cusUnit"))
}

fn currency_table() -> &'static CodeTable {
    static TABLE: OnceLock<CodeTable> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(CURRENCIES_CSV, 3, Extra::RequiredIso, "cusCurr"))
}

fn country_table() -> &'static CodeTable {
    static TABLE: OnceLock<CodeTable> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(COUNTRIES_CSV, 3, Extra::OptionalIso, "cusCountry"))
}

fn trade_mode_table() -> &'static CodeTable {
    static TABLE: OnceLock<CodeTable> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(TRADE_MODES_CSV, 4, Extra::None, "cusTrade"))
}

/// 3 digits, then present in `table`.
fn lookup(kind: CodeKind, s: &str, table: &'static CodeTable) -> Result<&'static Row, CodeError> {
    parse_digits(kind, s, 3, "3 digits")?;
    table.get(s).ok_or_else(|| CodeError::Unknown { kind, value: s.to_owned(), table: table.table, edition: table.edition })
}

// ---------------------------------------------------------------------------------------------
// Table codes
// ---------------------------------------------------------------------------------------------

/// 计量单位: 3 digits, present in the project's unit table (`data/units.csv`, after `cusUnit`).
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitCode {
    row: &'static Row,
}

impl UnitCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        lookup(CodeKind::UnitCode, s, unit_table()).map(|row| UnitCode { row })
    }

    pub fn as_str(&self) -> &'static str {
        self.row.code
    }

    /// Chinese name, e.g. 千克 for `035`.
    pub fn name(&self) -> &'static str {
        self.row.name
    }

    /// Every unit in the table, in code order.
    pub fn all() -> impl Iterator<Item = UnitCode> {
        unit_table().rows.iter().map(|row| UnitCode { row })
    }

    /// The project's unit table.
    pub fn table() -> &'static CodeTable {
        unit_table()
    }
}

table_code_common!(UnitCode);

/// 币制: 3 digits, present in the project's currency table (`data/currencies.csv`, after `cusCurr`).
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CurrencyCode {
    row: &'static Row,
}

impl CurrencyCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        lookup(CodeKind::CurrencyCode, s, currency_table()).map(|row| CurrencyCode { row })
    }

    pub fn as_str(&self) -> &'static str {
        self.row.code
    }

    /// Chinese name, e.g. 美元 for `502`.
    pub fn name(&self) -> &'static str {
        self.row.name
    }

    /// ISO 4217 code, e.g. `USD` for `502`.
    pub fn iso(&self) -> &'static str {
        self.row.extra.unwrap_or("")
    }

    /// The customs code of an ISO 4217 currency (as used on post-2018 declarations), if in the table.
    pub fn from_iso(iso: &str) -> Option<CurrencyCode> {
        currency_table().rows.iter().find(|row| row.extra == Some(iso)).map(|row| CurrencyCode { row })
    }

    /// Every currency in the table, in code order.
    pub fn all() -> impl Iterator<Item = CurrencyCode> {
        currency_table().rows.iter().map(|row| CurrencyCode { row })
    }

    /// The project's currency table.
    pub fn table() -> &'static CodeTable {
        currency_table()
    }
}

table_code_common!(CurrencyCode);

/// 国别地区: 3 digits, present in the project's country/region table (`data/countries.csv`).
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode {
    row: &'static Row,
}

impl CountryCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        lookup(CodeKind::CountryCode, s, country_table()).map(|row| CountryCode { row })
    }

    pub fn as_str(&self) -> &'static str {
        self.row.code
    }

    /// Chinese name, e.g. 中国 for `142`.
    pub fn name(&self) -> &'static str {
        self.row.name
    }

    /// ISO 3166-1 alpha-3 code, where the customs code corresponds to exactly one (not for
    /// "other …" groups, historic entries or parts of territories).
    pub fn iso3(&self) -> Option<&'static str> {
        self.row.extra
    }

    /// The 3-digit customs code of an ISO 3166-1 alpha-3 code (as used on post-2018
    /// declarations), if in the table.
    pub fn from_iso3(iso3: &str) -> Option<CountryCode> {
        country_table().rows.iter().find(|row| row.extra == Some(iso3)).map(|row| CountryCode { row })
    }

    /// Every country/region in the table, in code order.
    pub fn all() -> impl Iterator<Item = CountryCode> {
        country_table().rows.iter().map(|row| CountryCode { row })
    }

    /// The project's country/region table.
    pub fn table() -> &'static CodeTable {
        country_table()
    }
}

table_code_common!(CountryCode);

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn err<T: fmt::Debug>(r: Result<T, CodeError>) -> CodeError {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e,
        }
    }

    // --- tables ---

    #[test]
    fn embedded_tables_have_expected_rows_and_none_skipped() {
        for (table, name, rows) in [(UnitCode::table(), "cusUnit", 122), (CurrencyCode::table(), "cusCurr", 22), (CountryCode::table(), "cusCountry", 243), (TradeModeCode::table(), "cusTrade", 38)] {
            assert_eq!(table.table(), name);
            assert_eq!(table.len(), rows, "rows of {name}");
            assert_eq!(table.skipped(), 0, "skipped rows of {name}");
            assert_eq!(table.edition(), "2026");
            assert_eq!(table.valid_from(), "2026-01-01");
            assert!(!table.source().is_empty());
        }
    }

    #[test]
    fn malformed_rows_are_skipped_and_counted() {
        let text: &'static str = "# table,edition,valid_from,source\n\
            # cusTest,1999,1999-01-01,test\n\
            code,name\n\
            001,甲\n\
            01,too short\n\
            0a1,letter\n\
            002,\n\
            003,three,columns\n\
            004,乙\n\
            001,duplicate\n\
            \n\
            # a note\n\
            005,丙\r\n";
        let t = parse_table(text, 3, Extra::None, "fallback");
        assert_eq!(t.table(), "cusTest");
        assert_eq!(t.edition(), "1999");
        assert_eq!(t.len(), 3);
        assert_eq!(t.skipped(), 5);
        assert_eq!(t.entries().collect::<Vec<_>>(), vec![("001", "甲"), ("004", "乙"), ("005", "丙")]);

        let iso: &'static str = "code,name,iso\n001,甲,ABC\n002,乙,\n003,丙,abc\n004,丁\n";
        let t = parse_table(iso, 3, Extra::RequiredIso, "fallback");
        assert_eq!(t.table(), "fallback");
        assert_eq!(t.edition(), "unknown");
        assert_eq!(t.len(), 1);
        assert_eq!(t.skipped(), 3);
        let t = parse_table(iso, 3, Extra::OptionalIso, "fallback");
        assert_eq!(t.len(), 3);
        assert_eq!(t.skipped(), 1);
    }

    #[test]
    fn iso_codes_are_unique() {
        let cur: Vec<_> = CurrencyCode::all().map(|c| c.iso()).collect();
        assert_eq!(cur.iter().collect::<HashSet<_>>().len(), cur.len());
        let cty: Vec<_> = CountryCode::all().filter_map(|c| c.iso3()).collect();
        assert_eq!(cty.iter().collect::<HashSet<_>>().len(), cty.len());
    }

    // --- USCC ---

    #[test]
    fn uscc_valid_codes() {
        for s in [
            "91441900698123458E",
            "91110000MA01ABCD52",
            "91310115MA1K4LFW3X",
            "52440300500000015Q",
            "12100000400000018N",
            "Y1330100MAC000017P",
            "933205830876543210",
            "91500000202800014A",
            "31440000MB2C3D4E7M",
            "91440300100000040X", // organisation check 11 → '0'
            "9144030010000018XH", // organisation check 10 → 'X'
            "914403001000002860", // overall check 31 → '0'
        ] {
            let u = Uscc::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(u.as_str(), s);
            assert_eq!(u.to_string(), s);
        }
        let u = Uscc::parse("91441900698123458E").unwrap();
        assert_eq!(u.region_code(), "441900");
        assert_eq!(u.organisation_code(), "698123458");
    }

    #[test]
    fn uscc_wrong_check_character() {
        let e = err(Uscc::parse("91441900698123458F"));
        assert_eq!(e, CodeError::UsccCheck { value: "91441900698123458F".into(), expected: 'E', found: 'F' });
        assert_eq!(
            e.to_string(),
            "invalid unified social credit code (统一社会信用代码) \"91441900698123458F\": \
             check character should be 'E' (GB 32100-2015)"
        );
    }

    #[test]
    fn uscc_wrong_organisation_check() {
        // Organisation code 69812345-7 (should be -8), overall check recomputed so it passes.
        let first17 = "91441900698123457";
        let check = uscc_check_char(first17).unwrap();
        let s = format!("{first17}{check}");
        let e = err(Uscc::parse(&s));
        assert!(matches!(e, CodeError::OrgCodeCheck { expected: '8', found: '7', .. }), "{e:?}");
        assert!(e.to_string().contains("\"698123457\" should end in check character '8' (GB 11714)"), "{e}");
    }

    #[test]
    fn uscc_length_lowercase_and_charset() {
        let e = err(Uscc::parse("91441900698123458"));
        assert!(matches!(e, CodeError::Length { len: 17, .. }));
        assert!(e.to_string().contains("must be 18 characters (GB 32100-2015), but has 17 characters"), "{e}");
        assert!(matches!(err(Uscc::parse("")), CodeError::Length { len: 0, .. }));
        assert!(matches!(err(Uscc::parse("91441900698123458EE")), CodeError::Length { len: 19, .. }));
        assert!(matches!(err(Uscc::parse(" 91441900698123458E")), CodeError::Length { .. }));

        let e = err(Uscc::parse("91441900698123458e"));
        assert!(matches!(e, CodeError::Lowercase { ch: 'e', position: 18, .. }), "{e:?}");
        assert!(e.to_string().contains("letters must be uppercase"), "{e}");

        for (s, ch, position) in [
            ("9144190069812345IE", 'I', 17),
            ("91441900698123O58E", 'O', 15),
            ("S1441900698123458E", 'S', 1),
            ("9V441900698123458E", 'V', 2),
            ("914419006981Z3458E", 'Z', 13),
            ("91441900-98123458E", '-', 9),
            ("91441900６98123458E", '６', 9),
        ] {
            let e = err(Uscc::parse(s));
            assert_eq!(e, CodeError::Character { kind: CodeKind::Uscc, value: s.into(), ch, position, rule: USCC_CHARSET_RULE }, "{s}");
            assert!(e.to_string().contains("no I, O, S, V, Z"));
        }
    }

    #[test]
    fn uscc_serde_round_trip() {
        let u: Uscc = serde_json::from_str("\"91441900698123458E\"").unwrap();
        assert_eq!(serde_json::to_string(&u).unwrap(), "\"91441900698123458E\"");
        let e = serde_json::from_str::<Uscc>("\"91441900698123458F\"").unwrap_err();
        assert!(e.to_string().contains("check character should be 'E'"), "{e}");
    }

    // --- syntax-only codes ---

    #[test]
    fn customs_code() {
        assert_eq!(CustomsCode::parse("330261A004").unwrap().as_str(), "330261A004");
        assert_eq!(CustomsCode::parse("4403960000").unwrap().to_string(), "4403960000");
        assert!(matches!(err(CustomsCode::parse("33119629991")), CodeError::Length { len: 11, .. }));
        assert!(matches!(err(CustomsCode::parse("330261a004")), CodeError::Lowercase { position: 7, .. }));
        let e = err(CustomsCode::parse("330261-004"));
        assert!(matches!(e, CodeError::Character { ch: '-', position: 7, .. }));
        assert_eq!(
            e.to_string(),
            "invalid customs code (海关编码) \"330261-004\": character '-' at position 7 is not allowed; \
             only digits and uppercase letters are allowed"
        );
    }

    #[test]
    fn hs_code() {
        let h = HsCode::parse("9405310000").unwrap();
        assert_eq!((h.chapter(), h.heading(), h.subheading()), ("94", "9405", "940531"));
        for short in ["94053100", "940531000"] {
            let e = err(HsCode::parse(short));
            assert!(e.to_string().contains("must be 10 digits"), "{e}");
        }
        assert_eq!(
            err(HsCode::parse("940531000")).to_string(),
            "invalid HS code (商品编码) \"940531000\": must be 10 digits (a 10-digit line of China's \
             national tariff), but has 9 characters"
        );
        assert!(matches!(err(HsCode::parse("9405.31.00")), CodeError::Character { ch: '.', position: 5, .. }));
        assert!(matches!(err(HsCode::parse("94053100000")), CodeError::Length { len: 11, .. }));
    }

    #[test]
    fn region_code() {
        let r = RegionCode::parse("441900").unwrap();
        assert_eq!(r.province(), "44");
        assert!(r.is_east());
        for (code, east) in [
            ("110105", true),
            ("120101", true),
            ("130102", true),
            ("210102", true),
            ("310115", true),
            ("320583", true),
            ("330201", true),
            ("350203", true),
            ("370202", true),
            ("440300", true),
            ("140105", false),
            ("340104", false),
            ("360102", false),
            ("410105", false),
            ("500000", false),
            ("510104", false),
            ("650102", false),
        ] {
            assert_eq!(RegionCode::parse(code).unwrap().is_east(), east, "{code}");
        }
        assert!(matches!(err(RegionCode::parse("4419")), CodeError::Length { len: 4, .. }));
        assert!(matches!(err(RegionCode::parse("44190A")), CodeError::Character { ch: 'A', .. }));
    }

    #[test]
    fn customs_district() {
        assert_eq!(CustomsDistrict::parse("3111").unwrap().as_str(), "3111");
        assert!(matches!(err(CustomsDistrict::parse("311")), CodeError::Length { len: 3, .. }));
        assert!(matches!(err(CustomsDistrict::parse("31l1")), CodeError::Character { ch: 'l', .. }));
    }

    #[test]
    fn trade_mode_code() {
        let t = TradeModeCode::parse("0615").unwrap();
        assert_eq!(t.name(), Some("进料对口"));
        assert_eq!(TradeModeCode::parse("0214").unwrap().name(), Some("来料加工"));
        assert_eq!(TradeModeCode::parse("0200").unwrap().name(), Some("料件销毁"));
        assert_eq!(TradeModeCode::parse("0400").unwrap().name(), Some("边角料销毁"));
        assert_eq!(TradeModeCode::parse("9999").unwrap().name(), None);
        assert!(matches!(err(TradeModeCode::parse("615")), CodeError::Length { len: 3, .. }));
        let e = err(TradeModeCode::parse("06I5"));
        assert_eq!(e.kind(), CodeKind::TradeModeCode);
    }

    // --- table codes ---

    #[test]
    fn unit_code() {
        let u = UnitCode::parse("035").unwrap();
        assert_eq!((u.as_str(), u.name()), ("035", "千克"));
        assert_eq!(UnitCode::parse("006").unwrap().name(), "套");
        assert_eq!(UnitCode::parse("070").unwrap().name(), "吨");
        let e = err(UnitCode::parse("999"));
        assert_eq!(e.to_string(), "unknown unit code (计量单位) \"999\": not in the customs unit table cusUnit (2026 edition)");
        assert!(matches!(err(UnitCode::parse("35")), CodeError::Length { len: 2, .. }));
        assert!(matches!(err(UnitCode::parse("kg")), CodeError::Length { .. }));
        assert!(matches!(err(UnitCode::parse("0x5")), CodeError::Character { .. }));
    }

    #[test]
    fn currency_code() {
        let c = CurrencyCode::parse("502").unwrap();
        assert_eq!((c.name(), c.iso()), ("美元", "USD"));
        assert_eq!(CurrencyCode::parse("142").unwrap().iso(), "CNY");
        assert_eq!(CurrencyCode::from_iso("EUR").map(|c| c.as_str()), Some("300"));
        assert_eq!(CurrencyCode::from_iso("XXX"), None);
        let e = err(CurrencyCode::parse("999"));
        assert_eq!(e.to_string(), "unknown currency code (币制) \"999\": not in the customs currency table cusCurr (2026 edition)");
        assert!(matches!(err(CurrencyCode::parse("USD")), CodeError::Character { .. }));
    }

    #[test]
    fn country_code() {
        let c = CountryCode::parse("142").unwrap();
        assert_eq!((c.name(), c.iso3()), ("中国", Some("CHN")));
        assert_eq!(CountryCode::parse("502").unwrap().name(), "美国");
        assert_eq!(CountryCode::parse("199").unwrap().iso3(), None);
        assert_eq!(CountryCode::from_iso3("JPN").map(|c| c.as_str()), Some("116"));
        let e = err(CountryCode::parse("000"));
        assert_eq!(e.to_string(), "unknown country/region code (国别地区) \"000\": not in the customs country/region table cusCountry (2026 edition)");
    }

    #[test]
    fn table_codes_compare_by_code_and_serialize_as_string() {
        let a = UnitCode::parse("006").unwrap();
        let b = UnitCode::parse("035").unwrap();
        assert!(a < b);
        assert_eq!(a, UnitCode::parse("006").unwrap());
        assert_eq!(format!("{a:?}"), "UnitCode(\"006\")");
        let set: HashSet<_> = [a, b, a].into_iter().collect();
        assert_eq!(set.len(), 2);
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"035\"");
        let c: CountryCode = serde_json::from_str("\"142\"").unwrap();
        assert_eq!(c.name(), "中国");
        let e = serde_json::from_str::<UnitCode>("\"999\"").unwrap_err();
        assert!(e.to_string().contains("not in the customs unit table"), "{e}");
        let e = serde_json::from_str::<UnitCode>("35").unwrap_err();
        assert!(e.to_string().contains("expected a string"), "{e}");
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "9".repeat(1000);
        let e = err(HsCode::parse(&long));
        assert!(e.to_string().len() < 300, "{e}");
        assert!(e.to_string().contains("…"));
        assert!(matches!(e, CodeError::Length { len: 1000, .. }));
    }

    #[test]
    fn codes_md_units_and_currencies_are_present() {
        // CODES.md lists these; the integration test re-checks against the file itself.
        for (code, name) in [
            ("001", "台"),
            ("007", "个"),
            ("011", "件"),
            ("015", "条"),
            ("030", "米"),
            ("032", "平方米"),
            ("046", "疋"),
            ("062", "千瓦时"),
            ("083", "盎司"),
            ("095", "升"),
            ("136", "袋"),
            ("147", "千米"),
        ] {
            assert_eq!(UnitCode::parse(code).map(|u| u.name()), Ok(name));
        }
        for (code, iso) in [
            ("110", "HKD"),
            ("116", "JPY"),
            ("121", "MOP"),
            ("132", "SGD"),
            ("133", "KRW"),
            ("142", "CNY"),
            ("300", "EUR"),
            ("303", "GBP"),
            ("331", "CHF"),
            ("501", "CAD"),
            ("502", "USD"),
            ("601", "AUD"),
        ] {
            assert_eq!(CurrencyCode::parse(code).map(|c| c.iso()), Ok(iso));
        }
    }
}
