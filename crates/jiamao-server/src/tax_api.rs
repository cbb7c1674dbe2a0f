//! The JSON API of domestic-sale taxation (内销征税, FORMAT.md "Tax quote document"): quotes, the
//! declaration schedule, payments and periods of a book, and the loaded tariff and dated rates.
//!
//! As everywhere in the server: parse, call the engine, render. The server never reads the clock;
//! every date a figure depends on comes with the request.

use crate::api::{body_text, book_no, query, query_date, BODY_SOURCE};
use crate::error::ApiError;
use crate::{with_engine, SharedEngine};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use jiamao_app::tax::{PaymentDoc, PeriodsReport, Recorded, ScheduleDoc, TariffLineRates, TariffVersion};
use jiamao_domain::codes::{CountryCode, HsCode};
use jiamao_domain::doc;
use jiamao_domain::tax::quote::{self, Quote};
use jiamao_domain::tax::rates::DatedRate;
use jiamao_domain::tax::TaxPolicy;
use jiamao_store::Store;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeriodsQuery {
    as_of: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TariffQuery {
    date: Option<String>,
    origin: Option<String>,
}

/// A required `YYYY-MM-DD` query parameter: absent is a `bad_query` naming it.
pub(crate) fn required_date(parameter: &str, value: Option<&str>, meaning: &str) -> Result<NaiveDate, ApiError> {
    query_date(parameter, value)?.ok_or_else(|| ApiError::bad_query(parameter, format!("query parameter {parameter} is required (YYYY-MM-DD): {meaning}")))
}

/// What recording did, with its status: 201 when recorded, 200 when the same record existed.
pub(crate) fn recorded(r: Recorded) -> Response {
    let status = if r.status == "recorded" { StatusCode::CREATED } else { StatusCode::OK };
    (status, Json(r)).into_response()
}

/// `POST /api/v1/tax/quote`: a quote request of either form (FORMAT.md) → the quote.
pub(crate) async fn quote<S: Store + 'static>(State(engine): State<SharedEngine<S>>, body: Result<Bytes, BytesRejection>) -> Result<Json<Quote>, ApiError> {
    let text = body_text(body)?;
    let req = quote::parse_request(&text).map_err(|e| {
        let mut err = ApiError::tax(&e);
        err.message = format!("{BODY_SOURCE}: {}", err.message);
        err
    })?;
    let answer = with_engine(&engine, move |e| Ok(e.tax_quote(&req, &TaxPolicy::default())?)).await?;
    Ok(Json(answer))
}

/// `GET /api/v1/books/{book_no}/tax/periods?as_of=`: every declaration period with domestic sales
/// declared up to `as_of`, what is due, paid, outstanding and the surcharge as of that day.
pub(crate) async fn periods<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<PeriodsQuery>, QueryRejection>,
) -> Result<Json<PeriodsReport>, ApiError> {
    let book_no = book_no(path)?;
    let as_of = required_date("as_of", query(q)?.as_of.as_deref(), "the day up to which lists, payments and the surcharge count; the server does not assume today")?;
    let report = with_engine(&engine, move |e| Ok(e.tax_periods(&book_no, as_of, &TaxPolicy::default())?)).await?;
    Ok(Json(report))
}

/// Reads a strict document from the body and records it on the book (201 recorded, 200 duplicate).
async fn post_record<S: Store + 'static, T: serde::de::DeserializeOwned + Send + 'static>(
    engine: SharedEngine<S>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
    record: fn(&mut jiamao_app::Engine<S>, &str, &T) -> Result<Recorded, jiamao_app::AppError>,
) -> Result<Response, ApiError> {
    let book_no = book_no(path)?;
    let text = body_text(body)?;
    let doc: T = doc::parse_document(&text, BODY_SOURCE).map_err(|e| ApiError::document(&e))?;
    let r = with_engine(&engine, move |e| Ok(record(e, &book_no, &doc)?)).await?;
    Ok(recorded(r))
}

/// `POST /api/v1/books/{book_no}/tax/payments`: records a payment (idempotent by `note_no`).
pub(crate) async fn record_payment<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    post_record::<S, PaymentDoc>(engine, path, body, |e, b, d| e.record_tax_payment(b, d)).await
}

/// `GET /api/v1/books/{book_no}/tax/schedule`: the book's declaration schedules, by start date.
pub(crate) async fn schedules<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<String>, PathRejection>) -> Result<Json<Vec<ScheduleDoc>>, ApiError> {
    let book_no = book_no(path)?;
    let list = with_engine(&engine, move |e| Ok(e.tax_schedules(&book_no)?)).await?;
    Ok(Json(list))
}

/// `POST /api/v1/books/{book_no}/tax/schedule`: records the schedule from a date.
pub(crate) async fn set_schedule<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    post_record::<S, ScheduleDoc>(engine, path, body, |e, b, d| e.set_tax_schedule(b, d)).await
}

/// `GET /api/v1/tariff/{hs_code}?date=&origin=`: the rates of a line on a date, with a certificate of
/// origin from `origin` when given.
pub(crate) async fn tariff_line<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<TariffQuery>, QueryRejection>,
) -> Result<Json<TariffLineRates>, ApiError> {
    let hs = path.map(|Path(h)| h).map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "bad_path", r.body_text()))?;
    let hs = HsCode::parse(&hs).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_path", format!("path parameter hs_code: {e}")).with_field("hs_code"))?;
    let q = query(q)?;
    let date = required_date("date", q.date.as_deref(), "the day whose tariff applies")?;
    let origin = match q.origin.as_deref() {
        None => None,
        Some(o) => Some(CountryCode::parse(o).map_err(|e| ApiError::bad_query("origin", format!("query parameter origin: {e}")))?),
    };
    let rates = with_engine(&engine, move |e| Ok(e.tariff_line(hs.as_str(), date, origin.as_ref())?)).await?;
    Ok(Json(rates))
}

/// `GET /api/v1/tariffs`: every loaded tariff version.
pub(crate) async fn tariffs<S: Store + 'static>(State(engine): State<SharedEngine<S>>) -> Result<Json<Vec<TariffVersion>>, ApiError> {
    let versions = with_engine(&engine, |e| Ok(e.tariff_versions()?)).await?;
    Ok(Json(versions))
}

/// `GET /api/v1/rates`: every dated rate (built-in and loaded).
pub(crate) async fn rates<S: Store + 'static>(State(engine): State<SharedEngine<S>>) -> Result<Json<Vec<DatedRate>>, ApiError> {
    let rates = with_engine(&engine, |e| Ok(e.rates()?)).await?;
    Ok(Json(rates))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_required_date_names_its_parameter() {
        let err = required_date("as_of", None, "a day").err();
        assert_eq!(err.as_ref().map(|e| (e.status, e.rule.as_str())), Some((StatusCode::BAD_REQUEST, "bad_query")));
        assert_eq!(err.and_then(|e| e.field), Some("as_of".to_owned()));
        assert_eq!(required_date("date", Some("2026-06-01"), "a day"), Ok(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default()));
    }
}
