//! Reading people from a directory for import: a paged subtree search
//! with an attribute mapping.

use async_trait::async_trait;
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Scope, SearchEntry};

use super::connection::describe;
use super::{Flavour, LdapTarget, all_values, check_filter, first_value};
use crate::TargetError;

/// Which directory attributes fill which fields of a person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeMap {
    /// The login, which becomes the person's ID and the account name on
    /// the target (`uid`, `sAMAccountName`).
    pub login: String,
    pub display_name: String,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub employee_number: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    /// Every value of every attribute listed is a phone number.
    #[serde(default)]
    pub phone_numbers: Vec<String>,
    /// Every value is a group the person is in (`memberOf`: group DNs).
    #[serde(default)]
    pub groups: Option<String>,
    /// A value of `1`, `true` or `yes` marks the person privileged
    /// (Active Directory's `adminCount`, set on members of protected
    /// groups such as Domain Admins).
    #[serde(default)]
    pub privileged: Option<String>,
}

/// What to read.
#[derive(Debug, Clone)]
pub struct ImportSpec {
    pub base_dn: String,
    pub filter: String,
    pub attributes: AttributeMap,
    /// A search that finds more entries than this fails instead of
    /// importing part of the directory.
    pub max_entries: usize,
}

/// One person as the directory has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub dn: String,
    pub login: String,
    pub display_name: String,
    pub department: String,
    pub employee_number: Option<String>,
    pub mail: Option<String>,
    pub phone_numbers: Vec<String>,
    /// Disabled in the directory (Active Directory's `ACCOUNTDISABLE`).
    pub disabled: bool,
    /// Every value of the groups attribute, sorted.
    pub groups: Vec<String>,
    pub privileged: bool,
}

/// A source of people.
#[async_trait]
pub trait Directory: Send + Sync {
    /// Every entry the spec selects, or an error: never a partial list,
    /// since a sync disables people missing from it.
    async fn entries(&self, spec: &ImportSpec) -> Result<Vec<DirectoryEntry>, TargetError>;
}

const PAGE_SIZE: i32 = 500;

#[async_trait]
impl Directory for LdapTarget {
    async fn entries(&self, spec: &ImportSpec) -> Result<Vec<DirectoryEntry>, TargetError> {
        check_filter(&spec.filter).map_err(TargetError::Failed)?;
        let map = &spec.attributes;
        let mut attrs: Vec<String> = vec![map.login.clone(), map.display_name.clone()];
        attrs.extend(map.department.iter().cloned());
        attrs.extend(map.employee_number.iter().cloned());
        attrs.extend(map.mail.iter().cloned());
        attrs.extend(map.phone_numbers.iter().cloned());
        attrs.extend(map.groups.iter().cloned());
        attrs.extend(map.privileged.iter().cloned());
        if self.flavour == Flavour::ActiveDirectory {
            attrs.push("userAccountControl".into());
        }
        let mut session = self.pool.get().await?;
        let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(PAGE_SIZE)),
        ];
        let started = {
            let ldap = session.ldap()?;
            ldap.streaming_search_with(adapters, &spec.base_dn, Scope::Subtree, &spec.filter, attrs)
                .await
        };
        let mut stream = session.check(started)?;
        let mut found = Vec::new();
        loop {
            let next = stream.next().await;
            let Some(raw) = session.check(next)? else {
                break;
            };
            if found.len() == spec.max_entries {
                let _ = stream.finish().await;
                return Err(TargetError::Failed(format!(
                    "the search found more than {} entries (max_entries); narrow the filter or raise the limit",
                    spec.max_entries
                )));
            }
            found.push(SearchEntry::construct(raw));
        }
        let result = stream.finish().await;
        if result.rc != 0 {
            return Err(TargetError::Failed(format!(
                "the directory search failed: {}",
                describe(&result)
            )));
        }
        Ok(found
            .into_iter()
            .filter_map(|entry| to_directory_entry(entry, map, self.flavour))
            .collect())
    }
}

fn to_directory_entry(
    entry: SearchEntry,
    map: &AttributeMap,
    flavour: Flavour,
) -> Option<DirectoryEntry> {
    let attrs = &entry.attrs;
    let login = first_value(attrs, &map.login)?.trim().to_owned();
    let one = |name: &Option<String>| {
        name.as_deref()
            .and_then(|n| first_value(attrs, n))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let display_name = first_value(attrs, &map.display_name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| login.clone());
    // Every non-empty value of every attribute named.
    let every = |names: &mut dyn Iterator<Item = &String>| -> Vec<String> {
        names
            .flat_map(|name| all_values(attrs, name))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    };
    let mut phone_numbers = every(&mut map.phone_numbers.iter());
    phone_numbers.dedup();
    let mut groups = every(&mut map.groups.iter());
    groups.sort();
    groups.dedup();
    let privileged = one(&map.privileged).is_some_and(|v| {
        ["1", "true", "yes"]
            .iter()
            .any(|t| v.eq_ignore_ascii_case(t))
    });
    let disabled = flavour == Flavour::ActiveDirectory
        && first_value(attrs, "userAccountControl")
            .and_then(|v| v.parse::<i64>().ok())
            .is_some_and(|uac| uac & 0x2 != 0);
    Some(DirectoryEntry {
        login,
        display_name,
        department: one(&map.department).unwrap_or_default(),
        employee_number: one(&map.employee_number),
        mail: one(&map.mail),
        phone_numbers,
        disabled,
        groups,
        privileged,
        dn: entry.dn,
    })
}
