//! `/api/signalen` and `/api/leerlingen/{id}/signalen`: signals with their
//! evidence and explanation, as of today.

use aanwezig_app::Permission;
use aanwezig_domain::RuleId;
use aanwezig_storage::AuditAction;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, PageError};
use crate::state::AppState;

use super::read::{given, require_reader, student_in_scope, StepFilter, Today};
use super::views::{ErrorBody, RuleName, SignalView};
use super::{bad_query, TAG_SIGNALS};

/// Which signals: fired this week, open today, or every one this year.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SignalScope {
    /// Fired in the current teaching week, up to today.
    Week,
    /// Open today (the default).
    #[default]
    Open,
    /// Every signal, open or closed.
    All,
}

/// Filters of the signal list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignalQuery {
    /// `week` (fired this teaching week), `open` (open today; the default)
    /// or `all`.
    scope: Option<SignalScope>,
    /// Only signals of this step: `2`, `3`, `3a`, `3b`, `4`, `4a` or `4b`.
    stap: Option<String>,
    /// Only signals of this rule.
    #[param(value_type = Option<RuleName>)]
    regel: Option<String>,
    /// Only students of this class (case does not matter).
    klas: Option<String>,
}

/// Signals of the students in the user's scope, newest first.
#[utoipa::path(
    get,
    path = "/signalen",
    operation_id = "list_signals",
    tag = TAG_SIGNALS,
    params(SignalQuery),
    security(("sessie" = [])),
    responses(
        (status = 200, description = "The signals, newest first", body = Vec<SignalView>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role reads no student data", body = ErrorBody),
        (status = 422, description = "A filter is not valid", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<SignalQuery>, QueryRejection>,
) -> Result<Json<Vec<SignalView>>, ApiError> {
    require_reader(&user)?;
    let Query(q) = query.map_err(bad_query)?;
    let scope = q.scope.unwrap_or_default();
    let stap = given(&q.stap).map(StepFilter::parse).transpose()?;
    let regel = given(&q.regel)
        .map(|r| {
            RuleId::parse(r).ok_or_else(|| {
                let all: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
                PageError::BadRequest(format!(
                    "Regel '{r}' bestaat niet; kies uit {}.",
                    all.join(", ")
                ))
            })
        })
        .transpose()?;
    let klas = given(&q.klas);
    let mut out = {
        let live = state.read()?;
        let mut out = Vec::new();
        if let Some(t) = Today::of(&live) {
            let week_start = *t.cal.week_days(t.through).start();
            for (i, s) in live.school.students().iter().enumerate() {
                if !user.may_for(Permission::ReadStudent, s)
                    || klas.is_some_and(|k| !k.eq_ignore_ascii_case(&s.class))
                {
                    continue;
                }
                for sig in &live.evaluations[i].signals {
                    let wanted = match scope {
                        SignalScope::Week => {
                            sig.fired_on >= week_start && sig.fired_on <= t.through
                        }
                        SignalScope::Open => sig.is_open_on(t.through),
                        SignalScope::All => true,
                    } && regel.is_none_or(|r| r == sig.rule)
                        && stap.is_none_or(|f| f.matches(sig.rule.step()));
                    if wanted {
                        out.push(t.report(i, sig));
                    }
                }
            }
        }
        out
    };
    out.sort_by(|a, b| {
        b.fired_on
            .cmp(&a.fired_on)
            .then_with(|| a.student.cmp(&b.student))
            .then_with(|| a.rule.cmp(&b.rule))
    });
    let detail = match scope {
        SignalScope::Week => "API: signalen van deze week",
        SignalScope::Open => "API: open signalen",
        SignalScope::All => "API: alle signalen",
    };
    user.audit(&state, AuditAction::Read, None, detail).await?;
    Ok(Json(out))
}

/// Every signal of one student, oldest first.
#[utoipa::path(
    get,
    path = "/leerlingen/{id}/signalen",
    operation_id = "student_signals",
    tag = TAG_SIGNALS,
    params(("id" = String, Path, description = "Student number")),
    security(("sessie" = [])),
    responses(
        (status = 200, description = "The student's signals", body = Vec<SignalView>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role reads no student data", body = ErrorBody),
        (status = 404, description = "No such student in scope", body = ErrorBody),
    )
)]
async fn of_student(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<SignalView>>, ApiError> {
    require_reader(&user)?;
    let (sid, out) = {
        let live = state.read()?;
        let i = student_in_scope(&live, &user, &id)?;
        let out = Today::of(&live).map(|t| t.signals(i)).unwrap_or_default();
        (live.school.students()[i].id.clone(), out)
    };
    user.audit(&state, AuditAction::Read, Some(&sid), "API: signalen")
        .await?;
    Ok(Json(out))
}

/// The signal routes.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(of_student))
}
