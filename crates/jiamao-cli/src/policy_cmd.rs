//! `jiamao credit …` and `jiamao guarantee …`: credit classes and the guarantees books owe.

use super::{app_failure, open_engine, print_json, Cli, Failure};
use chrono::NaiveDate;
use clap::Subcommand;
use jiamao_app::guarantee::GuaranteeDoc;
use jiamao_domain::credit::CreditEntry;

#[derive(Subcommand)]
pub(crate) enum CreditCommand {
    /// Record an enterprise's credit class from a date (the class names of the scheme in force then:
    /// AA…D; 高级认证, 一般认证, 一般信用, 失信; …).
    Set {
        uscc: String,
        class: String,
        #[arg(long)]
        from: NaiveDate,
        /// The decision's number.
        #[arg(long)]
        decision: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The credit history and the class in force, with its effects.
    Show {
        uscc: String,
        /// Default: today.
        #[arg(long)]
        as_of: Option<NaiveDate>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct GuaranteeArgs {
    #[command(subcommand)]
    command: Option<GuaranteeCommand>,
    /// The book (for the report: required, posted, shortfall and the basis).
    book_no: Option<String>,
    /// Default: today.
    #[arg(long)]
    as_of: Option<NaiveDate>,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub(crate) enum GuaranteeCommand {
    /// Record a guarantee posted for a book.
    Post {
        book_no: String,
        #[arg(long)]
        no: String,
        /// cash (保证金) or letter (保函).
        #[arg(long)]
        form: String,
        #[arg(long)]
        amount: String,
        #[arg(long)]
        posted_on: NaiveDate,
        #[arg(long)]
        guarantor: Option<String>,
        #[arg(long)]
        valid_until: Option<NaiveDate>,
    },
    /// Refund a guarantee (at write-off), with interest on cash.
    Refund {
        book_no: String,
        #[arg(long)]
        no: String,
        #[arg(long)]
        on: NaiveDate,
        /// The bank's demand rate (a yearly fraction), required from 2025-08-01.
        #[arg(long)]
        rate: Option<String>,
    },
}

fn today() -> NaiveDate {
    super::platform_cmd::now().date_naive()
}

fn dec(text: &str, what: &str) -> Result<jiamao_domain::Decimal, Failure> {
    jiamao_domain::decimal::parse(text).map_err(|m| Failure { code: 2, message: format!("{what}: {m}"), json: None })
}

pub(crate) fn credit(cli: &Cli, command: &CreditCommand) -> Result<(), Failure> {
    let mut engine = open_engine(cli)?;
    let view = match command {
        CreditCommand::Set { uscc, class, from, decision, json } => {
            let v = engine.set_credit(uscc, &CreditEntry { class: class.clone(), from: *from, decision: decision.clone() }).map_err(|e| app_failure(e, *json))?;
            (v, *json)
        }
        CreditCommand::Show { uscc, as_of, json } => (engine.credit(uscc, as_of.unwrap_or_else(today)).map_err(|e| app_failure(e, *json))?, *json),
    };
    let (v, json) = view;
    if json {
        return print_json(&v);
    }
    println!(
        "enterprise {} on {}: {} (Decree {}, tier {:?}{})",
        v.enterprise,
        v.as_of,
        v.class.as_deref().unwrap_or("no class recorded"),
        v.scheme.as_deref().unwrap_or("-"),
        v.tier,
        if v.defaulted { ", by default" } else { "" }
    );
    println!(
        "  processing trade {}, outward processing {}, self-verified 单耗 {}",
        if v.effects.processing_trade { "allowed" } else { "NOT allowed" },
        if v.effects.outward_processing { "allowed" } else { "not allowed" },
        if v.effects.self_verification { "allowed" } else { "not allowed" }
    );
    for e in &v.history {
        println!("  from {}: {}{}", e.from, e.class, e.decision.as_deref().map(|d| format!(" ({d})")).unwrap_or_default());
    }
    Ok(())
}

pub(crate) fn guarantee(cli: &Cli, args: &GuaranteeArgs) -> Result<(), Failure> {
    let mut engine = open_engine(cli)?;
    match &args.command {
        Some(GuaranteeCommand::Post { book_no, no, form, amount, posted_on, guarantor, valid_until }) => {
            let doc = GuaranteeDoc { guarantee_no: no.clone(), form: form.clone(), amount: dec(amount, "--amount")?, posted_on: *posted_on, guarantor: guarantor.clone(), valid_until: *valid_until };
            let r = engine.post_guarantee(book_no, &doc).map_err(|e| app_failure(e, true))?;
            print_json(&r)
        }
        Some(GuaranteeCommand::Refund { book_no, no, on, rate }) => {
            let rate = rate.as_deref().map(|r| dec(r, "--rate")).transpose()?;
            let r = engine.refund_guarantee(book_no, no, *on, rate).map_err(|e| app_failure(e, true))?;
            print_json(&r)
        }
        None => {
            let Some(book_no) = &args.book_no else {
                return Err(Failure { code: 2, message: "jiamao guarantee <book_no> [--as-of D] [--json], or guarantee post|refund".to_owned(), json: None });
            };
            let r = engine.guarantee(book_no, args.as_of.unwrap_or_else(today)).map_err(|e| app_failure(e, args.json))?;
            if args.json {
                return print_json(&r);
            }
            println!(
                "book {} on {}: required {}, posted {}, shortfall {}{}",
                r.book_no,
                r.as_of,
                jiamao_domain::decimal::plain(r.required.amount),
                jiamao_domain::decimal::plain(r.posted),
                jiamao_domain::decimal::plain(r.shortfall),
                if r.alert { " — ALERT 担保不足" } else { "" }
            );
            println!("  {:?} / {:?}: {}", r.required.method, r.holding, r.source);
            for l in &r.required.lines {
                println!("  {}: base {} × {} = {} — {}", l.what, jiamao_domain::decimal::plain(l.base), jiamao_domain::decimal::plain(l.share), jiamao_domain::decimal::plain(l.amount), l.rule);
            }
            for u in &r.unvalued {
                println!("  not valued: {u}");
            }
            Ok(())
        }
    }
}
