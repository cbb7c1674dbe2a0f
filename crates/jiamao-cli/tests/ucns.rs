#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `jiamao ucns …` as a user runs it, on a SQLite file: standards loaded and compared, HS 2022
//! correspondence, the review of 单耗 versions and self-verification.

use serde_json::Value;
use std::process::{Command, Output};

const USCC: &str = "91441900698123458E";

const BOOK: &str = r#"{"book_no":"E1","book_type":"E","trade_mode":"0615",
 "operator":{"uscc":"91441900698123458E","customs_code":"4419960123","name":"测试","region_code":"441900"},
 "master_customs":"5200","valid_from":"2026-01-01","valid_until":"2026-12-31",
 "materials":[{"seq":1,"part_no":"M","hs_code":"6004101000","name":"棉针织布","unit":"035","unit_price":"1","currency":"502"},
              {"seq":2,"part_no":"Y","hs_code":"5205120000","name":"纯棉纱","unit":"035","unit_price":"1","currency":"502"}],
 "products":[{"seq":1,"part_no":"P","hs_code":"6001910000","name":"拉绒布","unit":"035","unit_price":"2","currency":"502"}],
 "consumption":[
  {"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-01-01","net":"1","tangible_loss_rate":"0.06"},
  {"product_seq":1,"material_seq":2,"version":"1","valid_from":"2026-01-01","unit_consumption":"0.1"},
  {"product_seq":1,"material_seq":1,"version":"2","valid_from":"2026-06-01","unit_consumption":"1.04"}]}"#;

/// Row 1 of the shared transcription (material codes shortened), in its column layout.
const NORMS: &str = "row_id,standard_no,policy_basis,finished_code,finished_name,finished_unit,finished_spec,material_codes,material_name,material_unit,material_spec,value_kind,value,value_unit,process_loss_rate_pct,source_url,note
1,HDB/FZ061-2010,海关总署、国家发展改革委联合公告2010年第50号,60019100,棉制拉绒针织布(单面拉绒),千克,宽度>30厘米,60041010;60049010,\"棉制弹力/漂白或未漂白, 染色针织未整理布\",千克,宽度>30厘米,net,1,千克/千克,4.5,http://quanruntong.com/cate/article/3/687,
";

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let env = Env { dir: tempfile::tempdir().unwrap() };
        let book = env.write("book.json", BOOK);
        let o = env.run(&["book", "import", &book]);
        assert!(o.status.success(), "{}", text(&o));
        env
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
    /// A command refused as input (exit 2), with its JSON error.
    fn rejected(&self, args: &[&str]) -> Value {
        let o = self.run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
    }
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn line<'a>(r: &'a Value, version: &str, material: u64) -> &'a Value {
    r["lines"].as_array().unwrap().iter().find(|l| l["version"] == version && l["material_seq"] == material).unwrap()
}

