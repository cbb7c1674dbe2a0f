#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The command-line contract (FORMAT.md), run as a user would: the real binary on a SQLite file.

use jiamao_store::Store;
use jiamao_store_sqlite::{Durability, SqliteStore};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn examples() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interchange/examples");
    if p.join("expected.json").exists() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/interchange/examples not found");
        None
    }
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env { dir: tempfile::tempdir().expect("tempdir") }
    }
    fn db(&self) -> PathBuf {
        self.dir.path().join("jiamao.db")
    }
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_jiamao")).arg("--db").arg(self.db()).args(args).output().expect("run jiamao")
    }
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    }
    /// (lists, lines, book revisions) in the database.
    fn counts(&self) -> (u64, u64, i64) {
        let mut s = SqliteStore::open(&self.db(), Durability::Full).expect("open");
        let (a, b) = s.counts().expect("counts");
        let c: i64 = s.connection().query_row("SELECT COUNT(*) FROM book_revisions", [], |r| r.get(0)).expect("count");
        (a, b, c)
    }
    fn posted(&self, list_no: &str) -> bool {
        let s = SqliteStore::open(&self.db(), Durability::Full).expect("open");
        let n: i64 = s.connection().query_row("SELECT COUNT(*) FROM lists WHERE list_no = ?1", [list_no], |r| r.get(0)).expect("query");
        n > 0
    }
}

