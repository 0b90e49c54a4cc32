//! Shared set-up for the benchmarks: the shipped 2025–2026 calendar and a
//! demo school of a given size on it.

use aanwezig_demo::DemoConfig;
use aanwezig_domain::{Calendar, Policy, School};

/// The shipped calendar for 2025–2026, region noord.
pub fn calendar() -> Calendar {
    aanwezig_demo::demo_calendar().unwrap_or_else(|e| panic!("shipped calendar: {e}"))
}

/// rules.md's policy with the Magister codes.
pub fn policy() -> Policy {
    aanwezig_import::parse_policy(
        include_str!("../../../data/policy/magister.toml"),
        "magister.toml",
    )
    .unwrap_or_else(|e| panic!("shipped policy: {e}"))
}

/// The demo of `students` students with a full school year of lessons.
fn demo(cal: &Calendar, students: usize) -> aanwezig_demo::DemoSchool {
    aanwezig_demo::generate(
        cal,
        &DemoConfig {
            students,
            seed: 7,
            until: None,
        },
    )
}

/// A demo school of `students` students with a full school year of lessons.
pub fn school(cal: &Calendar, students: usize) -> School {
    let demo = demo(cal, students);
    School::with_registrations(demo.students, demo.registrations)
}

/// rules.md's policy with the Magister codes, for registrations that hold
/// absences only (`presence = "implied"`).
pub fn implied_policy() -> Policy {
    Policy {
        presence: aanwezig_domain::Presence::Implied,
        ..policy()
    }
}

/// A timetable for every class of `students`: lessons 1–7 from Monday to
/// Thursday, 1–6 on Friday.
pub fn class_timetable(students: &[aanwezig_domain::Student]) -> aanwezig_domain::Timetable {
    use aanwezig_domain::{Group, LessonSet, TimetableRow};
    use chrono::Weekday;
    let mut classes: Vec<&str> = students.iter().map(|s| s.class.as_str()).collect();
    classes.sort_unstable();
    classes.dedup();
    let mut rows = Vec::new();
    for class in classes {
        for weekday in [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ] {
            let last = if weekday == Weekday::Fri { 6 } else { 7 };
            rows.push(TimetableRow {
                group: Group::Class(class.to_owned()),
                weekday,
                lessons: LessonSet::of(1..=last).unwrap_or_default(),
                from: None,
                until: None,
            });
        }
    }
    aanwezig_domain::Timetable { rows }
}

/// The school of [`school`] as an absence-only export gives it: only the
/// lessons that were not attended as present (absences, late arrivals,
/// not-absences), with [`class_timetable`]. For [`implied_policy`].
pub fn absences_school(cal: &Calendar, students: usize) -> School {
    let demo = demo(cal, students);
    let regs: Vec<Vec<aanwezig_domain::Registration>> = demo
        .registrations
        .into_iter()
        .map(|r| {
            r.into_iter()
                .filter(|x| x.category != aanwezig_domain::Category::Present)
                .collect()
        })
        .collect();
    let timetable = class_timetable(&demo.students);
    let mut school = School::with_registrations(demo.students, regs);
    school.set_timetable(&timetable);
    school
}
