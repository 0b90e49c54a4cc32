//! DUO meldingen: drafts from signals and the case, validation, print and
//! export for the Verzuimloket, status, deadlines.
//!
//! - `GET /meldingen`: grouped by student (issue 11), from the one DUO work
//!   function ([`crate::duo_work`]): for the coordinators first the work
//!   to do (open duties, a *vervolg* naming the melding it follows, and
//!   concepts; earliest deadline first, also across students), then the
//!   meldingen, the signals a melding covers and the afstemmingen with
//!   leerplicht; each deadline of 5 working days, overdue ones flagged and
//!   counted. The leerplichtambtenaar sees only the meldingen that were
//!   sent (any status after concept) of students in scope, read only; a
//!   student whose only sent melding was withdrawn is out of scope.
//! - A vervolg is handled by a vervolgmelding (`POST /meldingen/nieuw` with
//!   `vervolg`, the earlier melding, which must be open at DUO) or by
//!   "afgestemd met leerplicht" ([`super::afstemming`]).
//! - `POST /meldingen/nieuw`: a draft from a signal (one per signal: a
//!   second request goes to the existing draft) or, from the form of
//!   `GET /meldingen/nieuw?leerling=…`, for a period by hand. The reporter
//!   comes from the signed-in user, BRIN and vestiging from the school
//!   settings, the actions taken from the student's case.
//! - `GET/POST /meldingen/{n}`: the draft; saving always stores it (it is
//!   work in progress) and shows the domain's field errors next to the
//!   fields. `POST /meldingen/{n}/status` registers (after validating
//!   against the registrations as they are now: illness never reaches DUO)
//!   or moves a sent melding along DUO's statuses.
//! - `GET /meldingen/{n}/afdruk` and `/meldingen/{n}/export.txt`: the form
//!   to print and as text, both audited as Export.
//!
//! The student's BSN or onderwijsnummer is not part of the stored draft: the
//! pages read the student's current number, show it only to roles that may
//! see it ([`aanwezig_domain::Role::sees_personal_numbers`]; leerplicht
//! reads "alleen zichtbaar voor de coördinatoren"), and the domain refuses
//! to register a melding for a student who has neither.

use aanwezig_domain::illness_words;
use std::collections::HashMap;
use std::sync::Arc;

use aanwezig_domain::case::{
    AgreementParty, ContactKind, DecisionKind, Guide, InterventionKind, Party,
};
use aanwezig_domain::duo::{LeerplichtAction, MAX_LESSON, MAX_SUSPECTED_REASON};
use aanwezig_domain::explain::{capitalize_nl, counted_nl, date_nl};
use aanwezig_domain::{
    Calendar, Case, DuoError, MeldingDraft, MeldingKind, MeldingStatus, NumberShown, Reporter,
    Role, RuleId, SchoolLocation, Student, StudentId,
};
use aanwezig_storage::{AuditAction, MeldingFilter};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;

use super::settings_school::{school_settings, SchoolSettings};
use super::student::local_time_nl;
use crate::auth::CurrentUser;
use crate::dossier;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::state::AppState;

// --- who may do what -----------------------------------------------------------

/// Whether `role` makes and manages DUO meldingen: the coordinators.
fn may_manage(role: Role) -> bool {
    matches!(
        role,
        Role::Verzuimcoordinator | Role::Ondersteuningscoordinator
    )
}

/// Whether `role` reads meldingen at all: the coordinators, and the
/// leerplichtambtenaar the sent ones of students in scope.
fn may_read(role: Role) -> bool {
    may_manage(role) || role == Role::Leerplichtambtenaar
}

/// A coordinator, as an extractor: anyone else gets 403 before the form is
/// read.
pub struct Melder(pub CurrentUser);

impl FromRequestParts<AppState> for Melder {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        user.require(may_manage(user.role()))
            .map_err(IntoResponse::into_response)?;
        Ok(Melder(user))
    }
}

/// The melding number from the path, as typed. A path the router cannot
/// read (bad percent-encoding) answers like a melding that does not exist:
/// the Dutch 404 page, not axum's plain text.
pub struct Nr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Nr {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(n)| Nr(n))
            .map_err(|_| PageError::NotFound)
    }
}

/// A submitted form; one the app cannot read (wrong content type, bad
/// encoding) answers with the Dutch error page (422), not axum's plain text.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        Form::<T>::from_request(req, state)
            .await
            .map(|Form(v)| PageForm(v))
            .map_err(|_| {
                PageError::BadRequest(
                    "Het formulier kon niet worden gelezen. Probeer het opnieuw.".into(),
                )
            })
    }
}

/// The student with this number, from the live school or (a student who
/// left) the store.
async fn student_by_id(state: &AppState, id: &StudentId) -> Result<Option<Student>, PageError> {
    {
        let live = state.read()?;
        if let Some(i) = live.school.position(id) {
            return Ok(Some(live.school.students()[i].clone()));
        }
    }
    Ok(state.store.student(id).await?.map(|s| s.student))
}

/// Melding `n` if the user may read it: the coordinators every one, the
/// leerplichtambtenaar a sent melding of a student in scope. Anything else
/// answers like a melding that does not exist.
/// Whether a melding in this status is shown to those who only read
/// (leerplicht): not a concept, which was never sent, and not one that was
/// withdrawn.
fn shown_to_readers(status: MeldingStatus) -> bool {
    !matches!(status, MeldingStatus::Concept | MeldingStatus::Ingetrokken)
}

/// The meldingen of `student` as the dossier and its verslag show them:
/// to the coordinators every one, to leerplicht those that were sent;
/// nothing to the other roles (the meldingen are the coordinators' and
/// leerplicht's menu).
pub(crate) async fn of_student_for(
    state: &AppState,
    role: Role,
    student: &StudentId,
) -> Result<Vec<(i64, MeldingDraft)>, PageError> {
    if !(role.sees_all_students() || role == Role::Leerplichtambtenaar) {
        return Ok(Vec::new());
    }
    Ok(state
        .store
        .meldingen(&MeldingFilter {
            student: Some(student.clone()),
            ..MeldingFilter::default()
        })
        .await?
        .into_iter()
        // A partner sees what the school sent, never a concept.
        .filter(|(_, m)| !role.is_external() || shown_to_readers(m.status))
        .collect())
}

async fn readable(
    state: &AppState,
    user: &CurrentUser,
    n: &str,
) -> Result<(i64, MeldingDraft), PageError> {
    user.require(may_read(user.role()))?;
    let id: i64 = n.parse().map_err(|_| PageError::NotFound)?;
    let draft = state.store.melding(id).await?.ok_or(PageError::NotFound)?;
    if !may_manage(user.role()) && !shown_to_readers(draft.status) {
        return Err(PageError::NotFound);
    }
    let student = student_by_id(state, &draft.student)
        .await?
        .ok_or(PageError::NotFound)?;
    if !user.scope().may_see(&student) {
        return Err(PageError::NotFound);
    }
    Ok((id, draft))
}

// --- keys, labels and dates ------------------------------------------------------

const KINDS: [MeldingKind; 4] = [
    MeldingKind::ZestienUur,
    MeldingKind::LangdurigRelatiefVerzuim,
    MeldingKind::LuxeVerzuim,
    MeldingKind::Overig,
];