#[test]
fn standards_loaded_and_a_line_above_them_flagged() {
    let env = Env::new();
    let norms = env.write("fz061.csv", NORMS);
    let r = env.json(&["ucns", "norms", "load", &norms, "--from", "2026-01-01", "--json"]);
    assert_eq!((r["name"].as_str(), r["status"].as_str(), r["entries"].as_u64()), (Some("fz061"), Some("loaded"), Some(1)));
    assert_eq!(env.json(&["ucns", "norms", "load", &norms, "--from", "2026-01-01", "--json"])["status"], "unchanged");
    assert_eq!(env.json(&["ucns", "norms", "list", "--json"])[0]["standards"][0], "HDB/FZ061-2010");

    let r = env.json(&["ucns", "check", "E1", "--json"]);
    assert_eq!(r["summary"]["above_maximum"], 1);
    assert_eq!(r["summary"]["no_standard"], 1);
    assert_eq!(r["hs2022"]["checked"], false);
    let l = line(&r, "1", 1);
    assert_eq!(l["verdict"], "above_maximum");
    assert_eq!(l["uc"], "1.063829787");
    let m = &l["standards"][0];
    assert_eq!((m["standard_no"].as_str(), m["row"].as_str()), (Some("HDB/FZ061-2010"), Some("1")));
    assert_eq!(m["source"], "http://quanruntong.com/cate/article/3/687");
    assert_eq!(m["standard"]["max"], "1.047120419");
    assert_eq!(m["excess_per_unit"], "0.016709368");
    assert_eq!(m["hs2022"], "unchecked");
    assert_eq!(line(&r, "2", 1)["verdict"], "within");
    // Taxable on export, the standard is a minimum.
    let r = env.json(&["ucns", "check", "E1", "--export-taxable", "1", "--json"]);
    assert_eq!(line(&r, "2", 1)["verdict"], "below_minimum");

    // Through HS 2022 (a nomenclature file in datahub's layout): current, or uncertain when the
    // standard's subheading is gone.
    let hs = env.write("hs.csv", "section,hscode,description,parent,level\nXI,60,Knitted fabrics,TOTAL,2\nXI,6001,Pile fabrics,60,4\nXI,600191,Of cotton,6001,6\nXI,600410,Width > 30 cm,6004,6\n");
    let r = env.json(&["ucns", "check", "E1", "--hs2022", &hs, "--json"]);
    assert_eq!(r["hs2022"]["checked"], true);
    assert_eq!(line(&r, "1", 1)["standards"][0]["hs2022"], "current");
    let hs_old = env.write("hs-old.csv", "section,hscode,description,parent,level\nXI,600199,Other,6001,6\nXI,600410,Width > 30 cm,6004,6\n");
    let r = env.json(&["ucns", "check", "E1", "--hs2022", &hs_old, "--json"]);
    let l = line(&r, "1", 1);
    assert_eq!(l["uncertain"], true);
    assert_eq!(l["standards"][0]["hs2022"], "uncertain");
    assert!(l["standards"][0]["hs_note"].as_str().unwrap().contains("600191"));
    assert_eq!(r["summary"]["uncertain"], 2, "both versions' lines of material 1");

    // The human form cites the standard.
    let o = env.run(&["ucns", "check", "E1"]);
    assert!(o.status.success());
    let out = text(&o);
    assert!(out.contains("ABOVE MAXIMUM") && out.contains("HDB/FZ061-2010 row 1") && out.contains("quanruntong.com"), "{out}");

    // A file given directly instead of the loaded standards; a bad one is refused with every problem.
    let r = env.json(&["ucns", "check", "E1", "--norms", &norms, "--json"]);
    assert_eq!(r["norms"]["source"], "given");
    let bad = env.write("bad.csv", &NORMS.replace(",net,1,", ",gross,1,").replace(",4.5,", ",120,"));
    let e = env.rejected(&["ucns", "check", "E1", "--norms", &bad, "--json"]);
    assert_eq!(e["error"]["rule"], "norms_invalid");
    assert_eq!(e["error"]["problems"].as_array().unwrap().len(), 2);
}

#[test]
fn review_of_versions_and_self_verification() {
    let env = Env::new();
    let r = env.json(&["ucns", "reviews", "E1", "--json"]);
    assert_eq!(r["states"]["declared"], 2);
    assert_eq!(r["norms"]["rows"], 0, "no standards loaded: the queue still stands");

    let e = env.rejected(&["ucns", "review", "E1", "1", "1", "consult", "--json"]);
    assert_eq!(e["error"]["rule"], "ucns_transition");
    let r = env.json(&["ucns", "review", "E1", "1", "1", "question", "--note", "loss 6 % against 4.5 %", "--json"]);
    assert_eq!((r["from"].as_str(), r["to"].as_str(), r["n"].as_u64()), (Some("declared"), Some("questioned"), Some(1)));
    assert_eq!(env.json(&["ucns", "review", "E1", "1", "1", "consult", "--json"])["to"], "consulting");
    assert_eq!(env.rejected(&["ucns", "review", "E1", "1", "1", "adjust", "--json"])["error"]["rule"], "ucns_replacement");
    let r = env.json(&["ucns", "review", "E1", "1", "1", "adjust", "--replacement", "3", "--json"]);
    assert_eq!((r["to"].as_str(), r["replacement"].as_str()), (Some("adjusted"), Some("3")));
    let o = env.run(&["ucns", "review", "E1", "1", "9", "accept"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("unknown_version"), "{}", text(&o));

    // Eligible from the first day of version 2: it is accepted (self-verified) at once.
    let r = env.json(&["ucns", "self-verification", USCC, "allowed", "--from", "2026-05-01", "--basis", "test", "--json"]);
    assert_eq!(r["status"], "recorded");
    let r = env.json(&["ucns", "reviews", "E1", "--json"]);
    let v = |name: &str| r["versions"].as_array().unwrap().iter().find(|v| v["version"] == name).unwrap().clone();
    assert_eq!((v("2")["state"].as_str(), v("2")["self_verified"].as_bool()), (Some("accepted"), Some(true)));
    assert_eq!(v("1")["state"], "adjusted");
    assert_eq!(v("1")["replacement_filed"], false);
    assert_eq!(v("1")["history"].as_array().unwrap().len(), 3);
    assert_eq!(env.rejected(&["ucns", "review", "E1", "1", "2", "question", "--json"])["error"]["rule"], "ucns_self_verified");
    let o = env.run(&["ucns", "reviews", "E1"]);
    assert!(o.status.success());
    assert!(text(&o).contains("self-verified"), "{}", text(&o));

    // Each review is in the event feed.
    let o = env.run(&["events"]);
    assert!(o.status.success());
    assert_eq!(text(&o).matches("ucns_reviewed").count(), 3, "{}", text(&o));
}
