//! `ApiJson`: axum's JSON extractor with our error answers, so a malformed
//! body, a wrong type, an unknown field or an oversized body gets a clear
//! 4xx in the API's error format before anything is touched.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use touchtone_api::ErrorCode;

use super::ApiError;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejection_error(&rejection)),
        }
    }
}

fn rejection_error(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            // serde's message names the field and the problem; it never
            // echoes a value.
            ApiError::new(
                ErrorCode::InvalidRequest,
                format!("the request does not fit: {}", source_message(e)),
            )
        }
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::new(ErrorCode::MalformedJson, "the body is not valid JSON")
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(ErrorCode::PayloadTooLarge, "the body is too large")
        }
        // The body could not be read at all: keep the status axum chose.
        other => ApiError {
            status: other.status(),
            ..ApiError::new(ErrorCode::BadRequest, "the body could not be read")
        },
    }
}

/// serde's innermost message (it names the field and what was expected),
/// with any quoted string value blanked: a misplaced password must not be
/// echoed back or reach a log.
pub(crate) fn source_message(e: &dyn std::error::Error) -> String {
    let mut innermost = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        innermost = s.to_string();
        source = s.source();
    }
    if let Some(named) = unknown_name(&innermost) {
        return named;
    }
    let mut blanked = String::with_capacity(innermost.len());
    let mut in_quotes = false;
    // serde quotes a value as Rust does: `\"` and `\\` inside do not end it.
    let mut escaped = false;
    for c in innermost.chars() {
        if in_quotes && (escaped || c == '\\') {
            escaped = !escaped;
            continue;
        }
        if c == '"' {
            in_quotes = !in_quotes;
            blanked.push_str(if in_quotes { "\"…" } else { "" });
            if !in_quotes {
                blanked.push('"');
            }
        } else if !in_quotes {
            blanked.push(c);
        }
    }
    without_type_names(&blank_unexpected_values(&blanked))
}

/// serde names the Rust type it expected (`expected struct
/// UserIvrListRequest`): the client needs the JSON kind, not our names.
fn without_type_names(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some((at, marker, kind)) = [
        ("expected struct ", "expected a JSON object"),
        ("expected enum ", "expected one of the documented values"),
    ]
    .iter()
    .filter_map(|(marker, kind)| rest.find(marker).map(|i| (i, *marker, *kind)))
    .min_by_key(|(i, _, _)| *i)
    {
        out.push_str(&rest[..at]);
        out.push_str(kind);
        let name = &rest[at + marker.len()..];
        let end = name
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(name.len());
        rest = &name[end..];
    }
    out.push_str(rest);
    out
}

/// serde's `unknown field `NAME`, expected …` and `unknown variant
/// `NAME`, expected …`: a misspelt field or value (`acounts`, `speek`) is
/// named back, which helps; a name that does not look like one (it may
/// hold backticks, quotes, markup) is blanked. What follows the name is
/// ours: the names serde expected, and where.
fn unknown_name(message: &str) -> Option<String> {
    // After the path to the field, if any (names of our own fields).
    // The first marker is serde's; a later one is inside the name.
    let at = ["unknown field `", "unknown variant `"]
        .iter()
        .filter_map(|marker| message.find(marker).map(|i| i + marker.len()))
        .min()?;
    let (head, rest) = message.split_at(at);
    let close = ["`, expected", "`, there are no"]
        .iter()
        .filter_map(|m| rest.rfind(m))
        .max();
    let Some(close) = close else {
        return Some(format!("{head}…`"));
    };
    let name = &rest[..close];
    Some(format!(
        "{head}{}{}",
        if looks_like_a_name(name) { name } else { "…" },
        &rest[close..]
    ))
}

/// Whether `text` could be a field or value name (`acounts`, `speek`):
/// what an error message may name back.
pub(crate) fn looks_like_a_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 40
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// serde writes the unexpected value of a wrong type in backticks
/// (``invalid type: integer `482913`, expected a string``): a code or a
/// password sent as a number must not be echoed either. Field names, also
/// in backticks, are kept.
fn blank_unexpected_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = ["invalid type: ", "invalid value: "]
        .iter()
        .filter_map(|marker| rest.find(marker).map(|i| i + marker.len()))
        .min()
    {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // The value is the first backticked span before the next comma.
        let span = rest.find('`').zip(rest.find(',').or(Some(rest.len())));
        match span {
            Some((open, comma)) if open < comma => {
                let Some(close) = rest[open + 1..].find('`') else {
                    break;
                };
                out.push_str(&rest[..open]);
                out.push_str("`…`");
                rest = &rest[open + 1 + close + 1..];
            }
            _ => {}
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // only deserialised
    struct Probe {
        n: u32,
    }

    #[test]
    fn quoted_values_are_blanked_but_field_names_kept() {
        let e = serde_json::from_str::<Probe>(r#"{"n": "hunter2"}"#).unwrap_err();
        let message = source_message(&e);
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("invalid type"), "{message}");
        let e = serde_json::from_str::<Probe>(r#"{"m": 1}"#).unwrap_err();
        assert!(source_message(&e).contains("`m`"));
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)] // only deserialised
        struct Text {
            code: String,
        }
        let e = serde_json::from_str::<Text>(r#"{"code": 482913}"#).unwrap_err();
        let message = source_message(&e);
        assert!(!message.contains("482913"), "{message}");
        assert!(message.contains("invalid type: integer `…`"), "{message}");
        let e = serde_json::from_str::<Probe>(r#"{"n": -7}"#).unwrap_err();
        assert!(!source_message(&e).contains("-7"), "{}", source_message(&e));
    }

    /// Found by the fuzz target `api_json`.
    #[test]
    fn a_value_with_escaped_quotes_is_blanked_whole() {
        let e = serde_json::from_str::<Probe>(r#"{"n": "a\"hunter2\"b\\"}"#).unwrap_err();
        let message = source_message(&e);
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("invalid type: string \"…\""), "{message}");
    }

    #[test]
    fn no_markup_and_no_rust_type_names_come_back() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Mode {
            Speak,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)] // only deserialised
        struct Call {
            mode: Mode,
        }
        for (body, kept) in [
            (
                r#"{"mode": "<script>alert(1)</script>"}"#,
                "unknown variant `…`, expected `speak`",
            ),
            (r#"{"mode": "speek"}"#, "unknown variant `speek`"),
            (r#"{"<img src=x>": 1}"#, "unknown field `…`"),
            (r#"{"mdoe": 1}"#, "unknown field `mdoe`"),
            // Found by the fuzz target `api_json`: a name with a backtick.
            (r#"{"sess`on<b>": 1}"#, "unknown field `…`, expected `mode`"),
            (
                r#"{"a`, expected <x>": 1}"#,
                "unknown field `…`, expected `mode`",
            ),
            (
                r#"{"mode": "unknown field `x<"}"#,
                "unknown variant `…`, expected `speak`",
            ),
            (r#""x""#, "expected a JSON object"),
        ] {
            let e = serde_json::from_str::<Call>(body).unwrap_err();
            let message = source_message(&e);
            assert!(message.contains(kept), "{body}: {message}");
            for leak in ["<", "Call", "Mode"] {
                assert!(!message.contains(leak), "{body}: {message}");
            }
        }
    }
}
