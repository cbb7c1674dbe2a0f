//! Webhooks: departments (and enterprises) subscribe a URL to kinds of events; each event they may
//! see is POSTed to it in order, signed (HMAC-SHA256 with a configured key), with the event id as the
//! idempotency key. Delivery is at least once: an event is sent again until the receiver answers
//! 2xx, and the cursor moves only then, so a receiver that fails and recovers gets every event, and
//! by keying on `X-Jiamao-Event-Id` it applies each once.

use crate::{AppError, Engine};
use hmac::{Hmac, Mac};
use jiamao_domain::access::{self, Action, Principal, Target};
use jiamao_domain::audit::{self, SYSTEM_CHAIN};
use jiamao_store::{EventRecord, Store, StoreError, WebhookRecord};
use serde::Serialize;
use std::io::{Read, Write};
use std::time::Duration;

/// The key that signs deliveries: configured (a file), never built in; rotate by configuring a new
/// one (receivers see its id in `X-Jiamao-Key-Id`).
#[derive(Clone)]
pub struct WebhookKey {
    pub id: String,
    pub secret: Vec<u8>,
}

impl WebhookKey {
    /// Reads a key file: one line of at least 64 hex digits (32 bytes). The id is derived from it.
    pub fn parse(text: &str) -> Result<WebhookKey, String> {
        let hex = text.trim();
        let ok = hex.len() >= 64 && hex.len().is_multiple_of(2) && hex.bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            return Err("a webhook key file holds one line of at least 64 hex digits (jiamao webhook keygen)".to_owned());
        }
        let secret: Vec<u8> = (0..hex.len()).step_by(2).filter_map(|i| hex.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect();
        let id = audit::sha256_hex(&secret).chars().take(12).collect();
        Ok(WebhookKey { id, secret })
    }

    /// `sha256=<hex>` of HMAC-SHA256 over `timestamp.body`.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&self.secret) else { return String::new() };
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("sha256={}", audit::hex(&mac.finalize().into_bytes()))
    }
}

/// A new random key, as hex (`jiamao webhook keygen`).
pub fn new_key_hex() -> Result<String, AppError> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(|e| StoreError::Database(format!("no randomness available: {e}")))?;
    Ok(audit::hex(&b))
}

/// How deliveries leave: a POST, answered with a status.
pub trait Transport {
    fn post(&mut self, url: &str, headers: &[(String, String)], body: &[u8]) -> Result<u16, String>;
}

/// Plain HTTP/1.1 over TCP for `http://` URLs (receivers on the same network or behind a local TLS
/// relay; `https://` is refused at subscription until a TLS client is added).
pub struct HttpTransport {
    pub timeout: Duration,
}

impl Transport for HttpTransport {
    fn post(&mut self, url: &str, headers: &[(String, String)], body: &[u8]) -> Result<u16, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| format!("{url}: only http:// is supported"))?;
        let (host, path) = match rest.find('/') {
            Some(i) => (rest.get(..i).unwrap_or_default(), rest.get(i..).unwrap_or("/")),
            None => (rest, "/"),
        };
        let addr = if host.contains(':') { host.to_owned() } else { format!("{host}:80") };
        let mut stream = std::net::TcpStream::connect(&addr).map_err(|e| format!("{addr}: {e}"))?;
        stream.set_read_timeout(Some(self.timeout)).map_err(|e| e.to_string())?;
        stream.set_write_timeout(Some(self.timeout)).map_err(|e| e.to_string())?;
        let mut head = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n", body.len());
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body)).map_err(|e| format!("{addr}: {e}"))?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).map_err(|e| format!("{addr}: {e}"))?;
        let line = reply.split(|b| *b == b'\n').next().unwrap_or_default();
        String::from_utf8_lossy(line).split(' ').nth(1).and_then(|s| s.trim().parse().ok()).ok_or_else(|| format!("{addr}: no HTTP status in the answer"))
    }
}

