//! The tax quote (FORMAT.md "Tax quote document"): every figure of a domestic sale computed from the
//! ledger, each with its inputs and their sources.
//!
//! Ledger form: a posted domestic-sale list, or items of a sale not yet declared. Products and
//! defective products are converted into the bonded materials they consumed through the 单耗 version
//! used (q·uc·share); each material is valued (RULES.md §8.1) at the original price of a named import
//! batch, else the weighted average of its priced inflows from the start of the manual's validity or
//! the book's cycle up to the tax date (进料), or at a price the user enters: similar goods for 来料,
//! the domestic price for leftovers and by-products. Explicit form: a value and rates given directly.

use super::calc::{self, Taxes, Threshold};
use super::rates::{ExchangeRule, FoundRate, Rates};
use super::tariff::{LineRates, Rate, RateSource, Tariff};
use super::{TaxError, TaxPolicy};
use crate::book::{Book, Family};
use crate::codes::{CountryCode, CurrencyCode, HsCode, UnitCode};
use crate::decimal;
use crate::doc::{BookType, Goods, ListDoc};
use crate::movement::{classify, Movement};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What kind of goods an item of a quote is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleGoods {
    /// 料件 (剩余料件).
    Material,
    /// 成品, taxed as the materials it consumed.
    Product,
    /// 残次品, taxed as the materials it consumed.
    Defective,
    /// 边角料, as presented, at its domestic price; no interest.
    Leftover,
    /// 副产品, as presented, at its price (`hs_code`, `unit`, `unit_price`, `currency` in the item).
    Byproduct,
}

/// The basis of duty for a zone book's product sale (选择性征收关税, RULES.md §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectiveBasis {
    /// 按料件征税 (0544 / 0545).
    Materials,
    /// 按成品征税 (0444 / 0445).
    Product,
}

/// One item of a sale not yet declared.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteItem {
    pub goods: SaleGoods,
    #[serde(default)]
    pub item_seq: Option<u32>,
    #[serde(with = "decimal")]
    pub qty: Decimal,
    /// Product lines: the 单耗 version (default: the one valid on the tax date).
    #[serde(default)]
    pub consumption_version: Option<String>,
    /// Materials: value at the original price of this posted import list (the batch).
    #[serde(default)]
    pub import_list_no: Option<String>,
    #[serde(default, deserialize_with = "decimal::deserialize_opt")]
    pub unit_price: Option<Decimal>,
    #[serde(default)]
    pub currency: Option<CurrencyCode>,
    /// By-products: their HS code and unit.
    #[serde(default)]
    pub hs_code: Option<HsCode>,
    #[serde(default)]
    pub unit: Option<UnitCode>,
}

/// A price the user enters for an item (similar goods for 来料, the domestic price of leftovers, the
/// product's value for a zone sale taxed as the product, or an override).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceDoc {
    pub goods: SaleGoods,
    pub item_seq: u32,
    #[serde(with = "decimal")]
    pub unit_price: Decimal,
    pub currency: CurrencyCode,
}

/// A quote request, either form (FORMAT.md).
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    #[serde(default)]
    pub book_no: Option<String>,
    #[serde(default)]
    pub list_no: Option<String>,
    #[serde(default)]
    pub items: Option<Vec<QuoteItem>>,
    /// The date whose rates apply (default for a posted list: its declaration date).
    #[serde(default, deserialize_with = "crate::date::deserialize_opt")]
    pub tax_date: Option<NaiveDate>,
    /// The end of the interest period (the payment note, 税款缴款书).
    #[serde(default, deserialize_with = "crate::date::deserialize_opt")]
    pub payment_note_date: Option<NaiveDate>,
    /// CNY per unit, by currency code, instead of the dated table.
    #[serde(default)]
    pub exchange_rates: Option<BTreeMap<String, String>>,
    /// The yearly interest rate (a fraction), instead of the dated table.
    #[serde(default, deserialize_with = "decimal::deserialize_opt")]
    pub interest_rate: Option<Decimal>,
    #[serde(default)]
    pub selective_tariff: Option<SelectiveBasis>,
    /// A certificate of origin is declared for this country: agreement rates apply (从低).
    #[serde(default)]
    pub origin_certificate: Option<CountryCode>,
    #[serde(default)]
    pub prices: Vec<PriceDoc>,
    // The explicit form.
    #[serde(default, deserialize_with = "decimal::deserialize_opt")]
    pub customs_value: Option<Decimal>,
    #[serde(default)]
    pub currency: Option<CurrencyCode>,
    #[serde(default, deserialize_with = "decimal::deserialize_opt")]
    pub duty_rate: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal::deserialize_opt")]
    pub vat_rate: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal::deserialize_opt")]
    pub consumption_tax_rate: Option<Decimal>,
    /// CNY per unit of `qty`.
    #[serde(default, deserialize_with = "decimal::deserialize_opt")]
    pub consumption_tax_specific: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal::deserialize_opt")]
    pub qty: Option<Decimal>,
    #[serde(default, deserialize_with = "crate::date::deserialize_opt")]
    pub interest_from: Option<NaiveDate>,
}

/// Parses a request; errors name the field (strict, like every interchange document).
pub fn parse_request(text: &str) -> Result<QuoteRequest, TaxError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e.path().to_string();
        TaxError::new(if at == "." { String::new() } else { at }, "request_invalid", e.into_inner().to_string())
    })
}

/// How a line was valued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Valuation {
    /// `original_batch`, `weighted_average`, `similar_goods`, `domestic_price`, `declared_price`,
    /// `product_price`, `customs_value`.
    pub method: String,
    /// Price per unit in `currency`, rounded to 6 places for display (the value uses the exact ratio).
    #[serde(with = "decimal")]
    pub unit_price: Decimal,
    pub currency: String,
    /// The priced inflows averaged (weighted average) or the batch: quantity and amount.
    #[serde(serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub priced_qty: Option<Decimal>,
    #[serde(serialize_with = "decimal::serialize_opt", skip_serializing_if = "Option::is_none")]
    pub priced_amount: Option<Decimal>,
    /// The lists whose prices count (the batch, or every priced inflow averaged).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<String>,
    #[serde(with = "decimal")]
    pub exchange_rate: Decimal,
    pub exchange_rate_date: NaiveDate,
    pub exchange_rate_source: String,
}

