//! People imported from a directory: the first import and every re-sync.
//!
//! A sync reads the whole selection (never a partial list), then, in one
//! transaction, adds people it has not seen, updates those whose
//! attributes changed (enrolled answers, lock state and other accounts are
//! kept), and disables people it had seen before who are gone from the
//! directory (their account on the source's target is removed; they are
//! re-enabled if they come back). A dry run computes the same plan and
//! rolls back. A sync that would disable more than a set share of the
//! source's people stops unless forced: an emptied OU or a broken filter
//! must not switch off the helpdesk line for everyone.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use touchtone_store::people::{self, AccountRef, Person};
use touchtone_store::{directory_members, local_directory};
use touchtone_targets::ldap::{Directory, DirectoryEntry, ImportSpec};

use crate::session_gate::{append_audit, commit};
use crate::{Service, ServiceError};

/// A configured import.
#[derive(Clone)]
pub struct DirectorySource {
    pub name: String,
    /// The target the imported accounts are on (the directory itself).
    pub target: String,
    pub spec: ImportSpec,
    /// Most of the source's people one sync may disable, in percent.
    pub max_disable_percent: u8,
    pub directory: Arc<dyn Directory>,
}

/// How a sync runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Compute and report, change nothing.
    DryRun,
    Apply,
    /// Apply even past `max_disable_percent`.
    Force,
}

/// What a sync did (or, dry, would do).
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct SyncReport {
    pub source: String,
    pub dry_run: bool,
    pub added: Vec<String>,
    /// Person and the fields that changed.
    pub updated: Vec<(String, Vec<String>)>,
    pub disabled: Vec<String>,
    pub unchanged: usize,
    /// Entries that could not be imported, with the reason.
    pub skipped: Vec<(String, String)>,
}

impl SyncReport {
    pub fn changes(&self) -> usize {
        self.added.len() + self.updated.len() + self.disabled.len()
    }
}

impl Service {
    /// The configured directory sources, by name.
    pub fn directory_sources(&self) -> impl Iterator<Item = &DirectorySource> {
        self.inner.directories.iter()
    }

    /// Reads the source and applies (or, dry, plans) the changes.
    pub async fn sync_directory(
        &self,
        actor: &str,
        source_name: &str,
        mode: SyncMode,
    ) -> Result<SyncReport, ServiceError> {
        let source = self
            .directory_sources()
            .find(|s| s.name == source_name)
            .ok_or_else(|| {
                ServiceError::BadRequest(format!("no directory import named {source_name}"))
            })?;
        let entries = source.directory.entries(&source.spec).await.map_err(|e| {
            ServiceError::DirectoryUnavailable(format!("reading directory {source_name}: {e}"))
        })?;
        self.apply_entries(actor, source, entries, mode).await
    }

