//! The checklist of each step, seeded with the plan's parties and actions.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Actor, Case, CaseError, CaseStep, Party};

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

impl Case {
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
}
