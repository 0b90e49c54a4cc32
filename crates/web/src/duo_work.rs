//! The DUO work of the school, from the domain's one function
//! ([`aanwezig_domain::duo_work::student_work`]): the Weekoverzicht, Mijn
//! taken and its feed, `/meldingen` and the dossier all count with it, so
//! their counts agree.

use std::collections::HashMap;

use aanwezig_domain::duo_work::{student_work, Afstemming, DuoSignal, StudentDuoWork};
use aanwezig_domain::{MeldingDraft, MeldingKind, Student, StudentId};
use aanwezig_storage::MeldingFilter;
use chrono::NaiveDate;

use crate::error::PageError;
use crate::live::Live;
use crate::state::AppState;

/// One student's records: meldingen `(id, draft)` and afstemmingen.
type Records<'a> = (Vec<(i64, &'a MeldingDraft)>, Vec<Afstemming>);

/// What the store holds about DUO work: every melding and afstemming.
#[derive(Default)]
pub struct DuoRecords {
    pub meldingen: Vec<(i64, MeldingDraft)>,
    pub afstemmingen: Vec<(i64, Afstemming)>,
}

impl DuoRecords {
    /// Everything, from the store.
    pub async fn load(state: &AppState) -> Result<DuoRecords, PageError> {
        Ok(DuoRecords {
            meldingen: state.store.meldingen(&MeldingFilter::default()).await?,
            afstemmingen: state.store.afstemmingen(None).await?,
        })
    }

    /// The records of one student, from the store.
    pub async fn of_student(state: &AppState, id: &StudentId) -> Result<DuoRecords, PageError> {
        let filter = MeldingFilter {
            student: Some(id.clone()),
            ..MeldingFilter::default()
        };
        Ok(DuoRecords {
            meldingen: state.store.meldingen(&filter).await?,
            afstemmingen: state.store.afstemmingen(Some(id)).await?,
        })
    }

    /// The records per student.
    pub fn by_student(&self) -> ByStudent<'_> {
        let mut map: HashMap<&StudentId, Records<'_>> = HashMap::new();
        for (id, m) in &self.meldingen {
            map.entry(&m.student).or_default().0.push((*id, m));
        }
        for (_, a) in &self.afstemmingen {
            map.entry(&a.student).or_default().1.push(a.clone());
        }
        ByStudent(map)
    }
}

/// [`DuoRecords`] grouped by student.
pub struct ByStudent<'a>(HashMap<&'a StudentId, Records<'a>>);

impl ByStudent<'_> {
    /// The meldingen of a student.
    pub fn meldingen(&self, id: &StudentId) -> &[(i64, &MeldingDraft)] {
        self.0.get(id).map_or(&[], |e| e.0.as_slice())
    }

    /// The afstemmingen of a student, in the order the store gave them.
    pub fn afstemmingen(&self, id: &StudentId) -> &[Afstemming] {
        self.0.get(id).map_or(&[], |e| e.1.as_slice())
    }

    /// The students with a record (also those who left the school).
    pub fn students(&self) -> impl Iterator<Item = &StudentId> {
        self.0.keys().copied()
    }
}

/// The DUO signals of student `i` of the live school.
pub fn signals_of(live: &Live, i: usize) -> Vec<DuoSignal> {
    let (Some(cal), Some(eval)) = (live.cal.as_ref(), live.evaluations.get(i)) else {
        return Vec::new();
    };
    eval.signals
        .iter()
        .filter_map(|s| {
            let kind = MeldingKind::for_rule(s.rule)?;
            let (begin, end) = (s.begin?, s.end?);
            let end = cal.date(end);
            Some(DuoSignal {
                rule: s.rule,
                fired_on: cal.date(s.fired_on),
                begin: cal.date(begin),
                end,
                deadline: s.deadline.unwrap_or_else(|| {
                    cal.add_working_days(end, kind.deadline_working_days(&live.policy))
                }),
            })
        })
        .collect()
}

/// The DUO work of student `i` of the live school.
pub fn work_of(live: &Live, i: usize, records: &ByStudent<'_>, today: NaiveDate) -> StudentDuoWork {
    let Some(s) = live.school.students().get(i) else {
        return StudentDuoWork::default();
    };
    student_work(
        &signals_of(live, i),
        records.meldingen(&s.id),
        records.afstemmingen(&s.id),
        today,
    )
}

/// The DUO work of every student `keep` admits who has any signal or
/// melding, with the student (a student who left has only meldingen: the
/// name from the newest melding), earliest deadline first.
pub fn school_work(
    live: &Live,
    records: &ByStudent<'_>,
    today: NaiveDate,
    keep: impl Fn(&Student) -> bool,
) -> Vec<(Student, StudentDuoWork)> {
    let mut out = Vec::new();
    for (i, s) in live.school.students().iter().enumerate() {
        if !keep(s) {
            continue;
        }
        let w = work_of(live, i, records, today);
        if !w.signals.is_empty() || !w.meldingen.is_empty() {
            out.push((s.clone(), w));
        }
    }
    for id in records.students() {
        if live.school.position(id).is_some() {
            continue;
        }
        let ms = records.meldingen(id);
        let Some((_, last)) = ms.iter().max_by_key(|(n, _)| *n) else {
            continue;
        };
        let gone = Student {
            id: id.clone(),
            name: last.student_name.clone(),
            class: String::new(),
            mentor: String::new(),
            date_of_birth: last.date_of_birth,
            bsn: None,
            onderwijsnummer: None,
        };
        if !keep(&gone) {
            continue;
        }
        out.push((gone, student_work(&[], ms, records.afstemmingen(id), today)));
    }
    out.sort_by(|a, b| {
        (a.1.earliest().is_none(), a.1.earliest(), &a.0.name).cmp(&(
            b.1.earliest().is_none(),
            b.1.earliest(),
            &b.0.name,
        ))
    });
    out
}
