//! The engine against sipp, a real SIP peer, on loopback: calls in with
//! digits sent three ways, hang-ups mid-prompt, cancels before answer,
//! refused offers; and `dial` to sipp answering, busy and never answering.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use touchtone_sip::testflow::{TestFlow, TestFlowReport};
use touchtone_sip::{
    CallHandler, Channel, CollectSpec, DialError, DialProgress, DialRequest, Engine, Prompt,
    SipConfig, TrunkConfig,
};
use touchtone_testkit::sipp::Sipp;

mod common;
use common::{Idle, config, dial_through_trunk, wait_for_no_calls};

fn scenario(name: &str) -> String {
    let path = format!("{}/tests/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn engine_with_test_flow(answer_delay: Duration) -> (Engine, mpsc::Receiver<TestFlowReport>) {
    let (tx, rx) = mpsc::channel(16);
    let flow = TestFlow {
        reports: Some(tx),
        ..TestFlow::default()
    };
    let engine = Engine::start_with_answer_delay(config(), Arc::new(flow), answer_delay)
        .await
        .expect("engine starts");
    (engine, rx)
}

/// One sipp caller playing `scenario_name` against `engine`.
fn call_in(engine: &Engine, scenario_name: &str) -> Sipp {
    Sipp::start(
        &scenario(scenario_name),
        Some(engine.sip_addr()),
        1,
        &[],
        &[],
    )
}

async fn expect_report(reports: &mut mpsc::Receiver<TestFlowReport>) -> TestFlowReport {
    tokio::time::timeout(Duration::from_secs(20), reports.recv())
        .await
        .expect("the flow reported in time")
        .expect("a report")
}

async fn assert_sipp_ok(sipp: Sipp) {
    let outcome = sipp.finish(Duration::from_secs(30)).await;
    assert!(outcome.success, "{}", outcome.log);
}

#[tokio::test]
async fn a_caller_keys_rfc4733_digits_and_hears_them_read_back() {
    let (engine, mut reports) = engine_with_test_flow(Duration::ZERO).await;
    let sent_before = engine.stats().packets_sent;
    let sipp = call_in(&engine, "caller_rfc4733.xml");
    let report = expect_report(&mut reports).await;
    assert_eq!(report.digits.as_deref(), Some("1234"));
    assert!(!report.hung_up_by_caller);
    assert_sipp_ok(sipp).await;
    // Greeting (0.9 s) or part of it, then four tones: at least a second of RTP.
    assert!(
        engine.stats().packets_sent - sent_before >= 50,
        "{:?}",
        engine.stats()
    );
    wait_for_no_calls(&engine).await;
}

#[tokio::test]
async fn sip_info_digits_are_collected() {
    let (engine, mut reports) = engine_with_test_flow(Duration::ZERO).await;
    let sipp = call_in(&engine, "caller_info.xml");
    let report = expect_report(&mut reports).await;
    assert_eq!(report.digits.as_deref(), Some("97*"));
    assert_sipp_ok(sipp).await;
}

#[tokio::test]
async fn in_band_tones_from_a_peer_without_telephone_event_are_detected() {
    let (engine, mut reports) = engine_with_test_flow(Duration::ZERO).await;
    let tones = touchtone_testkit::tones::dtmf_ulaw(&[("12345#", 3000)]);
    let sipp = Sipp::start(
        &scenario("caller_inband.xml"),
        Some(engine.sip_addr()),
        1,
        &[],
        &[("tones.ulaw", &tones)],
    );
    let report = expect_report(&mut reports).await;
    assert_eq!(report.digits.as_deref(), Some("12345"));
    assert_sipp_ok(sipp).await;
}

/// Plays a long prompt and records how the flow ended.
struct LongPrompt {
    ended: mpsc::Sender<(Result<(), touchtone_sip::ChannelError>, Instant)>,
}

#[async_trait::async_trait]
impl CallHandler for LongPrompt {
    async fn handle(&self, mut channel: Channel) {
        let prompt = Prompt::tone(440.0, 10_000, -15.0);
        let r = channel.play(&[prompt], false).await.map(|_| ());
        let _ = self.ended.send((r, Instant::now())).await;
    }
}

#[tokio::test]
async fn a_caller_hanging_up_mid_prompt_ends_the_flow_at_once() {
    let (tx, mut rx) = mpsc::channel(4);
    let engine = Engine::start(config(), Arc::new(LongPrompt { ended: tx }))
        .await
        .unwrap();
    let started = Instant::now();
    let sipp = call_in(&engine, "caller_hangs_up_mid_prompt.xml");
    let (result, at) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(result, Err(touchtone_sip::ChannelError::HungUp));
    assert!(
        at - started < Duration::from_secs(5),
        "the 10 s prompt was cut short"
    );
    assert_sipp_ok(sipp).await;
    wait_for_no_calls(&engine).await;
}

#[tokio::test]
async fn a_call_cancelled_before_answer_never_reaches_the_flow() {
    let (engine, mut reports) = engine_with_test_flow(Duration::from_secs(3)).await;
    let sipp = call_in(&engine, "caller_cancels.xml");
    assert_sipp_ok(sipp).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        reports.try_recv().is_err(),
        "the cancelled call was answered"
    );
    assert_eq!(engine.stats().active_calls, 0);
}

