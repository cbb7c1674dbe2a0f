#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! README's first command: `jiamao serve --demo` on the embedded SQLite default prints the address
//! to open and serves a populated system.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn send(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(request.as_bytes()).expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

fn get(addr: &str, path: &str, cookie: &str) -> String {
    send(addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"))
}

/// Logs in with the login form as a person would; returns the session cookie.
fn log_in(addr: &str, login: &str, password: &str) -> String {
    let body = format!("login={login}&password={password}&next=%2F");
    let r = send(addr, &format!("POST /login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()));
    assert!(r.starts_with("HTTP/1.1 303"), "login: {r}");
    r.lines().filter_map(|l| l.strip_prefix("set-cookie: ")).find(|c| c.starts_with("jiamao_session=")).and_then(|c| c.split(';').next()).expect("a session cookie").to_owned()
}

#[test]
fn serve_demo_prints_its_address_and_shows_the_demo_book() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_jiamao")).current_dir(dir.path()).args(["serve", "--demo", "--addr", "127.0.0.1:0"]).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("spawn");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    out.read_line(&mut line).expect("read the address line");
    let addr = line.split("http://").nth(1).and_then(|r| r.split('/').next()).unwrap_or_default().to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "no address printed: {line}");
    let mut accounts = String::new();
    out.read_line(&mut accounts).expect("read the accounts line");
    assert!(accounts.contains("demo-enterprise") && accounts.contains("jiamao-demo-2026"), "{accounts}");
    // Without logging in: sent to the login page.
    let anonymous = get(&addr, "/", "");
    assert!(anonymous.starts_with("HTTP/1.1 303") && anonymous.contains("location: /login"), "{anonymous}");
    let cookie = log_in(&addr, "demo-enterprise", "jiamao-demo-2026");
    let page = get(&addr, "/", &cookie);
    let balance = get(&addr, "/api/v1/books/B32052600001/balance", &cookie);
    let _ = child.kill();
    let _ = child.wait();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("B32052600001"), "the demo book must be listed: {page}");
    assert!(balance.starts_with("HTTP/1.1 200"), "{balance}");
    assert!(balance.contains("\"seq\":1") || balance.contains("\"seq\": 1"), "{balance}");
    // The default database file was created where the server ran.
    assert!(dir.path().join("jiamao.db").exists());
}
