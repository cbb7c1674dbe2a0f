//! The platform around the ledger (多方联网): who acts (accounts, passwords, API tokens, browser
//! sessions), the audit chain written in the same transaction as every change, and the event feed.
//!
//! Secrets are never stored: passwords as argon2id hashes, token and session secrets as SHA-256
//! hashes (they are 256-bit random values, so a fast hash is enough), and nothing here logs them.

use crate::{AppError, Engine};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use jiamao_domain::access::{self, Action, Denied, Identity, Principal, Role, Target};
use jiamao_domain::audit::{self, ChainWalker, Link, SYSTEM_CHAIN};
use jiamao_store::{AccountRecord, AuditRecord, EventRecord, SessionRecord, Store, StoreError, TokenRecord};
use serde::Serialize;

/// Who acts, for which request, from where, and when (the clock is read at the edge and passed in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ctx {
    pub principal: Principal,
    pub request_id: String,
    /// Where the command came from (`cli`, the client address).
    pub source: String,
    pub now: DateTime<Utc>,
}

impl Ctx {
    /// The command line on the machine that holds the database.
    pub fn local(now: DateTime<Utc>) -> Self {
        Ctx { principal: Principal::Local, request_id: String::new(), source: "cli".to_owned(), now }
    }

    /// The time as the audit trail writes it (RFC 3339, UTC, microseconds).
    pub fn at(&self) -> String {
        timestamp(self.now)
    }
}

impl Default for Ctx {
    /// The library used directly, without a clock: local, at the Unix epoch.
    fn default() -> Self {
        Ctx::local(DateTime::UNIX_EPOCH)
    }
}

pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// Why a login, token or session is refused. Shown to the client only as "not authenticated"
/// (nothing says whether the account exists).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("login or password is wrong")]
    BadCredentials,
    #[error("too many failed logins; try again in {0} seconds")]
    Throttled(i64),
    #[error("expired")]
    Expired,
    #[error("revoked")]
    Revoked,
    #[error("the account is disabled")]
    Disabled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An account as shown (never its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountView {
    pub login: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customs: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    pub disabled: bool,
    pub created_at: String,
}

/// A token just issued: `token` is shown once and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedToken {
    pub token_id: String,
    pub login: String,
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    pub token: String,
}

/// A browser session just opened: the cookie secret and the CSRF token (both shown once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub secret: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
    pub identity: Identity,
}

/// One chain as verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub chain: String,
    pub links: u64,
    pub head_seq: i64,
    pub head_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `jiamao audit verify`: every chain, and every posted list against the digest its link recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    pub intact: bool,
    pub chains: Vec<ChainReport>,
    pub lists_checked: u64,
    /// Posted lists whose stored content no longer has the digest recorded when they were posted.
    pub altered_lists: Vec<AlteredList>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlteredList {
    pub enterprise: String,
    pub list_no: String,
    /// The link that recorded its posting.
    pub chain: String,
    pub seq: i64,
}

/// Session lifetime.
pub const SESSION_HOURS: i64 = 12;
/// Failed logins of one account within the window that lock it for the rest of the window.
pub const LOGIN_FAILURES: usize = 5;
pub const LOGIN_WINDOW_MINUTES: i64 = 15;

/// A random identifier of `bytes` bytes, hex.
pub(crate) fn random_id(bytes: usize) -> Result<String, AppError> {
    Ok(random_hex(bytes)?)
}

/// The identity an account acts as (full rights of its role).
pub(crate) fn identity_for(a: &AccountRecord) -> Result<Identity, StoreError> {
    identity_of(a, false)
}

fn random_hex(bytes: usize) -> Result<String, StoreError> {
    let mut b = vec![0u8; bytes];
    getrandom::getrandom(&mut b).map_err(|e| StoreError::Database(format!("no randomness available: {e}")))?;
    Ok(audit::hex(&b))
}

