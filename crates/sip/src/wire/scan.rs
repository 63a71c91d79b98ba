//! The pieces of RFC 3261's grammar (§25.1) that a UAS must check before it
//! acts on a request: tokens, quoted strings, parameters, Via values and
//! name-addr / addr-spec values. Each reader both checks its piece and
//! writes it back in one plain spelling (no line folding, no white space
//! round `/`, `;` or `=`), which is what the transaction layer behind us
//! reads reliably.
//!
//! Written by hand: no crate checks SIP on raw bytes the way §8.2 needs
//! (rsipstack's own parser is the one being guarded; `rsip`, its ancestor,
//! is unmaintained and similarly liberal), and the grammar needed here is
//! small.

/// RFC 3261 `token` characters.
pub(crate) fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

pub(crate) fn is_token_str(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token(b))
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// A header parameter: `name` or `name=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    pub name: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

/// One name-addr or addr-spec value (To, From, Contact, Route, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameAddr {
    /// The display name as it will be written: a quoted string (with its
    /// quotes) or nothing.
    pub display: Option<Vec<u8>>,
    pub uri: Vec<u8>,
    pub params: Vec<Param>,
}

impl NameAddr {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name.as_bytes()))
    }

    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.uri.len() + 32);
        if let Some(d) = &self.display {
            out.extend_from_slice(d);
            out.push(b' ');
        }
        out.push(b'<');
        out.extend_from_slice(&self.uri);
        out.push(b'>');
        render_params(&self.params, &mut out);
        out
    }
}

/// One Via value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Via {
    pub protocol: Vec<u8>,
    pub version: Vec<u8>,
    pub transport: Vec<u8>,
    pub sent_by: Vec<u8>,
    pub params: Vec<Param>,
}

impl Via {
    pub fn branch(&self) -> Option<&[u8]> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(b"branch"))
            .and_then(|p| p.value.as_deref())
    }

    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.sent_by.len() + 48);
        out.extend_from_slice(&self.protocol);
        out.push(b'/');
        out.extend_from_slice(&self.version);
        out.push(b'/');
        out.extend_from_slice(&self.transport);
        out.push(b' ');
        out.extend_from_slice(&self.sent_by);
        render_params(&self.params, &mut out);
        out
    }
}

fn render_params(params: &[Param], out: &mut Vec<u8>) {
    for p in params {
        out.push(b';');
        out.extend_from_slice(&p.name);
        if let Some(v) = &p.value {
            out.push(b'=');
            out.extend_from_slice(v);
        }
    }
}

/// A cursor over one header value.
struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a [u8]) -> Self {
        Cursor { s, at: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn eof(&self) -> bool {
        self.at >= self.s.len()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.at += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.at;
        while self.peek().is_some_and(&f) {
            self.at += 1;
        }
        &self.s[start..self.at]
    }

    fn token(&mut self) -> &'a [u8] {
        self.take_while(is_token)
    }

    /// A quoted string, quotes included; the cursor is on the opening `"`.
    fn quoted(&mut self) -> Result<&'a [u8], &'static str> {
        let start = self.at;
        self.at += 1;
        loop {
            match self.peek() {
                None => return Err("unterminated quoted string"),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(&self.s[start..self.at]);
                }
                Some(b'\\') => {
                    // quoted-pair: any octet but CR and LF may follow.
                    match self.s.get(self.at + 1) {
                        None | Some(b'\r') | Some(b'\n') => {
                            return Err("unterminated quoted string");
                        }
                        Some(_) => self.at += 2,
                    }
                }
                Some(b'\r') | Some(b'\n') => return Err("line break in a quoted string"),
                Some(_) => self.at += 1,
            }
        }
    }

    /// `*( SEMI param )`: stops at `,` (when `comma_ends`) or the end.
    fn params(&mut self, comma_ends: bool) -> Result<Vec<Param>, &'static str> {
        let mut params = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Ok(params),
                Some(b',') if comma_ends => return Ok(params),
                Some(b';') => self.at += 1,
                Some(_) => return Err("unexpected characters after a value"),
            }
            self.skip_ws();
            let name = self.token();
            if name.is_empty() {
                return Err("empty parameter");
            }
            let name = name.to_vec();
            self.skip_ws();
            let value = if self.eat(b'=') {
                self.skip_ws();
                let value = match self.peek() {
                    Some(b'"') => self.quoted()?,
                    Some(b'[') => {
                        let start = self.at;
                        self.take_while(|b| b != b']' && !is_ws(b));
                        if !self.eat(b']') {
                            return Err("unterminated IPv6 reference");
                        }
                        &self.s[start..self.at]
                    }
                    _ => self.take_while(|b| is_token(b) || b == b':'),
                };
                if value.is_empty() {
                    return Err("parameter without a value after =");
                }
                Some(value.to_vec())
            } else {
                None
            };
            params.push(Param { name, value });
        }
    }
}

