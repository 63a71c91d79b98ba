//! The gate every session-bound call passes: spend the presented one-time
//! token, check it is used from the address that logged in, and at the end
//! issue the next token and the audit row in the same transaction as the
//! call's own changes.
//!
//! A call that fails after the token was spent rolls back, so the token is
//! still good and nothing changed; the failure is then audited on its own.

use serde_json::json;
use touchtone_core::session_token::SessionToken;
use touchtone_store::audit::{self, AuditEntry};
use touchtone_store::sessions::{self, Consumed, Session};
use touchtone_store::{AnyConnection, Tx};

use crate::{Caller, Service, ServiceError};

/// A call in progress: its transaction and the session it belongs to.
pub(crate) struct CallTx {
    pub tx: Tx<'static>,
    pub session: Session,
    pub now: i64,
    pub action: &'static str,
    pub caller: Caller,
    /// This call's place in the store's writer queue (SQLite), held until
    /// it commits or rolls back: calls in progress write in turn, first
    /// come first served, instead of racing for SQLite's lock (whose busy
    /// handler is unfair and gives up after the busy timeout under load).
    pub queued: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl CallTx {
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

impl Service {
    /// Starts a session of `api_user` bound to the caller's address, with
    /// its first token, audited as `Login` (`detail` adds to the row), all
    /// in one transaction. Every door's sessions start here.
    pub(crate) async fn start_session(
        &self,
        caller: &Caller,
        api_user: &str,
        calling_number: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<SessionToken, ServiceError> {
        let now = self.now();
        let ip = caller.ip.to_string();
        let session = Session {
            id: uuid::Uuid::new_v4().to_string(),
            api_user: api_user.to_owned(),
            client_ip: ip.clone(),
            created_at: now,
            expires_at: now + self.settings().session_lifetime_ms,
            ended_at: None,
            verified_person: None,
            calling_number: calling_number.map(str::to_owned),
        };
        let token = SessionToken::generate(&mut rand::rng());
        let mut detail = detail;
        if let Some(map) = detail.as_object_mut() {
            map.insert("ip".into(), ip.into());
            map.insert("session".into(), session.id.clone().into());
        }
        let _queued = self.store().queue_for_write().await;
        let mut tx = self.store().begin().await?;
        sessions::create(&mut tx, &session, &token.digest().0).await?;
        append_audit(&mut tx, api_user, "Login", api_user, "ok", detail, now).await?;
        commit(tx).await?;
        Ok(token)
    }

    /// Spends `token` and opens the call's transaction.
    pub(crate) async fn open_call(
        &self,
        caller: &Caller,
        token: &str,
        action: &'static str,
    ) -> Result<CallTx, ServiceError> {
        let now = self.now();
        let Ok(token) = SessionToken::parse(token) else {
            self.audit(caller, "-", action, "", "invalid_session", json!({}))
                .await?;
            return Err(ServiceError::InvalidSession);
        };
        let idle_cutoff = now - self.settings().session_idle_ms;
        // The first statement writes, which on SQLite takes the write lock
        // at once: no `audit::lock_head` needed.
        let queued = self.store().queue_for_write().await;
        let mut tx = self.store().begin().await?;
        match sessions::consume(&mut tx, &token.digest().0, now, idle_cutoff).await? {
            Consumed::Live(session) if session.client_ip == caller.ip.to_string() => Ok(CallTx {
                tx,
                session,
                now,
                action,
                caller: *caller,
                queued,
            }),
            Consumed::Live(session) => {
                // A token carried to another address is treated as stolen.
                revoke(
                    tx,
                    &session.id,
                    &session.api_user,
                    "address_changed",
                    caller,
                    action,
                    now,
                )
                .await?;
                Err(ServiceError::SessionRevoked)
            }
            Consumed::Replayed { session_id } => {
                let api_user = sessions::get(&mut tx, &session_id)
                    .await?
                    .map(|s| s.api_user)
                    .unwrap_or_default();
                revoke(tx, &session_id, &api_user, "replayed", caller, action, now).await?;
                tracing::warn!(session = %session_id, ip = %caller.ip, "a spent session ID was presented again; session revoked");
                Err(ServiceError::SessionRevoked)
            }
            Consumed::Expired { session_id } => {
                drop(tx);
                drop(queued);
                let detail = json!({"session": session_id});
                self.audit(caller, "-", action, "", "session_expired", detail)
                    .await?;
                Err(ServiceError::SessionExpired)
            }
            Consumed::Unknown => {
                drop(tx);
                drop(queued);
                self.audit(caller, "-", action, "", "invalid_session", json!({}))
                    .await?;
                Err(ServiceError::InvalidSession)
            }
        }
    }

    /// Issues the next token, audits the call and commits everything.
    pub(crate) async fn commit_call(
        &self,
        mut call: CallTx,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<SessionToken, ServiceError> {
        let next = SessionToken::generate(&mut rand::rng());
        sessions::issue(&mut call.tx, &call.session.id, &next.digest().0, call.now).await?;
        let detail = with_ip(detail, &call.caller);
        append_audit(
            &mut call.tx,
            &call.session.api_user,
            call.action,
            subject,
            "ok",
            detail,
            call.now,
        )
        .await?;
        commit(call.tx).await?;
        Ok(next)
    }

    /// Rolls the call back (the token stays good) and audits the failure.
    pub(crate) async fn fail_call(
        &self,
        call: CallTx,
        subject: &str,
        error: ServiceError,
    ) -> ServiceError {
        let CallTx {
            tx,
            session,
            action,
            caller,
            queued,
            ..
        } = call;
        drop(tx);
        drop(queued);
        if let Err(audit_error) = self
            .audit(
                &caller,
                &session.api_user,
                action,
                subject,
                error.code().as_str(),
                json!({}),
            )
            .await
        {
            return audit_error;
        }
        error
    }

    /// Appends one audit row in a transaction of its own.
    pub(crate) async fn audit(
        &self,
        caller: &Caller,
        actor: &str,
        action: &str,
        subject: &str,
        outcome: &str,
        detail: serde_json::Value,
    ) -> Result<(), ServiceError> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        append_audit(
            &mut tx,
            actor,
            action,
            subject,
            outcome,
            with_ip(detail, caller),
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(())
    }
}

/// Ends a session for `reason`, audits it and commits.
async fn revoke(
    mut tx: Tx<'static>,
    session_id: &str,
    api_user: &str,
    reason: &str,
    caller: &Caller,
    action: &str,
    now: i64,
) -> Result<(), ServiceError> {
    sessions::end(&mut tx, session_id, reason, now).await?;
    let detail = json!({"ip": caller.ip.to_string(), "session": session_id, "reason": reason});
    append_audit(
        &mut tx,
        api_user,
        action,
        "",
        "session_revoked",
        detail,
        now,
    )
    .await?;
    commit(tx).await
}

/// Commits a transaction, mapping the error.
pub(crate) async fn commit(tx: Tx<'static>) -> Result<(), ServiceError> {
    tx.commit()
        .await
        .map_err(touchtone_store::StoreError::from)?;
    Ok(())
}

fn with_ip(mut detail: serde_json::Value, caller: &Caller) -> serde_json::Value {
    if let Some(map) = detail.as_object_mut() {
        map.entry("ip")
            .or_insert_with(|| caller.ip.to_string().into());
        map.entry("door")
            .or_insert_with(|| caller.door.as_str().into());
    }
    detail
}

/// Appends an audit row inside an open transaction.
pub(crate) async fn append_audit(
    conn: &mut AnyConnection,
    actor: &str,
    action: &str,
    subject: &str,
    outcome: &str,
    detail: serde_json::Value,
    now: i64,
) -> Result<(), ServiceError> {
    let entry = AuditEntry {
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject: subject.to_owned(),
        outcome: outcome.to_owned(),
        detail,
    };
    audit::append(conn, &entry, now).await?;
    Ok(())
}
