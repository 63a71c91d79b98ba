//! Errors as HTTP answers: a status and `{"error": {"code", "message"}}`.
//! The mapping from service errors to status codes lives here and only
//! here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use touchtone_service::ServiceError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_session`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let status = match &e {
            ServiceError::BadRequest(_) | ServiceError::AnswersMismatch(_) => {
                StatusCode::BAD_REQUEST
            }
            ServiceError::InvalidCredentials
            | ServiceError::InvalidSession
            | ServiceError::SessionExpired
            | ServiceError::SessionRevoked => StatusCode::UNAUTHORIZED,
            ServiceError::NotVerified => StatusCode::FORBIDDEN,
            ServiceError::UnknownUser
            | ServiceError::UnknownChallenge
            | ServiceError::UnknownAccount(_) => StatusCode::NOT_FOUND,
            ServiceError::ChallengeUsed
            | ServiceError::NotEnrolled
            | ServiceError::NoAccounts
            | ServiceError::PolicyConflict(_)
            | ServiceError::Conflict(_) => StatusCode::CONFLICT,
            ServiceError::ChallengeExpired => StatusCode::GONE,
            ServiceError::PasswordPolicy(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::UserLocked => StatusCode::LOCKED,
            ServiceError::Throttled => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::Unavailable(_) | ServiceError::DirectoryUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ServiceError::DestinationRefused(_) => StatusCode::FORBIDDEN,
            ServiceError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::IdempotencyConflict => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::UnknownCall => StatusCode::NOT_FOUND,
        };
        if let ServiceError::Internal(detail) = &e {
            tracing::error!(%detail, "internal error");
        }
        Self {
            status,
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("60"),
            );
        }
        response
    }
}
