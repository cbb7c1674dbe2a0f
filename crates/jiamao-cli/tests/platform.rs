#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The platform on the command line: accounts and tokens, the audit chain (tampering found, signed
//! heads), and webhooks delivered over real HTTP to a receiver that fails and recovers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn examples() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interchange/examples");
    if p.join("lists.json").exists() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/interchange/examples not found");
        None
    }
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn db(&self) -> PathBuf {
        self.dir.path().join("jiamao.db")
    }
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_jiamao")).arg("--db").arg(self.db()).args(args).output().unwrap()
    }
    fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jiamao")).arg("--db").arg(self.db()).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
    /// The example book and lists.
    fn example() -> Option<Env> {
        let ex = examples()?;
        let env = Env { dir: tempfile::tempdir().unwrap() };
        assert!(env.run(&["book", "import", ex.join("book.json").to_str().unwrap()]).status.success());
        assert!(env.run(&["list", "post", ex.join("lists.json").to_str().unwrap()]).status.success());
        Some(env)
    }
    fn sql(&self, statement: &str) {
        let c = rusqlite::Connection::open(self.db()).unwrap();
        c.execute_batch(statement).unwrap();
    }
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn accounts_and_tokens() {
    let Some(env) = Env::example() else { return };
    let o = env.run_with_stdin(&["user", "add", "alice", "--role", "enterprise_operator", "--enterprise", "91441900698123458E"], "a long secret password\n");
    assert!(o.status.success(), "{}", text(&o));
    // The jurisdiction must fit the role.
    let o = env.run_with_stdin(&["user", "add", "bob", "--role", "customs_officer"], "a long secret password\n");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = env.run_with_stdin(&["user", "add", "carol", "--role", "auditor"], "short\n");
    assert_eq!(o.status.code(), Some(2), "a short password is refused");
    let o = env.run(&["token", "issue", "alice", "--read-only"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let token = out.lines().last().unwrap();
    assert!(token.starts_with("jm_") && token.len() > 80, "{out}");
    // Neither the password nor the token is in the database file.
    let db = std::fs::read(env.db()).unwrap();
    let wal = std::fs::read(format!("{}-wal", env.db().display())).unwrap_or_default();
    for secret in ["a long secret password", token, token.rsplit('_').next().unwrap()] {
        for bytes in [&db, &wal] {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} stored in clear");
        }
    }
    let users = env.run(&["user", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&users.stdout).unwrap();
    assert_eq!(v[0]["login"], "alice");
    assert!(v[0].get("password_hash").is_none());
}

#[test]
fn tampering_is_found_and_named() {
    let Some(env) = Env::example() else { return };
    let o = env.run(&["audit", "verify", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["intact"], true);
    assert_eq!(v["lists_checked"], 14);
    // Signed heads, exported before the tampering.
    assert!(env.run(&["audit", "keygen", "--out", &env.path("key.hex")]).status.success());
    let heads = env.run(&["audit", "heads", "--key", &env.path("key.hex")]);
    assert!(heads.status.success(), "{}", text(&heads));
    std::fs::write(env.path("heads.json"), &heads.stdout).unwrap();
    assert!(env.run(&["audit", "check", &env.path("heads.json")]).status.success());
    // A posted line changed directly in the database (its guard dropped first, as an intruder would).
    env.sql("DROP TRIGGER list_lines_append_only_u; UPDATE list_lines SET qty = '1000.5' WHERE list_id = (SELECT id FROM lists WHERE list_no = 'QD520026000000007');");
    let o = env.run(&["audit", "verify", "--json"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["altered_lists"].as_array().unwrap().len(), 1);
    assert_eq!(v["altered_lists"][0]["list_no"], "QD520026000000007");
    assert_eq!(v["altered_lists"][0]["seq"], 8, "the link that recorded its posting");
    // An audit record changed: the chain breaks exactly there.
    env.sql("DROP TRIGGER audit_log_append_only_u; UPDATE audit_log SET actor = 'mallory' WHERE chain = '91441900698123458E' AND seq = 5;");
    let o = env.run(&["audit", "verify"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o).contains("BROKEN at record 5"), "{}", text(&o));
    // Rewriting the chain from there on to hide it is caught by the signed heads kept elsewhere.
    env.sql("UPDATE audit_log SET hash = 'x' || substr(hash, 2) WHERE chain = '91441900698123458E' AND seq = 15;");
    let o = env.run(&["audit", "check", &env.path("heads.json")]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("no longer holds record 15"), "{}", text(&o));
}

/// A receiver on a real socket: answers 503 to the first `fail` requests, then 204; returns the
/// event ids it accepted, in order.
fn receiver(fail: usize, expect: usize) -> (String, std::thread::JoinHandle<Vec<i64>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut accepted = Vec::new();
        let mut seen = 0;
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0usize;
            let mut id = 0i64;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let l = line.trim_end().to_ascii_lowercase();
                if l.is_empty() {
                    break;
                }
                if let Some(v) = l.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                if let Some(v) = l.strip_prefix("x-jiamao-event-id:") {
                    id = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            seen += 1;
            let status = if seen <= fail { "503 Service Unavailable" } else { "204 No Content" };
            if seen > fail && !accepted.contains(&id) {
                accepted.push(id);
            }
            stream.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
            if accepted.len() >= expect {
                return accepted;
            }
        }
        accepted
    });
    (url, handle)
}

#[test]
fn webhooks_reach_a_receiver_that_fails_and_recovers() {
    let Some(env) = Env::example() else { return };
    let o = env.run_with_stdin(&["user", "add", "customs", "--role", "customs_officer", "--customs", "5200"], "customs password 1\n");
    assert!(o.status.success(), "{}", text(&o));
    let (url, handle) = receiver(2, 14);
    let o = env.run(&["webhook", "add", &url, "--for", "customs", "--kinds", "list_posted"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(env.run(&["webhook", "keygen", "--out", &env.path("wh.hex")]).status.success());
    // Two refused rounds, then the receiver recovers and every list arrives, in order.
    let mut delivered = 0;
    for _ in 0..4 {
        let o = env.run(&["webhook", "deliver", "--key", &env.path("wh.hex")]);
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        delivered += v["delivered"].as_u64().unwrap();
        if delivered == 14 {
            break;
        }
    }
    assert_eq!(delivered, 14);
    let ids = handle.join().unwrap();
    assert_eq!(ids.len(), 14);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
    let list = env.run(&["webhook", "list"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v[0]["cursor"], ids[13]);
}

#[test]
fn cross_checks_with_department_data() {
    let Some(env) = Env::example() else { return };
    // The example exports product 1: 78,000 (QD…002) and 65,000 (QD…007) USD; re-exports 640 (QD…010).
    let fx = env.path("fx.csv");
    std::fs::write(&fx, "enterprise,receipt_no,received_on,currency,amount,list_no\n91441900698123458E,FX-1,2026-03-01,502,78000,QD520026000000002\n91441900698123458E,FX-2,2026-08-10,502,60000,\n")
        .unwrap();
    let o = env.run(&["crosscheck", "fx-load", &fx]);
    assert!(o.status.success(), "{}", text(&o));
    let again = env.run(&["crosscheck", "fx-load", &fx]);
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!((v["recorded"].as_u64(), v["duplicates"].as_u64()), (Some(0), Some(2)));
    let o = env.run(&["crosscheck", "fx", "91441900698123458E", "--from", "2026-01-01", "--to", "2026-12-31"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // Exports 78,000 + 65,000 + 640 = 143,640 against receipts 138,000: 5,640 short, flagged.
    assert_eq!(v["rows"][0]["exported"], "143640");
    assert_eq!(v["rows"][0]["shortfall"], "5640");
    assert_eq!(v["flagged"], true);
    let names: Vec<&str> = v["lists_without_named_receipt"].as_array().unwrap().iter().map(|l| l["list_no"].as_str().unwrap()).collect();
    assert_eq!(names, ["QD520026000000007", "QD520026000000010"]);
    // A file with a bad row is refused whole, listing the problem.
    let bad = env.path("bad.csv");
    std::fs::write(&bad, "enterprise,receipt_no,received_on,currency,amount,list_no\n91441900698123458E,FX-9,2026-13-01,502,1,\n").unwrap();
    let o = env.run(&["crosscheck", "fx-load", &bad]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("received_on"), "{}", text(&o));
    // The tax side: VAT it expects against what was assessed (no tariff loaded: the periods cannot
    // be quoted, so VAT assessed is 0 and the rows are flagged, never silently equal).
    let vat = env.path("vat.csv");
    std::fs::write(&vat, "enterprise,period,vat_expected\n91441900698123458E,QD520026000000005,619.29\n").unwrap();
    assert!(env.run(&["crosscheck", "vat-load", &vat]).status.success());
    let o = env.run(&["crosscheck", "vat", "91441900698123458E", "--as-of", "2026-12-31"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["flagged"], true);
    let row = v["rows"].as_array().unwrap().iter().find(|r| r["period"] == "QD520026000000005").unwrap().clone();
    assert_eq!(row["vat_expected"], "619.29");
    assert!(row["reason"].as_str().unwrap().contains("could not all be quoted"), "{row}");
}
