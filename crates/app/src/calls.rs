//! Stap 2: the call with the parents after a whole day of absence (guide
//! A), recorded without a dossier. The web's `/leerlingen/{id}/gebeld`
//! parses the form and renders; this module decides who may call, which
//! absence run a call is about, what a filled-in form means, and records
//! the call with its audit entry.

use aanwezig_domain::explain::date_nl;
use aanwezig_domain::{Call, Reached, Student};
use aanwezig_storage::{AuditAction, Store};
use chrono::{DateTime, NaiveDate, Utc};

use crate::{audit, Actor, AppError, Permission};

/// Whether `actor` may call about `student`: a student out of reach is
/// [`AppError::NotFound`] (like no student), a student in reach of a role
/// that does not call (a partner) [`AppError::Forbidden`].
pub fn check(actor: &Actor, student: &Student) -> Result<(), AppError> {
    actor.require(Permission::ReadStudent)?;
    actor.require_for(Permission::ReadStudent, student)?;
    if actor.may_for(Permission::RecordCall, student) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The first day of the absence run a call is about: `sinds` (ISO date)
/// when it is one of `runs` (the days a `contact` signal of the student
/// fired, oldest first), the latest run without it.
pub fn absence_run(
    student: &Student,
    runs: &[NaiveDate],
    sinds: Option<&str>,
) -> Result<NaiveDate, AppError> {
    let since = match sinds.and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()) {
        Some(d) => d,
        None => *runs.last().ok_or_else(|| {
            AppError::invalid(format!(
                "{} is nu niet de hele dag afwezig: er is geen gesprek te noteren.",
                student.name
            ))
        })?,
    };
    if runs.contains(&since) {
        Ok(since)
    } else {
        Err(AppError::invalid(format!(
            "{} was op {} niet voor het eerst de hele dag afwezig.",
            student.name,
            date_nl(since)
        )))
    }
}

/// A call form as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallInput {
    /// [`Reached::as_str`].
    pub reached: String,
    /// The day of the call, ISO.
    pub date: String,
    pub how: String,
    pub school_can_do: String,
    /// The expected day back, ISO, or empty.
    pub expected_back: String,
    pub worries: bool,
}

/// The call `input` means, or the Dutch errors of its fields (field id,
/// message) in the form's order.
pub fn call_of(
    input: &CallInput,
    since: NaiveDate,
    by: &str,
    today: NaiveDate,
) -> Result<Call, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let reached = Reached::parse(&input.reached);
    if reached.is_none() {
        errors.push((
            "bereikt",
            "Kies wie u heeft gesproken, of dat u niemand bereikte.".to_owned(),
        ));
    }
    let date = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    let on = date(&input.date);
    match on {
        None => errors.push(("datum", "Vul de datum van het gesprek in.".to_owned())),
        Some(d) if d > today => errors.push((
            "datum",
            "De datum van het gesprek ligt in de toekomst.".to_owned(),
        )),
        _ => {}
    }
    let expected_back = if input.expected_back.trim().is_empty() {
        None
    } else {
        match date(&input.expected_back) {
            Some(d) => Some(d),
            None => {
                errors.push((
                    "terug",
                    "De verwachte terugkeer is geen geldige datum.".to_owned(),
                ));
                None
            }
        }
    };
    let (Some(reached), Some(on), true) = (reached, on, errors.is_empty()) else {
        return Err(errors);
    };
    let call = Call {
        absent_from: since,
        on,
        by: by.to_owned(),
        reached,
        how: input.how.trim().to_owned(),
        school_can_do: input.school_can_do.trim().to_owned(),
        expected_back,
        worries: input.worries,
    };
    let problems = call.validate();
    if problems.is_empty() {
        Ok(call)
    } else {
        Err(problems.into_iter().map(|e| (e.field, e.message)).collect())
    }
}

/// Audits that `actor` opened the call form about `student`.
pub async fn open_form(
    store: &dyn Store,
    actor: &Actor,
    student: &Student,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    check(actor, student)?;
    audit::write(
        store,
        actor,
        now,
        AuditAction::Read,
        Some(&student.id),
        "gesprek stap 2 (formulier)",
    )
    .await
}

