//! Credit classes with history per enterprise, and the guarantees books owe (RULES.md §11–§12):
//! required (computed as of a date), posted and refunded (records), shortfall and alert.

use crate::{AppError, Engine};
use chrono::NaiveDate;
use jiamao_domain::access::{Action, Principal};
use jiamao_domain::credit::{self, CreditEntry, Effects, Tier};
use jiamao_domain::decimal;
use jiamao_domain::guarantee::{self, Holding, Inputs, Method, Required, RestrictedMaterial};
use jiamao_domain::tax::rates::ExchangeRule;
use jiamao_domain::tax::tariff::Rate;
use jiamao_domain::Decimal;
use jiamao_store::{BookKey, EnterpriseRecord, Store, StoreError};
use serde::{Deserialize, Serialize};

const CREDIT: &str = "credit_class";
const GUARANTEE: &str = "guarantee";
const REFUND: &str = "guarantee_refund";

/// An enterprise's credit: its history and the class in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditView {
    pub enterprise: String,
    pub as_of: NaiveDate,
    pub history: Vec<CreditEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    pub tier: Tier,
    /// Whether the tier is the default (no class recorded: 一般信用).
    pub defaulted: bool,
    pub effects: Effects,
}

/// A guarantee posted for a book (海关事务担保 or, before 2018-02-02, a deposit into the bank ledger).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuaranteeDoc {
    /// The guarantee's number: the idempotency key.
    pub guarantee_no: String,
    /// `cash` (保证金) or `letter` (保函).
    pub form: String,
    #[serde(with = "decimal")]
    pub amount: Decimal,
    #[serde(deserialize_with = "jiamao_domain::date::deserialize")]
    pub posted_on: NaiveDate,
    /// The issuing bank or guarantor (letters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guarantor: Option<String>,
    /// A letter's last day (at least the book's expiry + 80 days).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "jiamao_domain::date::deserialize_opt")]
    pub valid_until: Option<NaiveDate>,
}

/// A refund at write-off, with interest on cash at the dated rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundDoc {
    pub guarantee_no: String,
    pub refunded_on: NaiveDate,
    #[serde(with = "decimal")]
    pub interest_rate: Decimal,
    pub interest_rate_source: String,
    pub days: i64,
    #[serde(with = "decimal")]
    pub interest: Decimal,
}

/// One guarantee as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuaranteeState {
    #[serde(flatten)]
    pub doc: GuaranteeDoc,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund: Option<RefundDoc>,
    /// Counts toward `posted` on the date (not refunded, a letter not expired).
    pub active: bool,
}

/// A book whose required guarantee a catalog version changes (the catalog's impact analysis).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuaranteeChange {
    pub book_no: String,
    #[serde(serialize_with = "decimal::serialize_opt")]
    pub before: Option<Decimal>,
    #[serde(serialize_with = "decimal::serialize_opt")]
    pub after: Option<Decimal>,
    /// Why an amount could not be computed (no regime, no tariff line …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `jiamao guarantee <book_no>`: required, posted, shortfall and the basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuaranteeReport {
    pub book_no: String,
    pub as_of: NaiveDate,
    pub method: Method,
    pub holding: Holding,
    pub source: String,
    pub credit: CreditView,
    pub both_central_west: bool,
    pub zone: bool,
    pub required: Required,
    #[serde(with = "decimal")]
    pub posted: Decimal,
    #[serde(with = "decimal")]
    pub shortfall: Decimal,
    /// Required exceeds posted.
    pub alert: bool,
    /// A letter of guarantee must run to at least this day (the book's expiry + 80 days).
    pub letter_valid_until: NaiveDate,
    pub guarantees: Vec<GuaranteeState>,
    /// Restricted materials whose value could not be computed (no tariff line or rate): why.
    pub unvalued: Vec<String>,
}

