//! The OpenAPI document of the remote API, served at
//! `/api/v1/openapi.json`: the handlers' paths, with the schemas of the
//! wire types in `touchtone-api`.

use touchtone_api::calls::*;
use touchtone_api::enrolment::*;
use touchtone_api::factors::*;
use touchtone_api::functions::*;
use touchtone_api::{ErrorBody, ErrorCode, ErrorDetail};
use utoipa::OpenApi;

use super::{enrolment, factors, handlers, otp};

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
        enrolment::start,
        enrolment::check,
        enrolment::submit,
        factors::get,
        factors::challenge,
        factors::verify,
        otp::create_call,
        otp::list_calls,
        otp::get_call,
        otp::cancel_call,
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        ErrorCode,
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
        UserEnrolmentStartRequest,
        UserEnrolmentStartResponse,
        EnrolmentQuestion,
        UserEnrolmentCheckRequest,
        UserEnrolmentCheckResponse,
        UserEnrolmentSubmitRequest,
        UserEnrolmentSubmitResponse,
        UserFactorsGetRequest,
        UserFactorsGetResponse,
        OperationFactors,
        UserFactorChallengeRequest,
        UserFactorChallengeResponse,
        UserFactorVerifyRequest,
        UserFactorVerifyResponse,
        CallMode,
        CreateCallRequest,
        CallAccepted,
        CallStatus,
        CallRecord,
        HistoryItem,
        CallList,
    ))
)]
struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
