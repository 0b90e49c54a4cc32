//! The case dossier (rules.md §5): one student followed through steps 3–6
//! of the stappenplan, as a pure state machine.
//!
//! A [`Case`] is a plain value meant to be stored as one JSON document and
//! rendered as a page: its step and the history of every step change (who,
//! when, why), a checklist per step with the seed's parties and actions,
//! contact moments with the conversation guides of bijlage 1 (A, B, C) as
//! forms, agreements with their weekly checks, referrals and decisions
//! (jeugdarts, leerplicht, VO WIJ, ECT, OPDC, vrijstelling, 5a/5b
//! cooperation, maatwerk), interventions with their evaluations, and its
//! closing. [`Case::tasks`] derives what the plan says is due on a given day
//! from the school [`Calendar`].
//!
//! Like the rest of the crate it does no I/O and reads no clock: every
//! change carries its date, and "today" is a parameter.
//!
//! **The nature of an illness is never recorded** ("vraag niet naar de aard
//! van de ziekte"): no type in this module has a field for a diagnosis,
//! symptom or medical detail, and none may be added. Free-text notes are for
//! what was agreed and done; the guide's hint says so where it matters.

use std::fmt;

use chrono::{Datelike, Days, IsoWeek, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::access::Role;
use crate::calendar::Calendar;
use crate::signal::{RuleId, Track};
use crate::student::StudentId;

/// Days between weekly agreement checks ("school checkt 1 x per week").
pub const CHECK_INTERVAL_DAYS: u64 = 7;
/// At most this many days between an intervention's start (or its last
/// evaluation) and its evaluation ("evaluatie na maximaal 6 weken").
pub const EVALUATION_DAYS: u64 = 42;
/// A thuiswerkplan asks at least this many contacts a week ...
pub const THUISWERK_CONTACTS_PER_WEEK: usize = 2;
/// ... each of at least this many minutes ("minimaal 2x 2 uur contact").
pub const THUISWERK_MINUTES: u16 = 120;

// ---------------------------------------------------------------------------
// Steps

/// A step of the case: the plan's steps 3a to 6. Steps 1 and 2 are the
/// school's registering and calling, before any case exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CaseStep {
    #[serde(rename = "3a")]
    S3a,
    #[serde(rename = "3b")]
    S3b,
    #[serde(rename = "4a")]
    S4a,
    #[serde(rename = "4b")]
    S4b,
    #[serde(rename = "5a")]
    S5a,
    #[serde(rename = "5b")]
    S5b,
    #[serde(rename = "6")]
    S6,
}

impl CaseStep {
    /// Every step, in the plan's order.
    pub const ALL: [CaseStep; 7] = [
        CaseStep::S3a,
        CaseStep::S3b,
        CaseStep::S4a,
        CaseStep::S4b,
        CaseStep::S5a,
        CaseStep::S5b,
        CaseStep::S6,
    ];

    /// The plan's name: `3a` … `6`.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStep::S3a => "3a",
            CaseStep::S3b => "3b",
            CaseStep::S4a => "4a",
            CaseStep::S4b => "4b",
            CaseStep::S5a => "5a",
            CaseStep::S5b => "5b",
            CaseStep::S6 => "6",
        }
    }

    /// Parses [`CaseStep::as_str`].
    pub fn parse(s: &str) -> Option<CaseStep> {
        let s = s.trim().to_ascii_lowercase();
        CaseStep::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// 3, 4, 5 or 6.
    pub fn level(self) -> u8 {
        match self {
            CaseStep::S3a | CaseStep::S3b => 3,
            CaseStep::S4a | CaseStep::S4b => 4,
            CaseStep::S5a | CaseStep::S5b => 5,
            CaseStep::S6 => 6,
        }
    }

    /// The a- or b-track of steps 3 and 4. At step 5 the letter means the
    /// family's cooperation (a: yes, b: no), not the kind of absence, and
    /// step 6 has none; both give `None`.
    pub fn track(self) -> Option<Track> {
        match self {
            CaseStep::S3a | CaseStep::S4a => Some(Track::A),
            CaseStep::S3b | CaseStep::S4b => Some(Track::B),
            CaseStep::S5a | CaseStep::S5b | CaseStep::S6 => None,
        }
    }

    /// The step a signal of `rule` puts a case on; `None` for the call
    /// signal (step 2), where the school chooses 3a or 3b.
    pub fn for_rule(rule: RuleId) -> Option<CaseStep> {
        let s = rule.step();
        match (s.level, s.a, s.b) {
            (3, true, _) => Some(CaseStep::S3a),
            (3, _, true) => Some(CaseStep::S3b),
            (4, true, _) => Some(CaseStep::S4a),
            (4, _, true) => Some(CaseStep::S4b),
            _ => None,
        }
    }

    /// A short Dutch title of the step. Steps 3 and 4 carry the names of
    /// [`crate::Step::label_nl`], so a step reads the same on every page.
    pub fn label_nl(self) -> &'static str {
        match self {
            CaseStep::S3a | CaseStep::S3b | CaseStep::S4a | CaseStep::S4b => {
                crate::signal::Step::new(self.level(), self.track()).label_nl()
            }
            CaseStep::S5a => "Verzuim houdt aan, gezin werkt mee",
            CaseStep::S5b => "Verzuim houdt aan, gezin werkt niet mee",
            CaseStep::S6 => "Maatwerk",
        }
    }

    /// Who leads the step, in Dutch, after the seed's table.
    pub fn parties_nl(self) -> &'static str {
        match self {
            CaseStep::S3a | CaseStep::S3b => "school",
            CaseStep::S4a => "school, samen met de jeugdarts, leerplicht of allebei",
            CaseStep::S4b => "school, nauw samen met leerplicht en zo nodig de jeugdarts",
            CaseStep::S5a => "AOJ; de school controleert de afspraken",
            CaseStep::S5b | CaseStep::S6 => "AOJ",
        }
    }

    /// Whether the plan asks for a weekly agreement check at this step
    /// (rules.md §5: from step 4 on).
    pub fn has_weekly_check(self) -> bool {
        self.level() >= 4
    }
}

impl fmt::Display for CaseStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------
// People

/// Who did something: the signed-in user and the role they acted in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// The user's login or id, as the storage layer knows it.
    pub user: String,
    pub role: Role,
}

impl Actor {
    pub fn new(user: impl Into<String>, role: Role) -> Actor {
        Actor {
            user: user.into(),
            role,
        }
    }
}

/// A party of the plan: who takes part in a conversation or carries out an
/// action.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Leerling,
    /// Parent(s) or carer(s).
    Ouders,
    /// The school (mentor, verzuimcoördinator, ...).
    School,
    /// The school's internal support team.
    Iot,
    Jeugdarts,
    Leerplicht,
    VoWij,
    Ect,
    /// Aansluiting Onderwijs Jeugdhulp, the regional network.
    Aoj,
    /// Care already involved with the family.
    Hulpverlening,
    Other(String),
}

impl Party {
    /// The plan's parties a form offers (every one but [`Party::Other`]),
    /// with the key a form posts.
    pub const CHOICES: [(&'static str, Party); 10] = [
        ("leerling", Party::Leerling),
        ("ouders", Party::Ouders),
        ("school", Party::School),
        ("iot", Party::Iot),
        ("jeugdarts", Party::Jeugdarts),
        ("leerplicht", Party::Leerplicht),
        ("vo_wij", Party::VoWij),
        ("ect", Party::Ect),
        ("aoj", Party::Aoj),
        ("hulpverlening", Party::Hulpverlening),
    ];

    /// Dutch name.
    pub fn label_nl(&self) -> &str {
        match self {
            Party::Leerling => "leerling",
            Party::Ouders => "ouders",
            Party::School => "school",
            Party::Iot => "intern ondersteuningsteam",
            Party::Jeugdarts => "jeugdarts",
            Party::Leerplicht => "leerplicht",
            Party::VoWij => "VO WIJ-medewerker",
            Party::Ect => "ECT",
            Party::Aoj => "AOJ",
            Party::Hulpverlening => "hulpverlening",
            Party::Other(s) => s,
        }
    }
}

// ---------------------------------------------------------------------------
// Checklists

/// The state of a checklist item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ItemStatus {
    Open,
    Done {
        on: NaiveDate,
        by: Actor,
        #[serde(default)]
        note: String,
    },
    NotApplicable {
        on: NaiveDate,
        by: Actor,
        #[serde(default)]
        note: String,
    },
}

impl ItemStatus {
    /// Whether the item still needs doing.
    pub fn is_open(&self) -> bool {
        matches!(self, ItemStatus::Open)
    }

    /// Dutch label.
    pub fn label_nl(&self) -> &'static str {
        match self {
            ItemStatus::Open => "open",
            ItemStatus::Done { .. } => "gedaan",
            ItemStatus::NotApplicable { .. } => "niet van toepassing",
        }
    }
}

/// One action of a step, from the seed's table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub step: CaseStep,
    /// Stable key, unique within the step.
    pub key: String,
    pub label_nl: String,
    pub party: Party,
    pub status: ItemStatus,
}

/// Keys of checklist items other code refers to.
pub mod keys {
    /// The 3a/3b conversation with student and parents.
    pub const GESPREK: &str = "gesprek_leerling_ouders";
    pub const WEKELIJKSE_CHECK: &str = "wekelijkse_check";
    pub const EVALUATIE: &str = "evaluatie";
    pub const INDIGO: &str = "indigo_check";
    pub const DUO_MELDING: &str = "duo_melding";
}

/// The seed's actions of `step` as (key, Dutch label, party), in the
/// table's order. The labels are ours, faithful to the seed.
fn standard_items(step: CaseStep) -> Vec<(&'static str, &'static str, Party)> {
    use Party::{Aoj, Leerplicht, School};
    let afspraken = (
        "afspraken_vastleggen",
        "Afspraken na elk contact vastleggen in het leerlingvolgsysteem en naar de betrokkenen sturen",
        School,
    );
    let indigo = (
        keys::INDIGO,
        "Nagaan of er ook een melding in de verzuimmodule van Indigo nodig is",
        School,
    );
    let check = (
        keys::WEKELIJKSE_CHECK,
        "Elke week nagaan of de afspraken zijn nagekomen",
        School,
    );
    let evaluatie = (
        keys::EVALUATIE,
        "De interventie uiterlijk zes weken na de start evalueren",
        School,
    );
    let thuiswerk = (
        "thuiswerkplan_overwegen",
        "Een thuiswerkplan overwegen (minstens twee keer per week twee uur contact met school) en contact houden met de leerling",
        School,
    );
    let ect = (
        "ect_maatwerk",
        "Opschalen binnen het samenwerkingsverband: het ECT laten meedenken over maatwerk",
        Aoj,
    );
    match step {
        CaseStep::S3a => vec![
            (
                keys::GESPREK,
                "Gesprek voeren met leerling en ouders en samen afspraken maken",
                School,
            ),
            afspraken,
            (
                "afweging_ketenpartners",
                "Intern afwegen of ketenpartners geraadpleegd moeten worden, bij ziekteverzuim bijvoorbeeld de jeugdarts",
                School,
            ),
        ],
        CaseStep::S3b => vec![
            (
                keys::GESPREK,
                "Gesprek voeren met leerling en ouders en samen afspraken maken",
                School,
            ),
            afspraken,
            (
                "afweging_preventief_spreekuur",
                "Intern afwegen of aanmelding voor het preventief spreekuur van leerplicht wenselijk is",
                School,
            ),
        ],
        CaseStep::S4a => vec![
            (
                "overleg_ketenpartners",
                "Met ketenpartners overleggen: de jeugdarts inzetten, een preventief gesprek bij leerplicht, of allebei",
                School,
            ),
            (
                "hulpverlening_nagaan",
                "Nagaan of er hulpverlening betrokken is; zo niet, inzet van de VO WIJ-medewerker overwegen",
                School,
            ),
            (
                "vervolggesprek",
                "Na die afweging een gesprek voeren met leerling en ouders en vervolgafspraken maken",
                School,
            ),
            indigo,
            check,
            evaluatie,
        ],
        CaseStep::S4b => vec![
            (
                "gesprek_duo",
                "Gesprek voeren met leerling en ouders en afspraken maken, onder meer over de DUO-melding",
                School,
            ),
            (
                "hulpverlening_betrekken",
                "Hulpverlening die er al is erbij betrekken (dat kan ook VO WIJ zijn)",
                School,
            ),
            (
                keys::DUO_MELDING,
                "De DUO-melding doen (via het Verzuimloket; komt bij leerplicht)",
                School,
            ),
            (
                "leerplicht_afspraken",
                "Leerplicht maakt met leerling en ouders afspraken om het verzuim terug te dringen",
                Leerplicht,
            ),
            (
                "jeugdarts_overwegen",
                "Overwegen of de jeugdarts ingeschakeld wordt",
                School,
            ),
            indigo,
            check,
            evaluatie,
        ],
        CaseStep::S5a => vec![
            (
                "ondersteuningsaanbod",
                "Vaststellen wat de leerling nodig heeft en samen met de hulpverlening een samenhangend ondersteuningsaanbod organiseren",
                Aoj,
            ),
            (
                "vo_wij_vervolg",
                "Is er nog steeds geen hulpverlening actief, dan de VO WIJ-medewerker een vervolgtraject laten uitzetten",
                Aoj,
            ),
            thuiswerk,
            (
                "afstemming_leerplicht",
                "Afstemmen met leerplicht",
                Aoj,
            ),
            ect,
            check,
            evaluatie,
        ],
        CaseStep::S5b => vec![
            (
                "ondersteuningsaanbod",
                "Vaststellen wat de leerling nodig heeft en een samenhangend ondersteuningsaanbod organiseren",
                Aoj,
            ),
            thuiswerk,
            (
                "vo_wij_inzetten",
                "De VO WIJ-medewerker een hulpverleningstraject laten uitzetten; geven ouders daarvoor geen toestemming, dan de meldcode huiselijk geweld en kindermishandeling volgen",
                Aoj,
            ),
            (
                "duo_afstemmen",
                "Met leerplicht afstemmen over een DUO-melding",
                Leerplicht,
            ),
            ect,
            (
                "contact_houden",
                "Contact houden met ouders en leerling; de leerling blijft welkom op school",
                School,
            ),
        ],
        CaseStep::S6 => vec![
            (
                "maatwerktraject",
                "Een maatwerktraject inzetten, bijvoorbeeld via het OPDC (TTVO, Doorstart of Rebound)",
                Aoj,
            ),
            (
                "vrijstelling",
                "Vrijstelling via leerplicht bespreken (ouders vragen die zelf aan)",
                Aoj,
            ),
        ],
    }
}

/// The standard checklist of a step: every action of the seed's table for
/// that step, all open.
pub fn standard_checklist(step: CaseStep) -> Vec<ChecklistItem> {
    standard_items(step)
        .into_iter()
        .map(|(key, label, party)| ChecklistItem {
            step,
            key: key.to_owned(),
            label_nl: label.to_owned(),
            party,
            status: ItemStatus::Open,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Opening, history, closing

/// A signal of the engine, by rule and the date it fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SignalRef {
    pub rule: RuleId,
    pub on: NaiveDate,
}

/// Why a case was opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpenReason {
    /// A signal of the engine fired on `on`.
    Signal { rule: RuleId, on: NaiveDate },
    /// By hand: the seed allows a conversation whenever there are worries,
    /// even when no guideline is met.
    Zorgen { note: String },
}

impl OpenReason {
    /// Dutch description.
    pub fn label_nl(&self) -> String {
        match self {
            OpenReason::Signal { rule, on } => format!(
                "signaal '{}' op {}",
                rule.title_nl(),
                crate::explain::date_nl(*on)
            ),
            OpenReason::Zorgen { .. } => "zorgen over de aanwezigheid".to_owned(),
        }
    }
}

/// One step change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepChange {
    pub from: CaseStep,
    pub to: CaseStep,
    pub at_date: NaiveDate,
    pub by: Actor,
    pub why: String,
}

