//! Choosing questions and enrolling answers. Each slot is a question
//! (from the pool, or one's own), the answer and the answer again; a weak
//! answer comes back with its reason next to it, and with the digits it
//! would be on the keypad. Changing answers needs the password given in
//! the last few minutes: otherwise the page asks for it first.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use touchtone_core::answer_strength::{AnswerKind, WeakAnswer};
use touchtone_core::keypad::map_to_keypad;
use touchtone_core::secret::SecretString;
use touchtone_service::Service;
use touchtone_service::portal::answers::{ChosenQuestion, ProblemReason};
use touchtone_service::portal::{AnswerChoice, EnrolmentForm, PortalError};

use crate::i18n::Tr;
use crate::page::{self, Chrome, Ctx};

/// The value of a slot's question field that means "my own question".
const OWN: &str = "own";

#[derive(Template)]
#[template(path = "answers.html")]
struct AnswersPage {
    chrome: Chrome,
    csrf: String,
    form: EnrolmentForm,
    slots: Vec<Slot>,
    /// The password must be given again before submitting.
    reauth: bool,
    reauth_error: Option<String>,
    /// A summary of the problems, for the top of the page.
    summary: Option<String>,
}

#[derive(Template)]
#[template(path = "answers_done.html")]
struct DonePage {
    chrome: Chrome,
    /// Each question with the digits the person keys for it.
    enrolled: Vec<(String, String)>,
}

