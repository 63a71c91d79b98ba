//! Wiring: from a [`Config`] to a running server. Builds the store, the
//! targets, the hasher, the event actions and the service, then serves
//! the HTTPS API and runs the event delivery worker until cancelled.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use touchtone_core::secret::SecretString;
use touchtone_service::delivery::{
    CallbackSink, CommandSink, DeliveryOptions, FileSink, Sink, WebhookSink,
};
use touchtone_service::directory_sync::DirectorySource;
use touchtone_service::{Clock, EventRouter, Hasher, Service, SystemClock};
use touchtone_store::{Store, StoreOptions};
use touchtone_targets::Targets;
use touchtone_targets::command::CommandTarget;
use touchtone_targets::ldap::LdapTarget;
use touchtone_targets::local::LocalTarget;

use crate::config::{Config, EventActionConfig, TargetConfig};

/// Connects the store and builds the service (no listener, no worker):
/// what the CLI's admin commands need.
pub async fn build_service(
    config: &Config,
    clock: Arc<dyn Clock>,
    create_pepper: bool,
) -> anyhow::Result<Service> {
    let store = Store::connect(
        &config.database.url,
        &StoreOptions {
            max_connections: config.database.max_connections,
            acquire_timeout: Duration::from_secs(config.database.acquire_timeout_secs),
            statement_timeout: Duration::from_secs(config.database.statement_timeout_secs),
        },
    )
    .await
    .with_context(|| format!("opening the database {}", redact_url(&config.database.url)))?;

    let mut targets = Targets::new();
    let mut directories: HashMap<String, Arc<LdapTarget>> = HashMap::new();
    for target in &config.targets {
        match target {
            TargetConfig::Local { name, policy } => {
                targets.insert(Arc::new(
                    LocalTarget::new(name.clone(), policy.clone(), store.clone())
                        .with_params(argon2_params(config)?),
                ));
            }
            TargetConfig::Command {
                name,
                program,
                args,
                timeout_secs,
                policy,
            } => {
                targets.insert(Arc::new(CommandTarget::new(
                    name.clone(),
                    policy.clone(),
                    program.clone(),
                    args.clone(),
                    Duration::from_secs(*timeout_secs),
                )));
            }
            TargetConfig::Ldap(c) | TargetConfig::ActiveDirectory(c) => {
                let active_directory = matches!(target, TargetConfig::ActiveDirectory(_));
                let ldap = Arc::new(c.build(active_directory)?);
                targets.insert(ldap.clone());
                directories.insert(c.name.clone(), ldap);
            }
        }
    }
    let mut sources = Vec::new();
    for import in &config.directory_imports {
        let directory = directories.get(&import.target).ok_or_else(|| {
            anyhow::anyhow!(
                "directory_imports.{}: no directory target {}",
                import.name,
                import.target
            )
        })?;
        let active_directory = matches!(
            config.targets.iter().find(|t| t.name() == import.target),
            Some(TargetConfig::ActiveDirectory(_))
        );
        sources.push(DirectorySource {
            name: import.name.clone(),
            target: import.target.clone(),
            spec: import.spec(active_directory)?,
            max_disable_percent: import.max_disable_percent,
            directory: directory.clone(),
        });
    }

    let pepper =
        crate::secret_files::load_or_create_pepper(&config.security.pepper_file, create_pepper)?;
    let params = argon2_params(config)?;
    let hasher = Hasher::new(pepper, params, config.security.max_parallel_hashes);

    let mut routes = Vec::new();
    for action in &config.event_actions {
        routes.push((action.name().to_owned(), config.event_filter(action)?));
    }
    Ok(Service::new(
        store,
        targets,
        config.settings(),
        hasher,
        EventRouter::new(routes),
        clock,
    )
    .with_directory_sources(sources))
}

/// The configured argon2id cost.
fn argon2_params(config: &Config) -> anyhow::Result<argon2::Params> {
    let security = &config.security;
    argon2::Params::new(
        security.argon2_memory_kib,
        security.argon2_iterations,
        security.argon2_parallelism,
        None,
    )
    .map_err(|e| anyhow::anyhow!("security: argon2 parameters: {e}"))
}

