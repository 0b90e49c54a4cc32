//! Demo dossiers: a few cases on the demo school's own signals, so that a
//! fresh `aanwezig serve --demo` shows the stappenplan at work — a 3a case
//! with a conversation (guide C), agreements and the jeugdarts brought in,
//! and 4b cases after 16 unexplained hours with leerplicht brought in, an
//! intervention with weekly checks and a DUO melding draft.

use aanwezig_domain::case::{
    keys, Actor, Agreement, AgreementParty, Answer, ContactKind, ContactMoment, Decision,
    DecisionKind, Guide, InterventionKind, ItemStatus, OpenReason, Party, WeeklyCheck,
};
use aanwezig_domain::{
    Calendar, Case, CaseStep, Engine, MeldingDraft, Reporter, Role, RuleId, SchoolLocation,
};
use aanwezig_storage::{Store, User};
use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};

/// The demo's external partners: user name, display name, role.
pub const PARTNERS: [(&str, &str, Role); 3] = [
    ("leerplicht", "Lotte Leerplicht", Role::Leerplichtambtenaar),
    ("jeugdarts", "Jaap Jeugdarts", Role::Jeugdarts),
    ("keten", "Karin Keten (VO WIJ)", Role::Ketenpartner),
];

/// How many cases of each kind the demo opens.
const CASES_3A: usize = 3;
const CASES_4B: usize = 3;

fn answer(key: &str, text: &str) -> Answer {
    Answer {
        key: key.to_owned(),
        text: text.to_owned(),
    }
}

/// The date `n` school days after school day `d` (working days past the
/// calendar's end).
fn school_days_after(cal: &Calendar, d: NaiveDate, n: u32) -> NaiveDate {
    match cal.on_or_after(d) {
        Some(i) => cal.add_school_days(i, n),
        None => cal.add_working_days(d, n),
    }
}

/// The stored account of demo partner `username` (its account id is what
/// a case records).
async fn partner(store: &dyn Store, username: &str) -> anyhow::Result<User> {
    store
        .user(username)
        .await?
        .with_context(|| format!("demo-account {username} ontbreekt: maak eerst de accounts aan"))
}

