//! The officials' pages: customs' district (the books of the district with their risk flags:
//! validity, 报核 deadline, guarantee shortfall, 单耗 reviews), commerce's catalogs (versions, the
//! difference between two, the impact of a version before it is loaded), the auditor's audit
//! verification (each chain intact or its first broken link) and the administrator's accounts (add,
//! disable). Pure rendering: the views are read from the engine by `crate::web`.

use crate::forms::Rule;
use crate::html::{csrf_field, date_input, escape, grid_input, head_cells, page, path_segment, td, td_num, td_nw, th, Chrome, DateField};
use crate::i18n::{fill, key};
use crate::pages_enterprise::book_type_key;
use crate::pages_ledger::goods_key;
use crate::table::{col, fixed, Col, Paging};
use chrono::NaiveDate;
use jiamao_app::catalog::{CatalogImpact, CatalogVersionInfo};
use jiamao_app::platform::{AccountView, AuditReport, ChainReport};
use jiamao_domain::access::Role;
use jiamao_domain::catalog::{CatalogDiff, CatalogDirection, CatalogEntry, CatalogKind, ImpactChange};
use jiamao_domain::doc::BookType;
use std::fmt::Write as _;

fn book_link(book_no: &str) -> String {
    format!("<a href=\"/books/{}\">{}</a>", escape(&path_segment(book_no)), escape(book_no))
}

fn inline_error(testid: &str, message: &str) -> String {
    format!("<p role=\"alert\" class=\"error\" data-testid=\"{testid}\">{}</p>\n", escape(message))
}

// ---- Customs: the district ----------------------------------------------------------------------

/// A risk flag of a book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Flag {
    Expired,
    ExpiresSoon(i64),
    ReportOverdue,
    ReportSoon(i64),
    GuaranteeShort,
    FlaggedLines(usize),
    OpenReviews(usize),
}

impl Flag {
    fn bad(&self) -> bool {
        matches!(self, Flag::Expired | Flag::ReportOverdue | Flag::GuaranteeShort | Flag::FlaggedLines(_))
    }

    fn text(&self, c: &Chrome) -> String {
        match self {
            Flag::Expired => c.t("flag.expired").to_owned(),
            Flag::ExpiresSoon(d) => fill(c.t("flag.expires_soon"), &[("days", &d.to_string())]),
            Flag::ReportOverdue => c.t("flag.report_overdue").to_owned(),
            Flag::ReportSoon(d) => fill(c.t("flag.report_soon"), &[("days", &d.to_string())]),
            Flag::GuaranteeShort => c.t("flag.guarantee_short").to_owned(),
            Flag::FlaggedLines(n) => fill(c.t("flag.flagged_lines"), &[("n", &n.to_string())]),
            Flag::OpenReviews(n) => fill(c.t("flag.open_reviews"), &[("n", &n.to_string())]),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Flag::Expired => "expired",
            Flag::ExpiresSoon(_) => "expires_soon",
            Flag::ReportOverdue => "report_overdue",
            Flag::ReportSoon(_) => "report_soon",
            Flag::GuaranteeShort => "guarantee_short",
            Flag::FlaggedLines(_) => "flagged_lines",
            Flag::OpenReviews(_) => "open_reviews",
        }
    }
}

/// The guarantee of a book as the district shows it (amounts in CNY, rounded to the fen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GuaranteeFacts {
    pub required: String,
    pub posted: String,
    pub shortfall: String,
}

/// One book of the district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DistrictRow {
    pub book_no: String,
    pub enterprise: String,
    pub operator: String,
    pub book_type: BookType,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub report_due: Option<NaiveDate>,
    /// `None`: not computed (no regime for the date, or the account does not read reports).
    pub guarantee: Option<GuaranteeFacts>,
    /// 单耗 versions, those still open to review, and their lines flagged against the standards.
    pub versions: Option<(usize, usize, usize)>,
    pub flags: Vec<Flag>,
}

/// `GET /district?as_of=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DistrictView {
    pub as_of: DateField,
    pub today: NaiveDate,
    pub rows: Vec<DistrictRow>,
    pub paging: Paging,
    /// Whether the account reads reports (deadlines, guarantee, reviews).
    pub detail: bool,
}

