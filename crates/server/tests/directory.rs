//! Directory targets and imports through the whole server: a real `slapd`
//! (started by the test; Debian packages `slapd` and `ldap-utils`) holds
//! the people's directory accounts, `[[directory_imports]]` brings them in
//! and re-syncs, and the remote API resets and unlocks on the directory
//! and the local target at once.

mod common;

use std::time::Duration;

use common::{TestApp, answers_of};
use serde_json::{Value, json};
use touchtone_server::config::{
    Config, DirectoryImportConfig, DirectoryTargetConfig, TargetConfig,
};
use touchtone_service::directory_sync::SyncMode;
use touchtone_testkit::slapd::{self, PEOPLE_DN, Slapd, person_ldif};
use touchtone_testkit::{TestDatabase, both_databases};

fn directory_people() -> String {
    person_ldif("jsmith", "John Smith", "Finance", "1001", "Old-Passw0rd")
        + &person_ldif("ksmith", "Kate Smith", "Sales", "1002", "Old-Passw0rd")
        + &person_ldif("mjones", "Mary Jones", "IT", "1003", "Old-Passw0rd")
}

fn with_directory(server: &Slapd) -> impl FnOnce(&mut Config) + '_ {
    move |config: &mut Config| {
        let toml = format!(
            r#"
name = "corp-ldap"
url = "{url}"
starttls = true
ca_file = "{ca}"
bind_dn = "{dn}"
bind_password = "{pw}"
user_base_dn = "{PEOPLE_DN}"
connect_timeout_secs = 2
operation_timeout_secs = 2
"#,
            url = server.url(),
            ca = server.ca_file.display(),
            dn = slapd::SERVICE_DN,
            pw = slapd::SERVICE_PASSWORD,
        );
        let target: DirectoryTargetConfig = toml::from_str(&toml).expect("a target config");
        config.targets.push(TargetConfig::Ldap(target));
        let import: DirectoryImportConfig = toml::from_str(&format!(
            "name = \"corp\"\ntarget = \"corp-ldap\"\nbase_dn = \"{PEOPLE_DN}\"\nfilter = \"(objectClass=inetOrgPerson)\"\nmax_disable_percent = 50\n"
        ))
        .expect("an import config");
        config.directory_imports.push(import);
        config.validate().expect("the config is valid");
    }
}

fn session(body: &Value) -> String {
    body["session"].as_str().expect("a session").to_owned()
}

async fn new_password_for(app: &TestApp, user: &str) -> (String, String) {
    let s = app.verified_session(user).await;
    let (st, body) = app
        .call("PasswordRandomGet", json!({"session": s, "user_id": user}))
        .await;
    assert_eq!(st, 200, "{body}");
    (
        session(&body),
        body["password"].as_str().unwrap().to_owned(),
    )
}

