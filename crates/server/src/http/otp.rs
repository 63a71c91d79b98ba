//! The voice-OTP doors.
//!
//! - `GET /outbound.cgi?number=&code=&username=&password=` (or the same as
//!   a form POST): the reference API. 200 `{"response_code":"200",
//!   "response_description":"OK","call_id":…}`, 400 for a missing or
//!   malformed parameter, 401 for bad credentials; our refusals beyond the
//!   reference (destination not allowed 403, limits 429) use the same shape.
//! - `POST /api/v1/calls` (JSON, `Idempotency-Key`), `GET /api/v1/calls`,
//!   `GET /api/v1/calls/{id}`, `DELETE /api/v1/calls/{id}`, authenticated
//!   with HTTP Basic as an API user.
//!
//! Both check credentials through the service's shared rules (hashed
//! passwords, allow-lists, throttling). The query string is never logged:
//! the router's trace layer records paths only.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Json;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use touchtone_api::ErrorCode;
use touchtone_api::calls::{
    CallAccepted, CallList, CallMode, CallRecord, CallStatus, CreateCallRequest, HistoryItem,
    LegacyAnswer, ListParams,
};
use touchtone_core::otp::OtpCode;
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_service::api::ApiUserInfo;
use touchtone_service::otp::{CallDetail, CallView, ListQuery, OtpMode, OtpRequest};
use touchtone_service::{Caller, Door, Service, ServiceError};

use super::error::ApiError;
use super::extract::ApiJson;

fn caller(addr: SocketAddr) -> Caller {
    Caller {
        ip: addr.ip(),
        door: Door::Api,
    }
}

// ---- /outbound.cgi ----------------------------------------------------

fn legacy(status: StatusCode, call_id: Option<String>, error: Option<String>) -> Response {
    let mut response = (
        status,
        Json(LegacyAnswer::new(status.as_u16(), call_id, error)),
    )
        .into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    }
    response
}

fn legacy_error(e: ServiceError) -> Response {
    let api = ApiError::from(e);
    let message = (api.status != StatusCode::UNAUTHORIZED).then_some(api.message);
    legacy(api.status, None, message)
}

/// The reference's checks on the parameters, before anything else.
fn legacy_request(
    params: &HashMap<String, String>,
) -> Result<(OtpRequest, String, SecretString), String> {
    let get = |name: &str| params.get(name).map(String::as_str).unwrap_or("");
    let number = get("number");
    if number.is_empty() || number.len() > 15 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err("number must be 1 to 15 digits".into());
    }
    let code = OtpCode::parse(get("code")).map_err(|e| e.to_string())?;
    let username = get("username");
    if username.is_empty() {
        return Err("username is required".into());
    }
    if get("password").is_empty() {
        return Err("password is required".into());
    }
    let mode = match get("mode") {
        "" | "speak" => OtpMode::Speak,
        "verify" => OtpMode::Verify,
        _ => return Err("mode must be speak or verify".into()),
    };
    let language = params.get("language").cloned().filter(|l| !l.is_empty());
    Ok((
        OtpRequest {
            to: number.to_owned(),
            code,
            mode,
            language,
            repeat: None,
            callback_url: None,
            idempotency_key: None,
            about: None,
        },
        username.to_owned(),
        SecretString::from(get("password").to_owned()),
    ))
}

async fn legacy_call(
    service: &Service,
    addr: SocketAddr,
    params: &HashMap<String, String>,
) -> Response {
    let (request, username, password) = match legacy_request(params) {
        Ok(parts) => parts,
        Err(message) => return legacy(StatusCode::BAD_REQUEST, None, Some(message)),
    };
    let caller = caller(addr);
    let api_user = match service
        .authenticate(&caller, &username, password, "otp_call")
        .await
    {
        Ok(u) => u,
        Err(e) => return legacy_error(e),
    };
    match service.otp_accept(&caller, &api_user, request).await {
        Ok(accepted) => legacy(StatusCode::OK, Some(accepted.call_id), None),
        Err(e) => legacy_error(e),
    }
}

pub async fn outbound_get(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    match params {
        Ok(Query(params)) => legacy_call(&service, addr, &params).await,
        Err(_) => legacy(
            StatusCode::BAD_REQUEST,
            None,
            Some("the query string cannot be read".into()),
        ),
    }
}

pub async fn outbound_post(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    match form {
        Ok(Form(params)) => legacy_call(&service, addr, &params).await,
        Err(_) => legacy(
            StatusCode::BAD_REQUEST,
            None,
            Some("send the parameters as application/x-www-form-urlencoded".into()),
        ),
    }
}

// ---- /api/v1/calls ----------------------------------------------------

/// A call as the API shows it.
fn call_status(call: CallDetail, history: Option<Vec<HistoryItem>>) -> CallStatus {
    CallStatus {
        record: CallRecord {
            destination: call.destination,
            dial_string: call.dial_string,
            caller_id: call.caller_id,
            sip_status: call.sip_status,
            ring_ms: call.ring_ms,
            talk_ms: call.talk_ms,
            code_played: call.code_played,
            entries: serde_json::from_str(&call.entries).unwrap_or_default(),
            code: call.code_mask,
        },
        call_id: call.id,
        status: call.status,
        is_final: call.is_final,
        mode: call.mode,
        language: call.language,
        attempts: call.attempts,
        created_at: call.created_at,
        updated_at: call.updated_at,
        expires_at: call.expires_at,
        history,
    }
}

