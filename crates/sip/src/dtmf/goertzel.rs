//! In-band DTMF detection (ITU-T Q.23 frequencies, Q.24 acceptance limits)
//! with the Goertzel algorithm, for peers that send digits as audio.
//!
//! Written by hand: no maintained Rust detector exists (`dtmf` is a test
//! oracle at best). The audio is cut into blocks of 102 samples (12.75 ms);
//! each block measures the energy at the eight DTMF frequencies and decides
//! "digit d" or "nothing" by these tests, every one a Q.24 requirement or a
//! guard against talk-off:
//!
//! - **level**: both tones at least −33 dBm0 (Q.24 asks for −25 dBm0 to be
//!   accepted, so the margin absorbs line loss);
//! - **twist**: Q.24 asks that the low (row) tone be accepted up to 8 dB
//!   stronger than the high (column) tone ("normal" twist) and up to 4 dB
//!   weaker ("reverse" twist). One block measures each tone to about ±2 dB
//!   (the other tone leaks into its bin), so the limits are 10 and 6 dB;
//! - **purity**: the two tones carry at least 65 % of the block's energy
//!   (a tone 1.5 % off at 1633 Hz loses a quarter of its energy to the
//!   bin's main lobe) and every other bin of each group is at least 6 dB
//!   below the winner (with 8 dB of twist, the strong tone's leakage puts
//!   the weak tone's neighbours about 9 dB below it). Speech spreads its energy over many harmonics and
//!   fails this;
//! - **duration**: a digit is declared after two consecutive blocks agree.
//!   A block passes only when each half of it holds 40 % of its energy,
//!   that is when the tone covers at least 83 % of it, so two passing blocks
//!   need 21.3 ms of tone: the 40 ms that Q.24 asks to accept always passes
//!   and 20 ms (the shortest that administrations under Q.24 ask to reject)
//!   never does. A digit is
//!   released after three blocks without it, which bridges a 10 ms dropout
//!   and still separates presses 40 ms apart;
//! - **frequency**: checked when a digit is about to be declared, over both
//!   blocks (25.5 ms, so the other tone's leakage is small): each tone must
//!   lie within ±2 % of its nominal frequency — Q.24 asks that ±1.5 % be
//!   accepted and ±3.5 % rejected. Each winning bin is compared with side
//!   bins at ±4 %; a tone off by more than 2 % puts more energy into a side
//!   bin than into the centre.
//!
//! Cost: 8 Goertzel filters per sample plus 4 side bins per candidate block,
//! about 2 µs per 20 ms frame in a release build; the engine runs it only when
//! the peer did not negotiate telephone-event (or when configured to).

use super::Digit;

const SAMPLE_RATE: f32 = 8000.0;
const BLOCK: usize = 102;
const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
const COLUMNS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYPAD: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// 0 dBm0 as the peak amplitude of a sine in 16-bit linear G.711 audio
/// (G.711: full scale is +3.17 dBm0).
const DBM0_PEAK: f32 = 22_706.0;
const MIN_TONE_DBM0: f32 = -33.0;
const MAX_NORMAL_TWIST_DB: f32 = 10.0;
const MAX_REVERSE_TWIST_DB: f32 = 6.0;
const MIN_ENERGY_SHARE: f32 = 0.65;
const MIN_HALF_BLOCK_SHARE: f32 = 0.4;
const MIN_GROUP_MARGIN_DB: f32 = 6.0;
const SIDE_BIN_OFFSET: f32 = 0.04;
const BLOCKS_TO_DECLARE: u8 = 2;
const BLOCKS_TO_RELEASE: u8 = 3;

#[derive(Clone, Copy)]
struct Filter {
    coefficient: f32,
}

impl Filter {
    fn new(frequency: f32) -> Self {
        Filter {
            coefficient: 2.0 * (2.0 * std::f32::consts::PI * frequency / SAMPLE_RATE).cos(),
        }
    }