/// A product (or defective) line of the sale that a material line comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductSource {
    pub product_seq: u32,
    #[serde(with = "decimal")]
    pub product_qty: Decimal,
    pub version: String,
    /// q·uc·share, exact.
    #[serde(with = "decimal")]
    pub material_qty: Decimal,
}

/// One tax line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuoteLine {
    pub goods: SaleGoods,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_seq: Option<u32>,
    pub hs_code: String,
    pub name: String,
    #[serde(with = "decimal")]
    pub qty: Decimal,
    pub unit: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from_products: Vec<ProductSource>,
    pub valuation: Valuation,
    /// 计税价格 in CNY, rounded to the fen.
    #[serde(with = "decimal")]
    pub customs_value: Decimal,
    pub duty_rate: String,
    pub duty_rate_source: String,
    #[serde(with = "decimal")]
    pub duty: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumption_tax_rate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumption_tax_rate_source: Option<String>,
    #[serde(with = "decimal")]
    pub consumption_tax: Decimal,
    pub vat_rate: String,
    pub vat_rate_source: String,
    #[serde(with = "decimal")]
    pub vat: Decimal,
    pub interest_days: i64,
    #[serde(with = "decimal")]
    pub interest_rate: Decimal,
    #[serde(with = "decimal")]
    pub interest: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interest_exemption: Option<String>,
}

/// Sums of a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Totals {
    #[serde(with = "decimal")]
    pub customs_value: Decimal,
    #[serde(with = "decimal")]
    pub duty: Decimal,
    #[serde(with = "decimal")]
    pub consumption_tax: Decimal,
    #[serde(with = "decimal")]
    pub vat: Decimal,
    #[serde(with = "decimal")]
    pub interest: Decimal,
    /// duty + consumption tax + VAT + interest.
    #[serde(with = "decimal")]
    pub total: Decimal,
}

impl Totals {
    fn of(lines: &[QuoteLine]) -> Totals {
        let mut t = Totals::default();
        for l in lines {
            t.customs_value += l.customs_value;
            t.duty += l.duty;
            t.consumption_tax += l.consumption_tax;
            t.vat += l.vat;
            t.interest += l.interest;
        }
        t.total = t.duty + t.consumption_tax + t.vat + t.interest;
        t
    }
}

/// The interest period of a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterestBasis {
    pub from: NaiveDate,
    /// `first_import` (list), `last_write_off` (cycle closed), or `request`.
    pub from_basis: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_list_no: Option<String>,
    pub to: NaiveDate,
    pub days: i64,
    pub day_count: calc::DayCount,
    #[serde(with = "decimal")]
    pub rate: Decimal,
    pub rate_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<String>,
}

/// Both bases of a zone sale (选择性征收关税), and the one chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelectiveTariff {
    pub as_materials: Totals,
    pub as_product: Totals,
    pub product_lines: Vec<QuoteLine>,
    pub material_lines: Vec<QuoteLine>,
    pub chosen: SelectiveBasis,
    /// What decided: `request`, `trade_mode` or `default`.
    pub chosen_by: String,
    /// The trade mode of the choice: 0544 / 0545 (materials) or 0444 / 0445 (product).
    pub trade_mode: String,
    /// VAT and consumption tax follow the duty's basis (RULES.md §10: whether they always follow the
    /// product is UNCONFIRMED).
    pub note: String,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quote {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub book_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_no: Option<String>,
    pub tax_date: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_note_date: Option<NaiveDate>,
    pub lines: Vec<QuoteLine>,
    pub totals: Totals,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interest: Option<InterestBasis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Threshold>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selective_tariff: Option<SelectiveTariff>,
}

/// One priced material inflow of the ledger (an import, a deep-processing or surplus carry-in that
/// carried an amount).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inflow {
    pub declared_on: NaiveDate,
    /// Index into [`LedgerFacts::list_nos`].
    pub list: usize,
    pub qty: Decimal,
    pub amount: Decimal,
}

/// What a quote needs of a book's posted lists, gathered in one streaming pass (the lists
/// themselves are not kept): each material's priced inflows, the first import, and the
/// domestic-sale lists.
#[derive(Debug, Clone, Default)]
pub struct LedgerFacts {
    /// Priced inflows by material seq, in posting order.
    pub inflows: BTreeMap<u32, Vec<Inflow>>,
    /// Numbers of the lists the inflows come from.
    pub list_nos: Vec<String>,
    /// The earliest import list (date, list_no).
    pub first_import: Option<(NaiveDate, String)>,
    /// Domestic-sale lists, with the 单耗 version each line used.
    pub sales: Vec<(ListDoc, Vec<Option<String>>)>,
    /// A list a request names, and its trade mode once seen (to say why it cannot be quoted).
    pub looked_for: Option<(String, Option<String>)>,
}

impl LedgerFacts {
    /// Facts that also note the trade mode of `list_no`.
    pub fn looking_for(list_no: Option<&str>) -> Self {
        LedgerFacts { looked_for: list_no.map(|n| (n.to_owned(), None)), ..LedgerFacts::default() }
    }

