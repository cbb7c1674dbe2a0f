//! `jiamao bench`: durable posting throughput on a realistic synthetic book (docs/perf.md).
//!
//! The book has `--materials` materials and `--products` products whose single 单耗 version names
//! `--bom` materials each. Lists have `--lines` lines; they alternate between material imports
//! and product exports, so about half of all lines are product lines that move `--bom` material
//! balances each. Quantity control is on. Lists are posted in batches of `--batch` (group commit,
//! one transaction each), on a fresh SQLite file per run; each run is timed from the first batch
//! to the last commit, and the median of `--runs` runs is reported.

use anyhow::{bail, Context};
use chrono::NaiveDate;
use jiamao_app::Engine;
use jiamao_domain::codes::TradeModeCode;
use jiamao_domain::doc::{Direction, Goods, ListDoc, ListLineDoc};
use jiamao_store_sqlite::{Durability, SqliteStore};
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Lists per run.
    #[arg(long, default_value_t = 20_000)]
    lists: usize,
    /// Lines per list.
    #[arg(long, default_value_t = 50)]
    lines: usize,
    /// Lists per transaction (group commit).
    #[arg(long, default_value_t = 200)]
    batch: usize,
    #[arg(long, default_value_t = 2_000)]
    materials: usize,
    #[arg(long, default_value_t = 400)]
    products: usize,
    /// Materials per 单耗 version.
    #[arg(long, default_value_t = 40)]
    bom: usize,
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Also post the same lists from JSON text (parsing included).
    #[arg(long)]
    with_json: bool,
    /// Also post on PostgreSQL: the URL of a server where scratch databases may be created.
    #[arg(long, value_name = "URL")]
    pg: Option<String>,
    /// Skip the peer design (balances as rows rewritten by every list).
    #[arg(long)]
    no_peer: bool,
    /// Folder for the benchmark databases (default: the system temp folder).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// The same deterministic generator as `jiamao gen` (xorshift64*), so every run posts the same lists.
use crate::gen::Rng;

fn book_json(a: &BenchArgs) -> String {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let ent = serde_json::json!({"uscc": "91441900698123458E", "customs_code": "4419960123", "name": "基准测试企业", "region_code": "441900"});
    let materials: Vec<_> = (1..=a.materials)
        .map(|s| serde_json::json!({"seq": s, "part_no": format!("M{s:05}"), "hs_code": "3901100090", "name": format!("料件{s}"), "unit": "035", "unit_price": "1.25", "currency": "502", "opening_qty": "1000000000"}))
        .collect();
    let products: Vec<_> = (1..=a.products)
        .map(|s| serde_json::json!({"seq": s, "part_no": format!("P{s:05}"), "hs_code": "3920109090", "name": format!("成品{s}"), "unit": "035", "unit_price": "9.80", "currency": "502"}))
        .collect();
    let mut consumption = Vec::new();
    for p in 1..=a.products {
        let mut used = std::collections::BTreeSet::new();
        while used.len() < a.bom.min(a.materials) {
            used.insert(1 + rng.below(a.materials));
        }
        for (k, m) in used.into_iter().enumerate() {
            if k % 4 == 0 {
                consumption.push(serde_json::json!({"product_seq": p, "material_seq": m, "version": "1", "valid_from": "2026-01-01", "unit_consumption": format!("0.{:03}", 1 + rng.below(900))}));
            } else {
                consumption.push(serde_json::json!({"product_seq": p, "material_seq": m, "version": "1", "valid_from": "2026-01-01", "net": format!("0.{:04}", 1 + rng.below(9000)), "tangible_loss_rate": "0.025", "intangible_loss_rate": "0.005", "bonded_share": "0.9"}));
            }
        }
    }
    serde_json::json!({"book_no": "E44190000001", "book_type": "E", "trade_mode": "0615", "operator": ent, "master_customs": "5200",
        "valid_from": "2026-01-01", "valid_until": "2026-12-31", "quantity_control": true,
        "materials": materials, "products": products, "consumption": consumption})
    .to_string()
}

