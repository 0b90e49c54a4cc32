//! Users, sessions, feed tokens and the audit log on PostgreSQL.
//!
//! Sessions and audit entries are single statements that record no
//! change in the feed (they change no page); everything else about
//! accounts records one change of kind `accounts`.

use aanwezig_domain::Role;
use aanwezig_storage::{
    Accounts, AuditAction, AuditEntry, AuditFilter, AuditLog, ChangeKind, SessionRecord,
    StoreError, User,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::error::{to_u64, Db, Result};
use crate::{parse_student_id, record_change, to_json, PgStore};

const USER_COLUMNS: &str = "username, display_name, role, classes::text, email, active, \
                            password_hash, created_at, account_id";

const SESSION_COLUMNS: &str = "id_hash, username, csrf_token, created_at, last_seen_at";

/// Decodes a user from [`USER_COLUMNS`] starting at column `at`.
fn user_from_row_at(row: &PgRow, at: usize) -> Result<User> {
    let role: &str = row.try_get(at + 2).db()?;
    let classes: &str = row.try_get(at + 3).db()?;
    Ok(User {
        username: row.try_get(at).db()?,
        display_name: row.try_get(at + 1).db()?,
        role: Role::parse(role)
            .ok_or_else(|| StoreError::Invalid(format!("unknown role {role:?}")))?,
        classes: serde_json::from_str(classes)
            .map_err(|e| StoreError::Invalid(format!("classes {classes:?}: {e}")))?,
        email: row.try_get(at + 4).db()?,
        active: row.try_get(at + 5).db()?,
        password_hash: row.try_get(at + 6).db()?,
        created_at: row.try_get(at + 7).db()?,
        account_id: row.try_get(at + 8).db()?,
    })
}

/// Decodes a session from [`SESSION_COLUMNS`].
fn session_from_row(row: &PgRow) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id_hash: row.try_get(0).db()?,
        username: row.try_get(1).db()?,
        csrf_token: row.try_get(2).db()?,
        created_at: row.try_get(3).db()?,
        last_seen_at: row.try_get(4).db()?,
    })
}

/// Decodes an audit entry from `at, username, action, student, detail`.
fn audit_from_row(row: &PgRow) -> Result<AuditEntry> {
    let action: &str = row.try_get(2).db()?;
    let student: Option<&str> = row.try_get(3).db()?;
    Ok(AuditEntry {
        at: row.try_get(0).db()?,
        username: row.try_get(1).db()?,
        action: AuditAction::parse(action)
            .ok_or_else(|| StoreError::Invalid(format!("unknown audit action {action:?}")))?,
        student: student.map(parse_student_id).transpose()?,
        detail: row.try_get(4).db()?,
    })
}

/// The audit query for a filter: one text per combination, so that each
/// is a backward scan of its own index in `(at, id)` order.
fn audit_sql(filter: &AuditFilter) -> &'static str {
    match (filter.student.is_some(), filter.username.is_some()) {
        (false, false) => {
            "SELECT at, username, action, student, detail FROM audit_log
             ORDER BY at DESC, id DESC LIMIT $3"
        }
        (true, false) => {
            "SELECT at, username, action, student, detail FROM audit_log
             WHERE student = $1 AND $2::text IS NULL ORDER BY at DESC, id DESC LIMIT $3"
        }
        (false, true) => {
            "SELECT at, username, action, student, detail FROM audit_log
             WHERE username = $2 AND $1::text IS NULL ORDER BY at DESC, id DESC LIMIT $3"
        }
        (true, true) => {
            "SELECT at, username, action, student, detail FROM audit_log
             WHERE student = $1 AND username = $2 ORDER BY at DESC, id DESC LIMIT $3"
        }
    }
}

/// Appends one audit entry on `conn` (a transaction's, or the pool's).
pub(crate) async fn audit_tx(conn: &mut PgConnection, e: &AuditEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, username, action, student, detail)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(e.at)
    .bind(&e.username)
    .bind(e.action.as_str())
    .bind(e.student.as_ref().map(|s| s.as_str()))
    .bind(&e.detail)
    .execute(conn)
    .await
    .db()?;
    Ok(())
}

impl PgStore {
    /// Commits `tx` with one change of kind `accounts`.
    async fn commit_accounts(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    ) -> Result<()> {
        let change = record_change(&mut tx, ChangeKind::Accounts, None).await?;
        tx.commit().await.db()?;
        self.wrote(Some(change));
        Ok(())
    }
}

