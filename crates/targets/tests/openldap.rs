//! The LDAP target against a real OpenLDAP `slapd` with the ppolicy
//! overlay and TLS, started by the test (Debian packages `slapd` and
//! `ldap-utils`; `.ci/run` installs them).

use std::time::{Duration, Instant};

use touchtone_core::password::PasswordPolicy;
use touchtone_core::secret::SecretString;
use touchtone_targets::ldap::{
    AttributeMap, ConnectionSettings, Directory, Flavour, ImportSpec, LdapTarget, PasswordMethod,
    UserLookup,
};
use touchtone_targets::{ResetOptions, Target, TargetError, UnlockOutcome};
use touchtone_testkit::slapd::{self, PEOPLE_DN, SERVICE_DN, SERVICE_PASSWORD, Slapd, person_ldif};

fn people() -> String {
    person_ldif("jsmith", "John Smith", "Finance", "1001", "Old-Passw0rd")
        + &person_ldif("ksmith", "Kate Smith", "Sales", "1002", "Old-Passw0rd")
        + &person_ldif("mjones", "Mary Jones", "IT", "1003", "Old-Passw0rd")
}

fn settings(server: &Slapd, url: String, starttls: bool) -> ConnectionSettings {
    ConnectionSettings {
        url,
        starttls,
        ca_file: Some(server.ca_file.clone()),
        bind_dn: SERVICE_DN.into(),
        bind_password: SecretString::from(SERVICE_PASSWORD),
        connect_timeout: Duration::from_secs(5),
        operation_timeout: Duration::from_secs(5),
        pool_size: 4,
    }
}

fn lookup() -> UserLookup {
    UserLookup {
        base_dn: PEOPLE_DN.into(),
        filter: "(&(objectClass=inetOrgPerson)(uid={account}))".into(),
    }
}

