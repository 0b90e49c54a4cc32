//! Referrals and decisions: jeugdarts, leerplicht, VO WIJ, ECT, OPDC, vrijstelling, 5a/5b cooperation, maatwerk.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Actor, Case, CaseError, Party};
use crate::access::Role;

/// An OPDC trajectory (bijlage 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpdcTrajectory {
    Ttvo,
    Doorstart,
    Rebound8,
    Rebound13,
}

impl OpdcTrajectory {
    /// Dutch label.
    pub fn label_nl(self) -> &'static str {
        match self {
            OpdcTrajectory::Ttvo => "TTVO (traject thuiszitters VO)",
            OpdcTrajectory::Doorstart => "Doorstart",
            OpdcTrajectory::Rebound8 => "Rebound, 8 weken",
            OpdcTrajectory::Rebound13 => "Rebound, 13 weken",
        }
    }
}

/// What was referred or decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DecisionKind {
    /// Referral to the jeugdarts (MAZL); only with the parents' consent.
    Jeugdarts { consent: bool },
    /// Referral to the preventief spreekuur of leerplicht.
    PreventiefSpreekuur,
    /// VO WIJ brought in; consent of the parents yes or no.
    VoWij { consent: bool },
    /// The meldcode huiselijk geweld en kindermishandeling is followed.
    /// Visible only to the roles that handle it ([`may_see_meldcode`]).
    Meldcode,
    /// The ECT asked to think along about maatwerk.
    Ect,
    /// Whether a melding in Indigo's verzuimmodule is needed.
    IndigoCheck { needed: bool },
    /// After step 4: do student and parents cooperate with care? Yes leads
    /// to 5a, no to 5b.
    Cooperation { cooperates: bool },
    /// Maatwerk: an OPDC trajectory.
    Opdc { trajectory: OpdcTrajectory },
    /// Maatwerk: exemption via leerplicht, requested by the parents.
    Vrijstelling,
    /// Other maatwerk agreed in the AOJ; the note says what.
    OtherMaatwerk,
}

impl DecisionKind {
    /// Whether this decision is maatwerk (step 6).
    pub fn is_maatwerk(&self) -> bool {
        matches!(
            self,
            DecisionKind::Opdc { .. } | DecisionKind::Vrijstelling | DecisionKind::OtherMaatwerk
        )
    }

    /// Dutch label.
    pub fn label_nl(&self) -> String {
        let yes_no = |b: bool| if b { "ja" } else { "nee" };
        match self {
            DecisionKind::Jeugdarts { consent } => {
                format!(
                    "verwijzing jeugdarts (toestemming ouders: {})",
                    yes_no(*consent)
                )
            }
            DecisionKind::PreventiefSpreekuur => {
                "aanmelding preventief spreekuur leerplicht".into()
            }
            DecisionKind::VoWij { consent } => {
                format!("inzet VO WIJ (toestemming ouders: {})", yes_no(*consent))
            }
            DecisionKind::Meldcode => "meldcode huiselijk geweld en kindermishandeling".into(),
            DecisionKind::Ect => "ECT denkt mee over maatwerk".into(),
            DecisionKind::IndigoCheck { needed } => {
                format!("melding Indigo-verzuimmodule nodig: {}", yes_no(*needed))
            }
            DecisionKind::Cooperation { cooperates } => {
                format!("gezin werkt mee aan hulpverlening: {}", yes_no(*cooperates))
            }
            DecisionKind::Opdc { trajectory } => {
                format!("OPDC-traject: {}", trajectory.label_nl())
            }
            DecisionKind::Vrijstelling => "vrijstelling via leerplicht".into(),
            DecisionKind::OtherMaatwerk => "ander maatwerk".into(),
        }
    }
}

/// A recorded referral or decision, with its date, reason and parties.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub on: NaiveDate,
    pub by: Actor,
    pub kind: DecisionKind,
    #[serde(default)]
    pub parties: Vec<Party>,
    #[serde(default)]
    pub note: String,
}

/// Whether `role` handles the meldcode and may see that part of a case
/// (product.md: the ondersteuningscoördinator / IOT).
pub fn may_see_meldcode(role: Role) -> bool {
    role == Role::Ondersteuningscoordinator
}

impl Case {
    /// Records a referral or decision. When the parents withdraw their
    /// consent for the jeugdarts (a jeugdarts decision without consent), or
    /// for VO WIJ, every jeugdarts, or every ketenpartner, on the case is
    /// released on that day: their access rests on the consent.
    pub fn decide(&mut self, decision: Decision) -> Result<(), CaseError> {
        self.ensure_open()?;
        let released = match decision.kind {
            DecisionKind::Jeugdarts { consent: false } => Some(Role::Jeugdarts),
            DecisionKind::VoWij { consent: false } => Some(Role::Ketenpartner),
            _ => None,
        };
        if let Some(role) = released {
            for i in &mut self.involved {
                if i.role == role && i.is_active() {
                    i.until = Some(decision.on.max(i.since));
                }
            }
        }
        self.decisions.push(decision);
        Ok(())
    }
}
