//! Domestic-sale taxation services (内销征税): loading the tariff and dated rates as policy documents,
//! quotes against the ledger, the enterprise's declaration schedule (per list, monthly or quarterly
//! 内销集中征税), payments, and what is due and late.

use crate::{AppError, Engine};
use chrono::NaiveDate;
use jiamao_domain::access::{Action, Target};
use jiamao_domain::audit::SYSTEM_CHAIN;
use jiamao_domain::decimal;
use jiamao_domain::tax::calc::{self, Period, Schedule, Settlement};
use jiamao_domain::tax::quote::{self, LedgerFacts, LedgerView, PriceSlot, Quote, QuoteRequest, Tables};
use jiamao_domain::tax::rates::{DatedRate, Rates};
use jiamao_domain::tax::tariff::{LineRates, Tariff, TariffDoc};
use jiamao_domain::tax::{TaxError, TaxPolicy};
use jiamao_domain::Decimal;
use jiamao_store::{BookKey, EnterpriseRecord, PolicyRecord, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const TARIFF: &str = "tariff";
const RATES: &str = "rates";
const SCHEDULE: &str = "tax_schedule";
const PAYMENT: &str = "tax_payment";

/// The tariff and rates as loaded, with the ids they were built from.
#[derive(Default)]
pub(crate) struct TaxTables {
    ids: Vec<i64>,
    pub(crate) tariff: Tariff,
    pub(crate) rates: Rates,
}

/// The rates of one tariff line on a date (`GET /api/v1/tariff/{hs_code}`): ad valorem rates as a
/// fraction (`0.065`), others in the tariff's notation; each with its source (`table (from date):
/// column`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TariffLineRates {
    pub hs_code: String,
    pub name: String,
    /// The day asked about (as `jiamao tariff show --json` gives it).
    pub date: NaiveDate,
    pub duty_rate: String,
    pub duty_rate_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumption_tax_rate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumption_tax_rate_source: Option<String>,
    pub vat_rate: String,
    pub vat_rate_source: String,
}

impl TariffLineRates {
    pub fn new(r: LineRates, date: NaiveDate) -> Self {
        TariffLineRates {
            hs_code: r.hs_code,
            name: r.name,
            date,
            duty_rate: r.duty.0.to_string(),
            duty_rate_source: r.duty.1.to_string(),
            consumption_tax_rate: r.consumption.as_ref().map(|c| c.0.to_string()),
            consumption_tax_rate_source: r.consumption.as_ref().map(|c| c.1.to_string()),
            vat_rate: r.vat.0.to_string(),
            vat_rate_source: r.vat.1.to_string(),
        }
    }
}

/// One loaded tariff version (`GET /api/v1/tariffs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TariffVersion {
    pub name: String,
    pub valid_from: NaiveDate,
    pub lines: usize,
    pub source: String,
}

/// What loading a policy document did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyLoaded {
    pub kind: String,
    pub name: String,
    pub valid_from: NaiveDate,
    /// `loaded`, or `unchanged` when the same document was loaded before.
    pub status: &'static str,
    pub entries: usize,
}

/// A 64-bit FNV-1a fingerprint: names a rates document by its content.
fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Store(StoreError::Corrupt(format!("{what}: {e}")))
}

/// The enterprise's declaration schedule from a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDoc {
    pub schedule: Schedule,
    #[serde(deserialize_with = "jiamao_domain::date::deserialize")]
    pub from: NaiveDate,
}

/// A tax payment (税款缴款书 paid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentDoc {
    /// The payment note number: the idempotency key.
    pub note_no: String,
    /// The period paid: `2026-05`, `2026Q2`, or a list number for a list declared on its own.
    pub period: String,
    #[serde(with = "decimal")]
    pub amount: Decimal,
    #[serde(deserialize_with = "jiamao_domain::date::deserialize")]
    pub paid_on: NaiveDate,
}

/// What recording a payment or a schedule did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub book_no: String,
    pub key: String,
    /// `recorded`, or `duplicate` when the same record exists.
    pub status: &'static str,
}

