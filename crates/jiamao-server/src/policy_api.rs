//! Policy as dated data over HTTP: the prohibited and restricted catalogs (禁止类 / 限制类目录, FORMAT.md
//! "Catalog file"), enterprises' credit classes, the guarantees books owe, and 单耗 against the
//! national standards with customs' review of 单耗 versions (质疑 / 磋商).
//!
//! As everywhere in the server: parse, call the engine, render. Who may do what is the engine's
//! decision (`jiamao_domain::access`): a book the caller may not see (or may not act on) answers 404
//! `unknown_book` like one that does not exist; other refusals are 403 `forbidden` without detail.
//! Every date a figure depends on comes with the request, except the first day of a catalog's
//! impact, which defaults to the day of the request (as `jiamao catalog load` defaults to today).

use crate::api::{body_text, book_no, query, query_date, BODY_SOURCE};
use crate::dept_api::{enterprise, file_refused};
use crate::error::ApiError;
use crate::tax_api::{recorded, required_date};
use crate::{with_engine, SharedEngine};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use jiamao_app::catalog::{CatalogImpact, CatalogVersionInfo};
use jiamao_app::guarantee::{CreditView, GuaranteeDoc, GuaranteeReport, RefundDoc};
use jiamao_app::ucns::{CheckOptions, ConsumptionCheck, Reviewed, UcnsReviews};
use jiamao_domain::catalog::{parse_catalog_csv, CatalogDiff, CatalogEntry};
use jiamao_domain::codes::HsCode;
use jiamao_domain::credit::CreditEntry;
use jiamao_domain::doc;
use jiamao_domain::norms::ReviewAction;
use jiamao_domain::Decimal;
use jiamao_store::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

fn path_of<T>(p: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    p.map(|Path(t)| t).map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "bad_path", r.body_text()))
}

/// The library names the places of its refusals as the command line does (`--version`, `v1`, `v2`);
/// over HTTP the field names the path parameter instead.
fn renamed(mut e: ApiError, names: &[(&str, &str)]) -> ApiError {
    if let Some((_, to)) = names.iter().find(|(from, _)| e.field.as_deref() == Some(*from)) {
        e.field = Some((*to).to_owned());
    }
    e
}

/// A strict JSON document of the body (unknown fields refused, dates exactly `YYYY-MM-DD`).
fn document<T: serde::de::DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let text = body_text(body)?;
    doc::parse_document(&text, BODY_SOURCE).map_err(|e| ApiError::document(&e))
}

// ---- Catalogs -----------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoadQuery {
    preview: Option<String>,
    as_of: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DateQuery {
    date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AsOfQuery {
    as_of: Option<String>,
}

/// The answer of a preview: the impact, nothing loaded (`jiamao catalog load --json` without `--yes`).
#[derive(Debug, Serialize)]
struct CatalogPreview {
    status: &'static str,
    impact: CatalogImpact,
}

/// `jiamao catalog check --json` (FORMAT.md): `{hs_code, date, entries}`.
#[derive(Debug, Serialize)]
pub(crate) struct CatalogCheckAnswer {
    hs_code: String,
    #[serde(serialize_with = "jiamao_domain::date::serialize")]
    date: NaiveDate,
    entries: Vec<CatalogEntry>,
}

/// `GET /api/v1/catalogs`: the loaded versions, in load order (the last is in force).
pub(crate) async fn catalogs<S: Store + 'static>(State(engine): State<SharedEngine<S>>) -> Result<Json<Vec<CatalogVersionInfo>>, ApiError> {
    Ok(Json(with_engine(&engine, |e| Ok(e.catalog_versions()?)).await?))
}

fn preview_flag(value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(ApiError::bad_query("preview", format!("query parameter preview: {other:?} is neither true nor false"))),
        None => Err(ApiError::bad_query("preview", "query parameter preview is required: true shows the impact and loads nothing, false loads the version")),
    }
}

/// `POST /api/v1/catalogs/{name}?preview=true|false[&as_of=]` with the catalog CSV: the impact of the
/// version (preview), or the version loaded with its impact (201; 200 when the same version was
/// loaded before). A file with any problem is refused whole (422 `file_invalid`, every problem named).
pub(crate) async fn load_catalog<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<LoadQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let name = path_of(path)?;
    let q = query(q)?;
    let preview = preview_flag(q.preview.as_deref())?;
    let as_of = query_date("as_of", q.as_of.as_deref())?;
    let text = body_text(body)?;
    let entries = parse_catalog_csv(&text, BODY_SOURCE).map_err(file_refused)?;
    let names = [("--version", "name")];
    if preview {
        let impact = with_engine(&engine, move |e| e.impact_preview(&name, &entries, as_of).map_err(|x| renamed(x.into(), &names))).await?;
        return Ok(Json(CatalogPreview { status: "preview", impact }).into_response());
    }
    let load = with_engine(&engine, move |e| e.load_catalog_as_of(&name, entries, as_of).map_err(|x| renamed(x.into(), &names))).await?;
    let status = if load.status == "loaded" { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(load)).into_response())
}

