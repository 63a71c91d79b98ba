//! The configuration file: one TOML document deserialised into typed
//! structs with defaults, every section `deny_unknown_fields`, overridable
//! by environment variables `TOUCHTONE_SECTION__KEY` (for example
//! `TOUCHTONE_DATABASE__URL=postgres://…`). A bad file fails at start with
//! the key and the reason.
//!
//! `touchtone init` writes [`EXAMPLE`], which a test loads.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;
use touchtone_core::event::EventType;
use touchtone_core::lockout::LockoutPolicy;
use touchtone_core::password::PasswordPolicy;
use touchtone_core::phone::Region;
use touchtone_service::factors::VerificationSettings;
use touchtone_service::settings::{CallerIdCheck, KeypadAttribute, Settings};

mod directory;
mod ivr;
mod mail;
mod otp;
pub mod policy;
mod web;
pub use directory::{DirectoryImportConfig, DirectoryTargetConfig};
pub use ivr::{IvrBackendKind, IvrConfig, RemoteBackendConfig};
pub use mail::{NoticesConfig, SmtpConfig, SmtpTls};
pub use otp::{DialRule, OtpConfig};
pub use web::{EnrolmentConfig, WebConfig};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub security: SecurityConfig,
    #[serde(default)]
    pub sessions: SessionConfig,
    #[serde(default)]
    pub verification: VerificationConfig,
    #[serde(default)]
    pub login: LoginConfig,
    #[serde(default)]
    pub passwords: PasswordConfig,
    #[serde(default)]
    pub keypad: KeypadConfig,
    #[serde(default = "default_targets")]
    pub targets: Vec<TargetConfig>,
    #[serde(default)]
    pub directory_imports: Vec<DirectoryImportConfig>,
    #[serde(default)]
    pub event_actions: Vec<EventActionConfig>,
    #[serde(default)]
    pub delivery: DeliveryConfig,
    /// The SIP/RTP listener; absent: no telephony.
    #[serde(default)]
    pub sip: Option<touchtone_sip::SipConfig>,
    /// The reset call answered on `[sip]`.
    #[serde(default)]
    pub ivr: IvrConfig,
    /// Voice-OTP calls, placed through `[sip]`'s trunk.
    #[serde(default)]
    pub otp: OtpConfig,
    /// The self-service portal's pages.
    #[serde(default)]
    pub web: WebConfig,
    /// What people must enrol.
    #[serde(default)]
    pub enrolment: EnrolmentConfig,
    /// The mail relay for reminders and notices; absent: no mail.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    /// Which notices people get by e-mail.
    #[serde(default)]
    pub notices: NoticesConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address of the HTTPS API.
    pub listen: SocketAddr,
    /// PEM certificate chain and private key.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Generate (once) a self-signed certificate in this directory instead;
    /// for trials only.
    pub self_signed_dir: Option<PathBuf>,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Longest a request may take (a reset on slow targets included).
    pub request_timeout_secs: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8443".parse().expect("a valid literal address"),
            tls_cert: None,
            tls_key: None,
            self_signed_dir: None,
            max_body_bytes: 16 * 1024,
            request_timeout_secs: 120,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite:///path/touchtone.db` (embedded, the default) or
    /// `postgres://user@host/db`.
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
    pub statement_timeout_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://touchtone.db".into(),
            max_connections: 8,
            acquire_timeout_secs: 5,
            statement_timeout_secs: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// File holding the hex pepper mixed into answer hashes (`touchtone
    /// init` creates it). Losing it makes every enrolled answer unusable.
    pub pepper_file: PathBuf,
    /// argon2id cost: memory in KiB, iterations, lanes.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Hashes computed at once (each takes `argon2_memory_kib`).
    pub max_parallel_hashes: usize,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            pepper_file: PathBuf::from("pepper.hex"),
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            max_parallel_hashes: 2,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    pub idle_timeout_secs: u64,
    pub max_lifetime_secs: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 300,
            max_lifetime_secs: 1800,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerificationConfig {
    pub questions_per_challenge: usize,
    pub challenge_ttl_secs: u64,
    /// Wrong answers one session (one call) may give for one person.
    pub attempts_per_session: u32,
    /// Wrong answers within `failure_window_secs`, through any door, that
    /// lock the person out.
    pub max_failures: u32,
    pub failure_window_secs: u64,
    /// How long the lockout lasts; 0 = until an operator clears it.
    pub lockout_secs: u64,
    /// Ask one more question when the calling number is not one of the
    /// person's registered numbers.
    pub caller_id_check: bool,
    /// ISO 3166 region for numbers written without a country code.
    pub caller_id_region: Option<String>,
    /// The issuer people's authenticator apps show beside the login.
    pub totp_issuer: String,
    /// `[[verification.policies]]`: factors per operation and person.
    pub policies: Vec<policy::PolicyConfig>,
}

