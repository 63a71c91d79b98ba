//! A real `touchtone serve` process killed with SIGKILL during password
//! syncs. The next start resolves every step that was under way: on the
//! local target (whose change commits with its record) it changed nothing;
//! on any other the outcome is unknown, and said so. Checked against the
//! targets' real state: never a `succeeded` that did not happen, never a
//! `failed` that did.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::json;
use touchtone_core::secret::SecretString;
use touchtone_service::Service;
use touchtone_service::admin::PersonRecord;
use touchtone_service::people::{Account, Person};
use touchtone_store::Store;
use touchtone_testkit::{TestDatabase, both_databases};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill(); // SIGKILL
        let _ = self.0.wait();
    }
}

/// A data directory, a configuration with the local target and a command
/// target `zz-<name>` running `script`, and a database seeded with an
/// API user that needs no verification.
struct Site {
    dir: tempfile::TempDir,
    config_text: String,
    config_path: PathBuf,
    store: Store,
}

impl Site {
    async fn new(db: &TestDatabase, name: &str, script: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join(name);
        std::fs::write(&program, script).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let config_text = touchtone_server::config::EXAMPLE
            .replace("{data_dir}", &dir.path().display().to_string())
            .replace(
                &format!("sqlite://{}/touchtone.db", dir.path().display()),
                &db.url,
            )
            .replace("argon2_memory_kib = 19456", "argon2_memory_kib = 4096")
            + &format!(
                "\n[[targets]]\nkind = \"command\"\nname = \"zz-{name}\"\nprogram = \"{}\"\ntimeout_secs = 60\n",
                program.display()
            );
        let config_path = dir.path().join("touchtone.toml");
        std::fs::write(&config_path, &config_text).unwrap();
        let service = Site::service_at(&config_path).await;
        let secret = |s: &str| SecretString::from(s.to_owned());
        service
            .add_api_user(
                "test",
                HELPDESK_USER,
                secret(HELPDESK_PASSWORD),
                vec!["127.0.0.1/32".into()],
                true,
            )
            .await
            .unwrap();
        service.close().await;
        let store = Store::connect(&db.url, &Default::default()).await.unwrap();
        Site {
            dir,
            config_text,
            config_path,
            store,
        }
    }

    /// The service as an operator's CLI builds it from the configuration.
    async fn service_at(config_path: &Path) -> Service {
        let config = touchtone_server::config::Config::load(config_path).unwrap();
        touchtone_server::app::build_service(&config, touchtone_server::app::system_clock(), true)
            .await
            .unwrap()
    }

    async fn service(&self) -> Service {
        Site::service_at(&self.config_path).await
    }

    /// People `ids`, each with an account on the local target and on the
    /// command target.
    async fn import(&self, ids: &[String], command_target: &str) {
        let records: Vec<PersonRecord> = ids
            .iter()
            .map(|id| PersonRecord {
                person: Person {
                    id: id.clone(),
                    display_name: format!("Crash {id}"),
                    department: "QA".into(),
                    employee_number: None,
                    mail: None,
                    phone_numbers: vec![],
                    disabled: false,
                    groups: vec![],
                    privileged: false,
                },
                accounts: vec![
                    Account {
                        target: "local".into(),
                        account: id.clone(),
                    },
                    Account {
                        target: command_target.into(),
                        account: id.clone(),
                    },
                ],
            })
            .collect();
        let service = self.service().await;
        service.import_people("test", &records).await.unwrap();
        service.close().await;
    }

