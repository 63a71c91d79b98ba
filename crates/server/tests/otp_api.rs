//! The voice-OTP doors over real HTTPS, on SQLite and PostgreSQL (the
//! testkit starts PostgreSQL where needed): every 400 and 401 of the
//! reference's `/outbound.cgi`, the JSON API's authentication, idempotency
//! keys, the call record an API user may read (and another may not), the
//! toll-fraud guard and rate limits with their audit rows, and codes that
//! never reach the audit chain in clear. No SIP here: calls stay queued
//! (the SIP tests are in `otp_calls.rs`).

mod common;

use common::*;
use serde_json::{Value, json};
use sqlx::Row;
use touchtone_testkit::both_databases;

const CODE: &str = "482913";

fn root(app: &TestApp) -> String {
    format!("https://localhost:{}", app.addr.port())
}

async fn outbound(app: &TestApp, query: &str) -> (u16, Value) {
    let response = app
        .client
        .get(format!("{}/outbound.cgi?{query}", root(app)))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn query(number: &str, code: &str, user: &str, password: &str) -> String {
    format!("number={number}&code={code}&username={user}&password={password}")
}

async fn calls_post(
    app: &TestApp,
    auth: Option<(&str, &str)>,
    key: Option<&str>,
    body: Value,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = app.client.post(format!("{}/calls", app.base)).json(&body);
    if let Some((user, password)) = auth {
        request = request.basic_auth(user, Some(password));
    }
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        headers,
    )
}

async fn calls_get(app: &TestApp, user: &str, password: &str, path: &str) -> (u16, Value) {
    let response = app
        .client
        .get(format!("{}/calls{path}", app.base))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every audit row's text, to look for secrets.
async fn audit_text(app: &TestApp) -> String {
    let mut conn = app.store.acquire().await.unwrap();
    let rows = sqlx::query("SELECT action, subject, outcome, detail FROM audit_log ORDER BY seq")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            format!(
                "{} {} {} {}\n",
                r.get::<String, _>("action"),
                r.get::<String, _>("subject"),
                r.get::<String, _>("outcome"),
                r.get::<String, _>("detail")
            )
        })
        .collect()
}

async fn call_count(app: &TestApp) -> i64 {
    let mut conn = app.store.acquire().await.unwrap();
    sqlx::query("SELECT COUNT(*) AS n FROM otp_calls")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get::<i64, _>("n")
}

