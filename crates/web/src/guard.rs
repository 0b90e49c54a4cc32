//! Typed guards: one extractor per [`Permission`], answering 403 before
//! the handler runs (and before its form or upload is read) when the
//! signed-in user's role does not hold it at all. Whether the user holds it
//! for the student of the request is the handler's
//! [`CurrentUser::require_for`] (404, so that a student out of reach looks
//! like no student).
//!
//! ```ignore
//! async fn list(ManageUsers(user): ManageUsers, …) -> …
//! ```

use aanwezig_app::{AppError, Permission};
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::auth::CurrentUser;
use crate::error::{ApiError, PageError};
use crate::state::AppState;

/// The signed-in user, if their role holds `permission`; else the 403 a
/// page or the API gives.
async fn allowed(
    parts: &mut Parts,
    state: &AppState,
    permission: Permission,
) -> Result<CurrentUser, Response> {
    let user = CurrentUser::from_request_parts(parts, state).await?;
    if user.may(permission) {
        return Ok(user);
    }
    let api = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(parts.uri.path(), |u| u.0.path())
        .starts_with("/api/");
    Err(if api {
        ApiError::from(PageError::Forbidden).into_response()
    } else {
        PageError::Forbidden.into_response()
    })
}

macro_rules! guards {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("The signed-in user, whose role holds [`Permission::", stringify!($name), "`].")]
            #[derive(Clone, Debug)]
            pub struct $name(pub CurrentUser);

            impl FromRequestParts<AppState> for $name {
                type Rejection = Response;

                async fn from_request_parts(
                    parts: &mut Parts,
                    state: &AppState,
                ) -> Result<Self, Self::Rejection> {
                    allowed(parts, state, Permission::$name).await.map($name)
                }
            }
        )*

        #[cfg(test)]
        const GUARDED: &[Permission] = &[$(Permission::$name),*];
    };
}

guards!(
    ReadStudent,
    ListStudents,
    Register,
    RecordCall,
    ReadCase,
    ChangeCase,
    ManagePartners,
    ReadMeldingen,
    ManageMeldingen,
    ExportStudent,
    Import,
    EditImportSettings,
    ManageSettings,
    ManageUsers,
    ReadAuditLog,
);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Forbidden => PageError::Forbidden,
            AppError::NotFound => PageError::NotFound,
            AppError::Invalid(m) => PageError::BadRequest(m),
            AppError::Conflict(m) => PageError::Conflict(m),
            AppError::Store(e) => PageError::from(e),
            AppError::Internal { detail, .. } => PageError::Internal(detail),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError::Page(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guard_is_a_permission_some_role_holds() {
        for p in GUARDED {
            assert!(
                aanwezig_domain::Role::ALL
                    .into_iter()
                    .any(|r| aanwezig_app::permission::may(r, *p)),
                "{p:?}"
            );
        }
    }
}
