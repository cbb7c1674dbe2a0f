//! The web pages: handlers that read from the engine and hand a view to the renderers
//! ([`crate::html`], [`crate::pages_enterprise`], [`crate::pages_customs`]).
//!
//! As everywhere in the server, the engine decides what an account may see and do: a book it may
//! not read answers the same 404 page as a book that does not exist. The pages ask the library's
//! decision ([`access::decide`]) only to leave out what would be refused anyway (a navigation link,
//! a button, an alert), so that showing a page never adds a refusal to the audit trail.

use crate::api::book_no;
use crate::auth::{self, SESSION_COOKIE};
use crate::charts;
use crate::error::ApiError;
use crate::html::{self, Account, Chrome};
use crate::i18n::{self, fill, t};
use crate::pages_customs::{self, ReviewRow, ReviewView};
use crate::pages_enterprise::{self as pages, Alert, BookView, CycleView, DashboardBook, DashboardView, MaterialView, ReconcileView};
use crate::{with_engine, SharedEngine};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use jiamao_app::ucns::CheckOptions;
use jiamao_app::{AppError, Engine};
use jiamao_domain::access::{self, Action, Principal, Target};
use jiamao_domain::cycle::DeadlinePolicy;
use jiamao_domain::decimal::report_amount;
use jiamao_domain::norms::ReviewAction;
use jiamao_domain::tax::TaxPolicy;
use jiamao_domain::Decimal;
use jiamao_store::Store;

/// Whether the library would let `p` take `action` at all (its role, a read-only token); the
/// jurisdiction is the engine's to decide per book.
fn may(p: &Principal, action: Action) -> bool {
    access::decide(p, action, &Target::default()).is_ok()
}

/// The frame of the page being served: language, account, navigation by role.
pub(crate) fn chrome() -> Chrome {
    let page = i18n::current();
    let ctx = auth::current();
    let account = match &ctx.principal {
        Principal::User(id) => Some(Account { login: id.login.clone(), role: id.role }),
        _ => None,
    };
    let mut nav = Vec::new();
    if account.is_some() {
        nav.push(("/", "nav.dashboard"));
        if may(&ctx.principal, Action::FileBook) || may(&ctx.principal, Action::PostLists) {
            nav.push(("/upload", "nav.upload"));
        }
        if may(&ctx.principal, Action::ReadReport) {
            nav.push(("/review", "nav.review"));
        }
    }
    Chrome { lang: page.lang, switch_href: page.switch_href(), path: page.path, account, nav, csrf: page.csrf.unwrap_or_default() }
}

/// An error shown as a page rather than as JSON.
pub(crate) fn error_page(e: &ApiError) -> Response {
    let c = chrome();
    let (heading, text) = match e.status {
        StatusCode::NOT_FOUND => ("error.not_found", "error.not_found_text"),
        StatusCode::FORBIDDEN => ("error.forbidden", "error.forbidden_text"),
        StatusCode::UNPROCESSABLE_ENTITY => ("error.rejected", "error.rejected_text"),
        s if s.is_client_error() => ("error.bad_request", "error.bad_request_text"),
        _ => ("error.server", "error.server_text"),
    };
    (e.status, Html(html::error(&c, heading, text, &e.rule, &e.message))).into_response()
}

/// Decodes one `application/x-www-form-urlencoded` value (a form body or a query string).
pub(crate) fn form_value(body: &str, name: &str) -> Option<String> {
    body.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| {
        let v = v.replace('+', " ");
        let bytes = v.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match (bytes[i], bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok())) {
                (b'%', Some(b)) => {
                    out.push(b);
                    i += 3;
                }
                (b, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    })
}

/// An optional `YYYY-MM-DD` query parameter of a page (empty: not given).
fn page_date(uri: &Uri, name: &str) -> Result<Option<NaiveDate>, ApiError> {
    let value = uri.query().and_then(|q| form_value(q, name)).filter(|v| !v.is_empty());
    crate::api::query_date(name, value.as_deref())
}

