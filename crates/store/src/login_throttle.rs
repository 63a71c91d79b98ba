//! Failed `Login` attempts, counted per API user name and per client
//! address so that guessing is throttled from either side.

use sqlx::{AnyConnection, Row};

use crate::Result;

pub async fn record(
    conn: &mut AnyConnection,
    api_user: &str,
    client_ip: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO login_failures (api_user, client_ip, at) VALUES ($1, $2, $3)")
        .bind(api_user)
        .bind(client_ip)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `(failures for this user name, failures from this address)` since `since`.
pub async fn counts(
    conn: &mut AnyConnection,
    api_user: &str,
    client_ip: &str,
    since: i64,
) -> Result<(u32, u32)> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM login_failures WHERE api_user = $1 AND at >= $3) AS by_user, \
                (SELECT COUNT(*) FROM login_failures WHERE client_ip = $2 AND at >= $3) AS by_ip",
    )
    .bind(api_user)
    .bind(client_ip)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?;
    let n = |name| -> Result<u32> {
        Ok(u32::try_from(row.try_get::<i64, _>(name)?).unwrap_or(u32::MAX))
    };
    Ok((n("by_user")?, n("by_ip")?))
}

/// Drops records older than `before`; they no longer count.
pub async fn prune(conn: &mut AnyConnection, before: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(before)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
