//! Versioned settings documents on PostgreSQL.
//!
//! Versions are numbered per kind without gaps (`max + 1`); writers lock
//! the table against each other (`SHARE ROW EXCLUSIVE`, which readers do
//! not notice) so that two saves never compute the same number.

use aanwezig_domain::{Policy, SchoolYear};
use aanwezig_storage::documents::{check_settings, document_json};
use aanwezig_storage::{
    AuditEntry, ChangeKind, DocumentKind, DocumentVersion, DocumentWrite, Documents, StoreError,
    VersionCheck,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};

use crate::accounts::audit_tx;
use crate::error::{Db, Result};
use crate::{from_json, record_change, to_json, validate_calendar, version_of, PgStore};

/// Takes the documents' write lock until the transaction ends.
async fn lock_documents(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("LOCK TABLE documents IN SHARE ROW EXCLUSIVE MODE")
        .execute(conn)
        .await
        .db()?;
    Ok(())
}

/// The latest version number of a kind inside a transaction.
async fn latest_version(conn: &mut PgConnection, kind: DocumentKind) -> Result<Option<u32>> {
    let v: Option<i32> = sqlx::query_scalar("SELECT max(version) FROM documents WHERE kind = $1")
        .bind(kind.as_str())
        .fetch_one(conn)
        .await
        .db()?;
    v.map(version_of).transpose()
}

/// Adds a version of a settings document inside a transaction.
pub(crate) async fn save_document_tx(
    conn: &mut PgConnection,
    kind: DocumentKind,
    json: String,
    by: &str,
    at: DateTime<Utc>,
) -> Result<u32> {
    lock_documents(conn).await?;
    let version: i32 = sqlx::query_scalar(
        "INSERT INTO documents (kind, version, json, saved_by, saved_at)
         SELECT $1, coalesce(max(version), 0) + 1, $2::json, $3, $4
         FROM documents WHERE kind = $1
         RETURNING version",
    )
    .bind(kind.as_str())
    .bind(json)
    .bind(by)
    .bind(at)
    .fetch_one(conn)
    .await
    .db()?;
    version_of(version)
}

impl PgStore {
    async fn save_document(
        &self,
        kind: DocumentKind,
        json: String,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<u32> {
        let mut tx = self.begin().await?;
        let version = save_document_tx(&mut tx, kind, json, by, at).await?;
        let change = record_change(&mut tx, ChangeKind::Document, None).await?;
        tx.commit().await.db()?;
        self.wrote(Some(change));
        Ok(version)
    }

    async fn latest_document(&self, kind: DocumentKind) -> Result<Option<String>> {
        sqlx::query_scalar(
            "SELECT json::text FROM documents WHERE kind = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await
        .db()
    }
}

#[async_trait]
impl Documents for PgStore {
    async fn save_calendar(
        &self,
        years: &[SchoolYear],
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<u32> {
        validate_calendar(years)?;
        self.save_document(DocumentKind::Calendar, to_json(years)?, by, at)
            .await
    }

    async fn calendar(&self) -> Result<Option<Vec<SchoolYear>>> {
        let Some(json) = self.latest_document(DocumentKind::Calendar).await? else {
            return Ok(None);
        };
        let years: Vec<SchoolYear> = from_json("stored calendar", &json)?;
        validate_calendar(&years)?;
        Ok(Some(years))
    }

    async fn save_policy(&self, policy: &Policy, by: &str, at: DateTime<Utc>) -> Result<u32> {
        policy
            .validate()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.save_document(DocumentKind::Policy, to_json(policy)?, by, at)
            .await
    }

    async fn policy(&self) -> Result<Option<Policy>> {
        let Some(json) = self.latest_document(DocumentKind::Policy).await? else {
            return Ok(None);
        };
        let policy: Policy = from_json("stored policy", &json)?;
        policy
            .validate()
            .map_err(|e| StoreError::Invalid(format!("stored policy: {e}")))?;
        Ok(Some(policy))
    }

    async fn save_settings(
        &self,
        kind: DocumentKind,
        json: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<u32> {
        check_settings(kind, json)?;
        self.save_document(kind, json.to_owned(), by, at).await
    }

    async fn timetable(&self) -> Result<Option<aanwezig_domain::Timetable>> {
        match self.latest_document(DocumentKind::Timetable).await? {
            Some(json) => from_json("stored timetable", &json).map(Some),
            None => Ok(None),
        }
    }

    async fn settings(&self, kind: DocumentKind) -> Result<Option<String>> {
        self.latest_document(kind).await
    }

    async fn document_versions(&self, kind: DocumentKind) -> Result<Vec<DocumentVersion>> {
        let rows = sqlx::query(
            "SELECT version, json::text, saved_by, saved_at FROM documents
             WHERE kind = $1 ORDER BY version",
        )
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                Ok(DocumentVersion {
                    kind,
                    version: version_of(row.try_get(0).db()?)?,
                    json: row.try_get(1).db()?,
                    saved_by: row.try_get(2).db()?,
                    saved_at: row.try_get(3).db()?,
                })
            })
            .collect()
    }

    async fn document_version(&self, kind: DocumentKind) -> Result<Option<u32>> {
        let mut conn = self.pool.acquire().await.db()?;
        latest_version(&mut conn, kind).await
    }

    async fn save_document_checked(
        &self,
        doc: DocumentWrite<'_>,
        check: VersionCheck,
        by: &str,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<u32> {
        let kind = doc.kind();
        let json = document_json(doc)?;
        let mut tx = self.begin().await?;
        lock_documents(&mut tx).await?;
        let stored = latest_version(&mut tx, kind).await?;
        if !check.allows(stored) {
            return Err(StoreError::StaleVersion {
                expected: check,
                stored,
            });
        }
        let version = save_document_tx(&mut tx, kind, json, by, at).await?;
        audit_tx(&mut tx, audit).await?;
        let change = record_change(&mut tx, ChangeKind::Document, None).await?;
        tx.commit().await.db()?;
        self.wrote(Some(change));
        Ok(version)
    }
}