/// Why a case was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosureReason {
    /// Attendance is back to normal.
    AanwezigheidHersteld,
    /// The student left the school.
    Uitgeschreven,
    /// Exempted from compulsory education.
    Vrijstelling,
    /// Followed up elsewhere (for example a maatwerktraject at the OPDC).
    Overgedragen,
    Anders,
}

impl ClosureReason {
    /// Dutch label.
    pub fn label_nl(self) -> &'static str {
        match self {
            ClosureReason::AanwezigheidHersteld => "aanwezigheid hersteld",
            ClosureReason::Uitgeschreven => "leerling uitgeschreven",
            ClosureReason::Vrijstelling => "vrijstelling",
            ClosureReason::Overgedragen => "overgedragen aan een andere partij",
            ClosureReason::Anders => "andere reden",
        }
    }
}

/// The closing of a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub on: NaiveDate,
    pub by: Actor,
    pub reason: ClosureReason,
    #[serde(default)]
    pub note: String,
}

/// A closed case opened again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reopening {
    /// The closing that was undone.
    pub closure: Closure,
    pub on: NaiveDate,
    pub by: Actor,
    pub why: String,
}

// ---------------------------------------------------------------------------
// Contact moments and the guides of bijlage 1

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

const fn q(
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

// ---------------------------------------------------------------------------
// Agreements

/// Who an agreement binds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementParty {
    Student,
    Parents,
    School,
    Partner(String),
}

impl AgreementParty {
    /// Dutch label.
    pub fn label_nl(&self) -> &str {
        match self {
            AgreementParty::Student => "leerling",
            AgreementParty::Parents => "ouders",
            AgreementParty::School => "school",
            AgreementParty::Partner(p) => p,
        }
    }
}

/// One weekly check of an agreement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyCheck {
    pub on: NaiveDate,
    pub kept: bool,
    #[serde(default)]
    pub note: String,
}

/// An agreement (afspraak), shared with student, parents and partners.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub who: AgreementParty,
    pub what: String,
    pub made_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_when: Option<NaiveDate>,
    /// Index into [`Case::contacts`] of the contact where it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<usize>,
    #[serde(default)]
    pub kept: Vec<WeeklyCheck>,
}

// ---------------------------------------------------------------------------
// Referrals and decisions

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

// ---------------------------------------------------------------------------
// Interventions

/// The kind of an intervention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterventionKind {
    /// Working on the agreements made with student and parents.
    Afspraken,
    /// Learning at home with at least two contacts of two hours a week.
    Thuiswerkplan,
    /// Care or support by a partner.
    Hulpverlening,
    Anders,
}

impl InterventionKind {
    /// Dutch label.
    pub fn label_nl(self) -> &'static str {
        match self {
            InterventionKind::Afspraken => "afspraken",
            InterventionKind::Thuiswerkplan => "thuiswerkplan",
            InterventionKind::Hulpverlening => "hulpverlening",
            InterventionKind::Anders => "andere interventie",
        }
    }
}

/// Attendance over a period, as an evaluation records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceFigure {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Present share of the scheduled time in tenths of a percent;
    /// `None` when no lessons were registered in the period.
    pub permille: Option<u16>,
}

/// An evaluation of an intervention, with the attendance before and since
/// the intervention as it was when the evaluation was held (later
/// corrections of registrations do not change what was discussed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub on: NaiveDate,
    pub by: Actor,
    #[serde(default)]
    pub note: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<AttendanceFigure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<AttendanceFigure>,
}

/// An intervention: started on a date, evaluated at most every six weeks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intervention {
    pub kind: InterventionKind,
    pub description: String,
    pub started_on: NaiveDate,
    pub started_by: Actor,
    /// The case's step when it started.
    pub step: CaseStep,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_on: Option<NaiveDate>,
    #[serde(default)]
    pub evaluations: Vec<Evaluation>,
}

impl Intervention {
    /// Whether it runs on `date`.
    pub fn runs_on(&self, date: NaiveDate) -> bool {
        self.started_on <= date && self.ended_on.is_none_or(|e| date <= e)
    }

    /// The next evaluation's due date: at most six weeks after the start or
    /// the latest evaluation, moved back to a school day (never before the
    /// anchor; when six weeks hold no school day after it, the first school
    /// day after).
    pub fn evaluation_due(&self, cal: &Calendar) -> NaiveDate {
        let anchor = self
            .evaluations
            .iter()
            .map(|e| e.on)
            .max()
            .map_or(self.started_on, |e| e.max(self.started_on));
        due_within(cal, anchor, EVALUATION_DAYS)
    }

    /// The periods to compare at an evaluation on `on`: the same number of
    /// days before the start as from the start to `on` (both ranges
    /// inclusive). The web layer fills them with attendance rates.
    pub fn comparison_periods(
        &self,
        on: NaiveDate,
    ) -> ((NaiveDate, NaiveDate), (NaiveDate, NaiveDate)) {
        let len = u64::try_from((on - self.started_on).num_days()).unwrap_or(0);
        let before_end = self.started_on - Days::new(1);
        let before_start = before_end - Days::new(len);
        (
            (before_start, before_end),
            (self.started_on, on.max(self.started_on)),
        )
    }
}

/// The due date for something at most `days` after `anchor`: `anchor +
/// days`, moved back to the last school day on or before it as long as that
/// is after `anchor`; when no school day lies in between (a long holiday),
/// the first school day after. Past the end of the calendar (the next
/// school year is not known yet) working days stand in for school days.
pub fn due_within(cal: &Calendar, anchor: NaiveDate, days: u64) -> NaiveDate {
    let limit = anchor + Days::new(days);
    if let Some(d) = cal.on_or_before(limit).map(|i| cal.date(i)) {
        if d > anchor {
            return d;
        }
    }
    if let Some(i) = cal.on_or_after(limit) {
        return cal.date(i);
    }
    crate::calendar::dates(anchor + Days::new(1), limit)
        .filter(|d| cal.is_working_day(*d))
        .last()
        .unwrap_or(limit)
}

/// The school day after `date` (the call after one or two days of
/// absence); past the calendar, the next working day.
pub fn next_school_day(cal: &Calendar, date: NaiveDate) -> NaiveDate {
    match date.succ_opt().and_then(|d| cal.on_or_after(d)) {
        Some(i) => cal.date(i),
        None => cal.add_working_days(date, 1),
    }
}

// ---------------------------------------------------------------------------
// Tasks

/// What is due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskKind {
    /// Call after whole-day absence on `absent_on` (guide A).
    Call { absent_on: NaiveDate },
    /// The weekly check of the agreements of a running intervention.
    WeeklyCheck { intervention: usize },
    /// The weekly check of the agreements at step 4 or later while no
    /// intervention runs.
    AgreementCheck,
    /// The evaluation of an intervention.
    Evaluation { intervention: usize },
    /// A thuiswerkplan week with too few contacts of two hours.
    ThuiswerkWeek {
        intervention: usize,
        iso_year: i32,
        iso_week: u32,
        contacts: usize,
    },
}

/// A task of "Mijn taken".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub kind: TaskKind,
    pub due: NaiveDate,
    pub overdue: bool,
    pub label_nl: String,
}

// ---------------------------------------------------------------------------
// Errors

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

// ---------------------------------------------------------------------------
// Partners, confidential notes, shared agreements

/// A user of an external role (leerplichtambtenaar, jeugdarts,
/// ketenpartner) brought into the case: from `since` on, that account sees
/// the student and the case as [`Case::redacted_for`] shows it.
///
/// Access follows the account, not the name: a username can be given to
/// someone else after its account was removed, and the newcomer must not
/// inherit the dossiers the old account was brought into (see
/// [`Involvement::is_of`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Involvement {
    /// The partner's username when brought in: for display and the trail.
    pub user: String,
    /// The partner's account id (the store's stable, never reused id);
    /// `None` for an involvement recorded before accounts had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub role: Role,
    pub since: NaiveDate,
    pub by: Actor,
    /// Set when the partner no longer takes part; the access ends then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
}

/// Who a partner is, for matching an [`Involvement`]: the account's
/// username, its stable id, and the (school) date it was created. The
/// caller reads these from its user store; the domain only compares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartnerIdentity<'a> {
    pub username: &'a str,
    pub account_id: &'a str,
    pub created_on: NaiveDate,
}

impl Involvement {
    /// Whether the involvement is current.
    pub fn is_active(&self) -> bool {
        self.until.is_none()
    }

    /// Whether the involvement is of the account `who` (current or not).
    ///
    /// With an account id recorded, only that id counts: the same username
    /// on another account is someone else. An involvement recorded before
    /// accounts had ids matches on the username, and only an account that
    /// already existed on the day the partner was brought in (`since`): an
    /// account created later under a reused name was not the one brought in.
    pub fn is_of(&self, who: &PartnerIdentity<'_>) -> bool {
        match &self.account {
            Some(account) => account == who.account_id,
            None => self.user == who.username && who.created_on <= self.since,
        }
    }
}

/// A confidential note of the jeugdarts: only the jeugdarts role reads it
/// (the school and other partners never do). It is for the doctor's own
/// follow-up; like everything else it holds no diagnosis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfidentialNote {
    pub on: NaiveDate,
    pub by: Actor,
    pub text: String,
}

/// Agreements sent by e-mail to parents and partners: the trail of sharing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailing {
    pub on: NaiveDate,
    pub by: Actor,
    /// The addresses it went to.
    pub to: Vec<String>,
    /// Indexes into [`Case::agreements`].
    pub agreements: Vec<usize>,
}

/// A change of the case's lead (dossierhouder).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handover {
    pub from: String,
    pub to: String,
    pub on: NaiveDate,
    pub by: Actor,
}

/// Whether `role` may read the jeugdarts's confidential notes.
pub fn may_read_confidential(role: Role) -> bool {
    role == Role::Jeugdarts
}

// ---------------------------------------------------------------------------
// The case

/// A case dossier of one student.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub student: StudentId,
    pub opened_on: NaiveDate,
    pub opened_by: Actor,
    pub reason: OpenReason,
    /// The step the case opened on.
    pub first_step: CaseStep,
    /// The current step.
    pub step: CaseStep,
    #[serde(default)]
    pub history: Vec<StepChange>,
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
    /// Signals linked to the case after it opened (the opening signal is in
    /// `reason`).
    #[serde(default)]
    pub signals: Vec<SignalRef>,
    #[serde(default)]
    pub contacts: Vec<ContactMoment>,
    #[serde(default)]
    pub agreements: Vec<Agreement>,
    #[serde(default)]
    pub decisions: Vec<Decision>,
    #[serde(default)]
    pub interventions: Vec<Intervention>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Closure>,
    #[serde(default)]
    pub reopenings: Vec<Reopening>,
    /// The user who leads the case (dossierhouder); `None`: the opener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// External partners brought in, current and past.
    #[serde(default)]
    pub involved: Vec<Involvement>,
    /// E-mail addresses of the parents or carers, to share agreements with.
    #[serde(default)]
    pub parent_emails: Vec<String>,
    /// The student's own e-mail address, to share agreements with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student_email: Option<String>,
    /// The jeugdarts's confidential notes ([`may_read_confidential`]).
    #[serde(default)]
    pub confidential: Vec<ConfidentialNote>,
    /// Every time agreements were sent by e-mail.
    #[serde(default)]
    pub mailings: Vec<Mailing>,
    /// Every change of the dossierhouder.
    #[serde(default)]
    pub handovers: Vec<Handover>,
}

fn need_reason(why: &str) -> Result<String, CaseError> {
    let why = why.trim();
    if why.is_empty() {
        Err(CaseError::MissingReason)
    } else {
        Ok(why.to_owned())
    }
}

impl Case {
    /// Opens a case on `step` (3a, 3b, 4a or 4b) with that step's checklist.
    pub fn open(
        student: StudentId,
        opened_on: NaiveDate,
        opened_by: Actor,
        reason: OpenReason,
        step: CaseStep,
    ) -> Result<Case, CaseError> {
        if step.level() > 4 {
            return Err(CaseError::OpensAtDecisionStep(step));
        }
        if let OpenReason::Zorgen { note } = &reason {
            need_reason(note)?;
        }
        Ok(Case {
            student,
            opened_on,
            opened_by,
            reason,
            first_step: step,
            step,
            history: Vec::new(),
            checklist: standard_checklist(step),
            signals: Vec::new(),
            contacts: Vec::new(),
            agreements: Vec::new(),
            decisions: Vec::new(),
            interventions: Vec::new(),
            closed: None,
            reopenings: Vec::new(),
            owner: None,
            involved: Vec::new(),
            parent_emails: Vec::new(),
            student_email: None,
            confidential: Vec::new(),
            mailings: Vec::new(),
            handovers: Vec::new(),
        })
    }

    /// The username of whoever leads the case.
    pub fn owner(&self) -> &str {
        self.owner.as_deref().unwrap_or(&self.opened_by.user)
    }

    /// Hands the case over to `to`, a user of the school who may lead it
    /// (the coordinators, a mentor); recorded with who and when.
    pub fn hand_over(
        &mut self,
        to: &str,
        to_role: Role,
        on: NaiveDate,
        by: Actor,
    ) -> Result<(), CaseError> {
        self.ensure_open()?;
        if to_role.is_external() || to_role == Role::Beheerder {
            return Err(CaseError::NotALead(to_role));
        }
        if to == self.owner() {
            return Err(CaseError::SameLead(to.to_owned()));
        }
        self.handovers.push(Handover {
            from: self.owner().to_owned(),
            to: to.to_owned(),
            on,
            by,
        });
        self.owner = Some(to.to_owned());
        Ok(())
    }

    /// Whether the account `who` is a current partner on the case
    /// ([`Involvement::is_of`]).
    pub fn involves(&self, who: &PartnerIdentity<'_>) -> bool {
        self.involved.iter().any(|i| i.is_active() && i.is_of(who))
    }

    /// Brings an external partner into the case, recording both the
    /// account id (which access follows) and the username (for display and
    /// the trail). Only external roles are brought in this way (the
    /// school's own roles see students by their role); bringing in an
    /// account already involved is refused, the jeugdarts only after a
    /// referral the parents consented to (MAZL: the latest jeugdarts
    /// decision on or before `on` says yes), and a ketenpartner only after
    /// the parents consented to VO WIJ (the latest VO WIJ decision says
    /// yes).
    pub fn involve(
        &mut self,
        who: &PartnerIdentity<'_>,
        role: Role,
        on: NaiveDate,
        by: Actor,
    ) -> Result<(), CaseError> {
        self.ensure_open()?;
        if !role.is_external() {
            return Err(CaseError::NotAPartner(role));
        }
        if self.involves(who) {
            return Err(CaseError::AlreadyInvolved(who.username.to_owned()));
        }
        if role == Role::Jeugdarts
            && self
                .latest_decision(on, |k| matches!(k, DecisionKind::Jeugdarts { .. }))
                .is_none_or(|d| d.kind != DecisionKind::Jeugdarts { consent: true })
        {
            return Err(CaseError::NoConsent);
        }
        // Care partners too: their access rests on the parents' consent
        // (rules.md §5, consent before care partners).
        if role == Role::Ketenpartner
            && self
                .latest_decision(on, |k| matches!(k, DecisionKind::VoWij { .. }))
                .is_none_or(|d| d.kind != DecisionKind::VoWij { consent: true })
        {
            return Err(CaseError::NoCareConsent);
        }
        self.involved.push(Involvement {
            user: who.username.to_owned(),
            account: Some(who.account_id.to_owned()),
            role,
            since: on,
            by,
            until: None,
        });
        Ok(())
    }