#[tokio::test]
async fn an_offer_without_a_common_codec_gets_488() {
    let (engine, _reports) = engine_with_test_flow(Duration::ZERO).await;
    let sipp = call_in(&engine, "caller_no_common_codec.xml");
    assert_sipp_ok(sipp).await;
    assert_eq!(engine.stats().active_calls, 0);
}

#[tokio::test]
async fn a_late_offer_is_answered_in_the_ack_and_the_call_goes_on() {
    let (engine, mut reports) = engine_with_test_flow(Duration::ZERO).await;
    let sipp = call_in(&engine, "caller_late_offer.xml");
    let report = expect_report(&mut reports).await;
    assert_eq!(report.digits.as_deref(), Some("1234"));
    assert_sipp_ok(sipp).await;
    wait_for_no_calls(&engine).await;
}

#[tokio::test]
async fn a_late_offer_never_acknowledged_is_ended_and_frees_its_place() {
    let (engine, mut reports) = engine_with_test_flow(Duration::ZERO).await;
    let sipp = call_in(&engine, "caller_late_offer_never_acks.xml");
    // RFC 3261 §13.3.1.4: after 64·T1 (32 s) without an ACK, BYE.
    let outcome = sipp.finish(Duration::from_secs(60)).await;
    assert!(outcome.success, "{}", outcome.log);
    wait_for_no_calls(&engine).await;
    assert!(
        reports.try_recv().is_err(),
        "the flow ran on a call that was never confirmed"
    );
}

#[tokio::test]
async fn a_late_offer_answered_with_a_codec_we_did_not_offer_is_hung_up() {
    let (engine, mut reports) = engine_with_test_flow(Duration::ZERO).await;
    let sipp = call_in(&engine, "caller_late_offer_unusable_answer.xml");
    assert_sipp_ok(sipp).await;
    wait_for_no_calls(&engine).await;
    assert!(
        reports.try_recv().is_err(),
        "the flow ran on a call without usable media"
    );
}

async fn dialer_towards(callee: &Sipp) -> Engine {
    let mut cfg = config();
    cfg.trunk = Some(TrunkConfig {
        uri: format!("sip:{}", callee.addr()),
        username: None,
        password: None,
        caller_id: Some("4000".into()),
        register: false,
        register_expires_secs: 300,
    });
    Engine::start(cfg, Arc::new(Idle)).await.unwrap()
}