fn kind_key(k: MeldingKind) -> &'static str {
    match k {
        MeldingKind::ZestienUur => "zestien_uur",
        MeldingKind::ZestienUurAchttienPlus => "zestien_uur_achttien_plus",
        MeldingKind::LangdurigRelatiefVerzuim => "langdurig_relatief_verzuim",
        MeldingKind::LuxeVerzuim => "luxe_verzuim",
        MeldingKind::Overig => "overig",
    }
}

const STATUSES: [MeldingStatus; 6] = [
    MeldingStatus::Concept,
    MeldingStatus::Geregistreerd,
    MeldingStatus::InBehandeling,
    MeldingStatus::Afgesloten,
    MeldingStatus::Ingetrokken,
    MeldingStatus::TerKennisgevingAangenomen,
];

fn status_key(s: MeldingStatus) -> &'static str {
    match s {
        MeldingStatus::Concept => "concept",
        MeldingStatus::Geregistreerd => "geregistreerd",
        MeldingStatus::InBehandeling => "in_behandeling",
        MeldingStatus::Afgesloten => "afgesloten",
        MeldingStatus::Ingetrokken => "ingetrokken",
        MeldingStatus::TerKennisgevingAangenomen => "ter_kennisgeving_aangenomen",
    }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// `12 nov 2025`: short enough for a list of actions.
fn short_date(d: NaiveDate) -> String {
    d.format_localized("%-d %b %Y", chrono::Locale::nl_NL)
        .to_string()
}

fn period(begin: NaiveDate, end: NaiveDate) -> String {
    if begin == end {
        date_nl(begin)
    } else {
        format!("{} tot en met {}", date_nl(begin), date_nl(end))
    }
}

/// Working days in (from, to]: the calendar's when there is one,
/// Monday–Friday otherwise.
fn working_days(cal: Option<&Calendar>, from: NaiveDate, to: NaiveDate) -> usize {
    from.iter_days()
        .skip(1)
        .take_while(|d| *d <= to)
        .filter(|d| match cal {
            Some(c) => c.is_working_day(*d),
            None => !matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
        })
        .count()
}

fn werkdagen(n: usize) -> String {
    if n == 1 {
        "1 werkdag".to_owned()
    } else {
        format!("{n} werkdagen")
    }
}

/// The deadline as the lists and the draft show it.
#[derive(Clone)]
struct Due {
    date: String,
    text: String,
    overdue: bool,
}

fn due(
    cal: Option<&Calendar>,
    deadline: NaiveDate,
    today: NaiveDate,
    registered_on: Option<NaiveDate>,
) -> Due {
    let text = match registered_on {
        Some(r) if r > deadline => format!("gemeld op {}, na de termijn", date_nl(r)),
        Some(r) => format!("gemeld op {}, op tijd", date_nl(r)),
        None if today > deadline => match working_days(cal, deadline, today) {
            0 => "de termijn is verstreken".to_owned(),
            n => format!("{} te laat", werkdagen(n)),
        },
        None if today == deadline => "vandaag is de laatste dag".to_owned(),
        None => format!("nog {}", werkdagen(working_days(cal, today, deadline))),
    };
    Due {
        date: date_nl(deadline),
        text,
        overdue: registered_on.is_none() && today > deadline,
    }
}

// --- actions taken, from the case -------------------------------------------------

fn join_nl(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} en {last}", rest.join(", ")),
    }
}

/// Whether a decision describes the school's own actions and may go to
/// DUO and leerplicht: the preventief spreekuur, the ECT, whether the family
/// cooperates (5a/5b) and maatwerk by an OPDC trajectory or otherwise.
/// Never health or safety: not the jeugdarts (referral or consent), VO WIJ
/// (consent), the meldcode, the Indigo check or a vrijstelling.
fn decision_for_duo(kind: &DecisionKind) -> bool {
    match kind {
        DecisionKind::PreventiefSpreekuur
        | DecisionKind::Ect
        | DecisionKind::Cooperation { .. }
        | DecisionKind::Opdc { .. }
        | DecisionKind::OtherMaatwerk => true,
        DecisionKind::Jeugdarts { .. }
        | DecisionKind::VoWij { .. }
        | DecisionKind::Meldcode
        | DecisionKind::IndigoCheck { .. }
        | DecisionKind::Vrijstelling => false,
    }
}

/// Whether a conversation partner may be named to DUO: the student, the
/// parents and leerplicht (who receives the melding anyway). Care partners
/// (jeugdarts, VO WIJ, IOT, hulpverlening, a partner typed by hand) say
/// something about health or care and stay in school.
fn party_for_duo(p: &Party) -> bool {
    matches!(p, Party::Leerling | Party::Ouders | Party::Leerplicht)
}

/// What the school did, from the case, oldest first, one line each:
/// contact moments (date, how, with whom of student/parents/leerplicht,
/// guide; never answers or notes), the decisions of [`decision_for_duo`],
/// interventions (kind and description; never care by a partner) and
/// agreements (what was agreed; never those with a care partner). A melding
/// reaches DUO and leerplicht: nothing on health or safety.
pub fn actions_from_case(case: &Case) -> Vec<String> {
    let mut lines: Vec<(NaiveDate, String)> = Vec::new();
    for c in &case.contacts {
        let how = match c.kind {
            ContactKind::Telefoon => "telefoongesprek",
            ContactKind::GesprekOpSchool => "gesprek op school",
            ContactKind::Online => "online gesprek",
        };
        let who: Vec<String> = c
            .participants
            .iter()
            .filter(|p| party_for_duo(p))
            .map(|p| p.label_nl().to_owned())
            .collect();
        let mut line = how.to_owned();
        if !who.is_empty() {
            line.push_str(" met ");
            line.push_str(&join_nl(&who));
        }
        if let Some(g) = c.guide {
            let letter = match g {
                Guide::A => "A",
                Guide::B => "B",
                Guide::C => "C",
            };
            line.push_str(&format!(" (leidraad {letter})"));
        }
        lines.push((c.on, line));
    }
    for d in case.decisions.iter().filter(|d| decision_for_duo(&d.kind)) {
        lines.push((d.on, d.kind.label_nl()));
    }
    for i in case
        .interventions
        .iter()
        .filter(|i| i.kind != InterventionKind::Hulpverlening)
    {
        let mut line = format!("interventie gestart: {}", i.kind.label_nl());
        if !i.description.trim().is_empty() {
            line.push_str(&format!(" ({})", i.description.trim()));
        }
        if let Some(e) = i.ended_on {
            line.push_str(&format!(", beëindigd op {}", short_date(e)));
        }
        lines.push((i.started_on, line));
    }
    for a in case
        .agreements
        .iter()
        .filter(|a| !matches!(a.who, AgreementParty::Partner(_)))
    {
        let mut line = format!("afspraak met {}: {}", a.who.label_nl(), a.what.trim());
        if let Some(b) = a.by_when {
            line.push_str(&format!(" (uiterlijk {})", short_date(b)));
        }
        lines.push((a.made_on, line));
    }
    lines.sort_by_key(|(d, _)| *d);
    lines
        .into_iter()
        .map(|(d, l)| format!("{}: {l}", short_date(d)))
        .collect()
}

/// The actions from the student's latest case (none without a case).
async fn case_actions(state: &AppState, student: &StudentId) -> Result<Vec<String>, PageError> {
    Ok(state
        .store
        .case(student)
        .await?
        .map(|c| actions_from_case(&c))
        .unwrap_or_default())
}

