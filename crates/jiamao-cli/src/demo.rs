//! The demo data set: a hand-made 来料加工 book of a fictional Suzhou electronics maker and a year of
//! its lists, with a small hand-made tariff sample and demo exchange rates, so that a newcomer sees a
//! populated system (`jiamao serve --demo`).

use jiamao_app::{AppError, Engine};
use jiamao_domain::access::Role;
use jiamao_domain::tax::rates::parse_rates_csv;
use jiamao_domain::tax::tariff::tariff_from_source;
use jiamao_domain::tax::TaxError;
use jiamao_store::Store;

pub(crate) const BOOK: &str = include_str!("../demo/book.json");
/// A stocktake (盘点) of the demo book, hand-made (for the reconciliation page and its bench).
pub(crate) const STOCKTAKE: &str = include_str!("../demo/stocktake.json");
const LISTS: &str = include_str!("../demo/lists.json");
/// Illustrative rates in the layout of the national tariff files; not the official tariff.
const TARIFF: &str = include_str!("../demo/tariff/p1.json");
const RATES: &str = include_str!("../demo/rates.csv");

/// The password of the demo accounts (printed by `jiamao serve --demo`; demo data only).
pub const DEMO_PASSWORD: &str = "jiamao-demo-2026";

/// A demo account: (login, role, enterprise, customs, province).
pub type DemoAccount = (&'static str, Role, Option<&'static str>, Option<&'static str>, Option<&'static str>);

/// The demo accounts.
pub const DEMO_ACCOUNTS: &[DemoAccount] = &[
    ("demo-enterprise", Role::EnterpriseAdmin, Some("91320505735624180G"), None, None),
    ("demo-customs", Role::CustomsOfficer, None, Some("2300"), None),
    ("demo-commerce", Role::CommerceOfficer, None, None, Some("32")),
    ("demo-auditor", Role::Auditor, None, None, None),
    ("demo-admin", Role::Admin, None, None, None),
];

/// Loads the demo book, lists, tariff sample, rates and accounts; loading twice changes nothing
/// (lists are idempotent, policy documents named by their content, existing accounts kept).
pub fn load<S: Store>(engine: &mut Engine<S>) -> Result<usize, AppError> {
    for (login, role, enterprise, customs, province) in DEMO_ACCOUNTS {
        match engine.add_user(login, *role, *enterprise, *customs, *province, DEMO_PASSWORD) {
            Ok(_) => {}
            Err(AppError::Input(m)) if m.ends_with("exists") => {}
            Err(e) => return Err(e),
        }
    }
    engine.import_book(BOOK, "demo/book.json")?;
    let outcomes = engine.post_text(LISTS, "demo/lists.json")?;
    let from = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let demo_tax = |problems: Vec<String>| AppError::Tax(TaxError::new("demo", "demo_data", problems.join("; ")));
    let tariff = tariff_from_source("jiamao demo sample (2026)", from, "demo/tariff", &[("demo/tariff/p1.json".to_owned(), TARIFF.to_owned())]).map_err(demo_tax)?;
    engine.load_tariff(&tariff)?;
    engine.load_rates(&parse_rates_csv(RATES, "demo/rates.csv").map_err(demo_tax)?)?;
    Ok(outcomes.iter().filter(|o| o.status == "posted").count())
}
