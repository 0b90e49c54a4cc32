//! The DUO work of one student (issue 11, item 2): which DUO signals still
//! ask for a melding, which a melding covers, which were settled with
//! leerplicht, and the concepts still to be registered.
//!
//! Every page that counts DUO work (the Weekoverzicht, Mijn taken and its
//! feed, `/meldingen`, the dossier) asks [`student_work`], so the counts
//! agree. A DUO signal never disappears silently: it is exactly one of
//!
//! - **open**: no melding was made from it and nothing was settled; a duty
//!   with the signal's deadline. It is a **vervolg** when a melding about
//!   the same student is registered at DUO and still open there
//!   (`geregistreerd` or `in behandeling`): the coordinator then makes a
//!   vervolgmelding or settles it with leerplicht (seed 5b, "Leerplicht:
//!   afstemmen over DUO melding");
//! - **covered** by melding N: a melding was made from the signal (in any
//!   status: a concept is still work, see [`StudentDuoWork::todo`]);
//! - **afgestemd**: an [`Afstemming`] says leerplicht and the school agreed
//!   that no new melding is needed.
//!
//! Settling with leerplicht is offered only for a vervolg: without an open
//! melding at DUO there is nothing to agree on, and the law asks for the
//! melding.
//!
//! Pure: no I/O, no clock; "today" is a parameter.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::call::illness_words;
use crate::duo::{DuoFieldError, MeldingDraft, MeldingKind, MeldingStatus, SignalRef};
use crate::signal::RuleId;
use crate::student::StudentId;

/// The longest name of the person at leerplicht, in characters.
pub const MAX_WITH_WHOM: usize = 100;

/// The longest reason of an afstemming, in characters.
pub const MAX_WHY: usize = 200;

/// A DUO signal of a student, as the worklist needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DuoSignal {
    pub rule: RuleId,
    pub fired_on: NaiveDate,
    pub begin: NaiveDate,
    pub end: NaiveDate,
    /// The last day to report.
    pub deadline: NaiveDate,
}

impl DuoSignal {
    /// How meldingen and afstemmingen name this signal.
    pub fn reference(&self) -> SignalRef {
        SignalRef {
            rule: self.rule,
            fired_on: self.fired_on,
        }
    }

    /// The kind of melding the signal asks for.
    pub fn kind(&self) -> MeldingKind {
        MeldingKind::for_rule(self.rule).unwrap_or(MeldingKind::Overig)
    }
}

/// "Afgestemd met leerplicht: geen nieuwe melding" for one DUO signal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Afstemming {
    pub student: StudentId,
    /// The signal that needs no new melding.
    pub signal: SignalRef,
    /// The registered melding the signal follows, when known.
    pub melding: Option<i64>,
    /// The day school and leerplicht agreed.
    pub on: NaiveDate,
    /// The person at leerplicht.
    pub with_whom: String,
    /// Why no new melding is needed; never the nature of an illness.
    pub why: String,
    /// The username of who recorded it.
    pub by: String,
    pub recorded_at: DateTime<Utc>,
}