    async fn apply_entries(
        &self,
        actor: &str,
        source: &DirectorySource,
        entries: Vec<DirectoryEntry>,
        mode: SyncMode,
    ) -> Result<SyncReport, ServiceError> {
        let now = self.now();
        let mut report = SyncReport {
            source: source.name.clone(),
            dry_run: mode == SyncMode::DryRun,
            ..SyncReport::default()
        };
        let mut wanted: BTreeMap<String, DirectoryEntry> = BTreeMap::new();
        for entry in entries {
            if let Err(e) = crate::api::check_id("login", &entry.login) {
                report.skipped.push((entry.dn.clone(), e.to_string()));
            } else if let Some(first) = wanted.get(&entry.login) {
                report.skipped.push((
                    entry.dn.clone(),
                    format!("the login {} is also on {}", entry.login, first.dn),
                ));
            } else {
                wanted.insert(entry.login.clone(), entry);
            }
        }

        let mut tx = self.admin_tx().await?;
        let existing: HashMap<String, Person> = people::list(&mut tx)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let members: BTreeMap<String, bool> = directory_members::list(&mut tx, &source.name)
            .await?
            .into_iter()
            .collect();
        let accounts: BTreeSet<(String, String)> = people::accounts_on(&mut tx, &source.target)
            .await?
            .into_iter()
            .collect();
        let is_local = self.settings().local_targets.contains(&source.target);

        for (login, entry) in &wanted {
            let person = Person {
                id: login.clone(),
                display_name: entry.display_name.clone(),
                department: entry.department.clone(),
                employee_number: entry.employee_number.clone(),
                mail: entry.mail.clone(),
                phone_numbers: entry.phone_numbers.clone(),
                disabled: entry.disabled,
                groups: entry.groups.clone(),
                privileged: entry.privileged,
                failures_cleared_at: 0,
            };
            let account = AccountRef {
                target: source.target.clone(),
                account: login.clone(),
            };
            let mut changed = existing.get(login).map(|old| changed_fields(old, &person));
            let has_account = accounts.contains(&(login.clone(), login.clone()));
            if let Some(fields) = changed.as_mut() {
                if !has_account {
                    fields.push("account".into());
                }
                if members.get(login) != Some(&true) && fields.is_empty() {
                    fields.push("membership".into());
                }
            }
            match &changed {
                None => report.added.push(login.clone()),
                Some(fields) if fields.is_empty() => {
                    report.unchanged += 1;
                    continue;
                }
                Some(fields) => report.updated.push((login.clone(), fields.clone())),
            }
            people::upsert(&mut tx, &person, now).await?;
            let keypad_ids = self.keypad_ids(login, person.employee_number.as_deref());
            people::set_keypad_ids(&mut tx, login, &keypad_ids).await?;
            if !has_account {
                people::add_account(&mut tx, login, &account).await?;
                if is_local {
                    local_directory::ensure(&mut tx, login, None, false).await?;
                }
            }
            directory_members::set(&mut tx, &source.name, login, true, now).await?;
        }

        let present_before = members.values().filter(|p| **p).count();
        for (login, _) in members
            .iter()
            .filter(|(l, p)| **p && !wanted.contains_key(*l))
        {
            report.disabled.push(login.clone());
            if !directory_members::present_elsewhere(&mut tx, &source.name, login).await?
                && let Some(old) = existing.get(login)
            {
                let mut person = old.clone();
                person.disabled = true;
                people::upsert(&mut tx, &person, now).await?;
            }
            let account = AccountRef {
                target: source.target.clone(),
                account: login.clone(),
            };
            people::remove_account(&mut tx, login, &account).await?;
            directory_members::set(&mut tx, &source.name, login, false, now).await?;
        }

        let limit = present_before * usize::from(source.max_disable_percent) / 100;
        if mode == SyncMode::Apply && report.disabled.len() > limit.max(1) {
            // Dropping the transaction rolls everything back.
            return Err(ServiceError::Conflict(format!(
                "directory {}: this sync would disable {} of {} people (more than max_disable_percent = {}%); \
                 check the filter and the directory, or run it with --force",
                source.name,
                report.disabled.len(),
                present_before,
                source.max_disable_percent
            )));
        }
        if mode == SyncMode::DryRun {
            tx.rollback()
                .await
                .map_err(touchtone_store::StoreError::from)?;
            return Ok(report);
        }
        append_audit(
            &mut tx,
            actor,
            "directory_sync",
            "",
            "ok",
            json!({
                "source": source.name,
                "added": report.added.len(),
                "updated": report.updated.len(),
                "disabled": report.disabled.len(),
                "unchanged": report.unchanged,
                "skipped": report.skipped.len(),
            }),
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(report)
    }
}

fn changed_fields(old: &Person, new: &Person) -> Vec<String> {
    let mut fields = Vec::new();
    if old.display_name != new.display_name {
        fields.push("display_name");
    }
    if old.department != new.department {
        fields.push("department");
    }
    if old.employee_number != new.employee_number {
        fields.push("employee_number");
    }
    if old.mail != new.mail {
        fields.push("mail");
    }
    if old.phone_numbers != new.phone_numbers {
        fields.push("phone_numbers");
    }
    if old.groups != new.groups {
        fields.push("groups");
    }
    if old.privileged != new.privileged {
        fields.push(if new.privileged {
            "privileged"
        } else {
            "not_privileged"
        });
    }
    if old.disabled != new.disabled {
        fields.push(if new.disabled { "disabled" } else { "enabled" });
    }
    fields.into_iter().map(str::to_owned).collect()
}
