//! Contact moments and the conversation guides of bijlage 1 (A, B, C).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Actor, Case, CaseError, Party};

/// How a contact took place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Telefoon,
    GesprekOpSchool,
    Online,
}

impl ContactKind {
    /// Dutch label.
    pub fn label_nl(self) -> &'static str {
        match self {
            ContactKind::Telefoon => "telefoon",
            ContactKind::GesprekOpSchool => "gesprek op school",
            ContactKind::Online => "online",
        }
    }
}

/// A conversation guide of bijlage 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Guide {
    /// The call after one or two days of absence.
    A,
    /// A conversation with the student.
    B,
    /// A conversation with student and parents.
    C,
}

/// One question of a guide: a stable key, the question, and an optional
/// hint for the person asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct GuideQuestion {
    pub key: &'static str,
    pub text_nl: &'static str,
    pub hint_nl: Option<&'static str>,
}

pub(super) const fn q(
    key: &'static str,
    text_nl: &'static str,
    hint_nl: Option<&'static str>,
) -> GuideQuestion {
    GuideQuestion {
        key,
        text_nl,
        hint_nl,
    }
}

const GUIDE_A: [GuideQuestion; 4] = [
    q(
        "a_hoe_gaat_het",
        "Hoe gaat het met uw kind?",
        Some("U belt uit belangstelling, niet om te controleren. Houd het luchtig."),
    ),
    q(
        "a_hulp_school",
        "Kan de school iets doen, bijvoorbeeld huiswerk of lesstof doorgeven?",
        None,
    ),
    q(
        "a_terugkeer",
        "Wanneer denkt u dat uw kind weer naar school kan?",
        None,
    ),
    q(
        "a_opnieuw_contact",
        "Wanneer nemen we opnieuw contact op als uw kind dan nog niet op school is?",
        None,
    ),
];

const GUIDE_B: [GuideQuestion; 6] = [
    q("b_hoe_gaat_het", "Hoe gaat het met je?", None),
    q(
        "b_school",
        "Hoe vind je het op school: je klas, je klasgenoten, de docenten, de vakken, het huiswerk?",
        None,
    ),
    q(
        "b_thuis",
        "Hoe gaat het thuis, en wat doe je na schooltijd?",
        None,
    ),
    q(
        "b_afwezig",
        "Het viel ons op dat je een paar keer niet op school was. Hoe kwam dat?",
        None,
    ),
    q(
        "b_hulp",
        "Is er iets waarmee we je kunnen helpen?",
        None,
    ),
    q(
        "b_afspraken",
        "Welke afspraken maken we?",
        Some("Een nieuw contactmoment, bijvoorbeeld over drie weken, is ook een afspraak. De afspraken gaan per e-mail naar de leerling en de ouders."),
    ),
];

const GUIDE_C: [GuideQuestion; 5] = [
    q(
        "c_opening",
        "We maken ons zorgen: je bent vaak niet op school en we missen je.",
        Some("Vertel dat de leerling veel vaker afwezig is dan gemiddeld. Leg uit dat het gesprek helpt om geen lesstof en geen contact met de klas te missen."),
    ),
    q(
        "c_reden",
        "Waarom besluiten jullie tot een ziekmelding? Of: wat maakt het lastig om op tijd te komen?",
        Some("Vraag niet naar de aard van de ziekte en leg die niet vast. Luister naar de vragen en zorgen van leerling en ouders."),
    ),
    q(
        "c_gezin",
        "Wat kunnen jullie thuis doen zodat het vaker lukt om (op tijd) op school te zijn?",
        Some("Veel ouders weten zelf ook niet goed wat te doen: denk mee."),
    ),
    q(
        "c_school",
        "Wat kan school doen om te helpen?",
        Some("Denk aan aanpassingen op school en aan bijpraten over gemiste lesstof."),
    ),
    q(
        "c_afsluiting",
        "Zijn alle afspraken duidelijk?",
        Some("Leg de afspraken vast en stuur ze naar de betrokkenen. Plan altijd over zes weken een evaluatie, ook als het goed gaat."),
    ),
];

impl Guide {
    /// Every guide.
    pub const ALL: [Guide; 3] = [Guide::A, Guide::B, Guide::C];

    /// Dutch title.
    pub fn label_nl(self) -> &'static str {
        match self {
            Guide::A => "A: bellen na één of twee dagen afwezigheid",
            Guide::B => "B: gesprek met de leerling bij zorgen over aanwezigheid",
            Guide::C => "C: gesprek met leerling en ouders bij aanhoudende zorgen",
        }
    }

    /// The guide's questions, in order, in our own words.
    pub fn questions(self) -> &'static [GuideQuestion] {
        match self {
            Guide::A => &GUIDE_A,
            Guide::B => &GUIDE_B,
            Guide::C => &GUIDE_C,
        }
    }

    /// The question with `key`.
    pub fn question(self, key: &str) -> Option<&'static GuideQuestion> {
        self.questions().iter().find(|q| q.key == key)
    }
}

/// An answer to a guide's question, as free text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub key: String,
    pub text: String,
}

/// A contact moment with the student and/or parents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactMoment {
    pub on: NaiveDate,
    pub kind: ContactKind,
    /// How long it lasted, where known (a thuiswerkplan counts contacts of
    /// at least two hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u16>,
    pub participants: Vec<Party>,
    pub by: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guide: Option<Guide>,
    #[serde(default)]
    pub answers: Vec<Answer>,
    #[serde(default)]
    pub note: String,
}

impl Case {
    /// Records a contact moment; answers must belong to its guide. Returns
    /// its index.
    pub fn add_contact(&mut self, contact: ContactMoment) -> Result<usize, CaseError> {
        self.ensure_open()?;
        match contact.guide {
            None if !contact.answers.is_empty() => return Err(CaseError::AnswersWithoutGuide),
            Some(g) => {
                if let Some(a) = contact
                    .answers
                    .iter()
                    .find(|a| g.question(&a.key).is_none())
                {
                    return Err(CaseError::UnknownQuestion {
                        guide: g,
                        key: a.key.clone(),
                    });
                }
            }
            None => {}
        }
        self.contacts.push(contact);
        Ok(self.contacts.len() - 1)
    }
}
