//! The enterprise's pages (also read by officials within their jurisdiction): the dashboard, a
//! book, the upload of books and lists, the reconciliation (报核) and the drill-down of a material.
//! Pure rendering: the views are read from the engine by `crate::web`.

use crate::charts::{self, BalancePoint};
use crate::html::{escape, facts, head_cells, page, path_segment, td, td_num, td_nw, th, Chrome};
use crate::i18n::{fill, key};
use chrono::NaiveDate;
use jiamao_domain::book::Family;
use jiamao_domain::decimal::{plain, report_qty};
use jiamao_domain::doc::BookType;
use jiamao_domain::explain::Explanation;
use jiamao_domain::movement::MaterialFigure;
use jiamao_domain::report::{BalanceReport, MaterialReport, ReconcileReport};
use jiamao_domain::Decimal;
use std::fmt::Write as _;

/// The translation key of a book type.
pub(crate) fn book_type_key(t: BookType) -> &'static str {
    match t {
        BookType::B => key("book_type.b"),
        BookType::C => key("book_type.c"),
        BookType::E => key("book_type.e"),
    }
}

fn family_key(f: Family) -> &'static str {
    match f {
        Family::Consigned => key("family.consigned"),
        Family::Purchased => key("family.purchased"),
    }
}

/// The translation key of a material figure (the 报核 column it counts in).
pub(crate) fn figure_key(f: MaterialFigure) -> &'static str {
    match f {
        MaterialFigure::Imported => key("recon.imported"),
        MaterialFigure::CarriedIn => key("recon.carried_in"),
        MaterialFigure::SurplusIn => key("recon.surplus_in"),
        MaterialFigure::ReplacedIn => key("recon.replaced_in"),
        MaterialFigure::Consumed => key("recon.consumed"),
        MaterialFigure::DomesticSold => key("recon.domestic_sold"),
        MaterialFigure::ReExported => key("recon.re_exported"),
        MaterialFigure::ReplacedOut => key("recon.replaced_out"),
        MaterialFigure::SurplusOut => key("recon.surplus_out"),
        MaterialFigure::Destroyed => key("recon.destroyed"),
        MaterialFigure::LeftoverDisposed => key("recon.leftover_disposed"),
    }
}

/// A unit code with its name from the code table (`035 千克`).
pub(crate) fn unit_label(code: &str) -> String {
    match jiamao_domain::codes::UnitCode::parse(code) {
        Ok(u) => format!("{} {}", u.as_str(), u.name()),
        Err(_) => code.to_owned(),
    }
}

fn book_href(book_no: &str) -> String {
    format!("/books/{}", path_segment(book_no))
}

fn range_query(from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    let parts: Vec<String> = [from.map(|d| format!("from={d}")), to.map(|d| format!("to={d}"))].into_iter().flatten().collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

// ---- Dashboard ----------------------------------------------------------------------------------

/// The open verification cycle of a book (核销周期) and its 报核 deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CycleView {
    pub cycle_no: u32,
    pub cycle_from: NaiveDate,
    pub cycle_until: NaiveDate,
    pub report_due: NaiveDate,
}

/// One book of the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DashboardBook {
    pub book_no: String,
    pub revision: u32,
    pub book_type: BookType,
    pub operator: String,
    pub master_customs: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub lists_posted: u64,
    /// `None` when the account may not read the book's reports.
    pub cycle: Option<CycleView>,
}

/// Something to act on, by book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Alert {
    /// The 报核 deadline has passed.
    ReportOverdue { book_no: String, due: NaiveDate },
    /// The 报核 deadline is within [`SOON_DAYS`].
    ReportSoon { book_no: String, due: NaiveDate, days: i64 },
    /// The guarantee posted falls short of the one required.
    GuaranteeShortfall { book_no: String, required: String, posted: String, shortfall: String },
    /// Tax of a period is outstanding after its due date.
    LateTax { book_no: String, period: String, due: NaiveDate, outstanding: String, days: i64 },
}

/// How many days before a deadline the dashboard warns.
pub(crate) const SOON_DAYS: i64 = 30;

/// `GET /`: the books and what needs attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DashboardView {
    pub as_of: NaiveDate,
    pub books: Vec<DashboardBook>,
    pub alerts: Vec<Alert>,
    pub can_upload: bool,
}

fn alert_html(c: &Chrome, a: &Alert) -> String {
    let link = |b: &str| format!("<a href=\"{}\">{}</a>", escape(&book_href(b)), escape(b));
    let (class, book_no, text) = match a {
        Alert::ReportOverdue { book_no, due } => ("bad", book_no, fill(c.t("alert.report_overdue"), &[("due", &due.to_string())])),
        Alert::ReportSoon { book_no, due, days } => ("", book_no, fill(c.t("alert.report_soon"), &[("due", &due.to_string()), ("days", &days.to_string())])),
        Alert::GuaranteeShortfall { book_no, required, posted, shortfall } => {
            ("bad", book_no, fill(c.t("alert.guarantee_shortfall"), &[("required", required), ("posted", posted), ("shortfall", shortfall)]))
        }
        Alert::LateTax { book_no, period, due, outstanding, days } => {
            ("bad", book_no, fill(c.t("alert.late_tax"), &[("period", period), ("due", &due.to_string()), ("outstanding", outstanding), ("days", &days.to_string())]))
        }
    };
    let class = if class.is_empty() { String::new() } else { format!(" class=\"{class}\"") };
    format!("<li{class} data-book=\"{}\">{} {}</li>\n", escape(book_no), link(book_no), escape(&text))
}

