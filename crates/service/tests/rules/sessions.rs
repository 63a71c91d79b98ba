//! One-time session IDs: every call spends the ID it presents and gets
//! the next; a spent ID presented again, or an ID carried to another
//! address, ends the whole session; a refused call spends nothing; idle
//! and old sessions end. The same for the API's sessions and the IVR's.

use touchtone_service::{Door, ServiceError};
use touchtone_testkit::both_databases;

use crate::harness::*;

both_databases! {
    async fn each_call_spends_the_presented_id_and_returns_the_next(db: Db) {
        let h = Harness::start(db).await;
        for door in [api(), ivr()] {
            let first = h.session(&door).await;
            let second = h.service.ivr_list(&door, &first, "25423").await.unwrap();
            assert_eq!(second.value.len(), 1, "alice's keypad ID");
            let second = second.session.reveal().to_owned();
            assert_ne!(second, first);
            let third = h.service.ivr_list(&door, &second, "25423").await.unwrap();
            assert_ne!(third.session.reveal(), second);
        }
    }

    async fn a_replayed_session_id_revokes_the_session(db: Db) {
        let h = Harness::start(db).await;
        for door in [api(), ivr()] {
            let first = h.session(&door).await;
            let next = h.service.ivr_list(&door, &first, "25423").await.unwrap().session;
            let replay = h.service.ivr_list(&door, &first, "25423").await.unwrap_err();
            assert!(matches!(replay, ServiceError::SessionRevoked), "{replay:?}");
            // The newest ID died with its session.
            let after = h.service.ivr_list(&door, next.reveal(), "25423").await.unwrap_err();
            assert!(matches!(after, ServiceError::SessionExpired), "{after:?}");
        }
    }

    async fn an_id_presented_from_another_address_revokes_the_session(db: Db) {
        let h = Harness::start(db).await;
        let token = h.session(&api()).await;
        let thief = caller(Door::Api, "127.0.0.2");
        let stolen = h.service.ivr_list(&thief, &token, "25423").await.unwrap_err();
        assert!(matches!(stolen, ServiceError::SessionRevoked), "{stolen:?}");
        // The thief's attempt spent the ID: the owner presenting it is a
        // replay of an ended session.
        let owner = h.service.ivr_list(&api(), &token, "25423").await.unwrap_err();
        assert!(matches!(owner, ServiceError::SessionRevoked), "{owner:?}");
    }

    async fn a_refused_call_spends_nothing(db: Db) {
        let h = Harness::start(db).await;
        let token = h.session(&api()).await;
        let unknown = h.service.questions_get(&api(), &token, "nobody").await.unwrap_err();
        assert!(matches!(unknown, ServiceError::UnknownUser), "{unknown:?}");
        let bad = h.service.ivr_list(&api(), &token, "12a").await.unwrap_err();
        assert!(matches!(bad, ServiceError::BadRequest(_)), "{bad:?}");
        // The same ID still works.
        h.service.questions_get(&api(), &token, "alice").await.unwrap();
    }

    async fn idle_and_old_sessions_end(db: Db) {
        let h = Harness::start(db).await;
        let settings = h.service.settings().clone();
        let idle = h.session(&api()).await;
        h.clock.advance(settings.session_idle_ms + 1);
        let e = h.service.ivr_list(&api(), &idle, "25423").await.unwrap_err();
        assert!(matches!(e, ServiceError::SessionExpired), "{e:?}");

        // Kept busy, a session still ends at its absolute lifetime.
        let mut token = h.session(&api()).await;
        let step = settings.session_idle_ms / 2;
        let mut lived = 0;
        while lived + step < settings.session_lifetime_ms {
            h.clock.advance(step);
            lived += step;
            token = h.service.ivr_list(&api(), &token, "25423").await.unwrap().session.reveal().to_owned();
        }
        h.clock.advance(settings.session_lifetime_ms - lived);
        let e = h.service.ivr_list(&api(), &token, "25423").await.unwrap_err();
        assert!(matches!(e, ServiceError::SessionExpired), "{e:?}");
    }

    async fn logout_ends_the_session(db: Db) {
        let h = Harness::start(db).await;
        for door in [api(), ivr()] {
            let token = h.session(&door).await;
            let next = h.service.ivr_list(&door, &token, "25423").await.unwrap().session;
            h.service.logout(&door, next.reveal()).await.unwrap();
            let e = h.service.ivr_list(&door, next.reveal(), "25423").await.unwrap_err();
            assert!(matches!(e, ServiceError::SessionRevoked), "{e:?}");
        }
    }

    async fn a_garbage_session_id_is_refused_without_a_trace_of_a_session(db: Db) {
        let h = Harness::start(db).await;
        for token in ["", "not-a-token", &"x".repeat(300)] {
            let e = h.service.ivr_list(&api(), token, "25423").await.unwrap_err();
            assert!(matches!(e, ServiceError::InvalidSession), "{token}: {e:?}");
        }
    }
}
