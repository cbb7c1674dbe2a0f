#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The server as a client sees it: each test spawns the whole application on a random port against
//! its own fresh SQLite file, and talks HTTP/1.1 to it over a plain TCP connection.

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
    _dir: tempfile::TempDir,
}

/// Starts the application. The listener is bound before the server task is spawned, so requests
/// made right away wait in the backlog instead of failing: no sleeps needed.
async fn spawn_app() -> App {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("jiamao.db"), Durability::Full).expect("open store");
    let engine = Arc::new(Mutex::new(Engine::new(store)));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(jiamao_server::serve_until(listener, jiamao_server::router(engine), std::future::pending()));
    App { addr, _dir: dir }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = raw.windows(2).position(|w| w == b"\r\n").expect("chunk size line");
        let size_text = std::str::from_utf8(&raw[..eol]).expect("chunk size text");
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).expect("chunk size");
        raw = &raw[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// One request on its own connection (`Connection: close`), read to the end.
async fn request(app: &App, method: &str, path: &str, body: Option<&str>) -> Reply {
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    let body = body.unwrap_or("");
    let head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", app.addr, body.len());
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body.as_bytes()).await.expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read reply");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = std::str::from_utf8(&raw[..split]).expect("head is text");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status: u16 = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status code");
    let headers: Vec<(String, String)> = lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned())).collect();
    let mut reply = Reply { status, headers, body: String::new() };
    let content = &raw[split + 4..];
    let content = if reply.header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) { dechunk(content) } else { content.to_vec() };
    reply.body = String::from_utf8(content).expect("body is UTF-8");
    reply
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
    let head = format!("POST /api/v1/lists HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n", body.len());
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
    assert!(r.body.contains("No books yet"), "{}", r.body);

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_describes_every_route() {
    let app = spawn_app().await;
    let r = get(&app, "/api/openapi.json").await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    for (path, methods) in [
        ("/api/v1/books", &["get", "post"][..]),
        ("/api/v1/lists", &["post"][..]),
        ("/api/v1/books/{book_no}/balance", &["get"][..]),
        ("/api/v1/books/{book_no}/reconcile", &["get", "post"][..]),
        ("/api/v1/books/{book_no}/materials/{seq}/explain", &["get"][..]),
        ("/api/openapi.json", &["get"][..]),
        ("/healthz", &["get"][..]),
    ] {
        for method in methods {
            assert!(doc["paths"][path][method].is_object(), "{method} {path} is not described");
        }
    }
    assert_eq!(doc["paths"].as_object().map(|p| p.len()), Some(7), "a described path the server does not serve");
    assert!(doc["paths"]["/api/v1/lists"]["post"]["responses"]["200"]["headers"]["X-Jiamao-Rejected"].is_object());
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
    let app = App { addr, _dir: dir };
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
    let app = App { addr, _dir: dir };
    let r = get(&app, "/api/v1/books").await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.json()["error"]["rule"], "internal");
    let r = get(&app, "/").await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(r.header("content-type").is_some_and(|t| t.starts_with("text/html")));
}
