//! Signing in and out, and giving the password again before a change.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use touchtone_core::secret::SecretString;
use touchtone_core::session_token::SessionToken;
use touchtone_service::Service;
use touchtone_service::portal::PortalError;

use crate::page::{self, Chrome, Ctx};
use crate::security::{self, PRE_SESSION_COOKIE, SESSION_COOKIE};

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    csrf: String,
    login: String,
    /// A message about the last attempt, if any.
    error: Option<String>,
    notice: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct SignInQuery {
    ended: Option<String>,
}

/// The form, with a fresh pre-session token unless the browser has one.
pub async fn form(ctx: Ctx, Query(query): Query<SignInQuery>) -> Response {
    let notice = query.ended.map(|_| ctx.tr.t("sign-in-ended"));
    sign_in_page(&ctx, StatusCode::OK, String::new(), None, notice)
}

fn sign_in_page(
    ctx: &Ctx,
    status: StatusCode,
    login: String,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let existing = security::cookie(&ctx.headers, PRE_SESSION_COOKIE).filter(|t| t.len() >= 32);
    let csrf = existing
        .clone()
        .unwrap_or_else(|| SessionToken::generate(&mut rand::rng()).reveal().to_owned());
    let page = SignInPage {
        chrome: Chrome::new(ctx, "sign-in-title"),
        csrf: csrf.clone(),
        login,
        error,
        notice,
    };
    let mut response = page::render(status, &page);
    if existing.is_none() {
        response.headers_mut().append(
            header::SET_COOKIE,
            security::set_cookie(PRE_SESSION_COOKIE, &csrf, None),
        );
    }
    response
}

#[derive(serde::Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    csrf: Option<String>,
}

pub async fn submit(
    State(service): State<Service>,
    ctx: Ctx,
    Form(form): Form<SignInForm>,
) -> Response {
    let expected = security::cookie(&ctx.headers, PRE_SESSION_COOKIE).unwrap_or_default();
    if !security::form_token_matches(form.csrf.as_deref(), &expected) {
        return page::forbidden(&ctx);
    }
    let password = SecretString::from(form.password);
    match service
        .portal_sign_in(&ctx.caller, &form.login, password)
        .await
    {
        Ok(signed_in) => {
            let next = if signed_in.second_factor.is_some() {
                "/sign-in/verify"
            } else {
                "/"
            };
            let mut response = page::see_other(next);
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                security::set_cookie(SESSION_COOKIE, signed_in.token.reveal(), None),
            );
            headers.append(
                header::SET_COOKIE,
                security::set_cookie(PRE_SESSION_COOKIE, "", Some(0)),
            );
            response
        }
        Err(PortalError::SignInRefused) => sign_in_page(
            &ctx,
            StatusCode::UNAUTHORIZED,
            form.login,
            Some(ctx.tr.t("sign-in-refused")),
            None,
        ),
        Err(PortalError::Throttled) => sign_in_page(
            &ctx,
            StatusCode::TOO_MANY_REQUESTS,
            form.login,
            Some(ctx.tr.t("sign-in-throttled")),
            None,
        ),
        Err(PortalError::NoSecondFactor) => sign_in_page(
            &ctx,
            StatusCode::FORBIDDEN,
            form.login,
            Some(ctx.tr.t("second-factor-none")),
            None,
        ),
        Err(e) => super::failure(&ctx, e),
    }
}

#[derive(serde::Deserialize)]
pub struct TokenOnly {
    csrf: Option<String>,
}

/// Ends the session; the cookie goes too.
pub async fn sign_out(
    State(service): State<Service>,
    ctx: Ctx,
    Form(form): Form<TokenOnly>,
) -> Response {
    let mut response = page::see_other("/sign-in");
    if let Some(token) = &ctx.session {
        // A sign-in still waiting for its call can be given up too.
        let csrf = match service.portal_session(&ctx.caller, token).await {
            Ok(session) => Some(session.csrf),
            Err(PortalError::SecondFactorPending) => service
                .portal_second_factor(&ctx.caller, token)
                .await
                .ok()
                .flatten()
                .map(|pending| pending.csrf),
            Err(PortalError::SessionEnded) => None,
            Err(e) => return super::failure(&ctx, e),
        };
        if let Some(csrf) = csrf {
            if !security::form_token_matches(form.csrf.as_deref(), &csrf) {
                return page::forbidden(&ctx);
            }
            if let Err(e) = service.portal_sign_out(&ctx.caller, token).await {
                return super::failure(&ctx, e);
            }
        }
    }
    response.headers_mut().append(
        header::SET_COOKIE,
        security::set_cookie(SESSION_COOKIE, "", Some(0)),
    );
    response
}

#[derive(serde::Deserialize)]
pub struct ReauthForm {
    csrf: Option<String>,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// The password again; back to the page that asked, with the outcome.
pub async fn reauthenticate(
    State(service): State<Service>,
    ctx: Ctx,
    Form(form): Form<ReauthForm>,
) -> Response {
    let (token, _) = match super::form_session(&service, &ctx, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let next = page::local_path(form.next.as_deref());
    let password = SecretString::from(form.password);
    match service
        .portal_reauthenticate(&ctx.caller, &token, password)
        .await
    {
        Ok(_) => page::see_other(&next),
        Err(PortalError::SignInRefused) => page::see_other(&format!("{next}?reauth=refused")),
        Err(PortalError::Throttled) => page::see_other(&format!("{next}?reauth=throttled")),
        Err(e) => super::failure(&ctx, e),
    }
}
