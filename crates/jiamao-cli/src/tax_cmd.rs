//! `jiamao tariff …`, `jiamao rates …` and `jiamao tax …`: domestic-sale taxation (内销征税).

use super::{app_failure, open_engine, print_json, read_file, source_name, Cli, Failure};
use chrono::{Datelike, NaiveDate};
use clap::Subcommand;
use jiamao_app::tax::{PaymentDoc, ScheduleDoc};
use jiamao_app::AppError;
use jiamao_domain::codes::CountryCode;
use jiamao_domain::decimal;
use jiamao_domain::tax::calc::{DayCount, Schedule};
use jiamao_domain::tax::quote::parse_request;
use jiamao_domain::tax::rates::{parse_rates_csv, ExchangeRule};
use jiamao_domain::tax::tariff::tariff_from_source;
use jiamao_domain::tax::{TaxError, TaxPolicy};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub(crate) enum TariffCommand {
    /// Load a national tariff (the layout of shared/data/cn-tariff-2026/v2.0.0: tariff/p*.json) as a
    /// version valid from a date.
    Load {
        dir: PathBuf,
        /// First day the version applies (default: 1 January of the year in its version.json).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Name of the version (default: the version in version.json, or the directory name, and the year).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The rates of an HS code on a date.
    Show {
        hs_code: String,
        #[arg(long)]
        date: NaiveDate,
        /// A certificate of origin from this country (3-digit customs code) is declared.
        #[arg(long)]
        origin: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The loaded tariff versions.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum RatesCommand {
    /// Load dated rates from CSV: `kind,key,rate,valid_from[,source]` (exchange by currency code,
    /// deferred_interest, late_surcharge).
    Load {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Every dated rate (built in and loaded).
    List {
        #[arg(long)]
        json: bool,
    },
}

/// Settings of taxation that the regulations leave open (RULES.md §8.3, §19).
#[derive(clap::Args, Clone)]
pub(crate) struct PolicyArgs {
    /// Interest days: `end_minus_start` (default) or `both_ends`.
    #[arg(long, value_parser = parse_day_count)]
    day_count: Option<DayCount>,
    /// Exchange rate of a tax date: `in_force` (default: the latest rate on or before it) or
    /// `third_wednesday` (the rate of the third Wednesday of the previous month).
    #[arg(long, value_parser = parse_exchange_rule)]
    exchange_rule: Option<ExchangeRule>,
}

fn parse_day_count(s: &str) -> Result<DayCount, String> {
    match s {
        "end_minus_start" => Ok(DayCount::EndMinusStart),
        "both_ends" => Ok(DayCount::BothEnds),
        o => Err(format!("end_minus_start or both_ends, not {o}")),
    }
}

fn parse_exchange_rule(s: &str) -> Result<ExchangeRule, String> {
    match s {
        "in_force" => Ok(ExchangeRule::InForce),
        "third_wednesday" => Ok(ExchangeRule::ThirdWednesdayOfPreviousMonth),
        o => Err(format!("in_force or third_wednesday, not {o}")),
    }
}

impl PolicyArgs {
    fn policy(&self) -> TaxPolicy {
        let mut p = TaxPolicy::default();
        if let Some(d) = self.day_count {
            p.day_count = d;
        }
        if let Some(r) = self.exchange_rule {
            p.exchange_rule = r;
        }
        p
    }
}

#[derive(Subcommand)]
pub(crate) enum TaxCommand {
    /// Quote the taxes of a domestic sale (FORMAT.md "Tax quote document").
    Quote {
        request: PathBuf,
        #[command(flatten)]
        policy: PolicyArgs,
        #[arg(long)]
        json: bool,
    },
    /// Record how the book declares domestic-sale tax from a date: per_list, monthly or quarterly
    /// (内销集中征税).
    Schedule {
        book_no: String,
        schedule: Schedule,
        #[arg(long)]
        from: NaiveDate,
        #[arg(long)]
        json: bool,
    },
    /// Record a payment (税款缴款书) of a period (`2026-05`, `2026Q2`, or a list number).
    Pay {
        book_no: String,
        #[arg(long)]
        note: String,
        #[arg(long)]
        period: String,
        #[arg(long)]
        amount: String,
        #[arg(long)]
        paid_on: NaiveDate,
        #[arg(long)]
        json: bool,
    },
    /// Declaration periods: the lists each gathers, tax due, due date, payments, surcharge (滞纳金).
    Periods {
        book_no: String,
        /// Default: today.
        #[arg(long)]
        as_of: Option<NaiveDate>,
        #[command(flatten)]
        policy: PolicyArgs,
        #[arg(long)]
        json: bool,
    },
}

fn tax_failure(e: TaxError, json: bool) -> Failure {
    app_failure(AppError::Tax(e), json)
}

/// Today's date: the one place the command line reads the clock (the library never does).
#[allow(clippy::disallowed_methods)]
fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// The tariff files of a directory: `dir/tariff/*.json`, else `dir/*.json` (without version.json).
fn tariff_files(dir: &Path, json: bool) -> Result<Vec<(String, String)>, Failure> {
    let sub = dir.join("tariff");
    let base = if sub.is_dir() { sub } else { dir.to_path_buf() };
    let entries = std::fs::read_dir(&base).map_err(|e| tax_failure(TaxError::new(base.display().to_string(), "file", format!("cannot read the directory: {e}")), json))?;
    let mut paths: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json") && p.file_name().is_some_and(|n| n != "version.json")).collect();
    paths.sort();
    if paths.is_empty() {
        return Err(tax_failure(TaxError::new(base.display().to_string(), "file", "no tariff files (*.json) found"), json));
    }
    paths.iter().map(|p| Ok((source_name(p), read_file(p, json)?))).collect()
}

pub(crate) fn tariff(cli: &Cli, command: &TariffCommand) -> Result<(), Failure> {
    match command {
        TariffCommand::Load { dir, from, name, json } => {
            let version: Option<serde_json::Value> = std::fs::read_to_string(dir.join("version.json")).ok().and_then(|t| serde_json::from_str(&t).ok());
            let updated = version.as_ref().and_then(|v| v.get("updated")).and_then(|u| u.as_str()).and_then(|u| u.get(..10)).and_then(|u| NaiveDate::parse_from_str(u, "%Y-%m-%d").ok());
            let valid_from = match (from, updated) {
                (Some(f), _) => *f,
                (None, Some(u)) => NaiveDate::from_ymd_opt(u.year(), 1, 1).unwrap_or(u),
                (None, None) => return Err(tax_failure(TaxError::new("--from", "date_missing", format!("{} has no version.json with a date: give --from", dir.display())), *json)),
            };
            let label = version
                .as_ref()
                .and_then(|v| v.get("version"))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
            let name = name.clone().unwrap_or_else(|| format!("{label} ({})", valid_from.year()));
            let files = tariff_files(dir, *json)?;
            let doc = tariff_from_source(&name, valid_from, &dir.display().to_string(), &files).map_err(|problems| {
                let message = format!("{}: the tariff was not loaded ({} problems):\n  {}", dir.display(), problems.len(), problems.join("\n  "));
                Failure { code: 2, json: json.then(|| serde_json::json!({"status": "rejected", "error": {"rule": "tariff_invalid", "message": message.clone(), "problems": problems}})), message }
            })?;
            let mut engine = open_engine(cli)?;
            let r = engine.load_tariff(&doc).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&r);
            }
            println!("tariff {} ({} lines) {} — applies from {}", r.name, r.entries, if r.status == "loaded" { "loaded 已载入" } else { "unchanged (loaded before)" }, r.valid_from);
            Ok(())
        }
        TariffCommand::Show { hs_code, date, origin, json } => {
            let origin = origin.as_deref().map(CountryCode::parse).transpose().map_err(|e| tax_failure(TaxError::new("--origin", "code_invalid", e.to_string()), *json))?;
            let mut engine = open_engine(cli)?;
            let r = engine.tariff_line(hs_code, *date, origin.as_ref()).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&r);
            }
            println!("{} {} on {date}", r.hs_code, r.name);
            println!("  duty 关税          {:<10} {}", r.duty_rate, r.duty_rate_source);
            if let (Some(rate), Some(src)) = (&r.consumption_tax_rate, &r.consumption_tax_rate_source) {
                println!("  consumption 消费税 {rate:<10} {src}");
            }
            println!("  VAT 增值税         {:<10} {}", r.vat_rate, r.vat_rate_source);
            Ok(())
        }
        TariffCommand::List { json } => {
            let mut engine = open_engine(cli)?;
            let versions = engine.tariff_versions().map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&versions);
            }
            if versions.is_empty() {
                println!("no tariff loaded (jiamao tariff load <dir>)");
            }
            for v in versions {
                println!("{}  {}  {} lines  ({})", v.valid_from, v.name, v.lines, v.source);
            }
            Ok(())
        }
    }
}

