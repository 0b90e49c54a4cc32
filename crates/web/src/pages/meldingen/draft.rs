//! `GET /meldingen/{n}`: the draft page, with the domain's field errors and the illness check next to the fields.

use std::collections::HashMap;

use aanwezig_domain::duo::{MAX_LESSON, MAX_SUSPECTED_REASON};
use aanwezig_domain::explain::{capitalize_nl, counted_nl, date_nl};
use aanwezig_domain::{
    DuoError, MeldingDraft, MeldingStatus, NumberShown, Reporter, SchoolLocation, Student,
    StudentId,
};
use aanwezig_storage::AuditAction;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::access::{readable_versioned, Nr};
use super::format::{due, period, status_key, Due, STATUSES};
use super::list::afstemming_nl;
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::pages::student::local_time_nl;
use crate::state::AppState;
use aanwezig_app::Permission;

/// A message as a sentence: a capital first letter and a full stop,
/// whether the domain wrote it as a fragment or as a sentence.
pub(super) fn sentence(m: &str) -> String {
    let mut s = capitalize_nl(m.trim_end());
    if !s.ends_with(['.', '?', '!']) {
        s.push('.');
    }
    s
}

/// The domain's reasons, with Dutch dates.
pub(super) fn duo_error_nl(e: &DuoError) -> String {
    match e {
        DuoError::NothingToReport { begin, end } => format!(
            "Tussen {} en {} heeft de leerling geen ongeoorloofd of onbekend verzuim: er is niets te melden. Ziekte en afmeldingen worden nooit aan DUO gemeld.",
            date_nl(*begin),
            date_nl(*end)
        ),
        DuoError::Backwards { begin, end } => format!(
            "De begindatum ({}) ligt na de einddatum ({}).",
            date_nl(*begin),
            date_nl(*end)
        ),
        DuoError::DateBefore { on, earlier } => format!(
            "{} ligt voor {}, de vorige datum van deze melding.",
            date_nl(*on),
            date_nl(*earlier)
        ),
        DuoError::NotAllowed { from, to } => {
            format!("Een melding met status '{from}' kan niet naar '{to}'.")
        }
        DuoError::Invalid(errs) => format!(
            "De melding is nog niet volledig of niet juist ({}): bekijk de punten bij de velden.",
            counted_nl(errs.len() as u64, "punt", "punten")
        ),
        other => other.to_string(),
    }
}

pub(super) struct Cell {
    lesson: u8,
    pub(super) checked: bool,
}

pub(super) struct DayRow {
    iso: String,
    pub(super) label: String,
    pub(super) whole_day: bool,
    pub(super) cells: Vec<Cell>,
    errors: Vec<String>,
}

pub(super) struct LateRow {
    pub(super) label: String,
    pub(super) lesson: u8,
    pub(super) minutes: u16,
}

struct HistoryRow {
    on: String,
    what: String,
}

struct VersionRow {
    version: u32,
    by: String,
    at: String,
}

struct StatusOption {
    value: &'static str,
    label: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "melding.html")]
pub(super) struct DraftPage {
    /// The version of the melding the forms were made from: a save from
    /// them is refused when someone saved the melding in the meantime.
    pub(super) versie: u32,
    pub(super) layout: Layout,
    pub(super) id: i64,
    pub(super) student: String,
    pub(super) name: String,
    pub(super) birth: String,
    /// BSN or onderwijsnummer, or why it is not shown (see [`number_shown`]).
    pub(super) number: String,
    /// The student has neither: the melding cannot be registered.
    number_missing: bool,
    pub(super) kind: &'static str,
    pub(super) period: String,
    pub(super) status: &'static str,
    /// The meldingsnummer DUO returned, once entered.
    pub(super) duo_number: String,
    /// The verzuimdagen and verzuimuren, in words.
    pub(super) totals: String,
    concept: bool,
    editable: bool,
    manage: bool,
    pub(super) due: Due,
    pub(super) days: Vec<DayRow>,
    pub(super) lessons_header: Vec<u8>,
    pub(super) all_lessons_missed: bool,
    pub(super) late: Vec<LateRow>,
    pub(super) late_minutes: u32,
    pub(super) reason: String,
    reason_count: usize,
    reason_max: usize,
    pub(super) explanation: String,
    pub(super) leerplicht: &'static str,
    pub(super) leerplicht_reason: String,
    actions: String,
    pub(super) actions_list: Vec<String>,
    pub(super) reporter: Reporter,
    pub(super) school: SchoolLocation,
    /// Field errors by field name (`suspected_reason`, `reporter.email`, …).
    errors: HashMap<String, Vec<String>>,
    /// Every error message, for the summary at the top.
    all_errors: Vec<String>,
    message: Option<String>,
    saved: bool,
    /// A confirmation after a save other than the draft form's.
    notice: Option<&'static str>,
    moves: Vec<StatusOption>,
    today: String,
    history: Vec<HistoryRow>,
    versions: Vec<VersionRow>,
    source: String,
    /// A phone number of the parents or the student.
    pub(super) contact_phone: String,
    /// A deviating address, where known.
    pub(super) address: String,
    /// The name of the teaching location.
    pub(super) location_name: String,
    /// The earlier melding this one follows.
    pub(super) follows: Option<i64>,
    /// The vervolgmeldingen of this one.
    followed_by: Vec<i64>,
    /// The afstemmingen with leerplicht about this melding, in words.
    afstemmingen: Vec<String>,
}

