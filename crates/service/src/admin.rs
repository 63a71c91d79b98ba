//! Operator actions behind the CLI: API users, people and their accounts,
//! questions and enrolment, clearing lockouts, and checking the audit log.
//! Every change is audited with the operator's actor name.

use ipnet::IpNet;
use serde_json::json;
use touchtone_core::event::EventType;
use touchtone_core::lockout::LockState;
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_store::api_users::{self, ApiUser};
use touchtone_store::audit;
use touchtone_store::local_directory::{self, LocalAccount};
use touchtone_store::{lockouts, people, questions};

use crate::api::ApiUserInfo;
use crate::enrolment::Question;
use crate::events::EventRouter;
use crate::people::{Account, Person};
use crate::session_gate::{append_audit, commit};
use crate::{Service, ServiceError};

/// A person and their accounts, as imported from CSV or a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub person: Person,
    pub accounts: Vec<Account>,
}

/// An account in the local directory, as an operator sees it (never its
/// password hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAccountState {
    pub locked: bool,
    pub disabled: bool,
    pub must_change: bool,
    /// Whether a password is set at all.
    pub password_set: bool,
    pub password_changed_at: Option<i64>,
}

impl From<LocalAccount> for LocalAccountState {
    fn from(a: LocalAccount) -> LocalAccountState {
        LocalAccountState {
            locked: a.locked,
            disabled: a.disabled,
            must_change: a.must_change,
            password_set: a.password_hash.is_some(),
            password_changed_at: a.password_changed_at,
        }
    }
}

/// Everything an operator wants to see about one person.
#[derive(Debug, Clone)]
pub struct PersonReport {
    pub person: Person,
    pub keypad_ids: Vec<(String, String)>,
    /// Each account, with its state when it is in the local directory.
    pub accounts: Vec<(Account, Option<LocalAccountState>)>,
    pub enrolled: Vec<Question>,
    pub lock: Option<LockState>,
    pub locked_now: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
}

/// A head of the audit chain recorded earlier (`touchtone audit head`),
/// written `SEQ:HASH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditAnchor {
    pub seq: i64,
    pub hash: String,
}

impl std::str::FromStr for AuditAnchor {
    type Err = ServiceError;

    fn from_str(text: &str) -> Result<AuditAnchor, ServiceError> {
        let (seq, hash) = text
            .split_once(':')
            .ok_or_else(|| ServiceError::BadRequest("an anchor is SEQ:HASH".into()))?;
        let seq = seq
            .parse()
            .map_err(|_| ServiceError::BadRequest("an anchor's SEQ is a number".into()))?;
        Ok(AuditAnchor {
            seq,
            hash: hash.to_owned(),
        })
    }
}

/// What walking the audit chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub rows: i64,
    pub head_seq: i64,
    pub head_hash: String,
    /// The first broken row and why, if any.
    pub broken: Option<(i64, String)>,
    /// With an anchor: false when the anchored row no longer has the
    /// recorded hash (rows were cut from the end, or rewritten).
    pub anchor_holds: Option<bool>,
}

impl AuditReport {
    fn new(report: audit::VerifyReport, anchor_holds: Option<bool>) -> AuditReport {
        AuditReport {
            rows: report.rows,
            head_seq: report.head_seq,
            head_hash: report.head_hash,
            broken: report.broken,
            anchor_holds,
        }
    }
}

