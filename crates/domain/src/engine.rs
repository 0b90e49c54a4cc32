//! The rules engine: rules.md §3 (episodes) and §4 (signals, step).
//!
//! [`Engine::evaluate`] walks one student's school days in order, once, and
//! raises every signal on its rising edge. It first folds the student's
//! lessons into one small summary per school day, then runs all rules over
//! those summaries with running state (episodes, prefix sums of unexplained
//! hours, the `duo_16h` reset date), so a whole school year costs a few
//! microseconds per student. Evidence is gathered only when a signal fires.
//!
//! Nothing here reads a clock: the last day to evaluate is a parameter.

use chrono::NaiveDate;

use crate::calendar::{Calendar, DayIdx};
use crate::category::CategorySet;
use crate::hours::Hours;
use crate::policy::{Policy, Presence};
use crate::registration::Registration;
use crate::signal::{RuleId, Signal, Step, Track};
use crate::timetable::{LessonSet, WeekSchedule};

/// What the engine needs to know beyond the registrations: facts from the
/// student's case. Empty for a student without a case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StudentContext {
    /// Dates of 3a conversations recorded in the case. `afmelding_persist`
    /// counts new episodes from the day after the later of the latest 3a
    /// conversation and the latest 3a signal (rules.md §4).
    pub conversations_3a: Vec<NaiveDate>,
    /// The student's timetable, where one is known: with implied presence
    /// it gives each day's scheduled lessons (rules.md §2).
    pub week: Option<WeekSchedule>,
}

/// The signals of one student, in the order they fired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evaluation {
    pub signals: Vec<Signal>,
}

/// Per-day summary of one student's lessons.
#[derive(Clone, Copy, Debug, Default)]
struct Day {
    /// Index of the day's first registration in the student's slice.
    first: u32,
    /// Number of registrations that day.
    n: u16,
    unexplained_minutes: u32,
    flags: u8,
}

const WHOLE_ABSENT: u8 = 1;
const CONTACT: u8 = 2;
const LRV: u8 = 4;
const AFMELDING: u8 = 8;
const HOLIDAY: u8 = 16;

/// Reusable buffers, so that evaluating many students allocates once per
/// thread rather than once per student.
#[derive(Debug, Default)]
pub struct Scratch {
    days: Vec<Day>,
    /// `prefix[i]` = unexplained minutes on days `0..i`.
    prefix: Vec<u32>,
    episode_starts: Vec<DayIdx>,
}

/// The rules of a policy on a calendar, ready to evaluate students.
#[derive(Debug)]
pub struct Engine<'a> {
    cal: &'a Calendar,
    policy: &'a Policy,
    /// Window starts per window length, for every school day.
    windows: Vec<(u16, Vec<DayIdx>)>,
}

