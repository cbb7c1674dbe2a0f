#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The trait on PostgreSQL, operation by operation: exact round trips (decimals, text that needs
//! escaping in COPY), conflicts, book filing rules, streaming over many fetches, corruption checks,
//! checkpoints, transaction state, and the per-book lock.

mod common;

use chrono::NaiveDate;
use common::TestDb;
use jiamao_domain::codes::{CountryCode, TradeModeCode};
use jiamao_domain::doc::{Direction, Goods, ListDoc, ListLineDoc};
use jiamao_domain::ledger::Posting;
use jiamao_domain::Decimal;
use jiamao_store::{BookKey, BookRecord, Resolution, Store, StoreError, StoredList};
use jiamao_store_postgres::{PgStore, FETCH_ROWS};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const E1: &str = "91441900698123458E";
const E2: &str = "91320505735624180G";

fn key(e: &str, b: &str) -> BookKey {
    BookKey { enterprise: e.to_owned(), book_no: b.to_owned() }
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn line(n: u32, qty: &str) -> ListLineDoc {
    ListLineDoc { line: n, item_seq: 1, qty: d(qty), amount: None, consumption_version: None, origin_country: None, legal_qty: None, second_legal_qty: None }
}

fn list(no: &str, book: &str, on: &str, lines: Vec<ListLineDoc>) -> ListDoc {
    ListDoc {
        list_no: no.to_owned(),
        book_no: book.to_owned(),
        declared_on: date(on),
        direction: Direction::I,
        goods: Goods::Material,
        trade_mode: TradeModeCode::parse("0615").unwrap(),
        counterparty_book_no: None,
        declaration_no: None,
        lines,
    }
}

fn posting(l: ListDoc) -> Posting {
    let versions = vec![None; l.lines.len()];
    Posting { canonical: l.canonical(), list: l, versions }
}

fn all(s: &mut PgStore, k: &BookKey, after: i64, to: Option<NaiveDate>) -> Vec<StoredList> {
    let mut out = Vec::new();
    s.for_each_list(k, after, to, &mut |l| {
        out.push(l);
        Ok(())
    })
    .unwrap();
    out
}

fn file(s: &mut PgStore, k: &BookKey, revision: u32, resolutions: &[Resolution]) -> Result<(), StoreError> {
    s.begin_write(std::slice::from_ref(k))?;
    let r = s.file_book(&BookRecord { key: k.clone(), revision, doc_json: format!("{{\"revision\":{revision}}}") }, resolutions);
    match r {
        Ok(()) => s.commit(),
        Err(e) => {
            s.rollback()?;
            Err(e)
        }
    }
}

#[test]
fn lists_round_trip_exactly() {
    let Some(db) = TestDb::new() else { return };
    let mut s = db.store();
    let k = key(E1, "B1");
    let nasty = "tab\there, newline\nthere, cr\r, back\\slash, \\N, \\., 引号\"";
    let mut a = list("L-1", "B1", "2026-01-10", vec![line(1, "50000.0"), line(2, "0.000000001"), line(7, "123456789012345678.5")]);
    a.direction = Direction::E;
    a.goods = Goods::Product;
    a.trade_mode = TradeModeCode::parse("0654").unwrap();
    a.counterparty_book_no = Some("C-2\\x".into());
    a.declaration_no = Some(nasty.into());
    a.lines[0].amount = Some(d("67500.00"));
    a.lines[0].origin_country = Some(CountryCode::parse("133").unwrap());
    a.lines[0].legal_qty = Some(d("-1.50"));
    a.lines[0].second_legal_qty = Some(d("0"));
    a.lines[1].consumption_version = Some(nasty.into());
    a.lines[2].item_seq = u32::MAX;
    a.lines[2].line = u32::MAX - 1;
    let mut pa = posting(a.clone());
    pa.versions = vec![Some("v\t1".into()), None, Some("2".into())];
    let mut b = list("L-2", "B1", "2026-02-01", vec![line(1, "1")]);
    b.goods = Goods::Defective;
    let pb = posting(b.clone());

    s.begin_write(std::slice::from_ref(&k)).unwrap();
    let ids = s.append_lists(E1, &[pa.clone(), pb.clone()]).unwrap();
    // Read inside the write: the same transaction sees its own lists.
    assert_eq!(all(&mut s, &k, 0, None).len(), 2);
    s.commit().unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] < ids[1]);

    let got = all(&mut s, &k, 0, None);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], StoredList { id: ids[0], list: a.clone(), versions: pa.versions.clone() });
    assert_eq!(got[1], StoredList { id: ids[1], list: b, versions: pb.versions.clone() });
    // Decimals come back with the scale they were given, so even their text is the same.
    assert_eq!(got[0].list.lines[0].qty.to_string(), "50000.0");
    assert_eq!(got[0].list.lines[1].qty.to_string(), "0.000000001");
    assert_eq!(got[0].list.lines[0].amount.map(|x| x.to_string()).as_deref(), Some("67500.00"));
    assert_eq!(got[0].list.canonical(), pa.canonical);
    assert_eq!(s.posted_canonical(E1, "L-1").unwrap().as_deref(), Some(pa.canonical.as_str()));
    assert_eq!(s.posted_canonical(E2, "L-1").unwrap(), None, "list numbers belong to an enterprise");

    // After an id, and up to a date.
    assert_eq!(all(&mut s, &k, ids[0], None).iter().map(|l| l.id).collect::<Vec<_>>(), [ids[1]]);
    assert_eq!(all(&mut s, &k, 0, Some(date("2026-01-31"))).iter().map(|l| l.id).collect::<Vec<_>>(), [ids[0]]);
    assert_eq!(all(&mut s, &k, 0, Some(date("2026-02-01"))).len(), 2);
    assert!(all(&mut s, &k, 0, Some(date("2026-01-09"))).is_empty());
    // Another enterprise's book of the same number (there can be none, but the key says whose).
    assert!(all(&mut s, &key(E2, "B1"), 0, None).is_empty());
    assert_eq!(s.counts().unwrap(), (2, 4));
}

