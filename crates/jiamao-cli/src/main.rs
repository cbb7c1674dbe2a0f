//! `jiamao`: the command line of the bonded ledger (FORMAT.md "Command-line contract").
//!
//! Exit status: 0 success; 2 input rejected (the message says what and where); 1 other faults.

mod bench;
mod bench_pages;
mod bench_rows;
mod catalog_cmd;
mod demo;
mod gen;
mod platform_cmd;
mod policy_cmd;
mod tax_cmd;
mod ucns_cmd;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use jiamao_app::{AppError, Engine, ListOutcome};
use jiamao_store::Store;
use jiamao_store_postgres::PgStore;
use jiamao_store_sqlite::{Durability, SqliteStore};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "jiamao", version, about = "加贸 Jiamao: processing-trade bonded ledger (加工贸易保税账册)")]
struct Cli {
    /// Database: a SQLite file path (default ./jiamao.db) or a postgres:// URL.
    #[arg(long, global = true, default_value = "jiamao.db")]
    db: String,
    /// SQLite durability: `full` (fsync at each commit, survives power loss) or `normal`
    /// (survives a crash of the process).
    #[arg(long, global = true, default_value = "full")]
    durability: Durability,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Book commands (账册 / 手册).
    Book {
        #[command(subcommand)]
        command: BookCommand,
    },
    /// List commands (保税核注清单).
    List {
        #[command(subcommand)]
        command: ListCommand,
    },
    /// Material balances of a book, as of a date.
    Balance {
        book_no: String,
        #[arg(long)]
        as_of: Option<NaiveDate>,
        #[arg(long)]
        json: bool,
    },
    /// The reconciliation report (报核) of a book.
    Reconcile {
        book_no: String,
        /// Start of a range (inclusive): the opening is the should-remain of the day before.
        #[arg(long)]
        from: Option<NaiveDate>,
        #[arg(long)]
        to: Option<NaiveDate>,
        /// Drill down into one material: every list line behind each figure (报核明细).
        #[arg(long, value_name = "SEQ")]
        explain: Option<u32>,
        /// Recompute everything from the posted lines and check the maintained state agrees.
        #[arg(long)]
        verify: bool,
        /// With a stocktake, also give each material's difference rate (差异率) on this base:
        /// `should_remain` or `inflow` (the official base is not confirmed; a policy choice).
        #[arg(long, value_name = "BASE")]
        rate_base: Option<jiamao_domain::policy::RateBase>,
        #[arg(long)]
        stocktake: Option<PathBuf>,
        /// The extended report: a header (period, list counts, amounts by currency) and the extra
        /// 报核 fields the ledger knows (average price, amounts, losses, 核增/核减, export amounts).
        #[arg(long)]
        full: bool,
        #[arg(long)]
        json: bool,
    },
    /// Verification cycles (核销周期): close one (核销结案), or see what is due when.
    Cycle {
        #[command(subcommand)]
        command: CycleCommand,
    },
    /// The national tariff (税则) as dated versions.
    Tariff {
        #[command(subcommand)]
        command: tax_cmd::TariffCommand,
    },
    /// Dated rates: exchange rates, deferred-tax interest, late-payment surcharge.
    Rates {
        #[command(subcommand)]
        command: tax_cmd::RatesCommand,
    },
    /// Domestic-sale taxation (内销征税): quotes, declaration schedule, payments, periods.
    Tax {
        #[command(subcommand)]
        command: tax_cmd::TaxCommand,
    },
    /// Prohibited and restricted catalogs (禁止类 / 限制类目录): load (with impact), diff, check, list.
    Catalog {
        #[command(subcommand)]
        command: catalog_cmd::CatalogCommand,
    },
    /// Accounts of the platform (roles: enterprise_operator, enterprise_admin, customs_officer,
    /// customs_supervisor, commerce_officer, tax_officer, fx_officer, inspection_officer, bank,
    /// auditor, admin).
    User {
        #[command(subcommand)]
        command: platform_cmd::UserCommand,
    },
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: platform_cmd::TokenCommand,
    },
    /// The audit chain: verify it, export signed heads, check them later.
    Audit {
        #[command(subcommand)]
        command: platform_cmd::AuditCommand,
    },
    /// Webhooks: subscriptions, signing key, delivery.
    Webhook {
        #[command(subcommand)]
        command: platform_cmd::WebhookCommand,
    },
    /// Department data and cross-checks (多方联网): FX receipts vs exports, tax-side VAT vs assessed.
    Crosscheck {
        #[command(subcommand)]
        command: platform_cmd::DepartmentCommand,
    },
    /// 单耗 against the national standards (单耗标准), customs' review (质疑 / 磋商), self-verification.
    Ucns {
        #[command(subcommand)]
        command: ucns_cmd::UcnsCommand,
    },
    /// Business events after a cursor (the departments' feed), as JSON.
    Events {
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Enterprise credit classes (信用等级) with history.
    Credit {
        #[command(subcommand)]
        command: policy_cmd::CreditCommand,
    },
    /// The guarantee a book owes (海关事务担保 / 保证金台账): required, posted, shortfall; post, refund.
    Guarantee(policy_cmd::GuaranteeArgs),
    /// Run the HTTP API and web pages.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Load the demo data set into the database first (when it is not there yet).
        #[arg(long)]
        demo: bool,
        /// Deliver webhooks, signed with this key file (jiamao webhook keygen), every few seconds.
        #[arg(long)]
        webhook_key: Option<PathBuf>,
    },
    /// Load the demo data set (an enterprise, a book and a year of lists).
    Demo,
    /// Measure durable posting throughput (docs/perf.md).
    Bench(bench::BenchArgs),
    /// Write a synthetic enterprise (book, lists, stocktake) in the interchange format.
    Gen(gen::GenArgs),
    /// Time every web page with the demo data, served in-process (docs/perf.md).
    BenchPages(bench_pages::BenchPagesArgs),
}

