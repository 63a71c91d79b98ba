//! Periodic work inside `serve`: directory re-syncs on their configured
//! interval, and the reminder e-mail pass.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use touchtone_service::Service;
use touchtone_service::directory_sync::SyncMode;

use crate::config::Config;

/// Starts one task per import with an interval; each syncs at once, then
/// every interval, until `cancel`. A failed sync is logged and retried at
/// the next interval; it never changes anything half-way (one
/// transaction).
pub fn spawn_directory_syncs(
    config: &Config,
    service: &Service,
    cancel: &CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    config
        .directory_imports
        .iter()
        .filter(|import| import.interval_secs > 0)
        .map(|import| {
            let name = import.name.clone();
            let every = Duration::from_secs(import.interval_secs);
            let service = service.clone();
            let cancel = cancel.child_token();
            tokio::spawn(async move {
                loop {
                    match service
                        .sync_directory("scheduler", &name, SyncMode::Apply)
                        .await
                    {
                        Ok(report) => tracing::info!(
                            source = %name,
                            added = report.added.len(),
                            updated = report.updated.len(),
                            disabled = report.disabled.len(),
                            unchanged = report.unchanged,
                            skipped = report.skipped.len(),
                            "directory sync"
                        ),
                        Err(e) => {
                            tracing::warn!(source = %name, error = %e, "directory sync failed")
                        }
                    }
                    tokio::select! {
                        () = cancel.cancelled() => return,
                        () = tokio::time::sleep(every) => {}
                    }
                }
            })
        })
        .collect()
}

/// How often the reminder pass looks for people to remind (each person
/// still gets at most one per `enrolment.reminder_interval_days`).
const REMINDER_PASS: Duration = Duration::from_secs(3600);

/// With reminders on, queues due reminders now and every
/// [`REMINDER_PASS`] until `cancel`. Every node may run it: a person's
/// reminder is claimed with one conditional write.
pub fn spawn_reminders(
    config: &Config,
    service: &Service,
    cancel: &CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    if config.enrolment.reminder_interval_days == 0 {
        return None;
    }
    let service = service.clone();
    let cancel = cancel.child_token();
    Some(tokio::spawn(async move {
        loop {
            if let Err(e) = service.queue_reminders().await {
                tracing::warn!(error = %e, "queueing reminder e-mails failed");
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(REMINDER_PASS) => {}
            }
        }
    }))
}
