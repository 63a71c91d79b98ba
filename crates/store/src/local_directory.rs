//! The local directory: accounts kept in touchtone's own database, with a
//! password hash and lock state. It is a real target (the `local` target
//! writes here), so a reset in the demo can be checked afterwards.

use sqlx::{AnyConnection, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAccount {
    pub account: String,
    /// argon2id PHC string; `None` until a password is first set.
    pub password_hash: Option<String>,
    pub locked: bool,
    pub disabled: bool,
    pub must_change: bool,
    pub password_changed_at: Option<i64>,
}

/// Creates an account if it does not exist (keeping an existing one).
pub async fn ensure(
    conn: &mut AnyConnection,
    account: &str,
    initial_hash: Option<&str>,
    locked: bool,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO local_accounts (account, password_hash, locked) VALUES ($1, $2, $3) ON CONFLICT (account) DO NOTHING",
    )
    .bind(account)
    .bind(initial_hash)
    .bind(i64::from(locked))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, account: &str) -> Result<Option<LocalAccount>> {
    let row = sqlx::query(
        "SELECT account, password_hash, locked, disabled, must_change, password_changed_at FROM local_accounts WHERE account = $1",
    )
    .bind(account)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(LocalAccount {
            account: r.try_get("account")?,
            password_hash: r.try_get("password_hash")?,
            locked: r.try_get::<i64, _>("locked")? != 0,
            disabled: r.try_get::<i64, _>("disabled")? != 0,
            must_change: r.try_get::<i64, _>("must_change")? != 0,
            password_changed_at: r.try_get("password_changed_at")?,
        })
    })
    .transpose()
}

/// Sets a password hash. Returns false when the account does not exist.
pub async fn set_password(
    conn: &mut AnyConnection,
    account: &str,
    hash: &str,
    must_change: bool,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE local_accounts SET password_hash = $1, must_change = $2, password_changed_at = $3 WHERE account = $4",
    )
    .bind(hash)
    .bind(i64::from(must_change))
    .bind(now)
    .bind(account)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Locks or unlocks. Returns false when the account does not exist.
pub async fn set_locked(conn: &mut AnyConnection, account: &str, locked: bool) -> Result<bool> {
    let done = sqlx::query("UPDATE local_accounts SET locked = $1 WHERE account = $2")
        .bind(i64::from(locked))
        .bind(account)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
