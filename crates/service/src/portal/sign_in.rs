//! Signing in to the portal, its sessions, re-authentication and signing
//! out.
//!
//! A person signs in with the password of one of their accounts: each
//! account's target checks it (a bind as the person on an LDAP or Active
//! Directory target, the stored hash on the local one) until one accepts.
//! An unknown login, a wrong password, a disabled person and a locked one
//! all get [`PortalError::SignInRefused`]; the audit row says which. An
//! unknown login still costs an argon2 verification, so the time taken
//! says less about who exists.
//!
//! Failed attempts are throttled per login typed and per address (the
//! portal's own counters, so the IVR platforms' `Login` is not affected),
//! and a wrong password for a real person counts toward the intruder
//! lockout like a wrong answer on the phone: one lock for every door.
//!
//! Sessions are random tokens (a cookie in the browser) of which only the
//! digest is stored; each has a form token for the door to check. A
//! session ends at sign-out, after `session_idle_ms` unused, at
//! `session_lifetime_ms`, and as soon as its person is locked or disabled.

use serde_json::json;
use touchtone_core::event::EventType;
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_core::session_token::SessionToken;
use touchtone_store::people::{self as person_rows, Person as PersonRow};
use touchtone_store::portal_sessions::{self, PortalSession as SessionRow};
use touchtone_store::{lockouts, phone_verifications, sign_in_failures};
use touchtone_targets::TargetError;

use super::{DOOR, PortalError};
use crate::events::EventRouter;
use crate::people::{Attempt, is_locked};
use crate::session_gate::{append_audit, commit};
use crate::{Caller, Service};

/// A signed-in person's session, as the door needs it.
#[derive(Debug, Clone)]
pub struct PortalSession {
    pub person_id: String,
    pub display_name: String,
    /// The form token every form of this session must carry.
    pub csrf: String,
    pub signed_in_at: i64,
    /// The password was given recently enough for changes to answers and
    /// phones.
    pub recently_authenticated: bool,
}

/// A new session: the token for the cookie, and the session.
#[derive(Debug)]
pub struct SignedIn {
    pub token: SessionToken,
    pub session: PortalSession,
    /// The call still to answer before the session may be used (the
    /// second factor), with the code to show; `None`: signed in.
    pub second_factor: Option<super::PhoneProof>,
}

impl Service {
    /// Signs `login` in with `password` from `caller`.
    pub async fn portal_sign_in(
        &self,
        caller: &Caller,
        login: &str,
        password: SecretString,
    ) -> Result<SignedIn, PortalError> {
        let login = login.trim();
        if login.is_empty() || login.len() > 256 || login.chars().any(char::is_control) {
            return Err(PortalError::SignInRefused);
        }
        self.check_sign_in_throttle(caller, login).await?;
        let person = self.find_signing_in(login).await?;
        let outcome = self.check_password_of(person.as_ref(), &password).await?;
        let now = self.now();
        let locked = match &person {
            Some(p) if !p.disabled => {
                let mut conn = self.store().acquire().await?;
                is_locked(&mut conn, p, now).await?
            }
            _ => false,
        };
        match (person, outcome, locked) {
            (Some(person), Checked::Right, false) => {
                let factor = self.second_factor_for(caller, &person, now).await?;
                let (token, mut row) = new_session(&person, caller, now);
                row.second_factor = factor.as_ref().map(|p| p.id.clone());
                let mut tx = self.store().begin().await?;
                if let Some(proof) = &factor {
                    phone_verifications::create(&mut tx, proof).await?;
                }
                portal_sessions::create(&mut tx, &token.digest().0, &row).await?;
                if factor.is_none() {
                    let event = EventRouter::event(
                        EventType::PortalSignIn,
                        Some(&person.id),
                        DOOR,
                        json!({"door": DOOR, "ip": caller.ip.to_string()}),
                        now,
                    );
                    self.events().emit(&mut tx, &event).await?;
                }
                let outcome = if factor.is_some() {
                    "second_factor_pending"
                } else {
                    "ok"
                };
                append_audit(
                    &mut tx,
                    DOOR,
                    "portal_sign_in",
                    &person.id,
                    outcome,
                    json!({"ip": caller.ip.to_string()}),
                    now,
                )
                .await?;
                commit(tx).await?;
                let session = session_view(&person, &row, now, self);
                let second_factor =
                    factor.map(|p| super::phones::proof_view(&p, super::ProofState::Ready));
                Ok(SignedIn {
                    token,
                    session,
                    second_factor,
                })
            }
            (person, outcome, _) => {
                self.refuse_sign_in(caller, login, person.as_ref(), outcome, now)
                    .await?;
                Err(PortalError::SignInRefused)
            }
        }
    }

    /// The live session of `token` (cookie text), seen now. Ends it and
    /// answers [`PortalError::SessionEnded`] when its person has been
    /// locked or disabled meanwhile.
    pub async fn portal_session(
        &self,
        _caller: &Caller,
        token: &str,
    ) -> Result<PortalSession, PortalError> {
        self.live_session(token).await.map(|(session, _)| session)
    }