/// Dials a sipp callee running `scenario_name` and returns how the dial ended.
async fn dial_failure(
    scenario_name: &str,
    ring_timeout: Option<Duration>,
    cancel: CancellationToken,
) -> Option<DialError> {
    let callee = Sipp::start(&scenario(scenario_name), None, 1, &[], &[]);
    let engine = dialer_towards(&callee).await;
    let request = DialRequest {
        to: "callee".into(),
        caller_id: None,
        ring_timeout,
    };
    let result = engine.dial(request, None, cancel).await;
    assert_sipp_ok(callee).await;
    assert_eq!(engine.stats().active_calls, 0);
    result.err()
}

#[tokio::test]
async fn dial_reports_ringing_then_answer_and_hears_the_callees_digits() {
    let callee = Sipp::start(&scenario("callee_answers.xml"), None, 1, &[], &[]);
    let engine = dialer_towards(&callee).await;
    let (progress_tx, mut progress) = mpsc::channel(8);
    let request = DialRequest {
        to: "callee".into(),
        caller_id: None,
        ring_timeout: Some(Duration::from_secs(10)),
    };
    let mut channel = engine
        .dial(request, Some(progress_tx), CancellationToken::new())
        .await
        .expect("the callee answers");
    assert_eq!(progress.recv().await, Some(DialProgress::Ringing));
    assert_eq!(progress.recv().await, Some(DialProgress::Answered));
    let spec = CollectSpec {
        first_digit_timeout: Duration::from_secs(5),
        ..CollectSpec::default()
    };
    let collected = channel
        .play_and_collect(&[Prompt::tone(600.0, 200, -15.0)], &spec)
        .await
        .unwrap();
    assert_eq!(collected.digits, "42");
    channel.hangup().await;
    assert_sipp_ok(callee).await;
    wait_for_no_calls(&engine).await;
}

#[tokio::test]
async fn dial_to_a_busy_callee_reports_busy() {
    let outcome = dial_failure("callee_busy.xml", None, CancellationToken::new()).await;
    assert_eq!(outcome, Some(DialError::Busy));
}

