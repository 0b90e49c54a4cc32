//! The JSON shapes of the API, each with its OpenAPI schema.
//!
//! The domain crate stays free of web dependencies, so it derives no
//! `ToSchema`. These view types mirror the domain's serialized shapes
//! instead; where a domain enum appears as a field, a small marker type
//! ([`CategoryName`], [`RuleName`], [`RoleName`]) describes it in the
//! document, with the allowed values taken from the enum's own `ALL` list so
//! the document cannot fall behind the code.

use std::borrow::Cow;

use aanwezig_domain::explain::SignalReport;
use aanwezig_domain::{Category, RegistrationRecord, Role, RuleId};
use aanwezig_storage::{StaleLesson, StoredRegistration};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

fn string_enum(description: &str, values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

/// Schema of [`Category`]: what a registered lesson means (rules.md §2).
pub struct CategoryName;

impl PartialSchema for CategoryName {
    fn schema() -> RefOr<Schema> {
        string_enum(
            "What a registered lesson means for the step plan (rules.md §2).",
            Category::ALL.map(Category::as_str),
        )
    }
}

impl ToSchema for CategoryName {
    fn name() -> Cow<'static, str> {
        "Category".into()
    }
}

/// Schema of [`RuleId`]: the rules of rules.md §4.
pub struct RuleName;

impl PartialSchema for RuleName {
    fn schema() -> RefOr<Schema> {
        string_enum(
            "A rule of the step plan (rules.md §4).",
            RuleId::ALL.map(RuleId::as_str),
        )
    }
}

impl ToSchema for RuleName {
    fn name() -> Cow<'static, str> {
        "Rule".into()
    }
}

/// Schema of [`Role`].
pub struct RoleName;

impl PartialSchema for RoleName {
    fn schema() -> RefOr<Schema> {
        string_enum("A user's role.", Role::ALL.map(Role::as_str))
    }
}

impl ToSchema for RoleName {
    fn name() -> Cow<'static, str> {
        "Role".into()
    }
}

/// Schema of a step with its track(s), as the domain writes it.
pub struct StepName;

impl PartialSchema for StepName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A step of the plan with its track(s): 1, 2, 3a, 3b, 3a/3b, 4a, 4b or 4a/4b.",
            ))
            .pattern(Some("^[1-4](a|b|a/[1-4]b)?$"))
            .examples(["3b"])
            .into()
    }
}

impl ToSchema for StepName {
    fn name() -> Cow<'static, str> {
        "Step".into()
    }
}

/// An error: `{"error": "not_found", "message": "niet gevonden"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: `unauthorized`, `forbidden`, `not_found`, `invalid`,
    /// `conflict`, `stale` (409, with the lessons that changed),
    /// `revision_required` (428) or `internal`.
    #[schema(examples("not_found"))]
    pub error: String,
    /// What went wrong, in Dutch, for people.
    #[schema(examples("niet gevonden"))]
    pub message: String,
}

/// The signed-in user and the session's CSRF token.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    pub username: String,
    pub display_name: String,
    #[schema(value_type = RoleName)]
    pub role: Role,
    /// The classes a mentor mentors (empty for other roles).
    pub classes: Vec<String>,
    /// Send this in the `X-CSRF-Token` header with every PUT, POST or DELETE.
    pub csrf_token: String,
}

/// Lessons attended out of lessons scheduled over a period (rules.md §4,
/// attendance rate).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Attendance {
    /// First day counted: the first school day of the current school year.
    pub from: Option<NaiveDate>,
    /// Last day counted: the last school day on or before today.
    pub to: Option<NaiveDate>,
    /// Lessons attended (`present`, `late_*`, `not_absence`).
    pub attended: u32,
    /// Lessons scheduled (every registered lesson).
    pub scheduled: u32,
    /// `attended / scheduled` as a fraction (0.9 = 90 %), three decimals;
    /// `null` without scheduled lessons.
    pub rate: Option<f64>,
}

/// A student in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct StudentSummary {
    /// The school's student number.
    pub id: String,
    pub name: String,
    pub class: String,
    /// The mentor's user name.
    pub mentor: String,
    /// The step today (`1` without signals).
    #[schema(value_type = StepName)]
    pub step: String,
    pub attendance: Attendance,
    /// The number of signals open today.
    pub open_signals: u32,
}

/// One student with the signals open today.
#[derive(Debug, Serialize, ToSchema)]
pub struct StudentDetail {
    pub id: String,
    pub name: String,
    pub class: String,
    /// The mentor's user name.
    pub mentor: String,
    /// The burgerservicenummer (nine digits): only for the coordinators,
    /// and only when known; otherwise the field is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bsn: Option<String>,
    /// The onderwijsnummer (nine digits): only for the coordinators, and
    /// only when known; otherwise the field is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onderwijsnummer: Option<String>,
    #[schema(value_type = StepName)]
    pub step: String,
    pub attendance: Attendance,
    pub open_signals: Vec<SignalView>,
}