/// `GET /`.
pub(crate) fn dashboard(c: &Chrome, v: &DashboardView) -> String {
    let mut body = format!("<h1>{}</h1>\n<p class=\"note\">{}</p>\n", escape(c.t("dashboard.title")), escape(&fill(c.t("dashboard.as_of"), &[("date", &v.as_of.to_string())])));
    let _ = writeln!(body, "<h2>{}</h2>", escape(c.t("dashboard.alerts")));
    if v.alerts.is_empty() {
        let _ = writeln!(body, "<p class=\"ok\" data-testid=\"alerts\">{}</p>", escape(c.t("dashboard.no_alerts")));
    } else {
        body.push_str("<ul class=\"alerts\" data-testid=\"alerts\">\n");
        for a in &v.alerts {
            body.push_str(&alert_html(c, a));
        }
        body.push_str("</ul>\n");
    }
    let _ = writeln!(body, "<h2>{}</h2>", escape(c.t("dashboard.books")));
    if v.books.is_empty() {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("dashboard.empty")));
        if v.can_upload {
            let _ = writeln!(body, "<p><a href=\"/upload\">{}</a></p>", escape(c.t("dashboard.upload_first")));
        }
        return page(c, c.t("site.name"), &body);
    }
    body.push_str("<div class=\"scroll\">\n<table class=\"wide\" data-testid=\"books\">\n<thead><tr>");
    body.push_str(&head_cells(
        c,
        &[
            ("book.no", false),
            ("book.revision", true),
            ("book.type", false),
            ("book.operator", false),
            ("book.master_customs", false),
            ("book.valid", false),
            ("book.cycle", false),
            ("book.report_due", false),
            ("book.lists_posted", true),
            ("book.reports", false),
        ],
    ));
    body.push_str("</tr></thead>\n<tbody>\n");
    for b in &v.books {
        let href = escape(&book_href(&b.book_no));
        let (cycle, due) = match &b.cycle {
            Some(cy) => (fill(c.t("book.cycle_text"), &[("n", &cy.cycle_no.to_string()), ("from", &cy.cycle_from.to_string()), ("until", &cy.cycle_until.to_string())]), cy.report_due.to_string()),
            None => ("—".to_owned(), "—".to_owned()),
        };
        let _ = writeln!(
            body,
            "<tr data-book=\"{no}\"><td class=\"nw\"><a href=\"{href}\">{no}</a></td>{rev}{ty}{op}{mc}{valid}{cycle}{due}{lists}<td class=\"nw\">{links}</td></tr>",
            no = escape(&b.book_no),
            rev = td_num(&b.revision.to_string()),
            ty = td(c.t(book_type_key(b.book_type))),
            op = td(&b.operator),
            mc = td(&b.master_customs),
            valid = td_nw(&format!("{} — {}", b.valid_from, b.valid_until)),
            cycle = td_nw(&cycle),
            due = td_nw(&due),
            lists = td_num(&b.lists_posted.to_string()),
            links = c.book_links.iter().filter(|(suffix, _)| !suffix.is_empty()).map(|(suffix, k)| format!("<a href=\"{href}{suffix}\">{}</a>", escape(c.t(k)))).collect::<Vec<_>>().join(" · "),
        );
    }
    body.push_str("</tbody>\n</table>\n</div>\n");
    page(c, c.t("site.name"), &body)
}

// ---- A book -------------------------------------------------------------------------------------

/// A 料件 or 成品 as the pages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ItemView {
    pub seq: u32,
    pub part_no: String,
    pub hs_code: String,
    pub name: String,
    pub unit: String,
    pub authorized_qty: Option<String>,
    pub opening_qty: String,
}

/// One material's line in a 单耗 version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BomView {
    pub material_seq: u32,
    pub uc: String,
    pub net: Option<String>,
    pub tangible: String,
    pub intangible: String,
    pub share: String,
}

/// A 单耗 version of a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionView {
    pub version: String,
    pub valid_from: NaiveDate,
    pub lines: Vec<BomView>,
}

/// Everything `GET /books/{book_no}` shows, read from the engine under one lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BookView {
    pub book_no: String,
    pub revision: Option<u32>,
    pub book_type: BookType,
    pub family: Family,
    pub operator: String,
    pub master_customs: String,
    pub zone: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub lists_posted: u64,
    pub lines_posted: u64,
    pub pending_lines: usize,
    pub materials: Vec<ItemView>,
    pub products: Vec<ItemView>,
    /// For each product (same order as `products`), its 单耗 versions.
    pub versions: Vec<Vec<VersionView>>,
    pub balance: BalanceReport,
    pub reconcile: ReconcileReport,
    pub cycle: Option<CycleView>,
}

fn item(items: &[ItemView], seq: u32) -> Option<&ItemView> {
    items.iter().find(|i| i.seq == seq)
}

fn item_name(items: &[ItemView], seq: u32) -> &str {
    item(items, seq).map_or("", |i| i.name.as_str())
}

