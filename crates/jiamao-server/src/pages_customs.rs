//! Customs' pages: the 单耗 review queue of the books in the officer's district, each version with
//! its state, its comparison with the national standards, its review history and, for an account
//! that may review, a form offering the steps the review allows from its state (质疑, 磋商, 接受,
//! 调整 with the replacement version), posted to `POST /books/{book_no}/reviews`; a refused step
//! comes back with its message next to the form. For one book, a chart of its declared 单耗 against
//! the standards' maxima. Pure rendering.

use crate::charts::{self, UcBar};
use crate::html::{csrf_field, escape, head_cells, page, path_segment, role_key, td, td_num, td_nw, Chrome};
use crate::i18n::{fill, key};
use jiamao_app::ucns::ReviewStep;
use jiamao_domain::access::Role;
use jiamao_domain::norms::{LineCheck, ReviewAction, ReviewState, Verdict};
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

/// The translation key of a review step (the button and the history say it alike).
fn action_key(a: ReviewAction) -> &'static str {
    match a {
        ReviewAction::Question => key("review.question"),
        ReviewAction::Consult => key("review.consult"),
        ReviewAction::Accept => key("review.accept"),
        ReviewAction::Adjust => key("review.adjust"),
    }
}

/// The translation key of a step's button label (which version it acts on).
fn action_label_key(a: ReviewAction) -> &'static str {
    match a {
        ReviewAction::Question => key("review.question_label"),
        ReviewAction::Consult => key("review.consult_label"),
        ReviewAction::Accept => key("review.accept_label"),
        ReviewAction::Adjust => key("review.adjust_label"),
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
    /// Every step of the review so far, oldest first.
    pub history: Vec<ReviewStep>,
    /// The steps the account may take from the version's state (as the domain's
    /// `review_transition` allows them); empty when it may not review or the version is final.
    pub actions: Vec<ReviewAction>,
    /// The product's other versions (suggested as the replacement of an adjustment).
    pub others: Vec<String>,
}

/// A review step the engine refused: the form again, as typed, with the refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RefusedStep {
    pub book_no: String,
    pub product_seq: u32,
    pub version: String,
    pub note: String,
    pub replacement: String,
    pub rule: String,
    pub message: String,
}

/// `GET /review`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReviewView {
    pub rows: Vec<ReviewRow>,
    /// Books read, and whether any standard was loaded to compare with.
    pub books: usize,
    pub standards: usize,
    /// Whether the account may review (shows the review forms).
    pub can_review: bool,
    /// The book chosen (`?book=`): only its versions are listed.
    pub book: Option<String>,
    /// Every book with versions in the queue (for the choice).
    pub books_all: Vec<String>,
    /// A step just refused (`POST /books/{book_no}/reviews` answered 422).
    pub refused: Option<RefusedStep>,
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

/// The id of a version's review form, stable and safe in HTML and CSS: `review-<book>-<seq>-<version>`
/// with every character of the book number and the version other than an ASCII letter or digit
/// written `_` and its UTF-8 bytes in hex (so that two versions never share an id).
pub(crate) fn form_id(book_no: &str, product_seq: u32, version: &str) -> String {
    let safe = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "_{b:02x}");
            }
        }
        out
    };
    format!("review-{}-{product_seq}-{}", safe(book_no), safe(version))
}

/// The time of a step to the minute (RFC 3339 as recorded: `2026-11-27T02:13:57.52Z`).
fn minute(at: &str) -> String {
    at.get(..16).unwrap_or(at).replace('T', " ")
}

/// The history of a version's review: the last step, expandable to every step with its note.
fn history_cell(c: &Chrome, r: &ReviewRow) -> String {
    let Some(last) = r.history.last() else { return "<td></td>".to_owned() };
    let summary = fill(c.t("review.history_summary"), &[("by", &last.by), ("at", &minute(&last.at)), ("action", c.t(action_key(last.action))), ("steps", &r.history.len().to_string())]);
    let mut out = format!("<td><details data-testid=\"review-history\"><summary>{}</summary>\n<ol>", escape(&summary));
    for step in &r.history {
        let role = step.role.parse::<Role>().map(|x| c.t(role_key(x))).unwrap_or(step.role.as_str());
        let mut text = fill(
            c.t("review.history_step"),
            &[("at", &minute(&step.at)), ("by", &step.by), ("role", role), ("action", c.t(action_key(step.action))), ("from", c.t(state_key(step.from))), ("to", c.t(state_key(step.to)))],
        );
        if let Some(rep) = &step.replacement {
            text = format!("{text} {}", fill(c.t("review.history_replacement"), &[("version", rep)]));
        }
        let _ = write!(out, "<li data-action=\"{}\">{}", step.action.as_str(), escape(&text));
        if !step.note.is_empty() {
            let _ = write!(out, "<br><span class=\"note\">{}</span>", escape(&fill(c.t("review.history_note"), &[("note", &step.note)])));
        }
        out.push_str("</li>");
    }
    out.push_str("</ol></details></td>");
    out
}

/// What a refused step's message starts with: the review's own rules said in the page's language,
/// any other refusal as such (the engine's message follows).
fn refusal_key(rule: &str) -> &'static str {
    match rule {
        "ucns_replacement" => key("review.refused_replacement"),
        "ucns_transition" => key("review.refused_transition"),
        "ucns_review_final" => key("review.refused_final"),
        _ => key("review.refused"),
    }
}

