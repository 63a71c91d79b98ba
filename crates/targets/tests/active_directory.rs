//! The Active Directory target against a real Samba AD domain controller,
//! provisioned by the test in a temporary directory (Debian package
//! `samba`; `.ci/run` installs it). One controller serves every check, as
//! provisioning takes seconds.

use std::time::Duration;

use touchtone_core::password::PasswordPolicy;
use touchtone_core::secret::SecretString;
use touchtone_targets::ldap::{
    AttributeMap, ConnectionSettings, Directory, Flavour, ImportSpec, LdapTarget, UserLookup,
};
use touchtone_targets::{ResetOptions, Target, TargetError, UnlockOutcome};
use touchtone_testkit::samba::{self, SambaDc};

fn settings(
    dc: &SambaDc,
    url: String,
    starttls: bool,
    bind_dn: String,
    pw: &str,
) -> ConnectionSettings {
    ConnectionSettings {
        url,
        starttls,
        ca_file: Some(dc.ca_file.clone()),
        bind_dn,
        bind_password: SecretString::from(pw),
        connect_timeout: Duration::from_secs(10),
        operation_timeout: Duration::from_secs(10),
        pool_size: 2,
    }
}

fn lookup() -> UserLookup {
    UserLookup {
        base_dn: samba::USERS_DN.into(),
        filter: "(&(objectCategory=person)(objectClass=user)(sAMAccountName={account}))".into(),
    }
}

