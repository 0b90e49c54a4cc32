//! Which column of a school's export is which: the formats aanwezig reads
//! (its own, Magister's and Somtoday's), the header names each accepts, the
//! mapping a school saves once, and how a reason's kind and "geoorloofd"
//! flag give a category when the school has not mapped a code.
//!
//! Header names are compared after [`normalise`]: lower case, without
//! spaces, underscores, hyphens and dots, so `Leerling nummer`,
//! `leerling_nummer` and `LeerlingNummer` are one name.

use std::collections::BTreeMap;

use aanwezig_domain::{Category, Presence};
use serde::{Deserialize, Serialize};

/// The export a registrations file comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// aanwezig's own columns (`student_id,date,lesson,…`), one row per
    /// lesson; Dutch names (`leerlingnummer`, `datum`, `lesuur`) are read
    /// too.
    #[default]
    Canonical,
    /// Magister's absence export: one row per lesson (`stamnr`, `datum`,
    /// `lesuur`, `code`), absences only.
    Magister,
    /// Somtoday's absence reports: one row per period (`beginDatumTijd`
    /// to `eindDatumTijd`, `beginLesuur` to `eindLesuur`), absences only.
    Somtoday,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Canonical, Format::Magister, Format::Somtoday];

    /// The name on the command line and in settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Canonical => "canonical",
            Format::Magister => "magister",
            Format::Somtoday => "somtoday",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// For people.
    pub fn label_nl(self) -> &'static str {
        match self {
            Format::Canonical => "aanwezig (één regel per les)",
            Format::Magister => "Magister (afwezigheid per les)",
            Format::Somtoday => "Somtoday (absentiemeldingen per periode)",
        }
    }

    /// Whether a file in this format holds periods rather than lessons.
    pub fn is_periods(self) -> bool {
        self == Format::Somtoday
    }
}

/// What a school saves once about its registrations exports
/// (Instellingen → Import), so that every later import reads them the
/// same way: the watched folder, the Importeren page and the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportSettings {
    pub format: Format,
    /// aanwezig's column name (`student_id`, `date`, …) → the header name
    /// in the school's files, for names no alias covers.
    pub columns: BTreeMap<String, String>,
    /// Whether the exports hold absences only (`implied`) or every lesson
    /// (`registered`). `None`: Magister and Somtoday mean `implied`, the
    /// canonical format follows the policy.
    pub presence: Option<Presence>,
}

impl ImportSettings {
    /// The settings of a format with nothing else saved.
    pub fn of(format: Format) -> ImportSettings {
        ImportSettings {
            format,
            ..ImportSettings::default()
        }
    }

    /// What the policy's `presence` must be for files read with these
    /// settings, when `policy` is what the school has now.
    pub fn presence(&self, policy: Presence) -> Presence {
        match (self.presence, self.format) {
            (Some(p), _) => p,
            (None, Format::Canonical) => policy,
            (None, _) => Presence::Implied,
        }
    }

    /// Checks the saved column names: known columns, no name twice.
    pub fn validate(&self) -> Result<(), String> {
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for (col, name) in &self.columns {
            if !FIELDS.iter().any(|f| f.name == col) {
                return Err(format!("'{col}' is geen kolom die aanwezig kent"));
            }
            let n = normalise(name);
            if n.is_empty() {
                return Err(format!("kolom {col}: geef een kolomnaam"));
            }
            if let Some(other) = seen.insert(n, col) {
                return Err(format!(
                    "de kolomnaam '{}' staat bij zowel {other} als {col}",
                    name.trim()
                ));
            }
        }
        Ok(())
    }
}

/// One column aanwezig can read in a registrations file.
pub struct Field {
    /// aanwezig's own name (the canonical header).
    pub name: &'static str,
    /// What it holds, for people.
    pub label_nl: &'static str,
    /// Other header names that mean this column (normalised).
    pub aliases: &'static [&'static str],
}