fn sha(s: &str) -> String {
    audit::sha256_hex(s.as_bytes())
}

fn hash_password(password: &str) -> Result<String, AppError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| StoreError::Database(format!("no randomness available: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| StoreError::Database(e.to_string()))?;
    argon2::Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| AppError::Input(format!("cannot hash the password: {e}")))
}

fn password_matches(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash to verify against when the login is unknown, so that both paths take as long.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

fn identity_of(a: &AccountRecord, read_only: bool) -> Result<Identity, StoreError> {
    let role: Role = a.role.parse().map_err(|e: String| StoreError::Corrupt(format!("account {}: {e}", a.login)))?;
    Ok(Identity { login: a.login.clone(), role, enterprise: a.enterprise.clone(), customs: a.customs.clone(), province: a.province.clone(), read_only })
}

fn view(a: &AccountRecord) -> Result<AccountView, StoreError> {
    let id = identity_of(a, false)?;
    Ok(AccountView { login: id.login, role: id.role, enterprise: id.enterprise, customs: id.customs, province: id.province, disabled: a.disabled, created_at: a.created_at.clone() })
}

impl<S: Store> Engine<S> {
    /// Who acts from now on (set per request by the server, once by the command line).
    pub fn set_ctx(&mut self, ctx: Ctx) {
        self.ctx = ctx;
    }

    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    /// Appends a link to `chain` (inside a write).
    pub(crate) fn audit_link(&mut self, chain: &str, action: &str, target: &str, outcome: &str, detail: &str) -> Result<(), StoreError> {
        let (seq, prev) = match self.store.audit_head(chain)? {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, audit::GENESIS.to_owned()),
        };
        let at = self.ctx.at();
        let (actor, role) = (self.ctx.principal.login().to_owned(), self.ctx.principal.role_name().to_owned());
        let link = Link { chain, seq, at: &at, actor: &actor, role: &role, action, target, request_id: &self.ctx.request_id, source: &self.ctx.source, outcome, detail, prev_hash: &prev };
        let hash = audit::link_hash(&link);
        let record = AuditRecord {
            chain: chain.to_owned(),
            seq,
            at: at.clone(),
            actor,
            role,
            action: action.to_owned(),
            target: target.to_owned(),
            request_id: self.ctx.request_id.clone(),
            source: self.ctx.source.clone(),
            outcome: outcome.to_owned(),
            detail: detail.to_owned(),
            prev_hash: prev,
            hash,
        };
        self.store.append_audit(&record)
    }

    /// A business event for the departments (inside a write): written last, just before the commit
    /// (see [`Store::append_event`]: ids are then visible in order).
    pub(crate) fn emit(&mut self, enterprise: &str, kind: &str, body: serde_json::Value) -> Result<(), StoreError> {
        self.pending_events.push(EventRecord { id: 0, enterprise: enterprise.to_owned(), kind: kind.to_owned(), at: self.ctx.at(), body: body.to_string() });
        Ok(())
    }

    /// Records a refusal in the platform's chain, in a transaction of its own.
    pub(crate) fn log_refusal(&mut self, action: Action, target: &str, denied: &Denied) -> Result<(), AppError> {
        let detail = serde_json::json!({"rule": denied.rule, "message": denied.message}).to_string();
        self.write(&[], |me| {
            me.audit_link(SYSTEM_CHAIN, action.as_str(), target, "refused", &detail)?;
            Ok(((), true))
        })
    }

    /// Decides `action` on `target` for the acting principal; a refusal is logged and returned.
    pub(crate) fn authorize(&mut self, action: Action, target: &Target<'_>, target_name: &str) -> Result<(), AppError> {
        match access::decide(&self.ctx.principal, action, target) {
            Ok(()) => Ok(()),
            Err(denied) => {
                self.log_refusal(action, target_name, &denied)?;
                Err(AppError::Forbidden(denied.message))
            }
        }
    }

    // ---- Accounts -------------------------------------------------------------------------------

    /// Adds an account (`jiamao user add`); an enterprise administrator adds accounts of its own
    /// enterprise's roles only.
    pub fn add_user(&mut self, login: &str, role: Role, enterprise: Option<&str>, customs: Option<&str>, province: Option<&str>, password: &str) -> Result<AccountView, AppError> {
        let login = login.trim();
        access::check_login(login).map_err(AppError::Input)?;
        access::check_password(password).map_err(AppError::Input)?;
        access::check_account(role, enterprise, customs, province).map_err(AppError::Input)?;
        if let Some(e) = enterprise {
            jiamao_domain::codes::Uscc::parse(e).map_err(|e| AppError::Input(format!("--enterprise: {e}")))?;
        }
        let own_enterprise_only = matches!(&self.ctx.principal, Principal::User(i) if i.role == Role::EnterpriseAdmin);
        let target = Target { enterprise: if own_enterprise_only { Some(enterprise.unwrap_or("")) } else { None }, ..Target::default() };
        self.authorize(Action::ManageAccounts, &target, &format!("account {login}"))?;
        if own_enterprise_only && !matches!(role, Role::EnterpriseOperator | Role::EnterpriseAdmin) {
            let denied = Denied { rule: "role", message: "an enterprise administrator adds enterprise accounts only".to_owned() };
            self.log_refusal(Action::ManageAccounts, &format!("account {login}"), &denied)?;
            return Err(AppError::Forbidden(denied.message));
        }
        let hash = hash_password(password)?;
        let at = self.ctx.at();
        let record = AccountRecord {
            login: login.to_owned(),
            role: role.as_str().to_owned(),
            enterprise: enterprise.map(str::to_owned),
            customs: customs.map(str::to_owned),
            province: province.map(str::to_owned),
            password_hash: hash,
            disabled: false,
            created_at: at.clone(),
            updated_at: at,
        };
        self.write(&[], |me| {
            if me.store.account(&record.login)?.is_some() {
                return Err(AppError::Input(format!("account {} exists", record.login)));
            }
            me.store.upsert_account(&record)?;
            let detail = serde_json::json!({"role": record.role, "enterprise": record.enterprise, "customs": record.customs, "province": record.province}).to_string();
            me.audit_link(SYSTEM_CHAIN, "add_user", &format!("account {}", record.login), "ok", &detail)?;
            Ok(((), true))
        })?;
        Ok(view(&record)?)
    }

    /// Every account the acting principal may manage.
    pub fn users(&mut self) -> Result<Vec<AccountView>, AppError> {
        self.authorize(Action::ManageAccounts, &Target::default(), "accounts")?;
        let own = match &self.ctx.principal {
            Principal::User(i) if i.role == Role::EnterpriseAdmin => i.enterprise.clone(),
            _ => None,
        };
        let all = self.store.accounts()?;
        Ok(all.iter().filter(|a| own.is_none() || a.enterprise == own).map(view).collect::<Result<_, _>>()?)
    }

    /// Disables an account (and with it its tokens and sessions).
    pub fn disable_user(&mut self, login: &str) -> Result<(), AppError> {
        let account = self.store.account(login)?;
        let enterprise = account.as_ref().and_then(|a| a.enterprise.clone());
        let own_enterprise_only = matches!(&self.ctx.principal, Principal::User(i) if i.role == Role::EnterpriseAdmin);
        let target = Target { enterprise: if own_enterprise_only { Some(enterprise.as_deref().unwrap_or("")) } else { None }, ..Target::default() };
        self.authorize(Action::ManageAccounts, &target, &format!("account {login}"))?;
        let Some(mut a) = account else { return Err(AppError::Input(format!("no account {login}"))) };
        a.disabled = true;
        a.updated_at = self.ctx.at();
        self.write(&[], |me| {
            me.store.upsert_account(&a)?;
            me.audit_link(SYSTEM_CHAIN, "disable_user", &format!("account {login}"), "ok", "{}")?;
            Ok(((), true))
        })
    }

    /// Issues an API token for an account (`jiamao token issue`); the token is returned once. An
    /// account issues tokens for itself only (not with a read-only token); the local operator for any.
    pub fn issue_token(&mut self, login: &str, read_only: bool, expires_at: Option<DateTime<Utc>>) -> Result<IssuedToken, AppError> {
        let account = self.store.account(login)?;
        self.own_token_action("issue_token", login)?;
        let Some(account) = account else { return Err(AppError::Input(format!("no account {login}"))) };
        if account.disabled {
            return Err(AppError::Input(format!("account {login} is disabled")));
        }
        let token_id = random_hex(8)?;
        let secret = random_hex(32)?;
        let record = TokenRecord {
            token_id: token_id.clone(),
            login: login.to_owned(),
            secret_hash: sha(&secret),
            read_only,
            created_at: self.ctx.at(),
            expires_at: expires_at.map(timestamp),
            revoked_at: None,
        };
        self.write(&[], |me| {
            me.store.insert_token(&record)?;
            let detail = serde_json::json!({"token_id": record.token_id, "read_only": read_only, "expires_at": record.expires_at}).to_string();
            me.audit_link(SYSTEM_CHAIN, "issue_token", &format!("account {login}"), "ok", &detail)?;
            Ok(((), true))
        })?;
        Ok(IssuedToken { token_id: token_id.clone(), login: login.to_owned(), read_only, expires_at: record.expires_at.clone(), token: format!("jm_{token_id}_{secret}") })
    }

    /// Revokes a token: the account itself (not with a read-only token), the local operator, an
    /// administrator, or the enterprise administrator of the token's account.
    pub fn revoke_token(&mut self, token_id: &str) -> Result<bool, AppError> {
        let token = self.store.token(token_id)?;
        let owner = token.as_ref().map(|t| t.login.clone()).unwrap_or_default();
        let own = matches!(&self.ctx.principal, Principal::User(i) if i.login == owner);
        if own {
            self.own_token_action("revoke_token", &owner)?;
        } else {
            let enterprise = match &token {
                Some(t) => self.store.account(&t.login)?.and_then(|a| a.enterprise),
                None => None,
            };
            let by_enterprise_admin = matches!(&self.ctx.principal, Principal::User(i) if i.role == Role::EnterpriseAdmin);
            let target = Target { enterprise: if by_enterprise_admin { Some(enterprise.as_deref().unwrap_or("")) } else { None }, ..Target::default() };
            self.authorize(Action::ManageAccounts, &target, &format!("token {token_id}"))?;
        }
        let at = self.ctx.at();
        self.write(&[], |me| {
            let done = me.store.revoke_token(token_id, &at)?;
            if done {
                me.audit_link(SYSTEM_CHAIN, "revoke_token", &format!("token {token_id}"), "ok", "{}")?;
            }
            Ok((done, done))
        })
    }

    /// A token action on `login`'s own tokens: allowed to the local operator and to the account
    /// itself when it acts with full rights; refused (and logged) otherwise.
    fn own_token_action(&mut self, action: &str, login: &str) -> Result<(), AppError> {
        let reason = match &self.ctx.principal {
            Principal::Local => return Ok(()),
            Principal::User(i) if i.login == login && !i.read_only => return Ok(()),
            Principal::User(i) if i.login == login => "a read-only token cannot issue or revoke tokens",
            _ => "tokens are issued by their own account (or by the local operator)",
        };
        let denied = Denied { rule: "tokens", message: reason.to_owned() };
        self.log_refusal(Action::ManageAccounts, &format!("{action} account {login}"), &denied)?;
        Err(AppError::Forbidden(reason.to_owned()))
    }

    /// The identity a bearer token acts as.
    pub fn authenticate_token(&mut self, token: &str) -> Result<Identity, AuthError> {
        let mut parts = token.strip_prefix("jm_").unwrap_or_default().splitn(2, '_');
        let (Some(id), Some(secret)) = (parts.next(), parts.next()) else { return Err(AuthError::BadCredentials) };
        let Some(t) = self.store.token(id)? else { return Err(AuthError::BadCredentials) };
        if !constant_time_eq(t.secret_hash.as_bytes(), sha(secret).as_bytes()) {
            return Err(AuthError::BadCredentials);
        }
        if t.revoked_at.is_some() {
            return Err(AuthError::Revoked);
        }
        if t.expires_at.as_deref().and_then(parse_timestamp).is_some_and(|e| e <= self.ctx.now) {
            return Err(AuthError::Expired);
        }
        let Some(a) = self.store.account(&t.login)? else { return Err(AuthError::BadCredentials) };
        if a.disabled {
            return Err(AuthError::Disabled);
        }
        Ok(identity_of(&a, t.read_only)?)
    }

    /// Logs in with a password: a new session. Failed attempts are counted per login and logged;
    /// after [`LOGIN_FAILURES`] within [`LOGIN_WINDOW_MINUTES`] the login is refused until the window
    /// passes, whatever the password.
    pub fn login(&mut self, login: &str, password: &str) -> Result<NewSession, AuthError> {
        let now = self.ctx.now;
        let window = Duration::minutes(LOGIN_WINDOW_MINUTES);
        let failures = self.login_failures.entry(login.to_owned()).or_default();
        failures.retain(|t| *t > now - window);
        if failures.len() >= LOGIN_FAILURES {
            let retry = failures.first().map(|t| (*t + window - now).num_seconds().max(1)).unwrap_or(1);
            let _ = self.write(&[], |me| {
                me.audit_link(SYSTEM_CHAIN, "login", &format!("account {login}"), "refused", "{\"reason\":\"throttled\"}")?;
                Ok(((), true))
            });
            return Err(AuthError::Throttled(retry));
        }
        let account = self.store.account(login)?;
        let ok = match &account {
            Some(a) => password_matches(password, &a.password_hash),
            None => {
                let _ = password_matches(password, decoy_hash());
                false
            }
        };
        let account = match (ok, account) {
            (true, Some(a)) if !a.disabled => a,
            (_, a) => {
                self.login_failures.entry(login.to_owned()).or_default().push(now);
                let detail = serde_json::json!({"reason": if a.as_ref().is_some_and(|a| a.disabled) { "disabled" } else { "bad credentials" }}).to_string();
                let _ = self.write(&[], |me| {
                    me.audit_link(SYSTEM_CHAIN, "login", &format!("account {login}"), "refused", &detail)?;
                    Ok(((), true))
                });
                return Err(if a.is_some_and(|a| a.disabled) && ok { AuthError::Disabled } else { AuthError::BadCredentials });
            }
        };
        self.login_failures.remove(login);
        let secret = random_hex(32)?;
        let csrf = random_hex(32)?;
        let expires_at = now + Duration::hours(SESSION_HOURS);
        let record = SessionRecord { session_id: sha(&secret), login: login.to_owned(), csrf_hash: sha(&csrf), created_at: timestamp(now), expires_at: timestamp(expires_at), revoked_at: None };
        self.write(&[], |me| {
            me.store.insert_session(&record)?;
            me.audit_link(SYSTEM_CHAIN, "login", &format!("account {login}"), "ok", "{}")?;
            Ok(((), true))
        })
        .map_err(|e| match e {
            AppError::Store(s) => AuthError::Store(s),
            other => AuthError::Store(StoreError::Database(other.to_string())),
        })?;
        Ok(NewSession { secret, csrf, expires_at, identity: identity_of(&account, false)? })
    }

    /// The identity of a session cookie, and whether `csrf` (when given) is the session's token.
    pub fn session(&mut self, secret: &str, csrf: Option<&str>) -> Result<(Identity, bool), AuthError> {
        let Some(s) = self.store.session(&sha(secret))? else { return Err(AuthError::BadCredentials) };
        if s.revoked_at.is_some() {
            return Err(AuthError::Revoked);
        }
        if parse_timestamp(&s.expires_at).is_none_or(|e| e <= self.ctx.now) {
            return Err(AuthError::Expired);
        }
        let Some(a) = self.store.account(&s.login)? else { return Err(AuthError::BadCredentials) };
        if a.disabled {
            return Err(AuthError::Disabled);
        }
        let csrf_ok = csrf.is_some_and(|c| constant_time_eq(sha(c).as_bytes(), s.csrf_hash.as_bytes()));
        Ok((identity_of(&a, false)?, csrf_ok))
    }

    /// Ends a session.
    pub fn logout(&mut self, secret: &str) -> Result<(), AppError> {
        let id = sha(secret);
        let at = self.ctx.at();
        self.write(&[], |me| {
            let done = me.store.revoke_session(&id, &at)?;
            if done {
                me.audit_link(SYSTEM_CHAIN, "logout", &format!("account {}", me.ctx.principal.login()), "ok", "{}")?;
            }
            Ok(((), done))
        })
    }

    // ---- Audit ----------------------------------------------------------------------------------

    /// Walks every chain and checks every posted list against the digest recorded at its posting
    /// (`jiamao audit verify`).
    pub fn audit_verify(&mut self) -> Result<AuditReport, AppError> {
        self.authorize(Action::ReadAudit, &Target::default(), "audit")?;
        let only = self.chains_in_scope()?;
        let mut chains = Vec::new();
        // (enterprise, list_no) → (digest, chain, seq) as recorded.
        let mut recorded: std::collections::HashMap<(String, String), (String, String, i64)> = std::collections::HashMap::new();
        for chain in self.store.audit_chains()?.into_iter().filter(|c| only.as_ref().is_none_or(|o| o.contains(c))) {
            let mut walker = ChainWalker::new(&chain);
            self.store.for_each_audit(&chain, &mut |r| {
                let link = Link {
                    chain: &r.chain,
                    seq: r.seq,
                    at: &r.at,
                    actor: &r.actor,
                    role: &r.role,
                    action: &r.action,
                    target: &r.target,
                    request_id: &r.request_id,
                    source: &r.source,
                    outcome: &r.outcome,
                    detail: &r.detail,
                    prev_hash: &r.prev_hash,
                };
                walker.next(&link, &r.hash);
                if r.action == "post_list" && r.outcome == "ok" {
                    if let Ok(d) = serde_json::from_str::<serde_json::Value>(&r.detail) {
                        if let (Some(no), Some(digest)) = (d.get("list_no").and_then(|v| v.as_str()), d.get("digest").and_then(|v| v.as_str())) {
                            recorded.insert((r.chain.clone(), no.to_owned()), (digest.to_owned(), r.chain.clone(), r.seq));
                        }
                    }
                }
                Ok(())
            })?;
            let (head_seq, head_hash) = walker.head();
            chains.push(ChainReport {
                chain: chain.clone(),
                links: walker.links,
                head_seq,
                head_hash: head_hash.to_owned(),
                broken_at: walker.broken.as_ref().map(|b| b.seq),
                reason: walker.broken.as_ref().map(|b| b.reason.clone()),
            });
        }
        let mut altered = Vec::new();
        let mut checked = 0u64;
        for rec in self.store.books()?.into_iter().filter(|r| only.as_ref().is_none_or(|o| o.contains(&r.key.enterprise))) {
            let key = rec.key.clone();
            self.store.for_each_list(&key, 0, None, &mut |s| {
                checked += 1;
                let digest = sha(&s.list.canonical());
                match recorded.get(&(key.enterprise.clone(), s.list.list_no.clone())) {
                    Some((d, _, _)) if *d == digest => {}
                    Some((_, chain, seq)) => altered.push(AlteredList { enterprise: key.enterprise.clone(), list_no: s.list.list_no.clone(), chain: chain.clone(), seq: *seq }),
                    // Posted before the audit chain existed: nothing recorded to compare with.
                    None => {}
                }
                Ok(())
            })?;
        }
        let intact = chains.iter().all(|c| c.broken_at.is_none()) && altered.is_empty();
        Ok(AuditReport { intact, chains, lists_checked: checked, altered_lists: altered })
    }

    /// The chains the acting principal may read: an enterprise administrator its own enterprise's, a
    /// customs supervisor those of the enterprises with a book in its district; `None`: every chain.
    fn chains_in_scope(&mut self) -> Result<Option<std::collections::BTreeSet<String>>, AppError> {
        match &self.ctx.principal {
            Principal::User(i) if i.role == Role::EnterpriseAdmin => Ok(Some(i.enterprise.iter().cloned().collect())),
            Principal::User(i) if i.role == Role::CustomsSupervisor => {
                #[derive(serde::Deserialize)]
                struct Scope {
                    master_customs: String,
                }
                let district = i.customs.clone().unwrap_or_default();
                let mut out = std::collections::BTreeSet::new();
                for r in self.store.books()? {
                    if serde_json::from_str::<Scope>(&r.doc_json).is_ok_and(|s| s.master_customs == district) {
                        out.insert(r.key.enterprise);
                    }
                }
                Ok(Some(out))
            }
            _ => Ok(None),
        }
    }

    /// The head of every chain (the caller may read): (chain, seq, hash), to export signed.
    pub fn audit_heads(&mut self) -> Result<Vec<(String, i64, String)>, AppError> {
        self.authorize(Action::ReadAudit, &Target::default(), "audit")?;
        let only = self.chains_in_scope()?;
        let mut out = Vec::new();
        for chain in self.store.audit_chains()?.into_iter().filter(|c| only.as_ref().is_none_or(|o| o.contains(c))) {
            if let Some((seq, hash)) = self.store.audit_head(&chain)? {
                out.push((chain, seq, hash));
            }
        }
        Ok(out)
    }

    /// Whether `chain` still holds link `seq` with `hash` (a signed head exported earlier).
    pub fn audit_holds(&mut self, chain: &str, seq: i64, hash: &str) -> Result<bool, AppError> {
        self.authorize(Action::ReadAudit, &Target::default(), "audit")?;
        if self.chains_in_scope()?.is_some_and(|o| !o.contains(chain)) {
            return Ok(false);
        }
        let mut found = false;
        self.store.for_each_audit(chain, &mut |r| {
            if r.seq == seq && r.hash == hash {
                found = true;
            }
            Ok(())
        })?;
        Ok(found)
    }

    // ---- Events ---------------------------------------------------------------------------------

    /// Events after a cursor that the acting principal may see (the declared policy of
    /// [`jiamao_domain::access::event_visible`]), at most `limit`; returns them and the next cursor.
    pub fn events(&mut self, after: i64, limit: usize) -> Result<(Vec<EventRecord>, i64), AppError> {
        self.authorize(Action::ReadEvents, &Target::default(), "events")?;
        let mut out = Vec::new();
        let mut cursor = after;
        let page = limit.clamp(1, 1000);
        loop {
            let batch = self.store.events_after(cursor, page)?;
            if batch.is_empty() {
                break;
            }
            for e in batch {
                cursor = e.id;
                let body: serde_json::Value = serde_json::from_str(&e.body).unwrap_or(serde_json::Value::Null);
                let target = Target { enterprise: Some(&e.enterprise), master_customs: body.get("master_customs").and_then(|v| v.as_str()), region: body.get("region").and_then(|v| v.as_str()) };
                if access::event_visible(&self.ctx.principal, &e.kind, &target) {
                    out.push(e);
                    if out.len() >= page {
                        return Ok((out, cursor));
                    }
                }
            }
        }
        Ok((out, cursor))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new Ed25519 signing key for chain heads.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub secret_hex: String,
    pub public_hex: String,
    pub key_id: String,
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
}

fn key_id(public: &[u8]) -> String {
    audit::sha256_hex(public).chars().take(16).collect()
}

pub fn new_signing_key() -> Result<NewKey, AppError> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| StoreError::Database(format!("no randomness available: {e}")))?;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let public = key.verifying_key().to_bytes();
    Ok(NewKey { secret_hex: audit::hex(&seed), public_hex: audit::hex(&public), key_id: key_id(&public) })
}

