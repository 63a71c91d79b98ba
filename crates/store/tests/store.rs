//! The store on both databases: token consumption, audit chain, outbox
//! leases, durable operation steps.

use touchtone_store::audit::{self, AuditEntry};
use touchtone_store::sessions::{self, Consumed, Session};
use touchtone_store::{operations, outbox};
use touchtone_testkit::{TestDatabase, both_databases};

fn entry(action: &str) -> AuditEntry {
    AuditEntry {
        actor: "test".into(),
        action: action.into(),
        subject: "jsmith".into(),
        outcome: "ok".into(),
        detail: serde_json::json!({"n": 1}),
    }
}

both_databases! {
    async fn a_token_is_consumed_once_and_a_replay_is_recognised(db: Db) {
        let db = TestDatabase::new(db).await;
        let store = db.store().await;
        let mut tx = store.begin().await.unwrap();
        let session = Session {
            id: "s1".into(), api_user: "ivr".into(), client_ip: "127.0.0.1".into(),
            created_at: 1_000, expires_at: 100_000, ended_at: None, verified_person: None, calling_number: None,
        };
        sessions::create(&mut tx, &session, "d1").await.unwrap();
        tx.commit().await.unwrap();

        let mut conn = store.acquire().await.unwrap();
        assert!(matches!(sessions::consume(&mut conn, "d1", 2_000, 0).await.unwrap(), Consumed::Live(s) if s.id == "s1"));
        assert_eq!(sessions::consume(&mut conn, "d1", 2_001, 0).await.unwrap(), Consumed::Replayed { session_id: "s1".into() });
        assert_eq!(sessions::consume(&mut conn, "nope", 2_001, 0).await.unwrap(), Consumed::Unknown);
        sessions::issue(&mut conn, "s1", "d2", 2_002).await.unwrap();
        // Idle: last use 2_002 is not after the cutoff 2_500.
        assert_eq!(sessions::consume(&mut conn, "d2", 3_000, 2_500).await.unwrap(), Consumed::Expired { session_id: "s1".into() });
        // Absolute expiry.
        assert_eq!(sessions::consume(&mut conn, "d2", 100_000, 0).await.unwrap(), Consumed::Expired { session_id: "s1".into() });
        assert!(sessions::end(&mut conn, "s1", "logout", 3_000).await.unwrap());
        assert_eq!(sessions::consume(&mut conn, "d2", 3_001, 0).await.unwrap(), Consumed::Expired { session_id: "s1".into() });
    }

    async fn racing_consumers_of_one_token_get_exactly_one_success(db: Db) {
        let db = TestDatabase::new(db).await;
        let store = db.store().await;
        let session = Session {
            id: "s1".into(), api_user: "ivr".into(), client_ip: "127.0.0.1".into(),
            created_at: 1_000, expires_at: 100_000, ended_at: None, verified_person: None, calling_number: None,
        };
        let mut conn = store.acquire().await.unwrap();
        sessions::create(&mut conn, &session, "d1").await.unwrap();
        drop(conn);
        let mut handles = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                audit::lock_head(&mut tx).await.unwrap();
                let consumed = sessions::consume(&mut tx, "d1", 2_000, 0).await.unwrap();
                tx.commit().await.unwrap();
                matches!(consumed, Consumed::Live(_))
            }));
        }
        let mut live = 0;
        for h in handles {
            live += usize::from(h.await.unwrap());
        }
        assert_eq!(live, 1);
    }

    async fn the_audit_chain_verifies_and_detects_an_edit_and_a_deletion(db: Db) {
        let db = TestDatabase::new(db).await;
        let store = db.store().await;
        for i in 0..5 {
            let mut tx = store.begin().await.unwrap();
            audit::lock_head(&mut tx).await.unwrap();
            audit::append(&mut tx, &entry(&format!("a{i}")), 1_000 + i).await.unwrap();
            tx.commit().await.unwrap();
        }
        let mut conn = store.acquire().await.unwrap();
        let report = audit::verify(&mut conn).await.unwrap();
        assert_eq!((report.rows, report.head_seq, report.broken.clone()), (5, 5, None));

        // The triggers refuse edits made through ordinary SQL.
        assert!(sqlx::query("UPDATE audit_log SET outcome = 'x' WHERE seq = 3").execute(&mut *conn).await.is_err());

        // Someone with full rights drops them and edits a row.
        let drop_triggers: &[&str] = match store.backend() {
            touchtone_store::Backend::Sqlite => &["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
            touchtone_store::Backend::Postgres => &["DROP TRIGGER audit_log_no_update ON audit_log"],
        };
        for statement in drop_triggers {
            sqlx::query(statement).execute(&mut *conn).await.unwrap();
        }
        sqlx::query("UPDATE audit_log SET outcome = 'denied' WHERE seq = 3").execute(&mut *conn).await.unwrap();
        let report = audit::verify(&mut conn).await.unwrap();
        assert_eq!(report.broken.map(|b| b.0), Some(3));

        sqlx::query("UPDATE audit_log SET outcome = 'ok' WHERE seq = 3").execute(&mut *conn).await.unwrap();
        assert_eq!(audit::verify(&mut conn).await.unwrap().broken, None);
        sqlx::query("DELETE FROM audit_log WHERE seq = 2").execute(&mut *conn).await.unwrap();
        assert_eq!(audit::verify(&mut conn).await.unwrap().broken.map(|b| b.0), Some(2));
    }

    async fn outbox_items_are_leased_once_and_retried_after_failure(db: Db) {
        let db = TestDatabase::new(db).await;
        let store = db.store().await;
        let mut conn = store.acquire().await.unwrap();
        outbox::enqueue(&mut conn, "e1", "hook", "{}", 1_000).await.unwrap();
        let first = outbox::claim_due(&mut conn, 1_000, 30_000, 10).await.unwrap();
        assert_eq!(first.len(), 1);
        assert!(outbox::claim_due(&mut conn, 1_001, 30_000, 10).await.unwrap().is_empty(), "leased");
        outbox::mark_failed(&mut conn, "e1/hook", "refused", 5_000, false, 1_002).await.unwrap();
        assert!(outbox::claim_due(&mut conn, 4_999, 30_000, 10).await.unwrap().is_empty(), "backing off");
        let again = outbox::claim_due(&mut conn, 5_000, 30_000, 10).await.unwrap();
        assert_eq!(again[0].attempts, 1);
        outbox::mark_delivered(&mut conn, "e1/hook", 5_001).await.unwrap();
        assert_eq!(outbox::counts(&mut conn).await.unwrap(), (0, 1, 0));
        assert!(outbox::claim_due(&mut conn, 1_000_000, 30_000, 10).await.unwrap().is_empty());
    }

    async fn steps_left_attempting_are_recovered_as_interrupted(db: Db) {
        let db = TestDatabase::new(db).await;
        let store = db.store().await;
        let mut conn = store.acquire().await.unwrap();
        operations::start(&mut conn, operations::NewOperation { id: "op1", kind: operations::OperationKind::PasswordSync, person_id: "jsmith", actor: "@ivr", door: "ivr", session_id: None, started_at: 1 }).await.unwrap();
        operations::step_attempting(&mut conn, "op1", "local", "jsmith", 2).await.unwrap();
        operations::step_finished(&mut conn, "op1", "local", "jsmith", None, 3).await.unwrap();
        operations::step_attempting(&mut conn, "op1", "hr", "j.smith", 4).await.unwrap();
        operations::step_attempting(&mut conn, "op1", "local2", "jsmith", 4).await.unwrap();
        // `local2` commits its changes with their record; `hr` does not.
        let recovered = operations::recover_interrupted(&mut conn, 10, &|t| t.starts_with("local")).await.unwrap();
        let resolved: Vec<_> = recovered.iter().map(|s| (s.target.as_str(), s.state.as_str(), s.error.as_deref())).collect();
        assert_eq!(resolved, vec![
            ("hr", "interrupted", Some(operations::OUTCOME_UNKNOWN)),
            ("local2", "failed", Some(operations::NOT_CHANGED)),
        ]);
        let steps = operations::steps(&mut conn, "op1").await.unwrap();
        let states: Vec<_> = steps.iter().map(|s| (s.target.as_str(), s.state.as_str())).collect();
        assert_eq!(states, vec![("hr", "interrupted"), ("local", "succeeded"), ("local2", "failed")]);
        let operation = operations::get(&mut conn, "op1").await.unwrap().unwrap();
        assert_eq!((operation.door.as_str(), operation.actor.as_str(), operation.started_at), ("ivr", "@ivr", 1));
        assert!(operations::recover_interrupted(&mut conn, 11, &|_| true).await.unwrap().is_empty());
    }
}