/// A subscription as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookView {
    pub id: String,
    pub login: String,
    pub url: String,
    pub kinds: Vec<String>,
    pub created_at: String,
    pub disabled: bool,
    /// The last event delivered.
    pub cursor: i64,
}

/// What one delivery round did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct DeliveryReport {
    pub delivered: u64,
    /// (webhook id, event id, what went wrong): retried next round.
    pub failed: Vec<(String, i64, String)>,
}

fn kinds_of(w: &WebhookRecord) -> Vec<String> {
    w.kinds.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect()
}

impl<S: Store> Engine<S> {
    /// Subscribes a URL of the acting account to kinds of events (empty: every kind it may see); the
    /// local operator may subscribe on behalf of an account (`owner`).
    pub fn add_webhook(&mut self, url: &str, kinds: &[String]) -> Result<WebhookView, AppError> {
        self.add_webhook_for(None, url, kinds)
    }

    /// [`Engine::add_webhook`] for `owner` (local operator only).
    pub fn add_webhook_for(&mut self, owner: Option<&str>, url: &str, kinds: &[String]) -> Result<WebhookView, AppError> {
        if let Some(login) = owner {
            if self.ctx.principal != Principal::Local {
                return Err(AppError::Forbidden("only the local operator subscribes on behalf of an account".to_owned()));
            }
            if self.store.account(login)?.is_none() {
                return Err(AppError::Input(format!("no account {login}")));
            }
        } else {
            self.authorize(Action::ReadEvents, &Target::default(), "webhooks")?;
            // Subscribing changes the platform: not with a read-only token.
            if matches!(&self.ctx.principal, Principal::User(i) if i.read_only) {
                let denied = access::Denied { rule: "read_only", message: "a read-only token cannot subscribe".to_owned() };
                self.log_refusal(Action::ReadEvents, "webhooks", &denied)?;
                return Err(AppError::Forbidden(denied.message));
            }
        }
        if !url.starts_with("http://") || url.len() > 2000 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AppError::Input(format!("{url:?}: a webhook URL is http://host[:port]/path (https needs a local TLS relay for now)")));
        }
        let known: Vec<&str> = access::EVENT_POLICY.iter().map(|(k, _)| *k).collect();
        if let Some(bad) = kinds.iter().find(|k| !known.contains(&k.as_str())) {
            return Err(AppError::Input(format!("unknown event kind {bad:?}; one of {}", known.join(", "))));
        }
        let record = WebhookRecord {
            id: crate::platform::random_id(8)?,
            login: owner.map(str::to_owned).unwrap_or_else(|| self.ctx.principal.login().to_owned()),
            url: url.to_owned(),
            kinds: kinds.join(","),
            created_at: self.ctx.at(),
            disabled: false,
        };
        self.write(&[], |me| {
            me.store.upsert_webhook(&record)?;
            let detail = serde_json::json!({"id": record.id, "url": record.url, "kinds": record.kinds}).to_string();
            me.audit_link(SYSTEM_CHAIN, "add_webhook", &format!("webhook {}", record.id), "ok", &detail)?;
            Ok(((), true))
        })?;
        Ok(WebhookView { id: record.id.clone(), login: record.login.clone(), url: record.url.clone(), kinds: kinds_of(&record), created_at: record.created_at.clone(), disabled: false, cursor: 0 })
    }

    /// The acting account's subscriptions (every one for the local operator).
    pub fn webhooks(&mut self) -> Result<Vec<WebhookView>, AppError> {
        self.authorize(Action::ReadEvents, &Target::default(), "webhooks")?;
        let all = matches!(&self.ctx.principal, Principal::Local);
        let me = self.ctx.principal.login().to_owned();
        let mut out = Vec::new();
        for w in self.store.webhooks()? {
            if all || w.login == me {
                let cursor = self.store.webhook_cursor(&w.id)?;
                out.push(WebhookView { id: w.id.clone(), login: w.login.clone(), url: w.url.clone(), kinds: kinds_of(&w), created_at: w.created_at.clone(), disabled: w.disabled, cursor });
            }
        }
        Ok(out)
    }

    /// One delivery round: for every active subscription, the events after its cursor that its
    /// account may see (as that account, now), of its kinds, in order, at most `max` each; stops a
    /// subscription at its first failure (to retry it next round, in order).
    pub fn deliver_webhooks(&mut self, key: &WebhookKey, transport: &mut dyn Transport, max: usize) -> Result<DeliveryReport, AppError> {
        let acting = self.ctx.clone();
        let mut report = DeliveryReport::default();
        let hooks = self.store.webhooks()?;
        for w in hooks.into_iter().filter(|w| !w.disabled) {
            // Deliver as the subscribing account: what it may see today, no more.
            let principal = if w.login == "local" {
                Principal::Local
            } else {
                match self.store.account(&w.login)? {
                    Some(a) if !a.disabled => match crate::platform::identity_for(&a) {
                        Ok(id) => Principal::User(id),
                        Err(_) => continue,
                    },
                    _ => continue,
                }
            };
            let kinds = kinds_of(&w);
            let mut cursor = self.store.webhook_cursor(&w.id)?;
            let mut sent = 0usize;
            'hook: while sent < max {
                let batch = self.store.events_after(cursor, 200)?;
                if batch.is_empty() {
                    break;
                }
                for e in batch {
                    if !Self::wanted(&principal, &kinds, &e) {
                        cursor = e.id;
                        continue;
                    }
                    let body = serde_json::json!({"id": e.id, "enterprise": e.enterprise, "kind": e.kind, "at": e.at, "body": serde_json::from_str::<serde_json::Value>(&e.body).unwrap_or_default()})
                        .to_string();
                    let ts = acting.at();
                    let headers = vec![
                        ("X-Jiamao-Event-Id".to_owned(), e.id.to_string()),
                        ("X-Jiamao-Webhook-Id".to_owned(), w.id.clone()),
                        ("X-Jiamao-Timestamp".to_owned(), ts.clone()),
                        ("X-Jiamao-Key-Id".to_owned(), key.id.clone()),
                        ("X-Jiamao-Signature".to_owned(), key.sign(&ts, body.as_bytes())),
                    ];
                    match transport.post(&w.url, &headers, body.as_bytes()) {
                        Ok(status) if (200..300).contains(&status) => {
                            cursor = e.id;
                            report.delivered += 1;
                            sent += 1;
                            self.save_cursor(&w.id, cursor)?;
                            if sent >= max {
                                break 'hook;
                            }
                        }
                        Ok(status) => {
                            report.failed.push((w.id.clone(), e.id, format!("answered {status}")));
                            break 'hook;
                        }
                        Err(why) => {
                            report.failed.push((w.id.clone(), e.id, why));
                            break 'hook;
                        }
                    }
                }
            }
            if cursor > self.store.webhook_cursor(&w.id)? {
                self.save_cursor(&w.id, cursor)?;
            }
        }
        Ok(report)
    }

    fn wanted(principal: &Principal, kinds: &[String], e: &EventRecord) -> bool {
        if !kinds.is_empty() && !kinds.contains(&e.kind) {
            return false;
        }
        let body: serde_json::Value = serde_json::from_str(&e.body).unwrap_or_default();
        let target = Target { enterprise: Some(&e.enterprise), master_customs: body.get("master_customs").and_then(|v| v.as_str()), region: body.get("region").and_then(|v| v.as_str()) };
        access::event_visible(principal, &e.kind, &target)
    }

    fn save_cursor(&mut self, id: &str, cursor: i64) -> Result<(), AppError> {
        self.write(&[], |me| {
            me.store.set_webhook_cursor(id, cursor)?;
            Ok(((), true))
        })
    }
}
