//! Named prompts for one language: the fixed vocabulary rendered by
//! `scripts/render-prompts` and embedded in the binary, with any prompt
//! replaceable by an operator's recording (`NAME.wav` in a directory).
//!
//! Call flows ask for prompts by name (`"welcome"`, `"digit-7"`) and build
//! sequences from them: a code read digit by digit, a password spelled
//! phonetically. Names are listed in `prompts/vocabulary.tsv`.

use std::collections::HashMap;
use std::path::Path;
use thiserror::Error;
use touchtone_sip::prompt::{Prompt, PromptError};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_prompts.rs"));
}

#[derive(Debug, Error)]
pub enum PromptSetError {
    #[error("no prompts for language {0:?}")]
    UnknownLanguage(String),
    #[error("no prompt named {0:?}")]
    Missing(String),
    #[error("prompt override: {0}")]
    Override(#[from] PromptError),
    #[error("cannot read the prompt directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone)]
pub struct PromptSet {
    language: String,
    prompts: HashMap<String, Prompt>,
}

impl PromptSet {
    /// The languages whose prompts ship in the binary (`en` first).
    pub fn embedded_languages() -> Vec<&'static str> {
        let mut languages: Vec<&'static str> = Vec::new();
        for (lang, _, _) in embedded::EMBEDDED {
            if !languages.contains(lang) {
                languages.push(lang);
            }
        }
        languages.sort_by_key(|l| (*l != "en", *l));
        languages
    }

    /// The prompts shipped in the binary for `language` (e.g. `"en"`).
    pub fn embedded(language: &str) -> Result<Self, PromptSetError> {
        let prompts: HashMap<String, Prompt> = embedded::EMBEDDED
            .iter()
            .filter(|(lang, _, _)| *lang == language)
            .map(|(_, name, bytes)| (name.to_string(), Prompt::from_ulaw(bytes.to_vec())))
            .collect();
        if prompts.is_empty() {
            return Err(PromptSetError::UnknownLanguage(language.to_string()));
        }
        Ok(PromptSet {
            language: language.to_string(),
            prompts,
        })
    }

    /// Replaces (or adds) prompts with the `NAME.wav` recordings in `dir`
    /// (PCM WAV of any common rate, converted to 8 kHz once, here). A file
    /// that cannot be used is an error, so a bad recording is found at
    /// start, not during a call.
    pub fn with_overrides(mut self, dir: &Path) -> Result<Self, PromptSetError> {
        let entries = std::fs::read_dir(dir).map_err(|source| PromptSetError::Directory {
            path: dir.display().to_string(),
            source,
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("wav") {
                continue;
            }
            if let Some(name) = path.file_stem().and_then(|s| s.to_str()) {
                let prompt = Prompt::load_wav(&path)?;
                self.prompts.insert(name.to_string(), prompt);
            }
        }
        Ok(self)
    }

    pub fn language(&self) -> &str {
        &self.language
    }

    pub fn get(&self, name: &str) -> Result<Prompt, PromptSetError> {
        self.prompts
            .get(name)
            .cloned()
            .ok_or_else(|| PromptSetError::Missing(name.to_string()))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.prompts.keys().map(String::as_str)
    }

    /// Keys read one by one (`"48#"` → four, eight, pound), `pause_ms` of
    /// silence after each.
    pub fn keys(&self, keys: &str, pause_ms: u32) -> Result<Vec<Prompt>, PromptSetError> {
        let pause = Prompt::silence(pause_ms);
        let mut out = Vec::with_capacity(keys.len() * 2);
        for c in keys.chars() {
            let name = match c {
                '0'..='9' => format!("digit-{c}"),
                '*' => "key-star".into(),
                '#' => "key-pound".into(),
                _ => return Err(PromptSetError::Missing(format!("key {c:?}"))),
            };
            out.push(self.get(&name)?);
            if pause_ms > 0 {
                out.push(pause.clone());
            }
        }
        Ok(out)
    }

    /// A phonetic spelling (`["capital Kilo", "seven", "question mark"]`)
    /// as prompts, `pause_ms` of silence after each character.
    pub fn spelling(&self, words: &[String], pause_ms: u32) -> Result<Vec<Prompt>, PromptSetError> {
        let pause = Prompt::silence(pause_ms);
        let mut out = Vec::new();
        for word in words {
            for name in spoken_names(word) {
                out.push(self.get(&name)?);
            }
            if pause_ms > 0 {
                out.push(pause.clone());
            }
        }
        Ok(out)
    }
}

/// The prompt names that say one spelled character.
fn spoken_names(word: &str) -> Vec<String> {
    const DIGITS: [&str; 10] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    let lower = word.trim().to_ascii_lowercase();
    for case in ["capital", "small"] {
        if let Some(letter) = lower
            .strip_prefix(case)
            .and_then(|rest| rest.strip_prefix(' '))
        {
            return vec![case.to_string(), format!("nato-{}", letter.trim())];
        }
    }
    if let Some(d) = DIGITS.iter().position(|d| *d == lower) {
        return vec![format!("digit-{d}")];
    }
    vec![format!("symbol-{}", lower.replace(' ', "-"))]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vec<String> {
        include_str!("../prompts/vocabulary.tsv")
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split('\t').next().map(str::to_string))
            .collect()
    }

    #[test]
    fn every_vocabulary_entry_is_embedded_and_sounds_like_speech() {
        for language in ["en", "de"] {
            every_entry_sounds_like_speech(language);
        }
        assert!(matches!(
            PromptSet::embedded("xx"),
            Err(PromptSetError::UnknownLanguage(_))
        ));
    }

    /// The translated vocabularies name exactly the English entries.
    #[test]
    fn every_language_has_the_same_names() {
        let de: Vec<String> = include_str!("../prompts/vocabulary.de.tsv")
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split('\t').next().map(str::to_string))
            .collect();
        assert_eq!(de, vocabulary());
    }