/// Whether `uri` starts with a scheme (`ALPHA *( ALPHA / DIGIT / + / - / . ) :`)
/// and has no white space, angle brackets, control or non-ASCII octets.
pub(crate) fn uri_is_well_formed(uri: &[u8]) -> bool {
    let Some(colon) = uri.iter().position(|&b| b == b':') else {
        return false;
    };
    let scheme = &uri[..colon];
    scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        && colon + 1 < uri.len()
        // URIs are ASCII (RFC 3986 §2; anything else is %-escaped).
        && !uri
            .iter()
            .any(|&b| is_ws(b) || b == b'<' || b == b'>' || !(0x20..0x7f).contains(&b))
}

/// The URI's scheme, lower-cased.
pub(crate) fn scheme(uri: &[u8]) -> Vec<u8> {
    uri.iter()
        .take_while(|&&b| b != b':')
        .map(u8::to_ascii_lowercase)
        .collect()
}

/// Every Via value of one header (comma-separated values allowed).
pub(crate) fn via_values(value: &[u8]) -> Result<Vec<Via>, &'static str> {
    let mut c = Cursor::new(value);
    let mut out = Vec::new();
    loop {
        c.skip_ws();
        let protocol = c.token().to_vec();
        c.skip_ws();
        if protocol.is_empty() || !c.eat(b'/') {
            return Err("malformed Via");
        }
        c.skip_ws();
        let version = c.token().to_vec();
        c.skip_ws();
        if version.is_empty() || !c.eat(b'/') {
            return Err("malformed Via");
        }
        c.skip_ws();
        let transport = c.token().to_vec();
        if transport.is_empty() || !c.peek().is_some_and(is_ws) {
            return Err("malformed Via");
        }
        c.skip_ws();
        let sent_by = if c.peek() == Some(b'[') {
            c.take_while(|b| !is_ws(b) && b != b';' && b != b',')
        } else {
            c.take_while(|b| b.is_ascii_alphanumeric() || b"-.:_".contains(&b))
        };
        if sent_by.is_empty() {
            return Err("Via without a sent-by host");
        }
        let sent_by = sent_by.to_vec();
        let params = c.params(true)?;
        out.push(Via {
            protocol,
            version,
            transport,
            sent_by,
            params,
        });
        if c.eof() {
            return Ok(out);
        }
        // On a comma: another value must follow.
        c.at += 1;
        c.skip_ws();
        if c.eof() || c.peek() == Some(b',') {
            return Err("empty Via value");
        }
    }
}