/// The 报核 tables (materials, then products); `testids` marks the material links for the browser
/// tests (only on the reconciliation page, one per material).
pub(crate) fn reconcile_tables(c: &Chrome, book_no: &str, materials: &[ItemView], products: &[ItemView], report: &ReconcileReport, testids: bool, range: &str) -> String {
    let href = escape(&book_href(book_no));
    let stocktake = report.materials.iter().any(|m| m.actual_remain.is_some());
    let mut body = format!("<div class=\"scroll\">\n<table class=\"wide\" data-testid=\"reconcile-materials\">\n<caption>{}</caption>\n<thead><tr>", escape(c.t("recon.materials")));
    let mut columns: Vec<(&str, bool)> = vec![
        ("recon.seq", true),
        ("recon.name", false),
        ("recon.unit", false),
        ("recon.opening", true),
        ("recon.imported", true),
        ("recon.carried_in", true),
        ("recon.surplus_in", true),
        ("recon.replaced_in", true),
        ("recon.consumed", true),
        ("recon.domestic_sold", true),
        ("recon.re_exported", true),
        ("recon.replaced_out", true),
        ("recon.surplus_out", true),
        ("recon.destroyed", true),
        ("recon.leftover_accrued", true),
        ("recon.leftover_disposed", true),
        ("recon.should_remain", true),
    ];
    if stocktake {
        columns.extend([("recon.actual_remain", true), ("recon.difference", true)]);
    }
    for (k, numeric) in &columns {
        body.push_str(&th(c, k, *numeric));
    }
    body.push_str("</tr></thead>\n<tbody>\n");
    for m in &report.materials {
        let it = item(materials, m.seq);
        let name = it.map_or("", |i| i.name.as_str());
        let testid = if testids { " data-testid=\"material-link\"" } else { "" };
        let _ = write!(
            body,
            "<tr data-seq=\"{seq}\">{seq_cell}<td class=\"nw\"><a href=\"{href}/materials/{seq}{range}\"{testid}>{name}</a></td>{unit}",
            seq = m.seq,
            seq_cell = td_num(&m.seq.to_string()),
            range = escape(range),
            name = escape(if name.is_empty() { "—" } else { name }),
            unit = td_nw(&it.map(|i| unit_label(&i.unit)).unwrap_or_default()),
        );
        for figure in material_figures(m) {
            body.push_str(&td_num(figure));
        }
        if stocktake {
            body.push_str(&td_num(m.actual_remain.as_deref().unwrap_or("")));
            body.push_str(&td_num(m.difference.as_deref().unwrap_or("")));
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</tbody>\n</table>\n</div>\n");

    let _ = write!(body, "<div class=\"scroll\">\n<table class=\"wide\" data-testid=\"reconcile-products\">\n<caption>{}</caption>\n<thead><tr>", escape(c.t("recon.products")));
    body.push_str(&head_cells(
        c,
        &[
            ("recon.seq", true),
            ("recon.name", false),
            ("recon.unit", false),
            ("recon.exported", true),
            ("recon.carried_out", true),
            ("recon.product_domestic_sold", true),
            ("recon.returned", true),
            ("recon.reexported", true),
            ("recon.product_destroyed", true),
        ],
    ));
    body.push_str("</tr></thead>\n<tbody>\n");
    for p in &report.products {
        let it = item(products, p.seq);
        body.push_str("<tr>");
        body.push_str(&td_num(&p.seq.to_string()));
        body.push_str(&td_nw(it.map_or("", |i| i.name.as_str())));
        body.push_str(&td_nw(&it.map(|i| unit_label(&i.unit)).unwrap_or_default()));
        for figure in [&p.exported, &p.carried_out, &p.domestic_sold, &p.returned, &p.reexported, &p.destroyed] {
            body.push_str(&td_num(figure));
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</tbody>\n</table>\n</div>\n");
    body
}

fn material_figures(m: &MaterialReport) -> [&String; 14] {
    [
        &m.opening,
        &m.imported,
        &m.carried_in,
        &m.surplus_in,
        &m.replaced_in,
        &m.consumed,
        &m.domestic_sold,
        &m.re_exported,
        &m.replaced_out,
        &m.surplus_out,
        &m.destroyed,
        &m.leftover_accrued,
        &m.leftover_disposed,
        &m.should_remain,
    ]
}

/// The 单耗 versions of each product side by side: a row per material, a column per version.
fn versions_side_by_side(c: &Chrome, v: &BookView) -> String {
    let mut body = String::new();
    for (p, versions) in v.products.iter().zip(&v.versions) {
        let _ = writeln!(body, "<h3>{}</h3>", escape(&fill(c.t("book.product_versions"), &[("seq", &p.seq.to_string()), ("name", &p.name)])));
        if versions.is_empty() {
            let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("book.no_versions")));
            continue;
        }
        let mut seqs: Vec<u32> = versions.iter().flat_map(|x| x.lines.iter().map(|l| l.material_seq)).collect();
        seqs.sort_unstable();
        seqs.dedup();
        let _ = write!(body, "<div class=\"scroll\">\n<table data-testid=\"versions\" data-product=\"{}\">\n<thead><tr>{}", p.seq, th(c, "book.material", false));
        for x in versions {
            let _ = write!(body, "<th scope=\"col\">{}</th>", escape(&fill(c.t("book.version_head"), &[("version", &x.version), ("from", &x.valid_from.to_string())])));
        }
        body.push_str("</tr></thead>\n<tbody>\n");
        for seq in seqs {
            let _ = write!(body, "<tr><th scope=\"row\">{} {}</th>", seq, escape(item_name(&v.materials, seq)));
            for x in versions {
                match x.lines.iter().find(|l| l.material_seq == seq) {
                    Some(l) => {
                        let detail = match &l.net {
                            Some(net) => fill(c.t("book.bom_net"), &[("net", net), ("tangible", &l.tangible), ("intangible", &l.intangible), ("share", &l.share)]),
                            None => fill(c.t("book.bom_direct"), &[("share", &l.share)]),
                        };
                        let _ = write!(body, "<td class=\"num\">{}<br><small>{}</small></td>", escape(&l.uc), escape(&detail));
                    }
                    None => body.push_str("<td class=\"num\">—</td>"),
                }
            }
            body.push_str("</tr>\n");
        }
        body.push_str("</tbody>\n</table>\n</div>\n");
    }
    body
}

/// `GET /books/{book_no}`: the book's facts, materials with balances, products, 单耗 versions side by
/// side and the 报核 figures.
pub(crate) fn book(c: &Chrome, v: &BookView) -> String {
    let href = escape(&book_href(&v.book_no));
    let mut body = crate::pages_ledger::book_nav(c, &v.book_no, "");
    let _ = writeln!(body, "<h1>{}</h1>", escape(&fill(c.t("book.title"), &[("book_no", &v.book_no)])));
    let mut rows: Vec<(&str, String)> = vec![
        ("book.revision", v.revision.map_or_else(String::new, |r| r.to_string())),
        ("book.type", c.t(book_type_key(v.book_type)).to_owned()),
        ("book.family", c.t(family_key(v.family)).to_owned()),
        ("book.operator", v.operator.clone()),
        ("book.master_customs", v.master_customs.clone()),
    ];
    if let Some(zone) = &v.zone {
        rows.push(("book.zone", zone.clone()));
    }
    rows.push(("book.valid", format!("{} — {}", v.valid_from, v.valid_until)));
    rows.push(("book.lists_posted", fill(c.t("book.lists_lines"), &[("lists", &v.lists_posted.to_string()), ("lines", &v.lines_posted.to_string())])));
    if let Some(cy) = &v.cycle {
        rows.push(("book.cycle", fill(c.t("book.cycle_text"), &[("n", &cy.cycle_no.to_string()), ("from", &cy.cycle_from.to_string()), ("until", &cy.cycle_until.to_string())])));
        rows.push(("book.report_due", cy.report_due.to_string()));
    }
    if v.pending_lines > 0 {
        rows.push(("book.pending_lines", v.pending_lines.to_string()));
    }
    body.push_str(&facts(c, &rows));
    let _ = writeln!(body, "<p><a href=\"{href}/reconcile\">{}</a></p>", escape(c.t("book.reconcile_link")));

    let _ = write!(body, "<h2>{}</h2>\n<div class=\"scroll\">\n<table data-testid=\"materials\">\n<thead><tr>", escape(c.t("book.materials")));
    body.push_str(&head_cells(
        c,
        &[
            ("book.material_seq", true),
            ("book.part_no", false),
            ("book.hs_code", false),
            ("book.name", false),
            ("book.unit", false),
            ("book.authorized_qty", true),
            ("book.opening_qty", true),
            ("book.balance", true),
        ],
    ));
    body.push_str("</tr></thead>\n<tbody>\n");
    for m in &v.materials {
        let balance = v.balance.materials.iter().find(|b| b.seq == m.seq).map_or("", |b| b.balance.as_str());
        let _ = writeln!(
            body,
            "<tr>{}{}{}<td><a href=\"{href}/materials/{}\">{}</a></td>{}{}{}{}</tr>",
            td_num(&m.seq.to_string()),
            td_nw(&m.part_no),
            td_nw(&m.hs_code),
            m.seq,
            escape(&m.name),
            td_nw(&unit_label(&m.unit)),
            td_num(m.authorized_qty.as_deref().unwrap_or("")),
            td_num(&m.opening_qty),
            td_num(balance)
        );
    }
    body.push_str("</tbody>\n</table>\n</div>\n");

    let _ = write!(body, "<h2>{}</h2>\n<div class=\"scroll\">\n<table data-testid=\"products\">\n<thead><tr>", escape(c.t("book.products")));
    body.push_str(&head_cells(c, &[("book.product_seq", true), ("book.part_no", false), ("book.hs_code", false), ("book.name", false), ("book.unit", false)]));
    body.push_str("</tr></thead>\n<tbody>\n");
    for p in &v.products {
        let _ = writeln!(body, "<tr>{}{}{}{}{}</tr>", td_num(&p.seq.to_string()), td_nw(&p.part_no), td_nw(&p.hs_code), td(&p.name), td_nw(&unit_label(&p.unit)));
    }
    body.push_str("</tbody>\n</table>\n</div>\n");

    let _ = writeln!(body, "<h2>{}</h2>", escape(c.t("book.versions")));
    body.push_str(&versions_side_by_side(c, v));

    let _ = writeln!(body, "<h2>{}</h2>", escape(c.t("book.reconcile")));
    body.push_str(&reconcile_tables(c, &v.book_no, &v.materials, &v.products, &v.reconcile, false, ""));
    let _ = writeln!(
        body,
        "<p class=\"note\">{} {}: <a href=\"{href}/balance\">{}</a> · <a href=\"{href}/reconcile\">{}</a></p>",
        escape(c.t("book.rounding")),
        escape(c.t("book.api")),
        escape(c.t("book.api_balance")),
        escape(c.t("book.api_reconcile")),
        href = escape(&format!("/api/v1/books/{}", path_segment(&v.book_no)))
    );
    page(c, &fill(c.t("book.title"), &[("book_no", &v.book_no)]), &body)
}

// ---- Reconciliation -----------------------------------------------------------------------------

/// `GET /books/{book_no}/reconcile?from=&to=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReconcileView {
    pub book_no: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub materials: Vec<ItemView>,
    pub products: Vec<ItemView>,
    pub report: ReconcileReport,
}

fn date_input(c: &Chrome, name: &str, label_key: &str, value: Option<NaiveDate>) -> String {
    format!("<label for=\"{name}\">{}</label> <input type=\"date\" id=\"{name}\" name=\"{name}\" value=\"{}\">", escape(c.t(label_key)), value.map(|d| d.to_string()).unwrap_or_default())
}

/// The 报核 report page: every material links to its drill-down.
pub(crate) fn reconcile(c: &Chrome, v: &ReconcileView) -> String {
    let href = escape(&book_href(&v.book_no));
    let title = fill(c.t("recon.title"), &[("book_no", &v.book_no)]);
    let mut body = crate::pages_ledger::book_nav(c, &v.book_no, "/reconcile");
    let _ = writeln!(body, "<p><a href=\"{href}\">{}</a></p>\n<h1>{}</h1>", escape(&fill(c.t("recon.back"), &[("book_no", &v.book_no)])), escape(&title));
    let _ = writeln!(
        body,
        "<form method=\"get\" action=\"{href}/reconcile\" class=\"field\">{}{}<button type=\"submit\">{}</button></form>",
        date_input(c, "from", "recon.from", v.from),
        date_input(c, "to", "recon.to", v.to),
        escape(c.t("recon.apply"))
    );
    body.push_str(&reconcile_tables(c, &v.book_no, &v.materials, &v.products, &v.report, true, &range_query(v.from, v.to)));
    let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("book.rounding")));
    body.push_str(&stocktake(c, v));
    page(c, &title, &body)
}

