#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Domestic-sale taxation: the worked examples of RULES.md §17 (E, F, G), a quote of the example's
//! domestic-sale lists against a hand computation, rates in two periods, and bad input.

use chrono::NaiveDate;
use jiamao_domain::book::Book;
use jiamao_domain::doc::{parse_book, parse_lists, BookDoc, ListDoc};
use jiamao_domain::policy::Policy;
use jiamao_domain::tax::calc::{self, DayCount};
use jiamao_domain::tax::quote::{self, parse_request, LedgerFacts, LedgerView, Quote, Tables};
use jiamao_domain::tax::rates::{parse_rates_csv, Rates};
use jiamao_domain::tax::tariff::{Tariff, TariffDoc, TariffLineDoc};
use jiamao_domain::tax::{TaxError, TaxPolicy};
use jiamao_domain::Decimal;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn d(s: &str) -> Decimal {
    Decimal::from_str_exact(s).unwrap()
}
fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn line(code: &str, mfn: &str, provisional: &str, vat: &str, agreements: &[(&str, &str)]) -> TariffLineDoc {
    TariffLineDoc {
        code: code.into(),
        name: format!("test line {code}"),
        mfn: mfn.into(),
        provisional: provisional.into(),
        general: "30%".into(),
        agreements: agreements.iter().map(|(a, r)| (a.to_string(), r.to_string())).collect::<BTreeMap<_, _>>(),
        consumption: "0%".into(),
        vat: vat.into(),
        legal_unit: "千克".into(),
    }
}

/// The test's own tariff for the example's materials (rates written for the test, not official).
fn tariff_2026() -> TariffDoc {
    TariffDoc {
        name: "test tariff 2026".into(),
        valid_from: day("2026-01-01"),
        source: "written for the test".into(),
        lines: vec![
            line("3901100090", "6.5%", "", "13%", &[("韩国", "2.6"), ("东盟", "0")]),
            // Provisional beats MFN: 5 %.
            line("3901402090", "6.5%", "5%", "13%", &[]),
            line("3206499000", "6.5%", "", "13%", &[]),
            line("3215190090", "6.5%", "", "13%", &[]),
            line("4822900000", "5%", "", "13%", &[]),
            line("3920109090", "6.5%", "", "13%", &[]),
            line("3923210000", "6.5%", "", "13%", &[]),
        ],
    }
}

fn rates() -> Rates {
    let mut r = Rates::with_defaults();
    r.add(parse_rates_csv("kind,key,rate,valid_from\nexchange,502,7.0500,2026-01-01\nexchange,502,7.1000,2026-05-01\nexchange,502,7.2000,2026-07-01\n", "test rates").unwrap());
    r
}

struct Example {
    book: Book,
    lists: Vec<ListDoc>,
    versions: Vec<Vec<Option<String>>>,
    last_write_off: Option<NaiveDate>,
}

fn examples() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interchange/examples");
    if p.join("lists.json").exists() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/interchange/examples not found");
        None
    }
}

fn example_with(edit: impl FnOnce(&mut BookDoc)) -> Option<Example> {
    let dir = examples()?;
    let mut doc = parse_book(&std::fs::read_to_string(dir.join("book.json")).unwrap(), "book.json").unwrap();
    edit(&mut doc);
    let book = Book::from_doc(doc, &Policy::default()).unwrap();
    let lists: Vec<ListDoc> = parse_lists(&std::fs::read_to_string(dir.join("lists.json")).unwrap(), "lists.json").unwrap().into_iter().map(|l| l.unwrap()).collect();
    let versions = lists
        .iter()
        .map(|l| {
            l.lines
                .iter()
                .map(|x| {
                    let p = book.product_idx(x.item_seq)?;
                    if l.goods == jiamao_domain::doc::Goods::Material {
                        return None;
                    }
                    Some(book.version_on(p, l.declared_on)?.version.clone())
                })
                .collect()
        })
        .collect();
    Some(Example { book, lists, versions, last_write_off: None })
}