pub(crate) const DISTRICT_COLS: [Col; 9] = [
    col("book_no", "book.no", false),
    col("operator", "book.operator", false),
    fixed("book.type", false),
    col("valid_until", "book.valid", false),
    col("report_due", "book.report_due", false),
    col("shortfall", "district.shortfall", true),
    col("open", "district.open_reviews", true),
    col("flagged", "district.flagged_lines", true),
    col("flags", "district.flags", false),
];

/// The district page.
pub(crate) fn district(c: &Chrome, v: &DistrictView) -> String {
    let title = c.t("district.title");
    let mut body = format!("<h1>{}</h1>\n", escape(title));
    let _ = writeln!(
        body,
        "<form method=\"get\" action=\"/district\" class=\"filters panel\" data-testid=\"district-form\" novalidate>\n{}\n<div class=\"field\"><button type=\"submit\" class=\"primary\">{}</button></div>\n</form>",
        date_input(c, &v.as_of, "district.as_of"),
        escape(c.t("recon.apply"))
    );
    if v.as_of.invalid {
        return page(c, title, &body);
    }
    let flagged = v.rows.iter().filter(|r| !r.flags.is_empty()).count();
    let _ = writeln!(
        body,
        "<p class=\"note\" data-testid=\"district-summary\">{}</p>",
        escape(&fill(c.t("district.summary"), &[("date", &v.today.to_string()), ("books", &v.paging.total.to_string()), ("flagged", &flagged.to_string())]))
    );
    if !v.detail {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("district.no_detail")));
    }
    if v.paging.total == 0 {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("district.empty")));
        return page(c, title, &body);
    }
    body.push_str("<div class=\"scroll\">\n<table class=\"wide\" data-testid=\"district\">\n");
    body.push_str(&v.paging.head(c, &DISTRICT_COLS));
    body.push_str("<tbody>\n");
    for r in &v.rows {
        let guarantee = match &r.guarantee {
            Some(g) => format!("<td class=\"num\" title=\"{}\">{}</td>", escape(&fill(c.t("district.guarantee_tip"), &[("required", &g.required), ("posted", &g.posted)])), escape(&g.shortfall)),
            None => "<td class=\"num\">—</td>".to_owned(),
        };
        let (open, flagged_lines) = match r.versions {
            Some((_, open, flagged)) => (open.to_string(), flagged.to_string()),
            None => ("—".to_owned(), "—".to_owned()),
        };
        let mut flags = String::from("<span class=\"flags\">");
        for f in &r.flags {
            let _ = write!(flags, "<span class=\"flag{}\" data-flag=\"{}\">{}</span>", if f.bad() { " bad" } else { "" }, f.code(), escape(&f.text(c)));
        }
        flags.push_str("</span>");
        let _ = writeln!(
            body,
            "<tr data-testid=\"district-row\" data-book=\"{no}\"><td class=\"nw\">{link}</td>{op}{ty}{valid}{due}{guarantee}{open}{flagged}<td>{flags}</td></tr>",
            no = escape(&r.book_no),
            link = book_link(&r.book_no),
            op = td(&format!("{} ({})", r.operator, r.enterprise)),
            ty = td_nw(c.t(book_type_key(r.book_type))),
            valid = td_nw(&format!("{} — {}", r.valid_from, r.valid_until)),
            due = td_nw(&r.report_due.map(|d| d.to_string()).unwrap_or_else(|| "—".to_owned())),
            open = td_num(&open),
            flagged = td_num(&flagged_lines),
        );
    }
    body.push_str("</tbody>\n</table>\n</div>\n");
    body.push_str(&v.paging.pager(c, "district"));
    let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("district.legend")));
    page(c, title, &body)
}

// ---- Commerce: catalogs -------------------------------------------------------------------------

/// The impact preview form as sent, and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct PreviewForm {
    pub name: String,
    pub as_of: DateField,
    pub csv: String,
    /// The impact, or why the version was refused (rule, message).
    pub result: Option<Result<CatalogImpact, (String, String)>>,
}

/// `GET /catalogs?from=&to=` and `POST /catalogs/preview`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CatalogsView {
    pub versions: Vec<CatalogVersionInfo>,
    pub from: String,
    pub to: String,
    pub diff: Option<Result<CatalogDiff, (String, String)>>,
    /// Whether the account may load (and so preview) a catalog version.
    pub can_preview: bool,
    pub preview: PreviewForm,
}

