//! What a new draft takes from elsewhere: the actions taken from the case, the reporter and the school.

use aanwezig_domain::case::{
    AgreementParty, ContactKind, DecisionKind, Guide, InterventionKind, Party,
};
use aanwezig_domain::{Case, MeldingDraft, Reporter, SchoolLocation, StudentId};
use chrono::NaiveDate;

use super::format::{join_nl, short_date};
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::pages::settings::school::SchoolSettings;
use crate::state::AppState;

/// Whether a decision describes the school's own actions and may go to
/// DUO and leerplicht: the preventief spreekuur, the ECT, whether the family
/// cooperates (5a/5b) and maatwerk by an OPDC trajectory or otherwise.
/// Never health or safety: not the jeugdarts (referral or consent), VO WIJ
/// (consent), the meldcode, the Indigo check or a vrijstelling.
fn decision_for_duo(kind: &DecisionKind) -> bool {
    match kind {
        DecisionKind::PreventiefSpreekuur
        | DecisionKind::Ect
        | DecisionKind::Cooperation { .. }
        | DecisionKind::Opdc { .. }
        | DecisionKind::OtherMaatwerk => true,
        DecisionKind::Jeugdarts { .. }
        | DecisionKind::VoWij { .. }
        | DecisionKind::Meldcode
        | DecisionKind::IndigoCheck { .. }
        | DecisionKind::Vrijstelling => false,
    }
}

/// Whether a conversation partner may be named to DUO: the student, the
/// parents and leerplicht (who receives the melding anyway). Care partners
/// (jeugdarts, VO WIJ, IOT, hulpverlening, a partner typed by hand) say
/// something about health or care and stay in school.
fn party_for_duo(p: &Party) -> bool {
    matches!(p, Party::Leerling | Party::Ouders | Party::Leerplicht)
}

/// What the school did, from the case, oldest first, one line each:
/// contact moments (date, how, with whom of student/parents/leerplicht,
/// guide; never answers or notes), the decisions of [`decision_for_duo`],
/// interventions (kind and description; never care by a partner) and
/// agreements (what was agreed; never those with a care partner). A melding
/// reaches DUO and leerplicht: nothing on health or safety.
pub fn actions_from_case(case: &Case) -> Vec<String> {
    let mut lines: Vec<(NaiveDate, String)> = Vec::new();
    for c in &case.contacts {
        let how = match c.kind {
            ContactKind::Telefoon => "telefoongesprek",
            ContactKind::GesprekOpSchool => "gesprek op school",
            ContactKind::Online => "online gesprek",
        };
        let who: Vec<String> = c
            .participants
            .iter()
            .filter(|p| party_for_duo(p))
            .map(|p| p.label_nl().to_owned())
            .collect();
        let mut line = how.to_owned();
        if !who.is_empty() {
            line.push_str(" met ");
            line.push_str(&join_nl(&who));
        }
        if let Some(g) = c.guide {
            let letter = match g {
                Guide::A => "A",
                Guide::B => "B",
                Guide::C => "C",
            };
            line.push_str(&format!(" (leidraad {letter})"));
        }
        lines.push((c.on, line));
    }
    for d in case.decisions.iter().filter(|d| decision_for_duo(&d.kind)) {
        lines.push((d.on, d.kind.label_nl()));
    }
    for i in case
        .interventions
        .iter()
        .filter(|i| i.kind != InterventionKind::Hulpverlening)
    {
        let mut line = format!("interventie gestart: {}", i.kind.label_nl());
        if !i.description.trim().is_empty() {
            line.push_str(&format!(" ({})", i.description.trim()));
        }
        if let Some(e) = i.ended_on {
            line.push_str(&format!(", beëindigd op {}", short_date(e)));
        }
        lines.push((i.started_on, line));
    }
    for a in case
        .agreements
        .iter()
        .filter(|a| !matches!(a.who, AgreementParty::Partner(_)))
    {
        let mut line = format!("afspraak met {}: {}", a.who.label_nl(), a.what.trim());
        if let Some(b) = a.by_when {
            line.push_str(&format!(" (uiterlijk {})", short_date(b)));
        }
        lines.push((a.made_on, line));
    }
    lines.sort_by_key(|(d, _)| *d);
    lines
        .into_iter()
        .map(|(d, l)| format!("{}: {l}", short_date(d)))
        .collect()
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_health_or_safety_decision_goes_to_duo() {
        for k in [
            DecisionKind::Jeugdarts { consent: true },
            DecisionKind::Jeugdarts { consent: false },
            DecisionKind::VoWij { consent: true },
            DecisionKind::Meldcode,
            DecisionKind::IndigoCheck { needed: false },
            DecisionKind::Vrijstelling,
        ] {
            assert!(!decision_for_duo(&k), "{k:?}");
        }
        assert!(decision_for_duo(&DecisionKind::PreventiefSpreekuur));
        assert!(!party_for_duo(&Party::Jeugdarts));
        assert!(!party_for_duo(&Party::Other("huisarts".into())));
        assert!(party_for_duo(&Party::Ouders));
    }
}
