//! Connections to a directory server: TLS set-up, the service-account
//! bind, time limits on every operation, and a bounded pool that drops a
//! connection as soon as it misbehaves, so a restarted server is simply
//! reconnected to on the next call.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, RecycleError, RecycleResult};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, LdapResult, StdStream};
use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use touchtone_core::secret::{ExposeSecret, SecretString};

use crate::TargetError;

/// How to reach and authenticate to a directory server.
#[derive(Clone)]
pub struct ConnectionSettings {
    /// `ldaps://host:636` or `ldap://host:389` (with `starttls`).
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS before binding.
    pub starttls: bool,
    /// PEM file of the CA certificates that may sign the server's
    /// certificate; the system's roots when absent.
    pub ca_file: Option<PathBuf>,
    /// The service account and its password.
    pub bind_dn: String,
    pub bind_password: SecretString,
    /// Limit on connecting (TCP, TLS and bind together).
    pub connect_timeout: Duration,
    /// Limit on each operation once connected.
    pub operation_timeout: Duration,
    /// Most connections open at once; callers beyond it wait, up to
    /// `connect_timeout`, for one to be free.
    pub pool_size: usize,
}

impl ConnectionSettings {
    /// Whether the connection is encrypted (LDAPS or StartTLS).
    pub fn is_encrypted(&self) -> bool {
        self.starttls || self.url.to_ascii_lowercase().starts_with("ldaps://")
    }

    fn check(&self) -> Result<(), String> {
        let lower = self.url.to_ascii_lowercase();
        if !(lower.starts_with("ldap://") || lower.starts_with("ldaps://")) {
            return Err("url must start with ldap:// or ldaps://".into());
        }
        if self.starttls && lower.starts_with("ldaps://") {
            return Err("starttls is for ldap:// URLs; ldaps:// is already encrypted".into());
        }
        if self.pool_size == 0 {
            return Err("pool_size must be at least 1".into());
        }
        if self.connect_timeout.is_zero() || self.operation_timeout.is_zero() {
            return Err("timeouts must be longer than zero".into());
        }
        Ok(())
    }
}

impl std::fmt::Debug for ConnectionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionSettings")
            .field("url", &self.url)
            .field("starttls", &self.starttls)
            .field("ca_file", &self.ca_file)
            .field("bind_dn", &self.bind_dn)
            .finish_non_exhaustive()
    }
}

/// One open, bound connection. The task driving it ends when the handle
/// is dropped.
pub(crate) struct Connection {
    ldap: Ldap,
    driver: tokio::task::JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

struct Manager {
    settings: ConnectionSettings,
    tls: Arc<ClientConfig>,
}

impl Manager {
    /// A new connection, not yet bound.
    async fn connect(&self) -> Result<Connection, TargetError> {
        let s = &self.settings;
        let conn_settings = LdapConnSettings::new()
            .set_conn_timeout(s.connect_timeout)
            .set_starttls(s.starttls)
            .set_config(self.tls.clone())
            .set_std_stream(StdStream::Tcp(self.tcp_stream().await?));
        let (conn, ldap) = LdapConnAsync::with_settings(conn_settings, &s.url)
            .await
            .map_err(connect_error)?;
        let driver = tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(error = %e, "directory connection ended");
            }
        });
        Ok(Connection { ldap, driver })
    }
}

impl Manager {
    /// The TCP connection to the server, opened here rather than by ldap3
    /// so that Nagle's algorithm is off: StartTLS, the TLS handshake and
    /// a bind are each a few small writes answered by the server, and with
    /// Nagle on, the second write waits for the server's delayed ACK (40
    /// ms on Linux), which made every bind as a person take 44 ms instead
    /// of 4.
    async fn tcp_stream(&self) -> Result<std::net::TcpStream, TargetError> {
        let address = host_port(&self.settings.url)?;
        let stream = tokio::time::timeout(
            self.settings.connect_timeout,
            tokio::net::TcpStream::connect(address.as_str()),
        )
        .await
        .map_err(|_| TargetError::Timeout)?
        .map_err(|e| TargetError::Unavailable(format!("connecting to {address}: {e}")))?;
        stream
            .set_nodelay(true)
            .and_then(|()| stream.into_std())
            .map_err(|e| TargetError::Unavailable(format!("connecting to {address}: {e}")))
    }
}

/// `host:port` of an `ldap://` or `ldaps://` URL (389 and 636 when the URL
/// names no port).
fn host_port(url: &str) -> Result<String, TargetError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| TargetError::Unavailable(format!("the directory URL {url:?}: {e}")))?;
    let host = parsed.host_str().ok_or_else(|| {
        TargetError::Unavailable(format!("the directory URL {url:?} has no host"))
    })?;
    let port = parsed
        .port()
        .unwrap_or(if parsed.scheme().eq_ignore_ascii_case("ldaps") {
            636
        } else {
            389
        });
    Ok(format!("{host}:{port}"))
}

impl managed::Manager for Manager {
    type Type = Connection;
    type Error = TargetError;

    async fn create(&self) -> Result<Connection, TargetError> {
        let s = &self.settings;
        let connection = self.connect().await?;
        let mut ldap = connection.ldap.clone();
        let bound = ldap
            .with_timeout(s.connect_timeout)
            .simple_bind(&s.bind_dn, s.bind_password.expose_secret())
            .await
            .map_err(connect_error)?;
        if bound.rc != 0 {
            return Err(TargetError::Unavailable(format!(
                "the service account cannot bind: {}",
                describe(&bound)
            )));
        }
        Ok(connection)
    }

