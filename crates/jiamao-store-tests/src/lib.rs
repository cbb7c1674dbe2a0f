//! The conformance suite: scenarios written once against the `Store` trait (through the engine)
//! and run on every backend (`tests/sqlite.rs` always, `tests/postgres.rs` when a PostgreSQL URL
//! is given). A backend passes when it gives the same answers as the others, to the last decimal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiamao_app::Engine;
use jiamao_store::{AccountRecord, AuditRecord, BookKey, EnterpriseRecord, EventRecord, PolicyRecord, SessionRecord, Store, StoreError, TokenRecord, WebhookRecord};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Barrier};

/// A backend under test: a fresh, empty database, and further connections to the same one (as
/// other processes would open).
pub trait Backend: Sync {
    type S: Store + 'static;
    /// A new connection to this test's database.
    fn connect(&self) -> Self::S;
}

fn engine<B: Backend>(b: &B) -> Engine<B::S> {
    Engine::new(b.connect())
}

fn examples() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interchange/examples");
    if p.join("expected.json").exists() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/interchange/examples not found");
        None
    }
}

fn read(dir: &std::path::Path, f: &str) -> String {
    std::fs::read_to_string(dir.join(f)).unwrap()
}

/// The example of the interchange format reproduces expected.json exactly.
pub fn example<B: Backend>(b: &B) {
    let Some(dir) = examples() else { return };
    let mut e = engine(b);
    e.import_book(&read(&dir, "book.json"), "book.json").unwrap();
    let mut outcomes = Vec::new();
    for f in ["lists.json", "lists-bad.json"] {
        for o in e.post_text(&read(&dir, f), f).unwrap() {
            outcomes.push(serde_json::json!({"list_no": o.list_no, "status": o.status}));
        }
    }
    let expected: Value = serde_json::from_str(&read(&dir, "expected.json")).unwrap();
    assert_eq!(Value::Array(outcomes), expected["outcomes"]);
    let st = jiamao_domain::doc::parse_stocktake(&read(&dir, "stocktake.json"), "stocktake.json").unwrap();
    // A second connection (another process) rebuilds the same state from the store.
    let mut other = engine(b);
    let report = other.reconcile("C52002600001", None, Some((&st, "stocktake.json"))).unwrap();
    assert_eq!(serde_json::to_value(&report).unwrap(), expected["reconcile"]);
    let as_of = other.balance("C52002600001", Some("2026-03-31".parse().unwrap())).unwrap();
    // 2026-03-31: imports of 50,000 and 40,000 less the February export of 30,000 film × 0.706185567.
    assert_eq!(as_of.materials[0].balance, "68814.43299");
    let to = other.reconcile("C52002600001", Some("2026-03-31".parse().unwrap()), None).unwrap();
    assert_eq!(to.materials[0].should_remain, "68814.43299");
    assert_eq!(to.products[0].exported, "30000");
}

const BOOK: &str = r#"{"book_no":"E1","book_type":"E","trade_mode":"0615",
 "operator":{"uscc":"91441900698123458E","customs_code":"4419960123","name":"测试","region_code":"441900"},
 "master_customs":"5200","valid_from":"2026-01-01","valid_until":"2026-12-31",
 "materials":[{"seq":1,"part_no":"A","hs_code":"3901100090","name":"甲","unit":"035","unit_price":"1","currency":"502","opening_qty":"0.5"}],
 "products":[{"seq":1,"part_no":"P","hs_code":"3920109090","name":"成品","unit":"035","unit_price":"2","currency":"502"}],
 "consumption":[{"product_seq":1,"material_seq":1,"version":"1","valid_from":"2026-01-01","net":"0.685","tangible_loss_rate":"0.025","intangible_loss_rate":"0.005"}]}"#;

/// Another enterprise (a different, valid credit code) filing the same book number.
const OTHER_USCC: &str = "91320505735624180G";

fn list(no: &str, dir: &str, goods: &str, mode: &str, qty: &str) -> String {
    format!(
        r#"{{"list_no":"{no}","book_no":"E1","declared_on":"2026-03-01","direction":"{dir}","goods":"{goods}","trade_mode":"{mode}","lines":[{{"line":1,"item_seq":1,"qty":"{qty}","amount":"3.30"}}]}}"#
    )
}

fn status<S: Store>(e: &mut Engine<S>, text: &str) -> (String, Option<String>) {
    let o = e.post_text(text, "t").unwrap().remove(0);
    (o.status.to_owned(), o.error.map(|x| x.rule))
}

/// Idempotency by list number, atomic rejection, books owned by one enterprise, changes.
pub fn idempotency_and_ownership<B: Backend>(b: &B) {
    let mut e = engine(b);
    assert_eq!(e.import_book(BOOK, "book").unwrap().status, "filed");
    assert_eq!(e.import_book(BOOK, "book").unwrap().status, "unchanged");
    let imp = list("I1", "I", "material", "0615", "100.125");
    assert_eq!(status(&mut e, &imp), ("posted".into(), None));
    assert_eq!(status(&mut e, &imp.replace("100.125", "100.1250")), ("duplicate".into(), None), "decimals compare by value");
    assert_eq!(status(&mut e, &imp.replace("100.125", "100.126")), ("rejected".into(), Some("list_no_conflict".into())));
    // A rejected list reserves nothing: sent again in a form that fits, it posts.
    let sale = list("S1", "E", "material", "0644", "500");
    assert_eq!(status(&mut e, &sale), ("rejected".into(), Some("balance_negative".into())));
    assert_eq!(status(&mut e, &sale.replace("\"500\"", "\"100.625\"")), ("posted".into(), None));
    assert_eq!(e.balance("E1", None).unwrap().materials[0].balance, "0");
    // Another enterprise cannot file a book with this number.
    let other = BOOK.replace("91441900698123458E", OTHER_USCC);
    let err = e.import_book(&other, "other.json").unwrap_err().to_string();
    assert!(err.contains("book_owner"), "{err}");
    // A change extends validity: revision 2, seen by another connection.
    let changed = BOOK.replace("2026-12-31", "2027-03-31");
    assert_eq!(e.import_book(&changed, "change").unwrap().revision, 2);
    let mut other_conn = engine(b);
    assert_eq!(other_conn.books().unwrap().iter().find(|r| r.key.book_no == "E1").map(|r| r.revision), Some(2));
    let late = imp.replace("I1", "I2").replace("2026-03-01", "2027-02-01");
    assert_eq!(status(&mut other_conn, &late), ("posted".into(), None));
    let (lists, lines) = other_conn.store_mut().counts().unwrap();
    assert_eq!((lists, lines), (3, 3));
}

