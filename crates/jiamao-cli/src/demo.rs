//! The demo data set: a hand-made 来料加工 book of a fictional Suzhou electronics maker and a year of
//! its lists, so that a newcomer sees a populated system (`jiamao serve --demo`).

use jiamao_app::{AppError, Engine};
use jiamao_store::Store;

const BOOK: &str = include_str!("../demo/book.json");
const LISTS: &str = include_str!("../demo/lists.json");

/// Loads the demo book and lists; loading twice changes nothing (lists are idempotent).
pub fn load<S: Store>(engine: &mut Engine<S>) -> Result<usize, AppError> {
    engine.import_book(BOOK, "demo/book.json")?;
    let outcomes = engine.post_text(LISTS, "demo/lists.json")?;
    Ok(outcomes.iter().filter(|o| o.status == "posted").count())
}