    /// Records that the password was given again, so changes may be made.
    /// A wrong password counts like a failed sign-in.
    pub async fn portal_reauthenticate(
        &self,
        caller: &Caller,
        token: &str,
        password: SecretString,
    ) -> Result<PortalSession, PortalError> {
        let (session, person) = self.live_session(token).await?;
        self.check_sign_in_throttle(caller, &person.id).await?;
        let outcome = self.check_password_of(Some(&person), &password).await?;
        let now = self.now();
        if outcome != Checked::Right {
            self.refuse_sign_in(caller, &person.id, Some(&person), outcome, now)
                .await?;
            return Err(PortalError::SignInRefused);
        }
        let digest = parse_token(token)?.digest().0;
        let mut tx = self.store().begin().await?;
        portal_sessions::reauthenticated(&mut tx, &digest, now).await?;
        append_audit(
            &mut tx,
            DOOR,
            "portal_reauthenticate",
            &person.id,
            "ok",
            json!({"ip": caller.ip.to_string()}),
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(PortalSession {
            recently_authenticated: true,
            ..session
        })
    }

    /// Ends the session (whatever state it is in).
    pub async fn portal_sign_out(&self, caller: &Caller, token: &str) -> Result<(), PortalError> {
        let Ok(parsed) = SessionToken::parse(token) else {
            return Ok(());
        };
        let now = self.now();
        let mut tx = self.store().begin().await?;
        if portal_sessions::end(&mut tx, &parsed.digest().0, now).await? {
            append_audit(
                &mut tx,
                DOOR,
                "portal_sign_out",
                "",
                "ok",
                json!({"ip": caller.ip.to_string()}),
                now,
            )
            .await?;
        }
        commit(tx).await?;
        Ok(())
    }

    /// The session and its person, or `SessionEnded` (or
    /// `SecondFactorPending` while the sign-in waits for its call).
    pub(crate) async fn live_session(
        &self,
        token: &str,
    ) -> Result<(PortalSession, PersonRow), PortalError> {
        let (row, person) = self.session_row(token).await?;
        if row.second_factor.is_some() {
            return Err(PortalError::SecondFactorPending);
        }
        Ok((session_view(&person, &row, self.now(), self), person))
    }

    /// The person of a live session whose password was given recently
    /// enough to change answers, phones or the authenticator app; else
    /// `ReauthRequired`.
    pub(crate) async fn recent_session(&self, token: &str) -> Result<PersonRow, PortalError> {
        let (session, person) = self.live_session(token).await?;
        if !session.recently_authenticated {
            return Err(PortalError::ReauthRequired);
        }
        Ok(person)
    }

    /// The open session of `token`, seen now, whatever its second factor;
    /// ended (and `SessionEnded`) when its person was locked or disabled.
    pub(super) async fn session_row(
        &self,
        token: &str,
    ) -> Result<(SessionRow, PersonRow), PortalError> {
        let digest = parse_token(token)?.digest().0;
        let now = self.now();
        let settings = &self.settings().portal;
        let mut conn = self.store().acquire().await?;
        let Some(row) = portal_sessions::touch(
            &mut conn,
            &digest,
            now,
            now - settings.session_idle_ms,
            now - settings.session_lifetime_ms,
        )
        .await?
        else {
            return Err(PortalError::SessionEnded);
        };
        let person = person_rows::get(&mut conn, &row.person_id).await?;
        let usable = match &person {
            Some(p) => !p.disabled && !is_locked(&mut conn, p, now).await?,
            None => false,
        };
        drop(conn);
        match person {
            Some(person) if usable => Ok((row, person)),
            _ => {
                let mut tx = self.store().begin().await?;
                portal_sessions::end(&mut tx, &digest, now).await?;
                commit(tx).await?;
                Err(PortalError::SessionEnded)
            }
        }
    }

    async fn check_sign_in_throttle(
        &self,
        caller: &Caller,
        login: &str,
    ) -> Result<(), PortalError> {
        let settings = &self.settings().portal;
        let now = self.now();
        let ip = caller.ip.to_string();
        let key = login.to_lowercase();
        let mut conn = self.store().acquire().await?;
        let (by_login, by_ip) =
            sign_in_failures::counts(&mut conn, DOOR, &key, &ip, now - settings.window_ms).await?;
        drop(conn);
        if by_login >= settings.max_failures || by_ip >= settings.max_failures {
            self.audit(
                caller,
                DOOR,
                "portal_sign_in",
                login,
                "throttled",
                json!({}),
            )
            .await?;
            return Err(PortalError::Throttled);
        }
        Ok(())
    }

    /// The person a login names: the ID as typed, else in lower case (a
    /// directory's logins are case-insensitive; ours are stored lower).
    async fn find_signing_in(&self, login: &str) -> Result<Option<PersonRow>, PortalError> {
        let mut conn = self.store().acquire().await?;
        if let Some(p) = person_rows::get(&mut conn, login).await? {
            return Ok(Some(p));
        }
        let lower = login.to_lowercase();
        if lower != login {
            return Ok(person_rows::get(&mut conn, &lower).await?);
        }
        Ok(None)
    }

    /// Whether `password` opens one of the person's accounts. No person,
    /// or none of their targets able to check, costs a dummy argon2
    /// verification instead.
    async fn check_password_of(
        &self,
        person: Option<&PersonRow>,
        password: &SecretString,
    ) -> Result<Checked, PortalError> {
        let Some(person) = person else {
            self.hasher()
                .verify_password(None, password.clone())
                .await?;
            return Ok(Checked::NoPerson);
        };
        if person.disabled {
            self.hasher()
                .verify_password(None, password.clone())
                .await?;
            return Ok(Checked::Disabled);
        }
        // An empty password would be an unauthenticated bind, which LDAP
        // servers accept as anonymous (RFC 4513 §5.1.2): never try one.
        if password.expose_secret().is_empty() {
            return Ok(Checked::Wrong);
        }
        let accounts = {
            let mut conn = self.store().acquire().await?;
            person_rows::accounts(&mut conn, &person.id).await?
        };
        let limit = self.settings().target_call_timeout;
        let mut checked_any = false;
        for account in &accounts {
            let Some(target) = self.targets().get(&account.target) else {
                continue;
            };
            let check = target.check_password(&account.account, password);
            match tokio::time::timeout(limit, check).await {
                Ok(Ok(true)) => return Ok(Checked::Right),
                Ok(Ok(false)) => checked_any = true,
                Ok(Err(TargetError::Unsupported | TargetError::NoSuchAccount)) => {}
                Ok(Err(e)) => {
                    checked_any = true;
                    tracing::warn!(user_id = %person.id, target = %account.target, error = %e, "a target could not check a portal password");
                }
                Err(_) => {
                    checked_any = true;
                    tracing::warn!(user_id = %person.id, target = %account.target, "a target did not check a portal password in time");
                }
            }
        }
        if !checked_any {
            self.hasher()
                .verify_password(None, password.clone())
                .await?;
        }
        Ok(Checked::Wrong)
    }

    /// Records a refused sign-in: the throttle's counters, the audit row
    /// with the real reason, and for a real person with a wrong password a
    /// failure toward the intruder lockout.
    async fn refuse_sign_in(
        &self,
        caller: &Caller,
        login: &str,
        person: Option<&PersonRow>,
        outcome: Checked,
        now: i64,
    ) -> Result<(), PortalError> {
        let ip = caller.ip.to_string();
        let mut tx = self.store().begin().await?;
        // A right password is refused only because the person is locked.
        let reason = match outcome {
            Checked::NoPerson => "unknown_person",
            Checked::Disabled => "disabled",
            Checked::Wrong => "wrong_password",
            Checked::Right => "locked",
        };
        if let Some(person) = person.filter(|p| !p.disabled) {
            lockouts::serialize_person(&mut tx, &person.id).await?;
            if outcome == Checked::Wrong {
                let attempt = Attempt {
                    session_id: DOOR,
                    door: DOOR,
                    caller_number: None,
                };
                self.record_failure(&mut tx, person, &attempt, DOOR, now)
                    .await?;
            }
        }
        sign_in_failures::record(&mut tx, DOOR, &login.to_lowercase(), &ip, now).await?;
        append_audit(
            &mut tx,
            DOOR,
            "portal_sign_in",
            login,
            "refused",
            json!({"ip": ip, "reason": reason}),
            now,
        )
        .await?;
        commit(tx).await?;
        tracing::info!(%ip, reason, "portal sign-in refused");
        Ok(())
    }
}

/// What checking a sign-in's password found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checked {
    Right,
    Wrong,
    NoPerson,
    Disabled,
}

fn parse_token(token: &str) -> Result<SessionToken, PortalError> {
    SessionToken::parse(token).map_err(|_| PortalError::SessionEnded)
}

fn new_session(person: &PersonRow, caller: &Caller, now: i64) -> (SessionToken, SessionRow) {
    let token = SessionToken::generate(&mut rand::rng());
    let csrf = SessionToken::generate(&mut rand::rng()).reveal().to_owned();
    let row = SessionRow {
        person_id: person.id.clone(),
        client_ip: caller.ip.to_string(),
        csrf,
        created_at: now,
        last_seen_at: now,
        authenticated_at: now,
        second_factor: None,
    };
    (token, row)
}

fn session_view(
    person: &PersonRow,
    row: &SessionRow,
    now: i64,
    service: &Service,
) -> PortalSession {
    PortalSession {
        person_id: person.id.clone(),
        display_name: person.display_name.clone(),
        csrf: row.csrf.clone(),
        signed_in_at: row.created_at,
        recently_authenticated: now - row.authenticated_at <= service.settings().portal.reauth_ms,
    }
}