// ---- Stocktake (盘点) on the reconciliation page -------------------------------------------------

const STOCKTAKE_SCRIPT: &str = r#"(function () {
  var T = JSON.parse(document.getElementById('stocktake-text').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  function fill(s, args) { return s.replace(/\{(\w+)\}/g, function (m, k) { return k in args ? String(args[k]) : m; }); }
  function csrf() {
    var parts = document.cookie.split(';');
    for (var i = 0; i < parts.length; i++) {
      var c = parts[i].trim();
      if (c.indexOf('jiamao_csrf=') === 0) { return decodeURIComponent(c.slice(12)); }
    }
    return '';
  }
  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (text != null) { e.textContent = text; }
    return e;
  }
  function cell(row, text, cls) { var td = document.createElement('td'); td.textContent = text; if (cls) { td.className = cls; } row.appendChild(td); }
  var input = document.getElementById('stocktake-file'), result = document.getElementById('stocktake-result');
  var table = document.getElementById('differences'), tbody = table.querySelector('tbody'), holder = document.getElementById('differences-chart');
  function clear() {
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    while (holder.firstChild) { holder.removeChild(holder.firstChild); }
  }
  function draw(rows) {
    var shown = rows.slice().sort(function (a, b) { return Math.abs(Number(b.difference)) - Math.abs(Number(a.difference)); }).slice(0, T.max_bars);
    if (!shown.length) { return; }
    var W = 760, ROW = 24, LABEL = 220, TOP = 12, H = TOP + ROW * shown.length + 14;
    var top = 0;
    shown.forEach(function (m) { top = Math.max(top, Math.abs(Number(m.difference))); });
    if (!(top > 0)) { top = 1; }
    var mid = LABEL + (W - LABEL) / 2, half = (W - LABEL) / 2 - 70;
    var svg = el('svg', { 'class': 'chart', 'data-testid': 'differences-chart', role: 'img', 'aria-labelledby': 'diff-title diff-desc', viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'xMinYMin meet' });
    svg.appendChild(el('title', { id: 'diff-title' }, T.chart_title));
    svg.appendChild(el('desc', { id: 'diff-desc' }, fill(T.chart_desc, { n: shown.length, total: rows.length })));
    svg.appendChild(el('line', { x1: mid, y1: TOP - 4, x2: mid, y2: H - 6, stroke: '#8c959f' }));
    shown.forEach(function (m, i) {
      var d = Number(m.difference), w = Math.abs(d) / top * half, y = TOP + ROW * i;
      var name = (T.names[m.seq] || '');
      var g = el('g', { 'data-seq': m.seq });
      g.appendChild(el('title', {}, fill(T.tip, { seq: m.seq, name: name, difference: m.difference })));
      g.appendChild(el('text', { x: LABEL - 6, y: y + 15, 'font-size': 11, 'text-anchor': 'end', fill: '#1f2328' }, m.seq + ' ' + name));
      g.appendChild(el('rect', { x: d < 0 ? mid - w : mid, y: y + 4, width: Math.max(w, 1), height: 14, fill: d < 0 ? '#b42318' : '#0b5cad' }));
      g.appendChild(el('text', { x: d < 0 ? mid - w - 4 : mid + w + 4, y: y + 15, 'font-size': 10, 'text-anchor': d < 0 ? 'end' : 'start', fill: '#57606a' }, m.difference));
      svg.appendChild(g);
    });
    holder.appendChild(svg);
  }
  document.getElementById('stocktake-upload').addEventListener('click', function () {
    var f = input.files[0];
    if (!f) { result.textContent = T.choose; result.className = 'error'; return; }
    result.textContent = T.uploading; result.className = '';
    f.text().then(function (text) {
      return fetch(T.url, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf() }, body: text });
    }).then(function (r) {
      return r.text().then(function (t) { var body = null; try { body = JSON.parse(t); } catch (e) { body = null; } return { status: r.status, body: body }; });
    }).then(function (r) {
      clear();
      if (r.status !== 200 || !r.body || !Array.isArray(r.body.materials)) {
        table.hidden = true;
        var why = r.body && r.body.error ? ' ' + r.body.error.message + ' (' + r.body.error.rule + ')' : '';
        result.textContent = fill(T.failed, { status: r.status }) + why; result.className = 'error';
        return;
      }
      var rows = r.body.materials.filter(function (m) { return m.difference != null; });
      rows.forEach(function (m) {
        var row = document.createElement('tr');
        row.setAttribute('data-seq', m.seq);
        cell(row, String(m.seq), 'num');
        cell(row, T.names[m.seq] || '');
        cell(row, T.units[m.seq] || '', 'nw');
        cell(row, m.should_remain, 'num');
        cell(row, m.actual_remain, 'num');
        cell(row, m.difference, String(m.difference).charAt(0) === '-' ? 'num neg' : 'num');
        tbody.appendChild(row);
      });
      table.hidden = rows.length === 0;
      var differing = rows.filter(function (m) { return Number(m.difference) !== 0; }).length;
      result.textContent = fill(T.summary, { n: rows.length, differing: differing }); result.className = differing > 0 ? 'error' : 'ok';
      draw(rows);
    }).catch(function (e) { result.textContent = fill(T.failed, { status: '-' }) + ' ' + e; result.className = 'error'; });
  });
})();
"#;

