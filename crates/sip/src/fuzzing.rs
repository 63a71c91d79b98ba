//! Entry points for the coverage-guided fuzz targets in `fuzz/` (built
//! only with `--cfg fuzzing`, which `cargo fuzz` sets): each takes bytes as
//! they arrive from the network and panics only where a promise of this
//! crate is broken.

use rsipstack::sip::SipMessage;
use rsipstack::transaction::endpoint::MessageInspector;

use crate::digest::DigestCompat;

/// A UDP datagram as the engine receives it: the wire guard, then
/// rsipstack's parser on what the guard passes. The guard promises that
/// rsipstack can read every message it passes, and that its own answers
/// are SIP responses.
pub fn datagram(data: &[u8]) {
    match crate::wire::fuzz_inspect(data) {
        crate::wire::FuzzVerdict::Pass(bytes) => {
            let parsed = SipMessage::try_from(bytes.as_slice());
            assert!(
                parsed.is_ok(),
                "the guard passed what rsipstack cannot read: {parsed:?}"
            );
        }
        crate::wire::FuzzVerdict::Reply(bytes) => {
            let parsed = SipMessage::try_from(bytes.as_slice());
            assert!(
                matches!(parsed, Ok(SipMessage::Response(_))),
                "the guard's answer is not a SIP response: {:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
        crate::wire::FuzzVerdict::Drop => {}
    }
}

/// The digest rewrite, on any message rsipstack reads: a 401/407 keeps its
/// strongest challenge, an outgoing request has its credentials respelled;
/// running either twice changes nothing more (rsipstack runs the inspector
/// twice on some responses).
pub fn digest(data: &[u8]) {
    let Ok(message) = SipMessage::try_from(data) else {
        return;
    };
    let once = match message {
        SipMessage::Response(_) => DigestCompat.after_received(message, None),
        SipMessage::Request(_) => DigestCompat.before_send(message, None),
    };
    let text = once.to_string();
    let twice = match once {
        SipMessage::Response(_) => DigestCompat.after_received(once, None),
        SipMessage::Request(_) => DigestCompat.before_send(once, None),
    };
    assert_eq!(
        text,
        twice.to_string(),
        "the digest rewrite is not idempotent"
    );
}

/// An SDP body from an INVITE or its answer; what parses can be answered.
pub fn sdp(data: &[u8]) {
    if let Ok(remote) = crate::sdp::RemoteMedia::parse(data) {
        let _ = remote.choose_codec();
    }
}

/// An RTP packet, and its payload as an RFC 4733 telephone event.
pub fn rtp(data: &[u8]) {
    if let Ok(packet) = crate::rtp::packet::RtpPacket::parse(data) {
        if let Some(event) = crate::dtmf::rfc4733::TelephoneEvent::parse(packet.payload) {
            let mut out = [0u8; 4];
            event.write(&mut out);
            assert_eq!(
                crate::dtmf::rfc4733::TelephoneEvent::parse(&out).map(|e| e.event),
                Some(event.event)
            );
        }
    }
    let _ = crate::dtmf::rfc4733::TelephoneEvent::parse(data);
}

/// A SIP INFO body with its Content-Type: the first line of `data` is the
/// type, the rest the body.
pub fn info(data: &[u8]) {
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let content_type = String::from_utf8_lossy(&data[..split]);
    let body = data.get(split + 1..).unwrap_or_default();
    let _ = crate::dtmf::info::parse_info_body(&content_type, body);
}
