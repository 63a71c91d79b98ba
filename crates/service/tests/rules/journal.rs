//! The durable record of an account operation: each account's step is on
//! record as attempting before its target is called and as succeeded or
//! failed after, with its event; steps a stopped process left attempting
//! are reported as interrupted at the next start.

use touchtone_testkit::both_databases;

use crate::harness::*;

/// `(target, account, state, error)` of every step of `person`'s
/// operations.
async fn steps(h: &Harness, person: &str) -> Vec<(String, String, String, Option<String>)> {
    let mut conn = h.store.acquire().await.unwrap();
    sqlx::query_as(
        "SELECT s.target, s.account, s.state, s.error FROM operation_steps s \
         JOIN operations o ON o.id = s.operation_id WHERE o.person_id = $1 ORDER BY s.target",
    )
    .bind(person)
    .fetch_all(&mut *conn)
    .await
    .unwrap()
}

both_databases! {
    async fn a_sync_records_and_reports_each_account(db: Db) {
        let h = Harness::start(db).await;
        let token = h.verified(&api(), "carol").await;
        let done = h.service.password_sync(&api(), &token, "carol", secret(NEW_PASSWORD), None).await.unwrap();
        let mut results: Vec<(String, bool, Option<String>)> =
            done.value.iter().map(|r| (r.target.clone(), r.ok, r.error.clone())).collect();
        results.sort();
        assert_eq!(results, vec![
            ("hr".to_owned(), false, Some("policy_rejected".to_owned())),
            ("local".to_owned(), true, None),
        ]);
        assert_eq!(steps(&h, "carol").await, vec![
            ("hr".into(), "CAROL".into(), "failed".into(), Some("policy_rejected".into())),
            ("local".into(), "carol".into(), "succeeded".into(), None),
        ]);
        assert_eq!(h.count_events("carol", "ET_ADMIN_RESET_SUCCESS").await, 1);
        assert_eq!(h.count_events("carol", "ET_ADMIN_RESET_FAILURE").await, 1);
        assert!(h.local_password_is("carol", NEW_PASSWORD).await);
        let failure = h.events_of("carol").await.into_iter()
            .find(|(t, _)| t == "ET_ADMIN_RESET_FAILURE").unwrap().1;
        assert_eq!(failure["detail"]["target"], "hr");
        assert!(!failure.to_string().contains(NEW_PASSWORD), "the password is in an event");
    }

    async fn an_unlock_is_recorded_like_a_reset(db: Db) {
        let h = Harness::start(db).await;
        assert!(h.service.set_local_lock("operator", "alice", true).await.unwrap());
        let token = h.verified(&ivr(), "alice").await;
        let done = h.service.accounts_unlock(&ivr(), &token, "alice", None).await.unwrap();
        assert_eq!(done.value.len(), 1);
        assert!(done.value[0].ok);
        assert_eq!(done.value[0].was_locked, Some(true));
        assert_eq!(steps(&h, "alice").await, vec![
            ("local".into(), "alice".into(), "succeeded".into(), None),
        ]);
        assert_eq!(h.count_events("alice", "ET_ADMIN_UNLOCK_SUCCESS").await, 1);
        // Unlocking again finds nothing locked.
        let token = done.session.reveal().to_owned();
        let again = h.service.accounts_unlock(&ivr(), &token, "alice", None).await.unwrap();
        assert_eq!(again.value[0].was_locked, Some(false));
    }

    async fn steps_a_stopped_process_left_are_reported_interrupted(db: Db) {
        let h = Harness::start(db).await;
        // What a process killed during a target call leaves behind.
        {
            use touchtone_store::operations::{self, OperationKind};
            let mut tx = h.store.begin().await.unwrap();
            operations::start(&mut tx, operations::NewOperation { id: "op-1", kind: OperationKind::PasswordSync, person_id: "bob", actor: API_USER, door: "api", session_id: None, started_at: h.service.now() }).await.unwrap();
            operations::step_attempting(&mut tx, "op-1", "local", "bob", h.service.now()).await.unwrap();
            tx.commit().await.unwrap();
        }
        assert_eq!(h.service.recover_interrupted().await.unwrap(), 1);
        // The local target changes a password in the transaction that
        // records it: a step still under way changed nothing.
        let recorded = steps(&h, "bob").await;
        assert_eq!(recorded.len(), 1);
        assert_eq!((recorded[0].2.as_str(), recorded[0].3.as_deref()), ("failed", Some("interrupted")));
        let failure = h.events_of("bob").await.into_iter()
            .find(|(t, _)| t == "ET_ADMIN_RESET_FAILURE").expect("an interrupted failure event").1;
        assert_eq!(failure["detail"]["error"], "interrupted");
        assert_eq!(failure["detail"]["outcome"], "not_done");
        // Once reported, never again.
        assert_eq!(h.service.recover_interrupted().await.unwrap(), 0);
    }
}
