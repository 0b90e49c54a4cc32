//! The generated school: determinism, complete schedules, a sane mix, and
//! every rule of rules.md §4 exercised.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use aanwezig_demo::{
    demo_calendar, generate, DemoConfig, DemoSchool, MagisterCode, Pattern, FIRST_STUDENT_ID,
};
use aanwezig_domain::{Calendar, Category, Registration};
use chrono::Datelike;
use common::{calendar, fired, two_year_calendar, ymd, Fired};

fn school(cal: &Calendar, students: usize, seed: u64) -> DemoSchool {
    generate(
        cal,
        &DemoConfig {
            students,
            seed,
            until: None,
        },
    )
}

/// Every lesson of every school day's timetable up to `days`, as
/// `(day, lesson, minutes)`, computed straight from the calendar.
fn expected_schedule(cal: &Calendar, days: usize) -> Vec<(u16, u8, u16)> {
    let mut out = Vec::new();
    for d in 0..days {
        let d = u16::try_from(d).expect("day");
        let year = cal.year_of_date(cal.date(d)).expect("year");
        let mut numbers: Vec<u8> = year.lessons.iter().map(|l| l.number).collect();
        numbers.sort_unstable();
        for n in numbers {
            let slot = cal.lesson(d, n).expect("slot");
            out.push((d, n, slot.minutes));
        }
    }
    out
}

fn shape(regs: &[Registration]) -> Vec<(u16, u8, u16)> {
    regs.iter().map(|r| (r.day, r.lesson, r.minutes)).collect()
}

#[test]
fn same_seed_same_school_other_seed_other_school() {
    let cal = calendar();
    let a = school(&cal, 300, 7);
    let b = school(&cal, 300, 7);
    assert_eq!(a.students, b.students);
    assert_eq!(a.registrations, b.registrations);
    assert_eq!(a.patterns(), b.patterns());
    for i in [0, 150, 299] {
        assert!(a.records(&cal, i).eq(b.records(&cal, i)));
    }
    let c = school(&cal, 300, 8);
    assert_ne!(a.registrations, c.registrations);
    assert_ne!(a.students, c.students);
}

#[test]
fn result_does_not_depend_on_the_number_of_threads() {
    let cal = calendar();
    let many = school(&cal, 400, 11);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool")
        .install(|| school(&cal, 400, 11));
    assert_eq!(many.registrations, one.registrations);
    for i in 0..400 {
        assert!(many.records(&cal, i).eq(one.records(&cal, i)));
    }
}

#[test]
fn a_larger_school_starts_with_the_smaller_one_s_registrations() {
    // Student i's registrations depend only on (seed, i, pattern): the
    // first block of 200 is dealt the same way in both.
    let cal = calendar();
    let small = school(&cal, 200, 3);
    let large = school(&cal, 400, 3);
    assert_eq!(small.patterns(), &large.patterns()[..200]);
    assert_eq!(small.registrations[..], large.registrations[..200]);
}

#[test]
fn every_scheduled_lesson_every_school_day_sorted() {
    let cal = calendar();
    let s = school(&cal, 250, 1);
    let expected = expected_schedule(&cal, cal.len());
    assert_eq!(expected.len(), cal.len() * 7);
    assert_eq!(s.registrations.len(), 250);
    for regs in &s.registrations {
        assert_eq!(shape(regs), expected);
        assert!(regs.windows(2).all(|w| w[0].key() < w[1].key()));
        assert_eq!(regs.capacity(), regs.len(), "allocated at its exact size");
    }
}

#[test]
fn timetables_follow_the_school_year() {
    let cal = two_year_calendar();
    let s = school(&cal, 220, 5);
    let expected = expected_schedule(&cal, cal.len());
    let last = cal.len() - 1;
    let last_day: Vec<_> = expected
        .iter()
        .filter(|e| usize::from(e.0) == last)
        .collect();
    assert_eq!(
        last_day.iter().map(|e| (e.1, e.2)).collect::<Vec<_>>(),
        [(1, 45), (2, 45), (3, 45), (4, 45), (6, 100)]
    );
    for regs in &s.registrations {
        assert_eq!(shape(regs), expected);
    }
}