/// Opens the demo's cases and melding drafts; returns the students with a
/// case, in student order. The [`PARTNERS`]' accounts must exist.
pub async fn seed(
    store: &dyn Store,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<aanwezig_domain::StudentId>> {
    let leerplicht = partner(store, "leerplicht").await?;
    let jeugdarts = partner(store, "jeugdarts").await?;
    let school = aanwezig_domain::school_settings::SchoolSettings {
        name: "Demoschool aanwezig".into(),
        brin: "12AB".into(),
        vestiging: "00".into(),
        phone: "050 123 4567".into(),
    };
    store
        .save_settings(
            aanwezig_storage::DocumentKind::School,
            &serde_json::to_string(&school)?,
            "demo",
            now,
        )
        .await?;
    let loaded = aanwezig_storage::load_school(store).await?;
    let (Some(cal), policy) = (loaded.calendar, loaded.policy.unwrap_or_default()) else {
        return Ok(Vec::new());
    };
    let Some(through) = cal.on_or_before(today) else {
        return Ok(Vec::new());
    };
    let engine = Engine::new(&cal, &policy);
    let evaluations = loaded.school.evaluate_all(&engine, Some(through));
    let coordinator = Actor::new("coordinator", Role::Verzuimcoordinator);
    let zorg = Actor::new("zorg", Role::Ondersteuningscoordinator);
    let mut made_3a = 0;
    let mut made_4b = 0;
    let mut with_case = Vec::new();
    for (i, ev) in evaluations.iter().enumerate() {
        if made_3a >= CASES_3A && made_4b >= CASES_4B {
            break;
        }
        let student = &loaded.school.students()[i];
        let mentor = Actor::new(student.mentor.clone(), Role::Mentor);
        let duo = ev.signals.iter().find(|s| s.rule == RuleId::Duo16h);
        let three_a = ev
            .signals
            .iter()
            .find(|s| matches!(s.rule, RuleId::AfmeldingCount | RuleId::AfmeldingLong));
        if let (Some(sig), true) = (duo, made_4b < CASES_4B) {
            let fired = cal.date(sig.fired_on);
            let mut case = Case::open(
                student.id.clone(),
                fired,
                coordinator.clone(),
                OpenReason::Signal {
                    rule: sig.rule,
                    on: fired,
                },
                CaseStep::S4b,
            )?;
            let talk = school_days_after(&cal, fired, 1).min(today);
            case.add_contact(ContactMoment {
                on: talk,
                kind: ContactKind::GesprekOpSchool,
                minutes: Some(45),
                participants: vec![Party::Leerling, Party::Ouders, Party::School],
                by: mentor.clone(),
                guide: Some(Guide::C),
                answers: vec![
                    answer(
                        "c_reden",
                        "Leerling zegt 's ochtends moeilijk op gang te komen.",
                    ),
                    answer(
                        "c_school",
                        "Eerste uur melden bij de mentor; gemiste stof bijpraten.",
                    ),
                ],
                note: String::new(),
            })?;
            case.add_agreement(Agreement {
                who: AgreementParty::Student,
                what: "Elke ochtend om 8.20 uur melden bij de mentor.".into(),
                made_on: talk,
                by_when: None,
                contact: Some(0),
                kept: Vec::new(),
            })?;
            case.involve(
                &leerplicht.identity(),
                Role::Leerplichtambtenaar,
                talk,
                coordinator.clone(),
            )?;
            case.start_intervention(
                InterventionKind::Afspraken,
                "Dagelijks melden bij de mentor",
                talk,
                coordinator.clone(),
            )?;
            let check = school_days_after(&cal, talk, 5);
            if check <= today {
                case.check_agreement(
                    0,
                    WeeklyCheck {
                        on: check,
                        kept: true,
                        note: "Vier van de vijf dagen gemeld.".into(),
                    },
                )?;
            }
            store.save_case(&case, "coordinator", now).await?;

            let mut draft = MeldingDraft::from_signal(
                sig,
                loaded.school.registrations(i),
                &cal,
                &policy,
                student,
                today,
            )?;
            draft.suspected_reason =
                "Komt 's ochtends vaak niet; thuis lukt het niet om op tijd te vertrekken.".into();
            draft.reporter = Reporter {
                name: "Vera Verzuim".into(),
                function: "verzuimcoördinator".into(),
                phone: "050 123 4567".into(),
                email: "verzuim@demoschool.example".into(),
            };
            draft.school = SchoolLocation {
                brin: "12AB".into(),
                vestiging: "00".into(),
            };
            // The same lines the web app takes from a case: what the
            // school did, nothing on health or safety.
            draft.actions_taken = aanwezig_domain::case::actions_from_case(&case);
            store.save_melding(None, &draft, "coordinator", now).await?;
            with_case.push(student.id.clone());
            made_4b += 1;
        } else if let (Some(sig), true) = (three_a, made_3a < CASES_3A) {
            let fired = cal.date(sig.fired_on);
            let mut case = Case::open(
                student.id.clone(),
                fired,
                mentor.clone(),
                OpenReason::Signal {
                    rule: sig.rule,
                    on: fired,
                },
                CaseStep::S3a,
            )?;
            let talk = school_days_after(&cal, fired, 2).min(today);
            case.add_contact(ContactMoment {
                on: talk,
                kind: ContactKind::GesprekOpSchool,
                minutes: Some(30),
                participants: vec![Party::Leerling, Party::Ouders, Party::School],
                by: mentor.clone(),
                guide: Some(Guide::C),
                answers: vec![
                    answer(
                        "c_opening",
                        "Zorgen gedeeld; ouders herkennen dat hun kind vaak moe is.",
                    ),
                    answer(
                        "c_school",
                        "Lesstof via de studiewijzer; bijpraten met de mentor.",
                    ),
                ],
                note: String::new(),
            })?;
            case.set_item(
                CaseStep::S3a,
                keys::GESPREK,
                ItemStatus::Done {
                    on: talk,
                    by: mentor.clone(),
                    note: "Gesprek gevoerd met leidraad C.".into(),
                },
            )?;
            case.add_agreement(Agreement {
                who: AgreementParty::Parents,
                what: "Ouders maken een afspraak bij de jeugdarts als de ziekmeldingen doorgaan."
                    .into(),
                made_on: talk,
                by_when: Some(school_days_after(&cal, talk, 10)),
                contact: Some(0),
                kept: Vec::new(),
            })?;
            case.decide(Decision {
                on: talk,
                by: zorg.clone(),
                kind: DecisionKind::Jeugdarts { consent: true },
                parties: vec![Party::Ouders, Party::Jeugdarts],
                note: "Ouders geven toestemming voor een gesprek met de jeugdarts (MAZL).".into(),
            })?;
            case.involve(&jeugdarts.identity(), Role::Jeugdarts, talk, zorg.clone())?;
            store.save_case(&case, &mentor.user, now).await?;
            with_case.push(student.id.clone());
            made_3a += 1;
        }
    }
    Ok(with_case)
}

#[cfg(test)]
mod tests {
    use aanwezig_domain::case::DecisionKind;
    use aanwezig_domain::MeldingStatus;
    use aanwezig_storage::MeldingFilter;
    use aanwezig_storage_sqlite::SqliteStore;
    use chrono::TimeZone;

    use super::*;
    use aanwezig_storage::prelude::*;

    #[tokio::test]
    async fn the_demo_opens_cases_on_its_own_signals() {
        let store = SqliteStore::open_in_memory().await.unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 3, 13).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 3, 13, 9, 0, 0).unwrap();
        crate::commands::demo::load_demo(&store, 400, 2026, today, now)
            .await
            .unwrap();
        assert!(seed(&store, today, now).await.is_err(), "no accounts yet");
        let mut accounts = Vec::new();
        for (username, name, role) in PARTNERS {
            let mut user = User {
                username: username.into(),
                display_name: name.into(),
                role,
                classes: vec![],
                email: None,
                active: true,
                password_hash: "x".into(),
                created_at: now,
                account_id: String::new(),
            };
            user.account_id = store.create_user(&user).await.unwrap();
            accounts.push(user);
        }
        let (leerplicht, jeugdarts) = (&accounts[0], &accounts[1]);
        let n = seed(&store, today, now).await.unwrap().len();
        assert_eq!(n, CASES_3A + CASES_4B, "the demo school has both kinds");
        let cases = store.cases(true).await.unwrap();
        assert_eq!(cases.len(), n);
        let at_3a: Vec<&Case> = cases.iter().filter(|c| c.step == CaseStep::S3a).collect();
        assert_eq!(at_3a.len(), CASES_3A);
        for c in &at_3a {
            assert!(c.involves(&jeugdarts.identity()));
            assert!(c
                .decisions
                .iter()
                .any(|d| d.kind == DecisionKind::Jeugdarts { consent: true }));
            assert_eq!(c.engine_context().conversations_3a.len(), 1);
        }
        let meldingen = store.meldingen(&MeldingFilter::default()).await.unwrap();
        assert_eq!(meldingen.len(), CASES_4B);
        for (_, m) in &meldingen {
            assert_eq!(m.status, MeldingStatus::Concept);
            assert!(!m.actions_taken.is_empty(), "actions come from the case");
            let actions = m.actions_taken.join("\n");
            assert!(!actions.contains("op gang"), "no conversation content");
            let case = cases.iter().find(|c| c.student == m.student).unwrap();
            assert_eq!(case.step, CaseStep::S4b);
            assert!(case.involves(&leerplicht.identity()));
        }
    }
}
