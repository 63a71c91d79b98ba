//! Enrolling by phone with a one-time PIN, and the enrolment policy: a
//! right PIN opens an enrolment whose answers then verify; the PIN is
//! spent, expires, and is never the only try: wrong PINs (and PINs for
//! someone who has none) count toward the one intruder lockout; answers
//! are judged by the portal's rules; a caller who is not enrolled enough,
//! or whose answers are too old, gets no questions.

use touchtone_core::answer_strength::WeakAnswer;
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_service::api::{Answer, EnrolmentOffer};
use touchtone_service::{Caller, ServiceError};
use touchtone_testkit::both_databases;

use crate::harness::*;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Keys `pin` for `user`: (accepted, attempts left, locked, offer, next ID).
async fn key_pin(
    h: &Harness,
    caller: &Caller,
    token: &str,
    user: &str,
    pin: &str,
) -> (bool, u32, bool, Option<EnrolmentOffer>, String) {
    let r = h
        .service
        .enrolment_start(caller, token, user, secret(pin))
        .await
        .expect("UserEnrolmentStart");
    let s = r.value;
    (
        s.accepted,
        s.attempts_left,
        s.locked,
        s.offer,
        r.session.reveal().to_owned(),
    )
}

fn answers(pairs: &[(&str, &str)]) -> Vec<Answer> {
    pairs
        .iter()
        .map(|(q, a)| Answer {
            question_id: (*q).into(),
            answer: secret(a),
        })
        .collect()
}

/// A PIN's digits that are not `pin`.
fn other_than(pin: &SecretString) -> String {
    let first = pin.expose_secret().as_bytes()[0];
    let other = if first == b'9' {
        '0'
    } else {
        char::from(first + 1)
    };
    format!("{other}{}", &pin.expose_secret()[1..])
}