impl Afstemming {
    /// Every problem, per field (`datum`, `met_wie`, `waarom`), in Dutch.
    pub fn validate(&self, today: NaiveDate) -> Result<(), Vec<DuoFieldError>> {
        let mut errs = Vec::new();
        let err = |field: &str, msg: String| DuoFieldError {
            field: field.to_owned(),
            message_nl: msg,
        };
        if self.on > today {
            errs.push(err(
                "datum",
                "De datum van de afstemming ligt in de toekomst.".into(),
            ));
        }
        let who = self.with_whom.trim().chars().count();
        if who == 0 {
            errs.push(err(
                "met_wie",
                "Vul in met wie bij leerplicht u het heeft afgestemd.".into(),
            ));
        } else if who > MAX_WITH_WHOM {
            errs.push(err(
                "met_wie",
                format!("De naam is {who} tekens; hoogstens {MAX_WITH_WHOM}."),
            ));
        }
        let why = self.why.trim().chars().count();
        if why == 0 {
            errs.push(err(
                "waarom",
                "Vul in waarom geen nieuwe melding nodig is.".into(),
            ));
        } else if why > MAX_WHY {
            errs.push(err(
                "waarom",
                format!("De reden is {why} tekens; hoogstens {MAX_WHY}."),
            ));
        }
        let sick = illness_words(&self.why);
        if !sick.is_empty() {
            errs.push(err(
                "waarom",
                format!(
                    "Schrijf hier geen gezondheidsgegevens (\"{}\"): noem alleen wat school en leerplicht afspraken.",
                    sick.join("\", \"")
                ),
            ));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

/// What happened to a DUO signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handling {
    /// Still a duty; `vervolg_of` names the open registered melding it
    /// follows, if any.
    Open { vervolg_of: Option<i64> },
    /// A melding was made from it.
    Covered { melding: i64 },
    /// Settled with leerplicht: the afstemming at this index of the input.
    Afgestemd { index: usize },
}

/// One DUO signal and its handling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalWork {
    pub signal: DuoSignal,
    pub handling: Handling,
}

impl SignalWork {
    pub fn is_open(&self) -> bool {
        matches!(self.handling, Handling::Open { .. })
    }

    /// The registered melding this open duty follows.
    pub fn vervolg_of(&self) -> Option<i64> {
        match self.handling {
            Handling::Open { vervolg_of } => vervolg_of,
            _ => None,
        }
    }
}

/// One piece of DUO work to do: an open duty or a concept to register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Todo {
    Duty {
        signal: DuoSignal,
        vervolg_of: Option<i64>,
    },
    Concept {
        melding: i64,
        kind: MeldingKind,
        deadline: NaiveDate,
    },
}

impl Todo {
    pub fn deadline(&self) -> NaiveDate {
        match self {
            Todo::Duty { signal, .. } => signal.deadline,
            Todo::Concept { deadline, .. } => *deadline,
        }
    }

    pub fn kind(&self) -> MeldingKind {
        match self {
            Todo::Duty { signal, .. } => signal.kind(),
            Todo::Concept { kind, .. } => *kind,
        }
    }
}

/// The DUO work of one student.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StudentDuoWork {
    /// Every DUO signal once, earliest deadline first.
    pub signals: Vec<SignalWork>,
    /// The student's meldingen (any status), by id.
    pub meldingen: Vec<i64>,
    /// The open duties and the concepts, earliest deadline first.
    pub todo: Vec<Todo>,
    today: NaiveDate,
}

impl StudentDuoWork {
    /// The open duties, earliest deadline first.
    pub fn open(&self) -> impl Iterator<Item = &SignalWork> {
        self.signals.iter().filter(|s| s.is_open())
    }

    /// The signals a melding covers, with its id.
    pub fn covered(&self) -> impl Iterator<Item = (&DuoSignal, i64)> {
        self.signals.iter().filter_map(|s| match s.handling {
            Handling::Covered { melding } => Some((&s.signal, melding)),
            _ => None,
        })
    }

    /// The signals settled with leerplicht, with the afstemming's index.
    pub fn afgestemd(&self) -> impl Iterator<Item = (&DuoSignal, usize)> {
        self.signals.iter().filter_map(|s| match s.handling {
            Handling::Afgestemd { index } => Some((&s.signal, index)),
            _ => None,
        })
    }

    /// The work to do: open duties and concepts.
    pub fn count(&self) -> usize {
        self.todo.len()
    }

    /// The work whose deadline has passed (the deadline day is in time).
    pub fn overdue(&self) -> usize {
        self.todo
            .iter()
            .filter(|t| t.deadline() < self.today)
            .count()
    }

    /// The earliest deadline of the work to do.
    pub fn earliest(&self) -> Option<NaiveDate> {
        self.todo.first().map(Todo::deadline)
    }

    /// The open duty for this signal, if it is one.
    pub fn open_duty(&self, signal: SignalRef) -> Option<&SignalWork> {
        self.open().find(|s| s.signal.reference() == signal)
    }
}

