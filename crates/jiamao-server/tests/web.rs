#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The web pages over HTTP, as a browser without a script engine sees them: every page in Chinese
//! and in English for an account allowed to see it, anonymous visitors sent to the login page,
//! another enterprise's book answered like a book that does not exist, the 单耗 review accepted
//! from a form, logging out; and the translations: every key a page uses is in both files.
//!
//! The browser flows themselves (the upload script, clicking through) are `e2e/flows.mjs`.

mod common;

use common::Reply;
use jiamao_app::Engine;
use jiamao_domain::access::Role;
use jiamao_store_sqlite::{Durability, SqliteStore};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

const BOOK_NO: &str = "C52002600001";
const NO_BOOK: &str = "C99999999999";
/// The example book's enterprise (Dongguan; customs district 5200).
const ENTERPRISE: &str = "91441900698123458E";
/// Another enterprise (Suzhou).
const OTHER: &str = "91320505735624180G";
const PASSWORD: &str = "a long test password";
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

struct App {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

fn examples() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interchange/examples");
    if dir.join("book.json").is_file() {
        Some(dir)
    } else {
        println!("skipping: {} not found", dir.display());
        None
    }
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The application with the example book and its good lists posted (by the local operator), and
/// accounts: `ent-admin` (the book's enterprise), `other-op` (another enterprise), `customs-5200`
/// (the book's district), `customs-2300` (another district).
async fn spawn_app() -> Option<App> {
    let examples = examples()?;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("jiamao.db"), Durability::Full).expect("open store");
    let mut e = Engine::new(store);
    e.add_user("ent-admin", Role::EnterpriseAdmin, Some(ENTERPRISE), None, None, PASSWORD).expect("account");
    e.add_user("other-op", Role::EnterpriseOperator, Some(OTHER), None, None, PASSWORD).expect("account");
    e.add_user("customs-5200", Role::CustomsOfficer, None, Some("5200"), None, PASSWORD).expect("account");
    e.add_user("customs-2300", Role::CustomsOfficer, None, Some("2300"), None, PASSWORD).expect("account");
    e.import_book(&read(&examples, "book.json"), "book.json").expect("the example book");
    let outcomes = e.post_text(&read(&examples, "lists.json"), "lists.json").expect("the example lists");
    assert!(outcomes.iter().all(|o| o.status == "posted"), "{outcomes:?}");
    let engine = Arc::new(Mutex::new(e));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(jiamao_server::serve_until(listener, jiamao_server::router(engine), std::future::pending()));
    Some(App { addr, _dir: dir })
}

/// A browser session: the cookies the login form set.
struct Session {
    cookies: String,
    csrf: String,
}

async fn log_in(app: &App, login: &str) -> Session {
    let body = format!("login={login}&password={}&next=%2F", PASSWORD.replace(' ', "+"));
    let r = common::send(app.addr, "POST", "/login", &[FORM], Some(body.as_bytes())).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/")), "POST /login as {login}: {}", r.body);
    let secret = r.cookie("jiamao_session").expect("the session cookie");
    let csrf = r.cookie("jiamao_csrf").expect("the CSRF cookie");
    Session { cookies: format!("jiamao_session={secret}; jiamao_csrf={csrf}"), csrf }
}

async fn page(app: &App, s: &Session, path: &str) -> Reply {
    common::send(app.addr, "GET", path, &[("Cookie", &s.cookies)], None).await
}

async fn form(app: &App, s: &Session, path: &str, body: &str) -> Reply {
    common::send(app.addr, "POST", path, &[("Cookie", &s.cookies), FORM], Some(body.as_bytes())).await
}

fn is_html(r: &Reply) -> bool {
    r.header("content-type").is_some_and(|t| t.starts_with("text/html"))
}

/// The attribute `name` of every element carrying `marker` (a `data-testid="…"`), in order.
fn attributes(html: &str, marker: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in html.match_indices(marker) {
        let start = html[..at].rfind('<').unwrap_or(0);
        let end = at + html[at..].find('>').unwrap_or(0);
        let tag = &html[start..end];
        let needle = format!("{name}=\"");
        if let Some(i) = tag.find(&needle) {
            let rest = &tag[i + needle.len()..];
            out.push(rest[..rest.find('"').unwrap_or(0)].replace("&amp;", "&"));
        }
    }
    out
}

