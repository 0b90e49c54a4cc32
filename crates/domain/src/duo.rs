//! DUO verzuimmeldingen as drafts (rules.md §4 step 4b, issue 4 item 5).
//!
//! A [`MeldingDraft`] is built from a DUO signal (`duo_16h`, `duo_lrv`,
//! `duo_holiday`) and the student's *current* registrations, completed by
//! people (suspected reason, reporter, school), validated, printed or exported
//! for entry in DUO's Verzuimloket, and then follows DUO's statuses.
//!
//! Two rules are enforced here rather than left to callers:
//!
//! - **Illness is never reported** (rules.md §5; reporting it to DUO is a
//!   data breach). Only lessons in a [`Reportable`] category can enter a
//!   draft — `unknown` and `unauthorized`, whatever the school's policy
//!   says — and [`MeldingDraft::validate`] checks every listed lesson
//!   against the registrations as they are *now*, so an absence reported as
//!   sick after the draft was made blocks registration. Nor may its free
//!   text name an illness ([`MeldingDraft::illness_errors`]).
//! - **The deadline**: 5 working days (policy `deadline_working_days` of the
//!   rule) after the day the threshold was passed, which is the signal's
//!   `end`; [`MeldingDraft::is_overdue`] flags a draft not registered by it.
//!
//! A third rule: **no melding without a persoonsgebonden nummer**. DUO
//! identifies the student by the BSN or, without one, the onderwijsnummer
//! (Besluit verzuimmelding). The draft does not copy the number (it stays
//! in one place, the student); [`MeldingDraft::validate`] and
//! [`MeldingDraft::register`] take the student's current number, and a
//! draft whose student has neither cannot be registered
//! ([`NO_PERSONAL_NUMBER_NL`] says why).
//!
//! Late arrivals (`late_unexcused`) count towards the 16 hours, but DUO's
//! form lists the *lessons missed* per day; a lesson the student came late to
//! was not missed. They are therefore kept apart, in
//! [`MeldingDraft::late_arrivals`], and printed under the explanation so
//! that leerplicht sees how the hours were reached, but never in a day's
//! lesson list.
//!
//! Pure: no I/O and no clock; "today" is a parameter.

use std::fmt;
use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::call::illness_words;
use crate::category::{Category, CategorySet};
use crate::explain::{date_nl, list_nl};
use crate::personal_number::PersonalNumber;
use crate::policy::Policy;
use crate::registration::Registration;
use crate::signal::{RuleId, Signal};
use crate::student::{Student, StudentId};
use crate::timetable::WeekSchedule;

/// The longest suspected reason DUO accepts, in characters.
pub const MAX_SUSPECTED_REASON: usize = 200;

/// The longest explanation DUO's form takes, in characters.
pub const MAX_EXPLANATION: usize = 100;

/// The longest function of the reporter DUO's form takes, in characters.
pub const MAX_REPORTER_FUNCTION: usize = 60;

/// The longest deviating address aanwezig keeps, in characters.
pub const MAX_ADDRESS: usize = 150;

/// The longest name of the teaching location, in characters.
pub const MAX_LOCATION_NAME: usize = 100;

/// The highest lesson number on DUO's form (lessons 1–12).
pub const MAX_LESSON: u8 = 12;

/// The field of a [`DuoFieldError`] about the missing BSN or
/// onderwijsnummer.
pub const PERSONAL_NUMBER_FIELD: &str = "student.personal_number";

/// Why a melding for a student without BSN or onderwijsnummer cannot be
/// registered.
pub const NO_PERSONAL_NUMBER_NL: &str = "Voor een DUO-melding is het BSN of het onderwijsnummer nodig. Van deze leerling is geen van beide bekend. De beheerder kan het nummer inlezen met het leerlingenbestand (kolom bsn of onderwijsnummer). Tot die tijd kunt u de melding niet als gemeld vastleggen.";

/// What a melding shown to someone says about the student's
/// persoonsgebonden nummer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberShown<'a> {
    /// The BSN or onderwijsnummer, for a reader who may see it.
    Known(PersonalNumber<'a>),
    /// The student has neither: the melding cannot be registered yet.
    Missing,
    /// The reader may not see it (leerplicht reading a registered melding).
    Hidden,
}

impl<'a> NumberShown<'a> {
    /// The student's number as `may_see` allows.
    pub fn for_reader(number: Option<PersonalNumber<'a>>, may_see: bool) -> NumberShown<'a> {
        match (may_see, number) {
            (false, _) => NumberShown::Hidden,
            (true, Some(n)) => NumberShown::Known(n),
            (true, None) => NumberShown::Missing,
        }
    }

    /// One line of Dutch: `BSN 123456782`, or why there is no number.
    pub fn text_nl(self) -> String {
        match self {
            NumberShown::Known(n) => format!("{} {}", n.label_nl(), n.as_str()),
            NumberShown::Missing => "geen BSN of onderwijsnummer bekend; een DUO-melding heeft een van beide nodig en kan tot dan niet worden geregistreerd".to_owned(),
            NumberShown::Hidden => "alleen zichtbaar voor de coördinatoren".to_owned(),
        }
    }
}

/// The kind of a melding (soort verzuim).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeldingKind {
    /// 16 uur ongeoorloofd verzuim in 4 lesweken (mandatory).
    ZestienUur,
    /// The same for a student of 18 or older on the end date, who is
    /// kwalificatieplichtig (domain-facts: mandatory below 18; from 18 the
    /// school reports the 18+ variant).
    ZestienUurAchttienPlus,
    /// Langdurig relatief verzuim: more than 4 weeks unexplained.
    LangdurigRelatiefVerzuim,
    /// Luxe verzuim: absence around a holiday without leave.
    LuxeVerzuim,
    /// Below the threshold, optional.
    Overig,
}

impl MeldingKind {
    /// The kind of melding a DUO rule asks for; `None` for other rules.
    pub fn for_rule(rule: RuleId) -> Option<MeldingKind> {
        match rule {
            RuleId::Duo16h => Some(MeldingKind::ZestienUur),
            RuleId::DuoLrv => Some(MeldingKind::LangdurigRelatiefVerzuim),
            RuleId::DuoHoliday => Some(MeldingKind::LuxeVerzuim),
            RuleId::Contact
            | RuleId::AfmeldingCount
            | RuleId::AfmeldingLong
            | RuleId::Unexplained
            | RuleId::AfmeldingPersist => None,
        }
    }

    /// The kind for a student born on `born` whose absence ends on `end`:
    /// the 16-hour kind becomes its 18+ variant when the student is 18 or
    /// older on `end`; other kinds stay.
    pub fn for_age(self, born: NaiveDate, end: NaiveDate) -> MeldingKind {
        match self {
            MeldingKind::ZestienUur | MeldingKind::ZestienUurAchttienPlus => {
                if age_on(born, end) >= 18 {
                    MeldingKind::ZestienUurAchttienPlus
                } else {
                    MeldingKind::ZestienUur
                }
            }
            other => other,
        }
    }

    /// The Dutch label, as on DUO's form.
    pub fn label_nl(self) -> &'static str {
        match self {
            MeldingKind::ZestienUur => "16 uur of meer in 4 lesweken",
            MeldingKind::ZestienUurAchttienPlus => "16 uur of meer in 4 lesweken, 18 jaar of ouder",
            MeldingKind::LangdurigRelatiefVerzuim => "langdurig relatief verzuim",
            MeldingKind::LuxeVerzuim => "luxe verzuim",
            MeldingKind::Overig => "overig verzuim",
        }
    }

    /// Working days to report in, from the policy. `overig` has no legal
    /// deadline; it takes the 16-hour one so that it is not forgotten.
    pub fn deadline_working_days(self, policy: &Policy) -> u32 {
        match self {
            MeldingKind::ZestienUur | MeldingKind::ZestienUurAchttienPlus | MeldingKind::Overig => {
                policy.duo_16h.deadline_working_days
            }
            MeldingKind::LangdurigRelatiefVerzuim => policy.duo_lrv.deadline_working_days,
            MeldingKind::LuxeVerzuim => policy.duo_holiday.deadline_working_days,
        }
    }

    /// The categories of the policy this kind counts: `duo_holiday`'s for
    /// luxe verzuim, the unexplained ones otherwise. Only their
    /// [`Reportable`] and `late_unexcused` members ever reach a draft.
    fn categories(self, policy: &Policy) -> CategorySet {
        match self {
            MeldingKind::LuxeVerzuim => policy.duo_holiday.categories,
            _ => policy.unexplained_categories,
        }
    }
}

/// Age in whole years on `on` of someone born on `born`.
pub fn age_on(born: NaiveDate, on: NaiveDate) -> u32 {
    on.years_since(born).unwrap_or(0)
}

impl fmt::Display for MeldingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_nl())
    }
}

/// A category of missed lesson that may be reported to DUO. Illness,
/// afmeldingen by parents and school-authorised absence have no variant: a
/// lesson in those categories cannot be turned into a `Reportable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reportable {
    /// onbekend afwezig
    Unknown,
    /// ongeoorloofd afwezig
    Unauthorized,
}

impl Reportable {
    /// The reportable form of a category, if it has one. The match is
    /// exhaustive on purpose: a new category must be decided on here.
    pub fn from_category(c: Category) -> Option<Reportable> {
        match c {
            Category::Unknown => Some(Reportable::Unknown),
            Category::Unauthorized => Some(Reportable::Unauthorized),
            Category::Present
            | Category::LateUnexcused
            | Category::LateExcused
            | Category::ReportedSick
            | Category::ReportedOther
            | Category::Authorized
            | Category::NotAbsence => None,
        }
    }
}

/// One day of absence on the form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbsenceDay {
    pub date: NaiveDate,
    /// Every scheduled lesson that day was missed without a valid reason.
    pub whole_day: bool,
    /// The lesson numbers missed without a valid reason, ascending.
    pub lessons: Vec<u8>,
}

/// A lesson the student came late to without a valid reason: counted for
/// the 16 hours, not a lesson missed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateArrival {
    pub date: NaiveDate,
    pub lesson: u8,
    pub minutes_late: u16,
}

