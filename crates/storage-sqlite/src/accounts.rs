//! Users, sessions and the audit log on SQLite (schema:
//! `migrations/0002_users_sessions_audit.sql`, the account id
//! `0006_account_id.sql`).
//!
//! Every write of users and feed tokens is one short transaction on the
//! writer connection, with its change-feed row; sessions and the audit log
//! make no change-feed row and are single statements. The audit insert in
//! particular is a single autocommit `INSERT`, because the web app writes
//! one per student page view. Reads go to the reader pool.

use aanwezig_domain::Role;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::{feed, SqliteStore};
use aanwezig_storage::codec::{instant_text, parse_instant, parse_student_id, to_u64};
use aanwezig_storage::error::{Result, StoreError};
use aanwezig_storage::model::{
    AuditAction, AuditEntry, AuditFilter, ChangeKind, SessionRecord, User,
};

const USER_COLUMNS: &str =
    "username, display_name, role, classes, email, active, password_hash, created_at, account_id";

const SESSION_COLUMNS: &str = "id_hash, username, csrf_token, created_at, last_seen_at";

/// A user's classes as the JSON array the `classes` column holds.
fn classes_json(classes: &[String]) -> Result<String> {
    serde_json::to_string(classes).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// Decodes a user from [`USER_COLUMNS`].
fn user_from_row(row: &SqliteRow) -> Result<User> {
    user_from_row_at(row, 0)
}

/// Decodes a user from [`USER_COLUMNS`] starting at column `at`.
fn user_from_row_at(row: &SqliteRow, at: usize) -> Result<User> {
    let role: &str = row.try_get(at + 2)?;
    let classes: &str = row.try_get(at + 3)?;
    Ok(User {
        username: row.try_get(at)?,
        display_name: row.try_get(at + 1)?,
        role: Role::parse(role)
            .ok_or_else(|| StoreError::Invalid(format!("unknown role {role:?}")))?,
        classes: serde_json::from_str(classes)
            .map_err(|e| StoreError::Invalid(format!("classes {classes:?}: {e}")))?,
        email: row.try_get(at + 4)?,
        active: row.try_get(at + 5)?,
        password_hash: row.try_get(at + 6)?,
        created_at: parse_instant(row.try_get(at + 7)?)?,
        account_id: row.try_get(at + 8)?,
    })
}

/// Decodes a session from [`SESSION_COLUMNS`].
fn session_from_row(row: &SqliteRow) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id_hash: row.try_get(0)?,
        username: row.try_get(1)?,
        csrf_token: row.try_get(2)?,
        created_at: parse_instant(row.try_get(3)?)?,
        last_seen_at: parse_instant(row.try_get(4)?)?,
    })
}

/// Decodes an audit entry from `at, username, action, student, detail`.
fn audit_from_row(row: &SqliteRow) -> Result<AuditEntry> {
    let action: &str = row.try_get(2)?;
    let student: Option<&str> = row.try_get(3)?;
    Ok(AuditEntry {
        at: parse_instant(row.try_get(0)?)?,
        username: row.try_get(1)?,
        action: AuditAction::parse(action)
            .ok_or_else(|| StoreError::Invalid(format!("unknown audit action {action:?}")))?,
        student: student.map(parse_student_id).transpose()?,
        detail: row.try_get(4)?,
    })
}

/// The audit query for a filter. One SQL text per combination, instead of
/// `(?1 IS NULL OR student = ?1)`, because SQLite cannot use an index
/// through such an `OR`: each text below is an index scan in `at` order.
fn audit_sql(filter: &AuditFilter) -> &'static str {
    match (filter.student.is_some(), filter.username.is_some()) {
        (false, false) => {
            "SELECT at, username, action, student, detail FROM audit_log
             ORDER BY at DESC, id DESC LIMIT ?3"
        }
        (true, false) => {
            "SELECT at, username, action, student, detail FROM audit_log
             WHERE student = ?1 ORDER BY at DESC, id DESC LIMIT ?3"
        }
        (false, true) => {
            "SELECT at, username, action, student, detail FROM audit_log
             WHERE username = ?2 ORDER BY at DESC, id DESC LIMIT ?3"
        }
        (true, true) => {
            "SELECT at, username, action, student, detail FROM audit_log
             WHERE student = ?1 AND username = ?2 ORDER BY at DESC, id DESC LIMIT ?3"
        }
    }
}

/// Appends one audit entry on `conn`: alone ([`AuditLog::audit`]) or inside
/// the write transaction of a checked, audited write, so that the entry
/// and the change commit together or not at all.
///
/// [`AuditLog::audit`]: aanwezig_storage::store::AuditLog::audit
pub(crate) async fn insert_audit(conn: &mut SqliteConnection, e: &AuditEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, username, action, student, detail)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(instant_text(e.at))
    .bind(&e.username)
    .bind(e.action.as_str())
    .bind(e.student.as_ref().map(|s| s.as_str()))
    .bind(&e.detail)
    // The statement is the same every time: keep it prepared.
    .persistent(true)
    .execute(conn)
    .await?;
    Ok(())
}

impl SqliteStore {
    /// Inserts the user with a fresh random account id (the given one is
    /// ignored) and returns that id. 128 random bits from SQLite's
    /// generator (seeded from the operating system), the same expression
    /// migration 0006 gave the accounts that existed before; the unique
    /// index refuses the impossible repeat rather than sharing an id.
    pub(super) async fn create_user_(&self, user: &User) -> Result<String> {
        let sql = format!(
            "INSERT INTO users ({USER_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, lower(hex(randomblob(16))))
             RETURNING account_id"
        );
        let mut tx = self.begin_write().await?;
        let account_id: String = sqlx::query_scalar(&sql)
            .bind(&user.username)
            .bind(&user.display_name)
            .bind(user.role.as_str())
            .bind(classes_json(&user.classes)?)
            .bind(&user.email)
            .bind(user.active)
            .bind(&user.password_hash)
            .bind(instant_text(user.created_at))
            .fetch_one(&mut *tx)
            .await?;
        feed(&mut tx, ChangeKind::Accounts, None, Some(user.created_at)).await?;
        tx.commit().await?;
        self.wrote();
        Ok(account_id)
    }