/// One registered lesson.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Registration)]
pub struct RegistrationView {
    pub date: NaiveDate,
    /// The lesson number (lesuur).
    pub lesson: u8,
    /// Duration of the lesson in minutes.
    pub minutes: u16,
    /// The school's code, when one was registered.
    pub code: Option<String>,
    #[schema(value_type = CategoryName)]
    pub category: Category,
    /// Minutes late (only for `late_*`).
    pub minutes_late: u16,
    /// A short remark; never on a `reported_sick` lesson.
    pub note: Option<String>,
    /// The lesson's revision: send it back as `revision` with a PUT of this
    /// lesson, so that a change made meanwhile by someone else is not
    /// overwritten. Every change of the lesson gives it a new revision.
    #[schema(examples(4711))]
    pub revision: u64,
}

impl RegistrationView {
    /// `r` at revision `revision`.
    pub fn new(r: &RegistrationRecord, revision: u64) -> Self {
        RegistrationView {
            date: r.date,
            lesson: r.lesson,
            minutes: r.minutes,
            code: r.code.clone(),
            category: r.category,
            minutes_late: r.minutes_late,
            note: r.note.clone(),
            revision,
        }
    }
}

impl From<&StoredRegistration> for RegistrationView {
    fn from(s: &StoredRegistration) -> Self {
        RegistrationView::new(&s.record, s.revision.get())
    }
}

/// A change of one lesson: a school code or a category (or both, when they
/// agree), checked like an imported row.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    /// One of the school's codes (see the policy), for example `Z`.
    #[schema(examples("A"))]
    pub code: Option<String>,
    /// The category, when no code is given.
    #[schema(value_type = Option<CategoryName>)]
    pub category: Option<Category>,
    /// Minutes late; only for `late_unexcused` and `late_excused`.
    pub minutes_late: Option<u16>,
    /// A short remark (at most 500 characters); refused on a sick lesson,
    /// because the nature of an illness is never recorded.
    pub note: Option<String>,
    /// The `revision` of the lesson as you read it (GET
    /// `…/registraties`), or `0` for a lesson that was not registered.
    /// Required to change a registered lesson (428 `revision_required`
    /// without it); may be left out for a lesson not registered yet, which
    /// then counts as `0`. When the lesson has another revision by now —
    /// someone else changed it after you read it — nothing is written and
    /// the answer is 409 `stale`, naming what changed; read the lesson
    /// again and redo the change.
    #[schema(examples(4711))]
    pub revision: Option<u64>,
}

/// The stored lesson and the student's signals after the change.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationChanged {
    pub registration: RegistrationView,
    /// What the lesson was before (`null` when it was not registered).
    pub previous: Option<RegistrationView>,
    /// The student's step after the change.
    #[schema(value_type = StepName)]
    pub step: String,
    /// Every signal of the student after the change, oldest first.
    pub signals: Vec<SignalView>,
}

/// A lesson that changed after the request's state was read.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StaleChange {
    /// The student's number.
    pub student: String,
    pub date: NaiveDate,
    pub lesson: u8,
    /// The revision the request was made from (`0`: not registered).
    pub expected_revision: u64,
    /// The lesson at that revision: `null` when it was not registered, or
    /// when the lesson never had that revision.
    pub then: Option<RegistrationView>,
    /// The lesson now, with its current revision (`null`: not registered).
    pub now: Option<RegistrationView>,
    /// Who gave the lesson its current state (the importing user for an
    /// import).
    pub changed_by: Option<String>,
    /// When.
    pub changed_at: Option<DateTime<Utc>>,
    /// Whether the current state came from an import.
    pub by_import: bool,
}

impl From<&StaleLesson> for StaleChange {
    fn from(s: &StaleLesson) -> Self {
        let expected_revision = s.expected.token().unwrap_or(0);
        StaleChange {
            student: s.key.student.to_string(),
            date: s.key.date,
            lesson: s.key.lesson,
            expected_revision,
            then: s
                .then
                .as_ref()
                .map(|r| RegistrationView::new(r, expected_revision)),
            now: s.now.as_ref().map(RegistrationView::from),
            changed_by: s.now.as_ref().map(|n| n.set.by.clone()),
            changed_at: s.now.as_ref().map(|n| n.set.at),
            by_import: s.now.as_ref().is_some_and(|n| n.set.import_id.is_some()),
        }
    }
}

/// A refusal with status 409: `conflict` (for example: no school calendar
/// yet), or `stale` (the lesson changed after it was read), which lists
/// every lesson that changed in `changes`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictBody {
    /// `conflict` or `stale`.
    #[schema(examples("stale"))]
    pub error: String,
    /// What went wrong, in Dutch, for people.
    pub message: String,
    /// With `stale`: every lesson that changed since it was read. Left out
    /// otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub changes: Vec<StaleChange>,
}

/// A span of dates, both inclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Period)]
pub struct PeriodView {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The figures a signal counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Counts)]
pub struct CountsView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episodes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub school_days: Option<u32>,
}