    /// Takes in one posted list (lists the book no longer reads are skipped: they cannot have posted).
    pub fn add(&mut self, book: &Book, list: &ListDoc, versions: &[Option<String>]) {
        if let Some((no, mode)) = self.looked_for.as_mut() {
            if *no == list.list_no {
                *mode = Some(list.trade_mode.as_str().to_owned());
            }
        }
        let Ok(mv) = classify(book, list.trade_mode.as_str(), list.direction, list.goods) else { return };
        if mv == Movement::MaterialImport && self.first_import.as_ref().is_none_or(|(d, _)| list.declared_on < *d) {
            self.first_import = Some((list.declared_on, list.list_no.clone()));
        }
        if mv.is_priced_inflow() {
            let mut index = None;
            for line in &list.lines {
                let Some(amount) = line.amount else { continue };
                let i = *index.get_or_insert_with(|| {
                    self.list_nos.push(list.list_no.clone());
                    self.list_nos.len() - 1
                });
                self.inflows.entry(line.item_seq).or_default().push(Inflow { declared_on: list.declared_on, list: i, qty: line.qty, amount });
            }
        }
        if DOMESTIC_SALE_MODES.contains(&list.trade_mode.as_str()) {
            self.sales.push((list.clone(), versions.to_vec()));
        }
    }
}

/// What a ledger quote reads: the book, the facts of its posted lists, and its last write-off.
#[derive(Debug, Clone, Copy)]
pub struct LedgerView<'a> {
    pub book: &'a Book,
    pub facts: &'a LedgerFacts,
    /// The last day of the last closed cycle (最近核销日期), if any.
    pub last_write_off: Option<NaiveDate>,
}

/// The tables a quote reads.
#[derive(Debug, Clone, Copy)]
pub struct Tables<'a> {
    pub tariff: &'a Tariff,
    pub rates: &'a Rates,
    pub policy: &'a TaxPolicy,
}

/// The trade modes of domestic sales (内销): materials, products, zone sales, leftovers.
pub const DOMESTIC_SALE_MODES: &[&str] = &["0644", "0245", "0544", "0545", "0444", "0445", "0844", "0845"];
const LEFTOVER_SALE_MODES: &[&str] = &["0844", "0845"];

/// One item of the sale before valuation.
#[derive(Debug, Clone)]
struct SaleItem {
    goods: SaleGoods,
    item_seq: Option<u32>,
    qty: Decimal,
    version: Option<String>,
    /// Posted list line: its declared amount (in the item's currency).
    amount: Option<Decimal>,
    import_list_no: Option<String>,
    unit_price: Option<(Decimal, CurrencyCode)>,
    byproduct: Option<(HsCode, UnitCode)>,
    at: String,
}

/// A material line to value and tax, merged over the products it comes from.
#[derive(Debug, Clone)]
struct MaterialLine {
    goods: SaleGoods,
    material_idx: usize,
    qty: Decimal,
    from_products: Vec<ProductSource>,
    /// Direct sales of the material: its declared amount, the batch and a user price.
    amount: Option<Decimal>,
    import_list_no: Option<String>,
    at: String,
}

/// Answers a request against a ledger (ledger form) or by itself (explicit form, `ledger` None).
pub fn quote(req: &QuoteRequest, ledger: Option<LedgerView<'_>>, tables: Tables<'_>) -> Result<Quote, TaxError> {
    let explicit = req.customs_value.is_some();
    if explicit {
        return explicit_quote(req, tables);
    }
    let Some(view) = ledger else {
        return Err(TaxError::new("book_no", "request_invalid", "a ledger quote names a book_no (or give customs_value, currency, duty_rate, vat_rate and tax_date for the explicit form)"));
    };
    // A price is what goods are worth: never below zero (a typo must not lower the duty).
    if let Some((i, p)) = req.prices.iter().enumerate().find(|(_, p)| p.unit_price.is_sign_negative() && !p.unit_price.is_zero()) {
        return Err(TaxError::new(format!("prices[{i}].unit_price"), "request_invalid", format!("the unit price of {:?} item {} is negative ({})", p.goods, p.item_seq, p.unit_price)));
    }
    ledger_quote(req, view, tables)
}

fn rate_text(r: &Rate) -> String {
    r.to_string()
}

fn explicit_quote(req: &QuoteRequest, tables: Tables<'_>) -> Result<Quote, TaxError> {
    let need = |v: Option<Decimal>, f: &str| v.ok_or_else(|| TaxError::new(f, "request_invalid", format!("the explicit form needs {f}")));
    let value = need(req.customs_value, "customs_value")?;
    let duty_rate = need(req.duty_rate, "duty_rate")?;
    let vat_rate = need(req.vat_rate, "vat_rate")?;
    let tax_date = req.tax_date.ok_or_else(|| TaxError::new("tax_date", "request_invalid", "the explicit form needs tax_date"))?;
    let currency = req.currency.as_ref().ok_or_else(|| TaxError::new("currency", "request_invalid", "the explicit form needs currency (142 for CNY)"))?;
    let policy = tables.policy;
    let fx = exchange(req, tables.rates, currency.as_str(), tax_date, policy.exchange_rule)?;
    let cny = decimal::round(value * fx.rate, policy.value_dp);
    let qty = req.qty.unwrap_or(Decimal::ONE);
    let ct = match (req.consumption_tax_rate, req.consumption_tax_specific) {
        (Some(t), Some(s)) => Some(Rate::Compound { ad_valorem: t, per_unit: s, unit: String::new() }),
        (Some(t), None) => Some(Rate::AdValorem(t)),
        (None, Some(s)) => Some(Rate::Specific { per_unit: s, unit: String::new() }),
        (None, None) => None,
    };
    if req.consumption_tax_specific.is_some() && req.qty.is_none() {
        return Err(TaxError::new("qty", "request_invalid", "a specific consumption tax needs qty"));
    }
    let taxes = calc::taxes(cny, qty, "", &Rate::AdValorem(duty_rate), ct.as_ref(), &Rate::AdValorem(vat_rate), policy)?;
    let request_src = "request".to_owned();
    let mut line = QuoteLine {
        goods: SaleGoods::Material,
        item_seq: None,
        hs_code: String::new(),
        name: String::new(),
        qty,
        unit: String::new(),
        from_products: Vec::new(),
        valuation: Valuation {
            method: "customs_value".to_owned(),
            unit_price: value,
            currency: currency.as_str().to_owned(),
            priced_qty: None,
            priced_amount: None,
            lists: Vec::new(),
            exchange_rate: fx.rate,
            exchange_rate_date: fx.valid_from,
            exchange_rate_source: fx.source,
        },
        customs_value: cny,
        duty_rate: decimal::plain(duty_rate),
        duty_rate_source: request_src.clone(),
        duty: taxes.duty,
        consumption_tax_rate: ct.as_ref().map(rate_text),
        consumption_tax_rate_source: ct.as_ref().map(|_| request_src.clone()),
        consumption_tax: taxes.consumption_tax,
        vat_rate: decimal::plain(vat_rate),
        vat_rate_source: request_src,
        vat: taxes.vat,
        interest_days: 0,
        interest_rate: Decimal::ZERO,
        interest: Decimal::ZERO,
        interest_exemption: None,
    };
    let interest = match (req.interest_from, req.payment_note_date) {
        (Some(from), Some(to)) => {
            let basis = interest_basis(req, tables, from, "request", None, to)?;
            apply_interest(&mut line, &basis, &taxes, tables.policy);
            Some(basis)
        }
        (Some(_), None) => return Err(TaxError::new("payment_note_date", "request_invalid", "interest needs payment_note_date (the end of the period)")),
        _ => None,
    };
    let lines = vec![line];
    Ok(Quote { book_no: None, list_no: None, tax_date, payment_note_date: req.payment_note_date, totals: Totals::of(&lines), lines, interest, threshold: None, selective_tariff: None })
}

