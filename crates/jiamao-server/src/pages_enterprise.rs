//! The enterprise's pages (also read by officials within their jurisdiction): the dashboard, a
//! book, the upload of books and lists, the reconciliation (报核) and the drill-down of a material.
//! Pure rendering: the views are read from the engine by `crate::web`.

use crate::charts::{self, BalancePoint};
use crate::html::{csrf_field, date_input, escape, facts, head_cells, page, path_segment, td, td_num, td_nw, th, Chrome, DateField};
use crate::i18n::{fill, key};
use crate::table::{col, fixed, Col, Paging};
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
    /// The guarantee (保证金/保函) required and posted as of the day: `None` when it may not be read
    /// or cannot be computed (no regime for the date, no tariff line).
    pub guarantee: Option<crate::pages_officials::GuaranteeFacts>,
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
            ("book.guarantee", false),
            ("book.reports", false),
        ],
    ));
    body.push_str("</tr></thead>\n<tbody>\n");
    for b in &v.books {
        let guarantee = match &b.guarantee {
            None => "<td>—</td>".to_owned(),
            Some(g) => {
                let short = g.shortfall.parse::<Decimal>().is_ok_and(|d| d > Decimal::ZERO);
                let text = if short {
                    fill(c.t("book.guarantee_short"), &[("required", &g.required), ("posted", &g.posted), ("shortfall", &g.shortfall)])
                } else {
                    fill(c.t("book.guarantee_ok"), &[("required", &g.required), ("posted", &g.posted)])
                };
                format!("<td class=\"nw{}\" data-testid=\"guarantee\">{}</td>", if short { " error" } else { "" }, escape(&text))
            }
        };
        let href = escape(&book_href(&b.book_no));
        let (cycle, due) = match &b.cycle {
            Some(cy) => (fill(c.t("book.cycle_text"), &[("n", &cy.cycle_no.to_string()), ("from", &cy.cycle_from.to_string()), ("until", &cy.cycle_until.to_string())]), cy.report_due.to_string()),
            None => ("—".to_owned(), "—".to_owned()),
        };
        let _ = writeln!(
            body,
            "<tr data-book=\"{no}\"><td class=\"nw\"><a href=\"{href}\">{no}</a></td>{rev}{ty}{op}{mc}{valid}{cycle}{due}{lists}{guarantee}<td class=\"nw\">{links}</td></tr>",
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
/// The materials table of the reconciliation page: sortable by every figure, paged.
pub(crate) const RECON_COLS: [Col; 17] = [
    col("seq", "recon.seq", true),
    col("name", "recon.name", false),
    fixed("recon.unit", false),
    col("opening", "recon.opening", true),
    col("imported", "recon.imported", true),
    col("carried_in", "recon.carried_in", true),
    col("surplus_in", "recon.surplus_in", true),
    col("replaced_in", "recon.replaced_in", true),
    col("consumed", "recon.consumed", true),
    col("domestic_sold", "recon.domestic_sold", true),
    col("re_exported", "recon.re_exported", true),
    col("replaced_out", "recon.replaced_out", true),
    col("surplus_out", "recon.surplus_out", true),
    col("destroyed", "recon.destroyed", true),
    col("leftover_accrued", "recon.leftover_accrued", true),
    col("leftover_disposed", "recon.leftover_disposed", true),
    col("should_remain", "recon.should_remain", true),
];

/// A material's figure by its column's sort name (see [`RECON_COLS`]).
pub(crate) fn material_figure<'a>(m: &'a MaterialReport, name: &str) -> Option<&'a str> {
    let names = [
        "opening",
        "imported",
        "carried_in",
        "surplus_in",
        "replaced_in",
        "consumed",
        "domestic_sold",
        "re_exported",
        "replaced_out",
        "surplus_out",
        "destroyed",
        "leftover_accrued",
        "leftover_disposed",
        "should_remain",
    ];
    names.iter().position(|n| *n == name).and_then(|i| material_figures(m).get(i).map(|s| s.as_str()))
}

