//! The audit entry every use case writes.

use aanwezig_domain::StudentId;
use aanwezig_storage::{AuditAction, AuditEntry, Store};
use chrono::{DateTime, Utc};

use crate::{Actor, AppError};

/// Writes one audit entry for `actor`.
pub async fn write(
    store: &dyn Store,
    actor: &Actor,
    now: DateTime<Utc>,
    action: AuditAction,
    student: Option<&StudentId>,
    detail: impl Into<String>,
) -> Result<(), AppError> {
    store
        .audit(&AuditEntry {
            at: now,
            username: actor.username.clone(),
            action,
            student: student.cloned(),
            detail: detail.into(),
        })
        .await?;
    Ok(())
}