fn exchange(req: &QuoteRequest, rates: &Rates, currency: &str, date: NaiveDate, rule: ExchangeRule) -> Result<FoundRate, TaxError> {
    if let Some(text) = req.exchange_rates.as_ref().and_then(|m| m.get(currency)) {
        let rate = decimal::parse(text).map_err(|e| TaxError::new(format!("exchange_rates.{currency}"), "request_invalid", e))?;
        if rate <= Decimal::ZERO {
            return Err(TaxError::new(format!("exchange_rates.{currency}"), "request_invalid", "an exchange rate must be positive"));
        }
        return Ok(FoundRate { rate, valid_from: date, source: "request".to_owned() });
    }
    rates.exchange(currency, date, rule)
}

fn interest_basis(req: &QuoteRequest, tables: Tables<'_>, from: NaiveDate, from_basis: &str, from_list_no: Option<String>, to: NaiveDate) -> Result<InterestBasis, TaxError> {
    let policy = tables.policy;
    let days = calc::interest_days(from, to, policy.day_count)?;
    let (rate, rate_source) = match req.interest_rate {
        Some(r) => (r, "request".to_owned()),
        None => {
            let f = tables.rates.deferred_interest(to)?;
            (f.rate, format!("{} (from {})", f.source, f.valid_from))
        }
    };
    let waiver = policy.interest_waivers.iter().find(|w| w.from <= to && to <= w.until).map(|w| format!("{} ({} to {})", w.source, w.from, w.until));
    Ok(InterestBasis { from, from_basis: from_basis.to_owned(), from_list_no, to, days, day_count: policy.day_count, rate, rate_source, waiver })
}

fn apply_interest(line: &mut QuoteLine, basis: &InterestBasis, taxes: &Taxes, policy: &TaxPolicy) {
    line.interest_days = basis.days;
    line.interest_rate = basis.rate;
    if line.goods == SaleGoods::Leftover {
        line.interest_exemption = Some("leftover (边角料): exempt from deferred-tax interest (RULES.md §7.2)".to_owned());
    } else if let Some(w) = &basis.waiver {
        line.interest_exemption = Some(format!("waiver: {w}"));
    } else {
        line.interest = calc::interest(taxes.total(), basis.days, basis.rate, policy);
    }
}

/// The sale's items, and for a posted list its date and trade mode.
type Sale = (Vec<SaleItem>, Option<NaiveDate>, Option<String>);

