//! Stateless responses (RFC 3261 §8.2.6, §8.2.7) to requests that never
//! reach the transaction layer: the request's Via, From, To, Call-ID and
//! CSeq copied back, a To tag added, and the headers the status needs.

use super::message::Message;

/// A response to `request` with `code` and `reason`, plus `extra` header
/// lines (each without its line end).
pub(crate) fn stateless(request: &Message, code: u16, reason: &str, extra: &[String]) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {code} {reason}\r\n").into_bytes();
    let mut line = |name: &str, value: &[u8]| {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    };
    for via in request.all("Via") {
        line("Via", via);
    }
    if let Some(from) = request.first("From") {
        line("From", from);
    }
    if let Some(to) = request.first("To") {
        let has_tag = super::scan::name_addrs(to, false)
            .ok()
            .and_then(|a| a.into_iter().next())
            .is_some_and(|a| a.param("tag").is_some());
        if has_tag || code == 100 {
            line("To", to);
        } else {
            let mut to = to.to_vec();
            to.extend_from_slice(format!(";tag={:08x}", rand::random::<u32>()).as_bytes());
            line("To", &to);
        }
    }
    if let Some(call_id) = request.first("Call-ID") {
        line("Call-ID", call_id);
    }
    if let Some(cseq) = request.first("CSeq") {
        line("CSeq", cseq);
    }
    for e in extra {
        out.extend_from_slice(e.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    out
}
