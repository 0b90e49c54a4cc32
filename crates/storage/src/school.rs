//! Loading the whole school from a store into the domain's in-memory form,
//! for the command line and the web app alike.

use aanwezig_domain::{Calendar, Policy, School, Student};

use futures::StreamExt;

use crate::error::{Result, StoreError};
use crate::store::Store;

/// What a store holds about the school, ready for the engine.
pub struct LoadedSchool {
    /// `None` until a calendar was saved.
    pub calendar: Option<Calendar>,
    /// `None` until a policy was saved.
    pub policy: Option<Policy>,
    /// Every student with their registrations (none without a calendar,
    /// since registrations are placed on its school days).
    pub school: School,
}

/// Loads calendar, policy, students, registrations and, from the cases,
/// what the engine needs beyond the registrations.
pub async fn load_school(store: &dyn Store) -> Result<LoadedSchool> {
    let calendar = match store.calendar().await? {
        Some(years) => Some(
            Calendar::new(years)
                .map_err(|e| StoreError::Invalid(format!("opgeslagen kalender: {e}")))?,
        ),
        None => None,
    };
    let policy = store.policy().await?;
    let students: Vec<Student> = store
        .students()
        .await?
        .into_iter()
        .map(|s| s.student)
        .collect();
    let mut school = School::new(students);
    if let Some(cal) = &calendar {
        // One student at a time, each already in `(date, lesson)` order,
        // without codes and notes: linear in the school's size, and only
        // one student's lessons are held in their stored form at once.
        let mut stream = store.lessons_stream();
        while let Some(item) = stream.next().await {
            let (student, lessons) = item?;
            let i = school.position(&student).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "opgeslagen registraties van onbekende leerling {student}"
                ))
            })?;
            let mut regs = Vec::with_capacity(lessons.len());
            // Lessons of one day follow each other: look each day up once.
            let mut last: Option<(chrono::NaiveDate, aanwezig_domain::DayIdx)> = None;
            for l in &lessons {
                let day = match last {
                    Some((date, day)) if date == l.date => day,
                    _ => {
                        let day = cal.index(l.date).ok_or_else(|| {
                            StoreError::Invalid(format!(
                                "opgeslagen registraties passen niet bij de kalender: \
                                 {} is geen schooldag (leerling {student}, lesuur {})",
                                l.date, l.lesson
                            ))
                        })?;
                        last = Some((l.date, day));
                        day
                    }
                };
                regs.push(l.to_registration(day));
            }
            school.set_registrations(i, regs);
        }
    }
    // The timetable gives each student's scheduled lessons (with implied
    // presence).
    if let Some(timetable) = store.timetable().await? {
        school.set_timetable(&timetable);
    }
    // What the engine needs from the cases (the 3a conversations): from
    // every student's latest case, open or closed, since a conversation
    // keeps counting after the case closed.
    for case in store.cases(false).await? {
        if let Some(i) = school.position(&case.student) {
            school.set_context(i, case.engine_context());
        }
    }
    Ok(LoadedSchool {
        calendar,
        policy,
        school,
    })
}
