//! Customs' pages: the 单耗 review queue of the books in the officer's district, each version with
//! its state, its comparison with the national standards and, for an account that may review, an
//! accept button (a form posted to `POST /books/{book_no}/reviews`), and for one book a chart of its
//! declared 单耗 against the standards' maxima. Pure rendering.

use crate::charts::{self, UcBar};
use crate::html::{csrf_field, escape, head_cells, page, path_segment, td, td_num, td_nw, Chrome};
use crate::i18n::{fill, key};
use jiamao_domain::norms::{LineCheck, ReviewState, Verdict};
use std::fmt::Write as _;

/// The translation key of a review state.
pub(crate) fn state_key(s: ReviewState) -> &'static str {
    match s {
        ReviewState::Declared => key("state.declared"),
        ReviewState::Questioned => key("state.questioned"),
        ReviewState::Consulting => key("state.consulting"),
        ReviewState::Accepted => key("state.accepted"),
        ReviewState::Adjusted => key("state.adjusted"),
    }
}

fn verdict_key(v: Verdict) -> &'static str {
    match v {
        Verdict::Within => key("verdict.within"),
        Verdict::AboveMaximum => key("verdict.above_maximum"),
        Verdict::BelowMinimum => key("verdict.below_minimum"),
        Verdict::NoStandard => key("verdict.no_standard"),
        Verdict::NotComparable => key("verdict.not_comparable"),
        Verdict::SpecDependent => key("verdict.spec_dependent"),
    }
}

/// One 单耗 version in the queue.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReviewRow {
    pub book_no: String,
    pub product_seq: u32,
    pub product_name: String,
    pub product_hs: String,
    pub version: String,
    pub valid_from: chrono::NaiveDate,
    pub state: ReviewState,
    pub self_verified: bool,
    pub open: bool,
    pub replacement: Option<String>,
    pub flagged_lines: usize,
    pub lines: Vec<LineCheck>,
    /// The last step: who, when.
    pub last: Option<(String, String)>,
}

/// `GET /review`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReviewView {
    pub rows: Vec<ReviewRow>,
    /// Books read, and whether any standard was loaded to compare with.
    pub books: usize,
    pub standards: usize,
    /// Whether the account may review (shows the accept buttons).
    pub can_review: bool,
    /// The book chosen (`?book=`): only its versions are listed.
    pub book: Option<String>,
    /// Every book with versions in the queue (for the choice).
    pub books_all: Vec<String>,
}

/// The chart's lines of one book: every line compared with a standard that gives a maximum, against
/// the lowest such maximum; flagged lines first. Also how many lines there were in all.
fn uc_bars(c: &Chrome, rows: &[&ReviewRow]) -> (Vec<UcBar>, usize) {
    let mut bars = Vec::new();
    for r in rows {
        for l in &r.lines {
            let best = l.standards.iter().filter_map(|s| s.standard.as_ref().map(|u| (u.max, s.standard_no.as_str()))).min_by(|a, b| a.0.cmp(&b.0));
            let Some((max, standard)) = best else { continue };
            bars.push(UcBar {
                label: fill(c.t("chart.uc.line"), &[("product", &r.product_seq.to_string()), ("version", &r.version), ("material", &l.material_seq.to_string())]),
                declared: l.uc,
                max,
                standard: standard.to_owned(),
                flagged: matches!(l.verdict, Verdict::AboveMaximum | Verdict::SpecDependent) || l.uc > max,
            });
        }
    }
    let total = bars.len();
    bars.sort_by_key(|b| !b.flagged);
    bars.truncate(charts::UC_BARS);
    (bars, total)
}

fn book_choice(c: &Chrome, v: &ReviewView) -> String {
    let mut out = format!(
        "<form method=\"get\" action=\"/review\" class=\"filters panel\" data-testid=\"review-filter\"><div class=\"field\"><label for=\"book\">{}</label> <select id=\"book\" name=\"book\"><option value=\"\">{}</option>",
        escape(c.t("review.choose_book")),
        escape(c.t("form.all"))
    );
    for b in &v.books_all {
        let selected = if v.book.as_deref() == Some(b.as_str()) { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{0}\"{selected}>{0}</option>", escape(b));
    }
    let _ = writeln!(out, "</select></div><div class=\"field\"><button type=\"submit\">{}</button></div></form>", escape(c.t("recon.apply")));
    out
}

/// The charts under the queue: for the chosen book, or the only one listed.
fn uc_charts(c: &Chrome, v: &ReviewView) -> String {
    let mut books: Vec<&str> = v.rows.iter().map(|r| r.book_no.as_str()).collect();
    books.dedup();
    let mut out = format!("<h2>{}</h2>\n", escape(c.t("review.chart")));
    if books.len() != 1 {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(c.t("review.chart_choose")));
        return out;
    }
    for (i, book) in books.iter().enumerate() {
        let rows: Vec<&ReviewRow> = v.rows.iter().filter(|r| r.book_no == *book).collect();
        let (bars, total) = uc_bars(c, &rows);
        if bars.is_empty() {
            let _ = writeln!(out, "<p class=\"note\" data-testid=\"uc-chart-empty\">{}</p>", escape(&fill(c.t("review.chart_none"), &[("book_no", book)])));
            continue;
        }
        out.push_str(&charts::uc_svg(c, &format!("uc-{i}"), book, &bars));
        if total > bars.len() {
            let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(&fill(c.t("review.chart_more"), &[("shown", &bars.len().to_string()), ("total", &total.to_string())])));
        }
    }
    out
}

