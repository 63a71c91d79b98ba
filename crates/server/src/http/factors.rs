//! The factor functions on the HTTPS door: JSON in, service call, JSON out.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use touchtone_api::ErrorBody;
use touchtone_api::factors::*;
use touchtone_core::secret::ExposeSecret;
use touchtone_service::Service;
use touchtone_service::factors::api::FactorsView;

use super::error::ApiError;
use super::extract::ApiJson;
use super::handlers::caller;

type ApiResult<T> = Result<Json<T>, ApiError>;

#[utoipa::path(post, path = "/api/v1/UserFactorsGet", request_body = UserFactorsGetRequest,
    responses((status = 200, body = UserFactorsGetResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<UserFactorsGetRequest>,
) -> ApiResult<UserFactorsGetResponse> {
    let rotated = service
        .factors_get(&caller(addr), &req.session, &req.user_id)
        .await?;
    let view = rotated.value;
    Ok(Json(UserFactorsGetResponse {
        session: rotated.session.reveal().to_owned(),
        enrolled: FactorsView::names(&view.enrolled),
        proved: FactorsView::names(&view.proved),
        operations: view.operations_wire(),
    }))
}

#[utoipa::path(post, path = "/api/v1/UserFactorChallenge", request_body = UserFactorChallengeRequest,
    responses((status = 200, body = UserFactorChallengeResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn challenge(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<UserFactorChallengeRequest>,
) -> ApiResult<UserFactorChallengeResponse> {
    let rotated = service
        .factor_challenge(&caller(addr), &req.session, &req.user_id, &req.factor)
        .await?;
    let c = rotated.value;
    Ok(Json(UserFactorChallengeResponse {
        session: rotated.session.reveal().to_owned(),
        challenge_id: c.challenge_id,
        factor: c.factor.as_str().to_owned(),
        digits: c.digits,
    }))
}

#[utoipa::path(post, path = "/api/v1/UserFactorVerify", request_body = UserFactorVerifyRequest,
    responses((status = 200, body = UserFactorVerifyResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn verify(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<UserFactorVerifyRequest>,
) -> ApiResult<UserFactorVerifyResponse> {
    let rotated = service
        .factor_verify(
            &caller(addr),
            &req.session,
            &req.challenge_id,
            req.code.expose_secret(),
        )
        .await?;
    let v = rotated.value;
    Ok(Json(UserFactorVerifyResponse {
        session: rotated.session.reveal().to_owned(),
        valid: v.valid,
        attempts_left: v.attempts_left,
        locked: v.locked,
    }))
}
