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
use crate::forms::{MultipartForm, Rule, Upload};
use crate::html::{self, Account, Chrome, DateField};
use crate::i18n::{self, fill, t};
use crate::pages_customs::{self, RefusedStep, ReviewRow, ReviewView};
use crate::pages_enterprise::{self as pages, Alert, BookView, CycleView, DashboardBook, DashboardView, MaterialView, ReconcileView, UploadView};
use crate::pages_ledger::{self, BalanceRow, BalanceView, LineRow, ListFilters, ListRow, ListsView, PriceRow, TaxView};
use crate::pages_officials::{self, AccountForm, AccountsView, AuditView, CatalogsView, DistrictRow, DistrictView, Flag, GuaranteeFacts, PreviewForm};
use crate::table::{cmp_num, Order, Paging};
use crate::{with_engine, SharedEngine};
use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use jiamao_app::ucns::CheckOptions;
use jiamao_app::{AppError, Engine};
use jiamao_domain::access::{self, Action, Principal, Role, Target};
use jiamao_domain::catalog::parse_catalog_csv;
use jiamao_domain::codes::{CountryCode, CurrencyCode, TradeModeCode};
use jiamao_domain::cycle::DeadlinePolicy;
use jiamao_domain::decimal::plain;
use jiamao_domain::decimal::report_amount;
use jiamao_domain::doc::{Direction, Goods, StocktakeDoc};
use jiamao_domain::norms::{review_transition, ReviewAction};
use jiamao_domain::tax::quote::{PriceDoc, PriceSlot, QuoteRequest};
use jiamao_domain::tax::TaxPolicy;
use jiamao_domain::Decimal;
use jiamao_store::Store;
use jiamao_store::StoredList;

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
        if may(&ctx.principal, Action::ReviewConsumption) {
            nav.push(("/district", "nav.district"));
        }
        if may(&ctx.principal, Action::ReadPolicy) {
            nav.push(("/catalogs", "nav.catalogs"));
        }
        if may(&ctx.principal, Action::ReadAudit) {
            nav.push(("/audit", "nav.audit"));
        }
        if may(&ctx.principal, Action::ManageAccounts) {
            nav.push(("/accounts", "nav.accounts"));
        }
    }
    Chrome { lang: page.lang, switch_href: page.switch_href(), path: page.path, account, nav, book_links: book_links(&ctx.principal), csrf: page.csrf.unwrap_or_default() }
}

/// The pages of a book the account may open (by its role; the engine decides each book).
fn book_links(p: &Principal) -> Vec<(&'static str, &'static str)> {
    let mut links = Vec::new();
    if may(p, Action::ReadReport) {
        links.extend([("", "booknav.book"), ("/lists", "booknav.lists")]);
    }
    if may(p, Action::ReadBook) {
        links.push(("/balance", "booknav.balance"));
    }
    if may(p, Action::ReadReport) {
        links.push(("/reconcile", "booknav.reconcile"));
    }
    if may(p, Action::ReadTax) {
        links.push(("/tax", "booknav.tax"));
    }
    links
}

/// An error shown as a page rather than as JSON.
pub(crate) fn error_page(e: &ApiError) -> Response {
    let c = chrome();
    let (heading, text) = match e.status {
        StatusCode::FORBIDDEN if e.rule == "csrf" => ("error.csrf", "error.csrf_text"),
        StatusCode::NOT_FOUND => ("error.not_found", "error.not_found_text"),
        StatusCode::FORBIDDEN => ("error.forbidden", "error.forbidden_text"),
        StatusCode::UNPROCESSABLE_ENTITY => ("error.rejected", "error.rejected_text"),
        s if s.is_client_error() => ("error.bad_request", "error.bad_request_text"),
        _ => ("error.server", "error.server_text"),
    };
    (e.status, Html(html::error(&c, heading, text, &e.rule, &e.message))).into_response()
}

/// Decodes one `application/x-www-form-urlencoded` value (`+` is a space, `%XX` a byte).
pub(crate) fn decode(v: &str) -> String {
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
}

/// Decodes one `application/x-www-form-urlencoded` value (a form body or a query string).
pub(crate) fn form_value(body: &str, name: &str) -> Option<String> {
    body.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| decode(v))
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
            guarantee: None,
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
                let facts = GuaranteeFacts { required: report_amount(g.required.amount), posted: report_amount(g.posted), shortfall: report_amount(g.shortfall) };
                if g.alert {
                    alerts.push(Alert::GuaranteeShortfall { book_no: book_no.clone(), required: facts.required.clone(), posted: facts.posted.clone(), shortfall: facts.shortfall.clone() });
                }
                row.guarantee = Some(facts);
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

