#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Crash test of durable posting (acceptance point): child processes running
//! `jiamao list post FILE --json` are killed with SIGKILL at pseudo-random moments; after each
//! restart every list whose `list post` had returned is present, no list is half-posted, and the
//! balances equal a recomputation from the posted lines.
//!
//! Rounds: each round runs a few children one after another, each posting its own file of 20
//! lists; the round's last child is killed (`Child::kill`, SIGKILL on Unix) after a pseudo-random
//! delay, drawn from 0–30 ms at first and then from 0 to 1.2× the median run of a complete child,
//! so kills land during start-up, judging, commit and printing alike. A killed file is sometimes posted
//! again at once (its committed lists then come back as `duplicate`). Every few rounds, and at the
//! end, the database is opened afresh and checked:
//!
//! 1. every list acknowledged (`posted` / `duplicate` in the JSON of a child that exited 0 or 2) is
//!    present, with the content that was sent; every list a completed child rejected is absent;
//! 2. no list is half-posted: each list's stored lines equal its `line_count` and the lines of its
//!    canonical JSON; and per file, the stored lists are exactly what posting the file in order
//!    would accept (a prefix of it per attempt: the whole of it or nothing with group commit);
//! 3. the engine's ledger as loaded at restart equals `Engine::recompute`, and both equal an
//!    independent replay of the stored canonical lists through a fresh `BookLedger` with
//!    `BookLedger::post` (quantity control accepting every one of them, in posting order);
//! 4. every material's `should_remain` is ≥ 0; and (at the end) `jiamao balance --json` in a fresh
//!    process reports the same balances.
//!
//! No assertion depends on timing: the delays only decide where the kills land.

use jiamao_app::Engine;
use jiamao_domain::book::Book;
use jiamao_domain::doc::{self, ListDoc};
use jiamao_domain::ledger::{judge_repost, BookLedger, Outcome};
use jiamao_domain::policy::Policy;
use jiamao_store::Store;
use jiamao_store_sqlite::{Durability, SqliteStore};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

const BOOK_NO: &str = "E44192600001";
const MATERIALS: usize = 30;
const PRODUCTS: usize = 10;
const BOM: usize = 8;
const LISTS_PER_FILE: usize = 20;
const ROUNDS: usize = 150;
const CHECK_EVERY: usize = 30;

/// xorshift64*: deterministic, seeded per round / per file.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // Mix the seed so that neighbouring seeds give unrelated streams; never zero.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn book_json() -> Value {
    let mut rng = Rng::new(0xB00C);
    let ent = json!({"uscc": "91441900698123458E", "customs_code": "4419960123", "name": "东莞崩溃测试制品有限公司", "region_code": "441900"});
    let materials: Vec<Value> = (1..=MATERIALS)
        .map(|s| {
            json!({
                "seq": s, "part_no": format!("M{s:03}"), "hs_code": "3901100090", "name": format!("料件{s}"),
                "unit": "035", "unit_price": format!("{}.{:02}", rng.range(1, 9), rng.range(0, 99)), "currency": "502",
                "opening_qty": format!("{}", rng.range(1000, 4000))
            })
        })
        .collect();
    let products: Vec<Value> =
        (1..=PRODUCTS).map(|s| json!({"seq": s, "part_no": format!("P{s:03}"), "hs_code": "3920109090", "name": format!("成品{s}"), "unit": "035", "unit_price": "9.80", "currency": "502"})).collect();
    let mut consumption = Vec::new();
    for p in 1..=PRODUCTS {
        let mut used = BTreeSet::new();
        while used.len() < BOM {
            used.insert(rng.range(1, MATERIALS as u64));
        }
        for (k, m) in used.into_iter().enumerate() {
            let mut c = json!({"product_seq": p, "material_seq": m, "version": "1", "valid_from": "2026-01-01"});
            if k % 3 == 0 {
                c["unit_consumption"] = json!(format!("0.{:03}", rng.range(100, 999)));
            } else {
                c["net"] = json!(format!("0.{:03}", rng.range(100, 900)));
                c["tangible_loss_rate"] = json!(format!("0.0{}", rng.range(0, 5)));
                c["intangible_loss_rate"] = json!(format!("0.00{}", rng.range(0, 9)));
                if k % 4 == 1 {
                    c["bonded_share"] = json!("0.9");
                }
            }
            consumption.push(c);
        }
    }
    json!({
        "book_no": BOOK_NO, "book_type": "E", "trade_mode": "0615", "operator": ent, "master_customs": "5200",
        "valid_from": "2026-01-01", "valid_until": "2026-12-31", "quantity_control": true,
        "materials": materials, "products": products, "consumption": consumption
    })
}