/// One slot as shown.
struct Slot {
    index: usize,
    /// The chosen question's ID, or `own`, or empty.
    chosen: String,
    own_text: String,
    /// Keypad digits of what was typed (shown after a submit).
    keypad: String,
    hint: String,
    error: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct FormQuery {
    reauth: Option<String>,
}

pub async fn form(
    State(service): State<Service>,
    ctx: Ctx,
    Query(query): Query<FormQuery>,
) -> Response {
    let (token, session) = match super::session(&service, &ctx).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let form = match service.portal_enrolment_form(&ctx.caller, &token).await {
        Ok(form) => form,
        Err(e) => return super::failure(&ctx, e),
    };
    // Start from what is enrolled, else from the pool in order.
    let mut initial: Vec<String> = form
        .questions
        .iter()
        .filter(|q| q.enrolled)
        .map(|q| q.id.clone())
        .collect();
    for q in form.questions.iter().filter(|q| !q.enrolled && !q.own) {
        if initial.len() >= form.required {
            break;
        }
        initial.push(q.id.clone());
    }
    initial.truncate(form.required);
    let slots = (0..form.required)
        .map(|index| {
            let chosen = initial.get(index).cloned().unwrap_or_default();
            Slot {
                hint: hint(&ctx.tr, &form, &chosen),
                index,
                chosen,
                own_text: String::new(),
                keypad: String::new(),
                error: None,
            }
        })
        .collect();
    let reauth_error = match query.reauth.as_deref() {
        Some("refused") => Some(ctx.tr.t("reauth-refused")),
        Some("throttled") => Some(ctx.tr.t("sign-in-throttled")),
        _ => None,
    };
    let page = AnswersPage {
        chrome: Chrome::new(&ctx, "answers-title").signed_in(&session.display_name, &session.csrf),
        csrf: session.csrf.clone(),
        reauth: !form.recently_authenticated,
        form,
        slots,
        reauth_error,
        summary: None,
    };
    page::render(StatusCode::OK, &page)
}

pub async fn submit(
    State(service): State<Service>,
    ctx: Ctx,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let (token, session) =
        match super::form_session(&service, &ctx, fields.get("csrf").map(String::as_str)).await {
            Ok(s) => s,
            Err(response) => return response,
        };
    let form = match service.portal_enrolment_form(&ctx.caller, &token).await {
        Ok(form) => form,
        Err(e) => return super::failure(&ctx, e),
    };
    let field = |name: String| fields.get(&name).cloned().unwrap_or_default();
    let mut slots = Vec::with_capacity(form.required);
    let mut choices = Vec::with_capacity(form.required);
    for index in 0..form.required {
        let chosen = field(format!("q{index}"));
        let own_text = field(format!("own{index}"));
        let answer = field(format!("a{index}"));
        let question = match chosen.as_str() {
            "" => None,
            OWN => Some(ChosenQuestion::Own(own_text.clone())),
            id => Some(ChosenQuestion::Existing(id.to_owned())),
        };
        slots.push(Slot {
            hint: hint(&ctx.tr, &form, &chosen),
            keypad: spaced(&map_to_keypad(&answer)),
            index,
            chosen,
            own_text,
            error: None,
        });
        choices.push(AnswerChoice {
            question,
            answer: SecretString::from(answer),
            confirm: SecretString::from(field(format!("c{index}"))),
        });
    }
    match service.portal_enrol(&ctx.caller, &token, choices).await {
        Ok(enrolled) => {
            let page = DonePage {
                chrome: Chrome::new(&ctx, "answers-title")
                    .signed_in(&session.display_name, &session.csrf),
                enrolled: enrolled
                    .into_iter()
                    .map(|e| (e.question, spaced(&e.keypad)))
                    .collect(),
            };
            page::render(StatusCode::OK, &page)
        }
        Err(PortalError::Invalid(problems)) => {
            for problem in &problems {
                if let Some(slot) = slots.get_mut(problem.slot) {
                    slot.error = Some(reason(&ctx.tr, &problem.reason));
                }
            }
            let page = AnswersPage {
                chrome: Chrome::new(&ctx, "answers-title")
                    .signed_in(&session.display_name, &session.csrf),
                csrf: session.csrf.clone(),
                reauth: false,
                form,
                slots,
                reauth_error: None,
                summary: Some(ctx.tr.tn("answers-problems", "count", problems.len())),
            };
            page::render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(PortalError::ReauthRequired) => page::see_other("/answers"),
        Err(e) => super::failure(&ctx, e),
    }
}

/// What a slot's question expects, under the field.
fn hint(tr: &Tr, form: &EnrolmentForm, chosen: &str) -> String {
    match form.questions.iter().find(|q| q.id == chosen) {
        Some(q) if q.kind == AnswerKind::Year => tr.t("hint-year"),
        Some(q) => tr.t1(
            "hint-digits",
            "range",
            format!("{}–{}", q.min_digits, q.max_digits),
        ),
        None => String::new(),
    }
}

/// Digits with spaces between (`7 3 9`), as they are keyed.
fn spaced(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() * 2);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A problem in the person's words.
fn reason(tr: &Tr, reason: &ProblemReason) -> String {
    match reason {
        ProblemReason::NoQuestion => tr.t("problem-no-question"),
        ProblemReason::UnknownQuestion => tr.t("problem-unknown-question"),
        ProblemReason::QuestionTwice => tr.t("problem-question-twice"),
        ProblemReason::OwnQuestionText => tr.t("problem-own-question"),
        ProblemReason::Mismatch => tr.t("problem-mismatch"),
        ProblemReason::NotKeyable => tr.t("problem-not-keyable"),
        ProblemReason::WrongCount { required } => tr.tn("problem-count", "count", *required),
        ProblemReason::Weak(weak) => match weak {
            WeakAnswer::TooShort { min } => tr.tn("weak-too-short", "min", *min),
            WeakAnswer::TooLong { max } => tr.tn("weak-too-long", "max", *max),
            WeakAnswer::OneDigitRepeated => tr.t("weak-repeated"),
            WeakAnswer::Run => tr.t("weak-run"),
            WeakAnswer::UserId => tr.t("weak-user-id"),
            WeakAnswer::YearOutOfRange { from, to } => {
                tr.t1("weak-year", "range", format!("{from}–{to}"))
            }
            WeakAnswer::SameAsAnother => tr.t("weak-same"),
        },
    }
}