#[derive(Subcommand)]
enum BookCommand {
    /// File a book, or a change (变更) to an existing one.
    Import {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CycleCommand {
    /// Close the open cycle on a date: freeze its 报核 report, record adjustments (核增/核减), and open
    /// the next cycle with the (counted and adjusted) remains.
    Close {
        book_no: String,
        #[arg(long)]
        to: NaiveDate,
        /// The stocktake (盘点) taken on the closing day.
        #[arg(long)]
        stocktake: Option<PathBuf>,
        /// Adjustments agreed with customs: {"book_no", "adjustments": [{"seq", "kind": "increase"|"decrease", "qty", "reason"}]}.
        #[arg(long)]
        adjustments: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The open cycle, the last write-off and the 报核 deadline.
    Status {
        book_no: String,
        /// An E book's cycle length in months, when the enterprise chose one (default 12).
        #[arg(long)]
        period_months: Option<u32>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ListCommand {
    /// Post the lists of a file, in file order.
    Post {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

/// A failure that ends the command, with its exit status.
struct Failure {
    code: u8,
    message: String,
    json: Option<serde_json::Value>,
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure { code: 1, message: format!("{e:#}"), json: None }
    }
}

fn app_failure(e: AppError, json: bool) -> Failure {
    let code = if e.is_rejection() { 2 } else { 1 };
    let rule = match &e {
        AppError::Document(_) => "document_format",
        AppError::Book { error, .. } => error.rule,
        AppError::UnknownBook(_) => "unknown_book",
        AppError::Tax(t) => t.rule,
        AppError::Input(_) => "input",
        AppError::Forbidden(_) => "forbidden",
        AppError::Store(_) => "store",
    };
    let message = e.to_string();
    let json = json.then(|| serde_json::json!({"status": if code == 2 { "rejected" } else { "error" }, "error": {"rule": rule, "message": message}}));
    Failure { code, message, json }
}

/// The store named by `--db`: a PostgreSQL URL, or a SQLite file path.
pub(crate) fn open_store(db: &str, durability: Durability) -> Result<Box<dyn Store>, Failure> {
    let failed = |e: jiamao_store::StoreError| Failure { code: 1, message: format!("cannot open database {}: {e}", redact(db)), json: None };
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        return Ok(Box::new(PgStore::connect(db).map_err(failed)?));
    }
    Ok(Box::new(SqliteStore::open(Path::new(db), durability).map_err(failed)?))
}

/// A database URL without its password, for messages.
fn redact(db: &str) -> String {
    match (db.find("://"), db.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &db[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &db[..s + 3], &db[at..]),
                None => db.to_owned(),
            }
        }
        _ => db.to_owned(),
    }
}

fn open_engine(cli: &Cli) -> Result<Engine<Box<dyn Store>>, Failure> {
    let store = open_store(&cli.db, cli.durability)?;
    // Tests lower the checkpoint interval to exercise restore paths.
    let every = std::env::var("JIAMAO_CHECKPOINT_LINES").ok().and_then(|v| v.parse().ok()).unwrap_or(jiamao_app::DEFAULT_CHECKPOINT_LINES);
    let mut engine = Engine::new(store).with_checkpoint_lines(every);
    engine.set_ctx(jiamao_app::platform::Ctx::local(platform_cmd::now()));
    Ok(engine)
}

fn read_file(path: &Path, json: bool) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| {
        let message = format!("{}: cannot read: {e}", path.display());
        Failure { code: 2, json: json.then(|| serde_json::json!({"status": "rejected", "error": {"rule": "file", "message": message}})), message }
    })
}

/// The extended 报核 report in human form.
fn print_full_report(r: &jiamao_domain::report_full::FullReport) {
    let h = &r.header;
    let amounts = |m: &std::collections::BTreeMap<String, String>| if m.is_empty() { "none".to_owned() } else { m.iter().map(|(c, a)| format!("{a} ({c})")).collect::<Vec<_>>().join(", ") };
    println!("报核 reconciliation of book {} from {}{} (extended)", r.book_no, h.from, h.to.map(|d| format!(" to {d}")).unwrap_or_default());
    println!("import lists {}: {}; export lists {}: {}", h.import_lists, amounts(&h.import_amounts), h.export_lists, amounts(&h.export_amounts));
    for x in &r.materials {
        let m = &x.base;
        print_material_line(m, &format!(" + 核增 {} − 核减 {}", x.increase, x.decrease));
        println!("               leftovers accrued {}, disposed {}; loss tangible {}, intangible {}", m.leftover_accrued, m.leftover_disposed, x.tangible_loss, x.intangible_loss);
        if let Some(p) = &x.average_price {
            let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
            println!("               average price {p}: consumed {}, domestic {}, should remain {}", or_dash(&x.consumed_amount), or_dash(&x.domestic_sold_amount), or_dash(&x.should_remain_amount));
        }
    }
    for x in &r.products {
        let p = &x.base;
        println!(
            "product  {:>4}: exported {}{}, carried out {}{}, domestic {}, returned {}, re-exported {}, destroyed {}",
            p.seq,
            p.exported,
            x.exported_amount.as_ref().map(|a| format!(" ({a})")).unwrap_or_default(),
            p.carried_out,
            x.carried_out_amount.as_ref().map(|a| format!(" ({a})")).unwrap_or_default(),
            p.domestic_sold,
            p.returned,
            p.reexported,
            p.destroyed
        );
    }
}

fn print_json(v: &impl serde::Serialize) -> Result<(), Failure> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    serde_json::to_writer(&mut out, v).context("cannot render JSON")?;
    writeln!(out).context("cannot write to standard output")?;
    out.flush().context("cannot write to standard output")?;
    Ok(())
}

