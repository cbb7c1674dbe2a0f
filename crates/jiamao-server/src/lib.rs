//! The HTTP side of Jiamao: the JSON API under `/api/v1/`, its OpenAPI description at
//! `/api/openapi.json`, and server-rendered web pages at `/` (FORMAT.md, "server").
//!
//! Handlers are thin: they parse the request, call the application [`Engine`] and render its
//! answer; every rule lives in `jiamao-app` and `jiamao-domain`. Engine calls are synchronous (the
//! SQLite store blocks), so each one runs on tokio's blocking pool and holds the engine's mutex only
//! for that one call.
//!
//! Limits: a request body may be at most [`MAX_BODY_BYTES`]; larger bodies are refused with 413
//! before any of them is read into the engine.

mod api;
mod auth;
mod charts;
mod dept_api;
mod error;
mod forms;
mod html;
mod i18n;
mod openapi;
mod pages_customs;
mod pages_enterprise;
mod pages_ledger;
mod pages_officials;
mod platform_api;
mod policy_api;
mod table;
mod tax_api;
mod web;

use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use jiamao_app::Engine;
use jiamao_store::Store;
use std::future::Future;
use std::sync::{Arc, Mutex};

pub use api::REJECTED_HEADER;
pub use error::ApiError;

/// The engine as the server shares it between requests.
pub type SharedEngine<S> = Arc<Mutex<Engine<S>>>;