/// One domestic-sale list in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodList {
    pub list_no: String,
    pub declared_on: NaiveDate,
    pub trade_mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<quote::Totals>,
    /// Why the list could not be quoted (a missing rate, a tariff line): the period is incomplete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::ListError>,
}

/// A declaration period of a book: its lists, tax due, payments and surcharge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodReport {
    pub schedule: Schedule,
    #[serde(flatten)]
    pub period: Period,
    pub lists: Vec<PeriodList>,
    /// Whether every list was quoted.
    pub complete: bool,
    #[serde(with = "decimal")]
    pub tax_due: Decimal,
    #[serde(flatten)]
    pub settlement: Settlement,
}

/// Every period of a book up to a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodsReport {
    pub book_no: String,
    pub as_of: NaiveDate,
    pub periods: Vec<PeriodReport>,
    /// Payments naming no period of the book.
    pub unmatched_payments: Vec<PaymentDoc>,
}

fn tax_error(e: TaxError) -> AppError {
    AppError::Tax(e)
}

impl<S: Store> Engine<S> {
    fn put_policy(&mut self, kind: &str, name: &str, valid_from: NaiveDate, body: String, entries: usize) -> Result<PolicyLoaded, AppError> {
        self.authorize(Action::LoadPolicy, &Target::default(), &format!("{kind} {name}"))?;
        let loaded = self.write(&[], |me| {
            if let Some(old) = me.store.policy(kind, name)? {
                if old.body == body && old.valid_from == valid_from {
                    return Ok(("unchanged", false));
                }
                return Err(tax_error(TaxError::new(
                    "name",
                    "policy_name_taken",
                    format!("a {kind} named {name} (from {}) is already loaded with other content; load this one under another name", old.valid_from),
                )));
            }
            me.store.append_policy(&PolicyRecord { id: 0, kind: kind.to_owned(), name: name.to_owned(), valid_from, body: body.clone() })?;
            let detail = serde_json::json!({"name": name, "valid_from": valid_from, "entries": entries, "digest": jiamao_domain::audit::sha256_hex(body.as_bytes())}).to_string();
            me.audit_link(SYSTEM_CHAIN, &format!("load_{kind}"), &format!("{kind} {name}"), "ok", &detail)?;
            me.emit("", &format!("{kind}_loaded"), serde_json::json!({"name": name, "valid_from": valid_from, "entries": entries}))?;
            Ok(("loaded", true))
        })?;
        self.tax = None;
        Ok(PolicyLoaded { kind: kind.to_owned(), name: name.to_owned(), valid_from, status: loaded, entries })
    }

    /// Loads a tariff version (`jiamao tariff load`); the same version twice is a no-op.
    pub fn load_tariff(&mut self, doc: &TariffDoc) -> Result<PolicyLoaded, AppError> {
        let body = serde_json::to_string(doc).map_err(|e| corrupt("tariff", e))?;
        self.put_policy(TARIFF, &doc.name, doc.valid_from, body, doc.lines.len())
    }

    /// Loads dated rates (`jiamao rates load`), named by their content; the same file twice is a no-op.
    pub fn load_rates(&mut self, rates: &[DatedRate]) -> Result<PolicyLoaded, AppError> {
        let body = serde_json::to_string(rates).map_err(|e| corrupt("rates", e))?;
        let from = rates.iter().map(|r| r.valid_from).min().unwrap_or_default();
        self.put_policy(RATES, &format!("rates-{}", fingerprint(&body)), from, body, rates.len())
    }

