//! `jiamao catalog …`: the prohibited and restricted catalogs (禁止类 / 限制类目录, RULES.md §13; FORMAT.md
//! "Catalog file"), their settings, and the list of goods needing the commerce department's approval.

use super::{app_failure, open_engine, print_json, read_file, source_name, Cli, Failure};
use chrono::NaiveDate;
use clap::Subcommand;
use jiamao_app::catalog::CatalogImpact;
use jiamao_domain::catalog::{parse_approval_csv, parse_catalog_csv, CatalogEntry, CatalogPolicy, ImpactChange};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub(crate) enum CatalogCommand {
    /// Load a catalog version from its CSV file. Shows the impact first (every book and item newly
    /// prohibited or restricted, or no longer); loads only with --yes. A version replaces the previous
    /// one as a whole.
    Load {
        file: PathBuf,
        /// The name of the version (unique: the same file again is a no-op).
        #[arg(long = "version", value_name = "NAME")]
        name: String,
        /// Load it (without: show the impact and load nothing).
        #[arg(long)]
        yes: bool,
        /// First day the impact counts (default: today).
        #[arg(long)]
        as_of: Option<NaiveDate>,
        #[arg(long)]
        json: bool,
    },
    /// What changed between two loaded versions, by key (hs_code, direction, note).
    Diff {
        v1: String,
        v2: String,
        #[arg(long)]
        json: bool,
    },
    /// The entries in force for an HS code on a date (of the version in force).
    Check {
        hs_code: String,
        #[arg(long)]
        date: NaiveDate,
        #[arg(long)]
        json: bool,
    },
    /// The loaded versions, in load order; the last is in force.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show the catalog settings, or set one from a date: `--transition on|off --from DATE` (RULES.md
    /// §13.1: books filed before an entry may finish within their contract period; default on).
    Settings {
        #[arg(long, value_parser = parse_on_off)]
        transition: Option<bool>,
        #[arg(long)]
        from: Option<NaiveDate>,
        #[arg(long)]
        json: bool,
    },
    /// The goods that need the commerce department's approval (approval_ref) at book filing: the list
    /// in force (built in, or loaded).
    Approvals {
        #[arg(long)]
        json: bool,
    },
    /// Load an approval list (`hs_prefix,name,valid_from,source`), replacing the one in force.
    ApprovalsLoad {
        file: PathBuf,
        #[arg(long = "version", value_name = "NAME")]
        name: String,
        #[arg(long)]
        json: bool,
    },
}

/// Today's date: the command line reads the clock (the library never does).
#[allow(clippy::disallowed_methods)]
fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        o => Err(format!("on or off, not {o}")),
    }
}

/// A refused file: every problem listed, exit status 2.
fn file_refused(file: &Path, rule: &str, problems: Vec<String>, json: bool) -> Failure {
    let message = format!("{}: nothing was loaded ({} problems):\n  {}", file.display(), problems.len(), problems.join("\n  "));
    Failure { code: 2, json: json.then(|| serde_json::json!({"status": "rejected", "error": {"rule": rule, "message": message.clone(), "problems": problems}})), message }
}

fn change_words(c: ImpactChange) -> &'static str {
    match c {
        ImpactChange::NewlyProhibited => "newly PROHIBITED",
        ImpactChange::NewlyRestricted => "newly restricted",
        ImpactChange::NoLongerProhibited => "no longer prohibited",
        ImpactChange::NoLongerRestricted => "no longer restricted",
    }
}

fn print_impact(i: &CatalogImpact) {
    let against = i.previous.as_deref().map(|p| format!("against version {p}")).unwrap_or_else(|| "the first catalog".to_owned());
    println!("catalog version {}: {} entries; {against}: {} keys added, {} removed, {} changed", i.version, i.entries, i.added, i.removed, i.changed);
    if i.items.is_empty() {
        println!("impact from {}: no book item changes status", i.as_of);
        return;
    }
    println!("impact from {}: {} items in {} books", i.as_of, i.items.len(), i.books.len());
    for x in &i.items {
        let goods = if x.goods == jiamao_domain::doc::Goods::Material { "material" } else { "product" };
        let transition = if x.transition { " — in transition: the book may finish within its contract period (RULES.md §13.1)" } else { "" };
        println!(
            "  book {} ({}) {goods} {} ({}, HS {}): {} {} – {}, entry {}{transition}",
            x.book_no,
            x.enterprise,
            x.item_seq,
            x.name,
            x.hs_code,
            change_words(x.change),
            x.from,
            x.until,
            x.entry.describe()
        );
    }
}

fn print_entries(title: &str, entries: &[CatalogEntry]) {
    for e in entries {
        println!("{title} {}", e.describe());
    }
}

