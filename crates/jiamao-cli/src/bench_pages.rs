//! `jiamao bench-pages`: how long the web pages take on the server with the demo data (issue 8:
//! "every page renders in under 200 ms server time with the demo data").
//!
//! Loads the demo data set (`demo::load`: the demo accounts, book, lists, tariff sample and rates)
//! into a fresh SQLite database in a temporary folder, serves the router in-process on an ephemeral
//! port of 127.0.0.1, logs in as each demo account through the login form (a session, as a
//! browser), then requests every page as the account it is for: `--warmup` times, then `--runs`
//! times. Each request is timed from the connection to the last byte of the answer over loopback
//! (the server's time plus a loopback round trip: an upper bound of the server time), one request at
//! a time. Prints per page the median and the maximum, and fails when a page does not answer 200.
//!
//! `--gen-lines N` also loads a synthetic enterprise (`jiamao gen`, `--gen-materials` materials,
//! `--gen-products` products) and times its large pages: thousands of lists and materials.

use crate::demo;
use anyhow::{bail, Context, Result};
use jiamao_app::platform::Ctx;
use jiamao_app::Engine;
use jiamao_domain::access::Role;
use jiamao_store_sqlite::{Durability, SqliteStore};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct BenchPagesArgs {
    /// Timed requests per page.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Requests per page before the timed ones.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Also load a synthetic enterprise (jiamao gen) of this many list lines (0: the demo only).
    #[arg(long, default_value_t = 0)]
    gen_lines: u64,
    /// Materials of the synthetic book (at least 100).
    #[arg(long, default_value_t = 2_000)]
    gen_materials: usize,
    /// Products of the synthetic book.
    #[arg(long, default_value_t = 200)]
    gen_products: usize,
}

const BOOK: &str = "B32052600001";
const GEN_BOOK: &str = "E52002600001";
const GEN_LOGIN: &str = "bench-gen-admin";
const GEN_CUSTOMS: &str = "bench-gen-customs";

/// One page to time: the login that opens it, the method and path, a form body (urlencoded unless
/// `multipart`).
struct Page {
    login: &'static str,
    method: &'static str,
    path: String,
    body: Option<String>,
    multipart: bool,
}

fn get(login: &'static str, path: impl Into<String>) -> Page {
    Page { login, method: "GET", path: path.into(), body: None, multipart: false }
}

/// The boundary of the multipart forms the bench sends (the pages' file uploads).
const BOUNDARY: &str = "jiamao-bench-pages";

/// A file form as a browser sends it: the CSRF field is filled in when the page is requested
/// (`{csrf}`), then the file.
fn file_form(login: &'static str, path: String, fields: &[(&str, &str)], field: &str, file: &str, text: &str) -> Page {
    let mut body = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{{csrf}}\r\n");
    for (k, v) in fields {
        body.push_str(&format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"));
    }
    body.push_str(&format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file}\"\r\nContent-Type: application/json\r\n\r\n{text}\r\n--{BOUNDARY}--\r\n"));
    Page { login, method: "POST", path, body: Some(body), multipart: true }
}

/// A request on its own connection; the status, the body's length and the time to the last byte.
fn request(addr: SocketAddr, method: &str, path: &str, cookie: &str, body: Option<&str>, multipart: bool) -> Result<(u16, usize, Duration, String)> {
    let t0 = Instant::now();
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    let body = body.unwrap_or("");
    let content_type = if multipart { format!("multipart/form-data; boundary={BOUNDARY}") } else { "application/x-www-form-urlencoded".to_owned() };
    let head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: {cookie}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n", body.len());
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let elapsed = t0.elapsed();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let split = text.find("\r\n\r\n").map_or(text.len(), |i| i + 4);
    Ok((status, raw.len().saturating_sub(split), elapsed, text[..split].to_owned()))
}

