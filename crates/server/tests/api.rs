//! The remote API over real HTTPS against a running server, on SQLite and
//! PostgreSQL (see `touchtone_testkit` for how PostgreSQL is found).

mod common;

use common::*;
use serde_json::{Value, json};
use touchtone_core::password::PasswordPolicy;
use touchtone_testkit::both_databases;

/// A bad request: function, content type, body, expected status and code.
type BadCase = (
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    u16,
    &'static str,
);

fn session(body: &Value) -> String {
    body["session"]
        .as_str()
        .unwrap_or_else(|| panic!("no session in {body}"))
        .to_owned()
}

both_databases! {
    async fn the_full_flow_resets_the_password_on_the_local_target(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        let s = app.login().await;
        let (st, body) = app.call("UserIVRList", json!({"session": s, "ivr_id": "4878378"})).await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["users"], json!([{"user_id": "ivrtest", "display_name": "IVR Test", "department": "QA"}]));
        let (st, challenge) = app.call("UserQuestionsGet", json!({"session": session(&body), "user_id": "ivrtest"})).await;
        assert_eq!(st, 200, "{challenge}");
        assert_eq!(challenge["questions"].as_array().unwrap().len(), 2);
        assert!(challenge["questions"][0]["max_digits"].as_i64().unwrap() >= 4);
        let answers = right_answers("ivrtest", &challenge);
        let (st, body) = app
            .call("UserAnswersValidate", json!({"session": session(&challenge), "challenge_id": challenge["challenge_id"], "answers": answers}))
            .await;
        assert_eq!((st, body["valid"].clone(), body["locked"].clone()), (200, json!(true), json!(false)), "{body}");
        let (st, body) = app.call("PasswordRandomGet", json!({"session": session(&body), "user_id": "ivrtest"})).await;
        assert_eq!(st, 200, "{body}");
        let password = body["password"].as_str().unwrap().to_owned();
        assert!(PasswordPolicy::default().check(&password).is_empty());
        assert_eq!(body["spoken"].as_array().unwrap().len(), password.chars().count());
        let (st, body) = app.call("UserPasswordSync", json!({"session": session(&body), "user_id": "ivrtest", "password": password})).await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["results"], json!([{"account": "ivrtest", "target": "local", "ok": true}]));
        assert!(password_is(&app, "ivrtest", &password).await);
        let event = app.wait_for_event("ET_ADMIN_RESET_SUCCESS", "ivrtest").await;
        assert_eq!(event["detail"]["account"], "ivrtest");
        assert!(!serde_json::to_string(&app.events().await).unwrap().contains(&password), "the password leaked into an event");
        let (st, body) = app.call("Logout", json!({"session": session(&body)})).await;
        assert_eq!((st, body), (200, json!({"ended": true})));
    }

    async fn ivr_list_returns_every_collision_and_nothing_for_no_match(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        let s = app.login().await;
        let (st, body) = app.call("UserIVRList", json!({"session": s, "ivr_id": "576484"})).await;
        assert_eq!(st, 200);
        let ids: Vec<&str> = body["users"].as_array().unwrap().iter().map(|u| u["user_id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["jsmith", "ksmith"]);
        assert_eq!(body["users"][1]["department"], "Engineering");
        // Employee numbers are keypad IDs too: E1002 -> 31002.
        let (_, body) = app.call("UserIVRList", json!({"session": session(&body), "ivr_id": "31002"})).await;
        assert_eq!(body["users"][0]["user_id"], "ksmith");
        let (st, body) = app.call("UserIVRList", json!({"session": session(&body), "ivr_id": "999999"})).await;
        assert_eq!((st, body["users"].clone()), (200, json!([])));
    }

    async fn unlock_reports_each_account_and_fires_the_event(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        let s = app.verified_session("mlocked").await;
        let (st, body) = app.call("UserAccountsUnlock", json!({"session": s, "user_id": "mlocked", "accounts": [{"account": "mlocked"}]})).await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["results"], json!([{"account": "mlocked", "target": "local", "ok": true, "was_locked": true}]));
        app.wait_for_event("ET_ADMIN_UNLOCK_SUCCESS", "mlocked").await;
        let report = app.service.person_report("mlocked").await.unwrap();
        assert!(!report.accounts[0].1.as_ref().unwrap().locked);
        let (st, body) = app.call("UserAccountsUnlock", json!({"session": session(&body), "user_id": "mlocked", "accounts": [{"account": "nope"}]})).await;
        assert_eq!((st, body["error"]["code"].clone()), (404, json!("unknown_account")));
    }

    async fn a_replayed_session_id_revokes_the_session(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        let s1 = app.login().await;
        let (st, body) = app.call("UserIVRList", json!({"session": s1, "ivr_id": "576484"})).await;
        assert_eq!(st, 200);
        let s2 = session(&body);
        let (st, body) = app.call("UserIVRList", json!({"session": s1, "ivr_id": "576484"})).await;
        assert_eq!((st, body["error"]["code"].clone()), (401, json!("session_revoked")));
        // The legitimate holder's newer ID is dead too.
        let (st, body) = app.call("UserIVRList", json!({"session": s2, "ivr_id": "576484"})).await;
        assert_eq!((st, body["error"]["code"].clone()), (401, json!("session_expired")));
        let (st, body) = app.call("UserIVRList", json!({"session": "x".repeat(43), "ivr_id": "1"})).await;
        assert_eq!((st, body["error"]["code"].clone()), (401, json!("invalid_session")));
    }

    async fn racing_requests_with_one_session_id_succeed_at_most_once(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        let s = app.login().await;
        let calls = (0..6).map(|_| app.call("UserIVRList", json!({"session": s, "ivr_id": "576484"})));
        let results = futures::future::join_all(calls).await;
        let ok = results.iter().filter(|(st, _)| *st == 200).count();
        assert_eq!(ok, 1, "{results:?}");
        assert!(results.iter().all(|(st, _)| *st == 200 || *st == 401));
    }

    async fn an_address_outside_the_allow_list_is_refused_like_a_wrong_password(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        let (st, outside) = app.call("Login", json!({"user": FAR_USER, "password": FAR_PASSWORD})).await;
        let (_, wrong) = app.call("Login", json!({"user": API_USER, "password": "wrong-password"})).await;
        let (_, unknown) = app.call("Login", json!({"user": "nobody", "password": "whatever-pass"})).await;
        assert_eq!(st, 401);
        assert_eq!(outside, wrong);
        assert_eq!(wrong, unknown);
        assert_eq!(outside["error"]["code"], "invalid_credentials");
    }

    async fn healthz_says_the_process_lives_and_readyz_whether_to_send_work(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        assert_eq!(app.get_root("/healthz").await, (200, json!({"status": "ok"})));
        let (st, body) = app.get_root("/readyz").await;
        assert_eq!((st, body), (200, json!({"status": "ready", "checks": {"database": "ok", "sip": "off", "stopping": false}})));
        // A node that is stopping takes no new work, but still lives.
        app.readiness().set_stopping();
        let (st, body) = app.get_root("/readyz").await;
        assert_eq!((st, &body["checks"]["stopping"]), (503, &json!(true)), "{body}");
        assert_eq!(app.get_root("/healthz").await.0, 200);

        // With the database gone, not ready (and no internal text), yet alive.
        let other = TestApp::spawn(&db).await;
        other.service.close().await;
        let (st, body) = other.get_root("/readyz").await;
        assert_eq!((st, body), (503, json!({"status": "not_ready", "checks": {"database": "unreachable", "sip": "off", "stopping": false}})));
        assert_eq!(other.get_root("/healthz").await.0, 200);
    }

    async fn login_failures_are_throttled_per_user(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        for _ in 0..5 {
            let (st, _) = app.call("Login", json!({"user": API_USER, "password": "wrong-password"})).await;
            assert_eq!(st, 401);
        }
        // Now even the right password is refused until a back-off (one
        // second at the limit) has passed.
        let (st, body) = app.call("Login", json!({"user": API_USER, "password": API_PASSWORD})).await;
        assert_eq!((st, body["error"]["code"].clone()), (429, json!("throttled")));
        app.clock.advance(1000);
        app.login().await;
    }

    async fn wrong_answers_lock_the_user_out_of_every_function(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        // A session verified before the attack...
        let verified = app.verified_session("jsmith").await;
        // ...then five failures across two calls lock jsmith (3 per call).
        let mut s = app.login().await;
        for attempt in 1..=3 {
            let (st, body) = app.fail_once(&s, "jsmith").await;
            assert_eq!(st, 200, "{body}");
            assert_eq!(body["valid"], false);
            assert_eq!(body["attempts_left"], 3 - attempt, "{body}");
            s = session(&body);
        }
        let (st, body) = app.call("UserQuestionsGet", json!({"session": s, "user_id": "jsmith"})).await;
        assert_eq!(st, 200);
        // The session has used its attempts: even right answers fail now.
        let answers = right_answers("jsmith", &body);
        let (_, body) = app.call("UserAnswersValidate", json!({"session": session(&body), "challenge_id": body["challenge_id"], "answers": answers})).await;
        assert_eq!((body["valid"].clone(), body["attempts_left"].clone()), (json!(false), json!(0)), "{body}");

        let mut s = app.login().await;
        let (_, body) = app.fail_once(&s, "jsmith").await;
        assert_eq!(body["locked"], false);
        s = session(&body);
        let (_, body) = app.fail_once(&s, "jsmith").await;
        assert_eq!((body["locked"].clone(), body["attempts_left"].clone()), (json!(true), json!(0)), "{body}");
        app.wait_for_event("ET_INTRUDER_LOCKOUT", "jsmith").await;
        s = session(&body);

        // Locked: no new questions, no verification with the right answers,
        // and the session verified earlier cannot reset or unlock.
        let (st, body) = app.call("UserQuestionsGet", json!({"session": s, "user_id": "jsmith"})).await;
        assert_eq!((st, body["error"]["code"].clone()), (423, json!("user_locked")));
        let (st, body) = app.call("UserPasswordSync", json!({"session": verified, "user_id": "jsmith", "password": "Hnr4tAe7mf"})).await;
        assert_eq!((st, body["error"]["code"].clone()), (423, json!("user_locked")));
        let (st, body) = app.call("UserAccountsUnlock", json!({"session": verified, "user_id": "jsmith"})).await;
        assert_eq!((st, body["error"]["code"].clone()), (423, json!("user_locked")));
        // ksmith is not affected.
        app.verified_session("ksmith").await;
    }

    async fn racing_wrong_answers_cannot_overrun_the_lockout(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn_with(&db, |c| c.verification.max_failures = 3).await;
        // Six calls, each with a challenge ready, answer wrongly at once.
        let mut ready = Vec::new();
        for _ in 0..6 {
            let s = app.login().await;
            let (_, challenge) = app.call("UserQuestionsGet", json!({"session": s, "user_id": "jsmith"})).await;
            ready.push(challenge);
        }
        let attempts = ready.iter().map(|c| {
            app.call("UserAnswersValidate", json!({"session": c["session"], "challenge_id": c["challenge_id"], "answers": wrong_answers(c)}))
        });
        let results = futures::future::join_all(attempts).await;
        let counted = results.iter().filter(|(st, b)| *st == 200 && b["locked"] == false).count();
        let locking = results.iter().filter(|(st, b)| *st == 200 && b["locked"] == true).count();
        assert!(counted <= 2, "{counted} guesses were taken without a lock: {results:?}");
        assert!(locking >= 1, "{results:?}");
        let mut conn = app.store.acquire().await.unwrap();
        let failures: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM verification_failures WHERE person_id = 'jsmith'").fetch_one(&mut *conn).await.unwrap();
        assert_eq!(failures.0, 3, "exactly the failures up to the limit are counted");
    }

    async fn the_lockout_expires_and_an_operator_can_clear_it(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn_with(&db, |c| { c.verification.max_failures = 2; c.verification.lockout_secs = 600; }).await;
        let s = app.login().await;
        let (_, body) = app.fail_once(&s, "jsmith").await;
        let (_, body) = app.fail_once(&session(&body), "jsmith").await;
        assert_eq!(body["locked"], true);
        let (st, _) = app.call("UserQuestionsGet", json!({"session": session(&body), "user_id": "jsmith"})).await;
        assert_eq!(st, 423);
        app.clock.advance(601 * 1000);
        app.verified_session("jsmith").await;

        // Lock again; the operator clears it at once.
        let s = app.login().await;
        let (_, body) = app.fail_once(&s, "ksmith").await;
        let (_, body) = app.fail_once(&session(&body), "ksmith").await;
        assert_eq!(body["locked"], true);
        assert!(app.service.clear_lockout("operator", "ksmith").await.unwrap());
        app.verified_session("ksmith").await;
        app.wait_for_event("ET_INTRUDER_LOCKOUT_CLEARED", "ksmith").await;
    }

    async fn reset_is_refused_for_an_unverified_user_unless_privileged(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        let before = app.business_snapshot().await;
        let s = app.login().await;
        let (st, body) = app.call("UserPasswordSync", json!({"session": s, "user_id": "jsmith", "password": "Hnr4tAe7mf"})).await;
        assert_eq!((st, body["error"]["code"].clone()), (403, json!("not_verified")));
        let (st, body) = app.call("UserAccountsUnlock", json!({"session": s, "user_id": "mlocked"})).await;
        assert_eq!((st, body["error"]["code"].clone()), (403, json!("not_verified")));
        // Verified for ksmith is not verified for jsmith.
        let s = app.verified_session("ksmith").await;
        let (st, _) = app.call("UserPasswordSync", json!({"session": s, "user_id": "jsmith", "password": "Hnr4tAe7mf"})).await;
        assert_eq!(st, 403);
        assert!(!password_is(&app, "jsmith", "Hnr4tAe7mf").await);
        assert_eq!(before.iter().filter(|(t, _)| t == "operations").collect::<Vec<_>>(), app.business_snapshot().await.iter().filter(|(t, _)| t == "operations").collect::<Vec<_>>());

        let s = app.login_as(HELPDESK_USER, HELPDESK_PASSWORD).await;
        let (st, body) = app.call("UserPasswordSync", json!({"session": s, "user_id": "jsmith", "password": "Hnr4tAe7mf"})).await;
        assert_eq!(st, 200, "{body}");
        assert!(password_is(&app, "jsmith", "Hnr4tAe7mf").await);
    }

    async fn a_password_that_breaks_the_policy_is_refused_and_nothing_changes(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        let s = app.verified_session("ivrtest").await;
        let before = app.business_snapshot().await;
        let (st, body) = app.call("UserPasswordSync", json!({"session": s, "user_id": "ivrtest", "password": "short"})).await;
        assert_eq!((st, body["error"]["code"].clone()), (422, json!("password_policy")), "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("shorter than 8"));
        assert!(!body["error"]["message"].as_str().unwrap().contains("short\""));
        assert_eq!(before, app.business_snapshot().await);
        // The refused call did not spend the session ID.
        let (st, _) = app.call("UserPasswordSync", json!({"session": s, "user_id": "ivrtest", "password": "Hnr4tAe7mf"})).await;
        assert_eq!(st, 200);
    }

    async fn bad_input_gets_a_clear_4xx_and_changes_nothing(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        let s = app.verified_session("ivrtest").await;
        let before = app.business_snapshot().await;
        let cases: Vec<BadCase> = vec![
            ("UserIVRList", Some("application/json"), b"{not json".to_vec(), 400, "malformed_json"),
            ("UserIVRList", Some("application/json"), br#"{"session": 5, "ivr_id": "1"}"#.to_vec(), 422, "invalid_request"),
            ("UserIVRList", Some("application/json"), format!(r#"{{"session": "{s}"}}"#).into_bytes(), 422, "invalid_request"),
            ("UserIVRList", Some("application/json"), format!(r#"{{"session": "{s}", "ivr_id": "12", "extra": 1}}"#).into_bytes(), 422, "invalid_request"),
            ("UserIVRList", Some("application/json"), format!(r#"{{"session": "{s}", "ivr_id": "12ab"}}"#).into_bytes(), 400, "bad_request"),
            ("UserIVRList", Some("text/plain"), format!(r#"{{"session": "{s}", "ivr_id": "12"}}"#).into_bytes(), 415, "unsupported_media_type"),
            ("UserIVRList", None, format!(r#"{{"session": "{s}", "ivr_id": "12"}}"#).into_bytes(), 415, "unsupported_media_type"),
            ("UserIVRList", Some("application/json"), format!(r#"{{"session": "{s}", "ivr_id": "{}"}}"#, "1".repeat(40_000)).into_bytes(), 413, "payload_too_large"),
            ("UserPasswordSync", Some("application/json"), format!(r#"{{"session": "{s}", "user_id": "ivrtest", "password": "Hnr4tAe7mf", "acounts": []}}"#).into_bytes(), 422, "invalid_request"),
            ("UserPasswordSync", Some("application/json"), format!(r#"{{"session": "{s}", "user_id": "ivrtest", "password": ["Hnr4tAe7mf"]}}"#).into_bytes(), 422, "invalid_request"),
            ("UserQuestionsGet", Some("application/json"), format!(r#"{{"session": "{s}", "user_id": "nobody"}}"#).into_bytes(), 404, "unknown_user"),
            ("UserQuestionsGet", Some("application/json"), format!(r#"{{"session": "{s}", "user_id": ""}}"#).into_bytes(), 400, "bad_request"),
            ("PasswordRandomGet", Some("application/json"), format!(r#"{{"session": "{s}", "user_id": "nobody"}}"#).into_bytes(), 404, "unknown_user"),
            ("UserPasswordSync", Some("application/json"), format!(r#"{{"session": "{s}", "user_id": "nobody", "password": "Hnr4tAe7mf"}}"#).into_bytes(), 404, "unknown_user"),
            ("UserAnswersValidate", Some("application/json"), format!(r#"{{"session": "{s}", "challenge_id": "nope", "answers": []}}"#).into_bytes(), 404, "unknown_challenge"),
            ("UserAnswersValidate", Some("application/json"), format!(r#"{{"session": "{s}", "challenge_id": "c", "answers": [{{"question_id": "a", "answer": "1"}}, {{"question_id": "a", "answer": "2"}}]}}"#).into_bytes(), 400, "bad_request"),
            ("NoSuchFunction", Some("application/json"), b"{}".to_vec(), 404, "not_found"),
        ];
        for (function, content_type, body, status, code) in cases {
            let (st, answer) = app.call_raw(function, content_type, body).await;
            assert_eq!((st, answer["error"]["code"].as_str()), (status, Some(code)), "{function}: {answer}");
            assert!(answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
            assert_eq!(before, app.business_snapshot().await, "{function} {code} changed the database");
        }
        // A wrong type in a password field is not echoed back.
        let (_, answer) = app.call_raw("Login", Some("application/json"), br#"{"user": "ivr", "password": {"x": "hunter2"}}"#.to_vec()).await;
        assert!(!answer.to_string().contains("hunter2"), "{answer}");
        // None of it spent the session ID.
        let (st, body) = app.call("UserPasswordSync", json!({"session": s, "user_id": "ivrtest", "password": "Hnr4tAe7mf"})).await;
        assert_eq!(st, 200, "{body}");
    }

    async fn sessions_end_when_idle_or_too_old(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn_with(&db, |c| { c.sessions.idle_timeout_secs = 60; c.sessions.max_lifetime_secs = 150; }).await;
        let s = app.login().await;
        app.clock.advance(61_000);
        let (st, body) = app.call("UserIVRList", json!({"session": s, "ivr_id": "1"})).await;
        assert_eq!((st, body["error"]["code"].clone()), (401, json!("session_expired")));
        let mut s = app.login().await;
        for _ in 0..3 {
            app.clock.advance(50_000);
            let (st, body) = app.call("UserIVRList", json!({"session": s, "ivr_id": "1"})).await;
            if st != 200 {
                assert_eq!(body["error"]["code"], "session_expired");
                return;
            }
            s = session(&body);
        }
        panic!("the session outlived its absolute lifetime");
    }

    async fn the_audit_chain_records_calls_verifies_and_detects_an_edit(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        let s = app.verified_session("ivrtest").await;
        app.call("Logout", json!({"session": s})).await;
        app.call("Login", json!({"user": API_USER, "password": "wrong-password"})).await;
        let report = app.service.verify_audit(None).await.unwrap();
        assert_eq!(report.broken, None);
        let mut conn = app.store.acquire().await.unwrap();
        let actions: Vec<(String, String)> = sqlx::query_as("SELECT action, outcome FROM audit_log ORDER BY seq").fetch_all(&mut *conn).await.unwrap();
        for expected in [("Login", "ok"), ("UserQuestionsGet", "ok"), ("UserAnswersValidate", "ok"), ("Logout", "ok"), ("Login", "invalid_credentials")] {
            assert!(actions.contains(&(expected.0.to_owned(), expected.1.to_owned())), "{expected:?} missing from {actions:?}");
        }
        let details: Vec<(String,)> = sqlx::query_as("SELECT detail FROM audit_log").fetch_all(&mut *conn).await.unwrap();
        let all = details.iter().map(|d| d.0.as_str()).collect::<String>();
        for secret in ["2468", "wrong-password", API_PASSWORD] {
            assert!(!all.contains(secret), "{secret} is in the audit log");
        }
        let drops: &[&str] = match app.store.backend() {
            touchtone_store::Backend::Sqlite => &["DROP TRIGGER audit_log_no_update"],
            touchtone_store::Backend::Postgres => &["DROP TRIGGER audit_log_no_update ON audit_log"],
        };
        for d in drops {
            sqlx::query(d).execute(&mut *conn).await.unwrap();
        }
        sqlx::query("UPDATE audit_log SET outcome = 'ok' WHERE outcome = 'invalid_credentials'").execute(&mut *conn).await.unwrap();
        assert!(app.service.verify_audit(None).await.unwrap().broken.is_some());
    }
}

#[tokio::test]
async fn the_openapi_document_lists_the_eight_functions() {
    let db = new_db(touchtone_testkit::Db::Sqlite).await;
    let app = TestApp::spawn(&db).await;
    let response = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    for f in [
        "Login",
        "UserIVRList",
        "UserQuestionsGet",
        "UserAnswersValidate",
        "PasswordRandomGet",
        "UserPasswordSync",
        "UserAccountsUnlock",
        "Logout",
    ] {
        assert!(
            doc["paths"][format!("/api/v1/{f}")]["post"].is_object(),
            "{f} missing"
        );
    }
    // The voice-OTP doors: the reference's, and the list's filters as
    // what they are (query parameters), behind HTTP Basic.
    assert!(doc["paths"]["/outbound.cgi"]["get"].is_object());
    let list = &doc["paths"]["/api/v1/calls"]["get"];
    for p in list["parameters"].as_array().unwrap() {
        assert_eq!(
            (p["in"].as_str(), p["required"].as_bool()),
            (Some("query"), Some(false)),
            "{p}"
        );
    }
    assert_eq!(list["security"], json!([{"basic": []}]));
    assert_eq!(
        doc["components"]["securitySchemes"]["basic"]["scheme"],
        "basic"
    );
    // Every function documents the answers its body can get before it runs.
    for status in ["400", "413", "415", "422", "503"] {
        assert!(
            doc["paths"]["/api/v1/Login"]["post"]["responses"][status].is_object(),
            "{status}"
        );
    }
    assert_eq!(app.get_root("/healthz").await.0, 200);
    assert_eq!(
        app.client
            .get(format!("{}/Login", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
}
