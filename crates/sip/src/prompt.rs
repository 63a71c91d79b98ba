//! Prompts: 8 kHz audio held in memory as µ-law bytes, shared between calls.
//!
//! A prompt is converted once (from 16-bit PCM or a WAV file) when it is
//! loaded, never per call; a hundred calls playing the same greeting share
//! one buffer. Sequences of prompts are played back to back by the pacer
//! without a gap (see `rtp/stream.rs`).

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
        "{path} is {found}; prompts must be PCM WAV (8 to 32-bit integer or 32-bit float, \
         any rate from 8000 to 192000 Hz; convert with: sox IN -r 8000 -c 1 -b 16 OUT.wav)"
    )]
    Format { path: String, found: String },
    #[error("cannot resample {path}: {reason}")]
    Resample { path: String, reason: String },
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

    /// Loads a PCM WAV file of any common rate, depth and channel count:
    /// channels are mixed down and the audio resampled to 8 kHz once, here.
    pub fn load_wav(path: &Path) -> Result<Self, PromptError> {
        let name = path.display().to_string();
        let reader = hound::WavReader::open(path).map_err(|source| PromptError::Read {
            path: name.clone(),
            source,
        })?;
        Prompt::from_wav(reader, &name)
    }

    /// A WAV held in memory (what a TTS engine wrote), as [`Prompt::load_wav`].
    pub fn from_wav_bytes(bytes: &[u8], name: &str) -> Result<Self, PromptError> {
        let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).map_err(|source| {
            PromptError::Read {
                path: name.to_string(),
                source,
            }
        })?;
        Prompt::from_wav(reader, name)
    }

    fn from_wav<R: std::io::Read>(
        reader: hound::WavReader<R>,
        name: &str,
    ) -> Result<Self, PromptError> {
        let spec = reader.spec();
        let usable = spec.channels > 0
            && (8000..=192_000).contains(&spec.sample_rate)
            && match spec.sample_format {
                hound::SampleFormat::Int => (8..=32).contains(&spec.bits_per_sample),
                hound::SampleFormat::Float => spec.bits_per_sample == 32,
            };
        if !usable {
            return Err(PromptError::Format {
                path: name.to_string(),
                found: format!(
                    "{} Hz, {} channel(s), {}-bit {:?}",
                    spec.sample_rate, spec.channels, spec.bits_per_sample, spec.sample_format
                ),
            });
        }
        let read_error = |source| PromptError::Read {
            path: name.to_string(),
            source,
        };
        // Every format to f32 in [-1, 1], then mixed down to mono.
        let interleaved: Vec<f32> = match spec.sample_format {
            hound::SampleFormat::Float => reader
                .into_samples::<f32>()
                .collect::<Result<_, _>>()
                .map_err(read_error)?,
            hound::SampleFormat::Int => {
                let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
                reader
                    .into_samples::<i32>()
                    .map(|s| s.map(|v| v as f32 * scale))
                    .collect::<Result<_, _>>()
                    .map_err(read_error)?
            }
        };
        let channels = usize::from(spec.channels);
        let mono: Vec<f32> = interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect();
        let resampled =
            resample_to_8k(mono, spec.sample_rate).map_err(|reason| PromptError::Resample {
                path: name.to_string(),
                reason,
            })?;
        let pcm: Vec<i16> = resampled
            .iter()
            .map(|&v| (v.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16)
            .collect();
        Ok(Prompt::from_pcm(&pcm))
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

/// Band-limited sample-rate conversion to 8 kHz with rubato's windowed
/// sinc resampler (a plain linear interpolation would alias everything
/// above 4 kHz into the speech band).
fn resample_to_8k(input: Vec<f32>, rate: u32) -> Result<Vec<f32>, String> {
    use rubato::{
        Resampler, SincFixedIn, SincInterpolationParameters, SincInterpolationType, WindowFunction,
    };
    if rate == SAMPLE_RATE || input.is_empty() {
        return Ok(input);
    }
    let ratio = f64::from(SAMPLE_RATE) / f64::from(rate);
    let expected = (input.len() as f64 * ratio).round() as usize;
    let params = SincInterpolationParameters {
        sinc_len: 256,
        f_cutoff: 0.95,
        interpolation: SincInterpolationType::Linear,
        oversampling_factor: 128,
        window: WindowFunction::BlackmanHarris2,
    };
    let mut resampler =
        SincFixedIn::<f32>::new(ratio, 1.0, params, input.len(), 1).map_err(|e| e.to_string())?;
    let delay = resampler.output_delay();
    let mut out = resampler
        .process(&[input], None)
        .map_err(|e| e.to_string())?
        .remove(0);
    // Flush the filter's tail, then drop its delay from the front.
    let tail = resampler
        .process_partial(None::<&[Vec<f32>]>, None)
        .map_err(|e| e.to_string())?
        .remove(0);
    out.extend(tail);
    out.drain(..delay.min(out.len()));
    out.truncate(expected);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, spec: hound::WavSpec, frames: usize, f: impl Fn(usize) -> f32) {
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..frames {
            for _ in 0..spec.channels {
                let v = f(i);
                match spec.sample_format {
                    hound::SampleFormat::Float => w.write_sample(v).unwrap(),
                    hound::SampleFormat::Int => w.write_sample((v * 32767.0) as i16).unwrap(),
                }
            }
        }
        w.finalize().unwrap();
    }

    fn rms(p: &Prompt) -> f64 {
        let s: Vec<f64> = p
            .ulaw()
            .iter()
            .map(|&b| f64::from(g711::ulaw_to_linear(b)))
            .collect();
        (s.iter().map(|v| v * v).sum::<f64>() / s.len() as f64).sqrt()
    }

    #[test]
    fn wav_files_of_any_common_rate_load_and_bad_ones_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let good = dir.path().join("good.wav");
        write_wav(&good, spec, 800, |i| ((i % 50) as f32) / 100.0);
        assert_eq!(Prompt::load_wav(&good).unwrap().duration_ms(), 100);

        // 44.1 kHz stereo float: one second of 1 kHz comes out as one
        // second at 8 kHz with the tone's frequency kept (2,000 zero
        // crossings) and its level kept.
        let cd = dir.path().join("cd.wav");
        let cd_spec = hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let tone = |hz: f32| {
            move |i: usize| 0.5 * (2.0 * std::f32::consts::PI * hz * i as f32 / 44_100.0).sin()
        };
        write_wav(&cd, cd_spec, 44_100, tone(1000.0));
        let p = Prompt::load_wav(&cd).unwrap();
        assert_eq!(p.duration_ms(), 1000);
        let samples: Vec<i16> = p.ulaw().iter().map(|&b| g711::ulaw_to_linear(b)).collect();
        let crossings = samples
            .windows(2)
            .filter(|w| (w[0] < 0) != (w[1] < 0))
            .count();
        assert!((1990..=2010).contains(&crossings), "{crossings}");
        let level = rms(&p);
        assert!(
            (0.5 * 32767.0 / 2f64.sqrt() - level).abs() < 1500.0,
            "{level}"
        );

        // A 10 kHz tone is above what 8 kHz can carry: it is filtered out,
        // not folded back into the speech band.
        let high = dir.path().join("high.wav");
        write_wav(&high, cd_spec, 44_100, tone(10_000.0));
        let level = rms(&Prompt::load_wav(&high).unwrap());
        assert!(level < 300.0, "aliasing: rms {level}");

        let wrong = dir.path().join("wrong.wav");
        write_wav(
            &wrong,
            hound::WavSpec {
                sample_rate: 4000,
                ..spec
            },
            10,
            |_| 0.0,
        );
        let err = Prompt::load_wav(&wrong).unwrap_err().to_string();
        assert!(err.contains("4000 Hz") && err.contains("sox"), "{err}");
        let junk = dir.path().join("junk.wav");
        std::fs::write(&junk, b"RIFF not really a wave file").unwrap();
        assert!(Prompt::load_wav(&junk).is_err());
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
