//! Failed sign-ins at the web doors (the portal, the console), counted per
//! door for the login typed and for the client address, so guessing is
//! throttled from either side. The login is counted whether or not anyone
//! has it, so the throttle tells nothing about who exists.

use sqlx::{AnyConnection, Row};

use crate::Result;

pub async fn record(
    conn: &mut AnyConnection,
    door: &str,
    login: &str,
    client_ip: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sign_in_failures (door, login, client_ip, at) VALUES ($1, $2, $3, $4)",
    )
    .bind(door)
    .bind(login)
    .bind(client_ip)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `(failures for this login, failures from this address)` at `door`
/// since `since`.
pub async fn counts(
    conn: &mut AnyConnection,
    door: &str,
    login: &str,
    client_ip: &str,
    since: i64,
) -> Result<(u32, u32)> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM sign_in_failures WHERE door = $1 AND login = $2 AND at >= $4) AS by_login, \
                (SELECT COUNT(*) FROM sign_in_failures WHERE door = $1 AND client_ip = $3 AND at >= $4) AS by_ip",
    )
    .bind(door)
    .bind(login)
    .bind(client_ip)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?;
    let n = |name| -> Result<u32> {
        Ok(u32::try_from(row.try_get::<i64, _>(name)?).unwrap_or(u32::MAX))
    };
    Ok((n("by_login")?, n("by_ip")?))
}
