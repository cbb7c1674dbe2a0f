//! The web pages: handlers that read from the engine and hand a view to [`crate::html`].

use crate::api::book_no;
use crate::error::ApiError;
use crate::html::{self, BookRow, BookView, ItemView};
use crate::{with_engine, SharedEngine};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use jiamao_domain::book::Item;
use jiamao_domain::doc::BookType;
use jiamao_store::Store;

/// An error shown as a page rather than as JSON.
pub(crate) fn error_page(e: &ApiError) -> Response {
    let (zh, en) = match e.status {
        StatusCode::NOT_FOUND => ("未找到", "Not found"),
        StatusCode::FORBIDDEN => ("不允许", "Not allowed"),
        s if s.is_client_error() => ("请求有误", "Bad request"),
        _ => ("服务器错误", "Server error"),
    };
    (e.status, Html(html::error(zh, en, &e.message))).into_response()
}

/// `GET /`.
pub(crate) async fn index<S: Store + 'static>(State(engine): State<SharedEngine<S>>) -> Response {
    match with_engine(&engine, |e| Ok(e.books()?)).await {
        Ok(records) => {
            let rows: Vec<BookRow> = records.into_iter().map(|r| BookRow { book_no: r.key.book_no, revision: r.revision }).collect();
            Html(html::index(&rows)).into_response()
        }
        Err(e) => error_page(&e),
    }
}

fn item_view(i: &Item) -> ItemView {
    ItemView { seq: i.seq, part_no: i.part_no.clone(), name: i.name.clone(), unit: i.unit.clone() }
}

fn book_type_name(t: BookType) -> &'static str {
    match t {
        BookType::B => "B 来料加工手册",
        BookType::C => "C 进料加工手册",
        BookType::E => "E 电子账册",
    }
}

/// `GET /books/{book_no}`.
pub(crate) async fn book<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<String>, PathRejection>) -> Response {
    let book_no = match book_no(path) {
        Ok(b) => b,
        Err(e) => return error_page(&e),
    };
    let view = with_engine(&engine, move |e| {
        // The reports first: they answer unknown_book for a book that does not exist.
        let balance = e.balance(&book_no, None)?;
        let reconcile = e.reconcile(&book_no, None, None)?;
        let revision = e.books()?.into_iter().find(|r| r.key.book_no == book_no).map(|r| r.revision);
        let Some(ledger) = e.ledger(&book_no)? else {
            return Err(jiamao_app::AppError::UnknownBook(book_no).into());
        };
        let b = ledger.book();
        Ok(BookView {
            book_no: b.book_no.clone(),
            revision,
            book_type: book_type_name(b.book_type).to_owned(),
            family: b.family.name().to_owned(),
            operator: b.doc.operator.name.clone(),
            master_customs: b.master_customs.clone(),
            zone: b.zone.clone(),
            valid_from: b.valid_from,
            valid_until: b.valid_until,
            lists_posted: ledger.lists_posted(),
            lines_posted: ledger.lines_posted(),
            pending_lines: ledger.pending().len(),
            materials: b.materials.iter().map(item_view).collect(),
            products: b.products.iter().map(item_view).collect(),
            balance,
            reconcile,
        })
    })
    .await;
    match view {
        Ok(v) => Html(html::book(&v)).into_response(),
        Err(e) => error_page(&e),
    }
}

/// Anything else: JSON under `/api/`, a page elsewhere.
pub(crate) async fn not_found(uri: Uri) -> Response {
    let e = ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("there is nothing at {}; the API is described at /api/openapi.json", uri.path()));
    if uri.path().starts_with("/api/") {
        e.into_response()
    } else {
        error_page(&e)
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

/// Only a local path may be a target after login (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && n.chars().all(|c| c.is_ascii_alphanumeric() || "/-_.%".contains(c)) => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// `GET /login`.
pub(crate) async fn login_page(q: Result<axum::extract::Query<NextQuery>, axum::extract::rejection::QueryRejection>) -> Response {
    let next = safe_next(q.as_ref().ok().and_then(|q| q.next.as_deref()));
    Html(html::login(None, &next)).into_response()
}

/// Decodes one `application/x-www-form-urlencoded` value.
fn form_value(body: &str, name: &str) -> Option<String> {
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

/// `POST /login` (the form): sets the session cookies and goes on to `next`.
pub(crate) async fn login_form<S: Store + 'static>(State(engine): State<SharedEngine<S>>, body: String) -> Response {
    let login = form_value(&body, "login").unwrap_or_default();
    let password = form_value(&body, "password").unwrap_or_default();
    let next = safe_next(form_value(&body, "next").as_deref());
    let result = with_engine(&engine, move |e| Ok(e.login(&login, &password))).await;
    match result {
        Ok(Ok(s)) => {
            let max_age = jiamao_app::platform::SESSION_HOURS * 3600;
            let mut r = axum::response::Redirect::to(&next).into_response();
            for c in [
                format!("{}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}", crate::auth::SESSION_COOKIE, s.secret),
                format!("jiamao_csrf={}; SameSite=Strict; Path=/; Max-Age={max_age}", s.csrf),
            ] {
                if let Ok(v) = axum::http::HeaderValue::from_str(&c) {
                    r.headers_mut().append(axum::http::header::SET_COOKIE, v);
                }
            }
            r
        }
        Ok(Err(jiamao_app::platform::AuthError::Throttled(secs))) => {
            (StatusCode::TOO_MANY_REQUESTS, Html(html::login(Some(&format!("登录失败次数过多，请 {secs} 秒后再试 Too many failed logins; try again in {secs} s")), &next))).into_response()
        }
        Ok(Err(_)) => (StatusCode::UNAUTHORIZED, Html(html::login(Some("账号或密码错误 Login or password is wrong"), &next))).into_response(),
        Err(e) => error_page(&e),
    }
}