/// Fills what a new draft takes from elsewhere: the reporter (the
/// signed-in user), the school (settings) and the actions (the case).
fn fill(
    draft: &mut MeldingDraft,
    user: &CurrentUser,
    school: &SchoolSettings,
    actions: Vec<String>,
) {
    draft.reporter = Reporter {
        name: user.user.display_name.clone(),
        function: user.role().label_nl().to_owned(),
        phone: school.phone.clone(),
        email: user.user.email.clone().unwrap_or_default(),
    };
    draft.school = SchoolLocation {
        brin: school.brin.clone(),
        vestiging: school.vestiging.clone(),
    };
    if draft.location_name.trim().is_empty() {
        draft.location_name = school.name.clone();
    }
    draft.actions_taken = actions;
}

// --- the list ------------------------------------------------------------------------

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
struct ListPage {
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
struct ListQuery {
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
fn afstemming_nl(a: &aanwezig_domain::duo_work::Afstemming) -> String {
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
        let scope = user.scope();
        let in_school = |s: &Student| live.school.position(&s.id).is_some();
        for (s, w) in crate::duo_work::school_work(&live, &by, today, |s| {
            // A student who left: only the coordinators, who see every
            // student.
            if in_school(s) {
                scope.may_see(s)
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

async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<ListPage, PageError> {
    user.require(may_read(user.role()))?;
    let manage = may_manage(user.role());
    let today = state.clock.today();
    // The list is the same for every coordinator, and per reader for the
    // others (their scope); computed once per state of the school.
    static LISTS: super::cache::Cache<WorkList> = super::cache::Cache::new();
    let name = if user.role().sees_all_students() {
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

// --- a new draft -------------------------------------------------------------------

/// What both ways of making a draft submit: `regel` and `datum` for a
/// signal, `soort`, `begin` and `eind` for a melding by hand.
#[derive(Debug, Default, Deserialize)]
struct NewForm {
    #[serde(default)]
    leerling: String,
    regel: Option<String>,
    datum: Option<String>,
    #[serde(default)]
    soort: String,
    #[serde(default)]
    begin: String,
    #[serde(default)]
    eind: String,
    /// A vervolgmelding: the earlier melding it follows.
    vervolg: Option<String>,
}

struct KindOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "melding_new.html")]
struct NewPage {
    layout: Layout,
    student: String,
    name: String,
    class: String,
    kinds: Vec<KindOption>,
    begin: String,
    eind: String,
    errors: HashMap<&'static str, String>,
}

impl NewPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
}

#[derive(Debug, Default, Deserialize)]
struct NewQuery {
    #[serde(default)]
    leerling: String,
}

fn new_page(
    user: &CurrentUser,
    student: &Student,
    soort: &str,
    begin: String,
    eind: String,
    errors: HashMap<&'static str, String>,
) -> NewPage {
    NewPage {
        layout: Layout::new(
            user,
            section::MELDINGEN,
            format!("Nieuwe DUO-melding voor {}", student.name),
        ),
        student: student.id.to_string(),
        name: student.name.clone(),
        class: student.class.clone(),
        kinds: KINDS
            .into_iter()
            .map(|k| KindOption {
                value: kind_key(k),
                label: k.label_nl(),
                selected: kind_key(k) == soort,
            })
            .collect(),
        begin,
        eind,
        errors,
    }
}

async fn new_form(
    State(state): State<AppState>,
    Melder(user): Melder,
    Query(q): Query<NewQuery>,
) -> Result<NewPage, PageError> {
    let student = dossier::student_in_scope(&state, &user, &q.leerling)?;
    user.audit(
        &state,
        AuditAction::Read,
        Some(&student.id),
        "formulier nieuwe DUO-melding",
    )
    .await?;
    let today = state.clock.today().to_string();
    Ok(new_page(
        &user,
        &student,
        kind_key(MeldingKind::Overig),
        today.clone(),
        today,
        HashMap::new(),
    ))
}

/// Stores a new draft and audits it; the id of the draft.
async fn store_new(
    state: &AppState,
    user: &CurrentUser,
    draft: &MeldingDraft,
) -> Result<i64, PageError> {
    let id = state
        .store
        .save_melding(None, draft, &user.user.username, state.clock.now())
        .await?;
    user.audit(
        state,
        AuditAction::Change,
        Some(&draft.student),
        format!(
            "DUO-melding {id} ({}) als concept gemaakt",
            draft.kind.label_nl()
        ),
    )
    .await?;
    Ok(id)
}

/// The draft already made for this signal of the student, if any.
async fn draft_for_signal(
    state: &AppState,
    student: &StudentId,
    rule: RuleId,
    fired_on: NaiveDate,
) -> Result<Option<i64>, PageError> {
    let filter = MeldingFilter {
        student: Some(student.clone()),
        ..MeldingFilter::default()
    };
    Ok(state
        .store
        .meldingen(&filter)
        .await?
        .into_iter()
        .find(|(_, d)| {
            d.source
                .is_some_and(|s| s.rule == rule && s.fired_on == fired_on)
        })
        .map(|(id, _)| id))
}

async fn create(
    State(state): State<AppState>,
    Melder(user): Melder,
    PageForm(form): PageForm<NewForm>,
) -> Result<Response, PageError> {
    if form.leerling.trim().is_empty() {
        return Err(PageError::BadRequest(
            "Kies de leerling voor wie de melding is.".into(),
        ));
    }
    let student = dossier::student_in_scope(&state, &user, form.leerling.trim())?;
    match (&form.regel, &form.datum) {
        (Some(regel), Some(datum)) => {
            let follows = match form.vervolg.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(v) => Some(earlier_melding(&state, &student.id, v).await?),
            };
            from_signal(&state, &user, &student, regel, datum, follows).await
        }
        _ => by_hand(&state, &user, &student, form).await,
    }
}

/// The melding a vervolgmelding follows: one of the same student that is
/// registered at DUO and still open there.
async fn earlier_melding(state: &AppState, student: &StudentId, n: &str) -> Result<i64, PageError> {
    let refused = || {
        PageError::BadRequest(
            "Een vervolgmelding volgt op een melding van dezelfde leerling die bij DUO loopt (geregistreerd of in behandeling).".into(),
        )
    };
    let id: i64 = n.parse().map_err(|_| refused())?;
    match state.store.melding(id).await? {
        Some(m) if &m.student == student && aanwezig_domain::duo_work::open_at_duo(m.status) => {
            Ok(id)
        }
        _ => Err(refused()),
    }
}

async fn from_signal(
    state: &AppState,
    user: &CurrentUser,
    student: &Student,
    regel: &str,
    datum: &str,
    follows: Option<i64>,
) -> Result<Response, PageError> {
    let rule = RuleId::parse(regel.trim())
        .filter(|r| r.is_duo())
        .ok_or_else(|| PageError::BadRequest("Dit signaal is geen DUO-melding.".into()))?;
    let fired_on = parse_date(datum)
        .ok_or_else(|| PageError::BadRequest("De datum van het signaal klopt niet.".into()))?;
    if let Some(id) = draft_for_signal(state, &student.id, rule, fired_on).await? {
        return Ok(Redirect::to(&format!("/meldingen/{id}")).into_response());
    }
    let today = state.clock.today();
    let mut draft = {
        let live = state.read()?;
        let cal = live.cal.as_ref().ok_or_else(|| {
            PageError::BadRequest("Er is nog geen schoolkalender ingelezen.".into())
        })?;
        let i = live
            .school
            .position(&student.id)
            .ok_or(PageError::NotFound)?;
        let signal = live
            .evaluations
            .get(i)
            .and_then(|ev| {
                ev.signals
                    .iter()
                    .find(|s| s.rule == rule && cal.date(s.fired_on) == fired_on)
            })
            .ok_or_else(|| {
                PageError::BadRequest(format!(
                    "Er is voor {} geen signaal '{}' van {}.",
                    student.name,
                    rule.title_nl(),
                    date_nl(fired_on)
                ))
            })?;
        MeldingDraft::from_signal_in(
            signal,
            live.school.registrations(i),
            live.school.context(i).week.as_ref(),
            cal,
            &live.policy,
            student,
            today,
        )
        .map_err(|e| PageError::BadRequest(duo_error_nl(&e)))?
    };
    draft.follows = follows;
    let school = school_settings(state).await?;
    let actions = case_actions(state, &student.id).await?;
    fill(&mut draft, user, &school, actions);
    let id = match store_new(state, user, &draft).await {
        Ok(id) => id,
        // Made at the same moment by someone else: go to theirs.
        Err(PageError::Conflict(_)) => draft_for_signal(state, &student.id, rule, fired_on)
            .await?
            .ok_or(PageError::NotFound)?,
        Err(e) => return Err(e),
    };
    Ok(Redirect::to(&format!("/meldingen/{id}")).into_response())
}

async fn by_hand(
    state: &AppState,
    user: &CurrentUser,
    student: &Student,
    form: NewForm,
) -> Result<Response, PageError> {
    let mut errors: HashMap<&'static str, String> = HashMap::new();
    let kind = KINDS.into_iter().find(|k| kind_key(*k) == form.soort);
    if kind.is_none() {
        errors.insert("soort", "Kies de soort verzuim.".into());
    }
    let begin = parse_date(&form.begin);
    if begin.is_none() {
        errors.insert("begin", "Vul een geldige begindatum in.".into());
    }
    let end = parse_date(&form.eind);
    if end.is_none() {
        errors.insert("eind", "Vul een geldige einddatum in.".into());
    }
    let today = state.clock.today();
    let made = match (kind, begin, end) {
        (Some(kind), Some(begin), Some(end)) if errors.is_empty() => {
            let live = state.read()?;
            let cal = live.cal.as_ref().ok_or_else(|| {
                PageError::BadRequest("Er is nog geen schoolkalender ingelezen.".into())
            })?;
            let i = live
                .school
                .position(&student.id)
                .ok_or(PageError::NotFound)?;
            match MeldingDraft::for_period_in(
                kind,
                student,
                begin,
                end,
                (
                    live.school.registrations(i),
                    live.school.context(i).week.as_ref(),
                ),
                cal,
                &live.policy,
                today,
            ) {
                Ok(d) => Some(d),
                Err(DuoError::Backwards { .. }) => {
                    errors.insert("eind", "De einddatum ligt voor de begindatum.".into());
                    None
                }
                Err(e) => {
                    errors.insert("periode", duo_error_nl(&e));
                    None
                }
            }
        }
        _ => None,
    };
    let Some(mut draft) = made else {
        let page = new_page(user, student, &form.soort, form.begin, form.eind, errors);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let school = school_settings(state).await?;
    let actions = case_actions(state, &student.id).await?;
    fill(&mut draft, user, &school, actions);
    let id = store_new(state, user, &draft).await?;
    Ok(Redirect::to(&format!("/meldingen/{id}")).into_response())
}

/// The domain's reasons, with Dutch dates.
/// A message as a sentence: a capital first letter and a full stop,
/// whether the domain wrote it as a fragment or as a sentence.
fn sentence(m: &str) -> String {
    let mut s = capitalize_nl(m.trim_end());
    if !s.ends_with(['.', '?', '!']) {
        s.push('.');
    }
    s
}

fn duo_error_nl(e: &DuoError) -> String {
    match e {
        DuoError::NothingToReport { begin, end } => format!(
            "Tussen {} en {} heeft de leerling geen ongeoorloofd of onbekend verzuim: er is niets te melden. Ziekte en afmeldingen worden nooit aan DUO gemeld.",
            date_nl(*begin),
            date_nl(*end)
        ),
        DuoError::Backwards { begin, end } => format!(
            "De begindatum ({}) ligt na de einddatum ({}).",
            date_nl(*begin),
            date_nl(*end)
        ),
        DuoError::DateBefore { on, earlier } => format!(
            "{} ligt voor {}, de vorige datum van deze melding.",
            date_nl(*on),
            date_nl(*earlier)
        ),
        DuoError::NotAllowed { from, to } => {
            format!("Een melding met status '{from}' kan niet naar '{to}'.")
        }
        DuoError::Invalid(errs) => format!(
            "De melding is nog niet volledig of niet juist ({}): bekijk de punten bij de velden.",
            counted_nl(errs.len() as u64, "punt", "punten")
        ),
        other => other.to_string(),
    }
}

// --- the draft -------------------------------------------------------------------------

struct Cell {
    lesson: u8,
    checked: bool,
}

struct DayRow {
    iso: String,
    label: String,
    whole_day: bool,
    cells: Vec<Cell>,
    errors: Vec<String>,
}

struct LateRow {
    label: String,
    lesson: u8,
    minutes: u16,
}

struct HistoryRow {
    on: String,
    what: String,
}

struct VersionRow {
    version: u32,
    by: String,
    at: String,
}

struct StatusOption {
    value: &'static str,
    label: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "melding.html")]
struct DraftPage {
    layout: Layout,
    /// The version of the melding the forms were made from: a save from
    /// them is refused when someone saved the melding in the meantime.
    versie: u32,
    id: i64,
    student: String,
    name: String,
    birth: String,
    /// BSN or onderwijsnummer, or why it is not shown (see [`number_shown`]).
    number: String,
    /// The student has neither: the melding cannot be registered.
    number_missing: bool,
    kind: &'static str,
    period: String,
    status: &'static str,
    /// The meldingsnummer DUO returned, once entered.
    duo_number: String,
    /// The verzuimdagen and verzuimuren, in words.
    totals: String,
    concept: bool,
    editable: bool,
    manage: bool,
    due: Due,
    days: Vec<DayRow>,
    lessons_header: Vec<u8>,
    all_lessons_missed: bool,
    late: Vec<LateRow>,
    late_minutes: u32,
    reason: String,
    reason_count: usize,
    reason_max: usize,
    explanation: String,
    leerplicht: &'static str,
    leerplicht_reason: String,
    actions: String,
    actions_list: Vec<String>,
    reporter: Reporter,
    school: SchoolLocation,
    /// Field errors by field name (`suspected_reason`, `reporter.email`, …).
    errors: HashMap<String, Vec<String>>,
    /// Every error message, for the summary at the top.
    all_errors: Vec<String>,
    message: Option<String>,
    saved: bool,
    /// A confirmation after a save other than the draft form's.
    notice: Option<&'static str>,
    moves: Vec<StatusOption>,
    today: String,
    history: Vec<HistoryRow>,
    versions: Vec<VersionRow>,
    source: String,
    /// A phone number of the parents or the student.
    contact_phone: String,
    /// A deviating address, where known.
    address: String,
    /// The name of the teaching location.
    location_name: String,
    /// The earlier melding this one follows.
    follows: Option<i64>,
    /// The vervolgmeldingen of this one.
    followed_by: Vec<i64>,
    /// The afstemmingen with leerplicht about this melding, in words.
    afstemmingen: Vec<String>,
}

impl DraftPage {
    fn errs(&self, field: &str) -> &[String] {
        self.errors.get(field).map_or(&[], Vec::as_slice)
    }
}

/// A field error for every free-text part of the draft that names
/// illness: the suspected reason, the explanation and each line of the
/// actions taken (field `actions`, one error per line).
fn illness_errors(draft: &MeldingDraft) -> Vec<(String, String)> {
    let mut parts: Vec<(&str, String, &str)> = vec![
        (
            "suspected_reason",
            "De vermoedelijke reden".to_owned(),
            draft.suspected_reason.as_str(),
        ),
        (
            "explanation",
            "De toelichting".to_owned(),
            draft.explanation.as_deref().unwrap_or_default(),
        ),
    ];
    for (i, line) in draft.actions_taken.iter().enumerate() {
        parts.push((
            "actions",
            format!("Regel {} van de acties", i + 1),
            line.as_str(),
        ));
    }
    parts
        .into_iter()
        .filter_map(|(field, label, text)| {
            let words = illness_words(text);
            (!words.is_empty()).then(|| {
                let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
                (
                    field.to_owned(),
                    format!(
                        "{label} noemt {}: dat wijst op ziekte. Ziekte wordt nooit aan DUO gemeld. Beschrijf het verzuim zonder ziekte of gezondheid te noemen.",
                        join_nl(&quoted)
                    ),
                )
            })
        })
        .collect()
}

/// The student's BSN or onderwijsnummer as `user` may see it. A student no
/// longer in the school reads as having neither.
fn number_shown<'a>(
    live: &'a crate::live::Live,
    user: &CurrentUser,
    student: &StudentId,
) -> NumberShown<'a> {
    let s = live
        .school
        .position(student)
        .map(|i| &live.school.students()[i]);
    let may_see = match s {
        Some(s) => user.scope().may_see_personal_numbers(s),
        None => user.role().sees_personal_numbers(),
    };
    NumberShown::for_reader(s.and_then(Student::personal_number), may_see)
}

/// The draft's problems now, by field: `days[i].…` go to their day,
/// `late_arrivals[i]` to `late`; the rest by name.
fn errors_of(draft: &MeldingDraft, state: &AppState) -> Result<Vec<(String, String)>, PageError> {
    let live = state.read()?;
    let (Some(cal), Some(i)) = (live.cal.as_ref(), live.school.position(&draft.student)) else {
        return Ok(vec![(
            "other".to_owned(),
            "De registraties van deze leerling zijn niet (meer) beschikbaar; de melding kan niet worden gecontroleerd.".to_owned(),
        )]);
    };
    let mut errors = illness_errors(draft);
    let number = live.school.students()[i].personal_number();
    if let Err(errs) = draft.validate(cal, live.school.registrations(i), number) {
        errors.extend(errs.into_iter().map(|e| {
            let field = if e.field.starts_with("late_arrivals") {
                "late".to_owned()
            } else {
                e.field
            };
            (field, sentence(&e.message_nl))
        }));
    }
    Ok(errors)
}

#[expect(
    clippy::too_many_arguments,
    reason = "the page's inputs, each distinct"
)]
async fn draft_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    draft: &MeldingDraft,
    errors: Vec<(String, String)>,
    message: Option<String>,
    saved: bool,
    audit_read: bool,
) -> Result<DraftPage, PageError> {
    let versions = state.store.melding_versions(id).await?;
    let versie = versions.last().map_or(0, |v| v.version);
    let records = crate::duo_work::DuoRecords::of_student(state, &draft.student).await?;
    let followed_by: Vec<i64> = records
        .meldingen
        .iter()
        .filter(|(_, m)| m.follows == Some(id))
        .map(|(n, _)| *n)
        .collect();
    let afstemmingen: Vec<String> = records
        .afstemmingen
        .iter()
        .filter(|(_, a)| a.melding == Some(id))
        .map(|(_, a)| {
            format!(
                "Signaal '{}' van {}: {}",
                a.signal.rule.title_nl(),
                date_nl(a.signal.fired_on),
                afstemming_nl(a)
            )
        })
        .collect();
    if audit_read {
        user.audit(
            state,
            AuditAction::Read,
            Some(&draft.student),
            format!("DUO-melding {id}"),
        )
        .await?;
    }
    let today = state.clock.today();
    let (due, (number, number_missing)) = {
        let live = state.read()?;
        (
            due(
                live.cal.as_ref(),
                draft.deadline,
                today,
                draft.registered_on,
            ),
            {
                let shown = number_shown(&live, user, &draft.student);
                (shown.text_nl(), shown == NumberShown::Missing)
            },
        )
    };
    let totals = {
        let live = state.read()?;
        live.cal.as_ref().map_or_else(String::new, |cal| {
            let t = draft.totals(cal);
            let plural = |n: usize, one: &str, more: &str| {
                format!("{n} {}", if n == 1 { one } else { more })
            };
            format!(
                "{} (waarvan {}), {}, {} uur",
                plural(t.days, "verzuimdag", "verzuimdagen"),
                plural(t.whole_days, "hele dag", "hele dagen"),
                plural(t.lessons, "lesuur", "lesuren"),
                t.hours
            )
        })
    };
    let mut by_field: HashMap<String, Vec<String>> = HashMap::new();
    for (f, m) in &errors {
        by_field.entry(f.clone()).or_default().push(m.clone());
    }
    let days = draft
        .days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let prefix = format!("days[{i}].");
            let errors = errors
                .iter()
                .filter(|(f, _)| f.starts_with(&prefix))
                .map(|(_, m)| m.clone())
                .collect();
            DayRow {
                iso: d.date.to_string(),
                label: date_nl(d.date),
                whole_day: d.whole_day,
                cells: (1..=MAX_LESSON)
                    .map(|l| Cell {
                        lesson: l,
                        checked: d.lessons.contains(&l),
                    })
                    .collect(),
                errors,
            }
        })
        .collect();
    let manage = may_manage(user.role());
    let concept = draft.status == MeldingStatus::Concept;
    let mut history = vec![HistoryRow {
        on: date_nl(draft.created_on),
        what: "concept gemaakt".to_owned(),
    }];
    history.extend(draft.history.iter().map(|c| HistoryRow {
        on: date_nl(c.on),
        what: c.status.label_nl().to_owned(),
    }));
    let source = match draft.source {
        Some(s) => format!(
            "gemaakt uit het signaal '{}' van {}",
            s.rule.title_nl(),
            date_nl(s.fired_on)
        ),
        None => "met de hand gemaakt".to_owned(),
    };
    Ok(DraftPage {
        versie,
        layout: Layout::new(
            user,
            section::MELDINGEN,
            format!("DUO-melding {id}: {}", draft.student_name),
        ),
        id,
        student: draft.student.to_string(),
        name: draft.student_name.clone(),
        birth: date_nl(draft.date_of_birth),
        number,
        number_missing,
        kind: draft.kind.label_nl(),
        period: period(draft.begin, draft.end),
        status: draft.status.label_nl(),
        duo_number: draft.duo_number.clone().unwrap_or_default(),
        totals,
        concept,
        editable: concept && manage,
        manage,
        due,
        days,
        lessons_header: (1..=MAX_LESSON).collect(),
        all_lessons_missed: draft.all_lessons_missed,
        late: draft
            .late_arrivals
            .iter()
            .map(|l| LateRow {
                label: date_nl(l.date),
                lesson: l.lesson,
                minutes: l.minutes_late,
            })
            .collect(),
        late_minutes: draft
            .late_arrivals
            .iter()
            .map(|l| u32::from(l.minutes_late))
            .sum(),
        reason_count: draft.suspected_reason.trim().chars().count(),
        reason_max: MAX_SUSPECTED_REASON,
        reason: draft.suspected_reason.clone(),
        explanation: draft.explanation.clone().unwrap_or_default(),
        leerplicht: match &draft.leerplicht_action {
            None => "",
            Some(a) if a.wanted => "ja",
            Some(_) => "nee",
        },
        leerplicht_reason: draft
            .leerplicht_action
            .as_ref()
            .map(|a| a.reason.clone())
            .unwrap_or_default(),
        actions: draft.actions_taken.join("\n"),
        actions_list: draft.actions_taken.clone(),
        reporter: draft.reporter.clone(),
        school: draft.school.clone(),
        all_errors: errors.iter().map(|(_, m)| m.clone()).collect(),
        errors: by_field,
        message,
        saved,
        notice: None,
        moves: if manage {
            STATUSES
                .into_iter()
                .filter(|s| draft.status.can_move_to(*s))
                .map(|s| StatusOption {
                    value: status_key(s),
                    label: s.label_nl(),
                })
                .collect()
        } else {
            Vec::new()
        },
        today: today.to_string(),
        history,
        versions: versions
            .into_iter()
            .rev()
            .map(|v| VersionRow {
                version: v.version,
                by: v.saved_by,
                at: local_time_nl(v.saved_at),
            })
            .collect(),
        source,
        contact_phone: draft.contact_phone.clone(),
        address: draft.address.clone().unwrap_or_default(),
        location_name: draft.location_name.clone(),
        follows: draft.follows,
        followed_by,
        afstemmingen,
    })
}