/// Checkpoints restore exactly the state that a full replay computes.
pub fn checkpoints<B: Backend>(b: &B) {
    let mut e = Engine::new(b.connect()).with_checkpoint_lines(2);
    e.import_book(BOOK, "book").unwrap();
    for i in 0..12 {
        let l = if i % 3 == 0 { list(&format!("I{i}"), "I", "material", "0615", "7.25") } else { list(&format!("X{i}"), "E", "product", "0615", "2.5") };
        assert_eq!(status(&mut e, &l).0, "posted", "list {i}");
    }
    let mut fresh = engine(b);
    let loaded = fresh.ledger("E1").unwrap().unwrap().material_totals();
    assert_eq!(loaded, fresh.recompute("E1").unwrap().material_totals());
    assert_eq!(loaded, e.ledger("E1").unwrap().unwrap().material_totals());
    // With a fresh checkpoint a new process reads the report from it alone; it equals the report
    // computed from the ledger.
    e.flush_checkpoints().unwrap();
    let computed = e.reconcile("E1", None, None).unwrap();
    assert_eq!(engine(b).reconcile("E1", None, None).unwrap(), computed);
    // A list posted after the checkpoint makes the report fall back to replaying it.
    let mut other = engine(b);
    assert_eq!(status(&mut other, &list("LATE", "I", "material", "0615", "1")).0, "posted");
    let after = engine(b).reconcile("E1", None, None).unwrap();
    assert_ne!(after, computed);
    assert_eq!(after, other.reconcile("E1", None, None).unwrap());
}

