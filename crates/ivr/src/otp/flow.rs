//! What the callee of a voice-OTP call hears and keys.
//!
//! Speak mode: "Your verification code is 4 8 2 9 1 3. Again. 4 8 2 9 1 3."
//! (as many readings as asked for), then "To hear the code again, press 1."
//! Verify mode: "Please enter the verification code shown on your screen,
//! followed by the pound key", compared in constant time, with retries.
//!
//! The flows leave hanging up to their caller (the worker), which measures
//! the talk time first. They write what happened into an [`OtpRecord`] as
//! they go, so a call cut short (the callee hangs up, the call is cancelled or runs too long)
//! still reports how often the code was played and what was keyed.

use std::time::Duration;

use touchtone_core::otp::OtpCode;
use touchtone_sip::{CollectSpec, Digit};

use crate::line::Line;
use crate::say::Say;

#[derive(Debug, Clone)]
pub struct OtpFlowSettings {
    /// Tries to key the code in verify mode.
    pub verify_attempts: u32,
    /// How long the callee has to start keying, and between keys.
    pub first_digit_timeout: Duration,
    pub inter_digit_timeout: Duration,
    /// How often "press 1 to hear it again" is honoured.
    pub max_replays: u32,
    /// How long to wait for that 1.
    pub replay_wait: Duration,
}

impl Default for OtpFlowSettings {
    fn default() -> Self {
        OtpFlowSettings {
            verify_attempts: 3,
            first_digit_timeout: Duration::from_secs(10),
            inter_digit_timeout: Duration::from_secs(5),
            max_replays: 3,
            replay_wait: Duration::from_secs(5),
        }
    }
}

/// One try at keying the code (the keys themselves are never kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub digits: usize,
    pub correct: bool,
}

/// What the call has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OtpRecord {
    /// Complete readings of the code.
    pub code_played: u32,
    pub entries: Vec<Entry>,
    /// The flow reached its end (not cut short by a hang-up).
    pub finished: bool,
    /// Notify mode: the callee pressed a key to hear the message.
    pub key_pressed: bool,
    /// Notify mode: the callee pressed 1, "this was not me".
    pub not_me: bool,
}

impl OtpRecord {
    /// The final status of a speak-mode call from what happened.
    pub fn speak_status(&self) -> &'static str {
        if self.code_played > 0 {
            "code-played"
        } else {
            "hung-up"
        }
    }

    /// The final status of a verify-mode call from what happened.
    pub fn verify_status(&self) -> &'static str {
        if self.entries.iter().any(|e| e.correct) {
            "verified"
        } else if !self.finished {
            "hung-up"
        } else if self.entries.is_empty() {
            "no-code"
        } else {
            "wrong-code"
        }
    }
}

impl OtpRecord {
    /// The final status of a notification call from what happened:
    /// `not-me` (pressed 1), `heard` (pressed a key and heard it out),
    /// `no-key` (answered, but nobody pressed a key: likely voicemail, which
    /// heard nothing that matters), `hung-up`.
    pub fn notify_status(&self) -> &'static str {
        if self.not_me {
            "not-me"
        } else if self.key_pressed && self.finished {
            "heard"
        } else if !self.finished {
            "hung-up"
        } else {
            "no-key"
        }
    }
}

/// The code, digit by digit with a short pause between.
fn digits(code: &OtpCode) -> Vec<Say> {
    let mut said = Vec::with_capacity(code.len() * 2);
    for (i, d) in code.digits().chars().enumerate() {
        if i > 0 {
            said.push(Say::Pause(250));
        }
        said.push(Say::Keys(d.to_string()));
    }
    said
}

/// Speak mode. Returns when the callee has heard the code and did not ask
/// again, or hung up (`Err`).
pub async fn speak(
    line: &mut dyn Line,
    code: &OtpCode,
    repeats: u32,
    settings: &OtpFlowSettings,
    record: &mut OtpRecord,
) -> Result<(), crate::line::HungUp> {
    // Let the callee put the phone to their ear.
    line.say(&[Say::Pause(600)]).await?;
    let mut replays = 0;
    loop {
        for reading in 0..repeats.max(1) {
            let mut said = vec![if reading == 0 {
                Say::Prompt("otp-your-code-is")
            } else {
                Say::Prompt("otp-again")
            }];
            said.push(Say::Pause(300));
            said.extend(digits(code));
            said.push(Say::Pause(700));
            line.say(&said).await?;
            record.code_played += 1;
        }
        if replays >= settings.max_replays {
            break;
        }
        let spec = CollectSpec {
            max_digits: 1,
            terminator: None,
            first_digit_timeout: settings.replay_wait,
            inter_digit_timeout: settings.replay_wait,
            barge_in: true,
        };
        let got = line
            .ask(&[Say::Prompt("otp-press-1-to-repeat")], &spec)
            .await?;
        if got.digits != "1" {
            break;
        }
        replays += 1;
    }
    line.say(&[Say::Prompt("goodbye")]).await?;
    record.finished = true;
    Ok(())
}

