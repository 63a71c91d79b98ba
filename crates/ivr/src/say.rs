//! What a flow wants the caller to hear, before it becomes audio. Flows
//! speak in these terms so a test can read what was said
//! ([`Say::describe`]) and the [`crate::Voice`] decides how to render it.

/// One piece of what the caller hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Say {
    /// A prompt of the fixed vocabulary, by name (`"welcome"`).
    Prompt(&'static str),
    /// Keys read one by one (`"1"` → "one").
    Keys(String),
    /// A phonetic spelling, one entry a character ("capital Kilo").
    Spelling(Vec<String>),
    /// Free text (a question, a name). `recording` names an operator's
    /// prompt that replaces it when present (`question-first_pet`).
    Text {
        text: String,
        recording: Option<String>,
    },
    /// Silence, in milliseconds.
    Pause(u32),
}

impl Say {
    pub fn text(text: impl Into<String>) -> Say {
        Say::Text {
            text: text.into(),
            recording: None,
        }
    }

    /// A readable form for transcripts: `prompt:welcome`, `keys:1`,
    /// `text:In what year …`, `spell:capital Kilo|seven`.
    pub fn describe(&self) -> String {
        match self {
            Say::Prompt(name) => format!("prompt:{name}"),
            Say::Keys(keys) => format!("keys:{keys}"),
            Say::Spelling(words) => format!("spell:{}", words.join("|")),
            Say::Text { text, .. } => format!("text:{text}"),
            Say::Pause(ms) => format!("pause:{ms}"),
        }
    }
}
