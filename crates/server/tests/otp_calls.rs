//! Voice-OTP calls placed for real, through the server's trunk to SIP
//! peers started here: `sipp` as a callee that listens, keys the code (RFC
//! 4733), keys wrong codes, is busy, never answers, declines, or hangs up
//! during the code; `baresip` answering and recording what it heard. Also:
//! status callbacks to a local receiver (signed, retried), a restart with
//! calls queued (each placed once), and `touchtone demo --trunk` with
//! `touchtone otp call`, SIGKILLed mid-call (the call ends `interrupted` and
//! is never dialled again). SQLite; the queue's SQL is shared with
//! PostgreSQL, whose HTTPS tests are in `otp_api.rs`.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::demo::*;
use common::*;
use serde_json::{Value, json};
use touchtone_server::config::Config;
use touchtone_service::ManualClock;
use touchtone_testkit::baresip::Baresip;
use touchtone_testkit::ports;
use touchtone_testkit::sipp::Sipp;
use touchtone_testkit::{Db, TestDatabase};

const CODE: &str = "482913";

/// A SIP scenario of the engine's own tests (busy, declines, never answers).
fn sip_scenario(name: &str) -> String {
    let path = format!(
        "{}/../sip/tests/scenarios/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The answering callee, doing `actions` (sipp XML) after the ACK.
fn callee(actions: &str) -> String {
    scenario("otp_callee.xml").replace("<!--ACTIONS-->", actions)
}

/// Keys sent as RFC 4733 events after `pause_ms`.
fn keys_after(pause_ms: u32, keys: &str) -> String {
    format!(
        "<pause milliseconds=\"{pause_ms}\"/>\n  <nop><action><exec play_dtmf=\"{keys},120\"/></action></nop>\n"
    )
}

/// `[sip]` with a trunk to `trunk`, and voice OTP as the tests want it.
fn with_trunk(c: &mut Config, trunk: SocketAddr) {
    otp_settings(c);
    // The callback receivers listen on loopback.
    c.otp.callback_allow_private_addresses = true;
    c.sip = Some(touchtone_sip::SipConfig {
        udp: Some(SocketAddr::from(([127, 0, 0, 1], ports::port()))),
        trunk: Some(touchtone_sip::TrunkConfig {
            uri: format!("sip:{trunk}"),
            username: None,
            password: None,
            caller_id: Some("5550100".into()),
            register: false,
            register_expires_secs: 300,
        }),
        ..Default::default()
    });
    c.ivr.tts = false;
    c.otp.lease_secs = 3;
    c.otp.retry_delay_secs = 0;
    c.otp.ring_timeout_secs = 3;
    c.otp.max_attempts = 1;
}

async fn app_calling(
    trunk: SocketAddr,
    tweak: impl FnOnce(&mut Config),
) -> (TestDatabase, TestApp) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("info,touchtone_ivr=debug")
        .with_test_writer()
        .try_init();
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn_with(&db, |c| {
        with_trunk(c, trunk);
        tweak(c);
    })
    .await;
    // The SIP engine is up, and /readyz says so.
    let (status, ready) = app.get_root("/readyz").await;
    assert_eq!(
        (status, &ready["checks"]["sip"]),
        (200, &json!("ok")),
        "{ready}"
    );
    (db, app)
}

async fn place(app: &TestApp, body: Value) -> String {
    let response = app
        .client
        .post(format!("{}/calls", app.base))
        .basic_auth(API_USER, Some(API_PASSWORD))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let body: Value = response.json().await.unwrap();
    body["call_id"].as_str().unwrap().to_owned()
}

async fn view(app: &TestApp, id: &str) -> Value {
    app.client
        .get(format!("{}/calls/{id}", app.base))
        .basic_auth(API_USER, Some(API_PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn wait_final(app: &TestApp, id: &str, limit: Duration) -> Value {
    let started = Instant::now();
    loop {
        let v = view(app, id).await;
        if v["final"] == true {
            return v;
        }
        assert!(started.elapsed() < limit, "call not ended: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn statuses(v: &Value) -> Vec<String> {
    v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap().to_owned())
        .collect()
}

/// A plain-HTTP receiver on loopback that records what it is sent; it
/// answers 503 to the first request (so delivery must retry), 200 after.
struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>,
}

async fn receiver() -> Receiver {
    use axum::http::StatusCode;
    let got: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let store = got.clone();
    let app = axum::Router::new().route(
        "/cb",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let store = store.clone();
            let seen = seen.clone();
            async move {
                if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                store.lock().unwrap().push((headers, body));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver { addr, got }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speak_mode_reads_the_code_and_signed_callbacks_report_each_status() {
    let sipp = Sipp::start(&callee(""), None, 1, &[], &[]);
    let (_db, app) = app_calling(sipp.addr(), |_| {}).await;
    let hook = receiver().await;
    let id = place(
        &app,
        json!({"to": "03001234567", "code": CODE, "repeat": 1,
               "callback_url": format!("http://{}/cb", hook.addr)}),
    )
    .await;
    let v = wait_final(&app, &id, Duration::from_secs(60)).await;
    assert_eq!(v["status"], "code-played", "{v}");
    assert_eq!(
        statuses(&v),
        ["queued", "dialing", "ringing", "answered", "code-played"]
    );
    let record = &v["record"];
    assert_eq!(record["sip_status"], 200);
    assert_eq!(record["code_played"], 1);
    assert_eq!(record["caller_id"], "5550100");
    assert_eq!(record["dial_string"], "+923001234567");
    assert!(record["ring_ms"].as_i64().unwrap() >= 150, "{record}");
    // One reading (~5 s), "press 1 to hear it again" and its wait, goodbye.
    let talk = record["talk_ms"].as_i64().unwrap();
    assert!((6_000..30_000).contains(&talk), "{record}");
    assert_eq!(stored_code(&app, &id).await, None, "the code is wiped");
    let outcome = sipp.finish(Duration::from_secs(10)).await;
    assert!(outcome.success, "{}", outcome.log);
    assert!(
        outcome.log.contains("INVITE sip:+923001234567@")
            && outcome.log.contains("From: <sip:5550100@"),
        "{}",
        outcome.log
    );

    // Callbacks: every status change, signed; the first was refused (503)
    // and is retried after its back-off, on the server's clock.
    app.clock.advance(5_000);
    let secret =
        std::fs::read_to_string(app.config.otp.callback_secret_file.as_ref().unwrap()).unwrap();
    let started = Instant::now();
    let bodies: Vec<Value> = loop {
        let got = hook.got.lock().unwrap().clone();
        if got.len() >= 4 {
            break got
                .iter()
                .map(|(headers, body)| {
                    let timestamp: i64 = headers["x-touchtone-timestamp"]
                        .to_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    assert_eq!(
                        headers["x-touchtone-signature"],
                        touchtone_service::delivery::sign(
                            secret.trim().as_bytes(),
                            timestamp,
                            body
                        )
                        .as_str()
                    );
                    serde_json::from_str(body).unwrap()
                })
                .collect();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "callbacks: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // (The test's clock stands still, so `at` cannot order them here.)
    let mut reported: Vec<&str> = bodies
        .iter()
        .map(|b| {
            assert_eq!(b["call_id"], id.as_str());
            assert_eq!(b["final"], b["status"] == "code-played");
            b["status"].as_str().unwrap()
        })
        .collect();
    reported.sort_unstable();
    assert_eq!(reported, ["answered", "code-played", "queued", "ringing"]);
    assert!(bodies.iter().all(|b| !b.to_string().contains(CODE)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_mode_accepts_the_code_keyed_by_the_callee() {
    let sipp = Sipp::start(&callee(&keys_after(1500, "482913#")), None, 1, &[], &[]);
    let (_db, app) = app_calling(sipp.addr(), |_| {}).await;
    let id = place(
        &app,
        json!({"to": "+923001234567", "code": CODE, "mode": "verify"}),
    )
    .await;
    let v = wait_final(&app, &id, Duration::from_secs(60)).await;
    assert_eq!(v["status"], "verified", "{v}");
    assert_eq!(
        v["record"]["entries"],
        json!([{"digits": 6, "correct": true}])
    );
    assert_eq!(
        v["record"]["code_played"], 0,
        "verify mode never says the code"
    );
    let outcome = sipp.finish(Duration::from_secs(10)).await;
    assert!(outcome.success, "{}", outcome.log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_mode_ends_wrong_code_after_the_tries() {
    let actions = format!(
        "{}{}",
        keys_after(1500, "111111#"),
        keys_after(7500, "222222#")
    );
    let sipp = Sipp::start(&callee(&actions), None, 1, &[], &[]);
    let (_db, app) = app_calling(sipp.addr(), |c| c.otp.verify_attempts = 2).await;
    let id = place(
        &app,
        json!({"to": "+923001234567", "code": CODE, "mode": "verify"}),
    )
    .await;
    let v = wait_final(&app, &id, Duration::from_secs(60)).await;
    assert_eq!(v["status"], "wrong-code", "{v}");
    assert_eq!(
        v["record"]["entries"],
        json!([{"digits": 6, "correct": false}, {"digits": 6, "correct": false}])
    );
    let outcome = sipp.finish(Duration::from_secs(10)).await;
    assert!(outcome.success, "{}", outcome.log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_is_retried_then_final_and_other_refusals_are_told_apart() {
    // Busy twice: two attempts, then final.
    let sipp = Sipp::start(&sip_scenario("callee_busy.xml"), None, 2, &[], &[]);
    let (_db, app) = app_calling(sipp.addr(), |c| c.otp.max_attempts = 2).await;
    let id = place(&app, json!({"to": "+923001234567", "code": CODE})).await;
    let v = wait_final(&app, &id, Duration::from_secs(30)).await;
    assert_eq!(v["status"], "busy", "{v}");
    assert_eq!(v["attempts"], 2);
    assert_eq!(v["record"]["sip_status"], 486);
    assert_eq!(
        statuses(&v),
        ["queued", "dialing", "busy", "queued", "dialing", "busy"]
    );
    assert!(sipp.finish(Duration::from_secs(10)).await.success);

    let sipp = Sipp::start(&sip_scenario("callee_declines.xml"), None, 1, &[], &[]);
    let (_db2, app) = app_calling(sipp.addr(), |_| {}).await;
    let id = place(&app, json!({"to": "+923001234567", "code": CODE})).await;
    let v = wait_final(&app, &id, Duration::from_secs(30)).await;
    assert_eq!(v["status"], "declined", "{v}");
    assert_eq!(v["record"]["sip_status"], 603);

    let sipp = Sipp::start(&sip_scenario("callee_never_answers.xml"), None, 1, &[], &[]);
    let (_db3, app) = app_calling(sipp.addr(), |_| {}).await;
    let id = place(&app, json!({"to": "+923001234567", "code": CODE})).await;
    let v = wait_final(&app, &id, Duration::from_secs(30)).await;
    assert_eq!(v["status"], "no-answer", "{v}");
    assert_eq!(statuses(&v), ["queued", "dialing", "ringing", "no-answer"]);
    let ring = v["record"]["ring_ms"].as_i64().unwrap();
    assert!((2_900..6_000).contains(&ring), "rang {ring} ms");
    assert!(sipp.finish(Duration::from_secs(10)).await.success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callee_who_hangs_up_during_the_code_is_hung_up() {
    let sipp = Sipp::start(&scenario("otp_callee_hangs_up.xml"), None, 1, &[], &[]);
    let (_db, app) = app_calling(sipp.addr(), |_| {}).await;
    let id = place(&app, json!({"to": "+923001234567", "code": CODE})).await;
    let v = wait_final(&app, &id, Duration::from_secs(30)).await;
    let outcome = sipp.finish(Duration::from_secs(10)).await;
    assert!(outcome.success, "{}", outcome.log);
    assert_eq!(v["status"], "hung-up", "{v}");
    assert_eq!(v["record"]["code_played"], 0);
    assert!(v["record"]["talk_ms"].as_i64().unwrap() < 5_000, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_queued_before_a_restart_are_placed_once_after_it() {
    // A node without [sip] accepts three calls; nobody places them.
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn_with(&db, otp_settings).await;
    let mut ids = Vec::new();
    for n in ["+923001234567", "+923001234568", "+923001234569"] {
        ids.push(place(&app, json!({"to": n, "code": CODE, "repeat": 1})).await);
    }
    let (mut config, dir, clock): (Config, _, ManualClock) = app.stop().await;
    // Restarted with a trunk to a callee that takes exactly three calls.
    let sipp = Sipp::start(&callee(""), None, 3, &[], &[]);
    with_trunk(&mut config, sipp.addr());
    let app = TestApp::start(config, dir, clock).await;
    for id in &ids {
        let v = wait_final(&app, id, Duration::from_secs(90)).await;
        assert_eq!(v["status"], "code-played", "{v}");
        assert_eq!(v["attempts"], 1, "{v}");
    }
    let outcome = sipp.finish(Duration::from_secs(10)).await;
    assert!(outcome.success, "{}", outcome.log);
    assert_eq!(outcome.log.matches("INVITE sip:+92300123456").count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_answers_and_hears_the_code() {
    let mut phone = Baresip::start("+923001234567", None).await;
    let (_db, app) = app_calling(phone.sip_addr(), |c| c.otp.ring_timeout_secs = 10).await;
    let id = place(
        &app,
        json!({"to": "03001234567", "code": CODE, "repeat": 2}),
    )
    .await;
    let v = wait_final(&app, &id, Duration::from_secs(60)).await;
    assert_eq!(v["status"], "code-played", "{v}");
    assert_eq!(v["record"]["code_played"], 2);
    let recording = wait_for_recording(&phone).await;
    phone.stop().await;
    let (seconds, speech) = loud_seconds(&recording);
    // Two readings of "your verification code is 4 8 2 9 1 3" take about
    // 8 s of speech; then the offer to repeat and goodbye.
    assert!(
        (6.0..20.0).contains(&speech),
        "baresip heard {speech:.1} s of speech in {seconds:.1} s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_calls_through_its_trunk_and_a_killed_demo_never_redials() {
    // `touchtone otp call` against `touchtone demo --trunk`.
    let sipp = Sipp::start(&callee(""), None, 1, &[], &[]);
    let trunk = format!("sip:{}", sipp.addr());
    let lease = [("TOUCHTONE_OTP__LEASE_SECS", "3")];
    let demo = Demo::start_with(tempfile::tempdir().unwrap(), &["--trunk", &trunk], &lease).await;
    let cli = tokio::process::Command::new(env!("CARGO_BIN_EXE_touchtone"))
        .args(["otp", "call", "--server"])
        .arg(format!("https://{}", demo.http))
        .arg("--ca")
        .arg(demo.dir.path().join("tls/cert.pem"))
        .args(["--repeat", "1", "03001234567", "730561"])
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&cli.stdout);
    assert!(
        cli.status.success(),
        "{printed}\n{}\n{}",
        String::from_utf8_lossy(&cli.stderr),
        demo.log()
    );
    for status in [
        "queued",
        "dialing",
        "ringing",
        "answered",
        "ended code-played",
    ] {
        assert!(printed.contains(status), "{printed}");
    }
    assert!(!demo.log().contains("730561"), "the code reached the log");
    assert!(sipp.finish(Duration::from_secs(10)).await.success);

    // A call in progress when the demo is killed: after the restart it
    // ends `interrupted` and is not dialled again.
    let sipp = Sipp::start(&callee(""), None, 1, &[], &[]);
    let trunk = format!("sip:{}", sipp.addr());
    let demo = Demo::start_with(demo.kill(), &["--trunk", &trunk], &lease).await;
    let client = demo_client(&demo);
    let calls = format!("https://{}/api/v1/calls", demo.http);
    let accepted: Value = client
        .post(&calls)
        .basic_auth("demo", Some("demo-password"))
        .json(&json!({"to": "03001234567", "code": CODE}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = accepted["call_id"].as_str().unwrap().to_owned();
    let get = |client: reqwest::Client, url: String| async move {
        client
            .get(url)
            .basic_auth("demo", Some("demo-password"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let started = Instant::now();
    while get(client.clone(), format!("{calls}/{id}")).await["status"] != "answered" {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}",
            demo.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let dir = demo.kill();
    let demo = Demo::start_with(dir, &["--trunk", &trunk], &lease).await;
    let client = demo_client(&demo);
    let calls = format!("https://{}/api/v1/calls", demo.http);
    let started = Instant::now();
    let v = loop {
        let v = get(client.clone(), format!("{calls}/{id}")).await;
        if v["final"] == true {
            break v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{v}\n{}",
            demo.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(v["status"], "interrupted", "{v}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let outcome = sipp.finish(Duration::from_secs(1)).await;
    assert_eq!(
        outcome.log.matches("INVITE sip:").count(),
        1,
        "dialled again:\n{}",
        outcome.log
    );
}

fn demo_client(demo: &Demo) -> reqwest::Client {
    touchtone_server::tls::install_crypto_provider();
    let cert = std::fs::read(demo.dir.path().join("tls/cert.pem")).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The notification call about `person` (queued by the service under
/// `@notice`), once it has ended: (status, history).
async fn notice_call_ended(app: &TestApp, person: &str) -> (String, Vec<String>) {
    let started = Instant::now();
    loop {
        let mut conn = app.store.acquire().await.unwrap();
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT id, status, is_final FROM otp_calls WHERE api_user = '@notice' AND person_id = $1",
        )
        .bind(person)
        .fetch_optional(&mut *conn)
        .await
        .unwrap();
        if let Some((id, status, 1)) = row {
            let history: Vec<(String,)> = sqlx::query_as(
                "SELECT status FROM otp_call_history WHERE call_id = $1 ORDER BY seq",
            )
            .bind(&id)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
            return (status, history.into_iter().map(|(s,)| s).collect());
        }
        drop(conn);
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "no ended notice call: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// jsmith has a registered number and resets by the API; the notification
/// call goes to that number.
async fn reset_with_a_registered_phone(app: &TestApp) {
    let mut conn = app.store.acquire().await.unwrap();
    touchtone_store::registered_phones::add(&mut conn, "jsmith", "+923001234567", 0)
        .await
        .unwrap();
    drop(conn);
    app.reset_by_api("jsmith", "Hnr4tAe7mf").await;
}

fn with_notice_calls(c: &mut Config) {
    c.notices.call = vec!["reset".into()];
    c.notices.time_zone = "UTC".into();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_call_waits_for_a_key_and_1_locks_the_person_for_every_door() {
    // The callee presses 5 to hear the message, then 1: "not me".
    let keys = format!("{}{}", keys_after(1500, "5"), keys_after(9000, "1"));
    let sipp = Sipp::start(&callee(&keys), None, 1, &[], &[]);
    let (_db, app) = app_calling(sipp.addr(), with_notice_calls).await;
    reset_with_a_registered_phone(&app).await;
    let (status, history) = notice_call_ended(&app, "jsmith").await;
    assert_eq!(status, "not-me", "{history:?}");
    assert_eq!(
        history,
        ["queued", "dialing", "ringing", "answered", "not-me"]
    );
    app.wait_for_event("ET_SUSPECTED_FRAUD", "jsmith").await;
    // Locked for every door: the API refuses jsmith's questions even in a
    // new session, and the lock has no end.
    let session = app.login().await;
    let (st, body) = app
        .call(
            "UserQuestionsGet",
            json!({"session": session, "user_id": "jsmith"}),
        )
        .await;
    assert_eq!(
        (st, body["error"]["code"].clone()),
        (423, json!("user_locked")),
        "{body}"
    );
    let report = app.service.person_report("jsmith").await.unwrap();
    assert!(report.locked_now, "{report:?}");
    // The call dialled the registered number, once.
    let outcome = sipp.finish(Duration::from_secs(5)).await;
    assert_eq!(
        outcome.log.matches("INVITE sip:").count(),
        1,
        "{}",
        outcome.log
    );
    assert!(outcome.log.contains("+923001234567"), "{}", outcome.log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_call_no_one_presses_a_key_on_tells_nothing_and_locks_no_one() {
    // An answering machine: answers, never presses a key.
    let sipp = Sipp::start(&callee(""), None, 1, &[], &[]);
    let (_db, app) = app_calling(sipp.addr(), with_notice_calls).await;
    reset_with_a_registered_phone(&app).await;
    let (status, _) = notice_call_ended(&app, "jsmith").await;
    assert_eq!(status, "no-key");
    let report = app.service.person_report("jsmith").await.unwrap();
    assert!(!report.locked_now, "{report:?}");
    app.verified_session("jsmith").await;
}