    pub(super) async fn users_(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        let rows = sqlx::query(&sql).fetch_all(&self.reader).await?;
        rows.iter().map(user_from_row).collect()
    }

    pub(super) async fn user_(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1");
        let row = sqlx::query(&sql)
            .bind(username)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub(super) async fn update_user_(&self, user: &User) -> Result<()> {
        // Matched on the account id too: a `User` read before its account
        // was removed must not change a later account with the same name.
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE users SET display_name = ?2, role = ?3, classes = ?4, email = ?5,
                 active = ?6, password_hash = ?7, created_at = ?8
             WHERE username = ?1 AND account_id = ?9",
        )
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(user.role.as_str())
        .bind(classes_json(&user.classes)?)
        .bind(&user.email)
        .bind(user.active)
        .bind(&user.password_hash)
        .bind(instant_text(user.created_at))
        .bind(&user.account_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            // Dropping `tx` rolls back (nothing was changed anyway).
            return Err(StoreError::NotFound(format!("user {}", user.username)));
        }
        feed(&mut tx, ChangeKind::Accounts, None, None).await?;
        tx.commit().await?;
        self.wrote();
        Ok(())
    }

    pub(super) async fn set_feed_token_(
        &self,
        username: &str,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let known: Option<String> =
            sqlx::query_scalar("SELECT username FROM users WHERE username = ?1")
                .bind(username)
                .fetch_optional(&mut *tx)
                .await?;
        if known.is_none() {
            return Err(StoreError::NotFound(format!("user {username}")));
        }
        sqlx::query(
            "INSERT INTO feed_tokens (username, token_hash, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (username) DO UPDATE SET token_hash = ?2, created_at = ?3",
        )
        .bind(username)
        .bind(token_hash)
        .bind(instant_text(at))
        .execute(&mut *tx)
        .await?;
        feed(&mut tx, ChangeKind::Accounts, None, Some(at)).await?;
        tx.commit().await?;
        self.wrote();
        Ok(())
    }

    pub(super) async fn delete_user_(&self, username: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // Explicitly, not only by the foreign key's cascade: the promise
        // must not depend on a connection pragma.
        sqlx::query("DELETE FROM sessions WHERE username = ?1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM feed_tokens WHERE username = ?1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM users WHERE username = ?1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            // Dropping `tx` rolls back (there was nothing to delete anyway).
            return Err(StoreError::NotFound(format!("user {username}")));
        }
        feed(&mut tx, ChangeKind::Accounts, None, None).await?;
        tx.commit().await?;
        self.wrote();
        Ok(())
    }

    pub(super) async fn user_count_(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&self.reader)
            .await?;
        to_u64(n)
    }

    pub(super) async fn create_session_(&self, s: &SessionRecord) -> Result<()> {
        let sql = format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)");
        sqlx::query(&sql)
            .bind(&s.id_hash)
            .bind(&s.username)
            .bind(&s.csrf_token)
            .bind(instant_text(s.created_at))
            .bind(instant_text(s.last_seen_at))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(super) async fn session_(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = ?1");
        let row = sqlx::query(&sql)
            .bind(id_hash)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    pub(super) async fn session_with_user_(
        &self,
        id_hash: &str,
    ) -> Result<Option<(SessionRecord, Option<User>)>> {
        // The user's columns prefixed `u.`, after the session's five.
        let user_columns = USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT s.id_hash, s.username, s.csrf_token, s.created_at, s.last_seen_at, {user_columns}, u.username IS NOT NULL
             FROM sessions s LEFT JOIN users u ON u.username = s.username
             WHERE s.id_hash = ?1"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(id_hash)
            .fetch_optional(&self.reader)
            .await?
        else {
            return Ok(None);
        };
        let session = session_from_row(&row)?;
        let has_user: bool = row.try_get(5 + 9)?;
        let user = has_user.then(|| user_from_row_at(&row, 5)).transpose()?;
        Ok(Some((session, user)))
    }

    pub(super) async fn touch_session_(&self, id_hash: &str, at: DateTime<Utc>) -> Result<()> {
        // Only forward: two requests finishing out of order must not move
        // the session's last activity back (towards the idle purge).
        sqlx::query(
            "UPDATE sessions SET last_seen_at = ?2 WHERE id_hash = ?1 AND last_seen_at < ?2",
        )
        .bind(id_hash)
        .bind(instant_text(at))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub(super) async fn delete_session_(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?1")
            .bind(id_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(super) async fn delete_user_sessions_(&self, username: &str) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE username = ?1")
            .bind(username)
            .execute(&self.writer)
            .await?
            .rows_affected())
    }

    pub(super) async fn delete_sessions_idle_since_(&self, before: DateTime<Utc>) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE last_seen_at < ?1")
            .bind(instant_text(before))
            .execute(&self.writer)
            .await?
            .rows_affected())
    }

    pub(super) async fn audit_(&self, e: &AuditEntry) -> Result<()> {
        let mut conn = self.writer.acquire().await?;
        insert_audit(&mut conn, e).await
    }

    pub(super) async fn audit_log_(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(audit_sql(filter))
            .bind(filter.student.as_ref().map(|s| s.as_str()))
            .bind(filter.username.as_deref())
            .bind(i64::from(filter.limit))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(audit_from_row).collect()
    }
}
