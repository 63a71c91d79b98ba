//! The `[web]` section (the self-service portal's pages: where they are
//! served, their sessions and sign-in throttle) and the `[enrolment]`
//! section (what people must enrol, and how answers are judged).

use std::net::SocketAddr;

use anyhow::bail;
use serde::Deserialize;
use touchtone_service::settings::{EnrolmentSettings, PortalSettings, SecondFactor};

use super::secs_to_ms;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Serve the portal at all.
    pub enabled: bool,
    /// A listener of its own (HTTPS, same certificate); absent: the portal
    /// is served at `/` on `http.listen`, beside the API.
    pub listen: Option<SocketAddr>,
    pub session_idle_secs: u64,
    pub session_max_secs: u64,
    /// Changing answers or phones needs the password given this recently.
    pub reauth_secs: u64,
    /// Failed sign-ins per login and per address within the window after
    /// which sign-in waits.
    pub sign_in_max_failures: u32,
    pub sign_in_window_secs: u64,
    /// The portal's address as people reach it (`https://touchtone.example.com/`),
    /// for the links in e-mails.
    pub public_url: Option<String>,
    /// A second sign-in step, a call to the person's phone: `off`,
    /// `when_available` (people with a registered number) or `required`.
    pub sign_in_second_factor: SecondFactorConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorConfig {
    #[default]
    Off,
    WhenAvailable,
    Required,
}

impl Default for WebConfig {
    fn default() -> Self {
        let d = PortalSettings::default();
        WebConfig {
            enabled: true,
            listen: None,
            session_idle_secs: ms_to_secs(d.session_idle_ms),
            session_max_secs: ms_to_secs(d.session_lifetime_ms),
            reauth_secs: ms_to_secs(d.reauth_ms),
            sign_in_max_failures: d.max_failures,
            sign_in_window_secs: ms_to_secs(d.window_ms),
            public_url: None,
            sign_in_second_factor: SecondFactorConfig::Off,
        }
    }
}

impl WebConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.session_idle_secs == 0 || self.session_max_secs == 0 || self.reauth_secs == 0 {
            bail!(
                "web: session_idle_secs, session_max_secs and reauth_secs must be longer than zero"
            );
        }
        if self.sign_in_max_failures == 0 || self.sign_in_window_secs == 0 {
            bail!("web: sign_in_max_failures and sign_in_window_secs must be at least 1");
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("https://") && url.len() > "https://".len())
        {
            bail!("web.public_url must be the portal's https:// address, got {url:?}");
        }
        Ok(())
    }

    pub fn settings(&self) -> PortalSettings {
        PortalSettings {
            session_idle_ms: secs_to_ms(self.session_idle_secs),
            session_lifetime_ms: secs_to_ms(self.session_max_secs),
            reauth_ms: secs_to_ms(self.reauth_secs),
            max_failures: self.sign_in_max_failures,
            window_ms: secs_to_ms(self.sign_in_window_secs),
            second_factor: match self.sign_in_second_factor {
                SecondFactorConfig::Off => SecondFactor::Off,
                SecondFactorConfig::WhenAvailable => SecondFactor::WhenAvailable,
                SecondFactorConfig::Required => SecondFactor::Required,
            },
            ..PortalSettings::default()
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnrolmentConfig {
    /// Questions each person answers.
    pub questions_required: usize,
    /// Answers older than this many days must be confirmed again (0: never).
    pub reconfirm_days: u64,
    /// A caller who is not enrolled is told so and sent to the helpdesk.
    pub required: bool,
    /// The earliest year a year question accepts.
    pub earliest_year: u32,
    /// People may write a question of their own.
    pub allow_own_question: bool,
    /// How long an enrolment PIN (for enrolling by phone) can be used.
    pub pin_valid_hours: u64,
    /// E-mail people who are not enrolled (or due to reconfirm) at most
    /// this often; 0: never. Needs `[smtp]` and `web.public_url`.
    pub reminder_interval_days: u64,
    /// The language of the reminders: `en` or `de`.
    pub reminder_language: String,
}

impl Default for EnrolmentConfig {
    fn default() -> Self {
        let d = EnrolmentSettings::default();
        EnrolmentConfig {
            questions_required: d.questions_required,
            reconfirm_days: 0,
            required: d.required,
            earliest_year: d.earliest_year,
            allow_own_question: d.allow_own_question,
            pin_valid_hours: ms_to_secs(d.pin_valid_ms) / 3600,
            reminder_interval_days: 0,
            reminder_language: d.reminder_language,
        }
    }
}

impl EnrolmentConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(1..=10).contains(&self.questions_required) {
            bail!("enrolment.questions_required must be from 1 to 10");
        }
        if self.pin_valid_hours == 0 {
            bail!("enrolment.pin_valid_hours must be at least 1");
        }
        if !["en", "de"].contains(&self.reminder_language.as_str()) {
            bail!("enrolment.reminder_language must be \"en\" or \"de\"");
        }
        if !(1800..=2100).contains(&self.earliest_year) {
            bail!("enrolment.earliest_year must be a year from 1800 to 2100");
        }
        Ok(())
    }

    pub fn settings(&self) -> EnrolmentSettings {
        EnrolmentSettings {
            questions_required: self.questions_required,
            reconfirm_ms: secs_to_ms(self.reconfirm_days.saturating_mul(86_400)),
            required: self.required,
            earliest_year: self.earliest_year,
            allow_own_question: self.allow_own_question,
            pin_valid_ms: secs_to_ms(self.pin_valid_hours.saturating_mul(3600)),
            reminder_interval_ms: secs_to_ms(self.reminder_interval_days.saturating_mul(86_400)),
            reminder_language: self.reminder_language.clone(),
        }
    }
}

fn ms_to_secs(ms: i64) -> u64 {
    u64::try_from(ms / 1000).unwrap_or(0)
}
