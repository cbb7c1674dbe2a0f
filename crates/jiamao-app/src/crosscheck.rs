//! Department data handed over (FX receipts, the VAT the tax side expects) and the cross-checks
//! against the ledger (jiamao_domain::crosscheck).

use crate::{AppError, Engine};
use chrono::NaiveDate;
use jiamao_domain::access::{self, Action, Principal, Target};
use jiamao_domain::crosscheck::{self, Assessed, ExportValue, FxCheck, FxReceipt, VatExpectation, VatRow};
use jiamao_domain::movement::{classify, Movement};
use jiamao_domain::tax::TaxPolicy;
use jiamao_domain::Decimal;
use jiamao_store::{BookKey, EnterpriseRecord, Store, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;

const FX: &str = "fx_receipt";
const VAT: &str = "tax_side_vat";

/// What loading a department's file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepartmentLoad {
    pub recorded: usize,
    pub duplicates: usize,
}

/// The tax cross-check of an enterprise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VatCheck {
    pub enterprise: String,
    pub as_of: NaiveDate,
    pub rows: Vec<VatRow>,
    pub flagged: bool,
}

impl<S: Store> Engine<S> {
    /// Each book of an enterprise with its district and region.
    fn enterprise_books(&mut self, enterprise: &str) -> Result<Vec<(String, String, String)>, AppError> {
        #[derive(serde::Deserialize)]
        struct Scope {
            master_customs: String,
            operator: Op,
        }
        #[derive(serde::Deserialize)]
        struct Op {
            region_code: String,
        }
        let mut out = Vec::new();
        for r in self.store.books()?.into_iter().filter(|r| r.key.enterprise == enterprise) {
            let s: Scope = serde_json::from_str(&r.doc_json).map_err(|e| StoreError::Corrupt(format!("book {}: {e}", r.key.book_no)))?;
            out.push((r.key.book_no, s.master_customs, s.operator.region_code));
        }
        Ok(out)
    }

    /// Whether the acting principal may take `action` on an enterprise: on any of its books'
    /// jurisdictions (a refusal is logged, and says nothing about whether the enterprise exists).
    pub(crate) fn authorize_enterprise(&mut self, action: Action, enterprise: &str) -> Result<Vec<(String, String, String)>, AppError> {
        let books = self.enterprise_books(enterprise)?;
        if self.ctx.principal == Principal::Local {
            return Ok(books);
        }
        let mut last = None;
        for (_, customs, region) in &books {
            match access::decide(&self.ctx.principal, action, &Target { enterprise: Some(enterprise), master_customs: Some(customs), region: Some(region) }) {
                Ok(()) => return Ok(books),
                Err(d) => last = Some(d),
            }
        }
        let denied = last.unwrap_or(access::Denied { rule: "jurisdiction", message: format!("no book of enterprise {enterprise} is within the account's jurisdiction") });
        self.log_refusal(action, &format!("enterprise {enterprise}"), &denied)?;
        Err(AppError::Forbidden(format!("enterprise {enterprise} is not within this account's jurisdiction")))
    }

    fn load_records<T: Serialize>(&mut self, action: Action, kind: &str, items: &[(String, String, T)]) -> Result<DepartmentLoad, AppError> {
        let mut enterprises: Vec<&str> = items.iter().map(|(e, _, _)| e.as_str()).collect();
        enterprises.sort_unstable();
        enterprises.dedup();
        for e in enterprises {
            self.authorize_enterprise(action, e)?;
        }
        let rows: Vec<(String, String, String)> =
            items.iter().map(|(e, k, t)| Ok((e.clone(), k.clone(), serde_json::to_string(t).map_err(|x| StoreError::Database(x.to_string()))?))).collect::<Result<_, AppError>>()?;
        let on = self.ctx.now.date_naive();
        self.write(&[], |me| {
            let mut load = DepartmentLoad { recorded: 0, duplicates: 0 };
            for (enterprise, key, body) in &rows {
                if let Some(old) = me.store.record(enterprise, kind, key)? {
                    if old.body == *body {
                        load.duplicates += 1;
                        continue;
                    }
                    return Err(AppError::Input(format!("{kind} {key} of {enterprise} is already recorded with other content; a correction is a new record under a new key")));
                }
                me.store.append_record(&EnterpriseRecord {
                    id: 0,
                    enterprise: enterprise.clone(),
                    book_no: String::new(),
                    kind: kind.to_owned(),
                    key: key.clone(),
                    recorded_on: on,
                    body: body.clone(),
                })?;
                me.audit_link(enterprise, kind, &format!("{kind} {key}"), "ok", &serde_json::json!({"digest": jiamao_domain::audit::sha256_hex(body.as_bytes())}).to_string())?;
                load.recorded += 1;
            }
            let commit = load.recorded > 0;
            Ok((load, commit))
        })
    }

