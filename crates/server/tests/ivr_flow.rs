//! The reset call's state machine over a scripted caller
//! ([`ScriptedLine`]), against a real service on a real store: every
//! branch of the flow, hang-ups at each step, timeouts, and both backends
//! (in process, and this server's HTTPS API).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::json;
use touchtone_core::secret::SecretString;
use touchtone_ivr::backend::{InProcess, Remote, RemoteSettings};
use touchtone_ivr::flow::End;
use touchtone_ivr::line::{Act, ScriptedLine};
use touchtone_ivr::{Backend, CallContext, FlowOutcome, FlowSettings, Line, ResetFlow};
use touchtone_service::admin::PersonRecord;
use touchtone_service::people::{Account, Person};
use touchtone_sip::TransferOutcome;
use touchtone_testkit::{Db, both_databases};

const HELPDESK: &str = "sip:helpdesk@127.0.0.1:5999";

/// jsmith, ksmith and mlocked share these answers; as keyed on a phone.
const SMITH_ANSWERS: [(&str, &str); 3] = [
    ("Mother's birth year?", "1956"),
    ("First pet?", "739"),
    ("Birth city?", "267866"),
];

fn keys(k: &str) -> Act {
    Act::keys(k)
}

fn in_process(app: &TestApp) -> Arc<dyn Backend> {
    Arc::new(InProcess::new(app.service.clone()))
}

fn remote(app: &TestApp, password: &str) -> Arc<dyn Backend> {
    Arc::new(
        Remote::new(RemoteSettings {
            base_url: app.base.clone(),
            api_user: API_USER.into(),
            api_password: SecretString::from(password.to_owned()),
            ca_file: Some(app.data_dir.path().join("tls/cert.pem")),
            timeout: Duration::from_secs(30),
        })
        .unwrap(),
    )
}

fn quick() -> FlowSettings {
    FlowSettings {
        first_digit_timeout: Duration::from_millis(10),
        inter_digit_timeout: Duration::from_millis(10),
        ..FlowSettings::default()
    }
}

fn with_helpdesk() -> FlowSettings {
    FlowSettings {
        helpdesk_uri: Some(HELPDESK.into()),
        ..quick()
    }
}

async fn call(
    backend: Arc<dyn Backend>,
    settings: FlowSettings,
    mut line: ScriptedLine,
) -> (FlowOutcome, ScriptedLine) {
    let flow = ResetFlow::new(backend, settings);
    let context = CallContext {
        call_id: "scripted-call".into(),
        peer_ip: "127.0.0.1".parse().unwrap(),
        caller_number: line.caller_number(),
    };
    let outcome = flow.run(&mut line, &context).await;
    (outcome, line)
}

/// The ivrtest call up to the main menu (answers 2468 to everything).
fn ivrtest_verified() -> Vec<Act> {
    vec![keys("4878378#"), keys("2468#"), keys("2468#")]
}

fn script(parts: &[&[Act]]) -> ScriptedLine {
    ScriptedLine::new(parts.iter().flat_map(|p| p.iter().cloned()))
}

/// The password of the last reading (the one accepted), from its
/// phonetic spelling.
fn last_password(line: &ScriptedLine) -> String {
    let spelled = line
        .transcript
        .iter()
        .rev()
        .find_map(|t| t.strip_prefix("spell:"))
        .expect("a password was read out");
    spelled.split('|').map(unspell).collect()
}

fn unspell(word: &str) -> char {
    (33u8..127)
        .map(char::from)
        .find(|c| touchtone_core::password::spell(&c.to_string())[0] == word)
        .unwrap_or_else(|| panic!("{word:?} spells no character"))
}

