//! The worked examples of rules.md §6 and unit tests of every rule.

use chrono::NaiveDate;

use super::*;
use crate::calendar::tests::{example_calendar, ymd};
use crate::category::Category;

/// A student present in every lesson of every school day up to `until`,
/// except where `f` says otherwise for a (date, lesson).
pub(crate) fn student(
    cal: &Calendar,
    until: NaiveDate,
    f: impl Fn(NaiveDate, u8) -> Option<(Category, u16)>,
) -> Vec<Registration> {
    let mut out = Vec::new();
    for (i, date) in cal.school_days().iter().enumerate() {
        if *date > until {
            break;
        }
        for lesson in 1..=7u8 {
            let (category, minutes_late) = f(*date, lesson).unwrap_or((Category::Present, 0));
            out.push(Registration {
                day: DayIdx::try_from(i).unwrap(),
                minutes: 50,
                minutes_late,
                lesson,
                category,
            });
        }
    }
    out
}

fn whole_days(
    dates: &[NaiveDate],
    c: Category,
) -> impl Fn(NaiveDate, u8) -> Option<(Category, u16)> + '_ {
    move |d, _| dates.contains(&d).then_some((c, 0))
}

fn fired(cal: &Calendar, ev: &Evaluation, rule: RuleId) -> Vec<NaiveDate> {
    ev.signals
        .iter()
        .filter(|s| s.rule == rule)
        .map(|s| cal.date(s.fired_on))
        .collect()
}

/// Evaluates a full grid, and checks that its absences alone with
/// `presence = "implied"` give the same signals (rules.md §2).
fn run(cal: &Calendar, regs: &[Registration]) -> Evaluation {
    let policy = Policy::default();
    let full = Engine::new(cal, &policy).evaluate(regs, &StudentContext::default(), None);
    let implied_policy = Policy {
        presence: crate::policy::Presence::Implied,
        ..Policy::default()
    };
    let absences: Vec<Registration> = regs
        .iter()
        .copied()
        .filter(|r| r.category != Category::Present)
        .collect();
    let implied =
        Engine::new(cal, &implied_policy).evaluate(&absences, &StudentContext::default(), None);
    let lessons = |ev: &Evaluation, of: &[Registration]| -> Vec<(Signal, Vec<(DayIdx, u8)>)> {
        ev.signals
            .iter()
            .map(|s| {
                let keys = s.evidence.iter().map(|i| of[*i as usize].key()).collect();
                (
                    Signal {
                        evidence: Vec::new(),
                        ..s.clone()
                    },
                    keys,
                )
            })
            .collect()
    };
    assert_eq!(
        lessons(&full, regs),
        lessons(&implied, &absences),
        "absences only, presence implied"
    );
    full
}

#[test]
fn example_1_four_sick_reports_in_twelve_weeks() {
    let cal = example_calendar();
    let sick = [
        ymd(2025, 9, 2),
        ymd(2025, 9, 17),
        ymd(2025, 10, 2),
        ymd(2025, 10, 13),
    ];
    let regs = student(
        &cal,
        ymd(2025, 12, 19),
        whole_days(&sick, Category::ReportedSick),
    );
    let ev = run(&cal, &regs);
    assert_eq!(fired(&cal, &ev, RuleId::Contact), sick);
    assert_eq!(
        fired(&cal, &ev, RuleId::AfmeldingCount),
        [ymd(2025, 10, 13)]
    );
    let s = ev
        .signals
        .iter()
        .find(|s| s.rule == RuleId::AfmeldingCount)
        .unwrap();
    assert_eq!(s.episodes, Some(4));
    assert_eq!(
        s.evidence.len(),
        4 * 7,
        "all sick lessons of the four start days"
    );
    assert!(fired(&cal, &ev, RuleId::Unexplained).is_empty());
}

