//! DUO meldingen: drafts from signals and the case, validation, print and
//! export for the Verzuimloket, status, deadlines; one module per part:
//! who may do what (`access`), the list (`list`), a new draft
//! (`new`), the draft page and its form (`draft`, `edit`), status
//! and number (`lifecycle`), print and export (`print`).
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
//!   "afgestemd met leerplicht" ([`crate::pages::afstemming`]).
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
//! see it ([`aanwezig_app::Permission::SeePersonalNumbers`]; leerplicht
//! reads "alleen zichtbaar voor de coördinatoren"), and the domain refuses
//! to register a melding for a student who has neither.

mod access;
mod actions;
mod draft;
mod edit;
mod format;
mod lifecycle;
mod list;
mod new;
mod print;

use draft::show;
use edit::save;
use lifecycle::{set_number, set_status};
use list::list;
use new::{create, new_form};
use print::{export, print};

pub(crate) use access::of_student_for;
pub use access::{Nr, PageForm};

/// This area's routes.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/meldingen", list)
        .get("/meldingen/nieuw", new_form)
        .post("/meldingen/nieuw", create)
        .get("/meldingen/{n}", show)
        .post("/meldingen/{n}", save)
        .post("/meldingen/{n}/status", set_status)
        .post("/meldingen/{n}/nummer", set_number)
        .get("/meldingen/{n}/afdruk", print)
        .get("/meldingen/{n}/export.txt", export)
}
