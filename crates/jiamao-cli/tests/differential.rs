#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A differential test of the 报核 report: an independent, deliberately plain implementation of the
//! balance equation (FORMAT.md), written here from the documents alone — its own 单耗 derivation,
//! its own trade-mode table, its own version lookup, one line at a time with exact decimals —
//! against `jiamao reconcile --json` on a generated enterprise that uses every list kind.

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;
use std::str::FromStr;

fn d(v: &Value) -> Decimal {
    match v {
        Value::String(s) => Decimal::from_str(s).unwrap(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).unwrap(),
        other => panic!("not a decimal: {other}"),
    }
}

fn r5(x: Decimal) -> String {
    let r = x.round_dp_with_strategy(5, RoundingStrategy::MidpointAwayFromZero).normalize();
    if r.is_zero() {
        "0".into()
    } else {
        r.to_string()
    }
}

#[derive(Default, Clone)]
struct M {
    f: BTreeMap<&'static str, Decimal>,
    /// Leftover bases per loss rate (t + i): Σ q·share·(uc − net)·t, divided by t + i at the end.
    left: BTreeMap<Decimal, Decimal>,
}

fn add(m: &mut M, figure: &'static str, q: Decimal) {
    *m.f.entry(figure).or_default() += q;
}

/// What a (mode, direction, goods) does: the material figure, and the product figure if any.
fn effect(mode: &str, dir: &str, goods: &str) -> (&'static str, Option<&'static str>, Decimal) {
    let one = Decimal::ONE;
    match (mode, dir, goods) {
        ("0615" | "0214" | "0715", "I", "material") => ("imported", None, one),
        ("0654" | "0255", "I", "material") => ("carried_in", None, one),
        ("0657" | "0258", "I", "material") => ("surplus_in", None, one),
        ("0657" | "0258", "E", "material") => ("surplus_out", None, one),
        ("0700" | "0300", "I", "material") => ("replaced_in", None, one),
        ("0700" | "0300", "E", "material") => ("replaced_out", None, one),
        ("0644" | "0245" | "0544" | "0545", "E", "material") => ("domestic_sold", None, one),
        ("0664" | "0265", "E", "material") => ("re_exported", None, one),
        ("0844" | "0845" | "0864" | "0865" | "0400", "E", "material") => ("leftover_disposed", None, one),
        ("0200", "E", "material") => ("destroyed", None, one),
        ("0615" | "0214", "E", "product") => ("consumed", Some("exported"), one),
        ("0654" | "0255", "E", "product") => ("consumed", Some("carried_out"), one),
        ("0644" | "0245" | "0544" | "0545" | "0444" | "0445", "E", "product" | "defective") => ("domestic_sold", Some("domestic_sold"), one),
        ("4600" | "4400", "I", "product") => ("consumed", Some("returned"), -one),
        ("4600" | "4400", "E", "product") => ("consumed", Some("reexported"), one),
        ("0200", "E", "defective") => ("destroyed", Some("destroyed"), one),
        other => panic!("unexpected list kind {other:?}"),
    }
}

