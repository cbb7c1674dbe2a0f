#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! README's first command: `jiamao serve --demo` on the embedded SQLite default prints the address
//! to open and serves a populated system.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

#[test]
fn serve_demo_prints_its_address_and_shows_the_demo_book() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_jiamao")).current_dir(dir.path()).args(["serve", "--demo", "--addr", "127.0.0.1:0"]).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read the address line");
    let addr = line.split("http://").nth(1).and_then(|r| r.split('/').next()).unwrap_or_default().to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "no address printed: {line}");
    let page = get(&addr, "/");
    let balance = get(&addr, "/api/v1/books/B32052600001/balance");
    let _ = child.kill();
    let _ = child.wait();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("B32052600001"), "the demo book must be listed: {page}");
    assert!(balance.starts_with("HTTP/1.1 200"), "{balance}");
    assert!(balance.contains("\"seq\":1") || balance.contains("\"seq\": 1"), "{balance}");
    // The default database file was created where the server ran.
    assert!(dir.path().join("jiamao.db").exists());
}