    /// The squared magnitude at this frequency over `samples`.
    fn power(&self, samples: &[f32]) -> f32 {
        let (mut s1, mut s2) = (0.0f32, 0.0f32);
        for &x in samples {
            let s = x + self.coefficient * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        s1 * s1 + s2 * s2 - self.coefficient * s1 * s2
    }
}

/// Peak amplitude of a sine whose Goertzel power over one block is `power`.
fn amplitude(power: f32) -> f32 {
    2.0 * power.max(0.0).sqrt() / BLOCK as f32
}

fn db(ratio: f32) -> f32 {
    20.0 * ratio.max(f32::MIN_POSITIVE).log10()
}

/// Streaming detector for one call's audio. Feed it decoded 8 kHz samples in
/// any chunk size; it returns each key press once, when it is recognised.
pub struct DtmfDetector {
    rows: [Filter; 4],
    columns: [Filter; 4],
    /// The previous block then the current one: the frequency check looks
    /// at both.
    window: [f32; 2 * BLOCK],
    filled: usize,
    candidate_tones: (usize, usize),
    candidate: Option<char>,
    candidate_blocks: u8,
    current: Option<char>,
    missing_blocks: u8,
}

impl Default for DtmfDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl DtmfDetector {
    pub fn new() -> Self {
        DtmfDetector {
            rows: ROWS.map(Filter::new),
            columns: COLUMNS.map(Filter::new),
            window: [0.0; 2 * BLOCK],
            filled: 0,
            candidate_tones: (0, 0),
            candidate: None,
            candidate_blocks: 0,
            current: None,
            missing_blocks: 0,
        }
    }

    /// Feeds samples; calls `on_digit` for every press recognised in them.
    pub fn feed(
        &mut self,
        samples: impl IntoIterator<Item = i16>,
        mut on_digit: impl FnMut(Digit),
    ) {
        for s in samples {
            self.window[BLOCK + self.filled] = f32::from(s);
            self.filled += 1;
            if self.filled == BLOCK {
                self.filled = 0;
                let hit = self.classify_block();
                if let Some(d) = self.track(hit) {
                    on_digit(d);
                }
                self.window.copy_within(BLOCK.., 0);
            }
        }
    }

    fn track(&mut self, hit: Option<(usize, usize)>) -> Option<Digit> {
        let tones = hit;
        let hit = hit.map(|(r, c)| KEYPAD[r][c]);
        if hit == self.candidate {
            self.candidate_blocks = self.candidate_blocks.saturating_add(1);
        } else {
            self.candidate = hit;
            self.candidate_blocks = 1;
        }
        if hit.is_some() && hit == self.current {
            self.missing_blocks = 0;
            return None;
        }
        if self.current.is_some() {
            self.missing_blocks += 1;
            if self.missing_blocks >= BLOCKS_TO_RELEASE {
                self.current = None;
                self.missing_blocks = 0;
            }
        }
        if let Some(t) = tones {
            self.candidate_tones = t;
        }
        if self.current.is_none()
            && let Some(c) = self.candidate
            && self.candidate_blocks >= BLOCKS_TO_DECLARE
            && self.on_frequency()
        {
            self.current = Some(c);
            self.missing_blocks = 0;
            return Digit::from_char(c);
        }
        None
    }

    /// The frequency test over the last two blocks (see the module notes).
    fn on_frequency(&self) -> bool {
        let (row, column) = self.candidate_tones;
        on_frequency(ROWS[row], &self.window) && on_frequency(COLUMNS[column], &self.window)
    }

