//! `Login` and `Logout`.
//!
//! `Login` checks the API user's credentials by the rules every door shares
//! ([`Service::authenticate`]: one indistinguishable refusal, throttling
//! per name and per address) and starts a session.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::json;
use touchtone_core::secret::SecretString;
use touchtone_core::session_token::SessionToken;
use touchtone_store::sessions;

use crate::session_gate::{append_audit, commit};
use crate::{Caller, Service, ServiceError};

/// The API-user name of the built-in IVR's sessions. Names starting with
/// `@` are reserved: `add_api_user` refuses them.
pub const BUILTIN_IVR: &str = "@ivr";

impl Service {
    pub async fn login(
        &self,
        caller: &Caller,
        user: &str,
        password: SecretString,
    ) -> Result<SessionToken, ServiceError> {
        let api_user = self.authenticate(caller, user, password, "Login").await?;
        self.start_session(caller, &api_user.name, None, json!({}))
            .await
    }

    /// Starts a session for the server's own IVR, which runs in this
    /// process and has no password to present. The session belongs to the
    /// reserved API-user name [`BUILTIN_IVR`] (no API user can take it, so
    /// the session is never privileged) and is bound to the SIP peer's
    /// address like any session to its client's. Everything after this is
    /// the same gate as the HTTPS door: one-time IDs, verification before
    /// reset, the intruder lockout. `calling_number` (the caller ID as the
    /// trunk gave it) goes into the person's activity with what the call
    /// does to them.
    pub async fn open_ivr_session(
        &self,
        caller: &Caller,
        call_id: &str,
        calling_number: Option<&str>,
    ) -> Result<SessionToken, ServiceError> {
        // The call ID and number are the peer's strings: keep them short.
        let short = |text: &str, max: usize| -> String {
            text.chars().filter(|c| !c.is_control()).take(max).collect()
        };
        let call = short(call_id, 128);
        let number = calling_number
            .map(|n| short(n, 32))
            .filter(|n| !n.is_empty());
        let detail = json!({"door": caller.door.as_str(), "call": call});
        self.start_session(caller, BUILTIN_IVR, number.as_deref(), detail)
            .await
    }

    /// Ends the session. The presented ID is spent like any other.
    pub async fn logout(&self, caller: &Caller, token: &str) -> Result<(), ServiceError> {
        let mut call = self.open_call(caller, token, "Logout").await?;
        let session_id = call.session.id.clone();
        let now = call.now;
        sessions::end(call.conn(), &session_id, "logout", now).await?;
        let api_user = call.session.api_user.clone();
        append_audit(
            call.conn(),
            &api_user,
            "Logout",
            "",
            "ok",
            json!({"session": session_id, "ip": caller.ip.to_string()}),
            now,
        )
        .await?;
        commit(call.tx).await?;
        Ok(())
    }
}

/// Whether `ip` is inside one of the CIDR networks. Unparseable entries
/// (refused when the API user is added) match nothing.
pub fn address_allowed(networks: &[String], ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    networks
        .iter()
        .filter_map(|n| n.parse::<IpNet>().ok())
        .any(|net| net.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_match_by_cidr_including_mapped_ipv4() {
        let nets = vec!["127.0.0.1/32".to_owned(), "10.20.0.0/16".to_owned()];
        assert!(address_allowed(&nets, "127.0.0.1".parse().unwrap()));
        assert!(address_allowed(&nets, "10.20.3.4".parse().unwrap()));
        assert!(address_allowed(&nets, "::ffff:127.0.0.1".parse().unwrap()));
        assert!(!address_allowed(&nets, "127.0.0.2".parse().unwrap()));
        assert!(!address_allowed(&nets, "::1".parse().unwrap()));
        assert!(!address_allowed(
            &["garbage".to_owned()],
            "127.0.0.1".parse().unwrap()
        ));
    }
}