fn ad_target(connection: ConnectionSettings) -> LdapTarget {
    LdapTarget::new(
        "corp-ad",
        Flavour::ActiveDirectory,
        PasswordPolicy::default(),
        connection,
        lookup(),
    )
    .expect("a valid target")
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_directory_reset_unlock_and_import_on_a_samba_dc() {
    let dc = SambaDc::start();
    dc.add_user("jdoe", "John Doe", "Finance", "Init1al-Pass!");
    dc.add_user("asmith", "Anna Smith", "Sales", "Init1al-Pass!");
    dc.add_user("gone", "Gone Person", "IT", "Init1al-Pass!");
    dc.add_user("plain", "Plain User", "IT", "Init1al-Pass!");
    dc.disable_user("gone");
    // asmith administers: in a group, and marked as AD marks protected
    // accounts.
    dc.modify(&format!(
        "dn: CN=Helpdesk Admins,{users}\nchangetype: add\nobjectClass: group\nsAMAccountName: helpdesk-admins\nmember: {asmith}\n",
        users = samba::USERS_DN,
        asmith = SambaDc::user_dn("asmith")
    ));
    dc.modify(&format!(
        "dn: {}\nchangetype: modify\nreplace: adminCount\nadminCount: 1\n",
        SambaDc::user_dn("asmith")
    ));
    let service = settings(
        &dc,
        dc.ldaps_url(),
        false,
        SambaDc::service_bind_dn(),
        samba::SERVICE_PASSWORD,
    );
    let target = ad_target(service.clone());

    // The portal's sign-in: a bind as the person, found by the service
    // account; a disabled account never signs in.
    assert!(
        target
            .check_password("plain", &secret("Init1al-Pass!"))
            .await
            .unwrap()
    );
    assert!(
        !target
            .check_password("plain", &secret("Wrong-Pass-1"))
            .await
            .unwrap()
    );
    assert!(!target.check_password("plain", &secret("")).await.unwrap());
    assert!(
        !target
            .check_password("gone", &secret("Init1al-Pass!"))
            .await
            .unwrap()
    );

    assert!(
        dc.bind_ok("jdoe", "Init1al-Pass!"),
        "the initial password binds"
    );
    // Reset over LDAPS by the delegated service account.
    target
        .set_password("jdoe", &secret("Kilo7-Alpha-9x"), ResetOptions::default())
        .await
        .expect("the reset");
    assert!(
        dc.bind_ok("jdoe", "Kilo7-Alpha-9x"),
        "the new password binds"
    );
    assert!(
        !dc.bind_ok("jdoe", "Init1al-Pass!"),
        "the old one no longer does"
    );

    // Must change at next logon: pwdLastSet 0, set in the same modify.
    target
        .set_password(
            "jdoe",
            &secret("Lima8-Bravo-2x"),
            ResetOptions { must_change: true },
        )
        .await
        .expect("the reset");
    assert_eq!(
        dc.attribute(&SambaDc::user_dn("jdoe"), "pwdLastSet"),
        vec!["0"]
    );

    // The domain's policy refuses a short, simple password: a clear
    // per-account reason, and the password is unchanged.
    match target
        .set_password("asmith", &secret("abc"), ResetOptions::default())
        .await
    {
        Err(TargetError::PolicyRejected(reason)) => {
            assert!(reason.contains("requirements"), "{reason}")
        }
        other => panic!("a weak password must be refused: {other:?}"),
    }
    assert!(dc.bind_ok("asmith", "Init1al-Pass!"));

    // Three bad passwords lock the account; unlock clears lockoutTime.
    assert_eq!(
        target.unlock("asmith").await.expect("unlock"),
        UnlockOutcome::WasNotLocked
    );
    for _ in 0..3 {
        assert!(!dc.bind_ok("asmith", "wrong-password"));
    }
    let locked = dc.attribute(&SambaDc::user_dn("asmith"), "lockoutTime");
    assert!(locked.iter().any(|v| v != "0"), "locked: {locked:?}");
    assert!(!dc.bind_ok("asmith", "Init1al-Pass!"), "locked out");
    assert_eq!(
        target.unlock("asmith").await.expect("unlock"),
        UnlockOutcome::Unlocked
    );
    assert!(dc.bind_ok("asmith", "Init1al-Pass!"), "unlocked");

    // A disabled account is reported, neither reset nor "unlocked".
    assert_eq!(
        target
            .set_password("gone", &secret("Mike4-Charlie-6x"), ResetOptions::default())
            .await,
        Err(TargetError::AccountDisabled)
    );
    assert_eq!(
        target.unlock("gone").await,
        Err(TargetError::AccountDisabled)
    );
    assert_eq!(
        target.unlock("nobody").await,
        Err(TargetError::NoSuchAccount)
    );

    // StartTLS on the plain port works the same.
    let starttls = ad_target(settings(
        &dc,
        dc.ldap_url(),
        true,
        SambaDc::service_bind_dn(),
        samba::SERVICE_PASSWORD,
    ));
    starttls
        .set_password("jdoe", &secret("November5-Xy-1"), ResetOptions::default())
        .await
        .expect("a reset over StartTLS");
    assert!(dc.bind_ok("jdoe", "November5-Xy-1"));

    // An account without the delegated rights gets a clear refusal.
    let unprivileged = ad_target(settings(
        &dc,
        dc.ldaps_url(),
        false,
        format!("plain@{}", samba::REALM),
        "Init1al-Pass!",
    ));
    match unprivileged
        .set_password("jdoe", &secret("Oscar6-Delta-1x"), ResetOptions::default())
        .await
    {
        Err(TargetError::Failed(reason)) => {
            assert!(reason.contains("Reset Password right"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(dc.bind_ok("jdoe", "November5-Xy-1"), "unchanged");

    // Import: sAMAccountName, displayName, department; disabled flagged.
    let spec = ImportSpec {
        base_dn: samba::USERS_DN.into(),
        filter: "(&(objectCategory=person)(objectClass=user)(department=*))".into(),
        attributes: AttributeMap {
            login: "sAMAccountName".into(),
            display_name: "displayName".into(),
            department: Some("department".into()),
            employee_number: Some("employeeID".into()),
            mail: Some("mail".into()),
            phone_numbers: vec!["telephoneNumber".into()],
            groups: Some("memberOf".into()),
            privileged: Some("adminCount".into()),
        },
        max_entries: 1000,
    };
    let mut entries = target.entries(&spec).await.expect("the import search");
    entries.sort_by(|a, b| a.login.cmp(&b.login));
    let logins: Vec<_> = entries
        .iter()
        .map(|e| (e.login.as_str(), e.disabled))
        .collect();
    assert_eq!(
        logins,
        vec![
            ("asmith", false),
            ("gone", true),
            ("jdoe", false),
            ("plain", false)
        ]
    );
    assert_eq!(entries[2].display_name, "John Doe");
    assert_eq!(entries[2].department, "Finance");
    // Groups from memberOf (the DNs, as AD names them) and adminCount.
    assert_eq!(
        (entries[0].groups.clone(), entries[0].privileged),
        (
            vec![format!("CN=Helpdesk Admins,{}", samba::USERS_DN)],
            true
        )
    );
    assert_eq!((entries[2].groups.len(), entries[2].privileged), (0, false));
}