impl<'a> Engine<'a> {
    /// Prepares the windows the policy uses. The policy must be valid.
    pub fn new(cal: &'a Calendar, policy: &'a Policy) -> Engine<'a> {
        let p = policy;
        let mut lengths = vec![
            p.afmelding_count.window_weeks,
            p.unexplained.window_weeks,
            p.duo_16h.window_weeks,
            p.duo_lrv.window_weeks,
            p.step.window_weeks,
            p.step.window_weeks_3a,
        ];
        lengths.sort_unstable();
        lengths.dedup();
        let windows = lengths
            .into_iter()
            .map(|n| (n, cal.window_starts(n)))
            .collect();
        Engine {
            cal,
            policy,
            windows,
        }
    }

    /// The calendar.
    pub fn calendar(&self) -> &'a Calendar {
        self.cal
    }

    /// The policy.
    pub fn policy(&self) -> &'a Policy {
        self.policy
    }

    /// The first school day of `window(d, n)`.
    pub fn window_start(&self, d: DayIdx, n: u16) -> DayIdx {
        match self.windows.iter().find(|(len, _)| *len == n) {
            Some((_, starts)) => starts[usize::from(d)],
            None => self.cal.window_start(d, n),
        }
    }

    fn starts(&self, n: u16) -> &[DayIdx] {
        self.windows
            .iter()
            .find(|(len, _)| *len == n)
            .map(|(_, s)| s.as_slice())
            .unwrap_or(&[])
    }

    /// Evaluates every rule on every school day up to and including `until`
    /// (the whole calendar when `None`). `regs` must be sorted by
    /// `(day, lesson)`; registrations after `until` are ignored.
    pub fn evaluate(
        &self,
        regs: &[Registration],
        ctx: &StudentContext,
        until: Option<DayIdx>,
    ) -> Evaluation {
        self.evaluate_with(&mut Scratch::default(), regs, ctx, until)
    }

    /// [`Engine::evaluate`] with caller-provided buffers.
    pub fn evaluate_with(
        &self,
        scratch: &mut Scratch,
        regs: &[Registration],
        ctx: &StudentContext,
        until: Option<DayIdx>,
    ) -> Evaluation {
        let mut out = Evaluation::default();
        if self.cal.is_empty() {
            return out;
        }
        let last_cal = to_idx(self.cal.len() - 1);
        let last = until.map_or(last_cal, |u| u.min(last_cal));
        self.summarise(scratch, regs, ctx, last);
        let conversations: Vec<DayIdx> = {
            let mut v: Vec<DayIdx> = ctx
                .conversations_3a
                .iter()
                .filter_map(|d| self.cal.on_or_before(*d))
                .collect();
            v.sort_unstable();
            v
        };
        Walk::new(self, scratch, regs, &conversations, &mut out.signals).run(last);
        out
    }

    /// The number of scheduled lessons on `day` that has the registrations
    /// `of_day` (rules.md §2).
    fn scheduled(&self, week: Option<&WeekSchedule>, day: DayIdx, of_day: &[Registration]) -> u16 {
        if self.policy.presence == Presence::Registered {
            return u16::try_from(of_day.len()).unwrap_or(u16::MAX);
        }
        let n = scheduled_lessons(
            self.cal,
            self.policy.presence,
            week,
            day,
            of_day.iter().map(|r| r.lesson),
        );
        u16::try_from(n).unwrap_or(u16::MAX)
    }

    /// Folds the registrations of days `0..=last` into day summaries and
    /// prefix sums.
    fn summarise(
        &self,
        s: &mut Scratch,
        regs: &[Registration],
        ctx: &StudentContext,
        last: DayIdx,
    ) {
        let p = self.policy;
        let n_days = usize::from(last) + 1;
        s.days.clear();
        s.days.resize(n_days, Day::default());
        let mut i = 0usize;
        while i < regs.len() {
            let day = regs[i].day;
            if day > last {
                break;
            }
            let first = i;
            let mut absent = 0u16;
            let mut not_excluded = false;
            let mut unexplained_absent = 0u16;
            let mut afmelding = false;
            let mut holiday = false;
            let mut minutes = 0u32;
            while i < regs.len() && regs[i].day == day {
                let r = regs[i];
                let c = r.category;
                if c.is_absence() {
                    absent += 1;
                    not_excluded |= !p.contact.excluded_categories.contains(c);
                    if p.unexplained_categories.contains(c) {
                        unexplained_absent += 1;
                    }
                }
                afmelding |= p.afmelding_categories.contains(c);
                holiday |= p.duo_holiday.categories.contains(c);
                minutes += p.unexplained_minutes(c, r.minutes, r.minutes_late);
                i += 1;
            }
            let n = u16::try_from(i - first).unwrap_or(u16::MAX);
            let scheduled = self.scheduled(ctx.week.as_ref(), day, &regs[first..i]);
            let whole = absent == scheduled;
            let mut flags = 0;
            if whole {
                flags |= WHOLE_ABSENT;
                if not_excluded {
                    flags |= CONTACT;
                }
                if unexplained_absent == scheduled {
                    flags |= LRV;
                }
            }
            if afmelding {
                flags |= AFMELDING;
            }
            if holiday {
                flags |= HOLIDAY;
            }
            s.days[usize::from(day)] = Day {
                first: u32::try_from(first).unwrap_or(u32::MAX),
                n,
                unexplained_minutes: minutes,
                flags,
            };
        }
        s.prefix.clear();
        s.prefix.reserve(n_days + 1);
        let mut acc = 0u32;
        s.prefix.push(0);
        for d in &s.days {
            acc += d.unexplained_minutes;
            s.prefix.push(acc);
        }
    }
}

