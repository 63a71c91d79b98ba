//! The portal's optional second sign-in step (`[web]
//! sign_in_second_factor`): once the password is right, touchtone calls
//! one of the person's numbers with the voice-OTP engine in verify mode,
//! and the person keys the code the page shows. Until then the session
//! exists but can do nothing else ([`PortalError::SecondFactorPending`]).
//!
//! The call is a phone proof like the one that registers a number (same
//! queue, guard, limits and records; at most `PROOFS_PER_HOUR` of either
//! kind a person an hour, so a stolen password cannot ring the phone on
//! and on), and the page shows only the number's last digits. A call that
//! ends without the code ends the sign-in and counts as a failed sign-in
//! for the throttle.

use serde_json::json;
use touchtone_core::phone::E164Number;
use touchtone_store::people::Person as PersonRow;
use touchtone_store::phone_verifications::{self, PhoneVerification, ProofPurpose};
use touchtone_store::registered_phones;

use super::phones::{PROOFS_PER_HOUR, new_proof};
use super::{DOOR, PhoneProof, PortalError};
use crate::settings::SecondFactor;
use crate::{Caller, Service};

/// A sign-in waiting for its call, as its page shows it.
#[derive(Debug, Clone)]
pub struct PendingSignIn {
    /// The form token for the page's button.
    pub csrf: String,
    pub proof: PhoneProof,
}

impl Service {
    /// The proof a sign-in of `person` needs, if the policy asks for one
    /// (not stored yet). Refuses when one is required and no number is
    /// known, or too many calls were asked for lately.
    pub(super) async fn second_factor_for(
        &self,
        caller: &Caller,
        person: &PersonRow,
        now: i64,
    ) -> Result<Option<PhoneVerification>, PortalError> {
        let policy = self.settings().portal.second_factor;
        if policy == SecondFactor::Off {
            return Ok(None);
        }
        let guard = &self.settings().otp;
        let callable = |n: &str| {
            E164Number::parse(n, guard.default_region)
                .ok()
                .filter(|e| guard.guard.check(e).is_ok())
                .map(|e| e.as_str().to_owned())
        };
        let (registered, recent) = {
            let mut conn = self.store().acquire().await?;
            let registered = registered_phones::list(&mut conn, &person.id).await?;
            let recent =
                phone_verifications::count_since(&mut conn, &person.id, now - 3_600_000).await?;
            (registered, recent)
        };
        // The newest proved number; with the factor required, else one
        // from the directory.
        let mut number = registered.iter().rev().find_map(|(n, _)| callable(n));
        if number.is_none() && policy == SecondFactor::Required {
            number = person.phone_numbers.iter().find_map(|n| callable(n));
        }
        let Some(number) = number else {
            if policy == SecondFactor::Required {
                self.audit(
                    caller,
                    DOOR,
                    "portal_sign_in",
                    &person.id,
                    "no_second_factor",
                    json!({}),
                )
                .await?;
                return Err(PortalError::NoSecondFactor);
            }
            return Ok(None);
        };
        if recent >= PROOFS_PER_HOUR {
            self.audit(
                caller,
                DOOR,
                "portal_sign_in",
                &person.id,
                "second_factor_throttled",
                json!({}),
            )
            .await?;
            return Err(PortalError::Throttled);
        }
        Ok(Some(new_proof(
            &person.id,
            &number,
            ProofPurpose::SignIn,
            now,
        )))
    }

    /// The sign-in's second step as it stands: `None` when the session is
    /// signed in fully (nothing to wait for). A call that has ended with
    /// the code completes the sign-in; one that ended otherwise ends it.
    pub async fn portal_second_factor(
        &self,
        caller: &Caller,
        token: &str,
    ) -> Result<Option<PendingSignIn>, PortalError> {
        let Some((csrf, proof)) = self.sign_in_proof(token).await? else {
            return Ok(None);
        };
        let proof = self.settle_proof(caller, &proof).await?;
        Ok(Some(PendingSignIn { csrf, proof }))
    }

    /// Places the sign-in's call (once).
    pub async fn portal_second_factor_call(
        &self,
        caller: &Caller,
        token: &str,
    ) -> Result<Option<PendingSignIn>, PortalError> {
        let Some((_, proof)) = self.sign_in_proof(token).await? else {
            return Ok(None);
        };
        if proof.finished_at.is_none() && proof.expires_at > self.now() {
            self.call_for_proof(caller, &proof).await?;
        }
        self.portal_second_factor(caller, token).await
    }

    /// The session's form token and the proof its sign-in waits for, if
    /// it waits for one.
    async fn sign_in_proof(
        &self,
        token: &str,
    ) -> Result<Option<(String, PhoneVerification)>, PortalError> {
        let (row, person) = self.session_row(token).await?;
        let Some(proof_id) = &row.second_factor else {
            return Ok(None);
        };
        let mut conn = self.store().acquire().await?;
        match phone_verifications::get(&mut conn, &person.id, proof_id).await? {
            Some(p) if p.purpose == ProofPurpose::SignIn => Ok(Some((row.csrf, p))),
            _ => Err(PortalError::SessionEnded),
        }
    }
}