/// `GET /api/v1/catalogs/{from}/diff/{to}`: what changed between two loaded versions, by key.
pub(crate) async fn catalog_diff<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<(String, String)>, PathRejection>) -> Result<Json<CatalogDiff>, ApiError> {
    let (from, to) = path_of(path)?;
    let diff = with_engine(&engine, move |e| e.catalog_diff(&from, &to).map_err(|x| renamed(x.into(), &[("v1", "from"), ("v2", "to")]))).await?;
    Ok(Json(diff))
}

/// `GET /api/v1/catalog/{hs_code}?date=`: the entries in force for the code that day (of the version
/// in force, by the entries' dates: a past date answers with what was in force then).
pub(crate) async fn catalog_check<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<DateQuery>, QueryRejection>,
) -> Result<Json<CatalogCheckAnswer>, ApiError> {
    let hs = path_of(path)?;
    let hs = HsCode::parse(&hs).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_path", format!("path parameter hs_code: {e}")).with_field("hs_code"))?;
    let date = required_date("date", query(q)?.date.as_deref(), "the day whose catalog entries are asked for")?;
    let c = with_engine(&engine, move |e| Ok(e.catalog_check(hs.as_str(), date)?)).await?;
    Ok(Json(CatalogCheckAnswer { hs_code: c.hs_code, date: c.date, entries: c.entries }))
}

// ---- Credit -------------------------------------------------------------------------------------

/// `POST /api/v1/enterprises/{uscc}/credit`: a credit class from a date.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreditRequest {
    class: String,
    #[serde(deserialize_with = "jiamao_domain::date::deserialize")]
    from: NaiveDate,
    #[serde(default)]
    decision: Option<String>,
}

/// `GET /api/v1/enterprises/{uscc}/credit?as_of=`: the credit history and the class in force.
pub(crate) async fn credit<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<AsOfQuery>, QueryRejection>,
) -> Result<Json<CreditView>, ApiError> {
    let uscc = enterprise(path)?;
    let as_of = required_date("as_of", query(q)?.as_of.as_deref(), "the day whose credit class is asked for; the server does not assume today")?;
    Ok(Json(with_engine(&engine, move |e| Ok(e.credit(&uscc, as_of)?)).await?))
}

/// `POST /api/v1/enterprises/{uscc}/credit` `{class, from, decision?}`: records the class from a date
/// (the same entry again changes nothing) and answers the credit as of that date.
pub(crate) async fn set_credit<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CreditView>, ApiError> {
    let uscc = enterprise(path)?;
    let r: CreditRequest = document(body)?;
    let entry = CreditEntry { class: r.class, from: r.from, decision: r.decision };
    Ok(Json(with_engine(&engine, move |e| Ok(e.set_credit(&uscc, &entry)?)).await?))
}

// ---- Guarantees ---------------------------------------------------------------------------------

/// A guarantee as posted over HTTP: [`GuaranteeDoc`] with its dates read strictly (`YYYY-MM-DD`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuaranteeRequest {
    guarantee_no: String,
    form: String,
    #[serde(deserialize_with = "jiamao_domain::decimal::deserialize")]
    amount: Decimal,
    #[serde(deserialize_with = "jiamao_domain::date::deserialize")]
    posted_on: NaiveDate,
    #[serde(default)]
    guarantor: Option<String>,
    #[serde(default, deserialize_with = "jiamao_domain::date::deserialize_opt")]
    valid_until: Option<NaiveDate>,
}

/// `POST /api/v1/books/{book_no}/guarantees/{guarantee_no}/refund` `{refunded_on, rate?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundRequest {
    #[serde(deserialize_with = "jiamao_domain::date::deserialize")]
    refunded_on: NaiveDate,
    #[serde(default, deserialize_with = "jiamao_domain::decimal::deserialize_opt")]
    rate: Option<Decimal>,
}

/// `GET /api/v1/books/{book_no}/guarantee?as_of=`: required, posted, shortfall and the basis.
pub(crate) async fn guarantee<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<AsOfQuery>, QueryRejection>,
) -> Result<Json<GuaranteeReport>, ApiError> {
    let book_no = book_no(path)?;
    let as_of = required_date("as_of", query(q)?.as_of.as_deref(), "the day the guarantee is computed for; the server does not assume today")?;
    Ok(Json(with_engine(&engine, move |e| Ok(e.guarantee(&book_no, as_of)?)).await?))
}

/// `POST /api/v1/books/{book_no}/guarantees`: records a guarantee posted (201; 200 when the same
/// guarantee was recorded before).
pub(crate) async fn post_guarantee<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let book_no = book_no(path)?;
    let r: GuaranteeRequest = document(body)?;
    let doc = GuaranteeDoc { guarantee_no: r.guarantee_no, form: r.form, amount: r.amount, posted_on: r.posted_on, guarantor: r.guarantor, valid_until: r.valid_until };
    let rec = with_engine(&engine, move |e| Ok(e.post_guarantee(&book_no, &doc)?)).await?;
    Ok(recorded(rec))
}