/// The state of one walk over one student's days.
struct Walk<'e, 'a> {
    e: &'e Engine<'a>,
    days: &'e [Day],
    prefix: &'e [u32],
    episode_starts: &'e mut Vec<DayIdx>,
    regs: &'e [Registration],
    conversations: &'e [DayIdx],
    out: &'e mut Vec<Signal>,
    /// Index into `out` of the open signal of each level rule.
    open_contact: Option<usize>,
    open_count: Option<usize>,
    open_long: Option<usize>,
    open_unexplained: Option<usize>,
    open_lrv: Option<usize>,
}

impl<'e, 'a> Walk<'e, 'a> {
    fn new(
        e: &'e Engine<'a>,
        s: &'e mut Scratch,
        regs: &'e [Registration],
        conversations: &'e [DayIdx],
        out: &'e mut Vec<Signal>,
    ) -> Self {
        s.episode_starts.clear();
        Walk {
            e,
            days: &s.days,
            prefix: &s.prefix,
            episode_starts: &mut s.episode_starts,
            regs,
            conversations,
            out,
            open_contact: None,
            open_count: None,
            open_long: None,
            open_unexplained: None,
            open_lrv: None,
        }
    }

    fn minutes(&self, from: DayIdx, to: DayIdx) -> u32 {
        self.prefix[usize::from(to) + 1] - self.prefix[usize::from(from)]
    }

