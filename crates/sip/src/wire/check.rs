//! What a UAS must check in a request before acting on it (RFC 3261 §8.2,
//! §18.3; the cases of RFC 4475), and what it answers when a check fails.
//! Responses are checked for what the transaction layer relies on and are
//! dropped when broken (RFC 3261 §18.1.2, RFC 4475 §3.1.2.5 and §3.1.2.19).

use super::message::{Message, Start, StartError, frame};
use super::reply::stateless;
use super::scan::{self, NameAddr, Param, Via};
use std::hash::{DefaultHasher, Hash, Hasher};

/// The methods the engine handles (its rsipstack `with_allows`).
pub(crate) const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REFER, NOTIFY, UPDATE";
const HANDLED: &[&[u8]] = &[
    b"INVITE", b"ACK", b"BYE", b"CANCEL", b"OPTIONS", b"INFO", b"REFER", b"NOTIFY", b"UPDATE",
];
/// Methods we know but do not handle: 405 rather than 501 (RFC 3261
/// §8.2.1). We are no registrar, presence server or message store.
const KNOWN: &[&[u8]] = &[b"REGISTER", b"MESSAGE", b"SUBSCRIBE", b"PUBLISH", b"PRACK"];
/// Option tags a request may `Require` of us: none (we do not do reliable
/// provisional responses, session timers or the like as a must).
const SUPPORTED_OPTIONS: &[&[u8]] = &[];

