//! DTMF in SIP INFO bodies: `application/dtmf-relay` (`Signal=5\r\nDuration=160`)
//! and `application/dtmf` (the bare key). Neither has an RFC; these are the
//! forms Cisco, Asterisk and the trunks that copy them send.

use super::Digit;

/// The digit carried by an INFO body of the given content type, or `None`
/// when the type is not a DTMF one or the body names no key.
pub fn parse_info_body(content_type: &str, body: &[u8]) -> Option<Digit> {
    let media_type = content_type.split(';').next()?.trim().to_ascii_lowercase();
    let text = std::str::from_utf8(body).ok()?;
    match media_type.as_str() {
        "application/dtmf-relay" => text.lines().find_map(|line| {
            let (name, value) = line.split_once('=')?;
            if !name.trim().eq_ignore_ascii_case("signal") {
                return None;
            }
            signal_digit(value.trim())
        }),
        "application/dtmf" => signal_digit(text.trim()),
        _ => None,
    }
}

fn signal_digit(value: &str) -> Option<Digit> {
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Digit::from_char(c),
        // Some senders write the event code (10 = '*', 11 = '#').
        _ => value.parse::<u8>().ok().and_then(Digit::from_event_code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_relay_bodies() {
        let d = parse_info_body("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n");
        assert_eq!(d.map(Digit::as_char), Some('5'));
        let d = parse_info_body("Application/DTMF-Relay", b"Signal= #\nDuration= 250");
        assert_eq!(d.map(Digit::as_char), Some('#'));
        let d = parse_info_body("application/dtmf-relay", b"Signal=11\r\n");
        assert_eq!(d.map(Digit::as_char), Some('#'));
    }

    #[test]
    fn dtmf_bodies() {
        let d = parse_info_body("application/dtmf", b"*\r\n");
        assert_eq!(d.map(Digit::as_char), Some('*'));
        let d = parse_info_body("application/dtmf; charset=x", b"7");
        assert_eq!(d.map(Digit::as_char), Some('7'));
    }

    #[test]
    fn anything_else_is_not_a_digit() {
        assert!(parse_info_body("application/sdp", b"Signal=5").is_none());
        assert!(parse_info_body("application/dtmf-relay", b"Duration=160").is_none());
        assert!(parse_info_body("application/dtmf-relay", b"Signal=X").is_none());
        assert!(parse_info_body("application/dtmf-relay", b"Signal=99").is_none());
        assert!(parse_info_body("application/dtmf", &[0xFF, 0xFE]).is_none());
    }
}
