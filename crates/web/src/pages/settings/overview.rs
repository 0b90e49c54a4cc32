//! `GET /instellingen`: the settings with their latest versions.

use aanwezig_storage::DocumentKind;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use super::versions;
use crate::error::PageError;
use crate::guard::ManageSettings;
use crate::layout::{section, Layout};
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
pub(super) struct Overview {
    layout: Layout,
    calendar_years: Vec<String>,
    calendar_version: Option<u32>,
    policy_version: Option<u32>,
    school: String,
    codes: usize,
}

pub(super) async fn overview(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
) -> Result<Overview, PageError> {
    let (calendar_years, school, codes) = {
        let live = state.read()?;
        (
            live.cal
                .as_ref()
                .map(|c| c.years().iter().map(|y| y.name.clone()).collect())
                .unwrap_or_default(),
            live.policy.school.clone(),
            live.policy.codes.len(),
        )
    };
    let calendar_version = versions(&state, DocumentKind::Calendar)
        .await?
        .first()
        .map(|v| v.version);
    let policy_version = versions(&state, DocumentKind::Policy)
        .await?
        .first()
        .map(|v| v.version);
    Ok(Overview {
        layout: Layout::new(&user, section::SETTINGS, "Instellingen"),
        calendar_years,
        calendar_version,
        policy_version,
        school,
        codes,
    })
}
