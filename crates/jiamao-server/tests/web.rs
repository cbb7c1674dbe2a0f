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

/// Two catalog versions (written for the tests; no item of the example book is in them).
const CATALOG_1: &str = "\
hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement
2836200000,prohibited,both,,,2015-01-01,2020-11-30,商务部 海关总署公告2014年第90号
";
const CATALOG_2: &str = "\
hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement
2836200000,prohibited,both,,,2015-01-01,2020-11-30,商务部 海关总署公告2014年第90号
2207100000,prohibited,import,,医用物资除外,2020-12-01,,商务部 海关总署公告2020年第54号
";
/// A version that would restrict the example's first material (low-density polyethylene).
const CATALOG_3: &str = "\
hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement
2836200000,prohibited,both,,,2015-01-01,2020-11-30,商务部 海关总署公告2014年第90号
3901100090,restricted,import,,,2026-01-01,,written for the tests
";
/// A national 单耗 standard (written for the tests): the example's film from polyethylene.
const NORMS: &str = "row_id,standard_no,policy_basis,finished_code,finished_name,finished_unit,finished_spec,material_codes,material_name,material_unit,material_spec,value_kind,value,value_unit,process_loss_rate_pct,source_url,note
1,HDB/TEST-2026,written for the tests,39201090,聚乙烯薄膜,千克,,39011000,低密度聚乙烯,千克,,net,0.685,千克/千克,2,http://example.invalid/norms,written for the tests
";

/// A tariff written for the tests (not official rates) for the example's HS codes, from 2026-01-01
/// (the one of tests/api.rs, whose quote of QD…006 is checked by hand in the domain's tests).
fn test_tariff() -> jiamao_domain::tax::tariff::TariffDoc {
    use jiamao_domain::tax::tariff::{TariffDoc, TariffLineDoc};
    let line = |code: &str, mfn: &str, provisional: &str| TariffLineDoc {
        code: code.into(),
        name: format!("test line {code}"),
        mfn: mfn.into(),
        provisional: provisional.into(),
        general: "30%".into(),
        agreements: Default::default(),
        consumption: "0%".into(),
        vat: "13%".into(),
        legal_unit: "千克".into(),
    };
    TariffDoc {
        name: "test tariff 2026".into(),
        valid_from: "2026-01-01".parse().expect("date"),
        source: "written for the tests".into(),
        lines: vec![
            line("3901100090", "6.5%", ""),
            line("3901402090", "6.5%", "5%"),
            line("3206499000", "6.5%", ""),
            line("3215190090", "6.5%", ""),
            line("4822900000", "5%", ""),
            line("3920109090", "6.5%", ""),
            line("3923210000", "6.5%", ""),
        ],
    }
}

/// The application with the example book and its good lists posted (by the local operator), a
/// tariff, rates, two catalog versions and a 单耗 standard, and accounts: `ent-admin` (the book's
/// enterprise), `other-op` (another enterprise), `customs-5200` (the book's district),
/// `customs-2300` (another district), `super-5200` (a customs supervisor of the book's district),
/// `commerce-44` (commerce officer of the book's province), `auditor` and `admin`.
async fn spawn_app() -> Option<App> {
    let examples = examples()?;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("jiamao.db"), Durability::Full).expect("open store");
    let mut e = Engine::new(store);
    e.set_ctx(jiamao_app::platform::Ctx::default());
    e.add_user("ent-admin", Role::EnterpriseAdmin, Some(ENTERPRISE), None, None, PASSWORD).expect("account");
    e.add_user("other-op", Role::EnterpriseOperator, Some(OTHER), None, None, PASSWORD).expect("account");
    e.add_user("customs-5200", Role::CustomsOfficer, None, Some("5200"), None, PASSWORD).expect("account");
    e.add_user("customs-2300", Role::CustomsOfficer, None, Some("2300"), None, PASSWORD).expect("account");
    e.add_user("super-5200", Role::CustomsSupervisor, None, Some("5200"), None, PASSWORD).expect("account");
    e.add_user("commerce-44", Role::CommerceOfficer, None, None, Some("44"), PASSWORD).expect("account");
    e.add_user("auditor", Role::Auditor, None, None, None, PASSWORD).expect("account");
    e.add_user("admin", Role::Admin, None, None, None, PASSWORD).expect("account");
    e.import_book(&read(&examples, "book.json"), "book.json").expect("the example book");
    let outcomes = e.post_text(&read(&examples, "lists.json"), "lists.json").expect("the example lists");
    assert!(outcomes.iter().all(|o| o.status == "posted"), "{outcomes:?}");
    e.load_tariff(&test_tariff()).expect("load the tariff");
    let rates = jiamao_domain::tax::rates::parse_rates_csv("kind,key,rate,valid_from\nexchange,502,7.1000,2026-05-01\n", "test rates").expect("rates");
    e.load_rates(&rates).expect("load the rates");
    for (name, csv) in [("web-1", CATALOG_1), ("web-2", CATALOG_2)] {
        let entries = jiamao_domain::catalog::parse_catalog_csv(csv, name).expect("a catalog");
        e.load_catalog_as_of(name, entries, Some("2026-01-01".parse().expect("date"))).expect("load the catalog");
    }
    let norms = jiamao_domain::norms::Norms::parse_csv(NORMS, "norms.csv").expect("norms");
    e.load_ucns_norms("web-norms", "2026-01-01".parse().expect("date"), &norms).expect("load the norms");
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

