//! The store's error type.

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (expected sqlite: or postgres:)")]
    UnsupportedUrl,
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("backup: {0}")]
    Backup(String),
}

impl StoreError {
    /// Whether the error is a uniqueness violation (a concurrent insert of
    /// the same key), which callers may retry or report as a conflict.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }

    /// Whether retrying the transaction may succeed (SQLite busy or a
    /// PostgreSQL serialization failure).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => {
                let code = e.code().unwrap_or_default();
                // SQLite: 5 SQLITE_BUSY, 517 SQLITE_BUSY_SNAPSHOT, 6 LOCKED.
                // PostgreSQL: 40001 serialization_failure, 40P01 deadlock.
                matches!(code.as_ref(), "5" | "517" | "6" | "40001" | "40P01")
                    || e.is_unique_violation()
            }
            StoreError::Database(sqlx::Error::PoolTimedOut) => true,
            _ => false,
        }
    }
}
