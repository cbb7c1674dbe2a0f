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
fn error_page(e: &ApiError) -> Response {
    let (zh, en) = match e.status {
        StatusCode::NOT_FOUND => ("未找到", "Not found"),
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
