#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Domestic-sale taxation on the command line: `jiamao tariff|rates|tax …` as a user runs them, on
//! a SQLite file.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn examples() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interchange/examples");
    if p.join("lists.json").exists() {
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
        Env { dir: tempfile::tempdir().unwrap() }
    }
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_jiamao")).arg("--db").arg(self.dir.path().join("jiamao.db")).args(args).output().unwrap()
    }
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
    fn json(&self, args: &[&str]) -> Value {
        let o = self.run(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
    }
    /// The example book and lists, a tariff for the test (rates written for it, not official) in the
    /// layout of the national tariff files, and USD rates.
    fn example(&self) -> Option<()> {
        let ex = examples()?;
        for (cmd, f) in [("book", "book.json"), ("list", "lists.json")] {
            let sub = if cmd == "book" { "import" } else { "post" };
            let o = self.run(&[cmd, sub, ex.join(f).to_str().unwrap()]);
            assert!(o.status.success(), "{}", text(&o));
        }
        let line = |code: &str, mfn: &str, prov: &str| json!({"code": code, "name": format!("line {code}"), "t1": mfn, "t2": prov, "t3": "30%", "t4": "<韩国>2.6</韩国>", "t5": "0%", "t6": "13%", "u": "千克"});
        let lines = json!([
            line("3901100090", "6.5%", ""),
            line("3901402090", "6.5%", "5%"),
            line("3206499000", "6.5%", ""),
            line("3215190090", "6.5%", ""),
            line("4822900000", "5%", ""),
            line("3920109090", "6.5%", ""),
            line("3923210000", "6.5%", "")
        ]);
        self.write("tariff/tariff/p1.json", &lines.to_string());
        self.write("tariff/version.json", r#"{"version": "test", "updated": "2026-03-01"}"#);
        let o = self.run(&["tariff", "load", &self.path("tariff"), "--json"]);
        assert!(o.status.success(), "{}", text(&o));
        let r = self.write("rates.csv", "kind,key,rate,valid_from\nexchange,502,7.0500,2026-01-01\nexchange,502,7.1000,2026-05-01\nexchange,502,7.2000,2026-07-01\n");
        let o = self.run(&["rates", "load", &r]);
        assert!(o.status.success(), "{}", text(&o));
        Some(())
    }
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn quote_of_the_examples_product_sale() {
    let env = Env::new();
    if env.example().is_none() {
        return;
    }
    let req = env.write("q.json", r#"{"book_no": "C52002600001", "list_no": "QD520026000000006", "payment_note_date": "2026-06-20"}"#);
    let q = env.json(&["tax", "quote", &req, "--json"]);
    // The hand computation of crates/jiamao-domain/tests/tax.rs (product_sale_equals_the_hand_computation).
    assert_eq!(q["totals"], json!({"customs_value": "19744.02", "duty": "1202.74", "consumption_tax": "0", "vat": "2723.08", "interest": "6.14", "total": "3931.96"}));
    assert_eq!(q["lines"][0]["valuation"]["priced_amount"], "123500");
    assert_eq!(q["interest"]["days"], 161);
    // Human-readable output names each material and the total.
    let o = env.run(&["tax", "quote", &req]);
    assert!(o.status.success());
    let t = text(&o);
    assert!(t.contains("material 料件 1 (from products 成品折料)") && t.contains("total 3931.96"), "{t}");
    // A day count counting both ends (policy setting): 162 days.
    let q = env.json(&["tax", "quote", &req, "--json", "--day-count", "both_ends"]);
    assert_eq!(q["interest"]["days"], 162);
}

#[test]
fn loading_is_idempotent_and_bad_files_are_refused_whole() {
    let env = Env::new();
    if env.example().is_none() {
        return;
    }
    let again = env.json(&["tariff", "load", &env.path("tariff"), "--json"]);
    assert_eq!(again["status"], "unchanged");
    assert_eq!(again["name"], "test (2026)");
    assert_eq!(again["valid_from"], "2026-01-01");
    let again = env.json(&["rates", "load", &env.path("rates.csv"), "--json"]);
    assert_eq!(again["status"], "unchanged");
    // A rates file with two problems: both listed, nothing loaded.
    let bad = env.write("bad.csv", "kind,key,rate,valid_from\nexchange,502,7.3,2026-08-01\nexchange,ABC,7,2026-01-01\nlate_surcharge,,x,2026-01-01\n");
    let o = env.run(&["rates", "load", &bad, "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["problems"].as_array().unwrap().len(), 2, "{v}");
    let rates = env.json(&["rates", "list", "--json"]);
    assert!(!rates.as_array().unwrap().iter().any(|r| r["rate"] == "7.3"), "nothing of a bad file is loaded");
    // A tariff with a malformed code and a code twice.
    env.write("badtariff/p1.json", r#"[{"code": "39011000", "t1": "6.5%"}, {"code": "3901100090", "t1": "6.5%"}, {"code": "3901100090", "t1": "5%"}]"#);
    let o = env.run(&["tariff", "load", &env.path("badtariff"), "--from", "2027-01-01", "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["problems"].as_array().unwrap().len(), 2, "{v}");
    // A tariff directory without version.json needs --from.
    let o = env.run(&["tariff", "load", &env.path("badtariff")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--from"));
}

#[test]
fn bad_quotes_say_what_is_missing() {
    let env = Env::new();
    if env.example().is_none() {
        return;
    }
    let run = |body: &str| {
        let req = env.write("bad.json", body);
        let o = env.run(&["tax", "quote", &req, "--json"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        (v["error"]["rule"].as_str().unwrap().to_owned(), v["error"]["message"].as_str().unwrap().to_owned())
    };
    // Before any tariff (the test tariff applies from 2026-01-01).
    let (rule, msg) = run(r#"{"book_no": "C52002600001", "items": [{"goods": "material", "item_seq": 3, "qty": "1"}], "tax_date": "2025-12-31", "payment_note_date": "2026-01-20"}"#);
    assert_eq!(rule, "tariff_missing");
    assert!(msg.contains("2025-12-31") && msg.contains("2026-01-01"), "{msg}");
    // A currency without a rate.
    let (rule, msg) = run(
        r#"{"book_no": "C52002600001", "items": [{"goods": "material", "item_seq": 3, "qty": "1"}], "tax_date": "2026-06-01", "payment_note_date": "2026-06-20", "prices": [{"goods": "material", "item_seq": 3, "unit_price": "2", "currency": "303"}]}"#,
    );
    assert_eq!(rule, "rate_missing");
    assert!(msg.contains("currency 303"), "{msg}");
    // An unknown book, an unknown field.
    let (rule, _) = run(r#"{"book_no": "C99", "list_no": "QD1", "payment_note_date": "2026-06-20"}"#);
    assert_eq!(rule, "unknown_book");
    let (rule, msg) = run(r#"{"book_no": "C52002600001", "list_no": "QD520026000000006", "payment_date": "2026-06-20"}"#);
    assert_eq!(rule, "request_invalid");
    assert!(msg.contains("payment_date"), "{msg}");
}

#[test]
fn monthly_periods_payments_and_surcharge() {
    let env = Env::new();
    if env.example().is_none() {
        return;
    }
    let r = env.json(&["tax", "schedule", "C52002600001", "monthly", "--from", "2026-01-01", "--json"]);
    assert_eq!(r["status"], "recorded");
    // List 005 (2026-05-08): duty 290.75 + VAT 619.29 (at 7.1), interest from 2026-01-10 to the due
    // date 2026-06-15, 156 days: 910.04 × 156 × 0.0035 / 360 = 1.38; due 911.42.
    let pay = |note: &str, amount: &str, on: &str| env.run(&["tax", "pay", "C52002600001", "--note", note, "--period", "2026-05", "--amount", amount, "--paid-on", on, "--json"]);
    let o = pay("N1", "911.42", "2026-06-20");
    assert!(o.status.success(), "{}", text(&o));
    let o = pay("N1", "911.42", "2026-06-20");
    assert_eq!(serde_json::from_slice::<Value>(&o.stdout).unwrap()["status"], "duplicate");
    let o = pay("N1", "900", "2026-06-20");
    assert_eq!(o.status.code(), Some(2), "the same note with another amount is refused");
    let p = env.json(&["tax", "periods", "C52002600001", "--as-of", "2026-12-31", "--json"]);
    let periods = p["periods"].as_array().unwrap();
    let labels: Vec<&str> = periods.iter().map(|x| x["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["2026-05", "2026-06", "2026-08"]);
    let may = &periods[0];
    assert_eq!((may["due"].as_str(), may["tax_due"].as_str(), may["outstanding"].as_str()), (Some("2026-06-15"), Some("911.42"), Some("0")));
    // Paid 5 days late: 911.42 × 0.05 % × 5 = 2.28.
    assert_eq!(may["payments"][0]["late_days"], 5);
    assert_eq!(may["surcharge"], "2.28");
    assert_eq!(periods[1]["due"], "2026-07-15");
    assert_eq!(periods[1]["late"], true, "June's tax is unpaid at the end of the year");
    // Leftover sale (0844): no interest in its period.
    assert_eq!(periods[2]["lists"][0]["totals"]["interest"], "0");
    // Quarterly from July: August's sale falls in 2026Q3, due 15 October.
    assert!(env.run(&["tax", "schedule", "C52002600001", "quarterly", "--from", "2026-07-01"]).status.success());
    let p = env.json(&["tax", "periods", "C52002600001", "--as-of", "2026-12-31", "--json"]);
    let q3 = p["periods"].as_array().unwrap().iter().find(|x| x["label"] == "2026Q3").unwrap().clone();
    assert_eq!(q3["due"], "2026-10-15");
}

#[test]
fn the_national_tariff_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cn-tariff-2026/v2.0.0");
    if !dir.join("tariff").is_dir() {
        eprintln!("skipping: ../shared/data/cn-tariff-2026 not found");
        return;
    }
    let env = Env::new();
    let r = env.json(&["tariff", "load", dir.to_str().unwrap(), "--json"]);
    assert_eq!((r["entries"].as_u64(), r["status"].as_str(), r["valid_from"].as_str()), (Some(12030), Some("loaded"), Some("2026-01-01")));
    let s = env.json(&["tariff", "show", "3901100090", "--date", "2026-06-01", "--json"]);
    assert_eq!(s["duty_rate"], "0.065");
    assert_eq!(s["vat_rate"], "0.13");
    // With a Korean certificate of origin the agreement rate, when lower, applies.
    let k = env.json(&["tariff", "show", "3901100090", "--date", "2026-06-01", "--origin", "133", "--json"]);
    assert!(k["duty_rate_source"].as_str().unwrap().ends_with("agreement:韩国"), "{k}");
    // A line whose rates the tariff states only under a quota: a clear refusal, not a zero.
    let o = env.run(&["tariff", "show", "5201000080", "--date", "2026-06-01", "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let o = env.run(&["tariff", "show", "0101210010", "--date", "2025-06-01", "--json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("tariff_missing"));
}
