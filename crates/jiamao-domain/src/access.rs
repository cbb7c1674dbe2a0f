//! Who may do what (多方联网 with each party in its role): the roles of the platform, the identity a
//! command or query carries, and the decision, made here in the library and nowhere else.
//!
//! Jurisdiction: enterprise roles see their own enterprise only (by unified social credit code);
//! customs officers the books of their customs district (the book's `master_customs`); commerce
//! officers the enterprises of their province (the first two digits of the enterprise's region
//! code); tax, foreign-exchange and inspection officers read what their role needs, in their province
//! when one is set on the account, else nationwide; the auditor reads everything; the system
//! administrator manages accounts and changes no business data.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A role of the platform (FORMAT.md "Enterprises, credit, accounts, server").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    EnterpriseOperator,
    EnterpriseAdmin,
    CustomsOfficer,
    CustomsSupervisor,
    CommerceOfficer,
    TaxOfficer,
    FxOfficer,
    InspectionOfficer,
    Bank,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::EnterpriseOperator,
        Role::EnterpriseAdmin,
        Role::CustomsOfficer,
        Role::CustomsSupervisor,
        Role::CommerceOfficer,
        Role::TaxOfficer,
        Role::FxOfficer,
        Role::InspectionOfficer,
        Role::Bank,
        Role::Auditor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::EnterpriseOperator => "enterprise_operator",
            Role::EnterpriseAdmin => "enterprise_admin",
            Role::CustomsOfficer => "customs_officer",
            Role::CustomsSupervisor => "customs_supervisor",
            Role::CommerceOfficer => "commerce_officer",
            Role::TaxOfficer => "tax_officer",
            Role::FxOfficer => "fx_officer",
            Role::InspectionOfficer => "inspection_officer",
            Role::Bank => "bank",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// 中文 name, for pages and messages.
    pub fn name_zh(self) -> &'static str {
        match self {
            Role::EnterpriseOperator => "企业操作员",
            Role::EnterpriseAdmin => "企业管理员",
            Role::CustomsOfficer => "海关关员",
            Role::CustomsSupervisor => "海关科长",
            Role::CommerceOfficer => "商务主管部门",
            Role::TaxOfficer => "税务部门",
            Role::FxOfficer => "外汇管理部门",
            Role::InspectionOfficer => "检验检疫部门",
            Role::Bank => "银行",
            Role::Auditor => "审计",
            Role::Admin => "系统管理员",
        }
    }

    /// Which jurisdiction an account of this role must carry.
    pub fn needs(self) -> Jurisdiction {
        match self {
            Role::EnterpriseOperator | Role::EnterpriseAdmin | Role::Bank => Jurisdiction::Enterprise,
            Role::CustomsOfficer | Role::CustomsSupervisor => Jurisdiction::Customs,
            Role::CommerceOfficer => Jurisdiction::Province,
            Role::TaxOfficer | Role::FxOfficer | Role::InspectionOfficer | Role::Auditor | Role::Admin => Jurisdiction::None,
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| format!("unknown role {s:?}; one of {}", Role::ALL.map(|r| r.as_str()).join(", ")))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The jurisdiction field an account of a role carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jurisdiction {
    /// `enterprise` (unified social credit code): enterprise roles, and a bank (the enterprise it is).
    Enterprise,
    /// `customs` (4-digit customs district).
    Customs,
    /// `province` (2-digit province code of the administrative divisions).
    Province,
    /// Nothing required (a province is optional for tax, FX and inspection officers).
    None,
}

/// Who acts: a logged-in account (through a session or a token), or the command line on the
/// machine that holds the database (trusted: whoever runs it can read the database file anyway).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Principal {
    Local,
    User(Identity),
    /// No credentials: may do nothing.
    Anonymous,
}

/// An account as it acts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub login: String,
    pub role: Role,
    pub enterprise: Option<String>,
    pub customs: Option<String>,
    pub province: Option<String>,
    /// A read-only token: every change is refused.
    pub read_only: bool,
}

impl Principal {
    pub fn login(&self) -> &str {
        match self {
            Principal::Local => "local",
            Principal::User(i) => &i.login,
            Principal::Anonymous => "anonymous",
        }
    }
    pub fn role_name(&self) -> &str {
        match self {
            Principal::Local => "local",
            Principal::User(i) => i.role.as_str(),
            Principal::Anonymous => "anonymous",
        }
    }
}

