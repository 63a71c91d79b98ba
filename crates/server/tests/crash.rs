//! A real `touchtone serve` process killed with SIGKILL half-way through a
//! password sync: the next start reports the step that was under way as
//! interrupted, with a failure event, and keeps the step that finished.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::json;
use touchtone_server::config::TargetConfig;
use touchtone_service::admin::PersonRecord;
use touchtone_service::people::{Account, Person};
use touchtone_testkit::both_databases;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(config_path: &std::path::Path) -> Server {
    Server(
        Command::new(env!("CARGO_BIN_EXE_touchtone"))
            .args(["--config", config_path.to_str().unwrap(), "serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start touchtone serve"),
    )
}

both_databases! {
    async fn a_crash_half_way_through_a_sync_leaves_an_exact_record(db: Db) {
        let db = new_db(db).await;
        let dir = tempfile::tempdir().unwrap();
        // A target that hangs long enough to be killed in the middle.
        let slow = dir.path().join("slow-reset");
        std::fs::write(&slow, "#!/bin/sh\ncat >/dev/null\nsleep 30\necho '{\"ok\":true}'\n").unwrap();
        std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();

        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let text = touchtone_server::config::EXAMPLE
            .replace("{data_dir}", &dir.path().display().to_string())
            .replace("127.0.0.1:8443", &format!("127.0.0.1:{port}"))
            .replace(&format!("sqlite://{}/touchtone.db", dir.path().display()), &db.url)
            .replace("argon2_memory_kib = 19456", "argon2_memory_kib = 4096")
            + &format!("\n[[targets]]\nkind = \"command\"\nname = \"zz-slow\"\nprogram = \"{}\"\ntimeout_secs = 60\n", slow.display());
        let config_path = dir.path().join("touchtone.toml");
        std::fs::write(&config_path, &text).unwrap();
        let config = touchtone_server::config::Config::load(&config_path).unwrap();
        assert!(config.targets.iter().any(|t| matches!(t, TargetConfig::Command { .. })));

        // Seed through the library, as an operator's CLI would.
        let service = touchtone_server::app::build_service(&config, touchtone_server::app::system_clock(), true).await.unwrap();
        let secret = |s: &str| touchtone_core::secret::SecretString::from(s.to_owned());
        service.add_api_user("test", HELPDESK_USER, secret(HELPDESK_PASSWORD), vec!["127.0.0.1/32".into()], true).await.unwrap();
        let record = PersonRecord {
            person: Person {
                id: "crash".into(), display_name: "Crash Test".into(), department: "QA".into(), employee_number: None,
                mail: None, phone_numbers: vec![], disabled: false, groups: vec![], privileged: false,
            },
            accounts: vec![
                Account { target: "local".into(), account: "crash".into() },
                Account { target: "zz-slow".into(), account: "crash".into() },
            ],
        };
        service.import_people("test", &[record]).await.unwrap();
        service.close().await;

        let server = start_server(&config_path);
        let cert_path = dir.path().join("tls/cert.pem");
        touchtone_server::tls::install_crypto_provider();
        let mut client = None;
        for _ in 0..100 {
            if let Ok(cert) = std::fs::read(&cert_path) {
                let c = reqwest::Client::builder().use_rustls_tls()
                    .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
                    .timeout(Duration::from_secs(60)).build().unwrap();
                if c.get(format!("https://localhost:{port}/healthz")).send().await.is_ok() {
                    client = Some(c);
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let client = client.expect("the server came up");
        let base = format!("https://localhost:{port}/api/v1");
        let login: serde_json::Value = client.post(format!("{base}/Login")).json(&json!({"user": HELPDESK_USER, "password": HELPDESK_PASSWORD}))
            .send().await.unwrap().json().await.unwrap();
        let sync = client.post(format!("{base}/UserPasswordSync"))
            .json(&json!({"session": login["session"], "user_id": "crash", "password": "Hnr4tAe7mf"})).send();
        let sync = tokio::spawn(sync);

        // Wait until the local step is done and the slow one is under way.
        let store = touchtone_store::Store::connect(&db.url, &Default::default()).await.unwrap();
        let mut steps = Vec::new();
        for _ in 0..100 {
            let mut conn = store.acquire().await.unwrap();
            steps = sqlx::query_as::<_, (String, String)>("SELECT target, state FROM operation_steps ORDER BY target")
                .fetch_all(&mut *conn).await.unwrap();
            if steps.iter().any(|(t, s)| t == "local" && s == "succeeded") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(steps, vec![("local".to_owned(), "succeeded".to_owned()), ("zz-slow".to_owned(), "attempting".to_owned())]);
        drop(server); // SIGKILL
        assert!(sync.await.unwrap().is_err(), "the client saw the connection drop");

        // The next start turns the step into an exact record.
        let _server = start_server(&config_path);
        let mut recovered = Vec::new();
        for _ in 0..100 {
            let mut conn = store.acquire().await.unwrap();
            recovered = sqlx::query_as::<_, (String, String, Option<String>)>(
                "SELECT target, state, error FROM operation_steps ORDER BY target").fetch_all(&mut *conn).await.unwrap();
            if recovered.iter().any(|(_, s, _)| s == "interrupted") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(recovered[0], ("local".to_owned(), "succeeded".to_owned(), None));
        assert_eq!((recovered[1].0.as_str(), recovered[1].1.as_str()), ("zz-slow", "interrupted"));
        let events_file = dir.path().join("events.jsonl");
        let mut found = false;
        for _ in 0..100 {
            let text = std::fs::read_to_string(&events_file).unwrap_or_default();
            if text.lines().any(|l| l.contains("ET_ADMIN_RESET_FAILURE") && l.contains("interrupted") && l.contains("zz-slow")) {
                found = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(found, "no interrupted failure event");
    }
}
