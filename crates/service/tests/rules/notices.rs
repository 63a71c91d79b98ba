//! Notices to the person: queued with what they report, in the same
//! transaction, once per operation (not per account), at most one
//! failed-verification notice an hour, none without an address or when
//! turned off.

use serde_json::Value;
use touchtone_service::notices::{NOTICE_ACTION, NoticeKind};
use touchtone_testkit::both_databases;

use crate::harness::*;

/// Gives `id` (of the harness's people) an address.
async fn give_address(h: &Harness, id: &str, accounts: &[(&str, &str)]) {
    let mut record = person(id, accounts);
    record.person.mail = Some(format!("{id}@example.test"));
    h.service.import_people("test", &[record]).await.unwrap();
}

/// The queued notices, oldest first.
async fn notices(h: &Harness) -> Vec<Value> {
    let mut conn = h.store.acquire().await.unwrap();
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT payload FROM outbox WHERE action = $1 ORDER BY created_at, id")
            .bind(NOTICE_ACTION)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    rows.iter()
        .map(|(p,)| serde_json::from_str(p).unwrap())
        .collect()
}

fn all_notices(s: &mut touchtone_service::Settings) {
    s.notices.email = NoticeKind::ALL.into_iter().collect();
    s.notices.language = "de".into();
}

both_databases! {
    async fn a_reset_on_two_systems_is_one_notice_naming_both(db: Db) {
        let h = Harness::start_with(db, all_notices).await;
        give_address(&h, "carol", &[("local", "carol"), ("hr", "CAROL")]).await;
        let token = h.verified(&api(), "carol").await;
        h.service.password_sync(&api(), &token, "carol", secret(NEW_PASSWORD), None).await.unwrap();
        let queued = notices(&h).await;
        assert_eq!(queued.len(), 1, "{queued:?}");
        let n = &queued[0];
        assert_eq!((n["kind"].as_str(), n["to"].as_str(), n["door"].as_str(), n["language"].as_str()),
            (Some("password_reset"), Some("carol@example.test"), Some("api"), Some("de")));
        let mut accounts: Vec<(String, bool)> = n["accounts"].as_array().unwrap().iter()
            .map(|a| (a["target"].as_str().unwrap().to_owned(), a["ok"].as_bool().unwrap())).collect();
        accounts.sort();
        assert_eq!(accounts, vec![("hr".to_owned(), false), ("local".to_owned(), true)]);
        assert!(!n.to_string().contains(NEW_PASSWORD));
    }

    async fn after_a_crash_the_person_is_told_which_systems_are_not_confirmed(db: Db) {
        let h = Harness::start_with(db, all_notices).await;
        give_address(&h, "carol", &[("local", "carol"), ("hr", "CAROL")]).await;
        // What a process killed during the `hr` call leaves behind: the
        // local step done, the other under way.
        {
            use touchtone_store::operations::{self, OperationKind};
            let now = h.service.now();
            let mut tx = h.store.begin().await.unwrap();
            operations::start(&mut tx, operations::NewOperation { id: "op-9", kind: OperationKind::PasswordSync, person_id: "carol", actor: API_USER, door: "ivr", session_id: None, started_at: now }).await.unwrap();
            operations::step_attempting(&mut tx, "op-9", "local", "carol", now).await.unwrap();
            operations::step_attempting(&mut tx, "op-9", "hr", "CAROL", now).await.unwrap();
            operations::step_finished(&mut tx, "op-9", "local", "carol", None, now).await.unwrap();
            tx.commit().await.unwrap();
        }
        assert_eq!(h.service.recover_interrupted().await.unwrap(), 1);
        let queued = notices(&h).await;
        assert_eq!(queued.len(), 1, "{queued:?}");
        let n = &queued[0];
        assert_eq!((n["kind"].as_str(), n["door"].as_str()), (Some("password_reset"), Some("ivr")));
        let accounts: Vec<(&str, bool, bool)> = n["accounts"].as_array().unwrap().iter()
            .map(|a| (a["target"].as_str().unwrap(), a["ok"].as_bool().unwrap(), a["unknown"].as_bool().unwrap()))
            .collect();
        assert_eq!(accounts, vec![("hr", false, true), ("local", true, false)]);
        let failure = h.events_of("carol").await.into_iter()
            .find(|(t, _)| t == "ET_ADMIN_RESET_FAILURE").expect("a failure event").1;
        assert_eq!((failure["detail"]["target"].as_str(), failure["detail"]["outcome"].as_str(), failure["detail"]["error"].as_str()),
            (Some("hr"), Some("unknown"), Some("outcome_unknown")));
    }

    async fn no_address_or_notices_off_queues_nothing(db: Db) {
        // alice has no address.
        let h = Harness::start_with(db, all_notices).await;
        let token = h.verified(&api(), "alice").await;
        h.service.password_sync(&api(), &token, "alice", secret(NEW_PASSWORD), None).await.unwrap();
        assert!(notices(&h).await.is_empty());
        // bob has one, but notices are off (the default, and without a relay).
        let h = Harness::start(touchtone_testkit::Db::Sqlite).await;
        give_address(&h, "bob", &[("local", "bob")]).await;
        let token = h.verified(&api(), "bob").await;
        h.service.accounts_unlock(&api(), &token, "bob", None).await.unwrap();
        assert!(notices(&h).await.is_empty());
    }

    async fn failures_are_told_once_an_hour_and_the_lockout_with_its_end(db: Db) {
        let h = Harness::start_with(db, all_notices).await;
        give_address(&h, "alice", &[("local", "alice")]).await;
        // Three wrong tries in one call: one failure notice.
        let mut token = h.session(&ivr()).await;
        for _ in 0..3 {
            token = h.answer(&ivr(), &token, "alice", "1111").await.2;
        }
        assert_eq!(notices(&h).await.len(), 1);
        // An hour on, one more failure is told again; the fifth locks.
        h.clock.advance(3600 * 1000);
        let mut token = h.session(&ivr()).await;
        let mut locked = false;
        for _ in 0..2 {
            let (_, now_locked, next) = h.answer(&ivr(), &token, "alice", "1111").await;
            token = next;
            locked = now_locked;
        }
        assert!(locked);
        let queued = notices(&h).await;
        let mut kinds: Vec<&str> = queued.iter().map(|n| n["kind"].as_str().unwrap()).collect();
        kinds.sort();
        assert_eq!(kinds, ["locked_out", "verification_failed", "verification_failed"], "{queued:?}");
        let lock = queued.iter().find(|n| n["kind"] == "locked_out").unwrap();
        assert_eq!(lock["door"], "ivr");
        assert_eq!(lock["locked_until"].as_i64(), Some(lock["at"].as_i64().unwrap() + h.service.settings().lockout.lockout_ms));
    }

    async fn administrators_hear_of_every_reset_of_a_privileged_person(db: Db) {
        let h = Harness::start_with(db, |s| {
            s.notices.admins = vec!["security@example.test".into()];
            s.notices.language = "en".into();
        })
        .await;
        // alice is privileged and has no address; bob is neither.
        let mut alice = person("alice", &[("local", "alice")]);
        alice.person.privileged = true;
        h.service.import_people("test", &[alice]).await.unwrap();
        for user in ["alice", "bob"] {
            let token = h.verified(&api(), user).await;
            h.service.password_sync(&api(), &token, user, secret(NEW_PASSWORD), None).await.unwrap();
        }
        let queued = notices(&h).await;
        assert_eq!(queued.len(), 1, "{queued:?}");
        let n = &queued[0];
        assert_eq!((n["person_id"].as_str(), n["to"].as_str(), n["for_admin"].as_bool(), n["kind"].as_str()),
            (Some("alice"), Some("security@example.test"), Some(true), Some("password_reset")));
    }
}