/// The stocktake (盘点) upload: a file sent to the API's reconciliation by a small script, the
/// differences shown in a table and as bars by material.
fn stocktake(c: &Chrome, v: &ReconcileView) -> String {
    let names: serde_json::Map<String, serde_json::Value> = v.materials.iter().map(|m| (m.seq.to_string(), serde_json::Value::String(m.name.clone()))).collect();
    let units: serde_json::Map<String, serde_json::Value> = v.materials.iter().map(|m| (m.seq.to_string(), serde_json::Value::String(unit_label(&m.unit)))).collect();
    let text = serde_json::json!({
        "url": format!("/api/v1/books/{}/reconcile", path_segment(&v.book_no)),
        "choose": c.t("upload.choose"),
        "uploading": c.t("upload.uploading"),
        "failed": c.t("upload.failed"),
        "summary": c.t("stocktake.summary"),
        "chart_title": fill(c.t("chart.diff.title"), &[("book_no", &v.book_no)]),
        "chart_desc": c.t("chart.diff.desc"),
        "tip": c.t("chart.diff.tip"),
        "max_bars": 40,
        "names": names,
        "units": units,
    });
    let mut out = format!(
        "<section class=\"panel\" aria-labelledby=\"stocktake-h\">\n<h2 id=\"stocktake-h\">{h}</h2>\n<noscript><p role=\"alert\">{noscript}</p></noscript>\n<p class=\"note\">{help}</p>\n<div class=\"field\"><label for=\"stocktake-file\">{label}</label> <input type=\"file\" id=\"stocktake-file\" name=\"stocktake\" data-testid=\"stocktake-file\" accept=\".json,application/json\">\n<button type=\"button\" class=\"primary\" id=\"stocktake-upload\" data-testid=\"stocktake-upload\">{button}</button></div>\n<p id=\"stocktake-result\" data-testid=\"stocktake-result\" role=\"status\" aria-live=\"polite\"></p>\n<div class=\"scroll\">\n<table id=\"differences\" data-testid=\"differences\" hidden>\n<caption>{caption}</caption>\n<thead><tr>",
        h = escape(c.t("stocktake.title")),
        noscript = escape(&fill(c.t("stocktake.noscript"), &[("book_no", &v.book_no)])),
        help = escape(c.t("stocktake.help")),
        label = escape(c.t("stocktake.label")),
        button = escape(c.t("stocktake.button")),
        caption = escape(c.t("stocktake.differences")),
    );
    for (k, numeric) in [("recon.seq", true), ("recon.name", false), ("recon.unit", false), ("recon.should_remain", true), ("recon.actual_remain", true), ("recon.difference", true)] {
        out.push_str(&th(c, k, numeric));
    }
    let _ = write!(
        out,
        "</tr></thead>\n<tbody></tbody>\n</table>\n</div>\n<div id=\"differences-chart\"></div>\n</section>\n<script type=\"application/json\" id=\"stocktake-text\">{}</script>\n<script>\n{STOCKTAKE_SCRIPT}</script>\n",
        crate::html::script_json(&text)
    );
    out
}

