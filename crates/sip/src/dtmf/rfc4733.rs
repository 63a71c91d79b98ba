//! RFC 4733 telephone events: one digit per event, however many packets and
//! end-packet repeats carry it.
//!
//! An event is identified by its RTP timestamp (RFC 4733 §2.5.1.2: every
//! packet of one event carries the event's start timestamp) together with its
//! code. Some senders (and captures replayed back to back) reuse one timestamp
//! for consecutive presses; a packet sent after an end packet (a later
//! sequence number) with the same timestamp but a shorter duration is
//! therefore a new press, not a repeat or a late packet.

use super::Digit;

/// A decoded telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    pub event: u8,
    pub end: bool,
    pub volume: u8,
    pub duration: u16,
}

impl TelephoneEvent {
    pub fn parse(payload: &[u8]) -> Option<Self> {
        let b = payload.get(..4)?;
        Some(TelephoneEvent {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3F,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    pub fn write(&self, out: &mut [u8; 4]) {
        out[0] = self.event;
        out[1] = (u8::from(self.end) << 7) | (self.volume & 0x3F);
        out[2..4].copy_from_slice(&self.duration.to_be_bytes());
    }
}

/// Turns a stream of telephone-event packets into key presses.
#[derive(Debug, Default)]
pub struct EventDeduplicator {
    current: Option<Current>,
}

#[derive(Debug, Clone, Copy)]
struct Current {
    timestamp: u32,
    event: u8,
    duration: u16,
    ended: bool,
    /// Highest sequence number seen for this press.
    sequence: u16,
}

/// RFC 3550 sequence-number order with wrap-around.
fn is_later(a: u16, b: u16) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000
}

impl EventDeduplicator {
    /// Feeds one packet; returns the digit when the packet starts a new press.
    /// Events outside 0–15 (tones, flash) are ignored.
    pub fn on_packet(
        &mut self,
        sequence: u16,
        timestamp: u32,
        ev: &TelephoneEvent,
    ) -> Option<Digit> {
        let digit = Digit::from_event_code(ev.event)?;
        let new_press = match self.current {
            None => true,
            Some(c) => {
                c.timestamp != timestamp
                    || c.event != ev.event
                    || (c.ended && ev.duration < c.duration && is_later(sequence, c.sequence))
            }
        };
        if new_press {
            // A late packet of an event already reported and superseded is
            // ignored: it would carry an older timestamp than the current one.
            if let Some(c) = self.current
                && c.event == ev.event
                && timestamp.wrapping_sub(c.timestamp) > u32::MAX / 2
            {
                return None;
            }
            self.current = Some(Current {
                timestamp,
                event: ev.event,
                duration: ev.duration,
                ended: ev.end,
                sequence,
            });
            return Some(digit);
        }
        if let Some(c) = self.current.as_mut() {
            c.duration = c.duration.max(ev.duration);
            c.ended |= ev.end;
            if is_later(sequence, c.sequence) {
                c.sequence = sequence;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: u8, end: bool, duration: u16) -> TelephoneEvent {
        TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        }
    }

    /// Packets as (sequence, timestamp, payload).
    fn feed(d: &mut EventDeduplicator, packets: &[(u16, u32, TelephoneEvent)]) -> String {
        packets
            .iter()
            .filter_map(|(seq, ts, e)| d.on_packet(*seq, *ts, e))
            .map(|d| d.as_char())
            .collect()
    }

    /// Numbers packets in the order given, as a sender would.
    fn numbered(packets: &[(u32, TelephoneEvent)]) -> Vec<(u16, u32, TelephoneEvent)> {
        packets
            .iter()
            .enumerate()
            .map(|(i, (ts, e))| (65530u16.wrapping_add(i as u16), *ts, *e))
            .collect()
    }

    #[test]
    fn one_digit_per_event_with_repeated_end_packets() {
        let mut d = EventDeduplicator::default();
        let mut packets = vec![];
        for i in 1..=6 {
            packets.push((1000, ev(5, false, i * 160)));
        }
        for _ in 0..3 {
            packets.push((1000, ev(5, true, 1120)));
        }
        assert_eq!(feed(&mut d, &numbered(&packets)), "5");
    }

    #[test]
    fn the_same_digit_twice_is_two_presses() {
        let mut d = EventDeduplicator::default();
        let packets = [
            (1000, ev(2, false, 160)),
            (1000, ev(2, true, 800)),
            (1000, ev(2, true, 800)),
            (5000, ev(2, false, 160)),
            (5000, ev(2, true, 800)),
        ];
        assert_eq!(feed(&mut d, &numbered(&packets)), "22");
    }

    #[test]
    fn reordered_and_duplicated_packets_do_not_add_digits() {
        let mut d = EventDeduplicator::default();
        let packets = [
            (2, 1000, ev(1, false, 320)),
            (1, 1000, ev(1, false, 160)),
            (2, 1000, ev(1, false, 320)),
            (4, 1000, ev(1, true, 640)),
            (3, 1000, ev(1, false, 480)), // late, after the end
            (9, 2000, ev(11, true, 640)), // only the end packets of '#' arrived
            (10, 2000, ev(11, true, 640)),
        ];
        assert_eq!(feed(&mut d, &packets), "1#");
    }

    #[test]
    fn lost_start_packets_still_give_the_digit() {
        let mut d = EventDeduplicator::default();
        let packets = [(7, ev(9, false, 800)), (7, ev(9, true, 960))];
        assert_eq!(feed(&mut d, &numbered(&packets)), "9");
    }

    #[test]
    fn presses_sharing_one_timestamp_are_told_apart() {
        // Captures replayed back to back all carry the same timestamp.
        let mut d = EventDeduplicator::default();
        let mut packets = vec![];
        for code in [4u8, 4, 8, 7] {
            packets.push((42, ev(code, false, 160)));
            packets.push((42, ev(code, false, 320)));
            packets.push((42, ev(code, true, 480)));
            packets.push((42, ev(code, true, 480)));
        }
        assert_eq!(feed(&mut d, &numbered(&packets)), "4487");
    }

    #[test]
    fn non_digit_events_are_ignored() {
        let mut d = EventDeduplicator::default();
        assert_eq!(feed(&mut d, &[(1, 1, ev(16, false, 160))]), "");
        assert!(TelephoneEvent::parse(&[1, 2, 3]).is_none());
    }

    #[test]
    fn payload_round_trips() {
        let e = ev(11, true, 1234);
        let mut b = [0u8; 4];
        e.write(&mut b);
        assert_eq!(TelephoneEvent::parse(&b), Some(e));
    }
}