/// One chain's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Head {
    pub chain: String,
    pub seq: i64,
    pub hash: String,
}

/// The heads of every chain at a moment, signed (Ed25519) over the canonical JSON of every field but
/// the signature, so that a third party holding it can later prove nothing before them was rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SignedHeads {
    pub at: String,
    pub heads: Vec<Head>,
    pub key_id: String,
    pub public_key: String,
    pub signature: String,
}

#[derive(Serialize)]
struct Unsigned<'a> {
    at: &'a str,
    heads: &'a [Head],
    key_id: &'a str,
    public_key: &'a str,
}

fn signed_bytes(at: &str, heads: &[Head], key_id: &str, public_key: &str) -> Vec<u8> {
    serde_json::to_vec(&Unsigned { at, heads, key_id, public_key }).unwrap_or_default()
}

impl<S: Store> Engine<S> {
    /// The heads of every chain, signed with the key whose secret is `secret_hex`.
    pub fn signed_heads(&mut self, secret_hex: &str) -> Result<SignedHeads, AppError> {
        use ed25519_dalek::Signer;
        let seed: [u8; 32] = unhex(secret_hex).and_then(|b| b.try_into().ok()).ok_or_else(|| AppError::Input("the signing key is not 64 hex digits".to_owned()))?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let public = key.verifying_key().to_bytes();
        let heads: Vec<Head> = self.audit_heads()?.into_iter().map(|(chain, seq, hash)| Head { chain, seq, hash }).collect();
        let at = self.ctx.at();
        let (key_id, public_key) = (key_id(&public), audit::hex(&public));
        let signature = key.sign(&signed_bytes(&at, &heads, &key_id, &public_key));
        Ok(SignedHeads { at, heads, key_id, public_key, signature: audit::hex(&signature.to_bytes()) })
    }