#[test]
fn a_list_number_posted_twice_is_a_conflict() {
    let Some(db) = TestDb::new() else { return };
    let mut s = db.store();
    let k = key(E1, "B1");
    let p = posting(list("L", "B1", "2026-01-10", vec![line(1, "1")]));
    s.begin_write(std::slice::from_ref(&k)).unwrap();
    s.append_lists(E1, std::slice::from_ref(&p)).unwrap();
    s.commit().unwrap();

    s.begin_write(std::slice::from_ref(&k)).unwrap();
    let err = s.append_lists(E1, &[posting(list("M", "B1", "2026-01-10", vec![line(1, "1")])), p.clone()]).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // The transaction is dead: committing it must not pretend to succeed.
    assert!(s.commit().is_err());
    s.rollback().unwrap();
    assert_eq!(s.counts().unwrap(), (1, 1), "nothing of the failed batch was stored");

    // Twice in one batch is a conflict too; another enterprise may use the same number.
    s.begin_write(std::slice::from_ref(&k)).unwrap();
    let q = posting(list("N", "B1", "2026-01-10", vec![line(1, "1")]));
    assert!(matches!(s.append_lists(E1, &[q.clone(), q.clone()]), Err(StoreError::Conflict(_))));
    s.rollback().unwrap();
    let k2 = key(E2, "B2");
    s.begin_write(std::slice::from_ref(&k2)).unwrap();
    s.append_lists(E2, &[posting(list("L", "B2", "2026-01-10", vec![line(1, "1")]))]).unwrap();
    s.commit().unwrap();
    assert_eq!(s.counts().unwrap(), (2, 2));
}

