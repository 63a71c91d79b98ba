//! Voice-OTP status callbacks: each outbox item carries its own URL (the
//! one the request gave) and body; the body is signed like a webhook's
//! (`X-Touchtone-Signature`, HMAC-SHA256 of `"{timestamp}.{body}"`) with the
//! callback secret, and retried durably like every event action.
//!
//! The URL comes from an API user, so unless the operator allows private
//! addresses the server never POSTs to loopback, private, link-local
//! (cloud metadata) or other non-public addresses: IP literals are refused
//! when the call is accepted and again before delivery, and host names are
//! resolved by a resolver that drops non-public addresses, so a name that
//! resolves (or is later re-pointed) to one cannot be reached either.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use touchtone_core::secret::SecretString;

use super::Sink;
use super::webhook::{http_client_builder, post_signed};

pub struct CallbackSink {
    secret: SecretString,
    client: reqwest::Client,
    allow_private: bool,
}

impl CallbackSink {
    /// `allow_private`: callbacks may go to non-public addresses (a
    /// receiver on the same host or LAN).
    pub fn new(
        secret: SecretString,
        timeout: Duration,
        allow_private: bool,
    ) -> Result<Self, String> {
        let mut builder = http_client_builder(timeout);
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        let client = builder
            .build()
            .map_err(|e| format!("callback client: {e}"))?;
        Ok(Self {
            secret,
            client,
            allow_private,
        })
    }
}

/// Whether `ip` is a public unicast address. Written here because std's
/// `is_global` is unstable; the ranges are IANA's special-purpose
/// registries (RFC 6890 and successors) minus the globally reachable ones.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
                || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
                || (a == 198 && (b == 18 || b == 19))) // benchmarking
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || first == 0x2001 && v6.segments()[1] == 0x0db8 // documentation
                || first == 0x0064 && v6.segments()[1] == 0xff9b // NAT64: the v4 inside may be private
                || first == 0) // the rest of ::/16 (IPv4-compatible, reserved)
        }
    }
}

/// `url`'s host, when it is an IP literal or `localhost`, is not public.
pub(crate) fn names_a_private_host(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return true;
    };
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return !is_public(ip);
    }
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// The system resolver with every non-public address dropped.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "{host} has no public address (otp.callback_allow_private_addresses)"
                )
                .into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

#[async_trait]
impl Sink for CallbackSink {
    async fn deliver(
        &self,
        event_id: &str,
        _event_type: &str,
        payload: &str,
    ) -> Result<(), String> {
        let item: serde_json::Value =
            serde_json::from_str(payload).map_err(|e| format!("callback item: {e}"))?;
        let url = item
            .get("url")
            .and_then(|u| u.as_str())
            .ok_or("callback item without a URL")?;
        if !self.allow_private
            && reqwest::Url::parse(url).map_or(true, |u| names_a_private_host(&u))
        {
            return Err("the callback URL names a non-public address".into());
        }
        let body = item
            .get("body")
            .ok_or("callback item without a body")?
            .to_string();
        post_signed(
            &self.client,
            url,
            &self.secret,
            event_id,
            "otp.call.status",
            body,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls_naming_private_hosts_are_recognised() {
        for url in [
            "https://127.0.0.1/cb",
            "https://[::1]:8443/cb",
            "http://169.254.169.254/latest/meta-data",
            "https://localhost/cb",
            "https://LOCALHOST./cb",
            "https://api.localhost/cb",
            "https://10.0.0.7:9000/",
        ] {
            let parsed = reqwest::Url::parse(url).unwrap();
            assert!(names_a_private_host(&parsed), "{url}");
        }
        for url in ["https://example.com/cb", "https://93.184.216.34/cb"] {
            let parsed = reqwest::Url::parse(url).unwrap();
            assert!(!names_a_private_host(&parsed), "{url}");
        }
    }

    /// A receiver on loopback that answers 204 to each request and counts them.
    async fn receiver() -> (u16, tokio::sync::mpsc::Receiver<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = vec![0u8; 8192];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                let _ = tx.send(()).await;
            }
        });
        (port, rx)
    }

    fn item(url: &str) -> String {
        serde_json::json!({"url": url, "body": {"status": "ringing"}}).to_string()
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_not_called_unless_allowed() {
        // The binary installs ring as the TLS provider at start; so does this test.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (port, mut hits) = receiver().await;
        let secret = SecretString::from("k".repeat(32));
        let guarded = CallbackSink::new(secret.clone(), Duration::from_secs(5), false).unwrap();
        // The URL check catches these names before any connection.
        let by_name = format!("http://localhost.:{port}/cb");
        let err = guarded
            .deliver("e1", "otp.call.status", &item(&by_name))
            .await
            .unwrap_err();
        assert!(err.contains("non-public"), "{err}");
        // Past that check (a name it does not know), the client's resolver
        // still drops loopback addresses: "localhost" sent straight through
        // the client stands for such a name.
        let err = guarded
            .client
            .post(format!("http://localhost:{port}/cb"))
            .send()
            .await
            .unwrap_err();
        assert!(format!("{err:?}").contains("no public address"), "{err:?}");
        let err = guarded
            .deliver(
                "e2",
                "otp.call.status",
                &item(&format!("http://127.0.0.1:{port}/cb")),
            )
            .await
            .unwrap_err();
        assert!(err.contains("non-public"), "{err}");
        assert!(hits.try_recv().is_err(), "the receiver was called");

        let open = CallbackSink::new(secret, Duration::from_secs(5), true).unwrap();
        open.deliver(
            "e3",
            "otp.call.status",
            &item(&format!("http://127.0.0.1:{port}/cb")),
        )
        .await
        .unwrap();
        assert!(hits.recv().await.is_some());
    }

    #[tokio::test]
    async fn the_resolver_alone_refuses_names_with_only_private_addresses() {
        // Bypasses the URL check: "localhost" through PublicOnly directly.
        let name: Name = "localhost".parse().unwrap();
        let err = match PublicOnly.resolve(name).await {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("no public address"), "{err}");
    }
}
