//! The local target against a real store, and the command target against
//! real programs (shell scripts written by the test).

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use touchtone_core::password::PasswordPolicy;
use touchtone_core::secret::SecretString;
use touchtone_store::local_directory;
use touchtone_targets::command::CommandTarget;
use touchtone_targets::local::LocalTarget;
use touchtone_targets::{ResetOptions, Target, TargetError, UnlockOutcome};
use touchtone_testkit::{TestDatabase, both_databases};

fn secret(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

both_databases! {
    async fn the_local_target_sets_checks_and_unlocks(db: Db) {
        let db = TestDatabase::new(db).await;
        let store = db.store().await;
        let mut conn = store.acquire().await.unwrap();
        local_directory::ensure(&mut conn, "jsmith", None, true).await.unwrap();
        drop(conn);
        let target = LocalTarget::new("local", PasswordPolicy::default(), store.clone());

        target.set_password("jsmith", &secret("Tr4nsit-Ok7"), ResetOptions::default()).await.unwrap_err();
        target.set_password("jsmith", &secret("Tr4nsitOk7"), ResetOptions { must_change: true }).await.unwrap();
        assert!(target.check_password("jsmith", &secret("Tr4nsitOk7")).await.unwrap());
        assert!(!target.check_password("jsmith", &secret("Tr4nsitOk8")).await.unwrap());
        let mut conn = store.acquire().await.unwrap();
        assert!(local_directory::get(&mut conn, "jsmith").await.unwrap().unwrap().must_change);
        drop(conn);

        assert_eq!(target.unlock("jsmith").await.unwrap(), UnlockOutcome::Unlocked);
        assert_eq!(target.unlock("jsmith").await.unwrap(), UnlockOutcome::WasNotLocked);
        assert_eq!(target.unlock("nobody").await.unwrap_err(), TargetError::NoSuchAccount);
        assert_eq!(
            target.set_password("nobody", &secret("Tr4nsitOk7"), ResetOptions::default()).await.unwrap_err(),
            TargetError::NoSuchAccount
        );
    }
}

fn script(dir: &tempfile::TempDir, name: &str, body: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn command_target(program: PathBuf, timeout: Duration) -> CommandTarget {
    CommandTarget::new("hr", PasswordPolicy::default(), program, vec![], timeout)
}

#[tokio::test]
async fn the_command_target_passes_json_on_stdin_and_reads_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("seen.json");
    let program = script(
        &dir,
        "ok.sh",
        &format!("cat > {}\necho '{{\"ok\":true}}'", seen.display()),
    );
    let target = command_target(program, Duration::from_secs(5));
    target
        .set_password("jsmith", &secret("Tr4nsitOk7"), ResetOptions::default())
        .await
        .unwrap();
    let request: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&seen).unwrap()).unwrap();
    assert_eq!(request["operation"], "set_password");
    assert_eq!(request["account"], "jsmith");
    assert_eq!(request["password"], "Tr4nsitOk7");
    assert_eq!(
        target.unlock("jsmith").await.unwrap(),
        UnlockOutcome::Unlocked
    );
}

#[tokio::test]
async fn the_command_targets_refusals_are_mapped_to_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let policy = script(
        &dir,
        "p.sh",
        "cat >/dev/null; echo '{\"ok\":false,\"error\":\"policy_rejected\",\"message\":\"in history\"}'",
    );
    assert_eq!(
        command_target(policy, Duration::from_secs(5))
            .set_password("a", &secret("Tr4nsitOk7"), ResetOptions::default())
            .await,
        Err(TargetError::PolicyRejected("in history".into()))
    );
    let missing = script(
        &dir,
        "m.sh",
        "cat >/dev/null; echo '{\"ok\":false,\"error\":\"no_such_account\"}'",
    );
    assert_eq!(
        command_target(missing, Duration::from_secs(5))
            .unlock("a")
            .await,
        Err(TargetError::NoSuchAccount)
    );
    let not_locked = script(
        &dir,
        "n.sh",
        "cat >/dev/null; echo '{\"ok\":true,\"outcome\":\"not_locked\"}'",
    );
    assert_eq!(
        command_target(not_locked, Duration::from_secs(5))
            .unlock("a")
            .await,
        Ok(UnlockOutcome::WasNotLocked)
    );
}

#[tokio::test]
async fn a_slow_crashing_or_garbled_program_is_a_failure_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let slow = script(&dir, "slow.sh", "sleep 30");
    let started = std::time::Instant::now();
    assert_eq!(
        command_target(slow, Duration::from_millis(300))
            .unlock("a")
            .await,
        Err(TargetError::Timeout)
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    let crash = script(&dir, "crash.sh", "exit 3");
    let err = command_target(crash, Duration::from_secs(5))
        .unlock("a")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TargetError::Failed(m) if m.contains("exit status: 3")),
        "{err:?}"
    );

    let garbled = script(&dir, "garbled.sh", "cat >/dev/null; echo 'not json'");
    assert!(matches!(
        command_target(garbled, Duration::from_secs(5))
            .unlock("a")
            .await,
        Err(TargetError::Failed(_))
    ));

    let absent = command_target(dir.path().join("absent"), Duration::from_secs(5));
    assert!(matches!(
        absent.unlock("a").await,
        Err(TargetError::Unavailable(_))
    ));
}

#[tokio::test]
async fn the_password_never_appears_in_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let echo_back = script(&dir, "echo.sh", "cat; exit 1");
    let err = command_target(echo_back, Duration::from_secs(5))
        .set_password("a", &secret("Tr4nsitOk7"), ResetOptions::default())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("Tr4nsitOk7"), "{err}");
}
