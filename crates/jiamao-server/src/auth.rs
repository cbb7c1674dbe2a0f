//! Who is calling: every request but the public ones (`/healthz`, `/api/openapi.json`, the login page
//! and `POST /api/v1/session`) carries an API token (`Authorization: Bearer …`) or a session cookie
//! (`jiamao_session`, HttpOnly, SameSite=Strict; changes also need the session's CSRF token in
//! `X-CSRF-Token`, or in the `_csrf` field of a page's form). The identity, request id, client
//! address and time go with the request to the engine, which decides what is allowed (no rule lives
//! here).

use crate::error::ApiError;
use crate::SharedEngine;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use jiamao_app::platform::{AuthError, Ctx};
use jiamao_domain::access::Principal;
use jiamao_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;

tokio::task_local! {
    /// The acting context of the request being served.
    pub(crate) static CTX: Ctx;
}

/// The session cookie.
pub const SESSION_COOKIE: &str = "jiamao_session";
/// The header that carries the CSRF token of a session on changes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The time: the one place the server reads the clock (the library takes it as an argument).
#[allow(clippy::disallowed_methods)]
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

fn random_id() -> String {
    let mut b = [0u8; 8];
    if getrandom::getrandom(&mut b).is_err() {
        // Request ids need not be secret: the time will do.
        b = now().timestamp_nanos_opt().unwrap_or_default().to_le_bytes();
    }
    jiamao_domain::audit::hex(&b)
}

/// The context of a request before it is authenticated.
pub(crate) fn anonymous_ctx(headers: &HeaderMap, peer: Option<SocketAddr>) -> Ctx {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .map(str::to_owned)
        .unwrap_or_else(random_id);
    Ctx { principal: Principal::Anonymous, request_id, source: peer.map(|p| p.ip().to_string()).unwrap_or_else(|| "-".to_owned()), now: now() }
}

/// The value of a cookie in the request.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).filter_map(|c| c.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_owned())
}

/// The kind of form a body is, when it is a page's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormKind {
    /// `application/x-www-form-urlencoded`.
    Urlencoded,
    /// `multipart/form-data` (a form with a file).
    Multipart,
}

fn form_kind(headers: &HeaderMap) -> Option<FormKind> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())?.trim_start().to_ascii_lowercase();
    if ct.starts_with("application/x-www-form-urlencoded") {
        Some(FormKind::Urlencoded)
    } else if ct.starts_with("multipart/form-data") {
        Some(FormKind::Multipart)
    } else {
        None
    }
}

/// The `_csrf` field of a page's form body (read from a copy; the handler reads the body again).
async fn form_csrf(kind: FormKind, headers: &HeaderMap, bytes: &axum::body::Bytes) -> Option<String> {
    let value = match kind {
        FormKind::Urlencoded => crate::web::form_value(&String::from_utf8_lossy(bytes), "_csrf"),
        FormKind::Multipart => {
            use axum::extract::FromRequest;
            let mut copy = Request::new(axum::body::Body::from(bytes.clone()));
            copy.headers_mut().insert(header::CONTENT_TYPE, headers.get(header::CONTENT_TYPE)?.clone());
            let mut m = axum::extract::Multipart::from_request(copy, &()).await.ok()?;
            let mut found = None;
            while let Ok(Some(field)) = m.next_field().await {
                if field.name() == Some("_csrf") && field.file_name().is_none() {
                    found = field.text().await.ok();
                    break;
                }
            }
            found
        }
    };
    value.filter(|v| !v.is_empty())
}

fn is_public(method: &Method, path: &str) -> bool {
    path == "/healthz" || path == "/api/openapi.json" || path == "/login" || (path == "/api/v1/session" && method == Method::POST)
}