    /// Ends a partner's current involvement (and with it their access) on
    /// `on`, as a coordinator asks for it on the dossier page: with
    /// `account`, the involvement of that account; without, every current
    /// involvement recorded under the username `user` (ending access never
    /// gives anyone access, so a name is precise enough here).
    pub fn release(
        &mut self,
        user: &str,
        account: Option<&str>,
        on: NaiveDate,
    ) -> Result<(), CaseError> {
        let ended = self.end_involvements(on, |i| match account {
            Some(a) => i.account.as_deref() == Some(a),
            None => i.user == user,
        });
        if ended == 0 {
            return Err(CaseError::NotInvolved(user.to_owned()));
        }
        Ok(())
    }

    /// Ends every current involvement of the account `who`
    /// ([`Involvement::is_of`]) on `on`, as when the account is removed;
    /// returns how many there were (0: nothing changed).
    pub fn release_partner(&mut self, who: &PartnerIdentity<'_>, on: NaiveDate) -> usize {
        self.end_involvements(on, |i| i.is_of(who))
    }

    /// Sets `until` on every current involvement `which` picks; returns
    /// how many.
    fn end_involvements(&mut self, on: NaiveDate, which: impl Fn(&Involvement) -> bool) -> usize {
        let mut n = 0;
        for i in self.involved.iter_mut().filter(|i| i.is_active()) {
            if which(i) {
                i.until = Some(on.max(i.since));
                n += 1;
            }
        }
        n
    }

    /// Adds a confidential note; only the jeugdarts writes them.
    pub fn add_confidential(&mut self, note: ConfidentialNote) -> Result<(), CaseError> {
        if !may_read_confidential(note.by.role) {
            return Err(CaseError::NotAllowed);
        }
        let text = need_reason(&note.text).map_err(|_| CaseError::EmptyNote)?;
        self.confidential.push(ConfidentialNote { text, ..note });
        Ok(())
    }

    /// Records that agreements were e-mailed.
    pub fn record_mailing(&mut self, mailing: Mailing) -> Result<(), CaseError> {
        if let Some(i) = mailing
            .agreements
            .iter()
            .find(|i| **i >= self.agreements.len())
        {
            return Err(CaseError::UnknownAgreement(*i));
        }
        self.mailings.push(mailing);
        Ok(())
    }

    /// What the engine needs from the case: the dates of the 3a
    /// conversations (rules.md §4, `afmelding_persist`): the 3a checklist's
    /// conversation marked done, and every contact moment held while the
    /// case was at 3a with student and parents (guide C, or both taking
    /// part).
    pub fn engine_context(&self) -> crate::engine::StudentContext {
        let mut dates: Vec<NaiveDate> = self
            .checklist
            .iter()
            .filter(|i| i.step == CaseStep::S3a && i.key == keys::GESPREK)
            .filter_map(|i| match &i.status {
                ItemStatus::Done { on, .. } => Some(*on),
                _ => None,
            })
            .chain(
                self.contacts
                    .iter()
                    .filter(|c| self.step_on(c.on) == Some(CaseStep::S3a))
                    .filter(|c| {
                        c.guide == Some(Guide::C)
                            || (c.participants.contains(&Party::Leerling)
                                && c.participants.contains(&Party::Ouders))
                    })
                    .map(|c| c.on),
            )
            .collect();
        dates.sort_unstable();
        dates.dedup();
        crate::engine::StudentContext {
            conversations_3a: dates,
            ..Default::default()
        }
    }

    /// Whether the case is open.
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    fn ensure_open(&self) -> Result<(), CaseError> {
        if self.closed.is_some() {
            Err(CaseError::Closed)
        } else {
            Ok(())
        }
    }

    /// The date of the latest change of step or state: opening, step
    /// changes, closing, reopening. Those may not be backdated before it.
    pub fn last_change_on(&self) -> NaiveDate {
        let mut last = self.opened_on;
        if let Some(c) = self.history.last() {
            last = last.max(c.at_date);
        }
        if let Some(r) = self.reopenings.last() {
            last = last.max(r.on);
        }
        if let Some(c) = &self.closed {
            last = last.max(c.on);
        }
        last
    }

    fn not_backdated(&self, on: NaiveDate) -> Result<(), CaseError> {
        let earliest = self.last_change_on();
        if on < earliest {
            Err(CaseError::Backdated { on, earliest })
        } else {
            Ok(())
        }
    }

    /// The latest decision of a kind matching `f` on or before `on`.
    fn latest_decision(
        &self,
        on: NaiveDate,
        f: impl Fn(&DecisionKind) -> bool,
    ) -> Option<&Decision> {
        self.decisions
            .iter()
            .filter(|d| d.on <= on && f(&d.kind))
            .max_by_key(|d| d.on)
    }

    /// Whether a move from the current step to `to` on `on` is allowed.
    ///
    /// - Between 3a, 3b, 4a and 4b every move is allowed: up, down and
    ///   between tracks (signals decide, and the school may step down).
    /// - 5a and 5b come only after step 4 (or from the other 5, or down
    ///   from 6), and need a recorded [`DecisionKind::Cooperation`] on or
    ///   before `on` whose latest value matches: yes for 5a, no for 5b.
    /// - 6 comes only from 5a or 5b and needs a recorded maatwerk decision.
    /// - Moving down from 5 or 6 to 3 or 4 is allowed.
    pub fn check_move(&self, to: CaseStep, on: NaiveDate) -> Result<(), CaseError> {
        self.ensure_open()?;
        if to == self.step {
            return Err(CaseError::SameStep(to));
        }
        self.not_backdated(on)?;
        match to {
            CaseStep::S3a | CaseStep::S3b | CaseStep::S4a | CaseStep::S4b => Ok(()),
            CaseStep::S5a | CaseStep::S5b => {
                if self.step.level() < 4 {
                    return Err(CaseError::Step5NeedsStep4 {
                        from: self.step,
                        to,
                    });
                }
                let latest = self
                    .latest_decision(on, |k| matches!(k, DecisionKind::Cooperation { .. }))
                    .ok_or(CaseError::CooperationNotRecorded(to))?;
                let cooperates =
                    matches!(latest.kind, DecisionKind::Cooperation { cooperates: true });
                if cooperates == (to == CaseStep::S5a) {
                    Ok(())
                } else {
                    Err(CaseError::CooperationMismatch { to, cooperates })
                }
            }
            CaseStep::S6 => {
                if self.step.level() != 5 {
                    return Err(CaseError::MaatwerkNeedsStep5(self.step));
                }
                if self
                    .latest_decision(on, DecisionKind::is_maatwerk)
                    .is_none()
                {
                    return Err(CaseError::MaatwerkNotDecided);
                }
                Ok(())
            }
        }
    }

    /// Moves the case to `to`, recording who, when and why, and adds the
    /// new step's checklist unless the case was on that step before.
    pub fn move_to(
        &mut self,
        to: CaseStep,
        on: NaiveDate,
        by: Actor,
        why: &str,
    ) -> Result<(), CaseError> {
        self.check_move(to, on)?;
        let why = need_reason(why)?;
        self.history.push(StepChange {
            from: self.step,
            to,
            at_date: on,
            by,
            why,
        });
        self.step = to;
        if !self.checklist.iter().any(|i| i.step == to) {
            self.checklist.extend(standard_checklist(to));
        }
        Ok(())
    }

    /// Closes the case. Running interventions end on the closing date.
    pub fn close(
        &mut self,
        on: NaiveDate,
        by: Actor,
        reason: ClosureReason,
        note: &str,
    ) -> Result<(), CaseError> {
        self.ensure_open()?;
        self.not_backdated(on)?;
        if reason == ClosureReason::Anders {
            need_reason(note)?;
        }
        for i in &mut self.interventions {
            if i.ended_on.is_none() {
                i.ended_on = Some(on.max(i.started_on));
            }
        }
        self.closed = Some(Closure {
            on,
            by,
            reason,
            note: note.trim().to_owned(),
        });
        Ok(())
    }

    /// Reopens a closed case on the step it was closed on. The closing is
    /// kept in [`Case::reopenings`]; a different step is a `move_to` after.
    pub fn reopen(&mut self, on: NaiveDate, by: Actor, why: &str) -> Result<(), CaseError> {
        let closure = self.closed.clone().ok_or(CaseError::NotClosed)?;
        self.not_backdated(on)?;
        let why = need_reason(why)?;
        self.closed = None;
        self.reopenings.push(Reopening {
            closure,
            on,
            by,
            why,
        });
        Ok(())
    }

    /// The step the case was on at `date` (`None` before it opened or while
    /// it was closed).
    pub fn step_on(&self, date: NaiveDate) -> Option<CaseStep> {
        if date < self.opened_on {
            return None;
        }
        let was_closed = self
            .reopenings
            .iter()
            .any(|r| r.closure.on <= date && date < r.on)
            || self.closed.as_ref().is_some_and(|c| c.on <= date);
        if was_closed {
            return None;
        }
        Some(
            self.history
                .iter()
                .rev()
                .find(|c| c.at_date <= date)
                .map_or(self.first_step, |c| c.to),
        )
    }

    /// Links a later signal to the case (a call signal makes a call task).
    pub fn link_signal(&mut self, rule: RuleId, on: NaiveDate) -> Result<(), CaseError> {
        self.ensure_open()?;
        let r = SignalRef { rule, on };
        if !self.signals.contains(&r) {
            self.signals.push(r);
        }
        Ok(())
    }

    /// Sets the status of checklist item `key` of `step`.
    pub fn set_item(
        &mut self,
        step: CaseStep,
        key: &str,
        status: ItemStatus,
    ) -> Result<(), CaseError> {
        self.ensure_open()?;
        let item = self
            .checklist
            .iter_mut()
            .find(|i| i.step == step && i.key == key)
            .ok_or_else(|| CaseError::UnknownChecklistItem {
                step,
                key: key.to_owned(),
            })?;
        item.status = status;
        Ok(())
    }

    /// The checklist of one step.
    pub fn checklist_of(&self, step: CaseStep) -> impl Iterator<Item = &ChecklistItem> {
        self.checklist.iter().filter(move |i| i.step == step)
    }

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

    /// Records an agreement. Returns its index.
    pub fn add_agreement(&mut self, agreement: Agreement) -> Result<usize, CaseError> {
        self.ensure_open()?;
        if agreement.what.trim().is_empty() {
            return Err(CaseError::EmptyAgreement);
        }
        if let Some(c) = agreement.contact {
            if c >= self.contacts.len() {
                return Err(CaseError::UnknownContact(c));
            }
        }
        self.agreements.push(agreement);
        Ok(self.agreements.len() - 1)
    }

    /// Records a weekly check of agreement `index`.
    pub fn check_agreement(&mut self, index: usize, check: WeeklyCheck) -> Result<(), CaseError> {
        self.ensure_open()?;
        let a = self
            .agreements
            .get_mut(index)
            .ok_or(CaseError::UnknownAgreement(index))?;
        if check.on < a.made_on {
            return Err(CaseError::BeforeStart {
                on: check.on,
                start: a.made_on,
            });
        }
        a.kept.push(check);
        Ok(())
    }

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

    /// Starts an intervention on the current step. Returns its index.
    pub fn start_intervention(
        &mut self,
        kind: InterventionKind,
        description: &str,
        on: NaiveDate,
        by: Actor,
    ) -> Result<usize, CaseError> {
        self.ensure_open()?;
        let description = need_reason(description)?;
        self.interventions.push(Intervention {
            kind,
            description,
            started_on: on,
            started_by: by,
            step: self.step,
            ended_on: None,
            evaluations: Vec::new(),
        });
        Ok(self.interventions.len() - 1)
    }

    fn intervention_mut(&mut self, index: usize) -> Result<&mut Intervention, CaseError> {
        self.interventions
            .get_mut(index)
            .ok_or(CaseError::UnknownIntervention(index))
    }

    /// Records an evaluation of intervention `index`.
    pub fn evaluate(&mut self, index: usize, evaluation: Evaluation) -> Result<(), CaseError> {
        self.ensure_open()?;
        let i = self.intervention_mut(index)?;
        if evaluation.on < i.started_on {
            return Err(CaseError::BeforeStart {
                on: evaluation.on,
                start: i.started_on,
            });
        }
        i.evaluations.push(evaluation);
        Ok(())
    }

    /// Ends intervention `index` on `on`.
    pub fn end_intervention(&mut self, index: usize, on: NaiveDate) -> Result<(), CaseError> {
        self.ensure_open()?;
        let i = self.intervention_mut(index)?;
        if i.ended_on.is_some() {
            return Err(CaseError::InterventionEnded);
        }
        if on < i.started_on {
            return Err(CaseError::BeforeStart {
                on,
                start: i.started_on,
            });
        }
        i.ended_on = Some(on);
        Ok(())
    }

    /// The case as `role` may see it: without the meldcode part unless the
    /// role handles the meldcode.
    ///
    /// - The meldcode part only for the roles that handle it.
    /// - The jeugdarts's confidential notes only for the jeugdarts.
    /// - External partners see what is shared with them: steps, checklist,
    ///   agreements, decisions and interventions, and of each contact
    ///   moment when, how and with whom, but not the conversation itself
    ///   (answers and note), the parents' addresses or whom mail went to,
    ///   nor the school's working notes (the reason "zorgen", checklist,
    ///   step, decision, evaluation, check and closing notes); a referral
    ///   to the jeugdarts, and the jeugdarts's part in the case, only for
    ///   the jeugdarts.
    pub fn redacted_for(&self, role: Role) -> Case {
        let mut c = self.clone();
        if !may_see_meldcode(role) {
            c.decisions.retain(|d| d.kind != DecisionKind::Meldcode);
        }
        if !may_read_confidential(role) {
            c.confidential.clear();
        }
        if role.is_external() {
            for contact in &mut c.contacts {
                contact.answers.clear();
                contact.note.clear();
            }
            // The school's own working notes stay at school.
            if let OpenReason::Zorgen { note } = &mut c.reason {
                note.clear();
            }
            for item in &mut c.checklist {
                match &mut item.status {
                    ItemStatus::Done { note, .. } | ItemStatus::NotApplicable { note, .. } => {
                        note.clear();
                    }
                    ItemStatus::Open => {}
                }
            }
            // The school's notes on steps, decisions, evaluations, checks
            // and closing stay at school too; what was agreed and done
            // (agreements, interventions, decisions, dates) is shared.
            for h in &mut c.history {
                h.why.clear();
            }
            for d in &mut c.decisions {
                d.note.clear();
            }
            for i in &mut c.interventions {
                for e in &mut i.evaluations {
                    e.note.clear();
                }
            }
            for a in &mut c.agreements {
                for k in &mut a.kept {
                    k.note.clear();
                }
            }
            if let Some(cl) = &mut c.closed {
                cl.note.clear();
            }
            for r in &mut c.reopenings {
                r.why.clear();
                r.closure.note.clear();
            }
            // A referral to the jeugdarts touches on health: only the
            // jeugdarts among the partners reads it, or sees that a
            // jeugdarts takes part.
            if role != Role::Jeugdarts {
                c.decisions
                    .retain(|d| !matches!(d.kind, DecisionKind::Jeugdarts { .. }));
                c.involved.retain(|i| i.role != Role::Jeugdarts);
            }
            c.parent_emails.clear();
            c.student_email = None;
            for m in &mut c.mailings {
                m.to.clear();
            }
        }
        c
    }

    /// The first day of the period in which the account `who` takes part
    /// in the case: the earliest start of its current involvements; `None`
    /// when the account is not brought in.
    pub fn partner_since(&self, who: &PartnerIdentity<'_>) -> Option<NaiveDate> {
        self.involved
            .iter()
            .filter(|i| i.is_active() && i.is_of(who))
            .map(|i| i.since)
            .min()
    }

