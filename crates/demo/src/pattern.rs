//! Absence patterns: who misses which lessons, and why.
//!
//! Every student follows one [`Pattern`]. The [`Planner`] turns a pattern
//! into a list of events (a whole day sick, the last two lessons skipped,
//! ten minutes late…) on the school days of the *whole* calendar, using the
//! student's own RNG; only afterwards are the events up to `until` written
//! over the student's copy of the all-present template. Planning on the
//! whole calendar makes the data for an earlier `until` an exact prefix of
//! the data for a later one, which is what "the school as of today" needs.
//!
//! The patterns are shaped after the rules of rules.md §4, so the demo
//! exercises each of them; the comments say which rule a pattern aims at.
//! At most one event is placed on a school day, and afmelding episodes keep
//! a day without afmelding between them, so an intended number of episodes
//! is the number the engine counts.

use aanwezig_domain::{Category, DayIdx, Registration};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::codes::MagisterCode;
use crate::layout::{day_idx, Shape, Template};

/// The absence pattern a demo student follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pattern {
    /// Mostly present (≈ 70 %): now and then a short illness, a doctor's
    /// visit, a late arrival or forgotten books.
    Regular,
    /// Frequently sick (≈ 10 %): four afmelding episodes within eight
    /// teaching weeks (`afmelding_count`), most followed by two more within
    /// the same twelve weeks (`afmelding_persist`).
    FrequentSick,
    /// A long illness (≈ 3 %): 7 to 25 consecutive school days
    /// (`afmelding_long`), some later again (`afmelding_persist`).
    LongIllness,
    /// Skips lessons (≈ 8 %): unknown (A) or spijbelen (S), mostly the last
    /// lessons of a day or one favourite weekday (`unexplained`); one in
    /// five has a burst of more than 16 hours in three weeks (`duo_16h`).
    Skipper,
    /// Chronically late (≈ 5 %): late for the first lesson about two days a
    /// week, a few minutes each time (`unexplained` through `minutes_late`).
    ChronicLate,
    /// Absent without leave around holidays (≈ 2 %): the last school day
    /// before or the first after a vakantie (`duo_holiday`).
    HolidayAbsence,
    /// Long-term unexplained absence (≈ 0.5 %): whole days unknown for five
    /// to eight teaching weeks (`duo_lrv`).
    LongTermUnexplained,
    /// Present except for leave granted by the school (≈ 1.5 %): verlof (V)
    /// or a day's schorsing (GE). Raises no signal at all.
    LeaveOnly,
}

impl Pattern {
    /// Every pattern, in declaration order.
    pub const ALL: [Pattern; 8] = [
        Pattern::Regular,
        Pattern::FrequentSick,
        Pattern::LongIllness,
        Pattern::Skipper,
        Pattern::ChronicLate,
        Pattern::HolidayAbsence,
        Pattern::LongTermUnexplained,
        Pattern::LeaveOnly,
    ];

    /// A stable identifier (`frequent_sick`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Pattern::Regular => "regular",
            Pattern::FrequentSick => "frequent_sick",
            Pattern::LongIllness => "long_illness",
            Pattern::Skipper => "skipper",
            Pattern::ChronicLate => "chronic_late",
            Pattern::HolidayAbsence => "holiday_absence",
            Pattern::LongTermUnexplained => "long_term_unexplained",
            Pattern::LeaveOnly => "leave_only",
        }
    }

    /// A Dutch description, for the demo's own pages.
    pub fn label_nl(self) -> &'static str {
        match self {
            Pattern::Regular => "meestal aanwezig",
            Pattern::FrequentSick => "vaak kort ziek",
            Pattern::LongIllness => "langdurig ziek",
            Pattern::Skipper => "spijbelt lessen",
            Pattern::ChronicLate => "komt vaak te laat",
            Pattern::HolidayAbsence => "afwezig rond vakanties",
            Pattern::LongTermUnexplained => "langdurig ongeoorloofd afwezig",
            Pattern::LeaveOnly => "alleen verlof",
        }
    }
}