fn lists(a: &BenchArgs) -> anyhow::Result<Vec<ListDoc>> {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let import = TradeModeCode::parse("0615").context("trade mode")?;
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).context("date")?;
    let mut out = Vec::with_capacity(a.lists);
    for i in 0..a.lists {
        let product = i % 2 == 1;
        let lines = (0..a.lines)
            .map(|k| ListLineDoc {
                line: k as u32 + 1,
                item_seq: 1 + rng.below(if product { a.products } else { a.materials }) as u32,
                qty: Decimal::new(1 + rng.below(50_000) as i64, 1),
                amount: Some(Decimal::new(1 + rng.below(9_000_000) as i64, 2)),
                consumption_version: None,
                origin_country: None,
                legal_qty: None,
                second_legal_qty: None,
            })
            .collect();
        out.push(ListDoc {
            list_no: format!("QD{i:016}"),
            book_no: "E44190000001".into(),
            declared_on: start + chrono::Days::new((i * 365 / a.lists.max(1)) as u64),
            direction: if product { Direction::E } else { Direction::I },
            goods: if product { Goods::Product } else { Goods::Material },
            trade_mode: import.clone(),
            counterparty_book_no: None,
            declaration_no: None,
            lines,
        });
    }
    Ok(out)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// One run: a fresh database, the book, then every list in batches. Returns seconds.
