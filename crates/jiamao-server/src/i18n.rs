//! The pages' languages: Chinese first (zh-CN), English switchable. Every string a page shows comes
//! from `i18n/zh.json` or `i18n/en.json` (embedded in the binary) through [`t`]; keys chosen at run
//! time are written [`key`]`("…")` so that a test can read every key the pages use from the source
//! (`tests/web.rs` fails when one is missing in either file).
//!
//! The language of a request: `?lang=en|zh` (which also sets the `lang` cookie, SameSite=Lax), else
//! the `lang` cookie, else Chinese. [`negotiate`] decides it once per request and keeps it, with the
//! path the page is at and the session's CSRF token, for the page being rendered ([`current`]).

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A language of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Zh,
    En,
}

impl Lang {
    /// As written in `?lang=` and the `lang` cookie.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The `lang` attribute of `<html>`.
    pub(crate) fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The language the switch on every page offers.
    pub(crate) fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// The cookie that remembers the language.
pub(crate) const LANG_COOKIE: &str = "lang";

const ZH: &str = include_str!("../i18n/zh.json");
const EN: &str = include_str!("../i18n/en.json");

fn table(lang: Lang) -> &'static HashMap<String, String> {
    static ZH_TABLE: OnceLock<HashMap<String, String>> = OnceLock::new();
    static EN_TABLE: OnceLock<HashMap<String, String>> = OnceLock::new();
    let (cell, text) = match lang {
        Lang::Zh => (&ZH_TABLE, ZH),
        Lang::En => (&EN_TABLE, EN),
    };
    cell.get_or_init(|| match serde_json::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            // A test parses both files; this only happens to a binary built without running it.
            tracing::error!("the {} translations do not parse: {e}", lang.code());
            HashMap::new()
        }
    })
}

/// The text of `key` in `lang`; a key missing from the file shows as itself (the tests fail first).
pub(crate) fn t(lang: Lang, key: &str) -> &str {
    match table(lang).get(key) {
        Some(text) => text.as_str(),
        None => key,
    }
}

/// A translation key chosen at run time (a role, a state, a figure): marks the literal for the test
/// that checks every key used is in both files.
pub(crate) const fn key(k: &'static str) -> &'static str {
    k
}

/// A translated text with its `{name}` placeholders filled in.
pub(crate) fn fill(text: &str, args: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// What a page needs to know of the request it answers.
#[derive(Debug, Clone)]
pub(crate) struct PageCtx {
    pub lang: Lang,
    /// The request's path (a single leading slash).
    pub path: String,
    /// The request's query, as sent, without `lang`.
    pub query: Vec<String>,
    /// The session's CSRF token (the `jiamao_csrf` cookie), for the pages' forms.
    pub csrf: Option<String>,
}

impl PageCtx {
    /// The same page in the other language.
    pub(crate) fn switch_href(&self) -> String {
        let mut q = self.query.clone();
        q.push(format!("lang={}", self.lang.other().code()));
        format!("{}?{}", self.path, q.join("&"))
    }
}

tokio::task_local! {
    static PAGE: PageCtx;
}

/// The page context of the request being served (Chinese at `/` outside one).
pub(crate) fn current() -> PageCtx {
    PAGE.try_with(Clone::clone).unwrap_or_else(|_| PageCtx { lang: Lang::Zh, path: "/".to_owned(), query: Vec::new(), csrf: None })
}

/// The value of `name` in a query string or form body, still encoded.
fn raw_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// The middleware: decides the language, and sets the `lang` cookie when `?lang=` chose it.
pub(crate) async fn negotiate(request: Request, next: Next) -> Response {
    let query = request.uri().query().unwrap_or("");
    let chosen = raw_value(query, "lang").and_then(Lang::parse);
    let remembered = crate::auth::cookie(request.headers(), LANG_COOKIE).as_deref().and_then(Lang::parse);
    let lang = chosen.or(remembered).unwrap_or(Lang::Zh);
    let path = format!("/{}", request.uri().path().trim_start_matches('/'));
    let page = !path.starts_with("/api/");
    let ctx = PageCtx {
        lang,
        query: query.split('&').filter(|kv| !kv.is_empty() && kv.split('=').next() != Some("lang")).map(str::to_owned).collect(),
        path,
        csrf: crate::auth::cookie(request.headers(), "jiamao_csrf"),
    };
    let mut response = PAGE.scope(ctx, next.run(request)).await;
    if let (Some(l), true) = (chosen, page) {
        if let Ok(v) = HeaderValue::from_str(&format!("{LANG_COOKIE}={}; SameSite=Lax; Path=/; Max-Age=31536000", l.code())) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_files_parse_and_missing_keys_show_as_themselves() {
        assert!(!table(Lang::Zh).is_empty() && !table(Lang::En).is_empty());
        assert_eq!(t(Lang::En, "no.such.key"), "no.such.key");
        assert_eq!(fill("{a} and {b}", &[("a", "1"), ("b", "2")]), "1 and 2");
    }

    #[test]
    fn the_switch_keeps_the_query_and_offers_the_other_language() {
        let c = PageCtx { lang: Lang::Zh, path: "/books/X".into(), query: vec!["to=2026-12-31".into()], csrf: None };
        assert_eq!(c.switch_href(), "/books/X?to=2026-12-31&lang=en");
        let c = PageCtx { lang: Lang::En, path: "/".into(), query: vec![], csrf: None };
        assert_eq!(c.switch_href(), "/?lang=zh");
    }
}