    /// Starts `touchtone serve` on a reserved port and waits until it
    /// answers (so until it has resolved what a previous process left). A
    /// port taken all the same makes the server exit: then another is
    /// tried.
    async fn serve(&self) -> (Server, String, reqwest::Client) {
        touchtone_server::tls::install_crypto_provider();
        for _ in 0..20 {
            let port = touchtone_testkit::ports::port();
            let text = self
                .config_text
                .replace("127.0.0.1:8443", &format!("127.0.0.1:{port}"));
            std::fs::write(&self.config_path, &text).unwrap();
            let mut server = Server(
                Command::new(env!("CARGO_BIN_EXE_touchtone"))
                    .args(["--config", self.config_path.to_str().unwrap(), "serve"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start touchtone serve"),
            );
            let cert_path = self.dir.path().join("tls/cert.pem");
            for _ in 0..600 {
                if server.0.try_wait().unwrap().is_some() {
                    break; // the port was taken: try another
                }
                if let Ok(cert) = std::fs::read(&cert_path) {
                    let client = reqwest::Client::builder()
                        .use_rustls_tls()
                        .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
                        .timeout(Duration::from_secs(60))
                        .build()
                        .unwrap();
                    if client
                        .get(format!("https://localhost:{port}/healthz"))
                        .send()
                        .await
                        .is_ok()
                    {
                        return (server, format!("https://localhost:{port}/api/v1"), client);
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        panic!("touchtone serve did not come up");
    }

    /// `(target, account, state, error)` of every step, ordered.
    async fn steps(&self) -> Vec<(String, String, String, Option<String>)> {
        let mut conn = self.store.acquire().await.unwrap();
        sqlx::query_as(
            "SELECT target, account, state, error FROM operation_steps ORDER BY account, target",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap()
    }

    /// The lines of `events.jsonl`, once the delivery worker has written
    /// `wanted` of those for which `pick` holds.
    async fn events(
        &self,
        wanted: usize,
        pick: impl Fn(&serde_json::Value) -> bool,
    ) -> Vec<serde_json::Value> {
        let path = self.dir.path().join("events.jsonl");
        let mut picked = Vec::new();
        for _ in 0..200 {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            picked = text
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .filter(|e| pick(e))
                .collect();
            if picked.len() >= wanted {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        picked
    }
}

async fn login(client: &reqwest::Client, base: &str) -> serde_json::Value {
    let login: serde_json::Value = client
        .post(format!("{base}/Login"))
        .json(&json!({"user": HELPDESK_USER, "password": HELPDESK_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["session"].clone()
}

both_databases! {
    async fn a_crash_half_way_through_a_sync_leaves_an_exact_record(db: Db) {
        let db = new_db(db).await;
        // A target that hangs long enough to be killed in the middle.
        let site = Site::new(&db, "slow", "#!/bin/sh\ncat >/dev/null\nsleep 30\necho '{\"ok\":true}'\n").await;
        site.import(&["crash".to_owned()], "zz-slow").await;
        let (server, base, client) = site.serve().await;
        let session = login(&client, &base).await;
        let sync = client.post(format!("{base}/UserPasswordSync"))
            .json(&json!({"session": session, "user_id": "crash", "password": "Hnr4tAe7mf"})).send();
        let sync = tokio::spawn(sync);

        // Wait until the local step is done and the slow one is under way.
        let mut steps = Vec::new();
        for _ in 0..100 {
            steps = site.steps().await;
            if steps.iter().any(|(t, _, s, _)| t == "local" && s == "succeeded") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let states: Vec<(&str, &str)> = steps.iter().map(|(t, _, s, _)| (t.as_str(), s.as_str())).collect();
        assert_eq!(states, vec![("local", "succeeded"), ("zz-slow", "attempting")]);
        drop(server); // SIGKILL
        assert!(sync.await.unwrap().is_err(), "the client saw the connection drop");

        // The next start says the slow step's outcome is unknown.
        let (_server, _, _) = site.serve().await;
        let recovered = site.steps().await;
        assert_eq!(recovered[0], ("local".to_owned(), "crash".to_owned(), "succeeded".to_owned(), None));
        assert_eq!(recovered[1], ("zz-slow".to_owned(), "crash".to_owned(), "interrupted".to_owned(), Some("outcome_unknown".to_owned())));
        let failures = site.events(1, |e| e["type"] == "ET_ADMIN_RESET_FAILURE").await;
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert_eq!((failures[0]["detail"]["target"].as_str(), failures[0]["detail"]["outcome"].as_str()),
            (Some("zz-slow"), Some("unknown")));
    }

    async fn every_step_a_crash_cut_short_is_recorded_as_it_really_ended(db: Db) {
        let db = new_db(db).await;
        // A remote system that takes a while on each side of making the
        // change: it writes the request (with the new password) to a file
        // named after the account, then answers.
        let changed = tempfile::tempdir().unwrap();
        let script = format!(
            "#!/bin/sh\nreq=$(cat)\naccount=$(printf '%s' \"$req\" | sed 's/.*\"account\":\"\\([^\"]*\\)\".*/\\1/')\n\
             sleep 0.$(shuf -i 1-3 -n 1)\nprintf '%s' \"$req\" > {dir}/$account.tmp && mv {dir}/$account.tmp {dir}/$account\n\
             sleep 0.$(shuf -i 1-3 -n 1)\necho '{{\"ok\":true}}'\n",
            dir = changed.path().display()
        );
        let site = Site::new(&db, "remote", &script).await;
        let password = |id: &str| format!("Kx7mPq2w{}", id.replace('-', ""));
        let mut tally = std::collections::BTreeMap::<(String, String), usize>::new();
        // Killed at several moments: while argon2 hashes, while the local
        // changes commit, while the remote system works.
        for (round, kill_after_ms) in [60u64, 250, 500, 900].into_iter().enumerate() {
            let ids: Vec<String> = (0..20).map(|i| format!("r{round}-p{i:02}")).collect();
            site.import(&ids, "zz-remote").await;
            let (server, base, client) = site.serve().await;
            let mut sessions = Vec::new();
            for _ in &ids {
                sessions.push(login(&client, &base).await);
            }
            let mut syncs = Vec::new();
            for (id, session) in ids.iter().zip(sessions) {
                syncs.push(tokio::spawn(client.post(format!("{base}/UserPasswordSync"))
                    .json(&json!({"session": session, "user_id": id, "password": password(id)})).send()));
            }
            tokio::time::sleep(Duration::from_millis(kill_after_ms)).await;
            drop(server); // SIGKILL
            for sync in syncs {
                // Those answered before the kill succeeded.
                if let Ok(answer) = sync.await.unwrap() {
                    assert!(answer.status().is_success(), "{:?}", answer.text().await);
                }
            }
            let (server, _, _) = site.serve().await;
            drop(server);

            let service = site.service().await;
            let steps = site.steps().await;
            for id in &ids {
                let new = SecretString::from(password(id));
                let mine: Vec<_> = steps.iter().filter(|(_, a, _, _)| a == id).collect();
                for (target, _, state, error) in &mine {
                    *tally.entry((target.clone(), state.clone())).or_default() += 1;
                    if target == "local" {
                        let has_new = service.check_account_password("local", id, &new).await.unwrap();
                        match state.as_str() {
                            "succeeded" => assert!(has_new, "{id}: recorded succeeded, not changed"),
                            "failed" => {
                                assert_eq!(error.as_deref(), Some("interrupted"), "{id}");
                                assert!(!has_new, "{id}: recorded failed, but changed");
                            }
                            other => panic!("{id}: the local step ended {other}: its outcome is always known"),
                        }
                    } else {
                        let written = std::fs::read_to_string(changed.path().join(id)).unwrap_or_default();
                        match state.as_str() {
                            "succeeded" => assert!(written.contains(&password(id)), "{id}: recorded succeeded, not changed"),
                            "interrupted" => assert_eq!(error.as_deref(), Some("outcome_unknown"), "{id}"),
                            other => panic!("{id}: the remote step ended {other}"),
                        }
                    }
                }
                // A sync that got as far as recording its steps resolved
                // them all; one that did not changed nothing.
                if mine.is_empty() {
                    assert!(!service.check_account_password("local", id, &new).await.unwrap(), "{id}");
                }
            }
            service.close().await;
        }
        eprintln!("steps by target and state over the four crashes: {tally:?}");
        assert!(tally.keys().any(|(t, s)| t == "local" && s == "succeeded"), "{tally:?}");
        assert!(tally.keys().any(|(t, s)| t == "zz-remote" && s == "interrupted"), "{tally:?}");
    }
}
