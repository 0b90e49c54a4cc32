//! "Afgestemd met leerplicht: geen nieuwe melding": for a *vervolg* only (a
//! new DUO signal while a melding about the same student is registered at
//! DUO and still open there), a coordinator records that they agreed with
//! leerplicht not to make a new melding. The web's
//! `/meldingen/afstemming` finds the student's open duty in the live
//! school and renders; this module checks, validates and records.

use aanwezig_domain::duo::SignalRef;
use aanwezig_domain::duo_work::{Afstemming, SignalWork};
use aanwezig_domain::explain::date_nl;
use aanwezig_domain::Student;
use aanwezig_storage::{AuditAction, Store};
use chrono::{DateTime, NaiveDate, Utc};

use crate::{audit, Actor, AppError, Permission};

/// Whether `actor` may record an afstemming about `student`.
pub fn check(actor: &Actor, student: &Student) -> Result<(), AppError> {
    actor.require(Permission::ManageMeldingen)?;
    actor.require_for(Permission::ManageMeldingen, student)
}

/// The open vervolg duty of `signal` (`duty`: the student's open duty for
/// it, if any) and the melding it follows, or why there is nothing to
/// agree on (409).
pub fn vervolg(
    student: &Student,
    signal: SignalRef,
    duty: Option<&SignalWork>,
) -> Result<(SignalWork, i64), AppError> {
    let duty = duty.copied().ok_or_else(|| {
        AppError::Conflict(format!(
            "Voor {} staat geen open signaal \"{}\" van {}: het is al gemeld of afgestemd.",
            student.name,
            signal.rule.title_nl(),
            date_nl(signal.fired_on)
        ))
    })?;
    let melding = duty.vervolg_of().ok_or_else(|| {
        AppError::Conflict(format!(
            "Er loopt voor {} geen melding bij DUO. Afstemmen met leerplicht kan alleen bij een vervolg; maak anders de melding.",
            student.name
        ))
    })?;
    Ok((duty, melding))
}

/// An afstemming form as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AfstemmingInput {
    /// The day it was agreed, ISO.
    pub on: String,
    pub with_whom: String,
    pub why: String,
}

/// The afstemming `input` means for this duty, or the Dutch errors of its
/// fields (field id, message).
pub fn afstemming_of(
    input: &AfstemmingInput,
    student: &Student,
    duty: &SignalWork,
    melding: i64,
    actor: &Actor,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Afstemming, Vec<(String, String)>> {
    let on = NaiveDate::parse_from_str(input.on.trim(), "%Y-%m-%d").ok();
    let a = Afstemming {
        student: student.id.clone(),
        signal: duty.signal.reference(),
        melding: Some(melding),
        on: on.unwrap_or(today),
        with_whom: input.with_whom.trim().to_owned(),
        why: input.why.trim().to_owned(),
        by: actor.username.clone(),
        recorded_at: now,
    };
    let mut errors: Vec<(String, String)> = Vec::new();
    if on.is_none() {
        errors.push(("op".into(), "Vul de datum van de afstemming in.".into()));
    }
    if let Err(errs) = a.validate(today) {
        errors.extend(errs.into_iter().map(|e| {
            let field = if e.field == "datum" {
                "op".to_owned()
            } else {
                e.field
            };
            (field, e.message_nl)
        }));
    }
    if errors.is_empty() {
        Ok(a)
    } else {
        Err(errors)
    }
}

/// Audits that `actor` opened the form about `student`.
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
        "formulier afstemming met leerplicht over een DUO-signaal",
    )
    .await
}

/// Stores `a` (about the vervolg `duty` of `student`) with its audit
/// entry; returns its number.
pub async fn record(
    store: &dyn Store,
    actor: &Actor,
    student: &Student,
    duty: &SignalWork,
    a: &Afstemming,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    check(actor, student)?;
    let id = store.add_afstemming(a).await?;
    let melding = a.melding.map(|m| m.to_string()).unwrap_or_default();
    audit::write(
        store,
        actor,
        now,
        AuditAction::Change,
        Some(&student.id),
        format!(
            "afgestemd met leerplicht ({}): geen nieuwe DUO-melding voor signaal '{}' van {} (vervolg op melding {melding}); afstemming {id}",
            a.with_whom,
            duty.signal.rule.title_nl(),
            date_nl(duty.signal.fired_on)
        ),
    )
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use aanwezig_domain::Role;

    use super::*;
    use crate::testing::student;

    #[test]
    fn only_the_coordinators_agree_with_leerplicht() {
        let s = student("2B");
        for role in [Role::Verzuimcoordinator, Role::Ondersteuningscoordinator] {
            assert!(check(&Actor::new("c", role, vec![]), &s).is_ok());
        }
        for role in [
            Role::Mentor,
            Role::Beheerder,
            Role::Jeugdarts,
            Role::Ketenpartner,
        ] {
            let mut a = Actor::new("x", role, vec!["2B".into()]);
            a.brought_in = vec![s.id.clone()];
            assert!(
                matches!(check(&a, &s), Err(AppError::Forbidden)),
                "{role:?}"
            );
        }
        // Leerplicht reads the sent meldingen, and makes none.
        let mut lpa = Actor::new("l", Role::Leerplichtambtenaar, vec![]);
        lpa.sent_melding = vec![s.id.clone()];
        assert!(matches!(check(&lpa, &s), Err(AppError::Forbidden)));
    }

    #[tokio::test]
    async fn a_refused_form_is_not_audited() {
        let store = crate::testing::store().await;
        let mentor = Actor::new("m", Role::Mentor, vec!["2B".into()]);
        let s = student("2B");
        let r = open_form(&store, &mentor, &s, crate::testing::now()).await;
        assert!(matches!(r, Err(AppError::Forbidden)));
        assert!(crate::testing::audit_is_empty(&store).await);
    }
}
