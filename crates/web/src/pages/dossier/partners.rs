//! External partners brought into a case, the dossierhouder, and the jeugdarts's confidential notes.

use std::collections::HashSet;

use aanwezig_app::permission::{self, Permission, StudentFacts};
use aanwezig_domain::{Role, Student};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;

use super::forms::{apply_as, case_err, to_dossier, Failure, Posted};
use super::view::{render, user_names};
use crate::auth::CurrentUser;
use crate::dossier;
use crate::error::PageError;
use crate::state::AppState;

/// `POST …/partners`: brings an external partner in, by their account.
pub(super) async fn involve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted(fields);
    // Read before the change, like the other forms' user lists; the
    // account id read here is what the case records.
    let partner = state.store.user(posted.get("gebruiker")).await?;
    apply_as(
        &state,
        &user,
        &id,
        "partners",
        posted,
        Permission::ManagePartners,
        |case, by, today, _| {
            let partner = partner.as_ref().ok_or("kies een partner uit de lijst")?;
            let name = &partner.display_name;
            if !partner.active {
                return Err(format!(
                    "{name} kan niet meer inloggen; kies een actieve gebruiker"
                ));
            }
            case.involve(&partner.identity(), partner.role, today, by)
                .map_err(case_err)?;
            Ok(format!(
                "dossier: {name} ({}) betrokken",
                partner.role.label_nl()
            ))
        },
    )
    .await
}

/// Whether a user (`role`, mentoring `classes`) may lead `student`'s case:
/// a school role that changes it (the two coordinators, or a mentor of the
/// student's class). Partners never lead, so their relations do not count.
fn may_lead(role: Role, classes: &[String], student: &Student) -> bool {
    let facts = StudentFacts::of(classes, student, false, false);
    permission::may_for(role, Permission::ChangeCase, facts)
}

/// The active users who may lead `student`'s case ([`may_lead`]).
pub(super) async fn leaders(
    state: &AppState,
    student: &Student,
) -> Result<HashSet<String>, PageError> {
    // Every account, kept while nothing changes (super::cache).
    Ok(crate::pages::cache::users(state)
        .await?
        .iter()
        .filter(|u| u.active && may_lead(u.role, &u.classes, student))
        .map(|u| u.username.clone())
        .collect())
}

/// `POST …/dossierhouder`: hands the case over (coordinators).
pub(super) async fn hand_over(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let student = dossier::student_in_scope(&state, &user, &id)?;
    let (names, leaders) = tokio::try_join!(user_names(&state), leaders(&state, &student))?;
    apply_as(
        &state,
        &user,
        &id,
        "dossier",
        Posted(fields),
        Permission::ManagePartners,
        |case, by, today, p| {
            let who = p.get("gebruiker");
            let (name, role, active) = names
                .get(who)
                .cloned()
                .ok_or("kies een dossierhouder uit de lijst")?;
            if !active {
                return Err(format!(
                    "{name} kan niet meer inloggen; kies een actieve gebruiker"
                ));
            }
            // A partner gets the domain's refusal below.
            if permission::may(role, Permission::ChangeCase) && !leaders.contains(who) {
                return Err(format!(
                    "{name} kan dit dossier niet leiden: alleen een coördinator of een mentor van klas {} kan dossierhouder zijn",
                    student.class
                ));
            }
            case.hand_over(who, role, today, by).map_err(case_err)?;
            Ok(format!("dossier: dossierhouder nu {name}"))
        },
    )
    .await
}

/// `POST …/partners/verwijderen`: ends a partner's involvement (fields
/// `gebruiker` and, for an involvement with an account id, `account`).
pub(super) async fn release(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    apply_as(
        &state,
        &user,
        &id,
        "partners",
        Posted(fields),
        Permission::ManagePartners,
        |case, _by, today, p| {
            let who = p.get("gebruiker");
            // The form names the involvement's account when it has one;
            // without, every current involvement under the username ends.
            let account = Some(p.get("account")).filter(|a| !a.is_empty());
            case.release(who, account, today).map_err(case_err)?;
            Ok(format!("dossier: {who} niet meer betrokken"))
        },
    )
    .await
}

/// `POST …/notitie`: the jeugdarts's confidential note
/// ([`dossier::add_confidential_note`]; not through `update`, which is for
/// the school's roles).
pub(super) async fn note(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted(fields);
    match dossier::add_confidential_note(&state, &user, &id, posted.get("tekst")).await? {
        Ok(()) => {
            let student = dossier::student_in_scope(&state, &user, &id)?;
            Ok(to_dossier(&student.id, "notities"))
        }
        Err(e) => {
            render(
                &state,
                &user,
                &id,
                Some(Failure {
                    form: "notitie".into(),
                    message: case_err(e),
                    posted,
                }),
            )
            .await
        }
    }
}
