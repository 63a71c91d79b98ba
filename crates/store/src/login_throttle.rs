//! Failed API-user logins, counted per API user name and per client
//! address so that guessing is throttled from either side.

use sqlx::{AnyConnection, Row};

use crate::Result;

/// Failures within a window, and when the latest was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    /// Milliseconds since the epoch of the latest failure (0 when none).
    pub latest: i64,
}

/// Records a refused login. `counts_for_user` is false when the refusal
/// must not count toward the name's throttle (an unknown name, or an
/// address outside the API user's allow-list); it always counts for the
/// address.
pub async fn record(
    conn: &mut AnyConnection,
    api_user: &str,
    client_ip: &str,
    counts_for_user: bool,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO login_failures (api_user, client_ip, counts_for_user, at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(api_user)
    .bind(client_ip)
    .bind(i64::from(counts_for_user))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `(failures that count for this user name, failures from this address)`
/// since `since`.
pub async fn counts(
    conn: &mut AnyConnection,
    api_user: &str,
    client_ip: &str,
    since: i64,
) -> Result<(Failures, Failures)> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM login_failures \
                  WHERE api_user = $1 AND counts_for_user = 1 AND at >= $3) AS user_count, \
                (SELECT COALESCE(MAX(at), 0) FROM login_failures \
                  WHERE api_user = $1 AND counts_for_user = 1 AND at >= $3) AS user_latest, \
                (SELECT COUNT(*) FROM login_failures WHERE client_ip = $2 AND at >= $3) AS ip_count, \
                (SELECT COALESCE(MAX(at), 0) FROM login_failures \
                  WHERE client_ip = $2 AND at >= $3) AS ip_latest",
    )
    .bind(api_user)
    .bind(client_ip)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?;
    let failures = |count, latest| -> Result<Failures> {
        Ok(Failures {
            count: u32::try_from(row.try_get::<i64, _>(count)?).unwrap_or(u32::MAX),
            latest: row.try_get::<i64, _>(latest)?,
        })
    };
    Ok((
        failures("user_count", "user_latest")?,
        failures("ip_count", "ip_latest")?,
    ))
}

/// Drops records older than `before`; they no longer count.
pub async fn prune(conn: &mut AnyConnection, before: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(before)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