#[derive(Debug)]
pub(crate) enum Verdict {
    /// For the transaction layer: the message, respelled plainly.
    Pass(Vec<u8>),
    /// Answer the sender with this response; the request goes no further.
    Reply(Vec<u8>),
    /// Ignore (a broken response, a broken ACK, nothing to answer to).
    Drop(&'static str),
}

/// Why a request is refused: its status and what goes with it.
struct Refusal {
    code: u16,
    reason: String,
    extra: Vec<String>,
}

fn bad(why: &str) -> Refusal {
    Refusal {
        code: 400,
        reason: format!("Bad Request ({why})"),
        extra: Vec::new(),
    }
}

fn refusal(code: u16, reason: &str, extra: Vec<String>) -> Refusal {
    Refusal {
        code,
        reason: reason.to_string(),
        extra,
    }
}

/// Checks one datagram.
pub(crate) fn inspect(datagram: &[u8]) -> Verdict {
    let msg = frame(datagram);
    if !msg.is_request() {
        return response(&msg, datagram);
    }
    let is_ack = msg.start_line.starts_with(b"ACK ");
    let checked = match &msg.start {
        Ok(Start::Request { method, uri }) => request(&msg, method, uri),
        Err(StartError::Version) => Err(refusal(505, "Version Not Supported", Vec::new())),
        _ => Err(bad("malformed Request-Line")),
    };
    // What the grammar allows but rsipstack cannot read (rare corners,
    // such as a user part that starts with `;`) is refused here with a
    // clear 400 rather than dropped in silence behind us.
    let checked = checked.and_then(|bytes| {
        rsipstack::sip::SipMessage::try_from(bytes.as_slice())
            .map(|_| bytes)
            .map_err(|_| bad("a form this server cannot read"))
    });
    match checked {
        Ok(bytes) => Verdict::Pass(bytes),
        // RFC 3261 §17.2.1: an ACK is never answered.
        Err(_) if is_ack => Verdict::Drop("an invalid ACK"),
        Err(_) if msg.count("Via") == 0 || msg.first("CSeq").is_none() => {
            Verdict::Drop("an invalid request without Via or CSeq to answer to")
        }
        Err(r) => Verdict::Reply(stateless(&msg, r.code, &r.reason, &r.extra)),
    }
}

fn response(msg: &Message, datagram: &[u8]) -> Verdict {
    if msg.start.is_err() {
        return Verdict::Drop("a malformed status line");
    }
    if msg.header_error.is_some() || msg.count("Via") == 0 {
        return Verdict::Drop("a malformed response");
    }
    for name in ["From", "To", "Call-ID", "CSeq"] {
        if msg.count(name) != 1 {
            return Verdict::Drop("a response without exactly one From, To, Call-ID and CSeq");
        }
    }
    if msg.first("CSeq").is_none_or(|c| scan::cseq(c).is_err()) {
        return Verdict::Drop("a response with a malformed CSeq");
    }
    if let Some(cl) = msg.first("Content-Length")
        && scan::number(cl, msg.rest.len() as u64).is_none()
    {
        return Verdict::Drop("a response with a wrong Content-Length");
    }
    // What rsipstack cannot read (a reason phrase that is not UTF-8, say)
    // goes no further: a response is never answered.
    if rsipstack::sip::SipMessage::try_from(datagram).is_err() {
        return Verdict::Drop("a response this server cannot read");
    }
    Verdict::Pass(datagram.to_vec())
}

/// The one name-addr value of a single-valued header.
fn single_address(msg: &Message, name: &str) -> Result<NameAddr, Refusal> {
    let value = msg.first(name).ok_or_else(|| bad(&format!("no {name}")))?;
    // Read as one value: a comma there is an error, not a second value.
    scan::name_addrs(value, false)
        .map_err(|e| bad(&format!("{name}: {e}")))?
        .into_iter()
        .next()
        .ok_or_else(|| bad(&format!("no {name}")))
}

/// Whether a SIP URI carries `?headers` (after its host; the user part may
/// hold a `?`, RFC 3261 §25.1 user-unreserved).
fn has_uri_headers(uri: &[u8]) -> bool {
    let after_scheme = uri
        .iter()
        .position(|&b| b == b':')
        .map_or(uri, |i| &uri[i + 1..]);
    let host_part = after_scheme
        .iter()
        .rposition(|&b| b == b'@')
        .map_or(after_scheme, |i| &after_scheme[i + 1..]);
    host_part.contains(&b'?')
}

fn request(msg: &Message, method: &[u8], uri: &[u8]) -> Result<Vec<u8>, Refusal> {
    if let Some(e) = msg.header_error {
        return Err(bad(e));
    }
    // RFC 3261 §8.1.1: the mandatory headers, and §7.3.1: these may appear
    // only once (RFC 4475 §3.3.1, §3.3.8, §3.3.9).
    if msg.count("Via") == 0 {
        return Err(bad("no Via"));
    }
    for name in ["From", "To", "Call-ID", "CSeq"] {
        match msg.count(name) {
            0 => return Err(bad(&format!("no {name}"))),
            1 => {}
            _ => return Err(bad(&format!("more than one {name}"))),
        }
    }
    for name in ["Content-Length", "Max-Forwards", "Content-Type", "Expires"] {
        if msg.count(name) > 1 {
            return Err(bad(&format!("more than one {name}")));
        }
    }
    let mut vias: Vec<Via> = Vec::new();
    for value in msg.all("Via") {
        vias.extend(scan::via_values(value).map_err(bad)?);
    }
    if vias
        .iter()
        .any(|v| !v.protocol.eq_ignore_ascii_case(b"SIP") || v.version != b"2.0")
    {
        return Err(bad("a Via of another protocol or version"));
    }
    let mut from = single_address(msg, "From")?;
    let to = single_address(msg, "To")?;
    // In the message's order: `respell` takes them back one by one.
    let mut addresses: Vec<(&[u8], Vec<NameAddr>)> = Vec::new();
    for h in &msg.headers {
        let name = h.name.as_slice();
        if !matches!(name, b"Contact" | b"Route" | b"Record-Route")
            || (name == b"Contact" && h.value == b"*")
        {
            continue;
        }
        let values = scan::name_addrs(&h.value, true)
            .map_err(|e| bad(&format!("{}: {e}", String::from_utf8_lossy(name))))?;
        addresses.push((name, values));
    }
    let call_id = msg.first("Call-ID").unwrap_or_default();
    if call_id.is_empty() || call_id.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return Err(bad("malformed Call-ID"));
    }
    let (seq, cseq_method) = scan::cseq(msg.first("CSeq").unwrap_or_default()).map_err(bad)?;
    let max_forwards = match msg.first("Max-Forwards") {
        Some(v) => Some(scan::number(v, 255).ok_or_else(|| bad("malformed Max-Forwards"))?),
        None => None,
    };
    // RFC 3261 §18.3: the body is Content-Length octets; more in the
    // datagram is ignored, fewer is an error (RFC 4475 §3.1.1.8, §3.1.2.2,
    // §3.1.2.3). Without Content-Length (RFC 2543, over UDP) the body is the
    // rest of the datagram.
    let body: &[u8] = match msg.first("Content-Length") {
        Some(v) => {
            let n = scan::number(v, u64::MAX).ok_or_else(|| bad("malformed Content-Length"))?;
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if n > msg.rest.len() {
                return Err(bad("Content-Length larger than the message"));
            }
            &msg.rest[..n]
        }
        None => &msg.rest,
    };
    if let Some(date) = msg.first("Date")
        && !scan::date_is_valid(date)
    {
        return Err(bad("Date must be an RFC 1123 date in GMT"));
    }
    // §8.2.1: the method.
    if !HANDLED.contains(&method) {
        let (code, reason) = if KNOWN.contains(&method) {
            (405, "Method Not Allowed")
        } else {
            (501, "Not Implemented")
        };
        return Err(refusal(code, reason, vec![format!("Allow: {ALLOW}")]));
    }
    if cseq_method != method {
        return Err(bad("the CSeq method is not the request's"));
    }
    // §8.2.2.1: the Request-URI.
    let uri_scheme = scan::scheme(uri);
    if !matches!(uri_scheme.as_slice(), b"sip" | b"sips" | b"tel") {
        return Err(refusal(416, "Unsupported URI Scheme", Vec::new()));
    }
    if uri_scheme != b"tel" && has_uri_headers(uri) {
        return Err(bad("headers in the Request-URI"));
    }
    // §8.2.2.3: Require (not for CANCEL, nor ACK).
    if method != b"CANCEL" && method != b"ACK" {
        let mut unsupported = Vec::new();
        for value in msg.all("Require") {
            for tag in scan::token_list(value).map_err(bad)? {
                if !SUPPORTED_OPTIONS
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(&tag))
                {
                    unsupported.push(String::from_utf8_lossy(&tag).into_owned());
                }
            }
        }
        if !unsupported.is_empty() {
            return Err(refusal(
                420,
                "Bad Extension",
                vec![format!("Unsupported: {}", unsupported.join(", "))],
            ));
        }
    }
    // §8.2.3: content we can read, and §21.4.7: a response we can give.
    if method == b"INVITE" && to.param("tag").is_none() {
        let accept = || vec!["Accept: application/sdp".to_string()];
        if !body.is_empty() {
            if let Some(enc) = msg.first("Content-Encoding")
                && scan::token_list(enc)
                    .map_err(bad)?
                    .iter()
                    .any(|e| !e.eq_ignore_ascii_case(b"identity"))
            {
                return Err(refusal(
                    415,
                    "Unsupported Media Type",
                    vec!["Accept-Encoding: identity".to_string()],
                ));
            }
            let sdp = msg
                .first("Content-Type")
                .and_then(scan::media_type)
                .is_some_and(|t| t == b"application/sdp");
            if !sdp {
                return Err(refusal(415, "Unsupported Media Type", accept()));
            }
        }
        if let Some(acc) = msg.first("Accept")
            && !acc.is_empty()
        {
            let takes_sdp = acc.split(|&b| b == b',').any(|entry| {
                scan::media_type(entry).is_some_and(|t| {
                    matches!(t.as_slice(), b"application/sdp" | b"application/*" | b"*/*")
                })
            });
            if !takes_sdp {
                return Err(refusal(406, "Not Acceptable", accept()));
            }
        }
    }
    // RFC 2543 peers (RFC 4475 §3.4.1, §3.1.1.7) send no branch and no From
    // tag; the transaction layer keys on both, so give them stable ones
    // derived from what identifies the request (the same for its
    // retransmissions, its CANCEL and the ACK of a failure).
    let identity = {
        let mut h = DefaultHasher::new();
        call_id.hash(&mut h);
        from.uri.hash(&mut h);
        h.finish()
    };
    if from.param("tag").is_none() {
        from.params.push(Param {
            name: b"tag".to_vec(),
            value: Some(format!("tt2543{identity:016x}").into_bytes()),
        });
    }
    if let Some(top) = vias.first_mut()
        && top.branch().is_none()
    {
        let mut h = DefaultHasher::new();
        identity.hash(&mut h);
        seq.hash(&mut h);
        top.sent_by.hash(&mut h);
        top.params.push(Param {
            name: b"branch".to_vec(),
            value: Some(format!("z9hG4bK-tt2543-{:016x}", h.finish()).into_bytes()),
        });
    }
    // RFC 2543 §6.13: without a Contact, requests in the call go to the
    // From address; the dialog layer wants a remote target to be named.
    let mut missing_contact = None;
    if method == b"INVITE" && msg.count("Contact") == 0 {
        missing_contact = Some(NameAddr {
            display: None,
            uri: from.uri.clone(),
            params: Vec::new(),
        });
    }
    if let Some(contact) = &missing_contact {
        addresses.push((b"Contact", vec![contact.clone()]));
    }
    Ok(respell(
        msg,
        &Respelled {
            vias: &vias,
            from: &from,
            to: &to,
            addresses: &addresses,
            seq,
            method,
            max_forwards,
            body,
        },
    ))
}

