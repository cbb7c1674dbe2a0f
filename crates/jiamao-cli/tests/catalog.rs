#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `jiamao catalog …` end to end on a SQLite file: preview and load with the impact, posting refused
//! the day before an entry's end and accepted the day after, `catalog check` in the FORMAT.md shape
//! (time travel), a bad file refused with every problem, diff and list, filing refused, the audit
//! chain intact.
//!
//! The book is the interchange example moved to 2020 with material 3 given the HS code 2836200000
//! (sodium carbonate; removed from the prohibited catalog from 2020-12-01, RULES.md §13.2); the catalog
//! entries are written for the test.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn examples() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interchange/examples");
    if p.join("book.json").exists() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/interchange/examples not found (the example book is needed)");
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
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
    fn json(&self, args: &[&str]) -> Value {
        let o = self.run(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
    }
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

const CATALOG: &str = "\
hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement
2836200000,prohibited,both,,,2015-01-01,2020-11-30,商务部 海关总署公告2014年第90号
2207100000,prohibited,import,,医用物资除外,2020-12-01,,商务部 海关总署公告2020年第54号
";

fn import(list_no: &str, date: &str) -> String {
    format!(r#"[{{"list_no":"{list_no}","book_no":"C52002000001","declared_on":"{date}","direction":"I","goods":"material","trade_mode":"0615","lines":[{{"line":1,"item_seq":3,"qty":"100"}}]}}]"#)
}

#[test]
fn catalog_load_check_and_posting_end_to_end() {
    let Some(ex) = examples() else { return };
    let env = Env::new();
    let book = std::fs::read_to_string(ex.join("book.json")).unwrap().replace("2026-", "2020-").replace("C52002600001", "C52002000001").replace("3206499000", "2836200000");
    let b = env.write("book.json", &book);
    assert!(env.run(&["book", "import", &b]).status.success());
    let c = env.write("catalog.csv", CATALOG);

    // Without --yes: the impact, and nothing loaded (exit 0).
    let o = env.run(&["catalog", "load", &c, "--version", "test-2020", "--as-of", "2020-01-01"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("book C52002000001") && out.contains("material 3") && out.contains("newly PROHIBITED") && out.contains("nothing was loaded"), "{out}");
    assert_eq!(env.json(&["catalog", "list", "--json"]), serde_json::json!([]));
    let preview = env.json(&["catalog", "load", &c, "--version", "test-2020", "--as-of", "2020-01-01", "--json"]);
    assert_eq!(preview["status"], "preview");

    // With --yes it loads; the impact names the book and the item.
    let r = env.json(&["catalog", "load", &c, "--version", "test-2020", "--as-of", "2020-01-01", "--yes", "--json"]);
    assert_eq!(r["status"], "loaded");
    assert_eq!(r["impact"]["books"], serde_json::json!(["C52002000001"]));
    let item = &r["impact"]["items"][0];
    assert_eq!((item["item_seq"].as_u64(), item["goods"].as_str(), item["change"].as_str()), (Some(3), Some("material"), Some("newly_prohibited")));
    assert_eq!((item["from"].as_str(), item["until"].as_str()), (Some("2020-01-01"), Some("2020-11-30")));
    // The same file again is a no-op.
    assert_eq!(env.json(&["catalog", "load", &c, "--version", "test-2020", "--yes", "--json"])["status"], "unchanged");

    // The acceptance: refused the day before the end date, accepted the day after.
    let before = env.write("before.json", &import("Q1", "2020-11-29"));
    let o = env.run(&["list", "post", &before, "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["status"], "rejected");
    assert_eq!(v[0]["error"]["rule"], "catalog_prohibited");
    assert_eq!(v[0]["error"]["line"], 1);
    let after = env.write("after.json", &import("Q2", "2020-12-01"));
    assert_eq!(env.json(&["list", "post", &after, "--json"])[0]["status"], "posted");

    // catalog check: the FORMAT.md shape, and time travel.
    let then = env.json(&["catalog", "check", "2836200000", "--date", "2020-11-30", "--json"]);
    assert_eq!(
        then,
        serde_json::json!({"hs_code": "2836200000", "date": "2020-11-30", "entries": [{"hs_code": "2836200000", "catalog": "prohibited", "direction": "both", "mode": null,
            "note": "", "valid_from": "2015-01-01", "valid_until": "2020-11-30", "announcement": "商务部 海关总署公告2014年第90号"}]})
    );
    assert_eq!(env.json(&["catalog", "check", "2836200000", "--date", "2020-12-01", "--json"]), serde_json::json!({"hs_code": "2836200000", "date": "2020-12-01", "entries": []}));
    assert_eq!(env.run(&["catalog", "check", "283620", "--date", "2020-12-01", "--json"]).status.code(), Some(2));

    // A bad file: refused whole, every problem listed, exit 2.
    let bad = env.write("bad.csv", &format!("{CATALOG}28362000,prohibited,both,,,2015-01-01,,a\n2836200000,prohibited,both,,,2016-01-01,,a\n2836300000,banned,both,,,2015-01-01,,a\n"));
    let o = env.run(&["catalog", "load", &bad, "--version", "bad", "--yes", "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["rule"], "catalog_invalid");
    assert_eq!(v["error"]["problems"].as_array().unwrap().len(), 3, "{v}");

    // A second version, the diff and the list.
    let c2 = env.write("catalog2.csv", &CATALOG.replace("2020-11-30", "2020-12-31"));
    let r2 = env.json(&["catalog", "load", &c2, "--version", "test-2021", "--as-of", "2020-01-01", "--yes", "--json"]);
    assert_eq!(r2["impact"]["previous"], "test-2020");
    let d = env.json(&["catalog", "diff", "test-2020", "test-2021", "--json"]);
    assert_eq!(d["changed"].as_array().unwrap().len(), 1);
    assert_eq!(d["changed"][0]["hs_code"], "2836200000");
    assert_eq!(d["changed"][0]["after"][0]["valid_until"], "2020-12-31");
    let list = env.json(&["catalog", "list", "--json"]);
    assert_eq!(list[1]["name"], "test-2021");
    assert_eq!(list[1]["in_force"], true);
    // Under the version in force, December is prohibited too.
    let dec = env.write("dec.json", &import("Q3", "2020-12-15"));
    assert_eq!(env.run(&["list", "post", &dec]).status.code(), Some(2));

    // Filing a book with the prohibited item on its first day is refused.
    let other = env.write("other.json", &book.replace("C52002000001", "C52002000009"));
    let o = env.run(&["book", "import", &other, "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["rule"], "catalog_prohibited");
    assert!(v["error"]["message"].as_str().unwrap().contains("商务部 海关总署公告2014年第90号"));

    // Settings and approvals are readable; the audit chain holds.
    assert_eq!(env.json(&["catalog", "settings", "--json"])["default"]["transition"], true);
    assert!(env.json(&["catalog", "approvals", "--json"])["rules"].as_array().unwrap().iter().any(|r| r["hs_prefix"] == "2603"));
    let o = env.run(&["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
}