/// The reconciliation tables; `paging` (the page's materials already sorted and cut to the page)
/// makes the materials' headings sort links and adds the pager.
#[allow(clippy::too_many_arguments)]
pub(crate) fn reconcile_tables(c: &Chrome, book_no: &str, materials: &[ItemView], products: &[ItemView], report: &ReconcileReport, testids: bool, range: &str, paging: Option<&Paging>) -> String {
    let href = escape(&book_href(book_no));
    let stocktake = report.materials.iter().any(|m| m.actual_remain.is_some());
    let mut body = format!("<div class=\"scroll\">\n<table class=\"wide\" data-testid=\"reconcile-materials\">\n<caption>{}</caption>\n", escape(c.t("recon.materials")));
    if let Some(p) = paging.filter(|_| !stocktake) {
        body.push_str(&p.head(c, &RECON_COLS));
    } else {
        body.push_str("<thead><tr>");
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
        body.push_str("</tr></thead>\n");
    }
    body.push_str("<tbody>\n");
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
    if let Some(p) = paging.filter(|_| !stocktake) {
        body.push_str(&p.pager(c, "materials"));
    }

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
    body.push_str(&reconcile_tables(c, &v.book_no, &v.materials, &v.products, &v.reconcile, false, "", None));
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

/// `GET /books/{book_no}/reconcile?from=&to=`, and the same page after a stocktake was sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReconcileView {
    pub book_no: String,
    pub from: DateField,
    pub to: DateField,
    pub materials: Vec<ItemView>,
    pub products: Vec<ItemView>,
    /// The report (with the stocktake's figures when one was sent); none for a refused range.
    pub report: Option<ReconcileReport>,
    /// A stocktake sent with the page's form: its file name, or why it was refused.
    pub stocktake: Option<Result<String, (String, String)>>,
    /// The materials' sort and page (the report's materials are that page); none after a
    /// stocktake, which shows every material.
    pub paging: Option<Paging>,
}

pub(crate) fn reconcile(c: &Chrome, v: &ReconcileView) -> String {
    let href = escape(&book_href(&v.book_no));
    let title = fill(c.t("recon.title"), &[("book_no", &v.book_no)]);
    let mut body = crate::pages_ledger::book_nav(c, &v.book_no, "/reconcile");
    let _ = writeln!(body, "<p><a href=\"{href}\">{}</a></p>\n<h1>{}</h1>", escape(&fill(c.t("recon.back"), &[("book_no", &v.book_no)])), escape(&title));
    let _ = writeln!(
        body,
        "<form method=\"get\" action=\"{href}/reconcile\" class=\"filters panel\" novalidate>{}{}<div class=\"field\"><button type=\"submit\">{}</button></div></form>",
        date_input(c, &v.from, "recon.from"),
        date_input(c, &v.to, "recon.to"),
        escape(c.t("recon.apply"))
    );
    if let Some(report) = &v.report {
        let range = range_query(v.from.value, v.to.value);
        body.push_str(&reconcile_tables(c, &v.book_no, &v.materials, &v.products, report, true, &range, v.paging.as_ref()));
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("book.rounding")));
    }
    body.push_str(&stocktake(c, v));
    page(c, &title, &body)
}

// ---- Stocktake (盘点) on the reconciliation page -------------------------------------------------

