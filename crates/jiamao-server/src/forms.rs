//! The pages' forms: inline validation of a field by the same rule the API applies
//! (`GET /check?rule=&value=`, called by the page script as a field changes, and used by the form
//! handlers when the form comes back), and the reading of a `multipart/form-data` form (file uploads
//! that work without a script).
//!
//! A rule names the library's own check: dates by the API's strict `YYYY-MM-DD` rule, codes by
//! `jiamao_domain::codes`, amounts by the JSON contract's decimal rule, logins and passwords by
//! `jiamao_domain::access`. The page shows the rule's sentence in its language and the library's
//! detail after it.

use crate::error::ApiError;
use crate::i18n::{self, fill, t, Lang};
use axum::extract::multipart::{Multipart, MultipartError};
use axum::http::StatusCode;
use axum::http::Uri;
use axum::response::{IntoResponse, Json, Response};
use jiamao_domain::access;
use jiamao_domain::codes::{CountryCode, CurrencyCode, CustomsDistrict, HsCode, Uscc};

/// A field rule the pages check inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    Date,
    Uscc,
    District,
    Province,
    Hs,
    /// A non-negative amount, quantity or price (the JSON contract's decimal rule).
    Amount,
    Currency,
    Country,
    Login,
    Password,
}

impl Rule {
    pub(crate) const ALL: [Rule; 10] = [Rule::Date, Rule::Uscc, Rule::District, Rule::Province, Rule::Hs, Rule::Amount, Rule::Currency, Rule::Country, Rule::Login, Rule::Password];

    /// As written in `data-check` and `?rule=`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Rule::Date => "date",
            Rule::Uscc => "uscc",
            Rule::District => "district",
            Rule::Province => "province",
            Rule::Hs => "hs",
            Rule::Amount => "amount",
            Rule::Currency => "currency",
            Rule::Country => "country",
            Rule::Login => "login",
            Rule::Password => "password",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The sentence a page shows for a value the rule refuses.
    fn message_key(self) -> &'static str {
        match self {
            Rule::Date => i18n::key("check.date"),
            Rule::Uscc => i18n::key("check.uscc"),
            Rule::District => i18n::key("check.district"),
            Rule::Province => i18n::key("check.province"),
            Rule::Hs => i18n::key("check.hs"),
            Rule::Amount => i18n::key("check.amount"),
            Rule::Currency => i18n::key("check.currency"),
            Rule::Country => i18n::key("check.country"),
            Rule::Login => i18n::key("check.login"),
            Rule::Password => i18n::key("check.password"),
        }
    }

    /// The library's verdict on a value (its own words when refused).
    pub(crate) fn verdict(self, value: &str) -> Result<(), String> {
        let code = |r: Result<(), jiamao_domain::codes::CodeError>| r.map_err(|e| e.to_string());
        match self {
            Rule::Date => crate::api::query_date("date", Some(value)).map(|_| ()).map_err(|e| e.message),
            Rule::Uscc => code(Uscc::parse(value).map(|_| ())),
            Rule::District => code(CustomsDistrict::parse(value).map(|_| ())),
            Rule::Province => access::check_province(value),
            Rule::Hs => code(HsCode::parse(value).map(|_| ())),
            Rule::Amount => match jiamao_domain::decimal::parse(value) {
                Ok(d) if d.is_sign_negative() => Err(format!("{value:?} is negative")),
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            },
            Rule::Currency => code(CurrencyCode::parse(value).map(|_| ())),
            Rule::Country => code(CountryCode::parse(value).map(|_| ())),
            Rule::Login => access::check_login(value),
            Rule::Password => access::check_password(value),
        }
    }

    /// The message a page shows next to the field, in its language; `None` when the value passes.
    /// A code's refusal carries the library's detail (which character, which table); the other
    /// rules' sentence says it all.
    pub(crate) fn check(self, lang: Lang, value: &str) -> Option<String> {
        let detail = self.verdict(value).err()?;
        let rule = t(lang, self.message_key());
        Some(match self {
            Rule::Uscc | Rule::District | Rule::Hs | Rule::Currency | Rule::Country => fill(t(lang, "check.refused"), &[("rule", rule), ("detail", &detail)]),
            _ => rule.to_owned(),
        })
    }
}

