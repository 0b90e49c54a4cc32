//! `GET /meldingen`: the DUO work, the meldingen and the afstemmingen, grouped by student.

use std::sync::Arc;

use aanwezig_domain::explain::date_nl;
use aanwezig_domain::{Calendar, MeldingDraft, MeldingStatus, Student};
use aanwezig_storage::AuditAction;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use chrono::NaiveDate;
use serde::Deserialize;

use super::access::shown_to_readers;
use super::format::{due, period, Due};
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::guard::ReadMeldingen;
use crate::layout::{section, Layout};
use crate::state::AppState;
use aanwezig_app::permission::{self, Permission};

/// One line under a student in the list: an open duty, a concept, a
/// covered signal, a melding or an afstemming.
#[derive(Clone)]
struct WorkRow {
    /// What it is, in words ("Nog te melden", "Vervolg op melding nr. 3").
    what: String,
    /// The melding to link to, with its DUO number once entered.
    melding: Option<i64>,
    duo_number: String,
    kind: &'static str,
    period: String,
    due: Option<Due>,
    /// An open duty: its signal, for the buttons.
    duty: Option<DutyButtons>,
    /// The afstemming's text (with whom, why).
    note: String,
}

impl WorkRow {
    /// A signal that needs nothing more: covered by a melding or settled
    /// with leerplicht.
    fn handled(what: String, sig: &aanwezig_domain::duo_work::DuoSignal, note: String) -> WorkRow {
        WorkRow {
            what,
            melding: None,
            duo_number: String::new(),
            kind: sig.kind().label_nl(),
            period: period(sig.begin, sig.end),
            due: None,
            duty: None,
            note,
        }
    }
}

#[derive(Clone)]
struct DutyButtons {
    rule: &'static str,
    fired: String,
    /// The open melding a vervolg follows.
    vervolg_of: Option<i64>,
}

/// The DUO work of one student in the list.
#[derive(Clone)]
struct StudentGroup {
    student: String,
    name: String,
    class: String,
    /// "2 te doen, 1 te laat".
    summary: String,
    rows: Vec<WorkRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "meldingen.html")]
pub(super) struct ListPage {
    layout: Layout,
    manage: bool,
    groups: Vec<StudentGroup>,
    /// The work to do (open duties and concepts) and how much is late.
    todo: usize,
    overdue: usize,
    students_with_work: usize,
    /// A confirmation after a save.
    notice: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    afgestemd: Option<String>,
}

/// "3 te doen, waarvan 1 te laat" for a student's work.
fn summary_nl(todo: usize, overdue: usize) -> String {
    match (todo, overdue) {
        (0, _) => "niets te doen".to_owned(),
        (t, 0) => format!("{t} te doen"),
        (t, o) => format!("{t} te doen, waarvan {o} te laat"),
    }
}

/// The rows of one student's work, for a reader who manages meldingen
/// (`manage`) or only reads the sent ones.
fn work_rows(
    w: &aanwezig_domain::duo_work::StudentDuoWork,
    meldingen: &[(i64, &MeldingDraft)],
    afstemmingen: &[aanwezig_domain::duo_work::Afstemming],
    cal: Option<&Calendar>,
    today: NaiveDate,
    manage: bool,
) -> Vec<WorkRow> {
    use aanwezig_domain::duo_work::Todo;
    let melding = |id: i64| meldingen.iter().find(|(n, _)| *n == id).map(|(_, m)| *m);
    let mut rows = Vec::new();
    if manage {
        for t in &w.todo {
            match *t {
                Todo::Duty { signal, vervolg_of } => rows.push(WorkRow {
                    what: match vervolg_of {
                        Some(n) => format!(
                            "Nieuw signaal terwijl melding nr. {n} bij DUO loopt: vervolgmelding maken of afstemmen met leerplicht"
                        ),
                        None => "Nog te melden".to_owned(),
                    },
                    melding: None,
                    duo_number: String::new(),
                    kind: signal.kind().label_nl(),
                    period: period(signal.begin, signal.end),
                    due: Some(due(cal, signal.deadline, today, None)),
                    duty: Some(DutyButtons {
                        rule: signal.rule.as_str(),
                        fired: signal.fired_on.to_string(),
                        vervolg_of,
                    }),
                    note: String::new(),
                }),
                Todo::Concept { melding: id, .. } => {
                    if let Some(m) = melding(id) {
                        rows.push(WorkRow {
                            what: "Concept: afmaken en invoeren in het Verzuimloket".to_owned(),
                            melding: Some(id),
                            duo_number: String::new(),
                            kind: m.kind.label_nl(),
                            period: period(m.begin, m.end),
                            due: Some(due(cal, m.deadline, today, None)),
                            duty: None,
                            note: String::new(),
                        });
                    }
                }
            }
        }
    }
    let mut sent: Vec<&(i64, &MeldingDraft)> = meldingen
        .iter()
        .filter(|(_, m)| m.status != MeldingStatus::Concept)
        .filter(|(_, m)| manage || shown_to_readers(m.status))
        .collect();
    sent.sort_by_key(|(n, _)| *n);
    for (id, m) in sent {
        let covers = w.covered().filter(|(_, n)| n == id).count();
        rows.push(WorkRow {
            what: format!(
                "Melding, {}{}{}",
                m.status.label_nl(),
                m.follows
                    .map(|n| format!(", vervolg op nr. {n}"))
                    .unwrap_or_default(),
                if covers > 1 {
                    format!(" (dekt {covers} signalen)")
                } else {
                    String::new()
                }
            ),
            melding: Some(*id),
            duo_number: m.duo_number.clone().unwrap_or_default(),
            kind: m.kind.label_nl(),
            period: period(m.begin, m.end),
            due: Some(due(cal, m.deadline, today, m.registered_on)),
            duty: None,
            note: String::new(),
        });
    }
    if manage {
        for (sig, n) in w.covered() {
            rows.push(WorkRow::handled(
                format!(
                    "Signaal van {}: gedekt door melding nr. {n}",
                    date_nl(sig.fired_on)
                ),
                sig,
                String::new(),
            ));
        }
        for (sig, i) in w.afgestemd() {
            let Some(a) = afstemmingen.get(i) else {
                continue;
            };
            rows.push(WorkRow::handled(
                format!(
                    "Afgestemd met leerplicht: geen nieuwe melding (signaal van {})",
                    date_nl(sig.fired_on)
                ),
                sig,
                afstemming_nl(a),
            ));
        }
    }
    rows
}

