//! Instellingen: the school calendar (`calendar`), the attendance policy
//! (`policy`, its fields in `policy_fields`), the mapping of the
//! school's absence codes (`codes`), the school's details ([`school`]),
//! the mail server ([`mail`]) and how exports are imported ([`import`]);
//! `overview` links them. Beheerder only, except the import settings.
//!
//! Every change is checked the way the app will use it — a calendar by
//! building [`Calendar::new`], a policy by [`Policy::validate`] — and shown
//! back in Dutch next to its form (422) when it fails. A good change is
//! saved as a new version of its document (old versions stay), written to
//! the audit log, and the live school is reloaded so every signal follows
//! the new settings at once.

mod calendar;
mod codes;
pub mod import;
pub mod mail;
mod overview;
mod policy;
mod policy_fields;
pub mod school;

use std::collections::HashMap;

use aanwezig_storage::DocumentKind;
use axum::extract::Multipart;

use crate::error::PageError;
use crate::state::AppState;
use calendar::{
    add_free_day, calendar, edit_year, import_rijksoverheid, remove_free_day, upload_calendar,
};
use codes::{add_code, change_code, codes, load_preset, remove_code};
use overview::overview;
use policy::{download_policy, policy, save_policy_form, upload_policy};

/// One saved version of a settings document, for the history tables.
struct VersionView {
    version: u32,
    saved_by: String,
    saved_at: String,
}

async fn versions(state: &AppState, kind: DocumentKind) -> Result<Vec<VersionView>, PageError> {
    let mut list: Vec<VersionView> = state
        .store
        .document_versions(kind)
        .await?
        .into_iter()
        .map(|v| VersionView {
            version: v.version,
            saved_by: v.saved_by,
            saved_at: crate::pages::student::local_time_nl(v.saved_at),
        })
        .collect();
    list.reverse();
    Ok(list)
}

/// The fields of a multipart upload: name → (file name, bytes).
async fn multipart_fields(
    mut mp: Multipart,
) -> Result<HashMap<String, (Option<String>, Vec<u8>)>, PageError> {
    let mut out = HashMap::new();
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| PageError::BadRequest(format!("het formulier kon niet gelezen worden: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let file = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|e| {
            PageError::BadRequest(format!("het bestand kon niet gelezen worden: {e}"))
        })?;
        out.insert(name, (file, bytes.to_vec()));
    }
    Ok(out)
}

/// The uploaded file of field `name` as UTF-8 text, with its file name.
fn uploaded_text(
    fields: &HashMap<String, (Option<String>, Vec<u8>)>,
    name: &str,
) -> Result<(String, String), String> {
    let Some((file, bytes)) = fields.get(name) else {
        return Err("Kies eerst een bestand.".into());
    };
    if bytes.is_empty() {
        return Err("Het gekozen bestand is leeg.".into());
    }
    let text = String::from_utf8(bytes.clone())
        .map_err(|_| "Het bestand is geen tekst in UTF-8.".to_owned())?;
    Ok((file.clone().unwrap_or_else(|| "bestand".into()), text))
}

fn field_text(fields: &HashMap<String, (Option<String>, Vec<u8>)>, name: &str) -> String {
    fields
        .get(name)
        .map(|(_, b)| String::from_utf8_lossy(b).trim().to_owned())
        .unwrap_or_default()
}

/// `/instellingen` and its subpages.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/instellingen", overview)
        .get("/instellingen/kalender", calendar)
        .post("/instellingen/kalender/vrije-dag", add_free_day)
        .post(
            "/instellingen/kalender/vrije-dag/verwijderen",
            remove_free_day,
        )
        .post("/instellingen/kalender/schooljaar", edit_year)
        .post("/instellingen/kalender/bestand", upload_calendar)
        .post("/instellingen/kalender/rijksoverheid", import_rijksoverheid)
        .get("/instellingen/beleid", policy)
        .post("/instellingen/beleid", save_policy_form)
        .get("/instellingen/beleid/beleid.toml", download_policy)
        .post("/instellingen/beleid/bestand", upload_policy)
        .get("/instellingen/codes", codes)
        .post("/instellingen/codes", add_code)
        .post("/instellingen/codes/wijzigen", change_code)
        .post("/instellingen/codes/verwijderen", remove_code)
        .post("/instellingen/codes/voorinstelling", load_preset)
        .merge(import::router())
        .merge(mail::router())
        .merge(school::router())
}