/// The stocktake (盘点) form (a file posted with the page, no script needed) and, once one was
/// sent, the differences by material in a table and as bars drawn on the server.
fn stocktake(c: &Chrome, v: &ReconcileView) -> String {
    let href = escape(&book_href(&v.book_no));
    let hidden = |f: &DateField| f.value.map(|d| format!("<input type=\"hidden\" name=\"{}\" value=\"{d}\">", f.name)).unwrap_or_default();
    let mut out = format!(
        "<section class=\"panel\" id=\"stocktake\" aria-labelledby=\"stocktake-h\">\n<h2 id=\"stocktake-h\">{h}</h2>\n<p class=\"note\">{help}</p>\n<form method=\"post\" action=\"{href}/reconcile#stocktake\" enctype=\"multipart/form-data\" data-testid=\"stocktake-form\">{csrf}{from}{to}\n<div class=\"field\"><label for=\"stocktake-file\">{label}</label> <input type=\"file\" id=\"stocktake-file\" name=\"stocktake\" data-testid=\"stocktake-file\" accept=\".json,application/json\" required>\n<button type=\"submit\" class=\"primary\" id=\"stocktake-upload\" data-testid=\"stocktake-upload\">{button}</button></div>\n</form>\n",
        h = escape(c.t("stocktake.title")),
        help = escape(c.t("stocktake.help")),
        csrf = csrf_field(c),
        from = hidden(&v.from),
        to = hidden(&v.to),
        label = escape(c.t("stocktake.label")),
        button = escape(c.t("stocktake.button")),
    );
    match (&v.stocktake, &v.report) {
        (Some(Err(refused)), _) => out.push_str(&crate::html::refusal(c, "form.refused", "stocktake-result", refused)),
        (Some(Ok(file)), Some(report)) => {
            let rows: Vec<&MaterialReport> = report.materials.iter().filter(|m| m.difference.is_some()).collect();
            let bars: Vec<charts::DiffBar> = rows
                .iter()
                .map(|m| charts::DiffBar { seq: m.seq, name: item_name(&v.materials, m.seq).to_owned(), difference: m.difference.as_deref().and_then(|d| d.parse().ok()).unwrap_or_default() })
                .collect();
            let differing = bars.iter().filter(|b| !b.difference.is_zero()).count();
            let class = if differing > 0 { "error" } else { "ok" };
            let _ = writeln!(
                out,
                "<p class=\"{class}\" data-testid=\"stocktake-result\" role=\"status\">{} <span class=\"note\">{}</span></p>",
                escape(&fill(c.t("stocktake.summary"), &[("n", &rows.len().to_string()), ("differing", &differing.to_string())])),
                escape(&fill(c.t("stocktake.file"), &[("file", file)]))
            );
            let _ = write!(
                out,
                "<div class=\"scroll\">\n<table id=\"differences\" data-testid=\"differences\">\n<caption>{}</caption>\n<thead><tr>{}</tr></thead>\n<tbody>\n",
                escape(c.t("stocktake.differences")),
                head_cells(c, &[("recon.seq", true), ("recon.name", false), ("recon.unit", false), ("recon.should_remain", true), ("recon.actual_remain", true), ("recon.difference", true)])
            );
            for m in &rows {
                let _ = writeln!(
                    out,
                    "<tr data-seq=\"{seq}\">{}{}{}{}{}{}</tr>",
                    td_num(&m.seq.to_string()),
                    td(item_name(&v.materials, m.seq)),
                    td_nw(&item(&v.materials, m.seq).map(|i| unit_label(&i.unit)).unwrap_or_default()),
                    td_num(&m.should_remain),
                    td_num(m.actual_remain.as_deref().unwrap_or("")),
                    td_num(m.difference.as_deref().unwrap_or("")),
                    seq = m.seq,
                );
            }
            out.push_str("</tbody>\n</table>\n</div>\n");
            if !bars.is_empty() {
                out.push_str(&charts::differences_svg(c, &v.book_no, &bars));
            }
        }
        _ => {}
    }
    out.push_str("</section>\n");
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
    /// The drill-down; its contributions are the page of them `paging` chose.
    pub explanation: Explanation,
    pub paging: Paging,
}

/// The list-by-list contributions of a drill-down: sortable, paged (a year may have thousands).
pub(crate) const CONTRIBUTION_COLS: [Col; 13] = [
    col("date", "material.date", false),
    col("list", "material.list", false),
    col("trade_mode", "material.trade_mode", false),
    fixed("material.line", true),
    col("figure", "material.figure", false),
    col("qty", "material.qty", true),
    col("product", "material.product", false),
    fixed("material.version", false),
    fixed("material.product_qty", true),
    fixed("material.uc", true),
    fixed("material.share", true),
    fixed("material.leftover", true),
    col("amount", "material.amount", true),
];

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
    body.push_str("<div class=\"scroll\">\n<table class=\"wide\" data-testid=\"contributions\">\n");
    body.push_str(&v.paging.head(c, &CONTRIBUTION_COLS));
    body.push_str("<tbody>\n");
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
    body.push_str(&v.paging.pager(c, "contributions"));
    if e.contributions.is_empty() {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("material.no_contributions")));
    }
    if !e.pending_lines.is_empty() {
        let _ = writeln!(body, "<p class=\"note\">{} {}</p>", escape(c.t("material.pending")), escape(&e.pending_lines.join(", ")));
    }
    page(c, &title, &body)
}

// ---- Upload -------------------------------------------------------------------------------------

/// `GET /upload` and what `POST /upload` came to: the book filed (or why not), the outcome of
/// every list of the file sent (or why the file was refused).
#[derive(Debug, Clone, Default)]
pub(crate) struct UploadView {
    pub book: Option<Result<jiamao_app::BookImported, (String, String)>>,
    pub lists: Option<Result<Vec<jiamao_app::ListOutcome>, (String, String)>>,
}

