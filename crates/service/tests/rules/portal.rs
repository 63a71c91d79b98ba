//! The portal's rules: one answer for unknown, wrong, locked and disabled;
//! a throttle per login and per address; wrong passwords counted into the
//! lockout every door shares; sessions that end when their person is
//! locked; answers judged before anything changes; and the phone
//! verifying with the answers just enrolled.

use touchtone_core::answer_strength::WeakAnswer;
use touchtone_core::secret::SecretString;
use touchtone_service::Door;
use touchtone_service::portal::PortalError;
use touchtone_service::portal::answers::{AnswerChoice, ChosenQuestion, ProblemReason};
use touchtone_testkit::both_databases;

use crate::harness::*;

/// The portal door from an address.
fn portal(ip: &str) -> touchtone_service::Caller {
    caller(Door::Portal, ip)
}

fn choice(question: &str, answer: &str) -> AnswerChoice {
    AnswerChoice {
        question: Some(ChosenQuestion::Existing(question.into())),
        answer: SecretString::from(answer.to_owned()),
        confirm: SecretString::from(answer.to_owned()),
    }
}

both_databases! {
    async fn unknown_wrong_locked_and_disabled_get_one_answer(db: Db) {
        let h = Harness::start(db).await;
        let p = portal("127.0.0.1");
        h.set_password("alice", "Alice!Pass1").await;
        let signed_in = h.service.portal_sign_in(&p, "alice", secret("Alice!Pass1")).await.unwrap();
        assert_eq!(signed_in.session.person_id, "alice");
        // Logins are matched in lower case too.
        h.service.portal_sign_in(&p, "ALICE", secret("Alice!Pass1")).await.unwrap();

        let unknown = h.service.portal_sign_in(&p, "nobody", secret("Alice!Pass1")).await.unwrap_err();
        let wrong = h.service.portal_sign_in(&p, "alice", secret("Wrong!Pass1")).await.unwrap_err();
        let empty = h.service.portal_sign_in(&p, "alice", secret("")).await.unwrap_err();
        for e in [&unknown, &wrong, &empty] {
            assert!(matches!(e, PortalError::SignInRefused), "{e:?}");
        }
        // Locked (by wrong answers on the phone): the right password is
        // refused the same way.
        h.lock_through_the_phone("alice").await;
        let locked = h.service.portal_sign_in(&portal("127.0.0.2"), "alice", secret("Alice!Pass1")).await.unwrap_err();
        assert!(matches!(locked, PortalError::SignInRefused), "{locked:?}");
        assert_eq!(unknown.to_string(), locked.to_string());
        // Disabled (gone from the directory, say): the same again.
        h.set_password("bob", "Bob!Pass!12").await;
        let gone = touchtone_service::admin::PersonRecord {
            person: touchtone_service::people::Person {
                id: "bob".into(), display_name: "bob".into(), department: "QA".into(),
                employee_number: None, mail: None, phone_numbers: vec![], disabled: true, groups: vec![], privileged: false,
            },
            accounts: vec![],
        };
        h.service.import_people("test", &[gone]).await.unwrap();
        let disabled = h.service.portal_sign_in(&portal("127.0.0.3"), "bob", secret("Bob!Pass!12")).await.unwrap_err();
        assert!(matches!(disabled, PortalError::SignInRefused), "{disabled:?}");
    }

    async fn a_wrong_portal_password_counts_toward_the_lockout_of_every_door(db: Db) {
        let h = Harness::start(db).await;
        h.set_password("bob", "Bob!Pass!12").await;
        // Five wrong passwords from five addresses (so the per-address
        // throttle is not what stops them) lock bob.
        for n in 0..5 {
            let e = h.service.portal_sign_in(&portal(&format!("127.0.1.{n}")), "bob", secret("guess-1234")).await.unwrap_err();
            assert!(matches!(e, PortalError::SignInRefused), "{e:?}");
        }
        assert_eq!(h.count_events("bob", "ET_VERIFY_FAILURE").await, 5);
        assert_eq!(h.count_events("bob", "ET_INTRUDER_LOCKOUT").await, 1);
        // The phone and the API refuse him now.
        let call = h.session(&ivr()).await;
        assert!(matches!(h.service.questions_get(&ivr(), &call, "bob").await, Err(touchtone_service::ServiceError::UserLocked)));
    }

    async fn sign_in_is_throttled_per_login_and_per_address(db: Db) {
        let h = Harness::start(db).await;
        h.set_password("alice", "Alice!Pass1").await;
        let attacker = portal("127.0.2.1");
        // Per address: five misses on five unknown logins.
        for n in 0..5 {
            h.service.portal_sign_in(&attacker, &format!("nobody{n}"), secret("x-123456")).await.unwrap_err();
        }
        let e = h.service.portal_sign_in(&attacker, "alice", secret("Alice!Pass1")).await.unwrap_err();
        assert!(matches!(e, PortalError::Throttled), "{e:?}");
        // Another address still signs in.
        h.service.portal_sign_in(&portal("127.0.2.2"), "alice", secret("Alice!Pass1")).await.unwrap();
        // Per login, whether or not the login exists: five misses for
        // "ghost" from five addresses.
        for n in 0..5 {
            h.service.portal_sign_in(&portal(&format!("127.0.3.{n}")), "ghost", secret("x-123456")).await.unwrap_err();
        }
        let e = h.service.portal_sign_in(&portal("127.0.3.9"), "ghost", secret("x-123456")).await.unwrap_err();
        assert!(matches!(e, PortalError::Throttled), "{e:?}");
        // The window passes.
        h.clock.advance(h.service.settings().portal.window_ms + 1);
        h.service.portal_sign_in(&attacker, "alice", secret("Alice!Pass1")).await.unwrap();
    }

    async fn a_session_ends_when_its_person_is_locked_or_it_is_left_idle(db: Db) {
        let h = Harness::start(db).await;
        let p = portal("127.0.0.1");
        h.set_password("alice", "Alice!Pass1").await;
        let token = h.service.portal_sign_in(&p, "alice", secret("Alice!Pass1")).await.unwrap().token;
        h.service.portal_status(&p, token.reveal()).await.unwrap();
        h.lock_through_the_phone("alice").await;
        assert!(matches!(h.service.portal_status(&p, token.reveal()).await, Err(PortalError::SessionEnded)));

        h.set_password("bob", "Bob!Pass!12").await;
        let token = h.service.portal_sign_in(&p, "bob", secret("Bob!Pass!12")).await.unwrap().token;
        h.clock.advance(h.service.settings().portal.session_idle_ms + 1);
        assert!(matches!(h.service.portal_status(&p, token.reveal()).await, Err(PortalError::SessionEnded)));
        let token = h.service.portal_sign_in(&p, "bob", secret("Bob!Pass!12")).await.unwrap().token;
        h.service.portal_sign_out(&p, token.reveal()).await.unwrap();
        assert!(matches!(h.service.portal_status(&p, token.reveal()).await, Err(PortalError::SessionEnded)));
        assert!(matches!(h.service.portal_status(&p, "forged-token-value").await, Err(PortalError::SessionEnded)));
    }

    async fn answers_are_judged_before_anything_changes_and_the_phone_takes_the_new_ones(db: Db) {
        let h = Harness::start(db).await;
        let p = portal("127.0.0.1");
        h.set_password("bob", "Bob!Pass!12").await;
        let token = h.service.portal_sign_in(&p, "bob", secret("Bob!Pass!12")).await.unwrap().token;
        let t = token.reveal();
        let weak = h.service.portal_enrol(&p, t, vec![
            choice("year", "1111"),
            choice("pet", "4567"),
            choice("city", "bob"),
        ]).await.unwrap_err();
        let PortalError::Invalid(problems) = weak else { panic!("{weak:?}") };
        let reasons: Vec<(usize, ProblemReason)> = problems.into_iter().map(|p| (p.slot, p.reason)).collect();
        assert_eq!(reasons, vec![
            (0, ProblemReason::Weak(WeakAnswer::OneDigitRepeated)),
            (1, ProblemReason::Weak(WeakAnswer::Run)),
            (2, ProblemReason::Weak(WeakAnswer::UserId)),
        ]);
        let twice = h.service.portal_enrol(&p, t, vec![
            choice("year", "7394"),
            choice("year", "2673"),
            choice("city", "Lisbon"),
        ]).await.unwrap_err();
        assert!(matches!(&twice, PortalError::Invalid(p) if p[0].slot == 1 && p[0].reason == ProblemReason::QuestionTwice), "{twice:?}");
        // Nothing changed: the old answers still verify on the phone.
        h.verified(&ivr(), "bob").await;

        h.service.portal_enrol(&p, t, vec![
            choice("year", "7394"),
            choice("pet", "Biscuit"),
            choice("city", "Lisbon"),
        ]).await.unwrap();
        assert_eq!(h.count_events("bob", "ET_ENROLMENT_CHANGED").await, 1);
        // The old answer no longer verifies; the new ones do.
        let call = h.session(&ivr()).await;
        let (valid, _, _) = h.answer(&ivr(), &call, "bob", ANSWER).await;
        assert!(!valid, "the old answers still work");
        let call = h.session(&ivr()).await;
        let challenge = h.service.questions_get(&ivr(), &call, "bob").await.unwrap();
        let keyed = |q: &str| match q { "year" => "7394", "pet" => "2472848", _ => "547266" };
        let answers = challenge.value.questions.iter().map(|q| touchtone_service::api::Answer {
            question_id: q.question_id.clone(),
            answer: secret(keyed(&q.question_id)),
        }).collect();
        let v = h.service.answers_validate(&ivr(), challenge.session.reveal(), &challenge.value.challenge_id, answers).await.unwrap();
        assert!(v.value.valid, "the new answers, keyed, verify");
    }

    async fn changing_answers_needs_a_recent_password(db: Db) {
        let h = Harness::start(db).await;
        let p = portal("127.0.0.1");
        h.set_password("bob", "Bob!Pass!12").await;
        let token = h.service.portal_sign_in(&p, "bob", secret("Bob!Pass!12")).await.unwrap().token;
        h.clock.advance(h.service.settings().portal.reauth_ms + 1);
        let choices = || vec![choice("year", "7394"), choice("pet", "Biscuit"), choice("city", "Lisbon")];
        let e = h.service.portal_enrol(&p, token.reveal(), choices()).await.unwrap_err();
        assert!(matches!(e, PortalError::ReauthRequired), "{e:?}");
        let e = h.service.portal_reauthenticate(&p, token.reveal(), secret("wrong-pass-1")).await.unwrap_err();
        assert!(matches!(e, PortalError::SignInRefused), "{e:?}");
        h.service.portal_reauthenticate(&p, token.reveal(), secret("Bob!Pass!12")).await.unwrap();
        h.service.portal_enrol(&p, token.reveal(), choices()).await.unwrap();
    }

    async fn the_status_shows_enrolment_accounts_and_activity_never_answers(db: Db) {
        let h = Harness::start(db).await;
        let p = portal("127.0.0.1");
        h.set_password("carol", "Carol!Pass1").await;
        // A failure on the phone, from a known number.
        let call = h.session(&ivr()).await;
        h.answer(&ivr(), &call, "carol", "1357").await;
        let token = h.service.portal_sign_in(&p, "carol", secret("Carol!Pass1")).await.unwrap().token;
        let status = h.service.portal_status(&p, token.reveal()).await.unwrap();
        assert_eq!(status.enrolled.len(), 3);
        assert_eq!(status.missing, 0);
        assert!(status.complete());
        let mut accounts: Vec<String> = status.accounts.iter().map(|a| a.target.clone()).collect();
        accounts.sort();
        assert_eq!(accounts, ["hr", "local"]);
        let failure = status.activity.iter()
            .find(|a| a.event == Some(touchtone_core::event::EventType::VerifyFailure))
            .expect("the phone's failure is in the activity");
        assert_eq!(failure.door, "ivr");
        assert_eq!(failure.caller_number.as_deref(), Some("+15550100"));
        assert!(status.activity.iter().any(|a| a.event == Some(touchtone_core::event::EventType::PortalSignIn)));
        let text = format!("{status:?}");
        assert!(!text.contains(ANSWER), "an answer reached the status");
    }
}