#[test]
fn until_cuts_the_year_and_is_a_prefix_of_the_full_year() {
    let cal = calendar();
    let full = school(&cal, 200, 9);
    // A Saturday: the last lessons are those of Friday 14 November.
    let until = ymd(2025, 11, 15);
    let part = generate(
        &cal,
        &DemoConfig {
            students: 200,
            seed: 9,
            until: Some(until),
        },
    );
    let friday = cal.index(ymd(2025, 11, 14)).expect("school day");
    let days = usize::from(friday) + 1;
    let expected = expected_schedule(&cal, days);
    assert_eq!(part.students, full.students);
    for i in 0..200 {
        let p = &part.registrations[i];
        assert_eq!(shape(p), expected);
        assert!(p.iter().all(|r| cal.date(r.day) <= until));
        assert_eq!(p[..], full.registrations[i][..p.len()]);
        assert!(part
            .records(&cal, i)
            .eq(full.records(&cal, i).take(p.len())));
    }
}

#[test]
fn until_before_the_year_gives_no_lessons_and_after_it_all() {
    let cal = calendar();
    let cfg = |until| DemoConfig {
        students: 30,
        seed: 1,
        until: Some(until),
    };
    let before = generate(&cal, &cfg(ymd(2025, 8, 1)));
    assert_eq!(before.students.len(), 30);
    assert!(before.registrations.iter().all(Vec::is_empty));
    assert_eq!(before.total_registrations(), 0);
    let after = generate(&cal, &cfg(ymd(2027, 1, 1)));
    assert_eq!(after.registrations, school(&cal, 30, 1).registrations);
    let none = generate(
        &cal,
        &DemoConfig {
            students: 0,
            seed: 1,
            until: None,
        },
    );
    assert!(none.students.is_empty() && none.registrations.is_empty());
    assert!(none.mentors().is_empty());
}

#[test]
fn category_mix_is_realistic() {
    let cal = calendar();
    let s = school(&cal, 2_000, 2025);
    let mut per_category: BTreeMap<Category, u64> = BTreeMap::new();
    for r in s.registrations.iter().flatten() {
        *per_category.entry(r.category).or_default() += 1;
    }
    let total = s.total_registrations();
    let share = |c| per_category.get(&c).copied().unwrap_or(0) as f64 / total as f64;
    let attended: f64 = Category::ALL
        .into_iter()
        .filter(|c| c.is_attended())
        .map(share)
        .sum();
    assert!((0.88..=0.97).contains(&attended), "attendance {attended}");
    assert!(share(Category::Present) > 0.85);
    assert!((0.01..0.06).contains(&share(Category::ReportedSick)));
    assert!(share(Category::Unknown) + share(Category::Unauthorized) < 0.04);
    for c in Category::ALL {
        assert!(share(c) > 0.0, "{c} never registered");
    }
    // No single student is absent all year.
    for regs in &s.registrations {
        let present = regs.iter().filter(|r| r.category.is_attended()).count();
        assert!(present * 2 > regs.len());
    }
}

#[test]
fn every_pattern_group_appears_in_its_share() {
    let cal = calendar();
    let s = school(&cal, 2_000, 4);
    let mut count: BTreeMap<Pattern, usize> = BTreeMap::new();
    for p in s.patterns() {
        *count.entry(*p).or_default() += 1;
    }
    let expected = [
        (Pattern::Regular, 1_400),
        (Pattern::FrequentSick, 200),
        (Pattern::LongIllness, 60),
        (Pattern::Skipper, 160),
        (Pattern::ChronicLate, 100),
        (Pattern::HolidayAbsence, 40),
        (Pattern::LongTermUnexplained, 10),
        (Pattern::LeaveOnly, 30),
    ];
    for (p, n) in expected {
        assert_eq!(count.get(&p), Some(&n), "{p:?}");
    }
    // Even a school of one block holds every group.
    let small = school(&cal, 200, 4);
    let groups: BTreeSet<_> = small.patterns().iter().collect();
    assert_eq!(groups.len(), Pattern::ALL.len());
}

