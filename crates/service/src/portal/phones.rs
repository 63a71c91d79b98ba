//! Registering phone numbers in the portal. A number is added only once
//! it is proved: the page shows a code, the person asks to be called, the
//! voice-OTP engine calls the number in verify mode (same queue, guard,
//! limits and call records as every OTP call, on behalf of the reserved
//! `@portal`), and the callee keys the code. Registered numbers feed the
//! caller-ID check (and the call-back factors to come); numbers from the
//! directory are shown beside them and cannot be removed here.

use serde_json::json;
use touchtone_core::event::EventType;
use touchtone_core::otp::OtpCode;
use touchtone_core::phone::E164Number;
use touchtone_store::phone_verifications::{self, PhoneVerification, ProofPurpose};
use touchtone_store::{portal_sessions, registered_phones, sign_in_failures};

use super::{DOOR, PortalError};
use crate::events::EventRouter;
use crate::otp::{OtpMode, OtpRequest};
use crate::session_gate::{append_audit, commit};
use crate::{Caller, Service, ServiceError};

/// The reserved name the portal's proving calls are placed under.
pub const PORTAL_CALLER: &str = "@portal";
/// How long a shown code may be proved.
pub(super) const PROOF_MS: i64 = 10 * 60 * 1000;
/// Proofs (of a new number, or of a sign-in) one person may start in an
/// hour, so a stolen password cannot ring the person's phone on and on.
pub(super) const PROOFS_PER_HOUR: i64 = 5;
/// Numbers one person may register.
pub const MAX_REGISTERED: usize = 5;
/// Digits of the code the page shows.
const CODE_DIGITS: usize = 6;

/// A number being proved, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneProof {
    pub id: String,
    /// E.164.
    pub number: String,
    /// The code to key when the call comes (`None` once the proof ended).
    pub code: Option<String>,
    pub state: ProofState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofState {
    /// Shown, not called yet.
    Ready,
    /// Called; the call's status so far (`queued`, `ringing`, `answered`).
    Calling(String),
    /// The callee keyed the code: the number is registered.
    Verified,
    /// The call ended otherwise (`wrong-code`, `no-answer`, …), or the
    /// proof expired (`expired`).
    Failed(String),
}

/// Why a number cannot be proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneProblem {
    NotANumber,
    /// The voice-OTP guard does not call it.
    NotCallable,
    AlreadyRegistered,
    TooMany {
        max: usize,
    },
    /// Too many proofs started lately, or the OTP limits.
    TryLater,
}

impl Service {
    /// Starts proving `number` for the session's person: returns the code
    /// to show. Nothing is called yet.
    pub async fn portal_phone_start(
        &self,
        _caller: &Caller,
        token: &str,
        number: &str,
    ) -> Result<PhoneProof, PortalError> {
        let person = self.recent_session(token).await?;
        let settings = &self.settings().otp;
        let number = E164Number::parse(number.trim(), settings.default_region)
            .map_err(|_| PortalError::Phone(PhoneProblem::NotANumber))?;
        if settings.guard.check(&number).is_err() {
            return Err(PortalError::Phone(PhoneProblem::NotCallable));
        }
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let registered = registered_phones::list(&mut tx, &person.id).await?;
        if registered.iter().any(|(n, _)| n == number.as_str()) {
            return Err(PortalError::Phone(PhoneProblem::AlreadyRegistered));
        }
        if registered.len() >= MAX_REGISTERED {
            return Err(PortalError::Phone(PhoneProblem::TooMany {
                max: MAX_REGISTERED,
            }));
        }
        if phone_verifications::count_since(&mut tx, &person.id, now - 3_600_000).await?
            >= PROOFS_PER_HOUR
        {
            return Err(PortalError::Phone(PhoneProblem::TryLater));
        }
        let proof = new_proof(&person.id, number.as_str(), ProofPurpose::Register, now);
        phone_verifications::create(&mut tx, &proof).await?;
        commit(tx).await?;
        Ok(proof_view(&proof, ProofState::Ready))
    }

