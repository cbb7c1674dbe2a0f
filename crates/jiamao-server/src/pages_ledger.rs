//! The pages that read a book's posted lists: the lists themselves (filtered, sorted, paged, each
//! expandable to its lines), the balances as of a date, and domestic-sale taxation (the periods as
//! of a date and the quote of a posted domestic-sale list, with the prices it reads entered in the
//! form: similar goods for 来料 materials, …). Pure rendering: the views are read from the engine by
//! `crate::web`.

use crate::html::{date_input, escape, page, path_segment, td, td_num, td_nw, text_input, Chrome, DateField};
use crate::i18n::{fill, key};
use crate::pages_enterprise::unit_label;
use crate::table::{col, fixed, Col, Paging};
use chrono::NaiveDate;
use jiamao_app::tax::PeriodsReport;
use jiamao_domain::codes::CurrencyCode;
use jiamao_domain::decimal::report_amount;
use jiamao_domain::doc::Goods;
use jiamao_domain::tax::quote::{Quote, SaleGoods};
use std::fmt::Write as _;

fn book_href(book_no: &str) -> String {
    format!("/books/{}", path_segment(book_no))
}

/// The translation key of the goods of a list.
pub(crate) fn goods_key(g: Goods) -> &'static str {
    match g {
        Goods::Material => key("goods.material"),
        Goods::Product => key("goods.product"),
        Goods::Defective => key("goods.defective"),
    }
}

fn sale_goods_key(g: SaleGoods) -> &'static str {
    match g {
        SaleGoods::Material => key("goods.material"),
        SaleGoods::Product => key("goods.product"),
        SaleGoods::Defective => key("goods.defective"),
        SaleGoods::Leftover => key("goods.leftover"),
        SaleGoods::Byproduct => key("goods.byproduct"),
    }
}

/// The translation key of a direction (`I` / `E`).
pub(crate) fn direction_key(d: &str) -> &'static str {
    if d == "I" {
        key("direction.i")
    } else {
        key("direction.e")
    }
}

/// The links between a book's pages, those the account may open ([`Chrome::book_links`]).
pub(crate) fn book_nav(c: &Chrome, book_no: &str, current: &str) -> String {
    let href = book_href(book_no);
    let mut out = format!("<nav class=\"subnav\" aria-label=\"{}\" data-testid=\"book-nav\"><ul>", escape(&fill(c.t("booknav.label"), &[("book_no", book_no)])));
    for (suffix, k) in &c.book_links {
        let current_attr = if *suffix == current { " aria-current=\"page\"" } else { "" };
        let _ = write!(out, "<li><a href=\"{}{suffix}\"{current_attr}>{}</a></li>", escape(&href), escape(c.t(k)));
    }
    out.push_str("</ul></nav>\n");
    out
}

// ---- Lists --------------------------------------------------------------------------------------

/// One line of a posted list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineRow {
    pub line: u32,
    pub item_seq: u32,
    pub item_name: String,
    pub unit: String,
    pub qty: String,
    pub amount: Option<String>,
    pub version: Option<String>,
}

/// A posted list as the lists page shows it (its lines only for the rows of the page shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListRow {
    pub list_no: String,
    pub declared_on: NaiveDate,
    pub direction: &'static str,
    pub goods: Goods,
    pub trade_mode: String,
    pub trade_mode_name: Option<&'static str>,
    pub counterparty: Option<String>,
    pub declaration_no: Option<String>,
    pub line_count: usize,
    pub lines: Vec<LineRow>,
}

/// The filters of the lists page, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ListFilters {
    pub trade_mode: String,
    pub direction: String,
    pub list_no: String,
    pub from: DateField,
    pub to: DateField,
}

/// `GET /books/{book_no}/lists`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListsView {
    pub book_no: String,
    pub filters: ListFilters,
    /// The trade modes of the book's lists, for the filter.
    pub trade_modes: Vec<(String, Option<&'static str>)>,
    /// Lists posted in the open cycle, and the last closed cycle's end.
    pub posted: usize,
    pub closed_to: Option<NaiveDate>,
    pub rows: Vec<ListRow>,
    pub paging: Paging,
}