/// One generated list file.
struct ListFile {
    path: PathBuf,
    /// The lists as the CLI will parse them (file order).
    lists: Vec<ListDoc>,
    /// How many children were started on this file.
    attempts: usize,
}

fn list_no(file: usize, i: usize) -> String {
    format!("QD4419{file:05}{i:03}")
}

/// Parses a `QD4419FFFFFIII` number back to its file index.
fn file_of(list_no: &str) -> Option<usize> {
    list_no.strip_prefix("QD4419").and_then(|r| r.get(..5)).and_then(|f| f.parse().ok())
}

fn gen_file(dir: &Path, index: usize) -> ListFile {
    let mut rng = Rng::new(0xF11E_0000 + index as u64);
    let mut lists = Vec::with_capacity(LISTS_PER_FILE);
    for i in 0..LISTS_PER_FILE {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date") + chrono::Days::new(rng.range(0, 364));
        let import = rng.chance(55);
        let n_lines = if import { rng.range(1, 8) } else { rng.range(1, 3) };
        let mut lines = Vec::new();
        for ln in 1..=n_lines {
            let mut line = if import {
                let qty = if rng.chance(30) { format!("{}.{}", rng.range(1, 2500), rng.range(1, 999)) } else { format!("{}", rng.range(1, 2500)) };
                let mut l = json!({"line": ln, "item_seq": rng.range(1, MATERIALS as u64), "qty": qty});
                if rng.chance(70) {
                    l["amount"] = json!(format!("{}.{:02}", rng.range(1, 20000), rng.range(0, 99)));
                }
                l
            } else {
                json!({"line": ln, "item_seq": rng.range(1, PRODUCTS as u64), "qty": format!("{}", rng.range(1, 900)), "amount": "100.00"})
            };
            // Now and then an unknown item: the list is rejected, the others of the file stand.
            if rng.chance(2) {
                line["item_seq"] = json!(99);
            }
            lines.push(line);
        }
        lists.push(json!({
            "list_no": list_no(index, i), "book_no": BOOK_NO, "declared_on": day.to_string(),
            "direction": if import { "I" } else { "E" }, "goods": if import { "material" } else { "product" },
            "trade_mode": "0615", "lines": lines
        }));
    }
    let text = serde_json::to_string_pretty(&Value::Array(lists)).expect("render list file");
    let path = dir.join(format!("lists-{index:05}.json"));
    std::fs::write(&path, &text).expect("write list file");
    let parsed = doc::parse_lists(&text, "generated").expect("generated list file parses");
    let lists = parsed.into_iter().map(|l| l.expect("generated list parses")).collect();
    ListFile { path, lists, attempts: 0 }
}

fn jiamao() -> Command {
    Command::new(env!("CARGO_BIN_EXE_jiamao"))
}

/// What became of one child.
enum ChildEnd {
    /// Exited by itself (status 0 or 2), with its outcomes: (list_no, status).
    Completed(Vec<(String, String)>),
    /// Killed by SIGKILL before it finished.
    Killed,
}