// ---- The drill-down of a material ---------------------------------------------------------------

/// `GET /books/{book_no}/materials/{seq}?from=&to=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MaterialView {
    pub book_no: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub material: ItemView,
    pub products: Vec<ItemView>,
    /// The material's 报核 row over the same range.
    pub row: Option<MaterialReport>,
    pub opening: Decimal,
    pub series: Vec<BalancePoint>,
    pub explanation: Explanation,
}

/// The drill-down: the balance over time, the contributions by product and 单耗 version, and list
/// by list.
pub(crate) fn material(c: &Chrome, v: &MaterialView) -> String {
    let href = escape(&book_href(&v.book_no));
    let m = &v.material;
    let title = fill(c.t("material.title"), &[("seq", &m.seq.to_string()), ("name", &m.name)]);
    let mut body = format!(
        "<p><a href=\"{href}/reconcile{range}\">{back}</a></p>\n<h1>{title}</h1>\n",
        range = escape(&range_query(v.from, v.to)),
        back = escape(&fill(c.t("material.back"), &[("book_no", &v.book_no)])),
        title = escape(&title)
    );
    let mut rows: Vec<(&str, String)> = vec![("material.book", v.book_no.clone()), ("book.part_no", m.part_no.clone()), ("book.hs_code", m.hs_code.clone()), ("book.unit", unit_label(&m.unit))];
    if v.from.is_some() || v.to.is_some() {
        rows.push(("material.range", format!("{} — {}", v.from.map(|d| d.to_string()).unwrap_or_default(), v.to.map(|d| d.to_string()).unwrap_or_default())));
    }
    rows.push(("recon.opening", report_qty(v.opening)));
    if let Some(r) = &v.row {
        rows.push(("recon.should_remain", r.should_remain.clone()));
    }
    body.push_str(&facts(c, &rows));

    let _ = writeln!(body, "<h2>{}</h2>", escape(c.t("material.chart")));
    body.push_str(&charts::balance_svg(c, &m.name, &unit_label(&m.unit), v.opening, &v.series));
    let _ = write!(
        body,
        "<details>\n<summary>{}</summary>\n<table data-testid=\"balance-points\">\n<thead><tr>{}{}</tr></thead>\n<tbody>\n",
        escape(c.t("material.chart_data")),
        th(c, "material.date", false),
        th(c, "book.balance", true)
    );
    for p in &v.series {
        let _ = writeln!(body, "<tr>{}{}</tr>", td_nw(&p.date.to_string()), td_num(&report_qty(p.balance)));
    }
    body.push_str("</tbody>\n</table>\n</details>\n");

    let product_name = |seq: u32| item_name(&v.products, seq).to_owned();
    let e = &v.explanation;
    let _ = writeln!(body, "<h2>{}</h2>", escape(c.t("material.by_version")));
    if e.by_product_version.is_empty() {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("material.no_by_version")));
    } else {
        body.push_str("<div class=\"scroll\">\n<table class=\"wide\" data-testid=\"by-version\">\n<thead><tr>");
        body.push_str(&head_cells(
            c,
            &[("material.product", false), ("material.version", false), ("material.figure", false), ("material.lines", true), ("material.product_qty", true), ("material.qty", true)],
        ));
        body.push_str("</tr></thead>\n<tbody>\n");
        for b in &e.by_product_version {
            let _ = writeln!(
                body,
                "<tr>{}{}{}{}{}{}</tr>",
                td(&format!("{} {}", b.product_seq, product_name(b.product_seq))),
                td(&b.version),
                td(c.t(figure_key(b.figure))),
                td_num(&b.lines.to_string()),
                td_num(&b.product_qty),
                td_num(&b.qty)
            );
        }
        body.push_str("</tbody>\n</table>\n</div>\n");
    }

    let _ = writeln!(body, "<h2>{}</h2>", escape(c.t("material.contributions")));
    body.push_str("<div class=\"scroll\">\n<table class=\"wide\" data-testid=\"contributions\">\n<thead><tr>");
    body.push_str(&head_cells(
        c,
        &[
            ("material.date", false),
            ("material.list", false),
            ("material.trade_mode", false),
            ("material.line", true),
            ("material.figure", false),
            ("material.qty", true),
            ("material.product", false),
            ("material.version", false),
            ("material.product_qty", true),
            ("material.uc", true),
            ("material.share", true),
            ("material.leftover", true),
            ("material.amount", true),
        ],
    ));
    body.push_str("</tr></thead>\n<tbody>\n");
    for x in &e.contributions {
        let product = x.product_seq.map(|s| format!("{s} {}", product_name(s))).unwrap_or_default();
        let _ = writeln!(
            body,
            "<tr>{}{}{}{}{}{}{}{}{}{}{}{}{}</tr>",
            td_nw(&x.declared_on.to_string()),
            td_nw(&x.list_no),
            td_nw(&x.trade_mode),
            td_num(&x.line.to_string()),
            td(c.t(figure_key(x.figure))),
            td_num(&x.qty),
            td(&product),
            td(x.version.as_deref().unwrap_or("")),
            td_num(x.product_qty.as_deref().unwrap_or("")),
            td_num(x.unit_consumption.as_deref().unwrap_or("")),
            td_num(x.bonded_share.as_deref().unwrap_or("")),
            td_num(x.leftover.as_deref().unwrap_or("")),
            td_num(x.amount.as_deref().unwrap_or(""))
        );
    }
    body.push_str("</tbody>\n</table>\n</div>\n");
    if e.contributions.is_empty() {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("material.no_contributions")));
    }
    if !e.pending_lines.is_empty() {
        let _ = writeln!(body, "<p class=\"note\">{} {}</p>", escape(c.t("material.pending")), escape(&e.pending_lines.join(", ")));
    }
    page(c, &title, &body)
}