/// The columns of the lists table.
pub(crate) const LIST_COLS: [Col; 8] = [
    col("list_no", "lists.list_no", false),
    col("declared_on", "lists.declared_on", false),
    col("direction", "lists.direction", false),
    col("goods", "lists.goods", false),
    col("trade_mode", "lists.trade_mode", false),
    fixed("lists.counterparty", false),
    col("lines", "lists.lines", true),
    fixed("lists.detail", false),
];

fn select(c: &Chrome, name: &str, label_key: &str, options: &[(String, String)], chosen: &str) -> String {
    let mut out = format!("<label for=\"{name}\">{}</label> <select id=\"{name}\" name=\"{name}\"><option value=\"\">{}</option>", escape(c.t(label_key)), escape(c.t("form.all")));
    for (value, text) in options {
        let selected = if value == chosen { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{}\"{selected}>{}</option>", escape(value), escape(text));
    }
    out.push_str("</select>");
    out
}

fn lines_table(c: &Chrome, r: &ListRow) -> String {
    let mut out =
        format!("<details><summary>{}</summary>\n<table class=\"inner\" data-testid=\"list-lines\">\n<thead><tr>", escape(&fill(c.t("lists.show_lines"), &[("n", &r.line_count.to_string())])));
    for (k, numeric) in [("lists.line", true), ("lists.item", false), ("book.unit", false), ("lists.qty", true), ("lists.amount", true), ("lists.version", false)] {
        out.push_str(&crate::html::th(c, k, numeric));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for l in &r.lines {
        let _ = writeln!(
            out,
            "<tr>{}{}{}{}{}{}</tr>",
            td_num(&l.line.to_string()),
            td(&format!("{} {}", l.item_seq, l.item_name)),
            td_nw(&unit_label(&l.unit)),
            td_num(&l.qty),
            td_num(l.amount.as_deref().unwrap_or("")),
            td_nw(l.version.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</tbody>\n</table>\n</details>");
    out
}

/// The lists page: the filter form, then one page of the matching lists.
pub(crate) fn lists(c: &Chrome, v: &ListsView) -> String {
    let title = fill(c.t("lists.title"), &[("book_no", &v.book_no)]);
    let mut body = book_nav(c, &v.book_no, "/lists");
    let _ = writeln!(body, "<h1>{}</h1>", escape(&title));
    let scope = match v.closed_to {
        Some(d) => fill(c.t("lists.scope_closed"), &[("n", &v.posted.to_string()), ("closed", &d.to_string())]),
        None => fill(c.t("lists.scope"), &[("n", &v.posted.to_string())]),
    };
    let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(&scope));
    let f = &v.filters;
    let modes: Vec<(String, String)> = v.trade_modes.iter().map(|(code, name)| (code.clone(), name.map_or_else(|| code.clone(), |n| format!("{code} {n}")))).collect();
    let directions = vec![("I".to_owned(), c.t("direction.i").to_owned()), ("E".to_owned(), c.t("direction.e").to_owned())];
    let _ = writeln!(
        body,
        "<form method=\"get\" action=\"{href}/lists\" class=\"filters panel\" data-testid=\"list-filter\">\n<div class=\"field\">{mode}</div>\n<div class=\"field\">{dir}</div>\n<div class=\"field\"><label for=\"list_no\">{no_label}</label> <input id=\"list_no\" name=\"list_no\" value=\"{no}\" autocomplete=\"off\"></div>\n{from}\n{to}\n<div class=\"field\"><button type=\"submit\" class=\"primary\">{apply}</button> <a data-partial href=\"{href}/lists\">{clear}</a></div>\n</form>",
        href = escape(&book_href(&v.book_no)),
        mode = select(c, "trade_mode", "lists.trade_mode", &modes, &f.trade_mode),
        dir = select(c, "direction", "lists.direction", &directions, &f.direction),
        no_label = escape(c.t("lists.list_no_contains")),
        no = escape(&f.list_no),
        from = date_input(c, &f.from, "lists.from"),
        to = date_input(c, &f.to, "lists.to"),
        apply = escape(c.t("recon.apply")),
        clear = escape(c.t("form.clear")),
    );
    if f.from.invalid || f.to.invalid {
        return page(c, &title, &body);
    }
    if v.paging.total == 0 {
        let _ = writeln!(body, "<p class=\"note\" data-testid=\"no-lists\">{}</p>", escape(c.t("lists.none")));
        return page(c, &title, &body);
    }
    let _ = write!(body, "<div class=\"scroll\">\n<table class=\"wide\" data-testid=\"lists\">\n<caption>{}</caption>\n", escape(c.t("lists.caption")));
    body.push_str(&v.paging.head(c, &LIST_COLS));
    body.push_str("<tbody>\n");
    for r in &v.rows {
        let mode = r.trade_mode_name.map_or_else(|| r.trade_mode.clone(), |n| format!("{} {n}", r.trade_mode));
        let _ = writeln!(
            body,
            "<tr data-testid=\"list-row\" data-list=\"{no}\" data-direction=\"{d}\">{nocell}{date}{dir}{goods}{mode}{cp}{lines}<td>{detail}</td></tr>",
            no = escape(&r.list_no),
            d = r.direction,
            nocell = td_nw(&r.list_no),
            date = td_nw(&r.declared_on.to_string()),
            dir = td_nw(c.t(direction_key(r.direction))),
            goods = td_nw(c.t(goods_key(r.goods))),
            mode = td_nw(&mode),
            cp = td_nw(&[r.counterparty.as_deref(), r.declaration_no.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" · ")),
            lines = td_num(&r.line_count.to_string()),
            detail = lines_table(c, r),
        );
    }
    body.push_str("</tbody>\n</table>\n</div>\n");
    body.push_str(&v.paging.pager(c, "lists"));
    page(c, &title, &body)
}

// ---- Balances as of a date ----------------------------------------------------------------------

/// One material's balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BalanceRow {
    pub seq: u32,
    pub part_no: String,
    pub hs_code: String,
    pub name: String,
    pub unit: String,
    pub authorized_qty: Option<String>,
    pub balance: String,
}

/// `GET /books/{book_no}/balance?as_of=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BalanceView {
    pub book_no: String,
    pub as_of: DateField,
    pub rows: Vec<BalanceRow>,
    pub paging: Paging,
}

pub(crate) const BALANCE_COLS: [Col; 7] = [
    col("seq", "book.material_seq", true),
    col("part_no", "book.part_no", false),
    col("hs_code", "book.hs_code", false),
    col("name", "book.name", false),
    fixed("book.unit", false),
    fixed("book.authorized_qty", true),
    col("balance", "book.balance", true),
];

/// The balances page: the date form (validated inline by the API's rule), then the materials.
pub(crate) fn balance(c: &Chrome, v: &BalanceView) -> String {
    let title = fill(c.t("balance.title"), &[("book_no", &v.book_no)]);
    let href = book_href(&v.book_no);
    let mut body = book_nav(c, &v.book_no, "/balance");
    let _ = writeln!(body, "<h1>{}</h1>", escape(&title));
    let _ = writeln!(
        body,
        "<form method=\"get\" action=\"{}/balance\" class=\"filters panel\" data-testid=\"balance-form\" novalidate>\n{}\n<div class=\"field\"><button type=\"submit\" class=\"primary\">{}</button></div>\n</form>",
        escape(&href),
        date_input(c, &v.as_of, "balance.as_of"),
        escape(c.t("recon.apply"))
    );
    if v.as_of.invalid {
        return page(c, &title, &body);
    }
    let note = match v.as_of.value {
        Some(d) => fill(c.t("balance.note_as_of"), &[("date", &d.to_string())]),
        None => c.t("balance.note_now").to_owned(),
    };
    let _ = writeln!(body, "<p class=\"note\" data-testid=\"balance-note\">{}</p>", escape(&note));
    let _ = write!(body, "<div class=\"scroll\">\n<table data-testid=\"balances\">\n<caption>{}</caption>\n", escape(c.t("book.materials")));
    body.push_str(&v.paging.head(c, &BALANCE_COLS));
    body.push_str("<tbody>\n");
    for r in &v.rows {
        let _ = writeln!(
            body,
            "<tr data-seq=\"{seq}\">{}{}{}<td><a href=\"{href}/materials/{seq}{to}\">{}</a></td>{}{}{}</tr>",
            td_num(&r.seq.to_string()),
            td_nw(&r.part_no),
            td_nw(&r.hs_code),
            escape(&r.name),
            td_nw(&unit_label(&r.unit)),
            td_num(r.authorized_qty.as_deref().unwrap_or("")),
            td_num(&r.balance),
            seq = r.seq,
            href = escape(&href),
            to = v.as_of.value.map(|d| format!("?to={d}")).unwrap_or_default(),
        );
    }
    body.push_str("</tbody>\n</table>\n</div>\n");
    body.push_str(&v.paging.pager(c, "balances"));
    let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("book.rounding")));
    page(c, &title, &body)
}