both_databases! {
    async fn a_pin_opens_an_enrolment_whose_answers_then_verify(db: Db) {
        let h = Harness::start(db).await;
        h.add_unenrolled("dave").await;
        let call = h.session(&ivr()).await;
        let e = h.service.questions_get(&ivr(), &call, "dave").await.unwrap_err();
        assert!(matches!(e, ServiceError::NotEnrolled), "{e:?}");

        let pin = h.service.issue_enrolment_pin("helpdesk", "dave").await.unwrap();
        assert_eq!(pin.expose_secret().len(), 8);
        assert!(pin.expose_secret().bytes().all(|b| b.is_ascii_digit()));

        let (ok, left, locked, offer, call) = key_pin(&h, &ivr(), &call, "dave", &other_than(&pin)).await;
        assert!(!ok && !locked && offer.is_none());
        assert_eq!(left, 2, "the session's three attempts, one used");
        let (ok, _, _, offer, call) = key_pin(&h, &ivr(), &call, "dave", pin.expose_secret()).await;
        assert!(ok);
        let offer = offer.expect("an enrolment");
        assert_eq!(offer.required, 3);
        let ids: Vec<&str> = offer.questions.iter().map(|q| q.question_id.as_str()).collect();
        assert_eq!(ids.len(), 3, "{ids:?}");

        // The portal's rules, asked one answer at a time.
        let id = &offer.enrolment_id;
        let checked = h.service.enrolment_check(&ivr(), &call, id, "pet", secret("1234"), &[]).await.unwrap();
        assert_eq!(checked.value, Some(WeakAnswer::Run));
        let call = checked.session.reveal().to_owned();
        let checked = h.service.enrolment_check(&ivr(), &call, id, "pet", secret("2580"), &[secret("2580")]).await.unwrap();
        assert_eq!(checked.value, Some(WeakAnswer::SameAsAnother));
        let call = checked.session.reveal().to_owned();
        let checked = h.service.enrolment_check(&ivr(), &call, id, "pet", secret("2580"), &[secret("1956")]).await.unwrap();
        assert_eq!(checked.value, None);
        let call = checked.session.reveal().to_owned();

        // Too few, and a weak set, are refused and change nothing.
        let e = h.service.enrolment_submit(&ivr(), &call, id, answers(&[("pet", "2580")])).await.unwrap_err();
        assert!(matches!(e, ServiceError::BadRequest(_)), "{e:?}");
        let e = h.service
            .enrolment_submit(&ivr(), &call, id, answers(&[("pet", "2580"), ("year", "2580"), ("city", "7391")]))
            .await.unwrap_err();
        assert!(matches!(e, ServiceError::WeakAnswer(_)), "{e:?}");
        assert_eq!(h.count_events("dave", "ET_ENROLMENT_CHANGED").await, 0);

        let set = answers(&[("pet", "2580"), ("year", "1956"), ("city", "7391")]);
        let done = h.service.enrolment_submit(&ivr(), &call, id, set).await.unwrap();
        assert_eq!(done.value, 3);
        let call = done.session.reveal().to_owned();
        assert_eq!(h.count_events("dave", "ET_ENROLMENT_CHANGED").await, 1);
        let changed = h.events_of("dave").await.into_iter()
            .find(|(t, _)| t == "ET_ENROLMENT_CHANGED").unwrap().1;
        assert_eq!(changed["detail"]["door"], "ivr");

        // The enrolment is closed and the PIN spent.
        let e = h.service.enrolment_submit(&ivr(), &call, id, answers(&[("pet", "2581")])).await.unwrap_err();
        assert!(matches!(e, ServiceError::UnknownEnrolment), "{e:?}");
        let fresh = h.session(&ivr()).await;
        let (ok, ..) = key_pin(&h, &ivr(), &fresh, "dave", pin.expose_secret()).await;
        assert!(!ok, "a PIN is single use");

        // The new answers verify, on another door too.
        let token = h.session(&api()).await;
        let challenge = h.service.questions_get(&api(), &token, "dave").await.unwrap();
        let mine = |q: &str| match q { "pet" => "2580", "year" => "1956", _ => "7391" };
        let given = challenge.value.questions.iter()
            .map(|q| Answer { question_id: q.question_id.clone(), answer: secret(mine(&q.question_id)) })
            .collect();
        let v = h.service
            .answers_validate(&api(), challenge.session.reveal(), &challenge.value.challenge_id, given)
            .await.unwrap();
        assert!(v.value.valid);
    }

    async fn wrong_pins_count_toward_the_same_lockout_as_wrong_answers(db: Db) {
        let h = Harness::start(db).await;
        h.add_unenrolled("dave").await;
        let pin = h.service.issue_enrolment_pin("helpdesk", "dave").await.unwrap();
        let wrong = other_than(&pin);
        // Three wrong PINs use up the call's attempts ...
        let mut call = h.session(&ivr()).await;
        for expected_left in [2, 1, 0] {
            let (ok, left, locked, _, next) = key_pin(&h, &ivr(), &call, "dave", &wrong).await;
            assert!(!ok && !locked);
            assert_eq!(left, expected_left);
            call = next;
        }
        // ... after which even the right one is not considered.
        let (ok, left, ..) = key_pin(&h, &ivr(), &call, "dave", pin.expose_secret()).await;
        assert!(!ok);
        assert_eq!(left, 0);
        // Two more wrong PINs, through another door, lock.
        let mut token = h.session(&api()).await;
        let (_, _, locked, _, next) = key_pin(&h, &api(), &token, "dave", &wrong).await;
        assert!(!locked);
        token = next;
        let (_, left, locked, _, _) = key_pin(&h, &api(), &token, "dave", &wrong).await;
        assert!(locked, "the fifth failure locks, whichever door");
        assert_eq!(left, 0);
        assert_eq!(h.count_events("dave", "ET_VERIFY_FAILURE").await, 5);
        assert_eq!(h.count_events("dave", "ET_INTRUDER_LOCKOUT").await, 1);

        // Locked: the right PIN opens nothing.
        let fresh = h.session(&ivr()).await;
        let e = h.service.enrolment_start(&ivr(), &fresh, "dave", pin).await.unwrap_err();
        assert!(matches!(e, ServiceError::UserLocked), "{e:?}");
    }

    async fn no_pin_at_all_is_answered_like_a_wrong_one(db: Db) {
        let h = Harness::start(db).await;
        h.add_unenrolled("dave").await;
        h.add_unenrolled("erin").await;
        h.service.issue_enrolment_pin("helpdesk", "erin").await.unwrap();
        let call = h.session(&ivr()).await;
        // dave has no PIN; erin has one, which this is not.
        let (ok_d, left_d, locked_d, offer_d, call) = key_pin(&h, &ivr(), &call, "dave", "12345678").await;
        let (ok_e, left_e, locked_e, offer_e, _) = key_pin(&h, &ivr(), &call, "erin", "12345678").await;
        assert_eq!((ok_d, left_d, locked_d, offer_d.is_none()), (ok_e, left_e, locked_e, offer_e.is_none()));
        assert_eq!(h.count_events("dave", "ET_VERIFY_FAILURE").await, 1);
        assert_eq!(h.count_events("erin", "ET_VERIFY_FAILURE").await, 1);
        // And an empty or malformed PIN is simply wrong.
        let call = h.session(&ivr()).await;
        let (ok, left, ..) = key_pin(&h, &ivr(), &call, "dave", "").await;
        assert!(!ok);
        assert_eq!(left, 2);
    }

    async fn a_pin_expires_and_a_new_one_replaces_the_old(db: Db) {
        let h = Harness::start(db).await;
        h.add_unenrolled("dave").await;
        let old = h.service.issue_enrolment_pin("helpdesk", "dave").await.unwrap();
        let new = h.service.issue_enrolment_pin("helpdesk", "dave").await.unwrap();
        let call = h.session(&ivr()).await;
        if old.expose_secret() != new.expose_secret() {
            let (ok, ..) = key_pin(&h, &ivr(), &call, "dave", old.expose_secret()).await;
            assert!(!ok, "the replaced PIN no longer opens");
        }
        h.clock.advance(h.service.settings().enrolment.pin_valid_ms + 1);
        let call = h.session(&ivr()).await;
        let (ok, ..) = key_pin(&h, &ivr(), &call, "dave", new.expose_secret()).await;
        assert!(!ok, "an expired PIN no longer opens");
        // A PIN for someone unknown or disabled is not issued.
        let e = h.service.issue_enrolment_pin("helpdesk", "nobody").await.unwrap_err();
        assert!(matches!(e, ServiceError::UnknownUser), "{e:?}");
    }

    async fn an_enrolment_belongs_to_the_session_that_opened_it(db: Db) {
        let h = Harness::start(db).await;
        h.add_unenrolled("dave").await;
        let pin = h.service.issue_enrolment_pin("helpdesk", "dave").await.unwrap();
        let call = h.session(&ivr()).await;
        let (_, _, _, offer, _) = key_pin(&h, &ivr(), &call, "dave", pin.expose_secret()).await;
        let id = offer.expect("an enrolment").enrolment_id;
        let other = h.session(&ivr()).await;
        let set = answers(&[("pet", "2580"), ("year", "1956"), ("city", "7391")]);
        let e = h.service.enrolment_submit(&ivr(), &other, &id, set).await.unwrap_err();
        assert!(matches!(e, ServiceError::UnknownEnrolment), "{e:?}");
        assert_eq!(h.count_events("dave", "ET_ENROLMENT_CHANGED").await, 0);
    }

    async fn a_required_enrolment_wants_enough_answers(db: Db) {
        let h = Harness::start_with(db, |s| s.enrolment.required = true).await;
        h.add_unenrolled("dave").await;
        for q in ["year", "pet"] {
            h.service.enroll_answer("test", "dave", q, &secret(ANSWER)).await.unwrap();
        }
        let call = h.session(&ivr()).await;
        let e = h.service.questions_get(&ivr(), &call, "dave").await.unwrap_err();
        assert!(matches!(e, ServiceError::NotEnrolled), "two of three: {e:?}");
        h.service.enroll_answer("test", "dave", "city", &secret(ANSWER)).await.unwrap();
        h.verified(&ivr(), "dave").await;
    }

    async fn answers_older_than_the_reconfirm_age_get_no_questions(db: Db) {
        let h = Harness::start_with(db, |s| s.enrolment.reconfirm_ms = 30 * DAY_MS).await;
        h.verified(&api(), "alice").await;
        h.clock.advance(31 * DAY_MS);
        for door in [api(), ivr()] {
            let token = h.session(&door).await;
            let e = h.service.questions_get(&door, &token, "alice").await.unwrap_err();
            assert!(matches!(e, ServiceError::ReconfirmRequired), "{e:?}");
        }
        // Answers enrolled again are current again.
        for q in ["year", "pet", "city"] {
            h.service.enroll_answer("test", "alice", q, &secret("1357")).await.unwrap();
        }
        let token = h.session(&api()).await;
        let (valid, ..) = h.answer(&api(), &token, "alice", "1357").await;
        assert!(valid);
    }
}