/// Many writers on one book at once: 32 clients, each with its own connection, race on the same
/// list numbers (same and different content) and on the last units of one material. No balance
/// goes below zero, no list posts twice, every acknowledged list is stored, and the balances equal
/// a recomputation. `rounds` repeats it with other interleavings.
pub fn concurrent_writers<B: Backend>(b: &B, rounds: usize) {
    const CLIENTS: usize = 32;
    let mut setup = engine(b);
    setup.import_book(&BOOK.replace("\"0.5\"", "\"0\""), "book").unwrap();
    for round in 0..rounds {
        // Stock of exactly 10 units; every client tries to sell 1 (only 10 can), every client
        // posts the same shared list (one posts, the rest are duplicates), and half the clients
        // post a clashing version of a second shared list (one posts, the rest conflict).
        let stock = list(&format!("R{round}-IN"), "I", "material", "0615", "10");
        assert_eq!(status(&mut setup, &stock).0, "posted");
        let barrier = Arc::new(Barrier::new(CLIENTS));
        let results: Vec<Vec<(String, String, Option<String>)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..CLIENTS)
                .map(|c| {
                    let barrier = Arc::clone(&barrier);
                    s.spawn(move || {
                        let mut e = engine(b);
                        let mut mine = [
                            list(&format!("R{round}-SALE-{c}"), "E", "material", "0644", "1"),
                            list(&format!("R{round}-SHARED"), "I", "material", "0615", "0.001"),
                            list(&format!("R{round}-CLASH"), "I", "material", "0615", &format!("0.00{}", 1 + c % 2)),
                        ];
                        // A random order per client and round (the threads' interleaving is random too).
                        use std::hash::{BuildHasher, Hasher};
                        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                        h.write_usize(c ^ (round << 8));
                        let r = h.finish();
                        mine.rotate_left((r % 3) as usize);
                        if r & 4 != 0 {
                            mine.swap(0, 1);
                        }
                        barrier.wait();
                        mine.iter()
                            .map(|t| {
                                let o = e.post_text(t, "t").unwrap().remove(0);
                                (o.list_no, o.status.to_owned(), o.error.map(|x| x.rule))
                            })
                            .collect()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let all: Vec<_> = results.into_iter().flatten().collect();
        type Outcome = (String, String, Option<String>);
        let count = |pred: &dyn Fn(&Outcome) -> bool| all.iter().filter(|x| pred(x)).count();
        let sales_posted = count(&|x| x.0.contains("-SALE-") && x.1 == "posted");
        assert_eq!(sales_posted, 10, "round {round}: exactly the 10 units in stock can be sold");
        assert_eq!(count(&|x| x.0.contains("-SALE-") && x.2.as_deref() == Some("balance_negative")), CLIENTS - 10);
        assert_eq!(count(&|x| x.0.ends_with("-SHARED") && x.1 == "posted"), 1, "round {round}: a shared list posts once");
        assert_eq!(count(&|x| x.0.ends_with("-SHARED") && x.1 == "duplicate"), CLIENTS - 1);
        assert_eq!(count(&|x| x.0.ends_with("-CLASH") && x.1 == "posted"), 1, "round {round}: a clashing list posts once");
        let clash_dup = count(&|x| x.0.ends_with("-CLASH") && x.1 == "duplicate");
        let clash_conflict = count(&|x| x.0.ends_with("-CLASH") && x.2.as_deref() == Some("list_no_conflict"));
        assert_eq!(clash_dup + clash_conflict, CLIENTS - 1);
        assert_eq!(clash_conflict, CLIENTS / 2, "round {round}: the other content is refused");
    }
    let mut check = engine(b);
    let loaded = check.ledger("E1").unwrap().unwrap().material_totals();
    let recomputed = check.recompute("E1").unwrap().material_totals();
    assert_eq!(loaded, recomputed);
    let t = recomputed[0];
    assert_eq!(t.domestic_sold, jiamao_domain::Decimal::from(10 * rounds as i64));
    assert!(t.should_remain() >= jiamao_domain::Decimal::ZERO);
    let (lists, _) = check.store_mut().counts().unwrap();
    assert_eq!(lists as usize, rounds * (1 + 10 + 2), "every list stored once");
}

/// Verification cycles: closing freezes the report, adjusts and carries the remains forward; lists
/// in a closed cycle are refused; reports before the close are unchanged; every connection agrees.
pub fn cycles<B: Backend>(b: &B) {
    let Some(dir) = examples() else { return };
    let mut e = engine(b);
    e.import_book(&read(&dir, "book.json"), "book.json").unwrap();
    e.post_text(&read(&dir, "lists.json"), "lists.json").unwrap();
    let book = "C52002600001";
    let policy = jiamao_domain::cycle::DeadlinePolicy::default();
    let st = e.cycle_status(book, &policy).unwrap();
    // The last export of film was on 2026-07-15: 报核 within 30 days of it.
    assert_eq!((st.cycle_no, st.last_export.map(|d| d.to_string())), (1, Some("2026-07-15".to_owned())));
    assert_eq!(st.report_due.to_string(), "2026-08-14");
    let before = e.balance(book, Some("2026-06-30".parse().unwrap())).unwrap();
    let adj: jiamao_domain::cycle::AdjustmentsDoc = jiamao_domain::doc::parse_document(
        r#"{"book_no": "C52002600001", "adjustments": [{"seq": 1, "kind": "increase", "qty": "10", "reason": "核增: weighing difference agreed with customs"}, {"seq": 2, "kind": "decrease", "qty": "2.5", "reason": "核减"}]}"#,
        "adjustments.json",
    )
    .unwrap();
    let closure = e.close_cycle(book, "2026-06-30".parse().unwrap(), None, Some((&adj, "adjustments.json"))).unwrap();
    assert_eq!(closure.cycle_no, 1);
    let june: jiamao_domain::Decimal = before.materials[0].balance.parse().unwrap();
    assert_eq!(june.to_string(), "59630.04113");
    assert_eq!(jiamao_domain::decimal::report_qty(closure.openings[0].opening), "59640.04113", "should-remain of 30 June plus 10");
    assert_eq!(serde_json::to_value(&closure.report.materials[0].should_remain).unwrap(), serde_json::json!(before.materials[0].balance));
    // A list dated in the closed cycle is refused; one after it posts.
    let late = r#"{"list_no":"LATE1","book_no":"C52002600001","declared_on":"2026-06-15","direction":"I","goods":"material","trade_mode":"0615","lines":[{"line":1,"item_seq":3,"qty":"1"}]}"#;
    let o = e.post_text(late, "late").unwrap().remove(0);
    assert_eq!((o.status, o.error.map(|x| x.rule)), ("rejected", Some("cycle_closed".to_owned())));
    // Every connection sees the new cycle: the balance is the old total plus the adjustments.
    for mut c in [engine(b), e] {
        let now = c.balance(book, None).unwrap();
        assert_eq!(now.materials[0].balance, "49148.50265");
        assert_eq!(now.materials[1].balance, "15492.34535");
        let report = c.reconcile(book, None, None).unwrap();
        assert_eq!(report.materials[0].opening, "59640.04113");
        assert_eq!(report.materials[0].imported, "0", "imports were all before 1 July");
        // History before the close is unchanged.
        assert_eq!(c.balance(book, Some("2026-06-30".parse().unwrap())).unwrap(), before);
        assert_eq!(c.verify(book).unwrap(), None);
        let st = c.cycle_status(book, &policy).unwrap();
        assert_eq!((st.cycle_no, st.cycle_from.to_string(), st.last_write_off.map(|d| d.to_string())), (2, "2026-07-01".to_owned(), Some("2026-06-30".to_owned())));
        // A cycle cannot close before the open one starts.
        let err = c.close_cycle(book, "2026-05-31".parse().unwrap(), None, None).unwrap_err().to_string();
        assert!(err.contains("cycle_dates"), "{err}");
    }
    // The year-end close with the stocktake: openings are the counted remains.
    let mut e = engine(b);
    let stdoc = jiamao_domain::doc::parse_stocktake(&read(&dir, "stocktake.json"), "stocktake.json").unwrap();
    let year = e.close_cycle(book, "2026-12-31".parse().unwrap(), Some((&stdoc, "stocktake.json")), None).unwrap();
    assert_eq!(year.cycle_no, 2);
    assert!(year.from_stocktake);
    assert_eq!(jiamao_domain::decimal::report_qty(year.openings[0].opening), "49052.92985", "the counted remain of material 1");
    assert_eq!(e.closures(book).unwrap().len(), 2);
}

fn policy_doc(kind: &str, name: &str, valid_from: &str, body: &str) -> PolicyRecord {
    PolicyRecord { id: 0, kind: kind.into(), name: name.into(), valid_from: valid_from.parse().unwrap(), body: body.into() }
}

fn enterprise_record(enterprise: &str, book_no: &str, kind: &str, key: &str, recorded_on: &str, body: &str) -> EnterpriseRecord {
    EnterpriseRecord { id: 0, enterprise: enterprise.into(), book_no: book_no.into(), kind: kind.into(), key: key.into(), recorded_on: recorded_on.parse().unwrap(), body: body.into() }
}

/// Appends one policy document in a write of its own (no book locked); rolls back on failure.
fn append_policy<S: Store>(s: &mut S, p: &PolicyRecord) -> Result<i64, StoreError> {
    s.begin_write(&[]).unwrap();
    match s.append_policy(p) {
        Ok(id) => s.commit().map(|()| id),
        Err(e) => {
            s.rollback().unwrap();
            Err(e)
        }
    }
}

/// Appends one enterprise record in a write holding its book's lock; rolls back on failure.
fn append_record<S: Store>(s: &mut S, r: &EnterpriseRecord) -> Result<i64, StoreError> {
    s.begin_write(&[BookKey { enterprise: r.enterprise.clone(), book_no: r.book_no.clone() }]).unwrap();
    match s.append_record(r) {
        Ok(id) => s.commit().map(|()| id),
        Err(e) => {
            s.rollback().unwrap();
            Err(e)
        }
    }
}

/// Policy documents and enterprise records: appended and read back exactly (a body of several MB
/// too), in append order, unique by their keys (`Conflict`, nothing changed), nothing left by a
/// rolled-back append, records filtered by book and kind, and every connection agrees.
pub fn policies_and_records<B: Backend>(b: &B) {
    let mut s = b.connect();
    assert_eq!(s.policy("tariff", "2026").unwrap(), None);
    assert_eq!(s.policies("tariff").unwrap(), Vec::new());

    // Policy documents: national data, written without any book lock.
    let mut docs = vec![
        policy_doc("tariff", "2026", "2026-01-01", r#"{"rates":[{"hs":"3901100090","mfn":"6.5"}]}"#),
        policy_doc("rates", "vat-2026", "2026-01-01", r#"{"vat":"13"}"#),
        policy_doc("tariff", "2026-07", "2026-07-01", "{\"rates\":[],\"note\":\"中文, tabs\\t and \\\\ backslashes\"}\n"),
    ];
    let mut last = 0;
    for d in &mut docs {
        let id = append_policy(&mut s, d).unwrap();
        assert!(id > last, "ids increase: {id} after {last}");
        last = id;
        d.id = id;
    }
    assert_eq!(s.policy("tariff", "2026").unwrap().as_ref(), Some(&docs[0]));
    assert_eq!(s.policy("tariff", "2026-07").unwrap().as_ref(), Some(&docs[2]));
    assert_eq!(s.policy("rates", "2026").unwrap(), None, "found by kind and name together");
    assert_eq!(s.policies("tariff").unwrap(), vec![docs[0].clone(), docs[2].clone()], "a kind's documents in append order");
    assert_eq!(s.policies("rates").unwrap(), vec![docs[1].clone()]);

    // The same (kind, name) again is a conflict, whatever its content; nothing changes.
    let err = append_policy(&mut s, &policy_doc("tariff", "2026", "2026-02-01", "{}")).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = append_policy(&mut s, &docs[0]).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(s.policies("tariff").unwrap(), vec![docs[0].clone(), docs[2].clone()]);

    // A rolled-back append leaves nothing.
    s.begin_write(&[]).unwrap();
    s.append_policy(&policy_doc("tariff", "2027", "2027-01-01", "{}")).unwrap();
    s.rollback().unwrap();
    assert_eq!(s.policy("tariff", "2027").unwrap(), None);
    assert_eq!(s.policies("tariff").unwrap().len(), 2);
    // The store stays usable after a conflict and a rollback.
    let mut later = policy_doc("tariff", "2027", "2027-01-01", "{}");
    later.id = append_policy(&mut s, &later).unwrap();
    assert!(later.id > last);

    // Enterprise records.
    const E: &str = "91441900698123458E";
    const F: &str = "91320505735624180G";
    let e1 = BookKey { enterprise: E.into(), book_no: "E1".into() };
    assert_eq!(s.records(&e1, "tax_payment").unwrap(), Vec::new());
    assert_eq!(s.record(E, "tax_payment", "P1").unwrap(), None);
    let mut recs = vec![
        enterprise_record(E, "E1", "tax_payment", "P1", "2026-03-15", r#"{"amount":"1200.50"}"#),
        enterprise_record(E, "E2", "tax_payment", "P2", "2026-03-16", r#"{"amount":"7"}"#),
        enterprise_record(E, "E1", "schedule", "2026", "2026-01-01", r#"{"schedule":"monthly"}"#),
        enterprise_record(E, "E1", "tax_payment", "P3", "2026-02-01", r#"{"amount":"3"}"#),
        // The same kind and key for another enterprise is another record.
        enterprise_record(F, "F1", "tax_payment", "P1", "2026-03-15", r#"{"amount":"99"}"#),
    ];
    let mut last = 0;
    for r in &mut recs {
        let id = append_record(&mut s, r).unwrap();
        assert!(id > last, "ids increase: {id} after {last}");
        last = id;
        r.id = id;
    }
    assert_eq!(s.record(E, "tax_payment", "P1").unwrap().as_ref(), Some(&recs[0]));
    assert_eq!(s.record(F, "tax_payment", "P1").unwrap().as_ref(), Some(&recs[4]));
    assert_eq!(s.record(E, "schedule", "P1").unwrap(), None);
    // By book and kind, in append order (not by date).
    assert_eq!(s.records(&e1, "tax_payment").unwrap(), vec![recs[0].clone(), recs[3].clone()]);
    assert_eq!(s.records(&e1, "schedule").unwrap(), vec![recs[2].clone()]);
    assert_eq!(s.records(&BookKey { enterprise: E.into(), book_no: "E2".into() }, "tax_payment").unwrap(), vec![recs[1].clone()]);
    assert_eq!(s.records(&BookKey { enterprise: F.into(), book_no: "F1".into() }, "tax_payment").unwrap(), vec![recs[4].clone()]);
    assert_eq!(s.records(&BookKey { enterprise: F.into(), book_no: "E1".into() }, "tax_payment").unwrap(), Vec::new(), "another enterprise's book number");

    // The same (enterprise, kind, key) again is a conflict, also from another book; nothing changes.
    let err = append_record(&mut s, &enterprise_record(E, "E1", "tax_payment", "P1", "2026-04-01", "{}")).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = append_record(&mut s, &enterprise_record(E, "E2", "tax_payment", "P3", "2026-04-01", "{}")).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(s.records(&e1, "tax_payment").unwrap(), vec![recs[0].clone(), recs[3].clone()]);
    assert_eq!(s.record(E, "tax_payment", "P1").unwrap().as_ref(), Some(&recs[0]));

    // A rolled-back append leaves nothing.
    s.begin_write(std::slice::from_ref(&e1)).unwrap();
    s.append_record(&enterprise_record(E, "E1", "tax_payment", "P9", "2026-05-01", "{}")).unwrap();
    s.rollback().unwrap();
    assert_eq!(s.record(E, "tax_payment", "P9").unwrap(), None);
    assert_eq!(s.records(&e1, "tax_payment").unwrap().len(), 2);

    // A document of about 5 MB (every character class the JSON text may hold) round-trips exactly.
    let unit = "{\"hs\":\"3901100090\",\"name\":\"聚乙烯 \\\"LDPE\\\"\\t\\\\\",\"rate\":\"6.5\"}\n\r";
    let big = unit.repeat(5 * 1024 * 1024 / unit.len() + 1);
    assert!(big.len() >= 5 * 1024 * 1024);
    let mut huge = policy_doc("tariff", "2028-full", "2028-01-01", &big);
    huge.id = append_policy(&mut s, &huge).unwrap();
    let mut huge_rec = enterprise_record(E, "E1", "schedule", "big", "2028-01-01", &big);
    huge_rec.id = append_record(&mut s, &huge_rec).unwrap();

    // Another connection (another process) sees everything committed, and nothing else.
    let mut other = b.connect();
    assert_eq!(other.policy("tariff", "2028-full").unwrap().as_ref(), Some(&huge));
    assert_eq!(other.policies("tariff").unwrap(), vec![docs[0].clone(), docs[2].clone(), later.clone(), huge.clone()]);
    assert_eq!(other.policies("rates").unwrap(), vec![docs[1].clone()]);
    assert_eq!(other.record(E, "schedule", "big").unwrap().as_ref(), Some(&huge_rec));
    assert_eq!(other.records(&e1, "tax_payment").unwrap(), vec![recs[0].clone(), recs[3].clone()]);
    assert_eq!(other.records(&e1, "schedule").unwrap(), vec![recs[2].clone(), huge_rec.clone()]);
    assert_eq!(other.record(F, "tax_payment", "P1").unwrap().as_ref(), Some(&recs[4]));
    // And a write on it conflicts with what the first connection committed.
    let err = append_policy(&mut other, &policy_doc("rates", "vat-2026", "2026-01-01", "{}")).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = append_record(&mut other, &enterprise_record(F, "F1", "tax_payment", "P1", "2026-03-15", "{}")).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // Ledger counts are not affected.
    assert_eq!(other.counts().unwrap(), (0, 0));
}

/// Runs `f` in a write of its own (no book locked): commits what it did, or rolls back on failure.
fn write<S: Store, T>(s: &mut S, f: impl FnOnce(&mut S) -> Result<T, StoreError>) -> Result<T, StoreError> {
    s.begin_write(&[]).unwrap();
    match f(s) {
        Ok(v) => s.commit().map(|()| v),
        Err(e) => {
            s.rollback().unwrap();
            Err(e)
        }
    }
}

fn account(login: &str, role: &str, enterprise: Option<&str>, at: &str) -> AccountRecord {
    AccountRecord {
        login: login.into(),
        role: role.into(),
        enterprise: enterprise.map(Into::into),
        customs: None,
        province: None,
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1${login}"),
        disabled: false,
        created_at: at.into(),
        updated_at: at.into(),
    }
}

fn token(id: &str, login: &str, expires_at: Option<&str>) -> TokenRecord {
    TokenRecord {
        token_id: id.into(),
        login: login.into(),
        secret_hash: format!("sha256:{id}"),
        read_only: expires_at.is_none(),
        created_at: "2026-11-27T01:02:03.123456Z".into(),
        expires_at: expires_at.map(Into::into),
        revoked_at: None,
    }
}

fn session(id: &str, login: &str) -> SessionRecord {
    SessionRecord {
        session_id: id.into(),
        login: login.into(),
        csrf_hash: format!("csrf:{id}"),
        created_at: "2026-11-27T01:02:03.000001Z".into(),
        expires_at: "2026-11-27T13:02:03.000001Z".into(),
        revoked_at: None,
    }
}

/// The link after `head` on `chain` (the "hash" is a stand-in: the store neither computes nor checks it).
fn link(chain: &str, head: Option<&(i64, String)>, action: &str) -> AuditRecord {
    let (seq, prev_hash) = head.map_or((1, "0".repeat(64)), |(seq, hash)| (seq + 1, hash.clone()));
    AuditRecord {
        chain: chain.into(),
        seq,
        at: format!("2026-11-27T01:02:{:02}.{:06}Z", seq % 60, seq),
        actor: "admin".into(),
        role: "platform".into(),
        action: action.into(),
        target: format!("{chain}/{seq}"),
        request_id: format!("req-{chain}-{seq}"),
        source: "127.0.0.1".into(),
        outcome: "ok".into(),
        detail: r#"{"note":"中文\ttab"}"#.into(),
        hash: format!("{chain}:{seq}:{action}"),
        prev_hash,
    }
}

fn audit_chain<S: Store>(s: &mut S, chain: &str) -> Vec<AuditRecord> {
    let mut out = Vec::new();
    s.for_each_audit(chain, &mut |a| {
        out.push(a);
        Ok(())
    })
    .unwrap();
    out
}

fn event(enterprise: &str, kind: &str, body: &str) -> EventRecord {
    EventRecord { id: 0, enterprise: enterprise.into(), kind: kind.into(), at: "2026-11-27T01:02:03.123456Z".into(), body: body.into() }
}

/// Identity, the audit trail, events and webhooks: accounts upserted (an update keeps `created_at`),
/// tokens and sessions unique by id and revoked once, audit chains independent and unique by
/// (chain, seq) (`Conflict`, nothing changed; racing writers retry and the chain has no gap), events
/// paged by id across enterprises, webhooks and their cursors; a rolled-back write leaves nothing,
/// timestamps come back as the exact text given, and another connection sees every commit.
pub fn identity_audit_events<B: Backend>(b: &B) {
    const E: &str = "91441900698123458E";
    const F: &str = "91320505735624180G";
    let mut s = b.connect();
    assert_eq!(s.account("admin").unwrap(), None);
    assert_eq!(s.accounts().unwrap(), Vec::new());
    assert_eq!(s.audit_chains().unwrap(), Vec::<String>::new());
    assert_eq!(s.audit_head("system").unwrap(), None);
    assert_eq!(s.events_after(0, 10).unwrap(), Vec::new());
    assert_eq!(s.webhooks().unwrap(), Vec::new());

    // Accounts: inserted, read back, listed by login.
    let admin = account("admin", "platform", None, "2026-11-27T01:00:00.000000Z");
    let mut ent = account("e-ops", "enterprise", Some(E), "2026-11-27T01:00:01.5Z");
    let mut customs = account("c-5200", "customs", None, "2026-11-27T01:00:02.000001Z");
    customs.customs = Some("5200".into());
    customs.province = Some("44".into());
    for a in [&ent, &admin, &customs] {
        write(&mut s, |s| s.upsert_account(a)).unwrap();
    }
    assert_eq!(s.account("admin").unwrap().as_ref(), Some(&admin));
    assert_eq!(s.account("c-5200").unwrap().as_ref(), Some(&customs));
    assert_eq!(s.account("Admin").unwrap(), None, "logins are exact");
    assert_eq!(s.accounts().unwrap(), vec![admin.clone(), customs.clone(), ent.clone()], "by login");
    // An update changes every field but created_at.
    let mut changed = ent.clone();
    changed.role = "enterprise-admin".into();
    changed.enterprise = Some(F.into());
    changed.customs = Some("4419".into());
    changed.password_hash = "$argon2id$new".into();
    changed.disabled = true;
    changed.created_at = "2030-01-01T00:00:00Z".into();
    changed.updated_at = "2026-11-27T02:00:00.000002Z".into();
    write(&mut s, |s| s.upsert_account(&changed)).unwrap();
    ent = AccountRecord { created_at: ent.created_at.clone(), ..changed.clone() };
    assert_eq!(s.account("e-ops").unwrap().as_ref(), Some(&ent));
    assert_eq!(s.accounts().unwrap().len(), 3);

    // Tokens: unique by id, revoked once.
    let t1 = token("tok-1", "admin", None);
    let t2 = token("tok-2", "e-ops", Some("2027-11-27T01:02:03.123456Z"));
    let t0 = token("tok-0", "admin", Some("2026-12-01T00:00:00Z"));
    for t in [&t1, &t2, &t0] {
        write(&mut s, |s| s.insert_token(t)).unwrap();
    }
    assert_eq!(s.token("tok-2").unwrap().as_ref(), Some(&t2));
    assert_eq!(s.token("tok-9").unwrap(), None);
    assert_eq!(s.tokens("admin").unwrap(), vec![t0.clone(), t1.clone()], "an account's tokens, by id");
    assert_eq!(s.tokens("nobody").unwrap(), Vec::new());
    let err = write(&mut s, |s| s.insert_token(&token("tok-1", "e-ops", None))).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(s.token("tok-1").unwrap().as_ref(), Some(&t1), "nothing changed");
    assert!(write(&mut s, |s| s.revoke_token("tok-1", "2026-11-27T03:00:00.000001Z")).unwrap());
    assert!(!write(&mut s, |s| s.revoke_token("tok-1", "2026-11-27T04:00:00Z")).unwrap(), "already revoked");
    assert!(!write(&mut s, |s| s.revoke_token("tok-9", "2026-11-27T04:00:00Z")).unwrap(), "unknown");
    let t1 = TokenRecord { revoked_at: Some("2026-11-27T03:00:00.000001Z".into()), ..t1 };
    assert_eq!(s.token("tok-1").unwrap().as_ref(), Some(&t1), "revoked at the first time");
    assert_eq!(s.token("tok-0").unwrap().as_ref(), Some(&t0), "other tokens untouched");

    // Sessions likewise.
    let s1 = session("sess-1", "admin");
    let s2 = session("sess-2", "e-ops");
    for x in [&s1, &s2] {
        write(&mut s, |s| s.insert_session(x)).unwrap();
    }
    assert_eq!(s.session("sess-1").unwrap().as_ref(), Some(&s1));
    assert_eq!(s.session("sess-9").unwrap(), None);
    let err = write(&mut s, |s| s.insert_session(&session("sess-1", "e-ops"))).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(s.session("sess-1").unwrap().as_ref(), Some(&s1), "nothing changed");
    assert!(write(&mut s, |s| s.revoke_session("sess-1", "2026-11-27T05:00:00Z")).unwrap());
    assert!(!write(&mut s, |s| s.revoke_session("sess-1", "2026-11-27T06:00:00Z")).unwrap(), "already revoked");
    assert!(!write(&mut s, |s| s.revoke_session("sess-9", "2026-11-27T06:00:00Z")).unwrap(), "unknown");
    let s1 = SessionRecord { revoked_at: Some("2026-11-27T05:00:00Z".into()), ..s1 };
    assert_eq!(s.session("sess-1").unwrap().as_ref(), Some(&s1));
    assert_eq!(s.session("sess-2").unwrap().as_ref(), Some(&s2));

    // The audit trail: chains appended link by link, each with its own head.
    let mut system = Vec::new();
    let mut of_e = Vec::new();
    for i in 0..5 {
        let l = link("system", system.last().map(|l: &AuditRecord| (l.seq, l.hash.clone())).as_ref(), &format!("account.update.{i}"));
        write(&mut s, |s| s.append_audit(&l)).unwrap();
        system.push(l);
        if i % 2 == 0 {
            let l = link(E, s.audit_head(E).unwrap().as_ref(), "list.post");
            write(&mut s, |s| s.append_audit(&l)).unwrap();
            of_e.push(l);
        }
    }
    assert_eq!(s.audit_head("system").unwrap(), Some((5, system[4].hash.clone())));
    assert_eq!(s.audit_head(E).unwrap(), Some((3, of_e[2].hash.clone())));
    assert_eq!(s.audit_head(F).unwrap(), None);
    assert_eq!(audit_chain(&mut s, "system"), system, "in seq order, exactly as appended");
    assert_eq!(audit_chain(&mut s, E), of_e);
    assert_eq!(audit_chain(&mut s, F), Vec::new());
    let mut chains = vec![E.to_owned(), "system".to_owned()];
    chains.sort();
    assert_eq!(s.audit_chains().unwrap(), chains);
    // A link whose (chain, seq) exists is a conflict, whatever its content; nothing changes.
    let dup = link("system", Some(&(3, system[2].hash.clone())), "forged");
    assert_eq!(dup.seq, 4);
    let err = write(&mut s, |s| s.append_audit(&dup)).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = write(&mut s, |s| s.append_audit(&system[0])).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(audit_chain(&mut s, "system"), system);
    assert_eq!(s.audit_head("system").unwrap(), Some((5, system[4].hash.clone())));
    // The same seq on another chain is another link.
    let f1 = link(F, None, "book.file");
    write(&mut s, |s| s.append_audit(&f1)).unwrap();
    assert_eq!(audit_chain(&mut s, F), vec![f1.clone()]);
    assert_eq!(audit_chain(&mut s, E), of_e, "chains are independent");

    // Events: ids assigned, increasing; paged by id across enterprises.
    let mut events = vec![
        event(E, "list.posted", r#"{"list_no":"L1"}"#),
        event(F, "book.filed", r#"{"book_no":"F1"}"#),
        event(E, "list.posted", "{\"list_no\":\"L2\",\"note\":\"中文\\t\"}"),
        event(E, "cycle.closed", r#"{"cycle":1}"#),
        event(F, "list.posted", r#"{"list_no":"M1"}"#),
    ];
    let mut last = 0;
    for e in &mut events {
        let id = write(&mut s, |s| s.append_event(e)).unwrap();
        assert!(id > last, "ids increase: {id} after {last}");
        last = id;
        e.id = id;
    }
    assert_eq!(s.events_after(0, 100).unwrap(), events);
    assert_eq!(s.events_after(0, 2).unwrap(), events[..2].to_vec(), "at most limit");
    assert_eq!(s.events_after(events[1].id, 2).unwrap(), events[2..4].to_vec(), "the next page");
    assert_eq!(s.events_after(events[3].id, 2).unwrap(), events[4..].to_vec(), "the last page");
    assert_eq!(s.events_after(events[4].id, 2).unwrap(), Vec::new());
    assert_eq!(s.events_after(0, 0).unwrap(), Vec::new());
    // Several events in one write.
    let mut pair = vec![event(F, "tax.paid", "{}"), event(E, "tax.paid", "{}")];
    let ids = write(&mut s, |s| pair.iter().map(|e| s.append_event(e)).collect::<Result<Vec<_>, _>>()).unwrap();
    assert!(ids[0] > last && ids[1] > ids[0], "{ids:?} after {last}");
    pair[0].id = ids[0];
    pair[1].id = ids[1];
    events.extend(pair);
    assert_eq!(s.events_after(events[4].id, 10).unwrap(), events[5..].to_vec());

    // Webhooks and their cursors.
    let w1 = WebhookRecord {
        id: "wh-1".into(),
        login: "c-5200".into(),
        url: "https://example.gov.cn/hook?a=1&b=2".into(),
        kinds: "list.posted,cycle.closed".into(),
        created_at: "2026-11-27T07:00:00Z".into(),
        disabled: false,
    };
    let mut w0 = WebhookRecord { id: "wh-0".into(), login: "admin".into(), url: "http://127.0.0.1:9/x".into(), kinds: "*".into(), created_at: "2026-11-27T07:00:01Z".into(), disabled: false };
    for w in [&w1, &w0] {
        write(&mut s, |s| s.upsert_webhook(w)).unwrap();
    }
    assert_eq!(s.webhooks().unwrap(), vec![w0.clone(), w1.clone()], "by id");
    let update = WebhookRecord { url: "https://example.org/new".into(), kinds: "tax.paid".into(), disabled: true, created_at: "2031-01-01T00:00:00Z".into(), ..w0.clone() };
    write(&mut s, |s| s.upsert_webhook(&update)).unwrap();
    w0 = WebhookRecord { created_at: w0.created_at.clone(), ..update };
    assert_eq!(s.webhooks().unwrap(), vec![w0.clone(), w1.clone()], "an update keeps created_at");
    assert_eq!(s.webhook_cursor("wh-1").unwrap(), 0, "none yet");
    write(&mut s, |s| s.set_webhook_cursor("wh-1", events[2].id)).unwrap();
    assert_eq!(s.webhook_cursor("wh-1").unwrap(), events[2].id);
    write(&mut s, |s| s.set_webhook_cursor("wh-1", events[4].id)).unwrap();
    assert_eq!(s.webhook_cursor("wh-1").unwrap(), events[4].id);
    assert_eq!(s.webhook_cursor("wh-0").unwrap(), 0, "cursors are per webhook");

    // A rolled-back write leaves nothing.
    s.begin_write(&[]).unwrap();
    s.upsert_account(&account("ghost", "platform", None, "2026-11-27T08:00:00Z")).unwrap();
    s.upsert_account(&AccountRecord { password_hash: "rolled back".into(), updated_at: "2026-11-27T08:00:00Z".into(), ..admin.clone() }).unwrap();
    s.insert_token(&token("tok-ghost", "ghost", None)).unwrap();
    assert!(s.revoke_token("tok-2", "2026-11-27T08:00:00Z").unwrap());
    s.insert_session(&session("sess-ghost", "ghost")).unwrap();
    assert!(s.revoke_session("sess-2", "2026-11-27T08:00:00Z").unwrap());
    s.append_audit(&link("system", Some(&(5, system[4].hash.clone())), "ghost")).unwrap();
    s.append_audit(&link("ghost-chain", None, "ghost")).unwrap();
    s.append_event(&event(E, "ghost", "{}")).unwrap();
    s.upsert_webhook(&WebhookRecord { id: "wh-ghost".into(), ..w1.clone() }).unwrap();
    s.upsert_webhook(&WebhookRecord { disabled: true, ..w1.clone() }).unwrap();
    s.set_webhook_cursor("wh-1", 999_999).unwrap();
    s.set_webhook_cursor("wh-0", 999_999).unwrap();
    s.rollback().unwrap();
    assert_eq!(s.account("ghost").unwrap(), None);
    assert_eq!(s.account("admin").unwrap().as_ref(), Some(&admin));
    assert_eq!(s.token("tok-ghost").unwrap(), None);
    assert_eq!(s.token("tok-2").unwrap().as_ref(), Some(&t2));
    assert_eq!(s.session("sess-ghost").unwrap(), None);
    assert_eq!(s.session("sess-2").unwrap().as_ref(), Some(&s2));
    assert_eq!(s.audit_head("system").unwrap(), Some((5, system[4].hash.clone())));
    assert_eq!(s.audit_chains().unwrap(), {
        let mut c = vec![E.to_owned(), F.to_owned(), "system".to_owned()];
        c.sort();
        c
    });
    assert_eq!(s.events_after(0, 100).unwrap(), events);
    assert_eq!(s.webhooks().unwrap(), vec![w0.clone(), w1.clone()]);
    assert_eq!(s.webhook_cursor("wh-1").unwrap(), events[4].id);
    assert_eq!(s.webhook_cursor("wh-0").unwrap(), 0);
    // Events appended after a rolled-back one still come after every committed one.
    let mut after = event(F, "list.posted", r#"{"list_no":"M2"}"#);
    after.id = write(&mut s, |s| s.append_event(&after)).unwrap();
    assert!(after.id > events.last().unwrap().id);
    events.push(after);

    // Writers racing on one chain: each reads the head, links to it and appends; the loser of a
    // race gets `Conflict` and starts again from the new head. The chain ends with no gap and no fork.
    const WRITERS: usize = 6;
    const EACH: usize = 4;
    let barrier = Barrier::new(WRITERS);
    let conflicts = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            let (barrier, conflicts) = (&barrier, &conflicts);
            scope.spawn(move || {
                let mut c = b.connect();
                barrier.wait();
                for i in 0..EACH {
                    loop {
                        let head = c.audit_head("race").unwrap();
                        match write(&mut c, |c| c.append_audit(&link("race", head.as_ref(), &format!("writer {w} #{i}")))) {
                            Ok(()) => break,
                            Err(StoreError::Conflict(_)) => {
                                conflicts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                            Err(e) => panic!("writer {w}: {e}"),
                        }
                    }
                }
            });
        }
    });
    let race = audit_chain(&mut s, "race");
    assert_eq!(race.len(), WRITERS * EACH, "every link appended once ({} conflicts retried)", conflicts.into_inner());
    for (i, l) in race.iter().enumerate() {
        assert_eq!(l.seq, i as i64 + 1, "no gap");
        let prev = if i == 0 { "0".repeat(64) } else { race[i - 1].hash.clone() };
        assert_eq!(l.prev_hash, prev, "link {} follows link {}", l.seq, i);
    }
    let mut actions: Vec<&str> = race.iter().map(|l| l.action.as_str()).collect();
    actions.sort_unstable();
    actions.dedup();
    assert_eq!(actions.len(), WRITERS * EACH, "no link written twice");

    // Another connection (another process) sees every commit.
    let mut other = b.connect();
    assert_eq!(other.accounts().unwrap(), vec![admin.clone(), customs.clone(), ent.clone()]);
    assert_eq!(other.tokens("admin").unwrap(), vec![t0.clone(), t1.clone()]);
    assert_eq!(other.token("tok-2").unwrap().as_ref(), Some(&t2));
    assert_eq!(other.session("sess-1").unwrap().as_ref(), Some(&s1));
    assert_eq!(other.session("sess-2").unwrap().as_ref(), Some(&s2));
    assert_eq!(audit_chain(&mut other, "system"), system);
    assert_eq!(audit_chain(&mut other, E), of_e);
    assert_eq!(audit_chain(&mut other, "race"), race);
    let mut chains = vec![E.to_owned(), F.to_owned(), "race".to_owned(), "system".to_owned()];
    chains.sort();
    assert_eq!(other.audit_chains().unwrap(), chains);
    assert_eq!(other.events_after(0, 100).unwrap(), events);
    assert_eq!(other.webhooks().unwrap(), vec![w0.clone(), w1.clone()]);
    assert_eq!(other.webhook_cursor("wh-1").unwrap(), events[4].id);
    // What one connection commits, the other sees at once (the revocation of a token, a session).
    assert!(write(&mut other, |c| c.revoke_token("tok-2", "2026-11-27T09:00:00Z")).unwrap());
    assert_eq!(s.token("tok-2").unwrap().map(|t| t.revoked_at), Some(Some("2026-11-27T09:00:00Z".into())));
    assert!(!write(&mut s, |c| c.revoke_token("tok-2", "2026-11-27T09:00:01Z")).unwrap(), "revoked by the other connection");
    assert!(write(&mut s, |c| c.revoke_session("sess-2", "2026-11-27T09:00:02Z")).unwrap());
    assert_eq!(other.session("sess-2").unwrap().and_then(|x| x.revoked_at).as_deref(), Some("2026-11-27T09:00:02Z"));
    // And a write on it conflicts with what the first connection committed.
    let err = write(&mut other, |c| c.append_audit(&system[4])).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = write(&mut other, |c| c.insert_session(&s2)).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // Ledger counts and books are not affected.
    assert_eq!(other.counts().unwrap(), (0, 0));
    assert_eq!(other.books().unwrap(), Vec::new());
}