fn quote_on(ex: &Example, req: &str, tariff: &Tariff, rates: &Rates, policy: &TaxPolicy) -> Result<Quote, TaxError> {
    let mut facts = LedgerFacts::looking_for(parse_request(req).ok().and_then(|r| r.list_no).as_deref());
    for (list, v) in ex.lists.iter().zip(&ex.versions) {
        facts.add(&ex.book, list, v);
    }
    let view = LedgerView { book: &ex.book, facts: &facts, last_write_off: ex.last_write_off };
    quote::quote(&parse_request(req)?, Some(view), Tables { tariff, rates, policy })
}

fn standard_tariff() -> Tariff {
    let mut t = Tariff::new();
    t.add(tariff_2026());
    t
}

// ---- RULES.md §17 F: import taxes with consumption tax -------------------------------------------

fn explicit(req: &str) -> Quote {
    quote::quote(&parse_request(req).unwrap(), None, Tables { tariff: &Tariff::new(), rates: &Rates::with_defaults(), policy: &TaxPolicy::default() }).unwrap()
}

#[test]
fn example_f_consumption_tax_on_the_composite_price() {
    let q = explicit(r#"{"customs_value": "1000000", "currency": "142", "duty_rate": "0.20", "consumption_tax_rate": "0.30", "vat_rate": "0.13", "tax_date": "2026-03-01"}"#);
    let l = &q.lines[0];
    assert_eq!(l.duty, d("200000"));
    // composite price 1,200,000 / 0.7 = 1,714,285.71; consumption tax 514,285.71
    assert_eq!(l.consumption_tax, d("514285.71"));
    // (1,000,000 + 200,000 + 514,285.71) × 13 % = 222,857.14
    assert_eq!(l.vat, d("222857.14"));
    // The source page's VAT of 289,714 counts the consumption tax twice: not what the formula gives.
    assert_ne!(l.vat, d("289714"));
    assert_eq!(q.totals.total, d("937142.85"));
}

#[test]
fn example_f_simple_case() {
    let q = explicit(r#"{"customs_value": "500000", "currency": "142", "duty_rate": "0.10", "vat_rate": "0.13", "tax_date": "2026-03-01"}"#);
    assert_eq!((q.lines[0].duty, q.lines[0].vat), (d("50000"), d("71500")));
}

// ---- RULES.md §17 E: deferred-tax interest ------------------------------------------------------

#[test]
fn example_e_interest() {
    let p = TaxPolicy::default();
    let days = calc::interest_days(day("2024-01-10"), day("2024-07-08"), DayCount::EndMinusStart).unwrap();
    assert_eq!(days, 180);
    assert_eq!(calc::interest(d("243000"), days, d("0.0035"), &p), d("425.25"));
    assert_eq!(calc::interest_days(day("2024-01-10"), day("2024-07-08"), DayCount::BothEnds).unwrap(), 181);
    // Through a quote: duty 100,000 + VAT 143,000 = 243,000 (RULES.md §17 C), the rate from the dated table.
    let q = explicit(
        r#"{"customs_value": "1000000", "currency": "142", "duty_rate": "0.10", "vat_rate": "0.13", "tax_date": "2024-01-10", "interest_from": "2024-01-10", "payment_note_date": "2024-07-08"}"#,
    );
    assert_eq!(q.lines[0].duty + q.lines[0].vat, d("243000"));
    let i = q.interest.as_ref().unwrap();
    assert_eq!((i.days, i.rate), (180, d("0.0035")));
    assert_eq!(q.totals.interest, d("425.25"));
    // A payment note inside the 2020 waiver owes no interest.
    let q = explicit(
        r#"{"customs_value": "1000000", "currency": "142", "duty_rate": "0.10", "vat_rate": "0.13", "tax_date": "2020-01-10", "interest_from": "2020-01-10", "payment_note_date": "2020-07-08"}"#,
    );
    assert_eq!(q.totals.interest, Decimal::ZERO);
    assert!(q.lines[0].interest_exemption.as_deref().unwrap().contains("2020-04-15"));
    // Before 2009 the rate was the loan rate (6.12 % from 2006-10-10).
    let q = explicit(
        r#"{"customs_value": "1000000", "currency": "142", "duty_rate": "0.10", "vat_rate": "0.13", "tax_date": "2008-01-10", "interest_from": "2008-01-10", "payment_note_date": "2008-07-08"}"#,
    );
    assert_eq!(q.interest.as_ref().unwrap().rate, d("0.0612"));
}

// ---- RULES.md §17 G: the 3 % / RMB 10,000 threshold ---------------------------------------------

#[test]
fn example_g_threshold() {
    let p = TaxPolicy::default();
    let t = calc::threshold(d("12000"), d("500000"), &p);
    assert_eq!(t.share, Some(d("0.024")));
    assert!(!t.de_minimis, "2.4 % but above RMB 10,000");
    assert!(calc::threshold(d("9000"), d("500000"), &p).de_minimis, "1.8 % and at most RMB 10,000");
    assert!(!calc::threshold(d("8000"), d("200000"), &p).de_minimis, "4 %");
    assert!(calc::threshold(d("10000"), d("500000"), &p).de_minimis, "exactly RMB 10,000 and 2 %");
    assert!(!calc::threshold(d("1"), d("0"), &p).de_minimis, "nothing imported");
}

// ---- The example's domestic-sale lists, against a hand computation ------------------------------

#[test]
fn product_sale_equals_the_hand_computation() {
    let Some(ex) = example_with(|_| {}) else { return };
    let q = quote_on(&ex, r#"{"book_no": "C52002600001", "list_no": "QD520026000000006", "payment_note_date": "2026-06-20"}"#, &standard_tariff(), &rates(), &TaxPolicy::default()).unwrap();
    // 成品内销 of 2,000 kg of product 1 on 2026-06-12, 单耗 version 1 (version 2 starts 2026-07-01).
    // Materials: q × uc × share, uc = net / (1 − t − i) rounded to 9 places:
    //   m1 0.685/0.97 = 0.706185567 → 1412.371134; m2 0.28/0.97 = 0.288659794 → 577.319588;
    //   m3 0.02/0.98 = 0.020408163 → 40.816326;   m5 0.015 (no loss) → 30.
    // Weighted average import prices up to the sale (USD, lists 001 and 003):
    //   m1 (67,500 + 56,000) / (50,000 + 40,000); m2 (25,600 + 18,750) / (20,000 + 15,000);
    //   m3 4,200 / 2,000; m5 1,275 / 1,500. Exchange rate USD 7.1000 (from 2026-05-01).
    // Value = qty × Σamount × rate / Σqty, to the fen:
    //   m1 1412.371134 × 123,500 × 7.1 / 90,000 = 13,760.42; m2 5,193.98; m3 608.57; m5 181.05.
    // Duty: m1 6.5 % → 894.43; m2 provisional 5 % → 259.70; m3 6.5 % → 39.56; m5 5 % → 9.05.
    // VAT 13 % of value + duty: 1,905.13; 708.98; 84.26; 24.71.
    // Interest: first import 2026-01-10 to the note 2026-06-20 = 161 days at 0.35 % / 360:
    //   (894.43 + 1,905.13) × 161 × 0.0035 / 360 = 4.38; then 1.52; 0.19; 0.05.
    let want = [
        (1, "1412.371134", "13760.42", "894.43", "1905.13", "4.38"),
        (2, "577.319588", "5193.98", "259.7", "708.98", "1.52"),
        (3, "40.816326", "608.57", "39.56", "84.26", "0.19"),
        (5, "30", "181.05", "9.05", "24.71", "0.05"),
    ];
    assert_eq!(q.lines.len(), 4);
    for (l, (seq, qty, value, duty, vat, interest)) in q.lines.iter().zip(want) {
        assert_eq!(l.item_seq, Some(seq));
        assert_eq!((l.qty, l.customs_value, l.duty, l.vat, l.interest), (d(qty), d(value), d(duty), d(vat), d(interest)), "material {seq}");
        assert_eq!(l.valuation.method, "weighted_average");
        assert_eq!(l.interest_days, 161);
        assert_eq!(l.from_products[0].version, "1");
    }
    assert_eq!(q.lines[0].valuation.lists, vec!["QD520026000000001", "QD520026000000003"]);
    assert_eq!(q.lines[1].duty_rate, "0.05");
    assert!(q.lines[1].duty_rate_source.ends_with("provisional"), "{}", q.lines[1].duty_rate_source);
    assert!(q.lines[0].duty_rate_source.ends_with("mfn"));
    assert_eq!(q.totals.duty, d("1202.74"));
    assert_eq!(q.totals.vat, d("2723.08"));
    assert_eq!(q.totals.interest, d("6.14"));
    assert_eq!(q.totals.total, d("3931.96"));
    let i = q.interest.as_ref().unwrap();
    assert_eq!((i.from, i.from_basis.as_str(), i.from_list_no.as_deref()), (day("2026-01-10"), "first_import", Some("QD520026000000001")));
    // 19,744.02 of materials against 1,266,959.50 CNY of imports (178,445 USD × 7.1): 1.56 %, but above RMB 10,000.
    let t = q.threshold.as_ref().unwrap();
    assert!(!t.de_minimis);
    assert_eq!(t.value, d("19744.02"));
}

#[test]
fn material_sale_and_leftover_sale() {
    let Some(ex) = example_with(|_| {}) else { return };
    let (tariff, rates, policy) = (standard_tariff(), rates(), TaxPolicy::default());
    // 料件内销 of 300 kg of material 3 on 2026-05-08: 300 × 4,200 × 7.1 / 2,000 = 4,473.00;
    // duty 6.5 % = 290.75 (290.745 rounds half away from zero); VAT (4,473 + 290.75) × 13 % = 619.29.
    let q = quote_on(&ex, r#"{"book_no": "C52002600001", "list_no": "QD520026000000005", "payment_note_date": "2026-05-20"}"#, &tariff, &rates, &policy).unwrap();
    assert_eq!((q.lines[0].customs_value, q.lines[0].duty, q.lines[0].vat), (d("4473"), d("290.75"), d("619.29")));
    assert!(q.threshold.as_ref().unwrap().de_minimis, "4,473 is 0.35 % of the imports (1,266,959.50) and under RMB 10,000");
    // 边角料内销 (0844) of 600 kg of material 1 on 2026-08-20 at its declared price 360 USD: no interest.
    let q = quote_on(&ex, r#"{"book_no": "C52002600001", "list_no": "QD520026000000009", "payment_note_date": "2026-09-01"}"#, &tariff, &rates, &policy).unwrap();
    let l = &q.lines[0];
    assert_eq!(l.valuation.method, "domestic_price");
    // 360 × 7.2 (from 2026-07-01) = 2,592.00
    assert_eq!(l.customs_value, d("2592"));
    assert_eq!(l.interest, Decimal::ZERO);
    assert!(l.interest_exemption.as_deref().unwrap().contains("边角料"));
    assert!(q.threshold.is_none());
}

#[test]
fn the_same_sale_under_two_rate_periods() {
    let Some(ex) = example_with(|_| {}) else { return };
    let mut tariff = standard_tariff();
    let mut later = tariff_2026();
    later.name = "test tariff 2026-07".into();
    later.valid_from = day("2026-07-01");
    later.lines[2].mfn = "3%".into();
    tariff.add(later);
    let req = |date: &str| format!(r#"{{"book_no": "C52002600001", "items": [{{"goods": "material", "item_seq": 3, "qty": "300"}}], "tax_date": "{date}", "payment_note_date": "2026-07-20"}}"#);
    let june = quote_on(&ex, &req("2026-06-30"), &tariff, &rates(), &TaxPolicy::default()).unwrap();
    let july = quote_on(&ex, &req("2026-07-01"), &tariff, &rates(), &TaxPolicy::default()).unwrap();
    // June: 7.1 and 6.5 %; July: 7.2 and 3 %.
    assert_eq!((june.lines[0].customs_value, june.lines[0].duty_rate.as_str(), june.lines[0].duty), (d("4473"), "0.065", d("290.75")));
    assert_eq!((july.lines[0].customs_value, july.lines[0].duty_rate.as_str(), july.lines[0].duty), (d("4536"), "0.03", d("136.08")));
    assert!(june.lines[0].duty_rate_source.starts_with("test tariff 2026 (from 2026-01-01)"));
    assert!(july.lines[0].duty_rate_source.starts_with("test tariff 2026-07 (from 2026-07-01)"));
    assert_eq!(june.lines[0].valuation.exchange_rate_date, day("2026-05-01"));
    assert_eq!(july.lines[0].valuation.exchange_rate_date, day("2026-07-01"));
}

#[test]
fn agreement_rate_with_a_certificate_and_the_batch_price() {
    let Some(ex) = example_with(|_| {}) else { return };
    let (tariff, rates, policy) = (standard_tariff(), rates(), TaxPolicy::default());
    let req = r#"{"book_no": "C52002600001", "items": [{"goods": "material", "item_seq": 1, "qty": "1000", "import_list_no": "QD520026000000003"}], "tax_date": "2026-06-01", "payment_note_date": "2026-06-01", "origin_certificate": "133"}"#;
    let q = quote_on(&ex, req, &tariff, &rates, &policy).unwrap();
    let l = &q.lines[0];
    // Korea: 亚太 has no rate, 韩国 2.6 % beats MFN 6.5 %; the batch (list 003) price 56,000 / 40,000 = 1.4.
    assert_eq!(l.duty_rate, "0.026");
    assert!(l.duty_rate_source.ends_with("agreement:韩国"));
    assert_eq!((l.valuation.method.as_str(), l.customs_value), ("original_batch", d("9940")));
    // ASEAN origin (Singapore): 0 % under 东盟.
    let q = quote_on(&ex, &req.replace("\"133\"", "\"132\""), &tariff, &rates, &policy).unwrap();
    assert_eq!(q.lines[0].duty, Decimal::ZERO);
    // Without a certificate: MFN.
    let q = quote_on(&ex, &req.replace(", \"origin_certificate\": \"133\"", ""), &tariff, &rates, &policy).unwrap();
    assert_eq!(q.lines[0].duty_rate, "0.065");
}

#[test]
fn zone_book_shows_both_bases_of_selective_tariff() {
    let Some(ex) = example_with(|b| b.zone = Some("综合保税区".into())) else { return };
    let (tariff, rates, policy) = (standard_tariff(), rates(), TaxPolicy::default());
    let req = r#"{"book_no": "C52002600001", "items": [{"goods": "product", "item_seq": 1, "qty": "2000"}], "tax_date": "2026-06-12", "payment_note_date": "2026-06-20", "prices": [{"goods": "product", "item_seq": 1, "unit_price": "2.60", "currency": "502"}]}"#;
    let q = quote_on(&ex, req, &tariff, &rates, &policy).unwrap();
    let s = q.selective_tariff.as_ref().unwrap();
    // As materials: the hand computation above. As the product: 2,000 × 2.60 × 7.1 = 36,920 at 6.5 %.
    assert_eq!(s.as_materials.duty, d("1202.74"));
    assert_eq!(s.product_lines[0].customs_value, d("36920"));
    assert_eq!(s.as_product.duty, d("2399.8"));
    assert_eq!((s.chosen_by.as_str(), s.trade_mode.as_str()), ("default", "0544"));
    assert_eq!(q.totals, s.as_materials);
    let q = quote_on(&ex, &req.replace("\"tax_date\"", "\"selective_tariff\": \"product\", \"tax_date\""), &tariff, &rates, &policy).unwrap();
    let s = q.selective_tariff.as_ref().unwrap();
    assert_eq!((s.chosen_by.as_str(), s.trade_mode.as_str()), ("request", "0444"));
    assert_eq!(q.totals, s.as_product);
    // Outside a zone the option is refused.
    let Some(plain) = example_with(|_| {}) else { return };
    let e = quote_on(&plain, &req.replace("\"tax_date\"", "\"selective_tariff\": \"product\", \"tax_date\""), &tariff, &rates, &policy).unwrap_err();
    assert_eq!(e.rule, "not_a_zone_book");
}

#[test]
fn bad_input_names_what_is_missing() {
    let Some(ex) = example_with(|_| {}) else { return };
    let policy = TaxPolicy::default();
    let req = r#"{"book_no": "C52002600001", "list_no": "QD520026000000006", "payment_note_date": "2026-06-20"}"#;
    // An HS code not in the tariff.
    let mut partial = tariff_2026();
    partial.lines.retain(|l| l.code != "4822900000");
    let mut t = Tariff::new();
    t.add(partial);
    let e = quote_on(&ex, req, &t, &rates(), &policy).unwrap_err();
    assert_eq!(e.rule, "hs_code_unknown");
    assert!(e.message.contains("4822900000") && e.at.contains("material 5"), "{e}");
    // No exchange rate for the currency.
    let e = quote_on(&ex, req, &standard_tariff(), &Rates::with_defaults(), &policy).unwrap_err();
    assert_eq!(e.rule, "rate_missing");
    assert!(e.message.contains("currency 502"), "{e}");
    // A date before any rate.
    let mut late = Rates::with_defaults();
    late.add(parse_rates_csv("kind,key,rate,valid_from\nexchange,502,7.2,2026-07-01\n", "r").unwrap());
    let e = quote_on(&ex, req, &standard_tariff(), &late, &policy).unwrap_err();
    assert!(e.message.contains("2026-06-12") && e.message.contains("2026-07-01"), "{e}");
    // A date before any tariff.
    let e = quote_on(&ex, &req.replace("\"payment_note_date\"", "\"tax_date\": \"2025-12-01\", \"payment_note_date\""), &standard_tariff(), &rates(), &policy).unwrap_err();
    assert_eq!(e.rule, "tariff_missing");
    // Not a domestic sale; unknown list; unknown field.
    assert_eq!(quote_on(&ex, &req.replace("000006", "000002"), &standard_tariff(), &rates(), &policy).unwrap_err().rule, "not_a_domestic_sale");
    assert_eq!(quote_on(&ex, &req.replace("000006", "000099"), &standard_tariff(), &rates(), &policy).unwrap_err().rule, "list_unknown");
    let e = quote_on(&ex, &req.replace("\"payment_note_date\"", "\"paymnet_note_date\""), &standard_tariff(), &rates(), &policy).unwrap_err();
    assert_eq!(e.rule, "request_invalid");
    // Dates are exactly YYYY-MM-DD (FORMAT.md).
    let e = quote_on(&ex, &req.replace("2026-06-20", "2026-6-20"), &standard_tariff(), &rates(), &policy).unwrap_err();
    assert_eq!((e.rule, e.at.as_str()), ("request_invalid", "payment_note_date"));
    // No payment note date: no silent zero interest.
    let e = quote_on(&ex, r#"{"book_no": "C52002600001", "list_no": "QD520026000000006"}"#, &standard_tariff(), &rates(), &policy).unwrap_err();
    assert_eq!(e.at, "payment_note_date");
    // 来料 materials need a similar-goods price.
    let Some(consigned) = example_with(|b| {
        b.book_type = jiamao_domain::doc::BookType::B;
        b.trade_mode = jiamao_domain::codes::TradeModeCode::parse("0214").unwrap();
    }) else {
        return;
    };
    let e = quote_on(
        &consigned,
        r#"{"book_no": "C52002600001", "items": [{"goods": "material", "item_seq": 3, "qty": "1"}], "tax_date": "2026-06-01", "payment_note_date": "2026-06-20"}"#,
        &standard_tariff(),
        &rates(),
        &policy,
    );
    assert_eq!(e.unwrap_err().rule, "price_missing");
}

#[test]
fn interest_of_an_e_book_starts_at_the_last_write_off() {
    let Some(mut ex) = example_with(|b| b.book_type = jiamao_domain::doc::BookType::E) else { return };
    let (tariff, rates, policy) = (standard_tariff(), rates(), TaxPolicy::default());
    let req = r#"{"book_no": "C52002600001", "list_no": "QD520026000000006", "payment_note_date": "2026-06-20"}"#;
    // No write-off yet: the first import.
    let q = quote_on(&ex, req, &tariff, &rates, &policy).unwrap();
    assert_eq!(q.interest.as_ref().unwrap().from_basis, "first_import");
    // After a cycle closed on 2026-03-31 the average starts the day after: material 1 has no priced
    // inflow from then to the sale, so the quote is refused, naming it (never a zero value).
    ex.last_write_off = Some(day("2026-03-31"));
    let e = quote_on(&ex, req, &tariff, &rates, &policy).unwrap_err();
    assert_eq!(e.rule, "no_priced_inflow");
    // Materials 3 and 5 were imported only before it: their prices are entered.
    ex.last_write_off = Some(day("2026-01-31"));
    let priced = req
        .replace("}", r#", "prices": [{"goods": "material", "item_seq": 3, "unit_price": "2.1", "currency": "502"}, {"goods": "material", "item_seq": 5, "unit_price": "0.85", "currency": "502"}]}"#);
    let q = quote_on(&ex, &priced, &tariff, &rates, &policy).unwrap();
    assert_eq!(q.lines[2].valuation.method, "entered_price");
    let i = q.interest.as_ref().unwrap();
    assert_eq!((i.from, i.from_basis.as_str(), i.days), (day("2026-01-31"), "last_write_off", 140));
    // Material 1 now averages list 003 alone: 56,000 / 40,000.
    assert_eq!(q.lines[0].valuation.lists, vec!["QD520026000000003"]);
}

#[test]
fn the_prices_a_quote_reads_and_those_it_needs() {
    use jiamao_domain::tax::quote::{price_slots, PriceSlot, SaleGoods};
    let slots = |ex: &Example, req: &str| -> Vec<(SaleGoods, u32, bool)> {
        let mut facts = LedgerFacts::looking_for(parse_request(req).ok().and_then(|r| r.list_no).as_deref());
        for (list, v) in ex.lists.iter().zip(&ex.versions) {
            facts.add(&ex.book, list, v);
        }
        let view = LedgerView { book: &ex.book, facts: &facts, last_write_off: ex.last_write_off };
        price_slots(&parse_request(req).unwrap(), view).unwrap().into_iter().map(|s: PriceSlot| (s.goods, s.item_seq, s.needed)).collect()
    };
    let Some(ex) = example_with(|_| {}) else { return };
    // 进料: the product sale's materials (through 单耗 version 1) may be priced, none must be.
    let m = SaleGoods::Material;
    assert_eq!(slots(&ex, r#"{"book_no": "C52002600001", "list_no": "QD520026000000006"}"#), [(m, 1, false), (m, 2, false), (m, 3, false), (m, 5, false)]);
    // A leftover sale with its declared amount: its domestic price may be entered instead.
    assert_eq!(slots(&ex, r#"{"book_no": "C52002600001", "list_no": "QD520026000000009"}"#), [(SaleGoods::Leftover, 1, false)]);
    // 来料: every material needs the price of similar goods.
    let Some(consigned) = example_with(|b| {
        b.book_type = jiamao_domain::doc::BookType::B;
        b.trade_mode = jiamao_domain::codes::TradeModeCode::parse("0214").unwrap();
    }) else {
        return;
    };
    let req = r#"{"book_no": "C52002600001", "items": [{"goods": "product", "item_seq": 1, "qty": "2000"}], "tax_date": "2026-06-12", "payment_note_date": "2026-06-20"}"#;
    assert_eq!(slots(&consigned, req), [(m, 1, true), (m, 2, true), (m, 3, true), (m, 5, true)]);
    // A zone book's product sale also reads the product's value (taxed as the product).
    let Some(zone) = example_with(|b| b.zone = Some("综合保税区".into())) else { return };
    let wanted = slots(&zone, req);
    assert_eq!(wanted.last(), Some(&(SaleGoods::Product, 1, true)), "{wanted:?}");
}

#[test]
fn a_negative_entered_price_is_refused() {
    let Some(ex) = example_with(|_| {}) else { return };
    let req = r#"{"book_no": "C52002600001", "list_no": "QD520026000000006", "prices": [{"goods": "material", "item_seq": 1, "unit_price": "-1.40", "currency": "502"}]}"#;
    let Err(e) = quote_on(&ex, req, &Tariff::new(), &Rates::with_defaults(), &TaxPolicy::default()) else { panic!("a negative price was accepted") };
    assert_eq!((e.rule, e.at.as_str()), ("request_invalid", "prices[0].unit_price"), "{}", e.message);
}