#[test]
fn writes_need_a_write_transaction_and_transaction_state_is_tracked() {
    let Some(db) = TestDb::new() else { return };
    let mut s = db.store();
    let k = key(E1, "B1");
    s.rollback().unwrap();
    s.rollback().unwrap();
    assert!(s.commit().is_err(), "commit without begin_write");
    assert!(s.append_lists(E1, &[posting(list("L", "B1", "2026-01-10", vec![line(1, "1")]))]).is_err());
    assert!(s.save_checkpoint(&k, 1, 1, "{}").is_err());
    assert!(s.file_book(&BookRecord { key: k.clone(), revision: 1, doc_json: "{}".into() }, &[]).is_err());
    assert_eq!(s.counts().unwrap(), (0, 0));
    s.begin_write(&[]).unwrap();
    assert!(s.begin_write(std::slice::from_ref(&k)).is_err(), "one write at a time");
    s.rollback().unwrap();
    // Rolled back work is gone; an empty batch is nothing.
    s.begin_write(std::slice::from_ref(&k)).unwrap();
    assert!(s.append_lists(E1, &[]).unwrap().is_empty());
    s.append_lists(E1, &[posting(list("L", "B1", "2026-01-10", vec![line(1, "1")]))]).unwrap();
    s.rollback().unwrap();
    assert_eq!(s.counts().unwrap(), (0, 0));
}