fn comparison(c: &Chrome, r: &ReviewRow) -> String {
    let mut counts: Vec<(Verdict, usize)> = Vec::new();
    for l in &r.lines {
        match counts.iter_mut().find(|(v, _)| *v == l.verdict) {
            Some((_, n)) => *n += 1,
            None => counts.push((l.verdict, 1)),
        }
    }
    let summary: Vec<String> = counts.iter().map(|(v, n)| format!("{} {n}", c.t(verdict_key(*v)))).collect();
    let mut out = format!("<details><summary>{}</summary>\n<ul>\n", escape(&summary.join(" · ")));
    for l in &r.lines {
        let standards: Vec<&str> = l.standards.iter().map(|s| s.standard_no.as_str()).collect();
        let _ = writeln!(
            out,
            "<li>{}</li>",
            escape(&fill(
                c.t("review.line"),
                &[("material", &l.material_seq.to_string()), ("uc", &jiamao_domain::decimal::plain(l.uc)), ("verdict", c.t(verdict_key(l.verdict))), ("standards", &standards.join(", "))]
            ))
        );
    }
    out.push_str("</ul></details>");
    out
}

/// The review queue.
pub(crate) fn review(c: &Chrome, v: &ReviewView) -> String {
    let mut body = format!("<h1>{}</h1>\n", escape(c.t("review.title")));
    let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(&fill(c.t("review.summary"), &[("books", &v.books.to_string()), ("versions", &v.rows.len().to_string())])));
    if v.standards == 0 {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("review.no_standards")));
    }
    if v.books_all.len() > 1 || v.book.is_some() {
        body.push_str(&book_choice(c, v));
    }
    if v.rows.is_empty() {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("review.empty")));
        return page(c, c.t("review.title"), &body);
    }
    body.push_str("<div class=\"scroll\">\n<table data-testid=\"review-queue\">\n<thead><tr>");
    body.push_str(&head_cells(
        c,
        &[
            ("review.book", false),
            ("review.product", false),
            ("review.hs", false),
            ("review.version", false),
            ("review.valid_from", false),
            ("review.state", false),
            ("review.flagged", true),
            ("review.comparison", false),
            ("review.last", false),
            ("review.action", false),
        ],
    ));
    body.push_str("</tr></thead>\n<tbody>\n");
    for r in &v.rows {
        let book_href = format!("/books/{}", path_segment(&r.book_no));
        let mut state = c.t(state_key(r.state)).to_owned();
        if r.self_verified {
            state = format!("{state} ({})", c.t("review.self_verified"));
        }
        if let Some(rep) = &r.replacement {
            state = format!("{state} → {rep}");
        }
        let action = if v.can_review && r.open {
            format!(
                "<form class=\"inline\" method=\"post\" action=\"{href}/reviews\">{csrf}<input type=\"hidden\" name=\"product_seq\" value=\"{p}\"><input type=\"hidden\" name=\"version\" value=\"{ver}\"><input type=\"hidden\" name=\"action\" value=\"accept\"><button type=\"submit\" data-testid=\"accept\" aria-label=\"{label}\">{accept}</button></form>",
                href = escape(&book_href),
                csrf = csrf_field(c),
                p = r.product_seq,
                ver = escape(&r.version),
                label = escape(&fill(c.t("review.accept_label"), &[("book_no", &r.book_no), ("product", &r.product_seq.to_string()), ("version", &r.version)])),
                accept = escape(c.t("review.accept")),
            )
        } else {
            String::new()
        };
        // The time of the step to the minute (RFC 3339 as recorded: `2026-11-27T02:13:57.52Z`).
        let last = r.last.as_ref().map(|(by, at)| format!("{by} {}", at.get(..16).unwrap_or(at).replace('T', " "))).unwrap_or_default();
        let _ = writeln!(
            body,
            "<tr data-testid=\"review-row\" data-book=\"{book}\" data-product=\"{p}\" data-version=\"{ver}\" data-state=\"{st}\"><td class=\"nw\"><a href=\"{href}\">{book}</a></td>{name}{hs}{vcell}{from}<td><span class=\"state state-{st}\">{state}</span></td>{flagged}<td>{cmp}</td>{last}<td>{action}</td></tr>",
            book = escape(&r.book_no),
            p = r.product_seq,
            ver = escape(&r.version),
            st = r.state.as_str(),
            href = escape(&book_href),
            name = td(&format!("{} {}", r.product_seq, r.product_name)),
            hs = td_nw(&r.product_hs),
            vcell = td_nw(&r.version),
            from = td_nw(&r.valid_from.to_string()),
            state = escape(&state),
            flagged = td_num(&r.flagged_lines.to_string()),
            cmp = comparison(c, r),
            last = td(&last),
        );
    }
    body.push_str("</tbody>\n</table>\n</div>\n");
    body.push_str(&uc_charts(c, v));
    page(c, c.t("review.title"), &body)
}
