//! SDP offer/answer (RFC 3264) for one audio stream: G.711 and
//! telephone-event at 8 kHz, nothing else.
//!
//! Written by hand: we read five line types (`c=`, `m=`, `a=rtpmap`,
//! `a=sendrecv`/`sendonly`/`recvonly`/`inactive`, `a=ptime`) and write a
//! dozen lines; the SDP crates model all of RFC 8866 and still leave the
//! negotiation to us.

use crate::g711::Codec;
use std::net::{IpAddr, SocketAddr};
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SdpError {
    #[error("SDP is not UTF-8 text")]
    NotText,
    #[error("SDP has no audio stream")]
    NoAudio,
    #[error("SDP has no connection address for the audio stream")]
    NoConnection,
    #[error("SDP line is malformed: {0}")]
    Malformed(&'static str),
    #[error("no codec in common (we speak PCMU and PCMA)")]
    NoCommonCodec,
}

/// Media direction attribute (RFC 3264 §5.1), from the sender's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Our direction in answer to the peer's (RFC 3264 §6.1).
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    /// Whether we may send media when the peer's direction is `self`.
    pub fn peer_receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }
}

/// What a session description said about its audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteMedia {
    /// Where the peer wants RTP; port 0 means the stream was rejected.
    pub address: SocketAddr,
    /// Payload types offered, in the peer's order of preference.
    pub payload_types: Vec<u8>,
    /// Dynamic payload type of telephone-event/8000, if offered.
    pub telephone_event: Option<u8>,
    /// (payload type, encoding name, clock rate) from `a=rtpmap`.
    rtpmaps: Vec<(u8, String, u32)>,
    pub direction: Direction,
}

impl RemoteMedia {
    pub fn parse(body: &[u8]) -> Result<Self, SdpError> {
        let text = std::str::from_utf8(body).map_err(|_| SdpError::NotText)?;
        let mut session_address: Option<IpAddr> = None;
        let mut media_address: Option<IpAddr> = None;
        let mut session_direction = Direction::SendRecv;
        let mut media_direction: Option<Direction> = None;
        let mut audio: Option<(u16, Vec<u8>)> = None;
        let mut in_audio = false;
        let mut seen_audio = false;
        let mut rtpmaps = Vec::new();
        for line in text.lines() {
            let line = line.trim_end();
            let Some((kind, value)) = line.split_once('=') else {
                continue;
            };
            match kind {
                "m" => {
                    in_audio = false;
                    let mut fields = value.split_whitespace();
                    let media = fields.next().ok_or(SdpError::Malformed("m="))?;
                    if media != "audio" || seen_audio {
                        continue;
                    }
                    let port = fields
                        .next()
                        .and_then(|p| p.split('/').next())
                        .and_then(|p| p.parse::<u16>().ok())
                        .ok_or(SdpError::Malformed("m= port"))?;
                    let proto = fields.next().ok_or(SdpError::Malformed("m= proto"))?;
                    if proto != "RTP/AVP" {
                        // SRTP profiles are not offered by us; treat as absent.
                        continue;
                    }
                    let pts: Vec<u8> = fields
                        .filter_map(|f| f.parse().ok())
                        .filter(|&pt: &u8| pt < 128)
                        .collect();
                    audio = Some((port, pts));
                    in_audio = true;
                    seen_audio = true;
                }
                "c" => {
                    let address = parse_connection(value)?;
                    if in_audio {
                        media_address = Some(address);
                    } else if !seen_audio {
                        session_address = Some(address);
                    }
                }
                "a" => {
                    let direction = match value {
                        "sendrecv" => Some(Direction::SendRecv),
                        "sendonly" => Some(Direction::SendOnly),
                        "recvonly" => Some(Direction::RecvOnly),
                        "inactive" => Some(Direction::Inactive),
                        _ => None,
                    };
                    if let Some(d) = direction {
                        if in_audio {
                            media_direction = Some(d);
                        } else if !seen_audio {
                            session_direction = d;
                        }
                        continue;
                    }
                    if in_audio && let Some(map) = value.strip_prefix("rtpmap:") {
                        let mut parts = map.splitn(2, ' ');
                        let pt = parts.next().and_then(|p| p.trim().parse::<u8>().ok());
                        let encoding = parts.next().unwrap_or("");
                        let mut enc = encoding.split('/');
                        let name = enc.next().unwrap_or("").to_ascii_lowercase();
                        let rate = enc.next().and_then(|r| r.parse::<u32>().ok());
                        if let (Some(pt), Some(rate)) = (pt, rate) {
                            rtpmaps.push((pt, name, rate));
                        }
                    }
                }
                _ => {}
            }
        }
        let (port, payload_types) = audio.ok_or(SdpError::NoAudio)?;
        let ip = media_address
            .or(session_address)
            .ok_or(SdpError::NoConnection)?;
        let telephone_event = rtpmaps
            .iter()
            .find(|(pt, name, rate)| {
                name == "telephone-event" && *rate == 8000 && payload_types.contains(pt)
            })
            .map(|(pt, _, _)| *pt);
        let mut direction = media_direction.unwrap_or(session_direction);
        // RFC 3264 §8.4 (and RFC 2543 hold): a zero address means "do not send".
        if ip.is_unspecified() {
            direction = Direction::Inactive;
        }
        Ok(RemoteMedia {
            address: SocketAddr::new(ip, port),
            payload_types,
            telephone_event,
            rtpmaps,
            direction,
        })
    }