/// What is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// See a book, its lists and balances.
    ReadBook,
    /// Reports: 报核, drill-down, cycle status.
    ReadReport,
    /// File a book or a change (备案 / 变更).
    FileBook,
    /// Post lists (核注清单).
    PostLists,
    /// Close a verification cycle (核销结案) with the agreed adjustments.
    CloseCycle,
    /// Tax quotes, periods, payments as recorded.
    ReadTax,
    /// Record a payment or the declaration schedule.
    RecordTax,
    /// The tariff and dated rates (national data).
    ReadPolicy,
    /// Load a tariff version or rates.
    LoadPolicy,
    /// Accounts and tokens.
    ManageAccounts,
    /// The audit chains and their verification.
    ReadAudit,
    /// The event feed and webhooks.
    ReadEvents,
    /// Hand over FX receipts (the foreign-exchange side).
    LoadFxReceipts,
    /// Hand over the VAT the tax side expects.
    LoadVatExpectations,
    /// The cross-checks of department data against the ledger.
    ReadCrossCheck,
    /// Record an enterprise's credit class (customs).
    SetCredit,
    /// Record a guarantee posted or refunded (customs).
    RecordGuarantee,
    /// Review a 单耗 version: question (质疑), consult (磋商), accept or adjust (customs of the book's district).
    ReviewConsumption,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ReadBook => "read_book",
            Action::ReadReport => "read_report",
            Action::FileBook => "file_book",
            Action::PostLists => "post_lists",
            Action::CloseCycle => "close_cycle",
            Action::ReadTax => "read_tax",
            Action::RecordTax => "record_tax",
            Action::ReadPolicy => "read_policy",
            Action::LoadPolicy => "load_policy",
            Action::ManageAccounts => "manage_accounts",
            Action::ReadAudit => "read_audit",
            Action::ReadEvents => "read_events",
            Action::LoadFxReceipts => "load_fx_receipts",
            Action::LoadVatExpectations => "load_vat_expectations",
            Action::ReadCrossCheck => "read_cross_check",
            Action::SetCredit => "set_credit",
            Action::RecordGuarantee => "record_guarantee",
            Action::ReviewConsumption => "review_consumption",
        }
    }

    /// Whether the action changes anything.
    pub fn writes(self) -> bool {
        matches!(
            self,
            Action::FileBook
                | Action::PostLists
                | Action::CloseCycle
                | Action::RecordTax
                | Action::LoadPolicy
                | Action::ManageAccounts
                | Action::LoadFxReceipts
                | Action::LoadVatExpectations
                | Action::SetCredit
                | Action::RecordGuarantee
                | Action::ReviewConsumption
        )
    }
}

/// What an action touches: an enterprise's data (with the book's district and the enterprise's
/// region), or national data (all `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Target<'a> {
    pub enterprise: Option<&'a str>,
    /// The book's 主管关区.
    pub master_customs: Option<&'a str>,
    /// The enterprise's 6-digit region code (行政区划).
    pub region: Option<&'a str>,
}

/// A refusal: the rule, for the audit trail (never shown in detail to the refused party, so that
/// nothing leaks about what exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub rule: &'static str,
    pub message: String,
}

fn deny(rule: &'static str, message: impl Into<String>) -> Result<(), Denied> {
    Err(Denied { rule, message: message.into() })
}