/// Runs `jiamao list post FILE --json`; with `kill_after`, sends SIGKILL once that much time has
/// passed (polling `try_wait`) unless the child has exited by then.
fn run_child(db: &Path, file: &Path, kill_after: Option<Duration>) -> (ChildEnd, Duration) {
    let start = Instant::now();
    let mut child = jiamao()
        .arg("--db")
        .arg(db)
        .args(["--durability", "full", "list", "post"])
        .arg(file)
        .arg("--json")
        .env("JIAMAO_CHECKPOINT_LINES", "50")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jiamao list post");
    let deadline = kill_after.map(|d| start + d);
    let status: ExitStatus = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            // SIGKILL; it may have exited in the meantime, which is fine (then it completed).
            let _ = child.kill();
            break child.wait().expect("wait for killed child");
        }
        std::thread::sleep(Duration::from_micros(100));
    };
    let elapsed = start.elapsed();
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    if status.signal() == Some(9) {
        return (ChildEnd::Killed, elapsed);
    }
    match status.code() {
        Some(0) | Some(2) => {
            let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("child for {} exited {status} but its stdout is not JSON ({e}):\n{out}\nstderr:\n{err}", file.display()));
            let arr = v.as_array().unwrap_or_else(|| panic!("child for {} printed no outcome array:\n{out}\nstderr:\n{err}", file.display()));
            let outcomes = arr
                .iter()
                .map(|o| {
                    let no = o["list_no"].as_str().unwrap_or_else(|| panic!("outcome without list_no: {o}")).to_owned();
                    let st = o["status"].as_str().unwrap_or_else(|| panic!("outcome without status: {o}")).to_owned();
                    (no, st)
                })
                .collect();
            (ChildEnd::Completed(outcomes), elapsed)
        }
        _ => panic!("child for {} ended with {status} (neither 0/2 nor SIGKILL)\nstdout:\n{out}\nstderr:\n{err}", file.display()),
    }
}

#[derive(Default)]
struct Acks {
    /// Lists a completed child reported `posted` or `duplicate`.
    acknowledged: BTreeSet<String>,
    /// Lists a completed child reported `rejected` (files of completed children are never posted
    /// again, so these must stay absent).
    rejected: BTreeSet<String>,
    posted: usize,
    duplicate: usize,
}

/// What one check found.
struct Checked {
    lists: usize,
    lines: usize,
    partial_passes: usize,
}

fn materials_equal(what: &str, a: &BookLedger, b: &BookLedger) {
    let (am, bm) = (a.material_totals().to_vec(), b.material_totals().to_vec());
    assert_eq!(am.len(), bm.len(), "{what}: number of materials differs");
    for (k, (x, y)) in am.iter().zip(&bm).enumerate() {
        assert_eq!(x, y, "{what}: material #{} (seq {}) totals differ", k, a.book().materials[k].seq);
    }
    let (ap, bp) = (a.product_totals().to_vec(), b.product_totals().to_vec());
    assert_eq!(ap.len(), bp.len(), "{what}: number of products differs");
    for (k, (x, y)) in ap.iter().zip(&bp).enumerate() {
        assert_eq!(x, y, "{what}: product #{} (seq {}) totals differ", k, a.book().products[k].seq);
    }
    assert_eq!(a.lists_posted(), b.lists_posted(), "{what}: lists posted differ");
    assert_eq!(a.lines_posted(), b.lines_posted(), "{what}: lines posted differ");
    assert_eq!(a.used_versions(), b.used_versions(), "{what}: used 单耗 versions differ");
}