#[test]
fn example_2_seventh_school_day_sick() {
    let cal = example_calendar();
    let days: Vec<NaiveDate> = cal
        .school_days()
        .iter()
        .copied()
        .filter(|d| *d >= ymd(2025, 11, 3) && *d <= ymd(2025, 11, 14))
        .collect();
    let regs = student(
        &cal,
        ymd(2025, 12, 19),
        whole_days(&days, Category::ReportedSick),
    );
    let ev = run(&cal, &regs);
    assert_eq!(fired(&cal, &ev, RuleId::Contact), [ymd(2025, 11, 3)]);
    assert_eq!(fired(&cal, &ev, RuleId::AfmeldingLong), [ymd(2025, 11, 11)]);
    let long = ev
        .signals
        .iter()
        .find(|s| s.rule == RuleId::AfmeldingLong)
        .unwrap();
    assert_eq!(long.school_days, Some(7));
    // The episode ends on Mon 17 Nov, the first day present again.
    assert_eq!(long.closed_on.map(|d| cal.date(d)), Some(ymd(2025, 11, 17)));
}

#[test]
fn example_3_sixteen_hours_in_four_days() {
    let cal = example_calendar();
    let regs = student(&cal, ymd(2025, 12, 19), |d, l| {
        (d >= ymd(2025, 9, 8) && d <= ymd(2025, 9, 11) && l <= 4).then_some((Category::Unknown, 0))
    });
    let ev = run(&cal, &regs);
    assert_eq!(fired(&cal, &ev, RuleId::Unexplained), [ymd(2025, 9, 8)]);
    assert_eq!(fired(&cal, &ev, RuleId::Duo16h), [ymd(2025, 9, 11)]);
    let duo = ev
        .signals
        .iter()
        .find(|s| s.rule == RuleId::Duo16h)
        .unwrap();
    assert_eq!(duo.begin.map(|d| cal.date(d)), Some(ymd(2025, 9, 8)));
    assert_eq!(duo.end.map(|d| cal.date(d)), Some(ymd(2025, 9, 11)));
    assert_eq!(duo.hours, Some(Hours::from_hours(16)));
    assert_eq!(duo.deadline, Some(ymd(2025, 9, 18)));
    assert_eq!(duo.evidence.len(), 16);
    assert!(
        fired(&cal, &ev, RuleId::Contact).is_empty(),
        "never whole-day absent"
    );
}

#[test]
fn example_4_unknown_before_the_herfstvakantie() {
    let cal = example_calendar();
    let regs = student(
        &cal,
        ymd(2025, 12, 19),
        whole_days(&[ymd(2025, 10, 17)], Category::Unknown),
    );
    let ev = run(&cal, &regs);
    for rule in [RuleId::Contact, RuleId::Unexplained, RuleId::DuoHoliday] {
        assert_eq!(fired(&cal, &ev, rule), [ymd(2025, 10, 17)], "{rule}");
    }
    let duo = ev
        .signals
        .iter()
        .find(|s| s.rule == RuleId::DuoHoliday)
        .unwrap();
    assert_eq!(duo.deadline, Some(ymd(2025, 10, 24)));
    assert!(
        crate::explain::explain(duo, &cal, &Policy::default(), &regs).contains("herfstvakantie")
    );

    // The same before the studiedag of Mon 24 Nov gives no duo_holiday.
    let regs = student(
        &cal,
        ymd(2025, 12, 19),
        whole_days(&[ymd(2025, 11, 21)], Category::Unknown),
    );
    let ev = run(&cal, &regs);
    assert_eq!(fired(&cal, &ev, RuleId::Contact), [ymd(2025, 11, 21)]);
    assert_eq!(fired(&cal, &ev, RuleId::Unexplained), [ymd(2025, 11, 21)]);
    assert!(fired(&cal, &ev, RuleId::DuoHoliday).is_empty());
}