    /// Places the proving call (once per proof).
    pub async fn portal_phone_call(
        &self,
        caller: &Caller,
        token: &str,
        id: &str,
    ) -> Result<PhoneProof, PortalError> {
        let (_, person) = self.live_session(token).await?;
        let proof = self.open_proof(&person.id, id).await?;
        self.call_for_proof(caller, &proof).await?;
        self.portal_phone_check(caller, token, id).await
    }

    /// Asks the voice-OTP engine to call the proof's number in verify
    /// mode, unless it already has.
    pub(super) async fn call_for_proof(
        &self,
        caller: &Caller,
        proof: &PhoneVerification,
    ) -> Result<(), PortalError> {
        if proof.call_id.is_some() {
            return Ok(());
        }
        let code = proof
            .code
            .as_deref()
            .and_then(|c| OtpCode::parse(c).ok())
            .ok_or(PortalError::Service(ServiceError::Internal(
                "a phone proof lost its code".into(),
            )))?;
        let request = OtpRequest {
            to: proof.number.clone(),
            code,
            mode: OtpMode::Verify,
            language: None,
            repeat: None,
            callback_url: None,
            idempotency_key: Some(format!("phone-proof-{}", proof.id)),
            about: None,
        };
        let accepted = match self.queue_otp(caller, PORTAL_CALLER, request).await {
            Ok(accepted) => accepted,
            Err(ServiceError::RateLimited(_)) => {
                return Err(PortalError::Phone(PhoneProblem::TryLater));
            }
            Err(ServiceError::DestinationRefused(_)) => {
                return Err(PortalError::Phone(PhoneProblem::NotCallable));
            }
            Err(e) => return Err(e.into()),
        };
        let mut tx = self.store().begin().await?;
        phone_verifications::set_call(&mut tx, &proof.id, &accepted.call_id).await?;
        commit(tx).await?;
        Ok(())
    }

    /// How the proof stands; registers the number the moment the call
    /// reports the code keyed.
    pub async fn portal_phone_check(
        &self,
        caller: &Caller,
        token: &str,
        id: &str,
    ) -> Result<PhoneProof, PortalError> {
        let (_, person) = self.live_session(token).await?;
        let proof = {
            let mut conn = self.store().acquire().await?;
            phone_verifications::get(&mut conn, &person.id, id)
                .await?
                .ok_or(PortalError::NotFound)?
        };
        self.settle_proof(caller, &proof).await
    }

    /// How `proof` stands now: its call's status, and once the call is
    /// over (or the proof expired) the proof's end, recorded once.
    pub(super) async fn settle_proof(
        &self,
        caller: &Caller,
        proof: &PhoneVerification,
    ) -> Result<PhoneProof, PortalError> {
        let ended = |state| PhoneProof {
            code: None,
            ..proof_view(proof, state)
        };
        let outcome_state = |outcome: &str| {
            if outcome == "verified" {
                ProofState::Verified
            } else {
                ProofState::Failed(outcome.to_owned())
            }
        };
        if let Some(outcome) = &proof.outcome {
            return Ok(ended(outcome_state(outcome)));
        }
        let Some(call_id) = &proof.call_id else {
            if proof.expires_at <= self.now() {
                self.end_proof(caller, proof, "expired").await?;
                return Ok(ended(ProofState::Failed("expired".into())));
            }
            return Ok(proof_view(proof, ProofState::Ready));
        };
        let call = self.otp_call(PORTAL_CALLER, call_id).await?.call;
        if !call.is_final {
            return Ok(proof_view(proof, ProofState::Calling(call.status)));
        }
        let outcome = call.status.as_str();
        self.end_proof(caller, proof, outcome).await?;
        Ok(ended(outcome_state(outcome)))
    }

    /// Removes a number the person registered (the directory's stay).
    pub async fn portal_phone_remove(
        &self,
        caller: &Caller,
        token: &str,
        number: &str,
    ) -> Result<bool, PortalError> {
        let person = self.recent_session(token).await?;
        let mut tx = self.store().begin().await?;
        let removed = registered_phones::remove(&mut tx, &person.id, number).await?;
        if removed {
            let number = json!({"number": number});
            self.record_change(
                &mut tx,
                caller,
                &person.id,
                EventType::PhoneRemoved,
                "portal_phone_remove",
                number,
            )
            .await?;
        }
        commit(tx).await?;
        Ok(removed)
    }