/// One lesson behind a signal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Evidence)]
pub struct EvidenceView {
    pub date: NaiveDate,
    pub lesson: u8,
    pub minutes: u16,
    #[schema(value_type = CategoryName)]
    pub category: Category,
    /// Left out when 0.
    #[serde(skip_serializing_if = "is_zero")]
    #[schema(required = false)]
    pub minutes_late: u16,
}

fn is_zero(v: &u16) -> bool {
    *v == 0
}

/// A signal with its evidence and explanation: the shape of
/// `aanwezig_domain::explain::SignalReport` (docs/signals-json.md).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Signal)]
pub struct SignalView {
    /// The student's number.
    pub student: String,
    #[schema(value_type = RuleName)]
    pub rule: RuleId,
    /// The rule's short Dutch title.
    pub title: String,
    #[schema(value_type = StepName)]
    pub step: String,
    pub fired_on: NaiveDate,
    /// Whether the signal is still open today.
    pub open: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<NaiveDate>,
    /// The school days the rule looked at.
    pub window: PeriodView,
    /// Unexplained hours, for the hour rules (two decimals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<CountsView>,
    /// For DUO signals: the first day of the absence reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub begin: Option<NaiveDate>,
    /// For DUO signals: the last day of the absence reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    /// The date by which the plan asks for action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<NaiveDate>,
    pub evidence: Vec<EvidenceView>,
    /// One plain Dutch sentence: why the signal fired and what the plan asks.
    pub explanation: String,
}

impl From<SignalReport> for SignalView {
    fn from(r: SignalReport) -> Self {
        SignalView {
            student: r.student,
            rule: r.rule,
            title: r.title.to_owned(),
            step: r.step.to_string(),
            fired_on: r.fired_on,
            open: r.open,
            closed_on: r.closed_on,
            window: PeriodView {
                from: r.window.from,
                to: r.window.to,
            },
            hours: r.hours.map(|h| (h.as_f64() * 100.0).round() / 100.0),
            counts: r.counts.map(|c| CountsView {
                episodes: c.episodes,
                school_days: c.school_days,
            }),
            begin: r.begin,
            end: r.end,
            deadline: r.deadline,
            evidence: r
                .evidence
                .into_iter()
                .map(|e| EvidenceView {
                    date: e.date,
                    lesson: e.lesson,
                    minutes: e.minutes,
                    category: e.category,
                    minutes_late: e.minutes_late,
                })
                .collect(),
            explanation: r.explanation,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use aanwezig_domain::{Calendar, Engine, Policy, Registration, StudentContext};

    use super::*;

    /// The API's signal is exactly the domain's `SignalReport` as JSON
    /// (docs/signals-json.md), for every rule the example student raises.
    #[test]
    fn signal_view_serializes_like_signal_report() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let years = aanwezig_import::parse_school_years(
            &std::fs::read_to_string(root.join("data/calendars/2025-2026-noord.toml")).unwrap(),
            "kalender",
        )
        .unwrap();
        let cal = Calendar::new(years).unwrap();
        let policy = Policy::default();
        let date = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
        // Sick all of 3-14 Nov (contact, afmelding_long); unknown in lessons
        // 1-4 of 8-11 Sep (unexplained, duo_16h); late 10 minutes on 1 Oct.
        let mut regs = Vec::new();
        for (i, d) in cal.school_days().iter().enumerate() {
            if *d > date(11, 14) {
                break;
            }
            for lesson in 1..=7u8 {
                let (category, minutes_late) = if *d >= date(11, 3) {
                    (Category::ReportedSick, 0)
                } else if *d >= date(9, 8) && *d <= date(9, 11) && lesson <= 4 {
                    (Category::Unknown, 0)
                } else if *d == date(10, 1) && lesson == 1 {
                    (Category::LateUnexcused, 10)
                } else {
                    (Category::Present, 0)
                };
                regs.push(Registration {
                    day: u16::try_from(i).unwrap(),
                    minutes: 50,
                    minutes_late,
                    lesson,
                    category,
                });
            }
        }
        let through = cal.on_or_before(date(11, 14)).unwrap();
        let ev =
            Engine::new(&cal, &policy).evaluate(&regs, &StudentContext::default(), Some(through));
        let rules: std::collections::BTreeSet<RuleId> = ev.signals.iter().map(|s| s.rule).collect();
        for rule in [
            RuleId::Contact,
            RuleId::AfmeldingLong,
            RuleId::Unexplained,
            RuleId::Duo16h,
        ] {
            assert!(rules.contains(&rule), "{rule} in {rules:?}");
        }
        for s in &ev.signals {
            let report = SignalReport::new(s, "1001", &cal, &policy, &regs, through);
            let domain = serde_json::to_value(&report).unwrap();
            let view = serde_json::to_value(SignalView::from(report)).unwrap();
            assert_eq!(view, domain);
        }
    }
}
