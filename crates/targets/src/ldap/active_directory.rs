//! Password reset and unlock on Active Directory (and Samba AD).

use std::collections::HashSet;

use ldap3::{LdapResult, Mod};
use touchtone_core::secret::{ExposeSecret, SecretString};

use super::connection::{Session, describe};
use super::{LdapTarget, first_value};
use crate::{ResetOptions, TargetError, UnlockOutcome};

/// `userAccountControl` bit of a disabled account.
const ACCOUNTDISABLE: u32 = 0x2;

/// Attributes read before every change.
const STATE: [&str; 2] = ["userAccountControl", "lockoutTime"];

struct AccountState {
    dn: String,
    disabled: bool,
    locked: bool,
}

async fn state(
    target: &LdapTarget,
    session: &mut Session,
    account: &str,
) -> Result<AccountState, TargetError> {
    let entry = target.find(session, account, &STATE).await?;
    let control = first_value(&entry.attrs, "userAccountControl")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let lockout_time = first_value(&entry.attrs, "lockoutTime")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    Ok(AccountState {
        dn: entry.dn,
        disabled: control & i64::from(ACCOUNTDISABLE) != 0,
        locked: lockout_time != 0,
    })
}

/// The value AD wants in `unicodePwd`: the password in double quotes,
/// UTF-16LE.
pub(crate) fn unicode_pwd(password: &str) -> Vec<u8> {
    format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect()
}

pub(super) async fn set_password(
    target: &LdapTarget,
    session: &mut Session,
    account: &str,
    password: &SecretString,
    options: ResetOptions,
) -> Result<(), TargetError> {
    let account_state = state(target, session, account).await?;
    if account_state.disabled {
        return Err(TargetError::AccountDisabled);
    }
    // One modify: the password and the change-at-next-logon flag take
    // effect together or not at all.
    let mut mods = vec![Mod::Replace(
        b"unicodePwd".to_vec(),
        HashSet::from([unicode_pwd(password.expose_secret())]),
    )];
    if options.must_change {
        mods.push(Mod::Replace(
            b"pwdLastSet".to_vec(),
            HashSet::from([b"0".to_vec()]),
        ));
    }
    let outcome = {
        let ldap = session.ldap()?;
        ldap.modify(&account_state.dn, mods).await
    };
    let result = session.check(outcome)?;
    ad_error(&result, "set the password")
}

pub(super) async fn unlock(
    target: &LdapTarget,
    session: &mut Session,
    account: &str,
) -> Result<UnlockOutcome, TargetError> {
    let account_state = state(target, session, account).await?;
    if account_state.disabled {
        return Err(TargetError::AccountDisabled);
    }
    if !account_state.locked {
        return Ok(UnlockOutcome::WasNotLocked);
    }
    let outcome = {
        let ldap = session.ldap()?;
        ldap.modify(
            &account_state.dn,
            vec![Mod::Replace("lockoutTime", HashSet::from(["0"]))],
        )
        .await
    };
    let result = session.check(outcome)?;
    ad_error(&result, "clear the lockout").map(|()| UnlockOutcome::Unlocked)
}

/// Maps AD's answer. AD puts a Win32 error code in the first eight hex
/// digits of the diagnostic message (`0000052D: Constraint violation -
/// check_password_restrictions: …`); that code says more than the LDAP
/// result code.
fn ad_error(result: &LdapResult, what: &str) -> Result<(), TargetError> {
    if result.rc == 0 {
        return Ok(());
    }
    let code = win32_code(&result.text);
    Err(match (result.rc, code) {
        (_, Some(0x52D)) | (19, None) => TargetError::PolicyRejected(format!(
            "the password does not meet the domain's length, complexity or history requirements{}",
            detail(&result.text)
        )),
        (_, Some(0x532)) => TargetError::PolicyRejected(
            "the password was changed too recently (minimum password age)".into(),
        ),
        (_, Some(0x5)) | (50, _) => TargetError::Failed(format!(
            "the service account may not {what} on this account (it needs the Reset Password right and write access to pwdLastSet and lockoutTime)"
        )),
        (53, Some(0x1F)) | (8, _) | (13, _) => TargetError::Failed(format!(
            "the domain controller refused to {what}: it needs an encrypted connection (LDAPS or StartTLS) and a service account allowed to do it ({})",
            describe(result)
        )),
        (32, _) => TargetError::NoSuchAccount,
        _ => TargetError::Failed(format!("could not {what}: {}", describe(result))),
    })
}

/// The Win32 error code at the start of AD's diagnostic message.
fn win32_code(text: &str) -> Option<u32> {
    let head = text.trim().get(..8)?;
    if text.trim().as_bytes().get(8) != Some(&b':') {
        return None;
    }
    u32::from_str_radix(head, 16).ok()
}

/// The reason after AD's `check_password_restrictions:` prefix, when it
/// gives one (Samba does: "the password is too short", …).
fn detail(text: &str) -> String {
    text.split_once("check_password_restrictions:")
        .map(|(_, rest)| rest.trim().trim_end_matches(['!', '.']).trim())
        .filter(|rest| !rest.is_empty())
        .map(|rest| format!(" ({rest})"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(rc: u32, text: &str) -> LdapResult {
        LdapResult {
            rc,
            matched: String::new(),
            text: text.into(),
            refs: vec![],
            ctrls: vec![],
        }
    }

    #[test]
    fn unicode_pwd_is_quoted_utf16le() {
        assert_eq!(unicode_pwd("aé"), vec![b'"', 0, b'a', 0, 0xE9, 0, b'"', 0]);
    }

    #[test]
    fn constraint_violations_become_policy_refusals_with_the_reason() {
        let r = result(
            19,
            "0000052D: Constraint violation - check_password_restrictions: the password is too short. It should be equal or longer than 7 characters!",
        );
        match ad_error(&r, "set the password") {
            Err(TargetError::PolicyRejected(m)) => {
                assert!(m.contains("requirements"), "{m}");
                assert!(m.contains("too short"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        let windows = result(19, "0000052D: AtrErr: DSID-03191083, #1:\n");
        assert!(matches!(
            ad_error(&windows, "x"),
            Err(TargetError::PolicyRejected(_))
        ));
    }

    #[test]
    fn an_unencrypted_or_unauthorised_change_is_explained() {
        let clear = result(
            53,
            "0000001F: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM)",
        );
        let Err(TargetError::Failed(m)) = ad_error(&clear, "set the password") else {
            panic!()
        };
        assert!(m.contains("encrypted"), "{m}");
        let denied = result(50, "00000005: SecErr: DSID-03152E29, problem 4003");
        let Err(TargetError::Failed(m)) = ad_error(&denied, "clear the lockout") else {
            panic!()
        };
        assert!(m.contains("Reset Password right"), "{m}");
        assert_eq!(win32_code("not a code"), None);
    }
}
