#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! National 单耗 standards (RULES.md §4.5): the published case of §17 A, the shared transcription of
//! standards (skipped, saying so, when ../shared is absent), HS 2022 correspondence, and a book's
//! lines judged against them.

use jiamao_domain::book::Book;
use jiamao_domain::doc::parse_book;
use jiamao_domain::norms::{self, check_book, excess_material, standard_uc, CheckSettings, Hs2022, HsMatch, Norms, ValueKind, Verdict};
use jiamao_domain::policy::Policy;
use jiamao_domain::Decimal;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipping: {} not found", p.display());
        None
    }
}

fn shared_norms() -> Option<Norms> {
    let p = shared("cn-unit-consumption-norms/norms_transcribed.csv")?;
    Some(Norms::parse_csv(&std::fs::read_to_string(&p).unwrap(), "norms_transcribed.csv").unwrap_or_else(|e| panic!("{e:#?}")))
}

fn shared_hs2022() -> Option<Hs2022> {
    let p = shared("hs2022-datahub/data/harmonized-system.csv")?;
    Some(Hs2022::parse_csv(&std::fs::read_to_string(&p).unwrap(), "harmonized-system.csv").unwrap())
}

const HEADER: &str = "row_id,standard_no,policy_basis,finished_code,finished_name,finished_unit,finished_spec,material_codes,material_name,material_unit,material_spec,value_kind,value,value_unit,process_loss_rate_pct,source_url,note";

/// A book of one product and its materials; `consumption` as JSON array items.
fn book(product: (&str, &str), materials: &[(u32, &str, &str)], consumption: &str) -> Book {
    let mats: Vec<String> =
        materials.iter().map(|(seq, hs, unit)| format!(r#"{{"seq":{seq},"part_no":"M{seq}","hs_code":"{hs}","name":"料{seq}","unit":"{unit}","unit_price":"1","currency":"502"}}"#)).collect();
    let text = format!(
        r#"{{"book_no":"E1","book_type":"E","trade_mode":"0615",
 "operator":{{"uscc":"91441900698123458E","customs_code":"4419960123","name":"测试","region_code":"441900"}},
 "master_customs":"5200","valid_from":"2026-01-01","valid_until":"2026-12-31",
 "materials":[{}],
 "products":[{{"seq":1,"part_no":"P","hs_code":"{}","name":"成品","unit":"{}","unit_price":"2","currency":"502"}}],
 "consumption":[{consumption}]}}"#,
        mats.join(","),
        product.0,
        product.1
    );
    Book::from_doc(parse_book(&text, "test").unwrap(), &Policy::default()).unwrap()
}

fn settings<'a>(hs: Option<&'a Hs2022>, taxable: &'a BTreeSet<u32>) -> CheckSettings<'a> {
    CheckSettings { hs2022: hs, export_taxable: taxable, uc_places: 9 }
}