    fn classify_block(&self) -> Option<(usize, usize)> {
        let samples = &self.window[BLOCK..];
        let first_half: f32 = samples[..BLOCK / 2].iter().map(|x| x * x).sum();
        let second_half: f32 = samples[BLOCK / 2..].iter().map(|x| x * x).sum();
        let energy = first_half + second_half;
        // Energy of one sine at the minimum level, over one block.
        let min_amplitude = DBM0_PEAK * 10f32.powf(MIN_TONE_DBM0 / 20.0);
        if energy < min_amplitude * min_amplitude * BLOCK as f32 / 2.0 {
            return None;
        }
        if first_half.min(second_half) < MIN_HALF_BLOCK_SHARE * energy {
            return None;
        }
        let row_power = self.rows.map(|f| f.power(samples));
        let column_power = self.columns.map(|f| f.power(samples));
        let (row, row_best) = best(&row_power);
        let (column, column_best) = best(&column_power);

        let row_amplitude = amplitude(row_best);
        let column_amplitude = amplitude(column_best);
        if row_amplitude < min_amplitude || column_amplitude < min_amplitude {
            return None;
        }
        let twist = db(row_amplitude / column_amplitude);
        if twist > MAX_NORMAL_TWIST_DB || -twist > MAX_REVERSE_TWIST_DB {
            return None;
        }
        // A sine of amplitude A has energy N·A²/2 over the block.
        let tone_energy = (row_amplitude * row_amplitude + column_amplitude * column_amplitude)
            * BLOCK as f32
            / 2.0;
        if tone_energy < MIN_ENERGY_SHARE * energy {
            return None;
        }
        let margin = 10f32.powf(MIN_GROUP_MARGIN_DB / 10.0);
        if !dominates(&row_power, row, margin) || !dominates(&column_power, column, margin) {
            return None;
        }
        Some((row, column))
    }
}

fn best(powers: &[f32; 4]) -> (usize, f32) {
    let mut index = 0;
    for i in 1..4 {
        if powers[i] > powers[index] {
            index = i;
        }
    }
    (index, powers[index])
}

fn dominates(powers: &[f32; 4], winner: usize, margin: f32) -> bool {
    powers
        .iter()
        .enumerate()
        .all(|(i, &p)| i == winner || p * margin <= powers[winner])
}

fn on_frequency(nominal: f32, samples: &[f32]) -> bool {
    let centre_power = Filter::new(nominal).power(samples);
    let below = Filter::new(nominal * (1.0 - SIDE_BIN_OFFSET)).power(samples);
    let above = Filter::new(nominal * (1.0 + SIDE_BIN_OFFSET)).power(samples);
    centre_power >= below && centre_power >= above
}

/// Generates a dual tone: handy for tests and for playing digits back.
/// Levels in dBm0 per tone; `samples` at 8 kHz.
pub fn dual_tone(
    low_hz: f32,
    high_hz: f32,
    low_dbm0: f32,
    high_dbm0: f32,
    samples: usize,
) -> Vec<i16> {
    let a_low = DBM0_PEAK * 10f32.powf(low_dbm0 / 20.0);
    let a_high = DBM0_PEAK * 10f32.powf(high_dbm0 / 20.0);
    (0..samples)
        .map(|n| {
            let t = n as f32 / SAMPLE_RATE;
            let v = a_low * (2.0 * std::f32::consts::PI * low_hz * t).sin()
                + a_high * (2.0 * std::f32::consts::PI * high_hz * t).sin();
            v.clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// The nominal (row, column) frequencies of a key.
pub fn frequencies(digit: Digit) -> (f32, f32) {
    for (r, row) in KEYPAD.iter().enumerate() {
        for (c, &key) in row.iter().enumerate() {
            if key == digit.as_char() {
                return (ROWS[r], COLUMNS[c]);
            }
        }
    }
    unreachable!("every Digit is on the keypad")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711;

    fn silence(ms: usize) -> Vec<i16> {
        vec![0; ms * 8]
    }

    fn tone(
        key: char,
        ms: usize,
        low_shift: f32,
        high_shift: f32,
        low_db: f32,
        high_db: f32,
    ) -> Vec<i16> {
        let (low, high) = frequencies(Digit::from_char(key).unwrap());
        dual_tone(
            low * (1.0 + low_shift),
            high * (1.0 + high_shift),
            low_db,
            high_db,
            ms * 8,
        )
    }

    fn detect(audio: &[i16]) -> String {
        let mut d = DtmfDetector::new();
        let mut out = String::new();
        // Feed in 20 ms frames, as RTP delivers them.
        for frame in audio.chunks(160) {
            d.feed(frame.iter().copied(), |digit| out.push(digit.as_char()));
        }
        out
    }

    fn sequence(
        keys: &str,
        on_ms: usize,
        off_ms: usize,
        shift: (f32, f32),
        level: (f32, f32),
    ) -> Vec<i16> {
        let mut audio = silence(30);
        for k in keys.chars() {
            audio.extend(tone(k, on_ms, shift.0, shift.1, level.0, level.1));
            audio.extend(silence(off_ms));
        }
        audio
    }

    const ALL: &str = "123A456B789C*0#D";

    #[test]
    fn every_key_is_detected_once() {
        assert_eq!(
            detect(&sequence(ALL, 50, 50, (0.0, 0.0), (-10.0, -10.0))),
            ALL
        );
        assert_eq!(
            detect(&sequence("1111", 60, 60, (0.0, 0.0), (-10.0, -10.0))),
            "1111"
        );
    }

    #[test]
    fn frequencies_within_one_and_a_half_percent_are_accepted() {
        for shift in [
            (0.015, 0.015),
            (-0.015, -0.015),
            (0.015, -0.015),
            (-0.015, 0.015),
        ] {
            assert_eq!(
                detect(&sequence(ALL, 50, 50, shift, (-10.0, -10.0))),
                ALL,
                "{shift:?}"
            );
        }
    }

    #[test]
    fn frequencies_off_by_three_and_a_half_percent_are_rejected() {
        for shift in [(0.035, 0.0), (-0.035, 0.0), (0.0, 0.035), (0.0, -0.035)] {
            assert_eq!(
                detect(&sequence(ALL, 60, 50, shift, (-10.0, -10.0))),
                "",
                "{shift:?}"
            );
        }
    }

    #[test]
    fn twist_limits() {
        // Q.24: normal twist (row louder) up to 8 dB, reverse up to 4 dB,
        // also with the frequencies 1.5 % apart.
        assert_eq!(
            detect(&sequence(ALL, 50, 50, (0.0, 0.0), (-6.0, -14.0))),
            ALL
        );
        assert_eq!(
            detect(&sequence(ALL, 50, 50, (0.0, 0.0), (-10.0, -6.0))),
            ALL
        );
        assert_eq!(
            detect(&sequence(ALL, 50, 50, (0.015, -0.015), (-6.0, -14.0))),
            ALL
        );
        assert_eq!(
            detect(&sequence(ALL, 50, 50, (-0.015, 0.015), (-10.0, -6.0))),
            ALL
        );
        assert_eq!(
            detect(&sequence(ALL, 50, 50, (0.0, 0.0), (-2.0, -15.0))),
            ""
        );
        assert_eq!(
            detect(&sequence(ALL, 50, 50, (0.0, 0.0), (-14.0, -5.0))),
            ""
        );
    }

    #[test]
    fn duration_limits() {
        assert_eq!(
            detect(&sequence(ALL, 40, 40, (0.0, 0.0), (-10.0, -10.0))),
            ALL
        );
        assert_eq!(
            detect(&sequence(ALL, 20, 60, (0.0, 0.0), (-10.0, -10.0))),
            ""
        );
        assert_eq!(
            detect(&sequence(ALL, 21, 60, (0.015, 0.015), (-10.0, -10.0))),
            ""
        );
    }

    #[test]
    fn level_limits() {
        assert_eq!(
            detect(&sequence(ALL, 50, 50, (0.0, 0.0), (-25.0, -25.0))),
            ALL
        );
        assert_eq!(
            detect(&sequence(ALL, 50, 50, (0.0, 0.0), (-40.0, -40.0))),
            ""
        );
    }

    #[test]
    fn a_ten_millisecond_dropout_does_not_split_a_digit() {
        let mut audio = tone('5', 60, 0.0, 0.0, -10.0, -10.0);
        audio.extend(silence(10));
        audio.extend(tone('5', 60, 0.0, 0.0, -10.0, -10.0));
        audio.extend(silence(60));
        assert_eq!(detect(&audio), "5");
    }

    #[test]
    fn tones_survive_g711_and_noise() {
        let mut audio = sequence(ALL, 50, 50, (0.01, -0.01), (-20.0, -22.0));
        // Deterministic pseudo-noise about 20 dB below the tones.
        let mut seed = 12345u32;
        for s in audio.iter_mut() {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let noise = ((seed >> 16) as i32 % 400) - 200;
            *s = s.saturating_add(noise as i16);
        }
        let ulaw: Vec<i16> = audio
            .iter()
            .map(|&s| g711::ulaw_to_linear(g711::linear_to_ulaw(s)))
            .collect();
        assert_eq!(detect(&ulaw), ALL);
        let alaw: Vec<i16> = audio
            .iter()
            .map(|&s| g711::alaw_to_linear(g711::linear_to_alaw(s)))
            .collect();
        assert_eq!(detect(&alaw), ALL);
    }

    /// Voiced "speech": a jittering, gliding pitch whose harmonics fall off
    /// at 6 dB per octave and are shaped by three vowel formants of natural
    /// bandwidth, in syllables; the classic source of talk-off.
    fn speech_like(seconds: usize) -> Vec<i16> {
        let vowels = [
            (730.0, 1090.0, 2440.0),
            (270.0, 2290.0, 3010.0),
            (300.0, 870.0, 2240.0),
            (530.0, 1840.0, 2480.0),
            (660.0, 1720.0, 2410.0),
            (570.0, 840.0, 2410.0),
        ];
        let mut out = Vec::with_capacity(seconds * 8000);
        let mut phase = 0.0f32;
        let mut seed = 7u32;
        let mut jitter = 1.0f32;
        for n in 0..seconds * 8000 {
            let t = n as f32 / 8000.0;
            if n % 80 == 0 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                jitter = 0.97 + 0.06 * ((seed >> 16) % 1000) as f32 / 1000.0;
            }
            let syllable = (t / 0.18) as usize;
            let (f1, f2, f3) = vowels[syllable % vowels.len()];
            let f0 =
                jitter * (90.0 + 140.0 * (0.5 + 0.5 * (t * 1.3).sin()) + 20.0 * (t * 7.0).sin());
            phase += 2.0 * std::f32::consts::PI * f0 / 8000.0;
            let mut v = 0.0;
            for h in 1..=40 {
                let f = f0 * h as f32;
                if f > 3800.0 {
                    break;
                }
                let formant = |centre: f32, bandwidth: f32| {
                    1.0 / (1.0 + ((f - centre) / (bandwidth / 2.0)).powi(2))
                };
                let gain = (formant(f1, 90.0)
                    + 0.7 * formant(f2, 110.0)
                    + 0.4 * formant(f3, 170.0)
                    + 0.05)
                    / h as f32;
                v += gain * (phase * h as f32).sin();
            }
            let envelope = (std::f32::consts::PI * (t % 0.18) / 0.18).sin();
            out.push((v * envelope * 12000.0).clamp(-32000.0, 32000.0) as i16);
        }
        out
    }

    #[test]
    fn speech_like_audio_gives_no_digits() {
        assert_eq!(detect(&speech_like(60)), "");
    }

    #[test]
    fn single_tones_and_chords_give_no_digits() {
        let mut audio = dual_tone(697.0, 697.0, -10.0, -10.0, 4000);
        audio.extend(dual_tone(1209.0, 1336.0, -10.0, -10.0, 4000));
        audio.extend(dual_tone(440.0, 880.0, -10.0, -10.0, 4000));
        assert_eq!(detect(&audio), "");
    }
}