#[test]
fn reconcile_equals_an_independent_implementation_on_generated_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gen");
    let db = dir.path().join("j.db");
    let jiamao = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_jiamao")).arg("--db").arg(&db).args(args).output().unwrap();
    let g = Command::new(env!("CARGO_BIN_EXE_jiamao")).args(["gen", "--out"]).arg(&out).args(["--lines", "30000", "--materials", "200", "--products", "40", "--seed", "7"]).output().unwrap();
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    let book: Value = serde_json::from_str(&std::fs::read_to_string(out.join("book.json")).unwrap()).unwrap();
    let book_no = book["book_no"].as_str().unwrap().to_owned();
    assert!(jiamao(&["book", "import", out.join("book.json").to_str().unwrap()]).status.success());
    let mut files: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("lists")).collect();
    files.sort();

    // The independent model.
    let mut mats: BTreeMap<u64, M> = BTreeMap::new();
    for m in book["materials"].as_array().unwrap() {
        let mut x = M::default();
        x.f.insert("opening", m.get("opening_qty").map(d).unwrap_or_default());
        mats.insert(m["seq"].as_u64().unwrap(), x);
    }
    let mut prods: BTreeMap<u64, BTreeMap<&'static str, Decimal>> = book["products"].as_array().unwrap().iter().map(|p| (p["seq"].as_u64().unwrap(), BTreeMap::new())).collect();
    // (product, version) → [(material, uc, share, net, t, i)], and each product's versions by date.
    type Line = (u64, Decimal, Decimal, Option<Decimal>, Decimal, Decimal);
    let mut bom: BTreeMap<(u64, String), Vec<Line>> = BTreeMap::new();
    let mut dates: BTreeMap<u64, BTreeMap<String, String>> = BTreeMap::new();
    for c in book["consumption"].as_array().unwrap() {
        let p = c["product_seq"].as_u64().unwrap();
        let v = c["version"].as_str().unwrap().to_owned();
        dates.entry(p).or_default().insert(c["valid_from"].as_str().unwrap().to_owned(), v.clone());
        let share = c.get("bonded_share").map(d).unwrap_or(Decimal::ONE);
        let (uc, net, t, i) = match c.get("unit_consumption") {
            Some(u) => (d(u), None, Decimal::ZERO, Decimal::ZERO),
            None => {
                let net = d(&c["net"]);
                let t = c.get("tangible_loss_rate").map(d).unwrap_or_default();
                let i = c.get("intangible_loss_rate").map(d).unwrap_or_default();
                ((net / (Decimal::ONE - t - i)).round_dp_with_strategy(9, RoundingStrategy::MidpointAwayFromZero), Some(net), t, i)
            }
        };
        bom.entry((p, v)).or_default().push((c["material_seq"].as_u64().unwrap(), uc, share, net, t, i));
    }
    for f in &files {
        let o = jiamao(&["list", "post", f.to_str().unwrap(), "--json"]);
        let outcomes: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(outcomes.as_array().unwrap().iter().all(|x| x["status"] == "posted"), "{}", f.display());
        let lists: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        for l in lists.as_array().unwrap() {
            let (mode, dir, goods) = (l["trade_mode"].as_str().unwrap(), l["direction"].as_str().unwrap(), l["goods"].as_str().unwrap());
            let date = l["declared_on"].as_str().unwrap();
            let (figure, pfig, sign) = effect(mode, dir, goods);
            for line in l["lines"].as_array().unwrap() {
                let seq = line["item_seq"].as_u64().unwrap();
                let q = d(&line["qty"]);
                match pfig {
                    None => {
                        let m = mats.get_mut(&seq).unwrap();
                        add(m, figure, q);
                        if matches!(figure, "imported" | "carried_in" | "surplus_in") {
                            if let Some(a) = line.get("amount") {
                                add(m, "priced_qty", q);
                                add(m, "priced_amount", d(a));
                            }
                        }
                    }
                    Some(pf) => {
                        *prods.get_mut(&seq).unwrap().entry(pf).or_default() += q;
                        let version = match line.get("consumption_version") {
                            Some(v) => v.as_str().unwrap().to_owned(),
                            None => dates[&seq].range(..=date.to_owned()).next_back().map(|(_, v)| v.clone()).unwrap(),
                        };
                        for (mseq, uc, share, net, t, i) in &bom[&(seq, version)] {
                            let m = mats.get_mut(mseq).unwrap();
                            add(m, figure, sign * q * uc * share);
                            if let Some(net) = net {
                                if !t.is_zero() {
                                    *m.left.entry(*t + *i).or_default() += sign * q * share * (*uc - *net) * *t;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let got: Value = serde_json::from_slice(&jiamao(&["reconcile", &book_no, "--json"]).stdout).unwrap();
    let get = |m: &M, k: &str| m.f.get(k).copied().unwrap_or_default();
    for (k, (seq, m)) in mats.iter().enumerate() {
        let r = &got["materials"][k];
        assert_eq!(r["seq"].as_u64(), Some(*seq));
        let should = get(m, "opening") + get(m, "imported") + get(m, "carried_in") + get(m, "surplus_in") + get(m, "replaced_in")
            - get(m, "consumed")
            - get(m, "domestic_sold")
            - get(m, "re_exported")
            - get(m, "replaced_out")
            - get(m, "surplus_out")
            - get(m, "destroyed");
        let accrued: Decimal = m.left.iter().map(|(loss, base)| *base / *loss).sum();
        for (field, value) in [
            ("opening", get(m, "opening")),
            ("imported", get(m, "imported")),
            ("carried_in", get(m, "carried_in")),
            ("surplus_in", get(m, "surplus_in")),
            ("replaced_in", get(m, "replaced_in")),
            ("consumed", get(m, "consumed")),
            ("domestic_sold", get(m, "domestic_sold")),
            ("re_exported", get(m, "re_exported")),
            ("replaced_out", get(m, "replaced_out")),
            ("surplus_out", get(m, "surplus_out")),
            ("destroyed", get(m, "destroyed")),
            ("leftover_accrued", accrued),
            ("leftover_disposed", get(m, "leftover_disposed")),
            ("should_remain", should),
        ] {
            assert_eq!(r[field].as_str(), Some(r5(value).as_str()), "material {seq} {field}");
        }
    }
    for (k, (seq, p)) in prods.iter().enumerate() {
        for field in ["exported", "carried_out", "domestic_sold", "returned", "reexported", "destroyed"] {
            assert_eq!(got["products"][k][field].as_str(), Some(r5(p.get(field).copied().unwrap_or_default()).as_str()), "product {seq} {field}");
        }
    }
}