fn check(db: &Path, book: &Book, files: &BTreeMap<usize, ListFile>, acks: &Acks, label: &str) -> Checked {
    let mut store = SqliteStore::open(db, Durability::Full).unwrap_or_else(|e| panic!("[{label}] reopen {}: {e}", db.display()));

    // 2a. Every stored list is whole: lines stored = line_count = lines of its canonical JSON.
    let rows: Vec<(i64, String, String, i64, i64, String)> = {
        let conn = store.connection();
        let orphans: i64 = conn.query_row("SELECT COUNT(*) FROM list_lines WHERE list_id NOT IN (SELECT id FROM lists)", [], |r| r.get(0)).expect("orphan query");
        assert_eq!(orphans, 0, "[{label}] list_lines rows without their list");
        let mut st = conn
            .prepare("SELECT l.id, l.list_no, l.book_no, l.line_count, COUNT(d.pos), l.canonical FROM lists l LEFT JOIN list_lines d ON d.list_id = l.id GROUP BY l.id ORDER BY l.id")
            .expect("prepare line-count query");
        let it = st
            .query_map([], |r| Ok((r.get::<usize, i64>(0)?, r.get::<usize, String>(1)?, r.get::<usize, String>(2)?, r.get::<usize, i64>(3)?, r.get::<usize, i64>(4)?, r.get::<usize, String>(5)?)))
            .expect("line-count query");
        it.collect::<Result<Vec<_>, _>>().expect("line-count rows")
    };
    let mut total_lines = 0usize;
    let mut stored_docs: Vec<ListDoc> = Vec::with_capacity(rows.len());
    for (id, no, book_no, line_count, stored, canonical) in &rows {
        assert_eq!(book_no, BOOK_NO, "[{label}] list {no} (id {id}) is for an unexpected book");
        let v: Value = serde_json::from_str(canonical).unwrap_or_else(|e| panic!("[{label}] list {no}: canonical JSON unreadable: {e}"));
        let json_lines = v["lines"].as_array().map_or(0, Vec::len) as i64;
        assert!(
            *line_count == *stored && *stored == json_lines && json_lines > 0,
            "[{label}] list {no} (id {id}) is half-posted: line_count {line_count}, {stored} rows in list_lines, {json_lines} lines in its canonical JSON"
        );
        total_lines += *stored as usize;
        let parsed = doc::parse_lists(canonical, &format!("stored {no}")).unwrap_or_else(|e| panic!("[{label}] stored canonical of {no} does not parse: {e}"));
        assert_eq!(parsed.len(), 1, "[{label}] stored canonical of {no} holds {} lists", parsed.len());
        let d = parsed.into_iter().next().expect("one").unwrap_or_else(|e| panic!("[{label}] stored canonical of {no} is not a valid list: {e}"));
        assert_eq!(&d.list_no, no, "[{label}] stored canonical names another list");
        stored_docs.push(d);
    }

    // 1. Every acknowledged list is present, with the content that was sent; rejected ones absent.
    let by_no: BTreeMap<&str, &ListDoc> = files.values().flat_map(|f| f.lists.iter()).map(|l| (l.list_no.as_str(), l)).collect();
    for no in &acks.acknowledged {
        let canon = store.posted_canonical("91441900698123458E", no).unwrap_or_else(|e| panic!("[{label}] posted_canonical({no}): {e}"));
        let canon = canon.unwrap_or_else(|| panic!("[{label}] list {no} was acknowledged by `list post` but is missing after restart"));
        let sent = by_no.get(no.as_str()).unwrap_or_else(|| panic!("[{label}] acknowledged list {no} was never generated"));
        assert_eq!(judge_repost(no, &canon, &sent.canonical()), Outcome::Duplicate, "[{label}] stored content of {no} differs from what was sent");
    }
    for no in &acks.rejected {
        assert!(store.posted_canonical("91441900698123458E", no).expect("posted_canonical").is_none(), "[{label}] list {no} was reported rejected by a completed child, yet it is stored");
    }

    // 2b + 3. Independent replay in posting order through a fresh BookLedger (quantity control on:
    // every stored list must post), file by file: the stored lists of a file are exactly what
    // posting that file in order accepts, attempt by attempt (a prefix per attempt).
    let mut model = BookLedger::new(book.clone());
    let mut seen_files: BTreeSet<usize> = BTreeSet::new();
    let mut partial_passes = 0usize;
    let mut k = 0usize;
    while k < stored_docs.len() {
        let no = &stored_docs[k].list_no;
        let f = file_of(no).unwrap_or_else(|| panic!("[{label}] stored list {no} does not come from a generated file"));
        assert!(seen_files.insert(f), "[{label}] lists of file {f} are not stored contiguously (again at {no})");
        let file = files.get(&f).unwrap_or_else(|| panic!("[{label}] stored list {no} names file {f}, which was never posted"));
        let mut group_end = k;
        while group_end < stored_docs.len() && file_of(&stored_docs[group_end].list_no) == Some(f) {
            group_end += 1;
        }
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut passes = 0usize;
        while k < group_end {
            passes += 1;
            assert!(passes <= file.attempts, "[{label}] file {f}: stored lists need more than its {} attempt(s) to explain: at {}", file.attempts, stored_docs[k].list_no);
            // What one `list post` of the whole file would accept now.
            let mut trial = model.clone();
            let accepted: Vec<&str> = file.lists.iter().filter(|l| !done.contains(&l.list_no)).filter(|l| trial.post((*l).clone()).is_ok()).map(|l| l.list_no.as_str()).collect();
            let mut taken = 0usize;
            while k < group_end && taken < accepted.len() && stored_docs[k].list_no == accepted[taken] {
                let d = &stored_docs[k];
                let sent = file.lists.iter().find(|l| l.list_no == d.list_no).expect("in file");
                assert_eq!(d.canonical(), sent.canonical(), "[{label}] stored {} differs from the file's", d.list_no);
                model.post(d.clone()).unwrap_or_else(|r| panic!("[{label}] replaying stored list {} in posting order through a fresh ledger (quantity control on) was rejected: {r}", d.list_no));
                done.insert(d.list_no.clone());
                taken += 1;
                k += 1;
            }
            assert!(taken > 0, "[{label}] file {f}: stored list {} is not what posting the file would accept next (expected one of {:?})", stored_docs[k].list_no, accepted.first());
            if taken < accepted.len() {
                partial_passes += 1;
            }
        }
    }

    // 3. The engine as loaded at restart (checkpoint + replay, or full replay) = recompute = model.
    let mut engine = Engine::new(store);
    let recomputed = engine.recompute(BOOK_NO).unwrap_or_else(|e| panic!("[{label}] recompute: {e}"));
    let loaded = engine.ledger(BOOK_NO).unwrap_or_else(|e| panic!("[{label}] load ledger: {e}")).unwrap_or_else(|| panic!("[{label}] book {BOOK_NO} missing")).clone();
    materials_equal(&format!("[{label}] engine ledger vs engine.recompute"), &loaded, &recomputed);
    materials_equal(&format!("[{label}] engine ledger vs independent replay"), &loaded, &model);
    assert_eq!(loaded.lists_posted() as usize, rows.len(), "[{label}] ledger counts {} lists, the store holds {}", loaded.lists_posted(), rows.len());

    // 4. Quantity control: nothing below zero.
    for (m, t) in model.book().materials.iter().zip(model.material_totals().to_vec()) {
        assert!(t.should_remain() >= Decimal::ZERO, "[{label}] material {} should_remain {} is below zero", m.seq, t.should_remain());
    }
    let (n_lists, n_lines) = engine.store_mut().counts().expect("counts");
    assert_eq!((n_lists as usize, n_lines as usize), (rows.len(), total_lines), "[{label}] store counts disagree with the rows read");
    Checked { lists: rows.len(), lines: total_lines, partial_passes }
}

