//! Interventions, their evaluations and the thuiswerkplan's contacts.

use chrono::{Datelike, Days, IsoWeek, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{
    monday_of, need_reason, Actor, Case, CaseError, CaseStep, EVALUATION_DAYS, THUISWERK_MINUTES,
};
use crate::calendar::Calendar;

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

impl Case {
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
}