/// The name-addr / addr-spec values of one header; `multiple` allows a
/// comma-separated list (Contact, Route, Record-Route).
pub(crate) fn name_addrs(value: &[u8], multiple: bool) -> Result<Vec<NameAddr>, &'static str> {
    let mut c = Cursor::new(value);
    let mut out = Vec::new();
    loop {
        c.skip_ws();
        let display = match c.peek() {
            None => return Err("empty address"),
            Some(b'"') => {
                let d = c.quoted()?.to_vec();
                c.skip_ws();
                if c.peek() != Some(b'<') {
                    return Err("a display name must be followed by <URI>");
                }
                Some(d)
            }
            Some(b'<') => None,
            Some(_) => display_tokens(&mut c)?,
        };
        let (uri, bracketed) = if c.eat(b'<') {
            let uri = c.take_while(|b| b != b'>');
            if !c.eat(b'>') {
                return Err("unterminated <URI>");
            }
            (uri, true)
        } else {
            // addr-spec: up to the first parameter, comma or space.
            (
                c.take_while(|b| b != b';' && !is_ws(b) && !(multiple && b == b',')),
                false,
            )
        };
        if !uri_is_well_formed(uri) {
            return Err("malformed URI in an address");
        }
        if !bracketed && (uri.contains(&b'?') || uri.contains(&b',')) {
            return Err("a URI with headers or commas must be enclosed in <>");
        }
        let uri = uri.to_vec();
        let params = c.params(multiple)?;
        out.push(NameAddr {
            display,
            uri,
            params,
        });
        if c.eof() {
            return Ok(out);
        }
        c.at += 1; // the comma
    }
}

/// A display name of tokens (`*(token LWS)` before `<`), returned quoted;
/// `None` (cursor unmoved) when what follows is an addr-spec instead.
fn display_tokens(c: &mut Cursor<'_>) -> Result<Option<Vec<u8>>, &'static str> {
    let start = c.at;
    let mut words: Vec<&[u8]> = Vec::new();
    loop {
        let word = c.token();
        if word.is_empty() {
            break;
        }
        words.push(word);
        c.skip_ws();
    }
    match c.peek() {
        // RFC 4475 §3.1.1.6: no space before `<` is accepted.
        Some(b'<') if !words.is_empty() => {
            let mut quoted = vec![b'"'];
            quoted.extend_from_slice(&words.join(&b' '));
            quoted.push(b'"');
            Ok(Some(quoted))
        }
        // `scheme:` — an addr-spec, not a display name.
        Some(b':') if words.len() == 1 => {
            c.at = start;
            Ok(None)
        }
        _ => Err("a display name with other than token characters must be quoted"),
    }
}

/// `CSeq`: (number, method) with the number within 2³²−1.
pub(crate) fn cseq(value: &[u8]) -> Result<(u32, Vec<u8>), &'static str> {
    let mut c = Cursor::new(value);
    c.skip_ws();
    let digits = c.take_while(|b| b.is_ascii_digit());
    let ws = c.take_while(is_ws);
    let method = c.token();
    c.skip_ws();
    if digits.is_empty() || ws.is_empty() || method.is_empty() || !c.eof() {
        return Err("malformed CSeq");
    }
    let number = number(digits, u32::MAX.into()).ok_or("CSeq number out of range")?;
    Ok((number as u32, method.to_vec()))
}

/// A decimal number of at most `max` (leading zeros allowed).
pub(crate) fn number(digits: &[u8], max: u64) -> Option<u64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let significant = digits
        .iter()
        .skip_while(|&&b| b == b'0')
        .copied()
        .collect::<Vec<u8>>();
    if significant.len() > 20 {
        return None;
    }
    let n = std::str::from_utf8(&significant).ok().map(|s| {
        if s.is_empty() {
            Some(0)
        } else {
            s.parse().ok()
        }
    })?;
    n.filter(|&n| n <= max)
}

/// A comma-separated list of tokens (Require, Supported, ...).
pub(crate) fn token_list(value: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    let mut out = Vec::new();
    for item in value.split(|&b| b == b',') {
        let item = trim(item);
        if !is_token_str(item) {
            return Err("malformed option tag");
        }
        out.push(item.to_vec());
    }
    Ok(out)
}

/// The `type/subtype` of a media type (Content-Type, an Accept entry),
/// lower-cased, without parameters.
pub(crate) fn media_type(value: &[u8]) -> Option<Vec<u8>> {
    let main = value.split(|&b| b == b';').next().map(trim)?;
    let slash = main.iter().position(|&b| b == b'/')?;
    let (t, s) = (trim(&main[..slash]), trim(&main[slash + 1..]));
    (is_token_str(t) && is_token_str(s)).then(|| {
        let mut v = t.to_ascii_lowercase();
        v.push(b'/');
        v.extend(s.iter().map(u8::to_ascii_lowercase));
        v
    })
}

