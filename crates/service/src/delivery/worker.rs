//! The delivery loop: lease due items, deliver them (several at once,
//! bounded), record the outcome, sleep until the next is due or new work
//! is signalled, stop when cancelled.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use touchtone_store::{Store, outbox};

use super::Sink;
use crate::Clock;

#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// How long a leased item is reserved for one delivery attempt.
    pub lease: Duration,
    /// Items leased per round.
    pub batch: i64,
    /// First retry delay; doubles each attempt up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Attempts after which an item is given up (kept, marked dead).
    pub max_attempts: i64,
    /// Longest sleep between rounds when idle.
    pub idle_poll: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            batch: 32,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(3600),
            max_attempts: 40,
            idle_poll: Duration::from_secs(2),
        }
    }
}

pub struct Deliverer {
    store: Store,
    sinks: HashMap<String, Arc<dyn super::Sink>>,
    clock: Arc<dyn Clock>,
    options: DeliveryOptions,
    wake: Arc<Notify>,
}

impl crate::Service {
    /// The delivery worker for this service's outbox, handing each item
    /// to the sink of its action's name.
    pub fn deliverer(
        &self,
        sinks: HashMap<String, Arc<dyn Sink>>,
        options: DeliveryOptions,
    ) -> Deliverer {
        Deliverer::new(
            self.store().clone(),
            sinks,
            self.inner.clock.clone(),
            options,
        )
    }
}

impl Deliverer {
    fn new(
        store: Store,
        sinks: HashMap<String, Arc<dyn Sink>>,
        clock: Arc<dyn Clock>,
        options: DeliveryOptions,
    ) -> Self {
        Self {
            store,
            sinks,
            clock,
            options,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Signals that new items may be due (wakes the loop early).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until `cancel` fires.
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            let delivered = match self.round().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "event delivery round failed");
                    0
                }
            };
            if delivered > 0 {
                continue;
            }
            let sleep = self.until_next_due().await;
            tokio::select! {
                () = cancel.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(sleep) => {}
            }
        }
    }

    async fn until_next_due(&self) -> Duration {
        let now = self.clock.now_ms();
        let next = match self.store.acquire().await {
            Ok(mut conn) => outbox::next_due(&mut conn).await.ok().flatten(),
            Err(_) => None,
        };
        let wait_ms = next.map_or(i64::MAX, |due| (due - now).max(50));
        Duration::from_millis(u64::try_from(wait_ms).unwrap_or(u64::MAX))
            .min(self.options.idle_poll)
    }

    /// One round: returns how many items it attempted.
    async fn round(&self) -> Result<usize, touchtone_store::StoreError> {
        let now = self.clock.now_ms();
        let lease_ms = i64::try_from(self.options.lease.as_millis()).unwrap_or(i64::MAX);
        let items = {
            let mut conn = self.store.acquire().await?;
            outbox::claim_due(&mut conn, now, lease_ms, self.options.batch).await?
        };
        let count = items.len();
        let attempts = items.into_iter().map(|item| async move {
            let event_type = serde_json::from_str::<serde_json::Value>(&item.payload)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
                .unwrap_or_default();
            let result = match self.sinks.get(&item.action) {
                Some(sink) => {
                    let attempt = sink.deliver(&item.event_id, &event_type, &item.payload);
                    tokio::time::timeout(self.options.lease, attempt)
                        .await
                        .unwrap_or_else(|_| Err("delivery did not finish within the lease".into()))
                }
                None => Err(format!("no action named {} is configured", item.action)),
            };
            (item, result)
        });
        let outcomes = futures::future::join_all(attempts).await;
        let mut conn = self.store.acquire().await?;
        for (item, result) in outcomes {
            let now = self.clock.now_ms();
            match result {
                Ok(()) => outbox::mark_delivered(&mut conn, &item.id, now).await?,
                Err(error) => {
                    let attempts = item.attempts + 1;
                    let give_up = attempts >= self.options.max_attempts;
                    let next = now + self.backoff_ms(attempts);
                    tracing::warn!(action = %item.action, event_id = %item.event_id, attempts, give_up, %error, "event delivery failed");
                    outbox::mark_failed(&mut conn, &item.id, &error, next, give_up, now).await?;
                }
            }
        }
        Ok(count)
    }

    fn backoff_ms(&self, attempts: i64) -> i64 {
        let first = i64::try_from(self.options.first_backoff.as_millis()).unwrap_or(1000);
        let max = i64::try_from(self.options.max_backoff.as_millis()).unwrap_or(i64::MAX);
        let exponent = u32::try_from((attempts - 1).clamp(0, 30)).unwrap_or(30);
        first.saturating_mul(1_i64 << exponent).min(max)
    }
}