    fn every_entry_sounds_like_speech(language: &str) {
        let set = PromptSet::embedded(language).unwrap();
        for name in vocabulary() {
            let p = set.get(&name).unwrap_or_else(|_| {
                panic!("{language}/{name} is not rendered: run scripts/render-prompts")
            });
            assert!(
                (150..30_000).contains(&p.duration_ms()),
                "{name}: {} ms",
                p.duration_ms()
            );
            let loud = p
                .ulaw()
                .iter()
                .filter(|&&b| touchtone_sip::g711::ulaw_to_linear(b).unsigned_abs() > 1000)
                .count();
            assert!(
                loud * 10 > p.len_samples(),
                "{language}/{name} is mostly silence"
            );
        }
    }

    /// Talk-off: two and a half minutes of real (synthesised) speech, our
    /// own prompts, must not look like a single key press to the in-band
    /// detector (a caller's line may echo them back).
    #[test]
    fn the_prompts_themselves_give_no_dtmf_digits() {
        let set = PromptSet::embedded("en").unwrap();
        let mut names: Vec<&str> = set.names().collect();
        names.sort();
        let mut detector = touchtone_sip::dtmf::goertzel::DtmfDetector::new();
        let mut found = String::new();
        for name in names {
            let p = set.get(name).unwrap();
            detector.feed(
                p.ulaw()
                    .iter()
                    .map(|&b| touchtone_sip::g711::ulaw_to_linear(b)),
                |d| found.push(d.as_char()),
            );
        }
        assert_eq!(found, "", "talk-off");
    }

    #[test]
    fn codes_and_spellings_become_prompt_sequences() {
        let set = PromptSet::embedded("en").unwrap();
        let code = set.keys("4829#", 300).unwrap();
        assert_eq!(code.len(), 10);
        assert_eq!(code[0], set.get("digit-4").unwrap());
        assert_eq!(code[8], set.get("key-pound").unwrap());
        let words: Vec<String> = [
            "capital Kilo",
            "small x-ray",
            "seven",
            "question mark",
            "hash",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let spoken = set.spelling(&words, 0).unwrap();
        let expected: Vec<Prompt> = [
            "capital",
            "nato-kilo",
            "small",
            "nato-x-ray",
            "digit-7",
            "symbol-question-mark",
            "symbol-hash",
        ]
        .iter()
        .map(|n| set.get(n).unwrap())
        .collect();
        assert_eq!(spoken, expected);
        assert!(set.keys("4a", 0).is_err());
        assert!(set.spelling(&["the character ü".to_string()], 0).is_err());
    }

    #[test]
    fn an_operator_recording_replaces_a_prompt_and_a_bad_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(dir.path().join("welcome.wav"), spec).unwrap();
        for i in 0..4000 {
            w.write_sample(((i % 40) * 300) as i16).unwrap();
        }
        w.finalize().unwrap();
        let set = PromptSet::embedded("en")
            .unwrap()
            .with_overrides(dir.path())
            .unwrap();
        assert_eq!(set.get("welcome").unwrap().duration_ms(), 500);
        // Any common rate is converted once, here: 22.05 kHz stereo.
        let mut cd = hound::WavWriter::create(
            dir.path().join("goodbye.wav"),
            hound::WavSpec {
                sample_rate: 22_050,
                channels: 2,
                ..spec
            },
        )
        .unwrap();
        for i in 0..22_050 / 4 {
            cd.write_sample(((i % 40) * 300) as i16).unwrap();
            cd.write_sample(((i % 40) * 300) as i16).unwrap();
        }
        cd.finalize().unwrap();
        let set = PromptSet::embedded("en")
            .unwrap()
            .with_overrides(dir.path())
            .unwrap();
        assert_eq!(set.get("goodbye").unwrap().duration_ms(), 250);

        let mut bad = hound::WavWriter::create(
            dir.path().join("thank-you.wav"),
            hound::WavSpec {
                sample_rate: 4000,
                ..spec
            },
        )
        .unwrap();
        bad.write_sample(0i16).unwrap();
        bad.finalize().unwrap();
        let err = PromptSet::embedded("en")
            .unwrap()
            .with_overrides(dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("thank-you.wav"), "{err}");
    }
}
