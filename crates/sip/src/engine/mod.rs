//! The engine: SIP listeners, the dispatcher of incoming requests, trunk
//! registration, and starting a call's media and task once it is set up.
//! Inbound set-up is in `inbound.rs`, outbound `dial` in `dial.rs`.

mod dial;
mod inbound;

pub use dial::{DialError, DialProgress, DialRequest};

use crate::call::{CallSlot, CallTask};
use crate::channel::{CallInfo, Channel};
use crate::config::SipConfig;
use crate::dtmf::{Digit, DigitSource};
use crate::g711::Codec;
use crate::rtp::pacer::{Pacer, PacerOptions, PacerStats};
use crate::rtp::ports::PortRange;
use crate::rtp::session::MediaSession;
use crate::rtp::stream::MediaParams;
use crate::sdp::{Direction, LocalMedia, RemoteMedia};
use async_trait::async_trait;
use ipnet::IpNet;
use rsipstack::EndpointBuilder;
use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog::DialogStateReceiver;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{HeadersExt, Method, StatusCode, Uri};
use rsipstack::transaction::Endpoint;
use rsipstack::transport::tcp_listener::TcpListenerConnection;
use rsipstack::transport::tls::{TlsConfig, TlsListenerConnection};
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::{SipConnection, TransportLayer};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use thiserror::Error;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// Telephone-event payload type we offer (the common choice of trunks).
const OFFER_TELEPHONE_EVENT: u8 = 101;
const DIGIT_QUEUE: usize = 64;

/// Runs one call flow on each answered inbound call.
#[async_trait]
pub trait CallHandler: Send + Sync + 'static {
    async fn handle(&self, channel: Channel);

    /// Whether a call to `called` (the request URI's user part) is for
    /// this handler; others are refused with 404 before anything is
    /// answered. Every call is, unless a handler says otherwise.
    fn accepts(&self, called: Option<&str>) -> bool {
        let _ = called;
        true
    }
}

#[derive(Debug, Error)]
pub enum EngineError {
    #[error("SIP configuration: {0}")]
    Config(String),
    #[error("cannot start the SIP listener on {addr}: {reason}")]
    Listen { addr: SocketAddr, reason: String },
    #[error("cannot start the media pacer: {0}")]
    Pacer(std::io::Error),
}

struct EngineInner {
    config: SipConfig,
    dialog_layer: Arc<DialogLayer>,
    pacer: Pacer,
    ports: PortRange,
    public_ip: IpAddr,
    sip_addr: SocketAddr,
    active_calls: Arc<AtomicUsize>,
    handler: Arc<dyn CallHandler>,
    cancel: CancellationToken,
    answer_delay: Duration,
    trunk_registered: Arc<std::sync::atomic::AtomicBool>,
    wire_stats: Arc<crate::wire::WireStats>,
}

impl EngineInner {
    /// Our SDP offer on `port`: PCMU, PCMA and telephone-event.
    fn offer_media(&self, port: u16) -> LocalMedia {
        LocalMedia {
            address: self.public_ip,
            port,
            codecs: vec![(Codec::Pcmu, 0), (Codec::Pcma, 8)],
            telephone_event: Some(OFFER_TELEPHONE_EVENT),
            direction: Direction::SendRecv,
            session_id: rand::random::<u32>().into(),
            session_version: 1,
        }
    }

    /// `sip:USER@public-address:sip-port`: our From and Contact.
    fn local_uri(&self, user: &str) -> Result<Uri, String> {
        let text = format!(
            "sip:{user}@{}",
            SocketAddr::new(self.public_ip, self.sip_addr.port())
        );
        Uri::try_from(text.as_str()).map_err(|e| e.to_string())
    }
}

/// A running SIP user agent. Cloning shares it; `shutdown` stops it.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

/// Figures for tests, the benchmark and monitoring.
#[derive(Debug, Clone)]
pub struct EngineStats {
    pub active_calls: usize,
    pub packets_sent: u64,
    pub send_failures: u64,
    pub send_lateness_p99: Duration,
    pub send_lateness_max_bucket: Duration,
    /// Pacer threads using io_uring, and the packets sent and read by it.
    pub io_uring_workers: usize,
    pub ring_sends: u64,
    pub ring_receives: u64,
    /// Pacer threads at real-time priority now.
    pub realtime_workers: usize,
    /// RTP ports bound since the start (one per call set up).
    pub media_ports_bound: u64,
    /// SIP requests refused before the transaction layer (malformed or
    /// unsupported), answered 503 for going over their source's limit, and
    /// datagrams dropped unanswered.
    pub sip_refused: u64,
    pub sip_limited: u64,
    pub sip_dropped: u64,
}