/// The event actions' sinks, by action name (`service` places the
/// notification calls).
pub fn build_sinks(
    config: &Config,
    service: &Service,
) -> anyhow::Result<HashMap<String, Arc<dyn Sink>>> {
    let mut sinks: HashMap<String, Arc<dyn Sink>> = HashMap::new();
    for action in &config.event_actions {
        let sink: Arc<dyn Sink> = match action {
            EventActionConfig::Webhook {
                url,
                secret_file,
                secret,
                timeout_secs,
                ..
            } => {
                let key = match (secret_file, secret) {
                    (Some(file), _) => std::fs::read_to_string(file)
                        .with_context(|| format!("reading the webhook secret {}", file.display()))?
                        .trim()
                        .to_owned(),
                    (None, Some(secret)) => secret.clone(),
                    (None, None) => anyhow::bail!("event_actions.{}: no secret", action.name()),
                };
                Arc::new(
                    WebhookSink::new(
                        url.clone(),
                        SecretString::from(key),
                        Duration::from_secs(*timeout_secs),
                    )
                    .map_err(|e| anyhow::anyhow!(e))?,
                )
            }
            EventActionConfig::Command {
                program,
                args,
                timeout_secs,
                ..
            } => Arc::new(CommandSink::new(
                program.clone(),
                args.clone(),
                Duration::from_secs(*timeout_secs),
            )),
            EventActionConfig::File { path, .. } => Arc::new(FileSink::new(path.clone())),
        };
        sinks.insert(action.name().to_owned(), sink);
    }
    if let Some(secret) = config.otp.callback_secret()? {
        let timeout = Duration::from_secs(config.otp.callback_timeout_secs.max(1));
        sinks.insert(
            touchtone_service::otp::CALLBACK_ACTION.to_owned(),
            Arc::new(
                CallbackSink::new(secret, timeout, config.otp.callback_allow_private_addresses)
                    .map_err(|e| anyhow::anyhow!(e))?,
            ),
        );
    }
    if !config.notices.call.is_empty() {
        sinks.insert(
            touchtone_service::notices::NOTICE_CALL_ACTION.to_owned(),
            Arc::new(crate::notice_calls::NoticeCaller::new(
                service.clone(),
                &config.notices.time_zone,
            )?),
        );
    }
    if let Some(smtp) = &config.smtp {
        // Without web.public_url (checked when reminders are on) the link
        // points at the HTTPS listener.
        let portal = config
            .web
            .public_url
            .clone()
            .unwrap_or_else(|| format!("https://{}/", config.http.listen));
        let mailer =
            touchtone_web::mail::Mailer::new(&smtp.mail_settings(&portal, &config.notices)?)
                .map_err(|e| anyhow::anyhow!(e))?;
        let mailer = Arc::new(mailer);
        sinks.insert(
            touchtone_service::enrolment::reminders::REMINDER_ACTION.to_owned(),
            Arc::new(touchtone_web::mail::ReminderMailer::new(mailer.clone())),
        );
        sinks.insert(
            touchtone_service::notices::NOTICE_ACTION.to_owned(),
            Arc::new(touchtone_web::mail::NoticeMailer::new(mailer)),
        );
    }
    Ok(sinks)
}

/// A running server: its address and the handles to stop it.
pub struct Running {
    pub addr: SocketAddr,
    /// The portal's own listener, when `[web] listen` is set.
    pub web_addr: Option<SocketAddr>,
    web_server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub service: Service,
    pub cancel: CancellationToken,
    pub server: tokio::task::JoinHandle<anyhow::Result<()>>,
    pub worker: tokio::task::JoinHandle<()>,
    /// The SIP engine answering the reset call, when `[sip]` is set.
    pub sip: Option<touchtone_sip::Engine>,
    /// The worker placing voice-OTP calls, with the engine.
    pub otp_worker: Option<tokio::task::JoinHandle<()>>,
    /// What `/readyz` reports.
    pub readiness: Arc<crate::http::health::Readiness>,
}

impl Running {
    /// Stops the listener and the worker and waits for both.
    pub async fn stop(self) -> anyhow::Result<()> {
        // Load balancers stop sending work first.
        self.readiness.set_stopping();
        self.cancel.cancel();
        if let Some(otp) = self.otp_worker {
            otp.await.context("the OTP worker panicked")?;
        }
        if let Some(engine) = &self.sip {
            engine.shutdown();
        }
        self.worker.await.context("the delivery worker panicked")?;
        if let Some(web) = self.web_server {
            web.await.context("the portal's server task panicked")??;
        }
        self.server.await.context("the server task panicked")?
    }
}

