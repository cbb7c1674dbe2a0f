//! The JSON API under `/api/v1/`: parse the request, call the engine, render its answer.

use crate::error::ApiError;
use crate::{with_engine, SharedEngine};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use jiamao_app::{BookImported, ListOutcome};
use jiamao_domain::doc;
use jiamao_domain::explain::Explanation;
use jiamao_domain::report::{BalanceReport, ReconcileReport};
use jiamao_store::Store;
use serde::{Deserialize, Serialize};

/// How error messages name a document sent as the request body.
pub(crate) const BODY_SOURCE: &str = "request body";

/// The header of `POST /api/v1/lists` that counts the rejected lists of the request.
pub const REJECTED_HEADER: &str = "x-jiamao-rejected";

/// One book in `GET /api/v1/books`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct BookSummary {
    pub book_no: String,
    pub revision: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AsOfQuery {
    as_of: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// A `YYYY-MM-DD` query parameter (FORMAT.md common rules), exactly that form.
pub(crate) fn query_date(parameter: &str, value: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    let well_formed = value.len() == 10 && value.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    let date = if well_formed { NaiveDate::parse_from_str(value, "%Y-%m-%d").ok() } else { None };
    match date {
        Some(d) => Ok(Some(d)),
        None => Err(ApiError::bad_query(parameter, format!("query parameter {parameter}: {value:?} is not a date; write it as YYYY-MM-DD"))),
    }
}

pub(crate) fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t).map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", r.body_text()))
}

pub(crate) fn book_no(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(b)| b).map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "bad_path", r.body_text()))
}

/// The request body as text; a body that is not UTF-8 is not a document.
pub(crate) fn body_text(body: Result<Bytes, BytesRejection>) -> Result<String, ApiError> {
    let bytes = body.map_err(|r| {
        let rule = if r.status() == StatusCode::PAYLOAD_TOO_LARGE { "body_too_large" } else { "bad_body" };
        ApiError::new(r.status(), rule, r.body_text())
    })?;
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            doc::DocError::RULE,
            format!("{BODY_SOURCE}: the text is not UTF-8 (invalid byte at offset {}); documents are UTF-8 JSON", e.utf8_error().valid_up_to()),
        )
    })
}

/// `GET /api/v1/books`: every book's latest revision.
pub(crate) async fn books<S: Store + 'static>(State(engine): State<SharedEngine<S>>) -> Result<Json<Vec<BookSummary>>, ApiError> {
    let records = with_engine(&engine, |e| Ok(e.books()?)).await?;
    Ok(Json(records.into_iter().map(|r| BookSummary { book_no: r.key.book_no, revision: r.revision }).collect()))
}

/// `POST /api/v1/books`: files a book, or a change (变更) to one.
pub(crate) async fn import_book<S: Store + 'static>(State(engine): State<SharedEngine<S>>, body: Result<Bytes, BytesRejection>) -> Result<Json<BookImported>, ApiError> {
    let text = body_text(body)?;
    let imported = with_engine(&engine, move |e| Ok(e.import_book(&text, BODY_SOURCE)?)).await?;
    Ok(Json(imported))
}

/// `POST /api/v1/lists`: posts a list or an array of lists, each on its own. Answers 200 with one
/// outcome per list even when some were rejected; `X-Jiamao-Rejected` counts those.
pub(crate) async fn post_lists<S: Store + 'static>(State(engine): State<SharedEngine<S>>, body: Result<Bytes, BytesRejection>) -> Result<Response, ApiError> {
    let text = body_text(body)?;
    let outcomes: Vec<ListOutcome> = with_engine(&engine, move |e| Ok(e.post_text(&text, BODY_SOURCE)?)).await?;
    let rejected = outcomes.iter().filter(|o| o.status == "rejected").count();
    Ok(([(HeaderName::from_static(REJECTED_HEADER), HeaderValue::from(rejected))], Json(outcomes)).into_response())
}

/// `GET /api/v1/books/{book_no}/balance?as_of=`.
pub(crate) async fn balance<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<AsOfQuery>, QueryRejection>,
) -> Result<Json<BalanceReport>, ApiError> {
    let book_no = book_no(path)?;
    let as_of = query_date("as_of", query(q)?.as_of.as_deref())?;
    let report = with_engine(&engine, move |e| Ok(e.balance(&book_no, as_of)?)).await?;
    Ok(Json(report))
}

/// `GET /api/v1/books/{book_no}/reconcile?from=&to=`: the 报核 report without a stocktake.
pub(crate) async fn reconcile<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<RangeQuery>, QueryRejection>,
) -> Result<Json<ReconcileReport>, ApiError> {
    let book_no = book_no(path)?;
    let q = query(q)?;
    let (from, to) = (query_date("from", q.from.as_deref())?, query_date("to", q.to.as_deref())?);
    let report = with_engine(&engine, move |e| Ok(e.reconcile_range(&book_no, from, to, None)?)).await?;
    Ok(Json(report))
}

/// `GET /api/v1/books/{book_no}/materials/{seq}/explain?from=&to=`: the drill-down of one material.
pub(crate) async fn explain<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<(String, u32)>, PathRejection>,
    q: Result<Query<RangeQuery>, QueryRejection>,
) -> Result<Json<Explanation>, ApiError> {
    let (book_no, seq) = path.map(|Path(p)| p).map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "bad_path", r.body_text()))?;
    let q = query(q)?;
    let (from, to) = (query_date("from", q.from.as_deref())?, query_date("to", q.to.as_deref())?);
    let explanation = with_engine(&engine, move |e| Ok(e.explain(&book_no, seq, from, to)?)).await?;
    Ok(Json(explanation))
}

/// `POST /api/v1/books/{book_no}/reconcile?to=` with a stocktake (盘点) document: the 报核 report
/// with `actual_remain`, `difference` and `difference_amount`.
pub(crate) async fn reconcile_stocktake<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<RangeQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ReconcileReport>, ApiError> {
    let book_no = book_no(path)?;
    let q = query(q)?;
    let (from, to) = (query_date("from", q.from.as_deref())?, query_date("to", q.to.as_deref())?);
    let text = body_text(body)?;
    let stocktake = doc::parse_stocktake(&text, BODY_SOURCE).map_err(|e| ApiError::document(&e))?;
    let report = with_engine(&engine, move |e| Ok(e.reconcile_range(&book_no, from, to, Some((&stocktake, BODY_SOURCE)))?)).await?;
    Ok(Json(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_dates_are_strictly_yyyy_mm_dd() {
        assert_eq!(query_date("to", None), Ok(None));
        assert_eq!(query_date("to", Some("2026-03-01")), Ok(NaiveDate::from_ymd_opt(2026, 3, 1)));
        for bad in ["2026-3-1", "2026-02-30", "20260301", "", "2026-03-01T00:00", "+2026-03-1"] {
            let err = query_date("as_of", Some(bad)).err();
            assert_eq!(err.as_ref().map(|e| e.status), Some(StatusCode::BAD_REQUEST), "{bad}");
            assert_eq!(err.and_then(|e| e.field), Some("as_of".to_owned()), "{bad}");
        }
    }
}