// ---- Domestic-sale taxation ---------------------------------------------------------------------

/// `GET /books/{book_no}/tax?as_of=&list_no=&payment_note_date=&origin_certificate=&price_<goods>_<seq>=&cur_<goods>_<seq>=`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaxView {
    pub book_no: String,
    pub as_of: DateField,
    pub payment_note_date: DateField,
    pub list_no: String,
    /// The periods as of the date, or why they could not be computed (rule, message).
    pub periods: Result<PeriodsReport, (String, String)>,
    /// The quote of the chosen list, or why it was refused.
    pub quote: Option<Result<Quote, (String, String)>>,
    /// The prices the quote of the chosen list reads (`QuoteRequest::prices`), as typed.
    pub prices: Vec<PriceRow>,
    /// The country of a certificate of origin (`origin_certificate`), as typed, and the
    /// translation key of its message when refused.
    pub origin: String,
    pub origin_error: Option<&'static str>,
}

impl TaxView {
    /// Whether a field of the quote form was refused (the page answers 400, no quote).
    pub(crate) fn fields_invalid(&self) -> bool {
        self.origin_error.is_some() || self.prices.iter().any(|p| p.price_error.is_some() || p.currency_error.is_some())
    }
}

/// One price of the quote form: the item it is for (as the domain's `quote::price_slots` gives
/// it), and the unit price and currency as typed, each with the translation key of its message
/// when refused (filled with the value typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PriceRow {
    pub goods: SaleGoods,
    pub item_seq: u32,
    pub name: String,
    pub unit: String,
    /// The quote is refused (`price_missing`) without it.
    pub needed: bool,
    pub price: String,
    pub price_error: Option<&'static str>,
    pub currency: String,
    pub currency_error: Option<&'static str>,
}