/// `GET /check?rule=&value=`: `{"ok": true}` or `{"ok": false, "message": "…"}` in the page's
/// language — the same verdict the form's handler and the API give.
pub(crate) async fn check(uri: Uri) -> Response {
    let query = uri.query().unwrap_or("");
    let rule_name = crate::web::form_value(query, "rule").unwrap_or_default();
    let value = crate::web::form_value(query, "value").unwrap_or_default();
    let Some(rule) = Rule::parse(&rule_name) else {
        let known: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
        return ApiError::new(StatusCode::BAD_REQUEST, "bad_query", format!("query parameter rule: {rule_name:?} is not one of {}", known.join(", "))).with_field("rule").into_response();
    };
    let lang = i18n::current().lang;
    match rule.check(lang, value.trim()) {
        None => Json(serde_json::json!({"ok": true, "rule": rule.as_str()})).into_response(),
        Some(message) => Json(serde_json::json!({"ok": false, "rule": rule.as_str(), "message": message})).into_response(),
    }
}

/// A file sent with a form.
#[derive(Debug, Clone, Default)]
pub(crate) struct Upload {
    /// The file's name as the browser sent it (may be empty).
    pub filename: String,
    pub text: String,
}

/// A `multipart/form-data` form, read whole: its text fields and its files by field name.
#[derive(Debug, Clone, Default)]
pub(crate) struct MultipartForm {
    pub fields: Vec<(String, String)>,
    pub files: Vec<(String, Upload)>,
}

impl MultipartForm {
    pub(crate) async fn read(mut m: Multipart) -> Result<MultipartForm, ApiError> {
        let bad = |e: MultipartError| ApiError::new(e.status(), "bad_body", format!("the form could not be read: {}", e.body_text()));
        let mut form = MultipartForm::default();
        while let Some(field) = m.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_owned();
            match field.file_name().map(str::to_owned) {
                Some(filename) => {
                    let bytes = field.bytes().await.map_err(bad)?;
                    let text =
                        String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "bad_body", format!("the file {filename:?} is not UTF-8 text")).with_field(&name))?;
                    form.files.push((name, Upload { filename, text }));
                }
                None => {
                    let text = field.text().await.map_err(bad)?;
                    form.fields.push((name, text));
                }
            }
        }
        Ok(form)
    }

    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The file of a field, when one was chosen (a browser sends an empty part for none).
    pub(crate) fn file(&self, name: &str) -> Option<&Upload> {
        self.files.iter().find(|(k, u)| k == name && !(u.filename.is_empty() && u.text.is_empty())).map(|(_, u)| u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_named_and_parsed_back() {
        for r in Rule::ALL {
            assert_eq!(Rule::parse(r.as_str()), Some(r));
        }
        assert_eq!(Rule::parse("nothing"), None);
    }

    #[test]
    fn rules_are_the_library_s() {
        assert!(Rule::Date.verdict("2026-02-28").is_ok());
        assert!(Rule::Date.verdict("2026-02-30").is_err());
        assert!(Rule::Date.verdict("2026-2-1").is_err());
        assert!(Rule::Uscc.verdict("91441900698123458E").is_ok());
        assert!(Rule::Uscc.verdict("91441900698123458F").is_err(), "a wrong check character");
        assert!(Rule::District.verdict("5200").is_ok());
        assert!(Rule::District.verdict("520").is_err());
        assert!(Rule::Province.verdict("44").is_ok());
        assert!(Rule::Province.verdict("4a").is_err());
        assert!(Rule::Hs.verdict("3901100000").is_ok());
        assert!(Rule::Hs.verdict("390110000").is_err());
        assert!(Rule::Amount.verdict("12.50").is_ok());
        assert!(Rule::Amount.verdict("0").is_ok());
        assert!(Rule::Amount.verdict("-1").is_err());
        assert!(Rule::Amount.verdict("1,000").is_err());
        assert!(Rule::Amount.verdict("1e3").is_err());
        assert!(Rule::Currency.verdict("502").is_ok());
        assert!(Rule::Currency.verdict("USD").is_err(), "customs currency codes are digits");
        assert!(Rule::Country.verdict("133").is_ok());
        assert!(Rule::Country.verdict("KOR").is_err(), "customs country codes are digits");
        assert!(Rule::Login.verdict("ent-admin").is_ok());
        assert!(Rule::Login.verdict("a b").is_err());
        assert!(Rule::Password.verdict("0123456789").is_ok());
        assert!(Rule::Password.verdict("short").is_err());
    }

    #[test]
    fn a_refusal_reads_in_the_page_s_language_with_the_library_s_detail() {
        let zh = Rule::Hs.check(Lang::Zh, "39011").unwrap_or_default();
        let en = Rule::Hs.check(Lang::En, "39011").unwrap_or_default();
        assert!(zh.contains("10") && zh != en, "{zh} / {en}");
        assert!(Rule::Hs.check(Lang::Zh, "3901100000").is_none());
    }
}
