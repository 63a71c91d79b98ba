//! Helpers shared by the engine's integration tests: an engine
//! configuration on random loopback ports, a flow that just waits, and
//! waiting for every call to end.

#![allow(dead_code)] // each test file uses its own subset

use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use touchtone_sip::{CallHandler, Channel, DialError, DialRequest, Engine, SipConfig, TrunkConfig};
use touchtone_testkit::ports;

/// An engine configuration on loopback: a random SIP port, 100 RTP ports
/// from a random base, one pacer thread, at most `max_calls` calls.
pub fn config_with(max_calls: usize) -> SipConfig {
    let rtp = ports::port() & !1;
    SipConfig {
        udp: Some(SocketAddr::from(([127, 0, 0, 1], ports::port()))),
        rtp_port_min: rtp,
        rtp_port_max: rtp.saturating_add(400).min(65534),
        pacer_threads: 1,
        max_calls,
        ..SipConfig::default()
    }
}

pub fn config() -> SipConfig {
    config_with(SipConfig::default().max_calls)
}

/// A flow that keeps the call up until the other side ends it.
pub struct Idle;

#[async_trait::async_trait]
impl CallHandler for Idle {
    async fn handle(&self, channel: Channel) {
        channel.ended().await;
    }
}

pub async fn wait_for_no_calls(engine: &Engine) {
    let start = Instant::now();
    while engine.stats().active_calls > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "calls still up: {:?}",
            engine.stats()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An engine whose trunk is `trunk` with digest credentials, dialling
/// `callee` there (caller ID 4000, 10 s ring timeout). The engine is
/// returned so the call outlives this function.
pub async fn dial_through_trunk(
    trunk: SocketAddr,
    username: &str,
    password: &str,
) -> (Engine, Result<Channel, DialError>) {
    let mut cfg = config();
    cfg.trunk = Some(TrunkConfig {
        uri: format!("sip:{trunk}"),
        username: Some(username.into()),
        password: Some(password.into()),
        caller_id: Some("4000".into()),
        register: false,
        register_expires_secs: 300,
    });
    let engine = Engine::start(cfg, std::sync::Arc::new(Idle)).await.unwrap();
    let request = DialRequest {
        to: "callee".into(),
        caller_id: None,
        ring_timeout: Some(Duration::from_secs(10)),
    };
    let result = engine.dial(request, None, CancellationToken::new()).await;
    (engine, result)
}