struct Respelled<'a> {
    vias: &'a [Via],
    from: &'a NameAddr,
    to: &'a NameAddr,
    addresses: &'a [(&'a [u8], Vec<NameAddr>)],
    seq: u32,
    method: &'a [u8],
    max_forwards: Option<u64>,
    body: &'a [u8],
}

/// The checked request in one plain spelling: each header on one line
/// under its full name, one Via value per line, no white space inside the
/// values the transaction layer parses, and the body exactly as long as
/// Content-Length says.
fn respell(msg: &Message, r: &Respelled<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.start_line.len() + msg.rest.len() + 512);
    out.extend_from_slice(&msg.start_line);
    out.extend_from_slice(b"\r\n");
    let mut line = |name: &[u8], value: &[u8]| {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    };
    let mut vias_written = false;
    let mut addresses = r.addresses.iter();
    for h in &msg.headers {
        match h.name.as_slice() {
            b"Via" => {
                if !vias_written {
                    for v in r.vias {
                        line(b"Via", &v.render());
                    }
                    vias_written = true;
                }
            }
            b"From" => line(b"From", &r.from.render()),
            b"To" => line(b"To", &r.to.render()),
            b"CSeq" => line(
                b"CSeq",
                &[format!("{} ", r.seq).as_bytes(), r.method].concat(),
            ),
            b"Max-Forwards" => {
                if let Some(n) = r.max_forwards {
                    line(b"Max-Forwards", n.to_string().as_bytes());
                }
            }
            b"Content-Length" => {}
            b"Contact" if h.value == b"*" => line(b"Contact", b"*"),
            name @ (b"Contact" | b"Route" | b"Record-Route") => {
                if let Some((_, values)) = addresses.next() {
                    let rendered: Vec<Vec<u8>> = values.iter().map(NameAddr::render).collect();
                    line(name, &rendered.join(&b", "[..]));
                }
            }
            name => line(name, &h.value),
        }
    }
    // A Contact we added (see above) has no header of its own to replace.
    for (name, values) in addresses {
        let rendered: Vec<Vec<u8>> = values.iter().map(NameAddr::render).collect();
        line(name, &rendered.join(&b", "[..]));
    }
    line(b"Content-Length", r.body.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(r.body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(v: &Verdict) -> Option<u16> {
        match v {
            Verdict::Reply(bytes) => std::str::from_utf8(&bytes[8..11]).ok()?.parse().ok(),
            _ => None,
        }
    }

    /// Inputs the fuzz target `sip_datagram` (fuzz/) found to break a
    /// promise of the guard: what it passes rsipstack can read, what it
    /// answers is a SIP response.
    #[test]
    fn the_fuzzers_findings_keep_the_guards_promises() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz-regressions/sip_datagram");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            match inspect(&data) {
                Verdict::Pass(bytes) => assert!(
                    rsipstack::sip::SipMessage::try_from(bytes.as_slice()).is_ok(),
                    "{} passed, unreadable",
                    path.display()
                ),
                Verdict::Reply(bytes) => assert!(
                    matches!(
                        rsipstack::sip::SipMessage::try_from(bytes.as_slice()),
                        Ok(rsipstack::sip::SipMessage::Response(_))
                    ),
                    "{} answered with a non-response",
                    path.display()
                ),
                Verdict::Drop(_) => {}
            }
            seen += 1;
        }
        assert!(seen > 0);
    }

    #[test]
    fn an_rfc_2543_invite_gets_a_branch_and_a_from_tag() {
        let msg = b"INVITE sip:UserB@example.com SIP/2.0\r\nVia: SIP/2.0/UDP iftgw.example.com\r\nFrom: <sip:+13035551111@ift.client.example.net;user=phone>\r\nTo: sip:+16505552222@ss1.example.net;user=phone\r\nCall-ID: inv2543.1717@ift.client.example.com\r\nCSeq: 56 INVITE\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n";
        let Verdict::Pass(out) = inspect(msg) else {
            panic!("not passed")
        };
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Via: SIP/2.0/UDP iftgw.example.com;branch=z9hG4bK-tt2543-"));
        assert!(text.contains(";tag=tt2543"));
        assert!(text.ends_with("Content-Length: 5\r\n\r\nv=0\r\n"));
        // The same again (a retransmission) is spelled the same.
        let Verdict::Pass(again) = inspect(msg) else {
            panic!("not passed")
        };
        assert_eq!(again, text.into_bytes());
    }

    #[test]
    fn the_tortuous_invite_is_respelled_plainly_in_its_own_order() {
        let raw = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/rfc4475/wsinv.dat"
        ))
        .unwrap();
        let Verdict::Pass(out) = inspect(&raw) else {
            panic!("not passed")
        };
        let text = String::from_utf8(out).unwrap();
        let head: Vec<&str> = text.split("\r\n\r\n").next().unwrap().lines().collect();
        assert_eq!(
            head.iter()
                .copied()
                .filter(|l| l.starts_with("Via: "))
                .collect::<Vec<_>>(),
            [
                "Via: SIP/2.0/UDP 192.0.2.2;branch=390skdjuw",
                "Via: SIP/2.0/TCP spindle.example.com;branch=z9hG4bK9ikj8",
                "Via: SIP/2.0/UDP 192.168.255.111;branch=z9hG4bK30239",
            ]
        );
        assert!(
            head.contains(
                &"Route: <sip:services.example.com;lr;unknownwith=value;unknown-no-value>"
            )
        );
        assert!(head.contains(&"Contact: \"Quoted string \\\"\\\"\" <sip:jdrosen@example.com>;newparam=newvalue;secondparam;q=0.33"));
        assert!(head.contains(&"CSeq: 9 INVITE"));
        assert!(head.contains(&"Max-Forwards: 68"));
        assert!(head.contains(&"To: <sip:vivekg@chair-dnrc.example.com>;tag=1918181833n"));
        assert!(text.ends_with("a=rtpmap:31 LPC\r\n"));
    }

    #[test]
    fn refusals_carry_what_the_status_needs() {
        let base = |method: &str, extra: &str| {
            format!(
                "{method} sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: c1\r\nCSeq: 1 {method}\r\n{extra}Content-Length: 0\r\n\r\n"
            )
        };
        let v = inspect(base("FOO", "").as_bytes());
        assert_eq!(code(&v), Some(501));
        let v = inspect(base("REGISTER", "").as_bytes());
        assert_eq!(code(&v), Some(405));
        let Verdict::Reply(r) = inspect(base("OPTIONS", "Require: foo, bar\r\n").as_bytes()) else {
            panic!()
        };
        let r = String::from_utf8(r).unwrap();
        assert!(r.starts_with("SIP/2.0 420 "), "{r}");
        assert!(r.contains("Unsupported: foo, bar\r\n"), "{r}");
        assert!(r.contains("To: <sip:a@example.com>;tag="), "{r}");
        assert!(matches!(
            inspect(base("OPTIONS", "").as_bytes()),
            Verdict::Pass(_)
        ));
        assert!(matches!(
            inspect(base("ACK", "Require: foo\r\nDate: yesterday\r\n").as_bytes()),
            Verdict::Drop(_)
        ));
    }
}