    /// Records FX receipts (the foreign-exchange side's file); the same receipt again is a duplicate.
    pub fn load_fx_receipts(&mut self, receipts: &[FxReceipt]) -> Result<DepartmentLoad, AppError> {
        let items: Vec<(String, String, &FxReceipt)> = receipts.iter().map(|r| (r.enterprise.clone(), r.receipt_no.clone(), r)).collect();
        self.load_records(Action::LoadFxReceipts, FX, &items)
    }

    /// Records the VAT the tax side expects, by enterprise and period.
    pub fn load_vat_expectations(&mut self, rows: &[VatExpectation]) -> Result<DepartmentLoad, AppError> {
        let items: Vec<(String, String, &VatExpectation)> = rows.iter().map(|r| (r.enterprise.clone(), r.period.clone(), r)).collect();
        self.load_records(Action::LoadVatExpectations, VAT, &items)
    }

    fn department_rows<T: serde::de::DeserializeOwned>(&mut self, enterprise: &str, kind: &str) -> Result<Vec<T>, AppError> {
        let key = BookKey { enterprise: enterprise.to_owned(), book_no: String::new() };
        Ok(self.store.records(&key, kind)?.iter().map(|r| serde_json::from_str(&r.body).map_err(|e| StoreError::Corrupt(format!("{kind} {}: {e}", r.key)))).collect::<Result<_, _>>()?)
    }

    /// FX receipts against the export values declared from `from` to `to`.
    pub fn fx_crosscheck(&mut self, enterprise: &str, from: NaiveDate, to: NaiveDate, tolerance: Decimal) -> Result<FxCheck, AppError> {
        let books = self.authorize_enterprise(Action::ReadCrossCheck, enterprise)?;
        let mut exports = Vec::new();
        for (book_no, _, _) in &books {
            let key = BookKey { enterprise: enterprise.to_owned(), book_no: book_no.clone() };
            if !self.refresh(&key)? {
                continue;
            }
            let Some(l) = self.books.get(book_no) else { continue };
            let book = l.ledger.book().clone();
            self.store.for_each_list(&key, 0, None, &mut |s| {
                let mv = classify(&book, s.list.trade_mode.as_str(), s.list.direction, s.list.goods);
                if matches!(mv, Ok(Movement::ProductExport | Movement::ReExport)) {
                    for line in &s.list.lines {
                        let items = if mv == Ok(Movement::ProductExport) { &book.products } else { &book.materials };
                        if let (Some(amount), Ok(i)) = (line.amount, items.binary_search_by_key(&line.item_seq, |i| i.seq)) {
                            let currency = items.get(i).map(|x| x.currency.clone()).unwrap_or_default();
                            exports.push(ExportValue { book_no: book.book_no.clone(), list_no: s.list.list_no.clone(), declared_on: s.list.declared_on, currency, amount });
                        }
                    }
                }
                Ok(())
            })?;
        }
        let receipts: Vec<FxReceipt> = self.department_rows(enterprise, FX)?;
        Ok(crosscheck::fx_check(enterprise, from, to, &exports, &receipts, tolerance))
    }

    /// The VAT assessed and paid on each period of the enterprise's books against the tax side.
    pub fn vat_crosscheck(&mut self, enterprise: &str, as_of: NaiveDate, policy: &TaxPolicy) -> Result<VatCheck, AppError> {
        let books = self.authorize_enterprise(Action::ReadCrossCheck, enterprise)?;
        let acting = self.ctx.clone();
        // Read the ledger's periods as the platform: the right to the cross-check was decided above.
        self.ctx.principal = Principal::Local;
        let mut assessed: BTreeMap<String, Assessed> = BTreeMap::new();
        let mut result = Ok(());
        for (book_no, _, _) in &books {
            match self.tax_periods(book_no, as_of, policy) {
                Ok(report) => {
                    for p in report.periods {
                        let vat: Decimal = p.lists.iter().filter_map(|l| l.totals.map(|t| t.vat)).sum();
                        let e = assessed.entry(p.period.label.clone()).or_insert(Assessed { complete: true, ..Assessed::default() });
                        e.vat += vat;
                        e.paid += p.settlement.paid;
                        e.tax_due += p.tax_due;
                        e.complete &= p.complete;
                    }
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.ctx = acting;
        result?;
        let expected: Vec<VatExpectation> = self.department_rows(enterprise, VAT)?;
        let rows = crosscheck::vat_check(&assessed, &expected);
        let flagged = rows.iter().any(|r| r.flagged);
        Ok(VatCheck { enterprise: enterprise.to_owned(), as_of, rows, flagged })
    }
}