/// "Op 12 november 2025 met J. de Vries: … (vastgelegd door vc)".
pub(super) fn afstemming_nl(a: &aanwezig_domain::duo_work::Afstemming) -> String {
    format!(
        "Op {} met {}{}: {} (vastgelegd door {})",
        date_nl(a.on),
        a.with_whom,
        a.melding
            .map(|n| format!(", over melding nr. {n}"))
            .unwrap_or_default(),
        a.why,
        a.by
    )
}

/// The DUO work of the students a reader sees, grouped per student
/// (crate::duo_work), with its totals.
#[derive(Clone)]
struct WorkList {
    groups: Vec<StudentGroup>,
    todo: usize,
    overdue: usize,
    students_with_work: usize,
}

async fn work_list(
    state: &AppState,
    user: &CurrentUser,
    manage: bool,
    today: NaiveDate,
) -> Result<WorkList, PageError> {
    let records = crate::duo_work::DuoRecords::load(state).await?;
    let by = records.by_student();
    let mut groups = Vec::new();
    let (mut todo, mut overdue, mut students_with_work) = (0, 0, 0);
    {
        let live = state.read()?;
        let cal = live.cal.as_ref();
        let in_school = |s: &Student| live.school.position(&s.id).is_some();
        for (s, w) in crate::duo_work::school_work(&live, &by, today, |s| {
            // A student who left: only the coordinators, who see every
            // student.
            if in_school(s) {
                user.may_for(Permission::ReadStudent, s)
            } else {
                manage
            }
        }) {
            let rows = work_rows(
                &w,
                by.meldingen(&s.id),
                by.afstemmingen(&s.id),
                cal,
                today,
                manage,
            );
            if rows.is_empty() {
                continue;
            }
            let (t, o) = if manage {
                (w.count(), w.overdue())
            } else {
                (0, 0)
            };
            todo += t;
            overdue += o;
            students_with_work += usize::from(t > 0);
            groups.push(StudentGroup {
                student: s.id.to_string(),
                name: s.name.clone(),
                class: s.class.clone(),
                summary: summary_nl(t, o),
                rows,
            });
        }
    }
    Ok(WorkList {
        groups,
        todo,
        overdue,
        students_with_work,
    })
}

pub(super) async fn list(
    State(state): State<AppState>,
    ReadMeldingen(user): ReadMeldingen,
    Query(q): Query<ListQuery>,
) -> Result<ListPage, PageError> {
    let manage = user.may(Permission::ManageMeldingen);
    let today = state.clock.today();
    // The list is the same for every coordinator, and per reader for the
    // others (their scope); computed once per state of the school.
    static LISTS: crate::pages::cache::Cache<WorkList> = crate::pages::cache::Cache::new();
    let name = if permission::school_wide(user.role(), Permission::ReadStudent) {
        format!("{manage}")
    } else {
        format!("{manage}|{}", user.user.username)
    };
    let (kept, stamp) = LISTS.lookup(&state, &name)?;
    let (list, ()) = tokio::try_join!(
        async {
            match kept {
                Some(list) => Ok(list),
                None => {
                    let list = Arc::new(work_list(&state, &user, manage, today).await?);
                    LISTS.keep(stamp, &name, &list);
                    Ok(list)
                }
            }
        },
        user.audit(&state, AuditAction::Read, None, "overzicht DUO-meldingen"),
    )?;
    let WorkList {
        groups,
        todo,
        overdue,
        students_with_work,
    } = WorkList::clone(&list);
    Ok(ListPage {
        layout: Layout::new(&user, section::MELDINGEN, "DUO-meldingen"),
        manage,
        groups,
        todo,
        overdue,
        students_with_work,
        notice: q
            .afgestemd
            .is_some()
            .then_some("De afstemming met leerplicht is vastgelegd. Het signaal staat nu onder de leerling als afgestemd."),
    })
}
