//! DTMF, three ways: RFC 4733 telephone events in RTP (`rfc4733`), in-band
//! tones in the G.711 audio (`goertzel`), and SIP INFO bodies (`info`). Each
//! turns what it receives into [`Digit`]s, one per key press.

pub mod goertzel;
pub mod info;
pub mod rfc4733;

use std::fmt;

/// One key of the telephone keypad (RFC 4733 §3.2 events 0–15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digit(char);

impl Digit {
    /// The keys, in RFC 4733 event-code order.
    pub const KEYS: [char; 16] = [
        '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
    ];

    pub fn from_char(c: char) -> Option<Self> {
        let c = c.to_ascii_uppercase();
        Self::KEYS.contains(&c).then_some(Digit(c))
    }

    pub fn from_event_code(code: u8) -> Option<Self> {
        Self::KEYS.get(usize::from(code)).map(|&c| Digit(c))
    }

    pub fn event_code(self) -> u8 {
        Self::KEYS
            .iter()
            .position(|&c| c == self.0)
            .expect("a Digit holds one of KEYS") as u8
    }

    pub fn as_char(self) -> char {
        self.0
    }
}

impl fmt::Display for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a digit came from (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigitSource {
    Rfc4733,
    InBand,
    SipInfo,
}