    /// Problems with a signed heads document: a bad signature, or a chain that no longer holds its
    /// signed head (empty when all is well).
    pub fn check_signed_heads(&mut self, doc: &SignedHeads) -> Result<Vec<String>, AppError> {
        use ed25519_dalek::Verifier;
        let mut problems = Vec::new();
        let public: Option<[u8; 32]> = unhex(&doc.public_key).and_then(|b| b.try_into().ok());
        let signature: Option<[u8; 64]> = unhex(&doc.signature).and_then(|b| b.try_into().ok());
        let valid = match (public.and_then(|p| ed25519_dalek::VerifyingKey::from_bytes(&p).ok()), signature) {
            (Some(k), Some(sig)) => {
                key_id(&k.to_bytes()) == doc.key_id && k.verify(&signed_bytes(&doc.at, &doc.heads, &doc.key_id, &doc.public_key), &ed25519_dalek::Signature::from_bytes(&sig)).is_ok()
            }
            _ => false,
        };
        if !valid {
            problems.push("the signature does not match the document (or the key id its public key)".to_owned());
        }
        for h in &doc.heads {
            if !self.audit_holds(&h.chain, h.seq, &h.hash)? {
                problems.push(format!("chain {} no longer holds record {} with the signed hash", h.chain, h.seq));
            }
        }
        Ok(problems)
    }
}
