//! Turns what a flow says ([`Say`]) into audio: the fixed vocabulary from
//! a [`PromptSet`], free text from an operator's recording, else espeak-ng
//! ([`Tts`]), else spelled letter by letter with the phonetic alphabet, so
//! a question is always heard in some form.

use touchtone_sip::Prompt;

use crate::prompt_set::{PromptSet, PromptSetError};

use crate::say::Say;
use crate::tts::Tts;

const NATO: [&str; 26] = [
    "alfa", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "x-ray", "yankee", "zulu",
];

/// Pause after each spelled character of a password.
const SPELLING_PAUSE_MS: u32 = 350;

pub struct Voice {
    prompts: PromptSet,
    tts: Option<Tts>,
}

impl Voice {
    pub fn new(prompts: PromptSet, tts: Option<Tts>) -> Voice {
        Voice { prompts, tts }
    }

    pub fn language(&self) -> &str {
        self.prompts.language()
    }

    pub fn has_tts(&self) -> bool {
        self.tts.is_some()
    }

    /// The audio for `items`, in order. A missing fixed prompt is an error
    /// (a broken prompt set is found by the first call, loudly); free text
    /// always renders in some form.
    pub async fn render(&self, items: &[Say]) -> Result<Vec<Prompt>, PromptSetError> {
        let mut out = Vec::new();
        for item in items {
            match item {
                Say::Prompt(name) => out.push(self.prompts.get(name)?),
                Say::Keys(keys) => out.extend(self.prompts.keys(keys, 150)?),
                Say::Spelling(words) => {
                    out.extend(self.prompts.spelling(words, SPELLING_PAUSE_MS)?)
                }
                Say::Pause(ms) => out.push(Prompt::silence(*ms)),
                Say::Text { text, recording } => {
                    out.extend(self.free_text(text, recording.as_deref()).await?)
                }
            }
        }
        Ok(out)
    }

    async fn free_text(
        &self,
        text: &str,
        recording: Option<&str>,
    ) -> Result<Vec<Prompt>, PromptSetError> {
        if let Some(prompt) = recording.and_then(|name| self.prompts.get(name).ok()) {
            return Ok(vec![prompt]);
        }
        if let Some(tts) = &self.tts {
            match tts.speak(text).await {
                Ok(prompt) => return Ok(vec![prompt]),
                // Logged without the text: it may be a person's name.
                Err(e) => tracing::warn!(error = %e, "speech synthesis failed; spelling instead"),
            }
        }
        self.spell_text(text)
    }

    /// Letters by their phonetic word, digits by name, a pause per space;
    /// accents folded, anything else skipped.
    fn spell_text(&self, text: &str) -> Result<Vec<Prompt>, PromptSetError> {
        let mut out = Vec::new();
        for c in deunicode::deunicode(text).chars() {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() {
                out.push(
                    self.prompts
                        .get(&format!("nato-{}", NATO[usize::from(c as u8 - b'a')]))?,
                );
            } else if c.is_ascii_digit() {
                out.push(self.prompts.get(&format!("digit-{c}"))?);
            } else if c.is_whitespace() {
                out.push(Prompt::silence(300));
            }
        }
        Ok(out)
    }
}
