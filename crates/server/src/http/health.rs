//! `/healthz` and `/readyz`, for load balancers, orchestrators and the
//! operator's monitoring.
//!
//! - `/healthz`: the process lives and answers HTTP (200, nothing else
//!   checked), so a liveness probe never restarts a node because the
//!   database is down — restarting would not bring it back.
//! - `/readyz`: this node should be sent work: the database answers a
//!   statement within a second, the SIP engine (when `[sip]` is set) is up,
//!   and the node is not stopping. 503 otherwise, naming which check failed
//!   (never an internal error text).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use touchtone_service::Service;

/// What `/readyz` looks at beside the database.
pub struct Readiness {
    stopping: AtomicBool,
    /// Whether this node runs a SIP engine at all.
    sip_wanted: bool,
    /// The engine, once started.
    sip: OnceLock<touchtone_sip::Engine>,
}

impl Readiness {
    pub fn new(sip_wanted: bool) -> Arc<Readiness> {
        Arc::new(Readiness {
            stopping: AtomicBool::new(false),
            sip_wanted,
            sip: OnceLock::new(),
        })
    }

    /// The engine, once started (a second engine is ignored).
    pub fn set_sip(&self, engine: touchtone_sip::Engine) {
        let _ = self.sip.set(engine);
    }

    /// From now on `/readyz` fails: the node is going away.
    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    fn sip_state(&self) -> &'static str {
        match (self.sip_wanted, self.sip.get()) {
            (false, _) => "off",
            (true, Some(engine)) if engine.is_running() => "ok",
            (true, Some(_)) => "stopped",
            (true, None) => "starting",
        }
    }
}

/// How long the database may take to answer the readiness check.
const DATABASE_CHECK: Duration = Duration::from_secs(1);

pub async fn healthz() -> Response {
    (StatusCode::OK, Json(json!({"status": "ok"}))).into_response()
}

pub async fn readyz(
    State(service): State<Service>,
    Extension(readiness): Extension<Arc<Readiness>>,
) -> Response {
    let database = match tokio::time::timeout(DATABASE_CHECK, service.check_database()).await {
        Ok(Ok(())) => "ok",
        Ok(Err(_)) => "unreachable",
        Err(_) => "slow",
    };
    let sip = readiness.sip_state();
    let stopping = readiness.stopping.load(Ordering::SeqCst);
    let ready = database == "ok" && matches!(sip, "ok" | "off") && !stopping;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": {"database": database, "sip": sip, "stopping": stopping},
    });
    (status, Json(body)).into_response()
}
