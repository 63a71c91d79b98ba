//! The TOTP factor and the verification policy: a person sets up an
//! authenticator app in the portal (confirmed with a code; the secret is
//! sealed at rest); a policy that needs it holds a reset back until the
//! session proved it; a code is accepted once; wrong codes count toward
//! the lockout every door shares; a person without the factor is
//! `unavailable` unless the policy has a fallback.

use touchtone_core::totp::TotpSecret;
use touchtone_service::Door;
use touchtone_service::ServiceError;
use touchtone_service::api::Answer;
use touchtone_service::factors::{Factor, Operation, VerificationPolicy};
use touchtone_testkit::both_databases;

use crate::harness::*;

const PASSWORD: &str = "Alice!Pass1";

/// Reset needs questions and a TOTP code for department QA (everyone here).
fn totp_for_resets(fallback: Option<Vec<Vec<Factor>>>) -> VerificationPolicy {
    VerificationPolicy {
        name: "qa-totp".into(),
        operations: vec![Operation::Reset],
        departments: vec!["qa".into()],
        groups: vec![],
        privileged: None,
        require: vec![vec![Factor::Questions], vec![Factor::Totp]],
        fallback,
    }
}

async fn harness(db: touchtone_testkit::Db, fallback: Option<Vec<Vec<Factor>>>) -> Harness {
    let h = Harness::start_with(db, |s| {
        s.verification.policies = vec![totp_for_resets(fallback)];
    })
    .await;
    h.set_password("alice", PASSWORD).await;
    h
}

fn now_secs(h: &Harness) -> u64 {
    use touchtone_service::clock::Clock;
    u64::try_from(h.clock.now_ms() / 1000).unwrap()
}

/// Sets up alice's authenticator app in the portal, as she would: the
/// page's key typed into an app, confirmed with its code.
async fn set_up_app(h: &Harness) -> TotpSecret {
    let p = caller(Door::Portal, "127.0.0.1");
    let signed_in = h
        .service
        .portal_sign_in(&p, "alice", secret(PASSWORD))
        .await
        .unwrap();
    let token = signed_in.token.reveal().to_owned();
    let shown = h
        .service
        .portal_authenticator_begin(&p, &token)
        .await
        .unwrap();
    let pending = shown.pending.expect("a secret to scan");
    assert!(
        pending.uri.starts_with("otpauth://totp/touchtone:alice?"),
        "{}",
        pending.uri
    );
    assert!(shown.confirmed_at.is_none());
    let key: String = pending.key.split_whitespace().collect();
    let bytes = data_encoding::BASE32_NOPAD.decode(key.as_bytes()).unwrap();
    let app = TotpSecret::from_bytes(bytes).unwrap();
    // A wrong code confirms nothing.
    let wrong = if app.code_at(now_secs(h)) == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert!(
        !h.service
            .portal_authenticator_confirm(&p, &token, wrong)
            .await
            .unwrap()
    );
    let code = app.code_at(now_secs(h));
    assert!(
        h.service
            .portal_authenticator_confirm(&p, &token, &code)
            .await
            .unwrap()
    );
    let view = h.service.portal_authenticator(&token).await.unwrap();
    assert!(view.confirmed_at.is_some() && view.pending.is_none());
    assert_eq!(h.count_events("alice", "ET_AUTHENTICATOR_ADDED").await, 1);
    app
}

/// Asks for a TOTP code in session `token` and keys `code`.
async fn key_code(
    h: &Harness,
    door: &touchtone_service::Caller,
    token: &str,
    code: &str,
) -> (bool, u32, String) {
    let challenge = h
        .service
        .factor_challenge(door, token, "alice", "totp")
        .await
        .unwrap();
    assert_eq!(challenge.value.digits, 6);
    let v = h
        .service
        .factor_verify(
            door,
            challenge.session.reveal(),
            &challenge.value.challenge_id,
            code,
        )
        .await
        .unwrap();
    (
        v.value.valid,
        v.value.attempts_left,
        v.session.reveal().to_owned(),
    )
}

