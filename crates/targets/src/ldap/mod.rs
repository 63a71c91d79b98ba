//! Directory targets: OpenLDAP and other RFC-compliant servers, and
//! Active Directory, over `ldap3`.
//!
//! Both flavours share the connection handling ([`ConnectionSettings`]: LDAPS
//! or StartTLS with a CA file, a service-account bind, a bounded pool, a
//! time limit on every operation) and the way an account name becomes an
//! entry: a subtree search under `user_base_dn` with `user_filter`, in
//! which `{account}` is replaced by the escaped account name. They differ
//! in how a password is set and an account unlocked:
//!
//! | | RFC (OpenLDAP, 389-ds, …) | Active Directory |
//! |---|---|---|
//! | reset | Password Modify extended operation (RFC 3062), the server hashes and applies its policy; `userPassword` replace as a configured fallback | replace `unicodePwd` with the quoted password in UTF-16LE (LDAPS / StartTLS only) |
//! | must change | `pwdReset: TRUE` (ppolicy overlay) | `pwdLastSet: 0` |
//! | unlock | delete `pwdAccountLockedTime` and `pwdFailureTime` | `lockoutTime: 0`; a disabled account is reported, not unlocked |
//!
//! The service account needs only: search and read of the user entries
//! (and the attributes named above), and for RFC servers `write` (or
//! `manage` for the operational ppolicy attributes) on `userPassword`,
//! `pwdReset`, `pwdAccountLockedTime` and `pwdFailureTime`; for Active
//! Directory the "Reset Password" extended right and write access to
//! `pwdLastSet` and `lockoutTime` on the user objects. The README has the
//! ACL lines.

mod active_directory;
mod connection;
mod directory;
mod rfc;

use std::collections::HashMap;

use async_trait::async_trait;
use ldap3::{Scope, SearchEntry, ldap_escape};
use touchtone_core::password::PasswordPolicy;
use touchtone_core::secret::SecretString;

pub use connection::ConnectionSettings;
pub use directory::{AttributeMap, Directory, DirectoryEntry, ImportSpec};

use crate::{ResetOptions, Target, TargetError, UnlockOutcome};
use connection::{Pool, Session, describe};

/// Which dialect of password management the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// OpenLDAP and other servers following the RFCs and the ppolicy draft.
    Rfc(PasswordMethod),
    ActiveDirectory,
}

/// How an RFC server is given a new password.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordMethod {
    /// The Password Modify extended operation only (the default).
    #[default]
    Exop,
    /// The extended operation, and a `userPassword` replace when the
    /// server does not support it.
    ExopOrReplace,
    /// Always a `userPassword` replace (the server must hash it, e.g. with
    /// OpenLDAP's `ppolicy_hash_cleartext`).
    Replace,
}

/// How accounts are found on the server.
#[derive(Debug, Clone)]
pub struct UserLookup {
    /// Where the accounts live (searched with subtree scope).
    pub base_dn: String,
    /// A filter with `{account}` where the escaped account name goes, such
    /// as `(&(objectClass=inetOrgPerson)(uid={account}))`.
    pub filter: String,
}

impl UserLookup {
    fn check(&self) -> Result<(), String> {
        if self.base_dn.trim().is_empty() {
            return Err("user_base_dn must not be empty".into());
        }
        if !self.filter.contains("{account}") {
            return Err("user_filter must contain {account}".into());
        }
        check_filter(&self.filter.replace("{account}", "x"))
            .map_err(|_| format!("user_filter is not a valid LDAP filter: {}", self.filter))
    }

    fn filter_for(&self, account: &str) -> String {
        self.filter.replace("{account}", &ldap_escape(account))
    }
}

/// An LDAP or Active Directory server holding accounts.
pub struct LdapTarget {
    name: String,
    flavour: Flavour,
    policy: PasswordPolicy,
    users: UserLookup,
    pool: Pool,
}

