//! Sessions, accounts, tokens, the event feed and audit verification over HTTP.

use crate::api::{body_text, query};
use crate::auth::{self, SESSION_COOKIE};
use crate::error::ApiError;
use crate::{with_engine, SharedEngine};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiamao_app::platform::{AccountView, AuditReport, AuthError, IssuedToken, SESSION_HOURS};
use jiamao_domain::access::{Principal, Role};
use jiamao_domain::doc;
use jiamao_store::Store;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginDoc {
    login: String,
    password: String,
}

/// The answer to a login: who, and the CSRF token to send with changes.
#[derive(Serialize)]
struct SessionView {
    login: String,
    role: Role,
    csrf: String,
    expires_at: String,
}

fn path_text(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(s)| s).map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "bad_path", r.body_text()))
}

/// `POST /api/v1/session`: log in with a password.
pub(crate) async fn login<S: Store + 'static>(State(engine): State<SharedEngine<S>>, body: Result<Bytes, BytesRejection>) -> Result<Response, ApiError> {
    let text = body_text(body)?;
    let doc: LoginDoc = doc::parse_document(&text, crate::api::BODY_SOURCE).map_err(|e| ApiError::document(&e))?;
    let result = with_engine(&engine, move |e| Ok(e.login(&doc.login, &doc.password))).await?;
    let s = match result {
        Ok(s) => s,
        Err(AuthError::Throttled(secs)) => {
            let ctx = auth::current();
            tracing::info!(request_id = %ctx.request_id, source = %ctx.source, retry_after = secs, "refused: login throttled");
            let mut r = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "throttled", format!("too many failed logins; try again in {secs} seconds")).into_response();
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Ok(r);
        }
        Err(AuthError::Store(e)) => {
            tracing::error!("login failed on the store: {e}");
            return Err(ApiError::internal());
        }
        Err(e) => {
            // The login name is not logged: people type passwords into it.
            let ctx = auth::current();
            tracing::info!(request_id = %ctx.request_id, source = %ctx.source, reason = %e, "refused: login");
            return Ok(auth::unauthenticated(true, "/api/v1/session"));
        }
    };
    let max_age = SESSION_HOURS * 3600;
    let view = SessionView { login: s.identity.login.clone(), role: s.identity.role, csrf: s.csrf.clone(), expires_at: jiamao_app::platform::timestamp(s.expires_at) };
    let mut r = Json(view).into_response();
    for c in [format!("{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}", s.secret), format!("jiamao_csrf={}; SameSite=Strict; Path=/; Max-Age={max_age}", s.csrf)] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(r)
}

/// `DELETE /api/v1/session`: log out (the session cookie stops working).
pub(crate) async fn logout<S: Store + 'static>(State(engine): State<SharedEngine<S>>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(secret) = auth::cookie(&headers, SESSION_COOKIE) {
        with_engine(&engine, move |e| Ok(e.logout(&secret)?)).await?;
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    for c in [format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"), "jiamao_csrf=; SameSite=Strict; Path=/; Max-Age=0".to_owned()] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(r)
}

/// `GET /api/v1/me`: the identity the request acts as.
pub(crate) async fn me() -> Result<Json<serde_json::Value>, ApiError> {
    match auth::current().principal {
        Principal::User(id) => Ok(Json(
            serde_json::json!({"login": id.login, "role": id.role, "role_zh": id.role.name_zh(), "enterprise": id.enterprise, "customs": id.customs, "province": id.province, "read_only": id.read_only}),
        )),
        _ => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "not logged in")),
    }
}

