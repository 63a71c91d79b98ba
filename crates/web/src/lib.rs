//! touchtone's pages for people, server-rendered: the self-service
//! enrolment portal at `/` (the operator console will join it at
//! `/admin`). An axum [`Router`] that the server mounts on its HTTPS
//! listener (or on a listener of its own, `[web] listen`).
//!
//! A handler reads the form, calls one `touchtone-service` function and
//! renders a template: every rule (who may sign in, what an answer must
//! be, who a session belongs to) is the service's. What is the browser's
//! business is here, once: cookies, form tokens and headers
//! ([`security`]), the language ([`i18n`]), the page frame ([`page`]).
//! Pages work without JavaScript; `static/portal.js` only adds a live
//! keypad preview of answers. Templates are compile-time (askama) in
//! `templates/`, texts Fluent files in `locales/`.
//!
//! - [`portal`]: sign-in, the status page, enrolling answers.
//! - [`mail`]: the reminder e-mails, in the same languages.

pub mod i18n;
pub mod mail;
pub mod page;
pub mod portal;
pub mod security;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use touchtone_service::Service;

/// The web pages' routes, with their headers. The caller's address must
/// be available (`into_make_service_with_connect_info::<SocketAddr>()`).
pub fn router(service: Service) -> Router {
    portal::routes()
        .route("/static/portal.css", get(stylesheet))
        .route("/static/portal.js", get(script))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(32 * 1024))
        .layer(axum::middleware::map_response(security::page_headers))
        .with_state(service)
}

async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../static/portal.css"),
    )
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../static/portal.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn not_found(ctx: page::Ctx) -> Response {
    page::error_page(
        &ctx,
        StatusCode::NOT_FOUND,
        "error-not-found-title",
        "error-not-found",
    )
}
