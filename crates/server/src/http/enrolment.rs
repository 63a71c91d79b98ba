//! The enrolment-by-phone functions on the HTTPS door: JSON in, service
//! call, JSON out, like the eight.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use touchtone_api::ErrorBody;
use touchtone_api::enrolment::*;
use touchtone_service::Service;
use touchtone_service::api::Answer;

use super::error::ApiError;
use super::extract::ApiJson;
use super::handlers::caller;

type ApiResult<T> = Result<Json<T>, ApiError>;

#[utoipa::path(post, path = "/api/v1/UserEnrolmentStart", request_body = UserEnrolmentStartRequest,
    responses((status = 200, body = UserEnrolmentStartResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn start(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<UserEnrolmentStartRequest>,
) -> ApiResult<UserEnrolmentStartResponse> {
    let rotated = service
        .enrolment_start(&caller(addr), &req.session, &req.user_id, req.pin)
        .await?;
    let start = rotated.value;
    let offer = start.offer;
    Ok(Json(UserEnrolmentStartResponse {
        session: rotated.session.reveal().to_owned(),
        accepted: start.accepted,
        attempts_left: start.attempts_left,
        locked: start.locked,
        enrolment_id: offer.as_ref().map(|o| o.enrolment_id.clone()),
        required: offer.as_ref().map(|o| o.required),
        questions: offer.map(|o| {
            o.questions
                .into_iter()
                .map(|q| EnrolmentQuestion {
                    question_id: q.question_id,
                    text: q.text,
                    min_digits: q.min_digits,
                    max_digits: q.max_digits,
                })
                .collect()
        }),
    }))
}

#[utoipa::path(post, path = "/api/v1/UserEnrolmentCheck", request_body = UserEnrolmentCheckRequest,
    responses((status = 200, body = UserEnrolmentCheckResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn check(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<UserEnrolmentCheckRequest>,
) -> ApiResult<UserEnrolmentCheckResponse> {
    let rotated = service
        .enrolment_check(
            &caller(addr),
            &req.session,
            &req.enrolment_id,
            &req.question_id,
            req.answer,
            &req.earlier,
        )
        .await?;
    Ok(Json(UserEnrolmentCheckResponse {
        session: rotated.session.reveal().to_owned(),
        ok: rotated.value.is_none(),
        weak: rotated.value.map(|w| w.code().to_owned()),
    }))
}

#[utoipa::path(post, path = "/api/v1/UserEnrolmentSubmit", request_body = UserEnrolmentSubmitRequest,
    responses((status = 200, body = UserEnrolmentSubmitResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn submit(
    State(service): State<Service>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<UserEnrolmentSubmitRequest>,
) -> ApiResult<UserEnrolmentSubmitResponse> {
    let answers = req
        .answers
        .into_iter()
        .map(|a| Answer {
            question_id: a.question_id,
            answer: a.answer,
        })
        .collect();
    let rotated = service
        .enrolment_submit(&caller(addr), &req.session, &req.enrolment_id, answers)
        .await?;
    Ok(Json(UserEnrolmentSubmitResponse {
        session: rotated.session.reveal().to_owned(),
        enrolled: rotated.value,
    }))
}