/// Which actions a role may take at all (its jurisdiction is checked separately).
pub fn permits(role: Role, action: Action) -> bool {
    use Action as A;
    use Role as R;
    match role {
        R::EnterpriseOperator => matches!(action, A::ReadBook | A::ReadReport | A::FileBook | A::PostLists | A::ReadTax | A::RecordTax | A::ReadPolicy | A::ReadEvents | A::ReadCrossCheck),
        R::EnterpriseAdmin => matches!(
            action,
            A::ReadBook | A::ReadReport | A::FileBook | A::PostLists | A::ReadTax | A::RecordTax | A::ReadPolicy | A::ReadEvents | A::ReadCrossCheck | A::ManageAccounts | A::ReadAudit
        ),
        R::CustomsOfficer => matches!(action, A::ReadBook | A::ReadReport | A::CloseCycle | A::ReadTax | A::ReadPolicy | A::ReadEvents | A::ReadCrossCheck | A::RecordGuarantee | A::ReviewConsumption),
        R::CustomsSupervisor => {
            matches!(
                action,
                A::ReadBook
                    | A::ReadReport
                    | A::CloseCycle
                    | A::ReadTax
                    | A::ReadPolicy
                    | A::LoadPolicy
                    | A::ReadEvents
                    | A::ReadCrossCheck
                    | A::ReadAudit
                    | A::RecordGuarantee
                    | A::SetCredit
                    | A::ReviewConsumption
            )
        }
        R::CommerceOfficer => matches!(action, A::ReadBook | A::ReadReport | A::ReadPolicy | A::ReadEvents),
        R::TaxOfficer => matches!(action, A::ReadBook | A::ReadTax | A::ReadPolicy | A::ReadEvents | A::LoadVatExpectations | A::ReadCrossCheck),
        R::FxOfficer => matches!(action, A::ReadBook | A::ReadPolicy | A::ReadEvents | A::LoadFxReceipts | A::ReadCrossCheck),
        R::InspectionOfficer => matches!(action, A::ReadBook | A::ReadPolicy | A::ReadEvents),
        R::Bank => matches!(action, A::ReadPolicy),
        R::Auditor => !action.writes(),
        R::Admin => matches!(action, A::ManageAccounts | A::ReadPolicy | A::LoadPolicy | A::ReadAudit),
    }
}

/// Whether `id`'s jurisdiction covers `target`.
pub fn covers(id: &Identity, target: &Target<'_>) -> bool {
    let Some(enterprise) = target.enterprise else { return true };
    match id.role {
        Role::EnterpriseOperator | Role::EnterpriseAdmin | Role::Bank => id.enterprise.as_deref() == Some(enterprise),
        Role::CustomsOfficer | Role::CustomsSupervisor => id.customs.is_some() && id.customs.as_deref() == target.master_customs,
        Role::CommerceOfficer => matches!((&id.province, target.region), (Some(p), Some(r)) if r.starts_with(p.as_str())),
        Role::TaxOfficer | Role::FxOfficer | Role::InspectionOfficer => match (&id.province, target.region) {
            (None, _) => true,
            (Some(p), Some(r)) => r.starts_with(p.as_str()),
            (Some(_), None) => false,
        },
        Role::Auditor => true,
        Role::Admin => false,
    }
}

/// The decision for `p` doing `action` on `target`.
pub fn decide(p: &Principal, action: Action, target: &Target<'_>) -> Result<(), Denied> {
    let id = match p {
        Principal::Local => return Ok(()),
        Principal::Anonymous => return deny("unauthenticated", format!("{} needs a logged-in account", action.as_str())),
        Principal::User(id) => id,
    };
    if id.read_only && action.writes() {
        return deny("read_only", format!("{} acts with a read-only token; {} changes data", id.login, action.as_str()));
    }
    if !permits(id.role, action) {
        return deny("role", format!("role {} may not {}", id.role, action.as_str()));
    }
    if !covers(id, target) {
        return deny("jurisdiction", format!("{} ({}) has no jurisdiction over enterprise {}", id.login, id.role, target.enterprise.unwrap_or("")));
    }
    Ok(())
}

/// Every role that reads events, for national policy news (tariffs, catalogs).
const EVERY_READER: &[Role] = &[
    Role::EnterpriseOperator,
    Role::EnterpriseAdmin,
    Role::CustomsOfficer,
    Role::CustomsSupervisor,
    Role::CommerceOfficer,
    Role::TaxOfficer,
    Role::FxOfficer,
    Role::InspectionOfficer,
    Role::Bank,
    Role::Auditor,
];

