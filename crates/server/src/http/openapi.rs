//! The OpenAPI document of the remote API, served at
//! `/api/v1/openapi.json`.

use utoipa::OpenApi;

use super::error::{ErrorBody, ErrorDetail};
use super::types::*;
use super::{handlers, otp};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "touchtone remote API",
        description = "Identity verification and self-service over the telephone: the eight functions an IVR platform calls. \
Every call but Login presents the newest one-time session ID and receives the next; presenting a spent ID revokes the session. \
Voice OTP: /api/v1/calls (HTTP Basic as an API user) queues a call that speaks a code or asks for it; the reference's GET /outbound.cgi is served too.",
    ),
    paths(
        handlers::login,
        handlers::user_ivr_list,
        handlers::user_questions_get,
        handlers::user_answers_validate,
        handlers::password_random_get,
        handlers::user_password_sync,
        handlers::user_accounts_unlock,
        handlers::logout,
        otp::create_call,
        otp::list_calls,
        otp::get_call,
        otp::cancel_call,
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        LoginRequest,
        SessionResponse,
        SessionRequest,
        UserIvrListRequest,
        UserIvrListResponse,
        UserEntry,
        UserRequest,
        UserQuestionsGetRequest,
        UserQuestionsGetResponse,
        QuestionEntry,
        UserAnswersValidateRequest,
        AnswerEntry,
        UserAnswersValidateResponse,
        PasswordRandomGetResponse,
        UserPasswordSyncRequest,
        UserAccountsUnlockRequest,
        AccountEntry,
        AccountsResponse,
        AccountResultEntry,
        LogoutResponse,
        otp::CreateCallRequest,
        otp::CallAccepted,
        otp::CallStatus,
        otp::CallRecord,
        otp::HistoryItem,
        otp::CallList,
    ))
)]
struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