impl DraftPage {
    fn errs(&self, field: &str) -> &[String] {
        self.errors.get(field).map_or(&[], Vec::as_slice)
    }
}

/// The domain's illness check ([`MeldingDraft::illness_errors`]) as the
/// page's field errors.
pub(super) fn illness_errors(draft: &MeldingDraft) -> Vec<(String, String)> {
    draft
        .illness_errors()
        .into_iter()
        .map(|e| (e.field, e.message_nl))
        .collect()
}

/// The student's BSN or onderwijsnummer as `user` may see it. A student no
/// longer in the school reads as having neither.
pub(super) fn number_shown<'a>(
    live: &'a crate::live::Live,
    user: &CurrentUser,
    student: &StudentId,
) -> NumberShown<'a> {
    let s = live
        .school
        .position(student)
        .map(|i| &live.school.students()[i]);
    let may_see = match s {
        Some(s) => user.sees_personal_numbers_of(s),
        None => user.may(Permission::SeePersonalNumbers),
    };
    NumberShown::for_reader(s.and_then(Student::personal_number), may_see)
}

/// The draft's problems now, by field: `days[i].…` go to their day,
/// `late_arrivals[i]` to `late`; the rest by name.
pub(super) fn errors_of(
    draft: &MeldingDraft,
    state: &AppState,
) -> Result<Vec<(String, String)>, PageError> {
    let live = state.read()?;
    let (Some(cal), Some(i)) = (live.cal.as_ref(), live.school.position(&draft.student)) else {
        return Ok(vec![(
            "other".to_owned(),
            "De registraties van deze leerling zijn niet (meer) beschikbaar; de melding kan niet worden gecontroleerd.".to_owned(),
        )]);
    };
    let mut errors = illness_errors(draft);
    let number = live.school.students()[i].personal_number();
    if let Err(errs) = draft.validate(cal, live.school.registrations(i), number) {
        errors.extend(errs.into_iter().map(|e| {
            let field = if e.field.starts_with("late_arrivals") {
                "late".to_owned()
            } else {
                e.field
            };
            (field, sentence(&e.message_nl))
        }));
    }
    Ok(errors)
}

