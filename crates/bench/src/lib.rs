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

/// A demo school of `students` students with a full school year of lessons.
pub fn school(cal: &Calendar, students: usize) -> School {
    let demo = aanwezig_demo::generate(
        cal,
        &DemoConfig {
            students,
            seed: 7,
            until: None,
        },
    );
    School::with_registrations(demo.students, demo.registrations)
}