/// Verify mode. Returns when the code was keyed right or the tries ran
/// out, or the callee hung up (`Err`).
pub async fn verify(
    line: &mut dyn Line,
    code: &OtpCode,
    settings: &OtpFlowSettings,
    record: &mut OtpRecord,
) -> Result<(), crate::line::HungUp> {
    line.say(&[Say::Pause(600)]).await?;
    let spec = CollectSpec {
        max_digits: code.len(),
        terminator: Digit::from_char('#'),
        first_digit_timeout: settings.first_digit_timeout,
        inter_digit_timeout: settings.inter_digit_timeout,
        barge_in: true,
    };
    let attempts = settings.verify_attempts.max(1);
    for attempt in 1..=attempts {
        let got = line.ask(&[Say::Prompt("otp-enter-code")], &spec).await?;
        let last = attempt == attempts;
        if got.digits.is_empty() {
            if !last {
                line.say(&[Say::Prompt("try-again")]).await?;
            }
            continue;
        }
        let correct = code.matches(&got.digits);
        record.entries.push(Entry {
            digits: got.digits.len(),
            correct,
        });
        if correct {
            line.say(&[Say::Prompt("otp-code-confirmed"), Say::Prompt("goodbye")])
                .await?;
            record.finished = true;
            return Ok(());
        }
        line.say(&[Say::Prompt("otp-code-wrong")]).await?;
        if !last {
            line.say(&[Say::Prompt("try-again")]).await?;
        }
    }
    line.say(&[Say::Prompt("goodbye")]).await?;
    record.finished = true;
    Ok(())
}