/// The reconciliation page's view: the report over the range (none when a date was refused), with a
/// stocktake's figures when one was sent.
fn reconcile_view<S: Store>(
    e: &mut Engine<S>,
    book_no: String,
    from: DateField,
    to: DateField,
    sent: Option<Result<(String, StocktakeDoc), (String, String)>>,
    mut paging: Option<Paging>,
) -> Result<ReconcileView, ApiError> {
    let range_ok = !from.invalid && !to.invalid;
    let (report, stocktake) = match sent {
        Some(Ok((file, doc))) if range_ok => match e.reconcile_range(&book_no, from.value, to.value, Some((&doc, &file))) {
            Ok(r) => (Some(r), Some(Ok(file))),
            Err(x) => (None, Some(Err(inline(x)?))),
        },
        Some(Err(refused)) => (None, Some(Err(refused))),
        _ => (None, None),
    };
    let report = match report {
        Some(r) => Some(r),
        None if range_ok => Some(e.reconcile_range(&book_no, from.value, to.value, None)?),
        None => {
            // Still one question that may be refused, so that an unknown book stays unknown.
            e.reconcile_range(&book_no, None, None, None)?;
            None
        }
    };
    let Some(ledger) = e.ledger(&book_no)? else {
        return Err(AppError::UnknownBook(book_no).into());
    };
    let b = ledger.book();
    let materials: Vec<_> = b.materials.iter().map(pages::item_view).collect();
    let mut report = report;
    // Without a stocktake the materials are sorted and paged (a book may have thousands).
    match (&mut report, &mut paging) {
        (Some(r), Some(p)) if stocktake.is_none() => {
            let name = |seq: u32| materials.iter().find(|m| m.seq == seq).map(|m| m.name.as_str()).unwrap_or("");
            p.sort(&mut r.materials, |by, x, y| match by {
                "seq" => x.seq.cmp(&y.seq),
                "name" => name(x.seq).cmp(name(y.seq)).then(x.seq.cmp(&y.seq)),
                figure => cmp_num(pages::material_figure(x, figure).unwrap_or(""), pages::material_figure(y, figure).unwrap_or("")).then(x.seq.cmp(&y.seq)),
            });
            r.materials = p.window(&r.materials).to_vec();
        }
        _ => paging = None,
    }
    Ok(ReconcileView { book_no: b.book_no.clone(), from, to, materials, products: b.products.iter().map(pages::item_view).collect(), report, stocktake, paging })
}

