//! Password reset and unlock on RFC-compliant servers (OpenLDAP with the
//! ppolicy overlay, 389-ds, …).

use std::collections::HashSet;

use ldap3::controls::RelaxRules;
use ldap3::exop::PasswordModify;
use ldap3::{LdapResult, Mod};
use touchtone_core::secret::{ExposeSecret, SecretString};

use super::connection::{Session, describe};
use super::{LdapTarget, PasswordMethod, first_value};
use crate::{ResetOptions, TargetError, UnlockOutcome};

const LOCKED_TIME: &str = "pwdAccountLockedTime";
const FAILURE_TIME: &str = "pwdFailureTime";

pub(super) async fn set_password(
    target: &LdapTarget,
    session: &mut Session,
    account: &str,
    password: &SecretString,
    options: ResetOptions,
    method: PasswordMethod,
) -> Result<(), TargetError> {
    let entry = target.find(session, account, &["1.1"]).await?;
    let dn = entry.dn.as_str();
    let result = match method {
        PasswordMethod::Replace => replace_password(session, dn, password).await?,
        PasswordMethod::Exop | PasswordMethod::ExopOrReplace => {
            let outcome = {
                let ldap = session.ldap()?;
                ldap.extended(PasswordModify {
                    user_id: Some(dn),
                    old_pass: None,
                    new_pass: Some(password.expose_secret()),
                })
                .await
            };
            let result = session.check(outcome)?.1;
            if method == PasswordMethod::ExopOrReplace && exop_unsupported(&result) {
                tracing::info!(target_name = %target.name, "the server does not support Password Modify; replacing userPassword");
                replace_password(session, dn, password).await?
            } else {
                result
            }
        }
    };
    reset_error(&result)?;
    if options.must_change {
        let outcome = {
            let ldap = session.ldap()?;
            ldap.modify(dn, vec![Mod::Replace("pwdReset", HashSet::from(["TRUE"]))])
                .await
        };
        let result = session.check(outcome)?;
        if result.rc != 0 {
            return Err(TargetError::Failed(format!(
                "the password was set, but it could not be marked for change at next login: {}",
                describe(&result)
            )));
        }
    }
    Ok(())
}

async fn replace_password(
    session: &mut Session,
    dn: &str,
    password: &SecretString,
) -> Result<LdapResult, TargetError> {
    let outcome = {
        let ldap = session.ldap()?;
        ldap.modify(
            dn,
            vec![Mod::Replace(
                "userPassword",
                HashSet::from([password.expose_secret()]),
            )],
        )
        .await
    };
    session.check(outcome)
}

/// Whether the server answered that it does not know the extended
/// operation.
fn exop_unsupported(result: &LdapResult) -> bool {
    matches!(result.rc, 2 | 12)
        || (result.rc == 53 && result.text.to_ascii_lowercase().contains("not supported"))
}

/// Maps a reset's result; the server's own words say which rule failed
/// ("Password fails quality checking policy", "Password is in history of
/// old passwords", …).
fn reset_error(result: &LdapResult) -> Result<(), TargetError> {
    match result.rc {
        0 => Ok(()),
        19 | 21 => Err(TargetError::PolicyRejected(policy_reason(&result.text))),
        32 => Err(TargetError::NoSuchAccount),
        50 => Err(TargetError::Failed(format!(
            "the service account may not set this password: {}",
            describe(result)
        ))),
        _ => Err(TargetError::Failed(describe(result))),
    }
}

fn policy_reason(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        "the server's password policy refused it".into()
    } else {
        text.to_owned()
    }
}

pub(super) async fn unlock(
    target: &LdapTarget,
    session: &mut Session,
    account: &str,
) -> Result<UnlockOutcome, TargetError> {
    let entry = target
        .find(session, account, &[LOCKED_TIME, FAILURE_TIME])
        .await?;
    let locked = first_value(&entry.attrs, LOCKED_TIME).is_some();
    let failures = first_value(&entry.attrs, FAILURE_TIME).is_some();
    // Pending failure times are cleared too, so the next mistyped password
    // does not lock the account again at once. They are not user-modifiable:
    // OpenLDAP allows it under the Relax Rules control to an account with
    // `manage` access; servers that ignore the control refuse it (19), and
    // then only the lock itself is cleared.
    if !locked && !failures {
        return Ok(UnlockOutcome::WasNotLocked);
    }
    let mut result = delete_attributes(session, &entry.dn, locked, failures, true).await?;
    if result.rc == 19 && failures {
        if !locked {
            return Ok(UnlockOutcome::WasNotLocked);
        }
        result = delete_attributes(session, &entry.dn, true, false, false).await?;
    }
    match result.rc {
        // 16: cleared by someone else (or the lockout expired) meanwhile.
        0 | 16 if locked => Ok(UnlockOutcome::Unlocked),
        0 | 16 => Ok(UnlockOutcome::WasNotLocked),
        50 => Err(TargetError::Failed(format!(
            "the service account may not clear the lockout: {}",
            describe(&result)
        ))),
        _ => Err(TargetError::Failed(describe(&result))),
    }
}

async fn delete_attributes(
    session: &mut Session,
    dn: &str,
    locked_time: bool,
    failure_time: bool,
    relax: bool,
) -> Result<LdapResult, TargetError> {
    let mut mods: Vec<Mod<&str>> = Vec::new();
    if locked_time {
        mods.push(Mod::Delete(LOCKED_TIME, HashSet::new()));
    }
    if failure_time {
        mods.push(Mod::Delete(FAILURE_TIME, HashSet::new()));
    }
    let outcome = {
        let ldap = session.ldap()?;
        if relax {
            ldap.with_controls(RelaxRules);
        }
        ldap.modify(dn, mods).await
    };
    session.check(outcome)
}
