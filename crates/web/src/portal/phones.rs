//! Phone numbers: the registered ones (removable) and the directory's,
//! adding one by proving it (the page shows a code; the person asks to be
//! called; the call asks for the code), and removing one. Adding and
//! removing need the password given in the last few minutes. While a call
//! is under way its page refreshes itself every few seconds (a meta
//! refresh: no script needed).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use touchtone_service::Service;
use touchtone_service::portal::{PhoneProblem, PhoneProof, PortalError, ProofState};

use crate::i18n::Tr;
use crate::page::{self, Chrome, Ctx};

#[derive(Template)]
#[template(path = "phones.html")]
struct PhonesPage {
    chrome: Chrome,
    csrf: String,
    /// Registered numbers (removable), with when.
    registered: Vec<(String, String)>,
    /// Numbers from the directory.
    directory: Vec<String>,
    reauth: bool,
    error: Option<String>,
    notice: Option<String>,
    number: String,
}

#[derive(Template)]
#[template(path = "phone_proof.html")]
struct ProofPage {
    chrome: Chrome,
    csrf: String,
    proof: PhoneProof,
    /// The code with spaces, as it is keyed.
    code: String,
    status: String,
    refresh: bool,
    error: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    reauth: Option<String>,
    removed: Option<String>,
}

pub async fn list(
    State(service): State<Service>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Response {
    let notice = q.removed.map(|_| ctx.tr.t("phone-removed-notice"));
    let error = match q.reauth.as_deref() {
        Some("refused") => Some(ctx.tr.t("reauth-refused")),
        Some("throttled") => Some(ctx.tr.t("sign-in-throttled")),
        _ => None,
    };
    phones_page(&service, &ctx, StatusCode::OK, error, notice, String::new()).await
}

async fn phones_page(
    service: &Service,
    ctx: &Ctx,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
    number: String,
) -> Response {
    let (token, session) = match super::session(service, ctx).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let person = match service.portal_status(&ctx.caller, &token).await {
        Ok(s) => s,
        Err(e) => return super::failure(ctx, e),
    };
    let registered = person
        .phones
        .iter()
        .filter_map(|p| p.registered_at.map(|at| (p.number.clone(), page::when(at))))
        .collect();
    let directory = person
        .phones
        .iter()
        .filter(|p| p.registered_at.is_none())
        .map(|p| p.number.clone())
        .collect();
    let page = PhonesPage {
        chrome: Chrome::new(ctx, "phones-title").signed_in(&session.display_name, &session.csrf),
        csrf: session.csrf.clone(),
        registered,
        directory,
        reauth: !session.recently_authenticated,
        error,
        notice,
        number,
    };
    page::render(status, &page)
}

#[derive(serde::Deserialize)]
pub struct NumberForm {
    csrf: Option<String>,
    #[serde(default)]
    number: String,
}

/// Starts proving a number: on to its page, which shows the code.
pub async fn start(
    State(service): State<Service>,
    ctx: Ctx,
    Form(form): Form<NumberForm>,
) -> Response {
    let (token, _) = match super::form_session(&service, &ctx, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    match service
        .portal_phone_start(&ctx.caller, &token, &form.number)
        .await
    {
        Ok(proof) => page::see_other(&format!("/phones/{}", proof.id)),
        Err(PortalError::Phone(problem)) => {
            let message = problem_text(&ctx.tr, &problem);
            phones_page(
                &service,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(message),
                None,
                form.number,
            )
            .await
        }
        Err(PortalError::ReauthRequired) => page::see_other("/phones"),
        Err(e) => super::failure(&ctx, e),
    }
}

/// A proof's page: the code, then the call's progress, then the outcome.
pub async fn proof(State(service): State<Service>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let (token, session) = match super::session(&service, &ctx).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    match service.portal_phone_check(&ctx.caller, &token, &id).await {
        Ok(proof) => proof_page(&ctx, &session.display_name, &session.csrf, proof, None),
        Err(PortalError::NotFound) => page::error_page(
            &ctx,
            StatusCode::NOT_FOUND,
            "error-not-found-title",
            "error-not-found",
        ),
        Err(e) => super::failure(&ctx, e),
    }
}

fn proof_page(
    ctx: &Ctx,
    name: &str,
    csrf: &str,
    proof: PhoneProof,
    error: Option<String>,
) -> Response {
    let tr = ctx.tr;
    let (status, refresh) = match &proof.state {
        ProofState::Ready => (tr.t("proof-ready"), false),
        ProofState::Calling(s) => (tr.t1("proof-calling", "status", call_status(&tr, s)), true),
        ProofState::Verified => (tr.t("proof-verified"), false),
        ProofState::Failed(s) => (tr.t1("proof-failed", "status", call_status(&tr, s)), false),
    };
    let code = proof
        .code
        .as_deref()
        .map(|c| c.chars().map(String::from).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let page = ProofPage {
        chrome: Chrome::new(ctx, "proof-title").signed_in(name, csrf),
        csrf: csrf.to_owned(),
        proof,
        code,
        status,
        refresh,
        error,
    };
    page::render(StatusCode::OK, &page)
}

#[derive(serde::Deserialize)]
pub(super) struct TokenOnly {
    pub(super) csrf: Option<String>,
}

/// "Call me now".
pub async fn call(
    State(service): State<Service>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<TokenOnly>,
) -> Response {
    let (token, session) = match super::form_session(&service, &ctx, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    match service.portal_phone_call(&ctx.caller, &token, &id).await {
        Ok(_) => page::see_other(&format!("/phones/{id}")),
        Err(PortalError::Phone(problem)) => {
            match service.portal_phone_check(&ctx.caller, &token, &id).await {
                Ok(proof) => proof_page(
                    &ctx,
                    &session.display_name,
                    &session.csrf,
                    proof,
                    Some(problem_text(&ctx.tr, &problem)),
                ),
                Err(e) => super::failure(&ctx, e),
            }
        }
        Err(PortalError::NotFound) => page::error_page(
            &ctx,
            StatusCode::NOT_FOUND,
            "error-not-found-title",
            "error-not-found",
        ),
        Err(e) => super::failure(&ctx, e),
    }
}

/// Removes a registered number.
pub async fn remove(
    State(service): State<Service>,
    ctx: Ctx,
    Form(form): Form<NumberForm>,
) -> Response {
    let (token, _) = match super::form_session(&service, &ctx, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    match service
        .portal_phone_remove(&ctx.caller, &token, &form.number)
        .await
    {
        Ok(_) => page::see_other("/phones?removed=1"),
        Err(PortalError::ReauthRequired) => page::see_other("/phones"),
        Err(e) => super::failure(&ctx, e),
    }
}

pub(super) fn problem_text(tr: &Tr, problem: &PhoneProblem) -> String {
    match problem {
        PhoneProblem::NotANumber => tr.t("phone-not-a-number"),
        PhoneProblem::NotCallable => tr.t("phone-not-callable"),
        PhoneProblem::AlreadyRegistered => tr.t("phone-already"),
        PhoneProblem::TooMany { max } => tr.tn("phone-too-many", "max", *max),
        PhoneProblem::TryLater => tr.t("phone-try-later"),
    }
}

/// A voice-OTP status in words.
pub(super) fn call_status(tr: &Tr, status: &str) -> String {
    let id = match status {
        "queued" | "dialing" => "call-queued",
        "ringing" => "call-ringing",
        "answered" => "call-answered",
        "wrong-code" => "call-wrong-code",
        "no-code" => "call-no-code",
        "no-answer" | "busy" | "declined" => "call-not-answered",
        "expired" => "call-expired",
        _ => "call-failed",
    };
    tr.t(id)
}