#[test]
fn example_5_authorised_leave_raises_nothing() {
    let cal = example_calendar();
    let week: Vec<NaiveDate> = (6..=10).map(|d| ymd(2025, 10, d)).collect();
    let regs = student(
        &cal,
        ymd(2025, 12, 19),
        whole_days(&week, Category::Authorized),
    );
    let ev = run(&cal, &regs);
    assert_eq!(ev.signals, []);
}

#[test]
fn duo_16h_restarts_counting_and_waits_seven_days() {
    let cal = example_calendar();
    // Unknown absence in lessons 1–4 every day from Mon 8 Sep for three weeks.
    let regs = student(&cal, ymd(2025, 12, 19), |d, l| {
        (d >= ymd(2025, 9, 8) && d <= ymd(2025, 9, 26) && l <= 4).then_some((Category::Unknown, 0))
    });
    let ev = run(&cal, &regs);
    // 16 h on Thu 11 Sep; counting restarts Fri 12 Sep, 16 h again on Wed 17
    // Sep, but the next melding waits until 7 days after the first: Thu 18
    // Sep, with 20 h. Then restart Fri 19 Sep → Wed 24 Sep is 16 h, but not
    // before Thu 25 Sep (7 days after 18 Sep), with 20 h.
    assert_eq!(
        fired(&cal, &ev, RuleId::Duo16h),
        [ymd(2025, 9, 11), ymd(2025, 9, 18), ymd(2025, 9, 25)]
    );
    let second = ev
        .signals
        .iter()
        .filter(|s| s.rule == RuleId::Duo16h)
        .nth(1)
        .unwrap();
    assert_eq!(second.hours, Some(Hours::from_hours(20)));
    assert_eq!(second.begin.map(|d| cal.date(d)), Some(ymd(2025, 9, 12)));
}

#[test]
fn duo_16h_counts_only_within_four_teaching_weeks() {
    let cal = example_calendar();
    // 3 unknown lessons every Monday: 3 h a week never reaches 16 h in 4 weeks.
    let regs = student(&cal, ymd(2025, 12, 19), |d, l| {
        (d.format("%a").to_string() == "Mon" && l <= 3).then_some((Category::Unknown, 0))
    });
    let ev = run(&cal, &regs);
    assert!(fired(&cal, &ev, RuleId::Duo16h).is_empty());
    assert_eq!(
        fired(&cal, &ev, RuleId::Unexplained).len(),
        1,
        "one open 3b signal the whole time"
    );
}

#[test]
fn late_arrival_counts_minutes() {
    let cal = example_calendar();
    let regs = student(&cal, ymd(2025, 9, 30), |d, l| {
        (d == ymd(2025, 9, 3) && l == 1).then_some((Category::LateUnexcused, 10))
    });
    let ev = run(&cal, &regs);
    let s = ev
        .signals
        .iter()
        .find(|s| s.rule == RuleId::Unexplained)
        .unwrap();
    assert_eq!(s.hours, Some(Hours::from_minutes(10)));
    assert_eq!(cal.date(s.fired_on), ymd(2025, 9, 3));
    // Four teaching weeks later the late arrival leaves the window.
    assert_eq!(s.closed_on.map(|d| cal.date(d)), Some(ymd(2025, 10, 1)));
}

#[test]
fn duo_lrv_after_more_than_four_weeks_of_whole_days() {
    let cal = example_calendar();
    let regs = student(&cal, ymd(2025, 12, 19), |d, _| {
        (d >= ymd(2025, 9, 1) && d <= ymd(2025, 10, 10)).then_some((Category::Unknown, 0))
    });
    let ev = run(&cal, &regs);
    // window(Fri 26 Sep, 4) = Mon 1 Sep .. Fri 26 Sep, all absent; Mon 29 Sep too.
    assert_eq!(fired(&cal, &ev, RuleId::DuoLrv), [ymd(2025, 9, 29)]);
    let s = ev
        .signals
        .iter()
        .find(|s| s.rule == RuleId::DuoLrv)
        .unwrap();
    assert_eq!(s.begin.map(|d| cal.date(d)), Some(ymd(2025, 9, 1)));
    assert_eq!(s.deadline, Some(ymd(2025, 10, 6)));
}

