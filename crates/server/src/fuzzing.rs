//! Entry points for the coverage-guided fuzz targets in `fuzz/` (built
//! only with `--cfg fuzzing`): the bodies of the API, the configuration
//! file and the CSV imports, as an operator or a client can send them.

use touchtone_api::calls::CreateCallRequest;
use touchtone_api::enrolment::*;
use touchtone_api::factors::*;
use touchtone_api::functions::*;

/// A request body of every API function. A body that does not fit gets
/// the message the client would see, which must never repeat a quoted
/// value from the body (it may be a password).
pub fn api_json(data: &[u8]) {
    fn message<T: serde::de::DeserializeOwned>(data: &[u8]) -> Option<String> {
        let e = serde_json::from_slice::<T>(data).err()?;
        let message = crate::http::source_message(&e);
        // What serde expected is ours (field and variant names); the rest
        // is what could carry the client's input.
        Some(
            message
                .split(", expected")
                .next()
                .unwrap_or_default()
                .to_owned(),
        )
    }
    fn check<T: serde::de::DeserializeOwned>(data: &[u8]) {
        let Some(about_input) = message::<T>(data) else {
            return;
        };
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        for quoted in text.split('"').skip(1).step_by(2) {
            // Field names and values that are names may come back.
            if quoted.len() < 4
                || crate::http::looks_like_a_name(quoted)
                || !about_input.contains(quoted)
            {
                continue;
            }
            // The message's own words may match a value by chance: the
            // same body with that value spelled otherwise tells.
            let filler = "~".repeat(quoted.len());
            let other = text.replace(quoted, &filler);
            let echoed = message::<T>(other.as_bytes())
                .is_some_and(|m| m.contains(&filler) || !m.contains(quoted));
            assert!(!echoed, "the message repeats {quoted:?}: {about_input}");
        }
    }
    check::<LoginRequest>(data);
    check::<SessionRequest>(data);
    check::<UserIvrListRequest>(data);
    check::<UserRequest>(data);
    check::<UserQuestionsGetRequest>(data);
    check::<UserAnswersValidateRequest>(data);
    check::<UserPasswordSyncRequest>(data);
    check::<UserAccountsUnlockRequest>(data);
    check::<UserEnrolmentStartRequest>(data);
    check::<UserEnrolmentCheckRequest>(data);
    check::<UserEnrolmentSubmitRequest>(data);
    check::<UserFactorsGetRequest>(data);
    check::<UserFactorChallengeRequest>(data);
    check::<UserFactorVerifyRequest>(data);
    check::<CreateCallRequest>(data);
}

/// `touchtone.toml`: loading and validating it.
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::config::Config::from_toml(text);
    }
}

/// The people and the answers CSV imports.
pub fn csv_imports(data: &[u8]) {
    let _ = crate::cli::read_people_csv_from(data, "people.csv");
    let _ = crate::cli::read_answers_csv_from(data, "answers.csv");
}
