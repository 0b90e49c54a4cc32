//! Property tests: calendar windows against their definition, and rule
//! invariants over generated calendars and registrations.

use chrono::{Datelike, Days, NaiveDate};
use proptest::prelude::*;

use super::*;
use crate::calendar::{FreeDay, FreeDayKind, LessonSlot, SchoolYear};
use crate::category::Category;

/// A school year starting on a Monday with random holiday weeks and free days.
fn calendar_strategy() -> impl Strategy<Value = Calendar> {
    (
        20u64..45,
        prop::collection::vec(2u64..40, 0..5),
        prop::collection::vec(0u64..300, 0..6),
    )
        .prop_map(|(weeks, holiday_weeks, free)| {
            let first = NaiveDate::from_ymd_opt(2025, 8, 25).expect("valid");
            let last = first + Days::new(weeks * 7 - 3);
            let mut free_days: Vec<FreeDay> = holiday_weeks
                .iter()
                .map(|w| FreeDay {
                    name: format!("vakantie {w}"),
                    kind: FreeDayKind::Vakantie,
                    first: first + Days::new(w * 7 - 2),
                    last: first + Days::new(w * 7 + 6),
                    unconfirmed: false,
                })
                .collect();
            free_days.extend(free.iter().map(|o| FreeDay {
                name: "studiedag".into(),
                kind: FreeDayKind::Studiedag,
                first: first + Days::new(*o),
                last: first + Days::new(*o),
                unconfirmed: false,
            }));
            Calendar::new(vec![SchoolYear {
                name: "gen".into(),
                region: None,
                first_day: first,
                last_day: last,
                free_days,
                lessons: (1..=7)
                    .map(|n| LessonSlot {
                        number: n,
                        minutes: 50,
                        start: None,
                    })
                    .collect(),
            }])
            .expect("generated calendar is valid")
        })
}

fn category_strategy() -> impl Strategy<Value = Category> {
    prop_oneof![
        20 => Just(Category::Present),
        2 => Just(Category::ReportedSick),
        1 => Just(Category::ReportedOther),
        1 => Just(Category::Authorized),
        2 => Just(Category::Unknown),
        1 => Just(Category::Unauthorized),
        1 => Just(Category::LateUnexcused),
        1 => Just(Category::LateExcused),
        1 => Just(Category::NotAbsence),
    ]
}

