//! The enrolment portal's pages:
//!
//! | path | what |
//! |---|---|
//! | `GET /` | the status page (signed in), else to `/sign-in` |
//! | `GET, POST /sign-in` | signing in with one's own password |
//! | `GET /sign-in/verify`, `POST /sign-in/verify/call` | the second step: a call to the person's phone |
//! | `POST /sign-out` | signing out |
//! | `GET, POST /answers` | choosing questions and enrolling answers |
//! | `GET, POST /phones` | registered numbers; starting to add one |
//! | `GET /phones/{id}`, `POST /phones/{id}/call` | proving a number: the code, the call |
//! | `POST /phones/remove` | removing a registered number |
//! | `POST /reauth` | giving the password again before a change |
//! | `GET /language` | the language switch (a cookie; then back) |

mod answers;
mod authenticator;
mod phones;
mod second_factor;
mod sign_in;
mod status;

use axum::Router;
use axum::extract::Query;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use touchtone_service::Service;
use touchtone_service::portal::{PortalError, PortalSession};

use crate::i18n::Lang;
use crate::page::{self, Ctx};
use crate::security::{self, LANGUAGE_COOKIE};

pub fn routes() -> Router<Service> {
    Router::new()
        .route("/", get(status::show))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-in/verify", get(second_factor::show))
        .route("/sign-in/verify/call", post(second_factor::call))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/reauth", post(sign_in::reauthenticate))
        .route("/answers", get(answers::form).post(answers::submit))
        .route("/authenticator", get(authenticator::show))
        .route("/authenticator/begin", post(authenticator::begin))
        .route("/authenticator/confirm", post(authenticator::confirm))
        .route("/authenticator/remove", post(authenticator::remove))
        .route("/phones", get(phones::list).post(phones::start))
        .route("/phones/remove", post(phones::remove))
        .route("/phones/{id}", get(phones::proof))
        .route("/phones/{id}/call", post(phones::call))
        .route("/language", get(language))
}

/// The signed-in session, or the response that sends the browser to sign
/// in (no session, an ended one) or explains a failure.
async fn session(service: &Service, ctx: &Ctx) -> Result<(String, PortalSession), Response> {
    let Some(token) = ctx.session.clone() else {
        return Err(page::see_other("/sign-in"));
    };
    match service.portal_session(&ctx.caller, &token).await {
        Ok(session) => Ok((token, session)),
        Err(PortalError::SessionEnded) => Err(page::see_other("/sign-in?ended=1")),
        Err(PortalError::SecondFactorPending) => Err(page::see_other("/sign-in/verify")),
        Err(e) => Err(failure(ctx, e)),
    }
}

/// The signed-in session of a form post, when the form's token is the
/// session's; else the response: sign in, or 403 with nothing changed.
async fn form_session(
    service: &Service,
    ctx: &Ctx,
    csrf: Option<&str>,
) -> Result<(String, PortalSession), Response> {
    let (token, session) = session(service, ctx).await?;
    if !security::form_token_matches(csrf, &session.csrf) {
        return Err(page::forbidden(ctx));
    }
    Ok((token, session))
}

/// A portal error that no page handles itself.
fn failure(ctx: &Ctx, error: PortalError) -> Response {
    match error {
        PortalError::SessionEnded => page::see_other("/sign-in?ended=1"),
        PortalError::SecondFactorPending => page::see_other("/sign-in/verify"),
        other => {
            tracing::error!(error = %other, "a portal request failed");
            page::unavailable(ctx)
        }
    }
}

#[derive(serde::Deserialize)]
struct LanguageChoice {
    set: Option<String>,
    back: Option<String>,
}

/// Remembers the chosen language and goes back to the page.
async fn language(Query(choice): Query<LanguageChoice>) -> Response {
    let back = page::local_path(choice.back.as_deref());
    let mut response = page::see_other(&back);
    if let Some(lang) = choice.set.as_deref().and_then(Lang::from_code) {
        response.headers_mut().insert(
            header::SET_COOKIE,
            security::set_cookie(LANGUAGE_COOKIE, lang.code(), Some(365 * 24 * 3600)),
        );
    }
    response.into_response()
}
