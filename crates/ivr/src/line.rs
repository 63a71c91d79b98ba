//! [`Line`]: what a flow needs of a call. [`SipLine`] is a real call (the
//! engine's `Channel` with a [`Voice`]); [`ScriptedLine`] plays a caller
//! from a script and keeps a transcript, for tests of every branch of a
//! flow without audio.

use std::collections::VecDeque;
use std::sync::Arc;

use async_trait::async_trait;
use touchtone_sip::{
    Channel, ChannelError, CollectEnd, CollectSpec, Collected, PlayOutcome, TransferOutcome,
};

use crate::say::Say;
use crate::voice::Voice;

/// The caller hung up (or the call otherwise ended).
pub type HungUp = ChannelError;

#[async_trait]
pub trait Line: Send {
    /// The calling number as it arrived (From's user part), if any.
    fn caller_number(&self) -> Option<String>;
    /// Plays `what` to the end; keys pressed meanwhile are ignored.
    async fn say(&mut self, what: &[Say]) -> Result<(), HungUp>;
    /// Plays `what` (interruptible by a key when `spec.barge_in`) and
    /// collects keys.
    async fn ask(&mut self, what: &[Say], spec: &CollectSpec) -> Result<Collected, HungUp>;
    /// Blind transfer (SIP REFER) to `uri`.
    async fn transfer(&mut self, uri: &str) -> Result<TransferOutcome, HungUp>;
    async fn hangup(&mut self);
}

/// A real call.
pub struct SipLine {
    channel: Channel,
    voice: Arc<Voice>,
}

impl SipLine {
    pub fn new(channel: Channel, voice: Arc<Voice>) -> SipLine {
        SipLine { channel, voice }
    }

    pub fn channel(&self) -> &Channel {
        &self.channel
    }
}

#[async_trait]
impl Line for SipLine {
    fn caller_number(&self) -> Option<String> {
        self.channel.info.caller.clone()
    }

    async fn say(&mut self, what: &[Say]) -> Result<(), HungUp> {
        let prompts = self.voice.render(what).await.map_err(|e| {
            tracing::error!(error = %e, "prompt set is missing a prompt");
            ChannelError::HungUp
        })?;
        match self.channel.play(&prompts, false).await? {
            PlayOutcome::Completed | PlayOutcome::Interrupted(_) => Ok(()),
        }
    }

    async fn ask(&mut self, what: &[Say], spec: &CollectSpec) -> Result<Collected, HungUp> {
        let prompts = self.voice.render(what).await.map_err(|e| {
            tracing::error!(error = %e, "prompt set is missing a prompt");
            ChannelError::HungUp
        })?;
        let got = self.channel.play_and_collect(&prompts, spec).await?;
        // The keys themselves are answers and IDs: never logged.
        tracing::debug!(call = %self.channel.info.call_id, keys = got.digits.len(), end = ?got.end, "collected");
        Ok(got)
    }

    async fn transfer(&mut self, uri: &str) -> Result<TransferOutcome, HungUp> {
        self.channel.transfer(uri).await
    }

    async fn hangup(&mut self) {
        self.channel.hangup().await;
    }
}

/// One thing the scripted caller does when asked for keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    /// Keys, as typed: `"4878378#"` ends with the terminator.
    Keys(String),
    /// Keys the answer to the question just heard (from
    /// [`ScriptedLine::answers`], by question text), then `#`.
    Answer,
    /// Says nothing until the timeout.
    Silent,
    /// Hangs up (also while only listening, if it is next in the script).
    HangUp,
}

impl Act {
    pub fn keys(keys: &str) -> Act {
        Act::Keys(keys.to_owned())
    }
}

/// A caller from a script. Every prompt is written to `transcript`
/// ([`Say::describe`]), every key press as `caller:KEYS`, a transfer as
/// `transfer:URI`. When the script runs out the caller hangs up.
pub struct ScriptedLine {
    pub script: VecDeque<Act>,
    pub transcript: Vec<String>,
    pub caller: Option<String>,
    pub transfer_outcome: TransferOutcome,
    pub hung_up: bool,
    /// Question text → the keys that answer it, for [`Act::Answer`].
    pub answers: Vec<(String, String)>,
}