/// A file form of the upload page: posted with the page (`multipart/form-data`), no script needed.
fn file_form(c: &Chrome, name: &str, label_key: &str, button_key: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/upload#{name}-h\" enctype=\"multipart/form-data\" data-testid=\"{name}-form\">{csrf}\n<div class=\"field\"><label for=\"{name}-file\">{label}</label> <input type=\"file\" id=\"{name}-file\" name=\"{name}\" data-testid=\"{name}-file\" accept=\".json,application/json\" required>\n<button type=\"submit\" class=\"primary\" id=\"{name}-upload\" data-testid=\"{name}-upload\">{button}</button></div>\n</form>\n",
        csrf = csrf_field(c),
        label = escape(c.t(label_key)),
        button = escape(c.t(button_key)),
    )
}

/// `GET /upload`: a book document and a file of lists, each posted with its form; the outcome of
/// every list in a table.
pub(crate) fn upload(c: &Chrome, v: &UploadView) -> String {
    let mut body = format!("<h1>{}</h1>\n", escape(c.t("upload.title")));
    let _ = write!(
        body,
        "<section class=\"panel\" id=\"book-section\" data-region aria-labelledby=\"book-h\">\n<h2 id=\"book-h\">{h}</h2>\n<p class=\"note\">{help}</p>\n{form}",
        h = escape(c.t("upload.book.title")),
        help = escape(c.t("upload.book.help")),
        form = file_form(c, "book", "upload.book.label", "upload.book.button"),
    );
    match &v.book {
        Some(Ok(b)) => {
            let k = match b.status {
                "changed" => key("upload.book_changed"),
                "unchanged" => key("upload.book_unchanged"),
                _ => key("upload.book_filed"),
            };
            let text = fill(c.t(k), &[("book_no", &b.book_no), ("revision", &b.revision.to_string()), ("resolved_lines", &b.resolved_lines.to_string())]);
            let _ = writeln!(body, "<p class=\"ok\" data-testid=\"book-result\" role=\"status\">{} <a href=\"{}\">{}</a></p>", escape(&text), escape(&book_href(&b.book_no)), escape(&b.book_no));
        }
        Some(Err(refused)) => body.push_str(&crate::html::refusal(c, "form.refused", "book-result", refused)),
        None => {}
    }
    body.push_str("</section>\n");
    let _ = write!(
        body,
        "<section class=\"panel\" id=\"lists-section\" data-region aria-labelledby=\"lists-h\">\n<h2 id=\"lists-h\">{h}</h2>\n<p class=\"note\">{help}</p>\n{form}",
        h = escape(c.t("upload.lists.title")),
        help = escape(c.t("upload.lists.help")),
        form = file_form(c, "lists", "upload.lists.label", "upload.lists.button"),
    );
    match &v.lists {
        Some(Ok(outcomes)) => {
            let count = |s: &str| outcomes.iter().filter(|o| o.status == s).count().to_string();
            let rejected = outcomes.iter().any(|o| o.status == "rejected");
            let summary = fill(c.t("upload.summary"), &[("posted", &count("posted")), ("duplicate", &count("duplicate")), ("rejected", &count("rejected"))]);
            let _ = writeln!(body, "<p class=\"{}\" data-testid=\"lists-result\" role=\"status\">{}</p>", if rejected { "error" } else { "ok" }, escape(&summary));
            let _ = write!(
                body,
                "<div class=\"scroll\">\n<table data-testid=\"outcomes\">\n<caption>{}</caption>\n<thead><tr>{}</tr></thead>\n<tbody>\n",
                escape(c.t("upload.outcomes")),
                head_cells(c, &[("upload.list_no", false), ("upload.status", false), ("upload.rule", false), ("upload.line", true), ("upload.message", false)])
            );
            for o in outcomes {
                let status_key = match o.status {
                    "posted" => key("status.posted"),
                    "duplicate" => key("status.duplicate"),
                    _ => key("status.rejected"),
                };
                let err = o.error.as_ref();
                let _ = writeln!(
                    body,
                    "<tr data-status=\"{status}\">{}<td><span class=\"state state-{status}\">{}</span></td>{}{}{}</tr>",
                    td_nw(&o.list_no),
                    escape(c.t(status_key)),
                    td_nw(err.map(|e| e.rule.as_str()).unwrap_or("")),
                    td_num(&err.and_then(|e| e.line).map(|l| l.to_string()).unwrap_or_default()),
                    td(err.map(|e| e.message.as_str()).unwrap_or("")),
                    status = escape(o.status),
                );
            }
            body.push_str("</tbody>\n</table>\n</div>\n");
        }
        Some(Err(refused)) => body.push_str(&crate::html::refusal(c, "form.refused", "lists-result", refused)),
        None => {}
    }
    body.push_str("</section>\n");
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
