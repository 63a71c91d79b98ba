//! The phone password-reset call.
//!
//! ```text
//! welcome → user ID (keypad, # ends, * explains the letters)
//!   → none: try again … → helpdesk or goodbye
//!   → several: "for John Smith in Finance press 1 …"
//! → questions (each answered with #, * repeats it) → validate
//!   → wrong: "verification failed", new questions while attempts last
//!   → locked: told politely, call ends
//!   → not enrolled: told so; with an enrolment PIN the caller enrols
//!     here (see `enrol`), else to the helpdesk
//!   → answers too old: told to confirm them in the portal, to the helpdesk
//! → menu: 1 reset, 2 unlock, 3 both, 0 helpdesk
//!   → when the verification policy needs more for the choice: the code
//!     of the caller's authenticator app (wrong codes count like wrong
//!     answers); a factor not set up: told so, to the helpdesk
//!   → reset: password read phonetically twice; 1 accept, 2 again, 3 another
//!     → every account set, or which failed and what to do
//!   → unlock: likewise
//! → thank you, goodbye
//! ```
//!
//! Every step ends on the caller hanging up: the session is closed and
//! nothing is half-done, because the service performs a reset or unlock
//! in a task of its own once asked, and records each account's result.
//! Zero at any menu, or running out of tries where configured, transfers
//! the call to the helpdesk.

mod enrol;

use std::sync::Arc;
use std::time::Duration;

use touchtone_api::ErrorCode;
use touchtone_core::secret::SecretString;
use touchtone_service::api::{AccountResult, Answer, RandomPassword, UserMatch, Validation};
use touchtone_sip::{CollectSpec, Digit, TransferOutcome};

use crate::backend::{Backend, BackendError, BackendSession, CallContext};
use crate::line::Line;
use crate::say::Say;

/// How the flow behaves; the defaults suit most sites.
#[derive(Debug, Clone)]
pub struct FlowSettings {
    /// User IDs a caller may try before the flow gives up.
    pub id_attempts: u32,
    /// Times a menu is offered before the flow gives up.
    pub menu_attempts: u32,
    /// Passwords a caller may ask for in one call ("3 for a different one").
    pub max_passwords: u32,
    /// Where "0" and giving up transfer the call (SIP URI); none: callers
    /// are told to call the helpdesk.
    pub helpdesk_uri: Option<String>,
    /// Transfer to the helpdesk when the caller runs out of tries (instead
    /// of saying goodbye).
    pub transfer_on_failure: bool,
    pub first_digit_timeout: Duration,
    pub inter_digit_timeout: Duration,
    /// No call lasts longer than this, whatever the caller does.
    pub max_call: Duration,
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            id_attempts: 3,
            menu_attempts: 3,
            max_passwords: 5,
            helpdesk_uri: None,
            transfer_on_failure: true,
            first_digit_timeout: Duration::from_secs(8),
            inter_digit_timeout: Duration::from_secs(5),
            max_call: Duration::from_secs(15 * 60),
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The caller chose an action and heard its result.
    Completed,
    HungUp,
    Transferred,
    TransferFailed,
    NotIdentified,
    NotVerified,
    LockedOut,
    NotEnrolled,
    /// The caller enrolled answers with a PIN.
    Enrolled,
    /// The caller's answers must be confirmed again in the portal.
    AnswersExpired,
    /// The caller made no valid choice at a menu.
    NoChoice,
    SystemError,
    /// `max_call` passed.
    TooLong,
}

/// What a call did, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowOutcome {
    pub end: End,
    /// The user the caller identified as.
    pub user_id: Option<String>,
    pub verified: bool,
    /// `Some(all accounts ok)` once a reset was performed.
    pub reset: Option<bool>,
    /// `Some(all accounts ok)` once an unlock was performed.
    pub unlocked: Option<bool>,
    /// Answers enrolled by phone in this call.
    pub enrolled: Option<usize>,
}

pub struct ResetFlow {
    backend: Arc<dyn Backend>,
    settings: FlowSettings,
}

impl ResetFlow {
    pub fn new(backend: Arc<dyn Backend>, settings: FlowSettings) -> ResetFlow {
        ResetFlow { backend, settings }
    }

    pub fn settings(&self) -> &FlowSettings {
        &self.settings
    }