/// The refusal of a request without valid credentials: the same answer whatever was wrong.
pub(crate) fn unauthenticated(api: bool, path: &str) -> Response {
    if api {
        let mut r = ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "log in (POST /api/v1/session) or send an API token (Authorization: Bearer …)").into_response();
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"jiamao\""));
        r
    } else {
        let next: String = path.chars().filter(|c| c.is_ascii_alphanumeric() || "/-_.".contains(*c)).collect();
        Redirect::to(&format!("/login?next={next}")).into_response()
    }
}

/// Logs a request refused before it reaches the engine (the engine writes its own refusals to the
/// audit trail). Never the credentials themselves: only what kind was wrong.
pub(crate) fn refused(ctx: &Ctx, method: &Method, path: &str, reason: &str) {
    tracing::info!(request_id = %ctx.request_id, source = %ctx.source, %method, path, reason, "refused: not authenticated");
}

/// The middleware: authenticates, then serves the request with its context.
pub(crate) async fn authenticate<S: Store + 'static>(State(engine): State<SharedEngine<S>>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let mut ctx = anonymous_ctx(request.headers(), peer);
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    if !is_public(&method, &path) {
        let api = path.starts_with("/api/");
        let bearer = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(|v| v.trim().to_owned());
        let session = cookie(request.headers(), SESSION_COOKIE);
        let mut csrf = request.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let changes = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
        // A page's form (urlencoded, or multipart with a file) carries the token in its `_csrf`
        // field instead of the header: the same check.
        if let Some(kind) = form_kind(request.headers()).filter(|_| csrf.is_none() && changes && bearer.is_none() && session.is_some()) {
            let (parts, body) = request.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await else {
                let e = ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the form could not be read (at most 16 MiB)");
                return if api { e.into_response() } else { crate::web::error_page(&e) };
            };
            csrf = form_csrf(kind, &parts.headers, &bytes).await;
            request = Request::from_parts(parts, axum::body::Body::from(bytes));
        }
        if bearer.is_none() && session.is_none() {
            refused(&ctx, &method, &path, "no credentials");
            return unauthenticated(api, &path);
        }
        let kind = if bearer.is_some() { "token" } else { "session" };
        let engine = Arc::clone(&engine);
        let probe = ctx.clone();
        let resolved = tokio::task::spawn_blocking(move || {
            let mut e = engine.lock().map_err(|_| ApiError::poisoned())?;
            e.set_ctx(probe);
            let r = match (bearer, session) {
                (Some(token), _) => e.authenticate_token(&token).map(|id| (id, true)),
                (None, Some(secret)) => e.session(&secret, csrf.as_deref()),
                (None, None) => Err(AuthError::BadCredentials),
            };
            Ok::<_, ApiError>(r)
        })
        .await;
        let identity = match resolved {
            Ok(Ok(Ok((identity, csrf_ok)))) => {
                if changes && !csrf_ok {
                    refused(&ctx, &method, &path, "a change with a session cookie and no valid CSRF token");
                    let e =
                        ApiError::new(StatusCode::FORBIDDEN, "csrf", format!("a change made with a session needs its CSRF token in the {CSRF_HEADER} header (or the _csrf field of the page's form)"));
                    return if api { e.into_response() } else { crate::web::error_page(&e) };
                }
                identity
            }
            Ok(Ok(Err(AuthError::Store(e)))) => {
                tracing::error!("authentication failed on the store: {e}");
                return ApiError::internal().into_response();
            }
            Ok(Ok(Err(e))) => {
                refused(&ctx, &method, &path, &format!("{kind}: {e}"));
                return unauthenticated(api, &path);
            }
            Ok(Err(e)) => return if api { e.into_response() } else { crate::web::error_page(&e) },
            Err(e) => {
                tracing::error!("authentication did not finish: {e}");
                return ApiError::internal().into_response();
            }
        };
        ctx.principal = Principal::User(identity);
    }
    CTX.scope(ctx, next.run(request)).await
}

/// The context of the request being served (anonymous outside one).
pub(crate) fn current() -> Ctx {
    CTX.try_with(Clone::clone).unwrap_or_else(|_| anonymous_ctx(&HeaderMap::new(), None))
}
