//! Reading DUO meldingen within the user's reach, and the extractors of
//! the meldingen's paths and forms. Who may do what is
//! [`aanwezig_app::permission`]; the pages take
//! [`ManageMeldingen`](crate::guard::ManageMeldingen) as their guard.

use aanwezig_app::permission::{self, Permission};
use aanwezig_domain::{MeldingDraft, MeldingStatus, Role, Student, StudentId};
use aanwezig_storage::MeldingFilter;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::Form;

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::state::AppState;

/// The melding number from the path, as typed. A path the router cannot
/// read (bad percent-encoding) answers like a melding that does not exist:
/// the Dutch 404 page, not axum's plain text.
pub struct Nr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Nr {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(n)| Nr(n))
            .map_err(|_| PageError::NotFound)
    }
}

/// A submitted form; one the app cannot read (wrong content type, bad
/// encoding) answers with the Dutch error page (422), not axum's plain text.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        Form::<T>::from_request(req, state)
            .await
            .map(|Form(v)| PageForm(v))
            .map_err(|_| {
                PageError::BadRequest(
                    "Het formulier kon niet worden gelezen. Probeer het opnieuw.".into(),
                )
            })
    }
}

/// The student with this number, from the live school or (a student who
/// left) the store.
async fn student_by_id(state: &AppState, id: &StudentId) -> Result<Option<Student>, PageError> {
    {
        let live = state.read()?;
        if let Some(i) = live.school.position(id) {
            return Ok(Some(live.school.students()[i].clone()));
        }
    }
    Ok(state.store.student(id).await?.map(|s| s.student))
}

/// Melding `n` if the user may read it: the coordinators every one, the
/// leerplichtambtenaar a sent melding of a student in scope. Anything else
/// answers like a melding that does not exist.
/// Whether a melding in this status is shown to those who only read
/// (leerplicht): not a concept, which was never sent, and not one that was
/// withdrawn.
pub(super) fn shown_to_readers(status: MeldingStatus) -> bool {
    !matches!(status, MeldingStatus::Concept | MeldingStatus::Ingetrokken)
}

/// The meldingen of `student` as the dossier and its verslag show them:
/// to the coordinators every one, to leerplicht those that were sent;
/// nothing to the other roles (the meldingen are the coordinators' and
/// leerplicht's menu).
pub(crate) async fn of_student_for(
    state: &AppState,
    role: Role,
    student: &StudentId,
) -> Result<Vec<(i64, MeldingDraft)>, PageError> {
    if !permission::may(role, Permission::ReadMeldingen) {
        return Ok(Vec::new());
    }
    Ok(state
        .store
        .meldingen(&MeldingFilter {
            student: Some(student.clone()),
            ..MeldingFilter::default()
        })
        .await?
        .into_iter()
        // A partner sees what the school sent, never a concept.
        .filter(|(_, m)| {
            permission::may(role, Permission::ManageMeldingen) || shown_to_readers(m.status)
        })
        .collect())
}

/// [`readable`] with the draft's version, read with it.
pub(super) async fn readable_versioned(
    state: &AppState,
    user: &CurrentUser,
    n: &str,
) -> Result<(i64, MeldingDraft, u32), PageError> {
    // The checks of scope and status on the draft as read here.
    let (id, _) = readable(state, user, n).await?;
    let (draft, version) = state
        .store
        .melding_with_version(id)
        .await?
        .ok_or(PageError::NotFound)?;
    if !user.may(Permission::ManageMeldingen) && !shown_to_readers(draft.status) {
        return Err(PageError::NotFound);
    }
    Ok((id, draft, version))
}

pub(super) async fn readable(
    state: &AppState,
    user: &CurrentUser,
    n: &str,
) -> Result<(i64, MeldingDraft), PageError> {
    user.require_may(Permission::ReadMeldingen)?;
    let id: i64 = n.parse().map_err(|_| PageError::NotFound)?;
    let draft = state.store.melding(id).await?.ok_or(PageError::NotFound)?;
    if !user.may(Permission::ManageMeldingen) && !shown_to_readers(draft.status) {
        return Err(PageError::NotFound);
    }
    let student = student_by_id(state, &draft.student)
        .await?
        .ok_or(PageError::NotFound)?;
    user.require_for(Permission::ReadMeldingen, &student)?;
    Ok((id, draft))
}
