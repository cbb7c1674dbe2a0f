//! The error answer of the API: `{"error": {"rule", "message", "field"?}}` with an HTTP status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiamao_app::AppError;
use jiamao_domain::doc::DocError;
use jiamao_domain::tax::TaxError;
use serde::Serialize;

/// A request that could not be answered: the status, the rule broken and a message that says what
/// was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    /// Machine-readable rule name (`document_format`, `unknown_book`, `bad_query`, …).
    pub rule: String,
    pub message: String,
    /// The query parameter, or the field inside the document, when one is to blame.
    pub field: Option<String>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorObject<'a>,
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    rule: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, rule: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError { status, rule: rule.into(), message: message.into(), field: None }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// A fault of the system; what happened goes to the server log, not to the caller.
    pub fn internal() -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server could not complete the request; its log has the details")
    }

    /// The engine's lock was poisoned: an earlier request failed half-way while holding it, so its
    /// in-memory state can no longer be trusted.
    pub fn poisoned() -> Self {
        tracing::error!("the engine's lock is poisoned: an earlier request failed while holding it; restart the server");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the ledger engine is unavailable after an earlier failure; the server must be restarted")
    }

    /// The acting account may not do this (its role, its jurisdiction or a read-only token): the
    /// same answer whatever was refused; the refusal and its reason are in the audit trail.
    pub fn forbidden() -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "not allowed for this account or token (its role, its jurisdiction, or a read-only token); the refusal is logged")
    }

    /// A query parameter that does not parse.
    pub fn bad_query(parameter: &str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_query", message).with_field(parameter)
    }

    /// A document that could not be read (the whole body is rejected).
    pub fn document(e: &DocError) -> Self {
        let err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, DocError::RULE, e.to_string());
        if e.path.is_empty() || e.path == "." {
            err
        } else {
            err.with_field(e.path.clone())
        }
    }

    /// A tax request, rate or record that was refused (内销征税): 422 with the rule it broke and, when
    /// the error names one, the field to blame.
    pub fn tax(e: &TaxError) -> Self {
        if e.at.is_empty() {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.rule, format!("{} (rule {})", e.message, e.rule))
        } else {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.rule, e.to_string()).with_field(e.at.clone())
        }
    }

    pub fn body(&self) -> serde_json::Value {
        let body = ErrorBody { error: ErrorObject { rule: &self.rule, message: &self.message, field: self.field.as_deref() } };
        serde_json::to_value(body).unwrap_or(serde_json::Value::Null)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        if let AppError::UnknownBook(_) = &e {
            return ApiError::new(StatusCode::NOT_FOUND, "unknown_book", e.to_string());
        }
        if let AppError::Forbidden(_) = &e {
            // The engine's message names what was refused and why (a role, the enterprise of an
            // account, …): it is in the audit trail; the caller learns only that it was refused, so
            // that the answer is the same whatever exists.
            return ApiError::forbidden();
        }
        if !e.is_rejection() {
            tracing::error!("{e}");
            return ApiError::internal();
        }
        match &e {
            AppError::Document(d) => ApiError::document(d),
            AppError::Tax(t) => ApiError::tax(t),
            AppError::Book { error, .. } => {
                let err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error.rule, e.to_string());
                if error.at.is_empty() {
                    err
                } else {
                    let at = error.at.clone();
                    err.with_field(at)
                }
            }
            _ => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "rejected", e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiamao_store::StoreError;

    #[test]
    fn store_faults_are_500_without_details() {
        let e = ApiError::from(AppError::Store(StoreError::Database("disk I/O error at /secret/path".into())));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message.contains("/secret/path"));
    }

    #[test]
    fn unknown_book_is_404() {
        let e = ApiError::from(AppError::UnknownBook("X1".into()));
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.rule, "unknown_book");
        assert_eq!(e.body()["error"]["rule"], "unknown_book");
        assert!(e.body()["error"].get("field").is_none());
    }

    #[test]
    fn refusals_are_403_without_the_engine_s_detail() {
        let e = ApiError::from(AppError::Forbidden("op (enterprise_admin) has no jurisdiction over enterprise 91320505735624180G".into()));
        assert_eq!((e.status, e.rule.as_str()), (StatusCode::FORBIDDEN, "forbidden"));
        assert!(!e.message.contains("91320505735624180G"), "{}", e.message);
        assert_eq!(e, ApiError::from(AppError::Forbidden("role bank may not read_audit".into())), "every refusal answers alike");
    }

    #[test]
    fn tax_rejections_are_422_with_rule_and_field() {
        let e = ApiError::from(AppError::Tax(TaxError::new("exchange", "rate_missing", "no exchange rate of currency 303 is loaded")));
        assert_eq!((e.status, e.rule.as_str(), e.field.as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, "rate_missing", Some("exchange")));
        assert!(e.message.contains("currency 303"), "{}", e.message);
        let e = ApiError::from(AppError::Tax(TaxError::new("", "request_invalid", "expected a JSON object")));
        assert_eq!((e.status, e.field.as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, None));
        assert!(!e.message.starts_with(':'), "{}", e.message);
    }

    #[test]
    fn unreadable_document_is_422_document_format() {
        let d = jiamao_domain::doc::parse_book("{", "request body").err();
        let Some(d) = d else { panic!("a lone brace parsed as a book") };
        let e = ApiError::from(AppError::Document(d));
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.rule, "document_format");
    }
}