/// Random and mutated datagrams against the guard: it never panics, what
/// it passes on is a fixed point of its own spelling and readable by
/// rsipstack, and what it answers is a well-formed response.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// 2000 a test by default; `WIRE_FUZZ_CASES` for a longer run.
    fn fuzz_cases() -> u32 {
        std::env::var("WIRE_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000)
    }

    fn corpus() -> Vec<Vec<u8>> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/rfc4475");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files.iter().map(|p| std::fs::read(p).unwrap()).collect()
    }

    fn check(datagram: &[u8]) -> Result<(), TestCaseError> {
        match inspect(datagram) {
            Verdict::Pass(bytes) => {
                if !datagram.starts_with(b"SIP/") {
                    match inspect(&bytes) {
                        Verdict::Pass(again) => prop_assert_eq!(&again, &bytes),
                        other => prop_assert!(false, "respelled request refused: {other:?}"),
                    }
                    prop_assert!(
                        rsipstack::sip::SipMessage::try_from(bytes.as_slice()).is_ok(),
                        "rsipstack cannot read what the guard passed:\n{}",
                        String::from_utf8_lossy(&bytes)
                    );
                }
            }
            Verdict::Reply(bytes) => {
                prop_assert!(bytes.starts_with(b"SIP/2.0 "));
                prop_assert!(bytes.ends_with(b"Content-Length: 0\r\n\r\n"));
            }
            Verdict::Drop(_) => {}
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(fuzz_cases()))]

        #[test]
        fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
            check(&bytes)?;
        }

        #[test]
        fn mutated_torture_messages(
            pick in any::<prop::sample::Index>(),
            edits in proptest::collection::vec(
                (any::<prop::sample::Index>(), 0u8..3, prop::sample::select(
                    b" \t\r\n:;,<>\"\\/=@0123456789%aZ\x00\xff".to_vec())),
                1..6,
            ),
        ) {
            let corpus = corpus();
            let mut message = corpus[pick.index(corpus.len())].clone();
            for (at, kind, byte) in edits {
                if message.is_empty() {
                    break;
                }
                let i = at.index(message.len());
                match kind {
                    0 => message[i] = byte,
                    1 => message.insert(i, byte),
                    _ => {
                        message.remove(i);
                    }
                }
            }
            check(&message)?;
        }

        #[test]
        fn torture_messages_themselves(pick in any::<prop::sample::Index>()) {
            let corpus = corpus();
            check(&corpus[pick.index(corpus.len())])?;
        }
    }
}