impl Default for VerificationConfig {
    fn default() -> Self {
        let lockout = LockoutPolicy::default();
        Self {
            questions_per_challenge: 2,
            challenge_ttl_secs: 600,
            attempts_per_session: lockout.attempts_per_session,
            max_failures: lockout.max_failures,
            failure_window_secs: u64::try_from(lockout.window_ms / 1000).unwrap_or(86_400),
            lockout_secs: u64::try_from(lockout.lockout_ms / 1000).unwrap_or(1800),
            caller_id_check: false,
            caller_id_region: None,
            totp_issuer: "touchtone".into(),
            policies: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginConfig {
    /// Failed logins per API user name (counted only from addresses in its
    /// allow-list), and per client address, within the window, after which
    /// `Login` answers 429 until a back-off has passed since the latest
    /// failure: one second, doubling with each further failure, at most
    /// `backoff_max_secs`.
    pub max_failures: u32,
    pub window_secs: u64,
    pub backoff_max_secs: u64,
}

impl Default for LoginConfig {
    fn default() -> Self {
        Self {
            max_failures: 10,
            window_secs: 900,
            backoff_max_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordConfig {
    /// Length of generated passwords (fitted to the targets' policies).
    pub length: usize,
    /// Ask targets to force a change at next login after a reset.
    pub must_change: bool,
    /// A policy on top of every target's own.
    pub policy: PasswordPolicy,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        Self {
            length: 10,
            must_change: false,
            policy: PasswordPolicy::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeypadConfig {
    /// Attributes that become keypad IDs: `login`, `employee_number`.
    pub attributes: Vec<KeypadAttribute>,
}

impl Default for KeypadConfig {
    fn default() -> Self {
        Self {
            attributes: vec![KeypadAttribute::Login, KeypadAttribute::EmployeeNumber],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TargetConfig {
    /// Accounts in touchtone's own database.
    Local {
        name: String,
        #[serde(default)]
        policy: PasswordPolicy,
    },
    /// A program given JSON on stdin (see the targets crate).
    Command {
        name: String,
        program: PathBuf,
        #[serde(default)]
        args: Vec<String>,
        #[serde(default = "default_timeout_secs")]
        timeout_secs: u64,
        #[serde(default)]
        policy: PasswordPolicy,
    },
    /// OpenLDAP or another RFC-compliant server.
    Ldap(DirectoryTargetConfig),
    /// Active Directory (or Samba AD).
    ActiveDirectory(DirectoryTargetConfig),
}

impl TargetConfig {
    pub fn name(&self) -> &str {
        match self {
            TargetConfig::Local { name, .. } | TargetConfig::Command { name, .. } => name,
            TargetConfig::Ldap(c) | TargetConfig::ActiveDirectory(c) => &c.name,
        }
    }

    pub fn policy(&self) -> &PasswordPolicy {
        match self {
            TargetConfig::Local { policy, .. } | TargetConfig::Command { policy, .. } => policy,
            TargetConfig::Ldap(c) | TargetConfig::ActiveDirectory(c) => &c.policy,
        }
    }
}

fn default_targets() -> Vec<TargetConfig> {
    vec![TargetConfig::Local {
        name: "local".into(),
        policy: PasswordPolicy::default(),
    }]
}

fn default_timeout_secs() -> u64 {
    10
}

/// An event action. `events` lists event names (`ET_ADMIN_RESET_SUCCESS`,
/// …); all events when absent.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventActionConfig {
    /// POST signed JSON to a URL.
    Webhook {
        name: String,
        #[serde(default)]
        events: Option<Vec<String>>,
        url: String,
        /// File holding the HMAC key (preferred), or the key itself.
        #[serde(default)]
        secret_file: Option<PathBuf>,
        #[serde(default)]
        secret: Option<String>,
        #[serde(default = "default_timeout_secs")]
        timeout_secs: u64,
    },
    /// Run a program with the event on stdin.
    Command {
        name: String,
        #[serde(default)]
        events: Option<Vec<String>>,
        program: PathBuf,
        #[serde(default)]
        args: Vec<String>,
        #[serde(default = "default_timeout_secs")]
        timeout_secs: u64,
    },
    /// Append one JSON line per event to a file.
    File {
        name: String,
        #[serde(default)]
        events: Option<Vec<String>>,
        path: PathBuf,
    },
}

impl EventActionConfig {
    pub fn name(&self) -> &str {
        match self {
            EventActionConfig::Webhook { name, .. }
            | EventActionConfig::Command { name, .. }
            | EventActionConfig::File { name, .. } => name,
        }
    }

    pub fn events(&self) -> Option<&Vec<String>> {
        match self {
            EventActionConfig::Webhook { events, .. }
            | EventActionConfig::Command { events, .. }
            | EventActionConfig::File { events, .. } => events.as_ref(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    pub max_attempts: i64,
    pub first_backoff_secs: u64,
    pub max_backoff_secs: u64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 40,
            first_backoff_secs: 1,
            max_backoff_secs: 3600,
        }
    }
}

/// Environment variables that name the config file or the log level, not
/// config keys.
const NON_KEY_VARIABLES: [&str; 2] = ["CONFIG", "LOG"];

impl Config {
    /// Loads `path` (which must exist), applies `TOUCHTONE_*` overrides
    /// and validates.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        if !path.exists() {
            bail!(
                "config file {} does not exist; `touchtone init` writes one",
                path.display()
            );
        }
        Self::from_figment(Figment::from(Toml::file(path)))
            .with_context(|| format!("loading {}", path.display()))
    }

    /// Parses TOML text (with overrides) and validates.
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        Self::from_figment(Figment::from(Toml::string(text)))
    }

    fn from_figment(figment: Figment) -> anyhow::Result<Self> {
        let env = Env::prefixed("TOUCHTONE_")
            .split("__")
            .filter(|key| !NON_KEY_VARIABLES.contains(&key.as_str().to_uppercase().as_str()));
        let config: Config = figment
            .merge(env)
            .extract()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what types cannot: references between sections, ranges.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.lockout_policy()
            .validate()
            .map_err(|e| anyhow::anyhow!("verification: {e}"))?;
        self.ivr.validate()?;
        self.otp.validate()?;
        self.web.validate()?;
        self.enrolment.validate()?;
        if let Some(smtp) = &self.smtp {
            smtp.validate()?;
        }
        self.notices.validate()?;
        if self.enrolment.reminder_interval_days > 0 {
            if self.smtp.is_none() {
                bail!("enrolment.reminder_interval_days needs an [smtp] section to send through");
            }
            if self.web.public_url.is_none() {
                bail!(
                    "enrolment.reminder_interval_days needs web.public_url, the portal's address for the e-mails"
                );
            }
        }
        if let Some(region) = &self.verification.caller_id_region {
            region
                .parse::<Region>()
                .map_err(|e| anyhow::anyhow!("verification.caller_id_region: {e}"))?;
        }
        policy::validate(&self.verification.policies)?;
        if self.verification.totp_issuer.contains(':') {
            bail!("verification.totp_issuer must not contain ':'");
        }
        if self.verification.questions_per_challenge == 0 {
            bail!("verification.questions_per_challenge must be at least 1");
        }
        if self.sessions.idle_timeout_secs == 0 || self.sessions.max_lifetime_secs == 0 {
            bail!("sessions: timeouts must be longer than zero");
        }
        if self.login.max_failures == 0 {
            bail!("login.max_failures must be at least 1");
        }
        if self.login.backoff_max_secs == 0 || self.login.backoff_max_secs > self.login.window_secs
        {
            bail!("login.backoff_max_secs must be between 1 and login.window_secs");
        }
        self.passwords
            .policy
            .validate()
            .map_err(|e| anyhow::anyhow!("passwords.policy: {e}"))?;
        let mut names = HashSet::new();
        for target in &self.targets {
            if !names.insert(target.name()) {
                bail!("targets: the name {} is used twice", target.name());
            }
            target
                .policy()
                .validate()
                .map_err(|e| anyhow::anyhow!("targets.{}.policy: {e}", target.name()))?;
        }
        let mut imports = HashSet::new();
        for import in &self.directory_imports {
            if !imports.insert(import.name.as_str()) {
                bail!("directory_imports: the name {} is used twice", import.name);
            }
            let active_directory = match self.targets.iter().find(|t| t.name() == import.target) {
                Some(TargetConfig::Ldap(_)) => false,
                Some(TargetConfig::ActiveDirectory(_)) => true,
                Some(_) => bail!(
                    "directory_imports.{}: target {} is not an ldap or active_directory target",
                    import.name,
                    import.target
                ),
                None => bail!(
                    "directory_imports.{}: no target named {}",
                    import.name,
                    import.target
                ),
            };
            import.spec(active_directory)?;
        }
        let mut actions = HashSet::new();
        for action in &self.event_actions {
            let name = action.name();
            if !actions.insert(name) || name.contains('/') {
                bail!("event_actions: the name {name} is used twice or contains '/'");
            }
            self.event_filter(action)?;
            if let EventActionConfig::Webhook {
                secret,
                secret_file,
                url,
                ..
            } = action
            {
                if secret.is_none() == secret_file.is_none() {
                    bail!("event_actions.{name}: give exactly one of secret and secret_file");
                }
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    bail!("event_actions.{name}: url must be http:// or https://");
                }
            }
        }
        if self.http.self_signed_dir.is_none()
            && (self.http.tls_cert.is_none() || self.http.tls_key.is_none())
        {
            bail!(
                "http: give tls_cert and tls_key (PEM files), or self_signed_dir for a trial certificate"
            );
        }
        if self.http.max_body_bytes < 1024 {
            bail!("http.max_body_bytes must be at least 1024");
        }
        Ok(())
    }

    /// The event types an action subscribes to (`None`: all).
    pub fn event_filter(
        &self,
        action: &EventActionConfig,
    ) -> anyhow::Result<Option<HashSet<EventType>>> {
        action
            .events()
            .map(|names| {
                names
                    .iter()
                    .map(|n| {
                        EventType::from_name(n).ok_or_else(|| {
                            anyhow::anyhow!("event_actions.{}: unknown event {n}", action.name())
                        })
                    })
                    .collect()
            })
            .transpose()
    }

    pub fn lockout_policy(&self) -> LockoutPolicy {
        let v = &self.verification;
        LockoutPolicy {
            attempts_per_session: v.attempts_per_session,
            max_failures: v.max_failures,
            window_ms: secs_to_ms(v.failure_window_secs),
            lockout_ms: secs_to_ms(v.lockout_secs),
        }
    }

    /// The prompt languages calls can use, `ivr.language` first.
    pub fn prompt_languages(&self) -> Vec<String> {
        let mut languages = vec![self.ivr.language.clone()];
        for l in touchtone_ivr::PromptSet::embedded_languages() {
            if l != self.ivr.language {
                languages.push(l.to_owned());
            }
        }
        languages
    }

    /// The service's settings from this config.
    pub fn settings(&self) -> Settings {
        Settings {
            lockout: self.lockout_policy(),
            session_idle_ms: secs_to_ms(self.sessions.idle_timeout_secs),
            session_lifetime_ms: secs_to_ms(self.sessions.max_lifetime_secs),
            questions_per_challenge: self.verification.questions_per_challenge,
            challenge_ttl_ms: secs_to_ms(self.verification.challenge_ttl_secs),
            login_max_failures: self.login.max_failures,
            login_window_ms: secs_to_ms(self.login.window_secs),
            login_backoff_max_ms: secs_to_ms(self.login.backoff_max_secs),
            password_length: self.passwords.length,
            base_policy: self.passwords.policy.clone(),
            must_change_after_reset: self.passwords.must_change,
            keypad_attributes: self.keypad.attributes.clone(),
            local_targets: self
                .targets
                .iter()
                .filter(|t| matches!(t, TargetConfig::Local { .. }))
                .map(|t| t.name().to_owned())
                .collect(),
            target_call_timeout: Duration::from_secs(self.http.request_timeout_secs.max(1)),
            caller_id_check: self.verification.caller_id_check.then(|| CallerIdCheck {
                // Checked by `validate`.
                default_region: self
                    .verification
                    .caller_id_region
                    .as_deref()
                    .and_then(|r| r.parse().ok()),
            }),
            otp: {
                let mut otp = self.otp.settings(self.prompt_languages());
                otp.caller_id = otp.caller_id.or_else(|| {
                    self.sip
                        .as_ref()
                        .and_then(|s| s.trunk.as_ref())
                        .and_then(|t| t.caller_id.clone())
                });
                otp
            },
            portal: self.web.settings(),
            enrolment: self.enrolment.settings(),
            verification: VerificationSettings {
                policies: self
                    .verification
                    .policies
                    .iter()
                    .map(policy::PolicyConfig::policy)
                    .collect(),
                totp_issuer: self.verification.totp_issuer.clone(),
            },
            notices: self.notices.settings(self.smtp.is_some()),
        }
    }
}

fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// The commented example `touchtone init` writes. `{data_dir}` is filled in.
pub const EXAMPLE: &str = include_str!("example.toml");

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> String {
        EXAMPLE.replace("{data_dir}", "/var/lib/touchtone")
    }

    /// The commented policy example, uncommented, is valid and becomes
    /// the service's policy; a factor touchtone does not offer, or an empty
    /// requirement, is refused with the key.
    #[test]
    fn the_commented_policy_example_is_valid() {
        let text = example();
        let start = text.find("# [[verification.policies]]").unwrap();
        let end = start + text[start..].find("\n\n").unwrap();
        let block: String = text[start..end]
            .lines()
            .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l)))
            .collect();
        let text = format!("{}{block}{}", &text[..start], &text[end..]);
        let config = Config::from_toml(&text).unwrap();
        let policies = config.settings().verification.policies;
        assert_eq!(policies.len(), 2);
        assert_eq!(
            (policies[0].name.as_str(), policies[0].privileged),
            ("administrators", Some(true))
        );
        assert_eq!(policies[0].groups, ["Domain Admins"]);
        assert_eq!(policies[0].fallback, None);
        assert_eq!(policies[1].name, "it-staff");
        use touchtone_service::factors::Factor;
        assert_eq!(
            policies[1].require,
            vec![vec![Factor::Questions], vec![Factor::Totp]]
        );
        assert_eq!(policies[1].fallback, Some(vec![vec![Factor::Questions]]));

        let unknown = text.replace("[\"totp\"]]", "[\"radius\"]]");
        let err = format!("{:#}", Config::from_toml(&unknown).unwrap_err());
        assert!(err.contains("radius") && err.contains("totp"), "{err}");
        let empty = text.replace("require = [[\"questions\"], [\"totp\"]]", "require = [[]]");
        let err = format!("{:#}", Config::from_toml(&empty).unwrap_err());
        assert!(
            err.contains("administrators") && err.contains("require"),
            "{err}"
        );
    }

    /// The commented directory examples, uncommented, form a valid config;
    /// mistakes in them are refused with the key.
    #[test]
    fn the_commented_directory_example_is_valid() {
        let text = example();
        let start = text.find("# An LDAP directory").unwrap();
        let end = text.find("# Event actions").unwrap();
        let block: String = text[start..end]
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix("# ")?;
                (rest.starts_with('[')
                    || rest
                        .split_once(" = ")
                        .is_some_and(|(k, _)| !k.contains(' ')))
                .then(|| format!("{rest}\n"))
            })
            .collect();
        // The directory sections must come before [[event_actions]].
        let config_text = format!("{}{block}{}", &text[..start], &text[end..]);
        let config = Config::from_toml(&config_text).unwrap();
        assert_eq!(config.directory_imports.len(), 1);
        assert!(matches!(config.targets.last(), Some(TargetConfig::Ldap(_))));

        let wrong_target = config_text.replace("target = \"corp-ldap\"", "target = \"local\"");
        let err = Config::from_toml(&wrong_target).unwrap_err().to_string();
        assert!(err.contains("not an ldap"), "{err}");
        let bad_filter = config_text.replace(
            "filter = \"(objectClass=inetOrgPerson)\"",
            "filter = \"(objectClass=\"",
        );
        let err = format!("{:#}", Config::from_toml(&bad_filter).unwrap_err());
        assert!(err.contains("filter"), "{err}");
        let typo = config_text.replace("pool_size = 4", "pool_sise = 4");
        assert!(Config::from_toml(&typo).is_err());
    }

    /// The commented telephony example, uncommented, is a valid config
    /// with SIP and the reset call; mistakes in `[ivr]` are refused.
    #[test]
    fn the_commented_telephony_example_is_valid_and_ivr_mistakes_are_refused() {
        let text = example();
        let start = text.find("# [sip]").unwrap();
        let block: String = text[start..]
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix("# ")?;
                (rest.starts_with('[') || rest.split_once(" = ").is_some())
                    .then(|| format!("{}\n", rest.split(" #").next().unwrap_or(rest)))
            })
            .collect();
        let config_text = format!("{}{block}", &text[..start]);
        let local = Config::from_toml(&config_text).unwrap();
        assert_eq!(local.ivr.backend, IvrBackendKind::InProcess);
        let config_text = config_text.replace("backend = \"in_process\"", "backend = \"remote\"");
        let config = Config::from_toml(&config_text).unwrap();
        let sip = config.sip.as_ref().unwrap();
        assert_eq!(sip.udp, Some("0.0.0.0:5060".parse().unwrap()));
        assert_eq!(config.ivr.backend, IvrBackendKind::Remote);
        assert_eq!(
            config.ivr.helpdesk_uri.as_deref(),
            Some("sip:helpdesk@pbx.example.com")
        );
        assert!(sip.trunk.is_some());
        assert_eq!(config.otp.allowed_prefixes, ["+92"]);
        assert_eq!(config.otp.dial_plan.len(), 1);
        assert_eq!(
            config.settings().otp.caller_id.as_deref(),
            Some("+15550100")
        );
        // Without [sip] there is no telephony at all.
        assert!(Config::from_toml(&example()).unwrap().sip.is_none());

