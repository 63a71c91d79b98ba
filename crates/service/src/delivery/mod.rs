//! Delivering outbox items to event actions: webhooks, commands and files.
//!
//! A [`Deliverer`] leases due items, hands each to its action's sink, and
//! records delivery or schedules a retry with exponential back-off. All of
//! it lives in the database, so retries survive a restart and any node may
//! deliver. Delivery is at least once; receivers de-duplicate on the event
//! ID (`X-Touchtone-Event-Id`).

mod callback;
mod command;
mod file;
mod webhook;
mod worker;

pub use callback::CallbackSink;
pub(crate) use callback::names_a_private_host;
pub use command::CommandSink;
pub use file::FileSink;
pub use webhook::{WebhookSink, sign};
pub use worker::{Deliverer, DeliveryOptions};

use async_trait::async_trait;

/// Where one action sends events.
#[async_trait]
pub trait Sink: Send + Sync {
    /// Delivers one event (`payload` is its JSON). An error is retried.
    async fn deliver(&self, event_id: &str, event_type: &str, payload: &str) -> Result<(), String>;
}
