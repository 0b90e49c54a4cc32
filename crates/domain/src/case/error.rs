//! Why a change to a case is refused.

use chrono::NaiveDate;

use super::{CaseStep, Guide};
use crate::access::Role;

/// Why a change to a case was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("het dossier is gesloten; heropen het eerst")]
    Closed,
    #[error("het dossier is niet gesloten")]
    NotClosed,
    #[error(
        "een dossier begint op stap 3a, 3b, 4a of 4b; stap {0} is een besluit tijdens het dossier"
    )]
    OpensAtDecisionStep(CaseStep),
    #[error("het dossier staat al op stap {0}")]
    SameStep(CaseStep),
    #[error("geef een reden op")]
    MissingReason,
    #[error("de datum {on} ligt vóór {earliest}, de laatste wijziging van het dossier")]
    Backdated { on: NaiveDate, earliest: NaiveDate },
    #[error("van stap {from} kan niet direct naar stap {to}: stap 5 volgt op stap 4")]
    Step5NeedsStep4 { from: CaseStep, to: CaseStep },
    #[error("leg eerst vast of leerling en ouders meewerken aan hulpverlening voordat het dossier naar stap {0} gaat")]
    CooperationNotRecorded(CaseStep),
    #[error("stap {to} past niet bij het laatste besluit: het gezin werkt {} mee", if *.cooperates { "wel" } else { "niet" })]
    CooperationMismatch { to: CaseStep, cooperates: bool },
    #[error("stap 6 volgt alleen op stap 5a of 5b, niet op stap {0}")]
    MaatwerkNeedsStep5(CaseStep),
    #[error(
        "leg eerst het besluit over maatwerk vast (OPDC-traject, vrijstelling of ander maatwerk)"
    )]
    MaatwerkNotDecided,
    #[error("deze actie bestaat niet bij stap {step}")]
    UnknownChecklistItem { step: CaseStep, key: String },
    #[error("deze vraag hoort niet bij gespreksleidraad {guide:?}")]
    UnknownQuestion { guide: Guide, key: String },
    #[error("antwoorden horen bij een gespreksleidraad; kies eerst A, B of C")]
    AnswersWithoutGuide,
    #[error("er is geen afspraak nummer {}", .0 + 1)]
    UnknownAgreement(usize),
    #[error("er is geen contactmoment nummer {}", .0 + 1)]
    UnknownContact(usize),
    #[error("er is geen interventie nummer {}", .0 + 1)]
    UnknownIntervention(usize),
    #[error("de datum {on} ligt vóór het begin op {start}")]
    BeforeStart { on: NaiveDate, start: NaiveDate },
    #[error("de interventie is al beëindigd")]
    InterventionEnded,
    #[error("omschrijf wat er is afgesproken")]
    EmptyAgreement,
    #[error("alleen partners van buiten de school (leerplicht, jeugdarts, ketenpartner) worden bij een dossier betrokken, niet de rol {0}")]
    NotAPartner(Role),
    #[error("{0} is al betrokken bij dit dossier")]
    AlreadyInvolved(String),
    #[error("{0} is niet betrokken bij dit dossier")]
    NotInvolved(String),
    #[error("deze rol mag dit niet vastleggen")]
    NotAllowed,
    #[error("de notitie is leeg")]
    EmptyNote,
    #[error("een dossier wordt geleid door iemand van school, niet door de rol {0}")]
    NotALead(Role),
    #[error("{0} is al dossierhouder")]
    SameLead(String),
    #[error("de jeugdarts kan pas meekijken als de ouders toestemming gaven voor de verwijzing; leg die verwijzing eerst vast")]
    NoConsent,
    #[error("een ketenpartner (zoals VO WIJ) kan pas meekijken als de ouders toestemming gaven; leg dat besluit eerst vast")]
    NoCareConsent,
}