/// The business events of the feed, and which roles see each (within their jurisdiction): the
/// declared policy of what each department receives.
pub const EVENT_POLICY: &[(&str, &[Role])] = &[
    (
        "book_filed",
        &[
            Role::EnterpriseOperator,
            Role::EnterpriseAdmin,
            Role::CustomsOfficer,
            Role::CustomsSupervisor,
            Role::CommerceOfficer,
            Role::TaxOfficer,
            Role::FxOfficer,
            Role::InspectionOfficer,
            Role::Auditor,
        ],
    ),
    ("book_changed", &[Role::EnterpriseOperator, Role::EnterpriseAdmin, Role::CustomsOfficer, Role::CustomsSupervisor, Role::CommerceOfficer, Role::Auditor]),
    ("list_posted", &[Role::EnterpriseOperator, Role::EnterpriseAdmin, Role::CustomsOfficer, Role::CustomsSupervisor, Role::TaxOfficer, Role::FxOfficer, Role::InspectionOfficer, Role::Auditor]),
    ("cycle_closed", &[Role::EnterpriseOperator, Role::EnterpriseAdmin, Role::CustomsOfficer, Role::CustomsSupervisor, Role::CommerceOfficer, Role::TaxOfficer, Role::Auditor]),
    ("tax_schedule_set", &[Role::EnterpriseOperator, Role::EnterpriseAdmin, Role::CustomsOfficer, Role::CustomsSupervisor, Role::TaxOfficer, Role::Auditor]),
    ("tax_paid", &[Role::EnterpriseOperator, Role::EnterpriseAdmin, Role::CustomsOfficer, Role::CustomsSupervisor, Role::TaxOfficer, Role::Auditor]),
    ("tariff_loaded", EVERY_READER),
    (
        "credit_set",
        &[Role::EnterpriseOperator, Role::EnterpriseAdmin, Role::CustomsOfficer, Role::CustomsSupervisor, Role::CommerceOfficer, Role::TaxOfficer, Role::FxOfficer, Role::Bank, Role::Auditor],
    ),
    ("guarantee_posted", &[Role::EnterpriseOperator, Role::EnterpriseAdmin, Role::CustomsOfficer, Role::CustomsSupervisor, Role::Bank, Role::Auditor]),
    ("guarantee_refunded", &[Role::EnterpriseOperator, Role::EnterpriseAdmin, Role::CustomsOfficer, Role::CustomsSupervisor, Role::Bank, Role::Auditor]),
    ("rates_loaded", &[Role::EnterpriseOperator, Role::EnterpriseAdmin, Role::CustomsOfficer, Role::CustomsSupervisor, Role::TaxOfficer, Role::Auditor]),
    ("catalog_loaded", EVERY_READER),
    ("ucns_norms_loaded", &[Role::EnterpriseOperator, Role::EnterpriseAdmin, Role::CustomsOfficer, Role::CustomsSupervisor, Role::CommerceOfficer, Role::Auditor]),
    ("ucns_reviewed", &[Role::EnterpriseOperator, Role::EnterpriseAdmin, Role::CustomsOfficer, Role::CustomsSupervisor, Role::Auditor]),
    ("self_verification_set", &[Role::EnterpriseOperator, Role::EnterpriseAdmin, Role::CustomsOfficer, Role::CustomsSupervisor, Role::Auditor]),
];

/// Whether `p` sees an event of `kind` about `target` (national events have no enterprise).
pub fn event_visible(p: &Principal, kind: &str, target: &Target<'_>) -> bool {
    let id = match p {
        Principal::Local => return true,
        Principal::Anonymous => return false,
        Principal::User(id) => id,
    };
    let by_kind = EVENT_POLICY.iter().find(|(k, _)| *k == kind).is_some_and(|(_, roles)| roles.contains(&id.role));
    by_kind && (target.enterprise.is_none_or(str::is_empty) || covers(id, target))
}

/// The rule for a login: 1 to 64 characters, no spaces or control characters.
pub fn check_login(login: &str) -> Result<(), String> {
    if login.is_empty() || login.len() > 64 || login.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a login is 1 to 64 characters without spaces".to_owned());
    }
    Ok(())
}

/// The rule for a password: at least 10 characters.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < 10 {
        return Err("a password has at least 10 characters".to_owned());
    }
    Ok(())
}

/// The rule for a province: the 2 digits that begin its region codes.
pub fn check_province(province: &str) -> Result<(), String> {
    if province.len() == 2 && province.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("a province is 2 digits (the start of its region codes)".to_owned())
    }
}

