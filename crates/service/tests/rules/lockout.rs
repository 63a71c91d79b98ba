//! The intruder lockout: wrong answers count toward one lock whichever
//! door they come through; a locked person gets no questions from any
//! door, and a session that verified them before the lock cannot act on
//! them after it. Refused API credentials are throttled for every door
//! that takes them, by a back-off that strangers cannot trigger for a name.

use touchtone_service::ServiceError;
use touchtone_testkit::both_databases;

use crate::harness::*;

both_databases! {
    async fn wrong_answers_through_every_door_add_up_to_one_lock(db: Db) {
        let h = Harness::start(db).await;
        // Three wrong tries on the API (the session's allowance) ...
        let mut token = h.session(&api()).await;
        for _ in 0..3 {
            let (valid, locked, next) = h.answer(&api(), &token, "alice", "1111").await;
            assert!(!valid && !locked);
            token = next;
        }
        // ... and two on the phone reach the limit of five.
        let mut call = h.session(&ivr()).await;
        let (_, locked, next) = h.answer(&ivr(), &call, "alice", "1111").await;
        assert!(!locked);
        call = next;
        let (_, locked, _) = h.answer(&ivr(), &call, "alice", "1111").await;
        assert!(locked, "the fifth failure, through the second door, locks");

        assert_eq!(h.count_events("alice", "ET_VERIFY_FAILURE").await, 5);
        assert_eq!(h.count_events("alice", "ET_INTRUDER_LOCKOUT").await, 1);
        let doors: Vec<String> = h.events_of("alice").await.into_iter()
            .filter(|(t, _)| t == "ET_VERIFY_FAILURE")
            .map(|(_, e)| e["detail"]["door"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(doors.iter().filter(|d| *d == "api").count(), 3, "{doors:?}");
        assert_eq!(doors.iter().filter(|d| *d == "ivr").count(), 2, "{doors:?}");

        for door in [api(), ivr()] {
            let fresh = h.session(&door).await;
            let e = h.service.questions_get(&door, &fresh, "alice").await.unwrap_err();
            assert!(matches!(e, ServiceError::UserLocked), "{e:?}");
        }
        // Others are not affected.
        h.verified(&api(), "bob").await;
    }

    async fn a_lock_after_verification_stops_the_reset(db: Db) {
        let h = Harness::start(db).await;
        let verified = h.verified(&api(), "alice").await;
        // An attacker on the phone locks alice meanwhile.
        for _ in 0..2 {
            let mut call = h.session(&ivr()).await;
            for _ in 0..3 {
                let (_, locked, next) = h.answer(&ivr(), &call, "alice", "1111").await;
                call = next;
                if locked {
                    break;
                }
            }
        }
        assert_eq!(h.count_events("alice", "ET_INTRUDER_LOCKOUT").await, 1);
        let e = h.service.password_sync(&api(), &verified, "alice", secret(NEW_PASSWORD), None).await.unwrap_err();
        assert!(matches!(e, ServiceError::UserLocked), "{e:?}");
        let e = h.service.accounts_unlock(&api(), &verified, "alice", None).await.unwrap_err();
        assert!(matches!(e, ServiceError::UserLocked), "{e:?}");
        assert!(!h.local_password_is("alice", NEW_PASSWORD).await);
    }

    async fn a_session_that_used_its_tries_is_not_heard_even_when_right(db: Db) {
        let h = Harness::start(db).await;
        let mut token = h.session(&api()).await;
        for _ in 0..3 {
            token = h.answer(&api(), &token, "alice", "1111").await.2;
        }
        let (valid, locked, _) = h.answer(&api(), &token, "alice", ANSWER).await;
        assert!(!valid && !locked, "a fourth try in one session counted");
        // A new session (a new call) may try again.
        h.verified(&api(), "alice").await;
    }

    async fn the_lock_expires_or_an_operator_clears_it(db: Db) {
        let h = Harness::start(db).await;
        let lock_alice = || async {
            for _ in 0..2 {
                let mut token = h.session(&api()).await;
                for _ in 0..3 {
                    let (_, locked, next) = h.answer(&api(), &token, "alice", "1111").await;
                    token = next;
                    if locked {
                        return;
                    }
                }
            }
            panic!("alice was not locked");
        };
        lock_alice().await;
        let locked = h.session(&api()).await;
        assert!(matches!(h.service.questions_get(&api(), &locked, "alice").await, Err(ServiceError::UserLocked)));
        // The lock lasts lockout_ms (30 minutes here), then the failures
        // that caused it are spent.
        h.clock.advance(h.service.settings().lockout.lockout_ms);
        h.verified(&api(), "alice").await;

        lock_alice().await;
        assert!(h.service.clear_lockout("operator", "alice").await.unwrap());
        assert_eq!(h.count_events("alice", "ET_INTRUDER_LOCKOUT_CLEARED").await, 1);
        h.verified(&api(), "alice").await;
    }

    async fn refused_credentials_count_for_every_door_that_takes_them(db: Db) {
        let h = Harness::start(db).await;
        // Login and the voice-OTP doors share one throttle.
        for action in ["Login", "otp_call", "Login", "otp_call", "Login"] {
            let e = h.service.authenticate(&api(), API_USER, secret("wrong-password"), action).await.unwrap_err();
            assert!(matches!(e, ServiceError::InvalidCredentials), "{e:?}");
        }
        let e = h.service.login(&api(), API_USER, secret(API_PASSWORD)).await.unwrap_err();
        assert!(matches!(e, ServiceError::Throttled), "{e:?}");
        let e = h.service.authenticate(&api(), API_USER, secret(API_PASSWORD), "otp_call").await.unwrap_err();
        assert!(matches!(e, ServiceError::Throttled), "{e:?}");
        // The back-off (one second at the limit) passes.
        h.clock.advance(1000);
        h.service.login(&api(), API_USER, secret(API_PASSWORD)).await.unwrap();
    }

    async fn strangers_cannot_throttle_the_ivr_platform(db: Db) {
        let h = Harness::start(db).await;
        // Many wrong passwords from addresses outside the allow-list, more
        // than the limit from each of two addresses...
        for ip in ["10.1.2.3", "10.9.8.7"] {
            let stranger = caller(touchtone_service::Door::Api, ip);
            for _ in 0..5 {
                let e = h.service.authenticate(&stranger, API_USER, secret("wrong-password"), "Login").await.unwrap_err();
                assert!(matches!(e, ServiceError::InvalidCredentials), "{e:?}");
            }
            // ...throttle those addresses...
            let e = h.service.authenticate(&stranger, API_USER, secret("wrong-password"), "Login").await.unwrap_err();
            assert!(matches!(e, ServiceError::Throttled), "{e:?}");
        }
        // ...but not the name: the platform still logs in at once, by every door.
        h.service.login(&api(), API_USER, secret(API_PASSWORD)).await.unwrap();
        h.service.authenticate(&api(), API_USER, secret(API_PASSWORD), "otp_call").await.unwrap();
        // Every refusal is in the audit, with its reason.
        let mut conn = h.store.acquire().await.unwrap();
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT outcome, detail FROM audit_log WHERE action = 'Login' ORDER BY seq")
            .fetch_all(&mut *conn).await.unwrap();
        let refused = rows.iter().filter(|(o, d)| o == "invalid_credentials" && d.contains("\"reason\":\"wrong_password\"")).count();
        let throttled = rows.iter().filter(|(o, _)| o == "throttled").count();
        assert_eq!((refused, throttled), (10, 2), "{rows:?}");
    }

    async fn the_throttle_backs_off_and_lets_the_right_password_through_soon(db: Db) {
        let h = Harness::start(db).await;
        let fail = || async {
            h.service.authenticate(&api(), API_USER, secret("wrong-password"), "Login").await.unwrap_err()
        };
        for _ in 0..5 {
            assert!(matches!(fail().await, ServiceError::InvalidCredentials));
        }
        // Past the limit each failure doubles the wait: 1 s, 2 s, 4 s, ...
        for wait in [1000, 2000, 4000, 8000] {
            h.clock.advance(wait - 1);
            let e = h.service.login(&api(), API_USER, secret(API_PASSWORD)).await.unwrap_err();
            assert!(matches!(e, ServiceError::Throttled), "{wait}: {e:?}");
            h.clock.advance(1);
            assert!(matches!(fail().await, ServiceError::InvalidCredentials), "{wait}");
        }
        // ... up to the most (60 s here), however many failures there were.
        for _ in 0..8 {
            h.clock.advance(h.service.settings().login_backoff_max_ms);
            assert!(matches!(fail().await, ServiceError::InvalidCredentials));
        }
        h.clock.advance(h.service.settings().login_backoff_max_ms - 1);
        let e = h.service.login(&api(), API_USER, secret(API_PASSWORD)).await.unwrap_err();
        assert!(matches!(e, ServiceError::Throttled), "{e:?}");
        h.clock.advance(1);
        h.service.login(&api(), API_USER, secret(API_PASSWORD)).await.unwrap();
    }

    async fn unknown_wrong_and_refused_logins_look_the_same(db: Db) {
        let h = Harness::start(db).await;
        let far = caller(touchtone_service::Door::Api, "10.1.2.3");
        let unknown = h.service.login(&api(), "nobody", secret(API_PASSWORD)).await.unwrap_err();
        let wrong = h.service.login(&api(), HELPDESK, secret("wrong-password")).await.unwrap_err();
        let refused = h.service.login(&far, API_USER, secret(API_PASSWORD)).await.unwrap_err();
        for e in [&unknown, &wrong, &refused] {
            assert!(matches!(e, ServiceError::InvalidCredentials), "{e:?}");
        }
        assert_eq!(unknown.to_string(), wrong.to_string());
        assert_eq!(wrong.to_string(), refused.to_string());
    }
}