/// A call with its history.
fn call_view(view: CallView) -> CallStatus {
    let history = view
        .history
        .into_iter()
        .map(|h| HistoryItem {
            status: h.status,
            at: h.at,
            detail: h.detail.and_then(|d| serde_json::from_str(&d).ok()),
        })
        .collect();
    call_status(view.call, Some(history))
}

/// HTTP Basic credentials, checked as an API user.
async fn basic_auth(
    service: &Service,
    addr: SocketAddr,
    headers: &HeaderMap,
) -> Result<ApiUserInfo, ApiError> {
    let unauthorized = || {
        ApiError::new(
            ErrorCode::InvalidCredentials,
            "send the API user's name and password with HTTP Basic authentication",
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthorized)?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
        .ok_or_else(unauthorized)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(unauthorized)?;
    let (user, password) = decoded.split_once(':').ok_or_else(unauthorized)?;
    Ok(service
        .authenticate(
            &caller(addr),
            user,
            SecretString::from(password.to_owned()),
            "otp_call",
        )
        .await?)
}

/// Adds the Basic challenge to a 401.
fn challenge(mut response: Response) -> Response {
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"touchtone\""),
        );
    }
    response
}

#[utoipa::path(post, path = "/api/v1/calls", request_body = CreateCallRequest,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1 to 255 visible ASCII characters: a retried request with the same key and body returns the first call")),
    responses((status = 202, body = CallAccepted), (status = 400), (status = 401), (status = 403), (status = 422), (status = 429)))]
pub async fn create_call(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<ApiJson<CreateCallRequest>, ApiError>,
) -> Response {
    let result = async {
        let api_user = basic_auth(&service, addr, &headers).await?;
        let ApiJson(req) = body?;
        let code = OtpCode::parse(req.code.expose_secret())
            .map_err(|e| ApiError::new(ErrorCode::BadRequest, e.to_string()))?;
        let idempotency_key = match headers.get("idempotency-key") {
            Some(v) => Some(
                v.to_str()
                    .map_err(|_| {
                        ApiError::new(
                            ErrorCode::BadRequest,
                            "the Idempotency-Key must be visible ASCII",
                        )
                    })?
                    .to_owned(),
            ),
            None => None,
        };
        let request = OtpRequest {
            to: req.to,
            code,
            mode: match req.mode {
                Some(CallMode::Verify) => OtpMode::Verify,
                Some(CallMode::Speak) | None => OtpMode::Speak,
            },
            language: req.language,
            repeat: req.repeat,
            callback_url: req.callback_url,
            idempotency_key,
            about: None,
        };
        let accepted = service
            .otp_accept(&caller(addr), &api_user, request)
            .await?;
        let mut response = (
            StatusCode::ACCEPTED,
            Json(CallAccepted {
                call_id: accepted.call_id.clone(),
                status: accepted.status,
            }),
        )
            .into_response();
        let headers = response.headers_mut();
        if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/calls/{}", accepted.call_id))
        {
            headers.insert(header::LOCATION, location);
        }
        if accepted.replayed {
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        Ok::<_, ApiError>(response)
    }
    .await;
    challenge(result.unwrap_or_else(IntoResponse::into_response))
}

#[utoipa::path(get, path = "/api/v1/calls/{id}",
    responses((status = 200, body = CallStatus), (status = 401), (status = 404)))]
pub async fn get_call(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let api_user = basic_auth(&service, addr, &headers).await?;
        let view = service.otp_call(&api_user.name, &id).await?;
        Ok::<_, ApiError>(Json(call_view(view)).into_response())
    }
    .await;
    challenge(result.unwrap_or_else(IntoResponse::into_response))
}

#[utoipa::path(delete, path = "/api/v1/calls/{id}",
    responses((status = 200, body = CallStatus), (status = 401), (status = 404)))]
pub async fn cancel_call(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let api_user = basic_auth(&service, addr, &headers).await?;
        let view = service
            .otp_cancel(&caller(addr), &api_user.name, &id)
            .await?;
        Ok::<_, ApiError>(Json(call_view(view)).into_response())
    }
    .await;
    challenge(result.unwrap_or_else(IntoResponse::into_response))
}

#[utoipa::path(get, path = "/api/v1/calls", params(ListParams),
    responses((status = 200, body = CallList), (status = 400), (status = 401)))]
pub async fn list_calls(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let result = async {
        let api_user = basic_auth(&service, addr, &headers).await?;
        let Query(p) = params.map_err(|e| {
            ApiError::new(
                ErrorCode::BadRequest,
                format!("the query does not fit: {}", e.body_text()),
            )
        })?;
        let calls = service
            .otp_calls(
                &api_user.name,
                ListQuery {
                    status: p.status,
                    to: p.to,
                    since: p.since,
                    until: p.until,
                    before: p.before,
                    limit: p.limit,
                },
            )
            .await?;
        Ok::<_, ApiError>(
            Json(CallList {
                calls: calls.into_iter().map(|c| call_status(c, None)).collect(),
            })
            .into_response(),
        )
    }
    .await;
    challenge(result.unwrap_or_else(IntoResponse::into_response))
}
