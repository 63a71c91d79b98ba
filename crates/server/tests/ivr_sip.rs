//! The reset call end to end with real SIP peers: `sipp` and `baresip`
//! call `touchtone demo --sip` (the binary, as a tester would) and key the
//! demo user ivrtest's ID and answers as RFC 4733 events and as in-band
//! tones; a server configured with a helpdesk transfers on 0, and wrong
//! answers end in a lockout the API honours.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use touchtone_store::{Store, StoreOptions, local_directory};
use touchtone_testkit::baresip::Baresip;
use touchtone_testkit::programs::{free_port, free_udp_port};
use touchtone_testkit::sipp::Sipp;
use touchtone_testkit::{Db, tones};

fn scenario(name: &str) -> String {
    let path = format!("{}/tests/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `touchtone demo --sip` in a temporary directory, killed when dropped.
struct Demo {
    child: Child,
    dir: tempfile::TempDir,
    sip: SocketAddr,
}

impl Demo {
    async fn start() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let sip = SocketAddr::from(([127, 0, 0, 1], free_udp_port()));
        let http = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let log = std::fs::File::create(dir.path().join("demo.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_touchtone"))
            .args(["demo", "--data-dir"])
            .arg(dir.path())
            .args(["--http", &http.to_string(), "--sip", &sip.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start touchtone demo");
        let demo = Demo { child, dir, sip };
        let started = Instant::now();
        while !demo.dir.path().join("demo.json").exists() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the demo did not start: {}",
                demo.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let document: Value = serde_json::from_str(
            &std::fs::read_to_string(demo.dir.path().join("demo.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(document["sip"], format!("sip:reset@{sip}"));
        demo
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("demo.log")).unwrap_or_default()
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("events.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    async fn wait_for_event(&self, event_type: &str, user: &str) -> Value {
        let started = Instant::now();
        loop {
            if let Some(e) = self
                .events()
                .into_iter()
                .find(|e| e["type"] == event_type && e["user_id"] == user)
            {
                return e;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no {event_type} for {user}: {:?}\n{}",
                self.events(),
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The local account's password hash, read from the demo's database.
    async fn password_hash(&self, account: &str) -> Option<String> {
        let url = format!(
            "sqlite://{}",
            self.dir.path().join("touchtone.db").display()
        );
        let options = StoreOptions {
            max_connections: 1,
            acquire_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(10),
        };
        let store = Store::connect(&url, &options).await.unwrap();
        let mut conn = store.acquire().await.unwrap();
        local_directory::get(&mut conn, account)
            .await
            .unwrap()
            .and_then(|a| a.password_hash)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn assert_sipp_ok(sipp: Sipp, limit: Duration, context: &str) {
    let outcome = sipp.finish(limit).await;
    assert!(outcome.success, "sipp failed:\n{}\n{context}", outcome.log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_resets_the_demo_users_password_with_rfc4733_keys() {
    let demo = Demo::start().await;
    let before = demo.password_hash("ivrtest").await;
    let sipp = Sipp::start(
        &scenario("ivr_reset_rfc4733.xml"),
        Some(demo.sip),
        1,
        &[],
        &[],
    );
    assert_sipp_ok(sipp, Duration::from_secs(120), &demo.log()).await;
    let event = demo
        .wait_for_event("ET_ADMIN_RESET_SUCCESS", "ivrtest")
        .await;
    assert_eq!(event["detail"]["account"], "ivrtest");
    let after = demo.password_hash("ivrtest").await;
    assert!(
        after.is_some() && after != before,
        "the local password changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_unlocks_with_in_band_tones() {
    let demo = Demo::start().await;
    let keys = tones::dtmf_ulaw(&[
        ("4878378#", 2500),
        ("2468#", 1500),
        ("2468#", 1500),
        ("2", 15_000),
    ]);
    let sipp = Sipp::start(
        &scenario("ivr_unlock_inband.xml"),
        Some(demo.sip),
        1,
        &[],
        &[("tones.ulaw", &keys)],
    );
    assert_sipp_ok(sipp, Duration::from_secs(90), &demo.log()).await;
    demo.wait_for_event("ET_ADMIN_UNLOCK_SUCCESS", "ivrtest")
        .await;
}

/// baresip, a real softphone, unlocks ivrtest and hears the call: its
/// recording holds the prompts (speech, not silence) for the whole call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_calls_the_demo_and_unlocks() {
    let demo = Demo::start().await;
    let phone = Baresip::start("tester", None).await;
    phone
        .command("dial", &format!("sip:reset@{}", demo.sip))
        .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for (group, pause) in [
        ("4878378#", 2500),
        ("2468#", 1500),
        ("2468#", 1500),
        ("2", 0),
    ] {
        for key in group.chars() {
            phone.command("sndcode", &key.to_string()).await;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    demo.wait_for_event("ET_ADMIN_UNLOCK_SUCCESS", "ivrtest")
        .await;
    // The call ends with "thank you, goodbye" and our BYE.
    let recording = wait_for_recording(&phone).await;
    let (seconds, speech) = loud_seconds(&recording);
    assert!(
        speech > 4.0,
        "baresip heard {speech:.1} s of speech in {seconds:.1} s:\n{}",
        demo.log()
    );
}

async fn wait_for_recording(phone: &Baresip) -> PathBuf {
    let started = Instant::now();
    loop {
        if let Some(p) = phone.recordings().into_iter().next() {
            // Let baresip finish writing it.
            tokio::time::sleep(Duration::from_secs(3)).await;
            return p;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "baresip recorded nothing"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Length of the recording, and how much of it is louder than silence.
fn loud_seconds(path: &Path) -> (f64, f64) {
    let reader = hound::WavReader::open(path).expect("baresip's recording");
    let rate = f64::from(reader.spec().sample_rate);
    let samples: Vec<i16> = reader
        .into_samples::<i16>()
        .map(|s| s.unwrap_or(0))
        .collect();
    let loud = samples
        .chunks(160)
        .filter(|c| c.iter().any(|s| s.unsigned_abs() > 1500))
        .count();
    (samples.len() as f64 / rate, loud as f64 * 160.0 / rate)
}

/// A server (`serve` wiring, not the demo) with SIP, a helpdesk and a
/// lockout after three failures.
async fn app_with_sip(db: &touchtone_testkit::TestDatabase) -> (TestApp, SocketAddr) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("info,touchtone_ivr=debug")
        .with_test_writer()
        .try_init();
    let sip = SocketAddr::from(([127, 0, 0, 1], free_udp_port()));
    let app = TestApp::spawn_with(db, |c| {
        c.sip = Some(touchtone_sip::SipConfig {
            udp: Some(sip),
            ..Default::default()
        });
        c.ivr.helpdesk_uri = Some("sip:helpdesk@127.0.0.1:5999".into());
        c.ivr.tts_cache_dir = None;
        c.verification.max_failures = 3;
    })
    .await;
    (app, sip)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_at_the_menu_transfers_to_the_helpdesk_by_refer() {
    let db = new_db(Db::Sqlite).await;
    let (app, sip) = app_with_sip(&db).await;
    let sipp = Sipp::start(&scenario("ivr_transfer.xml"), Some(sip), 1, &[], &[]);
    assert_sipp_ok(sipp, Duration::from_secs(60), "").await;
    let _ = app;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_answers_by_phone_lock_the_user_out_of_the_api_too() {
    let db = new_db(Db::Sqlite).await;
    let (app, sip) = app_with_sip(&db).await;
    let sipp = Sipp::start(&scenario("ivr_wrong_answers.xml"), Some(sip), 1, &[], &[]);
    assert_sipp_ok(sipp, Duration::from_secs(60), "").await;
    let event = app.wait_for_event("ET_INTRUDER_LOCKOUT", "ivrtest").await;
    assert_eq!(event["detail"]["door"], "ivr");
    let s = app.login().await;
    let (status, body) = app
        .call(
            "UserQuestionsGet",
            json!({"session": s, "user_id": "ivrtest"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (423, Some("user_locked")),
        "{body}"
    );
}