fn kind_key(k: CatalogKind) -> &'static str {
    match k {
        CatalogKind::Prohibited => key("catalog.prohibited"),
        CatalogKind::Restricted => key("catalog.restricted"),
    }
}

fn direction_key(d: CatalogDirection) -> &'static str {
    match d {
        CatalogDirection::Import => key("catalog.import"),
        CatalogDirection::Export => key("catalog.export"),
        CatalogDirection::Both => key("catalog.both"),
    }
}

fn change_key(ch: ImpactChange) -> &'static str {
    match ch {
        ImpactChange::NewlyProhibited => key("impact.newly_prohibited"),
        ImpactChange::NewlyRestricted => key("impact.newly_restricted"),
        ImpactChange::NoLongerProhibited => key("impact.no_longer_prohibited"),
        ImpactChange::NoLongerRestricted => key("impact.no_longer_restricted"),
    }
}

fn entry_text(c: &Chrome, e: &CatalogEntry) -> String {
    let mut parts = vec![c.t(kind_key(e.catalog)).to_owned(), c.t(direction_key(e.direction)).to_owned()];
    if e.mode.is_some() {
        parts.push("实转".to_owned());
    }
    if !e.note.is_empty() {
        parts.push(e.note.clone());
    }
    parts.push(format!("{} — {}", e.valid_from, e.valid_until.map(|d| d.to_string()).unwrap_or_default()));
    parts.join(" · ")
}

