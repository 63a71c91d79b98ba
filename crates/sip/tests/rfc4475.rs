//! RFC 4475, "SIP Torture Test Messages", against the engine over UDP:
//! every message of the RFC, and the answer RFC 3261 §8.2 wants from a UAS
//! (we are no proxy and no registrar).
//!
//! The messages are in `tests/rfc4475/`, one file per message, taken from
//! the RFC's text with CRLF line ends. Two differ in detail: `longreq.dat`
//! spells its long repeated runs out by rule, and `mpart01.dat` carries,
//! in place of the RFC's CMS signature, a binary part of the same length
//! and framing with NUL octets in it. So that nothing leaves loopback, the
//! documentation prefix 192.0.2.0/24 is read as 127.0.0.0/24 (same length,
//! so every Content-Length still holds); the responses go to the sender
//! (rport/received), whatever host its Via names.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};
use touchtone_sip::Engine;

mod common;
use common::{Idle, config};

#[derive(Clone, Copy)]
enum Expect {
    /// A final response with one of these codes.
    Final(&'static [u16]),
    /// An INVITE that reaches the flow: it rings (the test then cancels it).
    Rings,
    /// No answer at all: a response matching nothing, or a broken one.
    Nothing,
}

struct Case {
    file: &'static str,
    section: &'static str,
    expect: Expect,
    /// Refused before anything was set up: no call, no media port.
    invalid: bool,
}

const fn case(file: &'static str, section: &'static str, expect: Expect, invalid: bool) -> Case {
    Case {
        file,
        section,
        expect,
        invalid,
    }
}

use Expect::{Final, Nothing, Rings};

const CASES: &[Case] = &[
    // §3.1.1 valid messages. wsinv carries a To tag: a request in a
    // dialog we do not have (481).
    case("wsinv", "3.1.1.1", Final(&[481]), false),
    case("intmeth", "3.1.1.2", Final(&[501, 405]), true),
    case("esc01", "3.1.1.3", Rings, false),
    case("escnull", "3.1.1.4", Final(&[405, 501]), true),
    case("esc02", "3.1.1.5", Final(&[501, 405]), true),
    case("lwsdisp", "3.1.1.6", Final(&[200]), false),
    case("longreq", "3.1.1.7", Rings, false),
    case("dblreq", "3.1.1.8", Final(&[405, 501]), true),
    case("semiuri", "3.1.1.9", Final(&[200]), false),
    case("transports", "3.1.1.10", Final(&[200]), false),
    case("mpart01", "3.1.1.11", Final(&[405, 501]), true),
    case("unreason", "3.1.1.12", Nothing, true),
    case("noreason", "3.1.1.13", Nothing, true),
    // §3.1.2 invalid messages.
    case("badinv01", "3.1.2.1", Final(&[400]), true),
    case("clerr", "3.1.2.2", Final(&[400]), true),
    case("ncl", "3.1.2.3", Final(&[400]), true),
    case("scalar02", "3.1.2.4", Final(&[400]), true),
    case("scalarlg", "3.1.2.5", Nothing, true),
    case("quotbal", "3.1.2.6", Final(&[400]), true),
    case("ltgtruri", "3.1.2.7", Final(&[400]), true),
    case("lwsruri", "3.1.2.8", Final(&[400]), true),
    case("lwsstart", "3.1.2.9", Final(&[400]), true),
    case("trws", "3.1.2.10", Final(&[400]), true),
    case("escruri", "3.1.2.11", Final(&[400]), true),
    case("baddate", "3.1.2.12", Final(&[400]), true),
    case("regbadct", "3.1.2.13", Final(&[400]), true),
    case("badaspec", "3.1.2.14", Final(&[400]), true),
    case("baddn", "3.1.2.15", Final(&[400]), true),
    case("badvers", "3.1.2.16", Final(&[505]), true),
    case("mismatch01", "3.1.2.17", Final(&[400]), true),
    case("mismatch02", "3.1.2.18", Final(&[501]), true),
    case("bigcode", "3.1.2.19", Nothing, true),
    // §3.2 transaction layer: a bare magic cookie is still a branch.
    case("badbranch", "3.2.1", Final(&[200, 400]), false),
    // §3.3 application layer.
    case("insuf", "3.3.1", Final(&[400]), true),
    case("unkscm", "3.3.2", Final(&[416]), true),
    case("novelsc", "3.3.3", Final(&[416]), true),
    case("unksm2", "3.3.4", Final(&[405, 501]), true),
    case("bext01", "3.3.5", Final(&[420]), true),
    case("invut", "3.3.6", Final(&[415]), true),
    case("regaut01", "3.3.7", Final(&[405, 501]), true),
    case("multi01", "3.3.8", Final(&[400]), true),
    case("mcl01", "3.3.9", Final(&[400]), true),
    case("bcast", "3.3.10", Nothing, true),
    // A UAS treats Max-Forwards 0 like any other (only proxies say 483).
    case("zeromf", "3.3.11", Final(&[200]), false),
    case("cparam01", "3.3.12", Final(&[405, 501]), true),
    case("cparam02", "3.3.13", Final(&[405, 501]), true),
    case("regescrt", "3.3.14", Final(&[405, 501]), true),
    case("sdp01", "3.3.15", Final(&[406]), true),
    // §3.4 backward compatibility.
    case("inv2543", "3.4.1", Rings, false),
];

fn load(file: &str) -> Vec<u8> {
    let path = format!("{}/tests/rfc4475/{file}.dat", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"192.0.2.") {
            out.extend_from_slice(b"127.0.0.");
            i += 8;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

struct Response {
    code: u16,
    text: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers(name).first().copied()
    }

    fn headers(&self, name: &str) -> Vec<&str> {
        self.text
            .lines()
            .filter_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
            })
            .collect()
    }
}