/// The page of a form refused for its CSRF token: 403, a page (not JSON), naming the rule.
fn is_csrf_page(r: &Reply) -> bool {
    r.status == 403 && is_html(r) && r.body.contains("<code>csrf</code>")
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
    // Readable on a tablet: the narrow-screen rule is in every page.
    assert!(r.body.contains("@media (max-width:60rem)"), "{what}: no rule for narrow screens");
    // Keyboard and screen readers: every field has its label, every sortable heading is a link.
    for tag in ["<input ", "<select ", "<textarea "] {
        for (at, _) in r.body.match_indices(tag) {
            let element = &r.body[at..at + r.body[at..].find('>').unwrap_or(0)];
            if element.contains("type=\"hidden\"") {
                continue;
            }
            let id = element.split("id=\"").nth(1).and_then(|x| x.split('"').next()).unwrap_or_else(|| panic!("{what}: a field without an id: {element}"));
            assert!(r.body.contains(&format!("<label for=\"{id}\">")), "{what}: the field {id} has no label");
        }
    }
    for (at, _) in r.body.match_indices(" aria-sort=\"") {
        let cell = &r.body[at..at + r.body[at..].find("</th>").unwrap_or(0)];
        assert!(cell.contains("<a class=\"sort\" data-partial href=\""), "{what}: a sortable heading is not a link (updating the table in place): {cell}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_answers_in_chinese_and_in_english() {
    let Some(app) = spawn_app().await else { return };
    let ent = log_in(&app, "ent-admin").await;
    let customs = log_in(&app, "customs-5200").await;
    let supervisor = log_in(&app, "super-5200").await;
    let commerce = log_in(&app, "commerce-44").await;
    let auditor = log_in(&app, "auditor").await;
    let admin = log_in(&app, "admin").await;
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
        (&ent, format!("{book}/reconcile"), "盘点文件", "Stocktake file"),
        (&ent, format!("{book}/lists"), "核注清单", "Posted lists"),
        (&ent, format!("{book}/lists?direction=I&sort=list_no&order=asc&per=2"), "首页", "First"),
        (&ent, format!("{book}/balance?as_of=2026-06-30"), "截至 2026-06-30", "as of 2026-06-30"),
        (&ent, format!("{book}/tax?as_of=2026-12-31&list_no=QD520026000000006&payment_note_date=2026-06-20"), "应缴合计 3931.96 元", "Total due: CNY 3931.96"),
        (&customs, format!("{book}/tax?as_of=2026-12-31"), "缴款期限", "Due"),
        (&customs, "/district".into(), "风险提示", "Risk flags"),
        (&customs, format!("/review?book={BOOK_NO}"), "标准最高值", "declared 单耗"),
        (&commerce, "/catalogs?from=web-1&to=web-2".into(), "新增 1 项", "1 added"),
        (&supervisor, "/catalogs".into(), "预览影响", "Preview the impact"),
        (&auditor, "/audit".into(), "审计链完整", "audit chains are intact"),
        (&ent, "/audit".into(), "审计链完整", "audit chains are intact"),
        (&admin, "/accounts".into(), "开设账号", "Open an account"),
        (&ent, "/accounts".into(), "企业统一社会信用代码", "Enterprise (USCC)"),
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
    assert!(r.status == 404 && is_html(&r) && r.body.contains("<code>unknown_item</code>"), "a material the book does not have is a page that does not exist: {} {}", r.status, r.body);
    let r = page(&app, &ent, &format!("{book}/materials/x")).await;
    assert!(r.status == 400 && is_html(&r), "{} {}", r.status, r.body);

    // The upload page: the contract of the browser tests.
    let r = page(&app, &ent, "/upload").await;
    for marker in ["data-testid=\"book-file\"", "data-testid=\"lists-file\"", "data-testid=\"book-upload\"", "data-testid=\"lists-upload\""] {
        assert!(r.body.contains(marker), "{marker} missing from /upload");
    }
    assert!(r.body.contains("<label for=\"book-file\">") && r.body.contains("<label for=\"lists-file\">"), "file inputs have labels");
    assert_eq!(r.body.matches("enctype=\"multipart/form-data\"").count(), 2, "two file forms posted with the page (no script needed)");
    assert_eq!(r.body.matches(&format!("name=\"_csrf\" value=\"{}\"", ent.csrf)).count(), 3, "each form (and the logout) carries the CSRF token");
}

/// A `multipart/form-data` body as a browser sends a form with files: (field, file name, content).
const BOUNDARY: &str = "----jiamao-web-test";

fn multipart(parts: &[(&str, Option<&str>, &str)]) -> String {
    let mut out = String::new();
    for (name, file, content) in parts {
        let file = file.map(|f| format!("; filename=\"{f}\"\r\nContent-Type: application/json")).unwrap_or_default();
        out.push_str(&format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n{content}\r\n"));
    }
    out.push_str(&format!("--{BOUNDARY}--\r\n"));
    out
}

async fn multipart_form(app: &App, s: &Session, path: &str, parts: &[(&str, Option<&str>, &str)]) -> Reply {
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    common::send(app.addr, "POST", path, &[("Cookie", &s.cookies), ("Content-Type", &ct)], Some(multipart(parts).as_bytes())).await
}

/// The rows of a page's outcomes table: (list_no, status, rule, message).
fn outcome_rows(html: &str) -> Vec<(String, String, String, String)> {
    let cell_text = |c: &str| {
        let inner = &c[c.find('>').map_or(0, |i| i + 1)..];
        let inner = inner.rsplit_once("</td>").map_or(inner, |(a, _)| a);
        // Text without tags, unescaped as the page escaped it.
        let mut text = String::new();
        let mut in_tag = false;
        for ch in inner.chars() {
            match ch {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        text.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    };
    html.split("<tr data-status=\"")
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</tr>").expect("end of row")];
            let status = row.split('"').next().unwrap_or_default().to_owned();
            let cells: Vec<String> = row.split("<td").skip(1).map(cell_text).collect();
            (cells[0].clone(), status, cells[2].clone(), cells[4].clone())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_are_checked_inline_by_the_api_s_rules() {
    let Some(app) = spawn_app().await else { return };
    let ent = log_in(&app, "ent-admin").await;
    let check = |rule: &str, value: &str, lang: &str| format!("/check?rule={rule}&value={value}&lang={lang}");
    let r = page(&app, &ent, &check("uscc", "91441900698123458E", "zh")).await;
    assert_eq!((r.status, r.json()["ok"].as_bool()), (200, Some(true)), "{}", r.body);
    let r = page(&app, &ent, &check("uscc", "91441900698123458F", "zh")).await;
    let zh = r.json()["message"].as_str().unwrap_or_default().to_owned();
    assert!(r.json()["ok"] == false && zh.contains("统一社会信用代码"), "{}", r.body);
    let r = page(&app, &ent, &check("uscc", "91441900698123458F", "en")).await;
    assert!(r.json()["message"].as_str().is_some_and(|m| m.starts_with("A unified social credit code")), "{}", r.body);
    for (rule, bad, good) in [("date", "2026-02-30", "2026-02-28"), ("amount", "1%2C000", "1000.50"), ("hs", "39011", "3901100000"), ("district", "52", "5200"), ("password", "short", "long+enough+1")]
    {
        assert_eq!(page(&app, &ent, &check(rule, bad, "en")).await.json()["ok"], false, "{rule} {bad}");
        assert_eq!(page(&app, &ent, &check(rule, good, "en")).await.json()["ok"], true, "{rule} {good}");
    }
    let r = page(&app, &ent, &check("nothing", "x", "en")).await;
    assert_eq!((r.status, r.rule().as_str()), (400, "bad_query"), "{}", r.body);
    // The fields carry their rule for the page's script.
    let r = page(&app, &ent, "/accounts").await;
    for (id, rule) in [("login", "login"), ("enterprise", "uscc"), ("customs", "district"), ("province", "province"), ("password", "password")] {
        assert!(r.body.contains(&format!("<input id=\"{id}\" name=\"{id}\" value=\"")) && r.body.contains(&format!("data-check=\"{rule}\"")), "{id}");
    }
    let r = page(&app, &ent, &format!("/books/{BOOK_NO}/balance")).await;
    assert!(r.body.contains("data-check=\"date\""), "date fields are checked as they change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_uploaded_with_the_page_s_forms_exactly_as_through_the_api() {
    let Some(app) = spawn_app().await else { return };
    let Some(dir) = examples() else { return };
    let ent = log_in(&app, "ent-admin").await;
    let token = ("_csrf", None, ent.csrf.as_str());
    // The book again: unchanged, said next to its form with a link to the book.
    let book = read(&dir, "book.json");
    let r = multipart_form(&app, &ent, "/upload", &[token, ("book", Some("book.json"), &book)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let result = &r.body[r.body.find("data-testid=\"book-result\"").expect("the book's result")..];
    assert!(result[..result.find("</p>").expect("end")].contains(&format!("href=\"/books/{BOOK_NO}\"")), "{result}");
    // The bad lists: each outcome exactly the API's (list, status, rule, message).
    let bad = read(&dir, "lists-bad.json");
    let r = multipart_form(&app, &ent, "/upload", &[token, ("lists", Some("lists-bad.json"), &bad)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("data-testid=\"lists-result\""), "{}", r.body);
    let rows = outcome_rows(&r.body);
    let api = common::send(app.addr, "POST", "/api/v1/lists", &[("Cookie", &ent.cookies), ("X-CSRF-Token", &ent.csrf)], Some(bad.as_bytes())).await;
    let want: Vec<(String, String, String, String)> = api
        .json()
        .as_array()
        .expect("outcomes")
        .iter()
        .map(|o| {
            let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
            (s(&o["list_no"]), s(&o["status"]), s(&o["error"]["rule"]), s(&o["error"]["message"]))
        })
        .collect();
    assert!(want.iter().any(|w| w.1 == "rejected"), "the example's bad lists are rejected: {want:?}");
    assert_eq!(rows, want, "the page shows the API's outcomes");
    // A file that is not a list document, no file at all, no CSRF token.
    let r = multipart_form(&app, &ent, "/upload", &[token, ("lists", Some("x.json"), "{not json")]).await;
    assert!(r.status == 422 && r.body.contains("data-testid=\"lists-result\"") && r.body.contains("role=\"alert\""), "{} {}", r.status, r.body);
    let r = multipart_form(&app, &ent, "/upload", &[token, ("lists", Some(""), "")]).await;
    assert!(r.status == 422 && r.body.contains("<code>file_missing</code>"), "{} {}", r.status, r.body);
    let r = multipart_form(&app, &ent, "/upload", &[("lists", Some("lists-bad.json"), &bad)]).await;
    assert!(is_csrf_page(&r), "{} {}", r.status, r.body);
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
        ("GET", format!("/books/{BOOK_NO}/lists")),
        ("GET", format!("/books/{BOOK_NO}/balance")),
        ("GET", format!("/books/{BOOK_NO}/tax")),
        ("GET", "/district".to_owned()),
        ("GET", "/catalogs".to_owned()),
        ("GET", "/audit".to_owned()),
        ("GET", "/accounts".to_owned()),
        ("POST", "/accounts".to_owned()),
        ("POST", "/accounts/other-op/disable".to_owned()),
        ("POST", "/catalogs/preview".to_owned()),
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
        assert!(is_csrf_page(&r), "POST {target} {body}: {} {}", r.status, r.body);
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

// ---- The lists, balances and tax pages ----------------------------------------------------------

/// The text of the last numeric cell of the row that starts at `marker`.
fn last_number(html: &str, marker: &str) -> String {
    let row = &html[html.find(marker).unwrap_or_else(|| panic!("no {marker}"))..];
    let row = &row[..row.find("</tr>").expect("end of row")];
    row.rsplit("<td class=\"num").next().and_then(|c| c.split('>').nth(1)).and_then(|c| c.split('<').next()).expect("a number").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posted_lists_are_filtered_sorted_paged_and_expand_to_their_lines() {
    let Some(app) = spawn_app().await else { return };
    let ent = log_in(&app, "ent-admin").await;
    let lists = |q: &str| format!("/books/{BOOK_NO}/lists{q}");
    let shown = |r: &Reply| attributes(&r.body, "data-testid=\"list-row\"", "data-list");
    let no = |n: u32| format!("QD5200260000000{n:02}");

    // Newest first by default; every list of the open cycle.
    let r = page(&app, &ent, &lists("")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(shown(&r), (1..=14).rev().map(no).collect::<Vec<_>>());
    assert!(r.body.contains("data-sort=\"declared_on\"") && r.body.contains("aria-sort=\"descending\""), "the sorted column says so");
    // Filters: direction, trade mode, dates, part of the number; and together.
    assert_eq!(shown(&page(&app, &ent, &lists("?direction=I&sort=list_no&order=asc")).await), [1, 3, 8, 13].map(no));
    assert_eq!(shown(&page(&app, &ent, &lists("?trade_mode=0644&sort=list_no&order=asc")).await), [5, 6].map(no));
    assert_eq!(shown(&page(&app, &ent, &lists("?from=2026-05-01&to=2026-06-30&sort=declared_on&order=asc")).await), [5, 6].map(no));
    assert_eq!(shown(&page(&app, &ent, &lists("?list_no=00000012")).await), [no(12)]);
    assert_eq!(shown(&page(&app, &ent, &lists("?direction=E&trade_mode=0615&sort=list_no&order=asc")).await), [2, 7].map(no));
    let r = page(&app, &ent, &lists("?trade_mode=9999")).await;
    assert!(r.status == 200 && shown(&r).is_empty() && r.body.contains("data-testid=\"no-lists\""), "{}", r.body);
    // Sorted by number, five per page: the second page, with links to the others keeping the filters.
    let r = page(&app, &ent, &lists("?sort=list_no&order=asc&per=5&page=2&direction=E")).await;
    let exports: Vec<String> = [2, 4, 5, 6, 7, 9, 10, 11, 12, 14].map(no).to_vec();
    assert_eq!(shown(&r), exports[5..10].to_vec());
    assert!(r.body.contains("Rows 6–10 of 10") || r.body.contains("第 6–10 条，共 10 条"), "{}", r.body);
    let prev = attributes(&r.body, "data-testid=\"page-prev\"", "href");
    assert_eq!(prev, [format!("/books/{BOOK_NO}/lists?direction=E&sort=list_no&order=asc&per=5")]);
    assert!(attributes(&r.body, "data-testid=\"page-next\"", "href").is_empty(), "no next page after the last");
    // Beyond the last page: the last page.
    assert_eq!(shown(&page(&app, &ent, &lists("?sort=list_no&order=asc&per=5&page=99&direction=E")).await), exports[5..10].to_vec());
    // By number of lines, descending: the five-line import first.
    assert_eq!(shown(&page(&app, &ent, &lists("?sort=lines&order=desc")).await)[0], no(1));
    // Each list expands to its lines (with the items' names and the 单耗 version used).
    let r = page(&app, &ent, &lists("?list_no=qd520026000000001")).await;
    let details = &r.body[r.body.find("data-testid=\"list-lines\"").expect("the lines")..];
    let details = &details[..details.find("</table>").expect("end")];
    assert_eq!(details.matches("<tr>").count(), 1 + 5, "a heading and five lines: {details}");
    assert!(details.contains("低密度聚乙烯") && r.body.contains("<details><summary>"), "{details}");
    let r = page(&app, &ent, &lists("?list_no=00000002&lang=en")).await;
    assert!(r.body.contains("Show 1 lines") && r.body.contains("食品用聚乙烯薄膜"), "a product list names its product: {}", r.body);
    // A bad date: the form again, with the API's message for the same value next to the field.
    let r = page(&app, &ent, &lists("?from=2026-5-1&lang=en")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("aria-invalid=\"true\"") && r.body.contains("data-testid=\"date-error\"") && r.body.contains("“2026-5-1” is not a date"), "{}", r.body);
    assert!(shown(&r).is_empty());
    let api = page(&app, &ent, &format!("/api/v1/books/{BOOK_NO}/balance?as_of=2026-5-1")).await;
    assert_eq!((api.status, api.rule().as_str()), (400, "bad_query"), "the API refuses the same value: {}", api.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balances_as_of_a_date_are_the_api_s() {
    let Some(app) = spawn_app().await else { return };
    let ent = log_in(&app, "ent-admin").await;
    for (date, q) in [("2026-01-31", "?as_of=2026-01-31"), ("2026-06-30", "?as_of=2026-06-30"), ("", "")] {
        let r = page(&app, &ent, &format!("/books/{BOOK_NO}/balance{q}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let api = page(&app, &ent, &format!("/api/v1/books/{BOOK_NO}/balance{q}")).await.json();
        for m in api["materials"].as_array().expect("materials") {
            let seq = m["seq"].as_u64().expect("seq");
            assert_eq!(last_number(&r.body, &format!("<tr data-seq=\"{seq}\">")), m["balance"].as_str().expect("balance"), "as of {date:?}: material {seq}");
        }
        if !date.is_empty() {
            assert!(r.body.contains(&format!("value=\"{date}\"")) && r.body.contains(&format!("materials/1?to={date}")), "the date stays in the form and the drill-down");
        }
    }
    // Sorted by balance, descending.
    let r = page(&app, &ent, &format!("/books/{BOOK_NO}/balance?as_of=2026-06-30&sort=balance&order=desc")).await;
    let seqs = attributes(&r.body, "<tr data-seq=", "data-seq");
    let balances: Vec<f64> = seqs.iter().map(|s| last_number(&r.body, &format!("<tr data-seq=\"{s}\">")).parse().expect("number")).collect();
    assert!(balances.windows(2).all(|w| w[0] >= w[1]), "{balances:?}");
    // A bad date: the form with the message inline (the API's rule), no table.
    for bad in ["2026-02-30", "2026-6-30", "yesterday"] {
        let r = page(&app, &ent, &format!("/books/{BOOK_NO}/balance?as_of={bad}")).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.body.contains(&format!("“{bad}”不是有效日期")) && r.body.contains("aria-describedby=\"as_of-error\"") && !r.body.contains("data-testid=\"balances\""), "{bad}: {}", r.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tax_periods_and_the_quote_of_a_domestic_sale() {
    let Some(app) = spawn_app().await else { return };
    let ent = log_in(&app, "ent-admin").await;
    let tax = |q: &str| format!("/books/{BOOK_NO}/tax{q}");
    let r = page(&app, &ent, &tax("?as_of=2026-12-31")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Each domestic sale is its own period (no schedule recorded), as the API reports them.
    let periods = attributes(&r.body, "<tr data-period=", "data-period");
    let api = page(&app, &ent, &format!("/api/v1/books/{BOOK_NO}/tax/periods?as_of=2026-12-31")).await.json();
    let api_periods: Vec<String> = api["periods"].as_array().expect("periods").iter().map(|p| p["label"].as_str().expect("label").to_owned()).collect();
    assert_eq!(periods, api_periods);
    assert!(periods.contains(&"QD520026000000006".to_owned()), "{periods:?}");
    // Before the first sale: none.
    let r = page(&app, &ent, &tax("?as_of=2026-03-01")).await;
    assert!(r.body.contains("data-testid=\"no-periods\"") && r.body.contains("data-testid=\"no-sales\""), "{}", r.body);
    // The quote of the product sale QD…006 (the hand-checked figures of tests/api.rs).
    let r = page(&app, &ent, &tax("?as_of=2026-12-31&list_no=QD520026000000006&payment_note_date=2026-06-20")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let lines = &r.body[r.body.find("data-testid=\"quote-lines\"").expect("the quote's lines")..];
    let lines = &lines[..lines.find("</tbody>").expect("end")];
    assert_eq!(lines.matches("<tr>").count(), 1 + 4, "a heading and four lines");
    let totals = &r.body[r.body.find("data-testid=\"quote-totals\"").expect("totals")..];
    assert!(totals.contains(">1202.74<") && totals.contains(">2723.08<") && totals.contains(">6.14<"), "{totals}");
    assert!(r.body.contains("应缴合计 3931.96 元"), "{}", r.body);
    assert!(r.body.contains("<option value=\"QD520026000000006\" selected>"), "the list stays chosen");
    // A list that is not a posted domestic sale, a bad date: said on the page.
    let r = page(&app, &ent, &tax("?as_of=2026-12-31&list_no=QX-NOPE")).await;
    assert!(r.status == 422 && r.body.contains("data-testid=\"quote-refused\""), "{} {}", r.status, r.body);
    let r = page(&app, &ent, &tax("?as_of=2026-12-31&list_no=QD520026000000006&payment_note_date=2026-06-31")).await;
    assert!(r.status == 400 && r.body.contains("payment_note_date-error") && !r.body.contains("quote-lines"), "{} {}", r.status, r.body);
    // Customs of the district reads tax; a commerce officer does not (the page of no book).
    let customs = log_in(&app, "customs-5200").await;
    assert_eq!(page(&app, &customs, &tax("?as_of=2026-12-31")).await.status, 200);
    let commerce = log_in(&app, "commerce-44").await;
    let real = page(&app, &commerce, &tax("")).await;
    let none = page(&app, &commerce, &format!("/books/{NO_BOOK}/tax")).await;
    assert_eq!((real.status, real.body.replace(BOOK_NO, NO_BOOK)), (404, none.body), "commerce-44 GET tax");
    // A book's pages link to each other, those the account may open.
    let r = page(&app, &ent, &tax("")).await;
    let nav = &r.body[r.body.find("data-testid=\"book-nav\"").expect("the book's navigation")..];
    let nav = &nav[..nav.find("</nav>").expect("end")];
    for suffix in ["\"", "/lists\"", "/balance\"", "/reconcile\"", "/tax\" aria-current=\"page\""] {
        assert!(nav.contains(&format!("href=\"/books/{BOOK_NO}{suffix}")), "{suffix}: {nav}");
    }
    let r = page(&app, &commerce, &format!("/books/{BOOK_NO}/balance")).await;
    assert!(r.status == 200 && !r.body.contains(&format!("/books/{BOOK_NO}/tax\"")), "no link to a page the account may not open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciliation_page_takes_a_stocktake() {
    let Some(app) = spawn_app().await else { return };
    let ent = log_in(&app, "ent-admin").await;
    let path = format!("/books/{BOOK_NO}/reconcile");
    let r = page(&app, &ent, &path).await;
    for marker in ["data-testid=\"stocktake-file\"", "data-testid=\"stocktake-upload\"", "enctype=\"multipart/form-data\""] {
        assert!(r.body.contains(marker), "{marker} missing");
    }
    assert!(r.body.contains("<label for=\"stocktake-file\">"), "the file input has a label");
    assert!(!r.body.contains("data-testid=\"differences\""), "no differences before a stocktake");
    let Some(dir) = examples() else { return };
    let stocktake = read(&dir, "stocktake.json");
    let token = ("_csrf", None, ent.csrf.as_str());
    let r = multipart_form(&app, &ent, &path, &[token, ("stocktake", Some("stocktake.json"), &stocktake)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The differences: the API's figures, in the table and as bars drawn on the server.
    let api = common::send(app.addr, "POST", &format!("/api/v1/books/{BOOK_NO}/reconcile"), &[("Cookie", &ent.cookies), ("X-CSRF-Token", &ent.csrf)], Some(stocktake.as_bytes())).await;
    assert_eq!(api.status, 200, "{}", api.body);
    let materials = api.json()["materials"].as_array().cloned().expect("materials");
    let table = &r.body[r.body.find("data-testid=\"differences\"").expect("the differences table")..];
    let table = &table[..table.find("</table>").expect("end")];
    let chart = &r.body[r.body.find("data-testid=\"differences-chart\"").expect("the chart is drawn on the server")..];
    let chart = &chart[..chart.find("</svg>").expect("end of the chart")];
    assert_eq!(table.matches("<tr data-seq=").count(), materials.len());
    assert_eq!(chart.matches("<g data-seq=").count(), materials.len());
    for m in &materials {
        let (seq, difference) = (m["seq"].as_u64().expect("seq"), m["difference"].as_str().expect("difference"));
        let row = &table[table.find(&format!("<tr data-seq=\"{seq}\">")).expect("a row per material")..];
        let row = &row[..row.find("</tr>").expect("end")];
        assert!(row.ends_with(&format!(">{difference}</td>")), "material {seq}: the difference is the API's {difference}: {row}");
        assert!(chart.contains(&format!("<g data-seq=\"{seq}\">")) && chart.contains(&format!(">{difference}</text>")), "material {seq}: a bar labelled {difference}");
    }
    assert!(r.body.contains("data-testid=\"stocktake-result\" role=\"status\""), "{}", r.body);
    // A stocktake that is not one, a refused date: said on the page, nothing else.
    let r = multipart_form(&app, &ent, &path, &[token, ("stocktake", Some("s.json"), "{\"taken_on\": 1}")]).await;
    assert!(r.status == 422 && r.body.contains("data-testid=\"stocktake-result\"") && r.body.contains("role=\"alert\""), "{} {}", r.status, r.body);
    let r = page(&app, &ent, &format!("{path}?to=2026-02-30")).await;
    assert!(r.status == 400 && r.body.contains("data-testid=\"date-error\"") && !r.body.contains("data-testid=\"reconcile-materials\""), "{} {}", r.status, r.body);
    // Thousands of materials: the table is sorted by any figure and paged on the server.
    let all = page(&app, &ent, &path).await;
    let figure = |html: &str| -> Vec<(String, String)> {
        attributes(html, "data-testid=\"material-link\"", "href")
            .iter()
            .map(|href| {
                let seq = href.rsplit('/').next().unwrap_or_default().to_owned();
                let row = &html[html.find(&format!("<tr data-seq=\"{seq}\">")).expect("the row")..];
                let row = &row[..row.find("</tr>").expect("end")];
                (seq, row.rsplit("<td class=\"num").next().and_then(|c| c.split('>').nth(1)).and_then(|c| c.split('<').next()).unwrap_or_default().to_owned())
            })
            .collect()
    };
    let mut want = figure(&all.body);
    assert_eq!(want.len(), 5, "every material on one page by default");
    want.sort_by(|a, b| b.1.parse::<f64>().unwrap_or(0.0).total_cmp(&a.1.parse::<f64>().unwrap_or(0.0)).then(a.0.parse::<u32>().unwrap_or(0).cmp(&b.0.parse::<u32>().unwrap_or(0))));
    let r = page(&app, &ent, &format!("{path}?sort=should_remain&order=desc&per=2&page=2")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(figure(&r.body), want[2..4].to_vec(), "page 2 of 2 rows, by should-remain, largest first");
    assert!(r.body.contains("aria-sort=\"descending\"") && r.body.contains("data-testid=\"pager\""), "{}", r.body);
    // Another enterprise: the page of a book that does not exist.
    let other = log_in(&app, "other-op").await;
    let r = multipart_form(&app, &other, &path, &[("_csrf", None, other.csrf.as_str()), ("stocktake", Some("stocktake.json"), &stocktake)]).await;
    assert_eq!(r.status, 404, "{}", r.body);
}

// ---- The officials' pages -----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customs_sees_the_district_with_its_risk_flags() {
    let Some(app) = spawn_app().await else { return };
    let customs = log_in(&app, "customs-5200").await;
    let r = page(&app, &customs, "/district?as_of=2026-06-30").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(attributes(&r.body, "data-testid=\"district-row\"", "data-book"), [BOOK_NO]);
    let row = &r.body[r.body.find("data-testid=\"district-row\"").expect("row")..];
    let row = &row[..row.find("</tr>").expect("end")];
    let flags = attributes(row, "class=\"flag", "data-flag");
    assert!(flags.contains(&"open_reviews".to_owned()) && flags.contains(&"flagged_lines".to_owned()), "declared versions above the standard: {flags:?}");
    assert!(!flags.contains(&"expired".to_owned()), "{flags:?}");
    assert!(row.contains("2026-01-01 — 2026-12-31") && row.contains(">3<"), "validity and three open versions: {row}");
    // Near the end of the validity, and after it.
    let r = page(&app, &customs, "/district?as_of=2026-12-15").await;
    assert!(r.body.contains("data-flag=\"expires_soon\"") && r.body.contains("16 天后到期"), "{}", r.body);
    let r = page(&app, &customs, "/district?as_of=2027-01-05&lang=en").await;
    assert!(r.body.contains("data-flag=\"expired\"") && r.body.contains("validity over"), "{}", r.body);
    // Another district sees none of it; a bad date is said inline.
    let far = log_in(&app, "customs-2300").await;
    let r = page(&app, &far, "/district").await;
    assert!(r.status == 200 && !r.body.contains(BOOK_NO), "{}", r.body);
    let r = page(&app, &customs, "/district?as_of=2026-13-01").await;
    assert!(r.status == 400 && r.body.contains("data-testid=\"date-error\"") && !r.body.contains("district-row"), "{}", r.body);
    // Navigation by role.
    for (login, shown, hidden) in [
        ("customs-5200", &["/district", "/catalogs", "/review"][..], &["/accounts", "/audit", "/upload"][..]),
        ("super-5200", &["/district", "/catalogs", "/audit"][..], &["/accounts", "/upload"][..]),
        ("commerce-44", &["/catalogs", "/review"][..], &["/district", "/accounts", "/audit"][..]),
        ("auditor", &["/audit", "/catalogs"][..], &["/district", "/accounts", "/upload"][..]),
        ("admin", &["/accounts", "/audit", "/catalogs"][..], &["/district", "/review", "/upload"][..]),
        ("ent-admin", &["/upload", "/accounts", "/audit"][..], &["/district"][..]),
    ] {
        let s = log_in(&app, login).await;
        let r = page(&app, &s, "/").await;
        let nav = &r.body[r.body.find("<nav aria-label").expect("navigation")..];
        let nav = &nav[..nav.find("</nav>").expect("end")];
        for href in shown {
            assert!(nav.contains(&format!("href=\"{href}\"")), "{login}: {href} missing from {nav}");
        }
        for href in hidden {
            assert!(!nav.contains(&format!("href=\"{href}\"")), "{login}: {href} shown in {nav}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commerce_compares_catalog_versions_and_a_supervisor_previews_the_impact() {
    let Some(app) = spawn_app().await else { return };
    let commerce = log_in(&app, "commerce-44").await;
    let r = page(&app, &commerce, "/catalogs").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(attributes(&r.body, "<tr data-version=", "data-version"), ["web-1", "web-2"]);
    assert!(r.body.contains("data-testid=\"preview-not-allowed\"") && !r.body.contains("data-testid=\"preview-form\""), "commerce may not load catalogs");
    let r = page(&app, &commerce, "/catalogs?from=web-1&to=web-2&lang=en").await;
    assert!(r.body.contains("web-1 → web-2: 1 added, 0 removed, 0 changed."), "{}", r.body);
    let added = &r.body[r.body.find("data-testid=\"diff-added\"").expect("added")..];
    assert!(added[..added.find("</table>").expect("end")].contains("2207100000"), "{added}");
    let r = page(&app, &commerce, "/catalogs?from=web-2&to=nope").await;
    assert!(r.status == 422 && r.body.contains("data-testid=\"diff-refused\"") && r.body.contains("catalog_unknown"), "{} {}", r.status, r.body);
    // Previewing is loading's: refused to commerce (the engine logs it), shown to a supervisor.
    let body = |s: &Session, csv: &str| format!("_csrf={}&name=web-3&as_of=2026-06-01&csv={}", s.csrf, form_encode(csv));
    let r = form(&app, &commerce, "/catalogs/preview", &body(&commerce, CATALOG_3)).await;
    assert!(r.status == 403 && is_html(&r), "{} {}", r.status, r.body);
    let supervisor = log_in(&app, "super-5200").await;
    let r = form(&app, &supervisor, "/catalogs/preview", &body(&supervisor, CATALOG_3)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = &r.body[r.body.find("data-testid=\"impact-items\"").expect("the items affected")..];
    let items = &items[..items.find("</table>").expect("end")];
    assert!(items.contains(BOOK_NO) && items.contains("低密度聚乙烯") && items.contains("新列入限制类"), "{items}");
    assert!(r.body.contains("3901100090,restricted"), "the form keeps the file");
    assert_eq!(attributes(&page(&app, &supervisor, "/catalogs").await.body, "<tr data-version=", "data-version"), ["web-1", "web-2"], "a preview loads nothing");
    // A bad file, a bad date, no token: said, nothing loaded.
    let r = form(&app, &supervisor, "/catalogs/preview", &body(&supervisor, "hs_code,catalog\n39,nope\n")).await;
    assert!(r.status == 422 && r.body.contains("data-testid=\"preview-refused\"") && r.body.contains("file_invalid"), "{} {}", r.status, r.body);
    let r = form(&app, &supervisor, "/catalogs/preview", &body(&supervisor, CATALOG_3).replace("2026-06-01", "2026-6-1")).await;
    assert!(r.status == 400 && r.body.contains("as_of-error"), "{} {}", r.status, r.body);
    let r = form(&app, &supervisor, "/catalogs/preview", &format!("name=web-3&csv={}", form_encode(CATALOG_3))).await;
    assert!(is_csrf_page(&r), "{} {}", r.status, r.body);
}

/// A value for a form body (`application/x-www-form-urlencoded`).
fn form_encode(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { char::from(b).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auditor_verifies_every_chain() {
    let Some(app) = spawn_app().await else { return };
    let auditor = log_in(&app, "auditor").await;
    let r = page(&app, &auditor, "/audit").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("data-intact=\"true\"") && r.body.contains("data-testid=\"no-altered\""), "{}", r.body);
    let chains = attributes(&r.body, "data-testid=\"audit-chain\"", "data-chain");
    assert!(chains.contains(&"system".to_owned()) && chains.contains(&ENTERPRISE.to_owned()), "{chains:?}");
    assert!(attributes(&r.body, "data-testid=\"audit-chain\"", "data-broken").iter().all(|b| b == "false"));
    // An enterprise administrator reads its own chain only (as the library decides).
    let ent = log_in(&app, "ent-admin").await;
    let r = page(&app, &ent, "/audit").await;
    assert_eq!(attributes(&r.body, "data-testid=\"audit-chain\"", "data-chain"), [ENTERPRISE]);
    // Others: the 403 page.
    for login in ["customs-5200", "commerce-44", "other-op"] {
        let s = log_in(&app, login).await;
        let r = page(&app, &s, "/audit").await;
        assert!(r.status == 403 && is_html(&r) && r.body.contains("不允许"), "{login}: {} {}", r.status, r.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administrator_adds_and_disables_accounts() {
    let Some(app) = spawn_app().await else { return };
    let admin = log_in(&app, "admin").await;
    let r = page(&app, &admin, "/accounts").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let logins = attributes(&r.body, "data-testid=\"account-row\"", "data-login");
    assert_eq!(logins, ["admin", "auditor", "commerce-44", "customs-2300", "customs-5200", "ent-admin", "other-op", "super-5200"]);
    assert!(!r.body.contains("argon2"));
    // Sorted by role.
    let r = page(&app, &admin, "/accounts?sort=role&order=asc").await;
    assert_eq!(attributes(&r.body, "data-testid=\"account-row\"", "data-login")[0], "other-op");
    // A refused form comes back with the engine's message and what was typed (not the password).
    let fields = format!("login=new-op&role=enterprise_operator&enterprise={ENTERPRISE}&customs=&province=");
    let r = form(&app, &admin, "/accounts", &format!("_csrf={}&{fields}&password=short", admin.csrf)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("data-testid=\"account-error\"") && r.body.contains("密码至少 10 个字符") && r.body.contains("value=\"new-op\"") && !r.body.contains("value=\"short\""), "{}", r.body);
    let password = &r.body[r.body.find("<input id=\"password\"").expect("the password field")..];
    let password = &password[..password.find("</span>").expect("its message")];
    assert!(password.contains("aria-invalid=\"true\" aria-describedby=\"password-error\"") && password.contains("id=\"password-error\""), "the message is tied to the field: {password}");
    assert!(!r.body.contains("id=\"login-error\""), "a valid login has no message");
    let r = form(&app, &admin, "/accounts", &format!("_csrf={}&login=x&role=king&password=a+long+enough+one", admin.csrf)).await;
    assert!(r.status == 422 && r.body.contains("unknown role"), "{}", r.body);
    // Without the CSRF token: refused before anything.
    let r = form(&app, &admin, "/accounts", &format!("{fields}&password=a+long+password+1")).await;
    assert!(is_csrf_page(&r), "{} {}", r.status, r.body);
    // Added: back to the list, which says so; the account logs in.
    let r = form(&app, &admin, "/accounts", &format!("_csrf={}&{fields}&password=a+long+password+1", admin.csrf)).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/accounts?added=new-op")), "{}", r.body);
    let r = page(&app, &admin, "/accounts?added=new-op").await;
    assert!(r.body.contains("data-testid=\"accounts-notice\"") && r.body.contains("data-login=\"new-op\" data-disabled=\"false\""), "{}", r.body);
    let login = |pw: &str| format!("login=new-op&password={pw}&next=%2F");
    let ok = common::send(app.addr, "POST", "/login", &[FORM], Some(login("a+long+password+1").as_bytes())).await;
    assert_eq!(ok.status, 303, "the new account logs in");
    // Disabled: marked so, no button, and it logs in no more.
    let r = form(&app, &admin, "/accounts/new-op/disable", &format!("_csrf={}", admin.csrf)).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/accounts?disabled=new-op")), "{}", r.body);
    let r = page(&app, &admin, "/accounts").await;
    let row = &r.body[r.body.find("data-login=\"new-op\"").expect("the account")..];
    assert!(row.starts_with("data-login=\"new-op\" data-disabled=\"true\"") && !row[..row.find("</tr>").expect("end")].contains("data-testid=\"disable\""), "{row}");
    let refused = common::send(app.addr, "POST", "/login", &[FORM], Some(login("a+long+password+1").as_bytes())).await;
    assert_eq!(refused.status, 401);
    // An enterprise administrator manages its own enterprise's accounts; others get the 403 page.
    let ent = log_in(&app, "ent-admin").await;
    let r = page(&app, &ent, "/accounts").await;
    assert_eq!(attributes(&r.body, "data-testid=\"account-row\"", "data-login"), ["ent-admin", "new-op"]);
    assert!(r.body.contains("<option value=\"enterprise_operator\" selected>") && !r.body.contains("<option value=\"admin\""), "only the enterprise's roles are offered");
    let r = form(&app, &ent, "/accounts/other-op/disable", &format!("_csrf={}", ent.csrf)).await;
    assert!(r.status == 403 && is_html(&r), "{} {}", r.status, r.body);
    for login in ["customs-5200", "auditor", "other-op"] {
        let s = log_in(&app, login).await;
        let r = page(&app, &s, "/accounts").await;
        assert!(r.status == 403 && is_html(&r), "{login}: {} {}", r.status, r.body);
        let r = form(&app, &s, "/accounts", &format!("_csrf={}&login=intruder&role=admin&password=a+long+password+2", s.csrf)).await;
        assert!(r.status == 403 && is_html(&r), "{login} POST /accounts: {} {}", r.status, r.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_page_charts_declared_consumption_against_the_standard() {
    let Some(app) = spawn_app().await else { return };
    let customs = log_in(&app, "customs-5200").await;
    let r = page(&app, &customs, &format!("/review?book={BOOK_NO}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let chart = &r.body[r.body.find("data-testid=\"uc-chart\"").expect("the chart")..];
    let chart = &chart[..chart.find("</svg>").expect("end")];
    assert!(chart.contains("role=\"img\"") && chart.contains("<title id=\"uc-0-title\">"), "{chart}");
    // The standard's maximum is 0.685 / (1 − 2 %) to 9 places; both versions of the film are above it.
    assert_eq!(chart.matches(">0.698979592<").count(), 2, "{chart}");
    assert_eq!(chart.matches("data-flagged=\"true\"").count(), 2, "{chart}");
    // The queue filtered to the book; another book: nothing.
    assert_eq!(review_rows(&r.body).len(), 3);
    let r = page(&app, &customs, &format!("/review?book={NO_BOOK}")).await;
    assert!(review_rows(&r.body).is_empty() && !r.body.contains("data-testid=\"uc-chart\""), "{}", r.body);
}

// ---- The translations ---------------------------------------------------------------------------

/// The files that render pages; every string literal of them shaped like a key (`a.b`, lower case)
/// outside their tests is a translation key.
const PAGE_SOURCES: &[&str] =
    &["src/html.rs", "src/i18n.rs", "src/forms.rs", "src/web.rs", "src/pages_enterprise.rs", "src/pages_customs.rs", "src/pages_ledger.rs", "src/pages_officials.rs", "src/charts.rs", "src/table.rs"];

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

// ---- Every step of the 单耗 review from its form --------------------------------------------------

/// The review form with the id `id`, from `<form` to `</form>`.
fn review_form<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let at = html.find(&format!("id=\"{id}\" data-testid=\"review-form\""))?;
    let start = html[..at].rfind("<form").unwrap_or(at);
    let end = at + html[at..].find("</form>")?;
    Some(&html[start..end])
}

/// The steps a review form offers (its buttons' `action` values), in order.
fn review_buttons(form: &str) -> Vec<String> {
    attributes(form, "name=\"action\"", "value")
}

/// The history of a version's review on the page: the text of each step.
fn review_history(html: &str, book: &str, product: &str, version: &str) -> Vec<String> {
    let marker = format!("data-book=\"{book}\" data-product=\"{product}\" data-version=\"{version}\"");
    let row = &html[html.find(&marker).expect("the row")..];
    let row = &row[..row.find("</tr>").expect("end of row")];
    let Some(at) = row.find("data-testid=\"review-history\"") else { return Vec::new() };
    row[at..].split("<li ").skip(1).map(|li| li[..li.find("</li>").unwrap_or(li.len())].to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customs_officer_questions_consults_and_adjusts_a_version_from_its_form() {
    let Some(app) = spawn_app().await else { return };
    let customs = log_in(&app, "customs-5200").await;
    let queue = format!("/review?book={BOOK_NO}");
    let id = format!("review-{BOOK_NO}-1-1");
    let target = format!("/books/{BOOK_NO}/reviews");
    let step = |action: &str, note: &str, more: &str| format!("product_seq=1&version=1&action={action}&note={}&back={BOOK_NO}{more}&_csrf={}", form_encode(note), customs.csrf);
    let state = |html: &str| review_rows(html).into_iter().find(|r| r.1 == "1" && r.2 == "1").map(|r| r.3).expect("version 1 of product 1");

    // Declared: 质疑 or 接受, with a note; no replacement to name yet.
    let r = page(&app, &customs, &queue).await;
    check_frame(&r, "zh", "GET /review as customs-5200");
    assert_eq!(state(&r.body), "declared");
    let f = review_form(&r.body, &id).expect("the form of version 1 of product 1");
    assert_eq!(review_buttons(f), ["question", "accept"]);
    assert!(f.contains("data-testid=\"question\"") && f.contains("data-testid=\"accept\"") && f.contains("质疑</button>"), "{f}");
    assert!(f.contains(&format!("<label for=\"{id}-note\">备注</label>")) && !f.contains("name=\"replacement\""), "{f}");
    assert!(f.contains(&format!("name=\"back\" value=\"{BOOK_NO}\"")), "the filter travels with the form: {f}");

    // 质疑: back to the queue as it was filtered; now 磋商 or 接受.
    let r = form(&app, &customs, &target, &step("question", "请提供损耗测定报告", "")).await;
    assert_eq!((r.status, r.header("location")), (303, Some(queue.as_str())), "{}", r.body);
    let r = page(&app, &customs, &queue).await;
    assert_eq!(state(&r.body), "questioned");
    assert_eq!(review_buttons(review_form(&r.body, &id).expect("the form")), ["consult", "accept"]);
    let history = review_history(&r.body, BOOK_NO, "1", "1");
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(history[0].contains("customs-5200") && history[0].contains("质疑") && history[0].contains("备注：请提供损耗测定报告"), "{history:?}");

    // 磋商: now 接受 or 调整, and the replacement version to name (the product's other versions offered).
    let r = form(&app, &customs, &target, &step("consult", "企业已提交测定报告", "")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = page(&app, &customs, &queue).await;
    check_frame(&r, "zh", "GET /review with a version under consultation");
    assert_eq!(state(&r.body), "consulting");
    let f = review_form(&r.body, &id).expect("the form");
    assert_eq!(review_buttons(f), ["accept", "adjust"]);
    assert!(f.contains(&format!("<label for=\"{id}-replacement\">替代版本</label>")) && f.contains(&format!("<datalist id=\"{id}-versions\"><option value=\"2\"></option></datalist>")), "{f}");

    // 调整 without a replacement: refused, the queue again with the message next to the form and the
    // note as typed; nothing changed.
    let r = form(&app, &customs, &target, &step("adjust", "核定单耗 0.70", "&replacement=")).await;
    assert!(r.status == 422 && is_html(&r), "{} {}", r.status, r.body);
    check_frame(&Reply { status: 200, ..r.clone() }, "zh", "the refused step");
    let f = review_form(&r.body, &id).expect("the form, again");
    assert!(f.contains(&format!("<p id=\"{id}-error\" class=\"error\" role=\"alert\" data-testid=\"review-error\">")) && f.contains("ucns_replacement"), "{f}");
    assert!(f.contains(&format!("id=\"{id}\" data-testid=\"review-form\" aria-describedby=\"{id}-error\"")), "the form names its message: {f}");
    assert!(f.contains(&format!("aria-describedby=\"{id}-error\">核定单耗 0.70</textarea>")), "the note as typed: {f}");
    assert!(f.contains("name=\"replacement\"") && f.contains("aria-invalid=\"true\""), "{f}");
    assert!(f.contains("调整须填写替代版本"), "the rule said in Chinese: {f}");
    let r = page(&app, &customs, &queue).await;
    assert_eq!(state(&r.body), "consulting");
    assert_eq!(review_history(&r.body, BOOK_NO, "1", "1").len(), 2);

    // 调整 naming the version the enterprise is to file: final, no form any more.
    let r = form(&app, &customs, &target, &step("adjust", "核定单耗 0.70", "&replacement=3")).await;
    assert_eq!((r.status, r.header("location")), (303, Some(queue.as_str())), "{}", r.body);
    let r = page(&app, &customs, &queue).await;
    assert_eq!(state(&r.body), "adjusted");
    assert!(review_form(&r.body, &id).is_none(), "a final version has no form");
    let history = review_history(&r.body, BOOK_NO, "1", "1");
    assert_eq!(history.len(), 3, "{history:?}");
    assert!(history[2].contains("调整") && history[2].contains("磋商 → 已调整") && history[2].contains("替代版本 3"), "{history:?}");
    // A step on a final version (a form sent twice): the queue, its message on top.
    let r = form(&app, &customs, &target, &step("accept", "", "")).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let alert = &r.body[r.body.find("<p class=\"error\" role=\"alert\" data-testid=\"review-error\">").expect("the message")..];
    assert!(alert[..alert.find("</p>").expect("end")].contains("ucns_review_final"), "{alert}");
    // The other versions still offer their steps, in English too.
    let r = page(&app, &customs, &format!("{queue}&lang=en")).await;
    check_frame(&r, "en", "GET /review in English");
    let f = review_form(&r.body, &format!("review-{BOOK_NO}-1-2")).expect("the form of version 2");
    assert!(f.contains(">Question</button>") && f.contains("<label for=\"review-C52002600001-1-2-note\">Note</label>"), "{f}");

    // A `back` that is not a book number goes back to the whole queue, never elsewhere.
    for (action, back) in [("question", "%2F%2Fevil.example"), ("consult", "https%3A%2F%2Fevil.example"), ("accept", "C1%2F..%2F..")] {
        let body = format!("product_seq=1&version=2&action={action}&back={back}&_csrf={}", customs.csrf);
        let r = form(&app, &customs, &target, &body).await;
        assert_eq!((r.status, r.header("location")), (303, Some("/review")), "{action} back={back}: {}", r.body);
    }

    // The enterprise sees the states and the history, and no form.
    let ent = log_in(&app, "ent-admin").await;
    let r = page(&app, &ent, &queue).await;
    check_frame(&r, "zh", "GET /review as ent-admin");
    assert!(!r.body.contains("data-testid=\"review-form\"") && !r.body.contains("name=\"action\""), "no review form for the enterprise");
    assert_eq!(review_history(&r.body, BOOK_NO, "1", "1").len(), 3);
}

// ---- The prices a quote reads, entered on the tax page ----------------------------------------------

/// A 来料 (consigned, 0214) copy of the example book, filed by its enterprise in the tests below.
const CONSIGNED: &str = "B52002600002";

/// A change through the API with a browser session (the CSRF token in its header).
async fn api_post(app: &App, s: &Session, path: &str, body: &str) -> Reply {
    common::send(app.addr, "POST", path, &[("Cookie", &s.cookies), ("X-CSRF-Token", &s.csrf)], Some(body.as_bytes())).await
}

/// The figures of a quote's totals row (customs value, duty, consumption tax, VAT, interest) and
/// its total, as the tax page shows them.
fn page_totals(html: &str) -> Vec<jiamao_domain::Decimal> {
    let row = &html[html.find("data-testid=\"quote-totals\"").expect("the totals")..];
    let row = &row[..row.find("</tr>").expect("end of row")];
    let mut out: Vec<jiamao_domain::Decimal> =
        row.split("<td class=\"num").skip(1).map(|c| c.split('>').nth(1).and_then(|c| c.split('<').next()).expect("a number").parse().expect("a decimal")).collect();
    let total = &html[html.find("data-testid=\"quote-total\"").expect("the total")..];
    let total = &total[..total.find("</p>").expect("end")];
    out.push(total.split(|c: char| !(c.is_ascii_digit() || c == '.')).find_map(|w| w.parse().ok()).expect("the total's figure"));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consigned_sale_is_quoted_at_the_prices_entered_on_the_tax_page() {
    let Some(app) = spawn_app().await else { return };
    let Some(dir) = examples() else { return };
    let ent = log_in(&app, "ent-admin").await;
    // The enterprise files a 来料 book like the example one, imports its materials (no price: they
    // are the foreign party's) and sells 200 kg of the film at home (0245).
    let mut book: serde_json::Value = serde_json::from_str(&read(&dir, "book.json")).expect("book.json");
    book["book_no"] = CONSIGNED.into();
    book["book_type"] = "B".into();
    book["trade_mode"] = "0214".into();
    let r = api_post(&app, &ent, "/api/v1/books", &book.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let lists = serde_json::json!([
        {"list_no": "QD520026000000101", "book_no": CONSIGNED, "declared_on": "2026-03-02", "direction": "I", "goods": "material", "trade_mode": "0214",
         "lines": [{"line": 1, "item_seq": 1, "qty": "1000"}, {"line": 2, "item_seq": 2, "qty": "500"}, {"line": 3, "item_seq": 3, "qty": "100"}, {"line": 4, "item_seq": 5, "qty": "100"}]},
        {"list_no": "QD520026000000102", "book_no": CONSIGNED, "declared_on": "2026-06-12", "direction": "E", "goods": "product", "trade_mode": "0245",
         "lines": [{"line": 1, "item_seq": 1, "qty": "200", "amount": "520.00"}]}
    ]);
    let r = api_post(&app, &ent, "/api/v1/lists", &lists.to_string()).await;
    assert!(r.status == 200 && r.header("x-jiamao-rejected") == Some("0"), "{}", r.body);
    let tax = |q: &str| format!("/books/{CONSIGNED}/tax?as_of=2026-12-31&list_no=QD520026000000102&payment_note_date=2026-06-20{q}");

    // Without prices the quote is refused (price_missing), and the form asks one for each material
    // the film consumed (through its 单耗 version), each required.
    let r = page(&app, &ent, &tax("")).await;
    assert_eq!(r.status, 422, "{}", r.body);
    check_frame(&Reply { status: 200, ..r.clone() }, "zh", "the quote refused for want of prices");
    assert!(r.body.contains("data-testid=\"quote-refused\"") && r.body.contains("price_missing"), "{}", r.body);
    assert!(r.body.contains("<details data-testid=\"price-form\" style=\"flex-basis:100%\" open>"), "the prices are open: {}", r.body);
    assert_eq!(attributes(&r.body, "data-testid=\"price-row\"", "data-seq"), ["1", "2", "3", "5"]);
    assert_eq!(attributes(&r.body, "data-testid=\"price-row\"", "data-needed"), ["true"; 4]);
    assert!(r.body.contains("<legend>料件 1 低密度聚乙烯（千克）（必须填写）</legend>"), "{}", r.body);
    for seq in [1, 2, 3, 5] {
        assert!(
            r.body.contains(&format!("<label for=\"price_material_{seq}\">单价</label> <input type=\"text\" id=\"price_material_{seq}\" name=\"price_material_{seq}\" value=\"\"")),
            "material {seq}"
        );
        assert!(r.body.contains(&format!("<label for=\"cur_material_{seq}\">币制</label> <select id=\"cur_material_{seq}\" name=\"cur_material_{seq}\">")), "material {seq}");
    }
    assert!(r.body.contains("<option value=\"502\">502 美元 USD</option>"), "the currencies of the table");

    // A bad value: 400, its message next to its field (the others keep theirs), no quote.
    let others = "&price_material_2=1.30&cur_material_2=502&price_material_3=2.50&cur_material_3=502&price_material_5=0.90&cur_material_5=142";
    for (price, cur, field, message) in [
        ("-1.40", "502", "price_material_1", "“-1.40”不是有效单价"),
        ("1%2C40", "502", "price_material_1", "“1,40”不是有效单价"),
        ("1.4e2", "502", "price_material_1", "“1.4e2”不是有效单价"),
        ("1.40", "999", "cur_material_1", "“999”不是有效的币制代码"),
        ("1.40", "USD", "cur_material_1", "“USD”不是有效的币制代码"),
        ("1.40", "", "cur_material_1", "填写单价时须选择币制"),
    ] {
        let r = page(&app, &ent, &tax(&format!("&price_material_1={price}&cur_material_1={cur}{others}"))).await;
        let what = format!("price {price} currency {cur}");
        assert_eq!(r.status, 400, "{what}: {}", r.body);
        check_frame(&Reply { status: 200, ..r.clone() }, "zh", &what);
        assert!(r.body.contains(&format!("id=\"{field}\" name=\"{field}\"")), "{what}");
        let at = r.body.find(&format!("id=\"{field}\" name=\"{field}\"")).expect("the field");
        let element = &r.body[at..at + r.body[at..].find('>').expect("end of the field")];
        assert!(element.contains(&format!("aria-invalid=\"true\" aria-describedby=\"{field}-error\"")), "{what}: {element}");
        let alert = &r.body[r.body.find(&format!("<span id=\"{field}-error\" class=\"error\" role=\"alert\"")).unwrap_or_else(|| panic!("{what}: no message"))..];
        assert!(alert[..alert.find("</span>").expect("end")].contains(message), "{what}: {alert}");
        assert_eq!(r.body.matches("aria-invalid=\"true\"").count(), 1, "{what}: only the bad field");
        assert!(!r.body.contains("data-testid=\"quote-lines\"") && !r.body.contains("data-testid=\"quote-refused\""), "{what}: no quote");
        assert!(r.body.contains("value=\"1.30\"") && r.body.contains("<option value=\"142\" selected>"), "{what}: the other prices are kept");
    }
    // The API refuses the same garbage.
    for bad in ["1,40", "1.4e2", "abc"] {
        let req = serde_json::json!({"book_no": CONSIGNED, "list_no": "QD520026000000102", "payment_note_date": "2026-06-20", "prices": [{"goods": "material", "item_seq": 1, "unit_price": bad, "currency": "502"}]});
        let r = api_post(&app, &ent, "/api/v1/tax/quote", &req.to_string()).await;
        assert!(r.status == 400 || r.status == 422, "{bad}: {} {}", r.status, r.body);
        assert_eq!(r.rule(), "request_invalid", "{bad}: {}", r.body);
    }
    // A certificate of origin names a country of the table.
    let r = page(&app, &ent, &tax(&format!("&origin_certificate=99&price_material_1=1.40&cur_material_1=502{others}"))).await;
    assert!(r.status == 400 && r.body.contains("aria-describedby=\"origin_certificate-error\"") && r.body.contains("“99”不是有效的国别（地区）代码"), "{} {}", r.status, r.body);

    // Good prices: the quote, at the similar goods' prices, equal to the API's with the same prices.
    let r = page(&app, &ent, &tax(&format!("&origin_certificate=133&price_material_1=1.40&cur_material_1=502{others}"))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    check_frame(&r, "zh", "the quote at the entered prices");
    let lines = &r.body[r.body.find("data-testid=\"quote-lines\"").expect("the quote's lines")..];
    let lines = &lines[..lines.find("</tbody>").expect("end")];
    assert_eq!(lines.matches("<tr>").count(), 1 + 4, "a heading and four lines: {lines}");
    assert_eq!(lines.matches(">similar_goods<").count(), 4, "{lines}");
    assert!(r.body.contains("value=\"1.40\"") && r.body.contains("<option value=\"502\" selected>") && r.body.contains("value=\"133\""), "the form keeps what was entered");
    let req = serde_json::json!({
        "book_no": CONSIGNED, "list_no": "QD520026000000102", "payment_note_date": "2026-06-20", "origin_certificate": "133",
        "prices": [
            {"goods": "material", "item_seq": 1, "unit_price": "1.40", "currency": "502"},
            {"goods": "material", "item_seq": 2, "unit_price": "1.30", "currency": "502"},
            {"goods": "material", "item_seq": 3, "unit_price": "2.50", "currency": "502"},
            {"goods": "material", "item_seq": 5, "unit_price": "0.90", "currency": "142"}
        ]
    });
    let api = api_post(&app, &ent, "/api/v1/tax/quote", &req.to_string()).await;
    assert_eq!(api.status, 200, "{}", api.body);
    let totals = api.json()["totals"].clone();
    let want: Vec<jiamao_domain::Decimal> =
        ["customs_value", "duty", "consumption_tax", "vat", "interest", "total"].iter().map(|k| totals[k].as_str().expect("an amount").parse().expect("a decimal")).collect();
    assert_eq!(page_totals(&r.body), want, "the page's totals are the API's");
    assert!(want[5] > jiamao_domain::Decimal::ZERO, "{want:?}");

    // A 进料 sale reads no price it needs: the prices are there, closed, each an option.
    let r = page(&app, &ent, &format!("/books/{BOOK_NO}/tax?as_of=2026-12-31&list_no=QD520026000000006&payment_note_date=2026-06-20&lang=en")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<details data-testid=\"price-form\" style=\"flex-basis:100%\"><summary>"), "closed: {}", r.body);
    assert_eq!(attributes(&r.body, "data-testid=\"price-row\"", "data-needed"), ["false"; 4]);
    assert!(r.body.contains("<label for=\"price_material_1\">Unit price</label>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drill_down_pages_its_contributions() {
    let Some(app) = spawn_app().await else { return };
    let ent = log_in(&app, "ent-admin").await;
    let path = format!("/books/{BOOK_NO}/materials/1");
    let rows = |html: &str| -> Vec<String> {
        let table = &html[html.find("data-testid=\"contributions\"").expect("the contributions")..];
        let body = &table[table.find("<tbody>").expect("body")..table.find("</tbody>").expect("end")];
        body.split("<tr>").skip(1).map(|r| r[..r.find("</tr>").unwrap_or(r.len())].to_owned()).collect()
    };
    let all = page(&app, &ent, &path).await;
    assert_eq!(all.status, 200, "{}", all.body);
    let every = rows(&all.body);
    assert!(every.len() >= 3, "the example's first material has contributions: {}", every.len());
    let r = page(&app, &ent, &format!("{path}?per=2&page=2")).await;
    assert_eq!(rows(&r.body), every[2..every.len().min(4)].to_vec(), "page 2 of 2 rows, in date order");
    assert!(r.body.contains("data-testid=\"pager\"") && r.body.contains("data-testid=\"balance-chart\""), "the chart still reads every contribution");
    let chart = |html: &str| html[html.find("data-testid=\"balance-chart\"").expect("chart")..html.find("</svg>").expect("end")].to_owned();
    assert_eq!(chart(&r.body), chart(&all.body), "paging the table does not change the chart");
    let r = page(&app, &ent, &format!("{path}?sort=qty&order=desc")).await;
    let qty = |row: &String| row.split("<td class=\"num").nth(2).and_then(|c| c.split('>').nth(1)).and_then(|c| c.split('<').next()).and_then(|q| q.parse::<f64>().ok()).unwrap_or(f64::NAN);
    let sorted: Vec<f64> = rows(&r.body).iter().map(qty).collect();
    assert!(sorted.windows(2).all(|w| w[0] >= w[1]), "by quantity, largest first: {sorted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_each_book_s_guarantee() {
    let Some(app) = spawn_app().await else { return };
    let ent = log_in(&app, "ent-admin").await;
    let r = page(&app, &ent, "/?as_of=2026-12-31").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let api = common::send(app.addr, "GET", &format!("/api/v1/books/{BOOK_NO}/guarantee?as_of=2026-12-31"), &[("Cookie", &ent.cookies)], None).await;
    let row = &r.body[r.body.find(&format!("<tr data-book=\"{BOOK_NO}\">")).expect("the book's row")..];
    let row = &row[..row.find("</tr>").expect("end")];
    assert_eq!(api.status, 200, "the example book's guarantee is computed with the test tariff: {}", api.body);
    {
        let g = api.json();
        let cell = &row[row.find("data-testid=\"guarantee\"").unwrap_or_else(|| panic!("a guarantee cell: {row}"))..];
        let amount = |v: &serde_json::Value| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
        let required = amount(&g["required"]["amount"]);
        assert!(cell.contains(&required) && cell.contains(&amount(&g["posted"])), "the API's guarantee {g} in {cell}");
    }
    // A customs officer of another district does not see the book at all.
    let far = log_in(&app, "customs-2300").await;
    let r = page(&app, &far, "/?as_of=2026-12-31").await;
    assert!(r.status == 200 && !r.body.contains(BOOK_NO) && !r.body.contains("data-testid=\"guarantee\""), "{}", r.body);
}