both_databases! {
    async fn import_then_reset_and_unlock_on_the_directory_and_the_local_target(db: Db) {
        let db = TestDatabase::new(db).await;
        let mut server = Slapd::start(&directory_people());
        let app = TestApp::spawn_with(&db, with_directory(&server)).await;

        // A dry run reports and changes nothing.
        let before = app.business_snapshot().await;
        let dry = app.service.sync_directory("test", "corp", SyncMode::DryRun).await.unwrap();
        assert!(dry.dry_run);
        assert_eq!(dry.added, vec!["mjones".to_owned()]);
        let updated: Vec<&str> = dry.updated.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(updated, ["jsmith", "ksmith"]);
        assert_eq!(app.business_snapshot().await, before, "a dry run changes nothing");

        let applied = app.service.sync_directory("test", "corp", SyncMode::Apply).await.unwrap();
        assert_eq!((applied.added.clone(), applied.updated.clone()), (dry.added.clone(), dry.updated.clone()));
        let again = app.service.sync_directory("test", "corp", SyncMode::Apply).await.unwrap();
        assert_eq!((again.changes(), again.unchanged), (0, 3), "a re-sync of an unchanged directory writes nothing");

        // jsmith kept the seeded local account and enrolled answers, and
        // gained the directory account.
        let report = app.service.person_report("jsmith").await.unwrap();
        let accounts: Vec<String> = report.accounts.iter().map(|(a, _)| format!("{}:{}", a.target, a.account)).collect();
        assert_eq!(accounts, ["corp-ldap:jsmith", "local:jsmith"]);
        assert_eq!(report.person.department, "Finance");
        assert_eq!(report.enrolled.len(), answers_of("jsmith").len());

        // One password, both targets.
        let (s, password) = new_password_for(&app, "jsmith").await;
        let (st, body) = app.call("UserPasswordSync", json!({"session": s, "user_id": "jsmith", "password": password})).await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["results"], json!([
            {"account": "jsmith", "target": "corp-ldap", "ok": true},
            {"account": "jsmith", "target": "local", "ok": true},
        ]));
        let dn = Slapd::user_dn("jsmith");
        assert!(server.bind_ok(&dn, &password), "the directory has the new password");
        assert!(!server.bind_ok(&dn, "Old-Passw0rd"));

        // The directory down: its account fails with a clear code, the
        // local one is still reset, and both events fire.
        server.stop();
        let (s, second) = new_password_for(&app, "jsmith").await;
        let (st, body) = app.call("UserPasswordSync", json!({"session": s, "user_id": "jsmith", "password": second})).await;
        assert_eq!(st, 200, "{body}");
        let results = body["results"].as_array().unwrap();
        assert_eq!(results[0]["target"], "corp-ldap");
        assert_eq!(results[0]["ok"], false);
        assert!(matches!(results[0]["error"].as_str(), Some("unavailable" | "timeout")), "{body}");
        assert_eq!(results[1], json!({"account": "jsmith", "target": "local", "ok": true}));
        let failure = app.wait_for_event("ET_ADMIN_RESET_FAILURE", "jsmith").await;
        assert!(!failure.to_string().contains(&second), "no password in events");
        server.restart();
        assert!(server.bind_ok(&dn, &password), "the directory kept the first password");

        // Locked by bad binds on the directory; unlocked through the API.
        for _ in 0..3 {
            assert!(!server.bind_ok(&dn, "wrong-password"));
        }
        assert!(!server.bind_ok(&dn, &password), "locked");
        let s = app.verified_session("jsmith").await;
        let (st, body) = app.call("UserAccountsUnlock", json!({"session": s, "user_id": "jsmith", "accounts": [{"target": "corp-ldap", "account": "jsmith"}]})).await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["results"], json!([{"account": "jsmith", "target": "corp-ldap", "ok": true, "was_locked": true}]));
        assert!(server.bind_ok(&dn, &password), "unlocked");
        app.wait_for_event("ET_ADMIN_UNLOCK_SUCCESS", "jsmith").await;
    }

    async fn a_resync_adds_updates_and_disables_and_guards_against_mass_disabling(db: Db) {
        let db = TestDatabase::new(db).await;
        let server = Slapd::start(&directory_people());
        let app = TestApp::spawn_with(&db, with_directory(&server)).await;
        app.service.sync_directory("test", "corp", SyncMode::Apply).await.unwrap();

        let lsmith_attributes: Vec<String> = person_ldif("lsmith", "Liam Smith", "IT", "1004", "Old-Passw0rd")
            .lines()
            .skip(1)
            .map(str::to_owned)
            .collect();
        server.modify(&format!(
            "dn: {ksmith}\nchangetype: modify\nreplace: cn\ncn: Katherine Smith\n-\nreplace: telephoneNumber\ntelephoneNumber: +1 555 0199\n\n\
             dn: {mjones}\nchangetype: delete\n\ndn: {lsmith}\nchangetype: add\n{attributes}",
            ksmith = Slapd::user_dn("ksmith"),
            mjones = Slapd::user_dn("mjones"),
            lsmith = Slapd::user_dn("lsmith"),
            attributes = lsmith_attributes.join("\n"),
        ));
        let report = app.service.sync_directory("test", "corp", SyncMode::Apply).await.unwrap();
        assert_eq!(report.added, ["lsmith"]);
        assert_eq!(report.updated, [("ksmith".to_owned(), vec!["display_name".to_owned(), "phone_numbers".to_owned()])]);
        assert_eq!(report.disabled, ["mjones"]);

        // ksmith's answers survived the update; mjones can no longer be
        // found on the keypad or reset.
        let s = app.verified_session("ksmith").await;
        let mjones_digits = touchtone_core::keypad::keypad_id("mjones").unwrap().to_string();
        let lsmith_digits = touchtone_core::keypad::keypad_id("lsmith").unwrap().to_string();
        let (_, body) = app.call("UserIVRList", json!({"session": s, "ivr_id": mjones_digits})).await;
        assert_eq!(body["users"], json!([]), "mjones is disabled: {body}");
        let (_, body) = app.call("UserIVRList", json!({"session": session(&body), "ivr_id": lsmith_digits})).await;
        let found: Vec<&str> = body["users"].as_array().unwrap().iter().map(|u| u["user_id"].as_str().unwrap()).collect();
        assert!(found.contains(&"lsmith"), "the added person is found: {body}");
        let mjones = app.service.person_report("mjones").await.unwrap();
        assert!(mjones.person.disabled);
        assert!(mjones.accounts.is_empty(), "the gone directory account is removed");

        // Emptying the directory would disable everyone: refused, nothing
        // changed, until forced.
        for uid in ["jsmith", "ksmith", "lsmith"] {
            server.modify(&format!("dn: {}\nchangetype: delete\n", Slapd::user_dn(uid)));
        }
        let before = app.business_snapshot().await;
        let refused = app.service.sync_directory("test", "corp", SyncMode::Apply).await.unwrap_err();
        assert!(refused.to_string().contains("max_disable_percent"), "{refused}");
        assert_eq!(app.business_snapshot().await, before);
        let forced = app.service.sync_directory("test", "corp", SyncMode::Force).await.unwrap();
        assert_eq!(forced.disabled, ["jsmith", "ksmith", "lsmith"]);
        // jsmith still has a local account but is disabled as a person.
        assert!(app.service.person_report("jsmith").await.unwrap().person.disabled);

        // A directory that cannot be read changes nothing either.
        drop(server);
        let before = app.business_snapshot().await;
        let down = tokio::time::timeout(Duration::from_secs(20), app.service.sync_directory("test", "corp", SyncMode::Force)).await.unwrap();
        assert_eq!(down.unwrap_err().code().as_str(), "directory_unavailable");
        assert_eq!(app.business_snapshot().await, before);
    }
}