/// Every column of every format, with the names exports give them.
pub const FIELDS: &[Field] = &[
    Field {
        name: "student_id",
        label_nl: "leerlingnummer",
        aliases: &["leerlingnummer", "leerling", "llnr", "stamnr", "stamnummer"],
    },
    Field {
        name: "date",
        label_nl: "datum",
        aliases: &["datum", "daanwezigheid", "lesdatum"],
    },
    Field {
        name: "lesson",
        label_nl: "lesuur",
        aliases: &["lesuur", "uur"],
    },
    Field {
        name: "minutes",
        label_nl: "lesduur in minuten",
        aliases: &["minuten", "lesduur"],
    },
    Field {
        name: "code",
        label_nl: "code (afkorting van de reden)",
        aliases: &["afkorting", "absentiecode", "absentiereden", "verzuimcode"],
    },
    Field {
        name: "category",
        label_nl: "categorie",
        aliases: &["categorie"],
    },
    Field {
        name: "minutes_late",
        label_nl: "minuten te laat",
        aliases: &["minutentelaat", "telaatminuten"],
    },
    Field {
        name: "note",
        label_nl: "notitie",
        aliases: &["notitie", "opmerking", "opmerkingen"],
    },
    Field {
        name: "description",
        label_nl: "omschrijving van de code",
        aliases: &["omschrijving"],
    },
    Field {
        name: "excused",
        label_nl: "geoorloofd (ja/nee)",
        aliases: &["geoorloofd"],
    },
    Field {
        name: "kind",
        label_nl: "soort afwezigheid",
        aliases: &["verantwoordingtype", "absentiesoort", "soort"],
    },
    Field {
        name: "begin",
        label_nl: "begin (datum en tijd)",
        aliases: &["begindatumtijd", "begindatum", "van"],
    },
    Field {
        name: "end",
        label_nl: "einde (datum en tijd)",
        aliases: &["einddatumtijd", "einddatum", "tot"],
    },
    Field {
        name: "begin_lesson",
        label_nl: "eerste lesuur",
        aliases: &["beginlesuur"],
    },
    Field {
        name: "end_lesson",
        label_nl: "laatste lesuur",
        aliases: &["eindlesuur"],
    },
];

/// `name` as header names are compared: trimmed, lower case, without
/// spaces, underscores, hyphens and dots.
pub fn normalise(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.' | '\u{feff}'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The column `header` means under `settings`: the school's own mapping
/// first, then aanwezig's names and the aliases.
pub fn field_of(settings: &ImportSettings, header: &str) -> Option<&'static str> {
    let n = normalise(header);
    if n.is_empty() {
        return None;
    }
    if let Some((col, _)) = settings.columns.iter().find(|(_, h)| normalise(h) == n) {
        return FIELDS.iter().find(|f| f.name == col).map(|f| f.name);
    }
    FIELDS
        .iter()
        .find(|f| normalise(f.name) == n || f.aliases.contains(&n.as_str()))
        .map(|f| f.name)
}

/// The kinds of absence Magister (`verantwoordingtype`) and Somtoday
/// (`absentiesoort`) give a reason, as aanwezig reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Absent,
    Late,
    Sick,
    SentOut,
    Exempt,
    Forgotten,
}

impl Kind {
    /// Magister's numbers (1 absent, 2 te laat, 3 ziek, 4 verwijderd,
    /// 6 vrijstelling, 7 boeken vergeten, 8 huiswerk vergeten) or the
    /// names of either system.
    pub fn parse(b: &str) -> Option<Kind> {
        let n = normalise(b);
        Some(match n.as_str() {
            "1" | "absent" | "afwezig" | "absentie" => Kind::Absent,
            "2" | "telaat" | "laat" => Kind::Late,
            "3" | "ziek" | "ziekte" | "ziekgemeld" => Kind::Sick,
            "4" | "verwijderd" | "uitgestuurd" | "eruitgestuurd" => Kind::SentOut,
            "6" | "vrijstelling" | "vrijgesteld" => Kind::Exempt,
            "7"
            | "8"
            | "boekenvergeten"
            | "huiswerkvergeten"
            | "huiswerknietgemaakt"
            | "materiaalvergeten"
            | "spullenvergeten" => Kind::Forgotten,
            _ => return None,
        })
    }

    /// The category of a lesson of this kind (docs/formats.md §1c). An
    /// unknown `excused` (empty) counts as not excused.
    pub fn category(self, excused: Option<bool>) -> Category {
        let excused = excused.unwrap_or(false);
        match self {
            Kind::Absent if excused => Category::ReportedOther,
            Kind::Absent => Category::Unknown,
            Kind::Late if excused => Category::LateExcused,
            Kind::Late => Category::LateUnexcused,
            Kind::Sick => Category::ReportedSick,
            // Sent out of class: the student is at school.
            Kind::SentOut => Category::NotAbsence,
            Kind::Exempt => Category::Authorized,
            Kind::Forgotten => Category::NotAbsence,
        }
    }
}

