//! Event actions end to end: signed webhooks to a real local receiver,
//! retried with back-off and across a restart; command actions; failure
//! events from a failing target beside a working one; reminder e-mails
//! through a real SMTP server (aiosmtpd, STARTTLS required), sent once,
//! across restarts, at most once per interval; notices of resets and
//! lockouts to the person, the same way.

mod common;

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use common::*;
use serde_json::{Value, json};
use touchtone_core::secret::SecretString;
use touchtone_server::config::{EventActionConfig, TargetConfig};
use touchtone_server::config::{SmtpConfig, SmtpTls};
use touchtone_service::admin::PersonRecord;
use touchtone_service::people::{Account, Person};
use touchtone_testkit::both_databases;
use touchtone_testkit::smtp::SmtpServer;

const WEBHOOK_SECRET: &str = "webhook-secret-for-tests";

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    /// Answer 500 to this many requests first.
    fail_first: Arc<Mutex<usize>>,
}

impl Receiver {
    async fn serve(&self, listener: tokio::net::TcpListener) {
        let this = self.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let this = this.clone();
                async move {
                    this.seen.lock().unwrap().push((headers, body));
                    let mut fail = this.fail_first.lock().unwrap();
                    if *fail > 0 {
                        *fail -= 1;
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }

    fn bodies(&self) -> Vec<Value> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| serde_json::from_str(b).unwrap())
            .collect()
    }
}

fn webhook(addr: SocketAddr) -> EventActionConfig {
    EventActionConfig::Webhook {
        name: "hook".into(),
        events: Some(vec![
            "ET_ADMIN_RESET_SUCCESS".into(),
            "ET_ADMIN_RESET_FAILURE".into(),
        ]),
        url: format!("http://{addr}/hook"),
        secret_file: None,
        secret: Some(WEBHOOK_SECRET.into()),
        timeout_secs: 5,
    }
}