#[derive(Debug, Default, Deserialize)]
struct Shown {
    opgeslagen: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Nr(n): Nr,
    Query(q): Query<Shown>,
) -> Result<DraftPage, PageError> {
    let (id, draft, version) = readable_versioned(&state, &user, &n).await?;
    let errors = if draft.status == MeldingStatus::Concept && may_manage(user.role()) {
        errors_of(&draft, &state)?
    } else {
        Vec::new()
    };
    let mut page = draft_page(
        &state,
        &user,
        id,
        &draft,
        errors,
        None,
        q.opgeslagen.as_deref() == Some("1"),
        true,
    )
    .await?;
    // The forms carry the version the page shows.
    page.versie = version;
    // The confirmation after every save.
    page.notice = match q.opgeslagen.as_deref() {
        Some("status") => Some("De nieuwe status is opgeslagen."),
        Some("nummer") => Some("Het meldingsnummer van DUO is opgeslagen."),
        _ => None,
    };
    Ok(page)
}

/// Melding `n` for a change by a coordinator, with its stored version; a
/// sent melding is read only. `expected` is the version the form was made
/// from (its `versie` field), when it says: another stored version is
/// refused ([`PageError::Stale`]) before anything is looked at.
async fn for_change(
    state: &AppState,
    user: &CurrentUser,
    n: &str,
    expected: Option<u32>,
) -> Result<(i64, MeldingDraft, u32), PageError> {
    let (id, draft, version) = readable_versioned(state, user, n).await?;
    if expected.is_some_and(|e| e != version) {
        return Err(superseded(id));
    }
    Ok((id, draft, version))
}

