//! The demo data set: a hand-made 来料加工 book of a fictional Suzhou electronics maker and a year of
//! its lists, with a small hand-made tariff sample and demo exchange rates, so that a newcomer sees a
//! populated system (`jiamao serve --demo`).

use jiamao_app::{AppError, Engine};
use jiamao_domain::tax::rates::parse_rates_csv;
use jiamao_domain::tax::tariff::tariff_from_source;
use jiamao_domain::tax::TaxError;
use jiamao_store::Store;

const BOOK: &str = include_str!("../demo/book.json");
const LISTS: &str = include_str!("../demo/lists.json");
/// Illustrative rates in the layout of the national tariff files; not the official tariff.
const TARIFF: &str = include_str!("../demo/tariff/p1.json");
const RATES: &str = include_str!("../demo/rates.csv");

/// Loads the demo book, lists, tariff sample and rates; loading twice changes nothing (lists are
/// idempotent, policy documents named by their content).
pub fn load<S: Store>(engine: &mut Engine<S>) -> Result<usize, AppError> {
    engine.import_book(BOOK, "demo/book.json")?;
    let outcomes = engine.post_text(LISTS, "demo/lists.json")?;
    let from = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let demo_tax = |problems: Vec<String>| AppError::Tax(TaxError::new("demo", "demo_data", problems.join("; ")));
    let tariff = tariff_from_source("jiamao demo sample (2026)", from, "demo/tariff", &[("demo/tariff/p1.json".to_owned(), TARIFF.to_owned())]).map_err(demo_tax)?;
    engine.load_tariff(&tariff)?;
    engine.load_rates(&parse_rates_csv(RATES, "demo/rates.csv").map_err(demo_tax)?)?;
    Ok(outcomes.iter().filter(|o| o.status == "posted").count())
}
