//! What every backend does the same with settings documents before and
//! after it stores them: the checks, the JSON, and which documents an
//! import brings. Backends store the text; the rules are here once.

use aanwezig_domain::{Calendar, SchoolYear};

use crate::error::{Result, StoreError};
use crate::model::{BundleSummary, DocumentKind, DocumentWrite, ImportBundle};

/// A value as JSON text.
pub fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// JSON text read back; `what` names it in the error.
pub fn from_json<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| StoreError::Invalid(format!("{what}: {e}")))
}

/// Checks a calendar the way the engine will use it.
pub fn validate_calendar(years: &[SchoolYear]) -> Result<()> {
    Calendar::new(years.to_vec())
        .map(|_| ())
        .map_err(|e| StoreError::Invalid(format!("calendar: {e}")))
}

/// Checks a settings document of a kind `save_settings` takes: not one of
/// the engine's documents (they have their own, validating methods), and
/// valid JSON.
pub fn check_settings(kind: DocumentKind, json: &str) -> Result<()> {
    if matches!(
        kind,
        DocumentKind::Calendar | DocumentKind::Policy | DocumentKind::Timetable
    ) {
        return Err(StoreError::Invalid(format!(
            "{} is saved with its own method",
            kind.as_str()
        )));
    }
    serde_json::from_str::<serde_json::Value>(json)
        .map_err(|e| StoreError::Invalid(format!("{}: no valid JSON: {e}", kind.as_str())))?;
    Ok(())
}

/// A document checked as its own method would, as JSON.
pub fn document_json(doc: DocumentWrite<'_>) -> Result<String> {
    match doc {
        DocumentWrite::Calendar(years) => {
            validate_calendar(years)?;
            to_json(years)
        }
        DocumentWrite::Policy(policy) => {
            policy
                .validate()
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            to_json(policy)
        }
        DocumentWrite::Settings(kind, json) => {
            check_settings(kind, json)?;
            Ok(json.to_owned())
        }
    }
}

/// The documents an import brings, checked and as JSON, in the order they
/// are saved: calendar, policy, timetable. Checked before anything is
/// written.
pub fn bundle_documents(bundle: &ImportBundle<'_>) -> Result<Vec<(DocumentKind, String)>> {
    let mut out = Vec::new();
    if let Some(years) = bundle.calendar {
        out.push((
            DocumentKind::Calendar,
            document_json(DocumentWrite::Calendar(years))?,
        ));
    }
    if let Some(policy) = bundle.policy {
        out.push((
            DocumentKind::Policy,
            document_json(DocumentWrite::Policy(policy))?,
        ));
    }
    if let Some(timetable) = bundle.timetable {
        out.push((DocumentKind::Timetable, to_json(timetable)?));
    }
    Ok(out)
}

/// Notes in `out` the version an import's document of `kind` was saved as.
pub fn note_version(out: &mut BundleSummary, kind: DocumentKind, version: u32) {
    match kind {
        DocumentKind::Calendar => out.calendar_version = Some(version),
        DocumentKind::Policy => out.policy_version = Some(version),
        DocumentKind::Timetable => out.timetable_version = Some(version),
        DocumentKind::School | DocumentKind::Mail | DocumentKind::Import => {}
    }
}