impl LdapTarget {
    /// A target; fails on settings that cannot work (a bad URL scheme, an
    /// unreadable CA file, Active Directory without encryption, …). No
    /// connection is opened until the first call.
    pub fn new(
        name: impl Into<String>,
        flavour: Flavour,
        policy: PasswordPolicy,
        connection: ConnectionSettings,
        users: UserLookup,
    ) -> Result<Self, String> {
        users.check()?;
        if flavour == Flavour::ActiveDirectory && !connection.is_encrypted() {
            return Err(
                "Active Directory sets passwords only over an encrypted connection: use ldaps:// or starttls = true"
                    .into(),
            );
        }
        Ok(Self {
            name: name.into(),
            flavour,
            policy,
            users,
            pool: Pool::new(connection)?,
        })
    }

    /// Finds the one entry of `account`, with `attrs`.
    async fn find(
        &self,
        session: &mut Session,
        account: &str,
        attrs: &[&str],
    ) -> Result<SearchEntry, TargetError> {
        check_account(account)?;
        let filter = self.users.filter_for(account);
        let result = {
            let ldap = session.ldap()?;
            ldap.search(&self.users.base_dn, Scope::Subtree, &filter, attrs.to_vec())
                .await
        };
        let ldap3::SearchResult(entries, result) = session.check(result)?;
        match result.rc {
            0 => {}
            32 => {
                return Err(TargetError::Failed(format!(
                    "user_base_dn {} does not exist on the server",
                    self.users.base_dn
                )));
            }
            _ => return Err(TargetError::Failed(describe(&result))),
        }
        let mut entries = entries
            .into_iter()
            .filter(|e| !e.is_ref())
            .map(SearchEntry::construct);
        match (entries.next(), entries.next()) {
            (None, _) => Err(TargetError::NoSuchAccount),
            (Some(entry), None) => Ok(entry),
            (Some(_), Some(_)) => Err(TargetError::Failed(
                "more than one entry matches the account; tighten user_filter".into(),
            )),
        }
    }
}

/// Whether `filter` is a valid LDAP search filter.
pub fn check_filter(filter: &str) -> Result<(), String> {
    ldap3::parse_filter(filter)
        .map(|_| ())
        .map_err(|_| format!("not a valid LDAP filter: {filter}"))
}

/// An account name as it may go into a filter: short and printable.
fn check_account(account: &str) -> Result<(), TargetError> {
    if account.is_empty() || account.len() > 256 || account.chars().any(char::is_control) {
        return Err(TargetError::NoSuchAccount);
    }
    Ok(())
}

/// The first value of an attribute, matched without regard to case (servers
/// return the names as their schema spells them).
fn first_value<'a>(attrs: &'a HashMap<String, Vec<String>>, name: &str) -> Option<&'a str> {
    all_values(attrs, name).first().map(String::as_str)
}

/// Every value of an attribute, matched without regard to case.
fn all_values<'a>(attrs: &'a HashMap<String, Vec<String>>, name: &str) -> &'a [String] {
    attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
        .unwrap_or(&[])
}

#[async_trait]
impl Target for LdapTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn policy(&self) -> &PasswordPolicy {
        &self.policy
    }

    async fn set_password(
        &self,
        account: &str,
        password: &SecretString,
        options: ResetOptions,
    ) -> Result<(), TargetError> {
        let mut session = self.pool.get().await?;
        match self.flavour {
            Flavour::Rfc(method) => {
                rfc::set_password(self, &mut session, account, password, options, method).await
            }
            Flavour::ActiveDirectory => {
                active_directory::set_password(self, &mut session, account, password, options).await
            }
        }
    }

    async fn unlock(&self, account: &str) -> Result<UnlockOutcome, TargetError> {
        let mut session = self.pool.get().await?;
        match self.flavour {
            Flavour::Rfc(_) => rfc::unlock(self, &mut session, account).await,
            Flavour::ActiveDirectory => active_directory::unlock(self, &mut session, account).await,
        }
    }

    /// A bind as the account's entry (found by the service account), on a
    /// connection of its own. The server applies its own policy: a wrong
    /// password counts toward its lockout too (ppolicy, AD's threshold).
    async fn check_password(
        &self,
        account: &str,
        password: &SecretString,
    ) -> Result<bool, TargetError> {
        let dn = {
            let mut session = self.pool.get().await?;
            self.find(&mut session, account, &["1.1"]).await?.dn
        };
        self.pool.bind_as(&dn, password).await
    }
}
