//! What the HTTP tests share: a minimal HTTP/1.1 client over a plain TCP connection, and the table of
//! the routes the router serves (checked against `src/lib.rs` and the OpenAPI document).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Every route the router serves under `/api` and `/healthz`, with its methods: what the OpenAPI
/// document must describe (and the security suite must try).
pub const ROUTES: &[(&str, &[&str])] = &[
    ("/api/v1/books", &["get", "post"]),
    ("/api/v1/lists", &["post"]),
    ("/api/v1/books/{book_no}/balance", &["get"]),
    ("/api/v1/books/{book_no}/reconcile", &["get", "post"]),
    ("/api/v1/books/{book_no}/materials/{seq}/explain", &["get"]),
    ("/api/v1/tax/quote", &["post"]),
    ("/api/v1/books/{book_no}/tax/periods", &["get"]),
    ("/api/v1/books/{book_no}/tax/payments", &["post"]),
    ("/api/v1/books/{book_no}/tax/schedule", &["get", "post"]),
    ("/api/v1/tariff/{hs_code}", &["get"]),
    ("/api/v1/tariffs", &["get"]),
    ("/api/v1/rates", &["get"]),
    ("/api/v1/session", &["post", "delete"]),
    ("/api/v1/me", &["get"]),
    ("/api/v1/users", &["get", "post"]),
    ("/api/v1/users/{login}/disable", &["post"]),
    ("/api/v1/tokens", &["post"]),
    ("/api/v1/tokens/{token_id}", &["delete"]),
    ("/api/v1/events", &["get"]),
    ("/api/v1/audit/verify", &["get"]),
    ("/api/v1/crosscheck/fx-receipts", &["post"]),
    ("/api/v1/crosscheck/vat-expectations", &["post"]),
    ("/api/v1/enterprises/{uscc}/crosscheck/fx", &["get"]),
    ("/api/v1/enterprises/{uscc}/crosscheck/vat", &["get"]),
    ("/api/v1/webhooks", &["get", "post"]),
    ("/api/v1/catalogs", &["get"]),
    ("/api/v1/catalogs/{name}", &["post"]),
    ("/api/v1/catalogs/{from}/diff/{to}", &["get"]),
    ("/api/v1/catalog/{hs_code}", &["get"]),
    ("/api/v1/enterprises/{uscc}/credit", &["get", "post"]),
    ("/api/v1/books/{book_no}/guarantee", &["get"]),
    ("/api/v1/books/{book_no}/guarantees", &["post"]),
    ("/api/v1/books/{book_no}/guarantees/{guarantee_no}/refund", &["post"]),
    ("/api/v1/books/{book_no}/consumption-check", &["get"]),
    ("/api/v1/books/{book_no}/consumption-reviews", &["get", "post"]),
    ("/api/openapi.json", &["get"]),
    ("/healthz", &["get"]),
];

/// The web pages (HTML, not in the OpenAPI document).
pub const PAGES: &[(&str, &[&str])] = &[
    ("/", &["get"]),
    ("/books/{book_no}", &["get"]),
    ("/books/{book_no}/reconcile", &["get", "post"]),
    ("/books/{book_no}/materials/{seq}", &["get"]),
    ("/books/{book_no}/reviews", &["post"]),
    ("/books/{book_no}/lists", &["get"]),
    ("/books/{book_no}/balance", &["get"]),
    ("/books/{book_no}/tax", &["get"]),
    ("/upload", &["get", "post"]),
    ("/check", &["get"]),
    ("/review", &["get"]),
    ("/district", &["get"]),
    ("/catalogs", &["get"]),
    ("/catalogs/preview", &["post"]),
    ("/audit", &["get"]),
    ("/accounts", &["get", "post"]),
    ("/accounts/{login}/disable", &["post"]),
    ("/logout", &["post"]),
    ("/login", &["get", "post"]),
];

/// The operations that need no credentials.
pub const PUBLIC: &[(&str, &str)] = &[("/healthz", "get"), ("/api/openapi.json", "get"), ("/api/v1/session", "post"), ("/login", "get"), ("/login", "post")];

/// The routes registered in `src/lib.rs` (`.route("<path>", get(…).post(…))`), read from the source so
/// that a route added there and nowhere else is noticed.
pub fn registered_routes() -> Vec<(String, Vec<String>)> {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).expect("src/lib.rs");
    let mut out = Vec::new();
    let mut rest = source.as_str();
    while let Some(at) = rest.find(".route(\"") {
        rest = &rest[at + ".route(\"".len()..];
        let end = rest.find('"').expect("end of the route's path");
        let path = rest[..end].to_owned();
        // The call's arguments, up to its closing parenthesis.
        let mut depth = 1;
        let mut close = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        close = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let args = &rest[end..close];
        let mut methods = Vec::new();
        for m in ["get", "post", "put", "patch", "delete", "head", "options"] {
            let token = format!("{m}(");
            let mut from = 0;
            while let Some(i) = args[from..].find(&token) {
                let at = from + i;
                let before = args[..at].chars().last();
                if before.is_none_or(|b| !(b.is_alphanumeric() || b == '_')) {
                    methods.push(m.to_owned());
                }
                from = at + token.len();
            }
        }
        methods.sort();
        out.push((path, methods));
        rest = &rest[close..];
    }
    out
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `rule` of a JSON error answer (empty when there is none).
    pub fn rule(&self) -> String {
        serde_json::from_str::<Value>(&self.body).ok().and_then(|v| v["error"]["rule"].as_str().map(str::to_owned)).unwrap_or_default()
    }

    /// The value of a cookie the answer sets.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers_named("set-cookie").into_iter().filter_map(|c| c.split(';').next()?.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_owned())
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

/// One request on its own connection (`Connection: close`), read to the end. `Content-Type:
/// application/json` unless `headers` name another.
pub async fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let body = body.unwrap_or(b"");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body).await.expect("write body");
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

/// Checks `value` against the schema `schema` of the OpenAPI document `doc` (the subset the
/// document uses: `$ref`, `type`, `enum`, `const`, `required`, `properties`, `items`, `oneOf`);
/// an object described with `properties` may have no other member. Returns the first mismatch.
pub fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = doc["components"]["schemas"].get(name).ok_or_else(|| format!("{at}: dangling {r}"))?;
        return conforms(doc, target, value, at);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        return if options.iter().any(|o| conforms(doc, o, value, at).is_ok()) { Ok(()) } else { Err(format!("{at}: {value} matches none of oneOf")) };
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = |t: &str| match t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        };
        if !types.iter().any(|t| fits(t)) {
            return Err(format!("{at}: {value} is not of type {types:?}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(value) {
            return Err(format!("{at}: {value} is not one of {e:?}"));
        }
    }
    if let Some(c) = schema.get("const") {
        if c != value {
            return Err(format!("{at}: {value} is not {c}"));
        }
    }
    if let (Some(obj), Some(props)) = (value.as_object(), schema.get("properties").and_then(Value::as_object)) {
        for req in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !obj.contains_key(req) {
                return Err(format!("{at}: required member {req} is missing from {value}"));
            }
        }
        for (k, v) in obj {
            let Some(s) = props.get(k) else { return Err(format!("{at}: member {k} is not described")) };
            conforms(doc, s, v, &format!("{at}.{k}"))?;
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            conforms(doc, schema, v, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}