#[test]
fn duo_lrv_needs_a_complete_window() {
    let cal = example_calendar();
    // Absent from the very first day for exactly four weeks: window(d', 4) of
    // the last day is complete only at Fri 19 Sep, and on Mon 22 Sep the
    // student is back.
    let regs = student(&cal, ymd(2025, 12, 19), |d, _| {
        (d <= ymd(2025, 9, 19)).then_some((Category::Unknown, 0))
    });
    let ev = run(&cal, &regs);
    assert!(fired(&cal, &ev, RuleId::DuoLrv).is_empty());
}

#[test]
fn afmelding_persist_after_a_3a_signal() {
    let cal = example_calendar();
    let sick = [
        ymd(2025, 9, 2),
        ymd(2025, 9, 17),
        ymd(2025, 10, 2),
        ymd(2025, 10, 13), // 3a: afmelding_count
        ymd(2025, 11, 4),  // first new episode
        ymd(2025, 11, 19), // second new episode: 4a
    ];
    let regs = student(
        &cal,
        ymd(2025, 12, 19),
        whole_days(&sick, Category::ReportedSick),
    );
    let ev = run(&cal, &regs);
    assert_eq!(
        fired(&cal, &ev, RuleId::AfmeldingPersist),
        [ymd(2025, 11, 19)]
    );
    let s = ev
        .signals
        .iter()
        .find(|s| s.rule == RuleId::AfmeldingPersist)
        .unwrap();
    assert_eq!(s.episodes, Some(2));

    // A 3a conversation on 10 Nov restarts the count: only one new episode.
    let policy = Policy::default();
    let ctx = StudentContext {
        conversations_3a: vec![ymd(2025, 11, 10)],
        ..Default::default()
    };
    let ev = Engine::new(&cal, &policy).evaluate(&regs, &ctx, None);
    assert!(fired(&cal, &ev, RuleId::AfmeldingPersist).is_empty());
}

#[test]
fn afmelding_persist_when_a_new_episode_grows_long() {
    let cal = example_calendar();
    let mut sick = vec![
        ymd(2025, 9, 2),
        ymd(2025, 9, 17),
        ymd(2025, 10, 2),
        ymd(2025, 10, 13),
    ];
    sick.extend(
        cal.school_days()
            .iter()
            .copied()
            .filter(|d| *d >= ymd(2025, 11, 3) && *d <= ymd(2025, 11, 12)),
    );
    let regs = student(
        &cal,
        ymd(2025, 12, 19),
        whole_days(&sick, Category::ReportedSick),
    );
    let ev = run(&cal, &regs);
    // 3 Nov .. 11 Nov is the 7th school day of the new episode. afmelding_long
    // fires the same day (a new 3a signal) but the episode is new to the 4a
    // count because it started after the previous 3a signal.
    assert_eq!(
        fired(&cal, &ev, RuleId::AfmeldingPersist),
        [ymd(2025, 11, 11)]
    );
}

#[test]
fn step_follows_the_highest_recent_signal() {
    let cal = example_calendar();
    let policy = Policy::default();
    let engine = Engine::new(&cal, &policy);
    let regs = student(&cal, ymd(2025, 12, 19), |d, l| {
        (d >= ymd(2025, 9, 8) && d <= ymd(2025, 9, 11) && l <= 4).then_some((Category::Unknown, 0))
    });
    let ev = engine.evaluate(&regs, &StudentContext::default(), None);
    let on = |y, m, d| {
        ev.step_on(&engine, cal.index(ymd(y, m, d)).unwrap())
            .to_string()
    };
    assert_eq!(on(2025, 9, 5), "1");
    assert_eq!(on(2025, 9, 8), "3b");
    assert_eq!(on(2025, 9, 11), "4b");
    assert_eq!(on(2025, 10, 8), "4b", "still within window(d, 4)");
    assert_eq!(
        on(2025, 10, 9),
        "1",
        "the 4b signal of 11 Sep has left the window"
    );
}

