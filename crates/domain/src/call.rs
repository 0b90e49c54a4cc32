//! Stap 2 as work of its own: the call after a whole day of absence
//! ("bel na één of twee dagen uit belangstelling", guide A), recorded
//! without a dossier.
//!
//! A call is about one absence run: the `contact` signal that fired on the
//! run's first whole day absent and stays open while the run goes on
//! (rules.md §4). A reached call handles the run; a call that reached no
//! one keeps the task, with a new try on the next school day. Nothing here
//! records the nature of an illness: the free texts are checked by
//! [`illness_words`] and refused when they name one.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;

/// The longest free text of a call, in characters.
pub const MAX_CALL_TEXT: usize = 300;

/// Whom the call reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reached {
    /// A parent or carer (ouder/verzorger).
    Parent,
    /// The student.
    Student,
    /// Nobody: no answer, voicemail, wrong number.
    Nobody,
}

impl Reached {
    pub const ALL: [Reached; 3] = [Reached::Parent, Reached::Student, Reached::Nobody];

    /// The form's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reached::Parent => "ouder",
            Reached::Student => "leerling",
            Reached::Nobody => "niemand",
        }
    }

    pub fn parse(s: &str) -> Option<Reached> {
        Reached::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// For people.
    pub fn label_nl(self) -> &'static str {
        match self {
            Reached::Parent => "ouder of verzorger gesproken",
            Reached::Student => "de leerling gesproken",
            Reached::Nobody => "niet bereikt",
        }
    }
}

/// One call about one absence run of one student.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// The first whole day absent of the run the call is about (the day the
    /// `contact` signal fired).
    pub absent_from: NaiveDate,
    /// The school day the call was made.
    pub on: NaiveDate,
    /// Who called (user name).
    pub by: String,
    pub reached: Reached,
    /// Guide A: how it goes with the student (never the nature of an
    /// illness).
    pub how: String,
    /// Guide A: what school can do (work sent home, a talk on return).
    pub school_can_do: String,
    /// Guide A: when the student is expected back, where known.
    pub expected_back: Option<NaiveDate>,
    /// The caller is worried: the form then offers to open a dossier.
    pub worries: bool,
}

/// Why a call cannot be recorded as given, in Dutch, per field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallError {
    /// The form field (`hoe`, `school`, `terug`, `bereikt`, `datum`).
    pub field: &'static str,
    pub message: String,
}

impl Call {
    /// Checks a call before it is stored: texts within [`MAX_CALL_TEXT`] and
    /// free of illness words, an expected return not before the absence, a
    /// call not before the absence began, texts only when someone was
    /// reached.
    pub fn validate(&self) -> Vec<CallError> {
        let mut out = Vec::new();
        let err = |field, message: String| CallError { field, message };
        if self.on < self.absent_from {
            out.push(err(
                "datum",
                "De datum van het gesprek ligt voor de eerste dag van de afwezigheid.".into(),
            ));
        }
        for (field, label, text) in [
            ("hoe", "Hoe het gaat", &self.how),
            ("school", "Wat school kan doen", &self.school_can_do),
        ] {
            let n = text.chars().count();
            if n > MAX_CALL_TEXT {
                out.push(err(
                    field,
                    format!("{label}: {n} tekens; hoogstens {MAX_CALL_TEXT}."),
                ));
            }
            let words = illness_words(text);
            if !words.is_empty() {
                out.push(err(
                    field,
                    format!(
                        "{label} lijkt een ziekte of behandeling te noemen ({}). Schrijf niet op wat de leerling heeft, alleen hoe het gaat en wat school kan doen.",
                        words.join(", ")
                    ),
                ));
            }
        }
        if self.reached == Reached::Nobody
            && (!self.how.trim().is_empty() || self.expected_back.is_some())
        {
            out.push(err(
                "bereikt",
                "U heeft niemand bereikt: laat 'hoe het gaat' en de verwachte terugkeer leeg."
                    .into(),
            ));
        }
        if let Some(back) = self.expected_back {
            if back < self.absent_from {
                out.push(err(
                    "terug",
                    "De verwachte terugkeer ligt voor de eerste dag van de afwezigheid.".into(),
                ));
            }
        }
        out
    }
}

/// What the plan asks about the call for one absence run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallDue {
    /// Someone was reached on this day: the run is handled.
    Done(NaiveDate),
    /// Call by this school day; `tried` says whether a call already
    /// reached no one (then this is the next school day after that try).
    Due { by: NaiveDate, tried: bool },
}