/// Notify mode. `time` is when it happened (`HHMM`, the person's clock);
/// `purpose` what (`reset`, `unlock`, `lockout`). Nothing that matters is
/// said before the callee presses a key, so an answering machine records
/// only the request to press one; then the message, and "if this was not
/// you, press 1" (twice if nothing is pressed). Returns with
/// `record.not_me` set when 1 was pressed; the caller acts on it.
pub async fn notify(
    line: &mut dyn Line,
    time: &OtpCode,
    purpose: &str,
    settings: &OtpFlowSettings,
    record: &mut OtpRecord,
) -> Result<(), crate::line::HungUp> {
    line.say(&[Say::Pause(600)]).await?;
    let any_key = CollectSpec {
        max_digits: 1,
        terminator: None,
        first_digit_timeout: settings.first_digit_timeout,
        inter_digit_timeout: settings.first_digit_timeout,
        barge_in: true,
    };
    for _ in 0..2 {
        let got = line.ask(&[Say::Prompt("notify-intro")], &any_key).await?;
        if !got.digits.is_empty() {
            record.key_pressed = true;
            break;
        }
    }
    if !record.key_pressed {
        line.say(&[Say::Prompt("goodbye")]).await?;
        record.finished = true;
        return Ok(());
    }
    let what = match purpose {
        "reset" => "notify-reset",
        "unlock" => "notify-unlock",
        "lockout" => "notify-lockout",
        _ => "notify-other",
    };
    let digits = time.digits();
    let clock = match (digits.get(..2), digits.get(2..)) {
        (Some(h), Some(m)) if digits.len() == 4 => format!("{h}:{m}"),
        _ => digits.to_owned(),
    };
    for _ in 0..2 {
        let said = [
            Say::Prompt(what),
            Say::text(clock.clone()),
            Say::Pause(400),
            Say::Prompt("notify-not-you"),
        ];
        let got = line.ask(&said, &any_key).await?;
        if got.digits == "1" {
            record.not_me = true;
            record.finished = true;
            return Ok(());
        }
        if !got.digits.is_empty() {
            break;
        }
    }
    line.say(&[Say::Prompt("notify-thanks"), Say::Prompt("goodbye")])
        .await?;
    record.finished = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::{Act, ScriptedLine};

    fn code() -> OtpCode {
        OtpCode::parse("4829").unwrap()
    }

    #[tokio::test]
    async fn speak_reads_the_code_as_often_as_asked_and_again_on_1() {
        let mut line = ScriptedLine::new([Act::keys("1"), Act::Silent]);
        let mut record = OtpRecord::default();
        speak(
            &mut line,
            &code(),
            2,
            &OtpFlowSettings::default(),
            &mut record,
        )
        .await
        .unwrap();
        assert_eq!(record.code_played, 4);
        assert_eq!(record.speak_status(), "code-played");
        let said = line.transcript.join(" ");
        assert_eq!(said.matches("prompt:otp-your-code-is").count(), 2, "{said}");
        assert_eq!(said.matches("prompt:otp-again").count(), 2, "{said}");
        assert!(
            said.contains("keys:4 pause:250 keys:8 pause:250 keys:2 pause:250 keys:9"),
            "{said}"
        );
        assert!(said.ends_with("prompt:goodbye"), "{said}");
    }

    #[tokio::test]
    async fn notify_says_nothing_that_matters_before_a_key_and_hears_1_as_not_me() {
        let time = OtpCode::parse("1042").unwrap();
        let settings = OtpFlowSettings::default();
        // Voicemail: no key, twice; only the request to press one is said.
        let mut line = ScriptedLine::new([Act::Silent, Act::Silent]);
        let mut record = OtpRecord::default();
        notify(&mut line, &time, "reset", &settings, &mut record)
            .await
            .unwrap();
        assert_eq!(record.notify_status(), "no-key");
        let said = line.transcript.join(" ");
        assert_eq!(said.matches("prompt:notify-intro").count(), 2, "{said}");
        assert!(
            !said.contains("notify-reset") && !said.contains("10:42"),
            "{said}"
        );
        // A key, the message with its time, then 1.
        let mut line = ScriptedLine::new([Act::keys("5"), Act::keys("1")]);
        let mut record = OtpRecord::default();
        notify(&mut line, &time, "reset", &settings, &mut record)
            .await
            .unwrap();
        assert!(record.not_me);
        assert_eq!(record.notify_status(), "not-me");
        let said = line.transcript.join(" ");
        assert!(said.contains("prompt:notify-reset text:10:42"), "{said}");
        assert!(said.contains("prompt:notify-not-you"), "{said}");
        // Any other key: it was them.
        let mut line = ScriptedLine::new([Act::keys("5"), Act::keys("2")]);
        let mut record = OtpRecord::default();
        notify(&mut line, &time, "lockout", &settings, &mut record)
            .await
            .unwrap();
        assert_eq!(record.notify_status(), "heard");
        let said = line.transcript.join(" ");
        assert!(said.contains("prompt:notify-lockout"), "{said}");
        assert!(
            said.ends_with("prompt:notify-thanks prompt:goodbye"),
            "{said}"
        );
    }

    #[tokio::test]
    async fn a_hang_up_before_the_first_reading_is_hung_up() {
        let mut line = ScriptedLine::new([Act::HangUp]);
        let mut record = OtpRecord::default();
        assert!(
            speak(
                &mut line,
                &code(),
                2,
                &OtpFlowSettings::default(),
                &mut record
            )
            .await
            .is_err()
        );
        assert_eq!(record.speak_status(), "hung-up");
    }

    #[tokio::test]
    async fn verify_accepts_the_right_code_after_a_wrong_one() {
        let mut line = ScriptedLine::new([Act::keys("1111#"), Act::keys("4829")]);
        let mut record = OtpRecord::default();
        verify(&mut line, &code(), &OtpFlowSettings::default(), &mut record)
            .await
            .unwrap();
        assert_eq!(record.verify_status(), "verified");
        assert_eq!(
            record.entries,
            vec![
                Entry {
                    digits: 4,
                    correct: false
                },
                Entry {
                    digits: 4,
                    correct: true
                }
            ]
        );
        let said = line.transcript.join(" ");
        assert!(said.contains("prompt:otp-code-wrong"), "{said}");
        assert!(said.contains("prompt:otp-code-confirmed"), "{said}");
        assert!(
            !said.contains("keys:4"),
            "the code is never spoken in verify mode: {said}"
        );
    }

    #[tokio::test]
    async fn verify_ends_wrong_or_without_a_code() {
        let mut line = ScriptedLine::new([Act::keys("1#"), Act::keys("12#"), Act::keys("123#")]);
        let mut record = OtpRecord::default();
        verify(&mut line, &code(), &OtpFlowSettings::default(), &mut record)
            .await
            .unwrap();
        assert_eq!(record.verify_status(), "wrong-code");
        assert_eq!(record.entries.len(), 3);

        let mut line = ScriptedLine::new([Act::Silent, Act::Silent, Act::Silent]);
        let mut record = OtpRecord::default();
        verify(&mut line, &code(), &OtpFlowSettings::default(), &mut record)
            .await
            .unwrap();
        assert_eq!(record.verify_status(), "no-code");

        let mut line = ScriptedLine::new([Act::keys("1#"), Act::HangUp]);
        let mut record = OtpRecord::default();
        assert!(
            verify(&mut line, &code(), &OtpFlowSettings::default(), &mut record)
                .await
                .is_err()
        );
        assert_eq!(record.verify_status(), "hung-up");
        assert_eq!(record.entries.len(), 1);
    }
}