fn sale_items(req: &QuoteRequest, view: LedgerView<'_>) -> Result<Sale, TaxError> {
    let book = view.book;
    match (&req.list_no, &req.items) {
        (Some(_), Some(_)) => Err(TaxError::new("items", "request_invalid", "give list_no or items, not both")),
        (None, None) => Err(TaxError::new("list_no", "request_invalid", "a ledger quote names a posted list_no or gives items")),
        (Some(no), None) => {
            let Some((l, versions)) = view.facts.sales.iter().find(|(l, _)| &l.list_no == no) else {
                return Err(match &view.facts.looked_for {
                    Some((n, Some(mode))) if n == no => {
                        TaxError::new("list_no", "not_a_domestic_sale", format!("list {no} has trade mode {mode}, not a domestic sale (0644/0245, 0544/0545, 0444/0445, 0844/0845)"))
                    }
                    _ => TaxError::new("list_no", "list_unknown", format!("list {no} is not posted on book {}", book.book_no)),
                });
            };
            let leftover = LEFTOVER_SALE_MODES.contains(&l.trade_mode.as_str());
            let mut items = Vec::new();
            for (i, line) in l.lines.iter().enumerate() {
                let goods = match (leftover, l.goods) {
                    (true, _) => SaleGoods::Leftover,
                    (false, Goods::Material) => SaleGoods::Material,
                    (false, Goods::Product) => SaleGoods::Product,
                    (false, Goods::Defective) => SaleGoods::Defective,
                };
                let version = versions.get(i).cloned().flatten();
                if matches!(goods, SaleGoods::Product | SaleGoods::Defective) && version.is_none() {
                    return Err(TaxError::new(
                        format!("lines[{i}]"),
                        "consumption_pending",
                        format!("line {} of list {no} has no 单耗 version yet (declared before the report): its materials are not known", line.line),
                    ));
                }
                items.push(SaleItem {
                    goods,
                    item_seq: Some(line.item_seq),
                    qty: line.qty,
                    version,
                    amount: line.amount,
                    import_list_no: None,
                    unit_price: None,
                    byproduct: None,
                    at: format!("list {no} line {}", line.line),
                });
            }
            Ok((items, Some(l.declared_on), Some(l.trade_mode.as_str().to_owned())))
        }
        (None, Some(given)) => {
            if given.is_empty() {
                return Err(TaxError::new("items", "request_invalid", "items is empty"));
            }
            let mut items = Vec::new();
            for (i, it) in given.iter().enumerate() {
                let at = format!("items[{i}]");
                if it.qty <= Decimal::ZERO {
                    return Err(TaxError::new(format!("{at}.qty"), "qty_not_positive", "a quantity must be positive"));
                }
                let byproduct = if it.goods == SaleGoods::Byproduct {
                    match (&it.hs_code, &it.unit, it.unit_price, &it.currency) {
                        (Some(h), Some(u), Some(_), Some(_)) => Some((h.clone(), *u)),
                        _ => return Err(TaxError::new(at, "request_invalid", "a by-product (副产品) item gives hs_code, unit, unit_price and currency")),
                    }
                } else {
                    if it.item_seq.is_none() {
                        return Err(TaxError::new(format!("{at}.item_seq"), "request_invalid", "an item of the book names its item_seq"));
                    }
                    None
                };
                let unit_price = match (it.unit_price, &it.currency) {
                    (Some(p), Some(c)) => Some((p, *c)),
                    (None, None) => None,
                    _ => return Err(TaxError::new(at, "request_invalid", "unit_price and currency go together")),
                };
                items.push(SaleItem {
                    goods: it.goods,
                    item_seq: it.item_seq,
                    qty: it.qty,
                    version: it.consumption_version.clone(),
                    amount: None,
                    import_list_no: it.import_list_no.clone(),
                    unit_price,
                    byproduct,
                    at,
                });
            }
            Ok((items, None, None))
        }
    }
}

/// Converts the sale's products into material lines (merged by goods kind and material).
fn material_lines(book: &Book, items: &[SaleItem], tax_date: NaiveDate) -> Result<Vec<MaterialLine>, TaxError> {
    let mut merged: BTreeMap<(SaleGoods, usize), MaterialLine> = BTreeMap::new();
    for it in items.iter().filter(|it| it.goods != SaleGoods::Byproduct) {
        let seq = it.item_seq.unwrap_or_default();
        match it.goods {
            SaleGoods::Material | SaleGoods::Leftover => {
                let m = book.material_idx(seq).ok_or_else(|| TaxError::new(format!("{}.item_seq", it.at), "item_unknown", format!("book {} has no material {seq}", book.book_no)))?;
                let e = merged.entry((it.goods, m)).or_insert_with(|| MaterialLine {
                    goods: it.goods,
                    material_idx: m,
                    qty: Decimal::ZERO,
                    from_products: Vec::new(),
                    amount: None,
                    import_list_no: None,
                    at: it.at.clone(),
                });
                e.qty += it.qty;
                e.amount = match (e.amount, it.amount) {
                    (Some(a), Some(b)) => Some(a + b),
                    (None, b) if e.qty == it.qty => b,
                    _ => None,
                };
                e.import_list_no = e.import_list_no.take().or_else(|| it.import_list_no.clone());
            }
            SaleGoods::Product | SaleGoods::Defective => {
                let p = book.product_idx(seq).ok_or_else(|| TaxError::new(format!("{}.item_seq", it.at), "item_unknown", format!("book {} has no product {seq}", book.book_no)))?;
                let version = match &it.version {
                    Some(v) => book.version_named(p, v).ok_or_else(|| TaxError::new(format!("{}.consumption_version", it.at), "version_unknown", format!("product {seq} has no 单耗 version {v}")))?,
                    None => book.version_on(p, tax_date).ok_or_else(|| TaxError::new(it.at.clone(), "version_missing", format!("product {seq} has no 单耗 version valid on {tax_date}")))?,
                };
                for bl in &version.lines {
                    let mq = it.qty * bl.uc_share;
                    let e = merged.entry((it.goods, bl.material_idx)).or_insert_with(|| MaterialLine {
                        goods: it.goods,
                        material_idx: bl.material_idx,
                        qty: Decimal::ZERO,
                        from_products: Vec::new(),
                        amount: None,
                        import_list_no: None,
                        at: it.at.clone(),
                    });
                    e.qty += mq;
                    e.from_products.push(ProductSource { product_seq: seq, product_qty: it.qty, version: version.version.clone(), material_qty: mq });
                }
            }
            SaleGoods::Byproduct => {}
        }
    }
    Ok(merged.into_values().filter(|l| !l.qty.is_zero()).collect())
}

/// The first import of the book (manual interest start), or the last write-off (books).
fn interest_start(view: LedgerView<'_>) -> Result<(NaiveDate, &'static str, Option<String>), TaxError> {
    let book = view.book;
    if book.book_type == BookType::E {
        if let Some(d) = view.last_write_off {
            return Ok((d, "last_write_off", None));
        }
    }
    let (date, list_no) = view
        .facts
        .first_import
        .clone()
        .ok_or_else(|| TaxError::new("interest", "first_import_unknown", format!("book {} has no posted import list: the interest start (first import) is unknown", book.book_no)))?;
    Ok((date, "first_import", Some(list_no)))
}

/// The start of the valuation window: the manual's validity, or the book's current cycle.
fn window_start(view: LedgerView<'_>) -> NaiveDate {
    match (view.book.book_type, view.last_write_off) {
        (BookType::E, Some(d)) => d.succ_opt().unwrap_or(d),
        _ => view.book.valid_from,
    }
}