// ---- Upload -------------------------------------------------------------------------------------

const UPLOAD_SCRIPT: &str = r#"(function () {
  var T = JSON.parse(document.getElementById('upload-text').textContent);
  function fill(s, args) { return s.replace(/\{(\w+)\}/g, function (m, k) { return k in args ? String(args[k]) : m; }); }
  function csrf() {
    var parts = document.cookie.split(';');
    for (var i = 0; i < parts.length; i++) {
      var c = parts[i].trim();
      if (c.indexOf('jiamao_csrf=') === 0) { return decodeURIComponent(c.slice(12)); }
    }
    return '';
  }
  function send(url, file) {
    return file.text().then(function (text) {
      return fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf() }, body: text });
    }).then(function (r) {
      return r.text().then(function (t) { var body = null; try { body = JSON.parse(t); } catch (e) { body = null; } return { status: r.status, body: body }; });
    });
  }
  function failure(r) {
    if (r.body && r.body.error) { return fill(T.failed, { status: r.status }) + ' ' + r.body.error.message + ' (' + r.body.error.rule + ')'; }
    return fill(T.failed, { status: r.status });
  }
  function cell(row, text) { var td = document.createElement('td'); td.textContent = text; row.appendChild(td); return td; }
  var bookFile = document.getElementById('book-file'), bookResult = document.getElementById('book-result');
  document.getElementById('book-upload').addEventListener('click', function () {
    var f = bookFile.files[0];
    if (!f) { bookResult.textContent = T.choose; bookResult.className = 'error'; return; }
    bookResult.textContent = T.uploading; bookResult.className = '';
    send('/api/v1/books', f).then(function (r) {
      if (r.status === 200 && r.body && r.body.book_no) {
        bookResult.textContent = fill(T['book_' + r.body.status] || T.book_filed, r.body);
        bookResult.className = 'ok';
      } else { bookResult.textContent = failure(r); bookResult.className = 'error'; }
    }).catch(function (e) { bookResult.textContent = fill(T.failed, { status: '-' }) + ' ' + e; bookResult.className = 'error'; });
  });
  var listsFile = document.getElementById('lists-file'), summary = document.getElementById('lists-result');
  var tbody = document.querySelector('[data-testid="outcomes"] tbody');
  document.getElementById('lists-upload').addEventListener('click', function () {
    var f = listsFile.files[0];
    if (!f) { summary.textContent = T.choose; summary.className = 'error'; return; }
    summary.textContent = T.uploading; summary.className = '';
    send('/api/v1/lists', f).then(function (r) {
      while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
      if (r.status !== 200 || !Array.isArray(r.body)) { summary.textContent = failure(r); summary.className = 'error'; return; }
      var n = { posted: 0, duplicate: 0, rejected: 0 };
      r.body.forEach(function (o) {
        n[o.status] = (n[o.status] || 0) + 1;
        var row = document.createElement('tr');
        row.setAttribute('data-status', o.status);
        cell(row, o.list_no).className = 'nw';
        var st = document.createElement('span');
        st.className = 'state state-' + o.status;
        st.textContent = T['status_' + o.status] || o.status;
        cell(row, '').appendChild(st);
        cell(row, o.error ? o.error.rule : '');
        cell(row, o.error && o.error.line != null ? String(o.error.line) : '');
        cell(row, o.error ? o.error.message : '');
        tbody.appendChild(row);
      });
      summary.textContent = fill(T.summary, n);
      summary.className = n.rejected > 0 ? 'error' : 'ok';
    }).catch(function (e) { summary.textContent = fill(T.failed, { status: '-' }) + ' ' + e; summary.className = 'error'; });
  });
})();
"#;