pub(crate) fn rates(cli: &Cli, command: &RatesCommand) -> Result<(), Failure> {
    match command {
        RatesCommand::Load { file, json } => {
            let text = read_file(file, *json)?;
            let rates = parse_rates_csv(&text, &source_name(file)).map_err(|problems| {
                let message = format!("{}: no rates were loaded ({} problems):\n  {}", file.display(), problems.len(), problems.join("\n  "));
                Failure { code: 2, json: json.then(|| serde_json::json!({"status": "rejected", "error": {"rule": "rates_invalid", "message": message.clone(), "problems": problems}})), message }
            })?;
            let mut engine = open_engine(cli)?;
            let r = engine.load_rates(&rates).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&r);
            }
            println!("{} rates from {} {}", r.entries, file.display(), if r.status == "loaded" { "loaded 已载入" } else { "unchanged (loaded before)" });
            Ok(())
        }
        RatesCommand::List { json } => {
            let mut engine = open_engine(cli)?;
            let all = engine.rates().map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&all);
            }
            for r in all {
                println!("{:<18} {:<4} {:>10} from {}  {}", r.kind.as_str(), r.key, decimal::plain(r.rate), r.valid_from, r.source);
            }
            Ok(())
        }
    }
}

pub(crate) fn tax(cli: &Cli, command: &TaxCommand) -> Result<(), Failure> {
    match command {
        TaxCommand::Quote { request, policy, json } => {
            let text = read_file(request, *json)?;
            let req = parse_request(&text).map_err(|e| tax_failure(e.at(&source_name(request)), *json))?;
            let mut engine = open_engine(cli)?;
            let q = engine.tax_quote(&req, &policy.policy()).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&q);
            }
            println!(
                "内销征税 tax quote{}{} — tax date {}",
                q.book_no.as_deref().map(|b| format!(" for book {b}")).unwrap_or_default(),
                q.list_no.as_deref().map(|l| format!(", list {l}")).unwrap_or_default(),
                q.tax_date
            );
            for l in &q.lines {
                let what = match (l.goods, l.from_products.is_empty()) {
                    (jiamao_domain::tax::quote::SaleGoods::Byproduct, _) => "by-product 副产品".to_owned(),
                    (jiamao_domain::tax::quote::SaleGoods::Leftover, _) => format!("leftover 边角料 {}", l.item_seq.unwrap_or_default()),
                    (_, false) => format!("material 料件 {} (from products 成品折料)", l.item_seq.unwrap_or_default()),
                    (_, true) => format!("material 料件 {}", l.item_seq.unwrap_or_default()),
                };
                println!(
                    "{what} {} {}: qty {} {}, value 计税价格 {} CNY ({} {} × {}); duty 关税 {} @ {}; 消费税 {}; VAT 增值税 {} @ {}; interest 缓税利息 {} ({} days @ {}){}",
                    l.hs_code,
                    l.name,
                    decimal::plain(l.qty),
                    l.unit,
                    decimal::plain(l.customs_value),
                    l.valuation.method,
                    decimal::plain(l.valuation.unit_price),
                    decimal::plain(l.valuation.exchange_rate),
                    decimal::plain(l.duty),
                    l.duty_rate,
                    decimal::plain(l.consumption_tax),
                    decimal::plain(l.vat),
                    l.vat_rate,
                    decimal::plain(l.interest),
                    l.interest_days,
                    decimal::plain(l.interest_rate),
                    l.interest_exemption.as_deref().map(|x| format!(" — {x}")).unwrap_or_default()
                );
            }
            let t = &q.totals;
            println!(
                "total 合计: duty {}, consumption tax {}, VAT {}, interest {}, total {}",
                decimal::plain(t.duty),
                decimal::plain(t.consumption_tax),
                decimal::plain(t.vat),
                decimal::plain(t.interest),
                decimal::plain(t.total)
            );
            if let Some(s) = &q.selective_tariff {
                println!(
                    "选择性征收关税: as materials {} / as product {}; chosen {:?} ({}, by {})",
                    decimal::plain(s.as_materials.total),
                    decimal::plain(s.as_product.total),
                    s.chosen,
                    s.trade_mode,
                    s.chosen_by
                );
            }
            if let Some(t) = &q.threshold {
                println!("{}", t.rule);
            }
            Ok(())
        }
        TaxCommand::Schedule { book_no, schedule, from, json } => {
            let mut engine = open_engine(cli)?;
            let r = engine.set_tax_schedule(book_no, &ScheduleDoc { schedule: *schedule, from: *from }).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&r);
            }
            println!("book {book_no}: domestic-sale tax declared {schedule:?} from {from} ({})", r.status);
            Ok(())
        }
        TaxCommand::Pay { book_no, note, period, amount, paid_on, json } => {
            let amount = decimal::parse(amount).map_err(|e| tax_failure(TaxError::new("--amount", "request_invalid", e), *json))?;
            let mut engine = open_engine(cli)?;
            let r = engine.record_tax_payment(book_no, &PaymentDoc { note_no: note.clone(), period: period.clone(), amount, paid_on: *paid_on }).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&r);
            }
            println!("payment {note} of period {period}: {}", r.status);
            Ok(())
        }
        TaxCommand::Periods { book_no, as_of, policy, json } => {
            let as_of = as_of.unwrap_or_else(today);
            let mut engine = open_engine(cli)?;
            let r = engine.tax_periods(book_no, as_of, &policy.policy()).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&r);
            }
            println!("book {book_no}: domestic-sale tax periods as of {as_of}");
            for p in &r.periods {
                println!(
                    "{:<20} {:?} {}..{} due {}: {} lists, tax due {}{}, paid {}, outstanding {}{}",
                    p.period.label,
                    p.schedule,
                    p.period.from,
                    p.period.to,
                    p.period.due,
                    p.lists.len(),
                    decimal::plain(p.tax_due),
                    if p.complete { "" } else { " (incomplete: a list could not be quoted)" },
                    decimal::plain(p.settlement.paid),
                    decimal::plain(p.settlement.outstanding),
                    if p.settlement.late { format!(", LATE 逾期, surcharge 滞纳金 {}", decimal::plain(p.settlement.surcharge)) } else { String::new() }
                );
                for l in p.lists.iter().filter_map(|l| l.error.as_ref().map(|e| (l, e))) {
                    println!("    {}: {}", l.0.list_no, l.1.message);
                }
            }
            for u in &r.unmatched_payments {
                println!("payment {} names period {}, which has no domestic sale", u.note_no, u.period);
            }
            Ok(())
        }
    }
}