/// `GET /api/v1/users`.
pub(crate) async fn users<S: Store + 'static>(State(engine): State<SharedEngine<S>>) -> Result<Json<Vec<AccountView>>, ApiError> {
    Ok(Json(with_engine(&engine, |e| Ok(e.users()?)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserDoc {
    login: String,
    role: Role,
    #[serde(default)]
    enterprise: Option<String>,
    #[serde(default)]
    customs: Option<String>,
    #[serde(default)]
    province: Option<String>,
    password: String,
}

/// `POST /api/v1/users`: add an account.
pub(crate) async fn add_user<S: Store + 'static>(State(engine): State<SharedEngine<S>>, body: Result<Bytes, BytesRejection>) -> Result<Response, ApiError> {
    let text = body_text(body)?;
    let d: NewUserDoc = doc::parse_document(&text, crate::api::BODY_SOURCE).map_err(|e| ApiError::document(&e))?;
    let a = with_engine(&engine, move |e| Ok(e.add_user(&d.login, d.role, d.enterprise.as_deref(), d.customs.as_deref(), d.province.as_deref(), &d.password)?)).await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

/// `POST /api/v1/users/{login}/disable`.
pub(crate) async fn disable_user<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<String>, PathRejection>) -> Result<StatusCode, ApiError> {
    let login = path_text(path)?;
    with_engine(&engine, move |e| Ok(e.disable_user(&login)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenDoc {
    login: String,
    #[serde(default)]
    read_only: bool,
    /// RFC 3339.
    #[serde(default)]
    expires_at: Option<String>,
}

/// `POST /api/v1/tokens`: issue a token (shown once in the answer).
pub(crate) async fn issue_token<S: Store + 'static>(State(engine): State<SharedEngine<S>>, body: Result<Bytes, BytesRejection>) -> Result<Response, ApiError> {
    let text = body_text(body)?;
    let d: TokenDoc = doc::parse_document(&text, crate::api::BODY_SOURCE).map_err(|e| ApiError::document(&e))?;
    let expires = match d.expires_at.as_deref() {
        None => None,
        Some(t) => Some(
            chrono::DateTime::parse_from_rfc3339(t)
                .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "document_format", format!("expires_at: {e} (RFC 3339, e.g. 2026-12-31T00:00:00Z)")).with_field("expires_at"))?
                .with_timezone(&chrono::Utc),
        ),
    };
    let t: IssuedToken = with_engine(&engine, move |e| Ok(e.issue_token(&d.login, d.read_only, expires)?)).await?;
    Ok((StatusCode::CREATED, Json(t)).into_response())
}

/// `DELETE /api/v1/tokens/{token_id}`: 204 when revoked, 404 `unknown_token` when there is no such
/// token or it was revoked before.
pub(crate) async fn revoke_token<S: Store + 'static>(State(engine): State<SharedEngine<S>>, path: Result<Path<String>, PathRejection>) -> Result<StatusCode, ApiError> {
    let id = path_text(path)?;
    let done = with_engine(&engine, move |e| Ok(e.revoke_token(&id)?)).await?;
    if done {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_token", "there is no such token to revoke (unknown, or revoked before)"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    after: Option<i64>,
    limit: Option<usize>,
}

/// `GET /api/v1/events?after=&limit=`: the events this account may see after a cursor, and the
/// next cursor (pass it as `after` to continue; every event arrives once, in order).
pub(crate) async fn events<S: Store + 'static>(State(engine): State<SharedEngine<S>>, q: Result<Query<EventsQuery>, QueryRejection>) -> Result<Json<serde_json::Value>, ApiError> {
    let q = query(q)?;
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(100));
    let (events, next) = with_engine(&engine, move |e| Ok(e.events(after, limit)?)).await?;
    let events: Vec<serde_json::Value> = events
        .iter()
        .map(|e| serde_json::json!({"id": e.id, "enterprise": e.enterprise, "kind": e.kind, "at": e.at, "body": serde_json::from_str::<serde_json::Value>(&e.body).unwrap_or_default()}))
        .collect();
    Ok(Json(serde_json::json!({"events": events, "next": next})))
}

/// `GET /api/v1/audit/verify`: walks every chain (auditors, supervisors, administrators).
pub(crate) async fn audit_verify<S: Store + 'static>(State(engine): State<SharedEngine<S>>) -> Result<Json<AuditReport>, ApiError> {
    Ok(Json(with_engine(&engine, |e| Ok(e.audit_verify()?)).await?))
}
