//! Who acts in a case (an [`Actor`]) and who takes part in it (a [`Party`]).

use serde::{Deserialize, Serialize};

use crate::access::Role;

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
