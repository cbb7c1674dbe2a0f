#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The web workspace in a real browser: `jiamao serve` on a fresh SQLite file with two accounts, and
//! `e2e/flows.mjs` driving Debian's Chromium (headless) through playwright-core: an enterprise uploads
//! the example and sees its rejected lists, opens the reconciliation and drills into a material; a
//! customs officer accepts a 单耗 declaration; the language is switched. Screenshots go to
//! `target/tmp/e2e/` (`CARGO_TARGET_TMPDIR`).
//!
//! Needs `/usr/bin/chromium` (or `JIAMAO_CHROMIUM`), `node` and `e2e/node_modules` (`npm ci --prefix e2e`);
//! `.ci/run` installs them. Skipped, saying so, when any is missing.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PASSWORD: &str = "browser test password";

fn missing() -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let chromium = std::env::var("JIAMAO_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    if !Path::new(&chromium).exists() {
        return Some(format!("{chromium} not found"));
    }
    if Command::new("node").arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        return Some("node not found".to_owned());
    }
    if !root.join("e2e/node_modules/playwright-core").is_dir() {
        return Some("e2e/node_modules not installed (npm ci --prefix e2e)".to_owned());
    }
    if !root.join("../shared/interchange/examples/book.json").exists() {
        return Some("../shared/interchange/examples not found".to_owned());
    }
    None
}

fn jiamao(db: &Path, args: &[&str], stdin: Option<&str>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jiamao")).arg("--db").arg(db).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "jiamao {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_workspace_in_a_real_browser() {
    if let Some(why) = missing() {
        eprintln!("skipping the browser tests: {why}");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jiamao.db");
    let line = format!("{PASSWORD}\n");
    jiamao(&db, &["user", "add", "ent-admin", "--role", "enterprise_admin", "--enterprise", "91441900698123458E"], Some(&line));
    jiamao(&db, &["user", "add", "customs-5200", "--role", "customs_officer", "--customs", "5200"], Some(&line));
    let mut server = Command::new(env!("CARGO_BIN_EXE_jiamao")).arg("--db").arg(&db).args(["serve", "--addr", "127.0.0.1:0"]).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let addr = first.split("http://").nth(1).and_then(|r| r.split('/').next()).unwrap_or_default().to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "no address printed: {first}");
    let shots: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e");
    let out = Command::new("node")
        .arg(root.join("e2e/flows.mjs"))
        .arg(format!("http://{addr}"))
        .arg(&shots)
        .arg(root.join("../shared/interchange/examples"))
        .env("JIAMAO_E2E_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the browser flows failed:\n{text}");
    for shot in
        ["1-enterprise-dashboard", "2-upload-outcomes", "3-reconcile", "3b-stocktake", "4-drill-down", "4b-lists-tablet", "4c-inline-validation", "5-review-queue", "6-review-accepted", "7-english"]
    {
        assert!(shots.join(format!("{shot}.png")).exists(), "no screenshot {shot}");
    }
}