    async fn open_proof(
        &self,
        person_id: &str,
        id: &str,
    ) -> Result<PhoneVerification, PortalError> {
        let mut conn = self.store().acquire().await?;
        match phone_verifications::get(&mut conn, person_id, id).await? {
            Some(p) if p.finished_at.is_none() && p.expires_at > self.now() => Ok(p),
            Some(_) => Err(PortalError::Phone(PhoneProblem::TryLater)),
            None => Err(PortalError::NotFound),
        }
    }

    /// Finishes a proof once. A verified number proof registers the
    /// number, a verified sign-in proof completes the sign-in (each with
    /// its event); a failed sign-in proof ends that sign-in and counts as
    /// a failed sign-in. All in the transaction that records the end.
    async fn end_proof(
        &self,
        caller: &Caller,
        proof: &PhoneVerification,
        outcome: &str,
    ) -> Result<(), PortalError> {
        let now = self.now();
        let ip = caller.ip.to_string();
        let mut tx = self.store().begin().await?;
        if phone_verifications::finish(&mut tx, &proof.id, outcome, now).await? {
            let verified = outcome == "verified";
            let event = match (proof.purpose, verified) {
                (ProofPurpose::Register, true) => {
                    registered_phones::add(&mut tx, &proof.person_id, &proof.number, now).await?;
                    Some(EventType::PhoneAdded)
                }
                (ProofPurpose::Register, false) => None,
                (ProofPurpose::SignIn, true) => {
                    portal_sessions::second_factor_done(&mut tx, &proof.id, now).await?;
                    Some(EventType::PortalSignIn)
                }
                (ProofPurpose::SignIn, false) => {
                    portal_sessions::end_waiting_for(&mut tx, &proof.id, now).await?;
                    // Keyed as the sign-in throttle keys a login.
                    let login = proof.person_id.to_lowercase();
                    sign_in_failures::record(&mut tx, DOOR, &login, &ip, now).await?;
                    None
                }
            };
            if let Some(event_type) = event {
                let mut detail = json!({"door": DOOR, "ip": ip});
                if proof.purpose == ProofPurpose::Register {
                    detail["number"] = proof.number.clone().into();
                } else {
                    detail["second_factor"] = "phone".into();
                }
                let event =
                    EventRouter::event(event_type, Some(&proof.person_id), DOOR, detail, now);
                self.events().emit(&mut tx, &event).await?;
            }
            let action = match proof.purpose {
                ProofPurpose::Register => "portal_phone_proof",
                ProofPurpose::SignIn => "portal_second_factor",
            };
            append_audit(
                &mut tx,
                DOOR,
                action,
                &proof.person_id,
                outcome,
                json!({"number": proof.number, "call": proof.call_id, "ip": ip}),
                now,
            )
            .await?;
        }
        commit(tx).await?;
        Ok(())
    }
}

/// A new proof of `number` with a fresh code.
pub(super) fn new_proof(
    person_id: &str,
    number: &str,
    purpose: ProofPurpose,
    now: i64,
) -> PhoneVerification {
    let code: String = (0..CODE_DIGITS)
        .map(|_| char::from(b'0' + rand::random_range(0..10u8)))
        .collect();
    PhoneVerification {
        id: uuid::Uuid::new_v4().to_string(),
        person_id: person_id.to_owned(),
        number: number.to_owned(),
        code: Some(code),
        call_id: None,
        created_at: now,
        expires_at: now + PROOF_MS,
        finished_at: None,
        outcome: None,
        purpose,
    }
}

/// The proof as a page shows it. A sign-in's number is shown only by its
/// last digits: whoever is signing in has given a password, not yet
/// proved they hold the phone.
pub(super) fn proof_view(proof: &PhoneVerification, state: ProofState) -> PhoneProof {
    let number = match proof.purpose {
        ProofPurpose::Register => proof.number.clone(),
        ProofPurpose::SignIn => {
            let digits: Vec<char> = proof.number.chars().filter(char::is_ascii_digit).collect();
            digits[digits.len().saturating_sub(2)..].iter().collect()
        }
    };
    PhoneProof {
        id: proof.id.clone(),
        number,
        code: proof.code.clone(),
        state,
    }
}
