//! The second sign-in step, when `[web] sign_in_second_factor` asks for
//! it: the page shows a code and the last digits of the number we will
//! call; the person asks for the call, answers, and keys the code. While
//! the call runs the page refreshes itself (a meta refresh, no script);
//! once the code is keyed it goes on to the status page.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use touchtone_service::Service;
use touchtone_service::portal::{PendingSignIn, PortalError, ProofState};

use super::phones::{call_status, problem_text};
use crate::page::{self, Chrome, Ctx};
use crate::security;

#[derive(Template)]
#[template(path = "sign_in_verify.html")]
struct VerifyPage {
    chrome: Chrome,
    csrf: String,
    number: String,
    /// The code with spaces, as it is keyed; empty once the call is over.
    code: String,
    status: String,
    ready: bool,
    calling: bool,
    failed: bool,
    error: Option<String>,
}

/// `GET /sign-in/verify`.
pub async fn show(State(service): State<Service>, ctx: Ctx) -> Response {
    let Some(token) = ctx.session.clone() else {
        return page::see_other("/sign-in");
    };
    match service.portal_second_factor(&ctx.caller, &token).await {
        Ok(Some(pending)) => verify_page(&ctx, pending, None),
        Ok(None) => page::see_other("/"),
        Err(e) => refused(&ctx, e),
    }
}

/// `POST /sign-in/verify/call`: "Call me now".
pub async fn call(
    State(service): State<Service>,
    ctx: Ctx,
    Form(form): Form<super::phones::TokenOnly>,
) -> Response {
    let Some(token) = ctx.session.clone() else {
        return page::see_other("/sign-in");
    };
    let pending = match service.portal_second_factor(&ctx.caller, &token).await {
        Ok(Some(pending)) => pending,
        Ok(None) => return page::see_other("/"),
        Err(e) => return refused(&ctx, e),
    };
    if !security::form_token_matches(form.csrf.as_deref(), &pending.csrf) {
        return page::forbidden(&ctx);
    }
    match service.portal_second_factor_call(&ctx.caller, &token).await {
        Ok(_) => page::see_other("/sign-in/verify"),
        Err(PortalError::Phone(problem)) => {
            verify_page(&ctx, pending, Some(problem_text(&ctx.tr, &problem)))
        }
        Err(e) => refused(&ctx, e),
    }
}

fn verify_page(ctx: &Ctx, pending: PendingSignIn, error: Option<String>) -> Response {
    let tr = ctx.tr;
    let proof = pending.proof;
    if proof.state == ProofState::Verified {
        return page::see_other("/");
    }
    let status = match &proof.state {
        ProofState::Ready => tr.t("proof-ready"),
        ProofState::Calling(s) => tr.t1("proof-calling", "status", call_status(&tr, s)),
        ProofState::Verified => String::new(),
        ProofState::Failed(s) => tr.t1("second-factor-failed", "status", call_status(&tr, s)),
    };
    let code = proof
        .code
        .as_deref()
        .map(|c| c.chars().map(String::from).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let page = VerifyPage {
        chrome: Chrome::new(ctx, "second-factor-title"),
        csrf: pending.csrf,
        number: proof.number,
        code,
        status,
        ready: proof.state == ProofState::Ready,
        calling: matches!(proof.state, ProofState::Calling(_)),
        failed: matches!(proof.state, ProofState::Failed(_)),
        error,
    };
    page::render(StatusCode::OK, &page)
}

/// The sign-in cannot go on: back to the form (it has ended, or there is
/// nothing to wait for).
fn refused(ctx: &Ctx, error: PortalError) -> Response {
    match error {
        PortalError::SessionEnded => page::see_other("/sign-in?ended=1"),
        other => super::failure(ctx, other),
    }
}