/// A fresh `jiamao balance --json` process reports the model's balances (rounded to 5 places).
fn check_cli_balance(db: &Path, book: &Book) {
    let out = jiamao().arg("--db").arg(db).args(["balance", BOOK_NO, "--json"]).env("JIAMAO_CHECKPOINT_LINES", "50").output().expect("run jiamao balance");
    assert!(out.status.success(), "jiamao balance failed: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("balance JSON");
    // Recompute independently from the stored canonical texts, in id order.
    let store = SqliteStore::open(db, Durability::Full).expect("reopen");
    let canon: Vec<String> = {
        let mut st = store.connection().prepare("SELECT canonical FROM lists ORDER BY id").expect("prepare");
        let it = st.query_map([], |r| r.get::<usize, String>(0)).expect("query");
        it.collect::<Result<Vec<_>, _>>().expect("rows")
    };
    let mut model = BookLedger::new(book.clone());
    for c in &canon {
        let d = doc::parse_lists(c, "stored").expect("parse").into_iter().next().expect("one").expect("valid");
        model.post(d).expect("stored list posts");
    }
    let reported = v["materials"].as_array().expect("materials array");
    assert_eq!(reported.len(), model.book().materials.len(), "balance reports {} materials", reported.len());
    for (r, (m, t)) in reported.iter().zip(model.book().materials.iter().zip(model.material_totals().to_vec())) {
        assert_eq!(r["seq"].as_u64(), Some(m.seq as u64), "balance material order");
        let got = match &r["balance"] {
            Value::String(s) => Decimal::from_str(s).expect("decimal"),
            other => Decimal::from_str(&other.to_string()).expect("decimal"),
        };
        let want = t.should_remain().round_dp_with_strategy(5, RoundingStrategy::MidpointAwayFromZero);
        assert_eq!(got, want, "jiamao balance reports {got} for material {}, the recomputation gives {want}", m.seq);
    }
}

/// Lists stored so far (to tell, for the report only, whether a kill landed after the commit).
fn stored_lists(db: &Path) -> i64 {
    let store = SqliteStore::open(db, Durability::Full).expect("reopen");
    store.connection().query_row("SELECT COUNT(*) FROM lists", [], |r| r.get::<usize, i64>(0)).expect("count lists")
}

/// Rows of checkpoint tables, if the schema has any (for the report only).
fn checkpoint_rows(db: &Path) -> i64 {
    let store = SqliteStore::open(db, Durability::Full).expect("reopen");
    let conn = store.connection();
    let tables: Vec<String> = {
        let mut st = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%checkpoint%'").expect("prepare");
        let it = st.query_map([], |r| r.get::<usize, String>(0)).expect("query");
        it.collect::<Result<Vec<_>, _>>().expect("rows")
    };
    tables.iter().map(|t| conn.query_row(&format!("SELECT COUNT(*) FROM \"{t}\""), [], |r| r.get::<usize, i64>(0)).unwrap_or(0)).sum()
}

#[test]
fn killed_posting_children_lose_nothing_acknowledged_and_leave_nothing_half_posted() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crash.db");

    // The book.
    let book_value = book_json();
    let book_text = serde_json::to_string_pretty(&book_value).expect("book JSON");
    let book_path = dir.path().join("book.json");
    std::fs::write(&book_path, &book_text).expect("write book");
    let out = jiamao().arg("--db").arg(&db).args(["book", "import"]).arg(&book_path).output().expect("run book import");
    assert!(out.status.success(), "book import failed ({}): {}{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let book = Book::from_doc(doc::parse_book(&book_text, "book.json").expect("book parses"), &Policy::default()).expect("book valid");

    let mut files: BTreeMap<usize, ListFile> = BTreeMap::new();
    let mut next_file = 0usize;
    let mut retry: Option<usize> = None;
    let mut acks = Acks::default();
    let (mut killed, mut completed, mut retried) = (0usize, 0usize, 0usize);
    let mut kill_attempts = 0usize;
    let mut killed_after_commit = 0usize;
    let mut slowest_completed = Duration::ZERO;
    let mut durations: Vec<Duration> = Vec::new();
    let mut max_delay_used = Duration::ZERO;
    let mut checks = 0usize;
    let mut last = None;

    for round in 0..ROUNDS {
        let mut rng = Rng::new(0xC0FF_EE00 + round as u64);
        let unkilled = rng.range(0, 2) as usize;
        for c in 0..=unkilled {
            let kill = c == unkilled;
            let f = match retry.take() {
                Some(f) => {
                    retried += 1;
                    f
                }
                None => {
                    let f = next_file;
                    next_file += 1;
                    files.insert(f, gen_file(dir.path(), f));
                    f
                }
            };
            // Kills land anywhere from before start-up to after the commit: uniformly within 0–30 ms
            // until a child has completed, then within 0–1.2× the median complete run so far (so
            // that most kills hit a running child whatever the machine's speed).
            let span = if durations.is_empty() {
                Duration::from_millis(30)
            } else {
                let mut d = durations.clone();
                d.sort();
                d[d.len() / 2].mul_f64(1.2)
            };
            let span_us = span.as_micros().max(1) as u64;
            let delay = kill.then(|| Duration::from_micros(rng.range(0, span_us)));
            if let Some(d) = delay {
                kill_attempts += 1;
                max_delay_used = max_delay_used.max(d);
            }
            let file = files.get_mut(&f).expect("file");
            file.attempts += 1;
            let path = file.path.clone();
            let stored_before_child = stored_lists(&db);
            let (end, took) = run_child(&db, &path, delay);
            match end {
                ChildEnd::Killed => {
                    killed += 1;
                    // Did the kill land before or after the commit? (Reported, never asserted.)
                    let now = stored_lists(&db);
                    if now > stored_before_child {
                        killed_after_commit += 1;
                    }
                    if rng.chance(50) {
                        retry = Some(f);
                    }
                }
                ChildEnd::Completed(outcomes) => {
                    completed += 1;
                    slowest_completed = slowest_completed.max(took);
                    durations.push(took);
                    let sent: Vec<&str> = files[&f].lists.iter().map(|l| l.list_no.as_str()).collect();
                    let got: Vec<&str> = outcomes.iter().map(|(n, _)| n.as_str()).collect();
                    assert_eq!(got, sent, "outcomes of {} do not follow the file's lists", path.display());
                    for (no, st) in outcomes {
                        match st.as_str() {
                            "posted" => {
                                acks.posted += 1;
                                acks.acknowledged.insert(no);
                            }
                            "duplicate" => {
                                acks.duplicate += 1;
                                acks.acknowledged.insert(no);
                            }
                            "rejected" => {
                                acks.rejected.insert(no);
                            }
                            other => panic!("unknown status {other:?} for {no}"),
                        }
                    }
                }
            }
        }
        if (round + 1) % CHECK_EVERY == 0 || round + 1 == ROUNDS {
            let r = check(&db, &book, &files, &acks, &format!("after round {}", round + 1));
            checks += 1;
            println!(
                "check after round {}: {} lists / {} lines stored, {} acknowledged, {} rejected by completed children, {} partial attempt(s)",
                round + 1,
                r.lists,
                r.lines,
                acks.acknowledged.len(),
                acks.rejected.len(),
                r.partial_passes
            );
            last = Some(r);
        }
    }
    check_cli_balance(&db, &book);

    let last = last.expect("at least one check");
    println!(
        "crash test: {ROUNDS} rounds, {} files, {} children: {completed} completed, {killed} killed by SIGKILL ({killed_after_commit} of them after their commit; {} kill attempts, {} raced to completion), {retried} file(s) posted again after a kill; \
         acknowledged {} lists ({} posted, {} duplicate); {} rejected; stored {} lists / {} lines; {} checkpoint row(s); {} checks; kill delays up to {:?} (complete children: median {:?}, slowest {:?}); {:?} in all",
        files.len(),
        completed + killed,
        kill_attempts,
        kill_attempts - killed,
        acks.acknowledged.len(),
        acks.posted,
        acks.duplicate,
        acks.rejected.len(),
        last.lists,
        last.lines,
        checkpoint_rows(&db),
        checks,
        max_delay_used,
        {
            let mut d = durations.clone();
            d.sort();
            d.get(d.len() / 2).copied().unwrap_or_default()
        },
        slowest_completed,
        t0.elapsed()
    );
    assert!(killed >= 1, "no child was killed mid-run: the test proved nothing about crashes");
    assert!(completed >= 1, "no child completed: nothing was acknowledged");
    assert!(!acks.acknowledged.is_empty(), "no list was acknowledged");
}