    /// Runs one call to its end, closes the session and hangs up (unless
    /// the call was transferred or the caller hung up).
    pub async fn run(&self, line: &mut dyn Line, call: &CallContext) -> FlowOutcome {
        let mut outcome = FlowOutcome {
            end: End::SystemError,
            user_id: None,
            verified: false,
            reset: None,
            unlocked: None,
            enrolled: None,
        };
        let mut session = match self.backend.open(call).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(call = %call.call_id, error = %e, "cannot open an IVR session");
                let _ = line
                    .say(&[
                        Say::Prompt("system-error"),
                        Say::Prompt("contact-helpdesk"),
                        Say::Prompt("goodbye"),
                    ])
                    .await;
                line.hangup().await;
                return outcome;
            }
        };
        let caller_number = line.caller_number();
        let mut run = Run {
            line,
            session: session.as_mut(),
            settings: &self.settings,
            outcome: &mut outcome,
            caller_number,
        };
        let end = match tokio::time::timeout(self.settings.max_call, run.call()).await {
            Ok(Ok(end)) => end,
            Ok(Err(Stop::HungUp)) => End::HungUp,
            Ok(Err(Stop::Backend(e))) => {
                tracing::error!(call = %call.call_id, error = %e, "IVR call failed");
                let _ = run
                    .line
                    .say(&[
                        Say::Prompt("system-error"),
                        Say::Prompt("contact-helpdesk"),
                        Say::Prompt("goodbye"),
                    ])
                    .await;
                End::SystemError
            }
            Err(_) => {
                let _ = run.line.say(&[Say::Prompt("goodbye")]).await;
                End::TooLong
            }
        };
        outcome.end = end;
        session.close().await;
        if !matches!(end, End::HungUp | End::Transferred) {
            line.hangup().await;
        }
        tracing::info!(
            call = %call.call_id,
            end = ?outcome.end,
            verified = outcome.verified,
            reset = ?outcome.reset,
            unlocked = ?outcome.unlocked,
            enrolled = ?outcome.enrolled,
            "reset call ended"
        );
        outcome
    }
}

/// A question as said: the operator's recording when there is one.
fn question_say(question_id: &str, text: &str) -> Say {
    Say::Text {
        text: text.to_owned(),
        recording: Some(format!("question-{question_id}")),
    }
}

/// Keys to collect for an answer of at most `max_digits`: one more than
/// the answer can have, so the # that ends a full-length answer is taken
/// with it, not by the next prompt.
fn answer_keys(max_digits: i64) -> usize {
    usize::try_from(max_digits).unwrap_or(32).clamp(1, 64) + 1
}

/// Why the flow stopped early.
enum Stop {
    HungUp,
    Backend(BackendError),
}

impl From<touchtone_sip::ChannelError> for Stop {
    fn from(_: touchtone_sip::ChannelError) -> Self {
        Stop::HungUp
    }
}

impl From<BackendError> for Stop {
    fn from(e: BackendError) -> Self {
        Stop::Backend(e)
    }
}

/// A choice at a menu.
enum Choice {
    Key(char),
    Helpdesk,
    /// Tries used up.
    None,
}

struct Run<'a> {
    line: &'a mut dyn Line,
    session: &'a mut dyn BackendSession,
    settings: &'a FlowSettings,
    outcome: &'a mut FlowOutcome,
    caller_number: Option<String>,
}

