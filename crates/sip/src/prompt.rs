//! Prompts: 8 kHz audio held in memory as µ-law bytes, shared between calls.
//!
//! A prompt is converted once (from 16-bit PCM or a WAV file) when it is
//! loaded, never per call; a hundred calls playing the same greeting share
//! one buffer. Sequences of prompts are played back to back by the pacer
//! without a gap (see `rtp/pacer.rs`).

use crate::dtmf::{Digit, goertzel};
use crate::g711;
use std::path::Path;
use std::sync::Arc;
use thiserror::Error;

pub const SAMPLE_RATE: u32 = 8000;

#[derive(Debug, Error)]
pub enum PromptError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: hound::Error },
    #[error(
        "{path} is {found}; prompts must be 8000 Hz mono 16-bit PCM WAV \
         (convert with: sox IN.wav -r 8000 -c 1 -b 16 OUT.wav)"
    )]
    Format { path: String, found: String },
}

/// Immutable audio, cheap to clone.
#[derive(Clone, PartialEq, Eq)]
pub struct Prompt {
    ulaw: Arc<[u8]>,
}

impl std::fmt::Debug for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Prompt({} ms)", self.duration_ms())
    }
}

impl Prompt {
    pub fn from_ulaw(ulaw: impl Into<Arc<[u8]>>) -> Self {
        Prompt { ulaw: ulaw.into() }
    }

    pub fn from_pcm(samples: &[i16]) -> Self {
        Prompt::from_ulaw(
            samples
                .iter()
                .map(|&s| g711::linear_to_ulaw(s))
                .collect::<Vec<_>>(),
        )
    }

    pub fn silence(ms: u32) -> Self {
        Prompt::from_ulaw(vec![
            g711::Codec::Pcmu.silence();
            (ms * SAMPLE_RATE / 1000) as usize
        ])
    }

    /// A sine tone at `level_dbm0`, with 5 ms ramps so it starts and ends
    /// without a click.
    pub fn tone(frequency_hz: f32, ms: u32, level_dbm0: f32) -> Self {
        let mut pcm = goertzel::dual_tone(
            frequency_hz,
            frequency_hz,
            level_dbm0 - 6.02,
            level_dbm0 - 6.02,
            (ms * 8) as usize,
        );
        ramp(&mut pcm);
        Prompt::from_pcm(&pcm)
    }

    /// The in-band DTMF tone of a key, `ms` long at −10 dBm0 per tone.
    pub fn dtmf(digit: Digit, ms: u32) -> Self {
        let (low, high) = goertzel::frequencies(digit);
        let mut pcm = goertzel::dual_tone(low, high, -10.0, -10.0, (ms * 8) as usize);
        ramp(&mut pcm);
        Prompt::from_pcm(&pcm)
    }

    /// Keys as in-band tones, each `tone_ms` long and followed by `gap_ms`
    /// of silence.
    pub fn dtmf_keys(keys: &[Digit], tone_ms: u32, gap_ms: u32) -> Vec<Prompt> {
        let gap = Prompt::silence(gap_ms);
        keys.iter()
            .flat_map(|&d| [Prompt::dtmf(d, tone_ms), gap.clone()])
            .collect()
    }

    /// Loads an 8 kHz mono 16-bit PCM WAV file.
    pub fn load_wav(path: &Path) -> Result<Self, PromptError> {
        let name = path.display().to_string();
        let reader = hound::WavReader::open(path).map_err(|source| PromptError::Read {
            path: name.clone(),
            source,
        })?;
        let spec = reader.spec();
        if spec.sample_rate != SAMPLE_RATE
            || spec.channels != 1
            || spec.bits_per_sample != 16
            || spec.sample_format != hound::SampleFormat::Int
        {
            return Err(PromptError::Format {
                path: name,
                found: format!(
                    "{} Hz, {} channel(s), {}-bit {:?}",
                    spec.sample_rate, spec.channels, spec.bits_per_sample, spec.sample_format
                ),
            });
        }
        let samples: Result<Vec<i16>, _> = reader.into_samples::<i16>().collect();
        let samples = samples.map_err(|source| PromptError::Read { path: name, source })?;
        Ok(Prompt::from_pcm(&samples))
    }

    pub fn ulaw(&self) -> &Arc<[u8]> {
        &self.ulaw
    }

    pub fn len_samples(&self) -> usize {
        self.ulaw.len()
    }

    pub fn duration_ms(&self) -> u64 {
        self.ulaw.len() as u64 * 1000 / u64::from(SAMPLE_RATE)
    }

    /// One prompt made of several, for callers that want a single buffer.
    pub fn concat(parts: &[Prompt]) -> Self {
        let mut all = Vec::with_capacity(parts.iter().map(Prompt::len_samples).sum());
        for p in parts {
            all.extend_from_slice(&p.ulaw);
        }
        Prompt::from_ulaw(all)
    }
}

fn ramp(pcm: &mut [i16]) {
    let n = 40.min(pcm.len() / 2);
    let len = pcm.len();
    for i in 0..n {
        let g = i as f32 / n as f32;
        pcm[i] = (f32::from(pcm[i]) * g) as i16;
        pcm[len - 1 - i] = (f32::from(pcm[len - 1 - i]) * g) as i16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_files_load_and_wrong_formats_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&good, spec).unwrap();
        for i in 0..800 {
            w.write_sample(((i % 50) * 100) as i16).unwrap();
        }
        w.finalize().unwrap();
        assert_eq!(Prompt::load_wav(&good).unwrap().duration_ms(), 100);

        let wrong = dir.path().join("wrong.wav");
        let mut w = hound::WavWriter::create(
            &wrong,
            hound::WavSpec {
                sample_rate: 16000,
                ..spec
            },
        )
        .unwrap();
        w.write_sample(0i16).unwrap();
        w.finalize().unwrap();
        let err = Prompt::load_wav(&wrong).unwrap_err().to_string();
        assert!(err.contains("16000 Hz") && err.contains("sox"), "{err}");
        assert!(Prompt::load_wav(&dir.path().join("missing.wav")).is_err());
    }

    #[test]
    fn dtmf_prompts_are_detected_as_their_digit() {
        let mut audio = Vec::new();
        for c in "4878378#".chars() {
            let p = Prompt::dtmf(Digit::from_char(c).unwrap(), 70);
            audio.extend(p.ulaw().iter().map(|&b| g711::ulaw_to_linear(b)));
            audio.extend(
                Prompt::silence(70)
                    .ulaw()
                    .iter()
                    .map(|&b| g711::ulaw_to_linear(b)),
            );
        }
        let mut found = String::new();
        goertzel::DtmfDetector::new().feed(audio, |d| found.push(d.as_char()));
        assert_eq!(found, "4878378#");
    }
}
