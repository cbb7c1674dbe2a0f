//! `jiamao user …`, `jiamao token …`, `jiamao audit …`, `jiamao events`: accounts, API tokens, the
//! audit chain and the event feed. The command line acts as the local operator of the database.

use super::{app_failure, open_engine, print_json, read_file, Cli, Failure};
use chrono::NaiveDate;
use clap::Subcommand;
use jiamao_app::platform::{self, SignedHeads};
use jiamao_domain::access::Role;
use std::io::Read;
use std::path::PathBuf;

#[derive(Subcommand)]
pub(crate) enum UserCommand {
    /// Add an account; the password is read from standard input (first line).
    Add {
        login: String,
        #[arg(long)]
        role: Role,
        /// Enterprise roles and banks: the enterprise's unified social credit code.
        #[arg(long)]
        enterprise: Option<String>,
        /// Customs officers: the 4-digit customs district (关区).
        #[arg(long)]
        customs: Option<String>,
        /// Commerce officers (required), tax / FX / inspection officers (optional): 2-digit province.
        #[arg(long)]
        province: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Every account.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Disable an account: its tokens and sessions stop working.
    Disable { login: String },
}

#[derive(Subcommand)]
pub(crate) enum TokenCommand {
    /// Issue an API token for an account; the token is the last line printed (shown once).
    Issue {
        login: String,
        /// The token may only read.
        #[arg(long)]
        read_only: bool,
        /// Last day the token works (it expires at the end of that day, UTC).
        #[arg(long)]
        until: Option<NaiveDate>,
    },
    /// Revoke a token by its id.
    Revoke { token_id: String },
}

#[derive(Subcommand)]
pub(crate) enum AuditCommand {
    /// Walk every chain and check every posted list against its recorded digest; exit status 3
    /// when anything is broken, naming the first broken record of each chain.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Write a new Ed25519 signing key (hex) for exporting chain heads; keep it secret, rotate by
    /// writing a new one (the key id changes).
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Export the head of every chain, signed with the key in FILE (a document a third party keeps).
    Heads {
        #[arg(long)]
        key: PathBuf,
    },
    /// Check a signed heads document: its signature, and that every chain still holds its head.
    Check { heads: PathBuf },
}

#[derive(Subcommand)]
pub(crate) enum WebhookCommand {
    /// Subscribe a URL (http://…) to events, for an account (it receives what that account may see).
    Add {
        url: String,
        /// The account the deliveries act as.
        #[arg(long = "for")]
        login: String,
        /// Event kinds (comma-separated); default every kind the account may see.
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<String>,
    },
    /// Every subscription and its cursor.
    List,
    /// Write a new signing key (hex) for deliveries; configure it with `--key` / `serve --webhook-key`.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// One delivery round now (as a cron job would run it): every pending event, signed with the key.
    Deliver {
        #[arg(long)]
        key: PathBuf,
        #[arg(long, default_value_t = 1000)]
        max: usize,
    },
}

pub(crate) fn webhook(cli: &Cli, command: &WebhookCommand) -> Result<(), Failure> {
    match command {
        WebhookCommand::Add { url, login, kinds } => {
            let mut engine = open_engine(cli)?;
            let w = engine.add_webhook_for(Some(login), url, kinds).map_err(|e| app_failure(e, false))?;
            println!("webhook {} → {} for {} ({})", w.id, w.url, w.login, if w.kinds.is_empty() { "every kind".to_owned() } else { w.kinds.join(", ") });
            Ok(())
        }
        WebhookCommand::List => {
            let mut engine = open_engine(cli)?;
            print_json(&engine.webhooks().map_err(|e| app_failure(e, true))?)
        }
        WebhookCommand::Keygen { out } => {
            if out.exists() {
                return Err(Failure { code: 2, message: format!("{} exists; a new key goes to a new file", out.display()), json: None });
            }
            let hex = jiamao_app::webhooks::new_key_hex().map_err(|e| app_failure(e, false))?;
            std::fs::write(out, format!("{hex}\n")).map_err(|e| Failure { code: 1, message: format!("{}: {e}", out.display()), json: None })?;
            let key = jiamao_app::webhooks::WebhookKey::parse(&hex).map_err(|m| Failure { code: 1, message: m, json: None })?;
            println!("webhook signing key {} written to {} (share it with receivers to verify X-Jiamao-Signature)", key.id, out.display());
            Ok(())
        }
        WebhookCommand::Deliver { key, max } => {
            let key = webhook_key(key)?;
            let mut engine = open_engine(cli)?;
            let r = engine.deliver_webhooks(&key, &mut jiamao_app::webhooks::HttpTransport { timeout: std::time::Duration::from_secs(10) }, *max).map_err(|e| app_failure(e, true))?;
            print_json(&r)
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum DepartmentCommand {
    /// Load FX receipts (CSV `enterprise,receipt_no,received_on,currency,amount,list_no`).
    FxLoad { file: PathBuf },
    /// Load the VAT the tax side expects (CSV `enterprise,period,vat_expected`).
    VatLoad { file: PathBuf },
    /// FX receipts against declared export values of an enterprise over a period.
    Fx {
        enterprise: String,
        #[arg(long)]
        from: NaiveDate,
        #[arg(long)]
        to: NaiveDate,
        /// Receipts short of exports by more than this share are flagged (default 0).
        #[arg(long, default_value = "0")]
        tolerance: String,
    },
    /// Domestic-sale VAT assessed and paid against what the tax side expects, by period.
    Vat {
        enterprise: String,
        /// Default: today.
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
}

pub(crate) fn department(cli: &Cli, command: &DepartmentCommand) -> Result<(), Failure> {
    let refused = |file: &PathBuf, problems: Vec<String>| {
        let message = format!("{}: nothing was loaded ({} problems):\n  {}", file.display(), problems.len(), problems.join("\n  "));
        Failure { code: 2, json: Some(serde_json::json!({"status": "rejected", "error": {"rule": "file_invalid", "message": message.clone(), "problems": problems}})), message }
    };
    match command {
        DepartmentCommand::FxLoad { file } => {
            let text = read_file(file, true)?;
            let rows = jiamao_domain::crosscheck::parse_fx_receipts(&text, &file.display().to_string()).map_err(|p| refused(file, p))?;
            let mut engine = open_engine(cli)?;
            print_json(&engine.load_fx_receipts(&rows).map_err(|e| app_failure(e, true))?)
        }
        DepartmentCommand::VatLoad { file } => {
            let text = read_file(file, true)?;
            let rows = jiamao_domain::crosscheck::parse_vat_expectations(&text, &file.display().to_string()).map_err(|p| refused(file, p))?;
            let mut engine = open_engine(cli)?;
            print_json(&engine.load_vat_expectations(&rows).map_err(|e| app_failure(e, true))?)
        }
        DepartmentCommand::Fx { enterprise, from, to, tolerance } => {
            let tolerance = jiamao_domain::decimal::parse(tolerance).map_err(|m| Failure { code: 2, message: format!("--tolerance: {m}"), json: None })?;
            let mut engine = open_engine(cli)?;
            print_json(&engine.fx_crosscheck(enterprise, *from, *to, tolerance).map_err(|e| app_failure(e, true))?)
        }
        DepartmentCommand::Vat { enterprise, as_of } => {
            let mut engine = open_engine(cli)?;
            let as_of = as_of.unwrap_or_else(|| now().date_naive());
            print_json(&engine.vat_crosscheck(enterprise, as_of, &jiamao_domain::tax::TaxPolicy::default()).map_err(|e| app_failure(e, true))?)
        }
    }
}

/// Reads a webhook signing key file.
pub(crate) fn webhook_key(path: &std::path::Path) -> Result<jiamao_app::webhooks::WebhookKey, Failure> {
    let text = read_file(path, false)?;
    jiamao_app::webhooks::WebhookKey::parse(&text).map_err(|m| Failure { code: 2, message: format!("{}: {m}", path.display()), json: None })
}

/// The current time: the one place (with `today`) the command line reads the clock.
#[allow(clippy::disallowed_methods)]
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn read_password() -> Result<String, Failure> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).map_err(|e| Failure { code: 1, message: format!("cannot read the password from standard input: {e}"), json: None })?;
    Ok(s.lines().next().unwrap_or_default().to_owned())
}

pub(crate) fn user(cli: &Cli, command: &UserCommand) -> Result<(), Failure> {
    let mut engine = open_engine(cli)?;
    match command {
        UserCommand::Add { login, role, enterprise, customs, province, json } => {
            let password = read_password()?;
            let a = engine.add_user(login, *role, enterprise.as_deref(), customs.as_deref(), province.as_deref(), &password).map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&a);
            }
            println!("account {} added ({} {})", a.login, a.role, a.role.name_zh());
            Ok(())
        }
        UserCommand::List { json } => {
            let all = engine.users().map_err(|e| app_failure(e, *json))?;
            if *json {
                return print_json(&all);
            }
            for a in all {
                let scope = a.enterprise.or(a.customs).or(a.province).unwrap_or_default();
                println!("{:<20} {:<20} {:<20}{}", a.login, a.role.as_str(), scope, if a.disabled { " (disabled)" } else { "" });
            }
            Ok(())
        }
        UserCommand::Disable { login } => {
            engine.disable_user(login).map_err(|e| app_failure(e, false))?;
            println!("account {login} disabled");
            Ok(())
        }
    }
}

pub(crate) fn token(cli: &Cli, command: &TokenCommand) -> Result<(), Failure> {
    let mut engine = open_engine(cli)?;
    match command {
        TokenCommand::Issue { login, read_only, until } => {
            let expires = until.and_then(|d| d.succ_opt()).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc());
            let t = engine.issue_token(login, *read_only, expires).map_err(|e| app_failure(e, false))?;
            println!(
                "token {} for {}{}{} — shown once, keep it secret:",
                t.token_id,
                t.login,
                if t.read_only { ", read-only" } else { "" },
                t.expires_at.map(|e| format!(", expires {e}")).unwrap_or_default()
            );
            println!("{}", t.token);
            Ok(())
        }
        TokenCommand::Revoke { token_id } => {
            let done = engine.revoke_token(token_id).map_err(|e| app_failure(e, false))?;
            println!("token {token_id} {}", if done { "revoked" } else { "was not active (unknown or already revoked)" });
            Ok(())
        }
    }
}