    fn codec_of(&self, pt: u8) -> Option<Codec> {
        if let Some((_, name, rate)) = self.rtpmaps.iter().find(|(p, _, _)| *p == pt) {
            return match (name.as_str(), *rate) {
                ("pcmu", 8000) => Some(Codec::Pcmu),
                ("pcma", 8000) => Some(Codec::Pcma),
                _ => None,
            };
        }
        // Static payload types need no rtpmap (RFC 3551 §6).
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// The first codec of the peer's list that we speak (the answerer
    /// follows the offerer's preference, RFC 3264 §6.1), with its payload type.
    pub fn choose_codec(&self) -> Result<(Codec, u8), SdpError> {
        self.payload_types
            .iter()
            .find_map(|&pt| self.codec_of(pt).map(|c| (c, pt)))
            .ok_or(SdpError::NoCommonCodec)
    }
}

fn parse_connection(value: &str) -> Result<IpAddr, SdpError> {
    let mut fields = value.split_whitespace();
    let (net, _kind, address) = (fields.next(), fields.next(), fields.next());
    if net != Some("IN") {
        return Err(SdpError::Malformed("c= network type"));
    }
    let address = address.ok_or(SdpError::Malformed("c= address"))?;
    // Multicast TTL suffixes ("/127") are not for us, but parse the address.
    let address = address.split('/').next().unwrap_or(address);
    address
        .parse()
        .map_err(|_| SdpError::Malformed("c= address"))
}

/// What we put in our own offer or answer.
#[derive(Debug, Clone)]
pub struct LocalMedia {
    pub address: IpAddr,
    pub port: u16,
    /// Codecs with their payload types, in our order of preference.
    pub codecs: Vec<(Codec, u8)>,
    pub telephone_event: Option<u8>,
    pub direction: Direction,
    /// `o=` session id and version (version increases on every re-offer).
    pub session_id: u64,
    pub session_version: u64,
}

impl LocalMedia {
    pub fn render(&self) -> String {
        let ip_kind = if self.address.is_ipv6() { "IP6" } else { "IP4" };
        let mut pts: Vec<String> = self.codecs.iter().map(|(_, pt)| pt.to_string()).collect();
        if let Some(te) = self.telephone_event {
            pts.push(te.to_string());
        }
        let mut s = format!(
            "v=0\r\no=touchtone {} {} IN {ip_kind} {}\r\ns=touchtone\r\nc=IN {ip_kind} {}\r\nt=0 0\r\nm=audio {} RTP/AVP {}\r\n",
            self.session_id,
            self.session_version,
            self.address,
            self.address,
            self.port,
            pts.join(" ")
        );
        for (codec, pt) in &self.codecs {
            s.push_str(&format!("a=rtpmap:{pt} {}/8000\r\n", codec.encoding_name()));
        }
        if let Some(te) = self.telephone_event {
            s.push_str(&format!(
                "a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-15\r\n"
            ));
        }
        s.push_str(&format!(
            "a=ptime:20\r\na={}\r\n",
            self.direction.attribute()
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SIPP_OFFER: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 96\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-15\r\na=ptime:20\r\n";

    #[test]
    fn a_sipp_offer_negotiates_pcmu_and_telephone_event() {
        let m = RemoteMedia::parse(SIPP_OFFER.as_bytes()).unwrap();
        assert_eq!(m.address, "127.0.0.1:6000".parse().unwrap());
        assert_eq!(m.choose_codec().unwrap(), (Codec::Pcmu, 0));
        assert_eq!(m.telephone_event, Some(96));
        assert_eq!(m.direction, Direction::SendRecv);
    }

    #[test]
    fn the_offerers_preference_wins_and_static_types_need_no_rtpmap() {
        let offer = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 18 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
        let m = RemoteMedia::parse(offer.as_bytes()).unwrap();
        assert_eq!(m.choose_codec().unwrap(), (Codec::Pcma, 8));
        assert_eq!(m.telephone_event, Some(101));
    }

    #[test]
    fn an_offer_without_g711_has_no_common_codec() {
        let offer = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 18 9 96\r\na=rtpmap:96 opus/48000/2\r\n";
        let m = RemoteMedia::parse(offer.as_bytes()).unwrap();
        assert_eq!(m.choose_codec(), Err(SdpError::NoCommonCodec));
        // A dynamic type mapped to PCMU is still PCMU.
        let offer =
            "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 97\r\na=rtpmap:97 pcmu/8000\r\n";
        assert_eq!(
            RemoteMedia::parse(offer.as_bytes()).unwrap().choose_codec(),
            Ok((Codec::Pcmu, 97))
        );
    }

    #[test]
    fn hold_is_recognised() {
        let sendonly = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
        let m = RemoteMedia::parse(sendonly.as_bytes()).unwrap();
        assert_eq!(m.direction, Direction::SendOnly);
        assert_eq!(m.direction.answer(), Direction::RecvOnly);
        assert!(!m.direction.peer_receives());
        let old_style = "v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n";
        assert_eq!(
            RemoteMedia::parse(old_style.as_bytes()).unwrap().direction,
            Direction::Inactive
        );
    }

    #[test]
    fn malformed_descriptions_are_errors() {
        assert_eq!(RemoteMedia::parse(b"v=0\r\n"), Err(SdpError::NoAudio));
        assert_eq!(RemoteMedia::parse(&[0xFF, 0xFE]), Err(SdpError::NotText));
        assert_eq!(
            RemoteMedia::parse(b"v=0\r\nm=audio 4000 RTP/AVP 0\r\n"),
            Err(SdpError::NoConnection)
        );
        assert_eq!(
            RemoteMedia::parse(b"v=0\r\nc=IN IP4 nonsense\r\nm=audio 1 RTP/AVP 0\r\n"),
            Err(SdpError::Malformed("c= address"))
        );
        assert_eq!(
            RemoteMedia::parse(b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n"),
            Err(SdpError::Malformed("m= port"))
        );
    }

    #[test]
    fn our_answer_parses_back() {
        let local = LocalMedia {
            address: "192.0.2.7".parse().unwrap(),
            port: 20000,
            codecs: vec![(Codec::Pcma, 8)],
            telephone_event: Some(101),
            direction: Direction::SendRecv,
            session_id: 1,
            session_version: 2,
        };
        let m = RemoteMedia::parse(local.render().as_bytes()).unwrap();
        assert_eq!(m.address, "192.0.2.7:20000".parse().unwrap());
        assert_eq!(m.choose_codec().unwrap(), (Codec::Pcma, 8));
        assert_eq!(m.telephone_event, Some(101));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "(v=0\r\n|c=IN IP4 [0-9.]{1,15}\r\n|m=audio [0-9]{1,6} RTP/AVP[ 0-9]{0,12}\r\n|a=[a-z:0-9 /-]{0,20}\r\n|.{0,20}){0,12}") {
            let _ = RemoteMedia::parse(s.as_bytes());
        }
    }
}
