//! RFC 7616 / RFC 8760 digest against a trunk written here on a loopback
//! UDP socket, because sipp's `verifyauth` checks MD5 only: the trunk
//! challenges with `algorithm=SHA-256` and a qop list (as Kamailio,
//! FreeSWITCH and carriers do), and checks the answer with its own SHA-256
//! computation before it answers the call.

use sha2::{Digest, Sha256};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};
use touchtone_sip::DialError;

mod common;
use common::{dial_through_trunk, wait_for_no_calls};

const USER: &str = "trunkuser";
const PASSWORD: &str = "s3cret";
const REALM: &str = "trunk.test";

/// What the trunk saw of the engine's answer to its challenge.
#[derive(Debug)]
struct Seen {
    credentials: String,
    verified: bool,
    bye: bool,
}

/// `name`'s value in a header's `k=v, k="v"` list.
fn param(value: &str, name: &str) -> Option<String> {
    let mut rest = value.split_once(' ').map_or(value, |(_, r)| r);
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (v, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        if key.trim().eq_ignore_ascii_case(name) {
            return Some(v.to_string());
        }
        rest = tail.trim_start_matches([',', ' ']);
    }
    None
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks an RFC 7616 SHA-256 answer with qop=auth.
fn valid_sha256_answer(credentials: &str, method: &str) -> bool {
    let p = |n| param(credentials, n).unwrap_or_default();
    if !p("algorithm").eq_ignore_ascii_case("SHA-256") || p("qop") != "auth" {
        return false;
    }
    let ha1 = sha256_hex(&format!("{}:{}:{PASSWORD}", p("username"), p("realm")));
    let ha2 = sha256_hex(&format!("{method}:{}", p("uri")));
    let expected = sha256_hex(&format!(
        "{ha1}:{}:{}:{}:auth:{ha2}",
        p("nonce"),
        p("nc"),
        p("cnonce")
    ));
    p("username") == USER && p("realm") == REALM && p("response") == expected
}

fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}

/// A response to `request` copying its Via, From, To, Call-ID and CSeq.
fn reply(request: &str, status: &str, extra: &str, body: &str) -> String {
    let mut out = format!("SIP/2.0 {status}\r\n");
    for line in request.lines() {
        let key = line.split(':').next().unwrap_or("").trim();
        if ["via", "v", "from", "f", "call-id", "i", "cseq"]
            .iter()
            .any(|k| key.eq_ignore_ascii_case(k))
        {
            out.push_str(line.trim_end());
            out.push_str("\r\n");
        }
    }
    let to = header(request, "To").unwrap_or("");
    if to.contains("tag=") {
        out.push_str(&format!("To: {to}\r\n"));
    } else {
        out.push_str(&format!("To: {to};tag=trunk1\r\n"));
    }
    out.push_str(extra);
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out
}

/// Runs the trunk until the call it answered is hung up (or it refused
/// the answer), at most 15 s. `status` is 401 or 407.
fn run_trunk(socket: UdpSocket, status: u16, challenges: Vec<String>) -> Seen {
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let own = socket.local_addr().unwrap();
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    let media_port = media.local_addr().unwrap().port();
    let (challenge_header, answer_header, reason) = if status == 407 {
        (
            "Proxy-Authenticate",
            "Proxy-Authorization",
            "Proxy Authentication Required",
        )
    } else {
        ("WWW-Authenticate", "Authorization", "Unauthorized")
    };
    let mut seen = Seen {
        credentials: String::new(),
        verified: false,
        bye: false,
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut buf = vec![0u8; 65536];
    while Instant::now() < deadline {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let message = String::from_utf8_lossy(&buf[..n]).to_string();
        let method = message.split(' ').next().unwrap_or("");
        let response = match method {
            "INVITE" => match header(&message, answer_header) {
                None => {
                    let extra: String = challenges
                        .iter()
                        .map(|c| format!("{challenge_header}: {c}\r\n"))
                        .collect();
                    reply(&message, &format!("{status} {reason}"), &extra, "")
                }
                Some(credentials) => {
                    seen.credentials = credentials.to_string();
                    seen.verified = valid_sha256_answer(credentials, "INVITE");
                    if seen.verified {
                        let sdp = format!(
                            "v=0\r\no=trunk 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
                             t=0 0\r\nm=audio {media_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                        );
                        let contact = format!(
                            "Contact: <sip:callee@{own}>\r\nContent-Type: application/sdp\r\n"
                        );
                        reply(&message, "200 OK", &contact, &sdp)
                    } else {
                        reply(&message, "403 Forbidden", "", "")
                    }
                }
            },
            "BYE" => {
                seen.bye = true;
                reply(&message, "200 OK", "", "")
            }
            "ACK" => {
                if !seen.verified && !seen.credentials.is_empty() {
                    return seen; // the refusal was acknowledged
                }
                continue;
            }
            _ => continue,
        };
        socket.send_to(response.as_bytes(), from).unwrap();
        if seen.bye {
            return seen;
        }
    }
    seen
}

async fn dial_challenging_trunk(
    status: u16,
    challenges: Vec<String>,
    password: &str,
) -> (Result<(), DialError>, Seen) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let trunk_addr: SocketAddr = socket.local_addr().unwrap();
    let trunk = std::thread::spawn(move || run_trunk(socket, status, challenges));
    let (engine, dialled) = dial_through_trunk(trunk_addr, USER, password).await;
    let result = match dialled {
        Ok(mut channel) => {
            channel.hangup().await;
            Ok(())
        }
        Err(e) => Err(e),
    };
    let seen = tokio::task::spawn_blocking(move || trunk.join().unwrap())
        .await
        .unwrap();
    wait_for_no_calls(&engine).await;
    (result, seen)
}

fn challenge(nonce: &str, algorithm: &str, qop: &str) -> String {
    format!(r#"Digest realm="{REALM}", nonce="{nonce}", algorithm={algorithm}, qop="{qop}""#)
}

#[tokio::test]
async fn a_sha_256_challenge_with_a_qop_list_is_answered_even_after_an_md5_one() {
    let challenges = vec![
        challenge("md5nonce", "MD5", "auth"),
        challenge("sha256nonce", "SHA-256", "auth,auth-int"),
    ];
    let (result, seen) = dial_challenging_trunk(401, challenges, PASSWORD).await;
    assert!(seen.verified, "the trunk refused {:?}", seen.credentials);
    assert!(
        seen.credentials.contains(r#"nonce="sha256nonce""#),
        "{}",
        seen.credentials
    );
    assert_eq!(result, Ok(()));
    assert!(seen.bye, "the call was not hung up with a BYE");
}

#[tokio::test]
async fn a_proxy_challenge_with_sha_256_is_answered_with_proxy_authorization() {
    let challenges = vec![challenge("proxynonce", "SHA-256", "auth")];
    let (result, seen) = dial_challenging_trunk(407, challenges, PASSWORD).await;
    assert!(seen.verified, "the trunk refused {:?}", seen.credentials);
    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn a_wrong_password_against_sha_256_is_an_authentication_failure() {
    let challenges = vec![challenge("sha256nonce", "SHA-256", "auth")];
    let (result, seen) = dial_challenging_trunk(401, challenges, "wrong").await;
    assert!(!seen.verified);
    assert!(
        seen.credentials.contains("algorithm=SHA-256"),
        "{}",
        seen.credentials
    );
    assert_eq!(result, Err(DialError::AuthenticationFailed(403)));
}
