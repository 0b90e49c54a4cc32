//! What a new draft takes from elsewhere: the actions taken from the case
//! ([`actions_from_case`]), the reporter and the school.

use aanwezig_domain::case::actions_from_case;
use aanwezig_domain::{MeldingDraft, Reporter, SchoolLocation, StudentId};

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::state::AppState;
use aanwezig_domain::school_settings::SchoolSettings;

/// The actions from the student's latest case (none without a case).
pub(super) async fn case_actions(
    state: &AppState,
    student: &StudentId,
) -> Result<Vec<String>, PageError> {
    Ok(state
        .store
        .case(student)
        .await?
        .map(|c| actions_from_case(&c))
        .unwrap_or_default())
}

/// Fills what a new draft takes from elsewhere: the reporter (the
/// signed-in user), the school (settings) and the actions (the case).
pub(super) fn fill(
    draft: &mut MeldingDraft,
    user: &CurrentUser,
    school: &SchoolSettings,
    actions: Vec<String>,
) {
    draft.reporter = Reporter {
        name: user.user.display_name.clone(),
        function: user.role().label_nl().to_owned(),
        phone: school.phone.clone(),
        email: user.user.email.clone().unwrap_or_default(),
    };
    draft.school = SchoolLocation {
        brin: school.brin.clone(),
        vestiging: school.vestiging.clone(),
    };
    if draft.location_name.trim().is_empty() {
        draft.location_name = school.name.clone();
    }
    draft.actions_taken = actions;
}
