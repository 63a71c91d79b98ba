//! One handler per API function: JSON in (the wire types of
//! `touchtone-api`), service call, JSON out.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use touchtone_api::functions::*;
use touchtone_api::{ErrorBody, ErrorCode};
use touchtone_service::api::{AccountResult, AccountSelector, Answer};
use touchtone_service::{Caller, Door, Service};

use super::error::ApiError;
use super::extract::ApiJson;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub(super) fn caller(addr: SocketAddr) -> Caller {
    Caller {
        ip: addr.ip(),
        door: Door::Api,
    }
}

#[utoipa::path(post, path = "/api/v1/Login", request_body = LoginRequest,
    responses((status = 200, body = SessionResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<SessionResponse> {
    let token = service
        .login(&caller(addr), &req.user, req.password)
        .await?;
    Ok(Json(SessionResponse {
        session: token.reveal().to_owned(),
    }))
}

#[utoipa::path(post, path = "/api/v1/UserIVRList", request_body = UserIvrListRequest,
    responses((status = 200, body = UserIvrListResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn user_ivr_list(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<UserIvrListRequest>,
) -> ApiResult<UserIvrListResponse> {
    let rotated = service
        .ivr_list(&caller(addr), &req.session, &req.ivr_id)
        .await?;
    Ok(Json(UserIvrListResponse {
        session: rotated.session.reveal().to_owned(),
        users: rotated
            .value
            .into_iter()
            .map(|m| UserEntry {
                user_id: m.user_id,
                display_name: m.display_name,
                department: m.department,
            })
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/UserQuestionsGet", request_body = UserQuestionsGetRequest,
    responses((status = 200, body = UserQuestionsGetResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn user_questions_get(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<UserQuestionsGetRequest>,
) -> ApiResult<UserQuestionsGetResponse> {
    let rotated = service
        .questions_get_for(
            &caller(addr),
            &req.session,
            &req.user_id,
            req.caller_number.as_deref(),
        )
        .await?;
    Ok(Json(UserQuestionsGetResponse {
        session: rotated.session.reveal().to_owned(),
        challenge_id: rotated.value.challenge_id,
        questions: rotated
            .value
            .questions
            .into_iter()
            .map(|q| QuestionEntry {
                question_id: q.question_id,
                text: q.text,
                max_digits: q.max_digits,
            })
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/UserAnswersValidate", request_body = UserAnswersValidateRequest,
    responses((status = 200, body = UserAnswersValidateResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn user_answers_validate(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<UserAnswersValidateRequest>,
) -> ApiResult<UserAnswersValidateResponse> {
    let answers = req
        .answers
        .into_iter()
        .map(|a| Answer {
            question_id: a.question_id,
            answer: a.answer,
        })
        .collect();
    let rotated = service
        .answers_validate(&caller(addr), &req.session, &req.challenge_id, answers)
        .await?;
    let v = rotated.value;
    Ok(Json(UserAnswersValidateResponse {
        session: rotated.session.reveal().to_owned(),
        valid: v.valid,
        attempts_left: v.attempts_left,
        locked: v.locked,
    }))
}

#[utoipa::path(post, path = "/api/v1/PasswordRandomGet", request_body = UserRequest,
    responses((status = 200, body = PasswordRandomGetResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn password_random_get(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<UserRequest>,
) -> ApiResult<PasswordRandomGetResponse> {
    let rotated = service
        .password_random_get(&caller(addr), &req.session, &req.user_id)
        .await?;
    Ok(Json(PasswordRandomGetResponse {
        session: rotated.session.reveal().to_owned(),
        password: rotated.value.password,
        spoken: rotated.value.spoken,
    }))
}

#[utoipa::path(post, path = "/api/v1/UserPasswordSync", request_body = UserPasswordSyncRequest,
    responses((status = 200, body = AccountsResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn user_password_sync(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<UserPasswordSyncRequest>,
) -> ApiResult<AccountsResponse> {
    let accounts = selectors(req.accounts);
    let rotated = service
        .password_sync(
            &caller(addr),
            &req.session,
            &req.user_id,
            req.password,
            accounts,
        )
        .await?;
    Ok(Json(AccountsResponse {
        session: rotated.session.reveal().to_owned(),
        results: rotated.value.into_iter().map(account_result).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/UserAccountsUnlock", request_body = UserAccountsUnlockRequest,
    responses((status = 200, body = AccountsResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn user_accounts_unlock(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<UserAccountsUnlockRequest>,
) -> ApiResult<AccountsResponse> {
    let accounts = selectors(req.accounts);
    let rotated = service
        .accounts_unlock(&caller(addr), &req.session, &req.user_id, accounts)
        .await?;
    Ok(Json(AccountsResponse {
        session: rotated.session.reveal().to_owned(),
        results: rotated.value.into_iter().map(account_result).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/Logout", request_body = SessionRequest,
    responses((status = 200, body = LogoutResponse), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<SessionRequest>,
) -> ApiResult<LogoutResponse> {
    service.logout(&caller(addr), &req.session).await?;
    Ok(Json(LogoutResponse { ended: true }))
}

fn selectors(accounts: Option<Vec<AccountEntry>>) -> Option<Vec<AccountSelector>> {
    accounts.map(|list| {
        list.into_iter()
            .map(|a| AccountSelector {
                account: a.account,
                target: a.target,
            })
            .collect()
    })
}

fn account_result(r: AccountResult) -> AccountResultEntry {
    AccountResultEntry {
        account: r.account,
        target: r.target,
        ok: r.ok,
        error: r.error,
        message: r.message,
        was_locked: r.was_locked,
    }
}

pub async fn openapi_document(State(service): State<Service>) -> Response {
    Json(super::openapi::document(service.settings())).into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "no such API function; see /api/v1/openapi.json",
    )
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "API functions are called with POST",
    )
}

/// A panic in a handler becomes a 500 in the API's format (and is logged);
/// the server keeps serving.
pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(ErrorCode::Internal, "internal error").into_response()
}
