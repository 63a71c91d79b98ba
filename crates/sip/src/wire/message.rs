//! Framing one datagram into a start line, header fields and a body
//! (RFC 3261 §7, §18.3): header lines unfolded, compact names expanded,
//! the body cut at Content-Length.

use super::scan::{is_token_str, trim};

/// The start line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Start {
    Request { method: Vec<u8>, uri: Vec<u8> },
    Response { code: u16 },
}

/// What is wrong with a start line, for the answer it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartError {
    /// A request line that does not follow the grammar: 400.
    Malformed,
    /// A SIP version other than 2.0: 505.
    Version,
    /// A status line that does not follow the grammar: dropped.
    BadResponse,
}

#[derive(Debug, Clone)]
pub(crate) struct Header {
    /// The canonical name for the headers we know, else as sent.
    pub name: Vec<u8>,
    /// The value, unfolded (each line break and its white space became one
    /// space) and trimmed.
    pub value: Vec<u8>,
}

#[derive(Debug)]
pub(crate) struct Message {
    pub start_line: Vec<u8>,
    pub start: Result<Start, StartError>,
    pub headers: Vec<Header>,
    /// The first header line that is not `name: value`.
    pub header_error: Option<&'static str>,
    /// Everything after the empty line (not yet cut at Content-Length).
    pub rest: Vec<u8>,
}

impl Message {
    pub fn is_request(&self) -> bool {
        !self.start_line.starts_with(b"SIP/")
    }

    pub fn all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let name = name.as_bytes().to_vec();
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(&name))
            .map(|h| h.value.as_slice())
    }

    pub fn first(&self, name: &str) -> Option<&[u8]> {
        self.all(name).next()
    }

    pub fn count(&self, name: &str) -> usize {
        self.all(name).count()
    }
}

/// RFC 3261 §7.3.3 compact forms and the canonical spelling of the names
/// the checks read.
const NAMES: &[(&str, &str)] = &[
    ("i", "Call-ID"),
    ("call-id", "Call-ID"),
    ("m", "Contact"),
    ("contact", "Contact"),
    ("e", "Content-Encoding"),
    ("content-encoding", "Content-Encoding"),
    ("l", "Content-Length"),
    ("content-length", "Content-Length"),
    ("c", "Content-Type"),
    ("content-type", "Content-Type"),
    ("f", "From"),
    ("from", "From"),
    ("s", "Subject"),
    ("subject", "Subject"),
    ("k", "Supported"),
    ("supported", "Supported"),
    ("t", "To"),
    ("to", "To"),
    ("v", "Via"),
    ("via", "Via"),
    ("o", "Event"),
    ("event", "Event"),
    ("r", "Refer-To"),
    ("refer-to", "Refer-To"),
    ("b", "Referred-By"),
    ("referred-by", "Referred-By"),
    ("x", "Session-Expires"),
    ("session-expires", "Session-Expires"),
    ("u", "Allow-Events"),
    ("allow-events", "Allow-Events"),
    ("cseq", "CSeq"),
    ("max-forwards", "Max-Forwards"),
    ("require", "Require"),
    ("proxy-require", "Proxy-Require"),
    ("accept", "Accept"),
    ("date", "Date"),
    ("route", "Route"),
    ("record-route", "Record-Route"),
    ("expires", "Expires"),
    ("allow", "Allow"),
];