fn target(server: &Slapd, method: PasswordMethod) -> LdapTarget {
    LdapTarget::new(
        "corp-ldap",
        Flavour::Rfc(method),
        PasswordPolicy::default(),
        settings(server, server.url(), true),
        lookup(),
    )
    .expect("a valid target")
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

#[tokio::test]
async fn reset_over_starttls_changes_the_password_the_server_checks() {
    let server = Slapd::start(&people());
    let target = target(&server, PasswordMethod::Exop);
    let dn = Slapd::user_dn("jsmith");
    assert!(server.bind_ok(&dn, "Old-Passw0rd"));

    target
        .set_password("jsmith", &secret("Kilo7-alpha-9"), ResetOptions::default())
        .await
        .expect("the reset");
    assert!(
        server.bind_ok(&dn, "Kilo7-alpha-9"),
        "the new password binds"
    );
    assert!(
        !server.bind_ok(&dn, "Old-Passw0rd"),
        "the old one no longer does"
    );
    // The server hashed it itself.
    let stored = server.attribute(&dn, "userPassword");
    assert!(stored.iter().all(|v| !v.contains("Kilo7")), "{stored:?}");
    assert!(server.attribute(&dn, "pwdReset").is_empty());

    // Must-change sets ppolicy's pwdReset.
    target
        .set_password(
            "jsmith",
            &secret("Lima8-bravo-2"),
            ResetOptions { must_change: true },
        )
        .await
        .expect("the reset");
    assert_eq!(server.attribute(&dn, "pwdReset"), vec!["TRUE"]);
    assert!(server.bind_ok(&dn, "Lima8-bravo-2"));
}

#[tokio::test]
async fn the_servers_policy_refusals_come_back_per_account_and_change_nothing() {
    let server = Slapd::start(&people());
    let target = target(&server, PasswordMethod::Exop);
    let dn = Slapd::user_dn("ksmith");

    let short = target
        .set_password("ksmith", &secret("Ab3-x"), ResetOptions::default())
        .await;
    match short {
        Err(TargetError::PolicyRejected(reason)) => {
            assert!(reason.contains("quality"), "{reason}")
        }
        other => panic!("a short password must be refused: {other:?}"),
    }
    assert!(server.bind_ok(&dn, "Old-Passw0rd"), "nothing changed");

    target
        .set_password(
            "ksmith",
            &secret("Mike4-charlie-6"),
            ResetOptions::default(),
        )
        .await
        .expect("the first reset");
    let again = target
        .set_password("ksmith", &secret("Old-Passw0rd"), ResetOptions::default())
        .await;
    match again {
        Err(TargetError::PolicyRejected(reason)) => {
            assert!(reason.contains("history"), "{reason}")
        }
        other => panic!("a password in history must be refused: {other:?}"),
    }
    assert!(server.bind_ok(&dn, "Mike4-charlie-6"));
}

#[tokio::test]
async fn an_account_locked_by_bad_binds_is_unlocked_and_can_bind_again() {
    let server = Slapd::start(&people());
    let target = target(&server, PasswordMethod::Exop);
    let dn = Slapd::user_dn("mjones");

    assert_eq!(
        target.unlock("mjones").await.expect("unlock"),
        UnlockOutcome::WasNotLocked
    );
    for _ in 0..3 {
        assert!(!server.bind_ok(&dn, "wrong-password"));
    }
    assert_eq!(server.attribute(&dn, "pwdAccountLockedTime").len(), 1);
    assert!(!server.bind_ok(&dn, "Old-Passw0rd"), "locked out");

    assert_eq!(
        target.unlock("mjones").await.expect("unlock"),
        UnlockOutcome::Unlocked
    );
    assert!(server.attribute(&dn, "pwdAccountLockedTime").is_empty());
    assert!(
        server.attribute(&dn, "pwdFailureTime").is_empty(),
        "pending failures are cleared too"
    );
    // One more mistake does not lock it again at once.
    assert!(!server.bind_ok(&dn, "wrong-password"));
    assert!(server.bind_ok(&dn, "Old-Passw0rd"));
}

#[tokio::test]
async fn unknown_accounts_and_filter_injection_find_nothing() {
    let server = Slapd::start(&people());
    let target = target(&server, PasswordMethod::Exop);
    for account in ["nobody", "*", "jsmith)(uid=*", "", "x\u{0}y"] {
        let result = target
            .set_password(account, &secret("Kilo7-alpha-9"), ResetOptions::default())
            .await;
        assert_eq!(result, Err(TargetError::NoSuchAccount), "{account:?}");
        assert_eq!(
            target.unlock(account).await,
            Err(TargetError::NoSuchAccount),
            "{account:?}"
        );
    }
    assert!(server.bind_ok(&Slapd::user_dn("jsmith"), "Old-Passw0rd"));
}

#[tokio::test]
async fn ldaps_verifies_the_servers_certificate_against_the_ca_file() {
    let server = Slapd::start(&people());
    let good = LdapTarget::new(
        "corp-ldap",
        Flavour::Rfc(PasswordMethod::Exop),
        PasswordPolicy::default(),
        settings(&server, server.ldaps_url(), false),
        lookup(),
    )
    .expect("a valid target");
    good.set_password("jsmith", &secret("November5-x"), ResetOptions::default())
        .await
        .expect("a reset over LDAPS");

    // Another CA's file: the connection is refused before any bind.
    let other = tempfile::tempdir().unwrap();
    let other_ca = touchtone_testkit::TestCa::new(other.path());
    let mut wrong = settings(&server, server.ldaps_url(), false);
    wrong.ca_file = Some(other_ca.ca_file.clone());
    let wrong = LdapTarget::new(
        "corp-ldap",
        Flavour::Rfc(PasswordMethod::Exop),
        PasswordPolicy::default(),
        wrong,
        lookup(),
    )
    .unwrap();
    match wrong.unlock("jsmith").await {
        Err(TargetError::Unavailable(m)) => assert!(!m.contains(SERVICE_PASSWORD), "{m}"),
        other => panic!("an unverified server must be refused: {other:?}"),
    }

    // A wrong service password is a clear error without the password.
    let mut bad_bind = settings(&server, server.url(), true);
    bad_bind.bind_password = secret("not-the-password");
    let bad_bind = LdapTarget::new(
        "corp-ldap",
        Flavour::Rfc(PasswordMethod::Exop),
        PasswordPolicy::default(),
        bad_bind,
        lookup(),
    )
    .unwrap();
    match bad_bind.unlock("jsmith").await {
        Err(TargetError::Unavailable(m)) => {
            assert!(m.contains("service account"), "{m}");
            assert!(!m.contains("not-the-password"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_pool_reconnects_after_the_server_restarts() {
    let mut server = Slapd::start(&people());
    let target = target(&server, PasswordMethod::Exop);
    target.unlock("jsmith").await.expect("first call");

    server.stop();
    let down = target.unlock("jsmith").await;
    assert!(
        matches!(down, Err(TargetError::Unavailable(_))),
        "while down: {down:?}"
    );
    server.restart();
    assert_eq!(
        target.unlock("jsmith").await.expect("after the restart"),
        UnlockOutcome::WasNotLocked
    );
    target
        .set_password("jsmith", &secret("Oscar6-delta-1"), ResetOptions::default())
        .await
        .expect("a reset after the restart");
    assert!(server.bind_ok(&Slapd::user_dn("jsmith"), "Oscar6-delta-1"));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // Accepts TCP connections and says nothing.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let ca = touchtone_testkit::TestCa::new(dir.path());
    let target = LdapTarget::new(
        "slow",
        Flavour::Rfc(PasswordMethod::Exop),
        PasswordPolicy::default(),
        ConnectionSettings {
            url: format!("ldap://127.0.0.1:{port}"),
            starttls: true,
            ca_file: Some(ca.ca_file.clone()),
            bind_dn: SERVICE_DN.into(),
            bind_password: secret(SERVICE_PASSWORD),
            connect_timeout: Duration::from_millis(500),
            operation_timeout: Duration::from_millis(500),
            pool_size: 1,
        },
        lookup(),
    )
    .unwrap();
    let started = Instant::now();
    let result = target.unlock("jsmith").await;
    assert_eq!(result, Err(TargetError::Timeout));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    drop(silent);
}

#[tokio::test]
async fn the_userpassword_replace_fallback_is_hashed_by_the_server() {
    let server = Slapd::start(&people());
    let target = target(&server, PasswordMethod::Replace);
    let dn = Slapd::user_dn("jsmith");
    target
        .set_password("jsmith", &secret("Papa3-echo-8"), ResetOptions::default())
        .await
        .expect("a replace");
    assert!(server.bind_ok(&dn, "Papa3-echo-8"));
    let stored = server.attribute(&dn, "userPassword");
    assert!(stored.iter().all(|v| !v.contains("Papa3")), "{stored:?}");
    let short = target
        .set_password("jsmith", &secret("Ab3-x"), ResetOptions::default())
        .await;
    assert!(
        matches!(short, Err(TargetError::PolicyRejected(_))),
        "{short:?}"
    );
}

#[tokio::test]
async fn bad_settings_are_refused_before_any_connection() {
    let server = Slapd::start("");
    let make = |settings: ConnectionSettings, flavour, users: UserLookup| {
        LdapTarget::new("x", flavour, PasswordPolicy::default(), settings, users).err()
    };
    let rfc = Flavour::Rfc(PasswordMethod::Exop);
    let mut http = settings(&server, "http://x".into(), false);
    assert!(
        make(http.clone(), rfc, lookup())
            .unwrap()
            .contains("ldap://")
    );
    http.url = server.url();
    http.starttls = false;
    let ad = make(http.clone(), Flavour::ActiveDirectory, lookup()).unwrap();
    assert!(ad.contains("encrypted"), "{ad}");
    let no_placeholder = UserLookup {
        base_dn: PEOPLE_DN.into(),
        filter: "(uid=jsmith)".into(),
    };
    assert!(
        make(http.clone(), rfc, no_placeholder)
            .unwrap()
            .contains("{account}")
    );
    let bad_filter = UserLookup {
        base_dn: PEOPLE_DN.into(),
        filter: "(uid={account}".into(),
    };
    assert!(make(http.clone(), rfc, bad_filter).is_some());
    http.ca_file = Some("/nonexistent/ca.pem".into());
    assert!(make(http, rfc, lookup()).unwrap().contains("ca_file"));
}

#[tokio::test]
async fn people_are_read_with_the_attribute_mapping_across_pages() {
    let mut ldif = people();
    for i in 0..1200 {
        ldif += &person_ldif(
            &format!("user{i:04}"),
            &format!("User {i}"),
            "Bulk",
            &format!("{}", 5000 + i),
            "Old-Passw0rd",
        );
    }
    let server = Slapd::start(&ldif);
    let target = target(&server, PasswordMethod::Exop);
    let spec = ImportSpec {
        base_dn: PEOPLE_DN.into(),
        filter: "(objectClass=inetOrgPerson)".into(),
        attributes: AttributeMap {
            login: "uid".into(),
            display_name: "cn".into(),
            department: Some("departmentNumber".into()),
            employee_number: Some("employeeNumber".into()),
            mail: Some("mail".into()),
            phone_numbers: vec!["telephoneNumber".into(), "mobile".into()],
            groups: None,
            privileged: None,
        },
        max_entries: 10_000,
    };
    let entries = target.entries(&spec).await.expect("the search");
    assert_eq!(entries.len(), 1203, "every page read");
    let john = entries.iter().find(|e| e.login == "jsmith").unwrap();
    assert_eq!(john.display_name, "John Smith");
    assert_eq!(john.department, "Finance");
    assert_eq!(john.employee_number.as_deref(), Some("1001"));
    assert_eq!(john.mail.as_deref(), Some("jsmith@example.test"));
    assert_eq!(john.phone_numbers, vec!["+1 555 011001".to_owned()]);
    assert!(!john.disabled);

    let limited = ImportSpec {
        max_entries: 100,
        ..spec.clone()
    };
    match target.entries(&limited).await {
        Err(TargetError::Failed(m)) => assert!(m.contains("max_entries"), "{m}"),
        other => panic!("a search over the limit must fail, not truncate: {other:?}"),
    }
    let _ = slapd::BASE_DN;
}

#[tokio::test]
async fn a_persons_own_password_is_checked_by_a_bind_as_them() {
    let server = Slapd::start(&people());
    let target = target(&server, PasswordMethod::Exop);
    assert!(
        target
            .check_password("jsmith", &secret("Old-Passw0rd"))
            .await
            .unwrap()
    );
    assert!(
        !target
            .check_password("jsmith", &secret("wrong-password"))
            .await
            .unwrap()
    );
    // An empty password would be an anonymous bind, which the server
    // accepts: it must never count as the person's.
    assert!(!target.check_password("jsmith", &secret("")).await.unwrap());
    assert_eq!(
        target
            .check_password("nobody", &secret("Old-Passw0rd"))
            .await,
        Err(TargetError::NoSuchAccount)
    );
    // The service account's pooled connections are unaffected: a reset
    // still works after the binds as the person.
    target
        .set_password("jsmith", &secret("Kilo7-alpha-9"), ResetOptions::default())
        .await
        .unwrap();
    assert!(
        target
            .check_password("jsmith", &secret("Kilo7-alpha-9"))
            .await
            .unwrap()
    );
    // Wrong binds count toward the server's own lockout (ppolicy: three).
    for _ in 0..3 {
        assert!(
            !target
                .check_password("mjones", &secret("guess-1234"))
                .await
                .unwrap()
        );
    }
    assert!(
        !target
            .check_password("mjones", &secret("Old-Passw0rd"))
            .await
            .unwrap(),
        "a locked account's right password still binds"
    );
}