impl<S: Store> Engine<S> {
    /// Records an enterprise's credit class from a date (customs supervisors; the local operator).
    pub fn set_credit(&mut self, enterprise: &str, entry: &CreditEntry) -> Result<CreditView, AppError> {
        jiamao_domain::codes::Uscc::parse(enterprise).map_err(|e| AppError::Input(format!("enterprise: {e}")))?;
        // Customs supervisors of a district where the enterprise has a book.
        self.authorize_enterprise(Action::SetCredit, enterprise)?;
        let (scheme, _) = credit::tier_of(&entry.class, entry.from).map_err(AppError::Input)?;
        let body = serde_json::to_string(entry).map_err(|e| StoreError::Database(e.to_string()))?;
        let key = entry.from.to_string();
        let on = entry.from;
        let enterprise_owned = enterprise.to_owned();
        self.write(&[], |me| {
            if let Some(old) = me.store.record(&enterprise_owned, CREDIT, &key)? {
                if old.body == body {
                    return Ok(((), false));
                }
                return Err(AppError::Input(format!("a credit class from {key} is already recorded for {enterprise_owned}; record a correction from another date")));
            }
            me.store.append_record(&EnterpriseRecord {
                id: 0,
                enterprise: enterprise_owned.clone(),
                book_no: String::new(),
                kind: CREDIT.to_owned(),
                key: key.clone(),
                recorded_on: on,
                body: body.clone(),
            })?;
            me.audit_link(&enterprise_owned, "set_credit", &format!("enterprise {enterprise_owned}"), "ok", &body)?;
            me.emit(&enterprise_owned, "credit_set", serde_json::json!({"class": entry.class, "from": entry.from, "scheme": scheme.decree}))?;
            Ok(((), true))
        })?;
        let local = std::mem::replace(&mut self.ctx.principal, Principal::Local);
        let view = self.credit_view(enterprise, entry.from);
        self.ctx.principal = local;
        view
    }

    fn credit_history(&mut self, enterprise: &str) -> Result<Vec<CreditEntry>, AppError> {
        let key = BookKey { enterprise: enterprise.to_owned(), book_no: String::new() };
        let mut h: Vec<CreditEntry> =
            self.store.records(&key, CREDIT)?.iter().map(|r| serde_json::from_str(&r.body).map_err(|e| StoreError::Corrupt(format!("credit {}: {e}", r.key)))).collect::<Result<_, _>>()?;
        h.sort_by_key(|e| e.from);
        Ok(h)
    }

    fn credit_view(&mut self, enterprise: &str, as_of: NaiveDate) -> Result<CreditView, AppError> {
        let history = self.credit_history(enterprise)?;
        let current = credit::in_force(&history, as_of).cloned();
        let (class, scheme, tier, defaulted) = match &current {
            Some(e) => match credit::tier_of(&e.class, e.from) {
                Ok((s, t)) => (Some(e.class.clone()), Some(s.decree.to_owned()), t, false),
                Err(_) => (Some(e.class.clone()), None, Tier::General, true),
            },
            None => (None, None, Tier::General, true),
        };
        Ok(CreditView { enterprise: enterprise.to_owned(), as_of, history, class, scheme, tier, defaulted, effects: credit::effects(tier) })
    }

    /// The class recorded and in force on a date, with its effects (none when no class is recorded
    /// or the class is not one of its scheme).
    pub(crate) fn credit_in_force(&mut self, enterprise: &str, date: NaiveDate) -> Result<Option<(CreditEntry, Effects)>, AppError> {
        let history = self.credit_history(enterprise)?;
        Ok(credit::in_force(&history, date).and_then(|e| credit::tier_of(&e.class, e.from).ok().map(|(_, t)| (e.clone(), credit::effects(t)))))
    }