/// The largest request body accepted (a book, a file of lists or a stocktake): 16 MiB. A list file
/// larger than that should be split; each list posts on its own anyway (FORMAT.md).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The routes of the API, the web pages and the health check, over one shared engine.
///
/// JSON API (described by `GET /api/openapi.json`):
/// - `GET /api/v1/books`, `POST /api/v1/books` (a book document: filing or change, 变更);
/// - `POST /api/v1/lists` (a list object or an array of them; answers `200` with one outcome per
///   list, as `jiamao list post --json` prints them, and the header `X-Jiamao-Rejected` counting
///   the rejected ones);
/// - `GET /api/v1/books/{book_no}/balance?as_of=YYYY-MM-DD`;
/// - `GET /api/v1/books/{book_no}/reconcile?to=YYYY-MM-DD`, and `POST` on the same path with a
///   stocktake (盘点) document for `actual_remain` and `difference`;
/// - `GET /api/v1/books/{book_no}/materials/{seq}/explain?from=&to=` (the drill-down of a material).
///
/// Domestic-sale taxation (内销征税, FORMAT.md "Tax quote document"):
/// - `POST /api/v1/tax/quote` (a quote request, ledger or explicit form);
/// - `GET /api/v1/books/{book_no}/tax/periods?as_of=YYYY-MM-DD` (`as_of` required: the server never
///   reads the clock);
/// - `POST /api/v1/books/{book_no}/tax/payments` (a payment; `201` when recorded, `200` when the same
///   payment was recorded before);
/// - `GET /api/v1/books/{book_no}/tax/schedule`, and `POST` on the same path with a schedule (`201` /
///   `200` as for payments);
/// - `GET /api/v1/tariff/{hs_code}?date=YYYY-MM-DD[&origin=CCC]`, `GET /api/v1/tariffs`,
///   `GET /api/v1/rates`.
///
/// The platform (FORMAT.md "Enterprises, credit, accounts, server"):
/// - `POST /api/v1/session` (log in with a password: the `jiamao_session` cookie and the CSRF token),
///   `DELETE /api/v1/session` (log out), `GET /api/v1/me`;
/// - `GET /api/v1/users`, `POST /api/v1/users`, `POST /api/v1/users/{login}/disable`;
/// - `POST /api/v1/tokens` (an API token, shown once), `DELETE /api/v1/tokens/{token_id}`;
/// - `GET /api/v1/events?after=&limit=` (the events the account may see, in commit order);
/// - `GET /api/v1/audit/verify` (every audit chain walked).
///
/// The departments (docs/platform.md "Cross-checks" and "Events and webhooks"):
/// - `POST /api/v1/crosscheck/fx-receipts` (a CSV body, `enterprise,receipt_no,received_on,currency,
///   amount,list_no`: the FX side's receipts) and `POST /api/v1/crosscheck/vat-expectations` (a CSV
///   body, `enterprise,period,vat_expected`: the VAT the tax side expects); a file with any bad row is
///   refused whole (422 `file_invalid`, every problem named with its line);
/// - `GET /api/v1/enterprises/{uscc}/crosscheck/fx?from=&to=[&tolerance=]` and
///   `GET /api/v1/enterprises/{uscc}/crosscheck/vat?as_of=` (the cross-checks against the ledger; an
///   enterprise outside the account's jurisdiction, or with no book, is 403 `forbidden` alike);
/// - `GET /api/v1/webhooks` (the caller's subscriptions), `POST /api/v1/webhooks` `{url, kinds}`
///   (subscribe as the caller: `201`).
///
/// Policy as dated data (FORMAT.md "Catalog file" and "Enterprises, credit, accounts, server"):
/// - `GET /api/v1/catalogs` (the loaded catalog versions), `POST /api/v1/catalogs/{name}?preview=
///   true|false[&as_of=]` with the catalog CSV (`preview=true`: the impact, nothing loaded; `false`:
///   loaded with its impact, `201`, or `200` when the same version was loaded before; a file with any
///   bad row is refused whole, 422 `file_invalid` naming every problem), `GET /api/v1/catalogs/{from}
///   /diff/{to}`, `GET /api/v1/catalog/{hs_code}?date=` (`{hs_code, date, entries}`; `date` required);
/// - `GET /api/v1/enterprises/{uscc}/credit?as_of=` (`as_of` required) and `POST` on the same path
///   `{class, from, decision?}`;
/// - `GET /api/v1/books/{book_no}/guarantee?as_of=` (required, posted, shortfall and the basis;
///   `as_of` required), `POST /api/v1/books/{book_no}/guarantees` (a guarantee: `201` / `200` as for
///   payments), `POST /api/v1/books/{book_no}/guarantees/{guarantee_no}/refund` `{refunded_on, rate?}`;
/// - `GET /api/v1/books/{book_no}/consumption-check?as_of=&export_taxable=1,2` (单耗 against the
///   loaded national standards), `GET /api/v1/books/{book_no}/consumption-reviews` and `POST` on the
///   same path `{product_seq, version, action, replacement?, note?}` (质疑 / 磋商: `201`).
///
/// Web pages (Chinese first, `?lang=en` switches; `crate::i18n`): `GET /` (the dashboard: books,
/// cycles, 报核 deadlines, alerts), `GET /books/{book_no}` (materials, products, 单耗 versions side by
/// side, balances and the 报核 figures), `GET /books/{book_no}/reconcile` (the 报核 report) and
/// `GET /books/{book_no}/materials/{seq}` (the drill-down with the balance chart), `GET /upload`
/// (books and lists sent to the API by the page), `GET /review` (the 单耗 review queue, `?book=` for
/// one book and its chart against the standards) with `POST /books/{book_no}/reviews` (a review step
/// from a form), `GET /books/{book_no}/lists` (posted lists filtered, sorted and paged),
/// `GET /books/{book_no}/balance?as_of=`, `GET /books/{book_no}/tax?as_of=&list_no=` (periods and a
/// quote), `GET /district` (customs: books with risk flags), `GET /catalogs` and
/// `POST /catalogs/preview` (versions, a diff, the impact of a version), `GET /audit` (audit
/// verification), `GET /accounts`, `POST /accounts` and `POST /accounts/{login}/disable` (accounts),
/// the login form at `/login` and `POST /logout`. Long tables sort and page on the server
/// (`?page=&per=&sort=&order=`). `GET /healthz` answers `ok`.
///
/// Errors are JSON `{"error": {"rule", "message", "field"?}}`: 400 for a bad query parameter or
/// path, 401 `unauthenticated` (no credentials, or a token or session that is unknown, expired,
/// revoked or of a disabled account: one answer for all), 403 `forbidden` (the role, the jurisdiction
/// or a read-only token; the reason goes to the audit trail only) or `csrf`, 404 `unknown_book` (also
/// for a book the account may not see), 422 for a rejected document or tax request (the rule it
/// broke: a missing tariff line or rate is `tariff_missing`, `rate_missing`, …, never a silent zero),
/// 429 `throttled` (too many failed logins), 500 for a fault of the system (details only in the
/// server log).
///
/// Every route but `/healthz`, `/api/openapi.json`, `/login` and `POST /api/v1/session` needs an API
/// token (`Authorization: Bearer jm_…`) or a session cookie (with `X-CSRF-Token` on changes); what
/// an account may do is decided by the library (`jiamao_domain::access`).
pub fn router<S: Store + 'static>(engine: SharedEngine<S>) -> Router {
    Router::new()
        .route("/", get(web::index::<S>))
        .route("/books/{book_no}", get(web::book::<S>))
        .route("/books/{book_no}/reconcile", get(web::reconcile::<S>).post(web::stocktake::<S>))
        .route("/books/{book_no}/materials/{seq}", get(web::material::<S>))
        .route("/books/{book_no}/reviews", post(web::review_step::<S>))
        .route("/books/{book_no}/lists", get(web::lists::<S>))
        .route("/books/{book_no}/balance", get(web::balance::<S>))
        .route("/books/{book_no}/tax", get(web::tax::<S>))
        .route("/upload", get(web::upload).post(web::upload_form::<S>))
        .route("/check", get(forms::check))
        .route("/review", get(web::review::<S>))
        .route("/district", get(web::district::<S>))
        .route("/catalogs", get(web::catalogs::<S>))
        .route("/catalogs/preview", post(web::catalog_preview::<S>))
        .route("/audit", get(web::audit::<S>))
        .route("/accounts", get(web::accounts::<S>).post(web::add_account::<S>))
        .route("/accounts/{login}/disable", post(web::disable_account::<S>))
        .route("/logout", post(web::logout::<S>))
        .route("/healthz", get(healthz))
        .route("/api/openapi.json", get(openapi::handler))
        .route("/api/v1/books", get(api::books::<S>).post(api::import_book::<S>))
        .route("/api/v1/lists", post(api::post_lists::<S>))
        .route("/api/v1/books/{book_no}/balance", get(api::balance::<S>))
        .route("/api/v1/books/{book_no}/reconcile", get(api::reconcile::<S>).post(api::reconcile_stocktake::<S>))
        .route("/api/v1/books/{book_no}/materials/{seq}/explain", get(api::explain::<S>))
        .route("/api/v1/tax/quote", post(tax_api::quote::<S>))
        .route("/api/v1/books/{book_no}/tax/periods", get(tax_api::periods::<S>))
        .route("/api/v1/books/{book_no}/tax/payments", post(tax_api::record_payment::<S>))
        .route("/api/v1/books/{book_no}/tax/schedule", get(tax_api::schedules::<S>).post(tax_api::set_schedule::<S>))
        .route("/api/v1/tariff/{hs_code}", get(tax_api::tariff_line::<S>))
        .route("/api/v1/tariffs", get(tax_api::tariffs::<S>))
        .route("/api/v1/rates", get(tax_api::rates::<S>))
        .route("/api/v1/session", post(platform_api::login::<S>).delete(platform_api::logout::<S>))
        .route("/api/v1/me", get(platform_api::me))
        .route("/api/v1/users", get(platform_api::users::<S>).post(platform_api::add_user::<S>))
        .route("/api/v1/users/{login}/disable", post(platform_api::disable_user::<S>))
        .route("/api/v1/tokens", post(platform_api::issue_token::<S>))
        .route("/api/v1/tokens/{token_id}", axum::routing::delete(platform_api::revoke_token::<S>))
        .route("/api/v1/events", get(platform_api::events::<S>))
        .route("/api/v1/audit/verify", get(platform_api::audit_verify::<S>))
        .route("/api/v1/crosscheck/fx-receipts", post(dept_api::load_fx::<S>))
        .route("/api/v1/crosscheck/vat-expectations", post(dept_api::load_vat::<S>))
        .route("/api/v1/enterprises/{uscc}/crosscheck/fx", get(dept_api::fx::<S>))
        .route("/api/v1/enterprises/{uscc}/crosscheck/vat", get(dept_api::vat::<S>))
        .route("/api/v1/webhooks", get(dept_api::webhooks::<S>).post(dept_api::add_webhook::<S>))
        .route("/api/v1/catalogs", get(policy_api::catalogs::<S>))
        .route("/api/v1/catalogs/{name}", post(policy_api::load_catalog::<S>))
        .route("/api/v1/catalogs/{from}/diff/{to}", get(policy_api::catalog_diff::<S>))
        .route("/api/v1/catalog/{hs_code}", get(policy_api::catalog_check::<S>))
        .route("/api/v1/enterprises/{uscc}/credit", get(policy_api::credit::<S>).post(policy_api::set_credit::<S>))
        .route("/api/v1/books/{book_no}/guarantee", get(policy_api::guarantee::<S>))
        .route("/api/v1/books/{book_no}/guarantees", post(policy_api::post_guarantee::<S>))
        .route("/api/v1/books/{book_no}/guarantees/{guarantee_no}/refund", post(policy_api::refund_guarantee::<S>))
        .route("/api/v1/books/{book_no}/consumption-check", get(policy_api::consumption_check::<S>))
        .route("/api/v1/books/{book_no}/consumption-reviews", get(policy_api::consumption_reviews::<S>).post(policy_api::review_consumption::<S>))
        .route("/login", get(web::login_page).post(web::login_form::<S>))
        .fallback(web::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(engine.clone(), auth::authenticate::<S>))
        .layer(middleware::from_fn(i18n::negotiate))
        .layer(middleware::from_fn(log_request))
        .with_state(engine)
}

