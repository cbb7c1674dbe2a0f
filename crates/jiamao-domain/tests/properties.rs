#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests of the ledger's invariants (ARCHITECTURE.md): order independence, atomic
//! rejection, idempotent re-posting, replay equals posting, no negative balance under 数量控制.

use jiamao_domain::book::Book;
use jiamao_domain::codes::TradeModeCode;
use jiamao_domain::doc::{parse_book, Direction, Goods, ListDoc, ListLineDoc};
use jiamao_domain::ledger::{BookLedger, Ledger, Outcome};
use jiamao_domain::policy::Policy;
use jiamao_domain::Decimal;
use proptest::prelude::*;

const BOOK: &str = r#"{
 "book_no": "E1", "book_type": "E", "trade_mode": "0615",
 "operator": {"uscc": "91441900698123458E", "customs_code": "4419960123", "name": "测试企业", "region_code": "441900"},
 "master_customs": "5200", "valid_from": "2026-01-01", "valid_until": "2026-12-31",
 "materials": [
  {"seq": 1, "part_no": "A", "hs_code": "3901100090", "name": "甲", "unit": "035", "unit_price": "1", "currency": "502", "opening_qty": "100", "authorized_qty": "5000"},
  {"seq": 2, "part_no": "B", "hs_code": "3901100090", "name": "乙", "unit": "035", "unit_price": "1", "currency": "502"},
  {"seq": 3, "part_no": "C", "hs_code": "3901100090", "name": "丙", "unit": "035", "unit_price": "1", "currency": "502", "opening_qty": "7.5"}
 ],
 "products": [
  {"seq": 1, "part_no": "P", "hs_code": "3920109090", "name": "成品一", "unit": "035", "unit_price": "3", "currency": "502"},
  {"seq": 2, "part_no": "Q", "hs_code": "3920109090", "name": "成品二", "unit": "035", "unit_price": "3", "currency": "502"}
 ],
 "consumption": [
  {"product_seq": 1, "material_seq": 1, "version": "1", "valid_from": "2026-01-01", "net": "0.685", "tangible_loss_rate": "0.025", "intangible_loss_rate": "0.005"},
  {"product_seq": 1, "material_seq": 2, "version": "1", "valid_from": "2026-01-01", "unit_consumption": "0.3"},
  {"product_seq": 1, "material_seq": 1, "version": "2", "valid_from": "2026-07-01", "net": "0.685", "tangible_loss_rate": "0.02", "intangible_loss_rate": "0.005", "bonded_share": "0.9"},
  {"product_seq": 1, "material_seq": 2, "version": "2", "valid_from": "2026-07-01", "unit_consumption": "0.25"},
  {"product_seq": 2, "material_seq": 2, "version": "1", "valid_from": "2026-01-01", "net": "1.2", "tangible_loss_rate": "0.03", "intangible_loss_rate": "0.01"},
  {"product_seq": 2, "material_seq": 3, "version": "1", "valid_from": "2026-01-01", "net": "0.02", "tangible_loss_rate": "0.02"}
 ]
}"#;