#[test]
fn books_are_filed_by_revision_and_owned_by_one_enterprise() {
    let Some(db) = TestDb::new() else { return };
    let mut s = db.store();
    let k = key(E1, "B1");
    assert_eq!(s.book(&k).unwrap(), None);
    assert_eq!(s.book_owner("B1").unwrap(), None);
    assert!(matches!(file(&mut s, &k, 2, &[]), Err(StoreError::Conflict(_))), "revision 1 first");
    file(&mut s, &k, 1, &[]).unwrap();
    assert_eq!(s.book_owner("B1").unwrap().as_deref(), Some(E1));
    assert!(matches!(file(&mut s, &k, 1, &[]), Err(StoreError::Conflict(_))), "revision 1 again");
    match file(&mut s, &key(E2, "B1"), 1, &[]) {
        Err(StoreError::BookOwner(m)) => assert!(m.contains("belongs to enterprise"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.book_owner("B1").unwrap().as_deref(), Some(E1));

    // A pending product line, then a change that resolves its version.
    let mut pending = list("P", "B1", "2026-03-01", vec![line(1, "5"), line(2, "6")]);
    pending.direction = Direction::E;
    pending.goods = Goods::Product;
    s.begin_write(std::slice::from_ref(&k)).unwrap();
    let mut p = posting(pending);
    p.versions = vec![None, Some("1".into())];
    s.append_lists(E1, &[p]).unwrap();
    s.commit().unwrap();
    // A resolution of a list that does not exist is corrupt, and nothing is filed.
    let missing = Resolution { list_no: "nope".into(), line: 1, version: "2".into() };
    assert!(matches!(file(&mut s, &k, 2, &[missing]), Err(StoreError::Corrupt(_))));
    assert_eq!(s.book(&k).unwrap().map(|b| b.revision), Some(1));
    file(&mut s, &k, 2, &[Resolution { list_no: "P".into(), line: 1, version: "2".into() }]).unwrap();
    let rec = s.book(&k).unwrap().unwrap();
    assert_eq!((rec.revision, rec.doc_json.as_str()), (2, "{\"revision\":2}"));
    let got = all(&mut s, &k, 0, None);
    assert_eq!(got[0].versions, [Some("2".to_owned()), Some("1".to_owned())], "a declared version wins; a pending one is resolved");

    let k3 = key(E2, "A0");
    file(&mut s, &k3, 1, &[]).unwrap();
    let books: Vec<(String, u32)> = s.books().unwrap().into_iter().map(|b| (b.key.book_no, b.revision)).collect();
    assert_eq!(books, [("A0".to_owned(), 1), ("B1".to_owned(), 2)]);
}

#[test]
fn a_book_streams_in_posting_order_over_many_fetches() {
    let Some(db) = TestDb::new() else { return };
    let mut s = db.store();
    let k = key(E1, "BIG");
    // Lists whose lines straddle the fetch boundaries.
    let sizes = [FETCH_ROWS - 1, 1, FETCH_ROWS + 500, 3, FETCH_ROWS];
    let mut posted = Vec::new();
    for (i, n) in sizes.iter().enumerate() {
        let lines = (0..*n).map(|j| line(u32::try_from(j).unwrap() + 1, &format!("{}.{:03}", j, i))).collect();
        posted.push(posting(list(&format!("BIG-{i}"), "BIG", "2026-01-10", lines)));
    }
    // Another book of the same enterprise in between, which must not show up.
    let other = posting(list("OTHER", "SMALL", "2026-01-10", vec![line(1, "1")]));
    s.begin_write(&[k.clone(), key(E1, "SMALL")]).unwrap();
    let ids = s.append_lists(E1, &posted[..2]).unwrap();
    s.append_lists(E1, std::slice::from_ref(&other)).unwrap();
    let more = s.append_lists(E1, &posted[2..]).unwrap();
    s.commit().unwrap();
    let ids: Vec<i64> = ids.into_iter().chain(more).collect();

    let mut seen = Vec::new();
    s.for_each_list(&k, 0, None, &mut |l| {
        seen.push((l.id, l.list.lines.len()));
        assert_eq!(l.list, posted[seen.len() - 1].list);
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, ids.iter().copied().zip(sizes).collect::<Vec<_>>());

    // The same inside a write transaction.
    s.begin_write(std::slice::from_ref(&k)).unwrap();
    assert_eq!(all(&mut s, &k, ids[1], None).len(), 3);
    s.commit().unwrap();

    // Stopping early with an error leaves the connection usable, in and out of a write.
    let stop = || StoreError::Corrupt("stop".into());
    let mut calls = 0;
    assert!(matches!(
        s.for_each_list(&k, 0, None, &mut |_| {
            calls += 1;
            Err(stop())
        }),
        Err(StoreError::Corrupt(_))
    ));
    assert_eq!(calls, 1);
    s.begin_write(std::slice::from_ref(&k)).unwrap();
    assert!(s.for_each_list(&k, 0, None, &mut |_| Err(stop())).is_err());
    assert_eq!(all(&mut s, &k, 0, None).len(), sizes.len());
    s.commit().unwrap();
    assert_eq!(all(&mut s, &k, 0, None).len(), sizes.len());
}

#[test]
fn a_list_missing_lines_is_corrupt() {
    let Some(db) = TestDb::new() else { return };
    let mut s = db.store();
    s.client()
        .batch_execute(
            "INSERT INTO lists (enterprise, id, list_no, book_no, declared_on, direction, goods, trade_mode, line_count, canonical) \
             VALUES ('E', 1, 'L', 'B', '2026-01-01', 'I', 'material', '0615', 2, '{}');
             INSERT INTO list_lines (enterprise, list_id, pos, line, item_seq, qty) VALUES ('E', 1, 0, 1, 1, 5);",
        )
        .unwrap();
    let err = s.for_each_list(&key("E", "B"), 0, None, &mut |_| Ok(())).unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt(m) if m.contains("1 stored lines, 2 expected")), "{err:?}");
}

#[test]
fn checkpoints_keep_the_newest_two_and_replace_repeats() {
    let Some(db) = TestDb::new() else { return };
    let mut s = db.store();
    let k = key(E1, "B1");
    assert_eq!(s.latest_checkpoint(&k, 1).unwrap(), None);
    s.begin_write(std::slice::from_ref(&k)).unwrap();
    s.save_checkpoint(&k, 1, 5, "{\"a\":5}").unwrap();
    s.save_checkpoint(&k, 1, 9, "{\"a\":9}").unwrap();
    s.save_checkpoint(&k, 1, 9, "{\"again\":9}").unwrap();
    s.save_checkpoint(&k, 2, 3, "{\"r2\":3}").unwrap();
    s.commit().unwrap();
    // A checkpoint at the same position replaces the earlier one (say, of an older format).
    assert_eq!(s.latest_checkpoint(&k, 1).unwrap(), Some((9, "{\"again\":9}".to_owned())));
    assert_eq!(s.latest_checkpoint(&k, 2).unwrap(), Some((3, "{\"r2\":3}".to_owned())));
    assert_eq!(s.latest_checkpoint(&key(E2, "B1"), 1).unwrap(), None);
}

/// Runs `f` on another thread and reports whether it finished within `wait`; then lets it finish.
fn blocks(wait: Duration, f: impl FnOnce() + Send) -> impl FnOnce(&dyn Fn()) -> bool {
    move |release: &dyn Fn()| {
        let done = AtomicBool::new(false);
        std::thread::scope(|sc| {
            let h = sc.spawn(|| {
                f();
                done.store(true, Ordering::SeqCst);
            });
            std::thread::sleep(wait);
            let finished = done.load(Ordering::SeqCst);
            release();
            h.join().unwrap();
            !finished
        })
    }
}

#[test]
fn a_writer_waits_for_the_lock_of_its_book_only() {
    let Some(db) = TestDb::new() else { return };
    let k1 = key(E1, "B1");
    let k2 = key(E1, "B2");
    let holder = std::sync::Mutex::new(db.store());
    holder.lock().unwrap().begin_write(&[k2.clone(), k1.clone()]).unwrap();
    let release = || holder.lock().unwrap().commit().unwrap();

    // The same book waits until the holder commits.
    let mut other = db.store();
    let waited = blocks(Duration::from_millis(400), || {
        other.begin_write(&[key(E2, "A"), k1.clone()]).unwrap();
        other.commit().unwrap();
    })(&release);
    assert!(waited, "a second writer of B1 must wait for the first");

    // Another book of the same enterprise does not.
    holder.lock().unwrap().begin_write(std::slice::from_ref(&k1)).unwrap();
    let waited = blocks(Duration::from_millis(400), || {
        other.begin_write(std::slice::from_ref(&k2)).unwrap();
        other.commit().unwrap();
    })(&release);
    assert!(!waited, "a writer of B2 must not wait for B1");
}

#[test]
fn the_same_list_number_on_two_books_at_once_is_a_conflict() {
    let Some(db) = TestDb::new() else { return };
    let mut a = db.store();
    let mut b = db.store();
    let (k1, k2) = (key(E1, "B1"), key(E1, "B2"));
    a.begin_write(std::slice::from_ref(&k1)).unwrap();
    a.append_lists(E1, &[posting(list("SAME", "B1", "2026-01-10", vec![line(1, "1")]))]).unwrap();
    let committed = AtomicBool::new(false);
    std::thread::scope(|sc| {
        let h = sc.spawn(|| {
            b.begin_write(std::slice::from_ref(&k2)).unwrap();
            // Waits on the unique index until A commits, then loses.
            let r = b.append_lists(E1, &[posting(list("SAME", "B2", "2026-01-10", vec![line(1, "2")]))]);
            assert!(committed.load(Ordering::SeqCst), "B's insert must wait for A");
            b.rollback().unwrap();
            r
        });
        std::thread::sleep(Duration::from_millis(300));
        committed.store(true, Ordering::SeqCst);
        a.commit().unwrap();
        let r = h.join().unwrap();
        assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    });
    assert_eq!(a.counts().unwrap(), (1, 1));
}

#[test]
fn a_lost_connection_is_replaced_between_transactions() {
    let Some(db) = TestDb::new() else { return };
    let mut s = db.store();
    let k = key(E1, "B1");
    let pid: i32 = s.client().query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    let kill = |pid: i32| {
        let ok: bool = db.raw().query_one("SELECT pg_terminate_backend($1)", &[&pid]).unwrap().get(0);
        assert!(ok);
        std::thread::sleep(Duration::from_millis(100));
    };
    kill(pid);
    // The operation that meets the fault fails; the next one has a new connection.
    let first = s.counts();
    let second = s.counts();
    assert!(first.is_err() || second.is_ok(), "{first:?}");
    assert_eq!(second.unwrap(), (0, 0));

    // Inside a write the transaction is lost: the error surfaces, rollback ends it, the next write works.
    s.begin_write(std::slice::from_ref(&k)).unwrap();
    let pid: i32 = s.client().query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    kill(pid);
    assert!(s.append_lists(E1, &[posting(list("L", "B1", "2026-01-10", vec![line(1, "1")]))]).is_err());
    let _ = s.rollback();
    s.begin_write(std::slice::from_ref(&k)).unwrap();
    s.append_lists(E1, &[posting(list("L", "B1", "2026-01-10", vec![line(1, "1")]))]).unwrap();
    s.commit().unwrap();
    assert_eq!(s.counts().unwrap(), (1, 1));
}
