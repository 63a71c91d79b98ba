//! The HTTPS remote API: `POST /api/v1/<Function>` with JSON, the OpenAPI
//! document at `/api/v1/openapi.json`, `/healthz` and `/readyz`; the people's pages
//! (`touchtone-web`) are merged beside it unless they have a listener of
//! their own.
//!
//! A thin front door: handlers turn the wire types of `touchtone-api`
//! into service calls and service errors into HTTP answers ([`error`];
//! each error code knows its own status).

mod enrolment;
mod error;
mod extract;
mod factors;
mod handlers;
pub mod health;
pub mod openapi;

#[cfg(fuzzing)]
pub(crate) use extract::{looks_like_a_name, source_message};
pub(crate) mod otp;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Request, header};
use axum::routing::{get, post};
use touchtone_service::Service;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::config::HttpConfig;

/// The API's routes and layers, with the web pages beside them when
/// `pages` is given (they answer every path the API does not have).
pub fn router(
    service: Service,
    config: &HttpConfig,
    readiness: std::sync::Arc<health::Readiness>,
    pages: Option<Router>,
) -> Router {
    let api = Router::new()
        .route("/api/v1/Login", post(handlers::login))
        .route("/api/v1/UserIVRList", post(handlers::user_ivr_list))
        .route(
            "/api/v1/UserQuestionsGet",
            post(handlers::user_questions_get),
        )
        .route(
            "/api/v1/UserAnswersValidate",
            post(handlers::user_answers_validate),
        )
        .route(
            "/api/v1/PasswordRandomGet",
            post(handlers::password_random_get),
        )
        .route(
            "/api/v1/UserPasswordSync",
            post(handlers::user_password_sync),
        )
        .route(
            "/api/v1/UserAccountsUnlock",
            post(handlers::user_accounts_unlock),
        )
        .route("/api/v1/Logout", post(handlers::logout))
        .route("/api/v1/UserEnrolmentStart", post(enrolment::start))
        .route("/api/v1/UserEnrolmentCheck", post(enrolment::check))
        .route("/api/v1/UserEnrolmentSubmit", post(enrolment::submit))
        .route("/api/v1/UserFactorsGet", post(factors::get))
        .route("/api/v1/UserFactorChallenge", post(factors::challenge))
        .route("/api/v1/UserFactorVerify", post(factors::verify))
        .route(
            "/outbound.cgi",
            get(otp::outbound_get).post(otp::outbound_post),
        )
        .route("/api/v1/calls", post(otp::create_call).get(otp::list_calls))
        .route(
            "/api/v1/calls/{id}",
            get(otp::get_call).delete(otp::cancel_call),
        )
        .route("/api/v1/openapi.json", get(handlers::openapi_document))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        // Unknown API paths get the API's JSON 404, whatever else is served.
        .route("/api/{*rest}", axum::routing::any(handlers::not_found))
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::map_response(no_store))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(config.request_timeout_secs),
        ))
        .layer(CatchPanicLayer::custom(handlers::panic_response))
        // Spans name the method and path only: `/outbound.cgi` carries a
        // password in its query string, which must never reach a log.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .layer(axum::Extension(readiness))
        .with_state(service);
    match pages {
        Some(pages) => api.merge(pages),
        None => api.fallback(handlers::not_found),
    }
}

/// Session IDs and passwords must never sit in a cache.
async fn no_store(mut response: axum::response::Response) -> axum::response::Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