impl Service {
    pub(crate) async fn admin_tx(&self) -> Result<touchtone_store::Tx<'static>, ServiceError> {
        let mut tx = self.store().begin().await?;
        audit::lock_head(&mut tx).await?;
        Ok(tx)
    }

    pub async fn add_api_user(
        &self,
        actor: &str,
        name: &str,
        password: SecretString,
        allowed_networks: Vec<String>,
        privileged: bool,
    ) -> Result<(), ServiceError> {
        crate::api::check_id("name", name)?;
        if name.starts_with('@') {
            return Err(ServiceError::BadRequest(
                "API-user names starting with @ are reserved for the server's own doors".into(),
            ));
        }
        if allowed_networks.is_empty() {
            return Err(ServiceError::BadRequest(
                "give at least one allowed network (CIDR), e.g. 127.0.0.1/32".into(),
            ));
        }
        for network in &allowed_networks {
            network.parse::<IpNet>().map_err(|_| {
                ServiceError::BadRequest(format!(
                    "{network} is not a CIDR network such as 10.0.0.0/8"
                ))
            })?;
        }
        if password.expose_secret().len() < 12 {
            return Err(ServiceError::BadRequest(
                "an API user's password must be at least 12 characters".into(),
            ));
        }
        let password_hash = self.hasher().hash_password(password).await?;
        let now = self.now();
        let mut tx = self.admin_tx().await?;
        let user = ApiUser {
            name: name.to_owned(),
            password_hash,
            allowed_networks: allowed_networks.clone(),
            privileged,
        };
        api_users::upsert(&mut tx, &user, now).await?;
        append_audit(
            &mut tx,
            actor,
            "api_user_add",
            name,
            "ok",
            json!({"networks": allowed_networks, "privileged": privileged}),
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(())
    }

    pub async fn remove_api_user(&self, actor: &str, name: &str) -> Result<bool, ServiceError> {
        let now = self.now();
        let mut tx = self.admin_tx().await?;
        let existed = api_users::remove(&mut tx, name, now).await?;
        append_audit(
            &mut tx,
            actor,
            "api_user_remove",
            name,
            if existed { "ok" } else { "not_found" },
            json!({}),
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(existed)
    }

    pub async fn list_api_users(&self) -> Result<Vec<ApiUserInfo>, ServiceError> {
        let mut conn = self.store().acquire().await?;
        Ok(api_users::list(&mut conn)
            .await?
            .into_iter()
            .map(ApiUserInfo::from)
            .collect())
    }

    /// Adds or updates people with their keypad IDs and accounts. Enrolled
    /// answers and lock state are kept; accounts on local targets are
    /// created in the local directory.
    pub async fn import_people(
        &self,
        actor: &str,
        records: &[PersonRecord],
    ) -> Result<ImportReport, ServiceError> {
        let now = self.now();
        let mut report = ImportReport::default();
        let mut tx = self.admin_tx().await?;
        for record in records {
            crate::api::check_id("id", &record.person.id)?;
            let existed = people::get(&mut tx, &record.person.id).await?.is_some();
            people::upsert(&mut tx, &record.person.to_row(), now).await?;
            people::set_keypad_ids(
                &mut tx,
                &record.person.id,
                &self.keypad_ids_of(&record.person),
            )
            .await?;
            for account in &record.accounts {
                if self.targets().get(&account.target).is_none() {
                    return Err(ServiceError::BadRequest(format!(
                        "{}: no target named {} is configured",
                        record.person.id, account.target
                    )));
                }
                people::add_account(&mut tx, &record.person.id, &account.into()).await?;
                if self.settings().local_targets.contains(&account.target) {
                    local_directory::ensure(&mut tx, &account.account, None, false).await?;
                }
            }
            if existed {
                report.updated += 1
            } else {
                report.added += 1
            }
        }
        append_audit(
            &mut tx,
            actor,
            "people_import",
            "",
            "ok",
            json!({"added": report.added, "updated": report.updated}),
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(report)
    }

    /// Clears a person's intruder lockout and forgets earlier failures.
    /// Returns whether a lock was in place.
    pub async fn clear_lockout(&self, actor: &str, person_id: &str) -> Result<bool, ServiceError> {
        let now = self.now();
        let mut tx = self.admin_tx().await?;
        if !people::clear_failures(&mut tx, person_id, now).await? {
            return Err(ServiceError::UnknownUser);
        }
        let had_lock = lockouts::clear_lock(&mut tx, person_id).await?;
        let event = EventRouter::event(
            EventType::IntruderLockoutCleared,
            Some(person_id),
            actor,
            json!({"had_lock": had_lock}),
            now,
        );
        self.events().emit(&mut tx, &event).await?;
        append_audit(
            &mut tx,
            actor,
            "lockout_clear",
            person_id,
            "ok",
            json!({"had_lock": had_lock}),
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(had_lock)
    }

    pub async fn person_report(&self, person_id: &str) -> Result<PersonReport, ServiceError> {
        let mut conn = self.store().acquire().await?;
        let person = people::get(&mut conn, person_id)
            .await?
            .ok_or(ServiceError::UnknownUser)?;
        let keypad_ids = people::keypad_ids(&mut conn, person_id).await?;
        let mut accounts = Vec::new();
        for account in people::accounts(&mut conn, person_id).await? {
            let local = if self.settings().local_targets.contains(&account.target) {
                local_directory::get(&mut conn, &account.account)
                    .await?
                    .map(LocalAccountState::from)
            } else {
                None
            };
            accounts.push((account.into(), local));
        }
        let enrolled = questions::enrolled(&mut conn, person_id)
            .await?
            .into_iter()
            .map(Question::from)
            .collect();
        let lock = lockouts::get_lock(&mut conn, person_id).await?;
        let locked_now = lock.is_some_and(|l| l.holds_at(self.now()));
        Ok(PersonReport {
            person: person.into(),
            keypad_ids,
            accounts,
            enrolled,
            lock,
            locked_now,
        })
    }

    pub async fn list_people(&self) -> Result<Vec<Person>, ServiceError> {
        let mut conn = self.store().acquire().await?;
        Ok(people::list(&mut conn)
            .await?
            .into_iter()
            .map(Person::from)
            .collect())
    }

    /// Sets a local account's lock flag (an operator, or the demo, marking
    /// an account as locked out on the local system).
    pub async fn set_local_lock(
        &self,
        actor: &str,
        account: &str,
        locked: bool,
    ) -> Result<bool, ServiceError> {
        let now = self.now();
        let mut tx = self.admin_tx().await?;
        let found = local_directory::set_locked(&mut tx, account, locked).await?;
        append_audit(
            &mut tx,
            actor,
            "local_account_lock",
            account,
            if found { "ok" } else { "not_found" },
            json!({"locked": locked}),
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(found)
    }

    /// Walks the audit chain; with an anchor, also checks that the
    /// anchored row still has the recorded hash.
    pub async fn verify_audit(
        &self,
        anchor: Option<&AuditAnchor>,
    ) -> Result<AuditReport, ServiceError> {
        let mut conn = self.store().acquire().await?;
        let report = audit::verify(&mut conn).await?;
        let anchor_holds = match anchor {
            Some(anchor) => {
                let row = audit::rows(&mut conn, anchor.seq - 1, 1).await?;
                Some(row.first().map(|r| r.hash.as_str()) == Some(anchor.hash.as_str()))
            }
            None => None,
        };
        Ok(AuditReport::new(report, anchor_holds))
    }

    /// Copies the live SQLite database to `dest` (a new file), verified and
    /// durable before this returns, and audits it. Returns the copy's
    /// audit chain. On PostgreSQL: a clear refusal (use `pg_dump`).
    pub async fn backup(
        &self,
        actor: &str,
        dest: &std::path::Path,
    ) -> Result<AuditReport, ServiceError> {
        let report = touchtone_store::backup::sqlite_backup(self.store(), dest)
            .await
            .map_err(|e| match e {
                touchtone_store::StoreError::Backup(m) => ServiceError::BadRequest(m),
                other => other.into(),
            })?;
        let mut tx = self.admin_tx().await?;
        let detail = json!({
            "dest": dest.display().to_string(),
            "rows": report.rows,
            "head": format!("{}:{}", report.head_seq, report.head_hash),
        });
        append_audit(
            &mut tx,
            actor,
            "backup",
            "database",
            "ok",
            detail,
            self.now(),
        )
        .await?;
        commit(tx).await?;
        Ok(AuditReport::new(report, None))
    }

    /// Issues a one-time PIN with which `person_id` can enrol by phone
    /// (replacing any earlier one); returns it to be given to them once.
    /// Only its hash is kept; it expires after `enrolment.pin_valid_ms`.
    pub async fn issue_enrolment_pin(
        &self,
        actor: &str,
        person_id: &str,
    ) -> Result<SecretString, ServiceError> {
        {
            let mut conn = self.store().acquire().await?;
            match people::get(&mut conn, person_id).await? {
                Some(p) if !p.disabled => {}
                _ => return Err(ServiceError::UnknownUser),
            }
        }
        let pin: String = (0..crate::api::PIN_DIGITS)
            .map(|_| char::from(b'0' + rand::random_range(0..10u8)))
            .collect();
        let digits = touchtone_core::keypad::KeypadDigits::parse(&pin)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let hash = self.hasher().hash_answer(digits).await?;
        let now = self.now();
        let expires = now + self.settings().enrolment.pin_valid_ms;
        let mut tx = self.admin_tx().await?;
        touchtone_store::enrolment_pins::set(&mut tx, person_id, &hash, now, expires).await?;
        append_audit(
            &mut tx,
            actor,
            "enrolment_pin_issue",
            person_id,
            "ok",
            json!({"expires_at": expires}),
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(SecretString::from(pin))
    }

    /// Sets `account`'s password on the target named `target` (an operator
    /// giving a local account its first password, or the demo), audited.
    pub async fn set_account_password(
        &self,
        actor: &str,
        target: &str,
        account: &str,
        password: &SecretString,
    ) -> Result<(), ServiceError> {
        let found = self
            .targets()
            .get(target)
            .ok_or_else(|| ServiceError::BadRequest(format!("no target named {target}")))?;
        let result = found
            .set_password(
                account,
                password,
                touchtone_targets::ResetOptions::default(),
            )
            .await;
        let outcome = match &result {
            Ok(()) => "ok".to_owned(),
            Err(e) => e.code().to_owned(),
        };
        let now = self.now();
        let mut tx = self.admin_tx().await?;
        append_audit(
            &mut tx,
            actor,
            "account_password_set",
            account,
            &outcome,
            json!({"target": target}),
            now,
        )
        .await?;
        commit(tx).await?;
        result.map_err(|e| match e {
            touchtone_targets::TargetError::NoSuchAccount => {
                ServiceError::UnknownAccount(format!("{account} on {target}"))
            }
            touchtone_targets::TargetError::PolicyRejected(reason) => {
                ServiceError::PasswordPolicy(vec![reason])
            }
            other => ServiceError::BadRequest(format!("{target}: {other}")),
        })
    }

    /// Whether `password` is the current password of `account` on the
    /// target named `target` (for an operator checking a reset). Targets
    /// that cannot tell say so.
    pub async fn check_account_password(
        &self,
        target: &str,
        account: &str,
        password: &SecretString,
    ) -> Result<bool, ServiceError> {
        let found = self
            .targets()
            .get(target)
            .ok_or_else(|| ServiceError::BadRequest(format!("no target named {target}")))?;
        found
            .check_password(account, password)
            .await
            .map_err(|e| match e {
                touchtone_targets::TargetError::NoSuchAccount => {
                    ServiceError::UnknownAccount(format!("{account} on {target}"))
                }
                other => ServiceError::BadRequest(format!("{target}: {other}")),
            })
    }
}
