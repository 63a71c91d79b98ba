//! What keeps the pages safe in a browser, in one place for every page:
//!
//! - **Cookies**: `__Host-` names (so `Secure`, `Path=/` and no `Domain`
//!   are enforced by the browser), `HttpOnly`, `SameSite=Strict`. The
//!   session cookie carries only the session's random token.
//! - **Form tokens** (CSRF): every form of a session carries the session's
//!   form token; the sign-in form, before there is a session, a token
//!   that must equal the one in a pre-session cookie (double submit). A
//!   missing or wrong token is 403 and changes nothing. Compared in
//!   constant time.
//! - **Headers** on every page: a Content-Security-Policy that allows only
//!   our own style sheet and script (no inline script or style), no
//!   framing, no referrer, no caching of pages that show personal data.

use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::Response;
use cookie::{Cookie, SameSite};
use subtle::ConstantTimeEq;

/// The portal session's cookie.
pub const SESSION_COOKIE: &str = "__Host-tt-portal";
/// The pre-session cookie whose value the sign-in form must echo.
pub const PRE_SESSION_COOKIE: &str = "__Host-tt-pre";
/// The chosen language (not secret).
pub const LANGUAGE_COOKIE: &str = "__Host-tt-lang";

/// The value of cookie `name` in the request, if sent.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value for `name`: `__Host-`, Secure, HttpOnly,
/// SameSite=Strict, Path=/. `max_age_secs` `None` makes a session cookie;
/// `Some(0)` removes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age_secs: Option<i64>) -> HeaderValue {
    let mut c = Cookie::build((name.to_owned(), value.to_owned()))
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/");
    if let Some(secs) = max_age_secs {
        c = c.max_age(cookie::time::Duration::seconds(secs));
    }
    HeaderValue::from_str(&c.build().to_string()).expect("cookie values are ASCII tokens")
}

/// Whether a form's token equals the expected one (constant time).
pub fn form_token_matches(given: Option<&str>, expected: &str) -> bool {
    match given {
        Some(given) if !expected.is_empty() => {
            given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
        }
        _ => false,
    }
}

/// The page headers every response of the web door gets.
pub async fn page_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_host_only_secure_http_only_and_strict() {
        let value = set_cookie(SESSION_COOKIE, "abc", None);
        let text = value.to_str().unwrap();
        for part in [
            "__Host-tt-portal=abc",
            "Secure",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
        assert!(!text.contains("Domain"), "{text}");
        assert!(
            set_cookie(SESSION_COOKIE, "", Some(0))
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
    }

    #[test]
    fn a_cookie_is_read_from_any_cookie_header() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-tt-pre=xyz"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, PRE_SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&headers, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn form_tokens_must_be_present_and_equal() {
        assert!(form_token_matches(Some("t0k3n"), "t0k3n"));
        assert!(!form_token_matches(Some("t0k3m"), "t0k3n"));
        assert!(!form_token_matches(Some("t0k3"), "t0k3n"));
        assert!(!form_token_matches(None, "t0k3n"));
        assert!(!form_token_matches(Some(""), ""));
    }
}