both_databases! {
    async fn outbound_cgi_answers_200_400_and_401_as_the_reference_does(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn_with(&db, otp_settings).await;

        // The reference's own example: a national Pakistani number.
        let (status, body) = outbound(&app, &query("03001234567", CODE, API_USER, API_PASSWORD)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["response_code"], "200");
        assert_eq!(body["response_description"], "OK");
        let id = body["call_id"].as_str().unwrap().to_owned();
        assert_eq!(stored_code(&app, &id).await.as_deref(), Some(CODE), "kept until the call ends");

        // Missing or malformed parameters: 400, and nothing is queued.
        let before = call_count(&app).await;
        let long_number = "1".repeat(16);
        let long_code = "1".repeat(21);
        for bad in [
            format!("code={CODE}&username={API_USER}&password={API_PASSWORD}"),
            query("0300-1234567", CODE, API_USER, API_PASSWORD),
            query("+923001234567", CODE, API_USER, API_PASSWORD),
            query(&long_number, CODE, API_USER, API_PASSWORD),
            query("", CODE, API_USER, API_PASSWORD),
            query("03001234567", "12a4", API_USER, API_PASSWORD),
            query("03001234567", &long_code, API_USER, API_PASSWORD),
            query("03001234567", "", API_USER, API_PASSWORD),
            format!("number=03001234567&code={CODE}&password={API_PASSWORD}"),
            format!("number=03001234567&code={CODE}&username={API_USER}"),
            query("03001234567", CODE, "", API_PASSWORD),
            format!("{}&mode=shout", query("03001234567", CODE, API_USER, API_PASSWORD)),
        ] {
            let (status, body) = outbound(&app, &bad).await;
            assert_eq!(status, 400, "{bad}: {body}");
            assert_eq!(body["response_code"], "400", "{bad}");
            assert_eq!(body["response_description"], "Bad Request");
            assert!(body.get("call_id").is_none());
        }
        // Digits only but not a number anywhere: 400 too (after the
        // credentials, so it tells nothing to a stranger).
        let (status, body) = outbound(&app, &query("12", CODE, API_USER, API_PASSWORD)).await;
        assert_eq!(status, 400, "{body}");

        // Credentials: unknown user, wrong password, and an address outside
        // the user's allow-list all answer the same 401.
        for (user, password) in [("nobody", "whatever"), (API_USER, "wrong-password"), (FAR_USER, FAR_PASSWORD)] {
            let (status, body) = outbound(&app, &query("03001234567", CODE, user, password)).await;
            assert_eq!(status, 401, "{user}: {body}");
            assert_eq!(body, json!({"response_code": "401", "response_description": "Unauthorized"}));
        }
        assert_eq!(call_count(&app).await, before, "refused requests queue nothing");

        // A form POST is accepted too; a JSON body is not.
        let form = app
            .client
            .post(format!("{}/outbound.cgi", root(&app)))
            .form(&[("number", "03001234568"), ("code", "1234"), ("username", API_USER), ("password", API_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(form.status().as_u16(), 200);
        let json_post = app
            .client
            .post(format!("{}/outbound.cgi", root(&app)))
            .json(&json!({"number": "03001234568", "code": "1234", "username": API_USER, "password": API_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(json_post.status().as_u16(), 400);

        // The guard: another country is refused (403) and audited.
        let (status, body) = outbound(&app, &query("00442079460958", CODE, API_USER, API_PASSWORD)).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["response_code"], "403");
        // Three calls per number: the fourth to 03001234567 is refused.
        for _ in 0..2 {
            let (status, _) = outbound(&app, &query("03001234567", CODE, API_USER, API_PASSWORD)).await;
            assert_eq!(status, 200);
        }
        let (status, body) = outbound(&app, &query("03001234567", CODE, API_USER, API_PASSWORD)).await;
        assert_eq!(status, 429, "{body}");

        let audit = audit_text(&app).await;
        assert!(audit.contains("otp_call +442079460958 refused {\"door\":\"api\",\"ip\":\"127.0.0.1\",\"reason\":\"destination_not_allowed\"}"), "{audit}");
        assert!(audit.contains("\"reason\":\"per_number\""), "{audit}");
        assert!(audit.contains("\"code\":\"*****3\""), "{audit}");
        assert!(!audit.contains(CODE), "the code reached the audit chain: {audit}");
        assert!(!audit.contains(API_PASSWORD), "{audit}");
        let (status, body) = app.call("Login", json!({"user": "x", "password": "y"})).await;
        assert_eq!(status, 401, "the shared throttle still answers: {body}");
    }

    async fn strangers_refused_at_every_door_do_not_throttle_the_api_user(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn_with(&db, otp_settings).await;
        // The helpdesk API user may call from 127.0.0.1 only; a stranger on
        // 127.0.0.2 guesses its password at all three doors, past the limit.
        let stranger = app.client_from("127.0.0.2".parse().unwrap());
        let mut statuses = Vec::new();
        for _ in 0..4 {
            let login = stranger
                .post(format!("{}/Login", app.base))
                .json(&json!({"user": HELPDESK_USER, "password": "wrong-password"}))
                .send().await.unwrap();
            let basic = stranger
                .get(format!("{}/calls", app.base))
                .basic_auth(HELPDESK_USER, Some("wrong-password"))
                .send().await.unwrap();
            let cgi = stranger
                .get(format!("{}/outbound.cgi?{}", root(&app), query("03001234567", CODE, HELPDESK_USER, "wrong-password")))
                .send().await.unwrap();
            statuses.extend([login.status().as_u16(), basic.status().as_u16(), cgi.status().as_u16()]);
        }
        // Five refusals, then that address backs off (429) at every door.
        assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
        assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
        // The helpdesk's own address with the right password is not held back.
        app.login_as(HELPDESK_USER, HELPDESK_PASSWORD).await;
        let (status, body) = calls_get(&app, HELPDESK_USER, HELPDESK_PASSWORD, "").await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = outbound(&app, &query("03001234567", CODE, HELPDESK_USER, HELPDESK_PASSWORD)).await;
        assert_eq!(status, 200, "{body}");
        // Every refusal was audited.
        let audit = audit_text(&app).await;
        let refused = audit.lines().filter(|l| l.contains(" invalid_credentials ") && l.contains("\"ip\":\"127.0.0.2\"")).count();
        let throttled = audit.lines().filter(|l| l.contains(&format!("{HELPDESK_USER} throttled"))).count();
        assert_eq!((refused, throttled), (5, 7), "{audit}");
    }

    async fn the_json_api_authenticates_honours_idempotency_keys_and_shows_only_your_calls(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn_with(&db, otp_settings).await;
        let me = Some((API_USER, API_PASSWORD));
        let call = json!({"to": "+92 300 1234567", "code": CODE, "mode": "verify", "repeat": 1});

        let (status, _, headers) = calls_post(&app, None, None, call.clone()).await;
        assert_eq!(status, 401);
        assert_eq!(headers["www-authenticate"], "Basic realm=\"touchtone\"");
        let (status, body, _) = calls_post(&app, Some((API_USER, "nope")), None, call.clone()).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["code"], "invalid_credentials");

        let (status, first, headers) = calls_post(&app, me, Some("order-17"), call.clone()).await;
        assert_eq!(status, 202, "{first}");
        assert_eq!(first["status"], "queued");
        let id = first["call_id"].as_str().unwrap().to_owned();
        assert_eq!(headers["location"], format!("/api/v1/calls/{id}"));
        // The same request again (a client's retry): the same call.
        let (status, again, headers) = calls_post(&app, me, Some("order-17"), call.clone()).await;
        assert_eq!(status, 202);
        assert_eq!(again["call_id"], id.as_str());
        assert_eq!(headers["idempotent-replayed"], "true");
        // The same key with another code, or another number: refused.
        let mut other = call.clone();
        other["code"] = json!("482914");
        let (status, body, _) = calls_post(&app, me, Some("order-17"), other).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["code"], "idempotency_key_reused");
        let mut other = call.clone();
        other["to"] = json!("+923001234568");
        let (status, _, _) = calls_post(&app, me, Some("order-17"), other).await;
        assert_eq!(status, 422);
        // The same key from another API user is that user's own key.
        let (status, theirs, _) = calls_post(&app, Some((HELPDESK_USER, HELPDESK_PASSWORD)), Some("order-17"), call.clone()).await;
        assert_eq!(status, 202);
        assert_ne!(theirs["call_id"], id.as_str());

        // Bad bodies: clear errors, nothing queued.
        let before = call_count(&app).await;
        for (body, expected) in [
            (json!({"to": "+923001234567", "code": CODE, "mode": "sing"}), 422),
            (json!({"to": "+923001234567", "code": 482913}), 422),
            (json!({"to": "+923001234567", "code": "48a913"}), 400),
            (json!({"to": "not a number", "code": CODE}), 400),
            (json!({"to": "+923001234567", "code": CODE, "repeat": 0}), 400),
            (json!({"to": "+923001234567", "code": CODE, "language": "xx"}), 400),
            (json!({"to": "+923001234567", "code": CODE, "callback_url": "ftp://example.com/x"}), 400),
            // No SSRF: callbacks go to public hosts unless the operator allows private ones.
            (json!({"to": "+923001234567", "code": CODE, "callback_url": "http://127.0.0.1:8080/x"}), 400),
            (json!({"to": "+923001234567", "code": CODE, "callback_url": "http://169.254.169.254/latest/meta-data"}), 400),
            (json!({"to": "+923001234567", "code": CODE, "callback_url": "http://localhost/x"}), 400),
            (json!({"to": "+923001234567", "code": CODE, "extra": 1}), 422),
            (json!({"to": "+14155552671", "code": CODE}), 403),
        ] {
            let (status, answer, _) = calls_post(&app, me, None, body.clone()).await;
            assert_eq!(status, expected, "{body}: {answer}");
            assert!(answer["error"]["message"].as_str().is_some_and(|m| !m.contains(CODE)), "{answer}");
        }
        assert_eq!(call_count(&app).await, before);

        // The record: mine to read, masked code; another API user sees 404.
        let (status, view) = calls_get(&app, API_USER, API_PASSWORD, &format!("/{id}")).await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["status"], "queued");
        assert_eq!(view["final"], false);
        assert_eq!(view["mode"], "verify");
        assert_eq!(view["record"]["destination"], "+923001234567");
        assert_eq!(view["record"]["code"], "*****3");
        assert_eq!(view["history"][0]["status"], "queued");
        assert!(!view.to_string().contains(CODE));
        let (status, _) = calls_get(&app, HELPDESK_USER, HELPDESK_PASSWORD, &format!("/{id}")).await;
        assert_eq!(status, 404);
        let (status, _) = calls_get(&app, API_USER, API_PASSWORD, "/not-a-call").await;
        assert_eq!(status, 404);

        // Lists with filters.
        let (status, list) = calls_get(&app, API_USER, API_PASSWORD, "?status=queued&to=03001234567").await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["calls"].as_array().unwrap().len(), 1);
        let (_, list) = calls_get(&app, API_USER, API_PASSWORD, "?limit=1").await;
        assert_eq!(list["calls"].as_array().unwrap().len(), 1);
        for bad in ["?status=bogus", "?limit=0", "?since=yesterday", "?colour=red"] {
            let (status, body) = calls_get(&app, API_USER, API_PASSWORD, bad).await;
            assert_eq!(status, 400, "{bad}: {body}");
        }

        // Cancelling a queued call ends it and wipes the code.
        let response = app
            .client
            .delete(format!("{}/calls/{id}", app.base))
            .basic_auth(API_USER, Some(API_PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let view: Value = response.json().await.unwrap();
        assert_eq!(view["status"], "cancelled");
        assert_eq!(view["final"], true);
        assert_eq!(stored_code(&app, &id).await, None);
        let statuses: Vec<&str> = view["history"].as_array().unwrap().iter().map(|h| h["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["queued", "cancelled"]);
    }
}