fn entries_table(c: &Chrome, testid: &str, caption_key: &str, entries: &[CatalogEntry]) -> String {
    let mut out = format!("<div class=\"scroll\">\n<table data-testid=\"{testid}\">\n<caption>{}</caption>\n<thead><tr>", escape(&fill(c.t(caption_key), &[("n", &entries.len().to_string())])));
    for (k, numeric) in [("book.hs_code", false), ("catalog.entry", false), ("catalog.announcement", false)] {
        out.push_str(&th(c, k, numeric));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for e in entries {
        let _ = writeln!(out, "<tr>{}{}{}</tr>", td_nw(e.hs_code.as_str()), td(&entry_text(c, e)), td(&e.announcement));
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
    out
}

fn version_select(c: &Chrome, name: &str, label_key: &str, versions: &[CatalogVersionInfo], chosen: &str) -> String {
    let mut out = format!("<div class=\"field\"><label for=\"{name}\">{}</label> <select id=\"{name}\" name=\"{name}\" required>", escape(c.t(label_key)));
    for v in versions {
        let selected = if v.name == chosen { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{0}\"{selected}>{0}</option>", escape(&v.name));
    }
    out.push_str("</select></div>");
    out
}

fn diff_html(c: &Chrome, d: &CatalogDiff) -> String {
    let mut out = format!(
        "<p data-testid=\"diff-summary\">{}</p>\n",
        escape(&fill(
            c.t("catalog.diff_summary"),
            &[("from", &d.from), ("to", &d.to), ("added", &d.added.len().to_string()), ("removed", &d.removed.len().to_string()), ("changed", &d.changed.len().to_string())]
        ))
    );
    out.push_str(&entries_table(c, "diff-added", "catalog.added", &d.added));
    out.push_str(&entries_table(c, "diff-removed", "catalog.removed", &d.removed));
    let _ =
        write!(out, "<div class=\"scroll\">\n<table data-testid=\"diff-changed\">\n<caption>{}</caption>\n<thead><tr>", escape(&fill(c.t("catalog.changed"), &[("n", &d.changed.len().to_string())])));
    for (k, numeric) in [("book.hs_code", false), ("catalog.before", false), ("catalog.after", false)] {
        out.push_str(&th(c, k, numeric));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for ch in &d.changed {
        let list = |entries: &[CatalogEntry]| entries.iter().map(|e| entry_text(c, e)).collect::<Vec<_>>().join("；");
        let key_text = if ch.key.note.is_empty() { ch.key.hs_code.clone() } else { format!("{} ({})", ch.key.hs_code, ch.key.note) };
        let _ = writeln!(out, "<tr>{}{}{}</tr>", td_nw(&key_text), td(&list(&ch.before)), td(&list(&ch.after)));
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
    out
}

fn impact_html(c: &Chrome, i: &CatalogImpact) -> String {
    let mut out = format!(
        "<div class=\"banner {}\" data-testid=\"impact-summary\">{}</div>\n",
        if i.items.is_empty() { "ok" } else { "bad" },
        escape(&fill(
            c.t("impact.summary"),
            &[
                ("version", &i.version),
                ("previous", i.previous.as_deref().unwrap_or("—")),
                ("as_of", &i.as_of.to_string()),
                ("entries", &i.entries.to_string()),
                ("added", &i.added.to_string()),
                ("removed", &i.removed.to_string()),
                ("changed", &i.changed.to_string()),
                ("books", &i.books.len().to_string()),
                ("items", &i.items.len().to_string()),
            ]
        ))
    );
    if !i.items.is_empty() {
        out.push_str("<div class=\"scroll\">\n<table class=\"wide\" data-testid=\"impact-items\">\n<thead><tr>");
        for (k, numeric) in [
            ("book.no", false),
            ("impact.enterprise", false),
            ("lists.goods", false),
            ("lists.item", false),
            ("book.hs_code", false),
            ("impact.change", false),
            ("impact.days", false),
            ("impact.transition", false),
        ] {
            out.push_str(&th(c, k, numeric));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for it in &i.items {
            let _ = writeln!(
                out,
                "<tr><td class=\"nw\">{}</td>{}{}{}{}{}{}{}</tr>",
                book_link(&it.book_no),
                td_nw(&it.enterprise),
                td_nw(c.t(goods_key(it.goods))),
                td(&format!("{} {}", it.item_seq, it.name)),
                td_nw(&it.hs_code),
                td(c.t(change_key(it.change))),
                td_nw(&format!("{} — {}", it.from, it.until)),
                td(if it.transition { c.t("impact.transition_yes") } else { "" }),
            );
        }
        out.push_str("</tbody>\n</table>\n</div>\n");
    }
    if !i.guarantees.is_empty() {
        out.push_str("<div class=\"scroll\">\n<table data-testid=\"impact-guarantees\">\n<thead><tr>");
        for (k, numeric) in [("book.no", false), ("impact.guarantee_before", true), ("impact.guarantee_after", true), ("impact.note", false)] {
            out.push_str(&th(c, k, numeric));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for g in &i.guarantees {
            let amount = |d: Option<jiamao_domain::Decimal>| d.map(jiamao_domain::decimal::report_amount).unwrap_or_else(|| "—".to_owned());
            let _ = writeln!(out, "<tr><td class=\"nw\">{}</td>{}{}{}</tr>", book_link(&g.book_no), td_num(&amount(g.before)), td_num(&amount(g.after)), td(g.note.as_deref().unwrap_or("")));
        }
        out.push_str("</tbody>\n</table>\n</div>\n");
    }
    out
}

const CSV_SCRIPT: &str = r#"(function () {
  var file = document.getElementById('catalog-file'), area = document.getElementById('csv');
  if (!file || !area || !window.FileReader) { return; }
  file.addEventListener('change', function () {
    var f = file.files[0];
    if (!f) { return; }
    f.text().then(function (t) { area.value = t; });
  });
})();
"#;

/// The catalogs page.
pub(crate) fn catalogs(c: &Chrome, v: &CatalogsView) -> String {
    let title = c.t("catalog.title");
    let mut body = format!("<h1>{}</h1>\n<h2>{}</h2>\n", escape(title), escape(c.t("catalog.versions")));
    if v.versions.is_empty() {
        let _ = writeln!(body, "<p class=\"note\" data-testid=\"no-catalogs\">{}</p>", escape(c.t("catalog.none")));
    } else {
        body.push_str("<div class=\"scroll\">\n<table data-testid=\"catalog-versions\">\n<thead><tr>");
        body.push_str(&head_cells(c, &[("catalog.name", false), ("catalog.entries", true), ("catalog.valid_from", false), ("catalog.in_force", false)]));
        body.push_str("</tr></thead>\n<tbody>\n");
        for x in &v.versions {
            let _ = writeln!(
                body,
                "<tr data-version=\"{n}\">{}{}{}{}</tr>",
                td_nw(&x.name),
                td_num(&x.entries.to_string()),
                td_nw(&x.valid_from.map(|d| d.to_string()).unwrap_or_default()),
                td(if x.in_force { c.t("catalog.in_force_yes") } else { "" }),
                n = escape(&x.name),
            );
        }
        body.push_str("</tbody>\n</table>\n</div>\n");
    }

    let _ = writeln!(body, "<h2 id=\"diff-h\">{}</h2>", escape(c.t("catalog.diff")));
    if v.versions.len() < 2 {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("catalog.diff_needs_two")));
    } else {
        let n = v.versions.len();
        let from = if v.from.is_empty() { v.versions[n - 2].name.clone() } else { v.from.clone() };
        let to = if v.to.is_empty() { v.versions[n - 1].name.clone() } else { v.to.clone() };
        let _ = writeln!(
            body,
            "<form method=\"get\" action=\"/catalogs#diff-h\" class=\"filters panel\" data-testid=\"diff-form\">{}{}<div class=\"field\"><button type=\"submit\" class=\"primary\">{}</button></div></form>",
            version_select(c, "from", "catalog.from", &v.versions, &from),
            version_select(c, "to", "catalog.to", &v.versions, &to),
            escape(c.t("catalog.compare"))
        );
    }
    match &v.diff {
        Some(Ok(d)) => body.push_str(&diff_html(c, d)),
        Some(Err((rule, message))) => body.push_str(&inline_error("diff-refused", &format!("{message} ({rule})"))),
        None => {}
    }

    let _ = writeln!(body, "<h2 id=\"preview-h\">{}</h2>", escape(c.t("catalog.preview")));
    if !v.can_preview {
        let _ = writeln!(body, "<p class=\"note\" data-testid=\"preview-not-allowed\">{}</p>", escape(c.t("catalog.preview_not_allowed")));
        return page(c, title, &body);
    }
    let p = &v.preview;
    let _ = writeln!(
        body,
        "<p class=\"note\">{help}</p>\n<form method=\"post\" action=\"/catalogs/preview#preview-h\" class=\"panel grid-form\" data-testid=\"preview-form\" novalidate>{csrf}\n<label for=\"name\">{name_label}</label><input id=\"name\" name=\"name\" value=\"{name}\" required autocomplete=\"off\">\n<label for=\"catalog-file\">{file_label}</label><input type=\"file\" id=\"catalog-file\" accept=\".csv,text/csv\">\n<label for=\"csv\">{csv_label}</label><textarea id=\"csv\" name=\"csv\" required spellcheck=\"false\">{csv}</textarea>\n<div class=\"span\">{as_of}</div>\n<div class=\"span\"><button type=\"submit\" class=\"primary\" data-testid=\"preview-submit\">{button}</button></div>\n</form>\n<script>\n{CSV_SCRIPT}</script>",
        help = escape(c.t("catalog.preview_help")),
        csrf = csrf_field(c),
        name_label = escape(c.t("catalog.name")),
        name = escape(&p.name),
        file_label = escape(c.t("catalog.file")),
        csv_label = escape(c.t("catalog.csv")),
        csv = escape(&p.csv),
        as_of = date_input(c, &p.as_of, "catalog.as_of"),
        button = escape(c.t("catalog.preview_button")),
    );
    match &p.result {
        Some(Ok(i)) => body.push_str(&impact_html(c, i)),
        Some(Err((rule, message))) => body.push_str(&inline_error("preview-refused", &format!("{message} ({rule})"))),
        None => {}
    }
    page(c, title, &body)
}

// ---- The auditor: audit verification ------------------------------------------------------------

/// `GET /audit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuditView {
    pub report: AuditReport,
    /// The chains of the page shown (sorted and paged).
    pub chains: Vec<ChainReport>,
    pub paging: Paging,
}

pub(crate) const AUDIT_COLS: [Col; 5] =
    [col("chain", "audit.chain", false), col("links", "audit.links", true), fixed("audit.head", false), col("state", "audit.state", false), fixed("audit.reason", false)];

/// The audit verification page.
pub(crate) fn audit(c: &Chrome, v: &AuditView) -> String {
    let title = c.t("audit.title");
    let r = &v.report;
    let broken = r.chains.iter().filter(|x| x.broken_at.is_some()).count();
    let mut body = format!("<h1>{}</h1>\n", escape(title));
    let (class, text) = if r.intact {
        ("ok", fill(c.t("audit.intact"), &[("chains", &r.chains.len().to_string()), ("lists", &r.lists_checked.to_string())]))
    } else {
        ("bad", fill(c.t("audit.broken"), &[("chains", &r.chains.len().to_string()), ("broken", &broken.to_string()), ("altered", &r.altered_lists.len().to_string())]))
    };
    let _ = writeln!(body, "<div class=\"banner {class}\" data-testid=\"audit-summary\" data-intact=\"{}\">{}</div>", r.intact, escape(&text));
    let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("audit.help")));
    body.push_str("<div class=\"scroll\">\n<table data-testid=\"audit-chains\">\n");
    body.push_str(&v.paging.head(c, &AUDIT_COLS));
    body.push_str("<tbody>\n");
    for ch in &v.chains {
        let name = if ch.chain == jiamao_domain::audit::SYSTEM_CHAIN { c.t("audit.system_chain").to_owned() } else { ch.chain.clone() };
        let (state, reason) = match ch.broken_at {
            Some(seq) => (format!("<span class=\"flag bad\">{}</span>", escape(&fill(c.t("audit.broken_at"), &[("seq", &seq.to_string())]))), ch.reason.clone().unwrap_or_default()),
            None => (format!("<span class=\"ok\">{}</span>", escape(c.t("audit.chain_intact"))), String::new()),
        };
        let head = format!("{} · {}", ch.head_seq, ch.head_hash.get(..16).unwrap_or(&ch.head_hash));
        let _ = writeln!(
            body,
            "<tr data-testid=\"audit-chain\" data-chain=\"{}\" data-broken=\"{}\">{}{}<td class=\"nw\"><code title=\"{}\">{}</code></td><td>{state}</td>{}</tr>",
            escape(&ch.chain),
            ch.broken_at.is_some(),
            td_nw(&name),
            td_num(&ch.links.to_string()),
            escape(&ch.head_hash),
            escape(&head),
            td(&reason),
        );
    }
    body.push_str("</tbody>\n</table>\n</div>\n");
    body.push_str(&v.paging.pager(c, "chains"));
    let _ = writeln!(body, "<h2>{}</h2>", escape(c.t("audit.altered")));
    if r.altered_lists.is_empty() {
        let _ = writeln!(body, "<p class=\"ok\" data-testid=\"no-altered\">{}</p>", escape(&fill(c.t("audit.none_altered"), &[("lists", &r.lists_checked.to_string())])));
    } else {
        body.push_str("<div class=\"scroll\">\n<table data-testid=\"altered-lists\">\n<thead><tr>");
        body.push_str(&head_cells(c, &[("impact.enterprise", false), ("lists.list_no", false), ("audit.chain", false), ("audit.link", true)]));
        body.push_str("</tr></thead>\n<tbody>\n");
        for a in &r.altered_lists {
            let _ = writeln!(body, "<tr>{}{}{}{}</tr>", td_nw(&a.enterprise), td_nw(&a.list_no), td_nw(&a.chain), td_num(&a.seq.to_string()));
        }
        body.push_str("</tbody>\n</table>\n</div>\n");
    }
    page(c, title, &body)
}