    fn run(mut self, last: DayIdx) {
        let e = self.e;
        let p = e.policy;
        let win_count = e.starts(p.afmelding_count.window_weeks);
        let win_unexpl = e.starts(p.unexplained.window_weeks);
        let win_16h = e.starts(p.duo_16h.window_weeks);
        let win_lrv = e.starts(p.duo_lrv.window_weeks);

        // Episodes.
        let mut episode_start: Option<DayIdx> = None;
        let mut count_from = 0usize; // first episode start inside the count window
                                     // afmelding_persist: the latest 3a signal, and how many new episodes
                                     // started after the anchor.
        let mut last_3a: Option<DayIdx> = None;
        let mut anchor: Option<DayIdx> = None;
        let mut new_episodes = 0u32;
        // duo_16h.
        let mut reset: Option<DayIdx> = None;
        let mut last_16h: Option<NaiveDate> = None;
        // duo_lrv: the first day of the current run of whole unexplained days.
        let mut lrv_run: Option<DayIdx> = None;

        for d in 0..=last {
            let di = usize::from(d);
            let day = self.days[di];

            // §3 episodes.
            let mut episode_started_today = false;
            if day.flags & AFMELDING != 0 {
                if episode_start.is_none() {
                    episode_start = Some(d);
                    self.episode_starts.push(d);
                    episode_started_today = true;
                }
            } else {
                episode_start = None;
            }
            let episode_len = episode_start.map_or(0, |s| u32::from(d - s) + 1);

            // contact (step 2).
            if p.contact.enabled {
                let level = day.flags & CONTACT != 0;
                self.level(RuleId::Contact, d, level, |w| {
                    let deadline = w.e.cal.add_school_days(d, p.contact.deadline_school_days);
                    let mut s = w.signal(RuleId::Contact, d, (d, d));
                    s.deadline = Some(deadline);
                    s.evidence = w.evidence(d, d, CategorySet::EMPTY);
                    s
                });
            }

            // afmelding_count (3a).
            let mut fired_3a = false;
            if p.afmelding_count.enabled {
                let from = win_count[di];
                while count_from < self.episode_starts.len()
                    && self.episode_starts[count_from] < from
                {
                    count_from += 1;
                }
                let n = u32::try_from(self.episode_starts.len() - count_from).unwrap_or(u32::MAX);
                let level = n >= p.afmelding_count.min_episodes;
                fired_3a |= self.level(RuleId::AfmeldingCount, d, level, |w| {
                    let mut s = w.signal(RuleId::AfmeldingCount, d, (from, d));
                    s.episodes = Some(n);
                    let starts: Vec<DayIdx> = w.episode_starts[count_from..].to_vec();
                    for st in starts {
                        s.evidence
                            .extend(w.evidence(st, st, p.afmelding_categories));
                    }
                    s
                });
            }

            // afmelding_long (3a).
            if p.afmelding_long.enabled {
                let level = episode_len >= p.afmelding_long.day;
                fired_3a |= self.level(RuleId::AfmeldingLong, d, level, |w| {
                    let start = episode_start.unwrap_or(d);
                    let mut s = w.signal(RuleId::AfmeldingLong, d, (start, d));
                    s.school_days = Some(episode_len);
                    s.evidence = w.evidence(start, d, p.afmelding_categories);
                    s
                });
            }

            // unexplained (3b).
            if p.unexplained.enabled {
                let from = win_unexpl[di];
                let sum = self.minutes(from, d);
                let level = sum > p.unexplained.min_hours.minutes();
                self.level(RuleId::Unexplained, d, level, |w| {
                    let mut s = w.signal(RuleId::Unexplained, d, (from, d));
                    s.hours = Some(Hours::from_minutes(sum));
                    s.evidence = w.evidence(from, d, p.unexplained_categories);
                    s
                });
            }

            // afmelding_persist (4a): counted from the day after the anchor.
            if p.afmelding_persist.enabled {
                let conv = self.conversations.iter().rev().find(|c| **c <= d).copied();
                // The later of the latest 3a conversation and the latest 3a
                // signal: a conversation held after a signal restarts the
                // count, and so does a new 3a signal after a conversation.
                let new_anchor = conv.max(last_3a);
                if new_anchor != anchor {
                    anchor = new_anchor;
                    new_episodes = 0;
                }
                if let Some(a) = anchor {
                    if episode_started_today && d > a {
                        new_episodes += 1;
                    }
                    let is_new = episode_start.is_some_and(|s| s > a);
                    let nth = episode_started_today
                        && d > a
                        && new_episodes == p.afmelding_persist.min_new_episodes;
                    let long = is_new && episode_len == p.afmelding_persist.day;
                    if nth || long {
                        let mut s = self.signal(RuleId::AfmeldingPersist, d, (a + 1, d));
                        s.closed_on = next(d, last);
                        if nth {
                            s.episodes = Some(new_episodes);
                            let starts: Vec<DayIdx> = self
                                .episode_starts
                                .iter()
                                .copied()
                                .filter(|st| *st > a)
                                .collect();
                            for st in starts {
                                s.evidence
                                    .extend(self.evidence(st, st, p.afmelding_categories));
                            }
                        } else {
                            let start = episode_start.unwrap_or(d);
                            s.school_days = Some(episode_len);
                            s.evidence = self.evidence(start, d, p.afmelding_categories);
                        }
                        self.out.push(s);
                    }
                }
            }

            // A 3a signal of today anchors the 4a count from tomorrow on.
            if fired_3a {
                last_3a = Some(d);
            }

            // duo_16h (4b): counting restarts the day after each melding.
            if p.duo_16h.enabled {
                let from = win_16h[di].max(reset.map_or(0, |r| r + 1));
                if from <= d {
                    let sum = self.minutes(from, d);
                    let date = self.e.cal.date(d);
                    let spaced = last_16h.is_none_or(|l| {
                        (date - l).num_days() >= i64::from(p.duo_16h.min_days_between)
                    });
                    if sum >= p.duo_16h.hours.minutes() && spaced {
                        let begin = (from..=d)
                            .find(|x| self.days[usize::from(*x)].unexplained_minutes > 0)
                            .unwrap_or(from);
                        let mut s = self.signal(RuleId::Duo16h, d, (win_16h[di], d));
                        s.closed_on = next(d, last);
                        s.hours = Some(Hours::from_minutes(sum));
                        s.begin = Some(begin);
                        s.end = Some(d);
                        s.deadline = Some(
                            self.e
                                .cal
                                .add_working_days(date, p.duo_16h.deadline_working_days),
                        );
                        s.evidence = self.evidence(begin, d, p.unexplained_categories);
                        self.out.push(s);
                        reset = Some(d);
                        last_16h = Some(date);
                    }
                }
            }

            // duo_lrv (4b): whole days unexplained throughout window(d', N)
            // for the previous school day d', and on d.
            if day.flags & LRV != 0 {
                if lrv_run.is_none() {
                    lrv_run = Some(d);
                }
            } else {
                lrv_run = None;
            }
            if p.duo_lrv.enabled {
                let n = p.duo_lrv.window_weeks;
                let level = match (lrv_run, d.checked_sub(1)) {
                    (Some(run), Some(prev)) => {
                        self.e.cal.window_complete(prev, n) && run <= win_lrv[usize::from(prev)]
                    }
                    _ => false,
                };
                self.level(RuleId::DuoLrv, d, level, |w| {
                    let run = lrv_run.unwrap_or(d);
                    let from = win_lrv[usize::from(d - 1)];
                    let mut s = w.signal(RuleId::DuoLrv, d, (from, d));
                    s.begin = Some(run);
                    s.end = Some(d);
                    s.school_days = Some(u32::from(d - run) + 1);
                    s.hours = Some(Hours::from_minutes(w.minutes(run, d)));
                    s.deadline = Some(
                        w.e.cal
                            .add_working_days(w.e.cal.date(d), p.duo_lrv.deadline_working_days),
                    );
                    s.evidence = w.evidence(from, d, p.unexplained_categories);
                    s
                });
            }

            // duo_holiday (4b).
            if p.duo_holiday.enabled && day.flags & HOLIDAY != 0 && self.e.cal.is_boundary_day(d) {
                let mut s = self.signal(RuleId::DuoHoliday, d, (d, d));
                s.closed_on = next(d, last);
                s.begin = Some(d);
                s.end = Some(d);
                s.hours = Some(Hours::from_minutes(day.unexplained_minutes));
                s.deadline = Some(
                    self.e
                        .cal
                        .add_working_days(self.e.cal.date(d), p.duo_holiday.deadline_working_days),
                );
                s.evidence = self.evidence(d, d, p.duo_holiday.categories);
                self.out.push(s);
            }
        }
    }