    /// The tariff and rates (built-in rates first, then every loaded document in load order), rebuilt
    /// only when the stored documents changed.
    pub(crate) fn tax_tables(&mut self) -> Result<&TaxTables, AppError> {
        let tariffs = self.store.policies(TARIFF)?;
        let rates = self.store.policies(RATES)?;
        let ids: Vec<i64> = tariffs.iter().chain(&rates).map(|p| p.id).collect();
        if self.tax.as_ref().is_none_or(|t| t.ids != ids) {
            let mut tariff = Tariff::new();
            for p in &tariffs {
                tariff.add(serde_json::from_str(&p.body).map_err(|e| corrupt(&format!("tariff {}", p.name), e))?);
            }
            let mut r = Rates::with_defaults();
            for p in &rates {
                let list: Vec<DatedRate> = serde_json::from_str(&p.body).map_err(|e| corrupt(&format!("rates {}", p.name), e))?;
                r.add(list);
            }
            self.tax = Some(TaxTables { ids, tariff, rates: r });
        }
        self.tax.as_ref().ok_or_else(|| corrupt("tax tables", "not built"))
    }

    /// Every loaded tariff version.
    pub fn tariff_versions(&mut self) -> Result<Vec<TariffVersion>, AppError> {
        self.authorize(Action::ReadPolicy, &Target::default(), "tariff")?;
        Ok(self.tax_tables()?.tariff.versions().map(|v| TariffVersion { name: v.name.clone(), valid_from: v.valid_from, lines: v.lines.len(), source: v.source.clone() }).collect())
    }

    /// The rates of an HS code on a date (with a certificate of origin from `origin`).
    pub fn tariff_line(&mut self, hs: &str, date: NaiveDate, origin: Option<&jiamao_domain::codes::CountryCode>) -> Result<TariffLineRates, AppError> {
        self.authorize(Action::ReadPolicy, &Target::default(), "tariff")?;
        let rates = self.tax_tables()?.tariff.rates(hs, date, origin).map_err(tax_error)?;
        Ok(TariffLineRates::new(rates, date))
    }

    /// Every dated rate in force (built-in and loaded).
    pub fn rates(&mut self) -> Result<Vec<DatedRate>, AppError> {
        self.authorize(Action::ReadPolicy, &Target::default(), "rates")?;
        Ok(self.tax_tables()?.rates.all())
    }

    /// The facts of a book's posted lists that quotes read, in one streaming pass over them (after
    /// the last closed cycle).
    fn ledger_facts(&mut self, book_no: &str, list_no: Option<&str>) -> Result<(jiamao_domain::book::Book, Option<jiamao_domain::cycle::Closure>, LedgerFacts), AppError> {
        let key = self.known_key(book_no)?;
        let rec = self.store.book(&key)?.ok_or_else(|| AppError::UnknownBook(book_no.to_owned()))?;
        let closure = self.store.closures(&key)?.last().map(|c| crate::closure_from_record(&key, c)).transpose()?;
        let book = crate::book_from_record(&rec, &self.policy)?;
        let closed_to = closure.as_ref().map(|c| c.to);
        let mut facts = LedgerFacts::looking_for(list_no);
        self.store.for_each_list(&key, 0, None, &mut |s| {
            if closed_to.is_none_or(|c| s.list.declared_on > c) {
                facts.add(&book, &s.list, &s.versions);
            }
            Ok(())
        })?;
        Ok((book, closure, facts))
    }

    /// A tax quote (FORMAT.md): the ledger form reads the book's posted lists.
    pub fn tax_quote(&mut self, req: &QuoteRequest, policy: &TaxPolicy) -> Result<Quote, AppError> {
        let Some(book_no) = req.book_no.clone() else {
            self.authorize(Action::ReadPolicy, &Target::default(), "tax quote")?;
            let t = self.tax_tables()?;
            return quote::quote(req, None, Tables { tariff: &t.tariff, rates: &t.rates, policy }).map_err(tax_error);
        };
        self.guard_book(Action::ReadTax, &book_no)?;
        let (book, closure, facts) = self.ledger_facts(&book_no, req.list_no.as_deref())?;
        let view = LedgerView { book: &book, facts: &facts, last_write_off: closure.as_ref().map(|c| c.to) };
        let t = self.tax_tables()?;
        quote::quote(req, Some(view), Tables { tariff: &t.tariff, rates: &t.rates, policy }).map_err(tax_error)
    }