    /// Refuses a new book of an enterprise whose credit class in force on the book's first day does not
    /// allow processing trade (RULES.md §11.2: D banned; Decree 282 严重失信).
    pub(crate) fn check_credit_allows(&mut self, enterprise: &str, book_no: &str, date: NaiveDate, source: &str) -> Result<(), AppError> {
        if self.book_key(book_no)?.is_some() {
            return Ok(());
        }
        if let Some((entry, effects)) = self.credit_in_force(enterprise, date)? {
            if !effects.processing_trade {
                let error = jiamao_domain::book::BookError {
                    at: "operator.uscc".into(),
                    rule: "credit_class",
                    message: format!("enterprise {enterprise} is in credit class {} from {}, which does not allow processing trade", entry.class, entry.from),
                };
                return Err(AppError::Book { source_name: source.to_owned(), error });
            }
        }
        Ok(())
    }

    /// The credit of an enterprise as of a date (those who may read its books).
    pub fn credit(&mut self, enterprise: &str, as_of: NaiveDate) -> Result<CreditView, AppError> {
        self.authorize_enterprise(Action::ReadReport, enterprise)?;
        self.credit_view(enterprise, as_of)
    }

    /// Records a guarantee posted for a book (customs officers of its district).
    pub fn post_guarantee(&mut self, book_no: &str, doc: &GuaranteeDoc) -> Result<crate::tax::Recorded, AppError> {
        let key = self.guard_book(Action::RecordGuarantee, book_no)?;
        if !matches!(doc.form.as_str(), "cash" | "letter") {
            return Err(AppError::Input(format!("form {:?}: cash or letter", doc.form)));
        }
        if doc.amount <= Decimal::ZERO || doc.guarantee_no.trim().is_empty() {
            return Err(AppError::Input("a guarantee has a number and a positive amount".to_owned()));
        }
        if doc.form == "letter" {
            let until = doc.valid_until.ok_or_else(|| AppError::Input("a letter of guarantee states its last day (valid_until)".to_owned()))?;
            self.refresh(&key)?;
            if let Some(l) = self.books.get(book_no) {
                let need = guarantee::letter_valid_until(l.ledger.book().valid_until);
                if until < need {
                    return Err(AppError::Input(format!("a letter of guarantee must run at least to {need} (the book's expiry + 80 days); this one ends on {until}")));
                }
            }
        }
        let body = serde_json::to_string(doc).map_err(|e| StoreError::Database(e.to_string()))?;
        self.append_enterprise_record(&key, (GUARANTEE, "guarantee_no"), &doc.guarantee_no, doc.posted_on, body, "guarantee_posted")
    }

