//! The audit chain: every command is a link of a hash chain per enterprise (and one for the platform
//! itself), so that changing, removing or inserting a record breaks every hash after it.
//!
//! `hash = SHA-256(prev_hash ‖ each field, length-prefixed)`, hex; the first link's `prev_hash` is 64
//! zeros. Each field is written as its byte length (8 bytes, big-endian) followed by its UTF-8 bytes,
//! so no two different records encode alike.

use sha2::{Digest, Sha256};

/// The `prev_hash` of the first link of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain of the platform's own records (accounts, national policy data).
pub const SYSTEM_CHAIN: &str = "system";

/// One link, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link<'a> {
    pub chain: &'a str,
    pub seq: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub role: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub request_id: &'a str,
    pub source: &'a str,
    pub outcome: &'a str,
    pub detail: &'a str,
    pub prev_hash: &'a str,
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// SHA-256 of `data`, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// The hash of a link.
pub fn link_hash(l: &Link<'_>) -> String {
    let mut h = Sha256::new();
    let seq = l.seq.to_string();
    for field in [l.prev_hash, l.chain, seq.as_str(), l.at, l.actor, l.role, l.action, l.target, l.request_id, l.source, l.outcome, l.detail] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex(&h.finalize())
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub chain: String,
    pub seq: i64,
    pub reason: String,
}

/// Walks one chain, link by link in stored order: each must follow the previous one (seq one more,
/// `prev_hash` the previous hash) and carry its own hash. Returns the number of links and the head.
#[derive(Debug, Default)]
pub struct ChainWalker {
    chain: String,
    expected_seq: i64,
    prev: String,
    pub links: u64,
    pub broken: Option<Break>,
}

impl ChainWalker {
    pub fn new(chain: &str) -> Self {
        ChainWalker { chain: chain.to_owned(), expected_seq: 1, prev: GENESIS.to_owned(), links: 0, broken: None }
    }

    /// Takes the next stored link with its stored hash; after the first break, nothing more is judged.
    pub fn next(&mut self, l: &Link<'_>, stored_hash: &str) {
        if self.broken.is_some() {
            return;
        }
        let reason = if l.seq != self.expected_seq {
            Some(format!("sequence {} where {} was expected (a link removed or inserted)", l.seq, self.expected_seq))
        } else if l.prev_hash != self.prev {
            Some("its previous-hash does not match the link before it (a link before it was changed, removed or inserted)".to_owned())
        } else if link_hash(l) != stored_hash {
            Some("its content does not match its hash (the record was changed)".to_owned())
        } else {
            None
        };
        if let Some(reason) = reason {
            self.broken = Some(Break { chain: self.chain.clone(), seq: l.seq, reason });
            return;
        }
        self.links += 1;
        self.expected_seq += 1;
        self.prev = stored_hash.to_owned();
    }

    /// The head: (last seq, its hash), while unbroken.
    pub fn head(&self) -> (i64, &str) {
        (self.expected_seq - 1, &self.prev)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn link(seq: i64, prev: &str, detail: &'static str) -> (Link<'static>, String) {
        let prev: &'static str = Box::leak(prev.to_owned().into_boxed_str());
        let l = Link { chain: "c", seq, at: "2026-11-27T00:00:00Z", actor: "a", role: "r", action: "post_lists", target: "t", request_id: "q", source: "s", outcome: "ok", detail, prev_hash: prev };
        let h = link_hash(&l);
        (l, h)
    }

    #[test]
    fn a_chain_verifies_and_any_change_breaks_it_at_that_link() {
        let (l1, h1) = link(1, GENESIS, "one");
        let (l2, h2) = link(2, &h1, "two");
        let (l3, h3) = link(3, &h2, "three");
        let mut w = ChainWalker::new("c");
        for (l, h) in [(&l1, &h1), (&l2, &h2), (&l3, &h3)] {
            w.next(l, h);
        }
        assert!(w.broken.is_none());
        assert_eq!(w.head(), (3, h3.as_str()));
        // Change link 2's content.
        let mut w = ChainWalker::new("c");
        let mut bad = l2.clone();
        bad.detail = "TWO";
        for (l, h) in [(&l1, &h1), (&bad, &h2), (&l3, &h3)] {
            w.next(l, h);
        }
        assert_eq!(w.broken.as_ref().unwrap().seq, 2);
        // Remove link 2.
        let mut w = ChainWalker::new("c");
        for (l, h) in [(&l1, &h1), (&l3, &h3)] {
            w.next(l, h);
        }
        assert_eq!(w.broken.as_ref().unwrap().seq, 3);
        // Fields do not run into each other.
        let a = Link { detail: "ab", action: "c", ..l1.clone() };
        let b = Link { detail: "b", action: "ca", ..l1.clone() };
        assert_ne!(link_hash(&a), link_hash(&b));
    }
}