fn canonical(name: &[u8]) -> Vec<u8> {
    NAMES
        .iter()
        .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
        .map_or_else(|| name.to_vec(), |(_, c)| c.as_bytes().to_vec())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Frames a datagram (RFC 3261 §7: lines end in CRLF; a bare LF is taken
/// too, as most stacks do).
pub(crate) fn frame(datagram: &[u8]) -> Message {
    let (head, rest) = match find(datagram, b"\r\n\r\n") {
        Some(i) => (&datagram[..i], &datagram[i + 4..]),
        None => match find(datagram, b"\n\n") {
            Some(i) => (&datagram[..i], &datagram[i + 2..]),
            None => (datagram, &[][..]),
        },
    };
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let start_line = lines.next().unwrap_or_default().to_vec();
    let start = start_of(&start_line);
    let mut headers: Vec<Header> = Vec::new();
    let mut header_error = None;
    for line in lines {
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            // A continuation of the previous header's value.
            match headers.last_mut() {
                Some(h) => {
                    let more = trim(line);
                    if !more.is_empty() {
                        if !h.value.is_empty() {
                            h.value.push(b' ');
                        }
                        h.value.extend_from_slice(more);
                    }
                }
                None => header_error = header_error.or(Some("folded line before any header")),
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            header_error = header_error.or(Some("header line without a colon"));
            continue;
        };
        let name = trim(&line[..colon]);
        if !is_token_str(name) {
            header_error = header_error.or(Some("malformed header name"));
            continue;
        }
        headers.push(Header {
            name: canonical(name),
            value: trim(&line[colon + 1..]).to_vec(),
        });
    }
    Message {
        start_line,
        start,
        headers,
        header_error,
        rest: rest.to_vec(),
    }
}

fn version_ok(v: &[u8]) -> Result<(), StartError> {
    let Some(numbers) = v
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case(b"SIP/"))
        .map(|_| &v[4..])
    else {
        return Err(StartError::Malformed);
    };
    let mut parts = numbers.split(|&b| b == b'.');
    let (Some(major), Some(minor), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(StartError::Malformed);
    };
    let digits = |p: &[u8]| !p.is_empty() && p.iter().all(u8::is_ascii_digit);
    if !digits(major) || !digits(minor) {
        return Err(StartError::Malformed);
    }
    if numbers != b"2.0" {
        return Err(StartError::Version);
    }
    Ok(())
}

fn start_of(line: &[u8]) -> Result<Start, StartError> {
    if line.starts_with(b"SIP/") {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        let mut parts = line.splitn(3, |&b| b == b' ');
        let version = parts.next().unwrap_or_default();
        let code = parts.next().unwrap_or_default();
        if version != b"SIP/2.0" || code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
            return Err(StartError::BadResponse);
        }
        let code: u16 = std::str::from_utf8(code)
            .ok()
            .and_then(|c| c.parse().ok())
            .ok_or(StartError::BadResponse)?;
        if !(100..=699).contains(&code) {
            return Err(StartError::BadResponse);
        }
        return Ok(Start::Response { code });
    }
    // Request-Line = Method SP Request-URI SP SIP-Version: exactly one
    // space between the three, none at the end (RFC 4475 §3.1.2.8-10).
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let [method, uri, version] = parts.as_slice() else {
        // Tell a wrong version apart even on an odd line.
        return Err(match parts.last() {
            Some(v) if version_ok(v) == Err(StartError::Version) => StartError::Version,
            _ => StartError::Malformed,
        });
    };
    version_ok(version)?;
    if !is_token_str(method) || !super::scan::uri_is_well_formed(uri) {
        return Err(StartError::Malformed);
    }
    Ok(Start::Request {
        method: method.to_vec(),
        uri: uri.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_headers_are_unfolded_and_compact_names_expanded() {
        let m = frame(b"INVITE sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h\r\n ;branch=x\r\ncseq: 0009\r\n  INVITE\r\n\r\nbody");
        assert_eq!(m.first("Via"), Some(&b"SIP/2.0/UDP h ;branch=x"[..]));
        assert_eq!(m.first("CSeq"), Some(&b"0009 INVITE"[..]));
        assert_eq!(m.rest, b"body");
    }

    #[test]
    fn start_lines_follow_the_grammar() {
        assert!(frame(b"INVITE  sip:a@b  SIP/2.0\r\n\r\n").start.is_err());
        assert!(frame(b"OPTIONS sip:a@b SIP/2.0  \r\n\r\n").start.is_err());
        assert_eq!(
            frame(b"OPTIONS sip:a@b SIP/7.0\r\n\r\n").start,
            Err(StartError::Version)
        );
        assert_eq!(
            frame(b"SIP/2.0 4294967301 x\r\n\r\n").start,
            Err(StartError::BadResponse)
        );
        assert_eq!(
            frame(b"SIP/2.0 100 \r\n\r\n").start,
            Ok(Start::Response { code: 100 })
        );
    }
}