#[async_trait]
impl Accounts for PgStore {
    async fn create_user(&self, user: &User) -> Result<String> {
        // The account id is the column's default: a fresh random one.
        let mut tx = self.begin().await?;
        let account_id: String = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, role, classes, email, active,
                                password_hash, created_at)
             VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8)
             RETURNING account_id",
        )
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(user.role.as_str())
        .bind(to_json(&user.classes)?)
        .bind(&user.email)
        .bind(user.active)
        .bind(&user.password_hash)
        .bind(user.created_at)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        self.commit_accounts(tx).await?;
        Ok(account_id)
    }

    async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await.db()?;
        rows.iter().map(|r| user_from_row_at(r, 0)).collect()
    }

    async fn user(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        let row = sqlx::query(&sql)
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.as_ref().map(|r| user_from_row_at(r, 0)).transpose()
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        // Matched on the account id too: a `User` read before its account
        // was removed must not change a later account with the same name.
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE users SET display_name = $2, role = $3, classes = $4::jsonb, email = $5,
                 active = $6, password_hash = $7, created_at = $8
             WHERE username = $1 AND account_id = $9",
        )
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(user.role.as_str())
        .bind(to_json(&user.classes)?)
        .bind(&user.email)
        .bind(user.active)
        .bind(&user.password_hash)
        .bind(user.created_at)
        .bind(&user.account_id)
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {}", user.username)));
        }
        self.commit_accounts(tx).await
    }

    async fn delete_user(&self, username: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        // Explicitly, not only by the foreign keys' cascade.
        for sql in [
            "DELETE FROM sessions WHERE username = $1",
            "DELETE FROM feed_tokens WHERE username = $1",
        ] {
            sqlx::query(sql)
                .bind(username)
                .execute(&mut *tx)
                .await
                .db()?;
        }
        let done = sqlx::query("DELETE FROM users WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await
            .db()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {username}")));
        }
        self.commit_accounts(tx).await
    }

    async fn user_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .db()?;
        to_u64(n)
    }

    async fn create_session(&self, s: &SessionRecord) -> Result<()> {
        let sql = format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5)");
        sqlx::query(&sql)
            .bind(&s.id_hash)
            .bind(&s.username)
            .bind(&s.csrf_token)
            .bind(s.created_at)
            .bind(s.last_seen_at)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }

    async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = $1");
        let row = sqlx::query(&sql)
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn session_with_user(
        &self,
        id_hash: &str,
    ) -> Result<Option<(SessionRecord, Option<User>)>> {
        let user_columns = USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT s.id_hash, s.username, s.csrf_token, s.created_at, s.last_seen_at,
                    {user_columns}, u.username IS NOT NULL
             FROM sessions s LEFT JOIN users u ON u.username = s.username
             WHERE s.id_hash = $1"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await
            .db()?
        else {
            return Ok(None);
        };
        let session = session_from_row(&row)?;
        let has_user: bool = row.try_get(5 + 9).db()?;
        let user = has_user.then(|| user_from_row_at(&row, 5)).transpose()?;
        Ok(Some((session, user)))
    }

    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<()> {
        // Only forward: two requests finishing out of order must not move
        // the session's last activity back (towards the idle purge).
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1 AND last_seen_at < $2",
        )
        .bind(id_hash)
        .bind(at)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn set_feed_token(
        &self,
        username: &str,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let known: Option<String> =
            sqlx::query_scalar("SELECT username FROM users WHERE username = $1 FOR KEY SHARE")
                .bind(username)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
        if known.is_none() {
            return Err(StoreError::NotFound(format!("user {username}")));
        }
        sqlx::query(
            "INSERT INTO feed_tokens (username, token_hash, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (username) DO UPDATE SET token_hash = $2, created_at = $3",
        )
        .bind(username)
        .bind(token_hash)
        .bind(at)
        .execute(&mut *tx)
        .await
        .db()?;
        self.commit_accounts(tx).await
    }

    async fn feed_token_user(&self, token_hash: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT username FROM feed_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .db()
    }

    async fn delete_feed_token(&self, username: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM feed_tokens WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await
            .db()?;
        if done.rows_affected() == 0 {
            // Nothing to remove: no change.
            return Ok(());
        }
        self.commit_accounts(tx).await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }

    async fn delete_user_sessions(&self, username: &str) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE username = $1")
            .bind(username)
            .execute(&self.pool)
            .await
            .db()?
            .rows_affected())
    }

    async fn delete_sessions_idle_since(&self, before: DateTime<Utc>) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .db()?
            .rows_affected())
    }
}

#[async_trait]
impl AuditLog for PgStore {
    async fn audit(&self, entry: &AuditEntry) -> Result<()> {
        let mut conn = self.pool.acquire().await.db()?;
        audit_tx(&mut conn, entry).await
    }

    async fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(audit_sql(filter))
            .bind(filter.student.as_ref().map(|s| s.as_str()))
            .bind(filter.username.as_deref())
            .bind(i64::from(filter.limit))
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(audit_from_row).collect()
    }
}
