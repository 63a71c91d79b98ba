//! The portal's second sign-in step: with it on, a right password opens a
//! session that can do nothing until a call to the person's number ends
//! with the code keyed; the page sees only the number's last digits; a
//! call that ends otherwise ends the sign-in and counts as a failed one;
//! the calls are limited; with the factor required, a person without a
//! number cannot sign in.

use touchtone_core::otp::DestinationGuard;
use touchtone_service::Door;
use touchtone_service::otp::{CallReport, Outcome};
use touchtone_service::portal::{PortalError, ProofState};
use touchtone_service::settings::SecondFactor;
use touchtone_testkit::both_databases;

use crate::harness::*;

const PASSWORD: &str = "Alice!Pass1";

async fn harness(db: touchtone_testkit::Db, policy: SecondFactor) -> Harness {
    let h = Harness::start_with(db, |s| {
        s.portal.second_factor = policy;
        s.otp.guard = DestinationGuard {
            allowed_prefixes: vec!["+1".into()],
            allow_premium: false,
        };
    })
    .await;
    h.set_password("alice", PASSWORD).await;
    h
}

/// Registers a proved number for `person`, as a finished proof would.
async fn register(h: &Harness, person: &str, number: &str) {
    let mut conn = h.store.acquire().await.unwrap();
    touchtone_store::registered_phones::add(&mut conn, person, number, 1)
        .await
        .unwrap();
}

/// Plays the OTP worker: the call queued for the sign-in ends `status`.
async fn the_call_ends(h: &Harness, status: &'static str) {
    let calls = h.service.otp_claim(10, 60_000).await.unwrap();
    assert_eq!(calls.len(), 1, "one call was queued");
    assert_eq!(calls[0].dial_string, "+14155552671");
    h.service
        .otp_finish(
            &calls[0].id,
            Outcome::Final {
                status,
                report: CallReport::default(),
                detail: None,
            },
        )
        .await
        .unwrap();
}

