//! A consistent copy of a live SQLite database, for `touchtone backup`.
//!
//! `VACUUM INTO` writes a new database file from one read transaction, so
//! the copy is a snapshot of one moment even while the server keeps
//! writing (WAL mode lets it), holds no half-done transaction, and is
//! compact. The copy is written beside the destination, checked (its audit
//! chain verified), made durable and only then renamed into place, so a
//! backup that returns is whole and a failed one leaves nothing that looks
//! like a backup. PostgreSQL is backed up with its own tools (`pg_dump`).

use std::path::{Path, PathBuf};

use sqlx::Connection;

use crate::audit::{self, VerifyReport};
use crate::{Backend, Result, Store, StoreError};

/// Copies the store's SQLite database to `dest` (which must not exist) and
/// returns the copy's verified audit chain.
pub async fn sqlite_backup(store: &Store, dest: &Path) -> Result<VerifyReport> {
    if store.backend() != Backend::Sqlite {
        return Err(StoreError::Backup(
            "touchtone backup copies the embedded SQLite database; back PostgreSQL up with pg_dump (see the README)".into(),
        ));
    }
    if dest.exists() {
        return Err(StoreError::Backup(format!(
            "{} exists; choose a new file for the backup",
            dest.display()
        )));
    }
    let partial = partial_path(dest);
    // A partial copy left by a backup that died is not a backup.
    let _ = std::fs::remove_file(&partial);
    let Some(partial_text) = partial.to_str() else {
        return Err(StoreError::Backup(format!(
            "{} is not a UTF-8 path",
            dest.display()
        )));
    };
    let copied = async {
        let mut conn = store.acquire().await?;
        sqlx::query("VACUUM INTO $1")
            .bind(partial_text)
            .execute(&mut *conn)
            .await?;
        drop(conn);
        let report = verify_copy(partial_text).await?;
        if let Some((seq, reason)) = &report.broken {
            return Err(StoreError::Corrupt(format!(
                "the copy's audit log is broken at row {seq}: {reason}"
            )));
        }
        make_durable(&partial, dest)?;
        Ok(report)
    }
    .await;
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    copied
}

fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    dest.with_file_name(name)
}

/// Opens the copy on its own (no migrations, no WAL) and verifies its
/// audit chain.
async fn verify_copy(path: &str) -> Result<VerifyReport> {
    let mut conn = sqlx::AnyConnection::connect(&format!("sqlite://{path}?mode=rw")).await?;
    let report = audit::verify(&mut conn).await;
    conn.close().await?;
    report
}

/// fsyncs the copy, renames it to `dest`, and fsyncs the directory, so the
/// backup survives a crash right after it is reported.
fn make_durable(partial: &Path, dest: &Path) -> Result<()> {
    let io = |what: &str, e: std::io::Error| {
        StoreError::Backup(format!("{what} {}: {e}", dest.display()))
    };
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("syncing the copy of", e))?;
    std::fs::rename(partial, dest).map_err(|e| io("renaming the copy to", e))?;
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("syncing the directory of", e))?;
    }
    Ok(())
}
