//! Digest challenges as trunks really send them, made answerable.
//!
//! rsipstack 0.7.14 computes MD5 and SHA-256 digests correctly but reads
//! only part of what RFC 7616 / RFC 8760 servers send:
//!
//! - it knows the algorithm only as `SHA256`, while the RFCs' token (and
//!   what Kamailio, FreeSWITCH and carriers send) is `SHA-256`; a challenge
//!   with `algorithm=SHA-256` fails to parse and the call fails;
//! - it parses `qop` as one value, while servers commonly offer a list
//!   (`qop="auth,auth-int"`);
//! - it answers the first `WWW-Authenticate` of a response, while RFC 7616
//!   servers send one per algorithm and the client should take the
//!   strongest it supports;
//! - it writes `algorithm=SHA256` back, which a strict server rejects.
//!
//! No other crate does SIP digest on rsipstack's messages, so this small
//! rewrite sits in the endpoint's message inspector: each 401/407 keeps its
//! strongest usable challenge, spelled the way rsipstack reads it, and each
//! outgoing `Authorization` / `Proxy-Authorization` has its algorithm
//! spelled the RFC's way (the token is not part of the hash, so the
//! response stays valid). Both rewrites are idempotent: rsipstack runs the
//! inspector twice on some responses.

use rsipstack::sip::{Header, SipMessage};
use rsipstack::transaction::endpoint::MessageInspector;
use rsipstack::transport::SipAddr;

/// The endpoint's message inspector (see the module documentation).
pub(crate) struct DigestCompat;

impl MessageInspector for DigestCompat {
    fn before_send(&self, mut msg: SipMessage, _dest: Option<&SipAddr>) -> SipMessage {
        if let SipMessage::Request(request) = &mut msg {
            for header in request.headers.iter_mut() {
                match header {
                    Header::Authorization(h) => {
                        let value = credentials_for_the_wire(h.value());
                        h.replace(value);
                    }
                    Header::ProxyAuthorization(h) => {
                        let value = credentials_for_the_wire(h.value());
                        h.replace(value);
                    }
                    _ => {}
                }
            }
        }
        msg
    }

    fn after_received(&self, mut msg: SipMessage, _from: Option<&SipAddr>) -> SipMessage {
        if let SipMessage::Response(response) = &mut msg {
            let code = u16::from(response.status_code.clone());
            if code == 401 || code == 407 {
                keep_best_challenges(&mut response.headers.0);
            }
        }
        msg
    }
}

/// Keeps, for each of WWW-Authenticate and Proxy-Authenticate, only the
/// strongest challenge we can answer, rewritten for rsipstack. A header
/// kind with no usable challenge is left alone (the call then fails as an
/// authentication failure, which is the truth).
fn keep_best_challenges(headers: &mut Vec<Header>) {
    for proxy in [false, true] {
        let Some(best) = best_of(headers.iter().filter_map(|h| challenge_of(h, proxy))) else {
            continue;
        };
        // The first challenge of the kind is rewritten in place, the rest go.
        let mut kept = false;
        headers.retain_mut(|h| {
            if challenge_of(h, proxy).is_none() {
                return true;
            }
            if kept {
                return false;
            }
            kept = true;
            *h = if proxy {
                Header::ProxyAuthenticate(best.clone().into())
            } else {
                Header::WwwAuthenticate(best.clone().into())
            };
            true
        });
    }
}

/// A Proxy-Authenticate (`proxy`) or WWW-Authenticate header's value.
fn challenge_of(header: &Header, proxy: bool) -> Option<&str> {
    match (header, proxy) {
        (Header::WwwAuthenticate(v), false) => Some(v.value()),
        (Header::ProxyAuthenticate(v), true) => Some(v.value()),
        _ => None,
    }
}

/// The strongest usable challenge among `values`, rewritten; the first of
/// equal strength wins (servers list them in their order of preference).
fn best_of<'a>(values: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(u8, String)> = None;
    for value in values {
        if let Some((rank, rewritten)) = usable_challenge(value)
            && best.as_ref().is_none_or(|(r, _)| rank > *r)
        {
            best = Some((rank, rewritten));
        }
    }
    best.map(|(_, value)| value)
}

/// A challenge's strength (MD5 1, SHA-256 2) and its rewrite with one qop
/// and rsipstack's algorithm spelling; `None` when it is not a Digest
/// challenge we can answer (no realm or nonce, SHA-512-256, which
/// rsipstack does not compute, or a qop list with neither `auth` nor
/// `auth-int`).
fn usable_challenge(value: &str) -> Option<(u8, String)> {
    let (scheme, mut params) = split_challenge(value)?;
    let has = |name: &str| params.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if !scheme.eq_ignore_ascii_case("digest") || !has("realm") || !has("nonce") {
        return None;
    }
    let mut rank = 1;
    for (name, raw) in params.iter_mut() {
        if name.eq_ignore_ascii_case("algorithm") {
            let (algorithm_rank, spelled) = match unquote(raw).to_ascii_lowercase().as_str() {
                "md5" => (1, "MD5"),
                "md5-sess" => (1, "MD5-sess"),
                "sha-256" | "sha256" => (2, "SHA256"),
                "sha-256-sess" | "sha256-sess" => (2, "SHA256-sess"),
                _ => return None,
            };
            rank = algorithm_rank;
            *raw = spelled.to_string();
        } else if name.eq_ignore_ascii_case("qop") {
            let offered: Vec<String> = unquote(raw)
                .split(',')
                .map(|q| q.trim().to_ascii_lowercase())
                .collect();
            // auth protects less than auth-int but needs no body hash and
            // every server that offers auth-int offers auth as well.
            let chosen = ["auth", "auth-int"]
                .into_iter()
                .find(|q| offered.iter().any(|o| o == q))?;
            *raw = format!("\"{chosen}\"");
        }
    }
    Some((rank, join_challenge(scheme, &params)))
}