    async fn recycle(&self, conn: &mut Connection, _: &Metrics) -> RecycleResult<TargetError> {
        if conn.ldap.is_closed() || conn.driver.is_finished() {
            return Err(RecycleError::Message("the connection was closed".into()));
        }
        Ok(())
    }
}

/// A bounded pool of bound connections to one server.
pub(crate) struct Pool {
    pool: managed::Pool<Manager>,
    operation_timeout: Duration,
}

impl Pool {
    pub(crate) fn new(settings: ConnectionSettings) -> Result<Self, String> {
        settings.check()?;
        let tls = Arc::new(tls_config(settings.ca_file.as_deref())?);
        let operation_timeout = settings.operation_timeout;
        let pool = managed::Pool::builder(Manager {
            tls,
            settings: settings.clone(),
        })
        .max_size(settings.pool_size)
        .wait_timeout(Some(settings.connect_timeout))
        .create_timeout(Some(settings.connect_timeout))
        .recycle_timeout(Some(settings.connect_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| e.to_string())?;
        Ok(Self {
            pool,
            operation_timeout,
        })
    }

    /// Whether `dn` binds with `password`, on a connection of its own (a
    /// pooled one stays bound as the service account). A refused bind
    /// (invalidCredentials, 49) is `Ok(false)`; so is an empty password,
    /// which servers would take as an anonymous bind (RFC 4513 §5.1.2).
    pub(crate) async fn bind_as(
        &self,
        dn: &str,
        password: &SecretString,
    ) -> Result<bool, TargetError> {
        if password.expose_secret().is_empty() {
            return Ok(false);
        }
        let manager = self.pool.manager();
        let connection = manager.connect().await?;
        let mut ldap = connection.ldap.clone();
        let result = ldap
            .with_timeout(self.operation_timeout)
            .simple_bind(dn, password.expose_secret())
            .await
            .map_err(transport_error)?;
        let _ = ldap.with_timeout(self.operation_timeout).unbind().await;
        match result.rc {
            0 => Ok(true),
            49 => Ok(false),
            _ => Err(TargetError::Failed(describe(&result))),
        }
    }

    /// A connection for one exchange of operations.
    pub(crate) async fn get(&self) -> Result<Session, TargetError> {
        let object = self.pool.get().await.map_err(|e| match e {
            managed::PoolError::Backend(e) => e,
            managed::PoolError::Timeout(_) => TargetError::Timeout,
            other => TargetError::Unavailable(other.to_string()),
        })?;
        Ok(Session {
            object: Some(object),
            timeout: self.operation_timeout,
        })
    }
}

/// A pooled connection in use. An operation that fails below the LDAP
/// level (I/O, timeout) discards the connection instead of returning it.
pub(crate) struct Session {
    object: Option<Object<Manager>>,
    timeout: Duration,
}

impl Session {
    /// The handle for the next operation, time-limited.
    pub(crate) fn ldap(&mut self) -> Result<&mut Ldap, TargetError> {
        let timeout = self.timeout;
        let object = self
            .object
            .as_mut()
            .ok_or_else(|| TargetError::Unavailable("the connection was lost".into()))?;
        Ok(object.ldap.with_timeout(timeout))
    }

    /// Passes a result through; on a transport failure the connection is
    /// dropped from the pool and the failure mapped.
    pub(crate) fn check<T>(&mut self, result: Result<T, LdapError>) -> Result<T, TargetError> {
        result.map_err(|e| {
            if let Some(object) = self.object.take() {
                drop(Object::take(object));
            }
            transport_error(e)
        })
    }
}

fn tls_config(ca_file: Option<&Path>) -> Result<ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("ca_file {}: {e}", path.display()))?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("ca_file {}: no certificate in it", path.display()));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

fn connect_error(e: LdapError) -> TargetError {
    match e {
        LdapError::Timeout { .. } => TargetError::Timeout,
        other => TargetError::Unavailable(other.to_string()),
    }
}

fn transport_error(e: LdapError) -> TargetError {
    match e {
        LdapError::Timeout { .. } => TargetError::Timeout,
        other => TargetError::Unavailable(format!("the connection failed: {other}")),
    }
}

/// A server result as text for an error: code, name and the server's own
/// diagnostic message.
pub(crate) fn describe(result: &LdapResult) -> String {
    let text = result.text.trim();
    if text.is_empty() {
        format!("LDAP result {} ({})", result.rc, result_name(result.rc))
    } else {
        format!(
            "LDAP result {} ({}): {text}",
            result.rc,
            result_name(result.rc)
        )
    }
}

/// RFC 4511 result names of the codes a target meets.
pub(crate) fn result_name(rc: u32) -> &'static str {
    match rc {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        8 => "strongerAuthRequired",
        12 => "unavailableCriticalExtension",
        16 => "noSuchAttribute",
        19 => "constraintViolation",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        65 => "objectClassViolation",
        80 => "other",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_of_a_directory_url() {
        let cases = [
            ("ldap://dc1.example.com", "dc1.example.com:389"),
            ("ldaps://dc1.example.com", "dc1.example.com:636"),
            ("LDAPS://127.0.0.5:1636/", "127.0.0.5:1636"),
            ("ldap://[::1]:3389", "[::1]:3389"),
        ];
        for (url, expected) in cases {
            assert_eq!(host_port(url).unwrap(), expected, "{url}");
        }
        assert!(host_port("ldap://").is_err());
        assert!(host_port("not a url").is_err());
    }
}
