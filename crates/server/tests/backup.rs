//! `touchtone backup`: a consistent copy of the live SQLite database while
//! the server keeps writing, verified before it is reported, and a server
//! started on the copy has everything the copy promised; on PostgreSQL a
//! clear refusal that points at pg_dump.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::*;
use touchtone_core::secret::SecretString;
use touchtone_service::admin::AuditAnchor;
use touchtone_service::{Caller, Door, ServiceError};
use touchtone_testkit::Db;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_database_is_copied_whole_and_a_server_runs_on_the_copy() {
    let db = new_db(Db::Sqlite).await;
    let app = TestApp::spawn(&db).await;
    app.reset_by_api("jsmith", "Hnr4tAe7mf").await;

    // Writers keep going (each login is a session and an audit row) while
    // three backups are taken.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (service, stop, written) = (app.service.clone(), stop.clone(), written.clone());
        tokio::spawn(async move {
            let caller = Caller {
                ip: "127.0.0.1".parse().unwrap(),
                door: Door::Api,
            };
            while !stop.load(Ordering::SeqCst) {
                let password = SecretString::from(API_PASSWORD.to_owned());
                service.login(&caller, API_USER, password).await.unwrap();
                written.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let mut reports = Vec::new();
    for i in 0..3 {
        // Let some writes land between the copies.
        let before = written.load(Ordering::SeqCst);
        while written.load(Ordering::SeqCst) < before + 5 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let dest = dir.path().join(format!("backup-{i}.db"));
        let report = app.service.backup("test", &dest).await.unwrap();
        assert!(report.broken.is_none(), "{report:?}");
        assert!(dest.exists() && !dir.path().join(format!("backup-{i}.db.partial")).exists());
        reports.push((dest, report));
    }
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    let rows: Vec<i64> = reports.iter().map(|(_, r)| r.rows).collect();
    assert!(
        rows[0] < rows[1] && rows[1] < rows[2],
        "each copy is a later moment: {rows:?}"
    );

    // An existing file is never overwritten.
    let e = app.service.backup("test", &reports[0].0).await.unwrap_err();
    assert!(
        matches!(&e, ServiceError::BadRequest(m) if m.contains("exists")),
        "{e:?}"
    );
    // The backups themselves are audited.
    let live = app.service.verify_audit(None).await.unwrap();
    assert!(live.broken.is_none());

    // A server started on the last copy: the chain verifies up to the head
    // the backup reported, and the reset is in it.
    let (dest, report) = reports.pop().unwrap();
    let (mut config, data_dir, clock) = app.stop().await;
    config.database.url = format!("sqlite://{}", dest.display());
    let restored = TestApp::start(config, data_dir, clock).await;
    let anchor: AuditAnchor = format!("{}:{}", report.head_seq, report.head_hash)
        .parse()
        .unwrap();
    let check = restored.service.verify_audit(Some(&anchor)).await.unwrap();
    assert!(
        check.broken.is_none() && check.anchor_holds == Some(true),
        "{check:?}"
    );
    assert_eq!(check.rows, report.rows, "nothing after the copy's moment");
    assert!(password_is(&restored, "jsmith", "Hnr4tAe7mf").await);
    restored.login().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_is_pointed_at_pg_dump() {
    let db = new_db(Db::Postgres).await;
    let app = TestApp::spawn(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("backup.db");
    let e = app.service.backup("test", &dest).await.unwrap_err();
    assert!(
        matches!(&e, ServiceError::BadRequest(m) if m.contains("pg_dump")),
        "{e:?}"
    );
    assert!(!dest.exists());
}