    /// The case limited to what happened from `from` on, for a partner who
    /// takes part since then (issue: partners see only the period they are
    /// involved in): contact moments and agreements made before `from` are
    /// left out, with the references between them (an agreement's contact,
    /// a mailing's agreements) renumbered to match. Call it on a case
    /// already [`Case::redacted_for`] the partner's role.
    pub fn limited_to_period(&self, from: NaiveDate) -> Case {
        let mut c = self.clone();
        let contact_map = keep_from(&mut c.contacts, |k| k.on >= from);
        let agreement_map = keep_from(&mut c.agreements, |a| a.made_on >= from);
        for a in &mut c.agreements {
            a.contact = a
                .contact
                .and_then(|i| contact_map.get(i).copied().flatten());
        }
        for m in &mut c.mailings {
            m.agreements = m
                .agreements
                .iter()
                .filter_map(|i| agreement_map.get(*i).copied().flatten())
                .collect();
        }
        c.mailings.retain(|m| m.on >= from);
        c
    }

    /// The dates of all weekly checks on or after `from`, sorted, once each.
    fn check_dates_from(&self, from: NaiveDate) -> Vec<NaiveDate> {
        let mut v: Vec<NaiveDate> = self
            .agreements
            .iter()
            .flat_map(|a| a.kept.iter().map(|c| c.on))
            .filter(|d| *d >= from)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Since when the case asks for weekly checks: the day it last came to
    /// step 4 or later from a lower step (or opened there). `None` below
    /// step 4.
    pub fn weekly_checks_since(&self) -> Option<NaiveDate> {
        if !self.step.has_weekly_check() {
            return None;
        }
        let moved = self
            .history
            .iter()
            .rev()
            .find(|c| c.to.has_weekly_check() && !c.from.has_weekly_check())
            .map(|c| c.at_date);
        Some(moved.unwrap_or(self.opened_on))
    }

    /// The next weekly agreement check of intervention `index`: seven days
    /// after the latest check since it started (or after its start), moved
    /// back to a school day ([`due_within`]).
    pub fn next_weekly_check(&self, cal: &Calendar, index: usize) -> Option<NaiveDate> {
        let i = self.interventions.get(index)?;
        let anchor = self
            .check_dates_from(i.started_on)
            .last()
            .copied()
            .unwrap_or(i.started_on);
        Some(due_within(cal, anchor, CHECK_INTERVAL_DAYS))
    }

    /// Contacts of at least two hours per ISO week, from `from` on.
    fn long_contacts_in(&self, week: IsoWeek) -> usize {
        self.contacts
            .iter()
            .filter(|c| c.on.iso_week() == week)
            .filter(|c| c.minutes.is_some_and(|m| m >= THUISWERK_MINUTES))
            .count()
    }

    /// The thuiswerkplan weeks of intervention `index` up to `today`: every
    /// ISO week with school days on all of which the plan ran, with the
    /// number of contacts of two hours or more and the week's last school
    /// day (when the count is due).
    pub fn thuiswerk_weeks(
        &self,
        cal: &Calendar,
        index: usize,
        today: NaiveDate,
    ) -> Vec<(IsoWeek, usize, NaiveDate)> {
        let Some(i) = self.interventions.get(index) else {
            return Vec::new();
        };
        if i.kind != InterventionKind::Thuiswerkplan {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut monday = monday_of(i.started_on);
        while monday <= today {
            let sunday = monday + Days::new(6);
            let school: Vec<NaiveDate> = crate::calendar::dates(monday, sunday)
                .filter(|d| cal.is_school_day(*d))
                .collect();
            if let (Some(first), Some(last)) = (school.first(), school.last()) {
                if i.started_on <= *first && i.ended_on.is_none_or(|e| e >= *last) {
                    out.push((
                        monday.iso_week(),
                        self.long_contacts_in(monday.iso_week()),
                        *last,
                    ));
                }
            }
            monday = monday + Days::new(7);
        }
        out
    }

    /// Everything the plan says is due on `today`, overdue or not, sorted
    /// by due date. A closed case has no tasks.
    ///
    /// - A call the school day after each linked whole-day absence signal
    ///   (`contact`), done by any contact moment on or after the absence.
    /// - At step 4 or later, per running intervention: the weekly agreement
    ///   check ([`Case::next_weekly_check`]).
    /// - Per running intervention, at any step: its evaluation
    ///   ([`Intervention::evaluation_due`]), also when all goes well.
    /// - Per running thuiswerkplan: the current week while it has fewer
    ///   than two contacts of two hours (due on its last school day), and
    ///   every past week that had fewer (overdue).
    pub fn tasks(&self, cal: &Calendar, today: NaiveDate) -> Vec<Task> {
        if self.closed.is_some() {
            return Vec::new();
        }
        let mut tasks = Vec::new();
        let mut push = |kind: TaskKind, due: NaiveDate, label_nl: String| {
            tasks.push(Task {
                kind,
                due,
                overdue: today > due,
                label_nl,
            });
        };

        let mut calls: Vec<NaiveDate> = self
            .signals
            .iter()
            .copied()
            .chain(match self.reason {
                OpenReason::Signal { rule, on } => Some(SignalRef { rule, on }),
                OpenReason::Zorgen { .. } => None,
            })
            .filter(|s| s.rule == RuleId::Contact)
            .map(|s| s.on)
            .collect();
        calls.sort_unstable();
        calls.dedup();
        // Every absence since the latest contact is pending, and one call
        // covers them all: the task is for the earliest, due the school day
        // after it.
        let pending = calls
            .into_iter()
            .find(|d| *d <= today && !self.contacts.iter().any(|c| c.on >= *d));
        if let Some(absent_on) = pending {
            push(
                TaskKind::Call { absent_on },
                next_school_day(cal, absent_on),
                format!(
                    "Bellen: hele dag afwezig sinds {} (leidraad A)",
                    crate::explain::date_nl(absent_on)
                ),
            );
        }

        if self.step.has_weekly_check()
            && !self.agreements.is_empty()
            && !self.interventions.iter().any(|i| i.runs_on(today))
        {
            if let Some(since) = self.weekly_checks_since() {
                let anchor = self
                    .check_dates_from(since)
                    .last()
                    .copied()
                    .unwrap_or(since);
                push(
                    TaskKind::AgreementCheck,
                    due_within(cal, anchor, CHECK_INTERVAL_DAYS),
                    "Wekelijks nagaan of de afspraken zijn nagekomen".to_owned(),
                );
            }
        }

        for (idx, i) in self.interventions.iter().enumerate() {
            if !i.runs_on(today) {
                continue;
            }
            if self.step.has_weekly_check() {
                if let Some(due) = self.next_weekly_check(cal, idx) {
                    push(
                        TaskKind::WeeklyCheck { intervention: idx },
                        due,
                        format!(
                            "Wekelijks nagaan of de afspraken zijn nagekomen ({})",
                            i.description
                        ),
                    );
                }
            }
            push(
                TaskKind::Evaluation { intervention: idx },
                i.evaluation_due(cal),
                format!(
                    "Evaluatiegesprek over '{}' (uiterlijk zes weken)",
                    i.description
                ),
            );
            for (week, contacts, due) in self.thuiswerk_weeks(cal, idx, today) {
                if contacts < THUISWERK_CONTACTS_PER_WEEK {
                    push(
                        TaskKind::ThuiswerkWeek {
                            intervention: idx,
                            iso_year: week.year(),
                            iso_week: week.week(),
                            contacts,
                        },
                        due,
                        format!(
                            "Thuiswerkplan week {}: {contacts} van de minstens {THUISWERK_CONTACTS_PER_WEEK} contacten van twee uur",
                            week.week()
                        ),
                    );
                }
            }
        }
        tasks.sort_by_key(|t| t.due);
        tasks
    }
}

/// One event of a case's trail, for reports and the AVG inzage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrailEntry {
    pub on: NaiveDate,
    /// Who did it (username), where known.
    pub by: String,
    /// What happened, in Dutch.
    pub what_nl: String,
}

impl Case {
    /// Everything that happened in the case as dated Dutch lines, oldest
    /// first (stable for events on one day): opening, step changes,
    /// checklist items done or set aside, contact moments (with the guide's
    /// answers), agreements and their checks, decisions, interventions and
    /// evaluations, partners, mailings, closings and reopenings. It shows
    /// what the case holds; call it on a case redacted for the reader.
    pub fn trail_nl(&self) -> Vec<TrailEntry> {
        let mut out = Vec::new();
        let mut push = |on: NaiveDate, by: &str, what_nl: String| {
            out.push(TrailEntry {
                on,
                by: by.to_owned(),
                what_nl,
            });
        };
        push(
            self.opened_on,
            &self.opened_by.user,
            format!(
                "Dossier geopend op stap {} ({}); aanleiding: {}",
                self.first_step,
                self.first_step.label_nl(),
                self.reason.label_nl()
            ),
        );
        let with_note = |head: String, note: &str| {
            if note.is_empty() {
                head
            } else {
                format!("{head}: {note}")
            }
        };
        for c in &self.history {
            push(
                c.at_date,
                &c.by.user,
                with_note(format!("Stap {} → {}", c.from, c.to), &c.why),
            );
        }
        for i in &self.checklist {
            let (on, by, note, word) = match &i.status {
                ItemStatus::Open => continue,
                ItemStatus::Done { on, by, note } => (on, by, note, "gedaan"),
                ItemStatus::NotApplicable { on, by, note } => (on, by, note, "niet van toepassing"),
            };
            let note = if note.is_empty() {
                String::new()
            } else {
                format!(" ({note})")
            };
            push(
                *on,
                &by.user,
                format!("Stap {}: '{}' {word}{note}", i.step, i.label_nl),
            );
        }
        for c in &self.contacts {
            let who: Vec<&str> = c.participants.iter().map(Party::label_nl).collect();
            let mut line = format!(
                "Contactmoment ({}) met {}",
                c.kind.label_nl(),
                who.join(", ")
            );
            if let Some(m) = c.minutes {
                line.push_str(&format!(", {m} minuten"));
            }
            if let Some(g) = c.guide {
                line.push_str(&format!("; leidraad {}", g.label_nl()));
                for a in &c.answers {
                    let q = g.question(&a.key).map_or(a.key.as_str(), |q| q.text_nl);
                    line.push_str(&format!(" — {q} {}", a.text));
                }
            }
            if !c.note.is_empty() {
                line.push_str(&format!(" — notitie: {}", c.note));
            }
            push(c.on, &c.by.user, line);
        }
        for a in &self.agreements {
            let by_when = a
                .by_when
                .map(|d| format!(", uiterlijk {}", crate::explain::date_nl(d)))
                .unwrap_or_default();
            push(
                a.made_on,
                "",
                format!("Afspraak ({}): {}{by_when}", a.who.label_nl(), a.what),
            );
            for k in &a.kept {
                push(
                    k.on,
                    "",
                    format!(
                        "Controle afspraak '{}': {}{}",
                        a.what,
                        if k.kept {
                            "nagekomen"
                        } else {
                            "niet nagekomen"
                        },
                        if k.note.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", k.note)
                        }
                    ),
                );
            }
        }
        for d in &self.decisions {
            let note = if d.note.is_empty() {
                String::new()
            } else {
                format!(": {}", d.note)
            };
            push(
                d.on,
                &d.by.user,
                format!("Besluit: {}{note}", d.kind.label_nl()),
            );
        }
        for i in &self.interventions {
            push(
                i.started_on,
                &i.started_by.user,
                format!(
                    "Interventie gestart ({}): {}",
                    i.kind.label_nl(),
                    i.description
                ),
            );
            for e in &i.evaluations {
                push(
                    e.on,
                    &e.by.user,
                    with_note(format!("Evaluatie van '{}'", i.description), &e.note),
                );
            }
            if let Some(end) = i.ended_on {
                push(end, "", format!("Interventie beëindigd: {}", i.description));
            }
        }
        for p in &self.involved {
            push(
                p.since,
                &p.by.user,
                format!(
                    "{} ({}) betrokken bij het dossier",
                    p.user,
                    p.role.label_nl()
                ),
            );
            if let Some(u) = p.until {
                push(u, "", format!("{} niet meer betrokken", p.user));
            }
        }
        for h in &self.handovers {
            push(
                h.on,
                &h.by.user,
                format!("Dossierhouder {} → {}", h.from, h.to),
            );
        }
        for n in &self.confidential {
            push(
                n.on,
                &n.by.user,
                format!("Vertrouwelijke notitie: {}", n.text),
            );
        }
        for m in &self.mailings {
            let to = if m.to.is_empty() {
                String::new()
            } else {
                format!(" aan {}", m.to.join(", "))
            };
            push(
                m.on,
                &m.by.user,
                format!(
                    "{} per e-mail gedeeld{to}",
                    crate::explain::counted_nl(m.agreements.len() as u64, "afspraak", "afspraken")
                ),
            );
        }
        for r in &self.reopenings {
            push(
                r.closure.on,
                &r.closure.by.user,
                format!("Dossier gesloten: {}", r.closure.reason.label_nl()),
            );
            push(
                r.on,
                &r.by.user,
                with_note("Dossier heropend".to_owned(), &r.why),
            );
        }
        if let Some(c) = &self.closed {
            let note = if c.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", c.note)
            };
            push(
                c.on,
                &c.by.user,
                format!("Dossier gesloten: {}{note}", c.reason.label_nl()),
            );
        }
        out.sort_by_key(|e| e.on);
        out
    }
}

/// The Monday of a date's ISO week.
pub fn monday_of(date: NaiveDate) -> NaiveDate {
    NaiveDate::from_isoywd_opt(date.iso_week().year(), date.iso_week().week(), Weekday::Mon)
        .unwrap_or(date)
}