/// Logs in through the form: the cookies of the session (and the CSRF token for forms).
fn log_in(addr: SocketAddr, login: &str, password: &str) -> Result<(String, String)> {
    let body = format!("login={login}&password={}&next=%2F", password.replace(' ', "+"));
    let (status, _, _, head) = request(addr, "POST", "/login", "", Some(&body), false)?;
    if status != 303 {
        bail!("logging in as {login} answered {status}");
    }
    let cookie = |name: &str| {
        head.lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
            .filter_map(|l| l.split_once(':').map(|(_, v)| v.trim()))
            .filter_map(|v| v.split(';').next()?.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    };
    let (Some(session), Some(csrf)) = (cookie("jiamao_session"), cookie("jiamao_csrf")) else { bail!("no session cookies for {login}") };
    Ok((format!("jiamao_session={session}; jiamao_csrf={csrf}"), csrf))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn form_encode(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { char::from(b).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The demo's pages, each as the account it is for.
fn demo_pages() -> Vec<Page> {
    let b = format!("/books/{BOOK}");
    let catalog = "hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement\n2836200000,prohibited,both,,,2015-01-01,2020-11-30,商务部 海关总署公告2014年第90号\n";
    vec![
        get("demo-enterprise", "/"),
        get("demo-enterprise", b.clone()),
        get("demo-enterprise", format!("{b}/lists")),
        get("demo-enterprise", format!("{b}/lists?direction=E&sort=list_no&order=asc&per=5&page=2")),
        get("demo-enterprise", format!("{b}/balance?as_of=2026-06-30")),
        get("demo-enterprise", format!("{b}/reconcile")),
        get("demo-enterprise", format!("{b}/materials/1")),
        get("demo-enterprise", format!("{b}/tax?as_of=2026-12-31")),
        get("demo-enterprise", format!("{b}/tax?as_of=2026-12-31&list_no=QD230026000000007&payment_note_date=2026-10-24")),
        get("demo-enterprise", "/upload"),
        get("demo-enterprise", "/audit"),
        get("demo-enterprise", "/accounts"),
        get("demo-customs", "/"),
        get("demo-customs", "/review"),
        get("demo-customs", format!("/review?book={BOOK}")),
        get("demo-customs", "/district"),
        get("demo-customs", format!("{b}/reconcile")),
        get("demo-commerce", "/catalogs"),
        get("demo-commerce", b.clone()),
        get("demo-auditor", "/audit"),
        get("demo-admin", "/accounts"),
        get("demo-admin", "/catalogs"),
        Page { login: "demo-admin", method: "POST", path: "/catalogs/preview".into(), body: Some(format!("name=bench&as_of=2026-06-01&csv={}", form_encode(catalog))), multipart: false },
        get("", "/login"),
        file_form("demo-enterprise", format!("{b}/reconcile"), &[("to", "2026-12-31")], "stocktake", "stocktake.json", demo::STOCKTAKE),
        file_form("demo-enterprise", "/upload".into(), &[], "book", "book.json", demo::BOOK),
        get("demo-enterprise", "/check?rule=uscc&value=91320500MA1XXXXXX1"),
    ]
}

/// The synthetic enterprise's large pages.
fn gen_pages() -> Vec<Page> {
    let b = format!("/books/{GEN_BOOK}");
    vec![
        get(GEN_LOGIN, "/"),
        get(GEN_LOGIN, format!("{b}/lists")),
        get(GEN_LOGIN, format!("{b}/lists?sort=lines&order=desc&per=500")),
        get(GEN_LOGIN, format!("{b}/lists?trade_mode=0644&from=2026-06-01&to=2026-09-30&list_no=00")),
        get(GEN_LOGIN, format!("{b}/balance")),
        get(GEN_LOGIN, format!("{b}/balance?as_of=2026-06-30&sort=balance&order=desc&per=500")),
        get(GEN_LOGIN, format!("{b}/reconcile")),
        get(GEN_LOGIN, format!("{b}/materials/1")),
        get(GEN_LOGIN, b.clone()),
        get(GEN_LOGIN, format!("{b}/tax?as_of=2026-12-31")),
        get(GEN_CUSTOMS, "/district"),
        get(GEN_CUSTOMS, format!("/review?book={GEN_BOOK}")),
    ]
}

/// Writes the synthetic enterprise with `jiamao gen` and loads it.
fn load_gen(e: &mut Engine<SqliteStore>, a: &BenchPagesArgs, dir: &std::path::Path) -> Result<()> {
    #[derive(clap::Parser)]
    struct GenCli {
        #[command(flatten)]
        args: crate::gen::GenArgs,
    }
    let out = dir.join("gen");
    let argv = [
        "gen".to_owned(),
        "--out".to_owned(),
        out.display().to_string(),
        "--lines".to_owned(),
        a.gen_lines.to_string(),
        "--materials".to_owned(),
        a.gen_materials.to_string(),
        "--products".to_owned(),
        a.gen_products.to_string(),
    ];
    let cli = <GenCli as clap::Parser>::try_parse_from(argv)?;
    crate::gen::run(&cli.args)?;
    e.import_book(&std::fs::read_to_string(out.join("book.json"))?, "gen/book.json")?;
    let mut files: Vec<_> = std::fs::read_dir(&out)?.filter_map(|f| f.ok().map(|f| f.path())).filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("lists-"))).collect();
    files.sort();
    let (mut lists, mut posted) = (0usize, 0usize);
    for f in files {
        let outcomes = e.post_text(&std::fs::read_to_string(&f)?, &f.display().to_string())?;
        lists += outcomes.len();
        posted += outcomes.iter().filter(|o| o.status == "posted").count();
    }
    println!("synthetic enterprise: book {GEN_BOOK}, {posted} of {lists} lists posted");
    e.add_user(GEN_LOGIN, Role::EnterpriseAdmin, Some("91441900698123458E"), None, None, demo::DEMO_PASSWORD)?;
    e.add_user(GEN_CUSTOMS, Role::CustomsOfficer, None, Some("5200"), None, demo::DEMO_PASSWORD)?;
    Ok(())
}

pub fn run(a: &BenchPagesArgs) -> Result<()> {
    let dir = tempfile_dir()?;
    let store = SqliteStore::open(&dir.join("jiamao.db"), Durability::Full).context("open the database")?;
    let mut engine = Engine::new(store);
    engine.set_ctx(Ctx::local(crate::platform_cmd::now()));
    let posted = demo::load(&mut engine).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("demo data loaded: {posted} lists posted into {BOOK}");
    let mut pages = demo_pages();
    if a.gen_lines > 0 {
        load_gen(&mut engine, a, &dir).map_err(|e| anyhow::anyhow!("the synthetic enterprise: {e}"))?;
        pages.extend(gen_pages());
    }
    engine.flush_checkpoints().map_err(|e| anyhow::anyhow!("{e}"))?;

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let router = jiamao_server::router(Arc::new(Mutex::new(engine)));
    rt.spawn(jiamao_server::serve_until(listener, router, std::future::pending()));

    let mut sessions: Vec<(&str, String)> = vec![("", String::new())];
    for p in &pages {
        if !sessions.iter().any(|(l, _)| *l == p.login) {
            let (cookie, _) = log_in(addr, p.login, demo::DEMO_PASSWORD)?;
            sessions.push((p.login, cookie));
        }
    }
    let csrf_of = |cookie: &str| cookie.split("jiamao_csrf=").nth(1).unwrap_or("").to_owned();
    println!("jiamao bench-pages: {} pages, {} warm-up + {} timed requests each, one at a time, over loopback", pages.len(), a.warmup, a.runs);
    println!("{:<17} {:<4} {:<78} {:>6} {:>9} {:>10} {:>9}", "login", "", "page", "status", "bytes", "median ms", "max ms");
    let mut failed = Vec::new();
    let mut worst = (0.0f64, String::new());
    for p in &pages {
        let cookie = sessions.iter().find(|(l, _)| *l == p.login).map(|(_, c)| c.clone()).unwrap_or_default();
        let body = p.body.as_ref().map(|b| if p.multipart { b.replace("{csrf}", &csrf_of(&cookie)) } else { format!("_csrf={}&{b}", csrf_of(&cookie)) });
        let mut times = Vec::with_capacity(a.runs);
        let (mut status, mut bytes) = (0, 0);
        for i in 0..a.warmup + a.runs {
            let (s, n, t, _) = request(addr, p.method, &p.path, &cookie, body.as_deref(), p.multipart)?;
            (status, bytes) = (s, n);
            if i >= a.warmup {
                times.push(t);
            }
        }
        times.sort();
        let median = times.get(times.len() / 2).copied().unwrap_or_default();
        let max = times.last().copied().unwrap_or_default();
        let shown = if p.path.chars().count() > 78 { format!("{}…", p.path.chars().take(77).collect::<String>()) } else { p.path.clone() };
        println!("{:<17} {:<4} {:<78} {:>6} {:>9} {:>10.2} {:>9.2}", if p.login.is_empty() { "(anonymous)" } else { p.login }, p.method, shown, status, bytes, ms(median), ms(max));
        if status != 200 {
            failed.push(format!("{} {} as {}: {status}", p.method, p.path, p.login));
        }
        if ms(max) > worst.0 {
            worst = (ms(max), format!("{} {}", p.method, p.path));
        }
    }
    println!("slowest single request: {:.2} ms ({})", worst.0, worst.1);
    let _ = std::fs::remove_dir_all(&dir);
    if !failed.is_empty() {
        bail!("pages that did not answer 200: {}", failed.join("; "));
    }
    Ok(())
}

/// A fresh folder under the system's temporary directory.
fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("jiamao-bench-pages-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