/// Whether the school asks leerplicht to act, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeerplichtAction {
    pub wanted: bool,
    pub reason: String,
}

/// Who reports (melder).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    pub name: String,
    /// Function at school (mentor, verzuimcoördinator, …).
    pub function: String,
    pub phone: String,
    pub email: String,
}

/// The school location the melding is made for: BRIN and vestiging.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchoolLocation {
    /// Four characters: two digits and two capital letters, e.g. `12AB`.
    pub brin: String,
    /// Two digits, e.g. `00`.
    pub vestiging: String,
}

/// DUO's statuses of a melding, plus `concept` before it is registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeldingStatus {
    Concept,
    Geregistreerd,
    InBehandeling,
    Afgesloten,
    Ingetrokken,
    TerKennisgevingAangenomen,
}

impl MeldingStatus {
    /// The Dutch label.
    pub fn label_nl(self) -> &'static str {
        match self {
            MeldingStatus::Concept => "concept",
            MeldingStatus::Geregistreerd => "geregistreerd",
            MeldingStatus::InBehandeling => "in behandeling",
            MeldingStatus::Afgesloten => "afgesloten",
            MeldingStatus::Ingetrokken => "ingetrokken",
            MeldingStatus::TerKennisgevingAangenomen => "ter kennisgeving aangenomen",
        }
    }

    /// Whether a melding may move from `self` to `to`.
    ///
    /// concept → geregistreerd → in behandeling → afgesloten; from
    /// geregistreerd or in behandeling a melding can also be withdrawn
    /// (ingetrokken) or taken note of (ter kennisgeving aangenomen). The
    /// last three are final.
    pub fn can_move_to(self, to: MeldingStatus) -> bool {
        use MeldingStatus::*;
        matches!(
            (self, to),
            (Concept, Geregistreerd)
                | (Geregistreerd, InBehandeling)
                | (Geregistreerd, Ingetrokken)
                | (Geregistreerd, TerKennisgevingAangenomen)
                | (InBehandeling, Afgesloten)
                | (InBehandeling, Ingetrokken)
                | (InBehandeling, TerKennisgevingAangenomen)
        )
    }

    /// Whether no move leads out of this status.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            MeldingStatus::Afgesloten
                | MeldingStatus::Ingetrokken
                | MeldingStatus::TerKennisgevingAangenomen
        )
    }
}

impl fmt::Display for MeldingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_nl())
    }
}

/// One status change, for the trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: MeldingStatus,
    pub on: NaiveDate,
}

/// The signal a draft was made from, so that storage can keep one draft per
/// signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SignalRef {
    pub rule: RuleId,
    pub fired_on: NaiveDate,
}

/// One field of a draft that is not acceptable, with a Dutch message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuoFieldError {
    /// The field, as in the JSON: `suspected_reason`, `days[2].lessons`,
    /// `reporter.email`, `school.brin`, …
    pub field: String,
    pub message_nl: String,
}

fn field_err(field: impl Into<String>, message_nl: impl Into<String>) -> DuoFieldError {
    DuoFieldError {
        field: field.into(),
        message_nl: message_nl.into(),
    }
}

/// Why a draft could not be made or changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DuoError {
    #[error("signaal '{0}' is geen DUO-melding")]
    NotADuoSignal(RuleId),
    #[error("het signaal noemt geen begin- en einddatum")]
    NoPeriod,
    #[error("begindatum {begin} ligt na einddatum {end}")]
    Backwards { begin: NaiveDate, end: NaiveDate },
    #[error(
        "geen ongeoorloofd of onbekend verzuim tussen {begin} en {end}: er is niets te melden"
    )]
    NothingToReport { begin: NaiveDate, end: NaiveDate },
    #[error("een melding met status '{from}' kan niet naar '{to}'")]
    NotAllowed {
        from: MeldingStatus,
        to: MeldingStatus,
    },
    #[error("datum {on} ligt voor {earlier}, de vorige datum van deze melding")]
    DateBefore { on: NaiveDate, earlier: NaiveDate },
    #[error("de melding is niet volledig of niet juist ({})", crate::explain::counted_nl(.0.len() as u64, "fout", "fouten"))]
    Invalid(Vec<DuoFieldError>),
    #[error("een melding wordt pas geregistreerd nadat ze is gecontroleerd")]
    NotValidated,
    #[error("het meldingsnummer van DUO is 1 tot {MAX_DUO_NUMBER} letters en cijfers, niet '{0}'")]
    BadDuoNumber(String),
    #[error(
        "een meldingsnummer hoort bij een melding die bij DUO is gedaan; deze staat nog in concept"
    )]
    NotYetRegistered,
}

/// The verzuimdagen and verzuimuren of a melding ([`MeldingDraft::totals`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeldingTotals {
    pub days: usize,
    pub whole_days: usize,
    pub lessons: usize,
    pub hours: crate::hours::Hours,
}

/// The longest meldingsnummer aanwezig keeps.
pub const MAX_DUO_NUMBER: usize = 30;

/// A DUO verzuimmelding, from draft to its final status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeldingDraft {
    pub kind: MeldingKind,
    pub student: StudentId,
    pub student_name: String,
    pub date_of_birth: NaiveDate,
    /// First day of the absence counted.
    pub begin: NaiveDate,
    /// The day the threshold was reached.
    pub end: NaiveDate,
    /// Days with lessons missed without a valid reason, ascending.
    pub days: Vec<AbsenceDay>,
    /// Late arrivals without a valid reason in [begin, end]; not on the form's
    /// lesson grid (see the module docs).
    pub late_arrivals: Vec<LateArrival>,
    /// Every lesson of every school day in [begin, end] was missed.
    pub all_lessons_missed: bool,
    /// Required, at most [`MAX_SUSPECTED_REASON`] characters.
    pub suspected_reason: String,
    pub explanation: Option<String>,
    pub leerplicht_action: Option<LeerplichtAction>,
    /// The actions the school already took, filled from the case.
    pub actions_taken: Vec<String>,
    pub reporter: Reporter,
    pub school: SchoolLocation,
    pub status: MeldingStatus,
    /// The last day to register the melding.
    pub deadline: NaiveDate,
    pub created_on: NaiveDate,
    pub registered_on: Option<NaiveDate>,
    /// Every status change after creation, in order.
    pub history: Vec<StatusChange>,
    /// The signal this draft was made from; `None` for one made by hand.
    pub source: Option<SignalRef>,
    /// The meldingsnummer DUO returned, entered by the coordinator once the
    /// melding is registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duo_number: Option<String>,
    /// A phone number of the parents or the student (Besluit
    /// verzuimmelding); required to register.
    #[serde(default)]
    pub contact_phone: String,
    /// A deviating address, where known (at most [`MAX_ADDRESS`]).
    #[serde(default)]
    pub address: Option<String>,
    /// The name of the teaching location (at most [`MAX_LOCATION_NAME`]).
    #[serde(default)]
    pub location_name: String,
    /// The earlier melding this one follows (a vervolgmelding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follows: Option<i64>,
}

impl MeldingDraft {
    /// The verzuimdagen and verzuimuren the melding reports (Besluit
    /// verzuimmelding): the days with a missed lesson, of which whole days,
    /// the lessons missed, and their hours as rules.md §2 counts them (a
    /// lesuur of up to 60 minutes is an hour; late arrivals count their
    /// minutes).
    pub fn totals(&self, cal: &Calendar) -> MeldingTotals {
        let mut minutes: u32 = 0;
        let mut lessons = 0usize;
        for day in &self.days {
            lessons += day.lessons.len();
            if let Some(d) = cal.index(day.date) {
                minutes += day
                    .lessons
                    .iter()
                    .filter_map(|n| cal.lesson(d, *n))
                    // rules.md §2: a lesson of up to 60 minutes is one
                    // hour (VO counts lesuren), a longer one its minutes.
                    .map(|l| u32::from(l.minutes).max(60))
                    .sum::<u32>();
            }
        }
        minutes += self
            .late_arrivals
            .iter()
            .map(|l| u32::from(l.minutes_late))
            .sum::<u32>();
        MeldingTotals {
            days: self.days.len(),
            whole_days: self.days.iter().filter(|d| d.whole_day).count(),
            lessons,
            hours: crate::hours::Hours::from_minutes(minutes),
        }
    }

    /// Records the meldingsnummer DUO returned: letters, digits, `-` and
    /// `/`, at most [`MAX_DUO_NUMBER`]; only for a melding that was made
    /// at DUO (not a concept).
    pub fn set_duo_number(&mut self, number: &str) -> Result<(), DuoError> {
        if self.status == MeldingStatus::Concept {
            return Err(DuoError::NotYetRegistered);
        }
        let n = number.trim();
        let fine = !n.is_empty()
            && n.chars().count() <= MAX_DUO_NUMBER
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/');
        if !fine {
            return Err(DuoError::BadDuoNumber(n.chars().take(40).collect()));
        }
        self.duo_number = Some(n.to_owned());
        Ok(())
    }

    /// A draft for a DUO signal of `student`, from the registrations
    /// (`regs`: the student's slice in engine form, as evaluated) in the
    /// signal's [begin, end]. Suspected reason, reporter and school are left
    /// empty for people to fill in; [`MeldingDraft::validate`] says what is
    /// missing.
    pub fn from_signal(
        signal: &Signal,
        regs: &[Registration],
        cal: &Calendar,
        policy: &Policy,
        student: &Student,
        today: NaiveDate,
    ) -> Result<MeldingDraft, DuoError> {
        Self::from_signal_in(signal, regs, None, cal, policy, student, today)
    }

    /// [`MeldingDraft::from_signal`] for a student with a timetable:
    /// `week` gives the lessons scheduled on each day (rules.md §2), so
    /// that a whole day is the student's whole day.
    pub fn from_signal_in(
        signal: &Signal,
        regs: &[Registration],
        week: Option<&WeekSchedule>,
        cal: &Calendar,
        policy: &Policy,
        student: &Student,
        today: NaiveDate,
    ) -> Result<MeldingDraft, DuoError> {
        let kind =
            MeldingKind::for_rule(signal.rule).ok_or(DuoError::NotADuoSignal(signal.rule))?;
        let (Some(begin), Some(end)) = (signal.begin, signal.end) else {
            return Err(DuoError::NoPeriod);
        };
        let mut draft = MeldingDraft::for_period_in(
            kind,
            student,
            cal.date(begin),
            cal.date(end),
            (regs, week),
            cal,
            policy,
            today,
        )?;
        draft.source = Some(SignalRef {
            rule: signal.rule,
            fired_on: cal.date(signal.fired_on),
        });
        Ok(draft)
    }