    /// The prices a ledger quote of `req` reads and which of them it needs (`quote::price_slots`),
    /// for a form that asks them; the explicit form reads none.
    pub fn tax_price_slots(&mut self, req: &QuoteRequest) -> Result<Vec<PriceSlot>, AppError> {
        let Some(book_no) = req.book_no.clone() else { return Ok(Vec::new()) };
        self.guard_book(Action::ReadTax, &book_no)?;
        let (book, closure, facts) = self.ledger_facts(&book_no, req.list_no.as_deref())?;
        let view = LedgerView { book: &book, facts: &facts, last_write_off: closure.as_ref().map(|c| c.to) };
        quote::price_slots(req, view).map_err(tax_error)
    }

    /// Appends an enterprise record of a book (inside a write, with its audit link and event):
    /// the same record again is a duplicate; other content under the same key is refused.
    pub(crate) fn append_enterprise_record(&mut self, key: &BookKey, (kind, field): (&str, &str), record_key: &str, on: NaiveDate, body: String, event: &str) -> Result<Recorded, AppError> {
        let status = self.write(std::slice::from_ref(key), |me| {
            if let Some(old) = me.store.record(&key.enterprise, kind, record_key)? {
                if old.body == body && old.book_no == key.book_no {
                    return Ok(("duplicate", false));
                }
                return Err(tax_error(TaxError::new(
                    field,
                    "record_differs",
                    format!("{kind} {record_key} is already recorded (book {}) with other content; a correction is a new record", old.book_no),
                )));
            }
            me.store.append_record(&EnterpriseRecord {
                id: 0,
                enterprise: key.enterprise.clone(),
                book_no: key.book_no.clone(),
                kind: kind.to_owned(),
                key: record_key.to_owned(),
                recorded_on: on,
                body: body.clone(),
            })?;
            let detail = serde_json::json!({"book_no": key.book_no, "key": record_key, "digest": jiamao_domain::audit::sha256_hex(body.as_bytes())}).to_string();
            me.audit_link(&key.enterprise, kind, &format!("book {}", key.book_no), "ok", &detail)?;
            me.refresh(key)?;
            let (_, customs, region) = me.book_scope(&key.book_no);
            let record: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            me.emit(&key.enterprise, event, serde_json::json!({"book_no": key.book_no, "key": record_key, "record": record, "master_customs": customs, "region": region}))?;
            Ok(("recorded", true))
        })?;
        Ok(Recorded { book_no: key.book_no.clone(), key: record_key.to_owned(), status })
    }

    /// Records the book's declaration schedule from a date (per list, monthly or quarterly).
    pub fn set_tax_schedule(&mut self, book_no: &str, doc: &ScheduleDoc) -> Result<Recorded, AppError> {
        let key = self.guard_book(Action::RecordTax, book_no)?;
        let body = serde_json::to_string(doc).map_err(|e| corrupt("schedule", e))?;
        self.append_enterprise_record(&key, (SCHEDULE, "from"), &format!("{book_no}@{}", doc.from), doc.from, body, "tax_schedule_set")
    }

    /// Records a payment of a period (idempotent by note number; a different payment under the same
    /// number is refused).
    pub fn record_tax_payment(&mut self, book_no: &str, doc: &PaymentDoc) -> Result<Recorded, AppError> {
        let key = self.guard_book(Action::RecordTax, book_no)?;
        if doc.amount <= Decimal::ZERO {
            return Err(tax_error(TaxError::new("amount", "amount_not_positive", "a payment amount must be positive")));
        }
        if doc.note_no.trim().is_empty() {
            return Err(tax_error(TaxError::new("note_no", "request_invalid", "a payment names its payment note number")));
        }
        let body = serde_json::to_string(doc).map_err(|e| corrupt("payment", e))?;
        self.append_enterprise_record(&key, (PAYMENT, "note_no"), &doc.note_no, doc.paid_on, body, "tax_paid")
    }