/// The call task of the absence run that began on `absent_from`, whose
/// first deadline is `deadline` (the signal's), given the student's calls
/// (any order). A call that reached no one moves the task to the next
/// school day after it.
pub fn call_due(
    cal: &Calendar,
    absent_from: NaiveDate,
    deadline: NaiveDate,
    calls: &[Call],
) -> CallDue {
    let mut of_run: Vec<&Call> = calls
        .iter()
        .filter(|c| c.absent_from == absent_from)
        .collect();
    of_run.sort_by_key(|c| c.on);
    if let Some(done) = of_run.iter().find(|c| c.reached != Reached::Nobody) {
        return CallDue::Done(done.on);
    }
    match of_run.last() {
        None => CallDue::Due {
            by: deadline,
            tried: false,
        },
        Some(last) => {
            let next = cal
                .on_or_after(last.on.succ_opt().unwrap_or(last.on))
                .map_or(last.on, |d| cal.date(d));
            CallDue::Due {
                by: next,
                tried: true,
            }
        }
    }
}

/// Words that point to illness or health care (rules.md §5: the nature of
/// an illness is never recorded, nor reported to DUO). Case-insensitive;
/// a word counts when it is one of these, or starts with one
/// (`ziekmeldingen`, `jeugdartsen`, `ziekenhuisbezoek`).
const ILLNESS_STEMS: &[&str] = &[
    "ziek",
    "griep",
    "koorts",
    "arts",
    "dokter",
    "huisarts",
    "jeugdarts",
    "schoolarts",
    "kinderarts",
    "bedrijfsarts",
    "specialist",
    "psycholo",
    "psychiat",
    "therap",
    "medicijn",
    "medicatie",
    "medisch",
    "migraine",
    "hoofdpijn",
    "buikpijn",
    "depressi",
    "angst",
    "operatie",
];

/// Word endings that point to illness in a compound (`buikgriep`,
/// `hooikoorts`, `keelpijn`, `longziekte`).
const ILLNESS_ENDINGS: &[&str] = &["griep", "koorts", "pijn", "ziekte", "ziektes"];

/// Whether one lowercased word points to illness.
fn is_illness_word(word: &str) -> bool {
    ILLNESS_STEMS.iter().any(|s| word.starts_with(s))
        || ILLNESS_ENDINGS.iter().any(|e| word.ends_with(e))
}

/// The illness words in `text`, each once, in the order they appear.
pub fn illness_words(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
    {
        if is_illness_word(&word) && !found.contains(&word) {
            found.push(word);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::tests::{example_calendar, ymd};

    fn call(on: NaiveDate, reached: Reached) -> Call {
        Call {
            absent_from: ymd(2025, 9, 8),
            on,
            by: "mentor".into(),
            reached,
            how: String::new(),
            school_can_do: String::new(),
            expected_back: None,
            worries: false,
        }
    }

    #[test]
    fn a_reached_call_handles_the_run_and_a_missed_one_moves_it() {
        let cal = example_calendar();
        let (from, deadline) = (ymd(2025, 9, 8), ymd(2025, 9, 9));
        assert_eq!(
            call_due(&cal, from, deadline, &[]),
            CallDue::Due {
                by: deadline,
                tried: false
            }
        );
        // Friday's try reached no one: try again on Monday.
        let missed = call(ymd(2025, 9, 12), Reached::Nobody);
        assert_eq!(
            call_due(&cal, from, deadline, std::slice::from_ref(&missed)),
            CallDue::Due {
                by: ymd(2025, 9, 15),
                tried: true
            }
        );
        let reached = call(ymd(2025, 9, 15), Reached::Parent);
        assert_eq!(
            call_due(&cal, from, deadline, &[reached.clone(), missed.clone()]),
            CallDue::Done(ymd(2025, 9, 15))
        );
        // A call about another run does not count.
        let other = Call {
            absent_from: ymd(2025, 9, 1),
            ..reached
        };
        assert_eq!(
            call_due(&cal, from, deadline, &[other]),
            CallDue::Due {
                by: deadline,
                tried: false
            }
        );
    }

    #[test]
    fn a_call_never_records_an_illness() {
        let mut c = call(ymd(2025, 9, 9), Reached::Parent);
        c.how = "Thuis met buikgriep, gaat al beter".into();
        c.school_can_do = "Huiswerk mailen".into();
        let errs = c.validate();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].field, "hoe");
        assert!(errs[0].message.contains("buikgriep"), "{errs:?}");
        c.how = "Gaat al beter, komt maandag weer".into();
        assert!(c.validate().is_empty());
    }

    #[test]
    fn a_call_is_checked() {
        let mut c = call(ymd(2025, 9, 5), Reached::Nobody);
        c.how = "x".repeat(MAX_CALL_TEXT + 1);
        c.expected_back = Some(ymd(2025, 9, 1));
        let fields: Vec<&str> = c.validate().iter().map(|e| e.field).collect();
        assert_eq!(fields, ["datum", "hoe", "bereikt", "terug"]);
    }

    #[test]
    fn illness_words_are_found_in_compounds_and_case() {
        assert_eq!(
            illness_words("Naar de Huisarts; hooikoorts en keelpijn"),
            ["huisarts", "hooikoorts", "keelpijn"]
        );
        assert!(illness_words("gaat goed, komt morgen").is_empty());
    }
}
