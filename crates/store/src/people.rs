//! People (the employees who call), their keypad IDs and their accounts on
//! target systems.
//!
//! A person's `id` is their login name and the `user_id` of the API. Their
//! keypad IDs are computed by the service from the configured attributes
//! and stored here, one row per attribute, so a lookup by digits is one
//! indexed query.

use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

/// A person as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub display_name: String,
    pub department: String,
    pub employee_number: Option<String>,
    pub mail: Option<String>,
    pub phone_numbers: Vec<String>,
    pub disabled: bool,
    /// Directory groups (as the directory names them: DNs or names).
    pub groups: Vec<String>,
    /// An administrator or other person policies ask more of.
    pub privileged: bool,
    /// Verification failures before this time no longer count (set when an
    /// administrator clears a lockout).
    pub failures_cleared_at: i64,
}

/// One of a person's accounts on a target system.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountRef {
    pub target: String,
    pub account: String,
}

const PERSON_COLUMNS: &str = "id, display_name, department, employee_number, mail, phone_numbers, disabled, groups, privileged, failures_cleared_at";

fn person_from_row(row: &sqlx::any::AnyRow) -> Result<Person> {
    let phones: String = row.try_get("phone_numbers")?;
    let groups: String = row.try_get("groups")?;
    Ok(Person {
        id: row.try_get("id")?,
        display_name: row.try_get("display_name")?,
        department: row.try_get("department")?,
        employee_number: row.try_get("employee_number")?,
        mail: row.try_get("mail")?,
        phone_numbers: serde_json::from_str(&phones)
            .map_err(|e| StoreError::Corrupt(format!("phone_numbers of a person: {e}")))?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        groups: serde_json::from_str(&groups)
            .map_err(|e| StoreError::Corrupt(format!("groups of a person: {e}")))?,
        privileged: row.try_get::<i64, _>("privileged")? != 0,
        failures_cleared_at: row.try_get("failures_cleared_at")?,
    })
}

/// Inserts or updates a person (everything but `failures_cleared_at`,
/// which only [`clear_failures`] moves). Enrolled answers are kept.
pub async fn upsert(conn: &mut AnyConnection, person: &Person, now: i64) -> Result<()> {
    let phones =
        serde_json::to_string(&person.phone_numbers).expect("a list of strings serialises");
    let groups = serde_json::to_string(&person.groups).expect("a list of strings serialises");
    sqlx::query(
        "INSERT INTO people (id, display_name, department, employee_number, mail, phone_numbers, disabled, groups, privileged, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
         ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, department = excluded.department, \
         employee_number = excluded.employee_number, mail = excluded.mail, phone_numbers = excluded.phone_numbers, \
         disabled = excluded.disabled, groups = excluded.groups, privileged = excluded.privileged, \
         updated_at = excluded.updated_at",
    )
    .bind(&person.id)
    .bind(&person.display_name)
    .bind(&person.department)
    .bind(&person.employee_number)
    .bind(&person.mail)
    .bind(phones)
    .bind(i64::from(person.disabled))
    .bind(groups)
    .bind(i64::from(person.privileged))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Replaces the keypad IDs of a person with `(attribute, digits)` pairs.
pub async fn set_keypad_ids(
    conn: &mut AnyConnection,
    person_id: &str,
    ids: &[(String, String)],
) -> Result<()> {
    sqlx::query("DELETE FROM keypad_ids WHERE person_id = $1")
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    for (attribute, digits) in ids {
        sqlx::query("INSERT INTO keypad_ids (person_id, attribute, digits) VALUES ($1, $2, $3)")
            .bind(person_id)
            .bind(attribute)
            .bind(digits)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Person>> {
    let row = sqlx::query(&format!(
        "SELECT {PERSON_COLUMNS} FROM people WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(person_from_row).transpose()
}

/// Every enabled person with a keypad ID equal to `digits`, each once,
/// ordered by display name.
pub async fn find_by_keypad(conn: &mut AnyConnection, digits: &str) -> Result<Vec<Person>> {
    let rows = sqlx::query(&format!(
        "SELECT {PERSON_COLUMNS} FROM people WHERE disabled = 0 AND id IN \
         (SELECT person_id FROM keypad_ids WHERE digits = $1) ORDER BY display_name, id"
    ))
    .bind(digits)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(person_from_row).collect()
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Person>> {
    let rows = sqlx::query(&format!("SELECT {PERSON_COLUMNS} FROM people ORDER BY id"))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(person_from_row).collect()
}

pub async fn keypad_ids(
    conn: &mut AnyConnection,
    person_id: &str,
) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT attribute, digits FROM keypad_ids WHERE person_id = $1 ORDER BY attribute",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("attribute")?, r.try_get("digits")?)))
        .collect()
}

/// Moves the point before which verification failures no longer count.
pub async fn clear_failures(conn: &mut AnyConnection, person_id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE people SET failures_cleared_at = $1 WHERE id = $2")
        .bind(now)
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn add_account(
    conn: &mut AnyConnection,
    person_id: &str,
    account: &AccountRef,
) -> Result<()> {
    sqlx::query("INSERT INTO accounts (person_id, target, account) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(person_id)
        .bind(&account.target)
        .bind(&account.account)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn accounts(conn: &mut AnyConnection, person_id: &str) -> Result<Vec<AccountRef>> {
    let rows = sqlx::query(
        "SELECT target, account FROM accounts WHERE person_id = $1 ORDER BY target, account",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AccountRef {
                target: r.try_get("target")?,
                account: r.try_get("account")?,
            })
        })
        .collect()
}

pub async fn remove_account(
    conn: &mut AnyConnection,
    person_id: &str,
    account: &AccountRef,
) -> Result<bool> {
    let done =
        sqlx::query("DELETE FROM accounts WHERE person_id = $1 AND target = $2 AND account = $3")
            .bind(person_id)
            .bind(&account.target)
            .bind(&account.account)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Every `(person_id, account)` on one target.
pub async fn accounts_on(conn: &mut AnyConnection, target: &str) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT person_id, account FROM accounts WHERE target = $1 ORDER BY person_id, account",
    )
    .bind(target)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("person_id")?, r.try_get("account")?)))
        .collect()
}