/// [`readable`] with the draft's version, read with it.
async fn readable_versioned(
    state: &AppState,
    user: &CurrentUser,
    n: &str,
) -> Result<(i64, MeldingDraft, u32), PageError> {
    // The checks of scope and status on the draft as read here.
    let (id, _) = readable(state, user, n).await?;
    let (draft, version) = state
        .store
        .melding_with_version(id)
        .await?
        .ok_or(PageError::NotFound)?;
    if !may_manage(user.role()) && !shown_to_readers(draft.status) {
        return Err(PageError::NotFound);
    }
    Ok((id, draft, version))
}

/// The refusal of a change of melding `id` someone saved in the meantime.
fn superseded(id: i64) -> PageError {
    PageError::superseded("deze melding", format!("/meldingen/{id}"))
}

/// The version a form was made from (`versie`), if it says.
fn posted_version(pairs: &Pairs) -> Option<u32> {
    field(pairs, "versie").and_then(|v| v.trim().parse().ok())
}

/// Saves a changed draft checked against `version` (the one it was read
/// at) with its audit entry (`detail`), in one transaction.
async fn save_checked(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    draft: &MeldingDraft,
    version: u32,
    detail: String,
) -> Result<u32, PageError> {
    let entry = aanwezig_storage::AuditEntry {
        at: state.clock.now(),
        username: user.user.username.clone(),
        action: AuditAction::Change,
        student: Some(draft.student.clone()),
        detail,
    };
    let (_, saved) = state
        .store
        .save_melding_checked(
            Some(id),
            draft,
            aanwezig_storage::VersionCheck::Version(version),
            &user.user.username,
            state.clock.now(),
            &entry,
        )
        .await
        .map_err(|e| match e {
            aanwezig_storage::StoreError::StaleVersion { .. } => superseded(id),
            other => other.into(),
        })?;
    Ok(saved)
}