/// The form of a version the account may review: a note, the replacement version when the version
/// may be adjusted, and one button per step allowed from its state; a refused step's message
/// inline, tied to the form and its fields.
fn review_form(c: &Chrome, v: &ReviewView, r: &ReviewRow) -> String {
    if r.actions.is_empty() {
        return String::new();
    }
    let id = form_id(&r.book_no, r.product_seq, &r.version);
    let refused = v.refused.as_ref().filter(|x| x.book_no == r.book_no && x.product_seq == r.product_seq && x.version == r.version);
    let described = if refused.is_some() { format!(" aria-describedby=\"{id}-error\"") } else { String::new() };
    let back = v.book.as_ref().map(|b| format!("<input type=\"hidden\" name=\"back\" value=\"{}\">", escape(b))).unwrap_or_default();
    let mut out = format!(
        "<form class=\"review-step\" method=\"post\" action=\"/books/{book}/reviews\" id=\"{id}\" data-testid=\"review-form\"{described}>{csrf}<input type=\"hidden\" name=\"product_seq\" value=\"{p}\"><input type=\"hidden\" name=\"version\" value=\"{ver}\">{back}\n",
        book = escape(&path_segment(&r.book_no)),
        csrf = csrf_field(c),
        p = r.product_seq,
        ver = escape(&r.version),
    );
    let _ = writeln!(
        out,
        "<div class=\"field\"><label for=\"{id}-note\">{label}</label> <textarea id=\"{id}-note\" name=\"note\" rows=\"2\" style=\"min-height:3.2rem;font-family:inherit\"{described}>{note}</textarea></div>",
        label = escape(c.t("review.note")),
        note = escape(refused.map(|x| x.note.as_str()).unwrap_or_default()),
    );
    if r.actions.contains(&ReviewAction::Adjust) {
        let invalid = if refused.is_some_and(|x| x.rule == "ucns_replacement") { " aria-invalid=\"true\"" } else { "" };
        let mut options = String::new();
        for o in &r.others {
            let _ = write!(options, "<option value=\"{}\"></option>", escape(o));
        }
        let _ = writeln!(
            out,
            "<div class=\"field\"><label for=\"{id}-replacement\">{label}</label> <input type=\"text\" id=\"{id}-replacement\" name=\"replacement\" list=\"{id}-versions\" size=\"8\" value=\"{value}\"{invalid}{described}><datalist id=\"{id}-versions\">{options}</datalist></div>",
            label = escape(c.t("review.replacement")),
            value = escape(refused.map(|x| x.replacement.as_str()).unwrap_or_default()),
        );
    }
    if let Some(x) = refused {
        let _ = writeln!(
            out,
            "<p id=\"{id}-error\" class=\"error\" role=\"alert\" data-testid=\"review-error\">{} <code>{}</code> {}</p>",
            escape(c.t(refusal_key(&x.rule))),
            escape(&x.rule),
            escape(&x.message)
        );
    }
    out.push_str("<div class=\"field\">");
    for a in &r.actions {
        let _ = write!(
            out,
            "<button type=\"submit\" name=\"action\" value=\"{name}\" data-testid=\"{name}\" aria-label=\"{label}\">{text}</button> ",
            name = a.as_str(),
            label = escape(&fill(c.t(action_label_key(*a)), &[("book_no", &r.book_no), ("product", &r.product_seq.to_string()), ("version", &r.version)])),
            text = escape(c.t(action_key(*a))),
        );
    }
    out.push_str("</div></form>");
    out
}

/// The review queue.
pub(crate) fn review(c: &Chrome, v: &ReviewView) -> String {
    let mut body = format!("<h1>{}</h1>\n", escape(c.t("review.title")));
    let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(&fill(c.t("review.summary"), &[("books", &v.books.to_string()), ("versions", &v.rows.len().to_string())])));
    if v.standards == 0 {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(c.t("review.no_standards")));
    }
    // A refusal of a version not listed here (another book, a version that does not exist): on top.
    if let Some(x) = v.refused.as_ref().filter(|x| !v.rows.iter().any(|r| r.book_no == x.book_no && r.product_seq == x.product_seq && r.version == x.version && !r.actions.is_empty())) {
        let _ = writeln!(
            body,
            "<p class=\"error\" role=\"alert\" data-testid=\"review-error\">{} <code>{}</code> {}</p>",
            escape(&fill(c.t("review.refused_version"), &[("book_no", &x.book_no), ("product", &x.product_seq.to_string()), ("version", &x.version)])),
            escape(&x.rule),
            escape(&x.message)
        );
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
            last = history_cell(c, r),
            action = review_form(c, v, r),
        );
    }
    body.push_str("</tbody>\n</table>\n</div>\n");
    body.push_str(&uc_charts(c, v));
    page(c, c.t("review.title"), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_ids_are_safe_and_distinct() {
        assert_eq!(form_id("C52002600001", 1, "2"), "review-C52002600001-1-2");
        let odd = form_id("C1", 3, "v 1\"<>/-账");
        assert!(odd.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{odd}");
        assert_ne!(form_id("C1", 1, "a-b"), form_id("C1", 1, "a_b"));
        assert_ne!(form_id("C1-1", 1, "1"), form_id("C1", 1, "1-1"));
    }
}
