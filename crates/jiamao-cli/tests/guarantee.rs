#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Credit classes and guarantees on the command line: RULES.md §17 C on a real book (a restricted
//! 实转 material worth CNY 1,000,000, duty 10 %, VAT 13 %), time travel over the credit history, the
//! shortfall alert, and a refund with interest.

use serde_json::{json, Value};
use std::process::{Command, Output};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_jiamao")).arg("--db").arg(self.dir.path().join("jiamao.db")).args(args).output().unwrap()
    }
    fn ok(&self, args: &[&str]) -> Output {
        let o = self.run(args);
        assert!(o.status.success(), "{args:?}: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        o
    }
    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_slice(&self.ok(args).stdout).unwrap()
    }
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

const E: &str = "91441900698123458E";

fn setup() -> Env {
    let env = Env { dir: tempfile::tempdir().unwrap() };
    let party = json!({"uscc": E, "customs_code": "4419960123", "name": "东莞测试企业", "region_code": "441900"});
    let book = json!({
        "book_no": "E52002600009", "book_type": "E", "trade_mode": "0615", "operator": party, "master_customs": "5200",
        "valid_from": "2026-01-01", "valid_until": "2026-12-31",
        "materials": [
            {"seq": 1, "part_no": "CU-1", "hs_code": "7403111100", "name": "精炼铜阴极", "unit": "035", "unit_price": "100", "currency": "142", "authorized_qty": "10000"},
            {"seq": 2, "part_no": "PE-1", "hs_code": "3901100090", "name": "聚乙烯", "unit": "035", "unit_price": "10", "currency": "142"}
        ],
        "products": [{"seq": 1, "part_no": "W-1", "hs_code": "8544422100", "name": "电线", "unit": "035", "unit_price": "200", "currency": "142"}],
        "consumption": [
            {"product_seq": 1, "material_seq": 1, "version": "1", "valid_from": "2026-01-01", "unit_consumption": "0.5"},
            {"product_seq": 1, "material_seq": 2, "version": "1", "valid_from": "2026-01-01", "unit_consumption": "0.2"}
        ]
    });
    let b = env.write("book.json", &book.to_string());
    env.ok(&["book", "import", &b]);
    // A tariff for the test: duty 10 %, VAT 13 %.
    let line = |code: &str| json!({"code": code, "name": code, "t1": "10%", "t2": "", "t3": "30%", "t4": "", "t5": "0%", "t6": "13%", "u": "千克"});
    env.write("tariff/p1.json", &json!([line("7403111100"), line("3901100090"), line("8544422100")]).to_string());
    env.ok(&["tariff", "load", &env.dir.path().join("tariff").display().to_string(), "--from", "2026-01-01"]);
    // The restricted catalog: copper cathodes restricted for import, managed 实转 (an entry written for the test).
    let cat = env.write("restricted.csv", "hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement\n7403111100,restricted,import,实转,,2015-12-01,,test entry (2015年第63号 style)\n");
    env.ok(&["catalog", "load", &cat, "--version", "test-restricted", "--yes"]);
    env
}