/// What every page must hold: the language, the switch to the other one, nothing loaded from
/// elsewhere.
fn check_frame(r: &Reply, lang: &str, what: &str) {
    assert_eq!(r.status, 200, "{what}: {}", r.body);
    assert!(is_html(r), "{what}: {:?}", r.headers);
    let (html_lang, other) = if lang == "zh" { ("zh-CN", "en") } else { ("en", "zh") };
    assert!(r.body.contains(&format!("<html lang=\"{html_lang}\">")), "{what}: not {html_lang}");
    let switch = attributes(&r.body, "data-testid=\"lang-switch\"", "href");
    assert_eq!(switch.len(), 1, "{what}: one language switch");
    assert!(switch[0].ends_with(&format!("lang={other}")), "{what}: the switch links to {other}: {}", switch[0]);
    for external in ["<script src", "<link ", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(!r.body.contains(external), "{what}: loads something from elsewhere ({external})");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_answers_in_chinese_and_in_english() {
    let Some(app) = spawn_app().await else { return };
    let ent = log_in(&app, "ent-admin").await;
    let customs = log_in(&app, "customs-5200").await;
    let book = format!("/books/{BOOK_NO}");
    // (who, path, a Chinese word, an English word).
    let pages: Vec<(&Session, String, &str, &str)> = vec![
        (&ent, "/".into(), "工作台", "Dashboard"),
        (&ent, book.clone(), "料件序号", "Material seq"),
        (&ent, format!("{book}/reconcile"), "应剩余", "Should remain"),
        (&ent, format!("{book}/materials/1"), "逐份清单明细", "List by list"),
        (&ent, "/upload".into(), "上传清单", "Upload the lists"),
        (&ent, "/review".into(), "已申报", "declared"),
        (&customs, "/".into(), "报核期限", "Reconciliation due"),
        (&customs, "/review".into(), "接受", "Accept"),
        (&customs, format!("{book}/reconcile"), "深加工结转进", "Carried in"),
    ];
    for (who, path, zh, en) in &pages {
        let sep = if path.contains('?') { '&' } else { '?' };
        let r = page(&app, who, &format!("{path}{sep}lang=en")).await;
        check_frame(&r, "en", &format!("GET {path}?lang=en"));
        assert!(r.body.contains(en), "GET {path}?lang=en: no {en:?}");
        let set = r.headers_named("set-cookie").into_iter().find(|c| c.starts_with("lang=")).map(str::to_owned);
        assert!(set.as_deref().is_some_and(|c| c.starts_with("lang=en;") && c.contains("SameSite=Lax") && c.contains("Path=/")), "GET {path}?lang=en sets the lang cookie: {set:?}");
        let r = page(&app, who, &format!("{path}{sep}lang=zh")).await;
        check_frame(&r, "zh", &format!("GET {path}?lang=zh"));
        assert!(r.body.contains(zh), "GET {path}?lang=zh: no {zh:?}");
        // Without `lang`: the cookie decides, else Chinese.
        let r = page(&app, who, path).await;
        check_frame(&r, "zh", &format!("GET {path}"));
        let cookies = format!("{}; lang=en", who.cookies);
        let r = common::send(app.addr, "GET", path, &[("Cookie", &cookies)], None).await;
        check_frame(&r, "en", &format!("GET {path} with the lang cookie"));
    }
    // The login page, anonymous.
    for (lang, word) in [("zh", "密码"), ("en", "Password")] {
        let r = common::send(app.addr, "GET", &format!("/login?next=%2Freview&lang={lang}"), &[], None).await;
        check_frame(&r, lang, "GET /login");
        assert!(r.body.contains(word) && r.body.contains("name=\"login\"") && r.body.contains("name=\"password\"") && r.body.contains("type=\"submit\""), "{}", r.body);
        assert!(r.body.contains("name=\"next\" value=\"/review\""), "the target survives: {}", r.body);
        assert!(attributes(&r.body, "data-testid=\"lang-switch\"", "href")[0].starts_with("/login?next=%2Freview&lang="), "the switch keeps the query");
    }
    // The header: the account, its role in the page's language, the logout form with the CSRF token.
    let r = page(&app, &customs, "/?lang=en").await;
    assert!(r.body.contains("customs-5200") && r.body.contains("customs officer"), "{}", r.body);
    assert!(r.body.contains(&format!("name=\"_csrf\" value=\"{}\"", customs.csrf)), "the logout form carries the CSRF token");
    let r = page(&app, &customs, "/").await;
    assert!(r.body.contains("海关关员"), "{}", r.body);
    // Navigation by role: the customs officer files nothing.
    assert!(!r.body.contains("href=\"/upload\"") && r.body.contains("href=\"/review\""), "customs navigation");
    let r = page(&app, &ent, "/").await;
    assert!(r.body.contains("href=\"/upload\""), "enterprise navigation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_show_the_engine_s_figures() {
    let Some(app) = spawn_app().await else { return };
    let ent = log_in(&app, "ent-admin").await;
    let book = format!("/books/{BOOK_NO}");
    // The dashboard: the book with its 报核 deadline (the engine's cycle status).
    let r = page(&app, &ent, "/?as_of=2026-06-30").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(&format!("href=\"{book}\"")) && r.body.contains("东莞华瑞塑胶制品有限公司"), "{}", r.body);
    assert!(r.body.contains("截至 2026-06-30"), "the date of the alerts");
    assert_eq!(page(&app, &ent, "/?as_of=2026-6-30").await.status, 400, "a bad date is refused");

    // The reconciliation: a link per material to its drill-down, carrying the range.
    let r = page(&app, &ent, &format!("{book}/reconcile")).await;
    let links = attributes(&r.body, "data-testid=\"material-link\"", "href");
    assert_eq!(links, (1..=5).map(|s| format!("{book}/materials/{s}")).collect::<Vec<_>>(), "{}", r.body);
    let r = page(&app, &ent, &format!("{book}/reconcile?from=&to=2026-12-31")).await;
    assert_eq!(attributes(&r.body, "data-testid=\"material-link\"", "href")[0], format!("{book}/materials/1?to=2026-12-31"));

    // The book: materials with balances, products, 单耗 versions side by side.
    let r = page(&app, &ent, &book).await;
    for text in ["低密度聚乙烯", "食品用聚乙烯薄膜", "单耗版本对照", "版本 1（2026-01-01 起）", "035 千克", &format!("href=\"{book}/materials/1\"")] {
        assert!(r.body.contains(text), "{text} missing from the book page");
    }

    // The drill-down: the chart ends at the report's should-remain; a row per contribution.
    let r = page(&app, &ent, &format!("{book}/materials/1")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("data-testid=\"balance-chart\"") && r.body.contains("<svg"), "no chart");
    let table = &r.body[r.body.find("data-testid=\"contributions\"").expect("the contributions table")..];
    let table = &table[..table.find("</table>").expect("end of table")];
    assert!(table.matches("<tr>").count() > 1, "no contribution rows: {table}");
    let points = &r.body[r.body.find("data-testid=\"balance-points\"").expect("the chart's data")..];
    let points = &points[..points.find("</table>").expect("end of table")];
    let last = points.rsplit("<td class=\"num").next().and_then(|c| c.split('>').nth(1)).and_then(|c| c.split('<').next()).expect("a last balance").to_owned();
    let should = {
        let r = page(&app, &ent, &format!("{book}/reconcile")).await;
        let row = &r.body[r.body.find("<tr data-seq=\"1\">").expect("material 1")..];
        let row = &row[..row.find("</tr>").expect("end of row")];
        row.rsplit("<td class=\"num").next().and_then(|c| c.split('>').nth(1)).and_then(|c| c.split('<').next()).expect("should remain").to_owned()
    };
    assert_eq!(last, should, "the chart's last balance is the report's should-remain");

    // An unknown material, a bad range: error pages, not a crash.
    let r = page(&app, &ent, &format!("{book}/materials/99")).await;
    assert!(r.status == 422 && is_html(&r), "{} {}", r.status, r.body);
    let r = page(&app, &ent, &format!("{book}/materials/x")).await;
    assert!(r.status == 400 && is_html(&r), "{} {}", r.status, r.body);

    // The upload page: the contract of the browser tests.
    let r = page(&app, &ent, "/upload").await;
    for marker in ["data-testid=\"book-file\"", "data-testid=\"lists-file\"", "data-testid=\"book-upload\"", "data-testid=\"lists-upload\"", "data-testid=\"book-result\"", "data-testid=\"outcomes\""]
    {
        assert!(r.body.contains(marker), "{marker} missing from /upload");
    }
    assert!(r.body.contains("<label for=\"book-file\">") && r.body.contains("<label for=\"lists-file\">"), "file inputs have labels");
    assert!(r.body.contains("X-CSRF-Token") && r.body.contains("/api/v1/lists"), "the script posts to the API with the CSRF header");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_visitors_are_sent_to_the_login_page() {
    let Some(app) = spawn_app().await else { return };
    for (method, path) in [
        ("GET", "/".to_owned()),
        ("GET", format!("/books/{BOOK_NO}")),
        ("GET", format!("/books/{BOOK_NO}/reconcile")),
        ("GET", format!("/books/{BOOK_NO}/materials/1")),
        ("GET", "/upload".to_owned()),
        ("GET", "/review".to_owned()),
        ("POST", format!("/books/{BOOK_NO}/reviews")),
        ("POST", "/logout".to_owned()),
    ] {
        let r = common::send(app.addr, method, &path, &[FORM], Some(b"product_seq=1&version=1")).await;
        assert_eq!(r.status, 303, "anonymous {method} {path}: {}", r.body);
        assert!(r.header("location").is_some_and(|l| l.starts_with("/login")), "anonymous {method} {path}: {:?}", r.header("location"));
    }
    // The language chosen before logging in is kept for the login page.
    let r = common::send(app.addr, "GET", "/review?lang=en", &[], None).await;
    assert_eq!(r.status, 303);
    assert!(r.cookie("lang").as_deref() == Some("en"), "{:?}", r.headers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_enterprise_s_book_is_the_page_of_a_book_that_does_not_exist() {
    let Some(app) = spawn_app().await else { return };
    for login in ["other-op", "customs-2300"] {
        let s = log_in(&app, login).await;
        for suffix in ["", "/reconcile", "/materials/1"] {
            for lang in ["zh", "en"] {
                let real = page(&app, &s, &format!("/books/{BOOK_NO}{suffix}?lang={lang}")).await;
                let none = page(&app, &s, &format!("/books/{NO_BOOK}{suffix}?lang={lang}")).await;
                let what = format!("{login} GET /books/{BOOK_NO}{suffix}?lang={lang}");
                assert_eq!(real.status, 404, "{what}: {}", real.body);
                assert!(is_html(&real), "{what}");
                assert_eq!(real.body.replace(BOOK_NO, NO_BOOK), none.body, "{what}: not the page of a book that does not exist");
                assert!(!real.body.contains("东莞华瑞"), "{what}: shows the book's data");
            }
        }
        // Nor do the dashboard and the review queue show it.
        for path in ["/", "/review", "/upload"] {
            let r = page(&app, &s, path).await;
            assert_eq!(r.status, 200, "{login} GET {path}: {}", r.body);
            assert!(!r.body.contains(BOOK_NO), "{login} GET {path} shows {BOOK_NO}");
        }
    }
}

/// The review rows of a page: (book, product, version, state), and whether each has an accept button.
fn review_rows(html: &str) -> Vec<(String, String, String, String, bool)> {
    html.split("<tr data-testid=\"review-row\"")
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</tr>").unwrap_or(row.len())];
            let attr = |n: &str| {
                let needle = format!("{n}=\"");
                let i = row.find(&needle).map(|i| i + needle.len()).unwrap_or(0);
                row[i..i + row[i..].find('"').unwrap_or(0)].to_owned()
            };
            (attr("data-book"), attr("data-product"), attr("data-version"), attr("data-state"), row.contains("data-testid=\"accept\""))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customs_officer_accepts_a_declared_version_from_the_review_page() {
    let Some(app) = spawn_app().await else { return };
    let customs = log_in(&app, "customs-5200").await;
    let rows = review_rows(&page(&app, &customs, "/review").await.body);
    let (book, product, version, state, button) = rows.iter().find(|r| r.0 == BOOK_NO && r.3 == "declared").cloned().expect("a declared version of the example book");
    assert!(button, "a declared version has an accept button");
    assert_eq!(state, "declared");
    let target = format!("/books/{book}/reviews");
    let fields = format!("product_seq={product}&version={version}&action=accept");

    // Without the CSRF token (or with another one): refused, nothing changes.
    for body in [fields.clone(), format!("{fields}&_csrf={}", "0".repeat(64))] {
        let r = form(&app, &customs, &target, &body).await;
        assert_eq!((r.status, r.rule().as_str()), (403, "csrf"), "POST {target} {body}: {}", r.body);
    }
    // Another district's officer: the book does not exist for it.
    let far = log_in(&app, "customs-2300").await;
    let r = form(&app, &far, &target, &format!("{fields}&_csrf={}", far.csrf)).await;
    assert_eq!(r.status, 404, "customs-2300 POST {target}: {}", r.body);
    // The enterprise sees the state but has no button, and may not review its own 单耗.
    let ent = log_in(&app, "ent-admin").await;
    let ent_rows = review_rows(&page(&app, &ent, "/review").await.body);
    assert!(!ent_rows.is_empty() && ent_rows.iter().all(|r| !r.4), "the enterprise has no accept button: {ent_rows:?}");
    let r = form(&app, &ent, &target, &format!("{fields}&_csrf={}", ent.csrf)).await;
    assert_eq!(r.status, 404, "ent-admin POST {target}: {}", r.body);
    assert_eq!(review_rows(&page(&app, &customs, "/review").await.body), rows, "a refused review changed the queue");

    // With the form's `_csrf` field: accepted, back to the queue.
    let r = form(&app, &customs, &target, &format!("{fields}&_csrf={}", customs.csrf)).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/review")), "POST {target}: {}", r.body);
    let after = review_rows(&page(&app, &customs, "/review").await.body);
    let row = after.iter().find(|r| r.0 == book && r.1 == product && r.2 == version).expect("the version is still listed");
    assert_eq!((row.3.as_str(), row.4), ("accepted", false), "accepted, and no button any more");
    // Accepting it again is refused with the rule, on an error page.
    let r = form(&app, &customs, &target, &format!("{fields}&_csrf={}", customs.csrf)).await;
    assert!(r.status == 422 && is_html(&r), "{} {}", r.status, r.body);
    // An incomplete form is a bad request.
    let r = form(&app, &customs, &target, &format!("version=1&_csrf={}", customs.csrf)).await;
    assert!(r.status == 400 && is_html(&r), "{} {}", r.status, r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_ends_the_session() {
    let Some(app) = spawn_app().await else { return };
    let s = log_in(&app, "ent-admin").await;
    assert_eq!(page(&app, &s, "/").await.status, 200);
    let r = form(&app, &s, "/logout", "").await;
    assert_eq!(r.status, 403, "logging out needs the CSRF token: {}", r.body);
    let r = form(&app, &s, "/logout", &format!("_csrf={}", s.csrf)).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/login")), "{}", r.body);
    assert!(r.headers_named("set-cookie").iter().any(|c| c.starts_with("jiamao_session=;") && c.contains("Max-Age=0")), "{:?}", r.headers);
    let r = page(&app, &s, "/").await;
    assert_eq!(r.status, 303, "the old session still works: {}", r.body);
    // A wrong password: the login page again, with the message in the chosen language.
    let r = common::send(app.addr, "POST", "/login?lang=en", &[FORM], Some(b"login=ent-admin&password=wrong+password&next=%2F")).await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Login or password is wrong") && r.body.contains("<html lang=\"en\">"), "{}", r.body);
}

// ---- The translations ---------------------------------------------------------------------------

/// The files that render pages; every string literal of them shaped like a key (`a.b`, lower case)
/// outside their tests is a translation key.
const PAGE_SOURCES: &[&str] = &["src/html.rs", "src/i18n.rs", "src/web.rs", "src/pages_enterprise.rs", "src/pages_customs.rs", "src/charts.rs"];

fn is_key(s: &str) -> bool {
    let mut parts = s.split('.');
    s.contains('.') && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')) && s.as_bytes()[0].is_ascii_lowercase()
}

fn keys_used() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for file in PAGE_SOURCES {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (at, _) in code.match_indices('"') {
            let rest = &code[at + 1..];
            let len = rest.bytes().take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'.').count();
            if rest.as_bytes().get(len) == Some(&b'"') && is_key(&rest[..len]) {
                keys.insert(rest[..len].to_owned());
            }
        }
    }
    keys
}

fn translations(lang: &str) -> serde_json::Map<String, serde_json::Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("i18n/{lang}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_key_the_pages_use_is_translated_in_both_languages() {
    let used = keys_used();
    assert!(used.len() > 100 && used.contains("site.name") && used.contains("role.customs_officer"), "too few keys read from the source: {used:?}");
    let zh = translations("zh");
    let en = translations("en");
    for (lang, table) in [("zh", &zh), ("en", &en)] {
        let missing: Vec<&String> = used.iter().filter(|k| !table.contains_key(k.as_str())).collect();
        assert!(missing.is_empty(), "keys used by the pages but missing from i18n/{lang}.json: {missing:?}");
        let unused: Vec<&String> = table.keys().filter(|k| !used.contains(k.as_str())).collect();
        assert!(unused.is_empty(), "keys of i18n/{lang}.json no page uses: {unused:?}");
        for (k, v) in table {
            assert!(v.as_str().is_some_and(|s| !s.trim().is_empty()), "i18n/{lang}.json: {k} is not a text");
        }
    }
    let zh_keys: BTreeSet<&String> = zh.keys().collect();
    let en_keys: BTreeSet<&String> = en.keys().collect();
    assert_eq!(zh_keys, en_keys, "both files have the same keys");
    // The placeholders of a text are the same in both languages.
    for (k, v) in &zh {
        let names = |s: &str| -> BTreeSet<String> { s.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned())).collect() };
        let other = en[k].as_str().unwrap_or_default();
        assert_eq!(names(v.as_str().unwrap_or_default()), names(other), "{k}: the placeholders differ between zh and en");
    }
}
