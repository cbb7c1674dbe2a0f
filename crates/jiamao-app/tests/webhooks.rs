#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Webhooks with a receiver that fails and recovers: every event arrives, each once by its key, in
//! order, signed; and a subscriber receives only what its role and jurisdiction may see.

use jiamao_app::platform::Ctx;
use jiamao_app::webhooks::{Transport, WebhookKey};
use jiamao_app::Engine;
use jiamao_domain::access::Role;
use jiamao_store::Store;
use jiamao_store_sqlite::{Durability, SqliteStore};
use std::collections::BTreeMap;
use std::path::Path;

/// A receiver that refuses its first `fail_first` requests without processing them, and processes
/// request number `lost_ack` but answers 500 (its acknowledgement is lost), then works. It applies
/// each event once by its `X-Jiamao-Event-Id`.
struct Flaky {
    key: WebhookKey,
    calls: usize,
    fail_first: usize,
    lost_ack: usize,
    applied: BTreeMap<String, BTreeMap<i64, String>>,
    deliveries: usize,
}

impl Transport for Flaky {
    fn post(&mut self, url: &str, headers: &[(String, String)], body: &[u8]) -> Result<u16, String> {
        self.calls += 1;
        if self.calls <= self.fail_first {
            return Err("connection refused".into());
        }
        let h = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(h("X-Jiamao-Signature"), self.key.sign(&h("X-Jiamao-Timestamp"), body), "the signature verifies with the shared key");
        assert_eq!(h("X-Jiamao-Key-Id"), self.key.id);
        self.deliveries += 1;
        let id: i64 = h("X-Jiamao-Event-Id").parse().unwrap();
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["id"], id);
        // Idempotent by key: a repeated delivery changes nothing.
        self.applied.entry(url.to_owned()).or_default().entry(id).or_insert_with(|| v["kind"].as_str().unwrap().to_owned());
        if self.calls == self.lost_ack {
            return Ok(500);
        }
        Ok(204)
    }
}

fn engine(dir: &Path) -> Engine<SqliteStore> {
    Engine::new(SqliteStore::open(&dir.join("jiamao.db"), Durability::Normal).unwrap())
}

#[test]
fn a_receiver_that_fails_and_recovers_gets_every_event_once() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interchange/examples");
    if !examples.join("lists.json").exists() {
        eprintln!("skipping: ../shared/interchange/examples not found");
        return;
    }
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../jiamao-cli/demo");
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path());
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    e.import_book(&read(&examples.join("book.json")), "book.json").unwrap();
    e.import_book(&read(&demo.join("book.json")), "demo/book.json").unwrap();
    e.add_user("customs5200", Role::CustomsOfficer, None, Some("5200"), None, "customs password 1").unwrap();
    e.add_user("suzhou", Role::EnterpriseOperator, Some("91320505735624180G"), None, None, "suzhou password 1").unwrap();
    // Each subscribes as itself.
    let as_user = |e: &mut Engine<SqliteStore>, login: &str| {
        let account = e.store_mut().account(login).unwrap().unwrap();
        let id = jiamao_domain::access::Identity {
            login: login.into(),
            role: account.role.parse().unwrap(),
            enterprise: account.enterprise,
            customs: account.customs,
            province: account.province,
            read_only: false,
        };
        e.set_ctx(Ctx { principal: jiamao_domain::access::Principal::User(id), request_id: "t".into(), source: "test".into(), now: chrono::DateTime::UNIX_EPOCH });
    };
    as_user(&mut e, "customs5200");
    e.add_webhook("http://customs.example/hook", &[]).unwrap();
    as_user(&mut e, "suzhou");
    e.add_webhook("http://suzhou.example/hook", &["list_posted".to_owned()]).unwrap();
    assert!(e.add_webhook("https://x.example/", &[]).is_err(), "https is refused until a TLS client exists");
    assert!(e.add_webhook("http://x.example/", &["no_such_kind".to_owned()]).is_err());
    e.set_ctx(Ctx::default());
    e.post_text(&read(&examples.join("lists.json")), "lists.json").unwrap();
    e.post_text(&read(&demo.join("lists.json")), "demo/lists.json").unwrap();

    let key = WebhookKey::parse(&"ab".repeat(32)).unwrap();
    let mut rx = Flaky { key: key.clone(), calls: 0, fail_first: 3, lost_ack: 7, applied: BTreeMap::new(), deliveries: 0 };
    // Rounds until nothing is left: each failure stops that subscription for the round.
    let mut rounds = 0;
    loop {
        rounds += 1;
        let r = e.deliver_webhooks(&key, &mut rx, 1000).unwrap();
        if r.failed.is_empty() && r.delivered == 0 {
            break;
        }
        assert!(rounds < 20, "delivery does not converge");
    }
    let customs = &rx.applied["http://customs.example/hook"];
    let suzhou = &rx.applied["http://suzhou.example/hook"];
    // Customs 5200 sees the example book (district 5200): filed + 14 lists; nothing of district 2300.
    assert_eq!(customs.len(), 15, "{customs:?}");
    assert_eq!(customs.values().filter(|k| *k == "list_posted").count(), 14);
    // The Suzhou enterprise sees its own lists only (11 of the demo), of the kind it chose.
    assert_eq!(suzhou.len(), 11, "{suzhou:?}");
    assert!(suzhou.values().all(|k| k == "list_posted"));
    // The lost acknowledgement made one event arrive twice; the receiver applied it once.
    assert_eq!(rx.deliveries, customs.len() + suzhou.len() + 1);
    // Cursors are at the end: another round sends nothing.
    let r = e.deliver_webhooks(&key, &mut rx, 1000).unwrap();
    assert_eq!((r.delivered, r.failed.len()), (0, 0));
    // The chain is intact after all of it.
    assert!(e.audit_verify().unwrap().intact);
}
