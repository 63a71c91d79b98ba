//! The status page: enrolled or not and what is still asked, the
//! questions answered (never the answers), phone numbers, accounts, and
//! recent activity on the person's identity.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use touchtone_core::event::EventType;
use touchtone_service::Service;
use touchtone_service::portal::{Activity, PortalStatus};

use crate::i18n::Tr;
use crate::page::{self, Chrome, Ctx};

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    chrome: Chrome,
    status: PortalStatus,
    /// Came back from enrolling.
    enrolled_now: bool,
    activity: Vec<ActivityRow>,
    phones: Vec<(String, String)>,
    /// When the authenticator app was set up, if it is.
    authenticator_since: Option<String>,
}

/// One line of the activity table, in words.
struct ActivityRow {
    when: String,
    what: String,
    door: String,
    number: String,
    /// Something the person should look at (a failure, a lockout).
    alarming: bool,
}

#[derive(serde::Deserialize)]
pub struct StatusQuery {
    enrolled: Option<String>,
}

pub async fn show(
    State(service): State<Service>,
    ctx: Ctx,
    Query(query): Query<StatusQuery>,
) -> Response {
    let (token, session) = match super::session(&service, &ctx).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let status = match service.portal_status(&ctx.caller, &token).await {
        Ok(status) => status,
        Err(e) => return super::failure(&ctx, e),
    };
    let authenticator_since = match service.portal_authenticator(&token).await {
        Ok(view) => view.confirmed_at.map(page::when),
        Err(e) => return super::failure(&ctx, e),
    };
    let tr = ctx.tr;
    let activity = status
        .activity
        .iter()
        .map(|a| activity_row(&tr, a))
        .collect();
    let phones = status
        .phones
        .iter()
        .map(|p| {
            let source = match p.registered_at {
                Some(at) => tr.t1("phone-registered", "when", page::when(at)),
                None => tr.t("phone-from-directory"),
            };
            (p.number.clone(), source)
        })
        .collect();
    let page = StatusPage {
        chrome: Chrome::new(&ctx, "status-title").signed_in(&session.display_name, &session.csrf),
        enrolled_now: query.enrolled.is_some(),
        status,
        activity,
        phones,
        authenticator_since,
    };
    page::render(StatusCode::OK, &page)
}

fn activity_row(tr: &Tr, a: &Activity) -> ActivityRow {
    let target = a.target.clone().unwrap_or_default();
    let (what, alarming) = match a.event {
        Some(EventType::AdminResetSuccess) => {
            (tr.t1("activity-reset-ok", "target", &target), false)
        }
        Some(EventType::AdminResetFailure) => {
            (tr.t1("activity-reset-failed", "target", &target), true)
        }
        Some(EventType::AdminUnlockSuccess) => {
            (tr.t1("activity-unlock-ok", "target", &target), false)
        }
        Some(EventType::AdminUnlockFailure) => {
            (tr.t1("activity-unlock-failed", "target", &target), true)
        }
        Some(EventType::VerifyFailure) => (tr.t("activity-verify-failed"), true),
        Some(EventType::IntruderLockout) => (tr.t("activity-lockout"), true),
        Some(EventType::IntruderLockoutCleared) => (tr.t("activity-lockout-cleared"), false),
        Some(EventType::EnrolmentChanged) => (tr.t("activity-enrolment"), false),
        Some(EventType::PortalSignIn) => (tr.t("activity-sign-in"), false),
        Some(EventType::PhoneAdded) => (tr.t("activity-phone-added"), false),
        Some(EventType::PhoneRemoved) => (tr.t("activity-phone-removed"), false),
        Some(EventType::AuthenticatorAdded) => (tr.t("activity-authenticator-added"), false),
        Some(EventType::AuthenticatorRemoved) => (tr.t("activity-authenticator-removed"), true),
        Some(EventType::SuspectedFraud) => (tr.t("activity-suspected-fraud"), true),
        None => (tr.t("activity-other"), false),
    };
    let door = match a.door.as_str() {
        "api" => tr.t("door-api"),
        "ivr" => tr.t("door-phone"),
        "portal" => tr.t("door-portal"),
        "" => String::new(),
        other => other.to_owned(),
    };
    ActivityRow {
        when: page::when(a.at),
        what,
        door,
        number: a.caller_number.clone().unwrap_or_default(),
        alarming,
    }
}
