//! The engine against baresip, a real softphone: it calls in and keys
//! digits (and must hear them played back), and it answers our outbound
//! call (and must hear what we played). What baresip heard is checked by
//! running the DTMF detector over its recording.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use touchtone_sip::dtmf::goertzel::DtmfDetector;
use touchtone_sip::testflow::{TestFlow, read_back};
use touchtone_sip::{DialRequest, Engine};
use touchtone_testkit::baresip::Baresip;

mod common;
use common::{Idle, config};

/// Has baresip call `uri`, key `keys` once the greeting has started, and
/// returns the test flow's report.
async fn call_in_and_key(
    phone: &Baresip,
    uri: &str,
    keys: &str,
    reports: &mut mpsc::Receiver<touchtone_sip::testflow::TestFlowReport>,
) -> touchtone_sip::testflow::TestFlowReport {
    phone.command("dial", uri).await;
    phone.wait_for_established(Duration::from_secs(15)).await;
    for key in keys.chars() {
        phone.command("sndcode", &key.to_string()).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::timeout(Duration::from_secs(15), reports.recv())
        .await
        .expect("the flow finished")
        .expect("a report")
}

/// Digits the DTMF detector finds in a recording.
fn digits_heard(path: &Path) -> String {
    let reader = hound::WavReader::open(path).expect("baresip's recording");
    assert_eq!(reader.spec().sample_rate, 8000, "{:?}", reader.spec());
    let samples: Vec<i16> = reader
        .into_samples::<i16>()
        .map(|s| s.unwrap_or(0))
        .collect();
    let mut found = String::new();
    DtmfDetector::new().feed(samples, |d| found.push(d.as_char()));
    found
}

async fn wait_for_recording(phone: &Baresip) -> std::path::PathBuf {
    let start = Instant::now();
    loop {
        if let Some(p) = phone.recordings().into_iter().next() {
            return p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "baresip recorded nothing"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn baresip_calls_in_keys_digits_and_hears_them_played_back() {
    let (tx, mut reports) = mpsc::channel(4);
    let flow = TestFlow {
        reports: Some(tx),
        ..TestFlow::default()
    };
    let engine = Engine::start(config(), Arc::new(flow)).await.unwrap();
    let mut phone = Baresip::start("caller", None).await;
    let report = call_in_and_key(
        &phone,
        &format!("sip:ivr@{}", engine.sip_addr()),
        "703#",
        &mut reports,
    )
    .await;
    assert_eq!(report.digits.as_deref(), Some("703"));
    // The flow plays the digits back and hangs up; baresip's file is then
    // complete.
    phone.wait_until_idle(Duration::from_secs(15)).await;
    let recording = wait_for_recording(&phone).await;
    phone.stop().await;
    assert_eq!(digits_heard(&recording), "703");
}

#[tokio::test]
async fn baresip_answers_an_outbound_call_and_hears_the_audio() {
    let engine = Engine::start(config(), Arc::new(Idle)).await.unwrap();
    let mut phone = Baresip::start("callee", None).await;
    let request = DialRequest {
        to: format!("sip:callee@{}", phone.sip_addr()),
        caller_id: Some("4000".into()),
        ring_timeout: Some(Duration::from_secs(10)),
    };
    let mut channel = engine
        .dial(request, None, CancellationToken::new())
        .await
        .expect("baresip answers");
    channel.play(&read_back("4829*"), false).await.unwrap();
    channel.hangup().await;
    phone.wait_until_idle(Duration::from_secs(15)).await;
    let recording = wait_for_recording(&phone).await;
    phone.stop().await;
    assert_eq!(digits_heard(&recording), "4829*");
}

#[tokio::test]
async fn baresip_calls_in_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = touchtone_testkit::TestCa::new(dir.path());
    let (cert, key) = ca.server_cert(dir.path(), "sip", &["127.0.0.1", "localhost"]);
    let (tx, mut reports) = mpsc::channel(4);
    let flow = TestFlow {
        reports: Some(tx),
        ..TestFlow::default()
    };
    let mut cfg = config();
    let tls = SocketAddr::from(([127, 0, 0, 1], touchtone_testkit::ports::port()));
    cfg.tls = Some(touchtone_sip::config::TlsListener {
        listen: tls,
        cert,
        key,
    });
    let engine = Engine::start(cfg, Arc::new(flow)).await.unwrap();
    let mut phone = Baresip::start_trusting("caller", None, &ca.ca_file).await;
    let report = call_in_and_key(
        &phone,
        &format!("sip:ivr@{tls};transport=tls"),
        "42#",
        &mut reports,
    )
    .await;
    assert_eq!(report.digits.as_deref(), Some("42"));
    phone.stop().await;
    drop(engine);
}