        for (change, expected) in [
            (("language = \"en\"", "language = \"xx\""), "ivr.language"),
            (
                ("helpdesk_uri = \"sip:", "helpdesk_uri = \"tel:"),
                "ivr.helpdesk_uri",
            ),
            (("id_attempts = 3", "id_attempts = 0"), "at least 1"),
            (
                ("url = \"https://touchtone", "url = \"http://touchtone"),
                "https",
            ),
            (("max_call_secs = 900", "max_call_secs = 0"), "timeouts"),
            (
                (
                    "allowed_prefixes = [\"+92\"]",
                    "allowed_prefixes = [\"92\"]",
                ),
                "otp.allowed_prefixes",
            ),
            (
                ("default_region = \"PK\"", "default_region = \"Narnia\""),
                "otp.default_region",
            ),
            (("from = \"+92\"", "from = \"92\""), "otp.dial_plan"),
            (("lease_secs = 30", "lease_secs = 1"), "lease_secs"),
        ] {
            let bad = config_text.replace(change.0, change.1);
            assert_ne!(bad, config_text, "{change:?} changed nothing");
            let err = format!("{:#}", Config::from_toml(&bad).unwrap_err());
            assert!(err.contains(expected), "{change:?}: {err}");
        }
        let no_remote = &config_text[..config_text.find("[ivr.remote]").unwrap()];
        let err = format!("{:#}", Config::from_toml(no_remote).unwrap_err());
        assert!(err.contains("needs [ivr.remote]"), "{err}");
        let err = format!(
            "{:#}",
            Config::from_toml(&format!(
                "{}\n[verification]\ncaller_id_region = \"Narnia\"",
                "[http]\nself_signed_dir = \"/x\""
            ))
            .unwrap_err()
        );
        assert!(err.contains("caller_id_region"), "{err}");
    }

    #[test]
    fn the_example_config_loads_and_matches_the_defaults() {
        let config = Config::from_toml(&example()).unwrap();
        let defaults = Config::from_toml("[http]\nself_signed_dir = \"/x\"").unwrap();
        assert_eq!(
            config.verification.max_failures,
            defaults.verification.max_failures
        );
        assert_eq!(config.passwords.policy, defaults.passwords.policy);
        assert_eq!(
            config.sessions.idle_timeout_secs,
            defaults.sessions.idle_timeout_secs
        );
        assert_eq!(
            config.database.url,
            "sqlite:///var/lib/touchtone/touchtone.db"
        );
        assert_eq!(config.event_actions.len(), 1);
    }

    #[test]
    fn an_unknown_key_fails_with_its_name() {
        let err = Config::from_toml(&format!(
            "{}\n[sessions]\nidle_timeout = 3\n",
            "[http]\nself_signed_dir = \"/x\""
        ))
        .unwrap_err();
        assert!(err.to_string().contains("idle_timeout"), "{err}");
        let err = Config::from_toml(
            "[http]\nself_signed_dir = \"/x\"\n[[targets]]\nkind = \"nis\"\nname = \"x\"",
        )
        .unwrap_err();
        assert!(err.to_string().contains("nis"), "{err}");
        let err = Config::from_toml(
            "[http]\nself_signed_dir = \"/x\"\n[[targets]]\nkind = \"ldap\"\nname = \"x\"",
        )
        .unwrap_err();
        assert!(err.to_string().contains("url"), "{err}");
    }

    #[test]
    fn bad_values_fail_with_the_key_and_reason() {
        let base = "[http]\nself_signed_dir = \"/x\"\n";
        let err =
            Config::from_toml(&format!("{base}[verification]\nmax_failures = 0")).unwrap_err();
        assert!(err.to_string().contains("max_failures"), "{err}");
        let err = Config::from_toml(&format!("{base}[[event_actions]]\nname = \"a\"\nkind = \"file\"\npath = \"/x\"\nevents = [\"ET_NOPE\"]")).unwrap_err();
        assert!(err.to_string().contains("ET_NOPE"), "{err}");
        let err = Config::from_toml(&format!("{base}[sessions]\nidle_timeout_secs = \"soon\""))
            .unwrap_err();
        assert!(err.to_string().contains("idle_timeout_secs"), "{err}");
        let err = Config::from_toml("").unwrap_err();
        assert!(err.to_string().contains("tls_cert"), "{err}");
    }

    #[test]
    fn mail_settings_refuse_clear_text_and_reminders_without_a_relay() {
        let base = "[http]\nself_signed_dir = \"/x\"\n";
        let smtp = "[smtp]\nhost = \"smtp.example.com\"\nfrom = \"Reset <r@example.com>\"\n";
        let ok = Config::from_toml(&format!("{base}{smtp}")).unwrap();
        let relay = ok.smtp.as_ref().unwrap();
        assert_eq!((relay.port, relay.tls), (587, SmtpTls::Starttls));
        let clear = smtp.replace("[smtp]\n", "[smtp]\ntls = \"none\"\n");
        let err = Config::from_toml(&format!("{base}{clear}")).unwrap_err();
        assert!(err.to_string().contains("smtp.tls"), "{err}");
        let local = clear.replace("smtp.example.com", "127.0.0.1");
        assert!(Config::from_toml(&format!("{base}{local}")).is_ok());
        let remind = "[enrolment]\nreminder_interval_days = 7\n";
        let err = Config::from_toml(&format!("{base}{remind}")).unwrap_err();
        assert!(err.to_string().contains("[smtp]"), "{err}");
        let err = Config::from_toml(&format!("{base}{remind}{smtp}")).unwrap_err();
        assert!(err.to_string().contains("web.public_url"), "{err}");
        let web = "[web]\npublic_url = \"https://reset.example.com/\"\n";
        assert!(Config::from_toml(&format!("{base}{web}{remind}{smtp}")).is_ok());
        let err = Config::from_toml(&format!(
            "{base}{}{remind}{smtp}",
            web.replace("https", "http")
        ))
        .unwrap_err();
        assert!(err.to_string().contains("web.public_url"), "{err}");
    }

    #[test]
    fn notices_go_out_only_through_a_relay_and_bad_ones_are_refused() {
        use touchtone_service::notices::NoticeKind;
        let base = "[http]\nself_signed_dir = \"/x\"\n";
        let smtp = "[smtp]\nhost = \"smtp.example.com\"\nfrom = \"Reset <r@example.com>\"\n";
        let without = Config::from_toml(base).unwrap();
        assert!(
            without.settings().notices.email.is_empty(),
            "no relay, no notices"
        );
        let with = Config::from_toml(&format!("{base}{smtp}")).unwrap();
        let on = with.settings().notices.email;
        assert!(
            on.contains(&NoticeKind::PasswordReset)
                && !on.contains(&NoticeKind::VerificationFailed)
        );
        for (bad, says) in [
            ("email = [\"resets\"]", "notices.email"),
            ("language = \"fr\"", "notices.language"),
            ("time_zone = \"Mars/Olympus\"", "notices.time_zone"),
            ("admins = [\"security\"]", "notices.admins"),
        ] {
            let err = Config::from_toml(&format!("{base}{smtp}[notices]\n{bad}\n")).unwrap_err();
            assert!(err.to_string().contains(says), "{bad}: {err}");
        }
        let berlin = "[notices]\ntime_zone = \"Europe/Berlin\"\nemail = [\"verify_failure\"]\n";
        let ok = Config::from_toml(&format!("{base}{smtp}{berlin}")).unwrap();
        assert_eq!(ok.settings().notices.email.len(), 1);
    }
}