fn html_page(body: String) -> Response {
    Html(body).into_response()
}

// ---- Dashboard ----------------------------------------------------------------------------------

fn cycle_view<S: Store>(e: &mut Engine<S>, book_no: &str) -> Option<CycleView> {
    e.cycle_status(book_no, &DeadlinePolicy::default()).ok().map(|s| CycleView { cycle_no: s.cycle_no, cycle_from: s.cycle_from, cycle_until: s.cycle_until, report_due: s.report_due })
}

fn dashboard_view<S: Store>(e: &mut Engine<S>, p: &Principal, today: NaiveDate) -> Result<DashboardView, ApiError> {
    let (read_report, read_tax) = (may(p, Action::ReadReport), may(p, Action::ReadTax));
    let mut books = Vec::new();
    let mut alerts = Vec::new();
    for record in e.books()? {
        let book_no = record.key.book_no.clone();
        let Some(ledger) = e.ledger(&book_no)? else { continue };
        let b = ledger.book();
        let mut row = DashboardBook {
            book_no: book_no.clone(),
            revision: record.revision,
            book_type: b.book_type,
            operator: b.doc.operator.name.clone(),
            master_customs: b.master_customs.clone(),
            valid_from: b.valid_from,
            valid_until: b.valid_until,
            lists_posted: ledger.lists_posted(),
            cycle: None,
        };
        if read_report {
            row.cycle = cycle_view(e, &book_no);
            if let Some(cy) = &row.cycle {
                let days = (cy.report_due - today).num_days();
                if days < 0 {
                    alerts.push(Alert::ReportOverdue { book_no: book_no.clone(), due: cy.report_due });
                } else if days <= pages::SOON_DAYS {
                    alerts.push(Alert::ReportSoon { book_no: book_no.clone(), due: cy.report_due, days });
                }
            }
            // Skipped quietly when it cannot be computed (no regime for the book's date, no tariff line).
            if let Ok(g) = e.guarantee(&book_no, today) {
                if g.alert {
                    alerts.push(Alert::GuaranteeShortfall {
                        book_no: book_no.clone(),
                        required: report_amount(g.required.amount),
                        posted: report_amount(g.posted),
                        shortfall: report_amount(g.shortfall),
                    });
                }
            }
        }
        if read_tax {
            if let Ok(report) = e.tax_periods(&book_no, today, &TaxPolicy::default()) {
                for period in report.periods.iter().filter(|x| x.settlement.outstanding > Decimal::ZERO && x.settlement.outstanding_late_days > 0) {
                    alerts.push(Alert::LateTax {
                        book_no: book_no.clone(),
                        period: period.period.label.clone(),
                        due: period.period.due,
                        outstanding: report_amount(period.settlement.outstanding),
                        days: period.settlement.outstanding_late_days,
                    });
                }
            }
        }
        books.push(row);
    }
    Ok(DashboardView { as_of: today, books, alerts, can_upload: may(p, Action::FileBook) || may(p, Action::PostLists) })
}