/// Priced inflows of a material from `from` to `to`, or of one list: (Σ qty, Σ amount, lists).
fn priced_inflows(view: LedgerView<'_>, material_seq: u32, from: NaiveDate, to: NaiveDate, only_list: Option<&str>) -> (Decimal, Decimal, Vec<String>) {
    let facts = view.facts;
    let (mut q, mut a, mut lists) = (Decimal::ZERO, Decimal::ZERO, Vec::<String>::new());
    for f in facts.inflows.get(&material_seq).map(Vec::as_slice).unwrap_or_default() {
        let no = facts.list_nos.get(f.list).map(String::as_str).unwrap_or_default();
        let wanted = match only_list {
            Some(batch) => no == batch,
            None => from <= f.declared_on && f.declared_on <= to,
        };
        if wanted {
            q += f.qty;
            a += f.amount;
            if lists.last().is_none_or(|l| l != no) {
                lists.push(no.to_owned());
            }
        }
    }
    (q, a, lists)
}

fn price_for(req: &QuoteRequest, goods: SaleGoods, seq: u32) -> Option<&PriceDoc> {
    req.prices.iter().find(|p| p.goods == goods && p.item_seq == seq)
}

/// The goods under which a material line's entered price is read (`prices[]`): leftovers at their
/// domestic price, every other line (direct or from products) as the material.
fn price_goods(line: &MaterialLine) -> SaleGoods {
    if line.goods == SaleGoods::Leftover {
        SaleGoods::Leftover
    } else {
        SaleGoods::Material
    }
}

/// An entered price a ledger quote reads (a key of `prices[]`): the item, and whether the quote is
/// refused without it (`price_missing`) rather than valued from the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceSlot {
    pub goods: SaleGoods,
    pub item_seq: u32,
    /// The item's name and unit code in the book.
    pub name: String,
    pub unit: String,
    pub needed: bool,
}

/// The prices a ledger quote of `req` reads, in the order of its lines (for a form that asks them):
/// each material line (products converted through the 单耗 version used), needed for 来料 materials
/// and for leftovers without a declared amount; and for a zone book each product sold (taxed as the
/// product, selective tariff), needed without a declared amount. The same rules as [`quote`].
pub fn price_slots(req: &QuoteRequest, view: LedgerView<'_>) -> Result<Vec<PriceSlot>, TaxError> {
    let book = view.book;
    let (items, list_date, _) = sale_items(req, view)?;
    let tax_date = req.tax_date.or(list_date).ok_or_else(|| TaxError::new("tax_date", "request_invalid", "tax_date is required (the date whose rates apply)"))?;
    let mut slots: Vec<PriceSlot> = Vec::new();
    let mut add = |goods: SaleGoods, item: &crate::book::Item, needed: bool| match slots.iter_mut().find(|s| s.goods == goods && s.item_seq == item.seq) {
        Some(s) => s.needed |= needed,
        None => slots.push(PriceSlot { goods, item_seq: item.seq, name: item.name.clone(), unit: item.unit.clone(), needed }),
    };
    for ml in material_lines(book, &items, tax_date)? {
        let goods = price_goods(&ml);
        let needed = match goods {
            SaleGoods::Leftover => ml.amount.is_none(),
            _ => book.family == Family::Consigned,
        };
        add(goods, &book.materials[ml.material_idx], needed);
    }
    if book.zone.is_some() {
        for it in items.iter().filter(|i| matches!(i.goods, SaleGoods::Product | SaleGoods::Defective)) {
            if let Some(p) = it.item_seq.and_then(|s| book.product_idx(s)) {
                add(SaleGoods::Product, &book.products[p], it.amount.is_none());
            }
        }
    }
    Ok(slots)
}

struct Valued {
    value: Decimal,
    valuation: Valuation,
}

/// Values a material line in CNY (RULES.md §8.1).
fn value_material(req: &QuoteRequest, view: LedgerView<'_>, tables: Tables<'_>, line: &MaterialLine, tax_date: NaiveDate) -> Result<Valued, TaxError> {
    let book = view.book;
    let item = &book.materials[line.material_idx];
    let at = format!("{} (material {})", line.at, item.seq);
    let user_goods = price_goods(line);
    // (method, price qty, price amount, currency, lists)
    let (method, pq, pa, currency, lists): (&str, Decimal, Decimal, String, Vec<String>) = if let Some(p) = price_for(req, user_goods, item.seq) {
        let method = match (line.goods, book.family) {
            (SaleGoods::Leftover, _) => "domestic_price",
            (_, Family::Consigned) => "similar_goods",
            _ => "entered_price",
        };
        (method, Decimal::ONE, p.unit_price, p.currency.as_str().to_owned(), Vec::new())
    } else if line.goods == SaleGoods::Leftover {
        match line.amount {
            Some(a) => ("domestic_price", line.qty, a, item.currency.clone(), Vec::new()),
            None => {
                return Err(TaxError::new(
                    at,
                    "price_missing",
                    format!("leftovers (边角料) of material {} are valued at their domestic price: give prices[] {{goods: leftover, item_seq: {}}} or an amount on the list line", item.seq, item.seq),
                ))
            }
        }
    } else if book.family == Family::Consigned {
        return Err(TaxError::new(
            at,
            "price_missing",
            format!(
                "来料 material {} is valued at the price of similar goods imported about now (RULES.md §8.1): give prices[] {{goods: material, item_seq: {}, unit_price, currency}}",
                item.seq, item.seq
            ),
        ));
    } else if let Some(batch) = &line.import_list_no {
        let (q, a, lists) = priced_inflows(view, item.seq, book.valid_from, tax_date, Some(batch));
        if q.is_zero() {
            return Err(TaxError::new(at, "batch_unpriced", format!("list {batch} is not a posted import of material {} with an amount", item.seq)));
        }
        ("original_batch", q, a, item.currency.clone(), lists)
    } else {
        let from = window_start(view);
        let (q, a, lists) = priced_inflows(view, item.seq, from, tax_date, None);
        if q.is_zero() {
            return Err(TaxError::new(
                at,
                "no_priced_inflow",
                format!("material {} has no priced import from {from} to {tax_date} to average (RULES.md §8.1); name a batch (import_list_no) or give prices[]", item.seq),
            ));
        }
        ("weighted_average", q, a, item.currency.clone(), lists)
    };
    let fx = exchange(req, tables.rates, &currency, tax_date, tables.policy.exchange_rule).map_err(|e| e.at(&at))?;
    // One division, last: value = qty × Σamount × rate ÷ Σqty, then rounded to the fen.
    let value = decimal::round(line.qty * pa * fx.rate / pq, tables.policy.value_dp);
    let priced = method == "weighted_average" || method == "original_batch" || (method == "domestic_price" && pq != Decimal::ONE);
    Ok(Valued {
        value,
        valuation: Valuation {
            method: method.to_owned(),
            unit_price: decimal::round(pa / pq, 6),
            currency,
            priced_qty: priced.then_some(pq),
            priced_amount: priced.then_some(pa),
            lists,
            exchange_rate: fx.rate,
            exchange_rate_date: fx.valid_from,
            exchange_rate_source: fx.source,
        },
    })
}

