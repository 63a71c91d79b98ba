//! G.711 µ-law and A-law (ITU-T G.711), the two codecs every SIP peer speaks.
//!
//! Encoding and decoding are table lookups built once: 64 KiB per direction
//! for encoding from 16-bit linear, 512 bytes for decoding, and a 256-byte
//! µ-law → A-law transcoding table, so the RTP hot path never computes a
//! logarithm. Prompts are stored µ-law (see `prompt.rs`) and transcoded per
//! packet for A-law calls. Written by hand: the algorithm is a dozen lines and
//! the crates that carry it bring whole audio frameworks.

use std::sync::LazyLock;

/// The two G.711 laws, with their static RTP payload types (RFC 3551 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    Pcmu,
    Pcma,
}

impl Codec {
    pub const fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    pub const fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The byte that decodes to (near) zero: what silence is made of.
    pub const fn silence(self) -> u8 {
        match self {
            Codec::Pcmu => 0xFF,
            Codec::Pcma => 0xD5,
        }
    }

    pub fn decode(self, byte: u8) -> i16 {
        match self {
            Codec::Pcmu => ulaw_to_linear(byte),
            Codec::Pcma => alaw_to_linear(byte),
        }
    }
}

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32635;

fn ulaw_encode_slow(sample: i16) -> u8 {
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = s.min(ULAW_CLIP) + ULAW_BIAS;
    let mut exponent = 7;
    let mut mask = 0x4000;
    while exponent > 0 && s & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = (s >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) | mantissa) as u8
}

fn ulaw_decode_slow(byte: u8) -> i16 {
    let b = !byte;
    let sign = b & 0x80;
    let exponent = i32::from((b >> 4) & 0x07);
    let mantissa = i32::from(b & 0x0F);
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    if sign != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

fn alaw_encode_slow(sample: i16) -> u8 {
    // G.711 A-law works on 13-bit magnitudes.
    let mut s = i32::from(sample) >> 3;
    let sign = if s >= 0 {
        0x80
    } else {
        s = -s - 1;
        0
    };
    let s = s.min(0x0FFF);
    let (exponent, mantissa) = if s < 32 {
        (0, s >> 1)
    } else {
        let exponent = 31 - (s as u32).leading_zeros() as i32 - 4;
        (exponent, (s >> exponent) & 0x0F)
    };
    ((sign | (exponent << 4) | mantissa) as u8) ^ 0x55
}

fn alaw_decode_slow(byte: u8) -> i16 {
    let b = byte ^ 0x55;
    let sign = b & 0x80;
    let exponent = i32::from((b >> 4) & 0x07);
    let mantissa = i32::from(b & 0x0F);
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    if sign != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

struct Tables {
    ulaw_encode: Box<[u8]>,
    alaw_encode: Box<[u8]>,
    ulaw_decode: [i16; 256],
    alaw_decode: [i16; 256],
    ulaw_to_alaw: [u8; 256],
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let ulaw_encode: Box<[u8]> = (0..=u16::MAX).map(|i| ulaw_encode_slow(i as i16)).collect();
    let alaw_encode: Box<[u8]> = (0..=u16::MAX).map(|i| alaw_encode_slow(i as i16)).collect();
    let mut ulaw_decode = [0i16; 256];
    let mut alaw_decode = [0i16; 256];
    let mut ulaw_to_alaw = [0u8; 256];
    for b in 0..=255u8 {
        ulaw_decode[usize::from(b)] = ulaw_decode_slow(b);
        alaw_decode[usize::from(b)] = alaw_decode_slow(b);
        ulaw_to_alaw[usize::from(b)] = alaw_encode_slow(ulaw_decode_slow(b));
    }
    Tables {
        ulaw_encode,
        alaw_encode,
        ulaw_decode,
        alaw_decode,
        ulaw_to_alaw,
    }
});

pub fn linear_to_ulaw(sample: i16) -> u8 {
    TABLES.ulaw_encode[usize::from(sample as u16)]
}

pub fn linear_to_alaw(sample: i16) -> u8 {
    TABLES.alaw_encode[usize::from(sample as u16)]
}

pub fn ulaw_to_linear(byte: u8) -> i16 {
    TABLES.ulaw_decode[usize::from(byte)]
}

pub fn alaw_to_linear(byte: u8) -> i16 {
    TABLES.alaw_decode[usize::from(byte)]
}

/// Transcodes µ-law bytes to A-law in place of a copy (one lookup per byte).
pub fn ulaw_to_alaw_into(ulaw: &[u8], alaw: &mut [u8]) {
    let table = &TABLES.ulaw_to_alaw;
    for (out, &b) in alaw.iter_mut().zip(ulaw) {
        *out = table[usize::from(b)];
    }
}

/// Forces the tables to be built now rather than on the first packet.
pub fn warm_up() {
    LazyLock::force(&TABLES);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_code_points() {
        // G.711 Table 2a/2b: silence and full scale.
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
    }

    #[test]
    fn every_code_point_round_trips() {
        for b in 0..=255u8 {
            let u = ulaw_to_linear(b);
            // µ-law has two encodings of zero (0x7F and 0xFF).
            if b != 0x7F {
                assert_eq!(linear_to_ulaw(u), b, "ulaw {b:#x}");
            }
            assert_eq!(linear_to_alaw(alaw_to_linear(b)), b, "alaw {b:#x}");
        }
    }

    #[test]
    fn quantisation_error_is_within_the_segment_step() {
        for s in (-32000i32..32000).step_by(7) {
            let s = s as i16;
            let u = i32::from(ulaw_to_linear(linear_to_ulaw(s)));
            let a = i32::from(alaw_to_linear(linear_to_alaw(s)));
            let step = (i32::from(s).abs() / 16).max(16);
            assert!((u - i32::from(s)).abs() <= step, "ulaw {s} -> {u}");
            assert!((a - i32::from(s)).abs() <= step, "alaw {s} -> {a}");
        }
    }

    #[test]
    fn transcoding_preserves_the_signal() {
        let ulaw: Vec<u8> = (0..=255u8).collect();
        let mut alaw = vec![0u8; 256];
        ulaw_to_alaw_into(&ulaw, &mut alaw);
        for (u, a) in ulaw.iter().zip(&alaw) {
            let lu = i32::from(ulaw_to_linear(*u));
            let la = i32::from(alaw_to_linear(*a));
            assert!((lu - la).abs() <= (lu.abs() / 16).max(16), "{lu} vs {la}");
        }
    }
}
