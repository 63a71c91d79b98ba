//! The service's tunable rules, with the defaults a cautious site wants.

use std::time::Duration;

use touchtone_core::lockout::LockoutPolicy;
use touchtone_core::password::PasswordPolicy;

/// Which attributes of a person become keypad IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeypadAttribute {
    /// The login name (the person's `user_id`).
    Login,
    EmployeeNumber,
}

impl KeypadAttribute {
    pub fn as_str(self) -> &'static str {
        match self {
            KeypadAttribute::Login => "login",
            KeypadAttribute::EmployeeNumber => "employee_number",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub lockout: LockoutPolicy,
    /// A session unused this long ends.
    pub session_idle_ms: i64,
    /// No session lives longer than this.
    pub session_lifetime_ms: i64,
    /// How many questions `UserQuestionsGet` asks.
    pub questions_per_challenge: usize,
    /// How long a challenge may be answered.
    pub challenge_ttl_ms: i64,
    /// Failed logins (per API user name, and per address) within the
    /// window after which `Login` backs off: refused until a back-off that
    /// starts at one second and doubles with every further failure has
    /// passed since the latest one.
    pub login_max_failures: u32,
    pub login_window_ms: i64,
    /// The longest back-off: correct credentials from an allowed address
    /// are never refused longer than this after the latest failure.
    pub login_backoff_max_ms: i64,
    /// Length of generated passwords (raised or lowered to fit policies).
    pub password_length: usize,
    /// A policy every generated or accepted password must also meet, on top
    /// of the targets' own.
    pub base_policy: PasswordPolicy,
    /// Ask targets to force a change at next login after a reset.
    pub must_change_after_reset: bool,
    pub keypad_attributes: Vec<KeypadAttribute>,
    /// Names of targets that live in the local directory; importing an
    /// account on one of them creates the local account.
    pub local_targets: Vec<String>,
    /// An upper bound on one target call, on top of the target's own.
    pub target_call_timeout: Duration,
    /// When set, a caller whose number is not one of the person's
    /// registered numbers is asked one more question.
    pub caller_id_check: Option<CallerIdCheck>,
    /// Voice-OTP rules.
    pub otp: crate::otp::OtpSettings,
    /// The self-service portal's sessions and sign-in.
    pub portal: PortalSettings,
    /// What enrolment asks of people.
    pub enrolment: EnrolmentSettings,
    /// Which factors each operation needs, and for whom.
    pub verification: crate::factors::VerificationSettings,
    /// Which notices people get, when a mail relay is configured.
    pub notices: crate::notices::NoticeSettings,
}

/// The portal's sessions and sign-in throttle.
#[derive(Debug, Clone)]
pub struct PortalSettings {
    /// A session unused this long ends.
    pub session_idle_ms: i64,
    /// No session lives longer.
    pub session_lifetime_ms: i64,
    /// Changing answers or phones needs the password given this recently.
    pub reauth_ms: i64,
    /// Failed sign-ins (per login typed, and per address) within the
    /// window after which sign-in is refused for a while.
    pub max_failures: u32,
    pub window_ms: i64,
    /// Entries of the person's activity the status page shows.
    pub activity_shown: i64,
    /// Whether signing in also needs a call to the person's phone.
    pub second_factor: SecondFactor,
}

/// The portal's optional second sign-in step: after the password,
/// touchtone calls one of the person's numbers (voice OTP, verify mode)
/// and the person keys the code the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecondFactor {
    /// The password alone.
    #[default]
    Off,
    /// For people with a registered (proved) number; others sign in with
    /// the password alone.
    WhenAvailable,
    /// For everyone: a registered number, else one from the directory;
    /// people with neither cannot sign in until the helpdesk adds one.
    Required,
}

impl Default for PortalSettings {
    fn default() -> Self {
        Self {
            session_idle_ms: 15 * 60 * 1000,
            session_lifetime_ms: 8 * 3600 * 1000,
            reauth_ms: 5 * 60 * 1000,
            max_failures: 5,
            window_ms: 15 * 60 * 1000,
            activity_shown: 20,
            second_factor: SecondFactor::Off,
        }
    }
}

/// What a person must enrol, and how answers are judged.
#[derive(Debug, Clone)]
pub struct EnrolmentSettings {
    /// Answers a person enrols (and the phone asks from).
    pub questions_required: usize,
    /// Answers older than this must be confirmed again (0: never).
    pub reconfirm_ms: i64,
    /// A caller who is not enrolled is told so and sent to the helpdesk.
    pub required: bool,
    /// Year questions accept years from this one to the current year.
    pub earliest_year: u32,
    /// Whether people may write a question of their own.
    pub allow_own_question: bool,
    /// How long an enrolment PIN can be used.
    pub pin_valid_ms: i64,
    /// At most one reminder e-mail per person in this long (0: none).
    pub reminder_interval_ms: i64,
    /// The language reminders are written in (`en`, `de`).
    pub reminder_language: String,
}

impl Default for EnrolmentSettings {
    fn default() -> Self {
        Self {
            questions_required: 3,
            reconfirm_ms: 0,
            required: false,
            earliest_year: 1900,
            allow_own_question: true,
            pin_valid_ms: 72 * 3600 * 1000,
            reminder_interval_ms: 0,
            reminder_language: "en".to_owned(),
        }
    }
}

/// The caller-ID factor: numbers are compared in E.164 form, national
/// numbers read with this region's dialling rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerIdCheck {
    pub default_region: Option<touchtone_core::phone::Region>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            lockout: LockoutPolicy::default(),
            session_idle_ms: 5 * 60 * 1000,
            session_lifetime_ms: 30 * 60 * 1000,
            questions_per_challenge: 2,
            challenge_ttl_ms: 10 * 60 * 1000,
            login_max_failures: 10,
            login_window_ms: 15 * 60 * 1000,
            login_backoff_max_ms: 60 * 1000,
            password_length: 10,
            base_policy: PasswordPolicy::default(),
            must_change_after_reset: false,
            keypad_attributes: vec![KeypadAttribute::Login, KeypadAttribute::EmployeeNumber],
            local_targets: vec!["local".to_owned()],
            target_call_timeout: Duration::from_secs(60),
            caller_id_check: None,
            otp: crate::otp::OtpSettings::default(),
            portal: PortalSettings::default(),
            enrolment: EnrolmentSettings::default(),
            verification: crate::factors::VerificationSettings::default(),
            notices: crate::notices::NoticeSettings::default(),
        }
    }
}