/// Responses until `done` says so or `wait` has passed.
fn receive(
    socket: &UdpSocket,
    wait: Duration,
    done: impl Fn(&[Response]) -> bool,
) -> Vec<Response> {
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let deadline = Instant::now() + wait;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    while Instant::now() < deadline && !done(&got) {
        if let Ok(n) = socket.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if let Some(code) = text
                .strip_prefix("SIP/2.0 ")
                .and_then(|r| r.get(..3))
                .and_then(|c| c.parse().ok())
            {
                got.push(Response { code, text });
            }
        }
    }
    got
}

/// Cancels a ringing INVITE (built from its 180) and acknowledges the 487.
fn cancel(socket: &UdpSocket, engine: SocketAddr, request: &[u8], ringing: &Response) {
    let request_uri = String::from_utf8_lossy(request)
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let vias: String = ringing
        .headers("Via")
        .iter()
        .map(|v| format!("Via: {v}\r\n"))
        .collect();
    let from = ringing.header("From").unwrap_or_default();
    let to = ringing.header("To").unwrap_or_default();
    let to_without_tag = to.split(";tag=").next().unwrap_or_default();
    let call_id = ringing.header("Call-ID").unwrap_or_default();
    let seq = ringing
        .header("CSeq")
        .and_then(|c| c.split_whitespace().next())
        .unwrap_or_default();
    let cancel = format!(
        "CANCEL {request_uri} SIP/2.0\r\n{vias}From: {from}\r\nTo: {to_without_tag}\r\nCall-ID: {call_id}\r\nCSeq: {seq} CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    socket.send_to(cancel.as_bytes(), engine).unwrap();
    let got = receive(socket, Duration::from_secs(5), |r| {
        r.iter().any(|r| r.code == 487)
    });
    assert!(
        got.iter()
            .any(|r| r.code == 200 && r.text.contains("CANCEL")),
        "CANCEL not answered 200: {:?}",
        got.iter().map(|r| r.code).collect::<Vec<_>>()
    );
    let terminated = got
        .iter()
        .find(|r| r.code == 487)
        .expect("the INVITE ends 487 after CANCEL");
    let top_via = ringing.headers("Via").first().copied().unwrap_or_default();
    let ack = format!(
        "ACK {request_uri} SIP/2.0\r\nVia: {top_via}\r\nFrom: {from}\r\nTo: {}\r\nCall-ID: {call_id}\r\nCSeq: {seq} ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        terminated.header("To").unwrap_or_default()
    );
    socket.send_to(ack.as_bytes(), engine).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rfc_4475_message_gets_the_answer_a_uas_owes_it() {
    // Calls ring for a minute before they would be answered: long enough
    // to see an INVITE reach the flow and cancel it.
    let engine = Engine::start_with_answer_delay(config(), Arc::new(Idle), Duration::from_secs(60))
        .await
        .unwrap();
    let target = engine.sip_addr();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut failures = Vec::new();
    for case in CASES {
        let message = load(case.file);
        let ports_before = engine.stats().media_ports_bound;
        socket.send_to(&message, target).unwrap();
        let label = format!("§{} {}", case.section, case.file);
        match case.expect {
            Final(codes) => {
                let got = receive(&socket, Duration::from_secs(3), |r| {
                    r.iter().any(|r| r.code >= 200)
                });
                let finals: Vec<&Response> = got.iter().filter(|r| r.code >= 200).collect();
                match finals.first() {
                    Some(r) if codes.contains(&r.code) => {
                        let needs = match r.code {
                            405 | 501 => Some("Allow"),
                            415 | 406 => Some("Accept"),
                            420 => Some("Unsupported"),
                            _ => None,
                        };
                        if let Some(h) = needs
                            && r.header(h).is_none()
                        {
                            failures.push(format!("{label}: {} without {h}", r.code));
                        }
                        if r.code == 420
                            && r.header("Unsupported")
                                != Some("nothingSupportsThis, nothingSupportsThisEither")
                        {
                            failures.push(format!(
                                "{label}: Unsupported is {:?}",
                                r.header("Unsupported")
                            ));
                        }
                    }
                    other => failures.push(format!(
                        "{label}: expected {codes:?}, got {:?}",
                        other.map(|r| r.code)
                    )),
                }
                if got.iter().any(|r| r.code == 180) {
                    failures.push(format!("{label}: rang"));
                }
            }
            Rings => {
                let got = receive(&socket, Duration::from_secs(3), |r| {
                    r.iter().any(|r| r.code >= 180)
                });
                match got.iter().find(|r| r.code >= 180) {
                    Some(r) if r.code == 180 => {
                        cancel(&socket, target, &message, r);
                        // The cancelled call's slot is freed by its task:
                        // wait, so the next case starts from no call.
                        common::wait_for_no_calls(&engine).await;
                    }
                    other => failures.push(format!(
                        "{label}: expected 180 Ringing, got {:?}",
                        other.map(|r| r.code)
                    )),
                }
            }
            Nothing => {
                let got = receive(&socket, Duration::from_millis(500), |_| false);
                if !got.is_empty() {
                    failures.push(format!(
                        "{label}: expected no answer, got {:?}",
                        got.iter().map(|r| r.code).collect::<Vec<_>>()
                    ));
                }
            }
        }
        if case.invalid {
            let stats = engine.stats();
            if stats.media_ports_bound != ports_before || stats.active_calls != 0 {
                failures.push(format!(
                    "{label}: set something up ({} ports bound, {} calls)",
                    stats.media_ports_bound - ports_before,
                    stats.active_calls
                ));
            }
        }
    }
    // Every cancelled call is gone, and the engine still answers.
    common::wait_for_no_calls(&engine).await;
    let options = "OPTIONS sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKalive\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:ivr@127.0.0.1>\r\nCall-ID: alive\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    socket.send_to(options.as_bytes(), target).unwrap();
    let got = receive(&socket, Duration::from_secs(3), |r| !r.is_empty());
    assert!(got.iter().any(|r| r.code == 200), "no longer answering");
    assert!(
        failures.is_empty(),
        "{} of {} messages answered wrongly:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}
