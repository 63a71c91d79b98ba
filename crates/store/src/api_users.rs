//! API users: the IVR platforms and applications allowed to call the
//! remote API, each with an argon2id password hash, the networks it may
//! call from, and whether it may act on people it has not verified.

use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUser {
    pub name: String,
    pub password_hash: String,
    /// CIDR networks, e.g. `127.0.0.1/32`, `10.20.0.0/16`.
    pub allowed_networks: Vec<String>,
    pub privileged: bool,
}

pub async fn upsert(conn: &mut AnyConnection, user: &ApiUser, now: i64) -> Result<()> {
    let networks =
        serde_json::to_string(&user.allowed_networks).expect("a list of strings serialises");
    sqlx::query(
        "INSERT INTO api_users (name, password_hash, allowed_networks, privileged, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, \
         allowed_networks = excluded.allowed_networks, privileged = excluded.privileged",
    )
    .bind(&user.name)
    .bind(&user.password_hash)
    .bind(networks)
    .bind(i64::from(user.privileged))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, name: &str) -> Result<Option<ApiUser>> {
    let row = sqlx::query(
        "SELECT name, password_hash, allowed_networks, privileged FROM api_users WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| from_row(&r)).transpose()
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<ApiUser>> {
    let rows = sqlx::query(
        "SELECT name, password_hash, allowed_networks, privileged FROM api_users ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Removes an API user and ends its sessions. Returns whether it existed.
pub async fn remove(conn: &mut AnyConnection, name: &str, now: i64) -> Result<bool> {
    sqlx::query("UPDATE api_sessions SET ended_at = $1, end_reason = 'api_user_removed' WHERE api_user = $2 AND ended_at IS NULL")
        .bind(now)
        .bind(name)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("DELETE FROM api_users WHERE name = $1")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<ApiUser> {
    let networks: String = r.try_get("allowed_networks")?;
    Ok(ApiUser {
        name: r.try_get("name")?,
        password_hash: r.try_get("password_hash")?,
        allowed_networks: serde_json::from_str(&networks)
            .map_err(|e| StoreError::Corrupt(format!("allowed_networks of an API user: {e}")))?,
        privileged: r.try_get::<i64, _>("privileged")? != 0,
    })
}