impl Engine {
    /// Binds the listeners and starts answering calls with `handler`.
    pub async fn start(
        config: SipConfig,
        handler: Arc<dyn CallHandler>,
    ) -> Result<Engine, EngineError> {
        Self::start_with_answer_delay(config, handler, Duration::ZERO).await
    }

    /// As `start`, but rings for `answer_delay` before answering (180
    /// Ringing, then 200), as a PBX extension would.
    pub async fn start_with_answer_delay(
        config: SipConfig,
        handler: Arc<dyn CallHandler>,
        answer_delay: Duration,
    ) -> Result<Engine, EngineError> {
        let udp = config.udp.ok_or_else(|| {
            EngineError::Config("sip.udp must be set (the UDP listener is required)".into())
        })?;
        let public_ip = match config.public_address {
            Some(ip) => ip,
            None if !udp.ip().is_unspecified() => udp.ip(),
            None => {
                return Err(EngineError::Config(
                    "sip.public_address must be set when sip.udp listens on a wildcard address"
                        .into(),
                ));
            }
        };
        if config.rtp_port_min > config.rtp_port_max {
            return Err(EngineError::Config(
                "sip.rtp_port_min is above sip.rtp_port_max".into(),
            ));
        }
        let cancel = CancellationToken::new();
        let transport = TransportLayer::new(cancel.child_token());
        if !config.allowed_sources.is_empty() {
            let nets: Arc<Vec<IpNet>> = Arc::new(config.allowed_sources.clone());
            transport.set_whitelist(move |ip: IpAddr| {
                let nets = nets.clone();
                async move { nets.iter().any(|n| n.contains(&ip)) }
            });
        }
        let guard =
            crate::wire::Guard::new(config.allowed_sources.clone(), config.limit_with_trunk());
        let wire_stats = guard.stats.clone();
        let udp_conn = guarded_udp(udp, guard, cancel.child_token())
            .await
            .map_err(|reason| EngineError::Listen { addr: udp, reason })?;
        let sip_addr = udp_conn
            .get_addr()
            .get_socketaddr()
            .map_err(|e| EngineError::Listen {
                addr: udp,
                reason: e.to_string(),
            })?;
        transport.add_transport(SipConnection::Udp(udp_conn));
        if let Some(tcp) = config.tcp {
            let listener =
                TcpListenerConnection::new(tcp, None)
                    .await
                    .map_err(|e| EngineError::Listen {
                        addr: tcp,
                        reason: e.to_string(),
                    })?;
            transport.add_transport(SipConnection::TcpListener(listener));
        }
        if let Some(tls) = &config.tls {
            let read = |p: &std::path::Path| {
                std::fs::read(p).map_err(|e| {
                    EngineError::Config(format!("sip.tls: cannot read {}: {e}", p.display()))
                })
            };
            let tls_config = TlsConfig {
                cert: Some(read(&tls.cert)?),
                key: Some(read(&tls.key)?),
                ..Default::default()
            };
            let listener = TlsListenerConnection::new(tls.listen, None, tls_config)
                .await
                .map_err(|e| EngineError::Listen {
                    addr: tls.listen,
                    reason: e.to_string(),
                })?;
            transport.add_transport(SipConnection::TlsListener(listener));
        }
        let endpoint: Endpoint = EndpointBuilder::new()
            .with_user_agent(&config.user_agent)
            .with_inspector(Box::new(crate::digest::DigestCompat))
            .with_transport_layer(transport)
            .with_cancel_token(cancel.child_token())
            .with_allows(vec![
                Method::Invite,
                Method::Ack,
                Method::Bye,
                Method::Cancel,
                Method::Options,
                Method::Info,
                Method::Refer,
                Method::Notify,
                Method::Update,
            ])
            .build();
        let incoming = endpoint
            .incoming_transactions()
            .map_err(|e| EngineError::Config(format!("SIP endpoint: {e}")))?;
        let endpoint_inner = endpoint.inner.clone();
        let dialog_layer = Arc::new(DialogLayer::new(endpoint_inner.clone()));
        let threads = if config.pacer_threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        } else {
            config.pacer_threads
        };
        let pacer = Pacer::start(
            threads,
            PacerOptions {
                io_uring: config.rtp_io_uring,
                realtime: config.rtp_realtime,
            },
        )
        .map_err(EngineError::Pacer)?;
        let media_ip = if udp.ip().is_unspecified() {
            udp.ip()
        } else {
            public_ip
        };
        let ports = PortRange::new(media_ip, config.rtp_port_min, config.rtp_port_max);
        let inner = Arc::new(EngineInner {
            config,
            dialog_layer,
            pacer,
            ports,
            public_ip,
            sip_addr,
            active_calls: Arc::new(AtomicUsize::new(0)),
            handler,
            cancel: cancel.clone(),
            answer_delay,
            trunk_registered: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            wire_stats,
        });
        if let Some(trunk) = inner.config.trunk.as_ref().filter(|t| t.register) {
            spawn_registration(&inner, endpoint_inner.clone(), trunk)?;
        }
        tokio::spawn(async move { endpoint.serve().await });
        let dispatcher = inner.clone();
        tokio::spawn(async move { dispatch(dispatcher, incoming).await });
        info!(%sip_addr, "SIP engine started");
        Ok(Engine { inner })
    }

    /// Whether the trunk accepted our last REGISTER (false when
    /// registration is not configured).
    pub fn trunk_registered(&self) -> bool {
        self.inner.trunk_registered.load(Ordering::Relaxed)
    }

    /// The UDP address SIP is received on.
    pub fn sip_addr(&self) -> SocketAddr {
        self.inner.sip_addr
    }

    pub fn stats(&self) -> EngineStats {
        let p: &PacerStats = &self.inner.pacer.stats;
        EngineStats {
            active_calls: self.inner.active_calls.load(Ordering::Relaxed),
            packets_sent: p.packets_sent.load(Ordering::Relaxed),
            send_failures: p.send_failures.load(Ordering::Relaxed),
            send_lateness_p99: p.lateness_quantile(0.99),
            send_lateness_max_bucket: p.lateness_quantile(1.0),
            io_uring_workers: p.io_uring_workers.load(Ordering::Relaxed),
            realtime_workers: p.realtime_workers.load(Ordering::Relaxed),
            ring_sends: p.ring_sends.load(Ordering::Relaxed),
            ring_receives: p.ring_receives.load(Ordering::Relaxed),
            media_ports_bound: self.inner.ports.bound(),
            sip_refused: self.inner.wire_stats.refused.load(Ordering::Relaxed),
            sip_limited: self.inner.wire_stats.limited.load(Ordering::Relaxed),
            sip_dropped: self.inner.wire_stats.dropped.load(Ordering::Relaxed),
        }
    }

    /// Whether the engine is taking calls (until [`Engine::shutdown`]).
    pub fn is_running(&self) -> bool {
        !self.inner.cancel.is_cancelled()
    }

    pub fn reset_lateness(&self) {
        self.inner.pacer.stats.reset_lateness();
    }

    pub fn shutdown(&self) {
        self.inner.cancel.cancel();
        self.inner.pacer.stop();
    }
}