fn source_name(path: &Path) -> String {
    path.display().to_string()
}

fn run(cli: Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Book { command: BookCommand::Import { file, json } } => {
            let text = read_file(file, *json)?;
            let mut engine = open_engine(&cli)?;
            let r = engine.import_book(&text, &source_name(file)).map_err(|e| app_failure(e, *json))?;
            flush(&mut engine);
            if *json {
                print_json(&r)?;
            } else {
                let what = match r.status {
                    "filed" => "filed (备案)",
                    "changed" => "changed (变更)",
                    _ => "unchanged (identical to the latest revision)",
                };
                println!("book {} {what}, revision {}", r.book_no, r.revision);
                if r.resolved_lines > 0 {
                    println!("{} pending product lines now have a 单耗 version", r.resolved_lines);
                }
            }
            Ok(())
        }
        Command::List { command: ListCommand::Post { file, json } } => {
            let text = read_file(file, *json)?;
            let mut engine = open_engine(&cli)?;
            let outcomes = engine.post_text(&text, &source_name(file)).map_err(|e| app_failure(e, *json))?;
            flush(&mut engine);
            report_outcomes(&outcomes, file, *json)
        }
        Command::Balance { book_no, as_of, json } => {
            let mut engine = open_engine(&cli)?;
            let r = engine.balance(book_no, *as_of).map_err(|e| app_failure(e, *json))?;
            flush(&mut engine);
            if *json {
                return print_json(&r);
            }
            let names = item_names(&mut engine, book_no);
            println!("book {} balances{}", r.book_no, as_of.map(|d| format!(" as of {d}")).unwrap_or_default());
            println!("{:>6}  {} {:>18}", "seq", pad("material 料件", 28), "balance 余额");
            for m in &r.materials {
                println!("{:>6}  {} {:>18}", m.seq, pad(names.get(&m.seq).map(String::as_str).unwrap_or(""), 28), m.balance);
            }
            Ok(())
        }
        Command::Reconcile { book_no, from, to, explain: Some(seq), json, .. } => {
            let mut engine = open_engine(&cli)?;
            let ex = engine.explain(book_no, *seq, *from, *to).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&ex);
            }
            println!("报核明细 drill-down of material {} ({}) in book {}", ex.material_seq, ex.name, ex.book_no);
            for c in &ex.contributions {
                let through = match (c.product_seq, &c.version, &c.product_qty, &c.unit_consumption, &c.bonded_share) {
                    (Some(p), Some(v), Some(q), Some(uc), Some(sh)) => format!("  ← product {p} × {q}, 单耗 version {v}: {uc} × share {sh}"),
                    _ => String::new(),
                };
                println!("{} {} line {:>3} [{}] {:<18} {:>16}{through}", c.declared_on, c.list_no, c.line, c.trade_mode, c.figure.as_str(), c.qty);
            }
            for v in &ex.by_product_version {
                println!("product {} version {}: {} {} from {} lines (net {} products)", v.product_seq, v.version, v.figure.as_str(), v.qty, v.lines, v.product_qty);
            }
            for p in &ex.pending_lines {
                println!("pending (单耗 not yet declared): {p}");
            }
            Ok(())
        }
        Command::Reconcile { book_no, verify: true, json, .. } => {
            let mut engine = open_engine(&cli)?;
            // Read every posted line into memory (as columns), then time the recomputation kernel alone.
            let t0 = std::time::Instant::now();
            let (book, closure, cols, n_lists, n_lines) = engine.posted_columns(book_no).map_err(|e| app_failure(e, *json))?;
            let loaded = t0.elapsed();
            let t1 = std::time::Instant::now();
            let kernel_result = cols.as_ref().and_then(|c| jiamao_domain::aggregate::aggregate_columns(&book, closure.as_ref(), c));
            let (recomputed, skipped) = match kernel_result {
                Some(r) => (r, 0),
                None => {
                    // More decimal places than the integer kernel keeps: the decimal kernel.
                    let (book, closure, lists) = engine.posted_lists(book_no).map_err(|e| app_failure(e, *json))?;
                    let mut agg = jiamao_domain::aggregate::Aggregator::new(&book, closure.as_ref());
                    for s in &lists {
                        agg.add(&s.list, &s.versions);
                    }
                    let skipped = agg.skipped;
                    (agg.finish(), skipped)
                }
            };
            let kernel = t1.elapsed();
            let lines = n_lines;
            eprintln!("verify: {lines} lines of {n_lists} lists read in {:.1} ms; recomputation kernel {:.1} ms", loaded.as_secs_f64() * 1000.0, kernel.as_secs_f64() * 1000.0);
            let diff =
                if skipped > 0 { Some(format!("{skipped} posted lines no longer read against the book")) } else { engine.verify_against(book_no, &recomputed).map_err(|e| app_failure(e, *json))? };
            match diff {
                None => {
                    if *json {
                        print_json(&serde_json::json!({"book_no": book_no, "verified": true, "lines": lines, "kernel_ms": kernel.as_secs_f64() * 1000.0}))?;
                    } else {
                        println!("book {book_no}: the maintained state equals a recomputation from every posted line");
                    }
                    Ok(())
                }
                Some(diff) => Err(Failure {
                    code: 1,
                    json: json.then(|| serde_json::json!({"book_no": book_no, "verified": false, "difference": diff})),
                    message: format!("book {book_no}: maintained state differs from the recomputation: {diff}"),
                }),
            }
        }
        Command::Reconcile { book_no, from, to, stocktake, json, rate_base, full: true, .. } => {
            let st_text = stocktake.as_ref().map(|p| read_file(p, *json)).transpose()?;
            let st = match (&st_text, stocktake) {
                (Some(t), Some(p)) => Some(jiamao_domain::doc::parse_stocktake(t, &source_name(p)).map_err(|e| app_failure(e.into(), *json))?),
                _ => None,
            };
            let st_name = stocktake.as_ref().map(|p| source_name(p)).unwrap_or_default();
            let mut engine = open_engine(&cli)?;
            if rate_base.is_some() {
                engine = engine.with_policy(jiamao_domain::policy::Policy { difference_rate_base: *rate_base, ..Default::default() });
            }
            let r = engine.reconcile_full(book_no, *from, *to, st.as_ref().map(|s| (s, st_name.as_str()))).map_err(|e| app_failure(e, *json))?;
            flush(&mut engine);
            if *json {
                return print_json(&r);
            }
            print_full_report(&r);
            Ok(())
        }
        Command::Reconcile { book_no, from, to, stocktake, json, rate_base, .. } => {
            let st_text = stocktake.as_ref().map(|p| read_file(p, *json)).transpose()?;
            let st = match (&st_text, stocktake) {
                (Some(t), Some(p)) => Some(jiamao_domain::doc::parse_stocktake(t, &source_name(p)).map_err(|e| app_failure(e.into(), *json))?),
                _ => None,
            };
            let st_name = stocktake.as_ref().map(|p| source_name(p)).unwrap_or_default();
            let mut engine = open_engine(&cli)?;
            if rate_base.is_some() {
                engine = engine.with_policy(jiamao_domain::policy::Policy { difference_rate_base: *rate_base, ..Default::default() });
            }
            let totals = engine.reconcile_range_totals(book_no, *from, *to, st.as_ref().map(|s| (s, st_name.as_str()))).map_err(|e| app_failure(e, *json))?;
            flush(&mut engine);
            if *json {
                // Rendered straight from the exact figures, a chunk at a time (the same bytes as
                // `print_json` of the report).
                let mut stdout = std::io::stdout().lock();
                let mut buf = Vec::with_capacity(1 << 18);
                totals
                    .write_json(&mut buf, (1 << 18) - 4096, &mut |b: &mut Vec<u8>| {
                        let written = stdout.write_all(b);
                        b.clear();
                        written
                    })
                    .and_then(|()| stdout.write_all(b"\n"))
                    .and_then(|()| stdout.flush())
                    .context("cannot write to standard output")?;
                return Ok(());
            }
            let r = totals.report();
            println!("报核 reconciliation of book {}{}", r.book_no, to.map(|d| format!(" to {d}")).unwrap_or_default());
            for m in &r.materials {
                print_material_line(m, "");
                println!("               leftovers accrued {}, disposed {}", m.leftover_accrued, m.leftover_disposed);
            }
            for p in &r.products {
                println!(
                    "product  {:>4}: exported {}, carried out {}, domestic {}, returned {}, re-exported {}, destroyed {}",
                    p.seq, p.exported, p.carried_out, p.domestic_sold, p.returned, p.reexported, p.destroyed
                );
            }
            Ok(())
        }
        Command::Cycle { command: CycleCommand::Close { book_no, to, stocktake, adjustments, json } } => {
            let st_text = stocktake.as_ref().map(|p| read_file(p, *json)).transpose()?;
            let adj_text = adjustments.as_ref().map(|p| read_file(p, *json)).transpose()?;
            let st = match (&st_text, stocktake) {
                (Some(t), Some(p)) => Some((jiamao_domain::doc::parse_stocktake(t, &source_name(p)).map_err(|e| app_failure(e.into(), *json))?, source_name(p))),
                _ => None,
            };
            let adj = match (&adj_text, adjustments) {
                (Some(t), Some(p)) => Some((jiamao_domain::doc::parse_document::<jiamao_domain::cycle::AdjustmentsDoc>(t, &source_name(p)).map_err(|e| app_failure(e.into(), *json))?, source_name(p))),
                _ => None,
            };
            let mut engine = open_engine(&cli)?;
            let c = engine.close_cycle(book_no, *to, st.as_ref().map(|(d, n)| (d, n.as_str())), adj.as_ref().map(|(d, n)| (d, n.as_str()))).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&c);
            }
            println!("book {} cycle {} closed ({} – {}, 核销结案); the next cycle opens on {} with:", c.book_no, c.cycle_no, c.from, c.to, c.to.succ_opt().map(|d| d.to_string()).unwrap_or_default());
            for o in &c.openings {
                println!("  material {:>6}: opening {}", o.seq, jiamao_domain::decimal::report_qty(o.opening));
            }
            Ok(())
        }
        Command::Cycle { command: CycleCommand::Status { book_no, period_months, json } } => {
            let mut engine = open_engine(&cli)?;
            let mut policy = jiamao_domain::cycle::DeadlinePolicy::default();
            if let Some(m) = period_months {
                policy.e_book_cycle_months = *m;
            }
            let st = engine.cycle_status(book_no, &policy).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&st);
            }
            println!("book {}: cycle {} from {} to {}", st.book_no, st.cycle_no, st.cycle_from, st.cycle_until);
            if let Some(w) = st.last_write_off {
                println!("last write-off (最近核销): {w}");
            }
            if let Some(e) = st.last_export {
                println!("last export: {e}");
            }
            println!("报核 due by {} — {}", st.report_due, st.basis);
            Ok(())
        }
        Command::Tariff { command } => tax_cmd::tariff(&cli, command),
        Command::Rates { command } => tax_cmd::rates(&cli, command),
        Command::Tax { command } => tax_cmd::tax(&cli, command),
        Command::Catalog { command } => catalog_cmd::catalog(&cli, command),
        Command::User { command } => platform_cmd::user(&cli, command),
        Command::Token { command } => platform_cmd::token(&cli, command),
        Command::Audit { command } => platform_cmd::audit(&cli, command),
        Command::Events { after, limit } => platform_cmd::events(&cli, *after, *limit),
        Command::Webhook { command } => platform_cmd::webhook(&cli, command),
        Command::Crosscheck { command } => platform_cmd::department(&cli, command),
        Command::Ucns { command } => ucns_cmd::ucns(&cli, command),
        Command::Credit { command } => policy_cmd::credit(&cli, command),
        Command::Guarantee(args) => policy_cmd::guarantee(&cli, args),
        Command::Serve { addr, demo, webhook_key } => {
            if let Some(path) = webhook_key {
                let key = platform_cmd::webhook_key(path)?;
                // Its own connection: a slow receiver never holds up the API.
                let mut worker = open_engine(&cli)?;
                std::thread::spawn(move || loop {
                    worker.set_ctx(jiamao_app::platform::Ctx::local(platform_cmd::now()));
                    match worker.deliver_webhooks(&key, &mut jiamao_app::webhooks::HttpTransport { timeout: std::time::Duration::from_secs(10) }, 500) {
                        Ok(r) => {
                            for (hook, event, why) in &r.failed {
                                tracing::warn!(%hook, event, %why, "webhook delivery failed; retried next round");
                            }
                        }
                        Err(e) => tracing::error!("webhook delivery: {e}"),
                    }
                    std::thread::sleep(std::time::Duration::from_secs(5));
                });
            }
            let mut engine = open_engine(&cli)?;
            if *demo {
                demo::load(&mut engine).map_err(|e| app_failure(e, false))?;
            }
            serve(engine, addr, *demo)
        }
        Command::Demo => {
            let mut engine = open_engine(&cli)?;
            let n = demo::load(&mut engine).map_err(|e| app_failure(e, false))?;
            println!("demo data loaded into {} ({n} lists posted)", cli.db);
            Ok(())
        }
        Command::Bench(args) => bench::run(args).map_err(Failure::from),
        Command::Gen(args) => gen::run(args).map_err(Failure::from),
        Command::BenchPages(args) => bench_pages::run(args).map_err(Failure::from),
    }
}