#[test]
fn rules_17a_misdeclared_consumption() {
    // RULES.md §17 A: declared average 1.087, actual 1.025; excess 9,126.4 kg over 147,200 units.
    assert_eq!(excess_material(d("1.087"), d("1.025"), d("147200")), Some(d("9126.4")));
    assert_eq!(d("9126.4") / (d("1.087") - d("1.025")), d("147200"));
    assert_eq!(jiamao_domain::decimal::round(d("369000") / d("9126.4"), 2), d("40.43"));
    // The same figures through the comparison: 1.025 as the bound (customs' finding, written as a
    // 单耗 row for this test), the wigs' line declared at 1.087.
    let csv = format!("{HEADER}\nA,RULES-17A,customs finding (test),6704110000,合成纤维制整头假发,,,55039000,聚氯乙烯短纤,千克,,ucns,1.025,千克/个,,RULES.md §17 A,\n");
    let n = Norms::parse_csv(&csv, "t.csv").unwrap();
    let b = book(("6704110000", "007"), &[(1, "5503900000", "035")], r#"{"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-01-01","unit_consumption":"1.087"}"#);
    let none = BTreeSet::new();
    let lines = check_book(&b, &n, &settings(None, &none));
    assert_eq!(lines.len(), 1);
    let l = &lines[0];
    assert_eq!(l.verdict, Verdict::AboveMaximum);
    let m = &l.standards[0];
    assert_eq!(m.excess_per_unit, Some(d("0.062")));
    assert_eq!(m.excess_per_unit.unwrap() * d("147200"), d("9126.4"));
    assert_eq!(m.hs2022, HsMatch::Unchecked, "no HS 2022 given: the codes were matched as written, and it says so");
    assert!(m.hs_note.as_deref().unwrap().contains("not checked against HS 2022"));
}

#[test]
fn the_standard_consumption_is_net_over_one_minus_loss() {
    let csv = format!(
        "{HEADER}\n1,S-2010,,60019100,,千克,,60041010,,千克,,net,1,,4.5,src,\n2,S-2010,,60019100,,千克,,60041010,,千克,,net,0.2~0.7,,1,src,\n3,S-2009,,96131000,,个,,39032000,,千克,,loss_only,,,4,src,\n"
    );
    let n = Norms::parse_csv(&csv, "t.csv").unwrap();
    let s = standard_uc(&n.rows[0], None, 9).unwrap();
    assert_eq!((s.max, s.min), (d("1.047120419"), d("1.047120419")));
    let s = standard_uc(&n.rows[1], None, 9).unwrap();
    assert_eq!((s.min, s.max), (d("0.202020202"), d("0.707070707")));
    // A loss-only standard gives a figure for a line that declares its 净耗 only.
    assert!(standard_uc(&n.rows[2], None, 9).is_err());
    assert_eq!(standard_uc(&n.rows[2], Some(d("0.96")), 9).unwrap().max, d("1"));
    assert_eq!(n.rows[0].year, Some(2010));
}

#[test]
fn bad_norms_files_are_rejected_with_every_problem() {
    let csv = format!("{HEADER}\n1,S,,6001,,,,,,,,net,1,,4.5,src,\n2,S,,60019100,,,,600410,,,,gross,x,,100,,\n");
    let e = Norms::parse_csv(&csv, "bad.csv").unwrap_err();
    let all = e.join("\n");
    assert!(all.contains("bad.csv:2: material_codes is empty"), "{all}");
    assert!(all.contains("bad.csv:3: value_kind \"gross\""), "{all}");
    assert!(all.contains("bad.csv:3: value"), "{all}");
    assert!(all.contains("below 100"), "{all}");
    assert!(all.contains("source is empty"), "{all}");
    assert!(Norms::parse_csv("standard_no,finished_code\n", "h.csv").unwrap_err()[0].contains("no column material_codes"));
}

#[test]
fn the_shared_transcription_parses() {
    let Some(n) = shared_norms() else { return };
    assert_eq!(n.len(), 38);
    let r1 = n.rows.iter().find(|r| r.row == "1").unwrap();
    assert_eq!(r1.standard_no, "HDB/FZ061-2010");
    assert_eq!(r1.year, Some(2010));
    assert_eq!(r1.material_codes.len(), 10);
    assert_eq!((r1.value, r1.loss_rate_pct), (Some(d("1")), Some(d("4.5"))));
    assert!(r1.source.starts_with("http://quanruntong.com/"));
    let r19 = n.rows.iter().find(|r| r.row == "19").unwrap();
    assert_eq!((r19.min, r19.max, r19.value), (Some(d("0.2")), Some(d("0.7")), None), "a range of 净耗");
    assert_eq!(n.rows.iter().filter(|r| r.value_kind == ValueKind::LossOnly).count(), 4);
    assert_eq!(n.rows.iter().filter(|r| r.year.is_none()).count(), 13, "the silk rows name no standard");
}

#[test]
fn shared_codes_against_hs_2022_and_an_uncertain_match() {
    let (Some(n), Some(hs)) = (shared_norms(), shared_hs2022()) else { return };
    assert!(hs.len() > 5000);
    // Every transcribed code's subheading is still an HS 2022 subheading: a direct match is current.
    for r in &n.rows {
        let item = format!("{:0<10}", r.finished_code);
        let c = norms::correspond(&r.finished_code, &item, Some(&hs)).unwrap();
        let m = norms::hs_judgement(r, &[(&r.finished_code, &item, &c)], Some(&hs));
        assert_eq!(m.0, HsMatch::Current, "row {}: {:?}", r.row, m.1);
    }
    // A standard of 2010 naming solar cells under 8541.40, which HS 2022 split into 8541.41–.49:
    // today's 8541.42 (photovoltaic cells not in modules) matches, as uncertain, saying why.
    let csv = format!("{HEADER}\n1,HDB/TEST-2010,,85414020,太阳能电池,千克,,38180011,硅片,千克,,net,1,,10,written for this test,\n");
    let solar = Norms::parse_csv(&csv, "t.csv").unwrap();
    let b = book(("8541420000", "035"), &[(1, "3818001100", "035")], r#"{"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-01-01","net":"1","tangible_loss_rate":"0.2"}"#);
    let none = BTreeSet::new();
    let lines = check_book(&b, &solar, &settings(Some(&hs), &none));
    let l = &lines[0];
    assert_eq!(l.verdict, Verdict::AboveMaximum, "1.25 above 1/(1 − 10 %) = 1.111111111");
    assert!(l.uncertain);
    let m = &l.standards[0];
    assert_eq!(m.hs2022, HsMatch::Uncertain);
    let note = m.hs_note.as_deref().unwrap();
    assert!(note.contains("854140") && note.contains("854142") && note.contains("uncertain"), "{note}");
    // Without HS 2022 the old code does not match today's at all (and nothing pretends it does).
    assert_eq!(check_book(&b, &solar, &settings(None, &none))[0].verdict, Verdict::NoStandard);
}

#[test]
fn a_line_above_the_shared_standard_is_flagged_citing_it() {
    let Some(n) = shared_norms() else { return };
    let hs = shared_hs2022();
    // Cotton pile knit fabric (60019100) from cotton knit fabric (60041010): HDB/FZ061-2010 row 1,
    // 净耗 1 at 4.5 % loss → 1.047120419. Version 1 declares 净耗 1 at 6 % loss → 1.063829787.
    let consumption = r#"{"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-01-01","net":"1","tangible_loss_rate":"0.06"},
        {"product_seq":1,"material_seq":2,"version":"1","valid_from":"2026-01-01","unit_consumption":"0.1"},
        {"product_seq":1,"material_seq":1,"version":"2","valid_from":"2026-06-01","unit_consumption":"1.04"}"#;
    let b = book(("6001910000", "035"), &[(1, "6004101000", "035"), (2, "5205120000", "035")], consumption);
    let none = BTreeSet::new();
    let lines = check_book(&b, &n, &settings(hs.as_ref(), &none));
    assert_eq!(lines.len(), 3);
    let above = lines.iter().find(|l| l.version == "1" && l.material_seq == 1).unwrap();
    assert_eq!(above.verdict, Verdict::AboveMaximum);
    assert_eq!(above.uc, d("1.063829787"));
    let m = &above.standards[0];
    assert_eq!((m.standard_no.as_str(), m.row.as_str(), m.finished_code.as_str(), m.material_code.as_str()), ("HDB/FZ061-2010", "1", "60019100", "60041010"));
    assert_eq!(m.source, "http://quanruntong.com/cate/article/3/687");
    assert_eq!(m.standard.as_ref().unwrap().max, d("1.047120419"));
    assert_eq!(m.excess_per_unit, Some(d("0.016709368")));
    assert_eq!(m.hs2022, if hs.is_some() { HsMatch::Current } else { HsMatch::Unchecked });
    assert_eq!(lines.iter().find(|l| l.material_seq == 2).unwrap().verdict, Verdict::NoStandard);
    assert_eq!(lines.iter().find(|l| l.version == "2").unwrap().verdict, Verdict::Within);
    let s = norms::Summary::of(&lines);
    assert_eq!((s.above_maximum, s.within, s.no_standard), (1, 1, 1));

    // The same product taxable on export: the standard is a minimum; 1.04 falls below it.
    let taxable = BTreeSet::from([1]);
    let lines = check_book(&b, &n, &settings(hs.as_ref(), &taxable));
    let v2 = lines.iter().find(|l| l.version == "2").unwrap();
    assert_eq!(v2.verdict, Verdict::BelowMinimum);
    assert_eq!(v2.standards[0].excess_per_unit, Some(d("0.007120419")));
    assert_eq!(lines.iter().find(|l| l.version == "1" && l.material_seq == 1).unwrap().verdict, Verdict::Within);

    // Counted in pieces, the product cannot be compared with a standard per kilogram.
    let pieces = book(("6001910000", "007"), &[(1, "6004101000", "035")], r#"{"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-01-01","unit_consumption":"2"}"#);
    let l = &check_book(&pieces, &n, &settings(hs.as_ref(), &none))[0];
    assert_eq!(l.verdict, Verdict::NotComparable);
    assert!(l.standards[0].reason.as_deref().unwrap().contains("千克"));
}

#[test]
fn rows_that_differ_by_specification_and_disagree() {
    let Some(n) = shared_norms() else { return };
    // Frozen flatfish fillets (HDB/NY014-2018 rows 24–27: loss 67/60/55/50 % → 3.03, 2.5, 2.22, 2.0).
    let b = book(("0304830000", "035"), &[(1, "0303320000", "035")], r#"{"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-01-01","unit_consumption":"2.4"}"#);
    let none = BTreeSet::new();
    let l = &check_book(&b, &n, &settings(None, &none))[0];
    assert_eq!(l.standards.len(), 4);
    assert_eq!(l.verdict, Verdict::SpecDependent, "above the skinned-fillet rows, within the others: the specification decides");
    let b = book(("0304830000", "035"), &[(1, "0303320000", "035")], r#"{"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-01-01","unit_consumption":"3.5"}"#);
    assert_eq!(check_book(&b, &n, &settings(None, &none))[0].verdict, Verdict::AboveMaximum);
}

#[test]
fn later_documents_replace_a_standards_rows() {
    let a = Norms::parse_csv(&format!("{HEADER}\n1,S-2010,,60019100,,,,60041010,,,,net,1,,4.5,a,\n2,(not in excerpt),,50072019,,,,50020011,,,,net,1,,28,a,\n"), "a").unwrap();
    let b = Norms::parse_csv(&format!("{HEADER}\n1,S-2010,,60019100,,,,60041010,,,,net,1,,3,b,\n2,(not in excerpt),,50072019,,,,50020011,,,,net,1,,12,b,\n"), "b").unwrap();
    let m = Norms::merged([a, b]);
    assert_eq!(m.len(), 3);
    assert_eq!(m.rows.iter().filter(|r| r.standard_no == "S-2010").map(|r| r.source.as_str()).collect::<Vec<_>>(), ["b"]);
}