// ---- The administrator: accounts ----------------------------------------------------------------

/// The add-account form as sent (never the password), and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct AccountForm {
    pub login: String,
    pub role: String,
    pub enterprise: String,
    pub customs: String,
    pub province: String,
    pub error: Option<String>,
    /// Fields refused by their rule ([`crate::forms::Rule`]): (field, message).
    pub field_errors: Vec<(&'static str, String)>,
}

/// `GET /accounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountsView {
    pub accounts: Vec<AccountView>,
    pub paging: Paging,
    pub form: AccountForm,
    /// What the last change did (`added`, `disabled`) and to whom.
    pub notice: Option<(&'static str, String)>,
    /// The acting account: no button to disable oneself.
    pub me: String,
    /// The roles the form offers.
    pub roles: Vec<Role>,
}

pub(crate) const ACCOUNT_COLS: [Col; 6] = [
    col("login", "accounts.login", false),
    col("role", "accounts.role", false),
    col("scope", "accounts.scope", false),
    col("state", "accounts.state", false),
    col("created", "accounts.created", false),
    fixed("review.action", false),
];

/// The accounts page: the list, a disable button per active account and the form to add one.
pub(crate) fn accounts(c: &Chrome, v: &AccountsView) -> String {
    let title = c.t("accounts.title");
    let mut body = format!("<h1>{}</h1>\n", escape(title));
    if let Some((what, login)) = &v.notice {
        let k = if *what == "added" { "accounts.added" } else { "accounts.disabled_done" };
        let _ = writeln!(body, "<p class=\"ok\" role=\"status\" data-testid=\"accounts-notice\">{}</p>", escape(&fill(c.t(k), &[("login", login)])));
    }
    body.push_str("<div class=\"scroll\">\n<table data-testid=\"accounts\">\n");
    body.push_str(&v.paging.head(c, &ACCOUNT_COLS));
    body.push_str("<tbody>\n");
    for a in &v.accounts {
        let scope = [a.enterprise.as_deref(), a.customs.as_deref(), a.province.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let state = if a.disabled { c.t("accounts.disabled") } else { c.t("accounts.active") };
        let action = if a.disabled || a.login == v.me {
            String::new()
        } else {
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/accounts/{}/disable\">{}<button type=\"submit\" data-testid=\"disable\" aria-label=\"{}\">{}</button></form>",
                escape(&path_segment(&a.login)),
                csrf_field(c),
                escape(&fill(c.t("accounts.disable_label"), &[("login", &a.login)])),
                escape(c.t("accounts.disable"))
            )
        };
        let _ = writeln!(
            body,
            "<tr data-testid=\"account-row\" data-login=\"{}\" data-disabled=\"{}\">{}{}{}{}{}<td>{action}</td></tr>",
            escape(&a.login),
            a.disabled,
            td_nw(&a.login),
            td_nw(c.t(crate::html::role_key(a.role))),
            td_nw(&scope),
            td_nw(state),
            td_nw(a.created_at.get(..10).unwrap_or(&a.created_at)),
        );
    }
    body.push_str("</tbody>\n</table>\n</div>\n");
    body.push_str(&v.paging.pager(c, "accounts"));

    let f = &v.form;
    let _ = writeln!(body, "<h2 id=\"add-h\">{}</h2>", escape(c.t("accounts.add")));
    if let Some(e) = &f.error {
        let _ = writeln!(body, "<p role=\"alert\" class=\"error\" id=\"account-error\" data-testid=\"account-error\">{}</p>", escape(&fill(c.t("accounts.refused"), &[("message", e)])));
    }
    let mut roles = String::new();
    for r in &v.roles {
        let selected = if r.as_str() == f.role { " selected" } else { "" };
        let _ = write!(roles, "<option value=\"{}\"{selected}>{}</option>", r.as_str(), escape(c.t(crate::html::role_key(*r))));
    }
    let err = |field: &str| f.field_errors.iter().find(|(k, _)| *k == field).map(|(_, m)| m.as_str());
    let _ = writeln!(
        body,
        "<form method=\"post\" action=\"/accounts\" class=\"panel grid-form\" data-testid=\"add-account\" novalidate>{csrf}\n{login}<label for=\"role\">{l_role}</label><select id=\"role\" name=\"role\">{roles}</select>\n{ent}{customs}{province}{password}<p class=\"note span\" id=\"account-help\">{help}</p>\n<div class=\"span\"><button type=\"submit\" class=\"primary\" data-testid=\"add-account-submit\">{submit}</button></div>\n</form>",
        csrf = csrf_field(c),
        login = grid_input(c, "login", "accounts.login", &f.login, Some(Rule::Login), err("login"), " required maxlength=\"64\" autocomplete=\"off\""),
        l_role = escape(c.t("accounts.role")),
        ent = grid_input(c, "enterprise", "accounts.enterprise", &f.enterprise, Some(Rule::Uscc), err("enterprise"), " maxlength=\"18\" autocomplete=\"off\""),
        customs = grid_input(c, "customs", "accounts.customs", &f.customs, Some(Rule::District), err("customs"), " maxlength=\"4\" inputmode=\"numeric\" autocomplete=\"off\""),
        province = grid_input(c, "province", "accounts.province", &f.province, Some(Rule::Province), err("province"), " maxlength=\"2\" inputmode=\"numeric\" autocomplete=\"off\""),
        password = grid_input(c, "password", "login.password", "", Some(Rule::Password), err("password"), " type=\"password\" required minlength=\"10\" autocomplete=\"new-password\""),
        help = escape(c.t("accounts.help")),
        submit = escape(c.t("accounts.add_button")),
    );
    page(c, title, &body)
}
