//! The enrolment portal as a person uses it, in real headless Chromium
//! (Debian's `chromium`, driven by Playwright through `playwright-core`
//! from `crates/web/tests/browser`), against `touchtone demo` (the binary,
//! as a tester runs it): the not-yet-enrolled `newhire` signs in, has weak
//! answers refused, enrols, and signs out, with an axe-core scan of every
//! page; then a sipp caller keys newhire's ID and the answers just
//! enrolled, and the password is reset. `.ci/run` installs Chromium,
//! Node.js and the npm packages.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::demo::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use touchtone_core::keypad::map_to_keypad;
use touchtone_testkit::ports;
use touchtone_testkit::sipp::Sipp;

/// `node SCRIPT` in the browser tests' directory, with `env`.
fn node(script: &str, env: &[(&str, String)]) -> tokio::process::Command {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "the browser tests need their npm packages: run .ci/run, or `npm ci` in {}",
        dir.display()
    );
    touchtone_testkit::programs::require("/usr/bin/chromium", "chromium");
    touchtone_testkit::programs::require("node", "nodejs");
    let screenshots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("portal-screenshots");
    let mut command = tokio::process::Command::new("node");
    command
        .arg(dir.join(script))
        .current_dir(&dir)
        .env("SCREENSHOTS", &screenshots)
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// Runs one of the browser scripts with `env`; returns its JSON report.
async fn browser(script: &str, env: &[(&str, String)]) -> serde_json::Value {
    let mut command = node(script, env);
    command.stdin(Stdio::null());
    let output = tokio::time::timeout(Duration::from_secs(180), command.output())
        .await
        .expect("the browser script finished in time")
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = stdout.lines().last().unwrap_or("{}");
    assert!(
        output.status.success(),
        "{script} failed:\n{}\nreport: {report}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(report).expect("the script's JSON report")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_hire_enrols_in_the_portal_then_resets_by_phone() {
    // Every enrolled question is asked, so sipp can key them all, in the
    // order they are asked (the order they are enrolled in).
    let demo = Demo::start_with(
        tempfile::tempdir().unwrap(),
        &[],
        &[("TOUCHTONE_VERIFICATION__QUESTIONS_PER_CHALLENGE", "3")],
    )
    .await;
    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(demo.dir.path().join("demo.json")).unwrap())
            .unwrap();
    let newhire = document["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == "newhire")
        .expect("the demo has newhire")
        .clone();
    assert_eq!(newhire["enrolled"], false);
    let answers = [
        ("birth_city", "Lisbon"),
        ("childhood_house_number", "2741"),
        ("first_pet", "Biscuit"),
    ];
    let report = browser(
        "enrol.mjs",
        &[
            ("BASE", format!("https://{}", demo.http)),
            (
                "CERT",
                demo.dir.path().join("tls/cert.pem").display().to_string(),
            ),
            ("LOGIN", "newhire".into()),
            (
                "PASSWORD",
                newhire["portal_password"].as_str().unwrap().into(),
            ),
            ("ANSWERS", serde_json::to_string(&answers).unwrap()),
        ],
    )
    .await;
    let scanned = report["scans"].as_array().unwrap().len();
    assert!(scanned >= 12, "every page was scanned: {report}");
    assert!(
        report["totp_key"].as_str().is_some_and(|k| k.len() == 40),
        "an authenticator app was set up: {report}"
    );
    let keys: Vec<String> = answers.iter().map(|(_, a)| map_to_keypad(a)).collect();
    assert_eq!(
        report["keys"],
        serde_json::json!(keys),
        "the page showed what to key"
    );
    demo.wait_for_event("ET_ENROLMENT_CHANGED", "newhire").await;

    // The phone reset with the answers just enrolled.
    let before = demo.password_hash("newhire").await;
    let scenario =
        scenario("ivr_keys.xml").replace("{KEYS}", &reset_call(&map_to_keypad("newhire"), &keys));
    let sipp = Sipp::start(&scenario, Some(demo.sip), 1, &[], &[]);
    assert_sipp_ok(sipp, Duration::from_secs(150), &demo.log()).await;
    let event = demo
        .wait_for_event("ET_ADMIN_RESET_SUCCESS", "newhire")
        .await;
    assert_eq!(event["detail"]["account"], "newhire");
    let after = demo.password_hash("newhire").await;
    assert!(
        after.is_some() && after != before,
        "newhire's password changed"
    );
}

/// Reads the script's output up to a line `PREFIX<rest>`; returns `rest`.
async fn line_after(
    stdout: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    prefix: &str,
) -> String {
    tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            let line = stdout
                .next_line()
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("the script ended before {prefix}"));
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.to_owned();
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the script printed {prefix} in time"))
}