fn unit_name(code: &str) -> String {
    UnitCode::parse(code).map(|u| u.name().to_owned()).unwrap_or_else(|_| code.to_owned())
}

#[allow(clippy::too_many_arguments)]
fn tax_line(
    tables: Tables<'_>,
    rates: &LineRates,
    goods: SaleGoods,
    item_seq: Option<u32>,
    qty: Decimal,
    unit: &str,
    from_products: Vec<ProductSource>,
    valued: Valued,
) -> Result<QuoteLine, TaxError> {
    let taxes = calc::taxes(valued.value, qty, &unit_name(unit), &rates.duty.0, rates.consumption.as_ref().map(|c| &c.0), &rates.vat.0, tables.policy)?;
    let src = |s: &RateSource| s.to_string();
    Ok(QuoteLine {
        goods,
        item_seq,
        hs_code: rates.hs_code.clone(),
        name: rates.name.clone(),
        qty,
        unit: unit.to_owned(),
        from_products,
        valuation: valued.valuation,
        customs_value: valued.value,
        duty_rate: rate_text(&rates.duty.0),
        duty_rate_source: src(&rates.duty.1),
        duty: taxes.duty,
        consumption_tax_rate: rates.consumption.as_ref().map(|c| rate_text(&c.0)),
        consumption_tax_rate_source: rates.consumption.as_ref().map(|c| src(&c.1)),
        consumption_tax: taxes.consumption_tax,
        vat_rate: rate_text(&rates.vat.0),
        vat_rate_source: src(&rates.vat.1),
        vat: taxes.vat,
        interest_days: 0,
        interest_rate: Decimal::ZERO,
        interest: Decimal::ZERO,
        interest_exemption: None,
    })
}

fn line_taxes(l: &QuoteLine) -> Taxes {
    Taxes { duty: l.duty, consumption_tax: l.consumption_tax, vat: l.vat }
}

