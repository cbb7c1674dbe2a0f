#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The server as a client sees it: each test spawns the whole application on a random port against
//! its own fresh SQLite file, and talks HTTP/1.1 to it over a plain TCP connection.

mod common;

use common::{Reply, PAGES, PUBLIC, ROUTES};
use jiamao_app::Engine;
use jiamao_store_sqlite::{Durability, SqliteStore};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BOOK_NO: &str = "C52002600001";

struct App {
    addr: SocketAddr,
    /// The API token requests carry (an administrator of the example's enterprise).
    token: String,
    _dir: tempfile::TempDir,
}

/// The example book's operating enterprise.
const ENTERPRISE: &str = "91441900698123458E";

/// The password of the test account.
const PASSWORD: &str = "a long test password";

/// Starts the application. The listener is bound before the server task is spawned, so requests
/// made right away wait in the backlog instead of failing: no sleeps needed.
async fn spawn_app() -> App {
    spawn_app_with_engine().await.0
}

/// Like [`spawn_app`], also giving the engine the server shares, for loading what has no route
/// (a tariff, dated rates) directly.
async fn spawn_app_with_engine() -> (App, Arc<Mutex<Engine<SqliteStore>>>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("jiamao.db"), Durability::Full).expect("open store");
    let mut e = Engine::new(store);
    e.add_user("tester", jiamao_domain::access::Role::EnterpriseAdmin, Some(ENTERPRISE), None, None, PASSWORD).expect("account");
    let token = e.issue_token("tester", false, None).expect("token").token;
    let engine = Arc::new(Mutex::new(e));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(jiamao_server::serve_until(listener, jiamao_server::router(Arc::clone(&engine)), std::future::pending()));
    (App { addr, token, _dir: dir }, engine)
}

/// One request with the app's token on its own connection, read to the end.
async fn request(app: &App, method: &str, path: &str, body: Option<&str>) -> Reply {
    let auth = format!("Bearer {}", app.token);
    common::send(app.addr, method, path, &[("Authorization", &auth)], body.map(str::as_bytes)).await
}

/// The same without credentials.
async fn anonymous(app: &App, method: &str, path: &str) -> Reply {
    common::send(app.addr, method, path, &[], None).await
}

async fn get(app: &App, path: &str) -> Reply {
    request(app, "GET", path, None).await
}

async fn post(app: &App, path: &str, body: &str) -> Reply {
    request(app, "POST", path, Some(body)).await
}

/// The shared example case, or `None` (with a note) when this checkout has none beside it.
fn examples() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interchange/examples");
    if dir.join("expected.json").is_file() {
        Some(dir)
    } else {
        println!("skipping: {} not found", dir.display());
        None
    }
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn statuses(outcomes: &Value) -> Vec<(String, String)> {
    outcomes.as_array().expect("an array of outcomes").iter().map(|o| (o["list_no"].as_str().unwrap_or_default().to_owned(), o["status"].as_str().unwrap_or_default().to_owned())).collect()
}

fn count_rejected(outcomes: &Value) -> usize {
    statuses(outcomes).iter().filter(|(_, s)| s == "rejected").count()
}

