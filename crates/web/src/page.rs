//! What every page handler starts from and ends with: the request's
//! context (language, caller, the session cookie) and rendering a
//! template into a response, with the error pages for what goes wrong.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use touchtone_service::{Caller, Door};

use crate::i18n::{Lang, Tr};
use crate::security::{self, LANGUAGE_COOKIE, SESSION_COOKIE};

/// A request's context.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub tr: Tr,
    pub caller: Caller,
    /// The session cookie's token, if the browser sent one.
    pub session: Option<String>,
    pub headers: axum::http::HeaderMap,
    /// The path asked for (for the language switch to come back to).
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ConnectInfo(addr) = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let lang = security::cookie(&headers, LANGUAGE_COOKIE)
            .and_then(|c| Lang::from_code(&c))
            .or_else(|| {
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::negotiate)
            })
            .unwrap_or(Lang::En);
        Ok(Ctx {
            tr: Tr::new(lang),
            caller: Caller {
                ip: addr.ip(),
                door: Door::Portal,
            },
            session: security::cookie(&headers, SESSION_COOKIE).filter(|t| !t.is_empty()),
            headers,
            path: parts.uri.path().to_owned(),
        })
    }
}

/// What the layout around every page needs.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub tr: Tr,
    pub title: String,
    /// The signed-in person's name (shows the sign-out button).
    pub person: Option<String>,
    /// The session's form token (for the sign-out form).
    pub csrf: String,
    /// Where the language switch returns to.
    pub path: String,
}

impl Chrome {
    pub fn new(ctx: &Ctx, title_id: &str) -> Chrome {
        Chrome {
            tr: ctx.tr,
            title: ctx.tr.t(title_id),
            person: None,
            csrf: String::new(),
            path: ctx.path.clone(),
        }
    }

    pub fn signed_in(mut self, name: &str, csrf: &str) -> Chrome {
        self.person = Some(name.to_owned());
        self.csrf = csrf.to_owned();
        self
    }

    /// The other languages, for the switch: `(code, name)`.
    pub fn other_languages(&self) -> Vec<(&'static str, &'static str)> {
        Lang::ALL
            .iter()
            .filter(|l| **l != self.tr.lang)
            .map(|l| (l.code(), l.name()))
            .collect()
    }
}

/// Renders a page with `status`.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A plain error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub message: String,
}

/// An error page with `status` and the message `message_id`.
pub fn error_page(ctx: &Ctx, status: StatusCode, title_id: &str, message_id: &str) -> Response {
    let page = ErrorPage {
        chrome: Chrome::new(ctx, title_id),
        message: ctx.tr.t(message_id),
    };
    render(status, &page)
}

/// 403 for a form without the right token: nothing was changed.
pub fn forbidden(ctx: &Ctx) -> Response {
    error_page(
        ctx,
        StatusCode::FORBIDDEN,
        "error-forbidden-title",
        "error-forbidden",
    )
}

/// When something the server needs failed (logged where it happened).
pub fn unavailable(ctx: &Ctx) -> Response {
    error_page(
        ctx,
        StatusCode::SERVICE_UNAVAILABLE,
        "error-unavailable-title",
        "error-unavailable",
    )
}

/// A 303 to `to` (after a POST, so a reload does not post again).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A local path to return to: must start with one `/` (never another
/// site), else `/`.
pub fn local_path(path: Option<&str>) -> String {
    match path {
        Some(p)
            if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && p.len() < 200 =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// A time for people: `2026-12-02 10:42 UTC`.
pub fn when(ms: impl std::borrow::Borrow<i64>) -> String {
    let ms = *ms.borrow();
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(local_path(Some("/answers")), "/answers");
        assert_eq!(local_path(Some("//evil.example")), "/");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(Some("/\\evil")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn times_read_as_utc() {
        assert_eq!(when(1_796_169_600_000), "2026-12-02 00:00 UTC");
    }
}
