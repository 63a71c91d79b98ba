//! Configuration of directory targets (`kind = "ldap"` and
//! `kind = "active_directory"`) and of people imports from them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use touchtone_core::password::PasswordPolicy;
use touchtone_core::secret::SecretString;
use touchtone_targets::ldap::{
    AttributeMap, ConnectionSettings, Flavour, ImportSpec, LdapTarget, PasswordMethod, UserLookup,
};

/// An LDAP or Active Directory target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryTargetConfig {
    pub name: String,
    /// `ldaps://host:636`, or `ldap://host:389` with `starttls = true`.
    pub url: String,
    #[serde(default)]
    pub starttls: bool,
    /// PEM CA certificates for the server's certificate (system roots when
    /// absent).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The service account.
    pub bind_dn: String,
    /// File holding the service account's password (preferred), or the
    /// password itself.
    #[serde(default)]
    pub bind_password_file: Option<PathBuf>,
    #[serde(default)]
    pub bind_password: Option<String>,
    /// Where accounts are searched for, and the filter with `{account}`.
    pub user_base_dn: String,
    #[serde(default)]
    pub user_filter: Option<String>,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    #[serde(default = "default_operation_timeout")]
    pub operation_timeout_secs: u64,
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// RFC servers only: `exop` (default), `exop_or_replace`, `replace`.
    #[serde(default)]
    pub password_method: Option<PasswordMethod>,
    #[serde(default)]
    pub policy: PasswordPolicy,
}

fn default_connect_timeout() -> u64 {
    5
}
fn default_operation_timeout() -> u64 {
    10
}
fn default_pool_size() -> usize {
    4
}

impl DirectoryTargetConfig {
    fn default_filter(active_directory: bool) -> &'static str {
        if active_directory {
            "(&(objectCategory=person)(objectClass=user)(sAMAccountName={account}))"
        } else {
            "(&(objectClass=inetOrgPerson)(uid={account}))"
        }
    }

    /// Builds the target; `active_directory` selects the flavour.
    pub fn build(&self, active_directory: bool) -> anyhow::Result<LdapTarget> {
        let name = &self.name;
        let password = match (&self.bind_password_file, &self.bind_password) {
            (Some(file), None) => std::fs::read_to_string(file)
                .with_context(|| format!("targets.{name}: reading {}", file.display()))?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
            (None, Some(password)) => password.clone(),
            _ => bail!("targets.{name}: give exactly one of bind_password_file and bind_password"),
        };
        let flavour = match (active_directory, self.password_method) {
            (true, Some(_)) => {
                bail!(
                    "targets.{name}: password_method is for RFC LDAP servers, not Active Directory"
                )
            }
            (true, None) => Flavour::ActiveDirectory,
            (false, method) => Flavour::Rfc(method.unwrap_or_default()),
        };
        LdapTarget::new(
            name.clone(),
            flavour,
            self.policy.clone(),
            ConnectionSettings {
                url: self.url.clone(),
                starttls: self.starttls,
                ca_file: self.ca_file.clone(),
                bind_dn: self.bind_dn.clone(),
                bind_password: SecretString::from(password),
                connect_timeout: Duration::from_secs(self.connect_timeout_secs),
                operation_timeout: Duration::from_secs(self.operation_timeout_secs),
                pool_size: self.pool_size,
            },
            UserLookup {
                base_dn: self.user_base_dn.clone(),
                filter: self
                    .user_filter
                    .clone()
                    .unwrap_or_else(|| Self::default_filter(active_directory).to_owned()),
            },
        )
        .map_err(|e| anyhow::anyhow!("targets.{name}: {e}"))
    }
}

/// People imported from a directory target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryImportConfig {
    pub name: String,
    /// The `ldap` or `active_directory` target read from; the imported
    /// accounts are on it.
    pub target: String,
    pub base_dn: String,
    /// Which entries are people.
    pub filter: String,
    /// Attribute mapping; defaults suit the target's kind.
    #[serde(default)]
    pub attributes: Option<AttributeMap>,
    /// Re-sync this often inside `serve`; 0: only `touchtone people sync`.
    #[serde(default)]
    pub interval_secs: u64,
    #[serde(default = "default_max_entries")]
    pub max_entries: usize,
    /// A sync that would disable more than this share of the people stops
    /// (run `touchtone people sync --force` to apply it anyway).
    #[serde(default = "default_max_disable_percent")]
    pub max_disable_percent: u8,
}

fn default_max_entries() -> usize {
    100_000
}
fn default_max_disable_percent() -> u8 {
    10
}

impl DirectoryImportConfig {
    pub fn spec(&self, active_directory: bool) -> anyhow::Result<ImportSpec> {
        if self.max_disable_percent > 100 {
            bail!(
                "directory_imports.{}: max_disable_percent is at most 100",
                self.name
            );
        }
        touchtone_targets::ldap::check_filter(&self.filter)
            .map_err(|e| anyhow::anyhow!(e))
            .with_context(|| format!("directory_imports.{}: filter", self.name))?;
        Ok(ImportSpec {
            base_dn: self.base_dn.clone(),
            filter: self.filter.clone(),
            attributes: self
                .attributes
                .clone()
                .unwrap_or_else(|| default_attributes(active_directory)),
            max_entries: self.max_entries,
        })
    }
}

fn default_attributes(active_directory: bool) -> AttributeMap {
    let (login, display_name, department, employee_number) = if active_directory {
        ("sAMAccountName", "displayName", "department", "employeeID")
    } else {
        ("uid", "cn", "departmentNumber", "employeeNumber")
    };
    AttributeMap {
        login: login.into(),
        display_name: display_name.into(),
        department: Some(department.into()),
        employee_number: Some(employee_number.into()),
        mail: Some("mail".into()),
        phone_numbers: vec!["telephoneNumber".into(), "mobile".into()],
        // OpenLDAP has memberOf with its overlay; without it, no groups.
        groups: Some("memberOf".into()),
        privileged: active_directory.then(|| "adminCount".into()),
    }
}