/// One change to a student's day: lessons `first..first + count` (positions
/// in the day's timetable, clamped to its length) get `code`.
#[derive(Clone, Copy, Debug)]
struct Event {
    day: DayIdx,
    first: u8,
    count: u8,
    code: MagisterCode,
    minutes_late: u16,
}

/// `count` for "every lesson of the day".
const WHOLE_DAY: u8 = u8::MAX;

/// A registration whose code differs from
/// [`MagisterCode::default_for`] its category: ZH, O, GE, U, HV.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct CodeMark {
    pub day: DayIdx,
    pub lesson: u8,
    pub code: MagisterCode,
}

/// Occupancy of a school day in the plan.
const FREE: u8 = 0;
/// The day holds an afmelding (reported sick/other) lesson.
const AFMELDING: u8 = 1;
/// The day holds some other event.
const BUSY: u8 = 2;

/// How much everyday noise a pattern gets on top of its own events, per
/// school year of 190 days (scaled to the calendar's length).
#[derive(Clone, Copy)]
struct Noise {
    /// Mean number of short sick episodes (1–5 days, 2.4 on average).
    sick_episodes: f64,
    /// Mean number of doctor's visits (one or two lessons, M).
    doctor: f64,
    /// Chance of one whole day reported for another reason (O).
    other_day: f64,
    /// Mean number of late arrivals (half L, half T).
    lates: f64,
    /// Mean number of forgotten books/homework or being sent out.
    forgot: f64,
    /// Chance of a few days' verlof (V).
    leave: f64,
    /// Chance of a day's schorsing (GE).
    schorsing: f64,
}

const REGULAR_NOISE: Noise = Noise {
    sick_episodes: 2.4,
    doctor: 0.6,
    other_day: 0.03,
    lates: 1.5,
    forgot: 3.0,
    leave: 0.04,
    schorsing: 0.006,
};

/// Plans the events of one student at a time; reused across students so
/// the per-day occupancy is allocated once per thread.
pub(crate) struct Planner<'s> {
    shape: &'s Shape,
    occ: Vec<u8>,
    events: Vec<Event>,
    /// Scale of per-year rates: school days / 190.
    years: f64,
}