/// rules.md §4 (updated): a signal still open counts however long ago it
/// fired (a 3b that keeps holding), and `contact` counts only while open.
#[test]
fn step_counts_open_signals_and_contact_only_while_open() {
    let cal = example_calendar();
    let policy = Policy::default();
    let engine = Engine::new(&cal, &policy);
    // One unknown lesson every Monday: the 3b condition holds all autumn.
    let weekly = student(&cal, ymd(2025, 12, 19), |d, l| {
        (chrono::Datelike::weekday(&d) == chrono::Weekday::Mon && l == 1)
            .then_some((Category::Unknown, 0))
    });
    let ev = engine.evaluate(&weekly, &StudentContext::default(), None);
    let at = |ev: &crate::engine::Evaluation, y, m, d| {
        ev.step_on(&engine, cal.index(ymd(y, m, d)).unwrap())
            .to_string()
    };
    let first = ev
        .signals
        .iter()
        .find(|s| s.rule == RuleId::Unexplained)
        .expect("a 3b signal");
    assert_eq!(cal.date(first.fired_on), ymd(2025, 8, 25));
    assert!(first.is_open_on(cal.index(ymd(2025, 12, 1)).unwrap()));
    assert_eq!(at(&ev, 2025, 12, 1), "3b", "open since 25 August");

    // A day reported sick by the parents: contact on that day only.
    let sick = student(
        &cal,
        ymd(2025, 12, 19),
        whole_days(&[ymd(2025, 9, 10)], Category::ReportedSick),
    );
    let ev = engine.evaluate(&sick, &StudentContext::default(), None);
    assert!(ev.signals.iter().any(|s| s.rule == RuleId::Contact));
    assert_eq!(at(&ev, 2025, 9, 10), "2", "the call is open");
    assert_eq!(at(&ev, 2025, 9, 11), "1", "back at school: no call due");
}

#[test]
fn evaluating_until_a_day_ignores_later_registrations() {
    let cal = example_calendar();
    let regs = student(
        &cal,
        ymd(2025, 12, 19),
        whole_days(&[ymd(2025, 9, 10)], Category::Unknown),
    );
    let policy = Policy::default();
    let engine = Engine::new(&cal, &policy);
    let until = cal.index(ymd(2025, 9, 9)).unwrap();
    let ev = engine.evaluate(&regs, &StudentContext::default(), Some(until));
    assert_eq!(ev.signals, []);
}

#[test]
fn explanations_are_dutch_sentences_with_the_figures() {
    let cal = example_calendar();
    let regs = student(&cal, ymd(2025, 12, 19), |d, l| {
        (d >= ymd(2025, 9, 8) && d <= ymd(2025, 9, 11) && l <= 4).then_some((Category::Unknown, 0))
    });
    let policy = Policy::default();
    let ev = Engine::new(&cal, &policy).evaluate(&regs, &StudentContext::default(), None);
    let duo = ev
        .signals
        .iter()
        .find(|s| s.rule == RuleId::Duo16h)
        .unwrap();
    let text = crate::explain::explain(duo, &cal, &policy, &regs);
    assert!(
        text.starts_with("16 uur zonder geldige reden afwezig van maandag 8 september 2025"),
        "{text}"
    );
    assert!(text.contains("donderdag 18 september 2025"), "{text}");
    let report = crate::explain::SignalReport::new(
        duo,
        "1001",
        &cal,
        &policy,
        &regs,
        cal.index(ymd(2025, 9, 11)).unwrap(),
    );
    assert_eq!(report.evidence.len(), 16);
    assert_eq!(report.evidence[0].date, ymd(2025, 9, 8));
    assert!(report.open);
}