/// The submitted form as pairs: the lesson grid repeats its keys.
type Pairs = Vec<(String, String)>;

fn field<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn text(pairs: &Pairs, name: &str) -> String {
    field(pairs, name).unwrap_or_default().trim().to_owned()
}

/// Applies the form to the draft. The lesson grid (`les_{date}`, only when
/// the form carried it: `rooster`) replaces each day's lessons; a day left
/// without lessons is dropped; "whole day" and "all lessons missed" follow
/// the registrations as they are now.
fn apply_form(draft: &mut MeldingDraft, pairs: &Pairs, state: &AppState) -> Result<(), PageError> {
    draft.suspected_reason = text(pairs, "reden");
    let explanation = text(pairs, "toelichting");
    draft.explanation = (!explanation.is_empty()).then_some(explanation);
    draft.leerplicht_action = match field(pairs, "leerplicht") {
        Some("ja") | Some("nee") => Some(LeerplichtAction {
            wanted: field(pairs, "leerplicht") == Some("ja"),
            reason: text(pairs, "leerplicht_reden"),
        }),
        _ => None,
    };
    draft.actions_taken = field(pairs, "acties")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    draft.reporter = Reporter {
        name: text(pairs, "melder_naam"),
        function: text(pairs, "melder_functie"),
        phone: text(pairs, "melder_telefoon"),
        email: text(pairs, "melder_email"),
    };
    draft.school = SchoolLocation {
        brin: text(pairs, "brin").to_uppercase(),
        vestiging: text(pairs, "vestiging"),
    };
    // Only when the form has them: a form from before these fields keeps
    // what the draft holds.
    if field(pairs, "ouder_telefoon").is_some() {
        draft.contact_phone = text(pairs, "ouder_telefoon");
    }
    if field(pairs, "adres").is_some() {
        let address = text(pairs, "adres");
        draft.address = (!address.is_empty()).then_some(address);
    }
    if field(pairs, "locatie").is_some() {
        draft.location_name = text(pairs, "locatie");
    }
    if field(pairs, "rooster").is_none() {
        return Ok(());
    }
    for day in &mut draft.days {
        let key = format!("les_{}", day.date);
        let mut lessons: Vec<u8> = pairs
            .iter()
            .filter(|(k, _)| *k == key)
            .filter_map(|(_, v)| v.trim().parse().ok())
            .collect();
        lessons.sort_unstable();
        lessons.dedup();
        day.lessons = lessons;
    }
    draft.days.retain(|d| !d.lessons.is_empty());
    let live = state.read()?;
    if let (Some(cal), Some(i)) = (live.cal.as_ref(), live.school.position(&draft.student)) {
        let regs = live.school.registrations(i);
        for day in &mut draft.days {
            let scheduled = cal
                .index(day.date)
                .map_or(0, |d| regs.iter().filter(|r| r.day == d).count());
            day.whole_day = scheduled > 0 && day.lessons.len() >= scheduled;
        }
        let school_days = match (cal.on_or_after(draft.begin), cal.on_or_before(draft.end)) {
            (Some(a), Some(b)) if a <= b => (a..=b).count(),
            _ => 0,
        };
        draft.all_lessons_missed =
            draft.days.len() == school_days && draft.days.iter().all(|d| d.whole_day);
    }
    Ok(())
}

