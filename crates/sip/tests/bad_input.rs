//! Hostile and broken SIP and RTP on loopback: every input gets a correct
//! response or is dropped, the engine keeps answering, and a call already
//! up is not disturbed.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use touchtone_sip::Engine;
use touchtone_sip::testflow::TestFlow;
use touchtone_testkit::sipp::Sipp;

mod common;
use common::config_with;

fn request(
    method: &str,
    call_id: &str,
    extra_headers: &str,
    body: &str,
    content_length: Option<usize>,
    port: u16,
) -> String {
    let length = content_length.unwrap_or(body.len());
    format!(
        "{method} sip:ivr@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id}\r\n\
         From: <sip:attacker@127.0.0.1:{port}>;tag=a{call_id}\r\n\
         To: <sip:ivr@127.0.0.1>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 {method}\r\n\
         Contact: <sip:attacker@127.0.0.1:{port}>\r\n\
         Max-Forwards: 70\r\n\
         {extra_headers}Content-Length: {length}\r\n\r\n{body}"
    )
}

fn offer(port: u16) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    )
}

/// Status codes of the responses that arrive within `wait`.
fn responses(socket: &UdpSocket, wait: Duration) -> Vec<u16> {
    responses_with_call_ids(socket, wait)
        .into_iter()
        .map(|(code, _)| code)
        .collect()
}

/// (status, Call-ID) of the responses that arrive within `wait`.
fn responses_with_call_ids(socket: &UdpSocket, wait: Duration) -> Vec<(u16, String)> {
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = std::time::Instant::now() + wait;
    let mut codes = Vec::new();
    let mut buf = vec![0u8; 65536];
    while std::time::Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]);
            if let Some(code) = text
                .strip_prefix("SIP/2.0 ")
                .and_then(|r| r.get(..3))
                .and_then(|c| c.parse().ok())
            {
                let call_id = text
                    .lines()
                    .find_map(|l| l.strip_prefix("Call-ID:").or_else(|| l.strip_prefix("i:")))
                    .unwrap_or("")
                    .trim()
                    .to_string();
                codes.push((code, call_id));
            }
        }
    }
    codes
}