/// `GET /?as_of=`: the books the account may read, their cycles and 报核 deadlines, and alerts
/// (as of the day of the request unless `as_of` says otherwise).
pub(crate) async fn index<S: Store + 'static>(State(engine): State<SharedEngine<S>>, uri: Uri) -> Response {
    let as_of = match page_date(&uri, "as_of") {
        Ok(d) => d,
        Err(e) => return error_page(&e),
    };
    let ctx = auth::current();
    let today = as_of.unwrap_or_else(|| ctx.now.date_naive());
    let principal = ctx.principal;
    match with_engine(&engine, move |e| dashboard_view(e, &principal, today)).await {
        Ok(v) => html_page(pages::dashboard(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

// ---- A book -------------------------------------------------------------------------------------

/// `GET /books/{book_no}`.
pub(crate) async fn book<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<String>, PathRejection>) -> Response {
    let book_no = match book_no(path) {
        Ok(b) => b,
        Err(e) => return error_page(&e),
    };
    let view = with_engine(&engine, move |e| {
        // The reports first: they answer unknown_book for a book that does not exist or may not be
        // read (one refusal in the audit trail, then nothing else is asked).
        let balance = e.balance(&book_no, None)?;
        let reconcile = e.reconcile(&book_no, None, None)?;
        let cycle = cycle_view(e, &book_no);
        let revision = e.books()?.into_iter().find(|r| r.key.book_no == book_no).map(|r| r.revision);
        let Some(ledger) = e.ledger(&book_no)? else {
            return Err(AppError::UnknownBook(book_no).into());
        };
        let b = ledger.book();
        Ok(BookView {
            book_no: b.book_no.clone(),
            revision,
            book_type: b.book_type,
            family: b.family,
            operator: b.doc.operator.name.clone(),
            master_customs: b.master_customs.clone(),
            zone: b.zone.clone(),
            valid_from: b.valid_from,
            valid_until: b.valid_until,
            lists_posted: ledger.lists_posted(),
            lines_posted: ledger.lines_posted(),
            pending_lines: ledger.pending().len(),
            materials: b.materials.iter().map(pages::item_view).collect(),
            products: b.products.iter().map(pages::item_view).collect(),
            versions: pages::versions_view(b),
            balance,
            reconcile,
            cycle,
        })
    })
    .await;
    match view {
        Ok(v) => html_page(pages::book(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

/// `GET /books/{book_no}/reconcile?from=&to=`: the 报核 report, each material linking to its
/// drill-down.
pub(crate) async fn reconcile<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<String>, PathRejection>, uri: Uri) -> Response {
    let book_no = match book_no(path) {
        Ok(b) => b,
        Err(e) => return error_page(&e),
    };
    let (from, to) = match (page_date(&uri, "from"), page_date(&uri, "to")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return error_page(&e),
    };
    let view = with_engine(&engine, move |e| {
        let report = e.reconcile_range(&book_no, from, to, None)?;
        let Some(ledger) = e.ledger(&book_no)? else {
            return Err(AppError::UnknownBook(book_no).into());
        };
        let b = ledger.book();
        Ok(ReconcileView { book_no: b.book_no.clone(), from, to, materials: b.materials.iter().map(pages::item_view).collect(), products: b.products.iter().map(pages::item_view).collect(), report })
    })
    .await;
    match view {
        Ok(v) => html_page(pages::reconcile(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

/// `GET /books/{book_no}/materials/{seq}?from=&to=`: the drill-down of a material with its balance
/// over time.
pub(crate) async fn material<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<(String, u32)>, PathRejection>, uri: Uri) -> Response {
    let (book_no, seq) = match path {
        Ok(Path(p)) => p,
        Err(r) => return error_page(&ApiError::new(StatusCode::BAD_REQUEST, "bad_path", r.body_text())),
    };
    let (from, to) = match (page_date(&uri, "from"), page_date(&uri, "to")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return error_page(&e),
    };
    let view = with_engine(&engine, move |e| {
        let explanation = e.explain(&book_no, seq, from, to)?;
        let report = e.reconcile_range(&book_no, from, to, None)?;
        let closed_to = e.closures(&book_no)?.last().map(|c| c.to);
        let Some(ledger) = e.ledger(&book_no)? else {
            return Err(AppError::UnknownBook(book_no).into());
        };
        let b = ledger.book();
        let Some(idx) = b.material_idx(seq) else {
            return Err(AppError::UnknownBook(book_no).into());
        };
        let row = report.materials.into_iter().find(|m| m.seq == seq);
        // The exact opening of the open cycle, or the report's for a range that starts later.
        let opening = match (from, ledger.material_totals().get(idx)) {
            (None, Some(t)) => t.opening,
            _ => row.as_ref().and_then(|r| r.opening.parse().ok()).unwrap_or_default(),
        };
        let moves: Vec<_> =
            explanation.contributions.iter().filter(|x| closed_to.is_none_or(|c| x.declared_on > c)).filter_map(|x| x.qty.parse::<Decimal>().ok().map(|q| (x.declared_on, x.figure, q))).collect();
        Ok(MaterialView {
            book_no: b.book_no.clone(),
            from,
            to,
            material: b.materials.get(idx).map(pages::item_view).ok_or_else(ApiError::internal)?,
            products: b.products.iter().map(pages::item_view).collect(),
            row,
            opening,
            series: charts::balance_series(opening, &moves),
            explanation,
        })
    })
    .await;
    match view {
        Ok(v) => html_page(pages::material(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

/// `GET /upload`.
pub(crate) async fn upload() -> Response {
    html_page(pages::upload(&chrome()))
}

// ---- Customs: the 单耗 review queue -------------------------------------------------------------

fn review_view<S: Store>(e: &mut Engine<S>, p: &Principal) -> Result<ReviewView, ApiError> {
    let mut view = ReviewView { rows: Vec::new(), books: 0, standards: 0, can_review: may(p, Action::ReviewConsumption) };
    if !may(p, Action::ReadReport) {
        return Ok(view);
    }
    for record in e.books()? {
        let book_no = record.key.book_no;
        let reviews = match e.ucns_reviews(&book_no, &CheckOptions::default()) {
            Ok(r) => r,
            Err(AppError::UnknownBook(_)) => continue,
            Err(other) => return Err(other.into()),
        };
        let names: Vec<(u32, String)> = match e.ledger(&book_no)? {
            Some(l) => l.book().products.iter().map(|i| (i.seq, i.name.clone())).collect(),
            None => Vec::new(),
        };
        view.books += 1;
        view.standards = view.standards.max(reviews.norms.standards);
        for v in reviews.versions {
            view.rows.push(ReviewRow {
                book_no: book_no.clone(),
                product_seq: v.product_seq,
                product_name: names.iter().find(|(s, _)| *s == v.product_seq).map(|(_, n)| n.clone()).unwrap_or_default(),
                product_hs: v.product_hs,
                version: v.version,
                valid_from: v.valid_from,
                state: v.state,
                self_verified: v.self_verified,
                open: v.open,
                replacement: v.replacement,
                flagged_lines: v.flagged_lines,
                last: v.history.last().map(|s| (s.by.clone(), s.at.clone())),
                lines: v.lines,
            });
        }
    }
    Ok(view)
}

/// `GET /review`: every 单耗 version of the books the account may read, with its review state.
pub(crate) async fn review<S: Store + 'static>(State(engine): State<SharedEngine<S>>) -> Response {
    let principal = auth::current().principal;
    match with_engine(&engine, move |e| review_view(e, &principal)).await {
        Ok(v) => html_page(pages_customs::review(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

/// `POST /books/{book_no}/reviews` (a form: `product_seq`, `version`, `action` — `accept` unless
/// given —, `replacement`, `note`, `_csrf`): one review step, then back to the queue.
pub(crate) async fn review_step<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<String>, PathRejection>, body: Result<Bytes, BytesRejection>) -> Response {
    let book_no = match book_no(path) {
        Ok(b) => b,
        Err(e) => return error_page(&e),
    };
    let body = match body {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(r) => return error_page(&ApiError::new(r.status(), "bad_body", r.body_text())),
    };
    let bad = |field: &str| error_page(&ApiError::new(StatusCode::BAD_REQUEST, "bad_form", format!("the form needs {field}")).with_field(field));
    let Some(product_seq) = form_value(&body, "product_seq").and_then(|s| s.trim().parse::<u32>().ok()) else { return bad("product_seq") };
    let Some(version) = form_value(&body, "version").filter(|v| !v.is_empty()) else { return bad("version") };
    let Ok(action) = form_value(&body, "action").unwrap_or_else(|| "accept".to_owned()).parse::<ReviewAction>() else { return bad("action") };
    let replacement = form_value(&body, "replacement");
    let note = form_value(&body, "note").unwrap_or_default();
    let done = with_engine(&engine, move |e| Ok(e.review_ucns(&book_no, product_seq, &version, action, replacement.as_deref(), &note)?)).await;
    match done {
        Ok(_) => Redirect::to("/review").into_response(),
        Err(e) => error_page(&e),
    }
}

// ---- Sessions -----------------------------------------------------------------------------------

/// Anything else: JSON under `/api/`, a page elsewhere.
pub(crate) async fn not_found(uri: Uri) -> Response {
    let e = ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("there is nothing at {}; the API is described at /api/openapi.json", uri.path()));
    if uri.path().starts_with("/api/") {
        e.into_response()
    } else {
        error_page(&e)
    }
}

/// Only a local path may be a target after login (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && n.chars().all(|c| c.is_ascii_alphanumeric() || "/-_.%".contains(c)) => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// `GET /login?next=`.
pub(crate) async fn login_page(uri: Uri) -> Response {
    let next = safe_next(uri.query().and_then(|q| form_value(q, "next")).as_deref());
    html_page(html::login(&chrome(), None, &next))
}

/// `POST /login` (the form): sets the session cookies and goes on to `next`.
pub(crate) async fn login_form<S: Store + 'static>(State(engine): State<SharedEngine<S>>, body: String) -> Response {
    let login = form_value(&body, "login").unwrap_or_default();
    let password = form_value(&body, "password").unwrap_or_default();
    let next = safe_next(form_value(&body, "next").as_deref());
    let result = with_engine(&engine, move |e| Ok(e.login(&login, &password))).await;
    let c = chrome();
    match result {
        Ok(Ok(s)) => {
            let max_age = jiamao_app::platform::SESSION_HOURS * 3600;
            let mut r = Redirect::to(&next).into_response();
            for cookie in
                [format!("{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}", s.secret), format!("jiamao_csrf={}; SameSite=Strict; Path=/; Max-Age={max_age}", s.csrf)]
            {
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            r
        }
        Ok(Err(jiamao_app::platform::AuthError::Throttled(secs))) => {
            (StatusCode::TOO_MANY_REQUESTS, Html(html::login(&c, Some(&fill(t(c.lang, "login.throttled"), &[("secs", &secs.to_string())])), &next))).into_response()
        }
        Ok(Err(_)) => (StatusCode::UNAUTHORIZED, Html(html::login(&c, Some(t(c.lang, "login.wrong")), &next))).into_response(),
        Err(e) => error_page(&e),
    }
}

/// `POST /logout` (the form in every page's header): ends the session and goes to the login page.
pub(crate) async fn logout<S: Store + 'static>(State(engine): State<SharedEngine<S>>, headers: HeaderMap) -> Response {
    if let Some(secret) = auth::cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = with_engine(&engine, move |e| Ok(e.logout(&secret)?)).await {
            return error_page(&e);
        }
    }
    let mut r = Redirect::to("/login").into_response();
    for cookie in [format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"), "jiamao_csrf=; SameSite=Strict; Path=/; Max-Age=0".to_owned()] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_decoded() {
        assert_eq!(form_value("a=1&_csrf=x%2By+z&b=", "_csrf").as_deref(), Some("x+y z"));
        assert_eq!(form_value("a=1", "b"), None);
        assert_eq!(form_value("v=%E8%B4%A6", "v").as_deref(), Some("账"));
    }

    #[test]
    fn only_local_paths_follow_a_login() {
        assert_eq!(safe_next(Some("/books/C1")), "/books/C1");
        for bad in ["//evil.example", "https://evil.example", "/a b", "/x?y"] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
    }
}