/// `POST /api/v1/books/{book_no}/guarantees/{guarantee_no}/refund`: refunds a guarantee, with the
/// interest on cash.
pub(crate) async fn refund_guarantee<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<(String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RefundDoc>, ApiError> {
    let (book_no, guarantee_no) = path_of(path)?;
    let r: RefundRequest = document(body)?;
    Ok(Json(with_engine(&engine, move |e| Ok(e.refund_guarantee(&book_no, &guarantee_no, r.refunded_on, r.rate)?)).await?))
}

// ---- 单耗 ----------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsumptionQuery {
    as_of: Option<String>,
    export_taxable: Option<String>,
}

/// What a check compares with: the standards documents loaded (with `valid_from` on or before
/// `as_of`, when given) and the products taxable on export. No HS 2022 nomenclature: the engine has
/// none loaded, so codes are matched as written (and the answer says so).
fn check_query(q: Result<Query<ConsumptionQuery>, QueryRejection>) -> Result<(Option<NaiveDate>, BTreeSet<u32>), ApiError> {
    let q = query(q)?;
    let as_of = query_date("as_of", q.as_of.as_deref())?;
    let mut taxable = BTreeSet::new();
    if let Some(list) = q.export_taxable.as_deref().filter(|l| !l.is_empty()) {
        for part in list.split(',') {
            let seq = part
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| ApiError::bad_query("export_taxable", format!("query parameter export_taxable: {part:?} is not a product seq; give the seqs separated by commas (1,2)")))?;
            taxable.insert(seq);
        }
    }
    Ok((as_of, taxable))
}

/// `GET /api/v1/books/{book_no}/consumption-check?as_of=&export_taxable=`: every 单耗 line of the
/// book against the loaded national standards.
pub(crate) async fn consumption_check<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<ConsumptionQuery>, QueryRejection>,
) -> Result<Json<ConsumptionCheck>, ApiError> {
    let book_no = book_no(path)?;
    let (as_of, export_taxable) = check_query(q)?;
    let check = with_engine(&engine, move |e| Ok(e.consumption_check(&book_no, &CheckOptions { norms: None, hs2022: None, export_taxable, as_of })?)).await?;
    Ok(Json(check))
}

/// `GET /api/v1/books/{book_no}/consumption-reviews?as_of=&export_taxable=`: the review queue.
pub(crate) async fn consumption_reviews<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<ConsumptionQuery>, QueryRejection>,
) -> Result<Json<UcnsReviews>, ApiError> {
    let book_no = book_no(path)?;
    let (as_of, export_taxable) = check_query(q)?;
    let reviews = with_engine(&engine, move |e| Ok(e.ucns_reviews(&book_no, &CheckOptions { norms: None, hs2022: None, export_taxable, as_of })?)).await?;
    Ok(Json(reviews))
}

/// `POST /api/v1/books/{book_no}/consumption-reviews`: one review step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewRequest {
    product_seq: u32,
    version: String,
    action: ReviewAction,
    #[serde(default)]
    replacement: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /api/v1/books/{book_no}/consumption-reviews` `{product_seq, version, action, replacement?,
/// note?}`: customs of the book's district question, consult, accept or adjust a 单耗 version (201).
pub(crate) async fn review_consumption<S: Store + 'static>(
    State(engine): State<SharedEngine<S>>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let book_no = book_no(path)?;
    let r: ReviewRequest = document(body)?;
    let done: Reviewed = with_engine(&engine, move |e| Ok(e.review_ucns(&book_no, r.product_seq, &r.version, r.action, r.replacement.as_deref(), r.note.as_deref().unwrap_or(""))?)).await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_is_required_and_boolean() {
        assert_eq!(preview_flag(Some("true")), Ok(true));
        assert_eq!(preview_flag(Some("false")), Ok(false));
        for bad in [None, Some(""), Some("yes"), Some("TRUE")] {
            let e = preview_flag(bad).err();
            assert_eq!(e.as_ref().map(|e| (e.status, e.rule.as_str(), e.field.as_deref())), Some((StatusCode::BAD_REQUEST, "bad_query", Some("preview"))), "{bad:?}");
        }
    }

    #[test]
    fn library_places_become_path_parameters() {
        let e = renamed(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "catalog_unknown", "no v").with_field("v2"), &[("v1", "from"), ("v2", "to")]);
        assert_eq!(e.field.as_deref(), Some("to"));
        let e = renamed(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "x", "y"), &[("v1", "from")]);
        assert_eq!(e.field, None);
    }

    #[test]
    fn export_taxable_is_a_list_of_seqs() {
        let q = |v: &str| check_query(Ok(Query(ConsumptionQuery { as_of: None, export_taxable: Some(v.to_owned()) })));
        assert_eq!(q("1,2").map(|(_, s)| s.into_iter().collect::<Vec<_>>()), Ok(vec![1, 2]));
        assert_eq!(q("").map(|(_, s)| s.len()), Ok(0));
        for bad in ["x", "1,,2", "0", "-1", "1;2"] {
            assert_eq!(q(bad).err().and_then(|e| e.field), Some("export_taxable".to_owned()), "{bad}");
        }
    }
}