    fn open_slot(&mut self, rule: RuleId) -> &mut Option<usize> {
        match rule {
            RuleId::Contact => &mut self.open_contact,
            RuleId::AfmeldingCount => &mut self.open_count,
            RuleId::AfmeldingLong => &mut self.open_long,
            RuleId::Unexplained => &mut self.open_unexplained,
            _ => &mut self.open_lrv,
        }
    }

    /// Handles a level condition: a signal on the rising edge, closed on the
    /// first day the condition no longer holds. Returns whether it fired.
    fn level(
        &mut self,
        rule: RuleId,
        d: DayIdx,
        holds: bool,
        make: impl FnOnce(&Self) -> Signal,
    ) -> bool {
        let open = *self.open_slot(rule);
        match (open, holds) {
            (None, true) => {
                let s = make(self);
                self.out.push(s);
                let idx = self.out.len() - 1;
                *self.open_slot(rule) = Some(idx);
                true
            }
            (Some(i), false) => {
                self.out[i].closed_on = Some(d);
                *self.open_slot(rule) = None;
                false
            }
            _ => false,
        }
    }

    fn signal(&self, rule: RuleId, d: DayIdx, window: (DayIdx, DayIdx)) -> Signal {
        Signal {
            rule,
            fired_on: d,
            closed_on: None,
            window,
            hours: None,
            episodes: None,
            school_days: None,
            begin: None,
            end: None,
            deadline: None,
            evidence: Vec::new(),
        }
    }

    /// The registrations on days `from..=to` in `cats` (all when empty).
    fn evidence(&self, from: DayIdx, to: DayIdx, cats: CategorySet) -> Vec<u32> {
        let mut out = Vec::new();
        for d in from..=to {
            let day = self.days[usize::from(d)];
            for i in day.first..day.first + u32::from(day.n) {
                let r = self.regs[i as usize];
                if cats.is_empty() || cats.contains(r.category) {
                    out.push(i);
                }
            }
        }
        out
    }
}

fn next(d: DayIdx, last: DayIdx) -> Option<DayIdx> {
    (d < last).then(|| d + 1)
}

fn to_idx(i: usize) -> DayIdx {
    DayIdx::try_from(i).unwrap_or(DayIdx::MAX)
}