fn stdout_json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", String::from_utf8_lossy(&o.stdout)))
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn example_reproduces_expected_json_exactly() {
    let Some(ex) = examples() else { return };
    let env = Env::new();
    let e = |f: &str| ex.join(f).display().to_string();
    let o = env.run(&["book", "import", &e("book.json")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let good = env.run(&["list", "post", &e("lists.json"), "--json"]);
    assert_eq!(good.status.code(), Some(0), "{}", text(&good));
    let bad = env.run(&["list", "post", &e("lists-bad.json"), "--json"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(ex.join("expected.json")).expect("read")).expect("json");
    let mut statuses = Vec::new();
    for o in [&good, &bad] {
        for item in stdout_json(o).as_array().expect("array") {
            statuses.push(serde_json::json!({"list_no": item["list_no"], "status": item["status"]}));
            if item["status"] == "rejected" {
                assert!(item["error"]["rule"].is_string() && item["error"]["message"].is_string(), "{item}");
            }
        }
    }
    assert_eq!(Value::Array(statuses), expected["outcomes"]);
    let rec = env.run(&["reconcile", "C52002600001", "--stocktake", &e("stocktake.json"), "--json"]);
    assert_eq!(rec.status.code(), Some(0), "{}", text(&rec));
    assert_eq!(stdout_json(&rec), expected["reconcile"]);

    // The difference rate (差异率) only when a base is chosen: difference ÷ should-remain here.
    assert!(stdout_json(&rec)["materials"][0].get("difference_rate").is_none());
    let rated = stdout_json(&env.run(&["reconcile", "C52002600001", "--stocktake", &e("stocktake.json"), "--rate-base", "should_remain", "--json"]));
    let m = &rated["materials"][0];
    let dec = |v: &Value| v.as_str().unwrap_or("").parse::<rust_decimal::Decimal>().expect("decimal");
    let expected_rate = (dec(&m["difference"]) / dec(&m["should_remain"])).round_dp(6);
    assert_eq!(dec(&m["difference_rate"]), expected_rate, "{m}");
    assert_eq!(m["difference_rate"], "0.001741");
    let bad = env.run(&["reconcile", "C52002600001", "--rate-base", "sideways"]);
    assert_eq!(bad.status.code(), Some(2));

    // Without a stocktake the report has no actual/difference fields; balances agree with it.
    let rec = stdout_json(&env.run(&["reconcile", "C52002600001", "--json"]));
    assert!(rec["materials"][0].get("actual_remain").is_none());
    let bal = stdout_json(&env.run(&["balance", "C52002600001", "--json"]));
    assert_eq!(bal["materials"][0]["balance"], rec["materials"][0]["should_remain"]);
    assert_eq!(bal["materials"][0]["balance"], "49138.50265");
    // As of a date: only the first import (2026-01-10) counts.
    let early = stdout_json(&env.run(&["balance", "C52002600001", "--as-of", "2026-01-31", "--json"]));
    assert_eq!(early["as_of"], "2026-01-31");
    assert_eq!(early["materials"][0]["balance"], "50000");
    // Re-posting the whole file is a no-op.
    let again = stdout_json(&env.run(&["list", "post", &e("lists.json"), "--json"]));
    assert!(again.as_array().expect("array").iter().all(|o| o["status"] == "duplicate"));
    assert_eq!(env.counts().0, 14);
}

const BOOK: &str = r#"{"book_no":"C1","book_type":"C","trade_mode":"0615",
 "operator":{"uscc":"91441900698123458E","customs_code":"4419960123","name":"测试","region_code":"441900"},
 "master_customs":"5200","valid_from":"2026-01-01","valid_until":"2026-12-31",
 "materials":[{"seq":1,"part_no":"A","hs_code":"3901100090","name":"低密度聚乙烯","unit":"035","unit_price":"1.35","currency":"502","authorized_qty":"1000"}],
 "products":[{"seq":1,"part_no":"P","hs_code":"3920109090","name":"薄膜","unit":"035","unit_price":"2.6","currency":"502"}],
 "consumption":[{"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-03-01","net":"0.9","tangible_loss_rate":"0.1"}]}"#;

/// A book import that must be refused: exit 2, the message names the file, the place and the rule.
fn book_refused(env: &Env, name: &str, doc: &str, expect: &[&str]) {
    let before = env.counts();
    let f = env.write(name, doc);
    let o = env.run(&["book", "import", &f]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{name}: {t}");
    assert!(t.contains(name), "{name}: message must name the file: {t}");
    for e in expect {
        assert!(t.contains(e), "{name}: message must contain {e:?}: {t}");
    }
    assert_eq!(env.counts(), before, "{name}: nothing of a rejected document may be stored");
}

#[test]
fn bad_book_documents_are_refused_with_place_and_rule() {
    let env = Env::new();
    book_refused(&env, "malformed.json", "{\"book_no\": \"C1\", ", &["truncated", "line 1"]);
    book_refused(&env, "not-json.json", "book_no = C1", &["not valid JSON", "line 1 column 1"]);
    book_refused(&env, "truncated.json", &BOOK[..BOOK.len() / 2], &["truncated", "document_format"]);
    book_refused(&env, "wrong-type.json", &BOOK.replace("\"seq\":1,\"part_no\":\"A\"", "\"seq\":\"one\",\"part_no\":\"A\""), &["materials[0].seq", "invalid type", "document_format"]);
    book_refused(&env, "unknown-field.json", &BOOK.replace("\"master_customs\"", "\"colour\":\"red\",\"master_customs\""), &["unknown field `colour`", "line 3"]);
    book_refused(&env, "bad-uscc.json", &BOOK.replace("91441900698123458E", "91441900698123458F"), &["operator.uscc", "统一社会信用代码", "GB 32100"]);
    book_refused(&env, "hs9.json", &BOOK.replace("3901100090", "390110009"), &["materials[0].hs_code", "10 digits"]);
    book_refused(&env, "unit.json", &BOOK.replace("\"unit\":\"035\",\"unit_price\":\"1.35\"", "\"unit\":\"999\",\"unit_price\":\"1.35\""), &["materials[0].unit", "999", "计量单位"]);
    book_refused(&env, "both.json", &BOOK.replace("\"net\":\"0.9\"", "\"net\":\"0.9\",\"unit_consumption\":\"1\""), &["consumption[0]", "consumption_both"]);
    book_refused(&env, "family.json", &BOOK.replace("\"book_type\":\"C\"", "\"book_type\":\"B\""), &["book_type_mode"]);
    book_refused(&env, "unknown-material.json", &BOOK.replace("\"material_seq\":1", "\"material_seq\":7"), &["consumption[0]", "unknown_item"]);
    assert_eq!(env.counts(), (0, 0, 0));
}

#[test]
fn every_list_rejection_rule_refuses_and_stores_nothing() {
    let env = Env::new();
    let zone_book = BOOK.replace("\"book_no\":\"C1\"", "\"book_no\":\"C2\"");
    assert_eq!(env.run(&["book", "import", &env.write("book.json", BOOK)]).status.code(), Some(0));
    assert_eq!(env.run(&["book", "import", &env.write("book2.json", &zone_book)]).status.code(), Some(0));
    let ok = r#"{"list_no":"OK1","book_no":"C1","declared_on":"2026-02-01","direction":"I","goods":"material","trade_mode":"0615","lines":[{"line":1,"item_seq":1,"qty":"900","amount":"1215"}]}"#;
    let o = env.run(&["list", "post", &env.write("ok.json", ok)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let base = r#"{"list_no":"R","book_no":"C1","declared_on":"2026-04-01","direction":"E","goods":"product","trade_mode":"0615","lines":[{"line":1,"item_seq":1,"qty":"10"}]}"#;
    let cases: Vec<(&str, String, &str)> = vec![
        ("unknown book", base.replace("\"C1\"", "\"C9\""), "unknown_book"),
        ("outside validity", base.replace("2026-04-01", "2027-01-01"), "outside_validity"),
        ("unsupported mode", base.replace("\"0615\"", "\"0815\""), "trade_mode_unsupported"),
        ("other family", base.replace("\"0615\"", "\"0214\""), "trade_mode_family"),
        ("zone mode outside a zone", base.replace("\"0615\"", "\"0444\""), "trade_mode_zone"),
        ("mode does not fit goods", base.replace("\"0615\"", "\"0664\""), "trade_mode_goods"),
        ("carry-over without counterparty", base.replace("\"0615\"", "\"0654\""), "counterparty_required"),
        ("no lines", base.replace(r#"[{"line":1,"item_seq":1,"qty":"10"}]"#, "[]"), "no_lines"),
        ("unknown item", base.replace("\"item_seq\":1", "\"item_seq\":5"), "unknown_item"),
        ("unknown version", base.replace("\"qty\":\"10\"", "\"qty\":\"10\",\"consumption_version\":\"9\""), "unknown_version"),
        ("version not yet valid", base.replace("2026-04-01", "2026-02-15").replace("\"qty\":\"10\"", "\"qty\":\"10\",\"consumption_version\":\"1\""), "version_not_valid"),
        ("no valid version", base.replace("2026-04-01", "2026-02-15"), "no_valid_version"),
        ("quantity not positive", base.replace("\"10\"", "\"0\""), "quantity_not_positive"),
        ("authorised quantity exceeded", ok.replace("OK1", "R").replace("\"900\"", "\"101\""), "authorized_exceeded"),
        ("leftovers beyond accrued", base.replace("\"E\",\"goods\":\"product\",\"trade_mode\":\"0615\"", "\"E\",\"goods\":\"material\",\"trade_mode\":\"0844\""), "leftover_exceeded"),
        ("balance below zero", base.replace("\"10\"", "\"1000\""), "balance_negative"),
        ("changed content under a used number", ok.replace("\"900\"", "\"901\""), "list_no_conflict"),
        ("wrong type", base.replace("\"line\":1", "\"line\":\"one\""), "document_format"),
        ("unknown field", base.replace("\"line\":1", "\"line\":1,\"colour\":\"red\""), "document_format"),
    ];
    for (what, doc, rule) in cases {
        let list_no = if rule == "list_no_conflict" { "OK1" } else { "R" };
        let two = format!("[{doc}]");
        let name = format!("{}.json", what.replace(' ', "-"));
        let f = env.write(&name, &two);
        let before = env.counts();
        let human = env.run(&["list", "post", &f]);
        let t = text(&human);
        assert_eq!(human.status.code(), Some(2), "{what}: {t}");
        assert!(t.contains(&name) && t.contains("list 1") && t.contains(rule), "{what}: message must name file, list and rule {rule}: {t}");
        if doc.contains("\"line\":1")
            && !matches!(
                rule,
                "no_lines"
                    | "unknown_book"
                    | "outside_validity"
                    | "trade_mode_unsupported"
                    | "trade_mode_family"
                    | "trade_mode_zone"
                    | "trade_mode_goods"
                    | "counterparty_required"
                    | "list_no_conflict"
                    | "document_format"
            )
        {
            assert!(t.contains("line 1"), "{what}: message must name the line: {t}");
        }
        let json = env.run(&["list", "post", &f, "--json"]);
        assert_eq!(json.status.code(), Some(2), "{what}");
        let out = stdout_json(&json);
        assert_eq!(out[0]["status"], "rejected", "{what}: {out}");
        assert_eq!(out[0]["error"]["rule"], rule, "{what}: {out}");
        assert_eq!(env.counts(), before, "{what}: a rejected list changes nothing");
        if rule != "list_no_conflict" {
            assert!(!env.posted(list_no), "{what}: rejected list must not be stored");
        }
    }
}

#[test]
fn one_rejected_list_does_not_stop_the_others_and_a_bad_file_posts_nothing() {
    let env = Env::new();
    env.run(&["book", "import", &env.write("book.json", BOOK)]);
    let a = r#"{"list_no":"A","book_no":"C1","declared_on":"2026-02-01","direction":"I","goods":"material","trade_mode":"0615","lines":[{"line":1,"item_seq":1,"qty":"5"}]}"#;
    let b = a.replace("\"A\"", "\"B\"").replace("\"5\"", "\"-5\"");
    let c = a.replace("\"A\"", "\"C\"");
    let o = env.run(&["list", "post", &env.write("three.json", &format!("[{a},{b},{c}]")), "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let out = stdout_json(&o);
    let statuses: Vec<&str> = out.as_array().expect("array").iter().map(|x| x["status"].as_str().unwrap_or("")).collect();
    assert_eq!(statuses, ["posted", "rejected", "posted"]);
    // A file that is not JSON as a whole posts nothing at all.
    let d = a.replace("\"A\"", "\"D\"");
    let o = env.run(&["list", "post", &env.write("broken.json", &format!("[{d},"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("broken.json"));
    assert!(!env.posted("D"));
    // A missing file is an input error too.
    assert_eq!(env.run(&["list", "post", "/nonexistent/lists.json"]).status.code(), Some(2));
}

#[test]
fn a_change_may_extend_but_not_alter_used_versions() {
    let env = Env::new();
    env.run(&["book", "import", &env.write("book.json", BOOK)]);
    let imp = r#"{"list_no":"I1","book_no":"C1","declared_on":"2026-02-01","direction":"I","goods":"material","trade_mode":"0615","lines":[{"line":1,"item_seq":1,"qty":"500"}]}"#;
    let exp = r#"{"list_no":"E1","book_no":"C1","declared_on":"2026-04-01","direction":"E","goods":"product","trade_mode":"0615","lines":[{"line":1,"item_seq":1,"qty":"100"}]}"#;
    let o = env.run(&["list", "post", &env.write("l.json", &format!("[{imp},{exp}]"))]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Altering version 1, now used, is refused.
    book_refused(&env, "alter.json", &BOOK.replace("\"net\":\"0.9\"", "\"net\":\"0.8\""), &["change_used_version", "version 1"]);
    // Removing an item is refused.
    let no_product = BOOK
        .replace(r#"{"seq":1,"part_no":"P","hs_code":"3920109090","name":"薄膜","unit":"035","unit_price":"2.6","currency":"502"}"#, "")
        .replace(r#"{"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-03-01","net":"0.9","tangible_loss_rate":"0.1"}"#, "");
    book_refused(&env, "remove.json", &no_product, &["change_removes_item"]);
    // Extending validity and adding a version is a change (变更): revision 2.
    let changed = BOOK
        .replace("2026-12-31", "2027-06-30")
        .replace(r#""tangible_loss_rate":"0.1"}]"#, r#""tangible_loss_rate":"0.1"},{"product_seq":1,"material_seq":1,"version":"2","valid_from":"2026-09-01","unit_consumption":"0.95"}]"#);
    let o = env.run(&["book", "import", &env.write("change.json", &changed), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(stdout_json(&o)["revision"], 2);
    let bal = stdout_json(&env.run(&["balance", "C1", "--json"]));
    assert_eq!(bal["materials"][0]["balance"], "400");
}

#[test]
fn the_command_line_works_the_same_on_postgresql() {
    let Some(ex) = examples() else { return };
    let Ok(server) = std::env::var("JIAMAO_TEST_PG_URL") else {
        println!("skipping: JIAMAO_TEST_PG_URL not set");
        return;
    };
    let scratch = jiamao_store_postgres::scratch::ScratchDb::create(&server, "jiamao_cli").expect("scratch database");
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_jiamao")).args(["--db", &scratch.url]).args(args).output().expect("run jiamao");
    let e = |f: &str| ex.join(f).display().to_string();
    assert_eq!(run(&["book", "import", &e("book.json")]).status.code(), Some(0));
    assert_eq!(run(&["list", "post", &e("lists.json")]).status.code(), Some(0));
    assert_eq!(run(&["list", "post", &e("lists-bad.json")]).status.code(), Some(2));
    let rec = run(&["reconcile", "C52002600001", "--stocktake", &e("stocktake.json"), "--json"]);
    assert_eq!(rec.status.code(), Some(0), "{}", text(&rec));
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(ex.join("expected.json")).expect("read")).expect("json");
    assert_eq!(stdout_json(&rec), expected["reconcile"]);
    let verify = run(&["reconcile", "C52002600001", "--verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
}

/// `reconcile --full`: the default report's fields unchanged, plus the header and the extra 报核
/// fields, checked by hand on the example.
#[test]
fn full_reconcile_adds_the_header_and_extra_fields() {
    let Some(ex) = examples() else { return };
    let env = Env::new();
    let e = |f: &str| ex.join(f).display().to_string();
    assert_eq!(env.run(&["book", "import", &e("book.json")]).status.code(), Some(0));
    assert_eq!(env.run(&["list", "post", &e("lists.json"), "--json"]).status.code(), Some(0));
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(ex.join("expected.json")).expect("read")).expect("json");
    let o = env.run(&["reconcile", "C52002600001", "--full", "--stocktake", &e("stocktake.json"), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let full = stdout_json(&o);
    // Every default field is there with the same value.
    for (k, m) in expected["reconcile"]["materials"].as_array().expect("array").iter().enumerate() {
        for (name, v) in m.as_object().expect("object") {
            assert_eq!(&full["materials"][k][name], v, "material {k} field {name}");
        }
    }
    for (k, p) in expected["reconcile"]["products"].as_array().expect("array").iter().enumerate() {
        for (name, v) in p.as_object().expect("object") {
            assert_eq!(&full["products"][k][name], v, "product {k} field {name}");
        }
    }
    // Header: import lists are priced material inflows (0615 I …001, …003 and the 0654 carry-in
    // …013); export lists product exports and carry-outs (…002, …004, …007).
    let h = &full["header"];
    assert_eq!(h["from"], "2026-01-01");
    assert_eq!(h["to"], "2026-11-18");
    assert_eq!(h["import_lists"], 3);
    assert_eq!(h["export_lists"], 3);
    assert_eq!(h["import_amounts"]["502"], "185345"); // 103695 + 74750 + 6900
    assert_eq!(h["export_amounts"]["502"], "175000"); // 78000 + 32000 + 65000
    let dec = |v: &Value| v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).parse::<rust_decimal::Decimal>().expect("decimal");
    let m1 = &full["materials"][0];
    // Material 1: priced inflows 67500 + 56000 (imports) + 6900 (carry-in) over 95000.
    let price = rust_decimal::Decimal::from(130_400) / rust_decimal::Decimal::from(95_000);
    assert_eq!(dec(&m1["average_price"]), price.round_dp(5));
    assert_eq!(m1["should_remain_amount"], "67449.06");
    assert_eq!(dec(&m1["should_remain_amount"]), (dec(&m1["should_remain"]) * price).round_dp(2));
    assert_eq!(dec(&m1["consumed_amount"]), (dec(&m1["consumed"]) * price).round_dp(2));
    // The tangible loss is the accrued leftovers; the intangible one lies between 1/5 and 1/4 of
    // it (i/t is 0.005/0.025 in version 1 and 0.005/0.02 in version 2).
    assert_eq!(m1["tangible_loss"], m1["leftover_accrued"]);
    let (t, i) = (dec(&m1["tangible_loss"]), dec(&m1["intangible_loss"]));
    assert!(i >= t / rust_decimal::Decimal::from(5) && i <= t / rust_decimal::Decimal::from(4), "{m1}");
    assert_eq!(full["materials"][1]["intangible_loss"], "0");
    assert_eq!((&m1["increase"], &m1["decrease"]), (&Value::from("0"), &Value::from("0")));
    assert_eq!(full["products"][0]["exported_amount"], "143000");
    assert_eq!(full["products"][1]["carried_out_amount"], "32000");
    assert!(full["products"][1].get("exported_amount").is_none());
    // The default output keeps exactly the FORMAT.md fields.
    let plain = stdout_json(&env.run(&["reconcile", "C52002600001", "--stocktake", &e("stocktake.json"), "--json"]));
    assert_eq!(plain, expected["reconcile"]);
    // Human form.
    let human = env.run(&["reconcile", "C52002600001", "--full"]);
    assert_eq!(human.status.code(), Some(0), "{}", text(&human));
    assert!(text(&human).contains("import lists 3: 185345 (502)"), "{}", text(&human));

    // After a closed cycle with adjustments, the next cycle's report shows them (核增 / 核减).
    let env = Env::new();
    assert_eq!(env.run(&["book", "import", &e("book.json")]).status.code(), Some(0));
    assert_eq!(env.run(&["list", "post", &e("lists.json"), "--json"]).status.code(), Some(0));
    let adj = env.write("adj.json", r#"{"book_no":"C52002600001","adjustments":[{"seq":1,"kind":"increase","qty":"10","reason":"agreed"},{"seq":2,"kind":"decrease","qty":"2.5","reason":"agreed"}]}"#);
    let o = env.run(&["cycle", "close", "C52002600001", "--to", "2026-06-30", "--adjustments", &adj]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let next = stdout_json(&env.run(&["reconcile", "C52002600001", "--full", "--json"]));
    assert_eq!(next["header"]["from"], "2026-07-01");
    assert_eq!(next["header"]["import_lists"], 1);
    assert_eq!(next["header"]["export_lists"], 1);
    assert_eq!(next["materials"][0]["increase"], "10");
    assert_eq!(next["materials"][1]["decrease"], "2.5");
    // A range inside the cycle does not start right after the closure: no adjustments.
    let mid = stdout_json(&env.run(&["reconcile", "C52002600001", "--full", "--from", "2026-08-01", "--to", "2026-09-30", "--json"]));
    assert_eq!(mid["header"]["from"], "2026-08-01");
    assert_eq!(mid["materials"][0]["increase"], "0");
}
