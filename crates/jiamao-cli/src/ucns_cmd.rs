//! `jiamao ucns …`: 单耗 against the national standards (单耗标准), customs' review of 单耗 versions
//! (质疑 / 磋商) and enterprise self-verification (企业自核单耗).

use super::{app_failure, open_engine, print_json, read_file, source_name, Cli, Failure};
use chrono::NaiveDate;
use clap::Subcommand;
use jiamao_app::ucns::{CheckOptions, SelfVerificationDoc};
use jiamao_domain::decimal;
use jiamao_domain::norms::{Hs2022, LineCheck, Norms, ReviewAction, Verdict};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub(crate) enum UcnsCommand {
    /// National 单耗 standards as policy documents.
    Norms {
        #[command(subcommand)]
        command: NormsCommand,
    },
    /// Every 单耗 line of a book against the standards: above the maximum (bonded products), below the
    /// minimum (export-taxable products), within, or no standard.
    Check {
        book_no: String,
        #[command(flatten)]
        with: CheckArgs,
        #[arg(long)]
        json: bool,
    },
    /// The review queue of a book: each 单耗 version's state (declared, questioned, consulting,
    /// accepted, adjusted), its history and its lines against the standards.
    Reviews {
        book_no: String,
        #[command(flatten)]
        with: CheckArgs,
        #[arg(long)]
        json: bool,
    },
    /// Review a 单耗 version (customs of the book's district): question (质疑), consult (磋商), accept,
    /// or adjust (--replacement names the version the enterprise files as a change).
    Review {
        book_no: String,
        product_seq: u32,
        version: String,
        /// question | consult | accept | adjust
        action: ReviewAction,
        #[arg(long)]
        replacement: Option<String>,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Record whether an enterprise may self-verify its 单耗 from a date (eligibility is a policy
    /// while the rule is unconfirmed, RULES.md §4.8).
    SelfVerification {
        /// The enterprise's unified social credit code.
        enterprise: String,
        /// allowed | not_allowed
        #[arg(value_parser = ["allowed", "not_allowed"])]
        decision: String,
        #[arg(long)]
        from: NaiveDate,
        /// The decision or rule it rests on.
        #[arg(long, default_value = "")]
        basis: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum NormsCommand {
    /// Load a norms file (CSV in the layout of shared/data/cn-unit-consumption-norms/norms_transcribed.csv).
    Load {
        file: PathBuf,
        /// Name of the document (default: the file's name without extension).
        #[arg(long)]
        name: Option<String>,
        /// First day the document applies (default: today).
        #[arg(long)]
        from: Option<NaiveDate>,
        #[arg(long)]
        json: bool,
    },
    /// The loaded standards documents.
    List {
        #[arg(long)]
        json: bool,
    },
}

/// What a check compares with.
#[derive(clap::Args, Clone)]
pub(crate) struct CheckArgs {
    /// A norms file to compare with instead of the loaded standards.
    #[arg(long)]
    norms: Option<PathBuf>,
    /// The HS 2022 nomenclature (datahub harmonized-system.csv): standard codes of their year are
    /// matched to today's through it, and uncertain matches are marked.
    #[arg(long)]
    hs2022: Option<PathBuf>,
    /// Product seqs taxable on export (their standard is a minimum), comma-separated.
    #[arg(long, value_delimiter = ',')]
    export_taxable: Vec<u32>,
    /// Use the standards documents loaded with a date on or before this one.
    #[arg(long)]
    as_of: Option<NaiveDate>,
}

fn rejected(rule: &str, message: String, problems: &[String], json: bool) -> Failure {
    let json = json.then(|| serde_json::json!({"status": "rejected", "error": {"rule": rule, "message": message.clone(), "problems": problems}}));
    Failure { code: 2, message, json }
}

fn read_norms(path: &Path, json: bool) -> Result<Norms, Failure> {
    let text = read_file(path, json)?;
    Norms::parse_csv(&text, &source_name(path)).map_err(|problems| {
        let message = format!("{}: the norms were not read ({} problems):\n  {}", path.display(), problems.len(), problems.join("\n  "));
        rejected("norms_invalid", message, &problems, json)
    })
}

fn read_hs(path: &Path, json: bool) -> Result<Hs2022, Failure> {
    let text = read_file(path, json)?;
    Hs2022::parse_csv(&text, &source_name(path)).map_err(|m| rejected("hs2022_invalid", m.clone(), &[m], json))
}

fn print_line(l: &LineCheck) {
    let what = match l.verdict {
        Verdict::AboveMaximum => "ABOVE MAXIMUM 超过最高单耗标准",
        Verdict::BelowMinimum => "BELOW MINIMUM 低于最低单耗标准",
        Verdict::SpecDependent => "depends on the specification (rows disagree)",
        v => v.as_str(),
    };
    println!("product {} version {} material {}: 单耗 {} — {what}{}", l.product_seq, l.version, l.material_seq, decimal::plain(l.uc), if l.uncertain { " [HS match uncertain]" } else { "" });
    for m in &l.standards {
        let bound = m.standard.as_ref().map(|s| if l.export_taxable { format!("minimum {} ({})", decimal::plain(s.min), s.basis) } else { format!("maximum {} ({})", decimal::plain(s.max), s.basis) });
        let by = m.excess_per_unit.map(|x| format!(", by {}", decimal::plain(x))).unwrap_or_default();
        println!("    {} row {} [{} → {}]: {}{by}; {}", m.standard_no, m.row, m.finished_code, m.material_code, bound.or_else(|| m.reason.clone()).unwrap_or_default(), m.verdict);
        println!("      source {}", m.source);
        if let Some(n) = m.hs_note.as_ref().filter(|_| m.hs2022 != jiamao_domain::norms::HsMatch::Current) {
            println!("      {n}");
        }
    }
}

pub(crate) fn ucns(cli: &Cli, command: &UcnsCommand) -> Result<(), Failure> {
    match command {
        UcnsCommand::Norms { command: NormsCommand::Load { file, name, from, json } } => {
            let norms = read_norms(file, *json)?;
            let name = name.clone().unwrap_or_else(|| file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
            let from = from.unwrap_or_else(|| super::platform_cmd::now().date_naive());
            let mut engine = open_engine(cli)?;
            let r = engine.load_ucns_norms(&name, from, &norms).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&r);
            }
            println!("单耗 standards {} ({} rows) {} — applies from {}", r.name, r.entries, if r.status == "loaded" { "loaded 已载入" } else { "unchanged (loaded before)" }, r.valid_from);
            Ok(())
        }
        UcnsCommand::Norms { command: NormsCommand::List { json } } => {
            let mut engine = open_engine(cli)?;
            let docs = engine.ucns_norm_documents().map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&docs);
            }
            if docs.is_empty() {
                println!("no 单耗 standards loaded (jiamao ucns norms load <file>)");
            }
            for d in docs {
                println!("{}  {}  {} rows: {}", d.valid_from, d.name, d.rows, d.standards.join(", "));
            }
            Ok(())
        }
        UcnsCommand::Check { book_no, with, json } => {
            let norms = with.norms.as_ref().map(|p| read_norms(p, *json)).transpose()?;
            let hs = with.hs2022.as_ref().map(|p| read_hs(p, *json)).transpose()?;
            let opts = CheckOptions { norms: norms.as_ref(), hs2022: hs.as_ref(), export_taxable: with.export_taxable.iter().copied().collect(), as_of: with.as_of };
            let mut engine = open_engine(cli)?;
            let r = engine.consumption_check(book_no, &opts).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&r);
            }
            println!("book {}: {} 单耗 lines against {} standards ({} rows, {}); {}", r.book_no, r.summary.lines, r.norms.standards, r.norms.rows, r.norms.source, r.hs2022.note);
            for l in &r.lines {
                print_line(l);
            }
            let s = &r.summary;
            println!(
                "{} above maximum, {} below minimum, {} spec-dependent, {} within, {} not comparable, {} without standard; {} with an uncertain HS match",
                s.above_maximum, s.below_minimum, s.spec_dependent, s.within, s.not_comparable, s.no_standard, s.uncertain
            );
            Ok(())
        }
        UcnsCommand::Reviews { book_no, with, json } => {
            let norms = with.norms.as_ref().map(|p| read_norms(p, *json)).transpose()?;
            let hs = with.hs2022.as_ref().map(|p| read_hs(p, *json)).transpose()?;
            let opts = CheckOptions { norms: norms.as_ref(), hs2022: hs.as_ref(), export_taxable: with.export_taxable.iter().copied().collect(), as_of: with.as_of };
            let mut engine = open_engine(cli)?;
            let r = engine.ucns_reviews(book_no, &opts).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&r);
            }
            let states: Vec<String> = r.states.iter().map(|(k, v)| format!("{k} {v}")).collect();
            println!("book {} (enterprise {}, customs {}): {} 单耗 versions — {}", r.book_no, r.enterprise, r.master_customs, r.versions.len(), states.join(", "));
            for v in &r.versions {
                let how = if v.self_verified { " (self-verified 企业自核)" } else { "" };
                let repl = v.replacement.as_ref().map(|x| format!(", replaced by version {x}{}", if v.replacement_filed == Some(true) { " (filed)" } else { " (not yet filed)" })).unwrap_or_default();
                println!("product {} version {} from {}: {}{how}{repl}; {} of {} lines flagged", v.product_seq, v.version, v.valid_from, v.state, v.flagged_lines, v.lines.len());
                for s in &v.history {
                    println!("    {}. {} → {} by {} ({}) at {}{}", s.n, s.from, s.to, s.by, s.role, s.at, if s.note.is_empty() { String::new() } else { format!(": {}", s.note) });
                }
            }
            Ok(())
        }
        UcnsCommand::Review { book_no, product_seq, version, action, replacement, note, json } => {
            let mut engine = open_engine(cli)?;
            let r = engine.review_ucns(book_no, *product_seq, version, *action, replacement.as_deref(), note.as_deref().unwrap_or("")).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&r);
            }
            let repl = r.replacement.as_ref().map(|x| format!("; the enterprise files version {x} as a change (变更)")).unwrap_or_default();
            println!("book {} product {} version {}: {} → {} (step {}){repl}", r.book_no, r.product_seq, r.version, r.from, r.to, r.n);
            Ok(())
        }
        UcnsCommand::SelfVerification { enterprise, decision, from, basis, json } => {
            let doc = SelfVerificationDoc { allowed: decision == "allowed", from: *from, basis: basis.clone() };
            let mut engine = open_engine(cli)?;
            let r = engine.set_self_verification(enterprise, &doc).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&r);
            }
            let what = if doc.allowed { "may self-verify its 单耗 (企业自核单耗)" } else { "may not self-verify its 单耗" };
            println!("enterprise {enterprise} {what} from {from}: {}", r.status);
            Ok(())
        }
    }
}