/// Whether a melding in this status is registered at DUO and still open
/// there, so that a new signal follows it.
pub fn open_at_duo(status: MeldingStatus) -> bool {
    matches!(
        status,
        MeldingStatus::Geregistreerd | MeldingStatus::InBehandeling
    )
}

/// The DUO work of one student from their DUO signals, their meldingen
/// (`(id, draft)`, any status) and their afstemmingen.
pub fn student_work(
    signals: &[DuoSignal],
    meldingen: &[(i64, &MeldingDraft)],
    afstemmingen: &[Afstemming],
    today: NaiveDate,
) -> StudentDuoWork {
    // The melding a vervolg follows: the last one registered that is still
    // open at DUO.
    let open_melding = meldingen
        .iter()
        .filter(|(_, m)| open_at_duo(m.status))
        .max_by_key(|(id, m)| (m.registered_on, *id))
        .map(|(id, _)| *id);
    let mut seen = std::collections::HashSet::new();
    let mut work: Vec<SignalWork> = signals
        .iter()
        .filter(|sig| seen.insert(sig.reference()))
        .map(|sig| {
            let r = sig.reference();
            let handling = if let Some((id, _)) = meldingen
                .iter()
                .filter(|(_, m)| m.source == Some(r))
                .min_by_key(|(id, _)| *id)
            {
                Handling::Covered { melding: *id }
            } else if let Some(index) = afstemmingen.iter().position(|a| a.signal == r) {
                Handling::Afgestemd { index }
            } else {
                Handling::Open {
                    vervolg_of: open_melding,
                }
            };
            SignalWork {
                signal: *sig,
                handling,
            }
        })
        .collect();
    work.sort_by_key(|s| (s.signal.deadline, s.signal.fired_on, s.signal.rule));
    let mut todo: Vec<Todo> = work
        .iter()
        .filter_map(|s| match s.handling {
            Handling::Open { vervolg_of } => Some(Todo::Duty {
                signal: s.signal,
                vervolg_of,
            }),
            _ => None,
        })
        .chain(
            meldingen
                .iter()
                .filter(|(_, m)| m.status == MeldingStatus::Concept)
                .map(|(id, m)| Todo::Concept {
                    melding: *id,
                    kind: m.kind,
                    deadline: m.deadline,
                }),
        )
        .collect();
    todo.sort_by_key(Todo::deadline);
    let mut ids: Vec<i64> = meldingen.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    StudentDuoWork {
        signals: work,
        meldingen: ids,
        todo,
        today,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duo::{Reporter, SchoolLocation};
    use proptest::prelude::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn signal(rule: RuleId, fired: NaiveDate, deadline: NaiveDate) -> DuoSignal {
        DuoSignal {
            rule,
            fired_on: fired,
            begin: fired - chrono::Duration::days(20),
            end: fired,
            deadline,
        }
    }

    fn melding(
        source: Option<SignalRef>,
        status: MeldingStatus,
        deadline: NaiveDate,
    ) -> MeldingDraft {
        MeldingDraft {
            kind: MeldingKind::ZestienUur,
            student: StudentId::parse("1").unwrap(),
            student_name: "A".into(),
            date_of_birth: ymd(2010, 1, 1),
            begin: ymd(2025, 10, 1),
            end: ymd(2025, 10, 20),
            days: Vec::new(),
            late_arrivals: Vec::new(),
            all_lessons_missed: false,
            suspected_reason: String::new(),
            explanation: None,
            leerplicht_action: None,
            actions_taken: Vec::new(),
            reporter: Reporter::default(),
            school: SchoolLocation::default(),
            status,
            deadline,
            created_on: ymd(2025, 10, 20),
            registered_on: (status != MeldingStatus::Concept).then(|| ymd(2025, 10, 22)),
            history: Vec::new(),
            source,
            duo_number: None,
            contact_phone: String::new(),
            address: None,
            location_name: String::new(),
            follows: None,
        }
    }

    fn afstemming(signal: SignalRef) -> Afstemming {
        Afstemming {
            student: StudentId::parse("1").unwrap(),
            signal,
            melding: Some(1),
            on: ymd(2025, 11, 10),
            with_whom: "mevrouw Jansen".into(),
            why: "De lopende melding dekt deze weken; leerplicht heeft een gesprek gepland.".into(),
            by: "vc".into(),
            recorded_at: DateTime::<Utc>::from_timestamp(1_762_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn a_signal_is_open_covered_or_settled_and_a_vervolg_names_the_open_melding() {
        let today = ymd(2025, 11, 14);
        let first = signal(RuleId::Duo16h, ymd(2025, 10, 20), ymd(2025, 10, 27));
        let second = signal(RuleId::Duo16h, ymd(2025, 11, 3), ymd(2025, 11, 10));
        let lrv = signal(RuleId::DuoLrv, ymd(2025, 11, 7), ymd(2025, 11, 14));
        let holiday = signal(RuleId::DuoHoliday, ymd(2025, 11, 12), ymd(2025, 11, 19));
        let m1 = melding(
            Some(first.reference()),
            MeldingStatus::Geregistreerd,
            ymd(2025, 10, 27),
        );
        let a = afstemming(lrv.reference());
        let w = student_work(
            &[holiday, lrv, second, first],
            &[(1, &m1)],
            std::slice::from_ref(&a),
            today,
        );
        assert_eq!(w.signals.len(), 4);
        assert_eq!(w.covered().collect::<Vec<_>>(), vec![(&first, 1)]);
        assert_eq!(w.afgestemd().collect::<Vec<_>>(), vec![(&lrv, 0)]);
        let open: Vec<_> = w.open().map(|s| (s.signal, s.vervolg_of())).collect();
        assert_eq!(
            open,
            vec![(second, Some(1)), (holiday, Some(1))],
            "earliest deadline first"
        );
        assert_eq!(w.count(), 2);
        assert_eq!(w.overdue(), 1, "the 10 November deadline passed");
        assert_eq!(w.earliest(), Some(ymd(2025, 11, 10)));
        assert!(w.open_duty(second.reference()).is_some());
        assert!(w.open_duty(first.reference()).is_none());
    }

    #[test]
    fn no_vervolg_without_a_melding_open_at_duo_and_concepts_are_work() {
        let today = ymd(2025, 11, 14);
        let first = signal(RuleId::Duo16h, ymd(2025, 10, 20), ymd(2025, 10, 27));
        let second = signal(RuleId::Duo16h, ymd(2025, 11, 3), ymd(2025, 11, 10));
        let concept = melding(
            Some(first.reference()),
            MeldingStatus::Concept,
            ymd(2025, 10, 27),
        );
        let w = student_work(&[first, second], &[(7, &concept)], &[], today);
        assert_eq!(w.open().next().unwrap().vervolg_of(), None);
        assert_eq!(w.count(), 2, "the open duty and the concept");
        assert_eq!(
            w.todo[0],
            Todo::Concept {
                melding: 7,
                kind: MeldingKind::ZestienUur,
                deadline: ymd(2025, 10, 27)
            }
        );
        let closed = melding(None, MeldingStatus::Afgesloten, ymd(2025, 10, 27));
        let w = student_work(&[second], &[(8, &closed)], &[], today);
        assert_eq!(w.open().next().unwrap().vervolg_of(), None, "closed at DUO");
    }

    #[test]
    fn an_afstemming_needs_whom_why_a_past_date_and_no_health_details() {
        let today = ymd(2025, 11, 14);
        let r = SignalRef {
            rule: RuleId::Duo16h,
            fired_on: ymd(2025, 11, 3),
        };
        assert_eq!(afstemming(r).validate(today), Ok(()));
        let mut bad = afstemming(r);
        bad.with_whom = " ".into();
        bad.why = "Hij is ziek, griep".into();
        bad.on = ymd(2025, 11, 15);
        let fields: Vec<String> = bad
            .validate(today)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["datum", "met_wie", "waarom"]);
        bad.why = "x".repeat(MAX_WHY + 1);
        assert!(bad
            .validate(today)
            .unwrap_err()
            .iter()
            .any(|e| e.field == "waarom"));
    }

    fn any_signal() -> impl Strategy<Value = DuoSignal> {
        (0u8..3, 0i64..60, 0i64..10).prop_map(|(r, f, d)| {
            let rule = [RuleId::Duo16h, RuleId::DuoLrv, RuleId::DuoHoliday][r as usize];
            let fired = ymd(2025, 9, 1) + chrono::Duration::days(f);
            signal(rule, fired, fired + chrono::Duration::days(d))
        })
    }

    proptest! {
        #[test]
        fn every_signal_ends_up_in_exactly_one_place_and_counts_agree(
            signals in proptest::collection::vec(any_signal(), 0..12),
            made in proptest::collection::vec((0usize..12, 0u8..6), 0..6),
            settled in proptest::collection::vec(0usize..12, 0..4),
            today_off in 0i64..90,
        ) {
            let today = ymd(2025, 9, 1) + chrono::Duration::days(today_off);
            let statuses = [
                MeldingStatus::Concept,
                MeldingStatus::Geregistreerd,
                MeldingStatus::InBehandeling,
                MeldingStatus::Afgesloten,
                MeldingStatus::Ingetrokken,
                MeldingStatus::TerKennisgevingAangenomen,
            ];
            let drafts: Vec<MeldingDraft> = made
                .iter()
                .filter_map(|(i, s)| signals.get(*i).map(|sig| {
                    melding(Some(sig.reference()), statuses[*s as usize], sig.deadline)
                }))
                .collect();
            let with_ids: Vec<(i64, &MeldingDraft)> =
                drafts.iter().enumerate().map(|(i, d)| (i as i64 + 1, d)).collect();
            let afs: Vec<Afstemming> = settled
                .iter()
                .filter_map(|i| signals.get(*i).map(|s| afstemming(s.reference())))
                .collect();
            let w = student_work(&signals, &with_ids, &afs, today);
            let mut distinct: Vec<SignalRef> = signals.iter().map(DuoSignal::reference).collect();
            distinct.sort_by_key(|r| (r.fired_on, r.rule));
            distinct.dedup();
            // Every distinct signal exactly once.
            prop_assert_eq!(w.signals.len(), distinct.len());
            for r in &distinct {
                prop_assert_eq!(w.signals.iter().filter(|s| s.signal.reference() == *r).count(), 1);
            }
            let (open, covered, settled) = (w.open().count(), w.covered().count(), w.afgestemd().count());
            prop_assert_eq!(open + covered + settled, distinct.len());
            // Covered means a melding was made from it; settled an afstemming and no melding.
            for (s, id) in w.covered() {
                prop_assert_eq!(with_ids[(id - 1) as usize].1.source, Some(s.reference()));
            }
            for (s, i) in w.afgestemd() {
                prop_assert_eq!(afs[i].signal, s.reference());
                prop_assert!(!drafts.iter().any(|d| d.source == Some(s.reference())));
            }
            // The work: open duties plus concepts, sorted, counts agree.
            let concepts = drafts.iter().filter(|d| d.status == MeldingStatus::Concept).count();
            prop_assert_eq!(w.count(), open + concepts);
            prop_assert!(w.todo.windows(2).all(|p| p[0].deadline() <= p[1].deadline()));
            prop_assert_eq!(w.overdue(), w.todo.iter().filter(|t| t.deadline() < today).count());
            prop_assert_eq!(w.earliest(), w.todo.iter().map(Todo::deadline).min());
            prop_assert_eq!(w.meldingen.len(), drafts.len());
            // A vervolg only with a melding open at DUO.
            let any_open = drafts.iter().any(|d| open_at_duo(d.status));
            for s in w.open() {
                prop_assert_eq!(s.vervolg_of().is_some(), any_open);
            }
        }
    }
}
