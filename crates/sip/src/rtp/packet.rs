//! The RTP fixed header (RFC 3550 §5.1): parsing what arrives and writing
//! what we send, without allocating.
//!
//! Written by hand rather than with `rtp-types`: we need twelve bytes out and
//! a bounds-checked view in, and the checks below are the ones the engine
//! relies on (version 2, CSRC list, extension and padding inside the packet).

use thiserror::Error;

pub const HEADER_LEN: usize = 12;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RtpError {
    #[error("packet shorter than the RTP header")]
    TooShort,
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    #[error("CSRC list, extension or padding runs past the end of the packet")]
    BadLength,
}

/// A received RTP packet, borrowed from the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// RFC 3550 §5.1 and §A.1's validity checks.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtpError> {
        if buf.len() < HEADER_LEN {
            return Err(RtpError::TooShort);
        }
        let version = buf[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let padding = buf[0] & 0x20 != 0;
        let extension = buf[0] & 0x10 != 0;
        let csrc_count = usize::from(buf[0] & 0x0F);
        let mut start = HEADER_LEN + 4 * csrc_count;
        if extension {
            // RFC 3550 §5.3.1: 16-bit profile field, 16-bit length in words.
            let ext = buf.get(start..start + 4).ok_or(RtpError::BadLength)?;
            let words = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
            start += 4 + 4 * words;
        }
        let mut end = buf.len();
        if padding {
            let pad = usize::from(*buf.last().ok_or(RtpError::BadLength)?);
            if pad == 0 {
                return Err(RtpError::BadLength);
            }
            end = end.checked_sub(pad).ok_or(RtpError::BadLength)?;
        }
        if start > end {
            return Err(RtpError::BadLength);
        }
        Ok(RtpPacket {
            marker: buf[1] & 0x80 != 0,
            payload_type: buf[1] & 0x7F,
            sequence: u16::from_be_bytes([buf[2], buf[3]]),
            timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
            ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
            payload: &buf[start..end],
        })
    }
}

/// Writes a fixed header (no CSRCs, no extension) into `out[..12]`.
pub fn write_header(
    out: &mut [u8; HEADER_LEN],
    marker: bool,
    payload_type: u8,
    sequence: u16,
    timestamp: u32,
    ssrc: u32,
) {
    out[0] = 0x80;
    out[1] = (u8::from(marker) << 7) | (payload_type & 0x7F);
    out[2..4].copy_from_slice(&sequence.to_be_bytes());
    out[4..8].copy_from_slice(&timestamp.to_be_bytes());
    out[8..12].copy_from_slice(&ssrc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn header_round_trips() {
        let mut h = [0u8; HEADER_LEN];
        write_header(&mut h, true, 8, 0xBEEF, 0x0102_0304, 0xCAFE_F00D);
        let mut packet = h.to_vec();
        packet.extend_from_slice(&[0xD5; 160]);
        let p = RtpPacket::parse(&packet).unwrap();
        assert!(p.marker);
        assert_eq!(p.payload_type, 8);
        assert_eq!(p.sequence, 0xBEEF);
        assert_eq!(p.timestamp, 0x0102_0304);
        assert_eq!(p.ssrc, 0xCAFE_F00D);
        assert_eq!(p.payload.len(), 160);
    }

    #[test]
    fn bad_versions_and_lengths_are_refused() {
        assert_eq!(RtpPacket::parse(&[0x80; 11]), Err(RtpError::TooShort));
        let mut p = [0u8; 20];
        p[0] = 0x40;
        assert_eq!(RtpPacket::parse(&p), Err(RtpError::BadVersion(1)));
        // 15 CSRCs claimed in a 20-byte packet.
        p[0] = 0x8F;
        assert_eq!(RtpPacket::parse(&p), Err(RtpError::BadLength));
        // Padding longer than the packet.
        p[0] = 0xA0;
        p[19] = 200;
        assert_eq!(RtpPacket::parse(&p), Err(RtpError::BadLength));
        // Extension whose length runs past the end.
        let mut e = [0u8; 20];
        e[0] = 0x90;
        e[14] = 0xFF;
        e[15] = 0xFF;
        assert_eq!(RtpPacket::parse(&e), Err(RtpError::BadLength));
    }

    #[test]
    fn csrcs_extension_and_padding_are_skipped() {
        let mut p = vec![0xB1, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        p.extend_from_slice(&[9, 9, 9, 9]); // one CSRC
        p.extend_from_slice(&[0xBE, 0xDE, 0, 1, 7, 7, 7, 7]); // extension, 1 word
        p.extend_from_slice(&[1, 2, 3]); // payload
        p.extend_from_slice(&[0, 0, 3]); // 3 bytes of padding
        let parsed = RtpPacket::parse(&p).unwrap();
        assert_eq!(parsed.payload, &[1, 2, 3]);
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = RtpPacket::parse(&bytes);
        }
    }
}
