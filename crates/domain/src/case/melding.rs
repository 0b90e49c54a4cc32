//! What of a case goes into a DUO melding: a fixed list of what the school
//! did, never anything on health or safety (a melding reaches DUO and
//! leerplicht).

use chrono::{Locale, NaiveDate};

use super::{AgreementParty, Case, ContactKind, DecisionKind, Guide, InterventionKind, Party};
use crate::explain::list_nl;

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
            line.push_str(&list_nl(&who));
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
            line.push_str(&format!(", beëindigd op {}", date_with_year_nl(e)));
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
            line.push_str(&format!(" (uiterlijk {})", date_with_year_nl(b)));
        }
        lines.push((a.made_on, line));
    }
    lines.sort_by_key(|(d, _)| *d);
    lines
        .into_iter()
        .map(|(d, l)| format!("{}: {l}", date_with_year_nl(d)))
        .collect()
}

/// A date as the melding's lines write it: `3 okt 2025`.
fn date_with_year_nl(d: NaiveDate) -> String {
    d.format_localized("%-d %b %Y", Locale::nl_NL).to_string()
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