fn run_once(a: &BenchArgs, dir: &std::path::Path, durability: Durability, book: &str, lists: &[ListDoc], texts: Option<&[String]>) -> anyhow::Result<f64> {
    let path = dir.join(format!("bench-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let secs = post_all(a, Engine::new(SqliteStore::open(&path, durability)?), book, lists, texts);
    let report = secs.and_then(|s| Ok((s, time_reports(|| Ok(Engine::new(SqliteStore::open(&path, durability)?)))?)));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let (s, r) = report?;
    REPORT_TIMES.with(|t| t.borrow_mut().push(r));
    Ok(s)
}

thread_local! {
    /// (reconcile as a new process would, full recomputation) seconds of each run, by case.
    static REPORT_TIMES: std::cell::RefCell<Vec<(f64, f64)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Times the 报核 report as a new process computes it (state from the latest checkpoint plus the
/// lines after it) and a full recomputation from every posted line, each on a fresh connection.
fn time_reports<S: jiamao_store::Store>(open: impl Fn() -> anyhow::Result<Engine<S>>) -> anyhow::Result<(f64, f64)> {
    let t0 = Instant::now();
    let mut e = open()?;
    e.reconcile("E44190000001", None, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let reconcile = t0.elapsed().as_secs_f64();
    let mut e = open()?;
    let t1 = Instant::now();
    e.recompute("E44190000001").map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((reconcile, t1.elapsed().as_secs_f64()))
}

/// One run on PostgreSQL: a scratch database of its own on the server of `server_url`.
fn run_once_pg(a: &BenchArgs, server_url: &str, book: &str, lists: &[ListDoc]) -> anyhow::Result<f64> {
    let scratch = jiamao_store_postgres::scratch::ScratchDb::create(server_url, "jiamao_bench")?;
    let store = jiamao_store_postgres::PgStore::connect(&scratch.url)?;
    let secs = post_all(a, Engine::new(store), book, lists, None)?;
    let r = time_reports(|| Ok(Engine::new(jiamao_store_postgres::PgStore::connect(&scratch.url)?)))?;
    REPORT_TIMES.with(|t| t.borrow_mut().push(r));
    Ok(secs)
}

/// Prints the medians of the report timings gathered since the last call.
fn print_report_times(name: &str) {
    let times: Vec<(f64, f64)> = REPORT_TIMES.with(|t| std::mem::take(&mut *t.borrow_mut()));
    if times.is_empty() {
        return;
    }
    let r = median(times.iter().map(|t| t.0).collect());
    let f = median(times.iter().map(|t| t.1).collect());
    println!("    {name}: reconcile as a new process {:.1} ms, full recomputation {:.1} ms (medians)", r * 1000.0, f * 1000.0);
}

/// Files the book, then posts every list in batches; returns the seconds the posting took.
fn post_all<S: jiamao_store::Store>(a: &BenchArgs, mut engine: Engine<S>, book: &str, lists: &[ListDoc], texts: Option<&[String]>) -> anyhow::Result<f64> {
    engine.import_book(book, "bench book").map_err(|e| anyhow::anyhow!("{e}"))?;
    let t0 = Instant::now();
    let mut posted = 0usize;
    match texts {
        Some(texts) => {
            for t in texts {
                let o = engine.post_text(t, "bench").map_err(|e| anyhow::anyhow!("{e}"))?;
                posted += o.iter().filter(|o| o.status == "posted").count();
            }
        }
        None => {
            for chunk in lists.chunks(a.batch.max(1)) {
                let o = engine.post_lists(chunk.iter().cloned().map(Ok).collect()).map_err(|e| anyhow::anyhow!("{e}"))?;
                posted += o.iter().filter(|o| o.status == "posted").count();
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    if posted != lists.len() {
        bail!("only {posted} of {} lists posted; the benchmark data is wrong", lists.len());
    }
    Ok(secs)
}

/// One run of the peer design on the same lists. Returns seconds.
fn run_peer(a: &BenchArgs, dir: &std::path::Path, full: bool, book: &str, lists: &[ListDoc]) -> anyhow::Result<f64> {
    let path = dir.join(format!("bench-peer-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let doc = jiamao_domain::doc::parse_book(book, "bench book").map_err(|e| anyhow::anyhow!("{e}"))?;
    let book = jiamao_domain::book::Book::from_doc(doc, &jiamao_domain::policy::Policy::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut peer = crate::bench_rows::RowLedger::open(&path, full, book)?;
    let t0 = Instant::now();
    let mut posted = 0;
    for chunk in lists.chunks(a.batch.max(1)) {
        posted += peer.post_batch(chunk)?;
    }
    let secs = t0.elapsed().as_secs_f64();
    drop(peer);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    if posted != lists.len() {
        bail!("the peer posted {posted} of {} lists", lists.len());
    }
    Ok(secs)
}

pub fn run(a: &BenchArgs) -> anyhow::Result<()> {
    let dir = a.dir.clone().unwrap_or_else(std::env::temp_dir);
    let book = book_json(a);
    let lists = lists(a)?;
    let lines: usize = lists.iter().map(|l| l.lines.len()).sum();
    let product_lines: usize = lists.iter().filter(|l| l.goods == Goods::Product).map(|l| l.lines.len()).sum();
    println!("jiamao bench: {} lists × {} lines = {lines} lines ({product_lines} product lines × {} materials each), batches of {} lists, {} runs", a.lists, a.lines, a.bom, a.batch, a.runs);
    println!("{:<34} {:>12} {:>16} {:>14}", "case", "median s", "lines/s", "lists/s");
    let texts: Option<Vec<String>> = a.with_json.then(|| lists.chunks(a.batch.max(1)).map(|c| serde_json::to_string(c).unwrap_or_default()).collect());
    let mut cases: Vec<(&str, Durability, bool)> = vec![("posting, synchronous=FULL", Durability::Full, false), ("posting, synchronous=NORMAL", Durability::Normal, false)];
    if texts.is_some() {
        cases.push(("JSON text + posting, FULL", Durability::Full, true));
    }
    let mut medians = Vec::new();
    for (name, durability, json) in cases {
        let mut times = Vec::new();
        for _ in 0..a.runs.max(1) {
            times.push(run_once(a, &dir, durability, &book, &lists, if json { texts.as_deref() } else { None })?);
        }
        let m = median(times.clone());
        medians.push(m);
        println!("{name:<34} {m:>12.3} {:>16.0} {:>14.0}   runs: {}", lines as f64 / m, lists.len() as f64 / m, times.iter().map(|t| format!("{t:.3}")).collect::<Vec<_>>().join(" "));
        print_report_times(name);
    }
    if let Some(url) = &a.pg {
        let mut times = Vec::new();
        for _ in 0..a.runs.max(1) {
            times.push(run_once_pg(a, url, &book, &lists)?);
        }
        let m = median(times.clone());
        let name = "posting, PostgreSQL";
        println!("{name:<34} {m:>12.3} {:>16.0} {:>14.0}   runs: {}", lines as f64 / m, lists.len() as f64 / m, times.iter().map(|t| format!("{t:.3}")).collect::<Vec<_>>().join(" "));
        print_report_times(name);
    }
    if !a.no_peer {
        let mut times = Vec::new();
        for _ in 0..a.runs.max(1) {
            times.push(run_peer(a, &dir, true, &book, &lists)?);
        }
        let m = median(times.clone());
        let name = "peer: balance rows, FULL";
        println!("{name:<34} {m:>12.3} {:>16.0} {:>14.0}   runs: {}", lines as f64 / m, lists.len() as f64 / m, times.iter().map(|t| format!("{t:.3}")).collect::<Vec<_>>().join(" "));
        if let Some(ours) = medians.first() {
            println!("ratio, Jiamao FULL vs peer FULL: {:.1}× the throughput", m / ours);
        }
    }
    if let Some(kib) = peak_rss_kib() {
        println!("peak resident memory (VmHWM): {:.1} MiB", kib as f64 / 1024.0);
    }
    Ok(())
}