#[tokio::test]
async fn dial_that_is_never_answered_is_cancelled_at_the_ring_timeout() {
    let started = Instant::now();
    let outcome = dial_failure(
        "callee_never_answers.xml",
        Some(Duration::from_secs(2)),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(outcome, Some(DialError::NoAnswer));
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

async fn challenged_dial(password: &str) -> (Result<Channel, DialError>, Sipp) {
    let callee = Sipp::start(&scenario("callee_challenges.xml"), None, 1, &[], &[]);
    let (_engine, result) = dial_through_trunk(callee.addr(), "trunkuser", password).await;
    (result, callee)
}

#[tokio::test]
async fn a_trunk_that_challenges_gets_a_digest_answer() {
    let (result, callee) = challenged_dial("s3cret").await;
    let mut channel = result.expect("answered after the digest challenge");
    channel.hangup().await;
    assert_sipp_ok(callee).await;
}

#[tokio::test]
async fn wrong_trunk_credentials_are_reported_as_an_authentication_failure() {
    let (result, callee) = challenged_dial("wrong").await;
    assert_eq!(result.err(), Some(DialError::AuthenticationFailed(403)));
    assert_sipp_ok(callee).await;
}

/// Transfers every call to the helpdesk and reports the outcome.
struct Transfers {
    outcomes: mpsc::Sender<touchtone_sip::TransferOutcome>,
}

#[async_trait::async_trait]
impl CallHandler for Transfers {
    async fn handle(&self, mut channel: Channel) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if let Ok(outcome) = channel.transfer("sip:helpdesk@127.0.0.1:5999").await {
            let _ = self.outcomes.send(outcome).await;
        }
    }
}

async fn transfer_outcome(scenario_name: &str) -> touchtone_sip::TransferOutcome {
    let (tx, mut rx) = mpsc::channel(4);
    let engine = Engine::start(config(), Arc::new(Transfers { outcomes: tx }))
        .await
        .unwrap();
    let sipp = Sipp::start(
        &scenario(scenario_name),
        Some(engine.sip_addr()),
        1,
        &[],
        &[],
    );
    let outcome = tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_sipp_ok(sipp).await;
    wait_for_no_calls(&engine).await;
    outcome
}

#[tokio::test]
async fn a_transfer_the_peer_carries_out_completes_and_ends_our_leg() {
    assert_eq!(
        transfer_outcome("caller_accepts_transfer.xml").await,
        touchtone_sip::TransferOutcome::Completed
    );
}

#[tokio::test]
async fn a_refused_transfer_reports_the_status_and_the_call_goes_on() {
    assert_eq!(
        transfer_outcome("caller_refuses_transfer.xml").await,
        touchtone_sip::TransferOutcome::Failed(Some(603))
    );
}

#[tokio::test]
async fn a_reinvite_to_hold_is_answered_recvonly() {
    let engine = Engine::start(config(), Arc::new(Idle)).await.unwrap();
    let sipp = call_in(&engine, "caller_holds.xml");
    assert_sipp_ok(sipp).await;
    wait_for_no_calls(&engine).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reinvite_without_sdp_takes_the_answer_from_its_ack() {
    let engine = Engine::start(config(), Arc::new(Idle)).await.unwrap();
    let moved = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    moved
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let moved_port = moved.local_addr().unwrap().port().to_string();
    let sipp = Sipp::start(
        &scenario("caller_reinvites_without_sdp.xml"),
        Some(engine.sip_addr()),
        1,
        &["-set", "moved_port", &moved_port],
        &[],
    );
    let mut buf = [0u8; 512];
    let received = moved.recv(&mut buf);
    let outcome = sipp.finish(Duration::from_secs(30)).await;
    assert!(outcome.success, "{}", outcome.log);
    let n = received.expect("after the ACK's answer our audio goes to the port it names");
    assert!(
        n >= 12 && buf[0] == 0x80 && buf[1] & 0x7F == 0,
        "an RTP PCMU packet"
    );
    wait_for_no_calls(&engine).await;
}

#[tokio::test]
async fn registration_with_the_trunk_is_authenticated_and_refreshed() {
    let registrar = Sipp::start(&scenario("registrar.xml"), None, 1, &[], &[]);
    let mut cfg = config();
    cfg.trunk = Some(TrunkConfig {
        uri: format!("sip:{}", registrar.addr()),
        username: Some("trunkuser".into()),
        password: Some("s3cret".into()),
        caller_id: None,
        register: true,
        register_expires_secs: 60,
    });
    let engine = Engine::start(cfg, Arc::new(Idle)).await.unwrap();
    // The registrar grants 2 s, so a refresh follows within about 1.5 s.
    assert_sipp_ok(registrar).await;
    assert!(engine.trunk_registered(), "the refresh was accepted");
}

#[tokio::test]
async fn a_caller_over_tcp_is_served_like_one_over_udp() {
    let (tx, mut reports) = mpsc::channel(16);
    let flow = TestFlow {
        reports: Some(tx),
        ..TestFlow::default()
    };
    let mut cfg = config();
    let tcp = SocketAddr::from(([127, 0, 0, 1], touchtone_testkit::ports::port()));
    cfg.tcp = Some(tcp);
    // Engine::start returns once its listeners are bound: no wait needed.
    let engine = Engine::start(cfg, Arc::new(flow)).await.unwrap();
    let sipp = Sipp::start(
        &scenario("caller_rfc4733.xml"),
        Some(tcp),
        1,
        &["-t", "t1"],
        &[],
    );
    let report = expect_report(&mut reports).await;
    assert_eq!(report.digits.as_deref(), Some("1234"));
    assert_sipp_ok(sipp).await;
    wait_for_no_calls(&engine).await;
}

#[tokio::test]
async fn dial_to_a_callee_that_declines_reports_declined() {
    let outcome = dial_failure("callee_declines.xml", None, CancellationToken::new()).await;
    assert_eq!(outcome, Some(DialError::Declined));
}

#[tokio::test]
async fn a_dial_cancelled_while_ringing_sends_cancel_and_reports_cancelled() {
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let outcome = dial_failure(
        "callee_never_answers.xml",
        Some(Duration::from_secs(30)),
        cancel,
    )
    .await;
    assert_eq!(outcome, Some(DialError::Cancelled));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// Reports each call's RTP address, then keeps the call up.
struct ReportsRtp {
    addrs: mpsc::Sender<SocketAddr>,
}

#[async_trait::async_trait]
impl CallHandler for ReportsRtp {
    async fn handle(&self, mut channel: Channel) {
        let _ = self.addrs.send(channel.local_rtp()).await;
        let _ = channel
            .play(&[Prompt::tone(440.0, 10_000, -15.0)], false)
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_follows_the_peers_packets_to_a_new_address() {
    let (tx, mut rx) = mpsc::channel(4);
    let engine = Engine::start(config(), Arc::new(ReportsRtp { addrs: tx }))
        .await
        .unwrap();
    // sipp's SDP names a media port it never listens on: as if behind NAT.
    let sipp = Sipp::start(
        &scenario("caller_hangs_up_mid_prompt.xml"),
        Some(engine.sip_addr()),
        1,
        &["-d", "3000"],
        &[],
    );
    let our_rtp = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    // One valid PCMU packet from the peer's real address.
    let mut packet = vec![0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0x12, 0x34, 0x56, 0x78];
    packet.extend_from_slice(&[0xFF; 160]);
    peer.send_to(&packet, our_rtp).unwrap();
    let mut buf = [0u8; 512];
    let n = peer
        .recv(&mut buf)
        .expect("our audio now comes to the address the peer sent from");
    assert!(
        n >= 12 && buf[0] == 0x80 && buf[1] & 0x7F == 0,
        "an RTP PCMU packet"
    );
    let _ = sipp.finish(Duration::from_secs(20)).await;
}

/// Reports the call's RTP address, then collects one string of digits
/// (ended by `#`) and reports it.
struct ReportsRtpThenCollects {
    addrs: mpsc::Sender<SocketAddr>,
    digits: mpsc::Sender<String>,
}

#[async_trait::async_trait]
impl CallHandler for ReportsRtpThenCollects {
    async fn handle(&self, mut channel: Channel) {
        let _ = self.addrs.send(channel.local_rtp()).await;
        let spec = CollectSpec {
            first_digit_timeout: Duration::from_secs(5),
            ..CollectSpec::default()
        };
        if let Ok(c) = channel.play_and_collect(&[], &spec).await {
            let _ = self.digits.send(c.digits).await;
        }
    }
}

/// One RFC 4733 key press (a start packet and three end packets, payload
/// type 96 as sipp's SDP offers it) sent from `socket`.
fn send_key(socket: &std::net::UdpSocket, to: SocketAddr, ssrc: u32, seq: u16, event: u8) {
    let ts = u32::from(seq) * 1000;
    for (i, end) in [false, true, true, true].into_iter().enumerate() {
        let mut packet = vec![0x80, 96 | if i == 0 { 0x80 } else { 0 }];
        packet.extend_from_slice(&(seq + i as u16).to_be_bytes());
        packet.extend_from_slice(&ts.to_be_bytes());
        packet.extend_from_slice(&ssrc.to_be_bytes());
        packet.extend_from_slice(&[event, if end { 0x80 | 10 } else { 10 }, 0x03, 0x20]);
        socket.send_to(&packet, to).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// With strict RTP (the default) a third party that knows the call's RTP
/// port cannot key digits into it once the peer has been heard; with it
/// turned off, symmetric RTP follows the intruder's new SSRC and its key
/// press counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_rtp_keeps_a_third_partys_key_presses_out_of_the_call() {
    for (strict, expected) in [(true, "5"), (false, "95")] {
        let (addr_tx, mut addrs) = mpsc::channel(4);
        let (digit_tx, mut digits) = mpsc::channel(4);
        let handler = ReportsRtpThenCollects {
            addrs: addr_tx,
            digits: digit_tx,
        };
        let engine = Engine::start(
            SipConfig {
                strict_rtp: strict,
                ..config()
            },
            Arc::new(handler),
        )
        .await
        .unwrap();
        let sipp = Sipp::start(
            &scenario("caller_hangs_up_mid_prompt.xml"),
            Some(engine.sip_addr()),
            1,
            &["-d", "8000"],
            &[],
        );
        let our_rtp = tokio::time::timeout(Duration::from_secs(5), addrs.recv())
            .await
            .unwrap()
            .unwrap();
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let intruder = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        tokio::task::spawn_blocking(move || {
            // The peer is heard first (one PCMU packet), then the intruder
            // keys 9, then the peer keys 5 and #.
            let mut audio = vec![0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0x12, 0x34, 0x56, 0x78];
            audio.extend_from_slice(&[0xFF; 160]);
            peer.send_to(&audio, our_rtp).unwrap();
            std::thread::sleep(Duration::from_millis(100));
            send_key(&intruder, our_rtp, 0x0bad_cafe, 100, 9);
            std::thread::sleep(Duration::from_millis(100));
            send_key(&peer, our_rtp, 0x1234_5678, 200, 5);
            send_key(&peer, our_rtp, 0x1234_5678, 300, 11);
        })
        .await
        .unwrap();
        let got = tokio::time::timeout(Duration::from_secs(8), digits.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, expected, "strict_rtp = {strict}");
        let _ = sipp.finish(Duration::from_secs(20)).await;
    }
}

/// Collects one string of digits and reports it.
struct CollectsDigits {
    digits: mpsc::Sender<String>,
}

#[async_trait::async_trait]
impl CallHandler for CollectsDigits {
    async fn handle(&self, mut channel: Channel) {
        let spec = CollectSpec {
            first_digit_timeout: Duration::from_secs(5),
            ..CollectSpec::default()
        };
        if let Ok(c) = channel.play_and_collect(&[], &spec).await {
            let _ = self.digits.send(c.digits).await;
        }
        channel.ended().await;
    }
}

#[tokio::test]
async fn digits_sent_as_rfc4733_by_one_engine_are_collected_by_another() {
    let (tx, mut rx) = mpsc::channel(4);
    let callee = Engine::start(config(), Arc::new(CollectsDigits { digits: tx }))
        .await
        .unwrap();
    let caller = Engine::start(config(), Arc::new(Idle)).await.unwrap();
    let request = DialRequest {
        to: format!("sip:ivr@{}", callee.sip_addr()),
        caller_id: Some("5550100".into()),
        ring_timeout: Some(Duration::from_secs(5)),
    };
    let mut channel = caller
        .dial(request, None, CancellationToken::new())
        .await
        .expect("answered");
    channel.send_digits("4829*7#").await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, "4829*7");
    channel.hangup().await;
    wait_for_no_calls(&callee).await;
}

#[tokio::test]
async fn the_answer_is_retransmitted_until_the_caller_acknowledges_it() {
    let engine = Engine::start(config(), Arc::new(Idle)).await.unwrap();
    let started = Instant::now();
    let sipp = call_in(&engine, "caller_acks_late.xml");
    let outcome = sipp.finish(Duration::from_secs(20)).await;
    assert!(outcome.success, "{}", outcome.log);
    // The answer came three times (sent, then after T1 and 2·T1) before
    // the ACK, which stopped it.
    let answers = outcome
        .log
        .split("message received")
        .filter(|m| m.contains("SIP/2.0 200 OK") && m.contains("CSeq: 1 INVITE"))
        .count();
    assert!(
        (3..=4).contains(&answers),
        "{answers} answers:\n{}",
        outcome.log
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1800),
        "{:?}",
        started.elapsed()
    );
    wait_for_no_calls(&engine).await;
}