async fn save(
    State(state): State<AppState>,
    Melder(user): Melder,
    Nr(n): Nr,
    PageForm(pairs): PageForm<Pairs>,
) -> Result<Response, PageError> {
    let (id, mut draft, version) = for_change(&state, &user, &n, posted_version(&pairs)).await?;
    if draft.status != MeldingStatus::Concept {
        // Registered in the meantime (another tab, a colleague): show the
        // melding as it now stands, read only, with what happened.
        let message = format!(
            "Deze melding heeft de status '{}' en kan niet meer worden gewijzigd. Uw wijzigingen zijn niet opgeslagen.",
            draft.status.label_nl()
        );
        let page = draft_page(
            &state,
            &user,
            id,
            &draft,
            Vec::new(),
            Some(message),
            false,
            true,
        )
        .await?;
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    apply_form(&mut draft, &pairs, &state)?;
    let from_case = field(&pairs, "actie") == Some("dossier");
    if from_case {
        draft.actions_taken = case_actions(&state, &draft.student).await?;
    }
    let detail = if from_case {
        format!("DUO-melding {id} opgeslagen, acties opnieuw uit het dossier")
    } else {
        format!("DUO-melding {id} opgeslagen")
    };
    save_checked(&state, &user, id, &draft, version, detail).await?;
    let errors = errors_of(&draft, &state)?;
    if errors.is_empty() {
        return Ok(Redirect::to(&format!("/meldingen/{id}?opgeslagen=1")).into_response());
    }
    let message = "Opgeslagen als concept. De melding is nog niet klaar om te melden: bekijk de punten bij de velden.".to_owned();
    let page = draft_page(
        &state,
        &user,
        id,
        &draft,
        errors,
        Some(message),
        false,
        false,
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct StatusForm {
    /// The version of the melding the form was made from.
    #[serde(default)]
    versie: String,
    #[serde(default)]
    naar: String,
    #[serde(default)]
    datum: String,
    /// The coordinator confirms registering although the student has no
    /// open dossier or the melding names no actions.
    #[serde(default)]
    bevestigd: Option<String>,
}

/// Why registering this melding asks for a confirmation first: no open
/// dossier for the student, no actions named (DUO and leerplicht read
/// what the school did). Empty when nothing is missing.
async fn register_warnings(
    state: &AppState,
    draft: &MeldingDraft,
) -> Result<Vec<String>, PageError> {
    let mut out = Vec::new();
    if !state
        .store
        .case(&draft.student)
        .await?
        .is_some_and(|c| c.is_open())
    {
        out.push("er is geen open dossier voor deze leerling".to_owned());
    }
    if draft.actions_taken.iter().all(|a| a.trim().is_empty()) {
        out.push("de melding noemt geen acties van school".to_owned());
    }
    Ok(out)
}

async fn set_status(
    State(state): State<AppState>,
    Melder(user): Melder,
    Nr(n): Nr,
    PageForm(form): PageForm<StatusForm>,
) -> Result<Response, PageError> {
    let (id, mut draft, version) =
        for_change(&state, &user, &n, form.versie.trim().parse().ok()).await?;
    let today = state.clock.today();
    let refuse = |draft: &MeldingDraft, errors: Vec<(String, String)>, message: String| {
        let state = state.clone();
        let user = user.clone();
        let draft = draft.clone();
        async move {
            let page = draft_page(
                &state,
                &user,
                id,
                &draft,
                errors,
                Some(message),
                false,
                false,
            )
            .await?;
            Ok::<Response, PageError>((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    };
    let Some(to) = STATUSES.into_iter().find(|s| status_key(*s) == form.naar) else {
        return refuse(&draft, Vec::new(), "Kies een nieuwe status.".into()).await;
    };
    let Some(on) = parse_date(&form.datum) else {
        return refuse(&draft, Vec::new(), "Vul een geldige datum in.".into()).await;
    };
    if on > today {
        return refuse(
            &draft,
            Vec::new(),
            "De datum ligt in de toekomst: vul de dag in waarop het gebeurde.".into(),
        )
        .await;
    }
    if to == MeldingStatus::Geregistreerd {
        let errors = illness_errors(&draft);
        if !errors.is_empty() {
            return refuse(
                &draft,
                errors,
                "Niet gemeld: de reden, de toelichting of een actie noemt ziekte. Pas de tekst aan en sla de melding op.".into(),
            )
            .await;
        }
    }
    let before = draft.clone();
    let result = if to == MeldingStatus::Geregistreerd {
        let live = state.read()?;
        match (live.cal.as_ref(), live.school.position(&draft.student)) {
            (Some(cal), Some(i)) => draft.register(
                on,
                cal,
                live.school.registrations(i),
                live.school.students()[i].personal_number(),
            ),
            _ => Err(DuoError::NotValidated),
        }
    } else {
        draft.transition(to, on)
    };
    match result {
        Ok(()) => {}
        Err(DuoError::Invalid(errs)) => {
            let message = format!(
                "Niet gemeld: {}",
                duo_error_nl(&DuoError::Invalid(errs.clone()))
            );
            let errors = errs
                .into_iter()
                .map(|e| {
                    let field = if e.field.starts_with("late_arrivals") {
                        "late".to_owned()
                    } else {
                        e.field
                    };
                    (field, sentence(&e.message_nl))
                })
                .collect();
            return refuse(&draft, errors, message).await;
        }
        Err(DuoError::NotValidated) => {
            return refuse(
                &draft,
                Vec::new(),
                "De registraties van deze leerling zijn niet beschikbaar; de melding kan niet worden gecontroleerd.".into(),
            )
            .await;
        }
        Err(e) => return refuse(&draft, Vec::new(), duo_error_nl(&e)).await,
    }
    // A complete melding of a student without an open dossier, or without
    // any action named, is registered only when the coordinator confirms
    // it (and the confirmation is recorded).
    let mut confirmed_without = Vec::new();
    if to == MeldingStatus::Geregistreerd {
        let warnings = register_warnings(&state, &before).await?;
        if !warnings.is_empty() && form.bevestigd.is_none() {
            return refuse(
                &before,
                Vec::new(),
                format!(
                    "Nog niet gemeld: {}. Wilt u de melding toch zo vastleggen? Vink dan \"Toch vastleggen als gemeld\" aan. Dat komt in de geschiedenis van de melding.",
                    warnings.join(" en ")
                ),
            )
            .await;
        }
        confirmed_without = warnings;
    }
    let detail = format!(
        "DUO-melding {id}: status {} op {}{}",
        to.label_nl(),
        date_nl(on),
        if confirmed_without.is_empty() {
            String::new()
        } else {
            format!(" (bevestigd hoewel {})", confirmed_without.join(" en "))
        }
    );
    save_changed(&state, &user, id, &draft, version, detail, "status").await
}

/// Saves a changed melding (a new version, checked against `version`,
/// the one it was read at), audits it with `detail` in the same
/// transaction and shows it.
async fn save_changed(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    draft: &MeldingDraft,
    version: u32,
    detail: String,
    saved: &str,
) -> Result<Response, PageError> {
    save_checked(state, user, id, draft, version, detail).await?;
    Ok(Redirect::to(&format!("/meldingen/{id}?opgeslagen={saved}")).into_response())
}

/// The meldingsnummer DUO returned.
#[derive(Debug, Default, Deserialize)]
struct NumberForm {
    /// The version of the melding the form was made from.
    #[serde(default)]
    versie: String,
    #[serde(default)]
    meldingsnummer: String,
}

/// `POST /meldingen/{n}/nummer`: records the meldingsnummer DUO returned
/// for a registered melding (kept in its versions and audited).
async fn set_number(
    State(state): State<AppState>,
    Melder(user): Melder,
    Nr(n): Nr,
    PageForm(form): PageForm<NumberForm>,
) -> Result<Response, PageError> {
    let (id, mut draft, version) =
        for_change(&state, &user, &n, form.versie.trim().parse().ok()).await?;
    if let Err(e) = draft.set_duo_number(&form.meldingsnummer) {
        let page = draft_page(
            &state,
            &user,
            id,
            &draft,
            vec![("duo_number".to_owned(), duo_error_nl(&e))],
            Some(format!("Niet opgeslagen: {}", sentence(&duo_error_nl(&e)))),
            false,
            false,
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let detail = format!(
        "DUO-melding {id}: meldingsnummer van DUO {}",
        draft.duo_number.as_deref().unwrap_or_default()
    );
    save_changed(&state, &user, id, &draft, version, detail, "nummer").await
}

// --- print and export ------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "melding_print.html")]
struct PrintPage {
    layout: Layout,
    d: DraftPage,
    printed: String,
}

async fn print(
    State(state): State<AppState>,
    user: CurrentUser,
    Nr(n): Nr,
) -> Result<PrintPage, PageError> {
    let (id, draft) = readable(&state, &user, &n).await?;
    user.audit(
        &state,
        AuditAction::Export,
        Some(&draft.student),
        format!("DUO-melding {id}: afdruk"),
    )
    .await?;
    let d = draft_page(&state, &user, id, &draft, Vec::new(), None, false, false).await?;
    Ok(PrintPage {
        layout: d.layout.clone(),
        d,
        printed: local_time_nl(state.clock.now()),
    })
}

/// A safe file name part: letters, digits, `-` and `_`.
fn file_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    Nr(n): Nr,
) -> Result<Response, PageError> {
    let (id, draft) = readable(&state, &user, &n).await?;
    user.audit(
        &state,
        AuditAction::Export,
        Some(&draft.student),
        format!("DUO-melding {id}: tekstbestand"),
    )
    .await?;
    let disposition = format!(
        "attachment; filename=\"duo-melding-{id}-{}.txt\"",
        file_part(draft.student.as_str())
    );
    Ok((
        [
            (CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        {
            let live = state.read()?;
            draft.to_export_text(number_shown(&live, &user, &draft.student))
        },
    )
        .into_response())
}

/// This area's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meldingen", get(list))
        .route("/meldingen/nieuw", get(new_form).post(create))
        .route("/meldingen/{n}", get(show).post(save))
        .route("/meldingen/{n}/status", post(set_status))
        .route("/meldingen/{n}/nummer", post(set_number))
        .route("/meldingen/{n}/afdruk", get(print))
        .route("/meldingen/{n}/export.txt", get(export))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_coordinators_manage_and_leerplicht_reads() {
        let manage: Vec<Role> = Role::ALL.into_iter().filter(|r| may_manage(*r)).collect();
        assert_eq!(
            manage,
            [Role::Verzuimcoordinator, Role::Ondersteuningscoordinator]
        );
        assert!(may_read(Role::Leerplichtambtenaar));
        for r in [
            Role::Mentor,
            Role::Jeugdarts,
            Role::Ketenpartner,
            Role::Beheerder,
        ] {
            assert!(!may_read(r), "{r:?}");
        }
    }

    #[test]
    fn working_days_skip_weekends() {
        let fri = NaiveDate::from_ymd_opt(2025, 11, 14).expect("date");
        let tue = NaiveDate::from_ymd_opt(2025, 11, 18).expect("date");
        assert_eq!(working_days(None, fri, tue), 2);
        assert_eq!(due(None, tue, fri, None).text, "nog 2 werkdagen");
        let d = due(None, fri, tue, None);
        assert!(d.overdue);
        assert_eq!(d.text, "2 werkdagen te laat");
        assert_eq!(due(None, fri, fri, None).text, "vandaag is de laatste dag");
        assert!(!due(None, fri, tue, Some(tue)).overdue);
    }

    #[test]
    fn illness_words_are_words_and_their_compounds_in_any_case() {
        assert_eq!(
            illness_words("Bij de HUISARTS, daarna griep; weer griep."),
            ["huisarts", "griep"]
        );
        assert!(illness_words("startsein, kaarten, smarties? nee: spijbelen").is_empty());
        assert_eq!(illness_words("ziek."), ["ziek"]);
        assert_eq!(
            illness_words(
                "Ouders maken een afspraak bij de jeugdarts als de ziekmeldingen doorgaan."
            ),
            ["jeugdarts", "ziekmeldingen"]
        );
        assert_eq!(
            illness_words("ziekenhuisbezoek, buikgriep, Hooikoorts, keelpijn, artsen"),
            [
                "ziekenhuisbezoek",
                "buikgriep",
                "hooikoorts",
                "keelpijn",
                "artsen"
            ]
        );
    }

    #[test]
    fn no_health_or_safety_decision_goes_to_duo() {
        for k in [
            DecisionKind::Jeugdarts { consent: true },
            DecisionKind::Jeugdarts { consent: false },
            DecisionKind::VoWij { consent: true },
            DecisionKind::Meldcode,
            DecisionKind::IndigoCheck { needed: false },
            DecisionKind::Vrijstelling,
        ] {
            assert!(!decision_for_duo(&k), "{k:?}");
        }
        assert!(decision_for_duo(&DecisionKind::PreventiefSpreekuur));
        assert!(!party_for_duo(&Party::Jeugdarts));
        assert!(!party_for_duo(&Party::Other("huisarts".into())));
        assert!(party_for_duo(&Party::Ouders));
    }

    #[test]
    fn parties_read_as_a_dutch_list() {
        assert_eq!(join_nl(&["a".into()]), "a");
        assert_eq!(join_nl(&["a".into(), "b".into(), "c".into()]), "a, b en c");
    }
}
