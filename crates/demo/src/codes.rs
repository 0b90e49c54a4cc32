//! The Magister absence codes the demo school registers with.
//!
//! These are the codes of the shipped Magister preset (domain-facts.md, "an
//! example school's list"). The engine never sees a code, only its
//! [`Category`]; the codes are here so that the demo's CSV files and
//! [`RegistrationRecord`](aanwezig_domain::RegistrationRecord)s look like a
//! real export and exercise the import mapping.

use aanwezig_domain::Category;

/// A Magister absence code ("verantwoordingtype" shorthand) as a school
/// registers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MagisterCode {
    /// Afwezig, no report received.
    A,
    /// Spijbelen.
    S,
    /// Ziek.
    Z,
    /// Ziek naar huis: fell ill during the day and went home.
    ZH,
    /// Medisch (doctor, dentist, orthodontist).
    M,
    /// Other reason reported by parents/carers.
    O,
    /// Te laat, ongeoorloofd.
    L,
    /// Te laat, geoorloofd.
    T,
    /// Uitgestuurd: sent out of the lesson; the student was at school.
    U,
    /// Geschorst (suspended).
    GE,
    /// Verlof granted by the school.
    V,
    /// Boeken vergeten.
    BV,
    /// Huiswerk vergeten.
    HV,
}

impl MagisterCode {
    /// Every code, in declaration order.
    pub const ALL: [MagisterCode; 13] = [
        MagisterCode::A,
        MagisterCode::S,
        MagisterCode::Z,
        MagisterCode::ZH,
        MagisterCode::M,
        MagisterCode::O,
        MagisterCode::L,
        MagisterCode::T,
        MagisterCode::U,
        MagisterCode::GE,
        MagisterCode::V,
        MagisterCode::BV,
        MagisterCode::HV,
    ];

    /// The code as written in an export.
    pub fn as_str(self) -> &'static str {
        match self {
            MagisterCode::A => "A",
            MagisterCode::S => "S",
            MagisterCode::Z => "Z",
            MagisterCode::ZH => "ZH",
            MagisterCode::M => "M",
            MagisterCode::O => "O",
            MagisterCode::L => "L",
            MagisterCode::T => "T",
            MagisterCode::U => "U",
            MagisterCode::GE => "GE",
            MagisterCode::V => "V",
            MagisterCode::BV => "BV",
            MagisterCode::HV => "HV",
        }
    }

    /// Parses a code written by [`MagisterCode::as_str`].
    pub fn parse(s: &str) -> Option<MagisterCode> {
        MagisterCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The category the shipped Magister preset maps this code to.
    pub fn category(self) -> Category {
        match self {
            MagisterCode::A => Category::Unknown,
            MagisterCode::S => Category::Unauthorized,
            MagisterCode::Z | MagisterCode::ZH => Category::ReportedSick,
            MagisterCode::M | MagisterCode::O => Category::ReportedOther,
            MagisterCode::L => Category::LateUnexcused,
            MagisterCode::T => Category::LateExcused,
            MagisterCode::U | MagisterCode::BV | MagisterCode::HV => Category::NotAbsence,
            MagisterCode::GE | MagisterCode::V => Category::Authorized,
        }
    }

    /// The code a registration of `category` gets unless the generator
    /// recorded another one; `None` for `present`, which has no code.
    ///
    /// Only the exceptions (ZH, O, GE, U, HV) are stored per student, so the
    /// compact 8-byte [`Registration`](aanwezig_domain::Registration) needs
    /// no room for a code.
    pub fn default_for(category: Category) -> Option<MagisterCode> {
        match category {
            Category::Present => None,
            Category::LateUnexcused => Some(MagisterCode::L),
            Category::LateExcused => Some(MagisterCode::T),
            Category::ReportedSick => Some(MagisterCode::Z),
            Category::ReportedOther => Some(MagisterCode::M),
            Category::Authorized => Some(MagisterCode::V),
            Category::Unknown => Some(MagisterCode::A),
            Category::Unauthorized => Some(MagisterCode::S),
            Category::NotAbsence => Some(MagisterCode::BV),
        }
    }

    /// Whether this code is what [`MagisterCode::default_for`] gives for its
    /// own category (and so need not be stored).
    pub fn is_default(self) -> bool {
        MagisterCode::default_for(self.category()) == Some(self)
    }
}

impl std::fmt::Display for MagisterCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_defaults_are_consistent() {
        for c in MagisterCode::ALL {
            assert_eq!(MagisterCode::parse(c.as_str()), Some(c));
        }
        for cat in Category::ALL {
            if let Some(code) = MagisterCode::default_for(cat) {
                assert_eq!(code.category(), cat);
                assert!(code.is_default());
            }
        }
        assert!(!MagisterCode::ZH.is_default());
        assert!(!MagisterCode::GE.is_default());
    }
}