    /// A draft of `kind` for the absence in [begin, end], for example an
    /// `overig` melding made by hand. The deadline counts from `end`, the
    /// day the threshold was reached.
    #[expect(
        clippy::too_many_arguments,
        reason = "each input is distinct and named"
    )]
    pub fn for_period(
        kind: MeldingKind,
        student: &Student,
        begin: NaiveDate,
        end: NaiveDate,
        regs: &[Registration],
        cal: &Calendar,
        policy: &Policy,
        today: NaiveDate,
    ) -> Result<MeldingDraft, DuoError> {
        Self::for_period_in(kind, student, begin, end, (regs, None), cal, policy, today)
    }

    /// [`MeldingDraft::for_period`] with the student's lessons as
    /// `(registrations, timetable week)`: with a week, a whole day is every
    /// lesson the timetable schedules that day (rules.md §2).
    #[expect(
        clippy::too_many_arguments,
        reason = "each input is distinct and named"
    )]
    pub fn for_period_in(
        kind: MeldingKind,
        student: &Student,
        begin: NaiveDate,
        end: NaiveDate,
        (regs, week): (&[Registration], Option<&WeekSchedule>),
        cal: &Calendar,
        policy: &Policy,
        today: NaiveDate,
    ) -> Result<MeldingDraft, DuoError> {
        if begin > end {
            return Err(DuoError::Backwards { begin, end });
        }
        let kind = kind.for_age(student.date_of_birth, end);
        let cats = kind.categories(policy);
        let mut days: Vec<AbsenceDay> = Vec::new();
        let mut late_arrivals = Vec::new();
        let mut school_days = 0usize;
        let (Some(from), Some(to)) = (cal.on_or_after(begin), cal.on_or_before(end)) else {
            return Err(DuoError::NothingToReport { begin, end });
        };
        for d in from..=to {
            school_days += 1;
            let date = cal.date(d);
            let of_day: Vec<&Registration> = regs.iter().filter(|r| r.day == d).collect();
            let mut lessons: Vec<u8> = of_day
                .iter()
                .filter(|r| cats.contains(r.category))
                .filter(|r| Reportable::from_category(r.category).is_some())
                .map(|r| r.lesson)
                .collect();
            lessons.sort_unstable();
            lessons.dedup();
            for r in of_day.iter().filter(|r| {
                r.category == Category::LateUnexcused && cats.contains(Category::LateUnexcused)
            }) {
                late_arrivals.push(LateArrival {
                    date,
                    lesson: r.lesson,
                    minutes_late: r.minutes_late,
                });
            }
            if !lessons.is_empty() {
                let scheduled = crate::engine::scheduled_lessons(
                    cal,
                    policy.presence,
                    week,
                    d,
                    of_day.iter().map(|r| r.lesson),
                );
                days.push(AbsenceDay {
                    date,
                    whole_day: lessons.len() == scheduled,
                    lessons,
                });
            }
        }
        if days.is_empty() && late_arrivals.is_empty() {
            return Err(DuoError::NothingToReport { begin, end });
        }
        late_arrivals.sort_by_key(|l| (l.date, l.lesson));
        let all_lessons_missed = days.len() == school_days && days.iter().all(|d| d.whole_day);
        Ok(MeldingDraft {
            kind,
            student: student.id.clone(),
            student_name: student.name.clone(),
            date_of_birth: student.date_of_birth,
            begin,
            end,
            days,
            late_arrivals,
            all_lessons_missed,
            suspected_reason: String::new(),
            explanation: None,
            leerplicht_action: None,
            actions_taken: Vec::new(),
            reporter: Reporter::default(),
            school: SchoolLocation::default(),
            status: MeldingStatus::Concept,
            deadline: cal.add_working_days(end, kind.deadline_working_days(policy)),
            created_on: today,
            registered_on: None,
            history: Vec::new(),
            source: None,
            duo_number: None,
            contact_phone: String::new(),
            address: None,
            location_name: String::new(),
            follows: None,
        })
    }

    /// Every problem with the draft, per field: the student's BSN or
    /// onderwijsnummer (`number`, the student's current one), the form's
    /// required fields and formats, the period and its days against the
    /// calendar, and every listed lesson against the student's registrations
    /// as they are now (`regs` in engine form) — a lesson since reported
    /// sick, reported by parents or authorised by the school may not be
    /// reported.
    pub fn validate(
        &self,
        cal: &Calendar,
        regs: &[Registration],
        number: Option<PersonalNumber<'_>>,
    ) -> Result<(), Vec<DuoFieldError>> {
        let mut errs = Vec::new();
        if number.is_none() {
            errs.push(field_err(PERSONAL_NUMBER_FIELD, NO_PERSONAL_NUMBER_NL));
        }
        let reason = self.suspected_reason.trim();
        if reason.is_empty() {
            errs.push(field_err(
                "suspected_reason",
                "vul de vermoedelijke reden van het verzuim in",
            ));
        } else if reason.chars().count() > MAX_SUSPECTED_REASON {
            errs.push(field_err(
                "suspected_reason",
                format!(
                    "de vermoedelijke reden is {} tekens; DUO staat er hoogstens {MAX_SUSPECTED_REASON} toe",
                    reason.chars().count()
                ),
            ));
        }
        if self.begin > self.end {
            errs.push(field_err("end", "de einddatum ligt voor de begindatum"));
        }
        if !cal.is_school_day(self.begin) {
            errs.push(field_err("begin", "de begindatum is geen schooldag"));
        }
        if !cal.is_school_day(self.end) {
            errs.push(field_err("end", "de einddatum is geen schooldag"));
        }
        if self.days.is_empty() && self.late_arrivals.is_empty() {
            errs.push(field_err("days", "de melding noemt geen verzuimde lessen"));
        }
        let mut previous: Option<NaiveDate> = None;
        for (i, day) in self.days.iter().enumerate() {
            let f = |name: &str| format!("days[{i}].{name}");
            if day.date < self.begin || day.date > self.end {
                errs.push(field_err(
                    f("date"),
                    format!(
                        "{} ligt buiten de periode van de melding",
                        date_nl(day.date)
                    ),
                ));
            }
            if previous.is_some_and(|p| p >= day.date) {
                errs.push(field_err(
                    f("date"),
                    "de dagen staan niet op volgorde of een dag staat er twee keer",
                ));
            }
            previous = Some(day.date);
            let Some(d) = cal.index(day.date) else {
                errs.push(field_err(
                    f("date"),
                    format!("{} is geen schooldag", date_nl(day.date)),
                ));
                continue;
            };
            if day.lessons.is_empty() {
                errs.push(field_err(f("lessons"), "noem de verzuimde lesuren"));
            }
            if day.lessons.windows(2).any(|w| w[0] >= w[1]) {
                errs.push(field_err(
                    f("lessons"),
                    "de lesuren staan niet oplopend of een lesuur staat er twee keer",
                ));
            }
            for &lesson in &day.lessons {
                if !(1..=MAX_LESSON).contains(&lesson) {
                    errs.push(field_err(
                        f("lessons"),
                        format!("lesuur {lesson} bestaat niet op het formulier (1 tot en met {MAX_LESSON})"),
                    ));
                    continue;
                }
                let now = regs.iter().find(|r| r.day == d && r.lesson == lesson);
                match now.map(|r| r.category) {
                    Some(c) if Reportable::from_category(c).is_some() => {}
                    Some(Category::ReportedSick) => errs.push(field_err(
                        f("lessons"),
                        format!(
                            "lesuur {lesson} op {} is ziek gemeld: ziekte wordt nooit aan DUO gemeld",
                            date_nl(day.date)
                        ),
                    )),
                    Some(c) => errs.push(field_err(
                        f("lessons"),
                        format!(
                            "lesuur {lesson} op {} staat nu op '{}': dat is geen ongeoorloofd verzuim",
                            date_nl(day.date),
                            c.label_nl()
                        ),
                    )),
                    None => errs.push(field_err(
                        f("lessons"),
                        format!("lesuur {lesson} op {} is niet geregistreerd", date_nl(day.date)),
                    )),
                }
            }
        }
        for (i, late) in self.late_arrivals.iter().enumerate() {
            let field = format!("late_arrivals[{i}]");
            if late.date < self.begin || late.date > self.end {
                errs.push(field_err(
                    &field,
                    format!(
                        "{} ligt buiten de periode van de melding",
                        date_nl(late.date)
                    ),
                ));
            }
            let now = cal
                .index(late.date)
                .and_then(|d| regs.iter().find(|r| r.day == d && r.lesson == late.lesson));
            if now.map(|r| r.category) != Some(Category::LateUnexcused) {
                errs.push(field_err(
                    &field,
                    format!(
                        "lesuur {} op {} is niet (meer) te laat zonder geldige reden",
                        late.lesson,
                        date_nl(late.date)
                    ),
                ));
            }
        }
        if let Some(action) = &self.leerplicht_action {
            if action.wanted && action.reason.trim().is_empty() {
                errs.push(field_err(
                    "leerplicht_action.reason",
                    "zeg waarom actie van leerplicht gewenst is",
                ));
            }
        }
        if let Some(n) = self
            .explanation
            .as_deref()
            .map(|e| e.trim().chars().count())
            .filter(|n| *n > MAX_EXPLANATION)
        {
            errs.push(field_err(
                "explanation",
                format!(
                    "de toelichting is {n} tekens; DUO staat er hoogstens {MAX_EXPLANATION} toe"
                ),
            ));
        }
        if self.reporter.name.trim().is_empty() {
            errs.push(field_err("reporter.name", "vul de naam van de melder in"));
        }
        let function = self.reporter.function.trim().chars().count();
        if function > MAX_REPORTER_FUNCTION {
            errs.push(field_err(
                "reporter.function",
                format!(
                    "de functie van de melder is {function} tekens; DUO staat er hoogstens {MAX_REPORTER_FUNCTION} toe"
                ),
            ));
        }
        let email = self.reporter.email.trim();
        let phone = self.reporter.phone.trim();
        if email.is_empty() && phone.is_empty() {
            errs.push(field_err(
                "reporter.contact",
                "vul een e-mailadres of telefoonnummer van de melder in",
            ));
        }
        if !email.is_empty() && !is_email(email) {
            errs.push(field_err(
                "reporter.email",
                "dit is geen geldig e-mailadres",
            ));
        }
        if !phone.is_empty() && !is_phone(phone) {
            errs.push(field_err(
                "reporter.phone",
                "dit is geen geldig telefoonnummer (minstens 10 cijfers)",
            ));
        }
        let contact = self.contact_phone.trim();
        if contact.is_empty() {
            errs.push(field_err(
                "contact_phone",
                "vul een telefoonnummer van de ouders of de leerling in",
            ));
        } else if !is_phone(contact) {
            errs.push(field_err(
                "contact_phone",
                "het telefoonnummer van de ouders of de leerling is geen geldig nummer (minstens 10 cijfers)",
            ));
        }
        if let Some(n) = self
            .address
            .as_deref()
            .map(|a| a.trim().chars().count())
            .filter(|n| *n > MAX_ADDRESS)
        {
            errs.push(field_err(
                "address",
                format!("het afwijkende adres is {n} tekens; hoogstens {MAX_ADDRESS}"),
            ));
        }
        let location = self.location_name.trim().chars().count();
        if location == 0 {
            errs.push(field_err(
                "location_name",
                "vul de naam van de onderwijslocatie in",
            ));
        } else if location > MAX_LOCATION_NAME {
            errs.push(field_err(
                "location_name",
                format!(
                    "de naam van de onderwijslocatie is {location} tekens; hoogstens {MAX_LOCATION_NAME}"
                ),
            ));
        }
        if !is_brin(&self.school.brin) {
            errs.push(field_err(
                "school.brin",
                "een BRIN-nummer is 2 cijfers en 2 hoofdletters, bijvoorbeeld 12AB",
            ));
        }
        if !is_vestiging(&self.school.vestiging) {
            errs.push(field_err(
                "school.vestiging",
                "een vestigingsnummer is 2 cijfers, bijvoorbeeld 00",
            ));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }

    /// Moves the melding to status `to` on date `on`, along the moves of
    /// [`MeldingStatus::can_move_to`], never back in time. Registering is not
    /// done here but with [`MeldingDraft::register`], which validates first:
    /// no melding can reach DUO's statuses without the illness check.
    pub fn transition(&mut self, to: MeldingStatus, on: NaiveDate) -> Result<(), DuoError> {
        if to == MeldingStatus::Geregistreerd && self.status.can_move_to(to) {
            return Err(DuoError::NotValidated);
        }
        self.move_to(to, on)
    }

    /// Validates the draft against the calendar, the student's current
    /// registrations and number (BSN or onderwijsnummer) and, when it is
    /// complete and correct, registers it on `on` (sets `registered_on`).
    pub fn register(
        &mut self,
        on: NaiveDate,
        cal: &Calendar,
        regs: &[Registration],
        number: Option<PersonalNumber<'_>>,
    ) -> Result<(), DuoError> {
        if !self.status.can_move_to(MeldingStatus::Geregistreerd) {
            return Err(DuoError::NotAllowed {
                from: self.status,
                to: MeldingStatus::Geregistreerd,
            });
        }
        self.validate(cal, regs, number)
            .map_err(DuoError::Invalid)?;
        self.move_to(MeldingStatus::Geregistreerd, on)
    }

    fn move_to(&mut self, to: MeldingStatus, on: NaiveDate) -> Result<(), DuoError> {
        if !self.status.can_move_to(to) {
            return Err(DuoError::NotAllowed {
                from: self.status,
                to,
            });
        }
        let earlier = self.history.last().map_or(self.created_on, |c| c.on);
        if on < earlier {
            return Err(DuoError::DateBefore { on, earlier });
        }
        if to == MeldingStatus::Geregistreerd {
            self.registered_on = Some(on);
        }
        self.status = to;
        self.history.push(StatusChange { status: to, on });
        Ok(())
    }

    /// Not registered and the deadline has passed (the deadline day itself
    /// is still in time).
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.registered_on.is_none() && today > self.deadline
    }

    /// Registered, but after the deadline.
    pub fn registered_late(&self) -> bool {
        self.registered_on.is_some_and(|r| r > self.deadline)
    }

    /// The melding as a plain, printable Dutch text, every field in the
    /// order of the Verzuimloket's form; `number` is the student's BSN or
    /// onderwijsnummer as the reader may see it.
    pub fn to_export_text(&self, number: NumberShown<'_>) -> String {
        let mut out = String::new();
        let yes_no = |b: bool| if b { "ja" } else { "nee" };
        let or_dash = |s: &str| {
            if s.trim().is_empty() {
                "—".to_owned()
            } else {
                fold_export_field(s.trim())
            }
        };
        // Writing to a String cannot fail.
        let _ = writeln!(out, "DUO-melding");
        let _ = writeln!(out, "==================");
        let _ = writeln!(out, "Soort verzuim: {}", self.kind.label_nl());
        let _ = writeln!(
            out,
            "Leerling: {} ({}), geboren {}",
            or_dash(&self.student_name),
            self.student,
            date_nl(self.date_of_birth)
        );
        let _ = writeln!(out, "Persoonsgebonden nummer: {}", number.text_nl());
        let _ = writeln!(
            out,
            "Telefoon ouders of leerling: {}",
            or_dash(&self.contact_phone)
        );
        let _ = writeln!(
            out,
            "Afwijkend adres: {}",
            or_dash(self.address.as_deref().unwrap_or(""))
        );
        if let Some(n) = self.follows {
            let _ = writeln!(out, "Vervolg op melding: nr. {n}");
        }
        let _ = writeln!(out, "Begindatum verzuim: {}", date_nl(self.begin));
        let _ = writeln!(out, "Einddatum verzuim: {}", date_nl(self.end));
        let _ = writeln!(out, "Verzuimdagen:");
        if self.days.is_empty() {
            let _ = writeln!(out, "  —");
        }
        for day in &self.days {
            let lessons: Vec<String> = day.lessons.iter().map(u8::to_string).collect();
            let _ = writeln!(
                out,
                "  {}: hele dag {}; lesuren {}",
                date_nl(day.date),
                yes_no(day.whole_day),
                lessons.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "Alle lessen verzuimd: {}",
            yes_no(self.all_lessons_missed)
        );
        let _ = writeln!(
            out,
            "Vermoedelijke reden: {}",
            or_dash(&self.suspected_reason)
        );
        let _ = writeln!(
            out,
            "Toelichting: {}",
            or_dash(self.explanation.as_deref().unwrap_or(""))
        );
        if !self.late_arrivals.is_empty() {
            let minutes: u32 = self
                .late_arrivals
                .iter()
                .map(|l| u32::from(l.minutes_late))
                .sum();
            let _ = writeln!(
                out,
                "  Daarnaast {} keer te laat zonder geldige reden ({minutes} minuten), meegeteld voor de uren:",
                self.late_arrivals.len()
            );
            for l in &self.late_arrivals {
                let _ = writeln!(
                    out,
                    "    {}, lesuur {}: {} minuten",
                    date_nl(l.date),
                    l.lesson,
                    l.minutes_late
                );
            }
        }
        match &self.leerplicht_action {
            None => {
                let _ = writeln!(out, "Actie leerplicht gewenst: —");
            }
            Some(a) => {
                let _ = writeln!(out, "Actie leerplicht gewenst: {}", yes_no(a.wanted));
                let _ = writeln!(out, "  Waarom: {}", or_dash(&a.reason));
            }
        }
        let _ = writeln!(out, "Ondernomen acties door de school:");
        if self.actions_taken.is_empty() {
            let _ = writeln!(out, "  —");
        }
        for a in &self.actions_taken {
            let _ = writeln!(out, "  - {}", fold_export_field(a.trim()));
        }
        let _ = writeln!(out, "Melder:");
        let _ = writeln!(out, "  Naam: {}", or_dash(&self.reporter.name));
        let _ = writeln!(out, "  Functie: {}", or_dash(&self.reporter.function));
        let _ = writeln!(out, "  Telefoon: {}", or_dash(&self.reporter.phone));
        let _ = writeln!(out, "  E-mail: {}", or_dash(&self.reporter.email));
        let _ = writeln!(out, "Onderwijslocatie: {}", or_dash(&self.location_name));
        let _ = writeln!(
            out,
            "Locatie: BRIN {}, vestiging {}",
            or_dash(&self.school.brin),
            or_dash(&self.school.vestiging)
        );
        let _ = writeln!(out, "Status: {}", self.status.label_nl());
        let _ = writeln!(
            out,
            "Datum melding: {}",
            self.registered_on
                .map_or_else(|| "nog niet gemeld".to_owned(), date_nl)
        );
        let _ = writeln!(out, "Uiterlijk melden op: {}", date_nl(self.deadline));
        out
    }
}