impl<'s> Planner<'s> {
    pub fn new(shape: &'s Shape) -> Planner<'s> {
        // A calendar holds at most 65535 school days, so this is exact.
        let years = f64::from(u32::try_from(shape.days()).unwrap_or(u32::MAX)) / 190.0;
        Planner {
            shape,
            occ: vec![FREE; shape.days()],
            events: Vec::with_capacity(256),
            years,
        }
    }

    /// Plans one student's year.
    pub fn plan(&mut self, pattern: Pattern, rng: &mut ChaCha8Rng) {
        self.occ.fill(FREE);
        self.events.clear();
        if self.shape.days() == 0 {
            return;
        }
        // The pattern's own events go first, so everyday noise never takes
        // the days they need.
        match pattern {
            Pattern::Regular => self.noise(rng, REGULAR_NOISE),
            Pattern::FrequentSick => self.frequent_sick(rng),
            Pattern::LongIllness => self.long_illness(rng),
            Pattern::Skipper => self.skipper(rng),
            Pattern::ChronicLate => self.chronic_late(rng),
            Pattern::HolidayAbsence => self.holiday_absence(rng),
            Pattern::LongTermUnexplained => self.long_term_unexplained(rng),
            Pattern::LeaveOnly => self.leave_only(rng),
        }
    }

    /// Writes the planned events up to the template's last day over a copy
    /// of the template.
    pub fn materialize(&mut self, tpl: &Template) -> (Vec<Registration>, Vec<CodeMark>) {
        // `to_vec` of a `Copy` slice is one exactly sized allocation and a
        // memcpy: no growth, no per-element work.
        let mut regs = tpl.regs.clone();
        let mut marks = Vec::new();
        self.events.sort_unstable_by_key(|e| e.day);
        for e in &self.events {
            let d = usize::from(e.day);
            if d >= tpl.days() {
                break;
            }
            let (lo, hi) = (tpl.day_start[d], tpl.day_start[d + 1]);
            let start = (lo + usize::from(e.first)).min(hi);
            let end = (start + usize::from(e.count)).min(hi);
            let category = e.code.category();
            let keep_code = !e.code.is_default();
            for r in &mut regs[start..end] {
                r.category = category;
                r.minutes_late = e.minutes_late.min(r.minutes);
                if keep_code {
                    marks.push(CodeMark {
                        day: r.day,
                        lesson: r.lesson,
                        code: e.code,
                    });
                }
            }
        }
        (regs, marks)
    }

    // ----- placement -------------------------------------------------------

    fn n(&self) -> usize {
        self.shape.days()
    }

    fn lessons(&self, d: usize) -> u8 {
        self.shape.lessons[d]
    }

    fn is_afmelding(&self, d: Option<usize>) -> bool {
        d.and_then(|d| self.occ.get(d)) == Some(&AFMELDING)
    }

    /// Whether days `start..start + len` are all free and, for an afmelding,
    /// the days around them hold no afmelding (so the run is an episode of
    /// its own and does not merge with a neighbour).
    fn fits(&self, start: usize, len: usize, afmelding: bool) -> bool {
        let end = start + len;
        if len == 0 || end > self.n() || self.occ[start..end].iter().any(|&o| o != FREE) {
            return false;
        }
        !afmelding || !(self.is_afmelding(start.checked_sub(1)) || self.is_afmelding(Some(end)))
    }

    fn push(&mut self, d: usize, first: u8, count: u8, code: MagisterCode, minutes_late: u16) {
        let afm = matches!(
            code.category(),
            Category::ReportedSick | Category::ReportedOther
        );
        self.occ[d] = if afm { AFMELDING } else { BUSY };
        self.events.push(Event {
            day: day_idx(d),
            first,
            count,
            code,
            minutes_late,
        });
    }

    /// Whole days `start..start + len` with `code`, when they fit.
    fn whole_run(&mut self, start: usize, len: usize, code: MagisterCode) -> bool {
        let afm = is_afmelding_code(code);
        if !self.fits(start, len, afm) {
            return false;
        }
        for d in start..start + len {
            self.push(d, 0, WHOLE_DAY, code, 0);
        }
        true
    }

    /// Lessons `first..first + count` of day `d`, when the day is free.
    fn lessons_on(
        &mut self,
        d: usize,
        first: u8,
        count: u8,
        code: MagisterCode,
        late: u16,
    ) -> bool {
        if d >= self.n() || first >= self.lessons(d) || !self.fits(d, 1, is_afmelding_code(code)) {
            return false;
        }
        self.push(d, first, count, code, late);
        true
    }

    /// The last `count` lessons of day `d`.
    fn tail(&mut self, d: usize, count: u8, code: MagisterCode) -> bool {
        if d >= self.n() {
            return false;
        }
        let l = self.lessons(d);
        let count = count.min(l);
        self.lessons_on(d, l - count, count, code, 0)
    }

    /// A sick episode of `len` school days from `start`. One in six starts
    /// with "ziek naar huis" (ZH): present in the morning, sent home sick.
    fn sick_episode(&mut self, rng: &mut ChaCha8Rng, start: usize, len: usize) -> bool {
        if !self.fits(start, len, true) {
            return false;
        }
        let l = self.lessons(start);
        if l >= 3 && rng.gen_ratio(1, 6) {
            let home = rng.gen_range(1..l - 1);
            self.push(start, l - home, home, MagisterCode::ZH, 0);
        } else {
            self.push(start, 0, WHOLE_DAY, MagisterCode::Z, 0);
        }
        for d in start + 1..start + len {
            self.push(d, 0, WHOLE_DAY, MagisterCode::Z, 0);
        }
        true
    }

    /// Tries `f` on random days of `range` until it succeeds (a few tries:
    /// a crowded plan simply gets one event fewer).
    fn try_days(
        &mut self,
        rng: &mut ChaCha8Rng,
        range: std::ops::Range<usize>,
        mut f: impl FnMut(&mut Self, &mut ChaCha8Rng, usize) -> bool,
    ) -> bool {
        let range = range.start.min(self.n())..range.end.min(self.n());
        if range.is_empty() {
            return false;
        }
        for _ in 0..12 {
            let d = rng.gen_range(range.clone());
            if f(self, rng, d) {
                return true;
            }
        }
        false
    }

    fn count(&self, rng: &mut ChaCha8Rng, per_year: f64) -> usize {
        poisson(rng, per_year * self.years)
    }

    // ----- everyday noise --------------------------------------------------

    fn noise(&mut self, rng: &mut ChaCha8Rng, noise: Noise) {
        let n = self.n();
        for _ in 0..self.count(rng, noise.sick_episodes) {
            let len = pick(rng, &[(1, 30), (2, 30), (3, 20), (4, 12), (5, 8)]);
            self.try_days(rng, 0..n, |p, rng, d| p.sick_episode(rng, d, len));
        }
        if rng.gen_bool(noise.other_day.min(1.0)) {
            // A funeral or family matter, reported by the parents.
            self.try_days(rng, 0..n, |p, _, d| p.whole_run(d, 1, MagisterCode::O));
        }
        if rng.gen_bool(noise.leave.min(1.0)) {
            let len = rng.gen_range(1..=3);
            self.try_days(rng, 0..n, |p, _, d| p.whole_run(d, len, MagisterCode::V));
        }
        if rng.gen_bool(noise.schorsing.min(1.0)) {
            self.try_days(rng, 0..n, |p, _, d| p.whole_run(d, 1, MagisterCode::GE));
        }
        for _ in 0..self.count(rng, noise.doctor) {
            // Doctor, dentist, orthodontist: one or two lessons, M.
            let count = pick(rng, &[(1, 60), (2, 40)]);
            self.try_days(rng, 0..n, |p, rng, d| {
                let l = p.lessons(d);
                let first = rng.gen_range(0..l);
                p.lessons_on(d, first, count, MagisterCode::M, 0)
            });
        }
        for _ in 0..self.count(rng, noise.lates) {
            let code = if rng.gen_bool(0.5) {
                MagisterCode::L
            } else {
                MagisterCode::T
            };
            self.try_days(rng, 0..n, |p, rng, d| p.late(rng, d, code));
        }
        for _ in 0..self.count(rng, noise.forgot) {
            let code = pick(
                rng,
                &[
                    (MagisterCode::BV, 65),
                    (MagisterCode::HV, 30),
                    (MagisterCode::U, 5),
                ],
            );
            self.try_days(rng, 0..n, |p, rng, d| {
                let first = rng.gen_range(0..p.lessons(d));
                p.lessons_on(d, first, 1, code, 0)
            });
        }
    }

    /// A late arrival on day `d`: mostly the first lesson, otherwise the
    /// lesson after a break; 3–20 minutes, mostly few.
    fn late(&mut self, rng: &mut ChaCha8Rng, d: usize, code: MagisterCode) -> bool {
        let l = self.lessons(d);
        let first = if rng.gen_ratio(17, 20) || l < 5 {
            0
        } else {
            pick(rng, &[(2, 1), (4, 1)])
        };
        let minutes = match rng.gen_range(0..10) {
            0..=5 => rng.gen_range(3..=7),
            6..=8 => rng.gen_range(8..=12),
            _ => rng.gen_range(13..=20),
        };
        self.lessons_on(d, first, 1, code, minutes)
    }

    // ----- patterns --------------------------------------------------------

    /// afmelding_count: four episodes in two-week slots of eight teaching
    /// weeks; in 60 % two more follow in weeks 9–12, while the 3a condition
    /// still holds (no new rising edge), which is afmelding_persist's "2nd
    /// new episode". The others get better for a while after the talk.
    fn frequent_sick(&mut self, rng: &mut ChaCha8Rng) {
        let weeks = self.shape.weeks();
        let span = weeks.min(12);
        let w0 = rng.gen_range(0..=weeks - span);
        let slot = (span * 2 / 3 / 4).max(1);
        let continuing = rng.gen_bool(0.6);
        let episodes = if continuing { 6 } else { 4 };
        for k in 0..episodes {
            let days = self.shape.week_days(w0 + k * slot, w0 + (k + 1) * slot);
            let len = pick(rng, &[(1, 40), (2, 35), (3, 25)]);
            self.try_days(rng, days, |p, rng, d| p.sick_episode(rng, d, len));
        }
        // The rest of the year: more episodes for the continuing ones; the
        // others stay well for sixteen weeks after the cluster.
        let quiet = self.shape.week_days(w0, w0 + 16);
        let n = self.n();
        let extra = self.count(rng, if continuing { 3.0 } else { 1.5 });
        for _ in 0..extra {
            let len = pick(rng, &[(1, 40), (2, 35), (3, 25)]);
            self.try_days(rng, 0..n, |p, rng, d| {
                (continuing || !quiet.contains(&d)) && p.sick_episode(rng, d, len)
            });
        }
        self.noise(
            rng,
            Noise {
                sick_episodes: 0.0,
                ..REGULAR_NOISE
            },
        );
    }

    /// afmelding_long: one run of 7–25 school days; 40 % fall ill for long
    /// again later (a new 7th day: afmelding_persist), 30 % have two short
    /// episodes afterwards (the 2nd new episode: afmelding_persist).
    fn long_illness(&mut self, rng: &mut ChaCha8Rng) {
        let n = self.n();
        let len = match rng.gen_range(0..10) {
            0..=5 => rng.gen_range(7..=10),
            6..=8 => rng.gen_range(11..=15),
            _ => rng.gen_range(16..=25),
        };
        let len = len.min(n);
        let mut end = None;
        for _ in 0..12 {
            let start = rng.gen_range(0..=n - len);
            if self.sick_episode(rng, start, len) {
                end = Some(start + len);
                break;
            }
        }
        if let Some(end) = end {
            match rng.gen_range(0..10) {
                0..=3 => {
                    let again = rng.gen_range(7..=10);
                    self.try_days(rng, end + 15..n.saturating_sub(again), |p, rng, d| {
                        p.sick_episode(rng, d, again)
                    });
                }
                4..=6 => {
                    for k in 0..2 {
                        let from = end + 5 + k * 15;
                        let len = pick(rng, &[(1, 60), (2, 40)]);
                        self.try_days(rng, from..from + 15, |p, rng, d| {
                            p.sick_episode(rng, d, len)
                        });
                    }
                }
                _ => {}
            }
        }
        self.noise(
            rng,
            Noise {
                sick_episodes: 1.2,
                ..REGULAR_NOISE
            },
        );
    }

    /// unexplained (and duo_16h for the heavy ones): lessons skipped as A
    /// (unknown, 75 %) or S (spijbelen, once the school knows, 25 %).
    fn skipper(&mut self, rng: &mut ChaCha8Rng) {
        let n = self.n();
        let kind = rng.gen_range(0..20);
        let (tail_rate, weekday) = match kind {
            0..=8 => (0.12, None),
            9..=15 => (0.02, Some(pick(rng, &[(4u8, 45), (0, 35), (2, 20)]))),
            _ => {
                // Heavy: a burst of well over 16 hours in three teaching
                // weeks, so one window of four holds 16 (duo_16h); some
                // have a second one later.
                let weeks = self.shape.weeks();
                let bursts = if rng.gen_bool(0.4) { 2 } else { 1 };
                let w = rng.gen_range(1.min(weeks)..weeks.saturating_sub(3).max(2));
                self.skip_burst(rng, w);
                if bursts == 2 && w + 10 < weeks.saturating_sub(3) {
                    let w2 = rng.gen_range(w + 10..weeks - 3);
                    self.skip_burst(rng, w2);
                }
                (0.10, None)
            }
        };
        if let Some(wd) = weekday {
            // One favourite day: Friday afternoon, Monday morning, or
            // Wednesday's last lessons.
            for w in 0..self.shape.weeks() {
                if !rng.gen_bool(0.45) {
                    continue;
                }
                let mut days = self.shape.week_days(w, w + 1);
                let Some(d) = days.find(|&d| self.shape.weekday[d] == wd) else {
                    continue;
                };
                let code = skip_code(rng);
                if rng.gen_ratio(1, 25) {
                    self.whole_run(d, 1, code);
                } else if wd == 0 {
                    let count = rng.gen_range(1..=3);
                    self.lessons_on(d, 0, count, code, 0);
                } else {
                    let count = rng.gen_range(2..=3);
                    self.tail(d, count, code);
                }
            }
        }
        for d in 0..n {
            if rng.gen_bool(tail_rate) {
                let count = pick(rng, &[(1, 55), (2, 35), (3, 10)]);
                let code = skip_code(rng);
                self.tail(d, count, code);
            }
        }
        self.noise(
            rng,
            Noise {
                lates: 4.0,
                forgot: 6.0,
                ..REGULAR_NOISE
            },
        );
    }

    /// At least 20 lessons skipped in teaching weeks `w..w + 3`.
    fn skip_burst(&mut self, rng: &mut ChaCha8Rng, w: usize) {
        let days: Vec<usize> = self.shape.week_days(w, w + 3).collect();
        let mut skipped = 0u32;
        let mut order = days;
        // Skipping clusters in the later weeks of a burst: visit days in a
        // random order until enough lessons are gone.
        rand::seq::SliceRandom::shuffle(order.as_mut_slice(), rng);
        for d in order {
            if skipped >= 20 {
                break;
            }
            let code = skip_code(rng);
            let l = self.lessons(d);
            if rng.gen_ratio(1, 4) {
                if self.whole_run(d, 1, code) {
                    skipped += u32::from(l);
                }
            } else {
                let count = rng.gen_range(2..=4).min(l);
                if self.tail(d, count, code) {
                    skipped += u32::from(count);
                }
            }
        }
    }

    /// unexplained through minutes_late: late about two days a week.
    fn chronic_late(&mut self, rng: &mut ChaCha8Rng) {
        for d in 0..self.n() {
            if rng.gen_bool(0.4) {
                let code = if rng.gen_ratio(3, 25) {
                    MagisterCode::T
                } else {
                    MagisterCode::L
                };
                self.late(rng, d, code);
            }
        }
        self.noise(
            rng,
            Noise {
                lates: 0.0,
                ..REGULAR_NOISE
            },
        );
    }

    /// duo_holiday: whole days A (not reported) or S (leave refused) on a
    /// holiday boundary day; three in ten leave a day earlier or come back
    /// a day later as well.
    fn holiday_absence(&mut self, rng: &mut ChaCha8Rng) {
        let boundaries = self.shape.boundary.len();
        if boundaries > 0 {
            let times = pick(rng, &[(1, 55), (2, 35), (3, 10)]);
            for _ in 0..times {
                let k = rng.gen_range(0..boundaries);
                let d = self.shape.boundary[k];
                let code = if rng.gen_ratio(13, 20) {
                    MagisterCode::A
                } else {
                    MagisterCode::S
                };
                if self.whole_run(d, 1, code) && rng.gen_bool(0.3) {
                    let next = if self.shape.before_break[k] {
                        d.checked_sub(1)
                    } else {
                        Some(d + 1)
                    };
                    if let Some(e) = next {
                        self.whole_run(e, 1, code);
                    }
                }
            }
        }
        self.noise(rng, REGULAR_NOISE);
    }

    /// duo_lrv: whole days A for five to eight teaching weeks, after two
    /// weeks of skipped lessons; half of them skip now and then afterwards.
    fn long_term_unexplained(&mut self, rng: &mut ChaCha8Rng) {
        let weeks = self.shape.weeks();
        let len = rng.gen_range(5..=8).min(weeks);
        let w = rng.gen_range(2.min(weeks - len)..=weeks - len);
        let from = self.shape.week_start[w];
        let offset = rng
            .gen_range(0..5)
            .min(self.shape.week_start[w + 1] - from - 1);
        let start = from + offset;
        // The same weekday `len` teaching weeks later, or the calendar end.
        let end = self
            .shape
            .week_days(w + len, w + len + 1)
            .nth(offset)
            .unwrap_or(self.shape.week_start[(w + len).min(weeks)]);
        self.whole_run(start, end - start, MagisterCode::A);
        for _ in 0..3 {
            let lead = start.saturating_sub(10)..start;
            self.try_days(rng, lead, |p, rng, d| {
                let count = rng.gen_range(2..=4);
                p.tail(d, count, MagisterCode::A)
            });
        }
        if rng.gen_bool(0.5) {
            for d in end..self.n() {
                if rng.gen_bool(0.08) {
                    let count = rng.gen_range(1..=3);
                    let code = skip_code(rng);
                    self.tail(d, count, code);
                }
            }
        }
        self.noise(
            rng,
            Noise {
                sick_episodes: 1.0,
                lates: 3.0,
                ..REGULAR_NOISE
            },
        );
    }

    /// No signal at all: verlof (V) for one to five days, half of them next
    /// to a holiday (leave granted for a family trip: authorised, so no
    /// duo_holiday), or a day's schorsing (GE).
    fn leave_only(&mut self, rng: &mut ChaCha8Rng) {
        let n = self.n();
        if rng.gen_bool(0.6) {
            let len = rng.gen_range(1..=5).min(n);
            let near_holiday = rng.gen_bool(0.5) && !self.shape.boundary.is_empty();
            if near_holiday {
                let k = rng.gen_range(0..self.shape.boundary.len());
                let d = self.shape.boundary[k];
                let start = if self.shape.before_break[k] {
                    (d + 1).saturating_sub(len)
                } else {
                    d
                };
                if !self.whole_run(start, len, MagisterCode::V) {
                    self.try_days(rng, 0..n, |p, _, d| p.whole_run(d, len, MagisterCode::V));
                }
            } else {
                self.try_days(rng, 0..n, |p, _, d| p.whole_run(d, len, MagisterCode::V));
            }
        } else {
            self.try_days(rng, 0..n, |p, _, d| p.whole_run(d, 1, MagisterCode::GE));
        }
    }
}

fn is_afmelding_code(code: MagisterCode) -> bool {
    matches!(
        code.category(),
        Category::ReportedSick | Category::ReportedOther
    )
}

fn skip_code(rng: &mut ChaCha8Rng) -> MagisterCode {
    if rng.gen_ratio(3, 4) {
        MagisterCode::A
    } else {
        MagisterCode::S
    }
}

/// A value from a table of `(value, weight)`.
fn pick<T: Copy>(rng: &mut ChaCha8Rng, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|t| t.1).sum();
    let mut x = rng.gen_range(0..total.max(1));
    for &(v, w) in table {
        if x < w {
            return v;
        }
        x -= w;
    }
    table[table.len() - 1].0
}

/// A Poisson-distributed count (Knuth's method: fine for the small means
/// used here).
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> usize {
    if mean <= 0.0 {
        return 0;
    }
    let limit = (-mean).exp();
    let mut k = 0;
    let mut p: f64 = rng.gen();
    while p > limit && k < 10_000 {
        k += 1;
        p *= rng.gen::<f64>();
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn poisson_mean_is_about_right() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let total: usize = (0..10_000).map(|_| poisson(&mut rng, 2.5)).sum();
        let mean = total as f64 / 10_000.0;
        assert!((2.4..2.6).contains(&mean), "{mean}");
    }

    #[test]
    fn pick_follows_weights() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let ones = (0..10_000)
            .filter(|_| pick(&mut rng, &[(1, 3), (2, 1)]) == 1)
            .count();
        assert!((7_200..7_800).contains(&ones), "{ones}");
    }
}
