//! The OpenAPI document of the remote API, served at
//! `/api/v1/openapi.json`: the handlers' paths, with the schemas of the
//! wire types in `touchtone-api`.

use serde_json::{Value, json};
use touchtone_api::calls::*;
use touchtone_api::enrolment::*;
use touchtone_api::factors::*;
use touchtone_api::functions::*;
use touchtone_api::{ErrorBody, ErrorCode, ErrorDetail};
use touchtone_service::Settings;
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

/// The document as served: the handlers' own paths, completed with what
/// every request can meet before its handler runs (see [`complete`]).
pub fn document(settings: &Settings) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
    complete(&mut doc, settings);
    // What this server is configured to take.
    let call = &mut doc["components"]["schemas"]["CreateCallRequest"]["properties"];
    call["language"]["enum"] = json!(settings.otp.languages);
    call["repeat"]["maximum"] = json!(settings.otp.max_repeats);
    doc
}

/// What the handlers' annotations cannot say, added to the document in one
/// place so that it describes every answer the server really sends:
///
/// - each JSON function can also answer 400 (`malformed_json`,
///   `bad_request`), 413 (body too large), 415 (not `application/json`),
///   422 (`invalid_request`: the body does not fit the schema), 500 and
///   503 (the database is unreachable), all with the error body;
/// - `/api/v1/calls` is authenticated with HTTP Basic as an API user, and
///   answers 401 with a challenge, 429 when throttled;
/// - the reference's `/outbound.cgi`, which has its own answer shape.
fn complete(doc: &mut Value, settings: &Settings) {
    let error = |description: &str| json!({"description": description, "content": error_body()});
    let common = [
        (
            "400",
            error("the body is not JSON, or a field's value is refused (`bad_request`)"),
        ),
        (
            "401",
            error("the session ID (or, for `Login`, the credentials) is not accepted"),
        ),
        ("413", error("the body is larger than the server takes")),
        (
            "415",
            error("the body is not sent as `Content-Type: application/json`"),
        ),
        (
            "422",
            error("the body does not fit the request's schema (`invalid_request`)"),
        ),
        ("500", error("an internal error")),
        (
            "503",
            error("the database cannot be reached now; try again"),
        ),
    ];
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            let calls = path.starts_with("/api/v1/calls");
            for (method, operation) in item.iter_mut() {
                let Some(responses) = operation
                    .get_mut("responses")
                    .and_then(Value::as_object_mut)
                else {
                    continue;
                };
                for (status, answer) in &common {
                    let applies = match *status {
                        // Only requests with a body meet the body's checks.
                        "413" | "415" | "422" => method == "post",
                        _ => true,
                    };
                    if applies {
                        responses.entry(*status).or_insert_with(|| answer.clone());
                    }
                }
                if calls {
                    responses.insert("401".into(), basic_challenge());
                    responses.entry("429").or_insert_with(|| {
                        error("too many refused sign-ins, or a call limit is reached")
                    });
                    operation["security"] = json!([{"basic": []}]);
                }
                // Every answer carries a body; the bare statuses of some
                // annotations get the error body.
                if let Some(responses) = operation
                    .get_mut("responses")
                    .and_then(Value::as_object_mut)
                {
                    for (status, answer) in responses.iter_mut() {
                        if !status.starts_with('2') && answer.get("content").is_none() {
                            answer["content"] = error_body();
                        }
                    }
                }
            }
        }
        paths.insert("/outbound.cgi".into(), outbound(&settings.otp.languages));
    }
    doc["components"]["securitySchemes"] = json!({
        "basic": {"type": "http", "scheme": "basic", "description": "an API user's name and password"}
    });
    doc["components"]["schemas"]["LegacyAnswer"] =
        serde_json::to_value(<LegacyAnswer as utoipa::PartialSchema>::schema())
            .unwrap_or_else(|_| json!({}));
}

fn basic_challenge() -> Value {
    json!({
        "description": "no or wrong HTTP Basic credentials",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Basic realm=\"touchtone\"`"}},
        "content": error_body(),
    })
}

/// The API's error body as a response's content.
fn error_body() -> Value {
    json!({"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}})
}

/// The reference's voice-OTP door: the same parameters in the query string
/// (GET) or a form (POST), and the reference's answer for every status.
fn outbound(languages: &[String]) -> Value {
    let parameters = json!({
        "number": {"type": "string", "pattern": "^[0-9]{1,15}$", "description": "the number to call, digits only"},
        "code": {"type": "string", "pattern": "^[0-9]{1,20}$", "description": "the code to speak or ask for"},
        "username": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": "^[^\\x00-\\x1F\\x7F-\\x9F]+$", "description": "the API user"},
        "password": {"type": "string", "minLength": 1, "format": "password"},
        "mode": {"type": "string", "enum": ["", "speak", "verify"], "description": "`speak` (default) or `verify`"},
        "language": {"type": "string", "enum": languages},
    });
    let required = ["number", "code", "username", "password"];
    let answer = |description: &str| {
        json!({"description": description,
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LegacyAnswer"}}}})
    };
    let responses = json!({
        "200": answer("the call is queued: `response_code` \"200\" and its `call_id`"),
        "400": answer("a parameter is missing or malformed"),
        "401": answer("the credentials are not accepted"),
        "403": answer("the destination is not allowed"),
        "422": answer("the request is refused (an unknown language, say)"),
        "429": answer("too many refused sign-ins, or a call limit is reached"),
        "500": answer("an internal error"),
        "503": answer("the database cannot be reached now; try again"),
    });
    let query: Vec<Value> = parameters
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| {
            json!({"name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": schema})
        })
        .collect();
    json!({
        "get": {
            "summary": "Queue a voice-OTP call (the reference API)",
            "operationId": "outbound_get",
            "parameters": query,
            "responses": responses,
        },
        "post": {
            "summary": "Queue a voice-OTP call (the reference API, as a form)",
            "operationId": "outbound_post",
            "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "properties": parameters, "required": required,
            }}}},
            "responses": responses,
        },
    })
}