/// `GET /upload`: a book document and a file of lists, each sent to the API by a small script; the
/// outcome of every list in a table.
pub(crate) fn upload(c: &Chrome) -> String {
    let text = serde_json::json!({
        "choose": c.t("upload.choose"),
        "uploading": c.t("upload.uploading"),
        "failed": c.t("upload.failed"),
        "book_filed": c.t("upload.book_filed"),
        "book_changed": c.t("upload.book_changed"),
        "book_unchanged": c.t("upload.book_unchanged"),
        "status_posted": c.t("status.posted"),
        "status_duplicate": c.t("status.duplicate"),
        "status_rejected": c.t("status.rejected"),
        "summary": c.t("upload.summary"),
    });
    let mut body = format!("<h1>{}</h1>\n<noscript><p role=\"alert\">{}</p></noscript>\n", escape(c.t("upload.title")), escape(c.t("upload.noscript")));
    let _ = write!(
        body,
        "<section class=\"panel\" aria-labelledby=\"book-h\">\n<h2 id=\"book-h\">{h}</h2>\n<p class=\"note\">{help}</p>\n<div class=\"field\"><label for=\"book-file\">{label}</label> <input type=\"file\" id=\"book-file\" name=\"book\" data-testid=\"book-file\" accept=\".json,application/json\">\n<button type=\"button\" class=\"primary\" id=\"book-upload\" data-testid=\"book-upload\">{button}</button></div>\n<p id=\"book-result\" data-testid=\"book-result\" role=\"status\" aria-live=\"polite\"></p>\n</section>\n",
        h = escape(c.t("upload.book.title")),
        help = escape(c.t("upload.book.help")),
        label = escape(c.t("upload.book.label")),
        button = escape(c.t("upload.book.button")),
    );
    let _ = write!(
        body,
        "<section class=\"panel\" aria-labelledby=\"lists-h\">\n<h2 id=\"lists-h\">{h}</h2>\n<p class=\"note\">{help}</p>\n<div class=\"field\"><label for=\"lists-file\">{label}</label> <input type=\"file\" id=\"lists-file\" name=\"lists\" data-testid=\"lists-file\" accept=\".json,application/json\">\n<button type=\"button\" class=\"primary\" id=\"lists-upload\" data-testid=\"lists-upload\">{button}</button></div>\n<p id=\"lists-result\" data-testid=\"lists-result\" role=\"status\" aria-live=\"polite\"></p>\n<div class=\"scroll\">\n<table data-testid=\"outcomes\">\n<caption>{caption}</caption>\n<thead><tr>{c1}{c2}{c3}{c4}{c5}</tr></thead>\n<tbody></tbody>\n</table>\n</div>\n</section>\n",
        h = escape(c.t("upload.lists.title")),
        help = escape(c.t("upload.lists.help")),
        label = escape(c.t("upload.lists.label")),
        button = escape(c.t("upload.lists.button")),
        caption = escape(c.t("upload.outcomes")),
        c1 = th(c, "upload.list_no", false),
        c2 = th(c, "upload.status", false),
        c3 = th(c, "upload.rule", false),
        c4 = th(c, "upload.line", true),
        c5 = th(c, "upload.message", false),
    );
    let _ = write!(body, "<script type=\"application/json\" id=\"upload-text\">{}</script>\n<script>\n{UPLOAD_SCRIPT}</script>\n", crate::html::script_json(&text));
    page(c, c.t("upload.title"), &body)
}

/// The item of a book as the pages show it.
pub(crate) fn item_view(i: &jiamao_domain::book::Item) -> ItemView {
    ItemView {
        seq: i.seq,
        part_no: i.part_no.clone(),
        hs_code: i.hs_code.clone(),
        name: i.name.clone(),
        unit: i.unit.clone(),
        authorized_qty: i.authorized_qty.map(plain),
        opening_qty: plain(i.opening_qty),
    }
}

/// The 单耗 versions of a book's products as the book page shows them.
pub(crate) fn versions_view(b: &jiamao_domain::book::Book) -> Vec<Vec<VersionView>> {
    b.versions
        .iter()
        .map(|vs| {
            vs.iter()
                .map(|v| VersionView {
                    version: v.version.clone(),
                    valid_from: v.valid_from,
                    lines: v
                        .lines
                        .iter()
                        .map(|l| BomView { material_seq: l.material_seq, uc: plain(l.uc), net: l.net.map(plain), tangible: plain(l.tangible), intangible: plain(l.intangible), share: plain(l.share) })
                        .collect(),
                })
                .collect()
        })
        .collect()
}