both_databases! {
    async fn privileged_people_and_admin_groups_need_the_authenticator(db: Db) {
        let h = Harness::start_with(db, |s| {
            s.verification.policies = vec![VerificationPolicy {
                name: "administrators".into(),
                operations: vec![],
                departments: vec![],
                groups: vec!["Domain Admins".into()],
                privileged: Some(true),
                require: vec![vec![Factor::Questions], vec![Factor::Totp]],
                fallback: None,
            }];
        })
        .await;
        // alice is marked privileged; carol is in the admins' group (by DN,
        // as the directory sync imports it); bob is neither.
        let mut alice = person("alice", &[("local", "alice")]);
        alice.person.privileged = true;
        let mut carol = person("carol", &[("local", "carol")]);
        carol.person.groups = vec!["CN=Domain Admins,CN=Users,DC=tt,DC=test".into()];
        h.service.import_people("test", &[alice, carol]).await.unwrap();
        for user in ["alice", "carol"] {
            let token = h.verified(&api(), user).await;
            let e = h.service.password_sync(&api(), &token, user, secret(NEW_PASSWORD), None).await.unwrap_err();
            assert!(matches!(&e, ServiceError::VerificationIncomplete(m) if m == &["totp".to_owned()]), "{user}: {e:?}");
            // Not enrolled, so the unlock (same policy) cannot happen either.
            let token = h.verified(&api(), user).await;
            let status = h.service.factors_get(&api(), &token, user).await.unwrap();
            assert!(status.value.operations.iter().all(|(_, s)| s.unavailable && s.policy == "administrators"), "{user}: {:?}", status.value);
        }
        let token = h.verified(&api(), "bob").await;
        h.service.password_sync(&api(), &token, "bob", secret(NEW_PASSWORD), None).await.unwrap();
    }

    async fn a_reset_waits_for_the_code_the_policy_needs(db: Db) {
        let h = harness(db, None).await;
        let app = set_up_app(&h).await;
        // The stored secret is sealed: not the key the page showed.
        let mut conn = h.store.acquire().await.unwrap();
        let sealed: (String,) = sqlx::query_as("SELECT sealed FROM totp_secrets WHERE person_id = 'alice'")
            .fetch_one(&mut *conn).await.unwrap();
        drop(conn);
        let key = data_encoding::BASE32_NOPAD.encode(app.expose());
        assert!(!sealed.0.contains(&key) && !sealed.0.contains(&hex::encode(app.expose())));

        for door in [api(), ivr()] {
            let token = h.verified(&door, "alice").await;
            let e = h.service.password_sync(&door, &token, "alice", secret(NEW_PASSWORD), None).await.unwrap_err();
            assert!(matches!(&e, ServiceError::VerificationIncomplete(m) if m == &["totp".to_owned()]), "{e:?}");
            // Unlocking needs questions only: this policy governs resets.
            let factors = h.service.factors_get(&door, &token, "alice").await.unwrap();
            let view = factors.value;
            assert_eq!(view.enrolled, vec![Factor::Questions, Factor::Totp]);
            assert_eq!(view.proved, vec![Factor::Questions]);
            let (_, reset) = view.operations.iter().find(|(o, _)| *o == Operation::Reset).unwrap();
            assert_eq!(reset.policy, "qa-totp");
            assert_eq!(reset.missing, vec![vec![Factor::Totp]]);
            assert!(!reset.unavailable);
            let (_, unlock) = view.operations.iter().find(|(o, _)| *o == Operation::Unlock).unwrap();
            assert!(unlock.met(), "{unlock:?}");
            h.clock.advance(30_000);
            let code = app.code_at(now_secs(&h));
            let (valid, _, token) = key_code(&h, &door, factors.session.reveal(), &code).await;
            assert!(valid, "the app's current code");
            h.service.password_sync(&door, &token, "alice", secret(NEW_PASSWORD), None).await.expect("the policy is met");
        }
        assert!(h.local_password_is("alice", NEW_PASSWORD).await);
    }

    async fn a_code_is_accepted_once(db: Db) {
        let h = harness(db, None).await;
        let app = set_up_app(&h).await;
        h.clock.advance(30_000);
        let code = app.code_at(now_secs(&h));
        let first = h.verified(&api(), "alice").await;
        let (valid, left, _) = key_code(&h, &api(), &first, &code).await;
        assert!(valid);
        assert_eq!(left, 3);
        // The same code again, in another session, within its window.
        let second = h.verified(&api(), "alice").await;
        let (valid, left, token) = key_code(&h, &api(), &second, &code).await;
        assert!(!valid, "a replayed code is refused");
        assert_eq!(left, 2, "and counts as a wrong one");
        // The code of the step the confirmation used is spent too.
        h.clock.advance(30_000);
        let next = app.code_at(now_secs(&h));
        let (valid, _, _) = key_code(&h, &api(), &token, &next).await;
        assert!(valid, "the next step's code");
    }

    async fn wrong_codes_count_toward_the_lockout_every_door_shares(db: Db) {
        let h = harness(db, None).await;
        let app = set_up_app(&h).await;
        let right = app.code_at(now_secs(&h));
        let wrong = if right == "123456" { "654321" } else { "123456" };
        // Three wrong codes on the phone, two wrong answers on the API:
        // five failures lock alice.
        let mut call = h.verified(&ivr(), "alice").await;
        for left in [2, 1, 0] {
            let (valid, attempts_left, next) = key_code(&h, &ivr(), &call, wrong).await;
            assert!(!valid);
            assert_eq!(attempts_left, left);
            call = next;
        }
        let token = h.session(&api()).await;
        let (_, _, token) = h.answer(&api(), &token, "alice", "1357").await;
        let (_, locked, token) = h.answer(&api(), &token, "alice", "1357").await;
        assert!(locked, "the fifth failure locks");
        let e = h.service.factor_challenge(&api(), &token, "alice", "totp").await.unwrap_err();
        assert!(matches!(e, ServiceError::UserLocked), "{e:?}");
        assert_eq!(h.count_events("alice", "ET_INTRUDER_LOCKOUT").await, 1);
    }

    async fn without_the_factor_a_person_is_sent_to_the_helpdesk_or_falls_back(db: Db) {
        let h = harness(db, None).await;
        // Bob has no app: the reset cannot happen by this door.
        let token = h.verified(&api(), "bob").await;
        let view = h.service.factors_get(&api(), &token, "bob").await.unwrap();
        let (_, reset) = view.value.operations.iter().find(|(o, _)| *o == Operation::Reset).unwrap();
        assert!(reset.unavailable && !reset.met());
        let e = h.service.factor_challenge(&api(), view.session.reveal(), "bob", "totp").await.unwrap_err();
        assert!(matches!(e, ServiceError::FactorUnavailable(_)), "{e:?}");
        let bad = h.service.factor_challenge(&api(), view.session.reveal(), "bob", "radius").await.unwrap_err();
        assert!(matches!(bad, ServiceError::BadRequest(_)), "{bad:?}");

        // With a fallback of questions, bob's answers are enough.
        let h2 = Harness::start_with(touchtone_testkit::Db::Sqlite, |s| {
            s.verification.policies = vec![totp_for_resets(Some(vec![vec![Factor::Questions]]))];
        })
        .await;
        let token = h2.verified(&api(), "bob").await;
        h2.service.password_sync(&api(), &token, "bob", secret(NEW_PASSWORD), None).await.expect("the fallback is met");
    }

    async fn a_factor_challenge_is_not_a_question_challenge(db: Db) {
        let h = harness(db, None).await;
        set_up_app(&h).await;
        let token = h.verified(&api(), "alice").await;
        let c = h.service.factor_challenge(&api(), &token, "alice", "totp").await.unwrap();
        let answers = vec![Answer { question_id: "year".into(), answer: secret(ANSWER) }];
        let e = h.service.answers_validate(&api(), c.session.reveal(), &c.value.challenge_id, answers).await.unwrap_err();
        assert!(matches!(e, ServiceError::UnknownChallenge), "{e:?}");
        // The refusal kept the ID good; a question challenge is no factor's.
        let q = h.service.questions_get(&api(), c.session.reveal(), "alice").await.unwrap();
        let e = h.service.factor_verify(&api(), q.session.reveal(), &q.value.challenge_id, "123456").await.unwrap_err();
        assert!(matches!(e, ServiceError::UnknownChallenge), "{e:?}");
    }
}