/// Resets ivrtest's password through the API; returns the event ID.
async fn reset_ivrtest(app: &TestApp) -> String {
    let s = app.verified_session("ivrtest").await;
    let (st, body) = app
        .call(
            "UserPasswordSync",
            json!({"session": s, "user_id": "ivrtest", "password": "Hnr4tAe7mf"}),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    app.wait_for_event("ET_ADMIN_RESET_SUCCESS", "ivrtest")
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Moves the clock on until `done` holds (bounded), so back-offs elapse.
async fn until(app: &TestApp, what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..150 {
        if done() {
            return;
        }
        app.clock.advance(5_000);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

both_databases! {
    async fn webhooks_are_signed_and_retried_until_delivered(db: Db) {
        let db = new_db(db).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let receiver = Receiver::default();
        *receiver.fail_first.lock().unwrap() = 2;
        receiver.serve(listener).await;
        let app = TestApp::spawn_with(&db, |c| c.event_actions.push(webhook(addr))).await;
        let event_id = reset_ivrtest(&app).await;
        until(&app, "three attempts", || receiver.seen.lock().unwrap().len() >= 3).await;

        let seen = receiver.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3, "delivered once after two failures, then no more");
        for (headers, body) in &seen {
            let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
            assert_eq!(header("x-touchtone-event-id"), event_id);
            assert_eq!(header("x-touchtone-event-type"), "ET_ADMIN_RESET_SUCCESS");
            let timestamp: i64 = header("x-touchtone-timestamp").parse().unwrap();
            let expected = touchtone_service::delivery::sign(WEBHOOK_SECRET.as_bytes(), timestamp, body);
            assert_eq!(header("x-touchtone-signature"), expected);
            let event: Value = serde_json::from_str(body).unwrap();
            assert_eq!((event["id"].as_str(), event["user_id"].as_str()), (Some(event_id.as_str()), Some("ivrtest")));
            assert!(!body.contains("Hnr4tAe7mf"));
        }
        // The receiver records the third attempt before the worker has
        // marked the row delivered: wait for the mark rather than race it.
        let mut pending = 1;
        for _ in 0..50 {
            let mut conn = app.store.acquire().await.unwrap();
            pending = touchtone_store::outbox::counts(&mut conn).await.unwrap().0;
            if pending == 0 {
                break;
            }
            drop(conn);
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(pending, 0, "nothing left pending");
        assert_eq!(receiver.seen.lock().unwrap().len(), 3, "no attempt after the delivery");
    }

    async fn pending_deliveries_survive_a_restart(db: Db) {
        let db = new_db(db).await;
        // A port with nobody listening yet.
        let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let app = TestApp::spawn_with(&db, |c| c.event_actions.push(webhook(addr))).await;
        let event_id = reset_ivrtest(&app).await;
        // The file action delivers at once; only then is the webhook the
        // one delivery left pending.
        app.wait_for_event("ET_ADMIN_RESET_SUCCESS", "ivrtest").await;
        let mut conn = app.store.acquire().await.unwrap();
        let mut pending = touchtone_store::outbox::counts(&mut conn).await.unwrap().0;
        for _ in 0..100 {
            if pending == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            pending = touchtone_store::outbox::counts(&mut conn).await.unwrap().0;
        }
        assert_eq!(pending, 1, "the webhook delivery is pending");
        drop(conn);
        let (config, dir, clock) = app.stop().await;

        let receiver = Receiver::default();
        receiver.serve(tokio::net::TcpListener::bind(addr).await.unwrap()).await;
        let app = TestApp::start(config, dir, clock).await;
        until(&app, "delivery after the restart", || !receiver.seen.lock().unwrap().is_empty()).await;
        assert_eq!(receiver.bodies()[0]["id"], event_id);
    }

    async fn one_failing_target_beside_a_working_one_reports_each_account(db: Db) {
        let db = new_db(db).await;
        let dir = tempfile::tempdir().unwrap();
        let failing = dir.path().join("hr-reset");
        std::fs::write(&failing, "#!/bin/sh\ncat >/dev/null\necho '{\"ok\":false,\"error\":\"policy_rejected\",\"message\":\"password was used before\"}'\n").unwrap();
        std::fs::set_permissions(&failing, std::fs::Permissions::from_mode(0o755)).unwrap();
        let seen = dir.path().join("seen.jsonl");
        let action = dir.path().join("action");
        std::fs::write(&action, format!("#!/bin/sh\ncat >> {}\n", seen.display())).unwrap();
        std::fs::set_permissions(&action, std::fs::Permissions::from_mode(0o755)).unwrap();
        let app = TestApp::spawn_with(&db, |c| {
            c.targets.push(TargetConfig::Command {
                name: "hr".into(), program: failing.clone(), args: vec![], timeout_secs: 5, policy: Default::default(),
            });
            c.event_actions.push(EventActionConfig::Command {
                name: "script".into(), events: None, program: action.clone(), args: vec![], timeout_secs: 5,
            });
        })
        .await;
        let record = PersonRecord {
            person: Person {
                id: "twotargets".into(), display_name: "Two Targets".into(), department: "Ops".into(),
                employee_number: None, mail: None, phone_numbers: vec![], disabled: false, groups: vec![], privileged: false,
            },
            accounts: vec![
                Account { target: "local".into(), account: "twotargets".into() },
                Account { target: "hr".into(), account: "T.TARGETS".into() },
            ],
        };
        app.service.import_people("test", &[record]).await.unwrap();
        let s = app.login_as(HELPDESK_USER, HELPDESK_PASSWORD).await;
        let (st, body) = app.call("UserPasswordSync", json!({"session": s, "user_id": "twotargets", "password": "Hnr4tAe7mf"})).await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["results"], json!([
            {"account": "T.TARGETS", "target": "hr", "ok": false, "error": "policy_rejected", "message": "the system refused the password: password was used before"},
            {"account": "twotargets", "target": "local", "ok": true},
        ]));
        let failure = app.wait_for_event("ET_ADMIN_RESET_FAILURE", "twotargets").await;
        assert_eq!(failure["detail"]["error"], "policy_rejected");
        app.wait_for_event("ET_ADMIN_RESET_SUCCESS", "twotargets").await;
        let ok = app.service
            .check_account_password("local", "twotargets", &SecretString::from("Hnr4tAe7mf".to_owned()))
            .await
            .unwrap();
        assert!(ok, "the working target was reset");
        // The command action got both events on stdin.
        until(&app, "the command action", || std::fs::read_to_string(&seen).is_ok_and(|t| t.lines().count() >= 2)).await;
        let text = std::fs::read_to_string(&seen).unwrap();
        assert!(text.contains("ET_ADMIN_RESET_FAILURE") && text.contains("ET_ADMIN_RESET_SUCCESS"));
    }
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Reminders every 7 days through `smtp`, answers to confirm every 30.
fn with_reminders(c: &mut touchtone_server::config::Config, smtp: &SmtpServer) {
    with_relay(c, smtp);
    c.enrolment.reminder_interval_days = 7;
    c.enrolment.reconfirm_days = 30;
    c.web.public_url = Some("https://touchtone.example.test/".into());
}

/// Mail through `smtp`; notices (on by default) written for Berlin.
fn with_relay(c: &mut touchtone_server::config::Config, smtp: &SmtpServer) {
    c.notices.time_zone = "Europe/Berlin".into();
    c.smtp = Some(SmtpConfig {
        host: "127.0.0.1".into(),
        port: smtp.port,
        tls: SmtpTls::Starttls,
        username: None,
        password_file: None,
        from: "Password reset <touchtone@example.test>".into(),
        ca_file: Some(smtp.ca_file.clone()),
        timeout_secs: 10,
    });
}

/// People with (or without) an address; enrolled or not is up to the test.
async fn add_people(app: &TestApp, people: &[(&str, &str, Option<&str>)]) {
    let records: Vec<PersonRecord> = people
        .iter()
        .map(|(id, name, mail)| PersonRecord {
            person: Person {
                id: (*id).into(),
                display_name: (*name).into(),
                department: "Ops".into(),
                employee_number: None,
                mail: mail.map(str::to_owned),
                phone_numbers: vec![],
                disabled: false,
                groups: Vec::new(),
                privileged: false,
            },
            accounts: vec![Account {
                target: "local".into(),
                account: (*id).into(),
            }],
        })
        .collect();
    app.service.import_people("test", &records).await.unwrap();
}

/// The reminder outbox rows: (attempts, delivered, last error).
async fn reminder_rows(app: &TestApp) -> Vec<(i64, bool, Option<String>)> {
    mail_rows(app, "@reminder-mail").await
}

/// The outbox rows of a mail action: (attempts, delivered, last error).
async fn mail_rows(app: &TestApp, action: &str) -> Vec<(i64, bool, Option<String>)> {
    let mut conn = app.store.acquire().await.unwrap();
    let rows: Vec<(i64, Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT attempts, delivered_at, last_error FROM outbox WHERE action = $1 ORDER BY created_at",
    )
    .bind(action)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(a, d, e)| (a, d.is_some(), e))
        .collect()
}

/// Waits (moving the clock past back-offs) until `count` messages arrived
/// and every reminder row is marked delivered.
async fn delivered(app: &TestApp, smtp: &SmtpServer, count: usize) -> Vec<String> {
    delivered_for(app, smtp, "@reminder-mail", count).await
}

async fn delivered_for(
    app: &TestApp,
    smtp: &SmtpServer,
    action: &str,
    count: usize,
) -> Vec<String> {
    for _ in 0..300 {
        let rows = mail_rows(app, action).await;
        if smtp.messages().len() >= count && rows.iter().all(|(_, d, _)| *d) {
            return smtp.messages();
        }
        app.clock.advance(5_000);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "{} of {count} {action} delivered: {:?}\n{}",
        smtp.messages().len(),
        mail_rows(app, action).await,
        smtp.log()
    );
}

fn header<'a>(message: &'a str, name: &str) -> &'a str {
    message
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
        .unwrap_or_else(|| panic!("no {name} in {message}"))
}

both_databases! {
    async fn reminders_are_sent_once_survive_restarts_and_wait_for_the_interval(db: Db) {
        let db = new_db(db).await;
        // The relay is down at first.
        let mut smtp = SmtpServer::stopped();
        let app = TestApp::spawn_with(&db, |c| with_reminders(c, &smtp)).await;
        // nora is not enrolled; omar neither, but has no address; jsmith
        // is enrolled (now with an address).
        add_people(&app, &[("nora", "Nora Nüssli", Some("nora@example.test")), ("omar", "Omar", None)]).await;
        add_people(&app, &[("jsmith", "John Smith", Some("jsmith@example.test"))]).await;
        assert_eq!(app.service.queue_reminders().await.unwrap(), 1, "nora only");
        for _ in 0..100 {
            if reminder_rows(&app).await.iter().any(|(attempts, _, _)| *attempts > 0) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let rows = reminder_rows(&app).await;
        assert_eq!(rows.len(), 1);
        assert!(!rows[0].1 && rows[0].0 >= 1, "tried and failed while the relay is down: {rows:?}");
        let (config, dir, clock) = app.stop().await;

        // After a restart, with the relay up: delivered, once.
        smtp.run();
        let app = TestApp::start(config, dir, clock).await;
        let messages = delivered(&app, &smtp, 1).await;
        assert_eq!(messages.len(), 1);
        let mail = &messages[0];
        assert!(header(mail, "To").contains("<nora@example.test>"), "{mail}");
        assert_eq!(header(mail, "Subject"), "Please enrol for the telephone password reset");
        assert_eq!(header(mail, "Auto-Submitted"), "auto-generated");
        assert!(mail.contains("https://touchtone.example.test/"), "{mail}");
        assert!(mail.contains("N=C3=BCssli") || mail.contains("Nüssli"), "{mail}");
        assert!(header(mail, "X-Peer").contains("127.0.0.1"), "{mail}");

        // Within the interval, no second reminder.
        assert_eq!(app.service.queue_reminders().await.unwrap(), 0);
        // A month on: nora again, and jsmith's answers are due.
        app.clock.advance(31 * DAY_MS);
        assert_eq!(app.service.queue_reminders().await.unwrap(), 2);
        let messages = delivered(&app, &smtp, 3).await;
        let subjects: Vec<&str> = messages.iter().map(|m| header(m, "Subject")).collect();
        assert!(subjects.contains(&"Please confirm your security answers"), "{subjects:?}");
        let (config, dir, clock) = app.stop().await;

        // A restart after delivery sends nothing again; a newcomer's
        // reminder, queued after it, is the only new message.
        let app = TestApp::start(config, dir, clock).await;
        add_people(&app, &[("pia", "Pia", Some("pia@example.test"))]).await;
        assert_eq!(app.service.queue_reminders().await.unwrap(), 1, "pia only");
        let messages = delivered(&app, &smtp, 4).await;
        assert_eq!(messages.len(), 4, "no reminder was sent twice");
        let mut ids: Vec<&str> = messages.iter().map(|m| header(m, "Message-ID")).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4);
        assert!(header(&messages[3], "To").contains("<pia@example.test>"));
    }
}

both_databases! {
    async fn people_are_told_of_a_reset_and_a_lockout_once_across_a_restart(db: Db) {
        let db = new_db(db).await;
        // The relay is down at first.
        let mut smtp = SmtpServer::stopped();
        let app = TestApp::spawn_with(&db, |c| with_relay(c, &smtp)).await;
        add_people(&app, &[("jsmith", "John Smith", Some("jsmith@example.test")), ("ksmith", "Karen Smith", None)]).await;
        app.reset_by_api("jsmith", "Hnr4tAe7mf").await;
        for _ in 0..100 {
            if mail_rows(&app, "@notice-mail").await.iter().any(|(attempts, _, _)| *attempts > 0) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let rows = mail_rows(&app, "@notice-mail").await;
        assert!(rows.len() == 1 && !rows[0].1 && rows[0].0 >= 1, "queued, tried while the relay is down: {rows:?}");
        let (config, dir, clock) = app.stop().await;

        // After a restart, with the relay up: delivered, once.
        smtp.run();
        let app = TestApp::start(config, dir, clock).await;
        let messages = delivered_for(&app, &smtp, "@notice-mail", 1).await;
        assert_eq!(messages.len(), 1);
        let mail = messages[0].replace("=\r\n", "");
        assert!(header(&mail, "To").contains("<jsmith@example.test>"), "{mail}");
        assert_eq!(header(&mail, "Subject"), "Your password was reset");
        assert_eq!(header(&mail, "Auto-Submitted"), "auto-generated");
        assert!(mail.contains("reset by telephone at "), "{mail}");
        assert!(mail.contains(" CET.") || mail.contains(" CEST."), "Berlin time: {mail}");
        assert!(mail.contains("- local (jsmith): done"), "{mail}");
        assert!(!mail.contains("Hnr4tAe7mf"), "the password was mailed: {mail}");

        // Wrong answers lock jsmith (five, across two calls): one notice
        // says so, and until when; ksmith, without an address, gets none.
        for user in ["ksmith", "jsmith"] {
            for _ in 0..2 {
                let mut s = app.login().await;
                for _ in 0..3 {
                    let (st, body) = app.fail_once(&s, user).await;
                    if st != 200 {
                        break;
                    }
                    s = body["session"].as_str().unwrap().to_owned();
                }
            }
        }
        app.wait_for_event("ET_INTRUDER_LOCKOUT", "jsmith").await;
        let messages = delivered_for(&app, &smtp, "@notice-mail", 2).await;
        assert_eq!(messages.len(), 2, "one lockout notice, none for ksmith");
        let mail = messages[1].replace("=\r\n", "");
        assert!(header(&mail, "To").contains("<jsmith@example.test>"), "{mail}");
        assert_eq!(header(&mail, "Subject"), "Your account was locked after failed attempts");
        assert!(mail.contains("The lock ends at"), "{mail}");
        let (config, dir, clock) = app.stop().await;

        // A restart after delivery sends nothing again.
        let app = TestApp::start(config, dir, clock).await;
        let messages = delivered_for(&app, &smtp, "@notice-mail", 2).await;
        assert_eq!(messages.len(), 2);
        let mut ids: Vec<&str> = messages.iter().map(|m| header(m, "Message-ID")).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_without_starttls_gets_no_mail() {
    let db = new_db(touchtone_testkit::Db::Sqlite).await;
    let plain = SmtpServer::start_without_tls();
    let app = TestApp::spawn_with(&db, |c| with_reminders(c, &plain)).await;
    add_people(&app, &[("nora", "Nora", Some("nora@example.test"))]).await;
    assert_eq!(app.service.queue_reminders().await.unwrap(), 1);
    let mut rows = reminder_rows(&app).await;
    for _ in 0..100 {
        if rows[0].0 > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        rows = reminder_rows(&app).await;
    }
    let (attempts, delivered, error) = &rows[0];
    assert!(*attempts > 0 && !delivered, "{rows:?}");
    assert!(
        error
            .as_deref()
            .unwrap_or("")
            .to_lowercase()
            .contains("tls"),
        "{error:?}"
    );
    assert!(plain.messages().is_empty(), "nothing was sent in clear");
}
