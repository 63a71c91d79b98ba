//! The verification gate: a reset or unlock acts only on the person
//! verified in the same session, unless the API user is privileged; the
//! built-in IVR never is. A refused operation changes nothing.

use touchtone_service::ServiceError;
use touchtone_testkit::both_databases;

use crate::harness::*;

both_databases! {
    async fn a_reset_needs_the_person_verified_in_the_same_session(db: Db) {
        let h = Harness::start(db).await;
        for door in [api(), ivr()] {
            let unverified = h.session(&door).await;
            let e = h.service.password_sync(&door, &unverified, "alice", secret(NEW_PASSWORD), None).await.unwrap_err();
            assert!(matches!(e, ServiceError::NotVerified), "{e:?}");
            let e = h.service.accounts_unlock(&door, &unverified, "alice", None).await.unwrap_err();
            assert!(matches!(e, ServiceError::NotVerified), "{e:?}");

            // Verifying alice does not open bob's accounts.
            let alice = h.verified(&door, "alice").await;
            let e = h.service.password_sync(&door, &alice, "bob", secret(NEW_PASSWORD), None).await.unwrap_err();
            assert!(matches!(e, ServiceError::NotVerified), "{e:?}");
            let done = h.service.password_sync(&door, &alice, "alice", secret(NEW_PASSWORD), None).await.unwrap();
            assert!(done.value.iter().all(|r| r.ok), "{:?}", done.value);
        }
        assert!(h.local_password_is("alice", NEW_PASSWORD).await);
        assert!(!h.local_password_is("bob", NEW_PASSWORD).await);
    }

    async fn another_sessions_verification_does_not_count(db: Db) {
        let h = Harness::start(db).await;
        let _verified_elsewhere = h.verified(&ivr(), "alice").await;
        let other = h.session(&api()).await;
        let e = h.service.password_sync(&api(), &other, "alice", secret(NEW_PASSWORD), None).await.unwrap_err();
        assert!(matches!(e, ServiceError::NotVerified), "{e:?}");
    }

    async fn a_privileged_api_user_acts_without_verifying(db: Db) {
        let h = Harness::start(db).await;
        let token = h.service.login(&api(), HELPDESK, secret(HELPDESK_PASSWORD)).await.unwrap();
        let done = h.service.password_sync(&api(), token.reveal(), "bob", secret(NEW_PASSWORD), None).await.unwrap();
        assert!(done.value.iter().all(|r| r.ok), "{:?}", done.value);
        assert!(h.local_password_is("bob", NEW_PASSWORD).await);
    }

    async fn nobody_can_take_the_ivrs_reserved_name(db: Db) {
        let h = Harness::start(db).await;
        let e = h.service.add_api_user("test", "@ivr", secret("a-long-password-1"), vec!["127.0.0.1/32".into()], true)
            .await.unwrap_err();
        assert!(matches!(e, ServiceError::BadRequest(_)), "{e:?}");
        let e = h.service.login(&api(), "@ivr", secret("a-long-password-1")).await.unwrap_err();
        assert!(matches!(e, ServiceError::InvalidCredentials), "{e:?}");
    }

    async fn a_refused_operation_changes_nothing(db: Db) {
        let h = Harness::start(db).await;
        let token = h.verified(&api(), "alice").await;
        let e = h.service.password_sync(&api(), &token, "alice", secret("short"), None).await.unwrap_err();
        assert!(matches!(e, ServiceError::PasswordPolicy(_)), "{e:?}");
        let unknown = touchtone_service::api::AccountSelector { account: "root".into(), target: None };
        let e = h.service.password_sync(&api(), &token, "alice", secret(NEW_PASSWORD), Some(vec![unknown])).await.unwrap_err();
        assert!(matches!(e, ServiceError::UnknownAccount(_)), "{e:?}");
        let mut conn = h.store.acquire().await.unwrap();
        let (operations,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM operations").fetch_one(&mut *conn).await.unwrap();
        assert_eq!(operations, 0, "a refused operation left a record");
        drop(conn);
        // The session ID was not spent: the same one still resets.
        h.service.password_sync(&api(), &token, "alice", secret(NEW_PASSWORD), None).await.unwrap();
        assert!(h.local_password_is("alice", NEW_PASSWORD).await);
    }
}