fn options_answered(socket: &UdpSocket, engine: SocketAddr, id: &str) -> bool {
    let port = socket.local_addr().unwrap().port();
    socket
        .send_to(
            request("OPTIONS", id, "", "", None, port).as_bytes(),
            engine,
        )
        .unwrap();
    responses(socket, Duration::from_millis(800)).contains(&200)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_sip_is_refused_or_dropped_and_a_call_in_progress_survives() {
    let (tx, mut reports) = mpsc::channel(4);
    let flow = TestFlow {
        reports: Some(tx),
        ..TestFlow::default()
    };
    let cfg = config_with(10);
    let rtp_ports = cfg.rtp_port_min..=cfg.rtp_port_max;
    let engine = Engine::start(cfg, Arc::new(flow)).await.unwrap();
    let target = engine.sip_addr();
    // A real call that keys digits after five seconds.
    let sipp = Sipp::start(
        &std::fs::read_to_string(format!(
            "{}/tests/scenarios/caller_waits_then_keys.xml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
        Some(target),
        1,
        &[],
        &[],
    );
    // The broken messages go in while the call is up.
    let started = std::time::Instant::now();
    while engine.stats().active_calls == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the call did not come up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let check = |label: &str, expect: &[u16], bytes: &[u8]| {
        socket.send_to(bytes, target).unwrap();
        let got = responses(&socket, Duration::from_millis(600));
        assert!(
            got.iter().all(|c| expect.contains(c)),
            "{label}: got {got:?}, expected only {expect:?}"
        );
        assert!(
            options_answered(&socket, target, &format!("alive-{}", label.len())),
            "not answering after {label}"
        );
    };
    check("random bytes", &[], &[0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]);
    check("an empty datagram", &[], b"");
    let full = request(
        "INVITE",
        "trunc1",
        "Content-Type: application/sdp\r\n",
        &offer(30000),
        None,
        port,
    );
    check(
        "a truncated INVITE",
        &[400],
        &full.as_bytes()[..full.len() / 3],
    );
    let huge = request(
        "OPTIONS",
        "huge1",
        &format!("X-Junk: {}\r\n", "a".repeat(60_000)),
        "",
        None,
        port,
    );
    check("a 60 kB header", &[200, 400, 413, 513], huge.as_bytes());
    let wrong_length = request(
        "INVITE",
        "len1",
        "Content-Type: application/sdp\r\n",
        &offer(30000),
        Some(5000),
        port,
    );
    check(
        "a Content-Length past the end",
        &[400],
        wrong_length.as_bytes(),
    );
    check(
        "an unknown method",
        &[405, 501],
        request("FROB", "frob1", "", "", None, port).as_bytes(),
    );
    check(
        "a BYE for no call",
        &[481],
        request("BYE", "nocall1", "", "", None, port).as_bytes(),
    );
    check(
        "an INVITE with a non-SDP body",
        &[100, 415],
        request(
            "INVITE",
            "ct1",
            "Content-Type: text/plain\r\n",
            "hello",
            None,
            port,
        )
        .as_bytes(),
    );
    check(
        "an INVITE with garbage SDP",
        &[100, 488],
        request(
            "INVITE",
            "sdp1",
            "Content-Type: application/sdp\r\n",
            "v=0\r\nm=audio x\r\n",
            None,
            port,
        )
        .as_bytes(),
    );

    // A flood of INVITEs from one address: at most max_calls are answered,
    // the others are refused with 503 (or dropped if a socket buffer
    // overflows, as UDP allows), and nothing else happens.
    for i in 0..200 {
        let invite = request(
            "INVITE",
            &format!("flood{i}"),
            "Content-Type: application/sdp\r\n",
            &offer(30000 + 2 * i),
            None,
            port,
        );
        socket.send_to(invite.as_bytes(), target).unwrap();
    }
    let codes = responses_with_call_ids(&socket, Duration::from_secs(5));
    // 200s are retransmitted until ACKed (we never ACK): count calls.
    let answered = codes
        .iter()
        .filter(|(c, _)| *c == 200)
        .map(|(_, id)| id.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len();
    let refused = codes.iter().filter(|(c, _)| *c == 503).count();
    assert!(
        codes.iter().all(|(c, _)| [100, 180, 200, 503].contains(c)),
        "{codes:?}"
    );
    assert!(
        answered <= 10,
        "answered {answered} of a flood with max_calls 10: {codes:?}"
    );
    assert!(refused >= 100, "refused only {refused}");
    assert!(engine.stats().active_calls <= 10, "{:?}", engine.stats());

    // RTP junk at every media port (so also the live call's) is dropped:
    // wrong version, truncated header, CSRC count past the end, padding
    // longer than the packet. The real call still finishes with its digits.
    let junk: [&[u8]; 4] = [
        &[0x40, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xFF],
        &[0x80, 0, 0],
        &[0x8F, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1],
        &[0xA0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 200],
    ];
    for port in rtp_ports.step_by(2) {
        for j in junk {
            let _ = socket.send_to(j, SocketAddr::from(([127, 0, 0, 1], port)));
        }
    }
    let report = tokio::time::timeout(Duration::from_secs(20), reports.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.digits.as_deref(), Some("55"));
    let outcome = sipp.finish(Duration::from_secs(20)).await;
    assert!(outcome.success, "{}", outcome.log);
}

// The test reads responses with blocking sockets: the engine needs threads
// of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sip_from_outside_the_allowed_networks_is_dropped() {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut refused = config_with(10);
    refused.allowed_sources = vec!["10.0.0.0/8".parse().unwrap()];
    let engine = Engine::start(refused, Arc::new(TestFlow::default()))
        .await
        .unwrap();
    assert!(
        !options_answered(&socket, engine.sip_addr(), "outside"),
        "answered a stranger"
    );
    let port = socket.local_addr().unwrap().port();
    let invite = request(
        "INVITE",
        "outside-invite",
        "Content-Type: application/sdp\r\n",
        &offer(30000),
        None,
        port,
    );
    socket
        .send_to(invite.as_bytes(), engine.sip_addr())
        .unwrap();
    assert_eq!(
        responses(&socket, Duration::from_millis(800)),
        Vec::<u16>::new()
    );
    assert_eq!(engine.stats().active_calls, 0);

    let mut allowed = config_with(10);
    allowed.allowed_sources = vec![
        "10.0.0.0/8".parse().unwrap(),
        "127.0.0.0/8".parse().unwrap(),
    ];
    let engine = Engine::start(allowed, Arc::new(TestFlow::default()))
        .await
        .unwrap();
    let other = UdpSocket::bind("127.0.0.1:0").unwrap();
    assert!(options_answered(&other, engine.sip_addr(), "inside"));
}