/// The UDP listener, bound as rsipstack's own `create_connection` would,
/// read through the wire guard.
async fn guarded_udp(
    addr: SocketAddr,
    guard: crate::wire::Guard,
    cancel: CancellationToken,
) -> Result<UdpConnection, String> {
    let domain = if addr.is_ipv6() {
        socket2::Domain::IPV6
    } else {
        socket2::Domain::IPV4
    };
    let socket = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))
        .map_err(|e| e.to_string())?;
    socket.set_nonblocking(true).map_err(|e| e.to_string())?;
    socket.bind(&addr.into()).map_err(|e| e.to_string())?;
    let socket = tokio::net::UdpSocket::from_std(socket.into()).map_err(|e| e.to_string())?;
    let guarded: Arc<dyn rsipstack::platform::net::UdpSocket> =
        Arc::new(crate::wire::GuardedSocket::new(socket, guard));
    UdpConnection::from_socket(guarded, None, Some(cancel))
        .await
        .map_err(|e| e.to_string())
}

/// Registers with the trunk and keeps the registration fresh until the
/// engine shuts down.
fn spawn_registration(
    inner: &Arc<EngineInner>,
    endpoint: rsipstack::transaction::endpoint::EndpointInnerRef,
    trunk: &crate::config::TrunkConfig,
) -> Result<(), EngineError> {
    let (Some(username), Some(password)) = (trunk.username.clone(), trunk.password.clone()) else {
        return Err(EngineError::Config(
            "sip.trunk.register needs sip.trunk.username and sip.trunk.password".into(),
        ));
    };
    let server = Uri::try_from(trunk.uri.as_str())
        .map_err(|e| EngineError::Config(format!("sip.trunk.uri {}: {e}", trunk.uri)))?;
    let credential = Credential {
        username,
        password,
        realm: None,
        auth_username: None,
    };
    let mut registration =
        rsipstack::dialog::registration::Registration::new(endpoint, Some(credential));
    let registered = inner.trunk_registered.clone();
    let token = inner.cancel.child_token();
    let expires = trunk.register_expires_secs;
    tokio::spawn(async move {
        registration
            .keep_alive(server, expires, token, |outcome| {
                use rsipstack::dialog::registration::RefreshOutcome;
                let ok = matches!(outcome, RefreshOutcome::Registered(_));
                match outcome {
                    RefreshOutcome::Registered(_) => debug!("registered with the trunk"),
                    RefreshOutcome::Rejected(r) => {
                        warn!(status = r.status_code.code(), "the trunk refused REGISTER")
                    }
                    RefreshOutcome::Failed(e) => warn!(error = %e, "REGISTER failed"),
                }
                registered.store(ok, Ordering::Relaxed);
            })
            .await;
        registered.store(false, Ordering::Relaxed);
    });
    Ok(())
}