/// A free-text field for [`MeldingDraft::to_export_text`]: a line break
/// inside the field (LF, CR or CRLF) continues on a new line marked
/// `    | `, which no field line of the export starts with, so text typed into
/// a field can never pass for another field ("Status: afgesloten"). Other
/// control characters become a space.
fn fold_export_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\n    | ");
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Whether `s` is a BRIN number as DUO writes it: two digits and two
/// capital letters (`12AB`).
pub fn is_brin(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 4
        && b[..2].iter().all(u8::is_ascii_digit)
        && b[2..].iter().all(u8::is_ascii_uppercase)
}

/// Whether `s` is a vestiging number: two digits (`00`).
pub fn is_vestiging(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` looks like an e-mail address (one `@`, a dot in the
/// domain, no spaces): the form's check, not a delivery guarantee.
pub fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

/// Whether `s` is a phone number as the form wants it: digits, spaces and
/// `+-()`, at least ten digits.
pub fn is_phone(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'))
        && s.chars().filter(char::is_ascii_digit).count() >= 10
}

impl MeldingDraft {
    /// A field error for every free-text part of the draft that names
    /// illness ([`illness_words`]): the suspected reason, the explanation
    /// and each line of the actions taken (field `actions`, one error per
    /// line). Illness is never reported to DUO, so a draft that names it
    /// may be saved as work in progress but not registered.
    pub fn illness_errors(&self) -> Vec<DuoFieldError> {
        let mut parts: Vec<(&str, String, &str)> = vec![
            (
                "suspected_reason",
                "De vermoedelijke reden".to_owned(),
                self.suspected_reason.as_str(),
            ),
            (
                "explanation",
                "De toelichting".to_owned(),
                self.explanation.as_deref().unwrap_or_default(),
            ),
        ];
        for (i, line) in self.actions_taken.iter().enumerate() {
            parts.push((
                "actions",
                format!("Regel {} van de acties", i + 1),
                line.as_str(),
            ));
        }
        parts
            .into_iter()
            .filter_map(|(field, label, text)| {
                let words = illness_words(text);
                (!words.is_empty()).then(|| {
                    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
                    field_err(
                        field,
                        format!(
                            "{label} noemt {}: dat wijst op ziekte. Ziekte wordt nooit aan DUO gemeld. Beschrijf het verzuim zonder ziekte of gezondheid te noemen.",
                            list_nl(&quoted)
                        ),
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::tests::{example_calendar, ymd};
    use crate::calendar::DayIdx;
    use crate::engine::{Engine, StudentContext};

    /// Seven lessons of 50 minutes on every school day up to `until`,
    /// present unless `f` says otherwise (like engine_tests' `student`).
    fn regs(
        cal: &Calendar,
        until: NaiveDate,
        f: impl Fn(NaiveDate, u8) -> Option<Category>,
    ) -> Vec<Registration> {
        let mut out = Vec::new();
        for (i, date) in cal.school_days().iter().enumerate() {
            if *date > until {
                break;
            }
            for lesson in 1..=7u8 {
                let category = f(*date, lesson).unwrap_or(Category::Present);
                out.push(Registration {
                    day: DayIdx::try_from(i).expect("small calendar"),
                    minutes: 50,
                    minutes_late: if category == Category::LateUnexcused {
                        20
                    } else {
                        0
                    },
                    lesson,
                    category,
                });
            }
        }
        out
    }

    static BSN: std::sync::LazyLock<crate::Bsn> =
        std::sync::LazyLock::new(|| crate::Bsn::parse("123456782").expect("a valid BSN"));

    /// The test student's number.
    fn pgn() -> Option<PersonalNumber<'static>> {
        Some(PersonalNumber::Bsn(&BSN))
    }

    fn pupil() -> Student {
        Student {
            id: StudentId::parse("123456").expect("valid id"),
            name: "Sanne de Vries".into(),
            class: "3B".into(),
            mentor: "jansen".into(),
            date_of_birth: ymd(2011, 3, 14),
            bsn: None,
            onderwijsnummer: None,
        }
    }

    fn signal(cal: &Calendar, regs: &[Registration], rule: RuleId) -> Signal {
        let policy = Policy::default();
        Engine::new(cal, &policy)
            .evaluate(regs, &StudentContext::default(), None)
            .signals
            .into_iter()
            .find(|s| s.rule == rule)
            .expect("the rule fires")
    }

    /// Rules.md §6 example 3: unknown in lessons 1–4, Mon 8 – Thu 11 Sep.
    fn example_3() -> (Calendar, Vec<Registration>, MeldingDraft) {
        let cal = example_calendar();
        let regs = regs(&cal, ymd(2025, 9, 30), |d, l| {
            (ymd(2025, 9, 8) <= d && d <= ymd(2025, 9, 11) && l <= 4).then_some(Category::Unknown)
        });
        let s = signal(&cal, &regs, RuleId::Duo16h);
        let draft = MeldingDraft::from_signal(
            &s,
            &regs,
            &cal,
            &Policy::default(),
            &pupil(),
            ymd(2025, 9, 12),
        )
        .expect("a draft");
        (cal, regs, draft)
    }

    fn completed(mut d: MeldingDraft) -> MeldingDraft {
        d.suspected_reason = "Spijbelt met klasgenoten in de ochtend".into();
        d.reporter = Reporter {
            name: "A. Jansen".into(),
            function: "verzuimcoördinator".into(),
            phone: "050 123 4567".into(),
            email: "a.jansen@school.nl".into(),
        };
        d.school = SchoolLocation {
            brin: "12AB".into(),
            vestiging: "00".into(),
        };
        d.contact_phone = "06 1234 5678".into();
        d.location_name = "Het Voorbeeld College, locatie Noord".into();
        d
    }

    #[test]
    fn the_sixteen_hour_kind_turns_18_plus_on_the_end_date() {
        let born = ymd(2007, 11, 14);
        let k = MeldingKind::ZestienUur;
        assert_eq!(k.for_age(born, ymd(2025, 11, 13)), MeldingKind::ZestienUur);
        assert_eq!(
            k.for_age(born, ymd(2025, 11, 14)),
            MeldingKind::ZestienUurAchttienPlus,
            "18 on the birthday itself"
        );
        assert_eq!(
            MeldingKind::LuxeVerzuim.for_age(born, ymd(2026, 1, 1)),
            MeldingKind::LuxeVerzuim
        );
        assert_eq!(
            serde_json::to_string(&MeldingKind::ZestienUurAchttienPlus).unwrap(),
            "\"zestien_uur_achttien_plus\""
        );
    }

    #[test]
    fn a_draft_stored_before_the_new_fields_still_reads() {
        let mut v = serde_json::to_value(completed(example_3().2)).unwrap();
        let o = v.as_object_mut().unwrap();
        for k in ["contact_phone", "address", "location_name", "follows"] {
            o.remove(k);
        }
        let back: MeldingDraft = serde_json::from_value(v).unwrap();
        assert_eq!(back.contact_phone, "");
        assert_eq!(back.address, None);
        assert_eq!(back.follows, None);
    }

    #[test]
    fn contact_phone_address_and_location_are_checked_and_exported() {
        let (cal, regs, d) = example_3();
        let ok = completed(d);
        assert_eq!(ok.validate(&cal, &regs, pgn()), Ok(()));
        let mut d = ok.clone();
        d.contact_phone = String::new();
        d.location_name = " ".into();
        d.address = Some("x".repeat(MAX_ADDRESS + 1));
        let f = fields(d.validate(&cal, &regs, pgn()));
        assert_eq!(f.len(), 3, "{f:?}");
        for want in ["contact_phone", "location_name", "address"] {
            assert!(f.iter().any(|x| x == want), "{want} in {f:?}");
        }
        d.contact_phone = "12345".into();
        let f = fields(d.validate(&cal, &regs, pgn()));
        assert!(f.iter().any(|x| x == "contact_phone"), "too short");
        let mut d = ok;
        d.address = Some("Dorpsstraat 1, 9999 XX Ergens".into());
        d.follows = Some(3);
        let text = d.to_export_text(NumberShown::Missing);
        assert!(
            text.contains("Telefoon ouders of leerling: 06 1234 5678"),
            "{text}"
        );
        assert!(text.contains("Afwijkend adres: Dorpsstraat 1, 9999 XX Ergens"));
        assert!(text.contains("Onderwijslocatie: Het Voorbeeld College, locatie Noord"));
        assert!(text.contains("Vervolg op melding: nr. 3"));
    }

    fn fields(r: Result<(), Vec<DuoFieldError>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn rules_map_to_kinds() {
        assert_eq!(
            MeldingKind::for_rule(RuleId::Duo16h),
            Some(MeldingKind::ZestienUur)
        );
        assert_eq!(
            MeldingKind::for_rule(RuleId::DuoLrv),
            Some(MeldingKind::LangdurigRelatiefVerzuim)
        );
        assert_eq!(
            MeldingKind::for_rule(RuleId::DuoHoliday),
            Some(MeldingKind::LuxeVerzuim)
        );
        for r in RuleId::ALL {
            assert_eq!(MeldingKind::for_rule(r).is_some(), r.is_duo(), "{r}");
        }
        assert_eq!(
            MeldingKind::ZestienUur.label_nl(),
            "16 uur of meer in 4 lesweken"
        );
    }

    #[test]
    fn illness_and_authorised_absence_are_never_reportable() {
        for c in Category::ALL {
            let reportable = Reportable::from_category(c).is_some();
            assert_eq!(
                reportable,
                matches!(c, Category::Unknown | Category::Unauthorized),
                "{c}"
            );
        }
    }

    #[test]
    fn example_3_is_a_16_hour_melding() {
        let (cal, regs, d) = example_3();
        assert_eq!(d.kind, MeldingKind::ZestienUur);
        assert_eq!(d.begin, ymd(2025, 9, 8));
        assert_eq!(d.end, ymd(2025, 9, 11));
        assert_eq!(d.deadline, ymd(2025, 9, 18));
        let dates: Vec<_> = d.days.iter().map(|x| x.date).collect();
        assert_eq!(
            dates,
            [
                ymd(2025, 9, 8),
                ymd(2025, 9, 9),
                ymd(2025, 9, 10),
                ymd(2025, 9, 11)
            ]
        );
        for day in &d.days {
            assert_eq!(day.lessons, [1, 2, 3, 4]);
            assert!(!day.whole_day);
        }
        assert!(!d.all_lessons_missed);
        assert!(d.late_arrivals.is_empty());
        assert_eq!(d.status, MeldingStatus::Concept);
        assert_eq!(d.created_on, ymd(2025, 9, 12));
        assert_eq!(
            d.source,
            Some(SignalRef {
                rule: RuleId::Duo16h,
                fired_on: ymd(2025, 9, 11)
            })
        );
        // A fresh draft misses what people must fill in, and nothing else.
        assert_eq!(
            fields(d.validate(&cal, &regs, pgn())),
            [
                "suspected_reason",
                "reporter.name",
                "reporter.contact",
                "contact_phone",
                "location_name",
                "school.brin",
                "school.vestiging"
            ]
        );
        assert_eq!(completed(d).validate(&cal, &regs, pgn()), Ok(()));
    }

    #[test]
    fn sick_lessons_between_unknown_ones_never_appear() {
        let cal = example_calendar();
        // Unknown 1–4 on Mon 8 and Wed 10 – Fri 12 Sep, sick in lessons 5–7
        // those days and all of Tue 9 Sep.
        let regs = regs(&cal, ymd(2025, 9, 30), |d, l| {
            if d == ymd(2025, 9, 9) {
                Some(Category::ReportedSick)
            } else if (ymd(2025, 9, 8)..=ymd(2025, 9, 12)).contains(&d) {
                Some(if l <= 4 {
                    Category::Unknown
                } else {
                    Category::ReportedSick
                })
            } else {
                None
            }
        });
        let s = signal(&cal, &regs, RuleId::Duo16h);
        let d = MeldingDraft::from_signal(
            &s,
            &regs,
            &cal,
            &Policy::default(),
            &pupil(),
            ymd(2025, 9, 15),
        )
        .expect("a draft");
        assert_eq!(d.begin, ymd(2025, 9, 8));
        assert_eq!(d.end, ymd(2025, 9, 12));
        let dates: Vec<_> = d.days.iter().map(|x| x.date).collect();
        assert_eq!(
            dates,
            [
                ymd(2025, 9, 8),
                ymd(2025, 9, 10),
                ymd(2025, 9, 11),
                ymd(2025, 9, 12)
            ]
        );
        assert!(d
            .days
            .iter()
            .all(|x| x.lessons == [1, 2, 3, 4] && !x.whole_day));
        assert!(!d
            .to_export_text(NumberShown::Known(PersonalNumber::Bsn(&BSN)))
            .contains("ziek"));
    }

    #[test]
    fn no_registration_without_bsn_or_onderwijsnummer() {
        let (cal, regs, d) = example_3();
        let mut d = completed(d);
        let errs = d.validate(&cal, &regs, None).expect_err("no number");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, PERSONAL_NUMBER_FIELD);
        assert_eq!(errs[0].message_nl, NO_PERSONAL_NUMBER_NL);
        assert!(NO_PERSONAL_NUMBER_NL.contains("BSN of het onderwijsnummer"));
        match d.register(ymd(2025, 9, 12), &cal, &regs, None) {
            Err(DuoError::Invalid(e)) => assert_eq!(e, errs),
            other => panic!("registered without a number: {other:?}"),
        }
        assert_eq!(d.status, MeldingStatus::Concept);
        assert_eq!(d.registered_on, None);
        // An onderwijsnummer will do for a student without a BSN.
        let own = crate::Onderwijsnummer::parse("101222331").expect("valid");
        d.register(
            ymd(2025, 9, 12),
            &cal,
            &regs,
            Some(PersonalNumber::Onderwijsnummer(&own)),
        )
        .expect("registered");
        assert_eq!(d.status, MeldingStatus::Geregistreerd);
    }

    #[test]
    fn the_export_shows_the_number_only_to_whom_may_see_it() {
        let (_, _, d) = example_3();
        let line = |shown| {
            d.to_export_text(shown)
                .lines()
                .find(|l| l.starts_with("Persoonsgebonden nummer: "))
                .map(str::to_owned)
                .expect("a number line")
        };
        assert_eq!(
            line(NumberShown::for_reader(pgn(), true)),
            "Persoonsgebonden nummer: BSN 123456782"
        );
        let hidden = line(NumberShown::for_reader(pgn(), false));
        assert!(!hidden.contains("123456782"), "{hidden}");
        assert!(hidden.contains("alleen zichtbaar voor de coördinatoren"));
        let missing = line(NumberShown::for_reader(None, true));
        assert!(
            missing.contains("geen BSN of onderwijsnummer bekend")
                && missing.contains("niet worden geregistreerd"),
            "{missing}"
        );
        // After the student line, before the period.
        let text = d.to_export_text(NumberShown::Missing);
        let student = text.find("Leerling: ").expect("student");
        let number = text.find("Persoonsgebonden nummer:").expect("number");
        let begin = text.find("Begindatum verzuim").expect("begin");
        assert!(student < number && number < begin);
    }

    #[test]
    fn a_lesson_reported_sick_after_the_draft_blocks_registration() {
        let (cal, mut regs, d) = example_3();
        let mut d = completed(d);
        let tue = cal.index(ymd(2025, 9, 9)).expect("school day");
        for r in regs.iter_mut().filter(|r| r.day == tue && r.lesson == 2) {
            r.category = Category::ReportedSick;
        }
        let errs = d.validate(&cal, &regs, pgn()).expect_err("illness listed");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "days[1].lessons");
        assert!(errs[0]
            .message_nl
            .contains("ziekte wordt nooit aan DUO gemeld"));
        assert!(matches!(
            d.register(ymd(2025, 9, 12), &cal, &regs, pgn()),
            Err(DuoError::Invalid(_))
        ));
        assert_eq!(d.status, MeldingStatus::Concept);
        // A new draft from the current registrations leaves the lesson out.
        let again = MeldingDraft::for_period(
            MeldingKind::ZestienUur,
            &pupil(),
            ymd(2025, 9, 8),
            ymd(2025, 9, 11),
            &regs,
            &cal,
            &Policy::default(),
            ymd(2025, 9, 12),
        )
        .expect("a draft");
        assert_eq!(again.days[1].lessons, [1, 3, 4]);
    }

    #[test]
    fn authorised_and_afgemeld_lessons_are_left_out_even_if_policy_counts_them() {
        let cal = example_calendar();
        let regs = regs(&cal, ymd(2025, 9, 30), |d, l| {
            (d == ymd(2025, 9, 8)).then_some(match l {
                1 => Category::Unauthorized,
                2 => Category::Authorized,
                3 => Category::ReportedOther,
                _ => Category::Unknown,
            })
        });
        let policy = Policy {
            unexplained_categories: CategorySet::of(&[
                Category::Unknown,
                Category::Unauthorized,
                Category::Authorized,
            ]),
            ..Policy::default()
        };
        let d = MeldingDraft::for_period(
            MeldingKind::Overig,
            &pupil(),
            ymd(2025, 9, 8),
            ymd(2025, 9, 8),
            &regs,
            &cal,
            &policy,
            ymd(2025, 9, 9),
        )
        .expect("a draft");
        assert_eq!(d.days.len(), 1);
        assert_eq!(d.days[0].lessons, [1, 4, 5, 6, 7]);
        assert!(!d.days[0].whole_day);
        assert_eq!(d.deadline, ymd(2025, 9, 15));
    }

    #[test]
    fn late_arrivals_count_but_are_not_lessons_missed() {
        let cal = example_calendar();
        let regs = regs(&cal, ymd(2025, 9, 30), |d, l| {
            (d == ymd(2025, 9, 8)).then_some(if l == 1 {
                Category::LateUnexcused
            } else {
                Category::Unknown
            })
        });
        let d = MeldingDraft::for_period(
            MeldingKind::Overig,
            &pupil(),
            ymd(2025, 9, 8),
            ymd(2025, 9, 8),
            &regs,
            &cal,
            &Policy::default(),
            ymd(2025, 9, 9),
        )
        .expect("a draft");
        assert_eq!(d.days[0].lessons, [2, 3, 4, 5, 6, 7]);
        assert!(!d.days[0].whole_day);
        assert_eq!(
            d.late_arrivals,
            [LateArrival {
                date: ymd(2025, 9, 8),
                lesson: 1,
                minutes_late: 20
            }]
        );
        let d = completed(d);
        assert_eq!(d.validate(&cal, &regs, pgn()), Ok(()));
        assert!(d
            .to_export_text(NumberShown::Known(PersonalNumber::Bsn(&BSN)))
            .contains("1 keer te laat zonder geldige reden (20 minuten)"));
    }

    #[test]
    fn nothing_to_report_and_non_duo_signals_are_refused() {
        let cal = example_calendar();
        let sick = regs(&cal, ymd(2025, 9, 30), |d, _| {
            (d == ymd(2025, 9, 8)).then_some(Category::ReportedSick)
        });
        assert_eq!(
            MeldingDraft::for_period(
                MeldingKind::Overig,
                &pupil(),
                ymd(2025, 9, 8),
                ymd(2025, 9, 8),
                &sick,
                &cal,
                &Policy::default(),
                ymd(2025, 9, 9),
            ),
            Err(DuoError::NothingToReport {
                begin: ymd(2025, 9, 8),
                end: ymd(2025, 9, 8)
            })
        );
        let contact = signal(&cal, &sick, RuleId::Contact);
        assert_eq!(
            MeldingDraft::from_signal(
                &contact,
                &sick,
                &cal,
                &Policy::default(),
                &pupil(),
                ymd(2025, 9, 9)
            ),
            Err(DuoError::NotADuoSignal(RuleId::Contact))
        );
        assert!(matches!(
            MeldingDraft::for_period(
                MeldingKind::Overig,
                &pupil(),
                ymd(2025, 9, 9),
                ymd(2025, 9, 8),
                &sick,
                &cal,
                &Policy::default(),
                ymd(2025, 9, 9),
            ),
            Err(DuoError::Backwards { .. })
        ));
    }

    #[test]
    fn a_melding_counts_its_days_and_hours() {
        let (cal, _, d) = example_3();
        let t = d.totals(&cal);
        // rules.md §6 example 3: lessons 1-4 of 50 minutes on four days,
        // the 16 hours of its duo_16h signal.
        assert_eq!(t.days, 4);
        assert_eq!(t.whole_days, 0);
        assert_eq!(t.lessons, 16);
        assert_eq!(t.hours.to_string(), "16");
    }

    #[test]
    fn the_duo_number_is_kept_once_registered() {
        let (cal, regs, d) = example_3();
        let mut d = completed(d);
        assert_eq!(d.set_duo_number("123"), Err(DuoError::NotYetRegistered));
        d.register(ymd(2025, 9, 15), &cal, &regs, pgn()).unwrap();
        assert!(matches!(
            d.set_duo_number("12 34"),
            Err(DuoError::BadDuoNumber(_))
        ));
        assert!(matches!(
            d.set_duo_number(""),
            Err(DuoError::BadDuoNumber(_))
        ));
        d.set_duo_number(" VZ-2025/000123 ").unwrap();
        assert_eq!(d.duo_number.as_deref(), Some("VZ-2025/000123"));
    }

    #[test]
    fn validation_names_each_bad_field() {
        let (cal, regs, d) = example_3();
        let ok = completed(d);

        let mut d = ok.clone();
        d.suspected_reason = "x".repeat(201);
        assert_eq!(fields(d.validate(&cal, &regs, pgn())), ["suspected_reason"]);
        d.suspected_reason = "é".repeat(200);
        assert_eq!(
            d.validate(&cal, &regs, pgn()),
            Ok(()),
            "200 characters, not bytes"
        );
        d.suspected_reason = "   ".into();
        assert_eq!(fields(d.validate(&cal, &regs, pgn())), ["suspected_reason"]);

        // DUO's limits: explanation 100 characters, function 60.
        let mut d = ok.clone();
        d.explanation = Some("é".repeat(MAX_EXPLANATION));
        d.reporter.function = "é".repeat(MAX_REPORTER_FUNCTION);
        assert_eq!(d.validate(&cal, &regs, pgn()), Ok(()));
        d.explanation = Some("x".repeat(MAX_EXPLANATION + 1));
        d.reporter.function = "x".repeat(MAX_REPORTER_FUNCTION + 1);
        assert_eq!(
            fields(d.validate(&cal, &regs, pgn())),
            ["explanation", "reporter.function"]
        );

        let mut d = ok.clone();
        d.begin = ymd(2025, 9, 12);
        assert!(fields(d.validate(&cal, &regs, pgn())).contains(&"end".to_owned()));

        let mut d = ok.clone();
        d.begin = ymd(2025, 9, 6);
        assert_eq!(
            fields(d.validate(&cal, &regs, pgn())),
            ["begin"],
            "a saturday"
        );

        let mut d = ok.clone();
        d.days[3].date = ymd(2025, 9, 12);
        // Outside the period, and the student was present in those lessons.
        let f = fields(d.validate(&cal, &regs, pgn()));
        assert_eq!(f[0], "days[3].date");
        assert_eq!(f[1..], ["days[3].lessons"; 4]);

        let mut d = ok.clone();
        d.days[1].date = ymd(2025, 9, 8);
        assert_eq!(fields(d.validate(&cal, &regs, pgn())), ["days[1].date"]);

        let mut d = ok.clone();
        d.days[0].lessons = vec![1, 13];
        assert_eq!(fields(d.validate(&cal, &regs, pgn())), ["days[0].lessons"]);
        d.days[0].lessons = vec![5];
        assert_eq!(
            fields(d.validate(&cal, &regs, pgn())),
            ["days[0].lessons"],
            "lesson 5 was attended"
        );
        d.days[0].lessons = vec![];
        assert_eq!(fields(d.validate(&cal, &regs, pgn())), ["days[0].lessons"]);

        let mut d = ok.clone();
        d.reporter.name = " ".into();
        assert_eq!(fields(d.validate(&cal, &regs, pgn())), ["reporter.name"]);

        let mut d = ok.clone();
        d.reporter.email = String::new();
        assert_eq!(
            d.validate(&cal, &regs, pgn()),
            Ok(()),
            "phone alone will do"
        );
        d.reporter.phone = String::new();
        assert_eq!(fields(d.validate(&cal, &regs, pgn())), ["reporter.contact"]);
        d.reporter.email = "jansen at school".into();
        assert_eq!(fields(d.validate(&cal, &regs, pgn())), ["reporter.email"]);
        d.reporter.email = String::new();
        d.reporter.phone = "12345".into();
        assert_eq!(fields(d.validate(&cal, &regs, pgn())), ["reporter.phone"]);

        for bad in ["", "1AB", "12ab", "AB12", "12ABC", "123B"] {
            let mut d = ok.clone();
            d.school.brin = bad.into();
            assert_eq!(
                fields(d.validate(&cal, &regs, pgn())),
                ["school.brin"],
                "{bad:?}"
            );
        }
        for bad in ["", "0", "001", "0A"] {
            let mut d = ok.clone();
            d.school.vestiging = bad.into();
            assert_eq!(
                fields(d.validate(&cal, &regs, pgn())),
                ["school.vestiging"],
                "{bad:?}"
            );
        }

        let mut d = ok.clone();
        d.leerplicht_action = Some(LeerplichtAction {
            wanted: true,
            reason: String::new(),
        });
        assert_eq!(
            fields(d.validate(&cal, &regs, pgn())),
            ["leerplicht_action.reason"]
        );

        let mut d = ok;
        d.days.clear();
        assert_eq!(fields(d.validate(&cal, &regs, pgn())), ["days"]);
    }

    #[test]
    fn status_moves_allowed_and_refused() {
        let (cal, regs, d) = example_3();
        let mut d = completed(d);
        assert_eq!(
            d.transition(MeldingStatus::InBehandeling, ymd(2025, 9, 12)),
            Err(DuoError::NotAllowed {
                from: MeldingStatus::Concept,
                to: MeldingStatus::InBehandeling
            })
        );
        assert!(matches!(
            d.register(ymd(2025, 9, 11), &cal, &regs, pgn()),
            Err(DuoError::DateBefore { .. })
        ));
        assert_eq!(
            d.transition(MeldingStatus::Geregistreerd, ymd(2025, 9, 15)),
            Err(DuoError::NotValidated),
            "registering skips no check"
        );
        assert_eq!(d.registered_on, None);
        d.register(ymd(2025, 9, 15), &cal, &regs, pgn())
            .expect("registered");
        assert_eq!(d.status, MeldingStatus::Geregistreerd);
        assert_eq!(d.registered_on, Some(ymd(2025, 9, 15)));
        assert!(matches!(
            d.register(ymd(2025, 9, 16), &cal, &regs, pgn()),
            Err(DuoError::NotAllowed { .. })
        ));
        d.transition(MeldingStatus::InBehandeling, ymd(2025, 9, 17))
            .expect("in behandeling");
        assert!(d
            .transition(MeldingStatus::Geregistreerd, ymd(2025, 9, 18))
            .is_err());
        d.transition(MeldingStatus::Afgesloten, ymd(2025, 10, 1))
            .expect("afgesloten");
        assert!(d.status.is_final());
        for to in [
            MeldingStatus::Concept,
            MeldingStatus::Geregistreerd,
            MeldingStatus::InBehandeling,
            MeldingStatus::Ingetrokken,
            MeldingStatus::TerKennisgevingAangenomen,
        ] {
            assert!(d.transition(to, ymd(2025, 10, 2)).is_err(), "{to}");
        }
        assert_eq!(
            d.history.iter().map(|c| c.status).collect::<Vec<_>>(),
            [
                MeldingStatus::Geregistreerd,
                MeldingStatus::InBehandeling,
                MeldingStatus::Afgesloten
            ]
        );
        // Withdrawn and taken note of, straight from geregistreerd.
        use MeldingStatus::*;
        for end in [Ingetrokken, TerKennisgevingAangenomen] {
            assert!(Geregistreerd.can_move_to(end));
            assert!(InBehandeling.can_move_to(end));
            assert!(!Concept.can_move_to(end));
        }
        assert!(!Geregistreerd.can_move_to(Afgesloten));
    }

    #[test]
    fn overdue_after_the_deadline_unless_registered() {
        let (cal, regs, d) = example_3();
        let mut d = completed(d);
        assert!(
            !d.is_overdue(ymd(2025, 9, 18)),
            "the deadline day is in time"
        );
        assert!(d.is_overdue(ymd(2025, 9, 19)));
        d.register(ymd(2025, 9, 22), &cal, &regs, pgn())
            .expect("registered");
        assert!(!d.is_overdue(ymd(2025, 9, 30)));
        assert!(d.registered_late());
    }

    #[test]
    fn example_4_is_luxe_verzuim() {
        let cal = example_calendar();
        let regs = regs(&cal, ymd(2025, 10, 31), |d, _| {
            (d == ymd(2025, 10, 17)).then_some(Category::Unknown)
        });
        let s = signal(&cal, &regs, RuleId::DuoHoliday);
        let d = MeldingDraft::from_signal(
            &s,
            &regs,
            &cal,
            &Policy::default(),
            &pupil(),
            ymd(2025, 10, 17),
        )
        .expect("a draft");
        assert_eq!(d.kind, MeldingKind::LuxeVerzuim);
        assert_eq!(d.begin, ymd(2025, 10, 17));
        assert_eq!(d.end, ymd(2025, 10, 17));
        assert_eq!(d.deadline, ymd(2025, 10, 24));
        assert_eq!(
            d.days,
            [AbsenceDay {
                date: ymd(2025, 10, 17),
                whole_day: true,
                lessons: vec![1, 2, 3, 4, 5, 6, 7]
            }]
        );
        assert!(d.all_lessons_missed);
        assert!(d.is_overdue(ymd(2025, 10, 27)));
    }

    #[test]
    fn long_whole_day_absence_is_lrv() {
        let cal = example_calendar();
        let regs = regs(&cal, ymd(2025, 10, 10), |d, _| {
            (d >= ymd(2025, 9, 1)).then_some(Category::Unknown)
        });
        let s = signal(&cal, &regs, RuleId::DuoLrv);
        let d = MeldingDraft::from_signal(
            &s,
            &regs,
            &cal,
            &Policy::default(),
            &pupil(),
            ymd(2025, 9, 29),
        )
        .expect("a draft");
        assert_eq!(d.kind, MeldingKind::LangdurigRelatiefVerzuim);
        assert_eq!(d.begin, ymd(2025, 9, 1));
        assert_eq!(d.end, ymd(2025, 9, 29));
        assert_eq!(d.deadline, ymd(2025, 10, 6));
        assert_eq!(d.days.len(), 21);
        assert!(d.days.iter().all(|x| x.whole_day && x.lessons.len() == 7));
        assert!(d.all_lessons_missed);
    }

    /// With a timetable, a whole day is the student's whole day: four
    /// absent lessons on a day the timetable gives lessons 1–4 are a whole
    /// day; without it (seven lessons scheduled) they are not.
    #[test]
    fn a_timetable_decides_the_whole_day_of_a_draft() {
        use crate::timetable::{Group, LessonSet, Timetable, TimetableRow};
        let cal = example_calendar();
        let implied = Policy {
            presence: crate::policy::Presence::Implied,
            ..Policy::default()
        };
        let four = LessonSet::of(1..=4).expect("lessons");
        let timetable = Timetable {
            rows: [
                chrono::Weekday::Mon,
                chrono::Weekday::Tue,
                chrono::Weekday::Wed,
                chrono::Weekday::Thu,
                chrono::Weekday::Fri,
            ]
            .into_iter()
            .map(|weekday| TimetableRow {
                group: Group::Class(pupil().class),
                weekday,
                lessons: four,
                from: None,
                until: None,
            })
            .collect(),
        };
        let week = timetable.for_student(&pupil());
        let absences: Vec<Registration> = regs(&cal, ymd(2025, 9, 12), |d, l| {
            (d >= ymd(2025, 9, 8) && l <= 4).then_some(Category::Unknown)
        })
        .into_iter()
        .filter(|r| r.category != Category::Present)
        .collect();
        let draft = |week: Option<&WeekSchedule>| {
            MeldingDraft::for_period_in(
                MeldingKind::Overig,
                &pupil(),
                ymd(2025, 9, 8),
                ymd(2025, 9, 12),
                (&absences, week),
                &cal,
                &implied,
                ymd(2025, 9, 15),
            )
            .expect("a draft")
        };
        let with = draft(Some(&week));
        assert_eq!(with.days.len(), 5);
        assert!(with.days.iter().all(|d| d.whole_day));
        assert!(with.all_lessons_missed);
        let without = draft(None);
        assert!(without.days.iter().all(|d| !d.whole_day));
        assert!(!without.all_lessons_missed);
    }

    /// rules.md §2: a draft from the absences alone with implied presence
    /// is the draft from the full grid, whole days and partial days alike.
    #[test]
    fn implied_presence_gives_the_same_draft() {
        let cal = example_calendar();
        let implied = Policy {
            presence: crate::policy::Presence::Implied,
            ..Policy::default()
        };
        type Pattern = fn(NaiveDate, u8) -> Option<Category>;
        let cases: [(Pattern, RuleId, NaiveDate); 2] = [
            (
                |d, _| (d >= ymd(2025, 9, 1)).then_some(Category::Unknown),
                RuleId::DuoLrv,
                ymd(2025, 9, 29),
            ),
            (
                |d, l| {
                    (d >= ymd(2025, 9, 8) && d <= ymd(2025, 9, 12) && l <= 4)
                        .then_some(Category::Unknown)
                },
                RuleId::Duo16h,
                ymd(2025, 9, 15),
            ),
        ];
        for (f, rule, today) in cases {
            let full = regs(&cal, ymd(2025, 10, 10), f);
            let absences: Vec<Registration> = full
                .iter()
                .copied()
                .filter(|r| r.category != Category::Present)
                .collect();
            let s = signal(&cal, &full, rule);
            let a = MeldingDraft::from_signal(&s, &full, &cal, &Policy::default(), &pupil(), today)
                .expect("a draft");
            let b = MeldingDraft::from_signal(&s, &absences, &cal, &implied, &pupil(), today)
                .expect("a draft");
            assert_eq!(a.days, b.days, "{rule:?}");
            assert_eq!(a.all_lessons_missed, b.all_lessons_missed, "{rule:?}");
        }
    }

    #[test]
    fn export_text_lists_the_form_in_order() {
        let (_, _, d) = example_3();
        let mut d = completed(d);
        d.explanation = Some("Na gesprek met ouders geen verbetering.".into());
        d.leerplicht_action = Some(LeerplichtAction {
            wanted: true,
            reason: "Ouders werken niet mee".into(),
        });
        d.actions_taken = vec![
            "Gesprek mentor 10 sep".into(),
            "Ouders gebeld 11 sep".into(),
        ];
        let text = d.to_export_text(NumberShown::Known(PersonalNumber::Bsn(&BSN)));
        let order = [
            "Soort verzuim: 16 uur of meer in 4 lesweken",
            "Leerling: Sanne de Vries (123456)",
            "Begindatum verzuim: maandag 8 september 2025",
            "Einddatum verzuim: donderdag 11 september 2025",
            "Verzuimdagen:",
            "  dinsdag 9 september 2025: hele dag nee; lesuren 1, 2, 3, 4",
            "Alle lessen verzuimd: nee",
            "Vermoedelijke reden: Spijbelt",
            "Toelichting: Na gesprek",
            "Actie leerplicht gewenst: ja",
            "  Waarom: Ouders werken niet mee",
            "Ondernomen acties door de school:",
            "  - Ouders gebeld 11 sep",
            "  Naam: A. Jansen",
            "  Functie: verzuimcoördinator",
            "  Telefoon: 050 123 4567",
            "  E-mail: a.jansen@school.nl",
            "Locatie: BRIN 12AB, vestiging 00",
            "Status: concept",
            "Datum melding: nog niet gemeld",
            "Uiterlijk melden op: donderdag 18 september 2025",
        ];
        let mut at = 0;
        for line in order {
            let found = text[at..]
                .find(line)
                .unwrap_or_else(|| panic!("{line:?} missing or out of order in\n{text}"));
            at += found + line.len();
        }
    }

    #[test]
    fn line_breaks_in_fields_cannot_forge_export_lines() {
        let (_, _, d) = example_3();
        let mut d = completed(d);
        d.explanation =
            Some("eerste regel\nStatus: afgesloten\r\nDatum melding: 1 januari\rx\u{1b}[2J".into());
        d.actions_taken = vec!["gebeld\nMelder:".into()];
        d.reporter.name = "A. Jansen\n  E-mail: vals@example.org".into();
        let text = d.to_export_text(NumberShown::Known(PersonalNumber::Bsn(&BSN)));
        let fields: Vec<&str> = text.lines().filter(|l| !l.starts_with("    | ")).collect();
        assert_eq!(
            fields.iter().filter(|l| l.starts_with("Status:")).count(),
            1,
            "{text}"
        );
        assert_eq!(
            fields
                .iter()
                .filter(|l| l.starts_with("Datum melding:"))
                .count(),
            1
        );
        assert_eq!(fields.iter().filter(|l| l.trim() == "Melder:").count(), 1);
        assert_eq!(fields.iter().filter(|l| l.contains("E-mail:")).count(), 1);
        assert!(text.contains("Toelichting: eerste regel\n    | Status: afgesloten\n    | Datum melding: 1 januari\n    | x [2J\n"), "{text}");
        assert!(!text.contains('\r') && !text.contains('\u{1b}'));
    }

    #[test]
    fn illness_words_are_words_and_their_compounds_in_any_case() {
        assert_eq!(
            illness_words("Bij de HUISARTS, daarna griep; weer griep."),
            ["huisarts", "griep"]
        );
        assert!(illness_words("startsein, kaarten, smarties? nee: spijbelen").is_empty());
        assert_eq!(illness_words("ziek."), ["ziek"]);
        assert_eq!(
            illness_words(
                "Ouders maken een afspraak bij de jeugdarts als de ziekmeldingen doorgaan."
            ),
            ["jeugdarts", "ziekmeldingen"]
        );
        assert_eq!(
            illness_words("ziekenhuisbezoek, buikgriep, Hooikoorts, keelpijn, artsen"),
            [
                "ziekenhuisbezoek",
                "buikgriep",
                "hooikoorts",
                "keelpijn",
                "artsen"
            ]
        );
    }

    #[test]
    fn free_text_that_names_illness_is_an_error_at_its_field() {
        let (_, _, d) = example_3();
        let mut d = completed(d);
        assert!(d.illness_errors().is_empty());
        d.suspected_reason = "Griep, zegt moeder".into();
        d.explanation = Some("Geen bijzonderheden".into());
        d.actions_taken = vec![
            "gesprek met ouders".into(),
            "doorverwezen naar de huisarts en de jeugdarts".into(),
        ];
        let errors = d.illness_errors();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["suspected_reason", "actions"]);
        assert_eq!(
            errors[1].message_nl,
            "Regel 2 van de acties noemt 'huisarts' en 'jeugdarts': dat wijst op ziekte. Ziekte wordt nooit aan DUO gemeld. Beschrijf het verzuim zonder ziekte of gezondheid te noemen."
        );
    }

    /// Properties of the illness check.
    mod illness {
        use proptest::prelude::*;

        use super::{completed, example_3};

        proptest! {
            /// Text of words without illness never errs; one illness word in
            /// any line of the actions errs at that line, and only there.
            #[test]
            fn one_illness_word_errs_at_its_own_line(
                lines in prop::collection::vec(
                    prop::collection::vec(
                        prop::sample::select(vec!["gesprek", "met", "ouders", "spijbelen", "afspraak", "school", "mentor", "thuis"]),
                        1..6,
                    ).prop_map(|w| w.join(" ")),
                    1..5,
                ),
                sick in prop::sample::select(vec!["griep", "Huisarts", "buikpijn", "ziek", "hooikoorts"]),
                at in 0usize..5,
            ) {
                let (_, _, d) = example_3();
                let mut d = completed(d);
                d.actions_taken = lines.clone();
                prop_assert!(d.illness_errors().is_empty());
                let at = at % lines.len();
                d.actions_taken[at] = format!("{} {sick}", lines[at]);
                let errors = d.illness_errors();
                prop_assert_eq!(errors.len(), 1);
                prop_assert_eq!(errors[0].field.as_str(), "actions");
                let expected = format!("Regel {} van de acties", at + 1);
                prop_assert!(errors[0].message_nl.starts_with(&expected));
            }
        }
    }
}