impl Evaluation {
    /// The step of the student on school day `d` (rules.md §4): the highest
    /// step among the signals open on `d` or fired within `window(d, 4)`
    /// (`window(d, 12)` for the 3a rules), both tracks at equal steps;
    /// `contact` counts only while it is open. The one step every page,
    /// list, filter, count and the API show.
    pub fn step_on(&self, engine: &Engine<'_>, d: DayIdx) -> Step {
        let sp = &engine.policy.step;
        let from = engine.window_start(d, sp.window_weeks);
        let from_3a = engine.window_start(d, sp.window_weeks_3a);
        self.signals
            .iter()
            .filter(|s| {
                if s.is_open_on(d) {
                    return true;
                }
                if s.rule == RuleId::Contact {
                    return false;
                }
                let is_3a = s.rule.step() == Step::new(3, Some(Track::A));
                let lo = if is_3a { from_3a } else { from };
                s.fired_on >= lo && s.fired_on <= d
            })
            .fold(Step::NONE, |acc, s| acc.max(s.rule.step()))
    }

    /// Signals open on school day `d`.
    pub fn open_on(&self, d: DayIdx) -> impl Iterator<Item = &Signal> {
        self.signals.iter().filter(move |s| s.is_open_on(d))
    }

    /// Signals that fired on days `from..=to`.
    pub fn fired_between(&self, from: DayIdx, to: DayIdx) -> impl Iterator<Item = &Signal> {
        self.signals
            .iter()
            .filter(move |s| s.fired_on >= from && s.fired_on <= to)
    }
}

/// The number of scheduled lessons on school day `day` (rules.md §2), given
/// the lesson numbers registered that day (each once): those, plus, with
/// implied presence, every other lesson of the day's lesson schedule.
///
/// `week` is the student's timetable, where one is known: its lessons for
/// the day replace the lesson schedule's (rules.md §2).
pub fn scheduled_lessons(
    cal: &Calendar,
    presence: Presence,
    week: Option<&WeekSchedule>,
    day: DayIdx,
    registered: impl Iterator<Item = u8>,
) -> usize {
    match presence {
        Presence::Registered => registered.count(),
        Presence::Implied => {
            let set = day_lessons(cal, week, day);
            let outside = registered.filter(|n| !set.contains(*n)).count();
            set.len() + outside
        }
    }
}

/// The lessons scheduled on `day` by the timetable, or else by the school
/// year's lesson schedule.
pub fn day_lessons(cal: &Calendar, week: Option<&WeekSchedule>, day: DayIdx) -> LessonSet {
    week.and_then(|w| w.lessons_on(cal.date(day)))
        .unwrap_or_else(|| {
            LessonSet::of(cal.lessons_of(day).iter().map(|l| l.number)).unwrap_or_default()
        })
}

/// Lessons attended and lessons scheduled on days `from..=to` (rules.md §4,
/// attendance rate). `authorized` counts as scheduled and not attended.
/// With implied presence every lesson of each day's lesson schedule is
/// scheduled (rules.md §2), and one without a registration is attended.
pub fn attendance(
    cal: &Calendar,
    presence: Presence,
    week: Option<&WeekSchedule>,
    regs: &[Registration],
    from: DayIdx,
    to: DayIdx,
) -> (u32, u32) {
    if from > to {
        return (0, 0);
    }
    let lo = regs.partition_point(|r| r.day < from);
    let hi = regs.partition_point(|r| r.day <= to);
    let slice = &regs[lo..hi];
    let not_attended = slice.iter().filter(|r| !r.category.is_attended()).count();
    let scheduled = match presence {
        Presence::Registered => slice.len(),
        Presence::Implied if usize::from(from) >= cal.len() => slice.len(),
        Presence::Implied => {
            // Each day's lessons once, walking the registrations alongside.
            let to = to.min(DayIdx::try_from(cal.len() - 1).unwrap_or(DayIdx::MAX));
            let mut rest = slice;
            (from..=to)
                .map(|d| {
                    let n = rest.partition_point(|r| r.day == d);
                    let (of_day, after) = rest.split_at(n);
                    rest = after;
                    scheduled_lessons(cal, presence, week, d, of_day.iter().map(|r| r.lesson))
                })
                .sum()
        }
    };
    (
        u32::try_from(scheduled - not_attended.min(scheduled)).unwrap_or(u32::MAX),
        u32::try_from(scheduled).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "engine_props.rs"]
mod props;