/// Starts everything described by `config`.
pub async fn start(
    config: &Config,
    clock: Arc<dyn Clock>,
    create_pepper: bool,
) -> anyhow::Result<Running> {
    // HTTPS clients (webhooks, callbacks) need the process's TLS provider.
    crate::tls::install_crypto_provider();
    let service = build_service(config, clock.clone(), create_pepper).await?;
    service
        .recover_interrupted()
        .await
        .context("recovering interrupted operations")?;

    let delivery = &config.delivery;
    let options = DeliveryOptions {
        max_attempts: delivery.max_attempts,
        first_backoff: Duration::from_secs(delivery.first_backoff_secs),
        max_backoff: Duration::from_secs(delivery.max_backoff_secs),
        ..DeliveryOptions::default()
    };
    let deliverer = service.deliverer(build_sinks(config, &service)?, options);
    let cancel = CancellationToken::new();
    let worker = tokio::spawn(deliverer.run(cancel.child_token()));
    // Their tasks end when `cancel` fires.
    drop(crate::scheduler::spawn_directory_syncs(
        config, &service, &cancel,
    ));
    drop(crate::scheduler::spawn_reminders(config, &service, &cancel));

    let tls_files = match (
        &config.http.tls_cert,
        &config.http.tls_key,
        &config.http.self_signed_dir,
    ) {
        (Some(cert), Some(key), _) => crate::tls::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        },
        (_, _, Some(dir)) => crate::tls::ensure_self_signed(dir)?,
        _ => anyhow::bail!("http: no TLS certificate configured"),
    };
    let tls = crate::tls::server_config(&tls_files).await?;
    let web = config
        .web
        .enabled
        .then(|| touchtone_web::router(service.clone()));
    let (pages_here, web_server) = match (web, config.web.listen) {
        (Some(pages), Some(listen)) => {
            let (web_addr, task) = serve_https(listen, tls.clone(), pages, &cancel)?;
            tracing::info!(addr = %web_addr, "self-service portal listening");
            (None, Some((web_addr, task)))
        }
        (pages, _) => (pages, None),
    };
    let readiness = crate::http::health::Readiness::new(config.sip.is_some());
    let router = crate::http::router(service.clone(), &config.http, readiness.clone(), pages_here);
    let (addr, server) = serve_https(config.http.listen, tls, router, &cancel)?;
    tracing::info!(%addr, "HTTPS API listening");
    let sip = match &config.sip {
        Some(sip) => Some(start_ivr(config, sip, &service).await?),
        None => None,
    };
    if let Some(engine) = &sip {
        readiness.set_sip(engine.clone());
    }
    let otp_worker = match &sip {
        Some(engine) => Some(start_otp_worker(config, engine, &service, &cancel)?),
        None => {
            tracing::warn!(
                "no [sip]: this node accepts voice-OTP requests but places no calls (another node sharing the database must)"
            );
            None
        }
    };
    Ok(Running {
        addr,
        web_addr: web_server.as_ref().map(|(a, _)| *a),
        web_server: web_server.map(|(_, task)| task),
        service,
        cancel,
        server,
        worker,
        sip,
        otp_worker,
        readiness,
    })
}

/// Serves `router` over HTTPS on `listen` until `cancel` fires (then
/// gracefully, up to 10 s). Returns the bound address and the task.
fn serve_https(
    listen: SocketAddr,
    tls: axum_server::tls_rustls::RustlsConfig,
    router: axum::Router,
    cancel: &CancellationToken,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<anyhow::Result<()>>)> {
    let listener =
        std::net::TcpListener::bind(listen).with_context(|| format!("listening on {listen}"))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    let shutdown = handle.clone();
    let stop = cancel.child_token();
    tokio::spawn(async move {
        stop.cancelled().await;
        shutdown.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let server =
        axum_server::from_tcp_rustls(listener, tls).context("starting the HTTPS listener")?;
    let task = tokio::spawn(async move {
        server
            .handle(handle)
            .serve(router.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .context("the HTTPS server stopped")
    });
    Ok((addr, task))
}

/// The worker that places voice-OTP calls through the engine's trunk, with
/// a voice for every prompt language.
fn start_otp_worker(
    config: &Config,
    engine: &touchtone_sip::Engine,
    service: &Service,
    cancel: &CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut voices = Vec::new();
    for language in config.prompt_languages() {
        voices.push((language.clone(), Arc::new(config.ivr.voice_for(&language)?)));
    }
    let mut settings = config.otp.worker_settings();
    // A notification call's "not me" goes to the reset call's helpdesk.
    settings.helpdesk_uri = config.ivr.helpdesk_uri.clone();
    let worker =
        touchtone_ivr::otp::OtpWorker::new(service.clone(), engine.clone(), voices, settings);
    if config.sip.as_ref().is_some_and(|s| s.trunk.is_none()) {
        tracing::warn!("[sip] has no trunk: voice-OTP calls will fail until sip.trunk is set");
    }
    Ok(tokio::spawn(worker.run(cancel.child_token())))
}

/// The SIP engine with the reset call on every accepted inbound call.
async fn start_ivr(
    config: &Config,
    sip: &touchtone_sip::SipConfig,
    service: &Service,
) -> anyhow::Result<touchtone_sip::Engine> {
    let ivr = &config.ivr;
    let voice = Arc::new(ivr.voice()?);
    let flow = touchtone_ivr::ResetFlow::new(ivr.backend(service)?, ivr.flow_settings());
    let handler = touchtone_ivr::IvrHandler::new(flow, voice).with_numbers(ivr.numbers.clone());
    let engine = touchtone_sip::Engine::start(sip.clone(), Arc::new(handler))
        .await
        .context("starting the SIP engine")?;
    tracing::info!(sip = %engine.sip_addr(), "reset call answering on SIP");
    Ok(engine)
}

/// The system clock, shared.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..scheme_end + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
