//! Calls in progress survive a flood (issue: robustness): sipp floods
//! `touchtone demo --sip` with INVITEs from 127.0.0.2 (its plain uac
//! scenario: INVITE, ACK, BYE at once, keying nothing) at 500 a second for
//! 60 s, while 20 callers from 127.0.0.1 each reset ivrtest's password.
//! Once from an untrusted source, which the per-source limit answers 503
//! and then ignores, and once with the flood's address trusted (as a
//! Kamailio in front would be), which is answered call for call — at 200
//! a second: at 500, a debug build on two cores shared with sipp has no
//! CPU left for the callers' steps, which then wait past sipp's patience
//! (calls past identification get no priority yet). Either
//! way the 20 resets complete, the flood leaves no row in the database
//! (its calls keyed nothing), and memory and open files stay bounded.

mod common;

use common::demo::*;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};
use touchtone_testkit::sipp::Sipp;

const FLOOD_RATE: u32 = 500;
const FLOOD_SECS: u64 = 60;
const CALLERS: u32 = 20;
const TRUSTED_RATE: u32 = 200;
const MIB: u64 = 1024 * 1024;

struct Figures {
    refused: usize,
    answered: usize,
    idle: (u64, usize),
    peak: (u64, usize),
    after: (u64, usize),
}

async fn flood_while_callers_reset(trusted: bool, rate: u32) -> Figures {
    let env: &[(&str, &str)] = if trusted {
        &[("TOUCHTONE_SIP__LIMIT__TRUSTED", "[\"127.0.0.2/32\"]")]
    } else {
        &[]
    };
    let demo = Demo::start_with(tempfile::tempdir().unwrap(), &[], env).await;
    let sessions_before = demo.count_rows("api_sessions").await;
    let audit_before = demo.count_rows("audit_log").await;
    let idle = demo.footprint();
    let flood = Sipp::load(
        &scenario("flood_uac.xml"),
        Ipv4Addr::new(127, 0, 0, 2),
        demo.sip,
        rate * FLOOD_SECS as u32,
        rate,
        // Unanswered INVITEs (an ignored source's) give up after 4 s, so
        // sipp keeps opening new ones at the rate.
        &["-recv_timeout", "4000", "-l", "20000"],
    );
    let flood_started = Instant::now();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let callers = Sipp::start(
        &scenario("ivr_reset_rfc4733.xml"),
        Some(demo.sip),
        CALLERS,
        &["-l", &CALLERS.to_string(), "-r", "10"],
        &[],
    );
    let callers = tokio::spawn(callers.finish(Duration::from_secs(240)));
    let mut peak = idle;
    while flood_started.elapsed() < Duration::from_secs(FLOOD_SECS + 5) || !callers.is_finished() {
        let (rss, fds) = demo.footprint();
        peak = (peak.0.max(rss), peak.1.max(fds));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let refused = flood.logged("refused");
    let answered = flood.logged("answered");
    drop(flood);
    let outcome = callers.await.unwrap();
    assert!(
        outcome.success,
        "the callers' resets failed under the flood (trusted: {trusted}):\n{}\n{}",
        outcome.log,
        demo.log()
    );
    let resets = demo
        .events()
        .iter()
        .filter(|e| e["type"] == "ET_ADMIN_RESET_SUCCESS" && e["user_id"] == "ivrtest")
        .count();
    assert_eq!(resets, CALLERS as usize, "every caller's reset is recorded");
    // Only the callers opened sessions: the flood keyed nothing.
    assert_eq!(
        demo.count_rows("api_sessions").await - sessions_before,
        i64::from(CALLERS),
        "sessions opened beyond the callers' (trusted: {trusted})"
    );
    let audit_per_call = (demo.count_rows("audit_log").await - audit_before) / i64::from(CALLERS);
    assert!(audit_per_call > 0);
    // Memory and files come back once the flood has gone.
    let mut after = demo.footprint();
    let settle = Instant::now();
    while after.1 > idle.1 + 16 && settle.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        after = demo.footprint();
    }
    Figures {
        refused,
        answered,
        idle,
        peak,
        after,
    }
}

fn report(label: &str, f: &Figures) {
    eprintln!(
        "{label}: flood answered {} calls, refused {} (503); RSS idle {} MiB, peak {} MiB, after {} MiB; open files idle {}, peak {}, after {}",
        f.answered,
        f.refused,
        f.idle.0 / MIB,
        f.peak.0 / MIB,
        f.after.0 / MIB,
        f.idle.1,
        f.peak.1,
        f.after.1
    );
}

fn assert_bounded(label: &str, f: &Figures) {
    assert!(
        f.after.1 <= f.idle.1 + 16,
        "{label}: open files stayed up ({} idle, {} after)",
        f.idle.1,
        f.after.1
    );
    assert!(
        f.peak.0 < f.idle.0 + 1024 * MIB,
        "{label}: memory grew without bound ({} MiB idle, {} MiB peak)",
        f.idle.0 / MIB,
        f.peak.0 / MIB
    );
    assert!(
        f.after.0 < f.idle.0 + 384 * MIB,
        "{label}: memory did not come back ({} MiB idle, {} MiB after)",
        f.idle.0 / MIB,
        f.after.0 / MIB
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_complete_while_one_source_floods_trusted_or_not() {
    // One after the other: two floods at once would be another test.
    let untrusted = flood_while_callers_reset(false, FLOOD_RATE).await;
    report("untrusted flood", &untrusted);
    assert!(untrusted.refused > 0, "the flood was never told 503");
    assert!(
        untrusted.answered < (FLOOD_RATE as usize * FLOOD_SECS as usize) / 10,
        "the limit let {} flood calls through",
        untrusted.answered
    );
    assert_bounded("untrusted flood", &untrusted);
    let trusted = flood_while_callers_reset(true, TRUSTED_RATE).await;
    report("trusted flood", &trusted);
    assert_eq!(trusted.refused, 0, "a trusted source was limited");
    assert!(trusted.answered > 0);
    assert_bounded("trusted flood", &trusted);
}
