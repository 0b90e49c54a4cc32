//! The policy form's fields: every key of the policy with its Dutch label and help, read from and written to a [`Policy`].

use aanwezig_domain::{Category, CategorySet, Hours, LateCounts, Policy};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Bool,
    Number,
    Hours,
    Percent,
    Text,
    LateCounts,
    Categories,
}

pub(super) struct FieldDef {
    pub(super) key: &'static str,
    pub(super) label: &'static str,
    pub(super) help: &'static str,
    pub(super) kind: Kind,
}

pub(super) struct GroupDef {
    pub(super) title: &'static str,
    pub(super) intro: &'static str,
    pub(super) fields: &'static [FieldDef],
}

pub(super) const fn f(
    key: &'static str,
    label: &'static str,
    help: &'static str,
    kind: Kind,
) -> FieldDef {
    FieldDef {
        key,
        label,
        help,
        kind,
    }
}

const ON: &str = "Zet uit om deze regel niet te laten signaleren.";

pub(super) const GROUPS: &[GroupDef] = &[
    GroupDef {
        title: "Algemeen",
        intro: "Wat voor alle regels geldt.",
        fields: &[
            f(
                "school",
                "Naam van de school",
                "Staat boven overzichten en meldingen.",
                Kind::Text,
            ),
            f(
                "late_counts",
                "Hoe telt te laat komen zonder geldige reden?",
                "Voor de ongeoorloofde uren van stap 3b en de 16-urenregel: de minuten te laat, het hele lesuur, of helemaal niet.",
                Kind::LateCounts,
            ),
            f(
                "afmelding_categories",
                "Categorieën die een afmelding zijn",
                "Lessen in deze categorieën vormen een afmeldingsperiode (stap 3a en 4a).",
                Kind::Categories,
            ),
            f(
                "unexplained_categories",
                "Categorieën die ongeoorloofd verzuim zijn",
                "Deze lessen tellen als uren ongeoorloofd verzuim (stap 3b en 4b). Een categorie kan niet tegelijk een afmelding zijn.",
                Kind::Categories,
            ),
        ],
    },
    GroupDef {
        title: "Stap 2: bellen na een hele dag afwezigheid",
        intro: "Een leerling is een hele dag afwezig: de school belt uit belangstelling.",
        fields: &[
            f("contact.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "contact.excluded_categories",
                "Geen signaal bij alleen deze categorieën",
                "Een dag die alleen hierom afwezig is (bijvoorbeeld verlof van school) vraagt geen telefoontje.",
                Kind::Categories,
            ),
            f(
                "contact.deadline_school_days",
                "Bellen binnen (schooldagen)",
                "Hoeveel schooldagen na de eerste afwezige dag het telefoontje gedaan moet zijn.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap 3a: vaak afgemeld",
        intro: "Gemeld verzuim dat zich herhaalt: tijd voor een gesprek.",
        fields: &[
            f("afmelding_count.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "afmelding_count.min_episodes",
                "Aantal afmeldingen",
                "Zoveel afmeldingsperioden die begonnen binnen de periode hieronder geven een signaal.",
                Kind::Number,
            ),
            f(
                "afmelding_count.window_weeks",
                "Binnen (lesweken)",
                "De periode waarin geteld wordt; vakantieweken tellen niet mee.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap 3a: lang afgemeld",
        intro: "Eén afmelding die lang duurt.",
        fields: &[
            f("afmelding_long.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "afmelding_long.day",
                "Signaal op schooldag",
                "Het signaal komt op deze schooldag van een aaneengesloten afmelding.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap 3b: onbekend verzuim (zonder geldige reden)",
        intro: "Onbekend afwezig of te laat zonder geldige reden, onder de wettelijke grens.",
        fields: &[
            f("unexplained.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "unexplained.min_hours",
                "Meer dan (uren)",
                "Signaal zodra het aantal ongeoorloofde uren hierboven komt; 0 betekent: elk ongeoorloofd uur of elke keer te laat telt.",
                Kind::Hours,
            ),
            f(
                "unexplained.window_weeks",
                "Binnen (lesweken)",
                "De periode waarin de uren worden opgeteld.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap 4a: afmeldingen houden aan",
        intro: "Na een 3a-signaal gaat het afmelden door.",
        fields: &[
            f("afmelding_persist.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "afmelding_persist.min_new_episodes",
                "Nieuwe afmeldingen",
                "Na het 3a-signaal geeft de zoveelste nieuwe afmeldingsperiode dit signaal: bij 2 is dat de tweede.",
                Kind::Number,
            ),
            f(
                "afmelding_persist.day",
                "Of een nieuwe afmelding duurt tot schooldag",
                "Een nieuwe afmelding die deze schooldag bereikt, geeft het signaal ook.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap 4b: de 16-urenregel (DUO-melding)",
        intro: "De wettelijke grens voor een melding bij DUO. Verander dit alleen als de wet verandert.",
        fields: &[
            f("duo_16h.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "duo_16h.hours",
                "Uren ongeoorloofd verzuim",
                "Bij zoveel ongeoorloofde uren binnen de periode hieronder moet de school melden.",
                Kind::Hours,
            ),
            f(
                "duo_16h.window_weeks",
                "Binnen (lesweken)",
                "De periode waarin de uren worden opgeteld.",
                Kind::Number,
            ),
            f(
                "duo_16h.min_days_between",
                "Minimaal tussen twee meldingen (kalenderdagen)",
                "Een volgende melding komt niet eerder dan zoveel dagen na de vorige.",
                Kind::Number,
            ),
            f(
                "duo_16h.deadline_working_days",
                "Melden binnen (werkdagen)",
                "De termijn voor de melding bij DUO.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap 4b: langdurig relatief verzuim",
        intro: "Weken achter elkaar de hele dag ongeoorloofd afwezig.",
        fields: &[
            f("duo_lrv.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "duo_lrv.window_weeks",
                "Aantal lesweken",
                "Is een leerling zo lang (of langer) elke schooldag ongeoorloofd afwezig, dan komt er een signaal voor een DUO-melding.",
                Kind::Number,
            ),
            f(
                "duo_lrv.deadline_working_days",
                "Melden binnen (werkdagen)",
                "De termijn voor de melding bij DUO.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap 4b: afwezig rond een vakantie",
        intro: "Zonder geldige reden afwezig op de laatste schooldag vóór of de eerste na een vakantie.",
        fields: &[
            f("duo_holiday.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "duo_holiday.categories",
                "Categorieën die meetellen",
                "Een les in een van deze categorieën op zo'n dag geeft het signaal.",
                Kind::Categories,
            ),
            f(
                "duo_holiday.deadline_working_days",
                "Melden binnen (werkdagen)",
                "De termijn voor de melding bij DUO.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap van een leerling en de streeflijn",
        intro: "Hoe lang een signaal de stap van een leerling bepaalt, en de lijn in de grafieken.",
        fields: &[
            f(
                "step.window_weeks",
                "Signalen tellen mee (lesweken)",
                "Zo lang bepaalt een signaal de stap van de leerling.",
                Kind::Number,
            ),
            f(
                "step.window_weeks_3a",
                "Signalen van stap 3a tellen mee (lesweken)",
                "Voor de 3a-signalen, die over een langere periode kijken.",
                Kind::Number,
            ),
            f(
                "attendance.target",
                "Streeflijn aanwezigheid (%)",
                "De lijn in de aanwezigheidsgrafieken; vaak gebruikt: 90 %.",
                Kind::Percent,
            ),
        ],
    },
];

/// A policy value in a form-friendly shape.
pub(super) enum Val {
    Bool(bool),
    Text(String),
    Cats(CategorySet),
    Late(LateCounts),
}

fn hours_text(h: Hours) -> String {
    h.to_string()
}

pub(super) fn value_of(p: &Policy, key: &str) -> Val {
    let n = |v: u32| Val::Text(v.to_string());
    let w = |v: u16| Val::Text(v.to_string());
    match key {
        "school" => Val::Text(p.school.clone()),
        "late_counts" => Val::Late(p.late_counts),
        "afmelding_categories" => Val::Cats(p.afmelding_categories),
        "unexplained_categories" => Val::Cats(p.unexplained_categories),
        "contact.enabled" => Val::Bool(p.contact.enabled),
        "contact.excluded_categories" => Val::Cats(p.contact.excluded_categories),
        "contact.deadline_school_days" => n(p.contact.deadline_school_days),
        "afmelding_count.enabled" => Val::Bool(p.afmelding_count.enabled),
        "afmelding_count.min_episodes" => n(p.afmelding_count.min_episodes),
        "afmelding_count.window_weeks" => w(p.afmelding_count.window_weeks),
        "afmelding_long.enabled" => Val::Bool(p.afmelding_long.enabled),
        "afmelding_long.day" => n(p.afmelding_long.day),
        "unexplained.enabled" => Val::Bool(p.unexplained.enabled),
        "unexplained.min_hours" => Val::Text(hours_text(p.unexplained.min_hours)),
        "unexplained.window_weeks" => w(p.unexplained.window_weeks),
        "afmelding_persist.enabled" => Val::Bool(p.afmelding_persist.enabled),
        "afmelding_persist.min_new_episodes" => n(p.afmelding_persist.min_new_episodes),
        "afmelding_persist.day" => n(p.afmelding_persist.day),
        "duo_16h.enabled" => Val::Bool(p.duo_16h.enabled),
        "duo_16h.hours" => Val::Text(hours_text(p.duo_16h.hours)),
        "duo_16h.window_weeks" => w(p.duo_16h.window_weeks),
        "duo_16h.min_days_between" => n(p.duo_16h.min_days_between),
        "duo_16h.deadline_working_days" => n(p.duo_16h.deadline_working_days),
        "duo_lrv.enabled" => Val::Bool(p.duo_lrv.enabled),
        "duo_lrv.window_weeks" => w(p.duo_lrv.window_weeks),
        "duo_lrv.deadline_working_days" => n(p.duo_lrv.deadline_working_days),
        "duo_holiday.enabled" => Val::Bool(p.duo_holiday.enabled),
        "duo_holiday.categories" => Val::Cats(p.duo_holiday.categories),
        "duo_holiday.deadline_working_days" => n(p.duo_holiday.deadline_working_days),
        "step.window_weeks" => w(p.step.window_weeks),
        "step.window_weeks_3a" => w(p.step.window_weeks_3a),
        "attendance.target" => Val::Text(percent_text(p.attendance.target)),
        _ => Val::Text(String::new()),
    }
}

fn percent_text(fraction: f64) -> String {
    let pct = (fraction * 1000.0).round() / 10.0;
    if pct.fract() == 0.0 {
        format!("{pct:.0}")
    } else {
        format!("{pct:.1}").replace('.', ",")
    }
}

fn whole<T: std::str::FromStr>(raw: &str) -> Result<T, String> {
    raw.trim()
        .parse()
        .map_err(|_| format!("'{}' is geen geheel getal (0 of meer)", raw.trim()))
}

fn decimal(raw: &str) -> Result<f64, String> {
    raw.trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("'{}' is geen getal", raw.trim()))
}

fn cats(values: &[&str]) -> Result<CategorySet, String> {
    let list: Option<Vec<Category>> = values.iter().map(|v| Category::parse(v)).collect();
    list.map(|l| CategorySet::of(&l))
        .ok_or_else(|| "onbekende categorie".to_owned())
}

/// Sets one key from the submitted values (several for a category set).
pub(super) fn set_value(p: &mut Policy, key: &str, values: &[&str]) -> Result<(), String> {
    let one = values.first().copied().unwrap_or("");
    let on = !values.is_empty();
    match key {
        "school" => {
            if one.trim().chars().count() > 200 {
                return Err("de naam is te lang (hoogstens 200 tekens)".into());
            }
            p.school = one.trim().to_owned();
        }
        "late_counts" => {
            p.late_counts = match one {
                "minutes" => LateCounts::Minutes,
                "lesson" => LateCounts::Lesson,
                "none" => LateCounts::None,
                _ => return Err("kies een van de mogelijkheden".into()),
            }
        }
        "afmelding_categories" => p.afmelding_categories = cats(values)?,
        "unexplained_categories" => p.unexplained_categories = cats(values)?,
        "contact.enabled" => p.contact.enabled = on,
        "contact.excluded_categories" => p.contact.excluded_categories = cats(values)?,
        "contact.deadline_school_days" => p.contact.deadline_school_days = whole(one)?,
        "afmelding_count.enabled" => p.afmelding_count.enabled = on,
        "afmelding_count.min_episodes" => p.afmelding_count.min_episodes = whole(one)?,
        "afmelding_count.window_weeks" => p.afmelding_count.window_weeks = whole(one)?,
        "afmelding_long.enabled" => p.afmelding_long.enabled = on,
        "afmelding_long.day" => p.afmelding_long.day = whole(one)?,
        "unexplained.enabled" => p.unexplained.enabled = on,
        "unexplained.min_hours" => {
            p.unexplained.min_hours =
                Hours::from_f64(decimal(one)?).ok_or("het aantal uren kan niet negatief zijn")?
        }
        "unexplained.window_weeks" => p.unexplained.window_weeks = whole(one)?,
        "afmelding_persist.enabled" => p.afmelding_persist.enabled = on,
        "afmelding_persist.min_new_episodes" => p.afmelding_persist.min_new_episodes = whole(one)?,
        "afmelding_persist.day" => p.afmelding_persist.day = whole(one)?,
        "duo_16h.enabled" => p.duo_16h.enabled = on,
        "duo_16h.hours" => {
            p.duo_16h.hours =
                Hours::from_f64(decimal(one)?).ok_or("het aantal uren kan niet negatief zijn")?
        }
        "duo_16h.window_weeks" => p.duo_16h.window_weeks = whole(one)?,
        "duo_16h.min_days_between" => p.duo_16h.min_days_between = whole(one)?,
        "duo_16h.deadline_working_days" => p.duo_16h.deadline_working_days = whole(one)?,
        "duo_lrv.enabled" => p.duo_lrv.enabled = on,
        "duo_lrv.window_weeks" => p.duo_lrv.window_weeks = whole(one)?,
        "duo_lrv.deadline_working_days" => p.duo_lrv.deadline_working_days = whole(one)?,
        "duo_holiday.enabled" => p.duo_holiday.enabled = on,
        "duo_holiday.categories" => p.duo_holiday.categories = cats(values)?,
        "duo_holiday.deadline_working_days" => p.duo_holiday.deadline_working_days = whole(one)?,
        "step.window_weeks" => p.step.window_weeks = whole(one)?,
        "step.window_weeks_3a" => p.step.window_weeks_3a = whole(one)?,
        "attendance.target" => {
            let pct = decimal(one)?;
            if !(pct > 0.0 && pct <= 100.0) {
                return Err("geef een percentage groter dan 0 en hoogstens 100".into());
            }
            p.attendance.target = pct / 100.0;
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_field_reads_and_writes_its_key() {
        let mut p = Policy::default();
        for def in GROUPS.iter().flat_map(|g| g.fields.iter()) {
            let v = value_of(&p, def.key);
            let owned: Vec<String> = match &v {
                Val::Bool(true) => vec!["ja".into()],
                Val::Bool(false) => vec![],
                Val::Text(t) => vec![t.clone()],
                Val::Late(_) => vec!["minutes".into()],
                Val::Cats(c) => c.iter().map(|c| c.as_str().to_owned()).collect(),
            };
            let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
            set_value(&mut p, def.key, &refs).unwrap_or_else(|e| panic!("{}: {e}", def.key));
        }
        assert_eq!(p, Policy::default(), "a round trip changes nothing");
    }
}