both_databases! {
    async fn people_sign_in_to_the_portal_with_their_directory_password(db: Db) {
        let db = TestDatabase::new(db).await;
        let mut server = Slapd::start(&directory_people());
        let app = TestApp::spawn_with(&db, with_directory(&server)).await;
        app.service.sync_directory("test", "corp", SyncMode::Apply).await.unwrap();
        let portal = touchtone_service::Caller { ip: "127.0.0.1".parse().unwrap(), door: touchtone_service::Door::Portal };
        let secret = |s: &str| touchtone_core::secret::SecretString::from(s.to_owned());
        // mjones has only the directory account; jsmith also a local one
        // without a password: the bind as them decides.
        for user in ["mjones", "jsmith"] {
            let signed_in = app.service.portal_sign_in(&portal, user, secret("Old-Passw0rd")).await
                .unwrap_or_else(|e| panic!("{user}: {e:?}"));
            assert_eq!(signed_in.session.person_id, user);
        }
        let wrong = app.service.portal_sign_in(&portal, "ksmith", secret("not-it-123")).await.unwrap_err();
        assert!(matches!(wrong, touchtone_service::portal::PortalError::SignInRefused), "{wrong:?}");
        // The directory's own lockout still applies to these binds.
        let dn = Slapd::user_dn("ksmith");
        for _ in 0..2 {
            app.service.portal_sign_in(&portal, "ksmith", secret("not-it-123")).await.unwrap_err();
        }
        assert!(!server.bind_ok(&dn, "Old-Passw0rd"), "three wrong binds locked ksmith on the directory");
        // The directory down: refused like a wrong password.
        server.stop();
        let down = app.service.portal_sign_in(&portal, "mjones", secret("Old-Passw0rd")).await.unwrap_err();
        assert!(matches!(down, touchtone_service::portal::PortalError::SignInRefused), "{down:?}");
    }
}
