#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The schema is ready to be distributed by enterprise on Citus: every table says its role in its
//! comment ('citus:reference', or 'citus:distributed:<column>' naming its distribution column: the
//! enterprise, or for the audit trail its chain, which is an enterprise's USCC or 'system'), and on
//! every distributed table the primary key, every unique constraint or unique index and every foreign
//! key start with the distribution column (so that the rows of one enterprise are co-located and
//! constraints can be checked on one shard).

mod common;

use common::TestDb;
use std::collections::BTreeMap;

const DISTRIBUTED: &str = "citus:distributed:";
const REFERENCE: &str = "citus:reference";

/// Non-unique indexes that do not lead with the distribution column, each serving a declared
/// fan-out query (answered on every shard).
const FAN_OUT_INDEXES: &[&str] = &["events_by_id"];

/// The distribution column a table's comment names, if it is distributed.
fn distribution_column(role: Option<&str>) -> Option<&str> {
    role.and_then(|r| r.strip_prefix(DISTRIBUTED)).filter(|c| !c.is_empty())
}

#[test]
fn enterprise_leads_every_key_of_every_distributed_table() {
    let Some(db) = TestDb::new() else { return };
    let mut s = db.store();
    let c = s.client();
    let roles: BTreeMap<String, Option<String>> = c
        .query(
            "SELECT t.table_name::text, obj_description(format('%I.%I', t.table_schema, t.table_name)::regclass, 'pg_class') \
             FROM information_schema.tables t WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for (table, role) in &roles {
        assert!(role.as_deref() == Some(REFERENCE) || distribution_column(role.as_deref()).is_some(), "table {table} has no Citus role in its comment: {role:?}");
    }
    let distributed: Vec<(&String, &str)> = roles.iter().filter_map(|(t, r)| distribution_column(r.as_deref()).map(|c| (t, c))).collect();
    let reference: Vec<&String> = roles.iter().filter(|(_, r)| r.as_deref() == Some(REFERENCE)).map(|(t, _)| t).collect();
    for t in ["book_revisions", "cycle_closures", "enterprise_records", "events", "ledger_checkpoints", "line_resolutions", "list_lines", "lists"] {
        assert!(distributed.iter().any(|(d, c)| *d == t && *c == "enterprise"), "{t} must be distributed by enterprise: {roles:?}");
    }
    assert!(distributed.iter().any(|(d, c)| *d == "audit_log" && *c == "chain"), "audit_log must be distributed by chain: {roles:?}");
    for t in ["accounts", "api_tokens", "book_directory", "policy_documents", "schema_migrations", "sessions", "webhook_cursors", "webhooks"] {
        assert!(reference.iter().any(|d| *d == t), "{t} must be a reference table: {roles:?}");
    }

    for (table, column) in distributed {
        // The distribution column: present, first, text and required.
        let col: (String, String, String) = c
            .query_one(
                "SELECT column_name::text, data_type::text, is_nullable::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 AND ordinal_position = 1",
                &[table],
            )
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .unwrap();
        assert_eq!(col, (column.into(), "text".into(), "NO".into()), "{table}: first column");

        // Primary key, unique and foreign-key constraints: the first key column is the distribution column.
        let constraints = c
            .query(
                "SELECT tc.constraint_name::text, tc.constraint_type::text, \
                        (SELECT k.column_name::text FROM information_schema.key_column_usage k \
                          WHERE k.constraint_schema = tc.constraint_schema AND k.constraint_name = tc.constraint_name AND k.table_name = tc.table_name \
                          AND k.ordinal_position = 1) \
                 FROM information_schema.table_constraints tc \
                 WHERE tc.table_schema = current_schema() AND tc.table_name = $1 AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')",
                &[table],
            )
            .unwrap();
        assert!(constraints.iter().any(|r| r.get::<_, String>(1) == "PRIMARY KEY"), "{table} has no primary key");
        for r in &constraints {
            let (name, kind, first): (String, String, Option<String>) = (r.get(0), r.get(1), r.get(2));
            assert_eq!(first.as_deref(), Some(column), "{table}: {kind} {name} must start with {column}");
        }

        // A foreign key refers to a table distributed by the same column, by its key led by that column (co-located).
        let fks = c
            .query(
                "SELECT con.conname::text, ref.relname::text, ra.attname::text, \
                        obj_description(con.confrelid, 'pg_class') \
                 FROM pg_constraint con \
                 JOIN pg_class ref ON ref.oid = con.confrelid \
                 JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[1] \
                 WHERE con.contype = 'f' AND con.conrelid = $1::text::regclass",
                &[table],
            )
            .unwrap();
        for r in &fks {
            let (name, target, first, role): (String, String, String, Option<String>) = (r.get(0), r.get(1), r.get(2), r.get(3));
            assert_eq!(distribution_column(role.as_deref()), Some(column), "{table}: foreign key {name} refers to {target}, not distributed by {column}");
            assert_eq!(first, column, "{table}: foreign key {name} refers to {target} by {first}");
        }

        // Unique indexes (not only constraints) too: Citus can only enforce them on one shard.
        let indexes = c
            .query(
                "SELECT ic.relname::text, a.attname::text, i.indisunique \
                 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
                 WHERE i.indrelid = $1::text::regclass",
                &[table],
            )
            .unwrap();
        for r in &indexes {
            let (name, first, unique): (String, String, bool) = (r.get(0), r.get(1), r.get(2));
            // Every index leads with the distribution column (queries filter by it), but for the
            // non-unique indexes of the declared fan-out queries.
            if FAN_OUT_INDEXES.contains(&name.as_str()) {
                assert!(!unique, "{table}: fan-out index {name} must not be unique (Citus checks uniqueness on one shard)");
                continue;
            }
            assert_eq!(first, column, "{table}: index {name} (unique: {unique}) must start with {column}");
        }
    }
}