impl Run<'_> {
    async fn call(&mut self) -> Result<End, Stop> {
        let user = match self.identify().await? {
            Ok(user) => user,
            Err(end) => return Ok(end),
        };
        self.outcome.user_id = Some(user.user_id.clone());
        if let Some(end) = self.verify(&user.user_id).await? {
            return Ok(end);
        }
        self.outcome.verified = true;
        self.main_menu(&user.user_id).await
    }

    fn spec(&self, max_digits: usize, terminator: Option<char>) -> CollectSpec {
        CollectSpec {
            max_digits,
            terminator: terminator.and_then(Digit::from_char),
            first_digit_timeout: self.settings.first_digit_timeout,
            inter_digit_timeout: self.settings.inter_digit_timeout,
            barge_in: true,
        }
    }

    /// Ends a call the caller could not complete: to the helpdesk when so
    /// configured, else with advice and goodbye.
    async fn give_up(&mut self, end: End) -> Result<End, Stop> {
        if self.settings.transfer_on_failure && self.settings.helpdesk_uri.is_some() {
            return self.transfer().await;
        }
        self.line
            .say(&[Say::Prompt("contact-helpdesk"), Say::Prompt("goodbye")])
            .await?;
        Ok(end)
    }

    async fn transfer(&mut self) -> Result<End, Stop> {
        let Some(uri) = self.settings.helpdesk_uri.clone() else {
            self.line
                .say(&[Say::Prompt("transfer-failed"), Say::Prompt("goodbye")])
                .await?;
            return Ok(End::TransferFailed);
        };
        self.line.say(&[Say::Prompt("transferring")]).await?;
        match self.line.transfer(&uri).await? {
            TransferOutcome::Completed => Ok(End::Transferred),
            outcome => {
                tracing::warn!(?outcome, "transfer to the helpdesk failed");
                self.line
                    .say(&[Say::Prompt("transfer-failed"), Say::Prompt("goodbye")])
                    .await?;
                Ok(End::TransferFailed)
            }
        }
    }

    /// A one-key menu: `prompt` is offered up to `menu_attempts` times;
    /// keys in `valid` are returned, 0 is the helpdesk.
    async fn menu(&mut self, prompt: &[Say], valid: &[char]) -> Result<Choice, Stop> {
        for _ in 0..self.settings.menu_attempts.max(1) {
            let got = self.line.ask(prompt, &self.spec(1, None)).await?;
            match got.digits.chars().next() {
                Some('0') => return Ok(Choice::Helpdesk),
                Some(c) if valid.contains(&c) => return Ok(Choice::Key(c)),
                Some(_) => self.line.say(&[Say::Prompt("invalid-choice")]).await?,
                None => {}
            }
        }
        Ok(Choice::None)
    }

    /// Finds the caller's user record: `Ok(Ok(user))`, or how the call ended.
    async fn identify(&mut self) -> Result<Result<UserMatch, End>, Stop> {
        let mut tries = 0;
        let mut helps = 0;
        // The greeting is part of the first question, so a caller who
        // knows the way can key their ID straight away.
        let mut prompt = vec![Say::Prompt("welcome"), Say::Prompt("enter-user-id")];
        while tries < self.settings.id_attempts.max(1) {
            let got = self.line.ask(&prompt, &self.spec(32, Some('#'))).await?;
            prompt = vec![Say::Prompt("enter-user-id")];
            if got.digits.starts_with('*') && helps < 3 {
                helps += 1;
                self.line.say(&[Say::Prompt("keypad-help")]).await?;
                continue;
            }
            tries += 1;
            let last = tries >= self.settings.id_attempts.max(1);
            let digits: String = got.digits.chars().filter(char::is_ascii_digit).collect();
            let found = if digits.is_empty() {
                Vec::new()
            } else {
                match self.session.find_users(&digits).await {
                    Ok(found) => found,
                    // Too long, say: the same as not found.
                    Err(e) if e.is(ErrorCode::BadRequest) => Vec::new(),
                    Err(e) => return Err(e.into()),
                }
            };
            match found.len() {
                0 => {
                    let mut say = vec![Say::Prompt("not-found")];
                    if !last {
                        say.push(Say::Prompt("try-again"));
                    }
                    self.line.say(&say).await?;
                }
                1 => return Ok(found.into_iter().next().ok_or(End::NotIdentified)),
                _ => {
                    return match self.choose_among(found).await? {
                        Some(Ok(user)) => Ok(Ok(user)),
                        Some(Err(end)) => Ok(Err(end)),
                        None => Ok(Err(self.give_up(End::NotIdentified).await?)),
                    };
                }
            }
        }
        Ok(Err(self.give_up(End::NotIdentified).await?))
    }

    /// The collision menu. `None`: no choice made.
    async fn choose_among(
        &mut self,
        found: Vec<UserMatch>,
    ) -> Result<Option<Result<UserMatch, End>>, Stop> {
        if found.len() > 9 {
            // A keypad menu cannot tell them apart; a person can.
            self.line.say(&[Say::Prompt("several-matches")]).await?;
            return Ok(None);
        }
        let mut prompt = vec![Say::Prompt("several-matches")];
        let mut valid = Vec::new();
        for (i, user) in found.iter().enumerate() {
            let key = char::from(b'1' + i as u8);
            valid.push(key);
            prompt.push(Say::Prompt("for"));
            prompt.push(Say::text(&user.display_name));
            if !user.department.is_empty() {
                prompt.push(Say::Prompt("in"));
                prompt.push(Say::text(&user.department));
            }
            prompt.push(Say::Prompt("press"));
            prompt.push(Say::Keys(key.to_string()));
            prompt.push(Say::Pause(300));
        }
        match self.menu(&prompt, &valid).await? {
            Choice::Key(k) => {
                let index = usize::from(k as u8 - b'1');
                Ok(found.into_iter().nth(index).map(Ok))
            }
            Choice::Helpdesk => Ok(Some(Err(self.transfer().await?))),
            Choice::None => Ok(None),
        }
    }

    /// Security questions until verified, locked out or out of attempts.
    /// `None` when verified, else how the call ended.
    async fn verify(&mut self, user_id: &str) -> Result<Option<End>, Stop> {
        loop {
            let caller_number = self.caller_number.clone();
            let view = match self
                .session
                .questions(user_id, caller_number.as_deref())
                .await
            {
                Ok(view) => view,
                Err(e) if e.is(ErrorCode::UserLocked) => {
                    return Ok(Some(self.locked_out().await?));
                }
                Err(e) if e.is(ErrorCode::NotEnrolled) => {
                    return Ok(Some(self.not_enrolled(user_id).await?));
                }
                Err(e) if e.is(ErrorCode::ReconfirmRequired) => {
                    self.line.say(&[Say::Prompt("answers-expired")]).await?;
                    return Ok(Some(self.give_up(End::AnswersExpired).await?));
                }
                Err(e) if e.is(ErrorCode::UnknownUser) => {
                    return Ok(Some(self.give_up(End::NotIdentified).await?));
                }
                Err(e) => return Err(e.into()),
            };
            let mut answers = Vec::with_capacity(view.questions.len());
            for (i, question) in view.questions.iter().enumerate() {
                let text = question_say(&question.question_id, &question.text);
                // The instructions come with the first question, so keys
                // pressed during them are the answer, not lost.
                let first = [Say::Prompt("answer-question"), text.clone()];
                let again = [text];
                let max = answer_keys(question.max_digits);
                let mut repeats = 0;
                let digits = loop {
                    let asked: &[Say] = if i == 0 && repeats == 0 {
                        &first
                    } else {
                        &again
                    };
                    let got = self.line.ask(asked, &self.spec(max, Some('#'))).await?;
                    if got.digits.starts_with('*') && repeats < 3 {
                        repeats += 1;
                        continue;
                    }
                    break got.digits;
                };
                answers.push(Answer {
                    question_id: question.question_id.clone(),
                    answer: SecretString::from(digits),
                });
            }
            let validation = self.session.validate(&view.challenge_id, answers).await?;
            if validation.valid {
                return Ok(None);
            }
            // Never which answer was wrong.
            if let Some(end) = self.failed_attempt(&validation).await? {
                return Ok(Some(end));
            }
        }
    }

    async fn main_menu(&mut self, user_id: &str) -> Result<End, Stop> {
        let choice = self.menu(&[Say::Prompt("menu")], &['1', '2', '3']).await?;
        let (reset, unlock) = match choice {
            Choice::Key('1') => (true, false),
            Choice::Key('2') => (false, true),
            Choice::Key(_) => (true, true),
            Choice::Helpdesk => return self.transfer().await,
            Choice::None => return self.give_up(End::NoChoice).await,
        };
        let mut operations = Vec::new();
        if reset {
            operations.push("reset");
        }
        if unlock {
            operations.push("unlock");
        }
        if let Some(end) = self.more_factors(user_id, &operations).await? {
            return Ok(end);
        }
        if reset && let Some(end) = self.reset(user_id).await? {
            return Ok(end);
        }
        if unlock {
            let results = self.unlock(user_id).await?;
            self.outcome.unlocked = Some(results.iter().all(|r| r.ok));
            self.report(&results, "unlock-done", "unlock-failed-on")
                .await?;
        }
        self.line
            .say(&[Say::Prompt("thank-you"), Say::Prompt("goodbye")])
            .await?;
        Ok(End::Completed)
    }

    /// Asks for the factors the verification policy still needs for
    /// `operations` (today: a code from the caller's authenticator app),
    /// until it is met. `Some(end)` when the call ends here: the caller
    /// has not set up a factor that is needed (told so, and sent to the
    /// helpdesk), ran out of attempts, or is locked out.
    async fn more_factors(
        &mut self,
        user_id: &str,
        operations: &[&str],
    ) -> Result<Option<End>, Stop> {
        loop {
            let needed = match self.session.factors(user_id).await {
                Ok(needed) => needed,
                // A server older than the factors asks for questions only.
                Err(e) if e.is(ErrorCode::NotFound) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let states: Vec<_> = operations.iter().filter_map(|o| needed.of(o)).collect();
            if states.iter().all(|s| s.met) {
                return Ok(None);
            }
            let wants_totp = states
                .iter()
                .any(|s| s.missing.iter().any(|g| g.iter().any(|f| f == "totp")));
            let has_totp = needed.enrolled.iter().any(|f| f == "totp");
            if states.iter().any(|s| !s.met && s.unavailable) || !(wants_totp && has_totp) {
                return Ok(Some(self.factor_unavailable().await?));
            }
            let challenge = match self.session.factor_challenge(user_id, "totp").await {
                Ok(id) => id,
                Err(e) if e.is(ErrorCode::UserLocked) => {
                    return Ok(Some(self.locked_out().await?));
                }
                Err(e) if e.is(ErrorCode::FactorUnavailable) => {
                    return Ok(Some(self.factor_unavailable().await?));
                }
                Err(e) => return Err(e.into()),
            };
            let got = self
                .line
                .ask(&[Say::Prompt("enter-totp")], &self.spec(7, Some('#')))
                .await?;
            let validation = self
                .session
                .factor_verify(&challenge, SecretString::from(got.digits))
                .await?;
            if validation.valid {
                // Another group of the policy may still be missing.
                continue;
            }
            if let Some(end) = self.failed_attempt(&validation).await? {
                return Ok(Some(end));
            }
        }
    }

    /// After wrong answers or a wrong code: says so, then ends the call
    /// when the caller is locked or out of attempts (`Some(end)`).
    async fn failed_attempt(&mut self, validation: &Validation) -> Result<Option<End>, Stop> {
        self.line.say(&[Say::Prompt("verification-failed")]).await?;
        if validation.locked {
            return Ok(Some(self.locked_out().await?));
        }
        if validation.attempts_left == 0 {
            return Ok(Some(self.give_up(End::NotVerified).await?));
        }
        self.line.say(&[Say::Prompt("try-again")]).await?;
        Ok(None)
    }

    async fn factor_unavailable(&mut self) -> Result<End, Stop> {
        self.line.say(&[Say::Prompt("factor-unavailable")]).await?;
        self.give_up(End::NotVerified).await
    }

    /// Offers passwords until one is accepted and set. `Some(end)` when
    /// the call ends here without a reset.
    async fn reset(&mut self, user_id: &str) -> Result<Option<End>, Stop> {
        let mut password = self.session.random_password(user_id).await?;
        let mut offered = 1;
        'read: loop {
            self.read_password(&password).await?;
            loop {
                match self
                    .menu(&[Say::Prompt("password-options")], &['1', '2', '3'])
                    .await?
                {
                    Choice::Key('1') => break 'read,
                    Choice::Key('2') => continue 'read,
                    Choice::Key(_) if offered < self.settings.max_passwords => {
                        password = self.session.random_password(user_id).await?;
                        offered += 1;
                        continue 'read;
                    }
                    Choice::Key(_) => self.line.say(&[Say::Prompt("invalid-choice")]).await?,
                    Choice::Helpdesk => return Ok(Some(self.transfer().await?)),
                    Choice::None => return Ok(Some(self.give_up(End::NoChoice).await?)),
                }
            }
        }
        let results = match self
            .session
            .sync_password(user_id, password.password.clone())
            .await
        {
            Ok(results) => results,
            Err(e) if e.is(ErrorCode::NoAccounts) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        self.outcome.reset = Some(!results.is_empty() && results.iter().all(|r| r.ok));
        self.report(&results, "reset-done", "reset-failed-on")
            .await?;
        Ok(None)
    }

    async fn read_password(&mut self, password: &RandomPassword) -> Result<(), Stop> {
        self.line
            .say(&[
                Say::Prompt("new-password-is"),
                Say::Pause(300),
                Say::Spelling(password.spoken.clone()),
                Say::Pause(700),
                Say::Prompt("password-again"),
                Say::Pause(300),
                Say::Spelling(password.spoken.clone()),
                Say::Pause(500),
            ])
            .await?;
        Ok(())
    }

    async fn unlock(&mut self, user_id: &str) -> Result<Vec<AccountResult>, Stop> {
        match self.session.unlock(user_id).await {
            Ok(results) => Ok(results),
            Err(e) if e.is(ErrorCode::NoAccounts) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every account done, or which failed and what to do.
    async fn report(
        &mut self,
        results: &[AccountResult],
        done: &'static str,
        failed_on: &'static str,
    ) -> Result<(), Stop> {
        if !results.is_empty() && results.iter().all(|r| r.ok) {
            self.line.say(&[Say::Prompt(done)]).await?;
            return Ok(());
        }
        let mut say = Vec::new();
        for failed in results.iter().filter(|r| !r.ok) {
            say.push(Say::Prompt(failed_on));
            say.push(Say::text(&failed.target));
            say.push(Say::Pause(300));
        }
        say.push(Say::Prompt("contact-helpdesk"));
        self.line.say(&say).await?;
        Ok(())
    }
}
