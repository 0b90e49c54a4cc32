//! `GET /meldingen/{n}/afdruk` and `/meldingen/{n}/export.txt`: the form to print and as text, both audited as Export.

use aanwezig_storage::AuditAction;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::access::{readable, Nr};
use super::draft::{draft_page, number_shown, DraftPage};
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::layout::Layout;
use crate::pages::student::local_time_nl;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "melding_print.html")]
pub(super) struct PrintPage {
    layout: Layout,
    d: DraftPage,
    printed: String,
}

pub(super) async fn print(
    State(state): State<AppState>,
    user: CurrentUser,
    Nr(n): Nr,
) -> Result<PrintPage, PageError> {
    let (id, draft) = readable(&state, &user, &n).await?;
    user.audit(
        &state,
        AuditAction::Export,
        Some(&draft.student),
        format!("DUO-melding {id}: afdruk"),
    )
    .await?;
    let d = draft_page(&state, &user, id, &draft, Vec::new(), None, false, false).await?;
    Ok(PrintPage {
        layout: d.layout.clone(),
        d,
        printed: local_time_nl(state.clock.now()),
    })
}

/// A safe file name part: letters, digits, `-` and `_`.
fn file_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(super) async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    Nr(n): Nr,
) -> Result<Response, PageError> {
    let (id, draft) = readable(&state, &user, &n).await?;
    user.audit(
        &state,
        AuditAction::Export,
        Some(&draft.student),
        format!("DUO-melding {id}: tekstbestand"),
    )
    .await?;
    let disposition = format!(
        "attachment; filename=\"duo-melding-{id}-{}.txt\"",
        file_part(draft.student.as_str())
    );
    Ok((
        [
            (CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        {
            let live = state.read()?;
            draft.to_export_text(number_shown(&live, &user, &draft.student))
        },
    )
        .into_response())
}