fn reconcile_status(v: &ReconcileView) -> StatusCode {
    if v.from.invalid || v.to.invalid {
        StatusCode::BAD_REQUEST
    } else if matches!(v.stocktake, Some(Err(_))) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// `GET /books/{book_no}/reconcile?from=&to=`: the 报核 report, each material linking to its
/// drill-down; a refused date is said next to its field.
pub(crate) async fn reconcile<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<String>, PathRejection>, uri: Uri) -> Response {
    let book_no = match book_no(path) {
        Ok(b) => b,
        Err(e) => return error_page(&e),
    };
    let (from, to) = (date_field(&uri, "from"), date_field(&uri, "to"));
    let paging = Paging::from_query(uri.path(), uri.query(), &pages::RECON_COLS, "seq", Order::Asc);
    match with_engine(&engine, move |e| reconcile_view(e, book_no, from, to, None, Some(paging))).await {
        Ok(v) => status_page(reconcile_status(&v), pages::reconcile(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

/// `POST /books/{book_no}/reconcile` (a `multipart/form-data` form: `stocktake` file, `from`, `to`,
/// `_csrf`): the same page with the stocktake's actual remains and differences, in a table and as
/// a chart; nothing is stored. A refused file is said on the page (422).
pub(crate) async fn stocktake<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<String>, PathRejection>, form: Result<Multipart, MultipartRejection>) -> Response {
    let book_no = match book_no(path) {
        Ok(b) => b,
        Err(e) => return error_page(&e),
    };
    let form = match read_multipart(form).await {
        Ok(f) => f,
        Err(e) => return error_page(&e),
    };
    let from = field_of("from", form.field("from").unwrap_or_default().to_owned());
    let to = field_of("to", form.field("to").unwrap_or_default().to_owned());
    let sent = match form.file("stocktake") {
        None => Err(("file_missing".to_owned(), t(i18n::current().lang, "upload.choose").to_owned())),
        Some(u) => {
            let file = if u.filename.is_empty() { "stocktake".to_owned() } else { u.filename.clone() };
            jiamao_domain::doc::parse_stocktake(&u.text, &file).map(|doc| (file, doc)).map_err(|e| {
                let e = ApiError::document(&e);
                (e.rule, e.message)
            })
        }
    };
    match with_engine(&engine, move |e| reconcile_view(e, book_no, from, to, Some(sent), None)).await {
        Ok(v) => status_page(reconcile_status(&v), pages::reconcile(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

async fn read_multipart(form: Result<Multipart, MultipartRejection>) -> Result<MultipartForm, ApiError> {
    let m = form.map_err(|r| ApiError::new(r.status(), "bad_body", format!("the form is not multipart/form-data: {}", r.body_text())))?;
    MultipartForm::read(m).await
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
    let mut paging = Paging::from_query(uri.path(), uri.query(), &pages::CONTRIBUTION_COLS, "date", Order::Asc);
    let view = with_engine(&engine, move |e| {
        // A material the book does not have is a page that does not exist (404), not a refusal.
        let explanation = match e.explain(&book_no, seq, from, to) {
            Err(AppError::Book { error, .. }) if error.rule == "unknown_item" => return Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_item", error.message)),
            other => other?,
        };
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
        // The chart reads every contribution; the table shows a page of them.
        let mut explanation = explanation;
        paging.sort(&mut explanation.contributions, |by, a, b| {
            let at = |x: &jiamao_domain::explain::Contribution| (x.declared_on, x.list_no.clone(), x.line);
            match by {
                "list" => (&a.list_no, a.line).cmp(&(&b.list_no, b.line)),
                "trade_mode" => a.trade_mode.cmp(&b.trade_mode),
                "figure" => a.figure.cmp(&b.figure),
                "qty" => cmp_num(&a.qty, &b.qty),
                "product" => a.product_seq.cmp(&b.product_seq),
                "amount" => cmp_num(a.amount.as_deref().unwrap_or(""), b.amount.as_deref().unwrap_or("")),
                _ => std::cmp::Ordering::Equal,
            }
            .then_with(|| at(a).cmp(&at(b)))
        });
        explanation.contributions = paging.window(&explanation.contributions).to_vec();
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
            paging,
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
    html_page(pages::upload(&chrome(), &UploadView::default()))
}

/// `POST /upload` (a `multipart/form-data` form: a `book` file, a `lists` file or both, `_csrf`):
/// files the book (or its change) and posts the lists exactly as the API does, then shows what
/// became of each (422 when a file was refused whole).
pub(crate) async fn upload_form<S: Store + 'static>(State(engine): State<SharedEngine<S>>, form: Result<Multipart, MultipartRejection>) -> Response {
    let form = match read_multipart(form).await {
        Ok(f) => f,
        Err(e) => return error_page(&e),
    };
    let lang = i18n::current().lang;
    let (book, lists) = (form.file("book").cloned(), form.file("lists").cloned());
    let none_chosen = book.is_none() && lists.is_none();
    let done = with_engine(&engine, move |e| {
        let name = |u: &Upload, default: &str| if u.filename.is_empty() { default.to_owned() } else { u.filename.clone() };
        let mut view = UploadView::default();
        if let Some(u) = &book {
            view.book = Some(match e.import_book(&u.text, &name(u, "book")) {
                Ok(b) => Ok(b),
                Err(x) => Err(inline(x)?),
            });
        }
        if let Some(u) = &lists {
            view.lists = Some(match e.post_text(&u.text, &name(u, "lists")) {
                Ok(o) => Ok(o),
                Err(x) => Err(inline(x)?),
            });
        }
        if none_chosen {
            let missing = ("file_missing".to_owned(), t(lang, "upload.choose").to_owned());
            if form.fields.iter().any(|(k, _)| k == "lists") || form.files.iter().any(|(k, _)| k == "lists") {
                view.lists = Some(Err(missing));
            } else {
                view.book = Some(Err(missing));
            }
        }
        Ok(view)
    })
    .await;
    match done {
        Ok(v) => {
            let refused = matches!(v.book, Some(Err(_))) || matches!(v.lists, Some(Err(_)));
            status_page(if refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK }, pages::upload(&chrome(), &v))
        }
        Err(e) => error_page(&e),
    }
}

// ---- Customs: the 单耗 review queue -------------------------------------------------------------

fn review_view<S: Store>(e: &mut Engine<S>, p: &Principal, only: Option<String>) -> Result<ReviewView, ApiError> {
    let can_review = may(p, Action::ReviewConsumption);
    let mut view = ReviewView { rows: Vec::new(), books: 0, standards: 0, can_review, book: only.clone(), books_all: Vec::new(), refused: None };
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
        if !reviews.versions.is_empty() {
            view.books_all.push(book_no.clone());
        }
        if only.as_ref().is_some_and(|b| *b != book_no) {
            continue;
        }
        view.books += 1;
        view.standards = view.standards.max(reviews.norms.standards);
        let versions_of: Vec<(u32, String)> = reviews.versions.iter().map(|v| (v.product_seq, v.version.clone())).collect();
        for v in reviews.versions {
            // The steps the domain allows from the version's state, for an account that may review.
            let actions = if can_review && v.open {
                [ReviewAction::Question, ReviewAction::Consult, ReviewAction::Accept, ReviewAction::Adjust].into_iter().filter(|a| review_transition(v.state, *a).is_ok()).collect()
            } else {
                Vec::new()
            };
            let others = versions_of.iter().filter(|(s, name)| *s == v.product_seq && *name != v.version).map(|(_, name)| name.clone()).collect();
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
                history: v.history,
                lines: v.lines,
                actions,
                others,
            });
        }
    }
    Ok(view)
}

/// `GET /review?book=`: every 单耗 version of the books the account may read (or of the book
/// chosen), with its review state and history, and the review form of each version the account may
/// act on; the chart of declared 单耗 against the standards for one book.
pub(crate) async fn review<S: Store + 'static>(State(engine): State<SharedEngine<S>>, uri: Uri) -> Response {
    let principal = auth::current().principal;
    let only = Some(query_raw(&uri, "book")).filter(|b| !b.is_empty());
    match with_engine(&engine, move |e| review_view(e, &principal, only)).await {
        Ok(v) => html_page(pages_customs::review(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

/// `POST /books/{book_no}/reviews` (a form: `product_seq`, `version`, `action` — `accept` unless
/// given —, `replacement`, `note`, `back` — the book the queue was filtered to —, `_csrf`): one
/// review step, then back to the queue (filtered as it was). A step the engine refuses (400 or 422)
/// shows the queue again, answered 422, with the message next to the version's form and the note as
/// typed; an unknown book or a forbidden step stays an error page.
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
    let back = form_value(&body, "back").filter(|b| is_book_filter(b));
    let target = match &back {
        Some(b) => format!("/review?book={}", html::path_segment(b)),
        None => "/review".to_owned(),
    };
    let principal = auth::current().principal;
    let done = with_engine(&engine, move |e| match e.review_ucns(&book_no, product_seq, &version, action, replacement.as_deref(), &note) {
        Ok(_) => Ok(None),
        Err(x) => {
            let (rule, message) = inline(x)?;
            let mut view = review_view(e, &principal, back)?;
            view.refused = Some(RefusedStep { book_no, product_seq, version, note, replacement: replacement.unwrap_or_default(), rule, message });
            Ok(Some(view))
        }
    })
    .await;
    match done {
        Ok(None) => Redirect::to(&target).into_response(),
        Ok(Some(v)) => status_page(StatusCode::UNPROCESSABLE_ENTITY, pages_customs::review(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

/// Whether a form's `back` may name the book the queue was filtered to: a book number's characters
/// only (letters, digits, `-`, `_`), so that going back is always to `/review` (never elsewhere).
fn is_book_filter(b: &str) -> bool {
    !b.is_empty() && b.len() <= 64 && b.bytes().all(|x| x.is_ascii_alphanumeric() || x == b'-' || x == b'_')
}

// ---- Forms and tables ---------------------------------------------------------------------------

/// A query parameter as sent, decoded (empty when absent).
fn query_raw(uri: &Uri, name: &str) -> String {
    uri.query().and_then(|q| form_value(q, name)).unwrap_or_default()
}

/// A date of a page's form: empty is none; anything else must pass the API's strict rule
/// ([`crate::api::query_date`]), else the page says so next to the field.
fn field_of(name: &'static str, raw: String) -> DateField {
    let raw = raw.trim().to_owned();
    if raw.is_empty() {
        return DateField { name, raw, value: None, invalid: false };
    }
    match crate::api::query_date(name, Some(&raw)) {
        Ok(value) => DateField { name, raw, value, invalid: false },
        Err(_) => DateField { name, raw, value: None, invalid: true },
    }
}

fn date_field(uri: &Uri, name: &'static str) -> DateField {
    field_of(name, query_raw(uri, name))
}

/// A refusal the page shows inline (a rejected request: 400 or 422, with its rule and message);
/// anything else (unknown book, forbidden, a fault) stays an error.
fn inline(e: impl Into<ApiError>) -> Result<(String, String), ApiError> {
    let e = e.into();
    if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::BAD_REQUEST {
        Ok((e.rule, e.message))
    } else {
        Err(e)
    }
}

fn status_page(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

fn direction_code(d: Direction) -> &'static str {
    match d {
        Direction::I => "I",
        Direction::E => "E",
    }
}

// ---- Posted lists -------------------------------------------------------------------------------

fn list_row(book: &jiamao_domain::book::Book, s: &StoredList) -> ListRow {
    let l = &s.list;
    let items = if l.goods == Goods::Material { &book.materials } else { &book.products };
    let idx = |seq: u32| if l.goods == Goods::Material { book.material_idx(seq) } else { book.product_idx(seq) };
    ListRow {
        list_no: l.list_no.clone(),
        declared_on: l.declared_on,
        direction: direction_code(l.direction),
        goods: l.goods,
        trade_mode: l.trade_mode.as_str().to_owned(),
        trade_mode_name: l.trade_mode.name(),
        counterparty: l.counterparty_book_no.clone(),
        declaration_no: l.declaration_no.clone(),
        line_count: l.lines.len(),
        lines: l
            .lines
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let item = idx(x.item_seq).and_then(|i| items.get(i));
                LineRow {
                    line: x.line,
                    item_seq: x.item_seq,
                    item_name: item.map(|i| i.name.clone()).unwrap_or_default(),
                    unit: item.map(|i| i.unit.clone()).unwrap_or_default(),
                    qty: plain(x.qty),
                    amount: x.amount.map(plain),
                    version: s.versions.get(i).cloned().flatten().or_else(|| x.consumption_version.clone()),
                }
            })
            .collect(),
    }
}

/// `GET /books/{book_no}/lists?trade_mode=&direction=&from=&to=&list_no=&page=&per=&sort=&order=`:
/// the lists posted in the open cycle, filtered, sorted and paged on the server; each expandable to
/// its lines.
pub(crate) async fn lists<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<String>, PathRejection>, uri: Uri) -> Response {
    let book_no = match book_no(path) {
        Ok(b) => b,
        Err(e) => return error_page(&e),
    };
    let filters = ListFilters {
        trade_mode: query_raw(&uri, "trade_mode"),
        direction: query_raw(&uri, "direction"),
        list_no: query_raw(&uri, "list_no").trim().to_owned(),
        from: date_field(&uri, "from"),
        to: date_field(&uri, "to"),
    };
    let invalid = filters.from.invalid || filters.to.invalid;
    let mut paging = Paging::from_query(uri.path(), uri.query(), &pages_ledger::LIST_COLS, "declared_on", Order::Desc);
    let view = with_engine(&engine, move |e| {
        let (book, closure, stored) = e.posted_lists(&book_no)?;
        let mut modes: Vec<&TradeModeCode> = stored.iter().map(|s| &s.list.trade_mode).collect();
        modes.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        modes.dedup_by(|a, b| a.as_str() == b.as_str());
        let f = &filters;
        let needle = f.list_no.to_uppercase();
        let mut matching: Vec<&StoredList> = stored
            .iter()
            .filter(|s| {
                let l = &s.list;
                !invalid
                    && (f.trade_mode.is_empty() || l.trade_mode.as_str() == f.trade_mode)
                    && (f.direction.is_empty() || direction_code(l.direction) == f.direction)
                    && f.from.value.is_none_or(|d| l.declared_on >= d)
                    && f.to.value.is_none_or(|d| l.declared_on <= d)
                    && (needle.is_empty() || l.list_no.to_uppercase().contains(&needle))
            })
            .collect();
        paging.sort(&mut matching, |by, a, b| match by {
            "list_no" => a.list.list_no.cmp(&b.list.list_no),
            "declared_on" => (a.list.declared_on, a.id).cmp(&(b.list.declared_on, b.id)),
            "trade_mode" => a.list.trade_mode.as_str().cmp(b.list.trade_mode.as_str()),
            "direction" => direction_code(a.list.direction).cmp(direction_code(b.list.direction)),
            "goods" => (a.list.goods as u8).cmp(&(b.list.goods as u8)),
            "lines" => a.list.lines.len().cmp(&b.list.lines.len()),
            _ => a.id.cmp(&b.id),
        });
        let rows = paging.window(&matching).iter().map(|s| list_row(&book, s)).collect();
        Ok(ListsView {
            book_no: book.book_no.clone(),
            trade_modes: modes.into_iter().map(|m| (m.as_str().to_owned(), m.name())).collect(),
            posted: stored.len(),
            closed_to: closure.map(|c| c.to),
            rows,
            paging,
            filters: filters.clone(),
        })
    })
    .await;
    match view {
        Ok(v) => status_page(if invalid { StatusCode::BAD_REQUEST } else { StatusCode::OK }, pages_ledger::lists(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

// ---- Balances as of a date ----------------------------------------------------------------------

/// `GET /books/{book_no}/balance?as_of=`: every material's balance as of the date (the latest
/// without one), sorted and paged.
pub(crate) async fn balance<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<String>, PathRejection>, uri: Uri) -> Response {
    let book_no = match book_no(path) {
        Ok(b) => b,
        Err(e) => return error_page(&e),
    };
    let as_of = date_field(&uri, "as_of");
    let invalid = as_of.invalid;
    let mut paging = Paging::from_query(uri.path(), uri.query(), &pages_ledger::BALANCE_COLS, "seq", Order::Asc);
    let view = with_engine(&engine, move |e| {
        let report = e.balance(&book_no, as_of.value)?;
        let Some(ledger) = e.ledger(&book_no)? else {
            return Err(AppError::UnknownBook(book_no).into());
        };
        let b = ledger.book();
        let mut rows: Vec<BalanceRow> = b
            .materials
            .iter()
            .map(|m| BalanceRow {
                seq: m.seq,
                part_no: m.part_no.clone(),
                hs_code: m.hs_code.clone(),
                name: m.name.clone(),
                unit: m.unit.clone(),
                authorized_qty: m.authorized_qty.map(plain),
                balance: report.materials.iter().find(|x| x.seq == m.seq).map(|x| x.balance.clone()).unwrap_or_default(),
            })
            .collect();
        paging.sort(&mut rows, |by, a, b| match by {
            "part_no" => a.part_no.cmp(&b.part_no),
            "hs_code" => a.hs_code.cmp(&b.hs_code),
            "name" => a.name.cmp(&b.name),
            "balance" => cmp_num(&a.balance, &b.balance),
            _ => a.seq.cmp(&b.seq),
        });
        let rows = paging.window(&rows).to_vec();
        Ok(BalanceView { book_no: b.book_no.clone(), as_of, rows, paging })
    })
    .await;
    match view {
        Ok(v) => status_page(if invalid { StatusCode::BAD_REQUEST } else { StatusCode::OK }, pages_ledger::balance(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

// ---- Domestic-sale taxation ---------------------------------------------------------------------

/// `GET /books/{book_no}/tax?as_of=&list_no=&payment_note_date=&origin_certificate=&price_<goods>_<seq>=&cur_<goods>_<seq>=`:
/// the declaration periods with domestic sales up to the date (the day of the request unless given),
/// and the quote of the posted domestic-sale list chosen, with the prices it reads (similar goods for
/// 来料 materials, the domestic price of leftovers, …) entered in the form and checked by the API's
/// rules: a refused field answers 400 with its message next to it, and no quote.
pub(crate) async fn tax<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<String>, PathRejection>, uri: Uri) -> Response {
    let book_no = match book_no(path) {
        Ok(b) => b,
        Err(e) => return error_page(&e),
    };
    let mut as_of = date_field(&uri, "as_of");
    let note = date_field(&uri, "payment_note_date");
    let list_no = query_raw(&uri, "list_no").trim().to_owned();
    let origin = query_raw(&uri, "origin_certificate").trim().to_owned();
    let (origin_certificate, origin_error) = match origin.as_str() {
        "" => (None, None),
        code => match CountryCode::parse(code) {
            Ok(c) => (Some(c), None),
            Err(_) => (None, Some(i18n::key("tax.bad_country"))),
        },
    };
    let query = uri.query().unwrap_or_default().to_owned();
    let today = auth::current().now.date_naive();
    let invalid = as_of.invalid || note.invalid;
    if !invalid && as_of.value.is_none() {
        as_of.value = Some(today);
    }
    let view = with_engine(&engine, move |e| {
        let policy = TaxPolicy::default();
        let periods = match e.tax_periods(&book_no, as_of.value.unwrap_or(today), &policy) {
            Ok(r) => Ok(r),
            Err(x) => Err(inline(x)?),
        };
        let mut req = QuoteRequest { book_no: Some(book_no.clone()), list_no: Some(list_no.clone()), payment_note_date: note.value, origin_certificate, ..QuoteRequest::default() };
        // The prices the list's quote reads (none when it cannot be quoted: the quote says why).
        let slots = if list_no.is_empty() {
            Vec::new()
        } else {
            match e.tax_price_slots(&req) {
                Ok(s) => s,
                Err(x) => {
                    inline(x)?;
                    Vec::new()
                }
            }
        };
        let (prices, docs): (Vec<PriceRow>, Vec<Option<PriceDoc>>) = slots.into_iter().map(|slot| price_row(slot, &query)).unzip();
        req.prices = docs.into_iter().flatten().collect();
        let mut view = TaxView { book_no, as_of, payment_note_date: note, list_no, periods, quote: None, prices, origin, origin_error };
        if !view.list_no.is_empty() && !invalid && !view.fields_invalid() {
            view.quote = Some(match e.tax_quote(&req, &policy) {
                Ok(q) => Ok(q),
                Err(x) => Err(inline(x)?),
            });
        }
        Ok(view)
    })
    .await;
    match view {
        Ok(v) => {
            let status = if invalid || v.fields_invalid() {
                StatusCode::BAD_REQUEST
            } else if v.periods.is_err() || matches!(v.quote, Some(Err(_))) {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            status_page(status, pages_ledger::tax(&chrome(), &v))
        }
        Err(e) => error_page(&e),
    }
}

/// One price of the quote form from the query (`price_<goods>_<seq>`, `cur_<goods>_<seq>`), checked
/// as the JSON contract reads `prices[]` (a plain decimal, here not negative; a currency of the
/// table): the row as typed with its messages, and the price when it is one. An empty price is none
/// (its currency is then not asked).
fn price_row(slot: PriceSlot, query: &str) -> (PriceRow, Option<PriceDoc>) {
    let (price_name, cur_name) = PriceRow::names(slot.goods, slot.item_seq);
    let price = form_value(query, &price_name).unwrap_or_default().trim().to_owned();
    let currency = form_value(query, &cur_name).unwrap_or_default().trim().to_owned();
    let mut row = PriceRow { goods: slot.goods, item_seq: slot.item_seq, name: slot.name, unit: slot.unit, needed: slot.needed, price, price_error: None, currency, currency_error: None };
    if row.price.is_empty() {
        return (row, None);
    }
    let unit_price = match jiamao_domain::decimal::parse(&row.price) {
        Ok(d) if !d.is_sign_negative() => Some(d),
        _ => {
            row.price_error = Some(i18n::key("tax.bad_price"));
            None
        }
    };
    let currency = match CurrencyCode::parse(&row.currency) {
        Ok(c) => Some(c),
        Err(_) if row.currency.is_empty() => {
            row.currency_error = Some(i18n::key("tax.currency_missing"));
            None
        }
        Err(_) => {
            row.currency_error = Some(i18n::key("tax.bad_currency"));
            None
        }
    };
    let doc = unit_price.zip(currency).map(|(unit_price, currency)| PriceDoc { goods: row.goods, item_seq: row.item_seq, unit_price, currency });
    (row, doc)
}

// ---- Customs: the district ----------------------------------------------------------------------

fn district_rows<S: Store>(e: &mut Engine<S>, p: &Principal, today: NaiveDate) -> Result<(Vec<DistrictRow>, bool), ApiError> {
    let detail = may(p, Action::ReadReport);
    let mut rows = Vec::new();
    for record in e.books()? {
        let book_no = record.key.book_no.clone();
        let Some(ledger) = e.ledger(&book_no)? else { continue };
        let b = ledger.book();
        let mut row = DistrictRow {
            book_no: book_no.clone(),
            enterprise: record.key.enterprise.clone(),
            operator: b.doc.operator.name.clone(),
            book_type: b.book_type,
            valid_from: b.valid_from,
            valid_until: b.valid_until,
            report_due: None,
            guarantee: None,
            versions: None,
            flags: Vec::new(),
        };
        let left = (b.valid_until - today).num_days();
        if left < 0 {
            row.flags.push(Flag::Expired);
        } else if left <= pages::SOON_DAYS {
            row.flags.push(Flag::ExpiresSoon(left));
        }
        // Reports only for an account that reads them (asking otherwise would be a refusal).
        if detail {
            if let Some(cy) = cycle_view(e, &book_no) {
                row.report_due = Some(cy.report_due);
                let days = (cy.report_due - today).num_days();
                if days < 0 {
                    row.flags.push(Flag::ReportOverdue);
                } else if days <= pages::SOON_DAYS {
                    row.flags.push(Flag::ReportSoon(days));
                }
            }
            // Skipped quietly when it cannot be computed (no regime for the date, no tariff line).
            if let Ok(g) = e.guarantee(&book_no, today) {
                if g.alert {
                    row.flags.push(Flag::GuaranteeShort);
                }
                row.guarantee = Some(GuaranteeFacts { required: report_amount(g.required.amount), posted: report_amount(g.posted), shortfall: report_amount(g.shortfall) });
            }
            if let Ok(r) = e.ucns_reviews(&book_no, &CheckOptions::default()) {
                let open: Vec<_> = r.versions.iter().filter(|v| v.open).collect();
                let flagged: usize = open.iter().map(|v| v.flagged_lines).sum();
                row.versions = Some((r.versions.len(), open.len(), flagged));
                if flagged > 0 {
                    row.flags.push(Flag::FlaggedLines(flagged));
                }
                if !open.is_empty() {
                    row.flags.push(Flag::OpenReviews(open.len()));
                }
            }
        }
        rows.push(row);
    }
    Ok((rows, detail))
}

/// `GET /district?as_of=`: the books in the account's district (as the engine lists them) with
/// their risk flags, riskiest first.
pub(crate) async fn district<S: Store + 'static>(State(engine): State<SharedEngine<S>>, uri: Uri) -> Response {
    let mut as_of = date_field(&uri, "as_of");
    let ctx = auth::current();
    let today = as_of.value.unwrap_or_else(|| ctx.now.date_naive());
    if !as_of.invalid {
        as_of.value = Some(today);
    }
    let principal = ctx.principal;
    let mut paging = Paging::from_query(uri.path(), uri.query(), &pages_officials::DISTRICT_COLS, "flags", Order::Desc);
    let view = with_engine(&engine, move |e| {
        let (mut rows, detail) = if as_of.invalid { (Vec::new(), false) } else { district_rows(e, &principal, today)? };
        let weight = |r: &DistrictRow| (r.flags.iter().filter(|f| matches!(f, Flag::Expired | Flag::ReportOverdue | Flag::GuaranteeShort | Flag::FlaggedLines(_))).count(), r.flags.len());
        let shortfall = |r: &DistrictRow| r.guarantee.as_ref().map(|g| g.shortfall.clone()).unwrap_or_default();
        let count = |r: &DistrictRow, i: usize| r.versions.map(|v| if i == 1 { v.1 } else { v.2 });
        paging.sort(&mut rows, |by, a, b| match by {
            "operator" => a.operator.cmp(&b.operator),
            "valid_until" => a.valid_until.cmp(&b.valid_until),
            "report_due" => a.report_due.cmp(&b.report_due),
            "shortfall" => cmp_num(&shortfall(a), &shortfall(b)),
            "open" => count(a, 1).cmp(&count(b, 1)),
            "flagged" => count(a, 2).cmp(&count(b, 2)),
            "flags" => weight(a).cmp(&weight(b)).then_with(|| b.book_no.cmp(&a.book_no)),
            _ => a.book_no.cmp(&b.book_no),
        });
        let rows = paging.window(&rows).to_vec();
        Ok(DistrictView { as_of, today, rows, paging, detail })
    })
    .await;
    match view {
        Ok(v) => status_page(if v.as_of.invalid { StatusCode::BAD_REQUEST } else { StatusCode::OK }, pages_officials::district(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

// ---- Commerce: catalogs -------------------------------------------------------------------------

fn catalogs_view<S: Store>(e: &mut Engine<S>, p: &Principal, from: String, to: String, preview: PreviewForm) -> Result<CatalogsView, ApiError> {
    let versions = e.catalog_versions()?;
    let diff = if from.is_empty() || to.is_empty() {
        None
    } else {
        Some(match e.catalog_diff(&from, &to) {
            Ok(d) => Ok(d),
            Err(x) => Err(inline(x)?),
        })
    };
    Ok(CatalogsView { versions, from, to, diff, can_preview: may(p, Action::LoadPolicy), preview })
}

fn catalogs_status(v: &CatalogsView) -> StatusCode {
    if v.preview.as_of.invalid {
        StatusCode::BAD_REQUEST
    } else if matches!(v.diff, Some(Err(_))) || matches!(v.preview.result, Some(Err(_))) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// `GET /catalogs?from=&to=`: the loaded catalog versions and the difference between two.
pub(crate) async fn catalogs<S: Store + 'static>(State(engine): State<SharedEngine<S>>, uri: Uri) -> Response {
    let (from, to) = (query_raw(&uri, "from"), query_raw(&uri, "to"));
    let principal = auth::current().principal;
    let preview = PreviewForm { as_of: field_of("as_of", String::new()), ..PreviewForm::default() };
    match with_engine(&engine, move |e| catalogs_view(e, &principal, from, to, preview)).await {
        Ok(v) => status_page(catalogs_status(&v), pages_officials::catalogs(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

/// `POST /catalogs/preview` (a form: `name`, `csv`, `as_of`, `_csrf`): the impact of loading the
/// version, nothing loaded (those who may load catalogs; the engine decides).
pub(crate) async fn catalog_preview<S: Store + 'static>(State(engine): State<SharedEngine<S>>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(r) => return error_page(&ApiError::new(r.status(), "bad_body", r.body_text())),
    };
    let name = form_value(&body, "name").unwrap_or_default().trim().to_owned();
    let csv = form_value(&body, "csv").unwrap_or_default().replace("\r\n", "\n");
    let as_of = field_of("as_of", form_value(&body, "as_of").unwrap_or_default());
    let parsed = parse_catalog_csv(&csv, "csv");
    let principal = auth::current().principal;
    let view = with_engine(&engine, move |e| {
        let result = match parsed {
            _ if as_of.invalid => None,
            Err(problems) => Some(Err(("file_invalid".to_owned(), problems.join("; ")))),
            Ok(entries) => Some(match e.impact_preview(&name, &entries, as_of.value) {
                Ok(i) => Ok(i),
                Err(x) => Err(inline(x)?),
            }),
        };
        catalogs_view(e, &principal, String::new(), String::new(), PreviewForm { name, as_of, csv, result })
    })
    .await;
    match view {
        Ok(v) => status_page(catalogs_status(&v), pages_officials::catalogs(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

// ---- The auditor: audit verification ------------------------------------------------------------

/// `GET /audit`: every audit chain the account may read walked (the engine decides which), each
/// intact or broken at its first bad link, and the posted lists checked against their digests.
pub(crate) async fn audit<S: Store + 'static>(State(engine): State<SharedEngine<S>>, uri: Uri) -> Response {
    let mut paging = Paging::from_query(uri.path(), uri.query(), &pages_officials::AUDIT_COLS, "state", Order::Desc);
    let view = with_engine(&engine, move |e| {
        let report = e.audit_verify()?;
        let mut chains = report.chains.clone();
        paging.sort(&mut chains, |by, a, b| match by {
            "links" => a.links.cmp(&b.links),
            "state" => a.broken_at.is_some().cmp(&b.broken_at.is_some()).then_with(|| b.chain.cmp(&a.chain)),
            _ => a.chain.cmp(&b.chain),
        });
        let chains = paging.window(&chains).to_vec();
        Ok(AuditView { report, chains, paging })
    })
    .await;
    match view {
        Ok(v) => html_page(pages_officials::audit(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

// ---- The administrator: accounts ----------------------------------------------------------------

fn accounts_view<S: Store>(e: &mut Engine<S>, p: &Principal, mut paging: Paging, form: Option<AccountForm>, notice: Option<(&'static str, String)>) -> Result<AccountsView, ApiError> {
    let mut accounts = e.users()?;
    paging.sort(&mut accounts, |by, a, b| match by {
        "role" => a.role.cmp(&b.role).then_with(|| a.login.cmp(&b.login)),
        "scope" => (&a.enterprise, &a.customs, &a.province).cmp(&(&b.enterprise, &b.customs, &b.province)),
        "state" => a.disabled.cmp(&b.disabled),
        "created" => a.created_at.cmp(&b.created_at),
        _ => a.login.cmp(&b.login),
    });
    let accounts = paging.window(&accounts).to_vec();
    let (me, own) = match p {
        Principal::User(id) => (id.login.clone(), (id.role == Role::EnterpriseAdmin).then(|| id.enterprise.clone().unwrap_or_default())),
        _ => (String::new(), None),
    };
    // An enterprise administrator opens accounts of its own enterprise (the engine refuses others).
    let roles = if own.is_some() { vec![Role::EnterpriseOperator, Role::EnterpriseAdmin] } else { Role::ALL.to_vec() };
    let form = form.unwrap_or_else(|| AccountForm { role: Role::EnterpriseOperator.as_str().to_owned(), enterprise: own.unwrap_or_default(), ..AccountForm::default() });
    Ok(AccountsView { accounts, paging, form, notice, me, roles })
}

/// `GET /accounts?added=&disabled=`: the accounts the account manages (as the engine decides), with
/// the form to add one.
pub(crate) async fn accounts<S: Store + 'static>(State(engine): State<SharedEngine<S>>, uri: Uri) -> Response {
    let paging = Paging::from_query(uri.path(), uri.query(), &pages_officials::ACCOUNT_COLS, "login", Order::Asc);
    let notice = match (query_raw(&uri, "added"), query_raw(&uri, "disabled")) {
        (a, _) if !a.is_empty() => Some(("added", a)),
        (_, d) if !d.is_empty() => Some(("disabled", d)),
        _ => None,
    };
    let principal = auth::current().principal;
    match with_engine(&engine, move |e| accounts_view(e, &principal, paging, None, notice)).await {
        Ok(v) => html_page(pages_officials::accounts(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

/// What adding an account came to: added (its login), or the form again with the refusal.
enum Added {
    Done(String),
    Refused(Box<AccountsView>),
}

fn optional(body: &str, name: &str) -> Option<String> {
    form_value(body, name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `POST /accounts` (a form: `login`, `role`, `enterprise`, `customs`, `province`, `password`,
/// `_csrf`): adds the account (`Engine::add_user`), then back to the list; a refused form comes back
/// with its message.
pub(crate) async fn add_account<S: Store + 'static>(State(engine): State<SharedEngine<S>>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(r) => return error_page(&ApiError::new(r.status(), "bad_body", r.body_text())),
    };
    let form = AccountForm {
        login: form_value(&body, "login").unwrap_or_default().trim().to_owned(),
        role: form_value(&body, "role").unwrap_or_default(),
        enterprise: optional(&body, "enterprise").unwrap_or_default(),
        customs: optional(&body, "customs").unwrap_or_default(),
        province: optional(&body, "province").unwrap_or_default(),
        error: None,
        field_errors: Vec::new(),
    };
    let password = form_value(&body, "password").unwrap_or_default();
    // Each field by its rule first (the same the engine applies), each message next to its field.
    let lang = i18n::current().lang;
    let field_errors: Vec<(&'static str, String)> = [
        ("login", Rule::Login, form.login.as_str(), true),
        ("password", Rule::Password, password.as_str(), true),
        ("enterprise", Rule::Uscc, form.enterprise.as_str(), false),
        ("customs", Rule::District, form.customs.as_str(), false),
        ("province", Rule::Province, form.province.as_str(), false),
    ]
    .into_iter()
    .filter(|(_, _, value, required)| *required || !value.is_empty())
    .filter_map(|(field, rule, value, _)| rule.check(lang, value).map(|m| (field, m)))
    .collect();
    let form = AccountForm { field_errors, ..form };
    let principal = auth::current().principal;
    let paging = Paging::from_query("/accounts", None, &pages_officials::ACCOUNT_COLS, "login", Order::Asc);
    let done = with_engine(&engine, move |e| {
        let opt = |s: &str| Some(s).filter(|v| !v.is_empty()).map(str::to_owned);
        let added = match form.role.parse::<Role>() {
            _ if !form.field_errors.is_empty() => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "rejected", t(lang, "form.fix_fields"))),
            Ok(role) => {
                e.add_user(&form.login, role, opt(&form.enterprise).as_deref(), opt(&form.customs).as_deref(), opt(&form.province).as_deref(), &password).map(|a| a.login).map_err(ApiError::from)
            }
            Err(m) => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "rejected", m)),
        };
        match added {
            Ok(login) => Ok(Added::Done(login)),
            Err(x) => {
                let (_, message) = inline(x)?;
                let form = AccountForm { error: Some(message), ..form };
                Ok(Added::Refused(Box::new(accounts_view(e, &principal, paging, Some(form), None)?)))
            }
        }
    })
    .await;
    match done {
        Ok(Added::Done(login)) => Redirect::to(&format!("/accounts?added={}", html::path_segment(&login))).into_response(),
        Ok(Added::Refused(v)) => status_page(StatusCode::UNPROCESSABLE_ENTITY, pages_officials::accounts(&chrome(), &v)),
        Err(e) => error_page(&e),
    }
}

/// `POST /accounts/{login}/disable` (a form with `_csrf`): disables the account (and its tokens and
/// sessions), then back to the list.
pub(crate) async fn disable_account<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<String>, PathRejection>) -> Response {
    let login = match book_no(path) {
        Ok(l) => l,
        Err(e) => return error_page(&e),
    };
    let target = login.clone();
    match with_engine(&engine, move |e| Ok(e.disable_user(&target)?)).await {
        Ok(()) => Redirect::to(&format!("/accounts?disabled={}", html::path_segment(&login))).into_response(),
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