/// Serves `router` on `listener` until Ctrl-C (or SIGTERM on Unix), then stops accepting
/// connections and lets the requests in flight finish, so a posting under way still commits and
/// is answered.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    serve_until(listener, router, shutdown_signal()).await
}

/// Like [`serve`], with the shutdown signal given by the caller (tests, embedding programs).
pub async fn serve_until<F>(listener: tokio::net::TcpListener, router: Router, shutdown: F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    if let Ok(addr) = listener.local_addr() {
        tracing::info!("jiamao serving on http://{addr}/ (API at /api/v1, description at /api/openapi.json)");
    }
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).with_graceful_shutdown(shutdown).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C ({e}); stop the server another way");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM ({e})");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: no new connections, finishing the requests in flight");
}

async fn healthz() -> &'static str {
    "ok"
}

async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    tracing::debug!(%method, %path, status = response.status().as_u16(), "request");
    response
}

/// Runs one engine operation on the blocking pool, holding the engine's lock for its duration.
pub(crate) async fn with_engine<S, T, F>(engine: &SharedEngine<S>, f: F) -> Result<T, ApiError>
where
    S: Store + 'static,
    T: Send + 'static,
    F: FnOnce(&mut Engine<S>) -> Result<T, ApiError> + Send + 'static,
{
    let engine = Arc::clone(engine);
    let ctx = auth::current();
    let task = tokio::task::spawn_blocking(move || {
        let mut guard = engine.lock().map_err(|_| ApiError::poisoned())?;
        guard.set_ctx(ctx);
        f(&mut guard)
    });
    match task.await {
        Ok(result) => result,
        Err(e) => {
            tracing::error!("an engine operation did not finish: {e}");
            Err(ApiError::internal())
        }
    }
}
