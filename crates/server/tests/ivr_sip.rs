//! The reset call end to end with real SIP peers: `sipp` and `baresip`
//! call `touchtone demo --sip` (the binary, as a tester would) and key the
//! demo user ivrtest's ID and answers as RFC 4733 events and as in-band
//! tones; a server configured with a helpdesk transfers on 0, and wrong
//! answers end in a lockout the API honours.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::demo::*;
use common::*;
use serde_json::json;
use touchtone_testkit::baresip::Baresip;
use touchtone_testkit::ports;
use touchtone_testkit::sipp::Sipp;
use touchtone_testkit::{Db, tones};

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
    phone.wait_for_established(Duration::from_secs(30)).await;
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

/// A server (`serve` wiring, not the demo) with SIP, a helpdesk and a
/// lockout after three failures.
async fn app_with_sip(db: &touchtone_testkit::TestDatabase) -> (TestApp, SocketAddr) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("info,touchtone_ivr=debug")
        .with_test_writer()
        .try_init();
    let sip = SocketAddr::from(([127, 0, 0, 1], ports::port()));
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

/// The helpdesk issues newhire an enrolment PIN (`touchtone enrolment
/// pin`, against the running demo's database); sipp keys newhire's ID, a
/// wrong PIN, the right one and three answers, each twice, as RFC 4733
/// events; then a second call resets the password with those answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_enrols_by_phone_with_a_pin_then_resets() {
    // Every enrolled question is asked, in the order enrolled.
    let demo = Demo::start_with(
        tempfile::tempdir().unwrap(),
        &[],
        &[("TOUCHTONE_VERIFICATION__QUESTIONS_PER_CHALLENGE", "3")],
    )
    .await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_touchtone"))
        .arg("--config")
        .arg(demo.dir.path().join("touchtone.toml"))
        .args(["enrolment", "pin", "newhire"])
        .output()
        .expect("run touchtone enrolment pin");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pin: String = stdout
        .split("newhire: ")
        .nth(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect())
        .unwrap_or_default();
    assert_eq!(pin.len(), 8, "{stdout}");
    let wrong = format!(
        "{}{}",
        if pin.starts_with('9') { '0' } else { '9' },
        &pin[1..]
    );

    // The pool in order: birth city, childhood house number, first pet
    // (enrolled), mother's birth year (not reached).
    let answers = ["547266", "742", "739"].map(String::from);
    let (id, wrong, right) = (
        "6394473#".to_owned(),
        format!("{wrong}#"),
        format!("{pin}#"),
    );
    let twice: Vec<String> = answers.iter().map(|a| format!("{a}#")).collect();
    // The ID, and each PIN, wait for the sentence that cannot be
    // interrupted ("you are not enrolled", "that PIN is not correct").
    let mut groups: Vec<(&str, u64)> = vec![(&id, 8500), (&wrong, 8500), (&right, 3500)];
    for a in &twice {
        let send = 240 * a.len() as u64 + 1000;
        groups.extend([("1", 1500), (a.as_str(), send), (a.as_str(), send)]);
    }
    let enrol = scenario("ivr_keys.xml").replace("{KEYS}", &key_groups(&groups));
    let sipp = Sipp::start(&enrol, Some(demo.sip), 1, &[], &[]);
    assert_sipp_ok(sipp, Duration::from_secs(150), &demo.log()).await;
    let event = demo.wait_for_event("ET_ENROLMENT_CHANGED", "newhire").await;
    assert_eq!(event["detail"]["door"], "ivr");
    assert_eq!(event["detail"]["questions"], 3);
    let failure = demo.wait_for_event("ET_VERIFY_FAILURE", "newhire").await;
    assert_eq!(failure["detail"]["door"], "ivr", "the wrong PIN counted");

    let before = demo.password_hash("newhire").await;
    let reset = scenario("ivr_keys.xml").replace("{KEYS}", &reset_call("6394473", &answers));
    let sipp = Sipp::start(&reset, Some(demo.sip), 1, &[], &[]);
    assert_sipp_ok(sipp, Duration::from_secs(150), &demo.log()).await;
    demo.wait_for_event("ET_ADMIN_RESET_SUCCESS", "newhire")
        .await;
    assert_ne!(demo.password_hash("newhire").await, before);
}
