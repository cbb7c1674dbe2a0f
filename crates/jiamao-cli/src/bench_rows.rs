//! The peer design for `jiamao bench`: balances kept as rows in SQLite and rewritten by every list
//! (read each touched balance, check it, update it), as a conventional ERP ledger does. It posts
//! the same lists (imports and exports under 0615, 单耗 through the version in force, quantity
//! control) but checks less than Jiamao does (no leftovers, authorised quantities or document
//! rules), so the comparison flatters it. It exists only to be measured against; it is not part of
//! the product.

use jiamao_domain::book::Book;
use jiamao_domain::doc::{Goods, ListDoc};
use jiamao_domain::Decimal;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

pub struct RowLedger {
    conn: Connection,
    book: Book,
}

impl RowLedger {
    pub fn open(path: &Path, full: bool, book: Book) -> anyhow::Result<Self> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", if full { "FULL" } else { "NORMAL" })?;
        conn.execute_batch(
            "CREATE TABLE balances (book_no TEXT NOT NULL, seq INTEGER NOT NULL, balance TEXT NOT NULL, PRIMARY KEY (book_no, seq)) WITHOUT ROWID;
             CREATE TABLE lists (id INTEGER PRIMARY KEY, list_no TEXT NOT NULL UNIQUE, book_no TEXT NOT NULL, declared_on TEXT NOT NULL, canonical TEXT NOT NULL);
             CREATE TABLE list_lines (list_id INTEGER NOT NULL, pos INTEGER NOT NULL, item_seq INTEGER NOT NULL, qty TEXT NOT NULL, PRIMARY KEY (list_id, pos)) WITHOUT ROWID;",
        )?;
        {
            let tx = conn.unchecked_transaction()?;
            for m in &book.materials {
                tx.execute("INSERT INTO balances VALUES (?1, ?2, ?3)", params![book.book_no, m.seq, m.opening_qty.to_string()])?;
            }
            tx.commit()?;
        }
        Ok(RowLedger { conn, book })
    }

    /// Posts a batch of lists in one transaction; returns how many posted.
    pub fn post_batch(&mut self, lists: &[ListDoc]) -> anyhow::Result<usize> {
        let tx = self.conn.unchecked_transaction()?;
        let mut posted = 0;
        for list in lists {
            if tx.prepare_cached("SELECT 1 FROM lists WHERE list_no = ?1")?.query_row(params![list.list_no], |_| Ok(())).optional()?.is_some() {
                continue;
            }
            let mut delta: BTreeMap<u32, Decimal> = BTreeMap::new();
            for l in &list.lines {
                if list.goods == Goods::Material {
                    *delta.entry(l.item_seq).or_default() += l.qty;
                } else {
                    let Some(p) = self.book.product_idx(l.item_seq) else { continue };
                    let Some(v) = self.book.version_on(p, list.declared_on) else { continue };
                    for b in &v.lines {
                        *delta.entry(b.material_seq).or_default() -= l.qty * b.uc_share;
                    }
                }
            }
            let mut new = Vec::with_capacity(delta.len());
            let mut ok = true;
            for (seq, d) in &delta {
                let cur: String = tx.prepare_cached("SELECT balance FROM balances WHERE book_no = ?1 AND seq = ?2")?.query_row(params![list.book_no, seq], |r| r.get(0))?;
                let b = Decimal::from_str(&cur)? + d;
                if b < Decimal::ZERO {
                    ok = false;
                    break;
                }
                new.push((*seq, b));
            }
            if !ok {
                continue;
            }
            for (seq, b) in new {
                tx.prepare_cached("UPDATE balances SET balance = ?3 WHERE book_no = ?1 AND seq = ?2")?.execute(params![list.book_no, seq, b.to_string()])?;
            }
            tx.prepare_cached("INSERT INTO lists (list_no, book_no, declared_on, canonical) VALUES (?1, ?2, ?3, ?4)")?.execute(params![
                list.list_no,
                list.book_no,
                list.declared_on.to_string(),
                list.canonical()
            ])?;
            let id = tx.last_insert_rowid();
            for (pos, l) in list.lines.iter().enumerate() {
                tx.prepare_cached("INSERT INTO list_lines VALUES (?1, ?2, ?3, ?4)")?.execute(params![id, pos as i64, l.item_seq, l.qty.to_string()])?;
            }
            posted += 1;
        }
        tx.commit()?;
        Ok(posted)
    }
}