/// One material of a 报核 report in human form; `adjusted` follows the opening (核增 / 核减).
fn print_material_line(m: &jiamao_domain::report::MaterialReport, adjusted: &str) {
    println!(
        "material {:>4}: opening {}{adjusted} + in {}/{}/{}/{} − consumed {} − domestic {} − re-exported {} − replaced {} − surplus out {} − destroyed {} = should remain {}{}",
        m.seq,
        m.opening,
        m.imported,
        m.carried_in,
        m.surplus_in,
        m.replaced_in,
        m.consumed,
        m.domestic_sold,
        m.re_exported,
        m.replaced_out,
        m.surplus_out,
        m.destroyed,
        m.should_remain,
        match (&m.actual_remain, &m.difference) {
            (Some(a), Some(d)) => format!("; actual {a}, difference {d}{}", m.difference_amount.as_ref().map(|x| format!(" ({x})")).unwrap_or_default()),
            _ => String::new(),
        }
    );
}

/// Pads to a terminal width, counting CJK characters as two columns.
fn pad(text: &str, width: usize) -> String {
    let cols: usize = text.chars().map(|c| if c >= '\u{2E80}' { 2 } else { 1 }).sum();
    format!("{text}{}", " ".repeat(width.saturating_sub(cols)))
}

/// Leaves a checkpoint of what this process posted, so the next command starts without replaying
/// it. A failure here loses nothing (checkpoints are derived), so it is only reported.
fn flush(engine: &mut Engine<Box<dyn Store>>) {
    if let Err(e) = engine.flush_checkpoints() {
        eprintln!("jiamao: note: could not save a checkpoint of derived state ({e}); the next command replays the lines instead");
    }
}

