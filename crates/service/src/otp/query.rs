//! What an API user may read and do about its own calls: one call with its
//! status history and call detail record, a filtered list, cancelling. A
//! call of another API user is answered exactly like one that does not
//! exist.

use serde_json::json;
use touchtone_store::otp_calls::{self, HistoryEntry, ListFilter, OtpCall};

use super::Outcome;
use crate::{Caller, Service, ServiceError};

/// A call as its API user may see it: where it went, how it is doing, and
/// its call detail record. The code appears only masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallDetail {
    pub id: String,
    pub api_user: String,
    /// E.164.
    pub destination: String,
    /// What was dialled after the dial plan.
    pub dial_string: String,
    pub caller_id: Option<String>,
    pub mode: String,
    pub language: String,
    pub repeats: i64,
    /// The code masked (`*****3`).
    pub code_mask: String,
    pub callback_url: Option<String>,
    pub status: String,
    pub is_final: bool,
    pub attempts: i64,
    pub expires_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub sip_status: Option<i64>,
    pub ring_ms: Option<i64>,
    pub talk_ms: Option<i64>,
    pub code_played: i64,
    /// JSON array of what was keyed in verify mode (lengths and results).
    pub entries: String,
}

impl From<OtpCall> for CallDetail {
    fn from(c: OtpCall) -> CallDetail {
        CallDetail {
            id: c.id,
            api_user: c.api_user,
            destination: c.destination,
            dial_string: c.dial_string,
            caller_id: c.caller_id,
            mode: c.mode,
            language: c.language,
            repeats: c.repeats,
            code_mask: c.code_mask,
            callback_url: c.callback_url,
            status: c.status,
            is_final: c.is_final,
            attempts: c.attempts,
            expires_at: c.expires_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
            sip_status: c.sip_status,
            ring_ms: c.ring_ms,
            talk_ms: c.talk_ms,
            code_played: c.code_played,
            entries: c.entries,
        }
    }
}

/// One status change of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: String,
    /// Unix milliseconds.
    pub at: i64,
    /// JSON with what the status needs said (an error, why it ended).
    pub detail: Option<String>,
}

impl From<HistoryEntry> for StatusChange {
    fn from(h: HistoryEntry) -> StatusChange {
        StatusChange {
            status: h.status,
            at: h.at,
            detail: h.detail,
        }
    }
}

/// A call and its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallView {
    pub call: CallDetail,
    pub history: Vec<StatusChange>,
}

/// List filters as the API takes them.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub status: Option<String>,
    pub to: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub before: Option<i64>,
    pub limit: Option<u32>,
}

impl Service {
    pub async fn otp_call(&self, api_user: &str, id: &str) -> Result<CallView, ServiceError> {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(ServiceError::UnknownCall);
        }
        let mut conn = self.store().acquire().await?;
        let call = otp_calls::get(&mut conn, id)
            .await?
            .filter(|c| c.api_user == api_user)
            .ok_or(ServiceError::UnknownCall)?;
        let history = otp_calls::history(&mut conn, id).await?;
        Ok(CallView {
            call: call.into(),
            history: history.into_iter().map(StatusChange::from).collect(),
        })
    }

    pub async fn otp_calls(
        &self,
        api_user: &str,
        query: ListQuery,
    ) -> Result<Vec<CallDetail>, ServiceError> {
        let limit = query.limit.unwrap_or(50);
        if limit == 0 || limit > 500 {
            return Err(ServiceError::BadRequest("limit must be 1 to 500".into()));
        }
        if let Some(status) = &query.status
            && !super::FINAL_STATUSES.contains(&status.as_str())
            && !super::PROGRESS_STATUSES.contains(&status.as_str())
        {
            return Err(ServiceError::BadRequest(format!(
                "status must be one of: {}, {}",
                super::PROGRESS_STATUSES.join(", "),
                super::FINAL_STATUSES.join(", ")
            )));
        }
        let destination = match &query.to {
            Some(to) => {
                let plausible = to.len() <= 16
                    && !to.is_empty()
                    && to
                        .strip_prefix('+')
                        .unwrap_or(to)
                        .bytes()
                        .all(|b| b.is_ascii_digit());
                if !plausible {
                    return Err(ServiceError::BadRequest(
                        "to must be a number: digits, with a leading + for international form"
                            .into(),
                    ));
                }
                match super::accept::parse_destination(to, self.settings().otp.default_region) {
                    Ok(number) => Some(number.as_str().to_owned()),
                    // No call can have gone to a number that cannot exist.
                    Err(_) => return Ok(Vec::new()),
                }
            }
            None => None,
        };
        let mut conn = self.store().acquire().await?;
        let filter = ListFilter {
            api_user: Some(api_user.to_owned()),
            status: query.status,
            destination,
            since: query.since,
            until: query.until,
            before: query.before,
            limit: i64::from(limit),
        };
        Ok(otp_calls::list(&mut conn, &filter)
            .await?
            .into_iter()
            .map(CallDetail::from)
            .collect())
    }

    /// Cancels a call: a queued one at once; one being placed is hung up
    /// (or its INVITE cancelled) by the worker at its next heartbeat. A
    /// call already ended is left as it is.
    pub async fn otp_cancel(
        &self,
        caller: &Caller,
        api_user: &str,
        id: &str,
    ) -> Result<CallView, ServiceError> {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(ServiceError::UnknownCall);
        }
        let now = self.now();
        let status = {
            let _queued = self.store().queue_for_write().await;
            let mut tx = self.store().begin().await?;
            let status = otp_calls::request_cancel(&mut tx, id, api_user, now)
                .await?
                .ok_or(ServiceError::UnknownCall)?;
            crate::session_gate::commit(tx).await?;
            status
        };
        if status == "queued" {
            self.otp_finish(
                id,
                Outcome::Final {
                    status: "cancelled",
                    report: Default::default(),
                    detail: Some(json!({"by": "api"}).to_string()),
                },
            )
            .await?;
        }
        self.audit(caller, api_user, "otp_call_cancel", id, "ok", json!({}))
            .await?;
        self.otp_call(api_user, id).await
    }
}