    /// The book's schedules, by start date.
    pub fn tax_schedules(&mut self, book_no: &str) -> Result<Vec<ScheduleDoc>, AppError> {
        let key = self.guard_book(Action::ReadTax, book_no)?;
        let mut out: Vec<ScheduleDoc> = self.store.records(&key, SCHEDULE)?.iter().map(|r| serde_json::from_str(&r.body).map_err(|e| corrupt("schedule", e))).collect::<Result<_, _>>()?;
        out.sort_by_key(|s| s.from);
        Ok(out)
    }

    /// Every declaration period of a book with domestic sales declared up to `as_of`: the lists each
    /// gathers (each quoted at its own declaration date, interest to the period's due date), tax due,
    /// payments, what is outstanding and the surcharge (滞纳金) as of `as_of`.
    pub fn tax_periods(&mut self, book_no: &str, as_of: NaiveDate, policy: &TaxPolicy) -> Result<PeriodsReport, AppError> {
        let key = self.guard_book(Action::ReadTax, book_no)?;
        let schedules = self.tax_schedules(book_no)?;
        let payments: Vec<PaymentDoc> = self.store.records(&key, PAYMENT)?.iter().map(|r| serde_json::from_str(&r.body).map_err(|e| corrupt("payment", e))).collect::<Result<_, _>>()?;
        let (book, closure, facts) = self.ledger_facts(book_no, None)?;
        let view = LedgerView { book: &book, facts: &facts, last_write_off: closure.as_ref().map(|c| c.to) };
        let tables = self.tax_tables()?;
        let mut periods: BTreeMap<(NaiveDate, String), PeriodReport> = BTreeMap::new();
        for (l, _) in &facts.sales {
            if l.declared_on > as_of {
                continue;
            }
            let schedule = schedules.iter().rev().find(|x| x.from <= l.declared_on).map(|x| x.schedule).unwrap_or(Schedule::PerList);
            let mut period = calc::period_of(schedule, l.declared_on).map_err(tax_error)?;
            if schedule == Schedule::PerList {
                period.label = l.list_no.clone();
            }
            let req =
                QuoteRequest { book_no: Some(book_no.to_owned()), list_no: Some(l.list_no.clone()), tax_date: Some(l.declared_on), payment_note_date: Some(period.due), ..QuoteRequest::default() };
            let (totals, error) = match quote::quote(&req, Some(view), Tables { tariff: &tables.tariff, rates: &tables.rates, policy }) {
                Ok(q) => (Some(q.totals), None),
                Err(e) => (None, Some(crate::ListError { rule: e.rule.to_owned(), line: None, message: e.to_string() })),
            };
            let entry = periods.entry((period.from, period.label.clone())).or_insert_with(|| PeriodReport {
                schedule,
                period: period.clone(),
                lists: Vec::new(),
                complete: true,
                tax_due: Decimal::ZERO,
                settlement: Settlement { payments: Vec::new(), paid: Decimal::ZERO, outstanding: Decimal::ZERO, late: false, outstanding_late_days: 0, surcharge: Decimal::ZERO },
            });
            entry.complete &= error.is_none();
            entry.tax_due += totals.map(|t| t.total).unwrap_or_default();
            entry.lists.push(PeriodList { list_no: l.list_no.clone(), declared_on: l.declared_on, trade_mode: l.trade_mode.as_str().to_owned(), totals, error });
        }
        let rates = &tables.rates;
        let mut out = Vec::new();
        let mut matched = vec![false; payments.len()];
        for (_, mut p) in periods {
            let paid: Vec<(NaiveDate, Decimal)> = payments
                .iter()
                .enumerate()
                .filter(|(_, x)| x.period == p.period.label)
                .map(|(i, x)| {
                    matched[i] = true;
                    (x.paid_on, x.amount)
                })
                .collect();
            p.settlement = calc::settle(p.tax_due, p.period.due, &paid, as_of, |d| rates.late_surcharge(d).map(|f| f.rate), policy).map_err(tax_error)?;
            out.push(p);
        }
        let unmatched = payments.into_iter().zip(matched).filter(|(_, m)| !m).map(|(p, _)| p).collect();
        Ok(PeriodsReport { book_no: book_no.to_owned(), as_of, periods: out, unmatched_payments: unmatched })
    }
}
