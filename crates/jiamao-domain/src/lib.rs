//! Jiamao's domain core: the customs vocabulary as types, the posting rules of the bonded ledger,
//! and the reconciliation report. Pure: no I/O, no clock, no async (ARCHITECTURE.md).

pub mod access;
pub mod aggregate;
pub mod audit;
pub mod book;
pub mod catalog;
pub mod codes;
pub mod credit;
pub mod crosscheck;
pub mod cycle;
pub mod date;
pub mod decimal;
pub mod doc;
pub mod explain;
pub mod guarantee;
pub mod ledger;
pub mod movement;
pub mod norms;
pub mod policy;
pub mod report;
pub mod report_full;
pub mod tax;

pub use rust_decimal::Decimal;
