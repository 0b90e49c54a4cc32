//! `/dossiers`: the list of cases.

use aanwezig_app::Permission;
use aanwezig_domain::explain::date_nl;
use aanwezig_storage::AuditAction;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::view::{name_of, partner_name, users_and_names};
use crate::auth::CurrentUser;
use crate::dossier;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    status: Option<String>,
}

struct ListRow {
    id: String,
    name: String,
    class: String,
    step: String,
    step_class: String,
    step_label: &'static str,
    opened_on: String,
    owner: String,
    partners: String,
    closed: String,
    next_task: String,
    next_due: String,
    overdue: bool,
    /// The open DUO work ("2 te doen, waarvan 1 te laat"), empty when none.
    duo: String,
    duo_due: String,
    duo_overdue: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "dossiers.html")]
pub(super) struct ListPage {
    layout: Layout,
    status: String,
    rows: Vec<ListRow>,
}

/// `GET /dossiers`.
pub(super) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<ListPage, PageError> {
    user.require_may(Permission::ReadCase)?;
    let status = match q.status.as_deref() {
        Some("gesloten") => "gesloten",
        Some("alle") => "alle",
        _ => "open",
    };
    let (cases, users_names, audit) = tokio::join!(
        state.store.cases(status == "open"),
        users_and_names(&state),
        user.audit(&state, AuditAction::Read, None, "dossierlijst"),
    );
    audit?;
    let (cases, (users, names)) = (cases?, users_names?);
    let today = state.clock.today();
    let external = user.role().is_external();
    let duo_records = if external {
        crate::duo_work::DuoRecords::default()
    } else {
        crate::duo_work::DuoRecords::load(&state).await?
    };
    let duo_by = duo_records.by_student();
    let live = state.read()?;
    let mut rows = Vec::new();
    for case in cases {
        if status == "gesloten" && case.is_open() {
            continue;
        }
        let Some(i) = live.school.position(&case.student) else {
            continue;
        };
        let student = &live.school.students()[i];
        // A partner sees only the open cases they are brought into (not
        // every student in their scope, e.g. one of a sent DUO melding),
        // and each as redacted for their role.
        if !user.may_for(Permission::ReadStudent, student)
            || !dossier::may_read_case(&user, student, Some(&case))
        {
            continue;
        }
        let case = dossier::seen_by(&user, &case);
        let next = live
            .cal
            .as_ref()
            .and_then(|c| case.tasks(c, today).into_iter().next());
        // The legal duty, as every page counts it (crate::duo_work).
        let duo = if !external && case.is_open() {
            crate::duo_work::work_of(&live, i, &duo_by, today)
        } else {
            aanwezig_domain::duo_work::StudentDuoWork::default()
        };
        rows.push(ListRow {
            duo: match (duo.count(), duo.overdue()) {
                (0, _) => String::new(),
                (n, 0) => format!("{n} te doen"),
                (n, o) => format!("{n} te doen, waarvan {o} te laat"),
            },
            duo_due: duo.earliest().map(date_nl).unwrap_or_default(),
            duo_overdue: duo.overdue() > 0,
            id: student.id.to_string(),
            name: student.name.clone(),
            class: student.class.clone(),
            step: case.step.to_string(),
            step_class: format!("step-{}", case.step),
            step_label: case.step.label_nl(),
            opened_on: date_nl(case.opened_on),
            owner: name_of(&names, case.owner()),
            partners: case
                .involved
                .iter()
                .filter(|p| p.is_active())
                .map(|p| format!("{} ({})", partner_name(&users, p), p.role.label_nl()))
                .collect::<Vec<_>>()
                .join(", "),
            closed: case
                .closed
                .as_ref()
                .map(|c| date_nl(c.on))
                .unwrap_or_default(),
            next_task: next
                .as_ref()
                .map(|t| t.label_nl.clone())
                .unwrap_or_default(),
            next_due: next.as_ref().map(|t| date_nl(t.due)).unwrap_or_default(),
            overdue: next.as_ref().is_some_and(|t| t.overdue),
        });
    }
    // Dossiers with an overdue DUO melding first.
    rows.sort_by(|a, b| {
        (!a.duo_overdue, &a.class, &a.name).cmp(&(!b.duo_overdue, &b.class, &b.name))
    });
    Ok(ListPage {
        layout: Layout::new(&user, section::DOSSIERS, "Dossiers"),
        status: status.to_owned(),
        rows,
    })
}