#[test]
fn example_c_on_a_book_with_history_alert_and_refund() {
    let env = setup();
    // No class recorded: 一般信用 by default (said so), east → 50 % of 243,000.
    let g = env.json(&["guarantee", "E52002600009", "--as-of", "2026-06-01", "--json"]);
    assert_eq!(g["required"]["amount"], "121500", "{g}");
    assert_eq!(g["credit"]["defaulted"], true);
    assert_eq!(g["required"]["lines"][0]["base"], "243000");
    assert_eq!(g["holding"], "customs_guarantee");
    assert_eq!(g["letter_valid_until"], "2027-03-21");
    assert_eq!((g["shortfall"].as_str(), g["alert"].as_bool()), (Some("121500"), Some(true)));
    // A catalog version that no longer restricts copper cathodes: the preview names the guarantee
    // that changes (121,500 → 0) before anything is loaded.
    let lifted = env.write("lifted.csv", "hs_code,catalog,direction,mode,note,valid_from,valid_until,announcement\n3901100090,restricted,export,,,2015-12-01,,test entry\n");
    let p = env.json(&["catalog", "load", &lifted, "--version", "test-lifted", "--as-of", "2026-06-01", "--json"]);
    let change = p["impact"]["guarantees"].as_array().unwrap().iter().find(|c| c["book_no"] == "E52002600009").cloned().unwrap_or_else(|| panic!("{p}"));
    assert_eq!((change["before"].as_str(), change["after"].as_str()), (Some("121500"), Some("0")), "{change}");
    // Credit history under Decree 282: 高级认证企业 from May, 失信企业 from September.
    env.ok(&["credit", "set", E, "高级认证企业", "--from", "2026-05-01"]);
    env.ok(&["credit", "set", E, "失信企业", "--from", "2026-09-01", "--decision", "test decision 1"]);
    let bad = env.run(&["credit", "set", E, "一般信用", "--from", "2026-10-01"]);
    assert_eq!(bad.status.code(), Some(2), "a class of an earlier scheme is refused");
    let g = env.json(&["guarantee", "E52002600009", "--as-of", "2026-06-01", "--json"]);
    assert_eq!(g["required"]["amount"], "0", "高级认证: 空转");
    let g = env.json(&["guarantee", "E52002600009", "--as-of", "2026-09-15", "--json"]);
    assert_eq!(g["required"]["amount"], "243000", "失信: 100 %");
    let c = env.json(&["credit", "show", E, "--as-of", "2026-06-15", "--json"]);
    assert_eq!((c["class"].as_str(), c["effects"]["self_verification"].as_bool()), (Some("高级认证企业"), Some(true)));
    // Guarantees posted: cash 100,000 and a letter; a letter must run to expiry + 80 days.
    env.ok(&["guarantee", "post", "E52002600009", "--no", "G-1", "--form", "cash", "--amount", "100000", "--posted-on", "2026-02-01"]);
    let short = env.run(&["guarantee", "post", "E52002600009", "--no", "G-2", "--form", "letter", "--amount", "143000", "--posted-on", "2026-09-05", "--valid-until", "2027-01-31"]);
    assert_eq!(short.status.code(), Some(2), "a letter ending before 2027-03-21 is refused");
    env.ok(&["guarantee", "post", "E52002600009", "--no", "G-2", "--form", "letter", "--amount", "143000", "--posted-on", "2026-09-05", "--valid-until", "2027-03-31", "--guarantor", "test bank"]);
    let g = env.json(&["guarantee", "E52002600009", "--as-of", "2026-09-15", "--json"]);
    assert_eq!((g["posted"].as_str(), g["shortfall"].as_str(), g["alert"].as_bool()), (Some("243000"), Some("0"), Some(false)));
    // Refund of the cash at write-off: from 2025-08-01 interest is at the bank's demand rate, which
    // must be given (公告2025年第139号) — never a silent table value.
    let no_rate = env.run(&["guarantee", "refund", "E52002600009", "--no", "G-1", "--on", "2026-07-01"]);
    assert_eq!(no_rate.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_rate.stderr).contains("--rate"));
    // 100,000 × 150 days × 0.35 % / 360 = 145.83.
    let r = env.json(&["guarantee", "refund", "E52002600009", "--no", "G-1", "--on", "2026-07-01", "--rate", "0.0035"]);
    assert_eq!((r["days"].as_i64(), r["interest"].as_str()), (Some(150), Some("145.83")), "{r}");
    let g = env.json(&["guarantee", "E52002600009", "--as-of", "2026-09-15", "--json"]);
    assert_eq!(g["posted"], "143000", "the refunded cash no longer counts");
}

#[test]
fn a_class_that_bars_processing_trade_refuses_new_books() {
    let env = setup();
    let other = "91320505735624180G";
    env.ok(&["credit", "set", other, "严重失信企业", "--from", "2026-04-01"]);
    let party = json!({"uscc": other, "customs_code": "3205960321", "name": "苏州测试企业", "region_code": "320505"});
    let book = json!({
        "book_no": "E23002600001", "book_type": "E", "trade_mode": "0615", "operator": party, "master_customs": "2300",
        "valid_from": "2026-05-01", "valid_until": "2026-12-31",
        "materials": [{"seq": 1, "part_no": "PE-1", "hs_code": "3901100090", "name": "聚乙烯", "unit": "035", "unit_price": "10", "currency": "142"}],
        "products": [{"seq": 1, "part_no": "W-1", "hs_code": "8544422100", "name": "电线", "unit": "035", "unit_price": "200", "currency": "142"}],
        "consumption": [{"product_seq": 1, "material_seq": 1, "version": "1", "valid_from": "2026-05-01", "unit_consumption": "0.2"}]
    });
    let b = env.write("other.json", &book.to_string());
    let o = env.run(&["book", "import", &b, "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["rule"], "credit_class", "{v}");
    // A book that starts before the class took effect is not refused (time travel: the rules then).
    let earlier = env.write("earlier.json", &book.to_string().replace("\"valid_from\":\"2026-05-01\"", "\"valid_from\":\"2026-03-01\"").replace("E23002600001", "E23002600002"));
    assert!(env.run(&["book", "import", &earlier]).status.success());
}