/// Records `call` about `student`: the permission, the stored call and
/// its audit entry. The caller keeps its own copies (the web's live
/// school) up to date after.
pub async fn record(
    store: &dyn Store,
    actor: &Actor,
    student: &Student,
    call: &Call,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    check(actor, student)?;
    store.add_call(&student.id, call).await?;
    audit::write(
        store,
        actor,
        now,
        AuditAction::Change,
        Some(&student.id),
        format!(
            "gesprek stap 2 over de afwezigheid sinds {}: {}",
            call.absent_from,
            call.reached.label_nl()
        ),
    )
    .await
}

#[cfg(test)]
mod tests {
    use aanwezig_domain::Role;
    use aanwezig_storage::prelude::*;

    use super::*;
    use crate::testing::{student, ymd};

    #[test]
    fn who_may_call() {
        let s = student("2B");
        let mentor = Actor::new("m", Role::Mentor, vec!["2b".into()]);
        assert!(check(&mentor, &s).is_ok());
        let other_mentor = Actor::new("m2", Role::Mentor, vec!["3C".into()]);
        assert!(matches!(check(&other_mentor, &s), Err(AppError::NotFound)));
        let beheer = Actor::new("b", Role::Beheerder, vec![]);
        assert!(matches!(check(&beheer, &s), Err(AppError::Forbidden)));
        // A jeugdarts brought in reads the student but does not call.
        let mut arts = Actor::new("a", Role::Jeugdarts, vec![]);
        arts.brought_in = vec![s.id.clone()];
        assert!(matches!(check(&arts, &s), Err(AppError::Forbidden)));
        arts.brought_in.clear();
        assert!(matches!(check(&arts, &s), Err(AppError::NotFound)));
    }

    #[tokio::test]
    async fn a_refused_call_writes_nothing() {
        let store = crate::testing::store().await;
        let s = student("2B");
        let call = Call {
            absent_from: ymd(2025, 11, 10),
            on: ymd(2025, 11, 10),
            by: "b".into(),
            reached: Reached::Parent,
            how: String::new(),
            school_can_do: String::new(),
            expected_back: None,
            worries: false,
        };
        let beheer = Actor::new("b", Role::Beheerder, vec![]);
        let now = crate::testing::now();
        assert!(matches!(
            record(&store, &beheer, &s, &call, now).await,
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            open_form(&store, &beheer, &s, now).await,
            Err(AppError::Forbidden)
        ));
        assert!(store.student_calls(&s.id).await.unwrap().is_empty());
        assert!(crate::testing::audit_is_empty(&store).await);
    }

    #[test]
    fn a_form_gives_a_call_or_its_errors_in_order() {
        let since = ymd(2025, 11, 10);
        let today = ymd(2025, 11, 14);
        let errors = call_of(&CallInput::default(), since, "m", today).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["bereikt", "datum"], "nothing is preselected");
        let form = CallInput {
            reached: "ouder".into(),
            date: "2025-11-11".into(),
            how: "Gaat beter".into(),
            expected_back: "2025-11-17".into(),
            worries: true,
            ..CallInput::default()
        };
        let call = call_of(&form, since, "m", today).unwrap();
        assert_eq!(call.reached, Reached::Parent);
        assert_eq!(call.expected_back, Some(ymd(2025, 11, 17)));
        assert!(call.worries);
        let future = CallInput {
            date: "2025-11-15".into(),
            ..form
        };
        assert_eq!(
            call_of(&future, since, "m", today).unwrap_err()[0].0,
            "datum"
        );
    }

    #[test]
    fn the_run_must_be_one_of_the_students() {
        let s = student("2B");
        let runs = [ymd(2025, 11, 3), ymd(2025, 11, 10)];
        assert_eq!(absence_run(&s, &runs, None).unwrap(), ymd(2025, 11, 10));
        assert_eq!(
            absence_run(&s, &runs, Some("2025-11-03")).unwrap(),
            ymd(2025, 11, 3)
        );
        assert!(matches!(
            absence_run(&s, &runs, Some("2025-11-04")),
            Err(AppError::Invalid(_))
        ));
        assert!(matches!(
            absence_run(&s, &[], None),
            Err(AppError::Invalid(_))
        ));
    }
}
