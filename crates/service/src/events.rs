//! Turning what happened into events and putting them in the outbox, in
//! the caller's transaction, once per subscribed action; every event about
//! a person is also added to that person's activity record (what the
//! portal shows them), with the door and calling number it names.

use std::collections::HashSet;

use touchtone_core::event::{Event, EventType};
use touchtone_store::activity::{self, ActivityEntry};
use touchtone_store::{AnyConnection, outbox};

use crate::ServiceError;

/// Which configured action wants which events.
#[derive(Debug, Clone, Default)]
pub struct EventRouter {
    routes: Vec<(String, Option<HashSet<EventType>>)>,
}

impl EventRouter {
    /// `routes`: action name and the events it subscribes to (`None`: all).
    pub fn new(routes: Vec<(String, Option<HashSet<EventType>>)>) -> Self {
        Self { routes }
    }

    /// Builds an event with a fresh ID.
    pub fn event(
        event_type: EventType,
        user_id: Option<&str>,
        actor: &str,
        detail: serde_json::Value,
        now: i64,
    ) -> Event {
        Event {
            id: uuid::Uuid::new_v4().to_string(),
            event_type,
            occurred_at: now,
            user_id: user_id.map(str::to_owned),
            actor: actor.to_owned(),
            detail,
        }
    }

    /// Enqueues `event` for every action subscribed to its type, and
    /// records it in its person's activity.
    pub async fn emit(&self, conn: &mut AnyConnection, event: &Event) -> Result<(), ServiceError> {
        let payload =
            serde_json::to_string(event).map_err(|e| ServiceError::Internal(e.to_string()))?;
        if let Some(person) = &event.user_id {
            let text = |key: &str| event.detail.get(key).and_then(|v| v.as_str());
            let entry = ActivityEntry {
                at: event.occurred_at,
                kind: event.event_type.name().to_owned(),
                door: text("door").unwrap_or("").to_owned(),
                caller_number: text("caller_number").map(str::to_owned),
                detail: event.detail.to_string(),
            };
            activity::append(conn, person, &entry).await?;
        }
        for (action, filter) in &self.routes {
            if filter
                .as_ref()
                .is_none_or(|types| types.contains(&event.event_type))
            {
                outbox::enqueue(conn, &event.id, action, &payload, event.occurred_at).await?;
            }
        }
        Ok(())
    }
}