async fn import_example_book(app: &App, dir: &Path) {
    let r = post(app, "/api/v1/books", &read(dir, "book.json")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "filed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_case_reproduces_expected_json() {
    let Some(dir) = examples() else { return };
    let expected: Value = serde_json::from_str(&read(&dir, "expected.json")).expect("expected.json");
    let app = spawn_app().await;

    let r = post(&app, "/api/v1/books", &read(&dir, "book.json")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), serde_json::json!({"book_no": BOOK_NO, "revision": 1, "status": "filed", "resolved_lines": 0}));
    let r = get(&app, "/api/v1/books").await;
    assert_eq!(r.json(), serde_json::json!([{"book_no": BOOK_NO, "revision": 1}]));

    let good = post(&app, "/api/v1/lists", &read(&dir, "lists.json")).await;
    assert_eq!(good.status, 200, "{}", good.body);
    assert_eq!(good.header("x-jiamao-rejected"), Some("0"));
    let bad = post(&app, "/api/v1/lists", &read(&dir, "lists-bad.json")).await;
    assert_eq!(bad.status, 200, "{}", bad.body);
    let bad_outcomes = bad.json();
    assert_eq!(bad.header("x-jiamao-rejected"), Some(count_rejected(&bad_outcomes).to_string().as_str()));
    assert!(count_rejected(&bad_outcomes) > 0);
    for o in bad_outcomes.as_array().into_iter().flatten().filter(|o| o["status"] == "rejected") {
        assert!(o["error"]["rule"].as_str().is_some_and(|r| !r.is_empty()), "{o}");
        assert!(o["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{o}");
    }
    let mut got = statuses(&good.json());
    got.extend(statuses(&bad_outcomes));
    assert_eq!(got, statuses(&expected["outcomes"]));

    let r = post(&app, &format!("/api/v1/books/{BOOK_NO}/reconcile"), &read(&dir, "stocktake.json")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), expected["reconcile"]);

    // Without a stocktake: the same figures, without actual_remain and difference.
    let r = get(&app, &format!("/api/v1/books/{BOOK_NO}/reconcile")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    for (m, e) in report["materials"].as_array().expect("materials").iter().zip(expected["reconcile"]["materials"].as_array().expect("expected materials")) {
        assert_eq!(m["should_remain"], e["should_remain"]);
        assert!(m.get("actual_remain").is_none() && m.get("difference").is_none(), "{m}");
    }
    assert_eq!(report["products"], expected["reconcile"]["products"]);

    // The balance is should_remain; as of a date it counts only the lists declared by then.
    let r = get(&app, &format!("/api/v1/books/{BOOK_NO}/balance")).await;
    let balance = r.json();
    assert_eq!(balance["as_of"], Value::Null);
    let balances: Vec<&Value> = balance["materials"].as_array().expect("materials").iter().map(|m| &m["balance"]).collect();
    let should: Vec<&Value> = expected["reconcile"]["materials"].as_array().expect("materials").iter().map(|m| &m["should_remain"]).collect();
    assert_eq!(balances, should);
    let r = get(&app, &format!("/api/v1/books/{BOOK_NO}/balance?as_of=2025-12-31")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let early = r.json();
    assert_eq!(early["as_of"], "2025-12-31");
    assert!(early["materials"].as_array().expect("materials").iter().all(|m| m["balance"] == "0"), "{early}");
    let r = get(&app, &format!("/api/v1/books/{BOOK_NO}/reconcile?to=2026-01-10")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["materials"][0]["imported"], "50000");

    // A range: from the second quarter on, the opening is the should-remain of 31 March.
    let r = get(&app, &format!("/api/v1/books/{BOOK_NO}/reconcile?from=2026-04-01&to=2026-12-31")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let range = r.json();
    assert_eq!(range["materials"][0]["opening"], "68814.43299");
    assert_eq!(range["materials"][0]["imported"], "0");
    assert_eq!(range["materials"][0]["should_remain"], expected["reconcile"]["materials"][0]["should_remain"]);
    // Drill-down of material 1: the list lines add up to the report's figures.
    let r = get(&app, &format!("/api/v1/books/{BOOK_NO}/materials/1/explain")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ex = r.json();
    let dec = |v: &Value| v.as_str().and_then(|t| t.parse::<jiamao_domain::Decimal>().ok()).expect("a decimal string");
    let sum = |figure: &str| -> jiamao_domain::Decimal { ex["contributions"].as_array().expect("contributions").iter().filter(|c| c["figure"] == figure).map(|c| dec(&c["qty"])).sum() };
    assert_eq!(sum("imported"), dec(&expected["reconcile"]["materials"][0]["imported"]), "imported lines add up");
    assert_eq!(jiamao_domain::decimal::report_qty(sum("consumed")), expected["reconcile"]["materials"][0]["consumed"], "consumption lines add up");
    assert!(ex["by_product_version"].as_array().is_some_and(|v| !v.is_empty()));
    let r = get(&app, &format!("/api/v1/books/{BOOK_NO}/materials/99/explain")).await;
    assert_eq!(r.status, 422, "{}", r.body);

    // Filing the same book again changes nothing.
    let r = post(&app, "/api/v1/books", &read(&dir, "book.json")).await;
    assert_eq!(r.json()["status"], "unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_body_is_422_and_posts_nothing() {
    let Some(dir) = examples() else { return };
    let app = spawn_app().await;
    import_example_book(&app, &dir).await;
    let balance_path = format!("/api/v1/books/{BOOK_NO}/balance");
    let before = get(&app, &balance_path).await.json();

    // The first half of a valid file: the complete lists in it must not post either.
    let lists = read(&dir, "lists.json");
    let truncated = &lists[..lists.len() / 2];
    let r = post(&app, "/api/v1/lists", truncated).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["error"]["rule"], "document_format");
    assert!(r.json()["error"]["message"].as_str().is_some_and(|m| m.contains("request body")), "{}", r.body);
    assert_eq!(get(&app, &balance_path).await.json(), before);

    let r = post(&app, "/api/v1/books", "{\"book_no\": ").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["error"]["rule"], "document_format");

    // Valid JSON, but one list has an unknown field: that list alone is rejected.
    let r = post(
        &app,
        "/api/v1/lists",
        r#"[{"list_no":"QX1","book_no":"C52002600001","declared_on":"2026-01-10","direction":"I","goods":"material","trade_mode":"0615","lines":[{"line":1,"item_seq":1,"qty":"1","colour":"red"}]}]"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-jiamao-rejected"), Some("1"));
    assert_eq!(r.json()[0]["status"], "rejected");
    assert_eq!(r.json()[0]["error"]["rule"], "document_format");
    assert_eq!(get(&app, &balance_path).await.json(), before);

    // A stocktake that cannot be read, and one for another book.
    let r = post(&app, &format!("/api/v1/books/{BOOK_NO}/reconcile"), "[]").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["error"]["rule"], "document_format");
    let other = read(&dir, "stocktake.json").replace(BOOK_NO, "C52002699999");
    let r = post(&app, &format!("/api/v1/books/{BOOK_NO}/reconcile"), &other).await;
    assert_eq!(r.status, 422, "{}", r.body);

    // Bytes that are not UTF-8 are not a document.
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    let body: &[u8] = b"\xff\xfe{}";
    let head = format!("POST /api/v1/lists HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n", app.token, body.len());
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.expect("read");
    assert!(raw.starts_with("HTTP/1.1 422"), "{raw}");
    assert!(raw.contains("document_format"), "{raw}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_dates_unknown_books_and_routes_are_json_errors() {
    let app = spawn_app().await;
    let r = get(&app, "/api/v1/books").await;
    assert_eq!((r.status, r.json()), (200, serde_json::json!([])));

    let r = get(&app, "/api/v1/books/NOPE/balance").await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.json()["error"]["rule"], "unknown_book");
    let r = get(&app, "/api/v1/books/NOPE/reconcile").await;
    assert_eq!(r.status, 404, "{}", r.body);

    for (path, parameter) in [("/api/v1/books/NOPE/balance?as_of=2026-13-01", "as_of"), ("/api/v1/books/NOPE/balance?as_of=yesterday", "as_of"), ("/api/v1/books/NOPE/reconcile?to=2026-1-5", "to")] {
        let r = get(&app, path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(r.json()["error"]["rule"], "bad_query", "{path}");
        assert_eq!(r.json()["error"]["field"], parameter, "{path}");
        assert!(r.json()["error"]["message"].as_str().is_some_and(|m| m.contains(parameter)), "{path}: {}", r.body);
    }
    let r = get(&app, "/api/v1/books/NOPE/balance?asof=2026-01-01").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("asof"), "{}", r.body);

    let r = get(&app, "/api/v2/books").await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.json()["error"]["rule"], "not_found");

    let r = get(&app, "/healthz").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_pages_show_books_and_balances() {
    let app = spawn_app().await;
    let r = get(&app, "/").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("尚无账册"), "{}", r.body);

    let Some(dir) = examples() else { return };
    import_example_book(&app, &dir).await;
    assert_eq!(post(&app, "/api/v1/lists", &read(&dir, "lists.json")).await.status, 200);

    let r = get(&app, "/").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").is_some_and(|t| t.starts_with("text/html")), "{:?}", r.headers);
    assert!(r.body.contains("加贸 Jiamao — 加工贸易保税账册"), "{}", r.body);
    assert!(r.body.contains(&format!("href=\"/books/{BOOK_NO}\"")), "{}", r.body);
    assert!(r.body.contains("/api/openapi.json"));

    let r = get(&app, &format!("/books/{BOOK_NO}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").is_some_and(|t| t.starts_with("text/html")), "{:?}", r.headers);
    for text in ["低密度聚乙烯", "料件序号", "余额", "报核", "东莞华瑞塑胶制品有限公司"] {
        assert!(r.body.contains(text), "{text} missing: {}", r.body);
    }
    // Every balance figure of the API appears on the page.
    let balance = get(&app, &format!("/api/v1/books/{BOOK_NO}/balance")).await.json();
    for m in balance["materials"].as_array().expect("materials") {
        let figure = m["balance"].as_str().expect("balance");
        assert!(r.body.contains(&format!(">{figure}<")), "{figure} missing");
    }

    let r = get(&app, "/books/NOPE%3Cb%3E").await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.header("content-type").is_some_and(|t| t.starts_with("text/html")));
    assert!(r.body.contains("NOPE&lt;b&gt;") && !r.body.contains("NOPE<b>"), "{}", r.body);
}

/// A tariff written for the test (not official rates) for the example's HS codes, from 2026-01-01.
fn test_tariff() -> jiamao_domain::tax::tariff::TariffDoc {
    use jiamao_domain::tax::tariff::{TariffDoc, TariffLineDoc};
    let line = |code: &str, mfn: &str, provisional: &str, agreements: &[(&str, &str)]| TariffLineDoc {
        code: code.into(),
        name: format!("test line {code}"),
        mfn: mfn.into(),
        provisional: provisional.into(),
        general: "30%".into(),
        agreements: agreements.iter().map(|(a, r)| (a.to_string(), r.to_string())).collect(),
        consumption: "0%".into(),
        vat: "13%".into(),
        legal_unit: "千克".into(),
    };
    TariffDoc {
        name: "test tariff 2026".into(),
        valid_from: "2026-01-01".parse().expect("date"),
        source: "written for the test".into(),
        lines: vec![
            line("3901100090", "6.5%", "", &[("韩国", "2.6"), ("东盟", "0")]),
            line("3901402090", "6.5%", "5%", &[]),
            line("3206499000", "6.5%", "", &[]),
            line("3215190090", "6.5%", "", &[]),
            line("4822900000", "5%", "", &[]),
            line("3920109090", "6.5%", "", &[]),
            line("3923210000", "6.5%", "", &[]),
        ],
    }
}

fn error_of(r: &Reply) -> (u16, String, Option<String>) {
    let e = &r.json()["error"];
    (r.status, e["rule"].as_str().unwrap_or_default().to_owned(), e["field"].as_str().map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domestic_sale_taxation_over_http() {
    let Some(dir) = examples() else { return };
    let (app, engine) = spawn_app_with_engine().await;
    import_example_book(&app, &dir).await;
    let r = post(&app, "/api/v1/lists", &read(&dir, "lists.json")).await;
    assert_eq!((r.status, r.header("x-jiamao-rejected")), (200, Some("0")), "{}", r.body);
    {
        let mut e = engine.lock().expect("engine");
        // Loading national data is the platform's (here: the local operator's), not the enterprise's.
        e.set_ctx(jiamao_app::platform::Ctx::default());
        let loaded = e.load_tariff(&test_tariff()).expect("load tariff");
        assert_eq!(loaded.status, "loaded");
        let rates = jiamao_domain::tax::rates::parse_rates_csv("kind,key,rate,valid_from\nexchange,502,7.1000,2026-05-01\n", "test rates").expect("rates");
        e.load_rates(&rates).expect("load rates");
    }

    // The ledger form: the product sale QD…006, against the hand computation of the domain's tests.
    let r = post(&app, "/api/v1/tax/quote", &format!(r#"{{"book_no": "{BOOK_NO}", "list_no": "QD520026000000006", "payment_note_date": "2026-06-20"}}"#)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let q = r.json();
    assert_eq!(q["totals"]["duty"], "1202.74");
    assert_eq!(q["totals"]["vat"], "2723.08");
    assert_eq!(q["totals"]["interest"], "6.14");
    assert_eq!(q["totals"]["total"], "3931.96");
    assert_eq!((q["tax_date"].as_str(), q["lines"].as_array().map(Vec::len)), (Some("2026-06-12"), Some(4)));
    assert!(q["lines"][1]["duty_rate_source"].as_str().is_some_and(|s| s.ends_with("provisional")), "{}", q["lines"][1]);

    // The explicit form (RULES.md §17 F): consumption tax on the composite price.
    let r = post(&app, "/api/v1/tax/quote", r#"{"customs_value":"1000000","currency":"142","duty_rate":"0.20","consumption_tax_rate":"0.30","vat_rate":"0.13","tax_date":"2026-03-01"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let q = r.json();
    assert_eq!((&q["totals"]["consumption_tax"], &q["totals"]["vat"]), (&Value::from("514285.71"), &Value::from("222857.14")));
    assert_eq!(q["lines"][0]["duty_rate_source"], "request");

    // Refusals: 422 with the rule and the field to blame, never a silent zero.
    let r = post(&app, "/api/v1/tax/quote", r#"{"customs_value":"1000","currency":"142","duty_rate":"0.1","vat_rate":"0.13","tax_date":"2026-03-01","colour":"red"}"#).await;
    assert_eq!(error_of(&r).0, 422, "{}", r.body);
    assert_eq!(error_of(&r).1, "request_invalid");
    assert!(r.body.contains("colour"), "{}", r.body);
    let r = post(&app, "/api/v1/tax/quote", r#"{"customs_value":"1000","currency":"142","duty_rate":"0.1","vat_rate":"0.13","tax_date":"2026-02-30"}"#).await;
    assert_eq!(error_of(&r), (422, "request_invalid".to_owned(), Some("tax_date".to_owned())), "{}", r.body);
    let r = post(&app, "/api/v1/tax/quote", "{\"customs_value\": ").await;
    assert_eq!(error_of(&r).0, 422, "{}", r.body);
    let before_tariff = format!(r#"{{"book_no": "{BOOK_NO}", "items": [{{"goods": "material", "item_seq": 5, "qty": "10"}}], "tax_date": "2025-06-01", "payment_note_date": "2025-06-20"}}"#);
    let r = post(&app, "/api/v1/tax/quote", &before_tariff).await;
    assert_eq!(error_of(&r).0, 422, "{}", r.body);
    assert_eq!(error_of(&r).1, "tariff_missing", "{}", r.body);
    assert!(error_of(&r).2.is_some_and(|f| f.contains("material 5")), "{}", r.body);
    let r = post(&app, "/api/v1/tax/quote", r#"{"customs_value":"1000","currency":"303","duty_rate":"0.1","vat_rate":"0.13","tax_date":"2026-06-01"}"#).await;
    assert_eq!(error_of(&r), (422, "rate_missing".to_owned(), Some("exchange".to_owned())), "{}", r.body);
    assert!(r.json()["error"]["message"].as_str().is_some_and(|m| m.contains("303")), "{}", r.body);
    let r = post(&app, "/api/v1/tax/quote", r#"{"book_no": "NOPE", "list_no": "QX1", "payment_note_date": "2026-06-20"}"#).await;
    assert_eq!(error_of(&r).0, 404, "{}", r.body);

    // Payments: idempotent by note number; a different payment under the same number is refused.
    let payments = format!("/api/v1/books/{BOOK_NO}/tax/payments");
    let payment = r#"{"note_no": "TX2026060001", "period": "2026-05", "amount": "500.00", "paid_on": "2026-06-10"}"#;
    let r = post(&app, &payments, payment).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json(), serde_json::json!({"book_no": BOOK_NO, "key": "TX2026060001", "status": "recorded"}));
    let r = post(&app, &payments, payment).await;
    assert_eq!((r.status, r.json()["status"].as_str()), (200, Some("duplicate")), "{}", r.body);
    let r = post(&app, &payments, &payment.replace("500.00", "600.00")).await;
    assert_eq!(error_of(&r).0, 422, "{}", r.body);
    assert_eq!(error_of(&r).1, "record_differs", "{}", r.body);
    let r = post(&app, &payments, &payment.replace("\"period\"", "\"periode\"")).await;
    assert_eq!(error_of(&r).0, 422, "{}", r.body);
    assert_eq!(error_of(&r).1, "document_format", "{}", r.body);
    let r = post(&app, &payments, &payment.replace("500.00", "-5")).await;
    assert_eq!(error_of(&r), (422, "amount_not_positive".to_owned(), Some("amount".to_owned())), "{}", r.body);
    let r = post(&app, "/api/v1/books/NOPE/tax/payments", payment).await;
    assert_eq!(error_of(&r).0, 404, "{}", r.body);

    // The schedule: monthly from 1 January.
    let schedule_path = format!("/api/v1/books/{BOOK_NO}/tax/schedule");
    let r = get(&app, &schedule_path).await;
    assert_eq!((r.status, r.json()), (200, serde_json::json!([])), "{}", r.body);
    let r = post(&app, &schedule_path, r#"{"schedule": "monthly", "from": "2026-01-01"}"#).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = post(&app, &schedule_path, r#"{"schedule": "monthly", "from": "2026-01-01"}"#).await;
    assert_eq!((r.status, r.json()["status"].as_str()), (200, Some("duplicate")), "{}", r.body);
    let r = post(&app, &schedule_path, r#"{"schedule": "weekly", "from": "2026-01-01"}"#).await;
    assert_eq!(error_of(&r).0, 422, "{}", r.body);
    assert_eq!(error_of(&r).2.as_deref(), Some("schedule"), "{}", r.body);
    let r = get(&app, &schedule_path).await;
    assert_eq!(r.json(), serde_json::json!([{"schedule": "monthly", "from": "2026-01-01"}]));

    // Periods: the example's domestic sales (0644 on 8 May and 12 June, 0844 on 20 August), by month.
    let r = get(&app, &format!("/api/v1/books/{BOOK_NO}/tax/periods?as_of=2026-12-31")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    assert_eq!(report["as_of"], "2026-12-31");
    let periods = report["periods"].as_array().expect("periods");
    let got: Vec<(&str, &str, Vec<&str>)> = periods
        .iter()
        .map(|p| {
            (p["label"].as_str().unwrap_or_default(), p["due"].as_str().unwrap_or_default(), p["lists"].as_array().expect("lists").iter().map(|l| l["list_no"].as_str().unwrap_or_default()).collect())
        })
        .collect();
    assert_eq!(got, vec![("2026-05", "2026-06-15", vec!["QD520026000000005"]), ("2026-06", "2026-07-15", vec!["QD520026000000006"]), ("2026-08", "2026-09-15", vec!["QD520026000000009"]),]);
    assert!(periods.iter().all(|p| p["schedule"] == "monthly" && p["complete"] == true), "{report}");
    assert_eq!(periods[0]["paid"], "500", "the payment counts toward its period: {}", periods[0]);
    assert_eq!(report["unmatched_payments"], serde_json::json!([]));
    let r = get(&app, &format!("/api/v1/books/{BOOK_NO}/tax/periods")).await;
    assert_eq!(error_of(&r), (400, "bad_query".to_owned(), Some("as_of".to_owned())), "{}", r.body);
    let r = get(&app, &format!("/api/v1/books/{BOOK_NO}/tax/periods?as_of=2026-13-01")).await;
    assert_eq!(error_of(&r), (400, "bad_query".to_owned(), Some("as_of".to_owned())), "{}", r.body);
    let r = get(&app, "/api/v1/books/NOPE/tax/periods?as_of=2026-12-31").await;
    assert_eq!(error_of(&r).0, 404, "{}", r.body);

    // The tariff: provisional beats MFN; a certificate of origin from Korea (133) takes the agreement rate.
    let r = get(&app, "/api/v1/tariff/3901402090?date=2026-06-01").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let line = r.json();
    assert_eq!((&line["hs_code"], &line["date"], &line["duty_rate"], &line["vat_rate"]), (&Value::from("3901402090"), &Value::from("2026-06-01"), &Value::from("0.05"), &Value::from("0.13")));
    assert!(line["duty_rate_source"].as_str().is_some_and(|s| s.ends_with("provisional")), "{line}");
    assert!(line.get("consumption_tax_rate").is_none(), "{line}");
    let r = get(&app, "/api/v1/tariff/3901100090?date=2026-06-01&origin=133").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["duty_rate"], "0.026");
    assert!(r.json()["duty_rate_source"].as_str().is_some_and(|s| s.ends_with("agreement:韩国")), "{}", r.body);
    let r = get(&app, "/api/v1/tariff/3901100090?date=2026-06-01").await;
    assert_eq!((r.json()["duty_rate"].as_str(), r.json()["duty_rate_source"].as_str().map(|s| s.ends_with("mfn"))), (Some("0.065"), Some(true)), "{}", r.body);
    let r = get(&app, "/api/v1/tariff/3901100090").await;
    assert_eq!(error_of(&r), (400, "bad_query".to_owned(), Some("date".to_owned())), "{}", r.body);
    let r = get(&app, "/api/v1/tariff/3901100090?date=2026-06-01&origin=XYZ").await;
    assert_eq!(error_of(&r), (400, "bad_query".to_owned(), Some("origin".to_owned())), "{}", r.body);
    let r = get(&app, "/api/v1/tariff/39011?date=2026-06-01").await;
    assert_eq!(error_of(&r), (400, "bad_path".to_owned(), Some("hs_code".to_owned())), "{}", r.body);
    let r = get(&app, "/api/v1/tariff/3901100090?date=2025-06-01").await;
    assert_eq!(error_of(&r).1, "tariff_missing", "{}", r.body);
    let r = get(&app, "/api/v1/tariff/0101210010?date=2026-06-01").await;
    assert_eq!(error_of(&r), (422, "hs_code_unknown".to_owned(), Some("hs_code".to_owned())), "{}", r.body);

    // What is loaded.
    let r = get(&app, "/api/v1/tariffs").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), serde_json::json!([{"name": "test tariff 2026", "valid_from": "2026-01-01", "lines": 7, "source": "written for the test"}]));
    let r = get(&app, "/api/v1/rates").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rates = r.json();
    let rates = rates.as_array().expect("rates");
    assert!(rates.iter().any(|x| x["kind"] == "exchange" && x["key"] == "502" && x["rate"] == "7.1" && x["valid_from"] == "2026-05-01"), "{rates:?}");
    assert!(rates.iter().any(|x| x["kind"] == "deferred_interest"), "the built-in rates are listed too");
}

/// One request with another token than the app's.
async fn request_as(app: &App, token: &str, method: &str, path: &str, body: Option<&str>) -> Reply {
    let auth = format!("Bearer {token}");
    common::send(app.addr, method, path, &[("Authorization", &auth), ("Content-Type", "text/csv")], body.map(str::as_bytes)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn departments_hand_over_files_cross_check_and_subscribe() {
    let Some(dir) = examples() else { return };
    let (app, engine) = spawn_app_with_engine().await;
    let fx_token = {
        let mut e = engine.lock().expect("engine");
        e.set_ctx(jiamao_app::platform::Ctx::default());
        e.add_user("fx", jiamao_domain::access::Role::FxOfficer, None, None, None, PASSWORD).expect("the FX officer's account");
        e.issue_token("fx", false, None).expect("the FX officer's token").token
    };
    import_example_book(&app, &dir).await;
    let r = post(&app, "/api/v1/lists", &read(&dir, "lists.json")).await;
    assert_eq!((r.status, r.header("x-jiamao-rejected")), (200, Some("0")), "{}", r.body);
    let doc = anonymous(&app, "GET", "/api/openapi.json").await.json();
    let check = |what: &str, path: &str, method: &str, status: &str, value: &Value| {
        let schema = doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"].clone();
        assert!(schema.is_object(), "{what}: no {status} answer described");
        if let Err(e) = common::conforms(&doc, &schema, value, what) {
            panic!("{e}");
        }
    };

    // The FX side's receipts: 78,000 USD named after the first export list, 60,000 naming none.
    let receipts = format!("enterprise,receipt_no,received_on,currency,amount,list_no\n{ENTERPRISE},FX-1,2026-03-01,502,78000,QD520026000000002\n{ENTERPRISE},FX-2,2026-08-10,502,60000,\n");
    let r = request_as(&app, &fx_token, "POST", "/api/v1/crosscheck/fx-receipts", Some(&receipts)).await;
    assert_eq!((r.status, r.json()), (200, serde_json::json!({"recorded": 2, "duplicates": 0})), "{}", r.body);
    check("POST /api/v1/crosscheck/fx-receipts", "/api/v1/crosscheck/fx-receipts", "post", "200", &r.json());
    let r = request_as(&app, &fx_token, "POST", "/api/v1/crosscheck/fx-receipts", Some(&receipts)).await;
    assert_eq!((r.status, r.json()), (200, serde_json::json!({"recorded": 0, "duplicates": 2})), "the same file again: {}", r.body);

    // Exports of 2026 against the receipts: 143,640 USD declared, 138,000 received.
    let path = format!("/api/v1/enterprises/{ENTERPRISE}/crosscheck/fx?from=2026-01-01&to=2026-12-31");
    let r = request_as(&app, &fx_token, "GET", &path, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = r.json();
    check(&format!("GET {path}"), "/api/v1/enterprises/{uscc}/crosscheck/fx", "get", "200", &c);
    assert_eq!((&c["rows"][0]["currency"], &c["rows"][0]["exported"], &c["rows"][0]["received"]), (&Value::from("502"), &Value::from("143640"), &Value::from("138000")), "{c}");
    assert_eq!((&c["rows"][0]["shortfall"], &c["rows"][0]["flagged"], &c["flagged"]), (&Value::from("5640"), &Value::Bool(true), &Value::Bool(true)), "{c}");
    // Within a 5 % tolerance the shortfall is not flagged.
    let r = request_as(&app, &fx_token, "GET", &format!("{path}&tolerance=0.05"), None).await;
    assert_eq!((r.status, &r.json()["rows"][0]["flagged"]), (200, &Value::Bool(false)), "{}", r.body);
    for (query, field) in [
        ("from=2026-01-01", "to"),
        ("from=2026-1-1&to=2026-12-31", "from"),
        ("from=2026-01-01&to=2026-12-31&tolerance=-0.05", "tolerance"),
        ("from=2026-01-01&to=2026-12-31&tolerance=5%", "tolerance"),
    ] {
        let r = request_as(&app, &fx_token, "GET", &format!("/api/v1/enterprises/{ENTERPRISE}/crosscheck/fx?{query}"), None).await;
        assert_eq!(error_of(&r), (400, "bad_query".to_owned(), Some(field.to_owned())), "?{query}: {}", r.body);
    }
    let r = request_as(&app, &fx_token, "GET", "/api/v1/enterprises/91441900698123458F/crosscheck/fx?from=2026-01-01&to=2026-12-31", None).await;
    assert_eq!(error_of(&r), (400, "bad_path".to_owned(), Some("uscc".to_owned())), "{}", r.body);
    // The VAT cross-check: as_of is required; the FX officer reads it too.
    let r = request_as(&app, &fx_token, "GET", &format!("/api/v1/enterprises/{ENTERPRISE}/crosscheck/vat"), None).await;
    assert_eq!(error_of(&r), (400, "bad_query".to_owned(), Some("as_of".to_owned())), "{}", r.body);
    let vat = format!("/api/v1/enterprises/{ENTERPRISE}/crosscheck/vat?as_of=2026-12-31");
    let r = request_as(&app, &fx_token, "GET", &vat, None).await;
    assert_eq!((r.status, r.json()["enterprise"].as_str()), (200, Some(ENTERPRISE)), "{}", r.body);
    check(&format!("GET {vat}"), "/api/v1/enterprises/{uscc}/crosscheck/vat", "get", "200", &r.json());

    // A file with a bad row is refused whole, naming the line.
    let bad = format!("enterprise,receipt_no,received_on,currency,amount,list_no\n{ENTERPRISE},FX-3,2026-09-01,502,1000,\n{ENTERPRISE},FX-4,2026-9-31,502,1000,\n");
    let r = request_as(&app, &fx_token, "POST", "/api/v1/crosscheck/fx-receipts", Some(&bad)).await;
    assert_eq!((r.status, r.rule().as_str()), (422, "file_invalid"), "{}", r.body);
    let message = r.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("request body:3") && message.contains("received_on"), "{message}");
    let r = request_as(&app, &fx_token, "GET", &path, None).await;
    assert_eq!(r.json()["rows"][0]["received"], "138000", "nothing of the refused file was loaded: {}", r.body);
    // The enterprise's administrator hands over no department's file.
    let r = request(&app, "POST", "/api/v1/crosscheck/fx-receipts", Some(&receipts)).await;
    assert_eq!((r.status, r.rule().as_str()), (403, "forbidden"), "{}", r.body);

    // Webhooks: subscribe as the FX officer, then list.
    let hook = r#"{"url":"http://127.0.0.1:9/hook","kinds":["list_posted"]}"#;
    let r = request_as(&app, &fx_token, "POST", "/api/v1/webhooks", Some(hook)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let added = r.json();
    check("POST /api/v1/webhooks", "/api/v1/webhooks", "post", "201", &added);
    assert_eq!(
        (&added["login"], &added["url"], &added["kinds"], &added["cursor"]),
        (&Value::from("fx"), &Value::from("http://127.0.0.1:9/hook"), &serde_json::json!(["list_posted"]), &Value::from(0)),
        "{added}"
    );
    let r = request_as(&app, &fx_token, "GET", "/api/v1/webhooks", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    check("GET /api/v1/webhooks", "/api/v1/webhooks", "get", "200", &r.json());
    assert_eq!(r.json(), serde_json::json!([added]), "{}", r.body);
    for (body, rule) in [
        (r#"{"url":"https://127.0.0.1:9/hook","kinds":["list_posted"]}"#, "rejected"),
        (r#"{"url":"http://127.0.0.1:9/hook","kinds":["everything"]}"#, "rejected"),
        (r#"{"url":"http://127.0.0.1:9/hook","kind":["list_posted"]}"#, "document_format"),
    ] {
        let r = request_as(&app, &fx_token, "POST", "/api/v1/webhooks", Some(body)).await;
        assert_eq!((r.status, r.rule().as_str()), (422, rule), "{body}: {}", r.body);
    }
    assert_eq!(request_as(&app, &fx_token, "GET", "/api/v1/webhooks", None).await.json().as_array().map(Vec::len), Some(1), "a refused subscription was kept");
}

#[test]
fn the_route_table_is_what_the_router_registers() {
    let registered = common::registered_routes();
    assert!(registered.len() >= ROUTES.len(), "too few routes read from src/lib.rs: {registered:?}");
    let mut table: Vec<(String, Vec<String>)> = ROUTES.iter().chain(PAGES).map(|(p, m)| (p.to_string(), m.iter().map(|m| m.to_string()).collect())).collect();
    for (_, methods) in &mut table {
        methods.sort();
    }
    for (path, methods) in &registered {
        let listed = table.iter().find(|(p, _)| p == path);
        assert_eq!(listed.map(|(_, m)| m), Some(methods), "{path} is registered in src/lib.rs with {methods:?}: add it to ROUTES (tests/common) and to the OpenAPI document");
    }
    for (path, _) in &table {
        assert!(registered.iter().any(|(p, _)| p == path), "{path} is in the route table but not registered in src/lib.rs");
    }
}

/// A described path with its parameters filled in with names nobody uses (and the example's enterprise).
fn concrete_path(path: &str) -> String {
    path.replace("{book_no}", "NOPE")
        .replace("{seq}", "1")
        .replace("{hs_code}", "3901100090")
        .replace("{login}", "nobody")
        .replace("{token_id}", "NOPE")
        .replace("{uscc}", ENTERPRISE)
        .replace("{name}", "NOPE")
        .replace("{from}", "NOPE")
        .replace("{to}", "NOPE2")
        .replace("{guarantee_no}", "NOPE")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_describes_every_route() {
    let app = spawn_app().await;
    let r = anonymous(&app, "GET", "/api/openapi.json").await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    // Every registered /api/v1 route (and the two public ones) is described, with exactly its methods.
    for (path, methods) in common::registered_routes() {
        if path.starts_with("/api/") || path == "/healthz" {
            let described: Vec<String> = doc["paths"][&path].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
            for method in &methods {
                assert!(doc["paths"][&path][method].is_object(), "{} {path} is registered but not described", method.to_ascii_uppercase());
            }
            assert_eq!(described.len(), methods.len(), "{path}: described methods {described:?}, served {methods:?}");
        }
    }
    for (path, methods) in ROUTES {
        for method in *methods {
            assert!(doc["paths"][path][method].is_object(), "{method} {path} is not described");
        }
        let described: Vec<&String> = doc["paths"][path].as_object().map(|m| m.keys().collect()).unwrap_or_default();
        assert_eq!(described.len(), methods.len(), "{path}: described methods {described:?}, served {methods:?}");
    }
    assert_eq!(doc["paths"].as_object().map(|p| p.len()), Some(ROUTES.len()), "a described path the server does not serve");
    assert!(doc["paths"]["/api/v1/lists"]["post"]["responses"]["200"]["headers"]["X-Jiamao-Rejected"].is_object());

    // Security: the schemes, the default requirement, and the public operations marked as such.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!((&schemes["bearerToken"]["type"], &schemes["bearerToken"]["scheme"]), (&Value::from("http"), &Value::from("bearer")), "{schemes}");
    assert_eq!((&schemes["sessionCookie"]["in"], &schemes["sessionCookie"]["name"]), (&Value::from("cookie"), &Value::from("jiamao_session")), "{schemes}");
    assert_eq!((&schemes["csrfToken"]["in"], &schemes["csrfToken"]["name"]), (&Value::from("header"), &Value::from("X-CSRF-Token")), "{schemes}");
    let top: Vec<Value> = doc["security"].as_array().cloned().unwrap_or_default();
    assert!(top.contains(&serde_json::json!({"bearerToken": []})) && top.contains(&serde_json::json!({"sessionCookie": []})), "{}", doc["security"]);
    for (path, operations) in doc["paths"].as_object().expect("paths") {
        for (method, op) in operations.as_object().expect("operations") {
            let public = PUBLIC.contains(&(path.as_str(), method.as_str()));
            let security = op.get("security");
            if public {
                assert_eq!(security, Some(&serde_json::json!([])), "{method} {path} is public: security []");
            } else {
                assert!(security.is_none_or(|s| s.as_array().is_some_and(|a| !a.is_empty())), "{method} {path} needs credentials but says security []");
                assert!(op["responses"]["401"].is_object(), "{method} {path}: no 401 answer described");
                if method != "get" {
                    assert!(op["responses"]["403"].is_object(), "{method} {path}: no 403 answer described (csrf, forbidden)");
                    assert!(security.is_some_and(|s| s.to_string().contains("csrfToken")), "{method} {path}: a change with the session cookie needs the CSRF token");
                }
            }
            // What the document says is what the server does: anonymous callers are refused with 401
            // exactly where the document asks for credentials.
            let concrete = concrete_path(path);
            let r = anonymous(&app, &method.to_ascii_uppercase(), &concrete).await;
            assert_eq!(r.status == 401, !public, "{method} {path} anonymously: {} {}", r.status, r.body);
        }
    }
    let login = &doc["paths"]["/api/v1/session"]["post"]["responses"];
    assert!(login["429"]["headers"]["Retry-After"].is_object() && login["200"]["headers"]["Set-Cookie"].is_object(), "{login}");

    // Every described operation is served: none falls through to the fallback (404 not_found) or is
    // refused as a method the path does not have (405). Requests carry no body and unknown names.
    for (path, operations) in doc["paths"].as_object().expect("paths") {
        let concrete = concrete_path(path);
        for method in operations.as_object().expect("operations").keys() {
            let r = request(&app, &method.to_ascii_uppercase(), &concrete, None).await;
            assert_ne!(r.status, 405, "{method} {path}: {}", r.body);
            let fell_through = r.status == 404 && r.body.contains("\"not_found\"");
            assert!(!fell_through, "{method} {path} is described but not served: {}", r.body);
        }
    }

    // The platform's answers have the shapes the document gives them.
    let schema = |path: &str, method: &str, status: &str| doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"].clone();
    let check = |what: &str, schema: Value, value: &Value| {
        if let Err(e) = common::conforms(&doc, &schema, value, what) {
            panic!("{e}");
        }
    };
    let r = post(&app, "/api/v1/session", &serde_json::json!({"login": "tester", "password": PASSWORD}).to_string()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    check("POST /api/v1/session", schema("/api/v1/session", "post", "200"), &r.json());
    let r = get(&app, "/api/v1/me").await;
    check("GET /api/v1/me", schema("/api/v1/me", "get", "200"), &r.json());
    let r = get(&app, "/api/v1/users").await;
    assert_eq!(r.status, 200, "{}", r.body);
    check("GET /api/v1/users", schema("/api/v1/users", "get", "200"), &r.json());
    let r = post(&app, "/api/v1/users", &serde_json::json!({"login": "clerk", "role": "enterprise_operator", "enterprise": ENTERPRISE, "password": "another long password"}).to_string()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    check("POST /api/v1/users", schema("/api/v1/users", "post", "201"), &r.json());
    let r = post(&app, "/api/v1/tokens", r#"{"login": "tester", "read_only": true, "expires_at": "2099-01-01T00:00:00Z"}"#).await;
    assert_eq!(r.status, 201, "{}", r.body);
    check("POST /api/v1/tokens", schema("/api/v1/tokens", "post", "201"), &r.json());
    let token_id = r.json()["token_id"].as_str().expect("token_id").to_owned();
    assert_eq!(request(&app, "DELETE", &format!("/api/v1/tokens/{token_id}"), None).await.status, 204);
    let r = request(&app, "DELETE", &format!("/api/v1/tokens/{token_id}"), None).await;
    assert_eq!((r.status, r.rule().as_str()), (404, "unknown_token"), "{}", r.body);
    if let Some(dir) = examples() {
        import_example_book(&app, &dir).await;
    }
    let r = get(&app, "/api/v1/events?after=0&limit=10").await;
    assert_eq!(r.status, 200, "{}", r.body);
    check("GET /api/v1/events", schema("/api/v1/events", "get", "200"), &r.json());
    let r = get(&app, "/api/v1/audit/verify").await;
    assert_eq!(r.status, 200, "{}", r.body);
    check("GET /api/v1/audit/verify", schema("/api/v1/audit/verify", "get", "200"), &r.json());
    for (path, method, status) in [("/api/v1/users/{login}/disable", "post", "204"), ("/api/v1/session", "delete", "204"), ("/api/v1/events", "get", "400"), ("/api/v1/audit/verify", "get", "403")] {
        assert!(doc["paths"][path][method]["responses"][status].is_object(), "{method} {path}: {status} not described");
    }

    // The taxation routes name their required parameters and bodies.
    let params = |path: &str, method: &str| -> Vec<(String, bool)> {
        doc["paths"][path][method]["parameters"].as_array().into_iter().flatten().map(|p| (p["name"].as_str().unwrap_or_default().to_owned(), p["required"] == true)).collect()
    };
    assert!(params("/api/v1/books/{book_no}/tax/periods", "get").contains(&("as_of".to_owned(), true)));
    assert!(params("/api/v1/tariff/{hs_code}", "get").contains(&("date".to_owned(), true)));
    assert!(params("/api/v1/tariff/{hs_code}", "get").contains(&("origin".to_owned(), false)));
    for (path, method) in [("/api/v1/tax/quote", "post"), ("/api/v1/books/{book_no}/tax/payments", "post"), ("/api/v1/books/{book_no}/tax/schedule", "post")] {
        assert_eq!(doc["paths"][path][method]["requestBody"]["required"], true, "{method} {path}");
    }
    for path in ["/api/v1/books/{book_no}/tax/payments", "/api/v1/books/{book_no}/tax/schedule"] {
        let responses = &doc["paths"][path]["post"]["responses"];
        assert!(responses["201"].is_object() && responses["200"].is_object(), "{path}: {responses}");
    }

    // The policy routes: the dates the server will not assume are required, and so is the choice
    // between previewing and loading a catalog.
    for (path, method, parameter) in [
        ("/api/v1/catalog/{hs_code}", "get", "date"),
        ("/api/v1/enterprises/{uscc}/credit", "get", "as_of"),
        ("/api/v1/books/{book_no}/guarantee", "get", "as_of"),
        ("/api/v1/catalogs/{name}", "post", "preview"),
    ] {
        assert!(params(path, method).contains(&(parameter.to_owned(), true)), "{method} {path}: {parameter} required");
    }
    assert!(params("/api/v1/catalogs/{name}", "post").contains(&("as_of".to_owned(), false)));
    assert!(params("/api/v1/books/{book_no}/consumption-check", "get").contains(&("export_taxable".to_owned(), false)));
    assert!(doc["paths"]["/api/v1/catalogs/{name}"]["post"]["requestBody"]["content"]["text/csv"].is_object());
    for (path, method) in [
        ("/api/v1/catalogs/{name}", "post"),
        ("/api/v1/enterprises/{uscc}/credit", "post"),
        ("/api/v1/books/{book_no}/guarantees", "post"),
        ("/api/v1/books/{book_no}/guarantees/{guarantee_no}/refund", "post"),
        ("/api/v1/books/{book_no}/consumption-reviews", "post"),
    ] {
        assert_eq!(doc["paths"][path][method]["requestBody"]["required"], true, "{method} {path}");
    }
    let responses = &doc["paths"]["/api/v1/books/{book_no}/guarantees"]["post"]["responses"];
    assert!(responses["201"].is_object() && responses["200"].is_object(), "{responses}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_the_server_return() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("jiamao.db"), Durability::Full).expect("open store");
    let engine = Arc::new(Mutex::new(Engine::new(store)));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(jiamao_server::serve_until(listener, jiamao_server::router(engine), async {
        let _ = stopped.await;
    }));
    let app = App { addr, token: "jm_none_none".to_owned(), _dir: dir };
    assert_eq!(get(&app, "/healthz").await.status, 200);
    stop.send(()).expect("server still running");
    let result = server.await.expect("server task");
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poisoned_engine_answers_500_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("jiamao.db"), Durability::Full).expect("open store");
    let engine = Arc::new(Mutex::new(Engine::new(store)));
    let poisoner = Arc::clone(&engine);
    let _ = std::thread::spawn(move || {
        let _guard = poisoner.lock();
        panic!("poisoning the engine's lock on purpose");
    })
    .join();
    assert!(engine.is_poisoned());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(jiamao_server::serve_until(listener, jiamao_server::router(engine), std::future::pending()));
    let app = App { addr, token: "jm_none_none".to_owned(), _dir: dir };
    let r = get(&app, "/api/v1/books").await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.json()["error"]["rule"], "internal");
    let r = get(&app, "/").await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(r.header("content-type").is_some_and(|t| t.starts_with("text/html")));
}

// ---- Policy as dated data: catalogs, credit, guarantees, 单耗 ---------------------------------------

/// One request with a JSON (or no) body and another token than the app's.
async fn call_as(app: &App, token: &str, method: &str, path: &str, body: Option<&str>) -> Reply {
    let auth = format!("Bearer {token}");
    common::send(app.addr, method, path, &[("Authorization", &auth)], body.map(str::as_bytes)).await
}

/// An account of a customs role made through the engine with the local context (as the platform's
/// operator would with `jiamao user add`), and a token for it.
fn customs_account(engine: &Arc<Mutex<Engine<SqliteStore>>>, login: &str, role: jiamao_domain::access::Role, customs: &str) -> String {
    let mut e = engine.lock().expect("engine");
    e.set_ctx(jiamao_app::platform::Ctx::default());
    e.add_user(login, role, None, Some(customs), None, PASSWORD).expect("the account");
    e.issue_token(login, false, None).expect("its token").token
}

/// Checks an answer against the OpenAPI document's schema of (path, method, status).
fn conform(doc: &Value, path: &str, method: &str, status: &str, value: &Value) {
    let schema = doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"].clone();
    assert!(schema.is_object(), "{method} {path}: no {status} answer described");
    if let Err(e) = common::conforms(doc, &schema, value, &format!("{} {path} {status}", method.to_ascii_uppercase())) {
        panic!("{e}");
    }
}

/// The first catalog: material 4 of the example book (gravure ink, 3215190090) prohibited from 1 June
/// 2026. Written for the test, not the official catalog.
const CATALOG_V1: &str = "\
hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement
2836200000,prohibited,both,,,2015-01-01,2020-11-30,商务部 海关总署公告2014年第90号
3215190090,prohibited,import,,,2026-06-01,,written for the test
";

/// The second: the ink's prohibition ends on 31 August; product 1 (3920109090) restricted 实转.
const CATALOG_V2: &str = "\
hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement
2836200000,prohibited,both,,,2015-01-01,2020-11-30,商务部 海关总署公告2014年第90号
3215190090,prohibited,import,,,2026-06-01,2026-08-31,written for the test
3920109090,restricted,export,实转,,2026-01-01,,written for the test
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogs_load_preview_diff_and_check_over_http() {
    let Some(dir) = examples() else { return };
    let (app, engine) = spawn_app_with_engine().await;
    let supervisor = customs_account(&engine, "s5200", jiamao_domain::access::Role::CustomsSupervisor, "5200");
    let officer = customs_account(&engine, "c5200", jiamao_domain::access::Role::CustomsOfficer, "5200");
    import_example_book(&app, &dir).await;
    let doc = anonymous(&app, "GET", "/api/openapi.json").await.json();
    let csv = |token: &str, path: String, body: &str| {
        let (addr, auth, body) = (app.addr, format!("Bearer {token}"), body.to_owned());
        async move { common::send(addr, "POST", &path, &[("Authorization", &auth), ("Content-Type", "text/csv")], Some(body.as_bytes())).await }
    };

    // Nothing loaded yet: no versions, and a check answers no entries.
    let r = get(&app, "/api/v1/catalogs").await;
    assert_eq!((r.status, r.json()), (200, serde_json::json!([])), "{}", r.body);
    let r = get(&app, "/api/v1/catalog/3215190090?date=2026-07-01").await;
    assert_eq!((r.status, r.json()), (200, serde_json::json!({"hs_code": "3215190090", "date": "2026-07-01", "entries": []})), "{}", r.body);

    // Only customs supervisors (and the administrator) load policy: not the enterprise, not an officer.
    for token in [app.token.as_str(), officer.as_str()] {
        for preview in ["true", "false"] {
            let r = csv(token, format!("/api/v1/catalogs/v1?preview={preview}&as_of=2026-01-01"), CATALOG_V1).await;
            assert_eq!((r.status, r.rule().as_str()), (403, "forbidden"), "preview={preview}: {}", r.body);
        }
    }

    // The preview names the example book's ink, newly prohibited from 1 June, and loads nothing.
    let r = csv(&supervisor, "/api/v1/catalogs/v1?preview=true&as_of=2026-01-01".into(), CATALOG_V1).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = r.json();
    conform(&doc, "/api/v1/catalogs/{name}", "post", "200", &p);
    assert_eq!((&p["status"], &p["impact"]["books"], &p["impact"]["previous"]), (&Value::from("preview"), &serde_json::json!([BOOK_NO]), &Value::Null), "{p}");
    let items = p["impact"]["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{p}");
    assert_eq!(
        (&items[0]["goods"], &items[0]["item_seq"], &items[0]["hs_code"], &items[0]["change"], &items[0]["from"], &items[0]["until"]),
        (&Value::from("material"), &Value::from(4), &Value::from("3215190090"), &Value::from("newly_prohibited"), &Value::from("2026-06-01"), &Value::from("2026-12-31")),
        "{p}"
    );
    assert_eq!(get(&app, "/api/v1/catalogs").await.json(), serde_json::json!([]), "a preview loaded something");

    // A bad file is refused whole, every problem named with its line; preview is required.
    let bad = "hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement\n32151900,prohibited,import,,,2026-06-01,,x\n3215190090,forbidden,import,,,2026-06-01,,x\n";
    let r = csv(&supervisor, "/api/v1/catalogs/v1?preview=false".into(), bad).await;
    assert_eq!((r.status, r.rule().as_str()), (422, "file_invalid"), "{}", r.body);
    let message = r.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("request body:2") && message.contains("request body:3"), "every problem with its line: {message}");
    for (query, field) in [("", "preview"), ("?preview=yes", "preview"), ("?preview=true&as_of=2026-1-1", "as_of"), ("?preview=true&date=2026-01-01", "")] {
        let r = csv(&supervisor, format!("/api/v1/catalogs/v1{query}"), CATALOG_V1).await;
        assert_eq!((r.status, r.rule().as_str()), (400, "bad_query"), "{query}: {}", r.body);
        if !field.is_empty() {
            assert_eq!(error_of(&r).2.as_deref(), Some(field), "{query}: {}", r.body);
        }
    }

    // Loading: 201 with the impact, 200 unchanged the second time, other content under the name refused.
    let r = csv(&supervisor, "/api/v1/catalogs/v1?preview=false&as_of=2026-01-01".into(), CATALOG_V1).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let load = r.json();
    conform(&doc, "/api/v1/catalogs/{name}", "post", "201", &load);
    assert_eq!((&load["name"], &load["status"], &load["impact"]["items"]), (&Value::from("v1"), &Value::from("loaded"), &p["impact"]["items"]), "{load}");
    let r = csv(&supervisor, "/api/v1/catalogs/v1?preview=false&as_of=2026-01-01".into(), CATALOG_V1).await;
    assert_eq!((r.status, r.json()["status"].as_str()), (200, Some("unchanged")), "{}", r.body);
    conform(&doc, "/api/v1/catalogs/{name}", "post", "200", &r.json());
    let r = csv(&supervisor, "/api/v1/catalogs/v1?preview=false".into(), CATALOG_V2).await;
    assert_eq!(error_of(&r), (422, "policy_name_taken".to_owned(), Some("name".to_owned())), "{}", r.body);
    let r = csv(&supervisor, "/api/v1/catalogs/v2?preview=false&as_of=2026-01-01".into(), CATALOG_V2).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let load = r.json();
    assert_eq!((&load["impact"]["previous"], &load["impact"]["added"], &load["impact"]["changed"]), (&Value::from("v1"), &Value::from(1), &Value::from(1)), "{load}");
    let changes: Vec<(u64, &str)> = load["impact"]["items"].as_array().expect("items").iter().map(|i| (i["item_seq"].as_u64().unwrap_or(0), i["change"].as_str().unwrap_or(""))).collect();
    assert!(changes.contains(&(4, "no_longer_prohibited")) && changes.contains(&(1, "newly_restricted")), "{load}");

    // The versions, in load order (read by anyone with a role that reads policy: the enterprise too).
    let r = get(&app, "/api/v1/catalogs").await;
    assert_eq!(r.status, 200, "{}", r.body);
    conform(&doc, "/api/v1/catalogs", "get", "200", &r.json());
    assert_eq!(r.json(), serde_json::json!([{"name": "v1", "entries": 2, "valid_from": "2015-01-01", "in_force": false}, {"name": "v2", "entries": 3, "valid_from": "2015-01-01", "in_force": true}]));

    // The difference, by key.
    let r = get(&app, "/api/v1/catalogs/v1/diff/v2").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json();
    conform(&doc, "/api/v1/catalogs/{from}/diff/{to}", "get", "200", &d);
    assert_eq!((&d["from"], &d["to"], &d["added"][0]["hs_code"], &d["added"][0]["mode"]), (&Value::from("v1"), &Value::from("v2"), &Value::from("3920109090"), &Value::from("实转")), "{d}");
    assert_eq!(
        (d["removed"].as_array().map(Vec::len), &d["changed"][0]["hs_code"], &d["changed"][0]["after"][0]["valid_until"]),
        (Some(0), &Value::from("3215190090"), &Value::from("2026-08-31")),
        "{d}"
    );
    let r = get(&app, "/api/v1/catalogs/v1/diff/v9").await;
    assert_eq!(error_of(&r), (422, "catalog_unknown".to_owned(), Some("to".to_owned())), "{}", r.body);

    // Time travel inside the version in force: before, during and after the ink's prohibition.
    for (date, entries) in [("2026-05-31", 0), ("2026-07-01", 1), ("2026-09-01", 0)] {
        let r = get(&app, &format!("/api/v1/catalog/3215190090?date={date}")).await;
        assert_eq!(r.status, 200, "{date}: {}", r.body);
        conform(&doc, "/api/v1/catalog/{hs_code}", "get", "200", &r.json());
        assert_eq!((&r.json()["date"], r.json()["entries"].as_array().map(Vec::len)), (&Value::from(date), Some(entries)), "{date}: {}", r.body);
    }
    let r = get(&app, "/api/v1/catalog/2836200000?date=2020-11-30").await;
    assert_eq!(r.json()["entries"][0]["catalog"], "prohibited", "{}", r.body);
    let r = get(&app, "/api/v1/catalog/3215190090").await;
    assert_eq!(error_of(&r), (400, "bad_query".to_owned(), Some("date".to_owned())), "{}", r.body);
    let r = get(&app, "/api/v1/catalog/32151?date=2026-07-01").await;
    assert_eq!(error_of(&r), (400, "bad_path".to_owned(), Some("hs_code".to_owned())), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credit_and_guarantees_over_http() {
    let Some(dir) = examples() else { return };
    let (app, engine) = spawn_app_with_engine().await;
    let supervisor = customs_account(&engine, "s5200", jiamao_domain::access::Role::CustomsSupervisor, "5200");
    let officer = customs_account(&engine, "c5200", jiamao_domain::access::Role::CustomsOfficer, "5200");
    import_example_book(&app, &dir).await;
    let doc = anonymous(&app, "GET", "/api/openapi.json").await.json();
    let credit = format!("/api/v1/enterprises/{ENTERPRISE}/credit");

    // Recording a class over HTTP: the customs supervisor of a district where the enterprise has a
    // book may; the enterprise itself may not.
    let class = r#"{"class": "一般信用", "from": "2025-01-01", "decision": "T-2025-1"}"#;
    let r = call_as(&app, &app.token, "POST", &credit, Some(class)).await;
    assert_eq!((r.status, r.rule().as_str()), (403, "forbidden"), "{}", r.body);
    let r = call_as(&app, &supervisor, "POST", &credit, Some(class)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Bad input: a class of another scheme, a date that is not YYYY-MM-DD, an unknown field.
    let r = call_as(&app, &supervisor, "POST", &credit, Some(r#"{"class": "AA", "from": "2025-01-01"}"#)).await;
    assert_eq!((r.status, r.rule().as_str()), (422, "rejected"), "{}", r.body);
    assert!(r.body.contains("Decree 251"), "{}", r.body);
    let r = call_as(&app, &supervisor, "POST", &credit, Some(r#"{"class": "一般信用", "from": "2025-1-1"}"#)).await;
    assert_eq!(error_of(&r), (422, "document_format".to_owned(), Some("from".to_owned())), "{}", r.body);
    let r = call_as(&app, &supervisor, "POST", &credit, Some(r#"{"class": "一般信用", "from": "2025-01-01", "grade": "B"}"#)).await;
    assert_eq!(error_of(&r).1, "document_format", "{}", r.body);
    // So the history is recorded by the local operator (jiamao credit set).
    {
        let mut e = engine.lock().expect("engine");
        e.set_ctx(jiamao_app::platform::Ctx::default());
        let entry = |class: &str, from: &str, decision: Option<&str>| jiamao_domain::credit::CreditEntry { class: class.into(), from: from.parse().expect("date"), decision: decision.map(Into::into) };
        e.set_credit(ENTERPRISE, &entry("一般信用", "2025-01-01", Some("T-2025-1"))).expect("credit 2025");
        e.set_credit(ENTERPRISE, &entry("高级认证企业", "2026-05-01", None)).expect("credit 2026");
    }
    // Read as of three dates: none yet, the 2025 class, the 2026 one.
    for (as_of, class, tier, scheme) in [("2024-12-31", None, "general", None), ("2025-06-01", Some("一般信用"), "general", Some("251")), ("2026-06-01", Some("高级认证企业"), "advanced", Some("282"))]
    {
        let r = get(&app, &format!("{credit}?as_of={as_of}")).await;
        assert_eq!(r.status, 200, "{as_of}: {}", r.body);
        let v = r.json();
        conform(&doc, "/api/v1/enterprises/{uscc}/credit", "get", "200", &v);
        assert_eq!((v["class"].as_str(), v["tier"].as_str(), v["scheme"].as_str(), v["defaulted"].as_bool()), (class, Some(tier), scheme, Some(class.is_none())), "{as_of}: {v}");
        assert_eq!((&v["enterprise"], &v["as_of"], v["history"].as_array().map(Vec::len)), (&Value::from(ENTERPRISE), &Value::from(as_of), Some(2)), "{v}");
    }
    let r = get(&app, &credit).await;
    assert_eq!(error_of(&r), (400, "bad_query".to_owned(), Some("as_of".to_owned())), "{}", r.body);
    let r = get(&app, "/api/v1/enterprises/91441900698123458F/credit?as_of=2026-01-01").await;
    assert_eq!(error_of(&r), (400, "bad_path".to_owned(), Some("uscc".to_owned())), "{}", r.body);

    // The example book's guarantee: no catalog, so no restricted item: nothing required.
    let report = |as_of: &str| format!("/api/v1/books/{BOOK_NO}/guarantee?as_of={as_of}");
    let r = get(&app, &report("2026-06-30")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let g = r.json();
    conform(&doc, "/api/v1/books/{book_no}/guarantee", "get", "200", &g);
    assert_eq!((&g["required"]["amount"], &g["posted"], &g["shortfall"], &g["alert"]), (&Value::from("0"), &Value::from("0"), &Value::from("0"), &Value::Bool(false)), "{g}");
    assert_eq!(
        (&g["method"], &g["holding"], &g["credit"]["class"], &g["letter_valid_until"]),
        (&Value::from("matrix2015"), &Value::from("customs_guarantee"), &Value::from("高级认证企业"), &Value::from("2027-03-21")),
        "{g}"
    );
    let r = get(&app, &format!("/api/v1/books/{BOOK_NO}/guarantee")).await;
    assert_eq!(error_of(&r), (400, "bad_query".to_owned(), Some("as_of".to_owned())), "{}", r.body);
    let r = get(&app, "/api/v1/books/NOPE/guarantee?as_of=2026-06-30").await;
    assert_eq!(error_of(&r).0, 404, "{}", r.body);

    // Posting a guarantee: customs officers of the district; the enterprise is answered as if the
    // book did not exist. Idempotent by number.
    let guarantees = format!("/api/v1/books/{BOOK_NO}/guarantees");
    let cash = r#"{"guarantee_no": "G2026-001", "form": "cash", "amount": "50000", "posted_on": "2026-01-05"}"#;
    let r = post(&app, &guarantees, cash).await;
    assert_eq!((r.status, r.rule().as_str()), (404, "unknown_book"), "{}", r.body);
    let r = call_as(&app, &officer, "POST", &guarantees, Some(cash)).await;
    assert_eq!((r.status, r.json()), (201, serde_json::json!({"book_no": BOOK_NO, "key": "G2026-001", "status": "recorded"})), "{}", r.body);
    conform(&doc, "/api/v1/books/{book_no}/guarantees", "post", "201", &r.json());
    let r = call_as(&app, &officer, "POST", &guarantees, Some(cash)).await;
    assert_eq!((r.status, r.json()["status"].as_str()), (200, Some("duplicate")), "{}", r.body);
    let r = call_as(&app, &officer, "POST", &guarantees, Some(&cash.replace("50000", "60000"))).await;
    assert_eq!(error_of(&r), (422, "record_differs".to_owned(), Some("guarantee_no".to_owned())), "{}", r.body);
    let letter = r#"{"guarantee_no": "G2026-002", "form": "letter", "amount": "1000", "posted_on": "2026-01-05", "guarantor": "中国银行"}"#;
    let r = call_as(&app, &officer, "POST", &guarantees, Some(letter)).await;
    assert_eq!((r.status, r.rule().as_str()), (422, "rejected"), "a letter states its last day: {}", r.body);
    let r = call_as(&app, &officer, "POST", &guarantees, Some(&cash.replace("2026-01-05", "2026-1-5"))).await;
    assert_eq!(error_of(&r), (422, "document_format".to_owned(), Some("posted_on".to_owned())), "{}", r.body);

    // Posted counts from its day on.
    let g = get(&app, &report("2026-06-30")).await.json();
    assert_eq!((&g["posted"], &g["guarantees"][0]["guarantee_no"], &g["guarantees"][0]["active"]), (&Value::from("50000"), &Value::from("G2026-001"), &Value::Bool(true)), "{g}");
    conform(&doc, "/api/v1/books/{book_no}/guarantee", "get", "200", &g);
    let g = get(&app, &report("2026-01-04")).await.json();
    assert_eq!((&g["posted"], &g["guarantees"][0]["active"]), (&Value::from("0"), &Value::Bool(false)), "{g}");

    // The refund at write-off: 360 days at the bank's demand rate (required from 2025-08-01).
    let refund = format!("/api/v1/books/{BOOK_NO}/guarantees/G2026-001/refund");
    let r = call_as(&app, &officer, "POST", &refund, Some(r#"{"refunded_on": "2026-12-31"}"#)).await;
    assert_eq!((r.status, r.rule().as_str()), (422, "rejected"), "{}", r.body);
    let r = post(&app, &refund, r#"{"refunded_on": "2026-12-31", "rate": "0.0035"}"#).await;
    assert_eq!((r.status, r.rule().as_str()), (404, "unknown_book"), "{}", r.body);
    let r = call_as(&app, &officer, "POST", &refund, Some(r#"{"refunded_on": "2026-12-31", "rate": "0.0035"}"#)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    conform(&doc, "/api/v1/books/{book_no}/guarantees/{guarantee_no}/refund", "post", "200", &r.json());
    assert_eq!(r.json(), serde_json::json!({"guarantee_no": "G2026-001", "refunded_on": "2026-12-31", "interest_rate": "0.0035", "interest_rate_source": "given", "days": 360, "interest": "175"}));
    let r = call_as(&app, &officer, "POST", &format!("/api/v1/books/{BOOK_NO}/guarantees/G9/refund"), Some(r#"{"refunded_on": "2026-12-31", "rate": "0.0035"}"#)).await;
    assert_eq!((r.status, r.rule().as_str()), (422, "rejected"), "{}", r.body);
    // The same refund again (the rate as a JSON number, read from its text): the same answer.
    let again = call_as(&app, &officer, "POST", &refund, Some(r#"{"refunded_on": "2026-12-31", "rate": 0.0035}"#)).await;
    assert_eq!((again.status, again.json()["interest"].as_str()), (200, Some("175")), "{}", again.body);
    let r = call_as(&app, &officer, "POST", &refund, Some(r#"{"refunded_on": "2026-12-30", "rate": "0.0035"}"#)).await;
    assert_eq!(error_of(&r), (422, "record_differs".to_owned(), Some("guarantee_no".to_owned())), "another refund of the same guarantee: {}", r.body);
    let g = get(&app, &report("2027-01-01")).await.json();
    assert_eq!((&g["posted"], &g["guarantees"][0]["active"], &g["guarantees"][0]["refund"]["interest"]), (&Value::from("0"), &Value::Bool(false), &Value::from("175")), "{g}");
    conform(&doc, "/api/v1/books/{book_no}/guarantee", "get", "200", &g);
}

/// A 单耗 standard written for the test (not a national one): the example's film (3920109090) from
/// low-density polyethylene (3901100090), 净耗 0.685 at 2 % loss — below the book's 3 % and 2.5 %.
const NORMS: &str = "row_id,standard_no,policy_basis,finished_code,finished_name,finished_unit,finished_spec,material_codes,material_name,material_unit,material_spec,value_kind,value,value_unit,process_loss_rate_pct,source_url,note
1,HDB/TEST-2026,written for the test,39201090,聚乙烯薄膜,千克,,39011000,低密度聚乙烯,千克,,net,0.685,千克/千克,2,http://example.invalid/norms,written for the test
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumption_checks_and_reviews_over_http() {
    let Some(dir) = examples() else { return };
    let (app, engine) = spawn_app_with_engine().await;
    let officer = customs_account(&engine, "c5200", jiamao_domain::access::Role::CustomsOfficer, "5200");
    let elsewhere = customs_account(&engine, "c2300", jiamao_domain::access::Role::CustomsOfficer, "2300");
    import_example_book(&app, &dir).await;
    let doc = anonymous(&app, "GET", "/api/openapi.json").await.json();
    let check = format!("/api/v1/books/{BOOK_NO}/consumption-check");
    let reviews = format!("/api/v1/books/{BOOK_NO}/consumption-reviews");

    // Nothing to compare with yet.
    let r = call_as(&app, &officer, "GET", &check, None).await;
    assert_eq!((r.status, r.rule().as_str()), (422, "rejected"), "{}", r.body);
    {
        let mut e = engine.lock().expect("engine");
        e.set_ctx(jiamao_app::platform::Ctx::default());
        let norms = jiamao_domain::norms::Norms::parse_csv(NORMS, "norms.csv").expect("norms");
        e.load_ucns_norms("test-norms", "2026-01-01".parse().expect("date"), &norms).expect("load the norms");
    }
    let r = call_as(&app, &officer, "GET", &check, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = r.json();
    conform(&doc, "/api/v1/books/{book_no}/consumption-check", "get", "200", &c);
    assert_eq!((&c["norms"]["source"], &c["norms"]["documents"], &c["hs2022"]["checked"]), (&Value::from("loaded"), &serde_json::json!(["test-norms"]), &Value::Bool(false)), "{c}");
    assert_eq!((&c["summary"]["lines"], &c["summary"]["above_maximum"]), (&Value::from(12), &Value::from(2)), "{}", c["summary"]);
    let flagged: Vec<(&Value, &Value, &Value)> =
        c["lines"].as_array().expect("lines").iter().filter(|l| l["verdict"] == "above_maximum").map(|l| (&l["product_seq"], &l["material_seq"], &l["version"])).collect();
    assert_eq!(flagged, vec![(&Value::from(1), &Value::from(1), &Value::from("1")), (&Value::from(1), &Value::from(1), &Value::from("2"))], "{c}");
    // Product 1 taxable on export: the standard is a minimum, which its 单耗 is above.
    let c = call_as(&app, &officer, "GET", &format!("{check}?export_taxable=1"), None).await.json();
    assert_eq!((&c["summary"]["above_maximum"], &c["summary"]["within"]), (&Value::from(0), &Value::from(2)), "{}", c["summary"]);
    assert!(c["lines"].as_array().expect("lines").iter().all(|l| l["export_taxable"] == (l["product_seq"] == 1)), "{c}");
    // As of a day before the standards' document, there were none.
    let r = call_as(&app, &officer, "GET", &format!("{check}?as_of=2025-12-31"), None).await;
    assert_eq!((r.status, r.rule().as_str()), (422, "rejected"), "{}", r.body);
    for (query, field) in [("export_taxable=one", "export_taxable"), ("as_of=2026-1-1", "as_of")] {
        let r = call_as(&app, &officer, "GET", &format!("{check}?{query}"), None).await;
        assert_eq!(error_of(&r), (400, "bad_query".to_owned(), Some(field.to_owned())), "{query}: {}", r.body);
    }
    // Another district's officer: as if the book did not exist.
    let r = call_as(&app, &elsewhere, "GET", &check, None).await;
    assert_eq!((r.status, r.rule().as_str()), (404, "unknown_book"), "{}", r.body);

    // The review queue, read by the enterprise: every version declared.
    let r = get(&app, &reviews).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let q = r.json();
    conform(&doc, "/api/v1/books/{book_no}/consumption-reviews", "get", "200", &q);
    assert_eq!((&q["master_customs"], &q["states"]), (&Value::from("5200"), &serde_json::json!({"declared": 3})), "{q}");

    // Customs of district 5200 questions version 1 of product 1; the enterprise and another district
    // are answered as if the book did not exist; invalid steps are refused with their rule.
    let step = |action: &str| format!(r#"{{"product_seq": 1, "version": "1", "action": "{action}", "note": "2 % loss in HDB/TEST-2026"}}"#);
    for token in [app.token.as_str(), elsewhere.as_str()] {
        let r = call_as(&app, token, "POST", &reviews, Some(&step("question"))).await;
        assert_eq!((r.status, r.rule().as_str()), (404, "unknown_book"), "{}", r.body);
    }
    let r = call_as(&app, &officer, "POST", &reviews, Some(&step("consult"))).await;
    assert_eq!((r.status, r.rule().as_str()), (422, "ucns_transition"), "consultation before a question: {}", r.body);
    let r = call_as(&app, &officer, "POST", &reviews, Some(&step("approve"))).await;
    assert_eq!(error_of(&r), (422, "document_format".to_owned(), Some("action".to_owned())), "{}", r.body);
    let r = call_as(&app, &officer, "POST", &reviews, Some(&step("question"))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    conform(&doc, "/api/v1/books/{book_no}/consumption-reviews", "post", "201", &r.json());
    assert_eq!(r.json(), serde_json::json!({"book_no": BOOK_NO, "product_seq": 1, "version": "1", "n": 1, "action": "question", "from": "declared", "to": "questioned"}));
    let r = call_as(&app, &officer, "POST", &reviews, Some(&step("adjust"))).await;
    assert_eq!((r.status, r.rule().as_str()), (422, "ucns_replacement"), "{}", r.body);
    let r = call_as(&app, &officer, "POST", &reviews, Some(r#"{"product_seq": 9, "version": "1", "action": "question"}"#)).await;
    assert_eq!((r.status, r.rule().as_str()), (422, "unknown_item"), "{}", r.body);

    let q = get(&app, &reviews).await.json();
    conform(&doc, "/api/v1/books/{book_no}/consumption-reviews", "get", "200", &q);
    assert_eq!(&q["states"], &serde_json::json!({"declared": 2, "questioned": 1}), "{q}");
    let v = q["versions"].as_array().expect("versions").iter().find(|v| v["product_seq"] == 1 && v["version"] == "1").expect("product 1 version 1").clone();
    assert_eq!(
        (&v["state"], &v["open"], &v["flagged_lines"], &v["history"][0]["by"], &v["history"][0]["role"]),
        (&Value::from("questioned"), &Value::Bool(true), &Value::from(1), &Value::from("c5200"), &Value::from("customs_officer")),
        "{v}"
    );
}