fn item_names(engine: &mut Engine<Box<dyn Store>>, book_no: &str) -> std::collections::BTreeMap<u32, String> {
    match engine.ledger(book_no) {
        Ok(Some(l)) => l.book().materials.iter().map(|m| (m.seq, m.name.clone())).collect(),
        _ => Default::default(),
    }
}

fn report_outcomes(outcomes: &[ListOutcome], file: &Path, json: bool) -> Result<(), Failure> {
    let rejected = outcomes.iter().filter(|o| o.status == "rejected").count();
    if json {
        print_json(&outcomes)?;
    } else {
        for (i, o) in outcomes.iter().enumerate() {
            match &o.error {
                None => println!("{}: {}", o.list_no, o.status),
                Some(e) => println!(
                    "{}: rejected: {}, list {} ({}){}: {} (rule {})",
                    o.list_no,
                    file.display(),
                    i + 1,
                    o.list_no,
                    e.line.map(|l| format!(", line {l}")).unwrap_or_default(),
                    e.message,
                    e.rule
                ),
            }
        }
    }
    if rejected > 0 {
        let message = format!("{}: {rejected} of {} lists rejected; nothing of them was posted, the others stand", file.display(), outcomes.len());
        return Err(Failure { code: 2, message, json: None });
    }
    Ok(())
}

fn serve(mut engine: Engine<Box<dyn Store>>, addr: &str, demo: bool) -> Result<(), Failure> {
    let no_accounts = engine.users().map(|u| u.is_empty()).unwrap_or(false);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr().context("no local address")?;
        println!("加贸 Jiamao is serving at http://{local}/  (API: http://{local}/api/v1/, OpenAPI: http://{local}/api/openapi.json)");
        if demo {
            let logins: Vec<&str> = demo::DEMO_ACCOUNTS.iter().map(|a| a.0).collect();
            println!("演示账号 demo accounts: {} — password 密码: {}", logins.join(", "), demo::DEMO_PASSWORD);
        } else if no_accounts {
            println!("尚无账号 no accounts yet: create one first, e.g. `jiamao user add admin --role admin` (password on standard input)");
        }
        let router = jiamao_server::router(std::sync::Arc::new(std::sync::Mutex::new(engine)));
        jiamao_server::serve(listener, router).await.context("server failed")
    })?;
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_writer(std::io::stderr).init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if let Some(j) = &f.json {
                let _ = print_json(j);
            }
            eprintln!("jiamao: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