/// The heart of the demo: each pattern makes its rule fire (rules.md §4,
/// counted with the domain engine), and leave alone never
/// does.
#[test]
fn patterns_exercise_every_rule() {
    let cal = calendar();
    let s = school(&cal, 2_000, 2025);
    let mut hits: BTreeMap<Pattern, (usize, [usize; 8])> = BTreeMap::new();
    for (i, regs) in s.registrations.iter().enumerate() {
        let f = fired(&cal, regs);
        let p = s.pattern(i).expect("pattern");
        let e = hits.entry(p).or_default();
        e.0 += 1;
        for (k, c) in f.counts().into_iter().enumerate() {
            e.1[k] += usize::from(c > 0);
        }
        if p == Pattern::LeaveOnly {
            assert_eq!(f, Fired::default(), "leave only must raise nothing");
        }
    }
    // A table for humans: `cargo test -p aanwezig-demo -- --nocapture`.
    eprintln!("{:<22} {:>5} {}", "pattern", "n", Fired::NAMES.join(" "));
    for (p, (n, h)) in &hits {
        let cells: Vec<String> = h
            .iter()
            .zip(Fired::NAMES)
            .map(|(c, name)| {
                format!(
                    "{:>w$.0}%",
                    100.0 * *c as f64 / *n as f64,
                    w = name.len() - 1
                )
            })
            .collect();
        eprintln!("{:<22} {:>5} {}", p.as_str(), n, cells.join(" "));
    }
    let rate = |p: Pattern, rule: usize| {
        let (n, h) = hits[&p];
        h[rule] as f64 / n as f64
    };
    const CONTACT: usize = 0;
    const COUNT: usize = 1;
    const LONG: usize = 2;
    const UNEXPLAINED: usize = 3;
    const PERSIST: usize = 4;
    const DUO_16H: usize = 5;
    const LRV: usize = 6;
    const HOLIDAY: usize = 7;

    assert!(rate(Pattern::FrequentSick, COUNT) > 0.95);
    assert!(rate(Pattern::FrequentSick, PERSIST) > 0.5);
    assert!(rate(Pattern::LongIllness, LONG) > 0.99);
    assert!(rate(Pattern::LongIllness, PERSIST) > 0.3);
    assert!(rate(Pattern::Skipper, UNEXPLAINED) > 0.99);
    assert!((0.1..0.35).contains(&rate(Pattern::Skipper, DUO_16H)));
    assert!(rate(Pattern::ChronicLate, UNEXPLAINED) > 0.99);
    assert!(rate(Pattern::HolidayAbsence, HOLIDAY) > 0.99);
    assert!(rate(Pattern::LongTermUnexplained, LRV) > 0.99);
    assert!(rate(Pattern::Regular, CONTACT) > 0.5);
    // "Mostly present" really is: rarely a 3a signal, never a DUO melding.
    assert!(rate(Pattern::Regular, COUNT) < 0.15);
    assert!(rate(Pattern::Regular, LONG) < 0.05);
    for rule in [DUO_16H, LRV, HOLIDAY] {
        assert_eq!(rate(Pattern::Regular, rule), 0.0);
        assert_eq!(rate(Pattern::FrequentSick, rule), 0.0);
        assert_eq!(rate(Pattern::ChronicLate, rule), 0.0);
    }
    for p in Pattern::ALL {
        if p != Pattern::LongTermUnexplained {
            assert_eq!(rate(p, LRV), 0.0, "{p:?}");
        }
        // Unexplained hours come from skipping; a holiday absentee who
        // takes two days before and one after a vakantie reaches 16 too.
        if !matches!(
            p,
            Pattern::Skipper | Pattern::HolidayAbsence | Pattern::LongTermUnexplained
        ) {
            assert_eq!(rate(p, DUO_16H), 0.0, "{p:?}");
        }
    }
}