#[allow(clippy::too_many_arguments)] // one call's negotiated pieces, assembled once
fn start_call(
    inner: &Arc<EngineInner>,
    slot: CallSlot,
    dialog: InviteDialog,
    states: DialogStateReceiver,
    socket: std::net::UdpSocket,
    remote: RemoteMedia,
    codec: Codec,
    payload_type: u8,
    local_media: LocalMedia,
    info: CallInfo,
) -> Result<Channel, std::io::Error> {
    let (digit_tx, digit_rx) = mpsc::channel::<(Digit, DigitSource)>(DIGIT_QUEUE);
    let params = MediaParams {
        remote: remote.address,
        codec,
        payload_type,
        telephone_event: remote.telephone_event,
        own_telephone_event: local_media.telephone_event,
        in_band: inner.config.in_band_dtmf,
        strict: inner.config.strict_rtp,
        send_silence: inner.config.rtp_send_silence,
    };
    let media = Arc::new(MediaSession::start(
        socket,
        params,
        &inner.pacer,
        digit_tx.clone(),
    )?);
    if !remote.direction.peer_receives() {
        media.update(remote.address, codec, payload_type, false);
    }
    let (command_tx, command_rx) = mpsc::channel(8);
    let ended = CancellationToken::new();
    let task = CallTask {
        dialog,
        dialog_layer: inner.dialog_layer.clone(),
        states,
        commands: command_rx,
        media: media.clone(),
        local_media,
        digits: digit_tx,
        ended: ended.clone(),
        _slot: slot,
        rtp_timeout: (inner.config.rtp_timeout_secs > 0)
            .then(|| Duration::from_secs(inner.config.rtp_timeout_secs)),
        call_id: info.call_id.clone(),
        late_answer_cseq: None,
    };
    tokio::spawn(task.run());
    Ok(Channel::new(info, media, digit_rx, command_tx, ended))
}

async fn dispatch(
    inner: Arc<EngineInner>,
    mut incoming: rsipstack::transaction::TransactionReceiver,
) {
    loop {
        let mut tx = tokio::select! {
            tx = incoming.recv() => match tx { Some(tx) => tx, None => return },
            _ = inner.cancel.cancelled() => return,
        };
        if body_is_truncated(&tx.original) {
            // RFC 3261 §18.3: a datagram that ends before Content-Length
            // says is an error; requests get 400.
            tokio::spawn(async move {
                let _ = tx.reply(StatusCode::BadRequest).await;
            });
            continue;
        }
        let has_to_tag = tx
            .original
            .to_header()
            .ok()
            .and_then(|t| t.tag().ok().flatten())
            .is_some();
        if has_to_tag || !matches!(tx.original.method, Method::Invite | Method::Options) {
            match inner.dialog_layer.match_dialog(&tx) {
                Some(mut dialog) => {
                    tokio::spawn(async move {
                        if let Err(e) = dialog.handle(&mut tx).await {
                            debug!(error = %e, "in-dialog request");
                        }
                    });
                }
                // RFC 3261 §17.2.1: an ACK is never answered (one that
                // matches no dialog is for a failure the wire guard
                // answered, or for nothing).
                None if tx.original.method == Method::Ack => {}
                None => {
                    let status = match tx.original.method {
                        Method::Bye
                        | Method::Info
                        | Method::Refer
                        | Method::Notify
                        | Method::Update
                        | Method::Invite => StatusCode::CallTransactionDoesNotExist,
                        _ => StatusCode::MethodNotAllowed,
                    };
                    tokio::spawn(async move {
                        let _ = tx.reply(status).await;
                    });
                }
            }
            continue;
        }
        match tx.original.method {
            Method::Options => {
                tokio::spawn(async move {
                    let _ = tx.reply(StatusCode::OK).await;
                });
            }
            _ => {
                let inner = inner.clone();
                tokio::spawn(async move { inbound::inbound_invite(inner, tx).await });
            }
        }
    }
}

fn body_is_truncated(request: &rsipstack::sip::Request) -> bool {
    request
        .header_value("Content-Length")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .is_some_and(|declared| declared > request.body().len())
}