impl ScriptedLine {
    pub fn new(script: impl IntoIterator<Item = Act>) -> ScriptedLine {
        ScriptedLine {
            script: script.into_iter().collect(),
            transcript: Vec::new(),
            caller: None,
            transfer_outcome: TransferOutcome::Completed,
            hung_up: false,
            answers: Vec::new(),
        }
    }

    /// The answers [`Act::Answer`] keys, by question text.
    pub fn with_answers(mut self, answers: &[(&str, &str)]) -> ScriptedLine {
        self.answers = answers
            .iter()
            .map(|(q, a)| ((*q).to_owned(), (*a).to_owned()))
            .collect();
        self
    }

    /// Whether the transcript has `entry` (exactly).
    pub fn heard(&self, entry: &str) -> bool {
        self.transcript.iter().any(|t| t == entry)
    }

    /// How many times `entry` appears.
    pub fn count(&self, entry: &str) -> usize {
        self.transcript.iter().filter(|t| *t == entry).count()
    }

    /// The scripted answer to the last free text in `what`, with `#`.
    fn answer_to(&self, what: &[Say]) -> String {
        let asked = what.iter().rev().find_map(|s| match s {
            Say::Text { text, .. } => Some(text.as_str()),
            _ => None,
        });
        self.answers
            .iter()
            .find(|(q, _)| Some(q.as_str()) == asked)
            .map(|(_, a)| format!("{a}#"))
            .unwrap_or_else(|| "#".to_owned())
    }

    fn hear(&mut self, what: &[Say]) -> Result<(), HungUp> {
        if self.hung_up {
            return Err(ChannelError::HungUp);
        }
        self.transcript.extend(what.iter().map(Say::describe));
        Ok(())
    }
}

#[async_trait]
impl Line for ScriptedLine {
    fn caller_number(&self) -> Option<String> {
        self.caller.clone()
    }

    async fn say(&mut self, what: &[Say]) -> Result<(), HungUp> {
        self.hear(what)?;
        if self.script.front() == Some(&Act::HangUp) {
            self.script.pop_front();
            self.hung_up = true;
            self.transcript.push("caller:hangs-up".into());
            return Err(ChannelError::HungUp);
        }
        Ok(())
    }

    async fn ask(&mut self, what: &[Say], spec: &CollectSpec) -> Result<Collected, HungUp> {
        self.hear(what)?;
        let keys = match self.script.pop_front().unwrap_or(Act::HangUp) {
            Act::HangUp => {
                self.hung_up = true;
                self.transcript.push("caller:hangs-up".into());
                return Err(ChannelError::HungUp);
            }
            Act::Silent => {
                self.transcript.push("caller:silent".into());
                return Ok(Collected {
                    digits: String::new(),
                    end: CollectEnd::Timeout,
                });
            }
            Act::Keys(keys) => keys,
            Act::Answer => self.answer_to(what),
        };
        self.transcript.push(format!("caller:{keys}"));
        let terminator = spec.terminator.map(|d| d.as_char());
        let mut digits = String::new();
        for c in keys.chars() {
            if Some(c) == terminator {
                return Ok(Collected {
                    digits,
                    end: CollectEnd::Terminator,
                });
            }
            digits.push(c);
            if digits.len() >= spec.max_digits {
                return Ok(Collected {
                    digits,
                    end: CollectEnd::MaxDigits,
                });
            }
        }
        Ok(Collected {
            digits,
            end: CollectEnd::Timeout,
        })
    }

    async fn transfer(&mut self, uri: &str) -> Result<TransferOutcome, HungUp> {
        if self.hung_up {
            return Err(ChannelError::HungUp);
        }
        self.transcript.push(format!("transfer:{uri}"));
        if self.transfer_outcome == TransferOutcome::Completed {
            self.hung_up = true;
        }
        Ok(self.transfer_outcome.clone())
    }

    async fn hangup(&mut self) {
        if !self.hung_up {
            self.transcript.push("ivr:hangs-up".into());
        }
        self.hung_up = true;
    }
}