/// A "geoorloofd" cell: `ja`/`nee`, `j`/`n`, `1`/`0`, `true`/`false`,
/// `waar`/`onwaar`, `yes`/`no`. `Some(None)` when empty, `None` when it is
/// none of these.
pub fn parse_excused(s: &str) -> Option<Option<bool>> {
    match normalise(s).as_str() {
        "" => Some(None),
        "ja" | "j" | "1" | "true" | "waar" | "yes" | "y" | "geoorloofd" => Some(Some(true)),
        "nee" | "n" | "0" | "false" | "onwaar" | "no" | "ongeoorloofd" => Some(Some(false)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_matched_through_aliases_and_the_saved_mapping() {
        let s = ImportSettings::default();
        assert_eq!(field_of(&s, "Leerlingnummer"), Some("student_id"));
        assert_eq!(field_of(&s, " stamnr "), Some("student_id"));
        assert_eq!(field_of(&s, "beginDatumTijd"), Some("begin"));
        assert_eq!(field_of(&s, "Minuten te laat"), Some("minutes_late"));
        assert_eq!(field_of(&s, "student_id"), Some("student_id"));
        assert_eq!(field_of(&s, "Klas"), None);
        let mut own = ImportSettings::default();
        own.columns.insert("student_id".into(), "Lln. nr".into());
        own.columns.insert("note".into(), "Klas".into());
        assert_eq!(field_of(&own, "LLN NR"), Some("student_id"));
        assert_eq!(field_of(&own, "klas"), Some("note"));
    }

    #[test]
    fn a_saved_mapping_is_checked() {
        let mut s = ImportSettings::default();
        s.columns.insert("datum_x".into(), "D".into());
        assert!(s.validate().unwrap_err().contains("datum_x"));
        let mut s = ImportSettings::default();
        s.columns.insert("date".into(), "Dag".into());
        s.columns.insert("lesson".into(), " dag ".into());
        assert!(s.validate().unwrap_err().contains("'dag'"));
    }

    #[test]
    fn presets_imply_absences_only_unless_the_school_says_otherwise() {
        use Presence::*;
        assert_eq!(
            ImportSettings::of(Format::Canonical).presence(Registered),
            Registered
        );
        assert_eq!(
            ImportSettings::of(Format::Canonical).presence(Implied),
            Implied
        );
        assert_eq!(
            ImportSettings::of(Format::Magister).presence(Registered),
            Implied
        );
        assert_eq!(
            ImportSettings::of(Format::Somtoday).presence(Registered),
            Implied
        );
        let mut s = ImportSettings::of(Format::Magister);
        s.presence = Some(Registered);
        assert_eq!(s.presence(Implied), Registered);
    }

    #[test]
    fn kinds_give_categories() {
        assert_eq!(Kind::parse("3"), Some(Kind::Sick));
        assert_eq!(Kind::parse("Te laat"), Some(Kind::Late));
        assert_eq!(Kind::parse("HuiswerkVergeten"), Some(Kind::Forgotten));
        assert_eq!(Kind::parse("5"), None);
        assert_eq!(Kind::Absent.category(Some(false)), Category::Unknown);
        assert_eq!(Kind::Absent.category(None), Category::Unknown);
        assert_eq!(Kind::Absent.category(Some(true)), Category::ReportedOther);
        assert_eq!(Kind::Late.category(Some(true)), Category::LateExcused);
        assert_eq!(Kind::Late.category(Some(false)), Category::LateUnexcused);
        assert_eq!(Kind::Sick.category(Some(false)), Category::ReportedSick);
        assert_eq!(Kind::SentOut.category(Some(false)), Category::NotAbsence);
        assert_eq!(Kind::Exempt.category(None), Category::Authorized);
        assert_eq!(Kind::Forgotten.category(None), Category::NotAbsence);
        assert_eq!(parse_excused(" Ja "), Some(Some(true)));
        assert_eq!(parse_excused("0"), Some(Some(false)));
        assert_eq!(parse_excused(""), Some(None));
        assert_eq!(parse_excused("misschien"), None);
    }
}