/// Checks that an account's jurisdiction fields fit its role.
pub fn check_account(role: Role, enterprise: Option<&str>, customs: Option<&str>, province: Option<&str>) -> Result<(), String> {
    let need = role.needs();
    let ok = match need {
        Jurisdiction::Enterprise => enterprise.is_some() && customs.is_none() && province.is_none(),
        Jurisdiction::Customs => customs.is_some_and(|c| c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit())) && enterprise.is_none(),
        Jurisdiction::Province => province.is_some_and(|p| check_province(p).is_ok()) && enterprise.is_none() && customs.is_none(),
        Jurisdiction::None => enterprise.is_none() && customs.is_none() && province.is_none_or(|p| check_province(p).is_ok()),
    };
    if ok {
        return Ok(());
    }
    Err(match need {
        Jurisdiction::Enterprise => format!("a {role} account names its enterprise (--enterprise <USCC>) and nothing else"),
        Jurisdiction::Customs => format!("a {role} account names its customs district (--customs, 4 digits) and nothing else"),
        Jurisdiction::Province => format!("a {role} account names its province (--province, 2 digits) and nothing else"),
        Jurisdiction::None => format!("a {role} account takes at most a province (--province, 2 digits)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, enterprise: Option<&str>, customs: Option<&str>, province: Option<&str>) -> Principal {
        Principal::User(Identity { login: "u".into(), role, enterprise: enterprise.map(Into::into), customs: customs.map(Into::into), province: province.map(Into::into), read_only: false })
    }

    const E1: Target<'static> = Target { enterprise: Some("91441900698123458E"), master_customs: Some("5200"), region: Some("441900") };

    #[test]
    fn enterprises_see_their_own_only() {
        assert!(decide(&user(Role::EnterpriseOperator, Some("91441900698123458E"), None, None), Action::PostLists, &E1).is_ok());
        assert_eq!(decide(&user(Role::EnterpriseOperator, Some("91320500MA1XXXXX0X"), None, None), Action::ReadBook, &E1).unwrap_err().rule, "jurisdiction");
        assert_eq!(decide(&user(Role::EnterpriseOperator, Some("91441900698123458E"), None, None), Action::CloseCycle, &E1).unwrap_err().rule, "role");
    }

    #[test]
    fn officials_within_their_jurisdiction() {
        assert!(decide(&user(Role::CustomsOfficer, None, Some("5200"), None), Action::CloseCycle, &E1).is_ok());
        assert!(decide(&user(Role::CustomsOfficer, None, Some("2300"), None), Action::ReadBook, &E1).is_err());
        assert!(decide(&user(Role::CommerceOfficer, None, None, Some("44")), Action::ReadReport, &E1).is_ok());
        assert!(decide(&user(Role::CommerceOfficer, None, None, Some("32")), Action::ReadReport, &E1).is_err());
        assert!(decide(&user(Role::TaxOfficer, None, None, None), Action::ReadTax, &E1).is_ok());
        assert!(decide(&user(Role::TaxOfficer, None, None, Some("32")), Action::ReadTax, &E1).is_err());
        assert!(decide(&user(Role::Auditor, None, None, None), Action::ReadAudit, &E1).is_ok());
        assert!(decide(&user(Role::Auditor, None, None, None), Action::PostLists, &E1).is_err());
        assert!(decide(&user(Role::Admin, None, None, None), Action::ReadBook, &E1).is_err(), "the administrator sees no business data");
        assert!(decide(&user(Role::Admin, None, None, None), Action::ManageAccounts, &Target::default()).is_ok());
    }

    #[test]
    fn read_only_tokens_change_nothing() {
        let Principal::User(mut id) = user(Role::EnterpriseOperator, Some("91441900698123458E"), None, None) else { return };
        id.read_only = true;
        let p = Principal::User(id);
        assert!(decide(&p, Action::ReadBook, &E1).is_ok());
        assert_eq!(decide(&p, Action::PostLists, &E1).unwrap_err().rule, "read_only");
    }

    #[test]
    fn accounts_carry_the_jurisdiction_of_their_role() {
        assert!(check_account(Role::CustomsOfficer, None, Some("5200"), None).is_ok());
        assert!(check_account(Role::CustomsOfficer, None, None, None).is_err());
        assert!(check_account(Role::EnterpriseAdmin, Some("x"), Some("5200"), None).is_err());
        assert!(check_account(Role::TaxOfficer, None, None, Some("44")).is_ok());
        assert!(check_account(Role::CommerceOfficer, None, None, Some("4")).is_err());
    }
}