/// A sipp callee on `port` that answers one voice-OTP call and keys `code`.
fn callee_keying(port: u16, code: &str) -> Sipp {
    let keys = format!(
        "<pause milliseconds=\"1500\"/>\n  <nop><action><exec play_dtmf=\"{code}#,120\"/></action></nop>\n"
    );
    let callee = scenario("otp_callee.xml").replace("<!--ACTIONS-->", &keys);
    Sipp::start_on(port, &callee, None, 1, &[], &[])
}

/// jsmith registers a number (the page shows a code, a sipp callee keys
/// it); with the second sign-in step on, signing in again then needs a
/// call to that number, answered the same way; then the number is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_registers_a_phone_number_proved_by_a_call() {
    // The demo's voice-OTP calls go to a sipp callee on this port, started
    // once the page shows the code it must key.
    let trunk_port = ports::port();
    let trunk = format!("sip:127.0.0.1:{trunk_port}");
    let demo = Demo::start_with(
        tempfile::tempdir().unwrap(),
        &["--trunk", &trunk],
        &[("TOUCHTONE_WEB__SIGN_IN_SECOND_FACTOR", "when_available")],
    )
    .await;
    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(demo.dir.path().join("demo.json")).unwrap())
            .unwrap();
    let jsmith = document["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == "jsmith")
        .unwrap()
        .clone();
    let mut child = node(
        "phone.mjs",
        &[
            ("BASE", format!("https://{}", demo.http)),
            (
                "CERT",
                demo.dir.path().join("tls/cert.pem").display().to_string(),
            ),
            ("LOGIN", "jsmith".into()),
            (
                "PASSWORD",
                jsmith["portal_password"].as_str().unwrap().into(),
            ),
            // A national Pakistani number: the demo's region is PK.
            ("NUMBER", "0300 1234567".into()),
            ("E164", "+923001234567".into()),
            ("SECOND_FACTOR", "1".into()),
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("run node");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    for (prefix, ready) in [("CODE ", "READY\n"), ("SIGN-IN CODE ", "READY\n")] {
        let code = line_after(&mut stdout, prefix).await;
        let sipp = callee_keying(trunk_port, &code);
        stdin.write_all(ready.as_bytes()).await.unwrap();
        assert_sipp_ok(sipp, Duration::from_secs(120), &demo.log()).await;
    }
    let mut rest = Vec::new();
    let finished = tokio::time::timeout(Duration::from_secs(150), async {
        while let Ok(Some(line)) = stdout.next_line().await {
            rest.push(line);
        }
        child.wait_with_output().await
    })
    .await
    .expect("the script finished in time")
    .unwrap();
    let report = rest.last().cloned().unwrap_or_default();
    assert!(
        finished.status.success(),
        "phone.mjs failed:\n{}\nreport: {report}\n{}",
        String::from_utf8_lossy(&finished.stderr),
        demo.log()
    );
    demo.wait_for_event("ET_PHONE_ADDED", "jsmith").await;
    demo.wait_for_event("ET_PHONE_REMOVED", "jsmith").await;
    let signed_in: Vec<serde_json::Value> = demo
        .events()
        .into_iter()
        .filter(|e| e["type"] == "ET_PORTAL_SIGN_IN" && e["user_id"] == "jsmith")
        .collect();
    assert!(
        signed_in
            .iter()
            .any(|e| e["detail"]["second_factor"] == "phone"),
        "the second sign-in was confirmed by the call: {signed_in:?}"
    );
}