impl PriceRow {
    /// The names (and ids) of the row's fields in the quote form, which a GET form round-trips:
    /// `price_<goods>_<seq>` and `cur_<goods>_<seq>`, goods as `SaleGoods` is named in JSON.
    pub(crate) fn names(goods: SaleGoods, item_seq: u32) -> (String, String) {
        let g = sale_goods_name(goods);
        (format!("price_{g}_{item_seq}"), format!("cur_{g}_{item_seq}"))
    }
}

/// The name of a kind of goods as the quote request writes it (`material`, `leftover`, …).
fn sale_goods_name(g: SaleGoods) -> String {
    serde_json::to_value(g).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn amount(d: jiamao_domain::Decimal) -> String {
    report_amount(d)
}

fn periods_html(c: &Chrome, r: &PeriodsReport) -> String {
    if r.periods.is_empty() {
        return format!("<p class=\"note\" data-testid=\"no-periods\">{}</p>\n", escape(c.t("tax.no_periods")));
    }
    let mut out = String::from("<div class=\"scroll\">\n<table class=\"wide\" data-testid=\"tax-periods\">\n<thead><tr>");
    for (k, numeric) in [
        ("tax.period", false),
        ("tax.span", false),
        ("tax.due", false),
        ("tax.lists", false),
        ("tax.tax_due", true),
        ("tax.paid", true),
        ("tax.outstanding", true),
        ("tax.late_days", true),
        ("tax.surcharge", true),
        ("tax.state", false),
    ] {
        out.push_str(&crate::html::th(c, k, numeric));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for p in &r.periods {
        let mut lists = String::new();
        for l in &p.lists {
            let figure = match (&l.totals, &l.error) {
                (Some(t), _) => amount(t.total),
                (None, Some(e)) => format!("{} ({})", c.t("tax.incomplete"), e.rule),
                (None, None) => String::new(),
            };
            let _ = write!(lists, "<li><span class=\"nw\">{}</span> {} {}: {}</li>", escape(&l.list_no), l.declared_on, escape(&l.trade_mode), escape(&figure));
        }
        let state = if !p.complete {
            c.t("tax.incomplete")
        } else if p.settlement.outstanding > jiamao_domain::Decimal::ZERO && p.settlement.late {
            c.t("tax.late")
        } else if p.settlement.outstanding > jiamao_domain::Decimal::ZERO {
            c.t("tax.open")
        } else {
            c.t("tax.settled")
        };
        let _ = writeln!(
            out,
            "<tr data-period=\"{label}\">{}{}{}<td><ul class=\"plain\">{lists}</ul></td>{}{}{}{}{}{}</tr>",
            td_nw(&p.period.label),
            td_nw(&format!("{} — {}", p.period.from, p.period.to)),
            td_nw(&p.period.due.to_string()),
            td_num(&amount(p.tax_due)),
            td_num(&amount(p.settlement.paid)),
            td_num(&amount(p.settlement.outstanding)),
            td_num(&p.settlement.outstanding_late_days.to_string()),
            td_num(&amount(p.settlement.surcharge)),
            td_nw(state),
            label = escape(&p.period.label),
        );
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
    out
}

fn quote_html(c: &Chrome, q: &Quote) -> String {
    let mut out = format!(
        "<p class=\"note\">{}</p>\n<div class=\"scroll\">\n<table class=\"wide\" data-testid=\"quote-lines\">\n<caption>{}</caption>\n<thead><tr>",
        escape(&fill(
            c.t("tax.quote_basis"),
            &[("list_no", q.list_no.as_deref().unwrap_or("")), ("tax_date", &q.tax_date.to_string()), ("note_date", &q.payment_note_date.map(|d| d.to_string()).unwrap_or_else(|| "—".to_owned()))]
        )),
        escape(c.t("tax.quote_lines"))
    );
    for (k, numeric) in [
        ("lists.goods", false),
        ("lists.item", false),
        ("book.hs_code", false),
        ("lists.qty", true),
        ("tax.valuation", false),
        ("tax.customs_value", true),
        ("tax.duty_rate", true),
        ("tax.duty", true),
        ("tax.consumption_tax", true),
        ("tax.vat_rate", true),
        ("tax.vat", true),
        ("tax.interest_days", true),
        ("tax.interest", true),
    ] {
        out.push_str(&crate::html::th(c, k, numeric));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for l in &q.lines {
        let item = match l.item_seq {
            Some(s) => format!("{s} {}", l.name),
            None => l.name.clone(),
        };
        let _ = writeln!(
            out,
            "<tr>{}{}{}{}{}{}{}{}{}{}{}{}{}</tr>",
            td_nw(c.t(sale_goods_key(l.goods))),
            td(&item),
            td_nw(&l.hs_code),
            td_num(&format!("{} {}", jiamao_domain::decimal::plain(l.qty), l.unit)),
            td_nw(&l.valuation.method),
            td_num(&amount(l.customs_value)),
            td_num(&l.duty_rate),
            td_num(&amount(l.duty)),
            td_num(&amount(l.consumption_tax)),
            td_num(&l.vat_rate),
            td_num(&amount(l.vat)),
            td_num(&l.interest_days.to_string()),
            td_num(&amount(l.interest)),
        );
    }
    let t = &q.totals;
    let _ = writeln!(
        out,
        "</tbody>\n<tfoot><tr data-testid=\"quote-totals\"><th scope=\"row\" colspan=\"5\">{}</th>{}<td></td>{}{}<td></td>{}<td></td>{}</tr></tfoot>\n</table>\n</div>",
        escape(c.t("tax.totals")),
        td_num(&amount(t.customs_value)),
        td_num(&amount(t.duty)),
        td_num(&amount(t.consumption_tax)),
        td_num(&amount(t.vat)),
        td_num(&amount(t.interest)),
    );
    let _ = writeln!(out, "<p data-testid=\"quote-total\"><strong>{}</strong></p>", escape(&fill(c.t("tax.total"), &[("total", &amount(t.total))])));
    if let Some(th) = &q.threshold {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(&th.rule));
    }
    out
}

/// The currency of a price: a choice from the currency table (a value typed that is not in it stays
/// chosen, with its message).
fn currency_select(c: &Chrome, id: &str, label: &str, value: &str, error: Option<&str>) -> String {
    let mut options = format!("<option value=\"\">{}</option>", escape(c.t("tax.currency_none")));
    if !value.is_empty() && CurrencyCode::parse(value).is_err() {
        let _ = write!(options, "<option value=\"{0}\" selected>{0}</option>", escape(value));
    }
    for cur in CurrencyCode::all() {
        let selected = if cur.as_str() == value { " selected" } else { "" };
        let _ = write!(options, "<option value=\"{}\"{selected}>{}</option>", cur.as_str(), escape(&format!("{} {} {}", cur.as_str(), cur.name(), cur.iso())));
    }
    let (invalid, message) = match error {
        Some(m) => {
            (format!(" aria-invalid=\"true\" aria-describedby=\"{id}-error\""), format!(" <span id=\"{id}-error\" class=\"error\" role=\"alert\" data-testid=\"field-error\">{}</span>", escape(m)))
        }
        None => (String::new(), String::new()),
    };
    format!("<div class=\"field\"><label for=\"{id}\">{}</label> <select id=\"{id}\" name=\"{id}\"{invalid}>{options}</select>{message}</div>", escape(label))
}

/// The prices the quote of the chosen list reads, one group of fields per item; open when one is
/// needed, typed or refused.
fn prices_html(c: &Chrome, v: &TaxView) -> String {
    if v.prices.is_empty() {
        return String::new();
    }
    let missing = matches!(&v.quote, Some(Err((rule, _))) if rule == "price_missing");
    let open = missing || v.prices.iter().any(|p| p.needed || !p.price.is_empty() || p.price_error.is_some() || p.currency_error.is_some());
    let mut out = format!(
        "<details data-testid=\"price-form\" style=\"flex-basis:100%\"{}><summary>{}</summary>\n<p class=\"note\">{}</p>\n",
        if open { " open" } else { "" },
        escape(c.t("tax.prices")),
        escape(c.t("tax.prices_help"))
    );
    for p in &v.prices {
        let (price_id, cur_id) = PriceRow::names(p.goods, p.item_seq);
        let unit = jiamao_domain::codes::UnitCode::parse(&p.unit).map(|u| u.name().to_owned()).unwrap_or_else(|_| p.unit.clone());
        let mut legend = fill(c.t("tax.price_item"), &[("goods", c.t(sale_goods_key(p.goods))), ("seq", &p.item_seq.to_string()), ("name", &p.name), ("unit", &unit)]);
        if p.needed {
            legend.push_str(c.t("tax.price_needed"));
        }
        let price_error = p.price_error.map(|k| fill(c.t(k), &[("value", &p.price)]));
        let cur_error = p.currency_error.map(|k| fill(c.t(k), &[("value", &p.currency)]));
        let _ = writeln!(
            out,
            "<fieldset data-testid=\"price-row\" data-goods=\"{}\" data-seq=\"{}\" data-needed=\"{}\" style=\"display:flex;flex-wrap:wrap;gap:0 1.2rem\"><legend>{}</legend>\n{}\n{}\n</fieldset>",
            sale_goods_name(p.goods),
            p.item_seq,
            p.needed,
            escape(&legend),
            text_input(&price_id, c.t("tax.unit_price"), &p.price, price_error.as_deref(), " size=\"12\" inputmode=\"decimal\" autocomplete=\"off\""),
            currency_select(c, &cur_id, c.t("tax.currency"), &p.currency, cur_error.as_deref()),
        );
    }
    out.push_str("</details>\n");
    out
}

/// The tax page: the periods as of a date, and a quote form for a posted domestic-sale list.
pub(crate) fn tax(c: &Chrome, v: &TaxView) -> String {
    let title = fill(c.t("tax.title"), &[("book_no", &v.book_no)]);
    let href = book_href(&v.book_no);
    let mut body = book_nav(c, &v.book_no, "/tax");
    let _ = writeln!(body, "<h1>{}</h1>", escape(&title));
    let _ = writeln!(
        body,
        "<form method=\"get\" action=\"{}/tax\" class=\"filters panel\" data-testid=\"periods-form\" novalidate>\n{}\n<div class=\"field\"><button type=\"submit\" class=\"primary\">{}</button></div>\n</form>",
        escape(&href),
        date_input(c, &v.as_of, "tax.as_of"),
        escape(c.t("recon.apply"))
    );
    let _ = writeln!(body, "<h2>{}</h2>", escape(c.t("tax.periods")));
    let mut sales: Vec<(String, NaiveDate)> = Vec::new();
    match &v.periods {
        _ if v.as_of.invalid => {}
        Ok(r) => {
            let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(&fill(c.t("tax.periods_note"), &[("date", &r.as_of.to_string())])));
            body.push_str(&periods_html(c, r));
            for p in &r.periods {
                sales.extend(p.lists.iter().map(|l| (l.list_no.clone(), l.declared_on)));
            }
        }
        Err(e) => body.push_str(&crate::html::refusal(c, "tax.refused", "periods-refused", e)),
    }
    let _ = writeln!(body, "<h2 id=\"quote-h\">{}</h2>\n<p class=\"note\">{}</p>", escape(c.t("tax.quote")), escape(c.t("tax.quote_help")));
    let mut options = String::new();
    if !sales.iter().any(|(no, _)| *no == v.list_no) && !v.list_no.is_empty() {
        let _ = write!(options, "<option value=\"{0}\" selected>{0}</option>", escape(&v.list_no));
    }
    for (no, on) in &sales {
        let selected = if *no == v.list_no { " selected" } else { "" };
        let _ = write!(options, "<option value=\"{}\"{selected}>{} ({on})</option>", escape(no), escape(no));
    }
    let as_of_hidden = v.as_of.value.map(|d| format!("<input type=\"hidden\" name=\"as_of\" value=\"{d}\">")).unwrap_or_default();
    if options.is_empty() {
        let _ = writeln!(body, "<p class=\"note\" data-testid=\"no-sales\">{}</p>", escape(c.t("tax.no_sales")));
    } else {
        let origin_error = v.origin_error.map(|k| fill(c.t(k), &[("value", &v.origin)]));
        let _ = writeln!(
            body,
            "<form method=\"get\" action=\"{}/tax#quote-h\" class=\"filters panel\" data-testid=\"quote-form\" novalidate>{as_of_hidden}\n<div class=\"field\"><label for=\"list_no\">{}</label> <select id=\"list_no\" name=\"list_no\" required>{options}</select></div>\n{}\n{}\n{}<div class=\"field\"><button type=\"submit\" class=\"primary\">{}</button></div>\n</form>",
            escape(&href),
            escape(c.t("tax.list")),
            date_input(c, &v.payment_note_date, "tax.payment_note_date"),
            text_input("origin_certificate", c.t("tax.origin_certificate"), &v.origin, origin_error.as_deref(), " size=\"4\" inputmode=\"numeric\" autocomplete=\"off\""),
            prices_html(c, v),
            escape(c.t("tax.quote_button")),
        );
    }
    match &v.quote {
        Some(Ok(q)) => body.push_str(&quote_html(c, q)),
        Some(Err(e)) => body.push_str(&crate::html::refusal(c, "tax.refused", "quote-refused", e)),
        None => {}
    }
    page(c, &title, &body)
}