    /// Refunds a guarantee at write-off: cash earns interest from payment into the customs account to
    /// the refund, at `rate` (the bank's demand rate, required from 2025-08-01, 公告2025年第139号) or,
    /// before, the PBoC demand benchmark of the dated table; days end − start, ÷ 360.
    pub fn refund_guarantee(&mut self, book_no: &str, guarantee_no: &str, refunded_on: NaiveDate, rate: Option<Decimal>) -> Result<RefundDoc, AppError> {
        let key = self.guard_book(Action::RecordGuarantee, book_no)?;
        let Some(rec) = self.store.record(&key.enterprise, GUARANTEE, guarantee_no)? else {
            return Err(AppError::Input(format!("no guarantee {guarantee_no} on book {book_no}")));
        };
        let doc: GuaranteeDoc = serde_json::from_str(&rec.body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if refunded_on < doc.posted_on {
            return Err(AppError::Input(format!("the refund ({refunded_on}) is before the guarantee was posted ({})", doc.posted_on)));
        }
        if rate.is_some_and(|r| r.is_sign_negative()) {
            return Err(AppError::Input("a refund interest rate cannot be negative".to_owned()));
        }
        let bank_rate_from = NaiveDate::from_ymd_opt(2025, 8, 1).unwrap_or_default();
        let (rate, source) = match rate {
            Some(r) => (r, "given".to_owned()),
            None if refunded_on >= bank_rate_from => {
                return Err(AppError::Input("from 2025-08-01 refund interest is at the bank's demand rate (公告2025年第139号): give it (--rate)".to_owned()));
            }
            None => {
                let f = self.tax_tables()?.rates.deferred_interest(refunded_on).map_err(AppError::Tax)?;
                (f.rate, format!("PBoC demand benchmark: {} (from {})", f.source, f.valid_from))
            }
        };
        let days = (refunded_on - doc.posted_on).num_days();
        let interest = if doc.form == "cash" { decimal::round(doc.amount * Decimal::from(days) * rate / Decimal::from(360), 2) } else { Decimal::ZERO };
        let refund = RefundDoc { guarantee_no: guarantee_no.to_owned(), refunded_on, interest_rate: rate, interest_rate_source: source, days, interest };
        let body = serde_json::to_string(&refund).map_err(|e| StoreError::Database(e.to_string()))?;
        self.append_enterprise_record(&key, (REFUND, "guarantee_no"), guarantee_no, refunded_on, body, "guarantee_refunded")?;
        Ok(refund)
    }

    /// The restricted materials of a book on a date: (seq, managed 实转, the entry that restricts it).
    fn restricted_materials(&mut self, book_no: &str, date: NaiveDate) -> Result<Vec<(u32, bool, String)>, AppError> {
        Ok(self.restricted_items(book_no, date)?.into_iter().filter(|(_, is_material, _)| *is_material).map(|(seq, _, e)| (seq, e.is_shizhuan(), e.describe())).collect())
    }

    /// The guarantee of a book as of a date: required (the regime of the book's date, the credit class
    /// in force, the regions, the restricted items of the catalog in force, valued at their filed
    /// quantities and prices with the tariff's duty and VAT), posted, shortfall and alert.
    pub fn guarantee(&mut self, book_no: &str, as_of: NaiveDate) -> Result<GuaranteeReport, AppError> {
        self.guarantee_with(book_no, as_of, None)
    }

    /// The books among `books` whose required guarantee on `as_of` differs under `new` (a catalog
    /// version about to be loaded) from the catalog in force.
    pub(crate) fn guarantee_changes(
        &mut self,
        new: &jiamao_domain::catalog::CatalogVersion,
        docs: &[(String, jiamao_domain::doc::BookDoc)],
        books: &[String],
        as_of: NaiveDate,
    ) -> Result<Vec<GuaranteeChange>, AppError> {
        let mut out = Vec::new();
        for book_no in books {
            let Some((_, doc)) = docs.iter().find(|(_, d)| &d.book_no == book_no) else { continue };
            let after_items: Vec<(u32, bool, String)> =
                jiamao_domain::catalog::restricted_items(new, doc, as_of).into_iter().filter(|(_, m, _)| *m).map(|(seq, _, e)| (seq, e.is_shizhuan(), e.describe())).collect();
            let before = self.guarantee_with(book_no, as_of, None).map(|r| r.required.amount);
            let after = self.guarantee_with(book_no, as_of, Some(after_items)).map(|r| r.required.amount);
            match (before, after) {
                (Ok(b), Ok(a)) if a == b => {}
                (Ok(b), Ok(a)) => out.push(GuaranteeChange { book_no: book_no.clone(), before: Some(b), after: Some(a), note: None }),
                (b, a) => {
                    let note = [b.as_ref().err(), a.as_ref().err()].into_iter().flatten().map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
                    out.push(GuaranteeChange { book_no: book_no.clone(), before: b.ok(), after: a.ok(), note: Some(note) });
                }
            }
        }
        Ok(out)
    }

    fn guarantee_with(&mut self, book_no: &str, as_of: NaiveDate, restricted: Option<Vec<(u32, bool, String)>>) -> Result<GuaranteeReport, AppError> {
        let key = self.guard_book(Action::ReadReport, book_no)?;
        if !self.refresh(&key)? {
            return Err(AppError::UnknownBook(book_no.to_owned()));
        }
        let (book, imported) = match self.books.get(book_no) {
            Some(l) => {
                let b = l.ledger.book().clone();
                let totals: Vec<Decimal> = l.ledger.material_totals().iter().map(|t| t.imported + t.carried_in + t.surplus_in).collect();
                (b, totals)
            }
            None => return Err(AppError::UnknownBook(book_no.to_owned())),
        };
        let (method, holding, source) =
            guarantee::regime_on(book.valid_from).ok_or_else(|| AppError::Input(format!("no guarantee regime before 2007-08-23 (book {book_no} from {})", book.valid_from)))?;
        let acting = std::mem::replace(&mut self.ctx.principal, Principal::Local);
        let credit = self.credit_view(&key.enterprise, as_of);
        let restricted = match restricted {
            Some(r) => Ok(r),
            None => self.restricted_materials(book_no, as_of),
        };
        self.ctx.principal = acting;
        let credit = credit?;
        let restricted = restricted?;
        let processor_region = book.doc.processor.as_ref().map(|p| p.region_code.clone()).unwrap_or_else(|| book.doc.operator.region_code.clone());
        let both_central_west = !book.doc.operator.region_code.is_east() && !processor_region.is_east();
        let mut materials = Vec::new();
        let mut unvalued = Vec::new();
        for (seq, shizhuan, basis) in restricted {
            let Some(idx) = book.material_idx(seq) else { continue };
            let item = &book.materials[idx];
            let qty = item.authorized_qty.unwrap_or_else(|| imported.get(idx).copied().unwrap_or_default());
            let valued = (|| -> Result<RestrictedMaterial, AppError> {
                let t = self.tax_tables()?;
                let fx = t.rates.exchange(&item.currency, as_of, ExchangeRule::InForce).map_err(AppError::Tax)?;
                let rates = t.tariff.rates(&item.hs_code, as_of, None).map_err(AppError::Tax)?;
                let value = decimal::round(qty * item.unit_price * fx.rate, 2);
                let duty = match &rates.duty.0 {
                    Rate::AdValorem(r) => decimal::round(value * r, 2),
                    other => return Err(AppError::Input(format!("the duty rate {other} of {} is not ad valorem", item.hs_code))),
                };
                let vat = match &rates.vat.0 {
                    Rate::AdValorem(v) => decimal::round((value + duty) * v, 2),
                    other => return Err(AppError::Input(format!("the VAT rate {other} of {} is not ad valorem", item.hs_code))),
                };
                Ok(RestrictedMaterial { seq, hs_code: item.hs_code.clone(), shizhuan, value, duty, vat, basis: basis.clone() })
            })();
            match valued {
                Ok(m) => materials.push(m),
                Err(e) => unvalued.push(format!("material {seq} ({}): {e}", item.hs_code)),
            }
        }
        let required = guarantee::required(method, &Inputs { tier: credit.tier, both_central_west, zone: book.zone.is_some(), materials, export: None });
        let mut guarantees = Vec::new();
        for r in self.store.records(&key, GUARANTEE)? {
            let doc: GuaranteeDoc = serde_json::from_str(&r.body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let refund: Option<RefundDoc> = match self.store.record(&key.enterprise, REFUND, &doc.guarantee_no)? {
                Some(x) => Some(serde_json::from_str(&x.body).map_err(|e| StoreError::Corrupt(e.to_string()))?),
                None => None,
            };
            let refunded = refund.as_ref().is_some_and(|f| f.refunded_on <= as_of);
            let active = doc.posted_on <= as_of && !refunded && doc.valid_until.is_none_or(|u| u >= as_of);
            guarantees.push(GuaranteeState { doc, refund, active });
        }
        let posted: Decimal = guarantees.iter().filter(|g| g.active).map(|g| g.doc.amount).sum();
        let shortfall = (required.amount - posted).max(Decimal::ZERO);
        Ok(GuaranteeReport {
            book_no: book_no.to_owned(),
            as_of,
            method,
            holding,
            source: source.to_owned(),
            credit,
            both_central_west,
            zone: book.zone.is_some(),
            alert: shortfall > Decimal::ZERO,
            required,
            posted,
            shortfall,
            letter_valid_until: guarantee::letter_valid_until(book.valid_until),
            guarantees,
            unvalued,
        })
    }
}
