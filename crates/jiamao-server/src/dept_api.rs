//! The departments over HTTP: their files handed over (FX receipts, tax-side VAT), the cross-checks
//! against the ledger, and webhook subscriptions (docs/platform.md).

use crate::api::{body_text, query, query_date};
use crate::error::ApiError;
use crate::{with_engine, SharedEngine};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiamao_app::crosscheck::{DepartmentLoad, VatCheck};
use jiamao_app::webhooks::WebhookView;
use jiamao_domain::crosscheck::{self, FxCheck};
use jiamao_domain::tax::TaxPolicy;
use jiamao_store::Store;
use serde::Deserialize;

pub(crate) fn file_refused(problems: Vec<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "file_invalid", format!("nothing was loaded ({} problems): {}", problems.len(), problems.join("; ")))
}

/// `POST /api/v1/crosscheck/fx-receipts` (CSV body): the FX side's receipts.
pub(crate) async fn load_fx<S: Store + 'static>(State(engine): State<SharedEngine<S>>, body: Result<Bytes, BytesRejection>) -> Result<Json<DepartmentLoad>, ApiError> {
    let text = body_text(body)?;
    let rows = crosscheck::parse_fx_receipts(&text, "request body").map_err(file_refused)?;
    Ok(Json(with_engine(&engine, move |e| Ok(e.load_fx_receipts(&rows)?)).await?))
}

/// `POST /api/v1/crosscheck/vat-expectations` (CSV body): the VAT the tax side expects.
pub(crate) async fn load_vat<S: Store + 'static>(State(engine): State<SharedEngine<S>>, body: Result<Bytes, BytesRejection>) -> Result<Json<DepartmentLoad>, ApiError> {
    let text = body_text(body)?;
    let rows = crosscheck::parse_vat_expectations(&text, "request body").map_err(file_refused)?;
    Ok(Json(with_engine(&engine, move |e| Ok(e.load_vat_expectations(&rows)?)).await?))
}

pub(crate) fn enterprise(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let e = p.map(|Path(s)| s).map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "bad_path", r.body_text()))?;
    jiamao_domain::codes::Uscc::parse(&e).map_err(|x| ApiError::new(StatusCode::BAD_REQUEST, "bad_path", format!("path parameter uscc: {x}")).with_field("uscc"))?;
    Ok(e)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FxQuery {
    from: Option<String>,
    to: Option<String>,
    tolerance: Option<String>,
}

/// `GET /api/v1/enterprises/{uscc}/crosscheck/fx?from=&to=[&tolerance=]`.
pub(crate) async fn fx<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<FxQuery>, QueryRejection>,
) -> Result<Json<FxCheck>, ApiError> {
    let enterprise = enterprise(path)?;
    let q = query(q)?;
    let from = query_date("from", q.from.as_deref())?.ok_or_else(|| ApiError::bad_query("from", "query parameter from (YYYY-MM-DD) is required"))?;
    let to = query_date("to", q.to.as_deref())?.ok_or_else(|| ApiError::bad_query("to", "query parameter to (YYYY-MM-DD) is required"))?;
    let tolerance = match q.tolerance.as_deref() {
        None => jiamao_domain::Decimal::ZERO,
        Some(t) => jiamao_domain::decimal::parse(t).map_err(|m| ApiError::bad_query("tolerance", format!("query parameter tolerance: {m}")))?,
    };
    if tolerance < jiamao_domain::Decimal::ZERO {
        return Err(ApiError::bad_query("tolerance", format!("query parameter tolerance: {tolerance} is negative; it is the share receipts may fall short by (0.05 = 5 %)")));
    }
    Ok(Json(with_engine(&engine, move |e| Ok(e.fx_crosscheck(&enterprise, from, to, tolerance)?)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AsOfQuery {
    as_of: Option<String>,
}

/// `GET /api/v1/enterprises/{uscc}/crosscheck/vat?as_of=`.
pub(crate) async fn vat<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<AsOfQuery>, QueryRejection>,
) -> Result<Json<VatCheck>, ApiError> {
    let enterprise = enterprise(path)?;
    let as_of = query_date("as_of", query(q)?.as_of.as_deref())?.ok_or_else(|| ApiError::bad_query("as_of", "query parameter as_of (YYYY-MM-DD) is required; the server does not assume today"))?;
    Ok(Json(with_engine(&engine, move |e| Ok(e.vat_crosscheck(&enterprise, as_of, &TaxPolicy::default())?)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookDoc {
    url: String,
    #[serde(default)]
    kinds: Vec<String>,
}

/// `GET /api/v1/webhooks`: the caller's subscriptions.
pub(crate) async fn webhooks<S: Store + 'static>(State(engine): State<SharedEngine<S>>) -> Result<Json<Vec<WebhookView>>, ApiError> {
    Ok(Json(with_engine(&engine, |e| Ok(e.webhooks()?)).await?))
}

/// `POST /api/v1/webhooks` `{url, kinds}`: subscribe (deliveries act as the caller's account).
pub(crate) async fn add_webhook<S: Store + 'static>(State(engine): State<SharedEngine<S>>, body: Result<Bytes, BytesRejection>) -> Result<Response, ApiError> {
    let text = body_text(body)?;
    let d: WebhookDoc = jiamao_domain::doc::parse_document(&text, crate::api::BODY_SOURCE).map_err(|e| ApiError::document(&e))?;
    let w = with_engine(&engine, move |e| Ok(e.add_webhook(&d.url, &d.kinds)?)).await?;
    Ok((StatusCode::CREATED, Json(w)).into_response())
}