/// RFC 3261 §20.17: `Date` is an RFC 1123 date whose zone is `GMT`.
pub(crate) fn date_is_valid(value: &[u8]) -> bool {
    // "Sat, 13 Nov 2010 23:29:00 GMT"
    let Ok(text) = std::str::from_utf8(value) else {
        return false;
    };
    let parts: Vec<&str> = text.split_ascii_whitespace().collect();
    let [wkday, day, month, year, time, zone] = parts.as_slice() else {
        return false;
    };
    const DAYS: [&str; 7] = ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let time_ok = {
        let t: Vec<&str> = time.split(':').collect();
        t.len() == 3
            && t.iter()
                .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    DAYS.contains(wkday)
        && day.len() == 2
        && day.bytes().all(|b| b.is_ascii_digit())
        && MONTHS.contains(month)
        && year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && time_ok
        && *zone == "GMT"
}

pub(crate) fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_ws(b)).map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tortuous_via_values_are_read_and_respelled() {
        let vias = via_values(
            b"SIP  / 2.0  / TCP     spindle.example.com   ;   branch  =   z9hG4bK9ikj8  ,  SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239",
        )
        .unwrap();
        assert_eq!(vias.len(), 2);
        assert_eq!(
            vias[0].render(),
            b"SIP/2.0/TCP spindle.example.com;branch=z9hG4bK9ikj8"
        );
        assert_eq!(vias[1].branch(), Some(&b"z9hG4bK30239"[..]));
        assert!(via_values(b"SIP/2.0/UDP 192.0.2.15;;,;,,").is_err());
        assert!(via_values(b"SIP/2.0/UDP").is_err());
    }

    #[test]
    fn addresses_follow_the_grammar() {
        let a = name_addrs(
            br#""J Rosenberg \\\""       <sip:jdrosen@example.com> ; tag = 98asjd8"#,
            false,
        )
        .unwrap();
        assert_eq!(
            a[0].param("tag").unwrap().value.as_deref(),
            Some(&b"98asjd8"[..])
        );
        let a = name_addrs(b"caller<sip:caller@example.com>;tag=323", false).unwrap();
        assert_eq!(
            a[0].render(),
            b"\"caller\" <sip:caller@example.com>;tag=323"
        );
        let a = name_addrs(b"sip:+19725552222@gw1.example.net;unknownparam", true).unwrap();
        assert_eq!(a[0].uri, b"sip:+19725552222@gw1.example.net");
        assert!(name_addrs(br#""Mr. J. User <sip:j.user@example.com>"#, false).is_err());
        assert!(name_addrs(b"Bell, Alexander <sip:a.g.bell@example.com>;tag=43", false).is_err());
        assert!(name_addrs(b"\"Watson, Thomas\" < sip:t.watson@example.org >", false).is_err());
        assert!(
            name_addrs(
                b"sip:user@example.com?Route=%3Csip:sip.example.com%3E",
                true
            )
            .is_err()
        );
        assert!(name_addrs(b"\"Joe\" <sip:joe@example.org>;;;;", true).is_err());
        assert_eq!(name_addrs(b"<sip:a@b>, <sip:c@d>", true).unwrap().len(), 2);
    }

    #[test]
    fn scalars_are_bounded() {
        assert_eq!(cseq(b"0009\t INVITE").unwrap(), (9, b"INVITE".to_vec()));
        assert!(cseq(b"36893488147419103232 REGISTER").is_err());
        assert!(cseq(b"1").is_err());
        assert_eq!(number(b"0068", 255), Some(68));
        assert_eq!(number(b"300", 255), None);
        assert_eq!(number(b"-999", u64::MAX), None);
    }

    #[test]
    fn dates_must_be_gmt() {
        assert!(date_is_valid(b"Sat, 15 Oct 2005 04:44:56 GMT"));
        assert!(!date_is_valid(b"Fri, 01 Jan 2010 16:00:00 EST"));
    }
}
