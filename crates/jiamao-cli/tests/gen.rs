#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `jiamao gen`: the synthetic enterprise imports and posts without a single rejection, has every
//! list kind of a 进料 E-book, exactly the lines asked for, and is the same for the same seed.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LINES: u64 = 20_000;
const MATERIALS: usize = 300;
const PRODUCTS: usize = 60;
const BOOK_NO: &str = "E52002600001";

fn jiamao(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jiamao")).arg("--db").arg(db).args(args).output().expect("run jiamao")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn generate(root: &Path, name: &str, seed: u64) -> PathBuf {
    let out = root.join(name);
    let o = Command::new(env!("CARGO_BIN_EXE_jiamao"))
        .args(["gen", "--out"])
        .arg(&out)
        .args(["--lines", &LINES.to_string(), "--materials", &MATERIALS.to_string(), "--products", &PRODUCTS.to_string(), "--seed", &seed.to_string()])
        .output()
        .expect("run jiamao gen");
    assert!(o.status.success(), "jiamao gen failed: {}", text(&o));
    out
}

/// The files of a generated folder, by name.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir).expect("read dir").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn list_files(dir: &Path) -> Vec<PathBuf> {
    files(dir).into_iter().filter(|n| n.starts_with("lists-") && n.ends_with(".json")).map(|n| dir.join(n)).collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

#[test]
fn generated_enterprise_posts_without_rejection_and_is_deterministic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = generate(tmp.path(), "a", 7);
    let b = generate(tmp.path(), "b", 7);

    // Same seed, byte-identical files.
    let names = files(&a);
    assert_eq!(names, files(&b));
    assert!(names.contains(&"book.json".to_owned()) && names.contains(&"stocktake.json".to_owned()), "{names:?}");
    for n in &names {
        assert!(std::fs::read(a.join(n)).expect("read") == std::fs::read(b.join(n)).expect("read"), "{n} differs between two runs with the same seed");
    }
    // Another seed, another enterprise.
    let c = generate(tmp.path(), "c", 8);
    assert!(std::fs::read(a.join("lists-001.json")).expect("read") != std::fs::read(c.join("lists-001.json")).expect("read"));

    // The book: 3 versions × 40 materials on average per product.
    let book = read_json(&a.join("book.json"));
    assert_eq!(book["book_no"], BOOK_NO);
    assert_eq!(book["materials"].as_array().map(Vec::len), Some(MATERIALS));
    assert_eq!(book["products"].as_array().map(Vec::len), Some(PRODUCTS));
    let consumption = book["consumption"].as_array().expect("consumption");
    assert_eq!(consumption.len(), PRODUCTS * 3 * 40);
    assert!(consumption.iter().any(|c| c.get("unit_consumption").is_some()), "some 单耗 declared directly");
    assert!(consumption.iter().any(|c| c.get("net").is_some() && c.get("intangible_loss_rate").is_some()), "some 单耗 from net and both loss rates");
    assert!(consumption.iter().any(|c| c.get("bonded_share").is_some()), "some bonded shares below 1");

    // Every list kind of a 进料 E-book, exactly LINES lines, dates non-decreasing.
    let mut kinds = BTreeSet::new();
    let mut lines = 0u64;
    let mut last_date = String::new();
    let lists = list_files(&a);
    assert!(!lists.is_empty());
    for f in &lists {
        for l in read_json(f).as_array().expect("an array of lists") {
            let date = l["declared_on"].as_str().expect("date").to_owned();
            assert!(date >= last_date, "{} is dated {date}, before {last_date}", l["list_no"]);
            last_date = date;
            let n = l["lines"].as_array().expect("lines").len() as u64;
            assert!((1..=100).contains(&n));
            lines += n;
            kinds.insert(format!("{} {} {}", l["trade_mode"].as_str().unwrap(), l["direction"].as_str().unwrap(), l["goods"].as_str().unwrap()));
            if matches!(l["trade_mode"].as_str(), Some("0654" | "0657")) {
                assert!(l["counterparty_book_no"].is_string(), "a carry-over names the other book");
            }
        }
    }
    assert_eq!(lines, LINES);
    let expected: BTreeSet<String> = [
        "0615 I material",
        "0715 I material",
        "0654 I material",
        "0654 E product",
        "0657 I material",
        "0657 E material",
        "0644 E material",
        "0644 E product",
        "0644 E defective",
        "0664 E material",
        "0700 E material",
        "0700 I material",
        "0615 E product",
        "4600 I product",
        "4600 E product",
        "0844 E material",
        "0864 E material",
        "0200 E material",
        "0200 E defective",
        "0400 E material",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(kinds, expected);

    // Imported and posted in order into a fresh database: nothing is refused.
    let db = tmp.path().join("jiamao.db");
    let o = jiamao(&db, &["book", "import", a.join("book.json").to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let mut posted = 0;
    for f in &lists {
        let o = jiamao(&db, &["list", "post", f.to_str().unwrap(), "--json"]);
        assert!(o.status.success(), "{}: {}", f.display(), text(&o));
        let outcomes: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
        for r in outcomes.as_array().expect("outcomes") {
            assert_eq!(r["status"], "posted", "{}: {r}", f.display());
            posted += 1;
        }
    }
    assert!(posted > 0);
    let o = jiamao(&db, &["reconcile", BOOK_NO, "--verify"]);
    assert!(o.status.success(), "{}", text(&o));

    // The stocktake reads, counts every material with something left, and mostly matches.
    let st = a.join("stocktake.json");
    let o = jiamao(&db, &["reconcile", BOOK_NO, "--stocktake", st.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let report: Value = serde_json::from_slice(&o.stdout).expect("report");
    let materials = report["materials"].as_array().expect("materials");
    assert_eq!(materials.len(), MATERIALS);
    let exact = materials.iter().filter(|m| m["difference"] == "0").count();
    assert!(exact * 10 >= MATERIALS * 7, "only {exact} of {MATERIALS} materials count exactly");
    assert!(exact < MATERIALS, "some materials show a small difference");
    assert!(materials.iter().all(|m| m["should_remain"].as_str().is_some_and(|s| !s.starts_with('-'))));
}