#[expect(
    clippy::too_many_arguments,
    reason = "the page's inputs, each distinct"
)]
pub(super) async fn draft_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    draft: &MeldingDraft,
    errors: Vec<(String, String)>,
    message: Option<String>,
    saved: bool,
    audit_read: bool,
) -> Result<DraftPage, PageError> {
    let versions = state.store.melding_versions(id).await?;
    let versie = versions.last().map_or(0, |v| v.version);
    let records = crate::duo_work::DuoRecords::of_student(state, &draft.student).await?;
    let followed_by: Vec<i64> = records
        .meldingen
        .iter()
        .filter(|(_, m)| m.follows == Some(id))
        .map(|(n, _)| *n)
        .collect();
    let afstemmingen: Vec<String> = records
        .afstemmingen
        .iter()
        .filter(|(_, a)| a.melding == Some(id))
        .map(|(_, a)| {
            format!(
                "Signaal '{}' van {}: {}",
                a.signal.rule.title_nl(),
                date_nl(a.signal.fired_on),
                afstemming_nl(a)
            )
        })
        .collect();
    if audit_read {
        user.audit(
            state,
            AuditAction::Read,
            Some(&draft.student),
            format!("DUO-melding {id}"),
        )
        .await?;
    }
    let today = state.clock.today();
    let (due, (number, number_missing)) = {
        let live = state.read()?;
        (
            due(
                live.cal.as_ref(),
                draft.deadline,
                today,
                draft.registered_on,
            ),
            {
                let shown = number_shown(&live, user, &draft.student);
                (shown.text_nl(), shown == NumberShown::Missing)
            },
        )
    };
    let totals = {
        let live = state.read()?;
        live.cal.as_ref().map_or_else(String::new, |cal| {
            let t = draft.totals(cal);
            let plural = |n: usize, one: &str, more: &str| {
                format!("{n} {}", if n == 1 { one } else { more })
            };
            format!(
                "{} (waarvan {}), {}, {} uur",
                plural(t.days, "verzuimdag", "verzuimdagen"),
                plural(t.whole_days, "hele dag", "hele dagen"),
                plural(t.lessons, "lesuur", "lesuren"),
                t.hours
            )
        })
    };
    let mut by_field: HashMap<String, Vec<String>> = HashMap::new();
    for (f, m) in &errors {
        by_field.entry(f.clone()).or_default().push(m.clone());
    }
    let days = draft
        .days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let prefix = format!("days[{i}].");
            let errors = errors
                .iter()
                .filter(|(f, _)| f.starts_with(&prefix))
                .map(|(_, m)| m.clone())
                .collect();
            DayRow {
                iso: d.date.to_string(),
                label: date_nl(d.date),
                whole_day: d.whole_day,
                cells: (1..=MAX_LESSON)
                    .map(|l| Cell {
                        lesson: l,
                        checked: d.lessons.contains(&l),
                    })
                    .collect(),
                errors,
            }
        })
        .collect();
    let manage = user.may(Permission::ManageMeldingen);
    let concept = draft.status == MeldingStatus::Concept;
    let mut history = vec![HistoryRow {
        on: date_nl(draft.created_on),
        what: "concept gemaakt".to_owned(),
    }];
    history.extend(draft.history.iter().map(|c| HistoryRow {
        on: date_nl(c.on),
        what: c.status.label_nl().to_owned(),
    }));
    let source = match draft.source {
        Some(s) => format!(
            "gemaakt uit het signaal '{}' van {}",
            s.rule.title_nl(),
            date_nl(s.fired_on)
        ),
        None => "met de hand gemaakt".to_owned(),
    };
    Ok(DraftPage {
        versie,
        layout: Layout::new(
            user,
            section::MELDINGEN,
            format!("DUO-melding {id}: {}", draft.student_name),
        ),
        id,
        student: draft.student.to_string(),
        name: draft.student_name.clone(),
        birth: date_nl(draft.date_of_birth),
        number,
        number_missing,
        kind: draft.kind.label_nl(),
        period: period(draft.begin, draft.end),
        status: draft.status.label_nl(),
        duo_number: draft.duo_number.clone().unwrap_or_default(),
        totals,
        concept,
        editable: concept && manage,
        manage,
        due,
        days,
        lessons_header: (1..=MAX_LESSON).collect(),
        all_lessons_missed: draft.all_lessons_missed,
        late: draft
            .late_arrivals
            .iter()
            .map(|l| LateRow {
                label: date_nl(l.date),
                lesson: l.lesson,
                minutes: l.minutes_late,
            })
            .collect(),
        late_minutes: draft
            .late_arrivals
            .iter()
            .map(|l| u32::from(l.minutes_late))
            .sum(),
        reason_count: draft.suspected_reason.trim().chars().count(),
        reason_max: MAX_SUSPECTED_REASON,
        reason: draft.suspected_reason.clone(),
        explanation: draft.explanation.clone().unwrap_or_default(),
        leerplicht: match &draft.leerplicht_action {
            None => "",
            Some(a) if a.wanted => "ja",
            Some(_) => "nee",
        },
        leerplicht_reason: draft
            .leerplicht_action
            .as_ref()
            .map(|a| a.reason.clone())
            .unwrap_or_default(),
        actions: draft.actions_taken.join("\n"),
        actions_list: draft.actions_taken.clone(),
        reporter: draft.reporter.clone(),
        school: draft.school.clone(),
        all_errors: errors.iter().map(|(_, m)| m.clone()).collect(),
        errors: by_field,
        message,
        saved,
        notice: None,
        moves: if manage {
            STATUSES
                .into_iter()
                .filter(|s| draft.status.can_move_to(*s))
                .map(|s| StatusOption {
                    value: status_key(s),
                    label: s.label_nl(),
                })
                .collect()
        } else {
            Vec::new()
        },
        today: today.to_string(),
        history,
        versions: versions
            .into_iter()
            .rev()
            .map(|v| VersionRow {
                version: v.version,
                by: v.saved_by,
                at: local_time_nl(v.saved_at),
            })
            .collect(),
        source,
        contact_phone: draft.contact_phone.clone(),
        address: draft.address.clone().unwrap_or_default(),
        location_name: draft.location_name.clone(),
        follows: draft.follows,
        followed_by,
        afstemmingen,
    })
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Shown {
    opgeslagen: Option<String>,
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Nr(n): Nr,
    Query(q): Query<Shown>,
) -> Result<DraftPage, PageError> {
    let (id, draft, version) = readable_versioned(&state, &user, &n).await?;
    let errors = if draft.status == MeldingStatus::Concept && user.may(Permission::ManageMeldingen)
    {
        errors_of(&draft, &state)?
    } else {
        Vec::new()
    };
    let mut page = draft_page(
        &state,
        &user,
        id,
        &draft,
        errors,
        None,
        q.opgeslagen.as_deref() == Some("1"),
        true,
    )
    .await?;
    // The confirmation after every save.
    // The forms carry the version the page shows.
    page.versie = version;
    page.notice = match q.opgeslagen.as_deref() {
        Some("status") => Some("De nieuwe status is opgeslagen."),
        Some("nummer") => Some("Het meldingsnummer van DUO is opgeslagen."),
        _ => None,
    };
    Ok(page)
}
