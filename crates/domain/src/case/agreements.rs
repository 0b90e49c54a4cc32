//! Agreements and their weekly checks.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{due_within, Case, CaseError, CHECK_INTERVAL_DAYS};
use crate::calendar::Calendar;

/// Who an agreement binds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementParty {
    Student,
    Parents,
    School,
    Partner(String),
}

impl AgreementParty {
    /// Dutch label.
    pub fn label_nl(&self) -> &str {
        match self {
            AgreementParty::Student => "leerling",
            AgreementParty::Parents => "ouders",
            AgreementParty::School => "school",
            AgreementParty::Partner(p) => p,
        }
    }
}

/// One weekly check of an agreement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyCheck {
    pub on: NaiveDate,
    pub kept: bool,
    #[serde(default)]
    pub note: String,
}

/// An agreement (afspraak), shared with student, parents and partners.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub who: AgreementParty,
    pub what: String,
    pub made_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_when: Option<NaiveDate>,
    /// Index into [`Case::contacts`] of the contact where it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<usize>,
    #[serde(default)]
    pub kept: Vec<WeeklyCheck>,
}

impl Case {
    /// Records an agreement. Returns its index.
    pub fn add_agreement(&mut self, agreement: Agreement) -> Result<usize, CaseError> {
        self.ensure_open()?;
        if agreement.what.trim().is_empty() {
            return Err(CaseError::EmptyAgreement);
        }
        if let Some(c) = agreement.contact {
            if c >= self.contacts.len() {
                return Err(CaseError::UnknownContact(c));
            }
        }
        self.agreements.push(agreement);
        Ok(self.agreements.len() - 1)
    }

    /// Records a weekly check of agreement `index`.
    pub fn check_agreement(&mut self, index: usize, check: WeeklyCheck) -> Result<(), CaseError> {
        self.ensure_open()?;
        let a = self
            .agreements
            .get_mut(index)
            .ok_or(CaseError::UnknownAgreement(index))?;
        if check.on < a.made_on {
            return Err(CaseError::BeforeStart {
                on: check.on,
                start: a.made_on,
            });
        }
        a.kept.push(check);
        Ok(())
    }

    /// The dates of all weekly checks on or after `from`, sorted, once each.
    pub(super) fn check_dates_from(&self, from: NaiveDate) -> Vec<NaiveDate> {
        let mut v: Vec<NaiveDate> = self
            .agreements
            .iter()
            .flat_map(|a| a.kept.iter().map(|c| c.on))
            .filter(|d| *d >= from)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Since when the case asks for weekly checks: the day it last came to
    /// step 4 or later from a lower step (or opened there). `None` below
    /// step 4.
    pub fn weekly_checks_since(&self) -> Option<NaiveDate> {
        if !self.step.has_weekly_check() {
            return None;
        }
        let moved = self
            .history
            .iter()
            .rev()
            .find(|c| c.to.has_weekly_check() && !c.from.has_weekly_check())
            .map(|c| c.at_date);
        Some(moved.unwrap_or(self.opened_on))
    }

    /// The next weekly agreement check of intervention `index`: seven days
    /// after the latest check since it started (or after its start), moved
    /// back to a school day ([`due_within`]).
    pub fn next_weekly_check(&self, cal: &Calendar, index: usize) -> Option<NaiveDate> {
        let i = self.interventions.get(index)?;
        let anchor = self
            .check_dates_from(i.started_on)
            .last()
            .copied()
            .unwrap_or(i.started_on);
        Some(due_within(cal, anchor, CHECK_INTERVAL_DAYS))
    }
}
