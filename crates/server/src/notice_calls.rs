//! The sink that turns a queued notice into a notification call
//! ([`touchtone_service::notices::NOTICE_CALL_ACTION`]): it writes the time
//! as the person reads a clock (`notices.time_zone`) and hands the call to
//! the voice-OTP queue, where the guard, the retries and the CDR are the
//! same as every other call's. The outbox item's ID makes the call
//! idempotent, so a redelivery after a crash places no second call.

use async_trait::async_trait;
use jiff::tz::TimeZone;
use touchtone_service::delivery::Sink;
use touchtone_service::notices::NoticeCall;
use touchtone_service::{Service, ServiceError};

pub struct NoticeCaller {
    service: Service,
    time_zone: TimeZone,
}

impl NoticeCaller {
    /// `time_zone`: an IANA name, or empty for the system's.
    pub fn new(service: Service, time_zone: &str) -> anyhow::Result<NoticeCaller> {
        let time_zone = touchtone_web::mail::time_zone(time_zone).map_err(anyhow::Error::msg)?;
        Ok(NoticeCaller { service, time_zone })
    }
}

#[async_trait]
impl Sink for NoticeCaller {
    async fn deliver(
        &self,
        event_id: &str,
        _event_type: &str,
        payload: &str,
    ) -> Result<(), String> {
        let call: NoticeCall =
            serde_json::from_str(payload).map_err(|e| format!("not a notice call: {e}"))?;
        let hhmm = jiff::Timestamp::from_millisecond(call.at)
            .map_err(|e| format!("the notice's time: {e}"))?
            .to_zoned(self.time_zone.clone())
            .strftime("%H%M")
            .to_string();
        match self.service.place_notice_call(event_id, &call, &hhmm).await {
            Ok(()) => Ok(()),
            // The guard refuses the number for good: retrying cannot help.
            Err(e @ (ServiceError::DestinationRefused(_) | ServiceError::BadRequest(_))) => {
                tracing::warn!(person = %call.person_id, error = %e, "no notification call: the number is refused");
                Ok(())
            }
            Err(e) => Err(format!(
                "queueing the notification call: {}",
                e.code().as_str()
            )),
        }
    }
}