both_databases! {
    async fn a_sign_in_waits_for_the_call_and_completes_when_the_code_is_keyed(db: Db) {
        let h = harness(db, SecondFactor::WhenAvailable).await;
        let p = caller(Door::Portal, "127.0.0.1");
        // No registered number yet: the password alone.
        let direct = h.service.portal_sign_in(&p, "alice", secret(PASSWORD)).await.unwrap();
        assert!(direct.second_factor.is_none());

        register(&h, "alice", "+14155552671").await;
        let signed_in = h.service.portal_sign_in(&p, "alice", secret(PASSWORD)).await.unwrap();
        let proof = signed_in.second_factor.expect("a call to answer");
        assert_eq!(proof.number, "71", "only the last digits are shown");
        assert_eq!(proof.state, ProofState::Ready);
        assert_eq!(proof.code.as_deref().map(str::len), Some(6));
        let token = signed_in.token.reveal().to_owned();
        // The session can do nothing else yet.
        let e = h.service.portal_status(&p, &token).await.unwrap_err();
        assert!(matches!(e, PortalError::SecondFactorPending), "{e:?}");
        assert_eq!(h.count_events("alice", "ET_PORTAL_SIGN_IN").await, 1, "only the direct one so far");

        let pending = h.service.portal_second_factor_call(&p, &token).await.unwrap().unwrap();
        assert!(matches!(pending.proof.state, ProofState::Calling(_)), "{:?}", pending.proof.state);
        the_call_ends(&h, "verified").await;
        let done = h.service.portal_second_factor(&p, &token).await.unwrap().unwrap();
        assert_eq!(done.proof.state, ProofState::Verified);
        let again = h.service.portal_second_factor(&p, &token).await.unwrap();
        assert!(again.is_none(), "nothing to wait for any more");
        h.service.portal_status(&p, &token).await.expect("signed in fully");
        let event = h.events_of("alice").await.into_iter()
            .filter(|(t, _)| t == "ET_PORTAL_SIGN_IN")
            .find(|(_, e)| e["detail"]["second_factor"] == "phone");
        assert!(event.is_some(), "the completed sign-in is an event");
    }

    async fn a_call_without_the_code_ends_the_sign_in(db: Db) {
        let h = harness(db, SecondFactor::WhenAvailable).await;
        let p = caller(Door::Portal, "127.0.0.1");
        register(&h, "alice", "+14155552671").await;
        let signed_in = h.service.portal_sign_in(&p, "alice", secret(PASSWORD)).await.unwrap();
        let token = signed_in.token.reveal().to_owned();
        h.service.portal_second_factor_call(&p, &token).await.unwrap();
        the_call_ends(&h, "wrong-code").await;
        let pending = h.service.portal_second_factor(&p, &token).await.unwrap().unwrap();
        assert_eq!(pending.proof.state, ProofState::Failed("wrong-code".into()));
        assert!(pending.proof.code.is_none(), "the code is gone");
        let e = h.service.portal_status(&p, &token).await.unwrap_err();
        assert!(matches!(e, PortalError::SessionEnded), "{e:?}");
        assert_eq!(h.count_events("alice", "ET_PORTAL_SIGN_IN").await, 0);
    }

    async fn a_call_without_the_code_counts_against_the_sign_in_throttle(db: Db) {
        let h = Harness::start_with(db, |s| {
            s.portal.second_factor = SecondFactor::WhenAvailable;
            s.portal.max_failures = 1;
            s.otp.guard = DestinationGuard { allowed_prefixes: vec!["+1".into()], allow_premium: false };
        })
        .await;
        h.set_password("alice", PASSWORD).await;
        register(&h, "alice", "+14155552671").await;
        let p = caller(Door::Portal, "127.0.0.1");
        let signed_in = h.service.portal_sign_in(&p, "alice", secret(PASSWORD)).await.unwrap();
        let token = signed_in.token.reveal().to_owned();
        h.service.portal_second_factor_call(&p, &token).await.unwrap();
        the_call_ends(&h, "no-answer").await;
        h.service.portal_second_factor(&p, &token).await.unwrap();
        // One failure is the limit here: the right password is throttled
        // now, from this address and (as "ALICE") from another.
        let e = h.service.portal_sign_in(&p, "alice", secret(PASSWORD)).await.unwrap_err();
        assert!(matches!(e, PortalError::Throttled), "{e:?}");
        let other = caller(Door::Portal, "127.0.0.2");
        let e = h.service.portal_sign_in(&other, "ALICE", secret(PASSWORD)).await.unwrap_err();
        assert!(matches!(e, PortalError::Throttled), "{e:?}");
    }

    async fn calls_to_a_persons_phone_are_limited(db: Db) {
        let h = harness(db, SecondFactor::WhenAvailable).await;
        register(&h, "alice", "+14155552671").await;
        // Five sign-ins an hour may ring the phone (from any address).
        for i in 0..5 {
            let p = caller(Door::Portal, &format!("127.0.0.{}", i + 1));
            h.service.portal_sign_in(&p, "alice", secret(PASSWORD)).await.unwrap();
        }
        let p = caller(Door::Portal, "127.0.0.9");
        let e = h.service.portal_sign_in(&p, "alice", secret(PASSWORD)).await.unwrap_err();
        assert!(matches!(e, PortalError::Throttled), "{e:?}");
        h.clock.advance(3_600_001);
        h.service.portal_sign_in(&p, "alice", secret(PASSWORD)).await.unwrap();
    }

    async fn a_required_factor_uses_the_directory_number_or_refuses(db: Db) {
        let h = harness(db, SecondFactor::Required).await;
        let p = caller(Door::Portal, "127.0.0.1");
        let e = h.service.portal_sign_in(&p, "alice", secret(PASSWORD)).await.unwrap_err();
        assert!(matches!(e, PortalError::NoSecondFactor), "{e:?}");
        // A wrong password still says only that.
        let e = h.service.portal_sign_in(&p, "alice", secret("Wrong!Pass1")).await.unwrap_err();
        assert!(matches!(e, PortalError::SignInRefused), "{e:?}");
        // With a number from the directory, that one is called.
        let mut record = touchtone_service::admin::PersonRecord {
            person: touchtone_service::people::Person {
                id: "alice".into(), display_name: "alice".into(), department: "QA".into(),
                employee_number: None, mail: None, phone_numbers: vec!["+1 415 555 2671".into()], disabled: false, groups: vec![], privileged: false,
            },
            accounts: vec![],
        };
        record.accounts.push(touchtone_service::people::Account { target: "local".into(), account: "alice".into() });
        h.service.import_people("test", &[record]).await.unwrap();
        let signed_in = h.service.portal_sign_in(&p, "alice", secret(PASSWORD)).await.unwrap();
        let token = signed_in.token.reveal().to_owned();
        assert!(signed_in.second_factor.is_some());
        h.service.portal_second_factor_call(&p, &token).await.unwrap();
        the_call_ends(&h, "verified").await;
        h.service.portal_second_factor(&p, &token).await.unwrap();
        h.service.portal_status(&p, &token).await.expect("signed in");
    }
}