/// IVR sessions left open (none should be, whatever happened).
async fn open_ivr_sessions(app: &TestApp) -> i64 {
    let mut conn = app.store.acquire().await.unwrap();
    let row: (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM api_sessions WHERE api_user = '@ivr' AND ended_at IS NULL",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    row.0
}

async fn operations(app: &TestApp) -> i64 {
    let mut conn = app.store.acquire().await.unwrap();
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM operations")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    row.0
}

both_databases! {
    async fn a_caller_resets_their_password_and_hears_it_spelled(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        let line = script(&[&ivrtest_verified(), &[keys("1"), keys("1")]]);
        let (outcome, line) = call(in_process(&app), quick(), line).await;
        assert_eq!(
            outcome,
            FlowOutcome { end: End::Completed, user_id: Some("ivrtest".into()), verified: true, reset: Some(true), unlocked: None, enrolled: None },
            "{:#?}", line.transcript
        );
        for heard in ["prompt:welcome", "prompt:enter-user-id", "prompt:answer-question", "prompt:menu",
                      "prompt:new-password-is", "prompt:password-again", "prompt:password-options",
                      "prompt:reset-done", "prompt:thank-you", "prompt:goodbye", "ivr:hangs-up"] {
            assert!(line.heard(heard), "{heard} missing from {:#?}", line.transcript);
        }
        assert_eq!(line.transcript.iter().filter(|t| t.starts_with("text:")).count(), 2, "two questions");
        let password = last_password(&line);
        assert!(password_is(&app, "ivrtest", &password).await, "the spelled password was set");
        let event = app.wait_for_event("ET_ADMIN_RESET_SUCCESS", "ivrtest").await;
        assert!(!event.to_string().contains(&password));
        assert_eq!(open_ivr_sessions(&app).await, 0, "the session was closed");
    }

    async fn wrong_answers_fail_without_saying_which_then_lock_out_through_every_door(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        // 3 attempts per call, 5 failures lock (the test configuration).
        let wrong = [keys("1111#"), keys("1111#")];
        let line = script(&[&[keys("4878378#")], &wrong, &wrong, &wrong]);
        let (outcome, line) = call(in_process(&app), quick(), line).await;
        assert_eq!(outcome.end, End::NotVerified, "{:#?}", line.transcript);
        assert_eq!(line.count("prompt:verification-failed"), 3);
        assert_eq!(line.count("prompt:try-again"), 2);
        assert!(line.heard("prompt:contact-helpdesk") && !line.heard("prompt:menu"));
        // Never which answer: a failure is followed by advice, not a question.
        for (i, t) in line.transcript.iter().enumerate() {
            if t == "prompt:verification-failed" {
                let next = line.transcript[i + 1].as_str();
                assert!(["prompt:try-again", "prompt:contact-helpdesk"].contains(&next), "{next}");
            }
        }

        // The next call reaches the limit: locked, told politely, call ends.
        let line = script(&[&[keys("4878378#")], &wrong, &wrong, &wrong]);
        let (outcome, line) = call(in_process(&app), quick(), line).await;
        assert_eq!(outcome.end, End::LockedOut, "{:#?}", line.transcript);
        assert_eq!(line.count("prompt:verification-failed"), 2);
        assert!(line.heard("prompt:locked-out") && line.heard("prompt:goodbye"));
        let event = app.wait_for_event("ET_INTRUDER_LOCKOUT", "ivrtest").await;
        assert_eq!(event["detail"]["door"], "ivr");

        // The API honours the lockout the phone caused, even with the right answers.
        let s = app.login().await;
        let (status, body) = app.call("UserQuestionsGet", json!({"session": s, "user_id": "ivrtest"})).await;
        assert_eq!((status, body["error"]["code"].as_str()), (423, Some("user_locked")), "{body}");
        // And so does the phone: no questions at all.
        let line = script(&[&ivrtest_verified()]);
        let (outcome, line) = call(in_process(&app), quick(), line).await;
        assert_eq!(outcome.end, End::LockedOut);
        assert!(!line.heard("prompt:answer-question"));
        assert_eq!(open_ivr_sessions(&app).await, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_call_runs_over_the_https_remote_api() {
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn(&db).await;
    let line = script(&[&ivrtest_verified(), &[keys("1"), keys("1")]]);
    let (outcome, line) = call(remote(&app, API_PASSWORD), quick(), line).await;
    assert_eq!(outcome.end, End::Completed, "{:#?}", line.transcript);
    assert_eq!(outcome.reset, Some(true));
    assert!(password_is(&app, "ivrtest", &last_password(&line)).await);
    app.wait_for_event("ET_ADMIN_RESET_SUCCESS", "ivrtest")
        .await;

    // Wrong answers over the remote door count toward the same lockout.
    let wrong = [keys("1111#"), keys("1111#")];
    let line = script(&[&[keys("4878378#")], &wrong, &wrong, &wrong]);
    let (outcome, _) = call(remote(&app, API_PASSWORD), quick(), line).await;
    assert_eq!(outcome.end, End::NotVerified);
    let line = script(&[&[keys("4878378#")], &wrong, &wrong]);
    let (outcome, _) = call(in_process(&app), quick(), line).await;
    assert_eq!(
        outcome.end,
        End::LockedOut,
        "3 remote + 2 in-process failures lock"
    );

    // A backend that cannot log in is a system error the caller hears.
    let line = script(&[&ivrtest_verified()]);
    let (outcome, line) = call(remote(&app, "not-the-password"), quick(), line).await;
    assert_eq!(outcome.end, End::SystemError);
    assert!(line.heard("prompt:system-error") && line.heard("ivr:hangs-up"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keypad_help_and_the_collision_menu_pick_the_right_person() {
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn(&db).await;
    let line = script(&[&[
        keys("*"),
        keys("576484#"),
        keys("2"),
        Act::Answer,
        Act::Answer,
        keys("2"),
    ]])
    .with_answers(&SMITH_ANSWERS);
    let (outcome, line) = call(in_process(&app), quick(), line).await;
    assert!(line.heard("prompt:keypad-help"), "{:#?}", line.transcript);
    let menu: Vec<&str> = line
        .transcript
        .iter()
        .skip_while(|t| *t != "prompt:several-matches")
        .take(12)
        .map(String::as_str)
        .collect();
    assert_eq!(
        menu,
        [
            "prompt:several-matches",
            "prompt:for",
            "text:John Smith",
            "prompt:in",
            "text:Finance",
            "prompt:press",
            "keys:1",
            "pause:300",
            "prompt:for",
            "text:Karen Smith",
            "prompt:in",
            "text:Engineering"
        ]
    );
    assert_eq!(outcome.user_id.as_deref(), Some("ksmith"));
    assert_eq!(
        (outcome.end, outcome.unlocked),
        (End::Completed, Some(true)),
        "{:#?}",
        line.transcript
    );
    assert!(line.heard("prompt:unlock-done"));

    // 0 at the collision menu goes to the helpdesk.
    let line = script(&[&[keys("576484#"), keys("0")]]);
    let (outcome, line) = call(in_process(&app), with_helpdesk(), line).await;
    assert_eq!(outcome.end, End::Transferred);
    assert!(line.heard(&format!("transfer:{HELPDESK}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ids_and_silence_end_with_advice_or_a_transfer() {
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn(&db).await;
    let unknown = [
        keys("999#"),
        keys("12345#"),
        keys("999999999999999999999999999999#"),
    ];
    let (outcome, line) = call(in_process(&app), quick(), script(&[&unknown])).await;
    assert_eq!(outcome.end, End::NotIdentified, "{:#?}", line.transcript);
    assert_eq!(
        (
            line.count("prompt:not-found"),
            line.count("prompt:try-again")
        ),
        (3, 2)
    );
    assert!(line.heard("prompt:contact-helpdesk") && line.heard("ivr:hangs-up"));

    let silent = [Act::Silent, Act::Silent, Act::Silent];
    let (outcome, line) = call(in_process(&app), quick(), script(&[&silent])).await;
    assert_eq!(outcome.end, End::NotIdentified, "{:#?}", line.transcript);

    // With a helpdesk configured, giving up transfers.
    let (outcome, line) = call(in_process(&app), with_helpdesk(), script(&[&unknown])).await;
    assert_eq!(outcome.end, End::Transferred);
    assert!(line.heard("prompt:transferring") && line.heard(&format!("transfer:{HELPDESK}")));
    assert!(
        !line.heard("ivr:hangs-up"),
        "the transferred call is not hung up by us"
    );

    // A refused transfer is explained and the call ends.
    let mut refused = script(&[&unknown]);
    refused.transfer_outcome = TransferOutcome::Failed(Some(486));
    let (outcome, line) = call(in_process(&app), with_helpdesk(), refused).await;
    assert_eq!(outcome.end, End::TransferFailed);
    assert!(line.heard("prompt:transfer-failed") && line.heard("ivr:hangs-up"));
    assert_eq!(open_ivr_sessions(&app).await, 0);
}

/// Rows a call could write: sessions, their IDs, audit rows, activity.
async fn writes(app: &TestApp) -> Vec<i64> {
    let mut conn = app.store.acquire().await.unwrap();
    let mut counts = Vec::new();
    for table in ["api_sessions", "session_tokens", "audit_log", "activity"] {
        let row: (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        counts.push(row.0);
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_keys_nothing_writes_nothing() {
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn(&db).await;
    let before = writes(&app).await;
    // Hung up at once, and silent to the end: no session, no audit row.
    for acts in [
        vec![Act::HangUp],
        vec![Act::Silent, Act::Silent, Act::Silent],
    ] {
        let (outcome, line) = call(in_process(&app), quick(), ScriptedLine::new(acts)).await;
        assert!(
            matches!(outcome.end, End::HungUp | End::NotIdentified),
            "{:#?}",
            line.transcript
        );
    }
    assert_eq!(
        writes(&app).await,
        before,
        "a call that keyed nothing wrote to the store"
    );
    // The first keyed ID opens the session, as before.
    let (outcome, line) = call(
        in_process(&app),
        quick(),
        script(&[&ivrtest_verified(), &[Act::HangUp]]),
    )
    .await;
    assert!(outcome.verified, "{:#?}", line.transcript);
    assert!(writes(&app).await[0] > before[0]);
    assert_eq!(open_ivr_sessions(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlock_both_and_invalid_choices() {
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn(&db).await;
    // mlocked's local account starts locked: 2 unlocks it.
    let line = script(&[&[keys("6562533#"), Act::Answer, Act::Answer, keys("2")]])
        .with_answers(&SMITH_ANSWERS);
    let (outcome, line) = call(in_process(&app), quick(), line).await;
    assert_eq!(
        (outcome.end, outcome.unlocked, outcome.reset),
        (End::Completed, Some(true), None),
        "{:#?}",
        line.transcript
    );
    app.wait_for_event("ET_ADMIN_UNLOCK_SUCCESS", "mlocked")
        .await;

    // 3: both, found by employee number E1001 (jsmith).
    let line = script(&[&[
        keys("31001#"),
        Act::Answer,
        Act::Answer,
        keys("3"),
        keys("1"),
    ]])
    .with_answers(&SMITH_ANSWERS);
    let (outcome, line) = call(in_process(&app), quick(), line).await;
    assert_eq!(
        (outcome.user_id.as_deref(), outcome.reset, outcome.unlocked),
        (Some("jsmith"), Some(true), Some(true)),
        "{:#?}",
        line.transcript
    );
    assert!(line.heard("prompt:reset-done") && line.heard("prompt:unlock-done"));
    assert!(password_is(&app, "jsmith", &last_password(&line)).await);

    // Invalid keys and silence at the menu: offered three times, then advice.
    let line = script(&[&ivrtest_verified(), &[keys("9"), Act::Silent, keys("7")]]);
    let (outcome, line) = call(in_process(&app), quick(), line).await;
    assert_eq!(outcome.end, End::NoChoice, "{:#?}", line.transcript);
    assert_eq!(
        (
            line.count("prompt:menu"),
            line.count("prompt:invalid-choice")
        ),
        (3, 2)
    );
    assert!(line.heard("prompt:contact-helpdesk"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_can_be_heard_again_or_replaced_and_zero_transfers() {
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn(&db).await;
    let line = script(&[
        &ivrtest_verified(),
        &[keys("1"), keys("2"), keys("3"), keys("1")],
    ]);
    let (outcome, line) = call(in_process(&app), quick(), line).await;
    assert_eq!(outcome.reset, Some(true), "{:#?}", line.transcript);
    assert_eq!(
        line.count("prompt:new-password-is"),
        3,
        "read, again, a new one"
    );
    let mut spelled: Vec<&String> = line
        .transcript
        .iter()
        .filter(|t| t.starts_with("spell:"))
        .collect();
    assert_eq!(spelled.len(), 6, "each reading spells it twice");
    spelled.dedup();
    assert_eq!(spelled.len(), 2, "two different passwords");
    assert!(password_is(&app, "ivrtest", &last_password(&line)).await);

    // 0 at the password options: to the helpdesk, nothing reset.
    let before = operations(&app).await;
    let line = script(&[&ivrtest_verified(), &[keys("1"), keys("0")]]);
    let (outcome, line) = call(in_process(&app), with_helpdesk(), line).await;
    assert_eq!(
        (outcome.end, outcome.reset),
        (End::Transferred, None),
        "{:#?}",
        line.transcript
    );
    assert_eq!(operations(&app).await, before);

    // 0 at the main menu: to the helpdesk; without one configured, told to call it.
    let line = script(&[&ivrtest_verified(), &[keys("0")]]);
    let (outcome, _) = call(in_process(&app), with_helpdesk(), line).await;
    assert_eq!(outcome.end, End::Transferred);
    let line = script(&[&ivrtest_verified(), &[keys("0")]]);
    let (outcome, line) = call(in_process(&app), quick(), line).await;
    assert_eq!(outcome.end, End::TransferFailed);
    assert!(line.heard("prompt:transfer-failed"));
}

/// Hanging up at every step: the call ends, the session is closed, and a
/// reset happened (and is recorded) exactly when the caller had accepted
/// the password before hanging up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_up_at_any_step_leaves_nothing_half_done() {
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn(&db).await;
    let full: Vec<Act> = [ivrtest_verified(), vec![keys("1"), keys("2"), keys("1")]].concat();
    for step in 0..=full.len() {
        let mut acts = full[..step].to_vec();
        acts.push(Act::HangUp);
        let before = operations(&app).await;
        let (outcome, line) = call(in_process(&app), quick(), ScriptedLine::new(acts)).await;
        assert_eq!(
            outcome.end,
            End::HungUp,
            "step {step}: {:#?}",
            line.transcript
        );
        assert!(!line.heard("ivr:hangs-up"), "step {step}");
        assert_eq!(
            open_ivr_sessions(&app).await,
            0,
            "step {step}: session left open"
        );
        let accepted = step == full.len();
        assert_eq!(outcome.reset, accepted.then_some(true), "step {step}");
        assert_eq!(
            operations(&app).await - before,
            i64::from(accepted),
            "step {step}"
        );
        if accepted {
            assert!(password_is(&app, "ivrtest", &last_password(&line)).await);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_from_an_unregistered_number_gets_one_more_question() {
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn_with(&db, |c| {
        c.verification.caller_id_check = true;
        c.verification.caller_id_region = Some("US".into());
    })
    .await;
    let person = PersonRecord {
        person: Person {
            id: "ivrtest".into(),
            display_name: "IVR Test".into(),
            department: "QA".into(),
            employee_number: Some("E1003".into()),
            mail: None,
            phone_numbers: vec!["+1 (415) 555-2671".into()],
            disabled: false,
            groups: Vec::new(),
            privileged: false,
        },
        accounts: vec![Account {
            target: "local".into(),
            account: "ivrtest".into(),
        }],
    };
    app.service.import_people("test", &[person]).await.unwrap();
    let questions = |line: &ScriptedLine| {
        line.transcript
            .iter()
            .filter(|t| t.starts_with("text:"))
            .count()
    };
    let answers: Vec<Act> = vec![
        keys("4878378#"),
        keys("2468#"),
        keys("2468#"),
        keys("2468#"),
    ];
    for (number, asked) in [
        (Some("4155552671"), 2),
        (Some("+14155552671"), 2),
        (Some("2125550199"), 3),
        (Some("anonymous"), 3),
        (None, 3),
    ] {
        let mut line = ScriptedLine::new(answers.clone());
        line.caller = number.map(str::to_owned);
        let (outcome, line) = call(in_process(&app), quick(), line).await;
        assert_eq!(
            questions(&line),
            asked,
            "caller {number:?}: {:#?}",
            line.transcript
        );
        assert!(outcome.verified, "caller {number:?}");
    }
}

/// Adds `newbie` (keypad 639243), with a local account and no answers,
/// and issues them an enrolment PIN.
async fn newbie_with_pin(app: &TestApp) -> String {
    let person = PersonRecord {
        person: Person {
            id: "newbie".into(),
            display_name: "New Bie".into(),
            department: "QA".into(),
            employee_number: Some("E1009".into()),
            mail: None,
            phone_numbers: vec![],
            disabled: false,
            groups: Vec::new(),
            privileged: false,
        },
        accounts: vec![Account {
            target: "local".into(),
            account: "newbie".into(),
        }],
    };
    app.service.import_people("test", &[person]).await.unwrap();
    let pin = app
        .service
        .issue_enrolment_pin("helpdesk", "newbie")
        .await
        .unwrap();
    use touchtone_core::secret::ExposeSecret;
    pin.expose_secret().to_owned()
}

/// A wrong PIN, a right one, then the pool (city, pet, year) with a
/// mismatch, a refused answer, a skip and a second round.
fn enrolment_script(pin: &str) -> Vec<Act> {
    let wrong = if pin.starts_with('9') { "0" } else { "9" }.to_owned() + &pin[1..];
    vec![
        keys("639243#"),
        keys(&format!("{wrong}#")),
        keys(&format!("{pin}#")),
        // city: mismatched, then too easy, then 267866.
        keys("1"),
        keys("2678#"),
        keys("2679#"),
        keys("1111#"),
        keys("1111#"),
        keys("267866#"),
        keys("267866#"),
        // pet: skipped; year: 1956.
        keys("2"),
        keys("1"),
        keys("1956#"),
        keys("1956#"),
        // The second round offers pet again.
        keys("1"),
        keys("739#"),
        keys("739#"),
    ]
}

const NEWBIE_ANSWERS: [(&str, &str); 3] = [
    ("Birth city?", "267866"),
    ("Mother's birth year?", "1956"),
    ("First pet?", "739"),
];

/// newbie's call after enrolling: the new answers, then a reset.
fn newbie_resets() -> ScriptedLine {
    ScriptedLine::new([
        keys("639243#"),
        Act::Answer,
        Act::Answer,
        Act::Answer,
        keys("1"),
        keys("1"),
    ])
    .with_answers(&NEWBIE_ANSWERS)
}

both_databases! {
    async fn a_caller_with_a_pin_enrols_by_phone_then_resets_with_those_answers(db: Db) {
        let db = new_db(db).await;
        let app = TestApp::spawn(&db).await;
        let pin = newbie_with_pin(&app).await;
        let line = ScriptedLine::new(enrolment_script(&pin));
        let (outcome, line) = call(in_process(&app), quick(), line).await;
        assert_eq!(outcome.end, End::Enrolled, "{:#?}", line.transcript);
        assert_eq!(outcome.enrolled, Some(3));
        assert!(!outcome.verified, "a PIN enrols; it does not verify");
        for (heard, times) in [("prompt:not-enrolled", 1), ("prompt:enrolment-pin-wrong", 1),
                               ("prompt:enrol-mismatch", 1), ("prompt:enrol-too-easy", 1),
                               ("prompt:enrol-not-enough", 1), ("prompt:enrol-summary", 1),
                               ("prompt:enrol-done", 1), ("text:First pet?", 3)] {
            assert_eq!(line.count(heard), times, "{heard} in {:#?}", line.transcript);
        }
        assert!(!line.heard("prompt:menu"), "no reset on a PIN alone");
        assert_eq!(open_ivr_sessions(&app).await, 0);
        let event = app.wait_for_event("ET_ENROLMENT_CHANGED", "newbie").await;
        assert_eq!(event["detail"]["door"], "ivr");
        assert!(!event.to_string().contains("267866"));
        app.wait_for_event("ET_VERIFY_FAILURE", "newbie").await;

        // The PIN is spent: a second call keying it is refused.
        let line = ScriptedLine::new([keys("639243#"), keys(&format!("{pin}#"))]);
        let (outcome, _) = call(in_process(&app), quick(), line).await;
        assert_ne!(outcome.end, End::Enrolled);

        let (outcome, line) = call(in_process(&app), quick(), newbie_resets()).await;
        assert_eq!(outcome.end, End::Completed, "{:#?}", line.transcript);
        assert_eq!(outcome.reset, Some(true));
        assert!(password_is(&app, "newbie", &last_password(&line)).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_by_phone_runs_over_the_https_remote_api() {
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn(&db).await;
    let pin = newbie_with_pin(&app).await;
    let line = ScriptedLine::new(enrolment_script(&pin));
    let (outcome, line) = call(remote(&app, API_PASSWORD), quick(), line).await;
    assert_eq!(outcome.end, End::Enrolled, "{:#?}", line.transcript);
    assert_eq!(outcome.enrolled, Some(3));
    let (outcome, line) = call(remote(&app, API_PASSWORD), quick(), newbie_resets()).await;
    assert_eq!(outcome.end, End::Completed, "{:#?}", line.transcript);
    assert!(password_is(&app, "newbie", &last_password(&line)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_pin_a_caller_who_is_not_enrolled_goes_to_the_helpdesk() {
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn(&db).await;
    newbie_with_pin(&app).await;
    // Silence at the PIN: the portal hint, then the helpdesk.
    let line = ScriptedLine::new([keys("639243#"), Act::Silent]);
    let (outcome, line) = call(in_process(&app), with_helpdesk(), line).await;
    assert_eq!(outcome.end, End::Transferred, "{:#?}", line.transcript);
    assert!(line.heard("prompt:not-enrolled") && line.heard("prompt:enrol-portal-hint"));
    assert!(line.heard(&format!("transfer:{HELPDESK}")));
    assert!(!line.heard("prompt:verification-failed"));
    // Without a helpdesk to transfer to: advice and goodbye.
    let line = ScriptedLine::new([keys("639243#"), Act::Silent]);
    let (outcome, line) = call(in_process(&app), quick(), line).await;
    assert_eq!(outcome.end, End::NotEnrolled, "{:#?}", line.transcript);
    assert!(line.heard("prompt:contact-helpdesk"));

    // Three wrong PINs use the call's attempts; two more calls' worth lock.
    let wrong = || {
        ScriptedLine::new([
            keys("639243#"),
            keys("00000000#"),
            keys("00000001#"),
            keys("00000002#"),
        ])
    };
    let (outcome, line) = call(in_process(&app), quick(), wrong()).await;
    assert_eq!(outcome.end, End::NotEnrolled, "{:#?}", line.transcript);
    assert_eq!(line.count("prompt:enrolment-pin-wrong"), 3);
    let (outcome, line) = call(in_process(&app), quick(), wrong()).await;
    assert_eq!(outcome.end, End::LockedOut, "{:#?}", line.transcript);
    assert_eq!(line.count("prompt:enrolment-pin-wrong"), 2);
    app.wait_for_event("ET_INTRUDER_LOCKOUT", "newbie").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_too_old_are_explained_and_the_call_transferred() {
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn_with(&db, |c| c.enrolment.reconfirm_days = 90).await;
    app.clock.advance(91 * 24 * 3600 * 1000);
    let (outcome, line) = call(
        in_process(&app),
        with_helpdesk(),
        script(&[&ivrtest_verified()]),
    )
    .await;
    assert_eq!(outcome.end, End::Transferred, "{:#?}", line.transcript);
    assert!(line.heard("prompt:answers-expired"));
    assert!(!line.heard("prompt:answer-question"));
}

/// A policy that makes every reset need questions and an authenticator
/// code (unlocks: questions alone).
fn totp_for_resets(c: &mut touchtone_server::config::Config) {
    use touchtone_server::config::policy::{FactorName, OperationName, PolicyConfig};
    c.verification.policies = vec![PolicyConfig {
        name: "totp-resets".into(),
        operations: vec![OperationName::Reset],
        departments: Vec::new(),
        groups: Vec::new(),
        privileged: None,
        require: vec![vec![FactorName::Questions], vec![FactorName::Totp]],
        fallback: None,
    }];
}

/// ivrtest sets up an authenticator app in the portal (the key the page
/// shows, confirmed with its code); returns the app.
async fn ivrtest_app(app: &TestApp) -> touchtone_core::totp::TotpSecret {
    use touchtone_service::{Caller, Door};
    let password = SecretString::from("Ivr!Test2468".to_owned());
    app.service
        .set_account_password("test", "local", "ivrtest", &password)
        .await
        .unwrap();
    let portal = Caller {
        ip: "127.0.0.1".parse().unwrap(),
        door: Door::Portal,
    };
    let signed_in = app
        .service
        .portal_sign_in(&portal, "ivrtest", password)
        .await
        .unwrap();
    let token = signed_in.token.reveal().to_owned();
    let shown = app
        .service
        .portal_authenticator_begin(&portal, &token)
        .await
        .unwrap();
    let key: String = shown.pending.unwrap().key.split_whitespace().collect();
    let bytes = data_encoding::BASE32_NOPAD.decode(key.as_bytes()).unwrap();
    let secret = touchtone_core::totp::TotpSecret::from_bytes(bytes).unwrap();
    let code = secret.code_at(now_secs(app));
    assert!(
        app.service
            .portal_authenticator_confirm(&portal, &token, &code)
            .await
            .unwrap()
    );
    secret
}

fn now_secs(app: &TestApp) -> u64 {
    use touchtone_service::clock::Clock;
    u64::try_from(app.clock.now_ms() / 1000).unwrap()
}

/// A code that is not `right`.
fn other_code(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

#[tokio::test]
async fn a_reset_asks_for_the_authenticator_code_the_policy_needs() {
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn_with(&db, totp_for_resets).await;
    let secret = ivrtest_app(&app).await;
    for (name, backend) in [
        ("in process", in_process(&app)),
        ("remote", remote(&app, API_PASSWORD)),
    ] {
        // A new time step for each call: a code is accepted once.
        app.clock.advance(30_000);
        let right = secret.code_at(now_secs(&app));
        let line = script(&[
            &ivrtest_verified(),
            &[
                keys("1"),
                keys(&format!("{}#", other_code(&right))),
                keys(&format!("{right}#")),
                keys("1"),
            ],
        ]);
        let (outcome, line) = call(backend, quick(), line).await;
        assert_eq!(
            outcome.end,
            End::Completed,
            "{name}: {:#?}",
            line.transcript
        );
        assert_eq!(outcome.reset, Some(true), "{name}");
        assert!(line.heard("prompt:enter-totp"), "{name}");
        assert!(
            line.heard("prompt:verification-failed"),
            "{name}: the wrong code first"
        );
        assert!(
            app.service
                .check_account_password(
                    "local",
                    "ivrtest",
                    &SecretString::from(last_password(&line))
                )
                .await
                .unwrap(),
            "{name}: the password read out was set"
        );
    }
    // An unlock needs questions only: no code is asked.
    let line = script(&[&ivrtest_verified(), &[keys("2")]]);
    let (outcome, line) = call(in_process(&app), quick(), line).await;
    assert_eq!(outcome.end, End::Completed, "{:#?}", line.transcript);
    assert!(!line.heard("prompt:enter-totp"));
    assert_eq!(open_ivr_sessions(&app).await, 0);
}

#[tokio::test]
async fn a_caller_without_the_factor_is_told_and_transferred() {
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn_with(&db, totp_for_resets).await;
    let line = script(&[&ivrtest_verified(), &[keys("1")]]);
    let (outcome, line) = call(in_process(&app), with_helpdesk(), line).await;
    assert_eq!(outcome.end, End::Transferred, "{:#?}", line.transcript);
    assert!(line.heard("prompt:factor-unavailable"));
    assert!(
        !line.heard("prompt:new-password-is"),
        "no password was read"
    );
    assert_eq!(operations(&app).await, 0, "nothing was attempted");
}
