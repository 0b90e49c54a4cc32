//! What the plan says is due on a given day.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{
    due_within, next_school_day, Case, OpenReason, SignalRef, CHECK_INTERVAL_DAYS,
    THUISWERK_CONTACTS_PER_WEEK,
};
use crate::calendar::Calendar;
use crate::signal::RuleId;

/// What is due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskKind {
    /// Call after whole-day absence on `absent_on` (guide A).
    Call { absent_on: NaiveDate },
    /// The weekly check of the agreements of a running intervention.
    WeeklyCheck { intervention: usize },
    /// The weekly check of the agreements at step 4 or later while no
    /// intervention runs.
    AgreementCheck,
    /// The evaluation of an intervention.
    Evaluation { intervention: usize },
    /// A thuiswerkplan week with too few contacts of two hours.
    ThuiswerkWeek {
        intervention: usize,
        iso_year: i32,
        iso_week: u32,
        contacts: usize,
    },
}

/// A task of "Mijn taken".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub kind: TaskKind,
    pub due: NaiveDate,
    pub overdue: bool,
    pub label_nl: String,
}

impl Case {
    /// Everything the plan says is due on `today`, overdue or not, sorted
    /// by due date. A closed case has no tasks.
    ///
    /// - A call the school day after each linked whole-day absence signal
    ///   (`contact`), done by any contact moment on or after the absence.
    /// - At step 4 or later, per running intervention: the weekly agreement
    ///   check ([`Case::next_weekly_check`]).
    /// - Per running intervention, at any step: its evaluation
    ///   ([`Intervention::evaluation_due`]), also when all goes well.
    /// - Per running thuiswerkplan: the current week while it has fewer
    ///   than two contacts of two hours (due on its last school day), and
    ///   every past week that had fewer (overdue).
    pub fn tasks(&self, cal: &Calendar, today: NaiveDate) -> Vec<Task> {
        if self.closed.is_some() {
            return Vec::new();
        }
        let mut tasks = Vec::new();
        let mut push = |kind: TaskKind, due: NaiveDate, label_nl: String| {
            tasks.push(Task {
                kind,
                due,
                overdue: today > due,
                label_nl,
            });
        };

        let mut calls: Vec<NaiveDate> = self
            .signals
            .iter()
            .copied()
            .chain(match self.reason {
                OpenReason::Signal { rule, on } => Some(SignalRef { rule, on }),
                OpenReason::Zorgen { .. } => None,
            })
            .filter(|s| s.rule == RuleId::Contact)
            .map(|s| s.on)
            .collect();
        calls.sort_unstable();
        calls.dedup();
        // Every absence since the latest contact is pending, and one call
        // covers them all: the task is for the earliest, due the school day
        // after it.
        let pending = calls
            .into_iter()
            .find(|d| *d <= today && !self.contacts.iter().any(|c| c.on >= *d));
        if let Some(absent_on) = pending {
            push(
                TaskKind::Call { absent_on },
                next_school_day(cal, absent_on),
                format!(
                    "Bellen: hele dag afwezig sinds {} (leidraad A)",
                    crate::explain::date_nl(absent_on)
                ),
            );
        }

        if self.step.has_weekly_check()
            && !self.agreements.is_empty()
            && !self.interventions.iter().any(|i| i.runs_on(today))
        {
            if let Some(since) = self.weekly_checks_since() {
                let anchor = self
                    .check_dates_from(since)
                    .last()
                    .copied()
                    .unwrap_or(since);
                push(
                    TaskKind::AgreementCheck,
                    due_within(cal, anchor, CHECK_INTERVAL_DAYS),
                    "Wekelijks nagaan of de afspraken zijn nagekomen".to_owned(),
                );
            }
        }

        for (idx, i) in self.interventions.iter().enumerate() {
            if !i.runs_on(today) {
                continue;
            }
            if self.step.has_weekly_check() {
                if let Some(due) = self.next_weekly_check(cal, idx) {
                    push(
                        TaskKind::WeeklyCheck { intervention: idx },
                        due,
                        format!(
                            "Wekelijks nagaan of de afspraken zijn nagekomen ({})",
                            i.description
                        ),
                    );
                }
            }
            push(
                TaskKind::Evaluation { intervention: idx },
                i.evaluation_due(cal),
                format!(
                    "Evaluatiegesprek over '{}' (uiterlijk zes weken)",
                    i.description
                ),
            );
            for (week, contacts, due) in self.thuiswerk_weeks(cal, idx, today) {
                if contacts < THUISWERK_CONTACTS_PER_WEEK {
                    push(
                        TaskKind::ThuiswerkWeek {
                            intervention: idx,
                            iso_year: week.year(),
                            iso_week: week.week(),
                            contacts,
                        },
                        due,
                        format!(
                            "Thuiswerkplan week {}: {contacts} van de minstens {THUISWERK_CONTACTS_PER_WEEK} contacten van twee uur",
                            week.week()
                        ),
                    );
                }
            }
        }
        tasks.sort_by_key(|t| t.due);
        tasks
    }
}