/// Keeps the items for which `keep` holds and returns, for every old index,
/// its new index (`None` for an item left out).
fn keep_from<T>(items: &mut Vec<T>, keep: impl Fn(&T) -> bool) -> Vec<Option<usize>> {
    let mut map = Vec::with_capacity(items.len());
    let mut next = 0;
    for item in items.iter() {
        if keep(item) {
            map.push(Some(next));
            next += 1;
        } else {
            map.push(None);
        }
    }
    let mut i = 0;
    items.retain(|_| {
        let kept = map[i].is_some();
        i += 1;
        kept
    });
    map
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;
    use crate::calendar::tests::{example_calendar, ymd};

    fn actor() -> Actor {
        Actor::new("vc", Role::Verzuimcoordinator)
    }

    /// The account of partner `name`: id `id-<name>`, created long before
    /// any case in these tests.
    fn who(name: &'static str) -> PartnerIdentity<'static> {
        let account_id = match name {
            "arts" => "id-arts",
            "lpa" => "id-lpa",
            "keten" => "id-keten",
            "m" => "id-m",
            other => panic!("no test account {other}"),
        };
        PartnerIdentity {
            username: name,
            account_id,
            created_on: ymd(2025, 1, 6),
        }
    }

    fn student() -> StudentId {
        StudentId::parse("1001").unwrap()
    }

    fn case_at(step: CaseStep, on: NaiveDate) -> Case {
        Case::open(
            student(),
            on,
            actor(),
            OpenReason::Zorgen {
                note: "mentor maakt zich zorgen".into(),
            },
            step,
        )
        .unwrap()
    }

    fn decision(on: NaiveDate, kind: DecisionKind) -> Decision {
        Decision {
            on,
            by: Actor::new("iot", Role::Ondersteuningscoordinator),
            kind,
            parties: vec![Party::Aoj],
            note: String::new(),
        }
    }

    fn contact(on: NaiveDate, minutes: Option<u16>) -> ContactMoment {
        ContactMoment {
            on,
            kind: ContactKind::GesprekOpSchool,
            minutes,
            participants: vec![Party::Leerling],
            by: actor(),
            guide: None,
            answers: Vec::new(),
            note: String::new(),
        }
    }

    fn agreement(made_on: NaiveDate) -> Agreement {
        Agreement {
            who: AgreementParty::Student,
            what: "elke ochtend om 8.20 uur melden bij de mentor".into(),
            made_on,
            by_when: None,
            contact: None,
            kept: Vec::new(),
        }
    }

    #[test]
    fn a_partner_sees_contacts_and_agreements_from_the_day_they_came_in() {
        let mut c = case_at(CaseStep::S3b, ymd(2025, 9, 1));
        let before = c.add_contact(contact(ymd(2025, 9, 3), None)).unwrap();
        let after = c.add_contact(contact(ymd(2025, 10, 6), None)).unwrap();
        let mut old = agreement(ymd(2025, 9, 3));
        old.contact = Some(before);
        c.add_agreement(old).unwrap();
        let mut new = agreement(ymd(2025, 10, 6));
        new.what = "elke vrijdag bij de mentor langs".into();
        new.contact = Some(after);
        c.add_agreement(new).unwrap();
        c.record_mailing(Mailing {
            on: ymd(2025, 10, 7),
            by: actor(),
            to: vec!["ouders@example.nl".into()],
            agreements: vec![0, 1],
        })
        .unwrap();
        c.involve(
            &who("lpa"),
            Role::Leerplichtambtenaar,
            ymd(2025, 10, 1),
            actor(),
        )
        .unwrap();
        assert_eq!(c.partner_since(&who("lpa")), Some(ymd(2025, 10, 1)));
        assert_eq!(c.partner_since(&who("keten")), None);

        let seen = c.limited_to_period(ymd(2025, 10, 1));
        assert_eq!(seen.contacts.len(), 1);
        assert_eq!(seen.contacts[0].on, ymd(2025, 10, 6));
        assert_eq!(seen.agreements.len(), 1);
        assert_eq!(seen.agreements[0].what, "elke vrijdag bij de mentor langs");
        // References follow the renumbering.
        assert_eq!(seen.agreements[0].contact, Some(0));
        assert_eq!(seen.mailings.len(), 1);
        assert_eq!(seen.mailings[0].agreements, vec![0]);
        // The whole case from its first day leaves everything in.
        assert_eq!(c.limited_to_period(ymd(2025, 9, 1)), c);
    }

    // --- steps and checklists ------------------------------------------

    #[test]
    fn steps_round_trip_and_follow_the_signals() {
        for s in CaseStep::ALL {
            assert_eq!(CaseStep::parse(s.as_str()), Some(s));
            assert!(!s.label_nl().is_empty());
        }
        assert_eq!(
            CaseStep::for_rule(RuleId::AfmeldingCount),
            Some(CaseStep::S3a)
        );
        assert_eq!(
            CaseStep::for_rule(RuleId::AfmeldingLong),
            Some(CaseStep::S3a)
        );
        assert_eq!(CaseStep::for_rule(RuleId::Unexplained), Some(CaseStep::S3b));
        assert_eq!(
            CaseStep::for_rule(RuleId::AfmeldingPersist),
            Some(CaseStep::S4a)
        );
        assert_eq!(CaseStep::for_rule(RuleId::Duo16h), Some(CaseStep::S4b));
        assert_eq!(CaseStep::for_rule(RuleId::DuoLrv), Some(CaseStep::S4b));
        assert_eq!(CaseStep::for_rule(RuleId::DuoHoliday), Some(CaseStep::S4b));
        assert_eq!(CaseStep::for_rule(RuleId::Contact), None);
        assert_eq!(CaseStep::S4a.track(), Some(Track::A));
        assert_eq!(CaseStep::S3b.track(), Some(Track::B));
        assert_eq!(CaseStep::S5a.track(), None);
    }

    #[test]
    fn every_step_has_its_own_checklist_with_unique_keys() {
        for s in CaseStep::ALL {
            let list = standard_checklist(s);
            assert!(!list.is_empty(), "{s}");
            let keys: BTreeSet<&str> = list.iter().map(|i| i.key.as_str()).collect();
            assert_eq!(keys.len(), list.len(), "duplicate key at step {s}");
            for i in &list {
                assert_eq!(i.step, s);
                assert!(i.status.is_open());
                assert!(!i.label_nl.trim().is_empty());
            }
        }
    }

    #[test]
    fn checklists_carry_the_seed_actions() {
        let keys =
            |s| -> Vec<String> { standard_checklist(s).into_iter().map(|i| i.key).collect() };
        let has = |s, k: &str| keys(s).iter().any(|x| x == k);
        for s in [CaseStep::S3a, CaseStep::S3b] {
            assert!(has(s, keys::GESPREK));
            assert!(has(s, "afspraken_vastleggen"));
        }
        assert!(has(CaseStep::S3a, "afweging_ketenpartners"));
        assert!(has(CaseStep::S3b, "afweging_preventief_spreekuur"));
        // The weekly check and six-week evaluation of 4a, 4b and 5a.
        for s in [CaseStep::S4a, CaseStep::S4b, CaseStep::S5a] {
            assert!(has(s, keys::WEKELIJKSE_CHECK), "{s}");
            assert!(has(s, keys::EVALUATIE), "{s}");
        }
        for s in [CaseStep::S4a, CaseStep::S4b] {
            assert!(has(s, keys::INDIGO), "{s}");
        }
        assert!(has(CaseStep::S4b, keys::DUO_MELDING));
        assert!(has(CaseStep::S5b, "vo_wij_inzetten"));
        assert!(has(CaseStep::S5b, "contact_houden"));
        assert!(has(CaseStep::S6, "maatwerktraject"));
        assert!(has(CaseStep::S6, "vrijstelling"));
        // Leerplicht's own action at 4b; the AOJ leads 5a, 5b and 6.
        let l4b = standard_checklist(CaseStep::S4b);
        assert!(l4b
            .iter()
            .any(|i| i.key == "leerplicht_afspraken" && i.party == Party::Leerplicht));
        for s in [CaseStep::S5a, CaseStep::S5b, CaseStep::S6] {
            assert!(standard_checklist(s).iter().any(|i| i.party == Party::Aoj));
        }
        assert!(standard_checklist(CaseStep::S5b)
            .iter()
            .any(|i| i.label_nl.contains("meldcode")));
    }

    #[test]
    fn checklist_items_are_ticked_with_date_and_note() {
        let d = ymd(2025, 9, 1);
        let mut c = case_at(CaseStep::S3a, d);
        let done = ItemStatus::Done {
            on: ymd(2025, 9, 3),
            by: actor(),
            note: "met moeder en leerling".into(),
        };
        c.set_item(CaseStep::S3a, keys::GESPREK, done.clone())
            .unwrap();
        c.set_item(
            CaseStep::S3a,
            "afweging_ketenpartners",
            ItemStatus::NotApplicable {
                on: ymd(2025, 9, 3),
                by: actor(),
                note: String::new(),
            },
        )
        .unwrap();
        assert_eq!(c.engine_context().conversations_3a, vec![ymd(2025, 9, 3)]);
        assert_eq!(
            c.checklist_of(CaseStep::S3a)
                .filter(|i| i.status.is_open())
                .count(),
            1
        );
        assert_eq!(
            c.set_item(CaseStep::S4a, keys::GESPREK, done),
            Err(CaseError::UnknownChecklistItem {
                step: CaseStep::S4a,
                key: keys::GESPREK.into()
            })
        );
    }

    // --- opening and transitions ----------------------------------------

    #[test]
    fn a_case_opens_on_step_3_or_4_only() {
        let d = ymd(2025, 9, 1);
        for s in [CaseStep::S5a, CaseStep::S5b, CaseStep::S6] {
            assert_eq!(
                Case::open(
                    student(),
                    d,
                    actor(),
                    OpenReason::Zorgen { note: "x".into() },
                    s
                ),
                Err(CaseError::OpensAtDecisionStep(s))
            );
        }
        let c = Case::open(
            student(),
            d,
            actor(),
            OpenReason::Signal {
                rule: RuleId::Duo16h,
                on: d,
            },
            CaseStep::S4b,
        )
        .unwrap();
        assert_eq!(c.step, CaseStep::S4b);
        assert!(c.checklist.iter().all(|i| i.step == CaseStep::S4b));
        assert_eq!(
            Case::open(
                student(),
                d,
                actor(),
                OpenReason::Zorgen { note: "  ".into() },
                CaseStep::S3a
            ),
            Err(CaseError::MissingReason)
        );
    }

    #[test]
    fn moves_between_steps_3_and_4_go_every_way_and_are_recorded() {
        let lower = [CaseStep::S3a, CaseStep::S3b, CaseStep::S4a, CaseStep::S4b];
        for from in lower {
            for to in lower {
                let d = ymd(2025, 9, 1);
                let mut c = case_at(from, d);
                let r = c.move_to(to, ymd(2025, 9, 8), actor(), "signaal");
                if from == to {
                    assert_eq!(r, Err(CaseError::SameStep(to)));
                    continue;
                }
                r.unwrap();
                assert_eq!(c.step, to);
                assert_eq!(
                    c.history,
                    vec![StepChange {
                        from,
                        to,
                        at_date: ymd(2025, 9, 8),
                        by: actor(),
                        why: "signaal".into()
                    }]
                );
                assert!(c.checklist_of(to).count() > 0);
                assert!(c.checklist_of(from).count() > 0, "old items are kept");
            }
        }
    }

    #[test]
    fn a_step_change_needs_a_reason_and_no_backdating() {
        let mut c = case_at(CaseStep::S3b, ymd(2025, 9, 8));
        assert_eq!(
            c.move_to(CaseStep::S4b, ymd(2025, 9, 10), actor(), " "),
            Err(CaseError::MissingReason)
        );
        assert_eq!(
            c.move_to(CaseStep::S4b, ymd(2025, 9, 5), actor(), "16 uur"),
            Err(CaseError::Backdated {
                on: ymd(2025, 9, 5),
                earliest: ymd(2025, 9, 8)
            })
        );
        c.move_to(CaseStep::S4b, ymd(2025, 9, 11), actor(), "16 uur")
            .unwrap();
        assert!(matches!(
            c.move_to(CaseStep::S3b, ymd(2025, 9, 10), actor(), "terug"),
            Err(CaseError::Backdated { .. })
        ));
        // The same day as the last change is fine.
        c.move_to(
            CaseStep::S3b,
            ymd(2025, 9, 11),
            actor(),
            "DUO-melding was onterecht",
        )
        .unwrap();
        assert_eq!(c.history.len(), 2);
    }

    #[test]
    fn re_entering_a_step_keeps_its_checklist_without_duplicates() {
        let mut c = case_at(CaseStep::S3a, ymd(2025, 9, 1));
        c.set_item(
            CaseStep::S3a,
            keys::GESPREK,
            ItemStatus::Done {
                on: ymd(2025, 9, 2),
                by: actor(),
                note: String::new(),
            },
        )
        .unwrap();
        c.move_to(CaseStep::S4a, ymd(2025, 9, 20), actor(), "aanhoudend")
            .unwrap();
        c.move_to(CaseStep::S3a, ymd(2025, 10, 1), actor(), "gaat beter")
            .unwrap();
        assert_eq!(
            c.checklist_of(CaseStep::S3a).count(),
            standard_checklist(CaseStep::S3a).len()
        );
        assert_eq!(c.engine_context().conversations_3a, vec![ymd(2025, 9, 2)]);
    }

    #[test]
    fn step_5_follows_step_4_only() {
        let d = ymd(2025, 9, 1);
        for from in [CaseStep::S3a, CaseStep::S3b] {
            let mut c = case_at(from, d);
            c.decide(decision(d, DecisionKind::Cooperation { cooperates: true }))
                .unwrap();
            assert_eq!(
                c.move_to(CaseStep::S5a, d, actor(), "x"),
                Err(CaseError::Step5NeedsStep4 {
                    from,
                    to: CaseStep::S5a
                })
            );
        }
    }

    #[test]
    fn step_5_needs_the_familys_cooperation_recorded() {
        let d = ymd(2025, 10, 1);
        let mut c = case_at(CaseStep::S4a, d);
        assert_eq!(
            c.move_to(CaseStep::S5a, d, actor(), "AOJ"),
            Err(CaseError::CooperationNotRecorded(CaseStep::S5a))
        );
        // A decision dated after the move does not count yet.
        c.decide(decision(
            ymd(2025, 10, 8),
            DecisionKind::Cooperation { cooperates: true },
        ))
        .unwrap();
        assert_eq!(
            c.move_to(CaseStep::S5a, ymd(2025, 10, 7), actor(), "AOJ"),
            Err(CaseError::CooperationNotRecorded(CaseStep::S5a))
        );
        assert_eq!(
            c.move_to(CaseStep::S5b, ymd(2025, 10, 8), actor(), "AOJ"),
            Err(CaseError::CooperationMismatch {
                to: CaseStep::S5b,
                cooperates: true
            })
        );
        c.move_to(CaseStep::S5a, ymd(2025, 10, 8), actor(), "AOJ")
            .unwrap();
        // The family stops cooperating: a new decision, then 5b.
        assert!(matches!(
            c.move_to(CaseStep::S5b, ymd(2025, 11, 3), actor(), "geen medewerking"),
            Err(CaseError::CooperationMismatch { .. })
        ));
        c.decide(decision(
            ymd(2025, 11, 3),
            DecisionKind::Cooperation { cooperates: false },
        ))
        .unwrap();
        c.move_to(CaseStep::S5b, ymd(2025, 11, 3), actor(), "geen medewerking")
            .unwrap();
        assert_eq!(c.step, CaseStep::S5b);
        assert!(c.checklist_of(CaseStep::S5a).count() > 0);
        assert!(c.checklist_of(CaseStep::S5b).count() > 0);
    }

    #[test]
    fn step_6_is_a_maatwerk_decision_after_step_5() {
        let d = ymd(2025, 10, 1);
        let mut c = case_at(CaseStep::S4b, d);
        c.decide(decision(
            d,
            DecisionKind::Opdc {
                trajectory: OpdcTrajectory::Rebound8,
            },
        ))
        .unwrap();
        assert_eq!(
            c.move_to(CaseStep::S6, d, actor(), "OPDC"),
            Err(CaseError::MaatwerkNeedsStep5(CaseStep::S4b))
        );
        let mut c = case_at(CaseStep::S4b, d);
        c.decide(decision(d, DecisionKind::Cooperation { cooperates: false }))
            .unwrap();
        c.move_to(CaseStep::S5b, d, actor(), "AOJ").unwrap();
        // Other decisions are not maatwerk.
        c.decide(decision(d, DecisionKind::Ect)).unwrap();
        c.decide(decision(d, DecisionKind::VoWij { consent: false }))
            .unwrap();
        assert_eq!(
            c.move_to(CaseStep::S6, d, actor(), "maatwerk"),
            Err(CaseError::MaatwerkNotDecided)
        );
        c.decide(decision(ymd(2025, 11, 5), DecisionKind::Vrijstelling))
            .unwrap();
        c.move_to(
            CaseStep::S6,
            ymd(2025, 11, 5),
            actor(),
            "vrijstelling aangevraagd",
        )
        .unwrap();
        assert_eq!(c.step, CaseStep::S6);
        // Down from 6: to 5 (with the recorded cooperation) or 4 or 3.
        assert!(matches!(
            c.move_to(CaseStep::S5a, ymd(2025, 12, 1), actor(), "x"),
            Err(CaseError::CooperationMismatch { .. })
        ));
        c.move_to(CaseStep::S5b, ymd(2025, 12, 1), actor(), "traject gestopt")
            .unwrap();
        c.move_to(
            CaseStep::S4b,
            ymd(2025, 12, 2),
            actor(),
            "terug naar school",
        )
        .unwrap();
        c.move_to(CaseStep::S3b, ymd(2025, 12, 3), actor(), "gaat beter")
            .unwrap();
        assert_eq!(c.history.len(), 5);
        assert_eq!(c.step_on(ymd(2025, 11, 20)), Some(CaseStep::S6));
        assert_eq!(c.step_on(ymd(2025, 10, 1)), Some(CaseStep::S5b));
        assert_eq!(c.step_on(ymd(2025, 9, 30)), None);
    }

    #[test]
    fn every_maatwerk_decision_opens_step_6() {
        for kind in [
            DecisionKind::Opdc {
                trajectory: OpdcTrajectory::Ttvo,
            },
            DecisionKind::Opdc {
                trajectory: OpdcTrajectory::Doorstart,
            },
            DecisionKind::Opdc {
                trajectory: OpdcTrajectory::Rebound13,
            },
            DecisionKind::Vrijstelling,
            DecisionKind::OtherMaatwerk,
        ] {
            let d = ymd(2025, 10, 1);
            let mut c = case_at(CaseStep::S4a, d);
            c.decide(decision(d, DecisionKind::Cooperation { cooperates: true }))
                .unwrap();
            c.move_to(CaseStep::S5a, d, actor(), "AOJ").unwrap();
            c.decide(decision(d, kind)).unwrap();
            c.move_to(CaseStep::S6, d, actor(), "maatwerk").unwrap();
        }
    }

    #[test]
    fn closing_and_reopening() {
        let mut c = case_at(CaseStep::S4a, ymd(2025, 9, 1));
        let i = c
            .start_intervention(
                InterventionKind::Afspraken,
                "afspraken",
                ymd(2025, 9, 2),
                actor(),
            )
            .unwrap();
        assert_eq!(
            c.reopen(ymd(2025, 9, 3), actor(), "x"),
            Err(CaseError::NotClosed)
        );
        assert_eq!(
            c.close(ymd(2025, 10, 1), actor(), ClosureReason::Anders, ""),
            Err(CaseError::MissingReason)
        );
        assert!(matches!(
            c.close(
                ymd(2025, 8, 30),
                actor(),
                ClosureReason::AanwezigheidHersteld,
                ""
            ),
            Err(CaseError::Backdated { .. })
        ));
        c.close(
            ymd(2025, 10, 1),
            actor(),
            ClosureReason::AanwezigheidHersteld,
            "",
        )
        .unwrap();
        assert!(!c.is_open());
        assert_eq!(c.interventions[i].ended_on, Some(ymd(2025, 10, 1)));
        assert_eq!(c.step_on(ymd(2025, 10, 2)), None);
        // Nothing changes on a closed case.
        assert_eq!(
            c.move_to(CaseStep::S4b, ymd(2025, 10, 2), actor(), "x"),
            Err(CaseError::Closed)
        );
        assert_eq!(
            c.close(ymd(2025, 10, 2), actor(), ClosureReason::Anders, "x"),
            Err(CaseError::Closed)
        );
        assert_eq!(
            c.add_contact(contact(ymd(2025, 10, 2), None)),
            Err(CaseError::Closed)
        );
        assert_eq!(
            c.decide(decision(ymd(2025, 10, 2), DecisionKind::Ect)),
            Err(CaseError::Closed)
        );
        assert!(c.tasks(&example_calendar(), ymd(2025, 12, 1)).is_empty());
        // Reopening: not before the closing, with a reason, at the old step.
        assert!(matches!(
            c.reopen(ymd(2025, 9, 30), actor(), "weer afwezig"),
            Err(CaseError::Backdated { .. })
        ));
        assert_eq!(
            c.reopen(ymd(2025, 11, 3), actor(), ""),
            Err(CaseError::MissingReason)
        );
        c.reopen(ymd(2025, 11, 3), actor(), "weer vaak afwezig")
            .unwrap();
        assert!(c.is_open());
        assert_eq!(c.step, CaseStep::S4a);
        assert_eq!(c.reopenings.len(), 1);
        assert_eq!(c.reopenings[0].closure.on, ymd(2025, 10, 1));
        assert_eq!(c.step_on(ymd(2025, 10, 15)), None);
        assert_eq!(c.step_on(ymd(2025, 11, 3)), Some(CaseStep::S4a));
        assert!(matches!(
            c.move_to(CaseStep::S4b, ymd(2025, 11, 2), actor(), "x"),
            Err(CaseError::Backdated { .. })
        ));
        c.move_to(CaseStep::S4b, ymd(2025, 11, 4), actor(), "16 uur")
            .unwrap();
    }

    // --- contacts, agreements, decisions ---------------------------------

    #[test]
    fn guides_have_unique_question_keys_in_dutch() {
        for g in Guide::ALL {
            let keys: BTreeSet<&str> = g.questions().iter().map(|q| q.key).collect();
            assert_eq!(keys.len(), g.questions().len());
            assert!(g.questions().iter().all(|q| !q.text_nl.is_empty()));
        }
        assert_eq!(Guide::B.questions().len(), 6);
        // Guide C reminds the asker not to ask about the illness.
        assert!(Guide::C
            .question("c_reden")
            .and_then(|q| q.hint_nl)
            .is_some_and(|h| h.contains("aard van de ziekte")));
    }

    #[test]
    fn answers_must_belong_to_the_guide() {
        let mut c = case_at(CaseStep::S3a, ymd(2025, 9, 1));
        let mut m = contact(ymd(2025, 9, 2), Some(30));
        m.answers.push(Answer {
            key: "b_hoe_gaat_het".into(),
            text: "goed".into(),
        });
        assert_eq!(
            c.add_contact(m.clone()),
            Err(CaseError::AnswersWithoutGuide)
        );
        m.guide = Some(Guide::C);
        assert_eq!(
            c.add_contact(m.clone()),
            Err(CaseError::UnknownQuestion {
                guide: Guide::C,
                key: "b_hoe_gaat_het".into()
            })
        );
        m.guide = Some(Guide::B);
        assert_eq!(c.add_contact(m), Ok(0));
    }

    #[test]
    fn agreements_and_their_checks() {
        let mut c = case_at(CaseStep::S3a, ymd(2025, 9, 1));
        let mut a = agreement(ymd(2025, 9, 2));
        a.contact = Some(0);
        assert_eq!(
            c.add_agreement(a.clone()),
            Err(CaseError::UnknownContact(0))
        );
        c.add_contact(contact(ymd(2025, 9, 2), None)).unwrap();
        let mut empty = a.clone();
        empty.what = " ".into();
        assert_eq!(c.add_agreement(empty), Err(CaseError::EmptyAgreement));
        let i = c.add_agreement(a).unwrap();
        let check = |on| WeeklyCheck {
            on,
            kept: true,
            note: String::new(),
        };
        assert!(matches!(
            c.check_agreement(i, check(ymd(2025, 9, 1))),
            Err(CaseError::BeforeStart { .. })
        ));
        assert_eq!(
            c.check_agreement(9, check(ymd(2025, 9, 9))),
            Err(CaseError::UnknownAgreement(9))
        );
        c.check_agreement(i, check(ymd(2025, 9, 9))).unwrap();
        assert_eq!(c.agreements[i].kept.len(), 1);
    }

    #[test]
    fn the_meldcode_is_visible_only_to_the_roles_that_handle_it() {
        let d = ymd(2025, 10, 1);
        let mut c = case_at(CaseStep::S4b, d);
        c.decide(decision(d, DecisionKind::VoWij { consent: false }))
            .unwrap();
        c.decide(decision(d, DecisionKind::Meldcode)).unwrap();
        assert_eq!(
            c.redacted_for(Role::Ondersteuningscoordinator)
                .decisions
                .len(),
            2
        );
        for r in [
            Role::Mentor,
            Role::Verzuimcoordinator,
            Role::Leerplichtambtenaar,
        ] {
            let v = c.redacted_for(r);
            assert_eq!(v.decisions.len(), 1, "{r}");
            assert!(v.decisions.iter().all(|d| d.kind != DecisionKind::Meldcode));
        }
    }

    #[test]
    fn interventions_start_evaluate_and_end() {
        let mut c = case_at(CaseStep::S4a, ymd(2025, 9, 1));
        assert_eq!(
            c.start_intervention(InterventionKind::Afspraken, "", ymd(2025, 9, 1), actor()),
            Err(CaseError::MissingReason)
        );
        let i = c
            .start_intervention(
                InterventionKind::Afspraken,
                "afspraken",
                ymd(2025, 9, 8),
                actor(),
            )
            .unwrap();
        assert_eq!(c.interventions[i].step, CaseStep::S4a);
        let ev = |on| Evaluation {
            on,
            by: actor(),
            note: String::new(),
            before: None,
            since: None,
        };
        assert!(matches!(
            c.evaluate(i, ev(ymd(2025, 9, 1))),
            Err(CaseError::BeforeStart { .. })
        ));
        assert_eq!(
            c.evaluate(3, ev(ymd(2025, 9, 9))),
            Err(CaseError::UnknownIntervention(3))
        );
        c.evaluate(i, ev(ymd(2025, 10, 13))).unwrap();
        assert!(matches!(
            c.end_intervention(i, ymd(2025, 9, 1)),
            Err(CaseError::BeforeStart { .. })
        ));
        c.end_intervention(i, ymd(2025, 10, 13)).unwrap();
        assert_eq!(
            c.end_intervention(i, ymd(2025, 10, 14)),
            Err(CaseError::InterventionEnded)
        );
        let (before, after) = c.interventions[i].comparison_periods(ymd(2025, 10, 13));
        assert_eq!(after, (ymd(2025, 9, 8), ymd(2025, 10, 13)));
        assert_eq!(before, (ymd(2025, 8, 3), ymd(2025, 9, 7)));
        assert_eq!(
            (before.1 - before.0).num_days(),
            (after.1 - after.0).num_days()
        );
    }

    // --- deadlines ------------------------------------------------------

    fn only(tasks: &[Task], f: impl Fn(&TaskKind) -> bool) -> Vec<&Task> {
        tasks.iter().filter(|t| f(&t.kind)).collect()
    }

    #[test]
    fn the_call_is_due_the_next_school_day() {
        let cal = example_calendar();
        let mut c = Case::open(
            student(),
            ymd(2025, 9, 2),
            actor(),
            OpenReason::Signal {
                rule: RuleId::Contact,
                on: ymd(2025, 9, 2),
            },
            CaseStep::S3a,
        )
        .unwrap();
        let t = c.tasks(&cal, ymd(2025, 9, 2));
        assert_eq!(t.len(), 1);
        assert_eq!(
            t[0].kind,
            TaskKind::Call {
                absent_on: ymd(2025, 9, 2)
            }
        );
        assert_eq!(t[0].due, ymd(2025, 9, 3));
        assert!(!t[0].overdue);
        assert!(c.tasks(&cal, ymd(2025, 9, 4))[0].overdue);
        // Before the herfstvakantie the next school day is after it.
        c.link_signal(RuleId::Contact, ymd(2025, 10, 17)).unwrap();
        c.link_signal(RuleId::Contact, ymd(2025, 10, 17)).unwrap();
        c.add_contact(contact(ymd(2025, 9, 3), Some(10))).unwrap();
        let t = c.tasks(&cal, ymd(2025, 10, 27));
        assert_eq!(t.len(), 1, "the September call was made; one October call");
        assert_eq!(t[0].due, ymd(2025, 10, 27));
        assert!(!t[0].overdue);
        assert!(c.tasks(&cal, ymd(2025, 10, 28))[0].overdue);
        // A signal not yet fired on `today` makes no task.
        assert!(c.tasks(&cal, ymd(2025, 10, 16)).is_empty());
        // Other signals make no call.
        c.link_signal(RuleId::AfmeldingCount, ymd(2025, 10, 28))
            .unwrap();
        c.add_contact(contact(ymd(2025, 10, 27), None)).unwrap();
        assert!(c.tasks(&cal, ymd(2025, 11, 3)).is_empty());
        // The studiedag of 24 Nov is skipped too.
        assert_eq!(next_school_day(&cal, ymd(2025, 11, 21)), ymd(2025, 11, 25));
    }

    #[test]
    fn the_weekly_check_comes_every_seven_days_from_step_4() {
        let cal = example_calendar();
        let mut c = case_at(CaseStep::S3a, ymd(2025, 9, 1));
        let i = c
            .start_intervention(
                InterventionKind::Afspraken,
                "afspraken",
                ymd(2025, 9, 1),
                actor(),
            )
            .unwrap();
        let weekly = |c: &Case, today| {
            c.tasks(&cal, today)
                .into_iter()
                .filter(|t| matches!(t.kind, TaskKind::WeeklyCheck { .. }))
                .collect::<Vec<_>>()
        };
        assert!(
            weekly(&c, ymd(2025, 9, 9)).is_empty(),
            "no weekly check at step 3"
        );
        c.move_to(CaseStep::S4a, ymd(2025, 9, 1), actor(), "aanhoudend")
            .unwrap();
        let t = weekly(&c, ymd(2025, 9, 8));
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].due, ymd(2025, 9, 8));
        assert!(!t[0].overdue);
        assert!(weekly(&c, ymd(2025, 9, 9))[0].overdue);
        // A check on Friday moves the next one to the Friday after.
        let a = c.add_agreement(agreement(ymd(2025, 9, 1))).unwrap();
        c.check_agreement(
            a,
            WeeklyCheck {
                on: ymd(2025, 9, 5),
                kept: false,
                note: "twee keer te laat".into(),
            },
        )
        .unwrap();
        let t = weekly(&c, ymd(2025, 9, 9));
        assert_eq!(t[0].due, ymd(2025, 9, 12));
        assert!(!t[0].overdue);
        assert_eq!(c.next_weekly_check(&cal, i), Some(ymd(2025, 9, 12)));
        // Overdue when today is past it and no check was recorded.
        assert!(weekly(&c, ymd(2025, 9, 15))[0].overdue);
        // An ended intervention asks nothing.
        c.end_intervention(i, ymd(2025, 9, 12)).unwrap();
        assert!(weekly(&c, ymd(2025, 9, 15)).is_empty());
    }

    #[test]
    fn a_due_date_in_a_holiday_moves_to_a_school_day() {
        let cal = example_calendar();
        // Seven days after Mon 13 Oct is in the herfstvakantie: Fri 17 Oct.
        assert_eq!(due_within(&cal, ymd(2025, 10, 13), 7), ymd(2025, 10, 17));
        // Seven days after Fri 17 Oct hold no school day: Mon 27 Oct.
        assert_eq!(due_within(&cal, ymd(2025, 10, 17), 7), ymd(2025, 10, 27));
        // A Saturday limit moves back to Friday.
        assert_eq!(due_within(&cal, ymd(2025, 9, 6), 7), ymd(2025, 9, 12));
    }

    #[test]
    fn the_evaluation_is_due_within_six_weeks_even_when_all_goes_well() {
        let cal = example_calendar();
        let mut c = case_at(CaseStep::S4b, ymd(2025, 9, 1));
        let i = c
            .start_intervention(
                InterventionKind::Afspraken,
                "afspraken",
                ymd(2025, 9, 1),
                actor(),
            )
            .unwrap();
        let a = c.add_agreement(agreement(ymd(2025, 9, 1))).unwrap();
        for day in [5, 12, 19, 26] {
            c.check_agreement(
                a,
                WeeklyCheck {
                    on: ymd(2025, 9, day),
                    kept: true,
                    note: String::new(),
                },
            )
            .unwrap();
        }
        let evals = |c: &Case, today| -> Vec<Task> {
            c.tasks(&cal, today)
                .into_iter()
                .filter(|t| matches!(t.kind, TaskKind::Evaluation { .. }))
                .collect()
        };
        let t = evals(&c, ymd(2025, 9, 29));
        assert_eq!(t.len(), 1, "all agreements kept, still an evaluation");
        assert_eq!(t[0].due, ymd(2025, 10, 13));
        assert!(!t[0].overdue);
        assert!(evals(&c, ymd(2025, 10, 14))[0].overdue);
        // After an evaluation the next is due six weeks later.
        c.evaluate(
            i,
            Evaluation {
                on: ymd(2025, 10, 10),
                by: actor(),
                note: "gaat goed".into(),
                before: None,
                since: None,
            },
        )
        .unwrap();
        assert_eq!(evals(&c, ymd(2025, 10, 14))[0].due, ymd(2025, 11, 21));
        // Six weeks ending in the herfstvakantie: the school day before.
        let mut c = case_at(CaseStep::S3b, ymd(2025, 9, 8));
        c.start_intervention(
            InterventionKind::Afspraken,
            "afspraken",
            ymd(2025, 9, 8),
            actor(),
        )
        .unwrap();
        assert_eq!(evals(&c, ymd(2025, 9, 8))[0].due, ymd(2025, 10, 17));
    }

    #[test]
    fn a_thuiswerkplan_needs_two_contacts_of_two_hours_a_week() {
        let cal = example_calendar();
        let mut c = case_at(CaseStep::S4a, ymd(2025, 10, 27));
        c.decide(decision(
            ymd(2025, 11, 3),
            DecisionKind::Cooperation { cooperates: true },
        ))
        .unwrap();
        c.move_to(CaseStep::S5a, ymd(2025, 11, 3), actor(), "AOJ")
            .unwrap();
        let i = c
            .start_intervention(
                InterventionKind::Thuiswerkplan,
                "thuiswerkplan",
                ymd(2025, 11, 3),
                actor(),
            )
            .unwrap();
        // Week 45: two contacts of two hours. Week 46: one of two hours,
        // one of 90 minutes. Week 47 (current): none yet.
        for (d, m) in [(4, 120), (6, 150), (11, 120), (13, 90)] {
            c.add_contact(contact(ymd(2025, 11, d), Some(m))).unwrap();
        }
        let weeks = c.thuiswerk_weeks(&cal, i, ymd(2025, 11, 19));
        let counts: Vec<(u32, usize)> = weeks.iter().map(|(w, n, _)| (w.week(), *n)).collect();
        assert_eq!(counts, vec![(45, 2), (46, 1), (47, 0)]);
        let t = c.tasks(&cal, ymd(2025, 11, 19));
        let tw = only(&t, |k| matches!(k, TaskKind::ThuiswerkWeek { .. }));
        assert_eq!(tw.len(), 2);
        assert_eq!(
            tw[0].kind,
            TaskKind::ThuiswerkWeek {
                intervention: i,
                iso_year: 2025,
                iso_week: 46,
                contacts: 1
            }
        );
        assert_eq!(tw[0].due, ymd(2025, 11, 14));
        assert!(tw[0].overdue);
        assert_eq!(tw[1].due, ymd(2025, 11, 21));
        assert!(!tw[1].overdue);
        // A plan starting mid-week counts from the first whole week.
        let mut c2 = case_at(CaseStep::S4a, ymd(2025, 11, 5));
        let j = c2
            .start_intervention(
                InterventionKind::Thuiswerkplan,
                "thuiswerkplan",
                ymd(2025, 11, 5),
                actor(),
            )
            .unwrap();
        let w: Vec<u32> = c2
            .thuiswerk_weeks(&cal, j, ymd(2025, 11, 12))
            .iter()
            .map(|(w, _, _)| w.week())
            .collect();
        assert_eq!(w, vec![46]);
        // The week with the studiedag (Mon 24 Nov) counts; its due day is Friday.
        let wk48 = c2
            .thuiswerk_weeks(&cal, j, ymd(2025, 11, 28))
            .into_iter()
            .find(|(w, _, _)| w.week() == 48)
            .unwrap();
        assert_eq!(wk48.2, ymd(2025, 11, 28));
        // A holiday week asks nothing (herfstvakantie, week 43).
        let mut c3 = case_at(CaseStep::S4a, ymd(2025, 10, 13));
        let k = c3
            .start_intervention(
                InterventionKind::Thuiswerkplan,
                "thuiswerkplan",
                ymd(2025, 10, 13),
                actor(),
            )
            .unwrap();
        let w: Vec<u32> = c3
            .thuiswerk_weeks(&cal, k, ymd(2025, 10, 29))
            .iter()
            .map(|(w, _, _)| w.week())
            .collect();
        assert_eq!(w, vec![42, 44]);
        // Other interventions are no thuiswerkplan.
        let l = c3
            .start_intervention(
                InterventionKind::Afspraken,
                "afspraken",
                ymd(2025, 10, 13),
                actor(),
            )
            .unwrap();
        assert!(c3.thuiswerk_weeks(&cal, l, ymd(2025, 10, 29)).is_empty());
    }

    #[test]
    fn tasks_are_sorted_by_due_date() {
        let cal = example_calendar();
        let mut c = case_at(CaseStep::S4b, ymd(2025, 9, 1));
        c.link_signal(RuleId::Contact, ymd(2025, 9, 1)).unwrap();
        c.start_intervention(
            InterventionKind::Afspraken,
            "afspraken",
            ymd(2025, 9, 1),
            actor(),
        )
        .unwrap();
        let t = c.tasks(&cal, ymd(2025, 9, 10));
        assert_eq!(t.len(), 3);
        assert!(t.windows(2).all(|w| w[0].due <= w[1].due));
        assert!(t.iter().all(|t| !t.label_nl.is_empty()));
    }

    // --- properties -----------------------------------------------------

    fn school_year_date() -> impl Strategy<Value = NaiveDate> {
        (0u64..300).prop_map(|n| ymd(2025, 8, 25) + Days::new(n))
    }

    #[test]
    fn partners_are_brought_in_and_released() {
        let d = ymd(2025, 10, 6);
        let mut c = case_at(CaseStep::S4a, d);
        assert_eq!(c.owner(), "vc");
        // The jeugdarts only after a referral with the parents' consent.
        assert_eq!(
            c.involve(&who("arts"), Role::Jeugdarts, d, actor()),
            Err(CaseError::NoConsent)
        );
        c.decide(decision(d, DecisionKind::Jeugdarts { consent: false }))
            .unwrap();
        assert_eq!(
            c.involve(&who("arts"), Role::Jeugdarts, d, actor()),
            Err(CaseError::NoConsent)
        );
        c.decide(decision(d, DecisionKind::Jeugdarts { consent: true }))
            .unwrap();
        c.involve(&who("arts"), Role::Jeugdarts, d, actor())
            .unwrap();
        // Leerplicht and ketenpartners need no such referral.
        c.involve(&who("lpa"), Role::Leerplichtambtenaar, d, actor())
            .unwrap();
        assert!(c.involves(&who("arts")));
        assert_eq!(
            c.involve(&who("arts"), Role::Jeugdarts, d, actor()),
            Err(CaseError::AlreadyInvolved("arts".into()))
        );
        assert_eq!(
            c.involve(&who("m"), Role::Mentor, d, actor()),
            Err(CaseError::NotAPartner(Role::Mentor))
        );
        c.release("arts", Some("id-arts"), ymd(2025, 10, 20))
            .unwrap();
        assert!(!c.involves(&who("arts")));
        assert_eq!(c.involved[0].until, Some(ymd(2025, 10, 20)));
        assert_eq!(
            c.release("arts", None, d),
            Err(CaseError::NotInvolved("arts".into()))
        );
        // Brought in again later: a new, current involvement.
        c.involve(&who("arts"), Role::Jeugdarts, ymd(2025, 11, 3), actor())
            .unwrap();
        assert!(c.involves(&who("arts")));
    }

    #[test]
    fn an_involvement_follows_the_account_id() {
        let d = ymd(2025, 10, 6);
        let mut c = case_at(CaseStep::S3b, d);
        c.decide(decision(d, DecisionKind::VoWij { consent: true }))
            .unwrap();
        let old = who("keten");
        c.involve(&old, Role::Ketenpartner, d, actor()).unwrap();
        assert_eq!(c.involved[0].account.as_deref(), Some("id-keten"));
        assert_eq!(c.involved[0].user, "keten");
        assert!(c.involves(&old), "the same account id matches");
        // The account was removed and the name given to someone else.
        let newcomer = PartnerIdentity {
            account_id: "id-someone-else",
            created_on: ymd(2025, 11, 1),
            ..old
        };
        assert!(!c.involves(&newcomer), "same name, other id: no access");
        // Even an account that claims to be older does not match by name.
        let older = PartnerIdentity {
            created_on: ymd(2020, 1, 1),
            ..newcomer
        };
        assert!(!c.involves(&older));
        // Nor does another name with the same id matter: the id decides.
        let renamed = PartnerIdentity {
            username: "anders",
            ..old
        };
        assert!(c.involves(&renamed));
        // The newcomer can be brought in on their own account.
        c.involve(&newcomer, Role::Ketenpartner, ymd(2025, 11, 3), actor())
            .unwrap();
        assert!(c.involves(&newcomer));
        assert_eq!(c.release_partner(&old, ymd(2025, 11, 4)), 1);
        assert!(!c.involves(&old));
        assert!(
            c.involves(&newcomer),
            "releasing one account keeps the other"
        );
        assert_eq!(c.release_partner(&old, ymd(2025, 11, 5)), 0, "once");
        assert_eq!(c.involved[0].until, Some(ymd(2025, 11, 4)));
    }

    /// A case with an involvement recorded before accounts had ids (what a
    /// stored JSON without `account` loads as; the storage tests load one).
    fn legacy_case(since: NaiveDate) -> Case {
        let mut c = case_at(CaseStep::S3b, since);
        c.involved.push(Involvement {
            user: "keten".into(),
            account: None,
            role: Role::Ketenpartner,
            since,
            by: actor(),
            until: None,
        });
        c
    }

    #[test]
    fn a_legacy_involvement_matches_only_an_account_that_existed_then() {
        let since = ymd(2025, 10, 6);
        let c = legacy_case(since);
        let older = PartnerIdentity {
            username: "keten",
            account_id: "whatever",
            created_on: ymd(2025, 9, 1),
        };
        assert!(c.involves(&older), "account older than the involvement");
        let same_day = PartnerIdentity {
            created_on: since,
            ..older
        };
        assert!(c.involves(&same_day), "created on the day itself");
        let newer = PartnerIdentity {
            created_on: ymd(2025, 10, 7),
            ..older
        };
        assert!(
            !c.involves(&newer),
            "an account created later under the same name gets nothing"
        );
        let other_name = PartnerIdentity {
            username: "keten2",
            ..older
        };
        assert!(!c.involves(&other_name));
    }

    #[test]
    fn releasing_by_name_or_account() {
        let since = ymd(2025, 10, 6);
        let mut c = legacy_case(since);
        // Removing a newer account of the same name leaves the legacy
        // involvement alone: it was not that account's.
        let newer = PartnerIdentity {
            username: "keten",
            account_id: "nieuw",
            created_on: ymd(2025, 10, 7),
        };
        assert_eq!(c.release_partner(&newer, ymd(2025, 10, 8)), 0);
        c.decide(decision(
            ymd(2025, 10, 8),
            DecisionKind::VoWij { consent: true },
        ))
        .unwrap();
        c.involve(&newer, Role::Ketenpartner, ymd(2025, 10, 8), actor())
            .unwrap();
        // The dossier page names an involvement with an account by its id.
        c.release("keten", Some("nieuw"), ymd(2025, 10, 9)).unwrap();
        assert!(c.involved[0].is_active(), "the legacy one stays");
        assert!(!c.involved[1].is_active());
        assert_eq!(
            c.release("keten", Some("nieuw"), ymd(2025, 10, 9)),
            Err(CaseError::NotInvolved("keten".into()))
        );
        // Without an id: every current involvement under the name.
        c.release("keten", None, ymd(2025, 10, 10)).unwrap();
        assert!(c.involved.iter().all(|i| !i.is_active()));
        // The trail shows each end like any other release.
        let trail = format!("{:?}", c.trail_nl());
        assert_eq!(
            trail.matches("keten niet meer betrokken").count(),
            2,
            "{trail}"
        );
    }

    #[test]
    fn confidential_notes_are_the_jeugdarts_alone() {
        let d = ymd(2025, 10, 6);
        let mut c = case_at(CaseStep::S4a, d);
        let note = |role| ConfidentialNote {
            on: d,
            by: Actor::new("x", role),
            text: "vervolgafspraak spreekuur over drie weken".into(),
        };
        assert_eq!(
            c.add_confidential(note(Role::Ondersteuningscoordinator)),
            Err(CaseError::NotAllowed)
        );
        c.add_confidential(note(Role::Jeugdarts)).unwrap();
        assert_eq!(
            c.add_confidential(ConfidentialNote {
                text: "  ".into(),
                ..note(Role::Jeugdarts)
            }),
            Err(CaseError::EmptyNote)
        );
        assert_eq!(c.redacted_for(Role::Jeugdarts).confidential.len(), 1);
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Jeugdarts) {
            assert!(c.redacted_for(role).confidential.is_empty(), "{role}");
        }
    }

    #[test]
    fn partners_see_no_conversation_content_or_addresses() {
        let d = ymd(2025, 10, 6);
        let mut c = case_at(CaseStep::S3b, d);
        let mut m = contact(d, Some(30));
        m.guide = Some(Guide::B);
        m.answers = vec![Answer {
            key: "b_hoe_gaat_het".into(),
            text: "gaat wel".into(),
        }];
        m.note = "vertrouwelijk gesprek".into();
        c.add_contact(m).unwrap();
        c.add_agreement(agreement(d)).unwrap();
        c.parent_emails = vec!["ouder@example.org".into()];
        c.record_mailing(Mailing {
            on: d,
            by: actor(),
            to: vec!["ouder@example.org".into()],
            agreements: vec![0],
        })
        .unwrap();
        assert_eq!(
            c.record_mailing(Mailing {
                on: d,
                by: actor(),
                to: vec![],
                agreements: vec![5],
            }),
            Err(CaseError::UnknownAgreement(5))
        );
        c.decide(decision(d, DecisionKind::Meldcode)).unwrap();
        for role in [
            Role::Leerplichtambtenaar,
            Role::Jeugdarts,
            Role::Ketenpartner,
        ] {
            let r = c.redacted_for(role);
            assert!(r.contacts[0].answers.is_empty() && r.contacts[0].note.is_empty());
            assert_eq!(r.contacts[0].on, d, "when it happened stays");
            assert!(r.parent_emails.is_empty());
            assert!(r.mailings[0].to.is_empty());
            assert_eq!(r.agreements.len(), 1, "agreements are shared");
            assert!(r.decisions.is_empty(), "no meldcode for {role}");
            assert!(
                matches!(&r.reason, OpenReason::Zorgen { note } if note.is_empty()),
                "the school's note stays at school"
            );
        }
        let school = c.redacted_for(Role::Verzuimcoordinator);
        assert_eq!(school.contacts[0].answers.len(), 1);
        assert_eq!(school.parent_emails.len(), 1);
        assert_eq!(
            c.redacted_for(Role::Ondersteuningscoordinator)
                .decisions
                .len(),
            1
        );
    }

    #[test]
    fn the_engine_context_holds_the_3a_conversations() {
        let d = ymd(2025, 10, 6);
        let mut c = case_at(CaseStep::S3a, d);
        assert!(c.engine_context().conversations_3a.is_empty());
        c.set_item(
            CaseStep::S3a,
            keys::GESPREK,
            ItemStatus::Done {
                on: ymd(2025, 10, 8),
                by: actor(),
                note: String::new(),
            },
        )
        .unwrap();
        assert_eq!(c.engine_context().conversations_3a, vec![ymd(2025, 10, 8)]);
        // A contact moment with student and parents at 3a counts too; one
        // with the student alone does not.
        let mut alone = contact(ymd(2025, 10, 9), None);
        alone.participants = vec![Party::Leerling];
        c.add_contact(alone).unwrap();
        let mut both = contact(ymd(2025, 10, 13), None);
        both.participants = vec![Party::Leerling, Party::Ouders];
        c.add_contact(both).unwrap();
        assert_eq!(
            c.engine_context().conversations_3a,
            vec![ymd(2025, 10, 8), ymd(2025, 10, 13)]
        );
        // A 3b conversation is not a 3a conversation.
        let mut b = case_at(CaseStep::S3b, d);
        b.set_item(
            CaseStep::S3b,
            keys::GESPREK,
            ItemStatus::Done {
                on: ymd(2025, 10, 8),
                by: actor(),
                note: String::new(),
            },
        )
        .unwrap();
        assert!(b.engine_context().conversations_3a.is_empty());
    }

    #[test]
    fn the_trail_tells_the_case_in_order() {
        let d = ymd(2025, 10, 6);
        let mut c = case_at(CaseStep::S3b, d);
        c.add_agreement(agreement(ymd(2025, 10, 7))).unwrap();
        c.move_to(CaseStep::S4b, ymd(2025, 10, 9), actor(), "16 uur")
            .unwrap();
        c.close(
            ymd(2025, 10, 20),
            actor(),
            ClosureReason::AanwezigheidHersteld,
            "",
        )
        .unwrap();
        let t = c.trail_nl();
        let lines: Vec<&str> = t.iter().map(|e| e.what_nl.as_str()).collect();
        assert!(
            lines[0].starts_with("Dossier geopend op stap 3b"),
            "{lines:?}"
        );
        assert!(lines[1].starts_with("Afspraak (leerling): elke ochtend"));
        assert_eq!(lines[2], "Stap 3b → 4b: 16 uur");
        assert_eq!(lines[3], "Dossier gesloten: aanwezigheid hersteld");
        assert!(t.windows(2).all(|w| w[0].on <= w[1].on));
        // Redacted first: a partner's trail has no conversation content.
        let mut m = contact(d, None);
        m.note = "geheim".into();
        let mut open = case_at(CaseStep::S3b, d);
        open.add_contact(m).unwrap();
        assert!(open.trail_nl().iter().any(|e| e.what_nl.contains("geheim")));
        assert!(!open
            .redacted_for(Role::Ketenpartner)
            .trail_nl()
            .iter()
            .any(|e| e.what_nl.contains("geheim")));
    }

    #[test]
    fn from_step_4_agreements_are_checked_weekly_even_without_an_intervention() {
        let cal = example_calendar();
        let mut c = case_at(CaseStep::S3b, ymd(2025, 9, 8));
        c.add_agreement(agreement(ymd(2025, 9, 9))).unwrap();
        let checks = |c: &Case, today| -> Vec<NaiveDate> {
            c.tasks(&cal, today)
                .into_iter()
                .filter(|t| t.kind == TaskKind::AgreementCheck)
                .map(|t| t.due)
                .collect()
        };
        assert!(checks(&c, ymd(2025, 9, 30)).is_empty(), "not at step 3");
        c.move_to(CaseStep::S4b, ymd(2025, 9, 15), actor(), "16 uur")
            .unwrap();
        assert_eq!(checks(&c, ymd(2025, 9, 16)), vec![ymd(2025, 9, 22)]);
        c.check_agreement(
            0,
            WeeklyCheck {
                on: ymd(2025, 9, 22),
                kept: true,
                note: String::new(),
            },
        )
        .unwrap();
        assert_eq!(checks(&c, ymd(2025, 9, 23)), vec![ymd(2025, 9, 29)]);
        // A running intervention takes the check over (with its own task).
        c.start_intervention(
            InterventionKind::Afspraken,
            "melden bij de mentor",
            ymd(2025, 9, 23),
            actor(),
        )
        .unwrap();
        assert!(checks(&c, ymd(2025, 9, 24)).is_empty());
    }

    #[test]
    fn numbers_in_messages_count_from_one() {
        assert_eq!(
            CaseError::UnknownAgreement(0).to_string(),
            "er is geen afspraak nummer 1"
        );
        assert_eq!(
            CaseError::UnknownIntervention(2).to_string(),
            "er is geen interventie nummer 3"
        );
    }

    #[test]
    fn a_jeugdarts_referral_is_for_the_jeugdarts_among_the_partners() {
        let d = ymd(2025, 10, 6);
        let mut c = case_at(CaseStep::S3a, d);
        c.decide(decision(d, DecisionKind::Jeugdarts { consent: true }))
            .unwrap();
        c.decide(decision(d, DecisionKind::PreventiefSpreekuur))
            .unwrap();
        let kinds = |role| -> usize { c.redacted_for(role).decisions.len() };
        assert_eq!(kinds(Role::Jeugdarts), 2);
        assert_eq!(kinds(Role::Leerplichtambtenaar), 1);
        assert_eq!(kinds(Role::Ketenpartner), 1);
        assert_eq!(kinds(Role::Mentor), 2);
    }

    #[test]
    fn one_call_covers_every_absence_since_the_last_contact() {
        let cal = example_calendar();
        let mut c = case_at(CaseStep::S3b, ymd(2025, 9, 8));
        for d in [ymd(2025, 9, 9), ymd(2025, 9, 10), ymd(2025, 9, 16)] {
            c.link_signal(RuleId::Contact, d).unwrap();
        }
        let calls = |c: &Case, today| -> Vec<NaiveDate> {
            c.tasks(&cal, today)
                .into_iter()
                .filter_map(|t| match t.kind {
                    TaskKind::Call { absent_on } => Some(absent_on),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(calls(&c, ymd(2025, 9, 11)), vec![ymd(2025, 9, 9)]);
        // A call on the 11th covers the 9th and 10th; the 16th is new.
        c.add_contact(contact(ymd(2025, 9, 11), None)).unwrap();
        assert!(calls(&c, ymd(2025, 9, 12)).is_empty());
        assert_eq!(calls(&c, ymd(2025, 9, 17)), vec![ymd(2025, 9, 16)]);
    }

    #[test]
    fn party_choices_have_one_key_each() {
        let keys: BTreeSet<&str> = Party::CHOICES.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys.len(), Party::CHOICES.len());
        assert!(!Party::CHOICES
            .iter()
            .any(|(_, p)| matches!(p, Party::Other(_))));
    }

    #[test]
    fn the_case_is_handed_over_to_someone_at_school() {
        let d = ymd(2025, 10, 6);
        let mut c = case_at(CaseStep::S3b, d);
        assert_eq!(c.owner(), "vc");
        assert_eq!(
            c.hand_over("arts", Role::Jeugdarts, d, actor()),
            Err(CaseError::NotALead(Role::Jeugdarts))
        );
        assert_eq!(
            c.hand_over("vc", Role::Verzuimcoordinator, d, actor()),
            Err(CaseError::SameLead("vc".into()))
        );
        c.hand_over("mentor.2b", Role::Mentor, d, actor()).unwrap();
        assert_eq!(c.owner(), "mentor.2b");
        assert_eq!(c.handovers[0].from, "vc");
        assert!(c
            .trail_nl()
            .iter()
            .any(|e| e.what_nl == "Dossierhouder vc → mentor.2b"));
    }

    #[test]
    fn withdrawn_consent_releases_the_jeugdarts() {
        let d = ymd(2025, 10, 6);
        let mut c = case_at(CaseStep::S3a, d);
        c.decide(decision(d, DecisionKind::Jeugdarts { consent: true }))
            .unwrap();
        c.decide(decision(d, DecisionKind::VoWij { consent: true }))
            .unwrap();
        c.involve(&who("arts"), Role::Jeugdarts, d, actor())
            .unwrap();
        c.involve(&who("keten"), Role::Ketenpartner, d, actor())
            .unwrap();
        c.decide(decision(
            ymd(2025, 10, 20),
            DecisionKind::Jeugdarts { consent: false },
        ))
        .unwrap();
        assert!(!c.involves(&who("arts")));
        assert_eq!(c.involved[0].until, Some(ymd(2025, 10, 20)));
        assert!(c.involves(&who("keten")), "other partners stay");
    }

    /// A care partner (VO WIJ) only with the parents' consent, and released
    /// when they withdraw it.
    #[test]
    fn a_ketenpartner_needs_consent_for_vo_wij() {
        let d = ymd(2025, 10, 6);
        let mut c = case_at(CaseStep::S4b, d);
        assert_eq!(
            c.involve(&who("keten"), Role::Ketenpartner, d, actor()),
            Err(CaseError::NoCareConsent)
        );
        c.decide(decision(d, DecisionKind::VoWij { consent: false }))
            .unwrap();
        assert_eq!(
            c.involve(&who("keten"), Role::Ketenpartner, d, actor()),
            Err(CaseError::NoCareConsent),
            "a decision without consent is no consent"
        );
        c.decide(decision(
            ymd(2025, 10, 7),
            DecisionKind::VoWij { consent: true },
        ))
        .unwrap();
        c.involve(&who("keten"), Role::Ketenpartner, ymd(2025, 10, 7), actor())
            .unwrap();
        assert!(c.involves(&who("keten")));
        c.decide(decision(
            ymd(2025, 10, 20),
            DecisionKind::VoWij { consent: false },
        ))
        .unwrap();
        assert!(!c.involves(&who("keten")), "consent withdrawn: released");
        // Leerplicht needs no consent decision.
        c.involve(
            &who("lpa"),
            Role::Leerplichtambtenaar,
            ymd(2025, 10, 21),
            actor(),
        )
        .unwrap();
    }

    #[test]
    fn partners_get_no_school_notes_and_no_sight_of_the_jeugdarts() {
        let d = ymd(2025, 10, 6);
        let mut c = case_at(CaseStep::S3b, d);
        let mut dec = decision(d, DecisionKind::Jeugdarts { consent: true });
        dec.note = "notitie-a".into();
        c.decide(dec).unwrap();
        c.involve(&who("arts"), Role::Jeugdarts, d, actor())
            .unwrap();
        let mut ect = decision(d, DecisionKind::Ect);
        ect.note = "notitie-b".into();
        c.decide(ect).unwrap();
        c.move_to(CaseStep::S4b, ymd(2025, 10, 7), actor(), "notitie-c")
            .unwrap();
        for role in [Role::Leerplichtambtenaar, Role::Ketenpartner] {
            let r = c.redacted_for(role);
            assert!(r.involved.is_empty(), "{role} does not see the jeugdarts");
            assert_eq!(r.decisions.len(), 1, "the ECT decision is shared");
            let text = format!("{:?}", r.trail_nl());
            for n in ["notitie-a", "notitie-b", "notitie-c"] {
                assert!(!text.contains(n), "{role}: {n}");
            }
        }
        let arts = c.redacted_for(Role::Jeugdarts);
        assert_eq!(arts.involved.len(), 1);
        assert_eq!(arts.decisions.len(), 2);
        assert_eq!(c.redacted_for(Role::Mentor).history[0].why, "notitie-c");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// The next weekly check is 1–7 days after the latest check (or the
        /// start) and on a school day; only when those seven days hold no
        /// school day is it the first school day after them.
        #[test]
        fn weekly_check_is_due_within_seven_days(
            start in school_year_date(),
            offsets in proptest::collection::vec(0u64..60, 0..6),
        ) {
            let cal = example_calendar();
            let mut c = case_at(CaseStep::S4b, start);
            let i = c
                .start_intervention(InterventionKind::Afspraken, "afspraken", start, actor())
                .unwrap();
            let a = c.add_agreement(agreement(start)).unwrap();
            for o in &offsets {
                c.check_agreement(a, WeeklyCheck { on: start + Days::new(*o), kept: true, note: String::new() })
                    .unwrap();
            }
            let anchor = offsets.iter().max().map_or(start, |o| start + Days::new(*o));
            let due = c.next_weekly_check(&cal, i).unwrap();
            let gap = (due - anchor).num_days();
            if cal.on_or_after(anchor + Days::new(7)).is_none() {
                // Past the calendar: a working day within the seven days.
                prop_assert!((1..=7).contains(&gap), "gap {gap}");
                prop_assert!(cal.is_working_day(due));
                return Ok(());
            }
            prop_assert!(cal.is_school_day(due));
            let school_day_in_week = (1..=7).any(|k| cal.is_school_day(anchor + Days::new(k)));
            if school_day_in_week {
                prop_assert!((1..=7).contains(&gap), "gap {gap}");
            } else {
                prop_assert!(gap > 7);
                prop_assert!((8..gap).all(|k| !cal.is_school_day(anchor + Days::new(u64::try_from(k).unwrap()))));
            }
            // The task is overdue exactly when today is past it.
            let t = c.tasks(&cal, due + Days::new(1));
            let w = t.iter().find(|t| matches!(t.kind, TaskKind::WeeklyCheck { .. })).unwrap();
            prop_assert!(w.overdue);
            let t = c.tasks(&cal, due);
            let w = t.iter().find(|t| matches!(t.kind, TaskKind::WeeklyCheck { .. })).unwrap();
            prop_assert!(!w.overdue);
        }

        /// The evaluation is never later than six weeks after its anchor
        /// when a school day lies in between, and always on a school day.
        #[test]
        fn evaluation_within_six_weeks(start in school_year_date()) {
            let cal = example_calendar();
            let mut c = case_at(CaseStep::S4a, start);
            let i = c.start_intervention(InterventionKind::Afspraken, "x", start, actor()).unwrap();
            let due = c.interventions[i].evaluation_due(&cal);
            prop_assert!(cal.is_school_day(due) || cal.on_or_after(due).is_none());
            prop_assert!(due > start);
            prop_assert!(due <= start + Days::new(EVALUATION_DAYS));
        }

        /// Any sequence of attempted moves keeps the case consistent: the
        /// history chains from the first step to the current one, every
        /// step 5 was entered from 4, 5 or 6, every step 6 from 5, and the
        /// checklist holds each step's items once.
        #[test]
        fn moves_keep_the_case_consistent(
            moves in proptest::collection::vec((0usize..7, any::<bool>(), 0u8..4), 0..30),
        ) {
            let mut c = case_at(CaseStep::S3a, ymd(2025, 9, 1));
            let mut day = ymd(2025, 9, 1);
            for (to, coop, extra) in moves {
                day = day + Days::new(1);
                match extra {
                    0 => c.decide(decision(day, DecisionKind::Cooperation { cooperates: coop })).unwrap(),
                    1 => c.decide(decision(day, DecisionKind::Vrijstelling)).unwrap(),
                    _ => {}
                }
                let before = c.clone();
                let to = CaseStep::ALL[to];
                match c.move_to(to, day, actor(), "stap") {
                    Ok(()) => prop_assert_eq!(c.step, to),
                    Err(_) => prop_assert_eq!(&c, &before),
                }
            }
            let mut step = c.first_step;
            for h in &c.history {
                prop_assert_eq!(h.from, step);
                match h.to.level() {
                    5 => prop_assert!(h.from.level() >= 4),
                    6 => prop_assert_eq!(h.from.level(), 5),
                    _ => {}
                }
                step = h.to;
            }
            prop_assert_eq!(step, c.step);
            let pairs: BTreeSet<(CaseStep, &str)> =
                c.checklist.iter().map(|i| (i.step, i.key.as_str())).collect();
            prop_assert_eq!(pairs.len(), c.checklist.len());
        }
    }
}