pub(crate) fn catalog(cli: &Cli, command: &CatalogCommand) -> Result<(), Failure> {
    match command {
        CatalogCommand::Load { file, name, yes, as_of, json } => {
            let text = read_file(file, *json)?;
            let entries = parse_catalog_csv(&text, &source_name(file)).map_err(|p| file_refused(file, "catalog_invalid", p, *json))?;
            let mut engine = open_engine(cli)?;
            let as_of = Some(as_of.unwrap_or_else(today));
            if !*yes {
                let impact = engine.impact_preview(name, &entries, as_of).map_err(|e| app_failure(e, *json))?;
                if *json {
                    return print_json(&serde_json::json!({"status": "preview", "impact": impact}));
                }
                print_impact(&impact);
                println!("nothing was loaded: run again with --yes to load version {name}");
                return Ok(());
            }
            let r = engine.load_catalog_as_of(name, entries, as_of).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&r);
            }
            print_impact(&r.impact);
            match r.status {
                "loaded" => println!("catalog version {} loaded; it is now in force", r.name),
                _ => println!("catalog version {} was already loaded with this content (unchanged)", r.name),
            }
            Ok(())
        }
        CatalogCommand::Diff { v1, v2, json } => {
            let mut engine = open_engine(cli)?;
            let d = engine.catalog_diff(v1, v2).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&d);
            }
            println!("catalog {} → {}: {} added, {} removed, {} keys changed", d.from, d.to, d.added.len(), d.removed.len(), d.changed.len());
            print_entries("  + ", &d.added);
            print_entries("  - ", &d.removed);
            for c in &d.changed {
                println!("  ~ key {}", c.key);
                print_entries("      before:", &c.before);
                print_entries("      after: ", &c.after);
            }
            Ok(())
        }
        CatalogCommand::Check { hs_code, date, json } => {
            let mut engine = open_engine(cli)?;
            let c = engine.catalog_check(hs_code, *date).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&serde_json::json!({"hs_code": c.hs_code, "date": c.date, "entries": c.entries}));
            }
            match (&c.version, c.entries.is_empty()) {
                (None, _) => println!("no catalog is loaded (jiamao catalog load)"),
                (Some(v), true) => println!("{} on {}: in no catalog (version {v})", c.hs_code, c.date),
                (Some(v), false) => {
                    println!("{} on {} (version {v}):", c.hs_code, c.date);
                    print_entries("  ", &c.entries);
                }
            }
            Ok(())
        }
        CatalogCommand::List { json } => {
            let mut engine = open_engine(cli)?;
            let v = engine.catalog_versions().map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&v);
            }
            if v.is_empty() {
                println!("no catalog is loaded (jiamao catalog load)");
            }
            for x in &v {
                let from = x.valid_from.map(|d| format!(", entries from {d}")).unwrap_or_default();
                println!("{}: {} entries{from}{}", x.name, x.entries, if x.in_force { " — in force" } else { "" });
            }
            Ok(())
        }
        CatalogCommand::Settings { transition, from, json } => {
            let mut engine = open_engine(cli)?;
            if let Some(t) = transition {
                let Some(from) = from else {
                    let e = jiamao_app::AppError::Input("--transition needs --from DATE (settings are dated)".to_owned());
                    return Err(app_failure(e, *json));
                };
                let status = engine.set_catalog_settings(*from, CatalogPolicy { transition: *t }).map_err(|e| app_failure(e, *json))?;
                if *json {
                    return print_json(&serde_json::json!({"from": from, "transition": t, "status": status}));
                }
                println!("catalog transition {} from {from} ({status})", if *t { "on" } else { "off" });
                return Ok(());
            }
            let s = engine.catalog_settings().map_err(|e| app_failure(e, *json))?;
            let rows: Vec<serde_json::Value> = s.rows().iter().map(|(d, p)| serde_json::json!({"from": d, "transition": p.transition})).collect();
            if *json {
                return print_json(&serde_json::json!({"default": CatalogPolicy::default(), "settings": rows}));
            }
            println!("transition (RULES.md §13.1): on by default");
            for (d, p) in s.rows() {
                println!("  from {d}: {}", if p.transition { "on" } else { "off" });
            }
            Ok(())
        }
        CatalogCommand::Approvals { json } => {
            let mut engine = open_engine(cli)?;
            let list = engine.approval_list().map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&serde_json::json!({"name": list.name, "rules": list.rules}));
            }
            println!("goods needing the commerce department's approval (approval_ref), list {}:", list.name);
            for r in &list.rules {
                println!("  HS {}… from {}: {} ({})", r.hs_prefix, r.valid_from, r.name, r.source);
            }
            Ok(())
        }
        CatalogCommand::ApprovalsLoad { file, name, json } => {
            let text = read_file(file, *json)?;
            let rules = parse_approval_csv(&text, &source_name(file)).map_err(|p| file_refused(file, "approval_list_invalid", p, *json))?;
            let mut engine = open_engine(cli)?;
            let n = rules.len();
            let status = engine.load_approval_list(name, rules).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&serde_json::json!({"name": name, "rules": n, "status": status}));
            }
            println!("approval list {name}: {n} rules ({status})");
            Ok(())
        }
    }
}