fn ledger_quote(req: &QuoteRequest, view: LedgerView<'_>, tables: Tables<'_>) -> Result<Quote, TaxError> {
    let book = view.book;
    if req.book_no.as_deref() != Some(book.book_no.as_str()) {
        return Err(TaxError::new("book_no", "request_invalid", format!("the request is for book {:?}, the ledger is book {}", req.book_no, book.book_no)));
    }
    let (items, list_date, list_mode) = sale_items(req, view)?;
    let tax_date = req.tax_date.or(list_date).ok_or_else(|| TaxError::new("tax_date", "request_invalid", "tax_date is required (the date whose rates apply)"))?;
    let payment_note = req.payment_note_date.ok_or_else(|| TaxError::new("payment_note_date", "request_invalid", "payment_note_date is required (the end of the deferred-interest period)"))?;
    let certified = req.origin_certificate.as_ref();

    // The material lines (products converted through 单耗), valued and taxed.
    let mlines = material_lines(book, &items, tax_date)?;
    let mut material_out = Vec::new();
    for ml in &mlines {
        let item = &book.materials[ml.material_idx];
        let rates = tables.tariff.rates(&item.hs_code, tax_date, certified).map_err(|e| e.at(&format!("material {}", item.seq)))?;
        let valued = value_material(req, view, tables, ml, tax_date)?;
        material_out.push(tax_line(tables, &rates, ml.goods, Some(item.seq), ml.qty, &item.unit, ml.from_products.clone(), valued)?);
    }
    // By-products, as presented.
    let mut byproduct_out = Vec::new();
    for it in items.iter().filter(|i| i.goods == SaleGoods::Byproduct) {
        let (Some((hs, unit)), Some((price, currency))) = (&it.byproduct, &it.unit_price) else { continue };
        let rates = tables.tariff.rates(hs.as_str(), tax_date, certified).map_err(|e| e.at(&it.at))?;
        let fx = exchange(req, tables.rates, currency.as_str(), tax_date, tables.policy.exchange_rule).map_err(|e| e.at(&it.at))?;
        let value = decimal::round(it.qty * price * fx.rate, tables.policy.value_dp);
        let valuation = Valuation {
            method: "declared_price".to_owned(),
            unit_price: *price,
            currency: currency.as_str().to_owned(),
            priced_qty: None,
            priced_amount: None,
            lists: Vec::new(),
            exchange_rate: fx.rate,
            exchange_rate_date: fx.valid_from,
            exchange_rate_source: fx.source,
        };
        byproduct_out.push(tax_line(tables, &rates, SaleGoods::Byproduct, None, it.qty, unit.as_str(), Vec::new(), Valued { value, valuation })?);
    }

    // Selective tariff: zone books' product sales, also taxed as the product.
    let product_items: Vec<&SaleItem> = items.iter().filter(|i| matches!(i.goods, SaleGoods::Product | SaleGoods::Defective)).collect();
    let mut selective = None;
    let mut chosen = SelectiveBasis::Materials;
    if book.zone.is_none() {
        if req.selective_tariff.is_some() {
            return Err(TaxError::new(
                "selective_tariff",
                "not_a_zone_book",
                format!("book {} is not in a special customs supervision zone: selective tariff collection (RULES.md §10) does not apply", book.book_no),
            ));
        }
    } else if !product_items.is_empty() {
        let mut product_out = Vec::new();
        for it in &product_items {
            let seq = it.item_seq.unwrap_or_default();
            let Some(p) = book.product_idx(seq) else { continue };
            let item = &book.products[p];
            let rates = tables.tariff.rates(&item.hs_code, tax_date, certified).map_err(|e| e.at(&format!("product {seq}")))?;
            let (pq, pa, currency, method) = if let Some(pr) = price_for(req, it.goods, seq).or_else(|| price_for(req, SaleGoods::Product, seq)) {
                (Decimal::ONE, pr.unit_price, pr.currency.as_str().to_owned(), "entered_price")
            } else if let Some(a) = it.amount {
                (it.qty, a, item.currency.clone(), "product_price")
            } else {
                return Err(TaxError::new(
                    it.at.clone(),
                    "price_missing",
                    format!("taxed as the product, product {seq} needs its value: an amount on the list line or prices[] {{goods: product, item_seq: {seq}}}"),
                ));
            };
            let fx = exchange(req, tables.rates, &currency, tax_date, tables.policy.exchange_rule).map_err(|e| e.at(&it.at))?;
            let value = decimal::round(it.qty * pa * fx.rate / pq, tables.policy.value_dp);
            let valuation = Valuation {
                method: method.to_owned(),
                unit_price: decimal::round(pa / pq, 6),
                currency,
                priced_qty: None,
                priced_amount: None,
                lists: Vec::new(),
                exchange_rate: fx.rate,
                exchange_rate_date: fx.valid_from,
                exchange_rate_source: fx.source,
            };
            product_out.push(tax_line(tables, &rates, it.goods, Some(seq), it.qty, &item.unit, Vec::new(), Valued { value, valuation })?);
        }
        let (basis, by) = match (req.selective_tariff, list_mode.as_deref()) {
            (Some(b), _) => (b, "request"),
            (None, Some("0444" | "0445")) => (SelectiveBasis::Product, "trade_mode"),
            (None, Some(_)) => (SelectiveBasis::Materials, "trade_mode"),
            (None, None) => (SelectiveBasis::Materials, "default"),
        };
        chosen = basis;
        let consigned = book.family == Family::Consigned;
        let trade_mode = match (basis, consigned) {
            (SelectiveBasis::Materials, false) => "0544",
            (SelectiveBasis::Materials, true) => "0545",
            (SelectiveBasis::Product, false) => "0444",
            (SelectiveBasis::Product, true) => "0445",
        };
        selective = Some(SelectiveTariff {
            as_materials: Totals::default(),
            as_product: Totals::default(),
            product_lines: product_out,
            material_lines: Vec::new(),
            chosen: basis,
            chosen_by: by.to_owned(),
            trade_mode: trade_mode.to_owned(),
            note: "VAT and consumption tax follow the basis of the duty (RULES.md §10: whether they always follow the product is UNCONFIRMED)".to_owned(),
        });
    }

    // Interest.
    let (from, from_basis, from_list) = interest_start(view)?;
    let basis = interest_basis(req, tables, from, from_basis, from_list, payment_note)?;
    let finish = |lines: &mut Vec<QuoteLine>| {
        for l in lines.iter_mut() {
            let t = line_taxes(l);
            apply_interest(l, &basis, &t, tables.policy);
        }
    };
    finish(&mut material_out);
    finish(&mut byproduct_out);

    let mut lines: Vec<QuoteLine>;
    if let Some(sel) = selective.as_mut() {
        finish(&mut sel.product_lines);
        // Material lines from the products (the materials basis) and direct material sales.
        let (from_products, direct): (Vec<QuoteLine>, Vec<QuoteLine>) = material_out.into_iter().partition(|l| matches!(l.goods, SaleGoods::Product | SaleGoods::Defective));
        sel.material_lines = from_products;
        sel.as_materials = Totals::of(&sel.material_lines);
        sel.as_product = Totals::of(&sel.product_lines);
        lines = direct;
        match chosen {
            SelectiveBasis::Materials => lines.extend(sel.material_lines.iter().cloned()),
            SelectiveBasis::Product => lines.extend(sel.product_lines.iter().cloned()),
        }
    } else {
        lines = material_out;
    }
    lines.extend(byproduct_out);

    // The surplus / defective threshold, on the materials' value against the imported materials'.
    let threshold = if lines.iter().any(|l| matches!(l.goods, SaleGoods::Material | SaleGoods::Product | SaleGoods::Defective)) {
        let value: Decimal = lines.iter().filter(|l| matches!(l.goods, SaleGoods::Material | SaleGoods::Product | SaleGoods::Defective)).map(|l| l.customs_value).sum();
        let from = window_start(view);
        let mut imported = Decimal::ZERO;
        for m in &book.materials {
            let (q, a, _) = priced_inflows(view, m.seq, from, tax_date, None);
            if !q.is_zero() {
                let fx = exchange(req, tables.rates, &m.currency, tax_date, tables.policy.exchange_rule)?;
                imported += a * fx.rate;
            }
        }
        Some(calc::threshold(value, decimal::round(imported, tables.policy.value_dp), tables.policy))
    } else {
        None
    };

    Ok(Quote {
        book_no: Some(book.book_no.clone()),
        list_no: req.list_no.clone(),
        tax_date,
        payment_note_date: Some(payment_note),
        totals: Totals::of(&lines),
        lines,
        interest: Some(basis),
        threshold,
        selective_tariff: selective,
    })
}