pub(crate) fn audit(cli: &Cli, command: &AuditCommand) -> Result<(), Failure> {
    match command {
        AuditCommand::Verify { json } => {
            let mut engine = open_engine(cli)?;
            let r = engine.audit_verify().map_err(|e| app_failure(e, *json))?;
            if *json {
                print_json(&r)?;
            } else {
                for c in &r.chains {
                    match (c.broken_at, &c.reason) {
                        (Some(seq), Some(reason)) => println!("chain {}: BROKEN at record {seq}: {reason}", c.chain),
                        _ => println!("chain {}: intact, {} records, head {} {}", c.chain, c.links, c.head_seq, c.head_hash),
                    }
                }
                for a in &r.altered_lists {
                    println!("list {} of enterprise {}: ALTERED since it was posted (recorded in chain {} record {})", a.list_no, a.enterprise, a.chain, a.seq);
                }
                println!("{} posted lists checked against their recorded digests", r.lists_checked);
            }
            if r.intact {
                Ok(())
            } else {
                Err(Failure { code: 3, message: "the audit trail is not intact (see above)".to_owned(), json: None })
            }
        }
        AuditCommand::Keygen { out } => {
            let key = platform::new_signing_key().map_err(|e| app_failure(e, false))?;
            if out.exists() {
                return Err(Failure { code: 2, message: format!("{} exists; a new key goes to a new file", out.display()), json: None });
            }
            std::fs::write(out, format!("{}\n", key.secret_hex)).map_err(|e| Failure { code: 1, message: format!("{}: {e}", out.display()), json: None })?;
            println!("signing key {} written to {} (public key {})", key.key_id, out.display(), key.public_hex);
            Ok(())
        }
        AuditCommand::Heads { key } => {
            let secret = read_file(key, false)?;
            let mut engine = open_engine(cli)?;
            let signed = engine.signed_heads(secret.trim()).map_err(|e| app_failure(e, true))?;
            print_json(&signed)
        }
        AuditCommand::Check { heads } => {
            let text = read_file(heads, false)?;
            let doc: SignedHeads = serde_json::from_str(&text).map_err(|e| Failure { code: 2, message: format!("{}: not a signed heads document: {e}", heads.display()), json: None })?;
            let mut engine = open_engine(cli)?;
            let problems = engine.check_signed_heads(&doc).map_err(|e| app_failure(e, false))?;
            if problems.is_empty() {
                println!("signature valid (key {}); every chain still holds the head signed at {}", doc.key_id, doc.at);
                Ok(())
            } else {
                for p in &problems {
                    println!("{p}");
                }
                Err(Failure { code: 3, message: format!("{} problems", problems.len()), json: None })
            }
        }
    }
}

pub(crate) fn events(cli: &Cli, after: i64, limit: usize) -> Result<(), Failure> {
    let mut engine = open_engine(cli)?;
    let (events, next) = engine.events(after, limit).map_err(|e| app_failure(e, true))?;
    let v: Vec<serde_json::Value> = events
        .iter()
        .map(|e| serde_json::json!({"id": e.id, "enterprise": e.enterprise, "kind": e.kind, "at": e.at, "body": serde_json::from_str::<serde_json::Value>(&e.body).unwrap_or_default()}))
        .collect();
    print_json(&serde_json::json!({"events": v, "next": next}))
}