#[test]
fn records_carry_magister_codes_of_the_preset() {
    let cal = calendar();
    let s = school(&cal, 2_000, 2025);
    let mut seen: BTreeSet<MagisterCode> = BTreeSet::new();
    for (i, regs) in s.registrations.iter().enumerate() {
        let student = &s.students[i];
        for (rec, reg) in s.records(&cal, i).zip(regs) {
            assert_eq!(rec.student, student.id);
            assert_eq!(rec.to_registration(&cal), Some(*reg));
            assert_eq!(rec.note, None);
            match &rec.code {
                None => assert_eq!(rec.category, Category::Present),
                Some(code) => {
                    let code = MagisterCode::parse(code).expect("a preset code");
                    assert_eq!(code.category(), rec.category);
                    seen.insert(code);
                }
            }
            if matches!(
                rec.category,
                Category::LateExcused | Category::LateUnexcused
            ) {
                assert!((3..=20).contains(&rec.minutes_late), "{rec:?}");
            } else {
                assert_eq!(rec.minutes_late, 0);
            }
            if rec.code.as_deref() == Some("ZH") {
                // Ziek naar huis: present earlier that day.
                assert!(regs.iter().any(|r| r.day == reg.day
                    && r.lesson < reg.lesson
                    && r.category.is_attended()));
            }
        }
    }
    assert_eq!(seen.len(), MagisterCode::ALL.len(), "seen {seen:?}");
}

#[test]
fn roster_is_a_plausible_school() {
    let cal = demo_calendar().expect("demo calendar");
    let s = school(&cal, 2_000, 2025);
    let ids: Vec<u64> = s
        .students
        .iter()
        .map(|st| st.id.as_str().parse().expect("numeric id"))
        .collect();
    assert_eq!(
        ids,
        (FIRST_STUDENT_ID..FIRST_STUDENT_ID + 2_000).collect::<Vec<_>>()
    );

    let mentors = s.mentors();
    let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for st in &s.students {
        *sizes.entry(st.class.as_str()).or_default() += 1;
        assert!(st.name.split(' ').count() >= 2, "{}", st.name);
        // The mentor of the student's class.
        assert_eq!(st.mentor, format!("mentor_{}", st.class.to_lowercase()));
        assert!(mentors
            .iter()
            .any(|(u, classes)| *u == st.mentor && classes.contains(&st.class)));
        // 12–18 during the school year, older in a higher leerjaar.
        let leerjaar: i32 = st.class[..1].parse().expect("leerjaar digit");
        assert!((1..=6).contains(&leerjaar));
        let age_at_end = age(st.date_of_birth, ymd(2026, 7, 3));
        assert!(
            (12..=18).contains(&age_at_end),
            "{} {}",
            st.class,
            st.date_of_birth
        );
        assert!((leerjaar + 11..=leerjaar + 13).contains(&age_at_end));
    }
    assert_eq!(mentors.len(), sizes.len(), "one mentor per class");
    let mean = 2_000.0 / sizes.len() as f64;
    assert!((24.0..=30.0).contains(&mean), "mean class size {mean}");
    assert!(sizes.values().all(|&n| (20..=34).contains(&n)), "{sizes:?}");
    assert!(sizes.contains_key("1A") && sizes.keys().any(|c| c.starts_with('6')));
    let accounts = s.mentor_accounts();
    assert!(accounts.iter().all(|m| m.display_name.contains(' ')));
    let names: BTreeSet<_> = s.students.iter().map(|st| st.name.as_str()).collect();
    assert!(names.len() > 1_500, "names vary: {}", names.len());
    assert!(names
        .iter()
        .any(|n| n.contains(" van ") || n.contains(" de ")));
}

fn age(born: chrono::NaiveDate, on: chrono::NaiveDate) -> i32 {
    let mut years = on.year() - born.year();
    if (on.month(), on.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    years
}

#[test]
fn short_calendars_still_give_every_pattern_a_full_schedule() {
    // From a single school day to a few months: no pattern may panic or
    // leave a lesson out when its events do not fit.
    for days in [0u64, 1, 2, 4, 8, 15, 40, 70, 120] {
        let mut year = common::year_2025_2026();
        year.last_day = year.first_day + chrono::Days::new(days);
        year.free_days.retain(|f| f.first <= year.last_day);
        let cal = Calendar::new(vec![year]).expect("valid calendar");
        let s = school(&cal, 200, days);
        let expected = expected_schedule(&cal, cal.len());
        for regs in &s.registrations {
            assert_eq!(shape(regs), expected, "{days} days");
        }
    }
}