fn book() -> Book {
    let doc = parse_book(BOOK, "property book").unwrap_or_else(|e| panic!("{e}"));
    Book::from_doc(doc, &Policy::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// (trade mode, direction, goods) of the movements the generator draws from.
const KINDS: &[(&str, Direction, Goods)] = &[
    ("0615", Direction::I, Goods::Material),
    ("0615", Direction::I, Goods::Material),
    ("0615", Direction::E, Goods::Product),
    ("0615", Direction::E, Goods::Product),
    ("0654", Direction::E, Goods::Product),
    ("0644", Direction::E, Goods::Material),
    ("0644", Direction::E, Goods::Defective),
    ("0664", Direction::E, Goods::Material),
    ("4600", Direction::I, Goods::Product),
    ("0700", Direction::E, Goods::Material),
    ("0700", Direction::I, Goods::Material),
    ("0844", Direction::E, Goods::Material),
    ("0200", Direction::E, Goods::Material),
    ("0999", Direction::I, Goods::Material),
];

fn arb_list(n: usize) -> impl Strategy<Value = ListDoc> {
    (0..KINDS.len(), 1u32..365, prop::collection::vec((1u32..4, 1i64..40_000, 0u32..3), 1..4)).prop_map(move |(k, day, lines)| {
        let (mode, direction, goods) = KINDS[k];
        let declared_on = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default() + chrono::Days::new(u64::from(day) - 1);
        ListDoc {
            list_no: format!("L{n:04}"),
            book_no: "E1".into(),
            declared_on,
            direction,
            goods,
            trade_mode: TradeModeCode::parse(mode).unwrap_or_else(|e| panic!("{e}")),
            counterparty_book_no: (mode == "0654").then(|| "E2".to_owned()),
            declaration_no: None,
            lines: lines
                .into_iter()
                .enumerate()
                .map(|(i, (item, q, scale))| ListLineDoc {
                    line: i as u32 + 1,
                    item_seq: if goods == Goods::Material { item } else { 1 + item % 2 },
                    qty: Decimal::new(q, scale),
                    amount: Some(Decimal::new(q * 3, 2)),
                    consumption_version: None,
                    origin_country: None,
                    legal_qty: None,
                    second_legal_qty: None,
                })
                .collect(),
        }
    })
}

fn arb_lists() -> impl Strategy<Value = Vec<ListDoc>> {
    (1usize..40).prop_flat_map(|n| (0..n).map(arb_list).collect::<Vec<_>>())
}

fn totals(l: &BookLedger) -> String {
    format!("{:?}{:?}", l.material_totals(), l.product_totals())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A rejected list leaves every balance unchanged; with 数量控制 no balance is ever negative.
    #[test]
    fn rejection_changes_nothing(lists in arb_lists()) {
        let mut ledger = Ledger::default();
        ledger.add_book(book());
        for l in lists {
            let before = ledger.book("E1").map(totals);
            let disposal = l.trade_mode.as_str() == "0844";
            let outcome = ledger.post(l);
            let after = ledger.book("E1").map(totals);
            if let Outcome::Rejected(_) = outcome {
                prop_assert_eq!(before, after);
            }
            let bl = ledger.book("E1").unwrap_or_else(|| panic!("book"));
            for t in bl.material_totals() {
                prop_assert!(t.should_remain() >= Decimal::ZERO);
                if disposal && outcome == Outcome::Posted {
                    prop_assert!(t.leftover_disposed <= t.leftover_accrued);
                }
            }
        }
    }

    /// Re-posting every list is a no-op: posted ones come back duplicate, balances stay.
    #[test]
    fn reposting_is_a_no_op(lists in arb_lists()) {
        let mut ledger = Ledger::default();
        ledger.add_book(book());
        let mut posted = Vec::new();
        for l in lists {
            if ledger.post(l.clone()) == Outcome::Posted {
                posted.push(l);
            }
        }
        let before = ledger.book("E1").map(totals);
        for l in posted {
            prop_assert_eq!(ledger.post(l), Outcome::Duplicate);
        }
        prop_assert_eq!(before, ledger.book("E1").map(totals));
    }

    /// The `--verify` kernel (grouped by product, version and movement) equals posting line by line.
    #[test]
    fn grouped_recomputation_equals_posting(lists in arb_lists()) {
        let book = book();
        let mut ledger = BookLedger::new(book.clone());
        let mut agg = jiamao_domain::aggregate::Aggregator::new(&book, None);
        let mut posted = Vec::new();
        for l in lists {
            if let Ok(p) = ledger.post(l) {
                agg.add(&p.list, &p.versions);
                posted.push(p);
            }
        }
        prop_assert_eq!(agg.skipped, 0);
        let (materials, products) = agg.finish();
        prop_assert_eq!(&materials, &ledger.material_totals());
        prop_assert_eq!(&products, &ledger.product_totals().to_vec());
        // The column kernel (scaled integers) gives exactly the same.
        let cols = jiamao_domain::aggregate::columns(&book, None, posted.iter().map(|p| (&p.list, p.versions.as_slice())));
        let cols = cols.unwrap_or_else(|| panic!("columns"));
        let (m2, p2) = jiamao_domain::aggregate::aggregate_columns(&book, None, &cols).unwrap_or_else(|| panic!("kernel"));
        prop_assert_eq!(m2, materials);
        prop_assert_eq!(p2, products);
    }

    /// Posting the accepted lists in any other order that the rules accept gives the same
    /// balances, and replaying them with the versions they used gives the same balances too.
    #[test]
    fn order_does_not_matter(lists in arb_lists(), seed in any::<u64>()) {
        let mut first = BookLedger::new(book());
        let mut accepted = Vec::new();
        for l in lists {
            if let Ok(p) = first.post(l) {
                accepted.push(p);
            }
        }
        // Replay with the recorded versions.
        let mut replayed = BookLedger::new(book());
        for p in &accepted {
            prop_assert!(replayed.replay(&p.list, &p.versions).is_ok());
        }
        prop_assert_eq!(totals(&first), totals(&replayed));

        // A pseudo-random permutation; lists the rules refuse at their turn are retried later.
        let mut order: Vec<usize> = (0..accepted.len()).collect();
        let mut x = seed | 1;
        for i in (1..order.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut second = BookLedger::new(book());
        let mut waiting: Vec<usize> = order;
        loop {
            let before = waiting.len();
            waiting.retain(|&i| second.post(accepted[i].list.clone()).is_err());
            if waiting.is_empty() || waiting.len() == before { break; }
        }
        if waiting.is_empty() {
            prop_assert_eq!(totals(&first), totals(&second));
        }
    }
}

#[test]
fn a_two_line_list_whose_second_line_overdraws_posts_nothing() {
    let mut ledger = BookLedger::new(book());
    let before = totals(&ledger);
    let list = ListDoc {
        list_no: "X".into(),
        book_no: "E1".into(),
        declared_on: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default(),
        direction: Direction::E,
        goods: Goods::Material,
        trade_mode: TradeModeCode::parse("0644").unwrap_or_else(|e| panic!("{e}")),
        counterparty_book_no: None,
        declaration_no: None,
        lines: vec![
            ListLineDoc { line: 1, item_seq: 1, qty: Decimal::new(10, 0), amount: None, consumption_version: None, origin_country: None, legal_qty: None, second_legal_qty: None },
            ListLineDoc { line: 2, item_seq: 3, qty: Decimal::new(8, 0), amount: None, consumption_version: None, origin_country: None, legal_qty: None, second_legal_qty: None },
        ],
    };
    let r = ledger.post(list).err().unwrap_or_else(|| panic!("must be rejected"));
    assert_eq!((r.rule, r.line), ("balance_negative", Some(2)));
    assert_eq!(before, totals(&ledger));
}