/// An outgoing Authorization value with the algorithm spelled as RFC 7616
/// registers it (`SHA-256`, `SHA-256-sess`).
fn credentials_for_the_wire(value: &str) -> String {
    let Some((scheme, mut params)) = split_challenge(value) else {
        return value.to_string();
    };
    let mut changed = false;
    for (name, raw) in params.iter_mut() {
        if name.eq_ignore_ascii_case("algorithm") {
            let spelled = match unquote(raw).to_ascii_lowercase().as_str() {
                "sha256" => "SHA-256",
                "sha256-sess" => "SHA-256-sess",
                _ => continue,
            };
            *raw = spelled.to_string();
            changed = true;
        }
    }
    if changed {
        join_challenge(scheme, &params)
    } else {
        value.to_string()
    }
}

/// Splits `Scheme k1=v1, k2="v, 2"` into the scheme and (name, raw value)
/// pairs, commas inside quoted strings (with `\` escapes) kept.
fn split_challenge(value: &str) -> Option<(&str, Vec<(&str, String)>)> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    let mut params = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    let bytes = rest.as_bytes();
    for i in 0..=bytes.len() {
        let at_end = i == bytes.len();
        if !at_end {
            let b = bytes[i];
            if escaped {
                escaped = false;
                continue;
            }
            match b {
                b'\\' if in_quotes => escaped = true,
                b'"' => in_quotes = !in_quotes,
                _ => {}
            }
            if b != b',' || in_quotes {
                continue;
            }
        }
        let part = rest[start..i].trim();
        start = i + 1;
        if part.is_empty() {
            continue;
        }
        let (name, raw) = part.split_once('=')?;
        params.push((name.trim(), raw.trim().to_string()));
    }
    if in_quotes {
        return None;
    }
    Some((scheme, params))
}

fn join_challenge(scheme: &str, params: &[(&str, String)]) -> String {
    let joined: Vec<String> = params
        .iter()
        .map(|(name, raw)| format!("{name}={raw}"))
        .collect();
    format!("{scheme} {}", joined.join(", "))
}

fn unquote(raw: &str) -> &str {
    raw.strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsipstack::sip::headers::auth::{Algorithm, Qop};
    use rsipstack::sip::headers::typed::WwwAuthenticate;

    #[test]
    fn an_rfc_7616_challenge_becomes_one_rsipstack_reads() {
        let (rank, value) = usable_challenge(
            r#"Digest realm="trunk.test", nonce="a,b", algorithm=SHA-256, qop="auth,auth-int""#,
        )
        .unwrap();
        assert_eq!(rank, 2);
        let parsed = WwwAuthenticate::parse(&value).unwrap();
        assert_eq!(parsed.algorithm, Some(Algorithm::Sha256));
        assert_eq!(parsed.qop, Some(Qop::Auth));
        assert_eq!(parsed.nonce, "a,b");
        assert_eq!(parsed.realm, "trunk.test");
        // Idempotent: the inspector sees some responses twice.
        assert_eq!(usable_challenge(&value).unwrap().1, value);
    }

    #[test]
    fn the_strongest_usable_challenge_is_kept_whatever_the_order() {
        let mut headers = vec![
            Header::WwwAuthenticate(r#"Digest realm="r", nonce="1", algorithm=MD5"#.into()),
            Header::WwwAuthenticate(
                r#"Digest realm="r", nonce="2", algorithm=SHA-512-256, qop="auth""#.into(),
            ),
            Header::WwwAuthenticate(
                r#"Digest realm="r", nonce="3", algorithm=SHA-256, qop="auth""#.into(),
            ),
            Header::Other("X-Keep".into(), "yes".into()),
        ];
        keep_best_challenges(&mut headers);
        assert_eq!(headers.len(), 2);
        let Header::WwwAuthenticate(kept) = &headers[0] else {
            panic!("{headers:?}");
        };
        assert!(kept.value().contains(r#"nonce="3""#), "{}", kept.value());
        assert!(kept.value().contains("algorithm=SHA256"));
    }

    #[test]
    fn challenges_we_cannot_answer_are_left_alone() {
        for value in [
            r#"Digest realm="r", nonce="1", algorithm=SHA-512-256"#,
            r#"Digest realm="r", nonce="1", qop="auth-conf""#,
            r#"Basic realm="r""#,
            r#"Digest realm="r, nonce=1"#,
            r#"Digest realm="r""#,
        ] {
            assert_eq!(usable_challenge(value), None, "{value}");
            let mut headers = vec![Header::WwwAuthenticate(value.into())];
            keep_best_challenges(&mut headers);
            assert_eq!(headers, vec![Header::WwwAuthenticate(value.into())]);
        }
        // An old RFC 2617 challenge without algorithm or qop is MD5.
        let (rank, _) = usable_challenge(r#"Digest realm="r", nonce="1""#).unwrap();
        assert_eq!(rank, 1);
    }

    #[test]
    fn answers_name_the_algorithm_the_rfc_way() {
        let ours = r#"Digest username="u", realm="r", nonce="n", uri="sip:x@y", response="ab", algorithm=SHA256, qop=auth, nc=00000001, cnonce="c""#;
        let wire = credentials_for_the_wire(ours);
        assert!(wire.contains("algorithm=SHA-256,"), "{wire}");
        assert!(wire.contains(r#"uri="sip:x@y""#));
        assert_eq!(credentials_for_the_wire(&wire), wire);
        let md5 = r#"Digest username="u", algorithm=MD5"#;
        assert_eq!(credentials_for_the_wire(md5), md5);
    }
}