/// Registrations for every lesson of every school day, in runs of days with
/// one pattern so that episodes and whole-day absences occur.
fn school_strategy() -> impl Strategy<Value = (Calendar, Vec<Registration>)> {
    calendar_strategy()
        .prop_flat_map(|cal| {
            let n = cal.len();
            (
                Just(cal),
                prop::collection::vec((category_strategy(), 0u8..8, 1usize..6), n),
            )
        })
        .prop_map(|(cal, plan)| {
            let mut regs = Vec::new();
            let mut i = 0usize;
            let mut k = 0usize;
            while i < cal.len() {
                let (cat, lessons_absent, run) = plan[k % plan.len()];
                k += 1;
                for d in i..(i + run).min(cal.len()) {
                    for lesson in 1..=7u8 {
                        let c = if lesson <= lessons_absent || lessons_absent == 7 {
                            cat
                        } else {
                            Category::Present
                        };
                        let late = if matches!(c, Category::LateUnexcused | Category::LateExcused) {
                            12
                        } else {
                            0
                        };
                        regs.push(Registration {
                            day: DayIdx::try_from(d).expect("small"),
                            minutes: 50,
                            minutes_late: late,
                            lesson,
                            category: c,
                        });
                    }
                }
                i += run;
            }
            (cal, regs)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// window(d, N) holds exactly the school days e ≤ d with w(e) > w(d) − N,
    /// or w(e) = w(d) − N and k(e) > k(d) (rules.md §1).
    #[test]
    fn window_matches_its_definition(cal in calendar_strategy(), n in 1u16..14) {
        let starts = cal.window_starts(n);
        for d in 0..cal.len() {
            let d = DayIdx::try_from(d).expect("small");
            let (wd, kd) = (i32::from(cal.week(d)), cal.date(d).weekday().num_days_from_monday());
            let expected = (0..=d).find(|&e| {
                let (we, ke) = (i32::from(cal.week(e)), cal.date(e).weekday().num_days_from_monday());
                we > wd - i32::from(n) || (we == wd - i32::from(n) && ke > kd)
            }).expect("d itself is in its window");
            prop_assert_eq!(cal.window_start(d, n), expected);
            prop_assert_eq!(starts[usize::from(d)], expected);
        }
    }

    /// Without holidays a complete window is exactly N × 5 school days.
    #[test]
    fn window_without_holidays_is_five_days_a_week(n in 1u16..8) {
        let cal = Calendar::new(vec![SchoolYear {
            name: "plain".into(), region: None,
            first_day: NaiveDate::from_ymd_opt(2025, 8, 25).expect("valid"),
            last_day: NaiveDate::from_ymd_opt(2026, 1, 30).expect("valid"),
            free_days: vec![],
            lessons: vec![LessonSlot { number: 1, minutes: 50, start: None }],
        }]).expect("valid");
        for d in 0..cal.len() {
            let d = DayIdx::try_from(d).expect("small");
            if cal.window_complete(d, n) {
                prop_assert_eq!(usize::from(d - cal.window_start(d, n)) + 1, usize::from(n) * 5);
            }
        }
    }

    #[test]
    fn rule_invariants((cal, regs) in school_strategy()) {
        let policy = Policy::default();
        let engine = Engine::new(&cal, &policy);
        let ev = engine.evaluate(&regs, &StudentContext::default(), None);
        let mut last_16h: Option<NaiveDate> = None;
        for s in &ev.signals {
            // Windows end on the day the signal fired; evidence is real and inside it.
            prop_assert_eq!(s.window.1, s.fired_on);
            prop_assert!(s.window.0 <= s.window.1);
            for i in &s.evidence {
                let r = regs[*i as usize];
                prop_assert!(r.day >= s.window.0.min(s.begin.unwrap_or(s.window.0)) && r.day <= s.fired_on);
            }
            prop_assert!(s.closed_on.is_none_or(|c| c > s.fired_on));
            if let (Some(b), Some(e)) = (s.begin, s.end) {
                prop_assert!(b <= e);
            }
            if s.rule.is_duo() {
                prop_assert!(s.deadline.is_some_and(|dl| dl > cal.date(s.fired_on)));
            }
            if s.rule == RuleId::Duo16h {
                prop_assert!(s.hours.is_some_and(|h| h >= policy.duo_16h.hours));
                let date = cal.date(s.fired_on);
                prop_assert!(last_16h.is_none_or(|l| (date - l).num_days() >= 7));
                last_16h = Some(date);
            }
            if s.rule == RuleId::Unexplained {
                prop_assert!(s.hours.is_some_and(|h| h > Hours::ZERO));
            }
        }
        // A level rule never has two signals open at once.
        for rule in RuleId::ALL {
            let of_rule: Vec<&Signal> = ev.signals.iter().filter(|s| s.rule == rule).collect();
            for pair in of_rule.windows(2) {
                prop_assert!(pair[0].fired_on < pair[1].fired_on);
                prop_assert!(pair[0].closed_on.is_some_and(|c| c <= pair[1].fired_on));
            }
        }
    }

    /// rules.md §2: the same school gives the same signals whether its file
    /// holds every lesson (`presence = "registered"`) or only the absences
    /// and late arrivals (`presence = "implied"`), and the same attendance.
    #[test]
    fn implied_presence_on_absences_only_equals_the_full_grid((cal, regs) in school_strategy()) {
        let full_policy = Policy::default();
        let implied_policy = Policy { presence: crate::policy::Presence::Implied, ..Policy::default() };
        let absences: Vec<Registration> =
            regs.iter().copied().filter(|r| r.category != Category::Present).collect();
        let full = Engine::new(&cal, &full_policy).evaluate(&regs, &StudentContext::default(), None);
        let implied = Engine::new(&cal, &implied_policy).evaluate(&absences, &StudentContext::default(), None);
        // Evidence points into different slices: compare the lessons.
        let plain = |sigs: &[Signal], of: &[Registration]| -> Vec<(Signal, Vec<(DayIdx, u8)>)> {
            sigs.iter()
                .map(|s| {
                    let lessons = s.evidence.iter().map(|i| of[*i as usize].key()).collect();
                    (Signal { evidence: Vec::new(), ..s.clone() }, lessons)
                })
                .collect()
        };
        prop_assert_eq!(plain(&full.signals, &regs), plain(&implied.signals, &absences));
        let last = DayIdx::try_from(cal.len() - 1).expect("small");
        prop_assert_eq!(
            attendance(&cal, crate::policy::Presence::Registered, None, &regs, 0, last),
            attendance(&cal, crate::policy::Presence::Implied, None, &absences, 0, last)
        );
        prop_assert_eq!(
            attendance(&cal, crate::policy::Presence::Registered, None, &regs, 3, last / 2),
            attendance(&cal, crate::policy::Presence::Implied, None, &absences, 3, last / 2)
        );
    }

    /// The same with a timetable: a student whose weekdays have different
    /// lessons gives the same signals from the full grid of those lessons
    /// as from its absences with implied presence and the timetable.
    #[test]
    fn implied_presence_with_a_timetable_equals_its_full_grid(
        (cal, regs) in school_strategy(),
        masks in prop::collection::vec(1u16..128, 5),
    ) {
        use crate::timetable::{Group, LessonSet, Timetable, TimetableRow};
        use crate::student::{Student, StudentId};
        let weekdays = [chrono::Weekday::Mon, chrono::Weekday::Tue, chrono::Weekday::Wed, chrono::Weekday::Thu, chrono::Weekday::Fri];
        let timetable = Timetable {
            rows: weekdays
                .iter()
                .zip(&masks)
                .map(|(w, m)| TimetableRow {
                    group: Group::Class("1A".into()),
                    weekday: *w,
                    lessons: LessonSet(m << 1),
                    from: None,
                    until: None,
                })
                .collect(),
        };
        let student = Student {
            id: StudentId::parse("1").expect("valid"),
            name: "x".into(),
            class: "1A".into(),
            mentor: "m".into(),
            date_of_birth: NaiveDate::from_ymd_opt(2012, 1, 1).expect("valid"),
            bsn: None,
            onderwijsnummer: None,
        };
        let week = timetable.for_student(&student);
        // The full grid holds exactly the timetable's lessons.
        let full: Vec<Registration> = regs
            .iter()
            .copied()
            .filter(|r| week.lessons_on(cal.date(r.day)).is_some_and(|s| s.contains(r.lesson)))
            .collect();
        let absences: Vec<Registration> =
            full.iter().copied().filter(|r| r.category != Category::Present).collect();
        let implied_policy = Policy { presence: crate::policy::Presence::Implied, ..Policy::default() };
        let ctx = StudentContext { week: Some(week.clone()), ..StudentContext::default() };
        let a = Engine::new(&cal, &Policy::default()).evaluate(&full, &StudentContext::default(), None);
        let b = Engine::new(&cal, &implied_policy).evaluate(&absences, &ctx, None);
        let plain = |sigs: &[Signal], of: &[Registration]| -> Vec<(Signal, Vec<(DayIdx, u8)>)> {
            sigs.iter()
                .map(|s| (Signal { evidence: Vec::new(), ..s.clone() }, s.evidence.iter().map(|i| of[*i as usize].key()).collect()))
                .collect()
        };
        prop_assert_eq!(plain(&a.signals, &full), plain(&b.signals, &absences));
        let last = DayIdx::try_from(cal.len() - 1).expect("small");
        prop_assert_eq!(
            attendance(&cal, crate::policy::Presence::Registered, None, &full, 0, last),
            attendance(&cal, crate::policy::Presence::Implied, Some(&week), &absences, 0, last)
        );
    }

    /// Rules only look back: evaluating up to day d gives exactly the
    /// signals that fired up to d in the full evaluation.
    #[test]
    fn evaluation_is_causal((cal, regs) in school_strategy(), frac in 0.0f64..1.0) {
        let policy = Policy::default();
        let engine = Engine::new(&cal, &policy);
        let full = engine.evaluate(&regs, &StudentContext::default(), None);
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let until = ((cal.len() - 1) as f64 * frac) as DayIdx;
        let part = engine.evaluate(&regs, &StudentContext::default(), Some(until));
        let strip = |s: &Signal| Signal { closed_on: s.closed_on.filter(|c| *c <= until), ..s.clone() };
        let expected: Vec<Signal> = full.signals.iter().filter(|s| s.fired_on <= until).map(strip).collect();
        let got: Vec<Signal> = part.signals.iter().map(strip).collect();
        prop_assert_eq!(got, expected);
    }

    /// Authorised absence is excluded from every rule.
    #[test]
    fn authorised_absence_raises_nothing(cal in calendar_strategy(), days in prop::collection::vec(any::<bool>(), 0..300)) {
        let regs: Vec<Registration> = (0..cal.len()).flat_map(|d| {
            let c = if days.get(d).copied().unwrap_or(false) { Category::Authorized } else { Category::Present };
            (1..=7u8).map(move |lesson| Registration { day: DayIdx::try_from(d).expect("small"), minutes: 50, minutes_late: 0, lesson, category: c })
        }).collect();
        let policy = Policy::default();
        let ev = Engine::new(&cal, &policy).evaluate(&regs, &StudentContext::default(), None);
        prop_assert_eq!(ev.signals, vec![]);
    }
}
