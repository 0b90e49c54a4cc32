//! The case's unit and property tests.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use proptest::prelude::*;

use super::*;
use crate::access::Role;
use crate::calendar::tests::{example_calendar, ymd};
use crate::signal::{RuleId, Track};
use crate::student::StudentId;

fn actor() -> Actor {
    Actor::new("vc", Role::Verzuimcoordinator)
}

/// The account of partner `name`: id `id-<name>`, created long before
/// any case in these tests.
fn who(name: &'static str) -> PartnerIdentity<'static> {
    let account_id = match name {
        "arts" => "id-arts",
        "lpa" => "id-lpa",
        "keten" => "id-keten",
        "m" => "id-m",
        other => panic!("no test account {other}"),
    };
    PartnerIdentity {
        username: name,
        account_id,
        created_on: ymd(2025, 1, 6),
    }
}

fn student() -> StudentId {
    StudentId::parse("1001").unwrap()
}

fn case_at(step: CaseStep, on: NaiveDate) -> Case {
    Case::open(
        student(),
        on,
        actor(),
        OpenReason::Zorgen {
            note: "mentor maakt zich zorgen".into(),
        },
        step,
    )
    .unwrap()
}

fn decision(on: NaiveDate, kind: DecisionKind) -> Decision {
    Decision {
        on,
        by: Actor::new("iot", Role::Ondersteuningscoordinator),
        kind,
        parties: vec![Party::Aoj],
        note: String::new(),
    }
}

fn contact(on: NaiveDate, minutes: Option<u16>) -> ContactMoment {
    ContactMoment {
        on,
        kind: ContactKind::GesprekOpSchool,
        minutes,
        participants: vec![Party::Leerling],
        by: actor(),
        guide: None,
        answers: Vec::new(),
        note: String::new(),
    }
}

fn agreement(made_on: NaiveDate) -> Agreement {
    Agreement {
        who: AgreementParty::Student,
        what: "elke ochtend om 8.20 uur melden bij de mentor".into(),
        made_on,
        by_when: None,
        contact: None,
        kept: Vec::new(),
    }
}

#[test]
fn a_partner_sees_contacts_and_agreements_from_the_day_they_came_in() {
    let mut c = case_at(CaseStep::S3b, ymd(2025, 9, 1));
    let before = c.add_contact(contact(ymd(2025, 9, 3), None)).unwrap();
    let after = c.add_contact(contact(ymd(2025, 10, 6), None)).unwrap();
    let mut old = agreement(ymd(2025, 9, 3));
    old.contact = Some(before);
    c.add_agreement(old).unwrap();
    let mut new = agreement(ymd(2025, 10, 6));
    new.what = "elke vrijdag bij de mentor langs".into();
    new.contact = Some(after);
    c.add_agreement(new).unwrap();
    c.record_mailing(Mailing {
        on: ymd(2025, 10, 7),
        by: actor(),
        to: vec!["ouders@example.nl".into()],
        agreements: vec![0, 1],
    })
    .unwrap();
    c.involve(
        &who("lpa"),
        Role::Leerplichtambtenaar,
        ymd(2025, 10, 1),
        actor(),
    )
    .unwrap();
    assert_eq!(c.partner_since(&who("lpa")), Some(ymd(2025, 10, 1)));
    assert_eq!(c.partner_since(&who("keten")), None);

    let seen = c.limited_to_period(ymd(2025, 10, 1));
    assert_eq!(seen.contacts.len(), 1);
    assert_eq!(seen.contacts[0].on, ymd(2025, 10, 6));
    assert_eq!(seen.agreements.len(), 1);
    assert_eq!(seen.agreements[0].what, "elke vrijdag bij de mentor langs");
    // References follow the renumbering.
    assert_eq!(seen.agreements[0].contact, Some(0));
    assert_eq!(seen.mailings.len(), 1);
    assert_eq!(seen.mailings[0].agreements, vec![0]);
    // The whole case from its first day leaves everything in.
    assert_eq!(c.limited_to_period(ymd(2025, 9, 1)), c);
}

// --- steps and checklists ------------------------------------------

#[test]
fn steps_round_trip_and_follow_the_signals() {
    for s in CaseStep::ALL {
        assert_eq!(CaseStep::parse(s.as_str()), Some(s));
        assert!(!s.label_nl().is_empty());
    }
    assert_eq!(
        CaseStep::for_rule(RuleId::AfmeldingCount),
        Some(CaseStep::S3a)
    );
    assert_eq!(
        CaseStep::for_rule(RuleId::AfmeldingLong),
        Some(CaseStep::S3a)
    );
    assert_eq!(CaseStep::for_rule(RuleId::Unexplained), Some(CaseStep::S3b));
    assert_eq!(
        CaseStep::for_rule(RuleId::AfmeldingPersist),
        Some(CaseStep::S4a)
    );
    assert_eq!(CaseStep::for_rule(RuleId::Duo16h), Some(CaseStep::S4b));
    assert_eq!(CaseStep::for_rule(RuleId::DuoLrv), Some(CaseStep::S4b));
    assert_eq!(CaseStep::for_rule(RuleId::DuoHoliday), Some(CaseStep::S4b));
    assert_eq!(CaseStep::for_rule(RuleId::Contact), None);
    assert_eq!(CaseStep::S4a.track(), Some(Track::A));
    assert_eq!(CaseStep::S3b.track(), Some(Track::B));
    assert_eq!(CaseStep::S5a.track(), None);
}

#[test]
fn every_step_has_its_own_checklist_with_unique_keys() {
    for s in CaseStep::ALL {
        let list = standard_checklist(s);
        assert!(!list.is_empty(), "{s}");
        let keys: BTreeSet<&str> = list.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys.len(), list.len(), "duplicate key at step {s}");
        for i in &list {
            assert_eq!(i.step, s);
            assert!(i.status.is_open());
            assert!(!i.label_nl.trim().is_empty());
        }
    }
}

#[test]
fn checklists_carry_the_seed_actions() {
    let keys = |s| -> Vec<String> { standard_checklist(s).into_iter().map(|i| i.key).collect() };
    let has = |s, k: &str| keys(s).iter().any(|x| x == k);
    for s in [CaseStep::S3a, CaseStep::S3b] {
        assert!(has(s, keys::GESPREK));
        assert!(has(s, "afspraken_vastleggen"));
    }
    assert!(has(CaseStep::S3a, "afweging_ketenpartners"));
    assert!(has(CaseStep::S3b, "afweging_preventief_spreekuur"));
    // The weekly check and six-week evaluation of 4a, 4b and 5a.
    for s in [CaseStep::S4a, CaseStep::S4b, CaseStep::S5a] {
        assert!(has(s, keys::WEKELIJKSE_CHECK), "{s}");
        assert!(has(s, keys::EVALUATIE), "{s}");
    }
    for s in [CaseStep::S4a, CaseStep::S4b] {
        assert!(has(s, keys::INDIGO), "{s}");
    }
    assert!(has(CaseStep::S4b, keys::DUO_MELDING));
    assert!(has(CaseStep::S5b, "vo_wij_inzetten"));
    assert!(has(CaseStep::S5b, "contact_houden"));
    assert!(has(CaseStep::S6, "maatwerktraject"));
    assert!(has(CaseStep::S6, "vrijstelling"));
    // Leerplicht's own action at 4b; the AOJ leads 5a, 5b and 6.
    let l4b = standard_checklist(CaseStep::S4b);
    assert!(l4b
        .iter()
        .any(|i| i.key == "leerplicht_afspraken" && i.party == Party::Leerplicht));
    for s in [CaseStep::S5a, CaseStep::S5b, CaseStep::S6] {
        assert!(standard_checklist(s).iter().any(|i| i.party == Party::Aoj));
    }
    assert!(standard_checklist(CaseStep::S5b)
        .iter()
        .any(|i| i.label_nl.contains("meldcode")));
}

#[test]
fn checklist_items_are_ticked_with_date_and_note() {
    let d = ymd(2025, 9, 1);
    let mut c = case_at(CaseStep::S3a, d);
    let done = ItemStatus::Done {
        on: ymd(2025, 9, 3),
        by: actor(),
        note: "met moeder en leerling".into(),
    };
    c.set_item(CaseStep::S3a, keys::GESPREK, done.clone())
        .unwrap();
    c.set_item(
        CaseStep::S3a,
        "afweging_ketenpartners",
        ItemStatus::NotApplicable {
            on: ymd(2025, 9, 3),
            by: actor(),
            note: String::new(),
        },
    )
    .unwrap();
    assert_eq!(c.engine_context().conversations_3a, vec![ymd(2025, 9, 3)]);
    assert_eq!(
        c.checklist_of(CaseStep::S3a)
            .filter(|i| i.status.is_open())
            .count(),
        1
    );
    assert_eq!(
        c.set_item(CaseStep::S4a, keys::GESPREK, done),
        Err(CaseError::UnknownChecklistItem {
            step: CaseStep::S4a,
            key: keys::GESPREK.into()
        })
    );
}

// --- opening and transitions ----------------------------------------

#[test]
fn a_case_opens_on_step_3_or_4_only() {
    let d = ymd(2025, 9, 1);
    for s in [CaseStep::S5a, CaseStep::S5b, CaseStep::S6] {
        assert_eq!(
            Case::open(
                student(),
                d,
                actor(),
                OpenReason::Zorgen { note: "x".into() },
                s
            ),
            Err(CaseError::OpensAtDecisionStep(s))
        );
    }
    let c = Case::open(
        student(),
        d,
        actor(),
        OpenReason::Signal {
            rule: RuleId::Duo16h,
            on: d,
        },
        CaseStep::S4b,
    )
    .unwrap();
    assert_eq!(c.step, CaseStep::S4b);
    assert!(c.checklist.iter().all(|i| i.step == CaseStep::S4b));
    assert_eq!(
        Case::open(
            student(),
            d,
            actor(),
            OpenReason::Zorgen { note: "  ".into() },
            CaseStep::S3a
        ),
        Err(CaseError::MissingReason)
    );
}

#[test]
fn moves_between_steps_3_and_4_go_every_way_and_are_recorded() {
    let lower = [CaseStep::S3a, CaseStep::S3b, CaseStep::S4a, CaseStep::S4b];
    for from in lower {
        for to in lower {
            let d = ymd(2025, 9, 1);
            let mut c = case_at(from, d);
            let r = c.move_to(to, ymd(2025, 9, 8), actor(), "signaal");
            if from == to {
                assert_eq!(r, Err(CaseError::SameStep(to)));
                continue;
            }
            r.unwrap();
            assert_eq!(c.step, to);
            assert_eq!(
                c.history,
                vec![StepChange {
                    from,
                    to,
                    at_date: ymd(2025, 9, 8),
                    by: actor(),
                    why: "signaal".into()
                }]
            );
            assert!(c.checklist_of(to).count() > 0);
            assert!(c.checklist_of(from).count() > 0, "old items are kept");
        }
    }
}

#[test]
fn a_step_change_needs_a_reason_and_no_backdating() {
    let mut c = case_at(CaseStep::S3b, ymd(2025, 9, 8));
    assert_eq!(
        c.move_to(CaseStep::S4b, ymd(2025, 9, 10), actor(), " "),
        Err(CaseError::MissingReason)
    );
    assert_eq!(
        c.move_to(CaseStep::S4b, ymd(2025, 9, 5), actor(), "16 uur"),
        Err(CaseError::Backdated {
            on: ymd(2025, 9, 5),
            earliest: ymd(2025, 9, 8)
        })
    );
    c.move_to(CaseStep::S4b, ymd(2025, 9, 11), actor(), "16 uur")
        .unwrap();
    assert!(matches!(
        c.move_to(CaseStep::S3b, ymd(2025, 9, 10), actor(), "terug"),
        Err(CaseError::Backdated { .. })
    ));
    // The same day as the last change is fine.
    c.move_to(
        CaseStep::S3b,
        ymd(2025, 9, 11),
        actor(),
        "DUO-melding was onterecht",
    )
    .unwrap();
    assert_eq!(c.history.len(), 2);
}

#[test]
fn re_entering_a_step_keeps_its_checklist_without_duplicates() {
    let mut c = case_at(CaseStep::S3a, ymd(2025, 9, 1));
    c.set_item(
        CaseStep::S3a,
        keys::GESPREK,
        ItemStatus::Done {
            on: ymd(2025, 9, 2),
            by: actor(),
            note: String::new(),
        },
    )
    .unwrap();
    c.move_to(CaseStep::S4a, ymd(2025, 9, 20), actor(), "aanhoudend")
        .unwrap();
    c.move_to(CaseStep::S3a, ymd(2025, 10, 1), actor(), "gaat beter")
        .unwrap();
    assert_eq!(
        c.checklist_of(CaseStep::S3a).count(),
        standard_checklist(CaseStep::S3a).len()
    );
    assert_eq!(c.engine_context().conversations_3a, vec![ymd(2025, 9, 2)]);
}

#[test]
fn step_5_follows_step_4_only() {
    let d = ymd(2025, 9, 1);
    for from in [CaseStep::S3a, CaseStep::S3b] {
        let mut c = case_at(from, d);
        c.decide(decision(d, DecisionKind::Cooperation { cooperates: true }))
            .unwrap();
        assert_eq!(
            c.move_to(CaseStep::S5a, d, actor(), "x"),
            Err(CaseError::Step5NeedsStep4 {
                from,
                to: CaseStep::S5a
            })
        );
    }
}

#[test]
fn step_5_needs_the_familys_cooperation_recorded() {
    let d = ymd(2025, 10, 1);
    let mut c = case_at(CaseStep::S4a, d);
    assert_eq!(
        c.move_to(CaseStep::S5a, d, actor(), "AOJ"),
        Err(CaseError::CooperationNotRecorded(CaseStep::S5a))
    );
    // A decision dated after the move does not count yet.
    c.decide(decision(
        ymd(2025, 10, 8),
        DecisionKind::Cooperation { cooperates: true },
    ))
    .unwrap();
    assert_eq!(
        c.move_to(CaseStep::S5a, ymd(2025, 10, 7), actor(), "AOJ"),
        Err(CaseError::CooperationNotRecorded(CaseStep::S5a))
    );
    assert_eq!(
        c.move_to(CaseStep::S5b, ymd(2025, 10, 8), actor(), "AOJ"),
        Err(CaseError::CooperationMismatch {
            to: CaseStep::S5b,
            cooperates: true
        })
    );
    c.move_to(CaseStep::S5a, ymd(2025, 10, 8), actor(), "AOJ")
        .unwrap();
    // The family stops cooperating: a new decision, then 5b.
    assert!(matches!(
        c.move_to(CaseStep::S5b, ymd(2025, 11, 3), actor(), "geen medewerking"),
        Err(CaseError::CooperationMismatch { .. })
    ));
    c.decide(decision(
        ymd(2025, 11, 3),
        DecisionKind::Cooperation { cooperates: false },
    ))
    .unwrap();
    c.move_to(CaseStep::S5b, ymd(2025, 11, 3), actor(), "geen medewerking")
        .unwrap();
    assert_eq!(c.step, CaseStep::S5b);
    assert!(c.checklist_of(CaseStep::S5a).count() > 0);
    assert!(c.checklist_of(CaseStep::S5b).count() > 0);
}

#[test]
fn step_6_is_a_maatwerk_decision_after_step_5() {
    let d = ymd(2025, 10, 1);
    let mut c = case_at(CaseStep::S4b, d);
    c.decide(decision(
        d,
        DecisionKind::Opdc {
            trajectory: OpdcTrajectory::Rebound8,
        },
    ))
    .unwrap();
    assert_eq!(
        c.move_to(CaseStep::S6, d, actor(), "OPDC"),
        Err(CaseError::MaatwerkNeedsStep5(CaseStep::S4b))
    );
    let mut c = case_at(CaseStep::S4b, d);
    c.decide(decision(d, DecisionKind::Cooperation { cooperates: false }))
        .unwrap();
    c.move_to(CaseStep::S5b, d, actor(), "AOJ").unwrap();
    // Other decisions are not maatwerk.
    c.decide(decision(d, DecisionKind::Ect)).unwrap();
    c.decide(decision(d, DecisionKind::VoWij { consent: false }))
        .unwrap();
    assert_eq!(
        c.move_to(CaseStep::S6, d, actor(), "maatwerk"),
        Err(CaseError::MaatwerkNotDecided)
    );
    c.decide(decision(ymd(2025, 11, 5), DecisionKind::Vrijstelling))
        .unwrap();
    c.move_to(
        CaseStep::S6,
        ymd(2025, 11, 5),
        actor(),
        "vrijstelling aangevraagd",
    )
    .unwrap();
    assert_eq!(c.step, CaseStep::S6);
    // Down from 6: to 5 (with the recorded cooperation) or 4 or 3.
    assert!(matches!(
        c.move_to(CaseStep::S5a, ymd(2025, 12, 1), actor(), "x"),
        Err(CaseError::CooperationMismatch { .. })
    ));
    c.move_to(CaseStep::S5b, ymd(2025, 12, 1), actor(), "traject gestopt")
        .unwrap();
    c.move_to(
        CaseStep::S4b,
        ymd(2025, 12, 2),
        actor(),
        "terug naar school",
    )
    .unwrap();
    c.move_to(CaseStep::S3b, ymd(2025, 12, 3), actor(), "gaat beter")
        .unwrap();
    assert_eq!(c.history.len(), 5);
    assert_eq!(c.step_on(ymd(2025, 11, 20)), Some(CaseStep::S6));
    assert_eq!(c.step_on(ymd(2025, 10, 1)), Some(CaseStep::S5b));
    assert_eq!(c.step_on(ymd(2025, 9, 30)), None);
}

#[test]
fn every_maatwerk_decision_opens_step_6() {
    for kind in [
        DecisionKind::Opdc {
            trajectory: OpdcTrajectory::Ttvo,
        },
        DecisionKind::Opdc {
            trajectory: OpdcTrajectory::Doorstart,
        },
        DecisionKind::Opdc {
            trajectory: OpdcTrajectory::Rebound13,
        },
        DecisionKind::Vrijstelling,
        DecisionKind::OtherMaatwerk,
    ] {
        let d = ymd(2025, 10, 1);
        let mut c = case_at(CaseStep::S4a, d);
        c.decide(decision(d, DecisionKind::Cooperation { cooperates: true }))
            .unwrap();
        c.move_to(CaseStep::S5a, d, actor(), "AOJ").unwrap();
        c.decide(decision(d, kind)).unwrap();
        c.move_to(CaseStep::S6, d, actor(), "maatwerk").unwrap();
    }
}

#[test]
fn closing_and_reopening() {
    let mut c = case_at(CaseStep::S4a, ymd(2025, 9, 1));
    let i = c
        .start_intervention(
            InterventionKind::Afspraken,
            "afspraken",
            ymd(2025, 9, 2),
            actor(),
        )
        .unwrap();
    assert_eq!(
        c.reopen(ymd(2025, 9, 3), actor(), "x"),
        Err(CaseError::NotClosed)
    );
    assert_eq!(
        c.close(ymd(2025, 10, 1), actor(), ClosureReason::Anders, ""),
        Err(CaseError::MissingReason)
    );
    assert!(matches!(
        c.close(
            ymd(2025, 8, 30),
            actor(),
            ClosureReason::AanwezigheidHersteld,
            ""
        ),
        Err(CaseError::Backdated { .. })
    ));
    c.close(
        ymd(2025, 10, 1),
        actor(),
        ClosureReason::AanwezigheidHersteld,
        "",
    )
    .unwrap();
    assert!(!c.is_open());
    assert_eq!(c.interventions[i].ended_on, Some(ymd(2025, 10, 1)));
    assert_eq!(c.step_on(ymd(2025, 10, 2)), None);
    // Nothing changes on a closed case.
    assert_eq!(
        c.move_to(CaseStep::S4b, ymd(2025, 10, 2), actor(), "x"),
        Err(CaseError::Closed)
    );
    assert_eq!(
        c.close(ymd(2025, 10, 2), actor(), ClosureReason::Anders, "x"),
        Err(CaseError::Closed)
    );
    assert_eq!(
        c.add_contact(contact(ymd(2025, 10, 2), None)),
        Err(CaseError::Closed)
    );
    assert_eq!(
        c.decide(decision(ymd(2025, 10, 2), DecisionKind::Ect)),
        Err(CaseError::Closed)
    );
    assert!(c.tasks(&example_calendar(), ymd(2025, 12, 1)).is_empty());
    // Reopening: not before the closing, with a reason, at the old step.
    assert!(matches!(
        c.reopen(ymd(2025, 9, 30), actor(), "weer afwezig"),
        Err(CaseError::Backdated { .. })
    ));
    assert_eq!(
        c.reopen(ymd(2025, 11, 3), actor(), ""),
        Err(CaseError::MissingReason)
    );
    c.reopen(ymd(2025, 11, 3), actor(), "weer vaak afwezig")
        .unwrap();
    assert!(c.is_open());
    assert_eq!(c.step, CaseStep::S4a);
    assert_eq!(c.reopenings.len(), 1);
    assert_eq!(c.reopenings[0].closure.on, ymd(2025, 10, 1));
    assert_eq!(c.step_on(ymd(2025, 10, 15)), None);
    assert_eq!(c.step_on(ymd(2025, 11, 3)), Some(CaseStep::S4a));
    assert!(matches!(
        c.move_to(CaseStep::S4b, ymd(2025, 11, 2), actor(), "x"),
        Err(CaseError::Backdated { .. })
    ));
    c.move_to(CaseStep::S4b, ymd(2025, 11, 4), actor(), "16 uur")
        .unwrap();
}

// --- contacts, agreements, decisions ---------------------------------

#[test]
fn guides_have_unique_question_keys_in_dutch() {
    for g in Guide::ALL {
        let keys: BTreeSet<&str> = g.questions().iter().map(|q| q.key).collect();
        assert_eq!(keys.len(), g.questions().len());
        assert!(g.questions().iter().all(|q| !q.text_nl.is_empty()));
    }
    assert_eq!(Guide::B.questions().len(), 6);
    // Guide C reminds the asker not to ask about the illness.
    assert!(Guide::C
        .question("c_reden")
        .and_then(|q| q.hint_nl)
        .is_some_and(|h| h.contains("aard van de ziekte")));
}

#[test]
fn answers_must_belong_to_the_guide() {
    let mut c = case_at(CaseStep::S3a, ymd(2025, 9, 1));
    let mut m = contact(ymd(2025, 9, 2), Some(30));
    m.answers.push(Answer {
        key: "b_hoe_gaat_het".into(),
        text: "goed".into(),
    });
    assert_eq!(
        c.add_contact(m.clone()),
        Err(CaseError::AnswersWithoutGuide)
    );
    m.guide = Some(Guide::C);
    assert_eq!(
        c.add_contact(m.clone()),
        Err(CaseError::UnknownQuestion {
            guide: Guide::C,
            key: "b_hoe_gaat_het".into()
        })
    );
    m.guide = Some(Guide::B);
    assert_eq!(c.add_contact(m), Ok(0));
}

#[test]
fn agreements_and_their_checks() {
    let mut c = case_at(CaseStep::S3a, ymd(2025, 9, 1));
    let mut a = agreement(ymd(2025, 9, 2));
    a.contact = Some(0);
    assert_eq!(
        c.add_agreement(a.clone()),
        Err(CaseError::UnknownContact(0))
    );
    c.add_contact(contact(ymd(2025, 9, 2), None)).unwrap();
    let mut empty = a.clone();
    empty.what = " ".into();
    assert_eq!(c.add_agreement(empty), Err(CaseError::EmptyAgreement));
    let i = c.add_agreement(a).unwrap();
    let check = |on| WeeklyCheck {
        on,
        kept: true,
        note: String::new(),
    };
    assert!(matches!(
        c.check_agreement(i, check(ymd(2025, 9, 1))),
        Err(CaseError::BeforeStart { .. })
    ));
    assert_eq!(
        c.check_agreement(9, check(ymd(2025, 9, 9))),
        Err(CaseError::UnknownAgreement(9))
    );
    c.check_agreement(i, check(ymd(2025, 9, 9))).unwrap();
    assert_eq!(c.agreements[i].kept.len(), 1);
}

#[test]
fn the_meldcode_is_visible_only_to_the_roles_that_handle_it() {
    let d = ymd(2025, 10, 1);
    let mut c = case_at(CaseStep::S4b, d);
    c.decide(decision(d, DecisionKind::VoWij { consent: false }))
        .unwrap();
    c.decide(decision(d, DecisionKind::Meldcode)).unwrap();
    assert_eq!(
        c.redacted_for(Role::Ondersteuningscoordinator)
            .decisions
            .len(),
        2
    );
    for r in [
        Role::Mentor,
        Role::Verzuimcoordinator,
        Role::Leerplichtambtenaar,
    ] {
        let v = c.redacted_for(r);
        assert_eq!(v.decisions.len(), 1, "{r}");
        assert!(v.decisions.iter().all(|d| d.kind != DecisionKind::Meldcode));
    }
}

#[test]
fn interventions_start_evaluate_and_end() {
    let mut c = case_at(CaseStep::S4a, ymd(2025, 9, 1));
    assert_eq!(
        c.start_intervention(InterventionKind::Afspraken, "", ymd(2025, 9, 1), actor()),
        Err(CaseError::MissingReason)
    );
    let i = c
        .start_intervention(
            InterventionKind::Afspraken,
            "afspraken",
            ymd(2025, 9, 8),
            actor(),
        )
        .unwrap();
    assert_eq!(c.interventions[i].step, CaseStep::S4a);
    let ev = |on| Evaluation {
        on,
        by: actor(),
        note: String::new(),
        before: None,
        since: None,
    };
    assert!(matches!(
        c.evaluate(i, ev(ymd(2025, 9, 1))),
        Err(CaseError::BeforeStart { .. })
    ));
    assert_eq!(
        c.evaluate(3, ev(ymd(2025, 9, 9))),
        Err(CaseError::UnknownIntervention(3))
    );
    c.evaluate(i, ev(ymd(2025, 10, 13))).unwrap();
    assert!(matches!(
        c.end_intervention(i, ymd(2025, 9, 1)),
        Err(CaseError::BeforeStart { .. })
    ));
    c.end_intervention(i, ymd(2025, 10, 13)).unwrap();
    assert_eq!(
        c.end_intervention(i, ymd(2025, 10, 14)),
        Err(CaseError::InterventionEnded)
    );
    let (before, after) = c.interventions[i].comparison_periods(ymd(2025, 10, 13));
    assert_eq!(after, (ymd(2025, 9, 8), ymd(2025, 10, 13)));
    assert_eq!(before, (ymd(2025, 8, 3), ymd(2025, 9, 7)));
    assert_eq!(
        (before.1 - before.0).num_days(),
        (after.1 - after.0).num_days()
    );
}

// --- deadlines ------------------------------------------------------

fn only(tasks: &[Task], f: impl Fn(&TaskKind) -> bool) -> Vec<&Task> {
    tasks.iter().filter(|t| f(&t.kind)).collect()
}

#[test]
fn the_call_is_due_the_next_school_day() {
    let cal = example_calendar();
    let mut c = Case::open(
        student(),
        ymd(2025, 9, 2),
        actor(),
        OpenReason::Signal {
            rule: RuleId::Contact,
            on: ymd(2025, 9, 2),
        },
        CaseStep::S3a,
    )
    .unwrap();
    let t = c.tasks(&cal, ymd(2025, 9, 2));
    assert_eq!(t.len(), 1);
    assert_eq!(
        t[0].kind,
        TaskKind::Call {
            absent_on: ymd(2025, 9, 2)
        }
    );
    assert_eq!(t[0].due, ymd(2025, 9, 3));
    assert!(!t[0].overdue);
    assert!(c.tasks(&cal, ymd(2025, 9, 4))[0].overdue);
    // Before the herfstvakantie the next school day is after it.
    c.link_signal(RuleId::Contact, ymd(2025, 10, 17)).unwrap();
    c.link_signal(RuleId::Contact, ymd(2025, 10, 17)).unwrap();
    c.add_contact(contact(ymd(2025, 9, 3), Some(10))).unwrap();
    let t = c.tasks(&cal, ymd(2025, 10, 27));
    assert_eq!(t.len(), 1, "the September call was made; one October call");
    assert_eq!(t[0].due, ymd(2025, 10, 27));
    assert!(!t[0].overdue);
    assert!(c.tasks(&cal, ymd(2025, 10, 28))[0].overdue);
    // A signal not yet fired on `today` makes no task.
    assert!(c.tasks(&cal, ymd(2025, 10, 16)).is_empty());
    // Other signals make no call.
    c.link_signal(RuleId::AfmeldingCount, ymd(2025, 10, 28))
        .unwrap();
    c.add_contact(contact(ymd(2025, 10, 27), None)).unwrap();
    assert!(c.tasks(&cal, ymd(2025, 11, 3)).is_empty());
    // The studiedag of 24 Nov is skipped too.
    assert_eq!(next_school_day(&cal, ymd(2025, 11, 21)), ymd(2025, 11, 25));
}

#[test]
fn the_weekly_check_comes_every_seven_days_from_step_4() {
    let cal = example_calendar();
    let mut c = case_at(CaseStep::S3a, ymd(2025, 9, 1));
    let i = c
        .start_intervention(
            InterventionKind::Afspraken,
            "afspraken",
            ymd(2025, 9, 1),
            actor(),
        )
        .unwrap();
    let weekly = |c: &Case, today| {
        c.tasks(&cal, today)
            .into_iter()
            .filter(|t| matches!(t.kind, TaskKind::WeeklyCheck { .. }))
            .collect::<Vec<_>>()
    };
    assert!(
        weekly(&c, ymd(2025, 9, 9)).is_empty(),
        "no weekly check at step 3"
    );
    c.move_to(CaseStep::S4a, ymd(2025, 9, 1), actor(), "aanhoudend")
        .unwrap();
    let t = weekly(&c, ymd(2025, 9, 8));
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].due, ymd(2025, 9, 8));
    assert!(!t[0].overdue);
    assert!(weekly(&c, ymd(2025, 9, 9))[0].overdue);
    // A check on Friday moves the next one to the Friday after.
    let a = c.add_agreement(agreement(ymd(2025, 9, 1))).unwrap();
    c.check_agreement(
        a,
        WeeklyCheck {
            on: ymd(2025, 9, 5),
            kept: false,
            note: "twee keer te laat".into(),
        },
    )
    .unwrap();
    let t = weekly(&c, ymd(2025, 9, 9));
    assert_eq!(t[0].due, ymd(2025, 9, 12));
    assert!(!t[0].overdue);
    assert_eq!(c.next_weekly_check(&cal, i), Some(ymd(2025, 9, 12)));
    // Overdue when today is past it and no check was recorded.
    assert!(weekly(&c, ymd(2025, 9, 15))[0].overdue);
    // An ended intervention asks nothing.
    c.end_intervention(i, ymd(2025, 9, 12)).unwrap();
    assert!(weekly(&c, ymd(2025, 9, 15)).is_empty());
}

#[test]
fn a_due_date_in_a_holiday_moves_to_a_school_day() {
    let cal = example_calendar();
    // Seven days after Mon 13 Oct is in the herfstvakantie: Fri 17 Oct.
    assert_eq!(due_within(&cal, ymd(2025, 10, 13), 7), ymd(2025, 10, 17));
    // Seven days after Fri 17 Oct hold no school day: Mon 27 Oct.
    assert_eq!(due_within(&cal, ymd(2025, 10, 17), 7), ymd(2025, 10, 27));
    // A Saturday limit moves back to Friday.
    assert_eq!(due_within(&cal, ymd(2025, 9, 6), 7), ymd(2025, 9, 12));
}

#[test]
fn the_evaluation_is_due_within_six_weeks_even_when_all_goes_well() {
    let cal = example_calendar();
    let mut c = case_at(CaseStep::S4b, ymd(2025, 9, 1));
    let i = c
        .start_intervention(
            InterventionKind::Afspraken,
            "afspraken",
            ymd(2025, 9, 1),
            actor(),
        )
        .unwrap();
    let a = c.add_agreement(agreement(ymd(2025, 9, 1))).unwrap();
    for day in [5, 12, 19, 26] {
        c.check_agreement(
            a,
            WeeklyCheck {
                on: ymd(2025, 9, day),
                kept: true,
                note: String::new(),
            },
        )
        .unwrap();
    }
    let evals = |c: &Case, today| -> Vec<Task> {
        c.tasks(&cal, today)
            .into_iter()
            .filter(|t| matches!(t.kind, TaskKind::Evaluation { .. }))
            .collect()
    };
    let t = evals(&c, ymd(2025, 9, 29));
    assert_eq!(t.len(), 1, "all agreements kept, still an evaluation");
    assert_eq!(t[0].due, ymd(2025, 10, 13));
    assert!(!t[0].overdue);
    assert!(evals(&c, ymd(2025, 10, 14))[0].overdue);
    // After an evaluation the next is due six weeks later.
    c.evaluate(
        i,
        Evaluation {
            on: ymd(2025, 10, 10),
            by: actor(),
            note: "gaat goed".into(),
            before: None,
            since: None,
        },
    )
    .unwrap();
    assert_eq!(evals(&c, ymd(2025, 10, 14))[0].due, ymd(2025, 11, 21));
    // Six weeks ending in the herfstvakantie: the school day before.
    let mut c = case_at(CaseStep::S3b, ymd(2025, 9, 8));
    c.start_intervention(
        InterventionKind::Afspraken,
        "afspraken",
        ymd(2025, 9, 8),
        actor(),
    )
    .unwrap();
    assert_eq!(evals(&c, ymd(2025, 9, 8))[0].due, ymd(2025, 10, 17));
}

#[test]
fn a_thuiswerkplan_needs_two_contacts_of_two_hours_a_week() {
    let cal = example_calendar();
    let mut c = case_at(CaseStep::S4a, ymd(2025, 10, 27));
    c.decide(decision(
        ymd(2025, 11, 3),
        DecisionKind::Cooperation { cooperates: true },
    ))
    .unwrap();
    c.move_to(CaseStep::S5a, ymd(2025, 11, 3), actor(), "AOJ")
        .unwrap();
    let i = c
        .start_intervention(
            InterventionKind::Thuiswerkplan,
            "thuiswerkplan",
            ymd(2025, 11, 3),
            actor(),
        )
        .unwrap();
    // Week 45: two contacts of two hours. Week 46: one of two hours,
    // one of 90 minutes. Week 47 (current): none yet.
    for (d, m) in [(4, 120), (6, 150), (11, 120), (13, 90)] {
        c.add_contact(contact(ymd(2025, 11, d), Some(m))).unwrap();
    }
    let weeks = c.thuiswerk_weeks(&cal, i, ymd(2025, 11, 19));
    let counts: Vec<(u32, usize)> = weeks.iter().map(|(w, n, _)| (w.week(), *n)).collect();
    assert_eq!(counts, vec![(45, 2), (46, 1), (47, 0)]);
    let t = c.tasks(&cal, ymd(2025, 11, 19));
    let tw = only(&t, |k| matches!(k, TaskKind::ThuiswerkWeek { .. }));
    assert_eq!(tw.len(), 2);
    assert_eq!(
        tw[0].kind,
        TaskKind::ThuiswerkWeek {
            intervention: i,
            iso_year: 2025,
            iso_week: 46,
            contacts: 1
        }
    );
    assert_eq!(tw[0].due, ymd(2025, 11, 14));
    assert!(tw[0].overdue);
    assert_eq!(tw[1].due, ymd(2025, 11, 21));
    assert!(!tw[1].overdue);
    // A plan starting mid-week counts from the first whole week.
    let mut c2 = case_at(CaseStep::S4a, ymd(2025, 11, 5));
    let j = c2
        .start_intervention(
            InterventionKind::Thuiswerkplan,
            "thuiswerkplan",
            ymd(2025, 11, 5),
            actor(),
        )
        .unwrap();
    let w: Vec<u32> = c2
        .thuiswerk_weeks(&cal, j, ymd(2025, 11, 12))
        .iter()
        .map(|(w, _, _)| w.week())
        .collect();
    assert_eq!(w, vec![46]);
    // The week with the studiedag (Mon 24 Nov) counts; its due day is Friday.
    let wk48 = c2
        .thuiswerk_weeks(&cal, j, ymd(2025, 11, 28))
        .into_iter()
        .find(|(w, _, _)| w.week() == 48)
        .unwrap();
    assert_eq!(wk48.2, ymd(2025, 11, 28));
    // A holiday week asks nothing (herfstvakantie, week 43).
    let mut c3 = case_at(CaseStep::S4a, ymd(2025, 10, 13));
    let k = c3
        .start_intervention(
            InterventionKind::Thuiswerkplan,
            "thuiswerkplan",
            ymd(2025, 10, 13),
            actor(),
        )
        .unwrap();
    let w: Vec<u32> = c3
        .thuiswerk_weeks(&cal, k, ymd(2025, 10, 29))
        .iter()
        .map(|(w, _, _)| w.week())
        .collect();
    assert_eq!(w, vec![42, 44]);
    // Other interventions are no thuiswerkplan.
    let l = c3
        .start_intervention(
            InterventionKind::Afspraken,
            "afspraken",
            ymd(2025, 10, 13),
            actor(),
        )
        .unwrap();
    assert!(c3.thuiswerk_weeks(&cal, l, ymd(2025, 10, 29)).is_empty());
}

#[test]
fn tasks_are_sorted_by_due_date() {
    let cal = example_calendar();
    let mut c = case_at(CaseStep::S4b, ymd(2025, 9, 1));
    c.link_signal(RuleId::Contact, ymd(2025, 9, 1)).unwrap();
    c.start_intervention(
        InterventionKind::Afspraken,
        "afspraken",
        ymd(2025, 9, 1),
        actor(),
    )
    .unwrap();
    let t = c.tasks(&cal, ymd(2025, 9, 10));
    assert_eq!(t.len(), 3);
    assert!(t.windows(2).all(|w| w[0].due <= w[1].due));
    assert!(t.iter().all(|t| !t.label_nl.is_empty()));
}

// --- properties -----------------------------------------------------

fn school_year_date() -> impl Strategy<Value = NaiveDate> {
    (0u64..300).prop_map(|n| ymd(2025, 8, 25) + Days::new(n))
}

#[test]
fn partners_are_brought_in_and_released() {
    let d = ymd(2025, 10, 6);
    let mut c = case_at(CaseStep::S4a, d);
    assert_eq!(c.owner(), "vc");
    // The jeugdarts only after a referral with the parents' consent.
    assert_eq!(
        c.involve(&who("arts"), Role::Jeugdarts, d, actor()),
        Err(CaseError::NoConsent)
    );
    c.decide(decision(d, DecisionKind::Jeugdarts { consent: false }))
        .unwrap();
    assert_eq!(
        c.involve(&who("arts"), Role::Jeugdarts, d, actor()),
        Err(CaseError::NoConsent)
    );
    c.decide(decision(d, DecisionKind::Jeugdarts { consent: true }))
        .unwrap();
    c.involve(&who("arts"), Role::Jeugdarts, d, actor())
        .unwrap();
    // Leerplicht and ketenpartners need no such referral.
    c.involve(&who("lpa"), Role::Leerplichtambtenaar, d, actor())
        .unwrap();
    assert!(c.involves(&who("arts")));
    assert_eq!(
        c.involve(&who("arts"), Role::Jeugdarts, d, actor()),
        Err(CaseError::AlreadyInvolved("arts".into()))
    );
    assert_eq!(
        c.involve(&who("m"), Role::Mentor, d, actor()),
        Err(CaseError::NotAPartner(Role::Mentor))
    );
    c.release("arts", Some("id-arts"), ymd(2025, 10, 20))
        .unwrap();
    assert!(!c.involves(&who("arts")));
    assert_eq!(c.involved[0].until, Some(ymd(2025, 10, 20)));
    assert_eq!(
        c.release("arts", None, d),
        Err(CaseError::NotInvolved("arts".into()))
    );
    // Brought in again later: a new, current involvement.
    c.involve(&who("arts"), Role::Jeugdarts, ymd(2025, 11, 3), actor())
        .unwrap();
    assert!(c.involves(&who("arts")));
}

#[test]
fn an_involvement_follows_the_account_id() {
    let d = ymd(2025, 10, 6);
    let mut c = case_at(CaseStep::S3b, d);
    c.decide(decision(d, DecisionKind::VoWij { consent: true }))
        .unwrap();
    let old = who("keten");
    c.involve(&old, Role::Ketenpartner, d, actor()).unwrap();
    assert_eq!(c.involved[0].account.as_deref(), Some("id-keten"));
    assert_eq!(c.involved[0].user, "keten");
    assert!(c.involves(&old), "the same account id matches");
    // The account was removed and the name given to someone else.
    let newcomer = PartnerIdentity {
        account_id: "id-someone-else",
        created_on: ymd(2025, 11, 1),
        ..old
    };
    assert!(!c.involves(&newcomer), "same name, other id: no access");
    // Even an account that claims to be older does not match by name.
    let older = PartnerIdentity {
        created_on: ymd(2020, 1, 1),
        ..newcomer
    };
    assert!(!c.involves(&older));
    // Nor does another name with the same id matter: the id decides.
    let renamed = PartnerIdentity {
        username: "anders",
        ..old
    };
    assert!(c.involves(&renamed));
    // The newcomer can be brought in on their own account.
    c.involve(&newcomer, Role::Ketenpartner, ymd(2025, 11, 3), actor())
        .unwrap();
    assert!(c.involves(&newcomer));
    assert_eq!(c.release_partner(&old, ymd(2025, 11, 4)), 1);
    assert!(!c.involves(&old));
    assert!(
        c.involves(&newcomer),
        "releasing one account keeps the other"
    );
    assert_eq!(c.release_partner(&old, ymd(2025, 11, 5)), 0, "once");
    assert_eq!(c.involved[0].until, Some(ymd(2025, 11, 4)));
}

/// A case with an involvement recorded before accounts had ids (what a
/// stored JSON without `account` loads as; the storage tests load one).
fn legacy_case(since: NaiveDate) -> Case {
    let mut c = case_at(CaseStep::S3b, since);
    c.involved.push(Involvement {
        user: "keten".into(),
        account: None,
        role: Role::Ketenpartner,
        since,
        by: actor(),
        until: None,
    });
    c
}

#[test]
fn a_legacy_involvement_matches_only_an_account_that_existed_then() {
    let since = ymd(2025, 10, 6);
    let c = legacy_case(since);
    let older = PartnerIdentity {
        username: "keten",
        account_id: "whatever",
        created_on: ymd(2025, 9, 1),
    };
    assert!(c.involves(&older), "account older than the involvement");
    let same_day = PartnerIdentity {
        created_on: since,
        ..older
    };
    assert!(c.involves(&same_day), "created on the day itself");
    let newer = PartnerIdentity {
        created_on: ymd(2025, 10, 7),
        ..older
    };
    assert!(
        !c.involves(&newer),
        "an account created later under the same name gets nothing"
    );
    let other_name = PartnerIdentity {
        username: "keten2",
        ..older
    };
    assert!(!c.involves(&other_name));
}

#[test]
fn releasing_by_name_or_account() {
    let since = ymd(2025, 10, 6);
    let mut c = legacy_case(since);
    // Removing a newer account of the same name leaves the legacy
    // involvement alone: it was not that account's.
    let newer = PartnerIdentity {
        username: "keten",
        account_id: "nieuw",
        created_on: ymd(2025, 10, 7),
    };
    assert_eq!(c.release_partner(&newer, ymd(2025, 10, 8)), 0);
    c.decide(decision(
        ymd(2025, 10, 8),
        DecisionKind::VoWij { consent: true },
    ))
    .unwrap();
    c.involve(&newer, Role::Ketenpartner, ymd(2025, 10, 8), actor())
        .unwrap();
    // The dossier page names an involvement with an account by its id.
    c.release("keten", Some("nieuw"), ymd(2025, 10, 9)).unwrap();
    assert!(c.involved[0].is_active(), "the legacy one stays");
    assert!(!c.involved[1].is_active());
    assert_eq!(
        c.release("keten", Some("nieuw"), ymd(2025, 10, 9)),
        Err(CaseError::NotInvolved("keten".into()))
    );
    // Without an id: every current involvement under the name.
    c.release("keten", None, ymd(2025, 10, 10)).unwrap();
    assert!(c.involved.iter().all(|i| !i.is_active()));
    // The trail shows each end like any other release.
    let trail = format!("{:?}", c.trail_nl());
    assert_eq!(
        trail.matches("keten niet meer betrokken").count(),
        2,
        "{trail}"
    );
}

#[test]
fn confidential_notes_are_the_jeugdarts_alone() {
    let d = ymd(2025, 10, 6);
    let mut c = case_at(CaseStep::S4a, d);
    let note = |role| ConfidentialNote {
        on: d,
        by: Actor::new("x", role),
        text: "vervolgafspraak spreekuur over drie weken".into(),
    };
    assert_eq!(
        c.add_confidential(note(Role::Ondersteuningscoordinator)),
        Err(CaseError::NotAllowed)
    );
    c.add_confidential(note(Role::Jeugdarts)).unwrap();
    assert_eq!(
        c.add_confidential(ConfidentialNote {
            text: "  ".into(),
            ..note(Role::Jeugdarts)
        }),
        Err(CaseError::EmptyNote)
    );
    assert_eq!(c.redacted_for(Role::Jeugdarts).confidential.len(), 1);
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Jeugdarts) {
        assert!(c.redacted_for(role).confidential.is_empty(), "{role}");
    }
}

#[test]
fn partners_see_no_conversation_content_or_addresses() {
    let d = ymd(2025, 10, 6);
    let mut c = case_at(CaseStep::S3b, d);
    let mut m = contact(d, Some(30));
    m.guide = Some(Guide::B);
    m.answers = vec![Answer {
        key: "b_hoe_gaat_het".into(),
        text: "gaat wel".into(),
    }];
    m.note = "vertrouwelijk gesprek".into();
    c.add_contact(m).unwrap();
    c.add_agreement(agreement(d)).unwrap();
    c.parent_emails = vec!["ouder@example.org".into()];
    c.record_mailing(Mailing {
        on: d,
        by: actor(),
        to: vec!["ouder@example.org".into()],
        agreements: vec![0],
    })
    .unwrap();
    assert_eq!(
        c.record_mailing(Mailing {
            on: d,
            by: actor(),
            to: vec![],
            agreements: vec![5],
        }),
        Err(CaseError::UnknownAgreement(5))
    );
    c.decide(decision(d, DecisionKind::Meldcode)).unwrap();
    for role in [
        Role::Leerplichtambtenaar,
        Role::Jeugdarts,
        Role::Ketenpartner,
    ] {
        let r = c.redacted_for(role);
        assert!(r.contacts[0].answers.is_empty() && r.contacts[0].note.is_empty());
        assert_eq!(r.contacts[0].on, d, "when it happened stays");
        assert!(r.parent_emails.is_empty());
        assert!(r.mailings[0].to.is_empty());
        assert_eq!(r.agreements.len(), 1, "agreements are shared");
        assert!(r.decisions.is_empty(), "no meldcode for {role}");
        assert!(
            matches!(&r.reason, OpenReason::Zorgen { note } if note.is_empty()),
            "the school's note stays at school"
        );
    }
    let school = c.redacted_for(Role::Verzuimcoordinator);
    assert_eq!(school.contacts[0].answers.len(), 1);
    assert_eq!(school.parent_emails.len(), 1);
    assert_eq!(
        c.redacted_for(Role::Ondersteuningscoordinator)
            .decisions
            .len(),
        1
    );
}

#[test]
fn the_engine_context_holds_the_3a_conversations() {
    let d = ymd(2025, 10, 6);
    let mut c = case_at(CaseStep::S3a, d);
    assert!(c.engine_context().conversations_3a.is_empty());
    c.set_item(
        CaseStep::S3a,
        keys::GESPREK,
        ItemStatus::Done {
            on: ymd(2025, 10, 8),
            by: actor(),
            note: String::new(),
        },
    )
    .unwrap();
    assert_eq!(c.engine_context().conversations_3a, vec![ymd(2025, 10, 8)]);
    // A contact moment with student and parents at 3a counts too; one
    // with the student alone does not.
    let mut alone = contact(ymd(2025, 10, 9), None);
    alone.participants = vec![Party::Leerling];
    c.add_contact(alone).unwrap();
    let mut both = contact(ymd(2025, 10, 13), None);
    both.participants = vec![Party::Leerling, Party::Ouders];
    c.add_contact(both).unwrap();
    assert_eq!(
        c.engine_context().conversations_3a,
        vec![ymd(2025, 10, 8), ymd(2025, 10, 13)]
    );
    // A 3b conversation is not a 3a conversation.
    let mut b = case_at(CaseStep::S3b, d);
    b.set_item(
        CaseStep::S3b,
        keys::GESPREK,
        ItemStatus::Done {
            on: ymd(2025, 10, 8),
            by: actor(),
            note: String::new(),
        },
    )
    .unwrap();
    assert!(b.engine_context().conversations_3a.is_empty());
}

#[test]
fn the_trail_tells_the_case_in_order() {
    let d = ymd(2025, 10, 6);
    let mut c = case_at(CaseStep::S3b, d);
    c.add_agreement(agreement(ymd(2025, 10, 7))).unwrap();
    c.move_to(CaseStep::S4b, ymd(2025, 10, 9), actor(), "16 uur")
        .unwrap();
    c.close(
        ymd(2025, 10, 20),
        actor(),
        ClosureReason::AanwezigheidHersteld,
        "",
    )
    .unwrap();
    let t = c.trail_nl();
    let lines: Vec<&str> = t.iter().map(|e| e.what_nl.as_str()).collect();
    assert!(
        lines[0].starts_with("Dossier geopend op stap 3b"),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("Afspraak (leerling): elke ochtend"));
    assert_eq!(lines[2], "Stap 3b → 4b: 16 uur");
    assert_eq!(lines[3], "Dossier gesloten: aanwezigheid hersteld");
    assert!(t.windows(2).all(|w| w[0].on <= w[1].on));
    // Redacted first: a partner's trail has no conversation content.
    let mut m = contact(d, None);
    m.note = "geheim".into();
    let mut open = case_at(CaseStep::S3b, d);
    open.add_contact(m).unwrap();
    assert!(open.trail_nl().iter().any(|e| e.what_nl.contains("geheim")));
    assert!(!open
        .redacted_for(Role::Ketenpartner)
        .trail_nl()
        .iter()
        .any(|e| e.what_nl.contains("geheim")));
}

#[test]
fn from_step_4_agreements_are_checked_weekly_even_without_an_intervention() {
    let cal = example_calendar();
    let mut c = case_at(CaseStep::S3b, ymd(2025, 9, 8));
    c.add_agreement(agreement(ymd(2025, 9, 9))).unwrap();
    let checks = |c: &Case, today| -> Vec<NaiveDate> {
        c.tasks(&cal, today)
            .into_iter()
            .filter(|t| t.kind == TaskKind::AgreementCheck)
            .map(|t| t.due)
            .collect()
    };
    assert!(checks(&c, ymd(2025, 9, 30)).is_empty(), "not at step 3");
    c.move_to(CaseStep::S4b, ymd(2025, 9, 15), actor(), "16 uur")
        .unwrap();
    assert_eq!(checks(&c, ymd(2025, 9, 16)), vec![ymd(2025, 9, 22)]);
    c.check_agreement(
        0,
        WeeklyCheck {
            on: ymd(2025, 9, 22),
            kept: true,
            note: String::new(),
        },
    )
    .unwrap();
    assert_eq!(checks(&c, ymd(2025, 9, 23)), vec![ymd(2025, 9, 29)]);
    // A running intervention takes the check over (with its own task).
    c.start_intervention(
        InterventionKind::Afspraken,
        "melden bij de mentor",
        ymd(2025, 9, 23),
        actor(),
    )
    .unwrap();
    assert!(checks(&c, ymd(2025, 9, 24)).is_empty());
}

#[test]
fn numbers_in_messages_count_from_one() {
    assert_eq!(
        CaseError::UnknownAgreement(0).to_string(),
        "er is geen afspraak nummer 1"
    );
    assert_eq!(
        CaseError::UnknownIntervention(2).to_string(),
        "er is geen interventie nummer 3"
    );
}

#[test]
fn a_jeugdarts_referral_is_for_the_jeugdarts_among_the_partners() {
    let d = ymd(2025, 10, 6);
    let mut c = case_at(CaseStep::S3a, d);
    c.decide(decision(d, DecisionKind::Jeugdarts { consent: true }))
        .unwrap();
    c.decide(decision(d, DecisionKind::PreventiefSpreekuur))
        .unwrap();
    let kinds = |role| -> usize { c.redacted_for(role).decisions.len() };
    assert_eq!(kinds(Role::Jeugdarts), 2);
    assert_eq!(kinds(Role::Leerplichtambtenaar), 1);
    assert_eq!(kinds(Role::Ketenpartner), 1);
    assert_eq!(kinds(Role::Mentor), 2);
}

#[test]
fn one_call_covers_every_absence_since_the_last_contact() {
    let cal = example_calendar();
    let mut c = case_at(CaseStep::S3b, ymd(2025, 9, 8));
    for d in [ymd(2025, 9, 9), ymd(2025, 9, 10), ymd(2025, 9, 16)] {
        c.link_signal(RuleId::Contact, d).unwrap();
    }
    let calls = |c: &Case, today| -> Vec<NaiveDate> {
        c.tasks(&cal, today)
            .into_iter()
            .filter_map(|t| match t.kind {
                TaskKind::Call { absent_on } => Some(absent_on),
                _ => None,
            })
            .collect()
    };
    assert_eq!(calls(&c, ymd(2025, 9, 11)), vec![ymd(2025, 9, 9)]);
    // A call on the 11th covers the 9th and 10th; the 16th is new.
    c.add_contact(contact(ymd(2025, 9, 11), None)).unwrap();
    assert!(calls(&c, ymd(2025, 9, 12)).is_empty());
    assert_eq!(calls(&c, ymd(2025, 9, 17)), vec![ymd(2025, 9, 16)]);
}

#[test]
fn party_choices_have_one_key_each() {
    let keys: BTreeSet<&str> = Party::CHOICES.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys.len(), Party::CHOICES.len());
    assert!(!Party::CHOICES
        .iter()
        .any(|(_, p)| matches!(p, Party::Other(_))));
}

#[test]
fn the_case_is_handed_over_to_someone_at_school() {
    let d = ymd(2025, 10, 6);
    let mut c = case_at(CaseStep::S3b, d);
    assert_eq!(c.owner(), "vc");
    assert_eq!(
        c.hand_over("arts", Role::Jeugdarts, d, actor()),
        Err(CaseError::NotALead(Role::Jeugdarts))
    );
    assert_eq!(
        c.hand_over("vc", Role::Verzuimcoordinator, d, actor()),
        Err(CaseError::SameLead("vc".into()))
    );
    c.hand_over("mentor.2b", Role::Mentor, d, actor()).unwrap();
    assert_eq!(c.owner(), "mentor.2b");
    assert_eq!(c.handovers[0].from, "vc");
    assert!(c
        .trail_nl()
        .iter()
        .any(|e| e.what_nl == "Dossierhouder vc → mentor.2b"));
}

#[test]
fn withdrawn_consent_releases_the_jeugdarts() {
    let d = ymd(2025, 10, 6);
    let mut c = case_at(CaseStep::S3a, d);
    c.decide(decision(d, DecisionKind::Jeugdarts { consent: true }))
        .unwrap();
    c.decide(decision(d, DecisionKind::VoWij { consent: true }))
        .unwrap();
    c.involve(&who("arts"), Role::Jeugdarts, d, actor())
        .unwrap();
    c.involve(&who("keten"), Role::Ketenpartner, d, actor())
        .unwrap();
    c.decide(decision(
        ymd(2025, 10, 20),
        DecisionKind::Jeugdarts { consent: false },
    ))
    .unwrap();
    assert!(!c.involves(&who("arts")));
    assert_eq!(c.involved[0].until, Some(ymd(2025, 10, 20)));
    assert!(c.involves(&who("keten")), "other partners stay");
}

/// A care partner (VO WIJ) only with the parents' consent, and released
/// when they withdraw it.
#[test]
fn a_ketenpartner_needs_consent_for_vo_wij() {
    let d = ymd(2025, 10, 6);
    let mut c = case_at(CaseStep::S4b, d);
    assert_eq!(
        c.involve(&who("keten"), Role::Ketenpartner, d, actor()),
        Err(CaseError::NoCareConsent)
    );
    c.decide(decision(d, DecisionKind::VoWij { consent: false }))
        .unwrap();
    assert_eq!(
        c.involve(&who("keten"), Role::Ketenpartner, d, actor()),
        Err(CaseError::NoCareConsent),
        "a decision without consent is no consent"
    );
    c.decide(decision(
        ymd(2025, 10, 7),
        DecisionKind::VoWij { consent: true },
    ))
    .unwrap();
    c.involve(&who("keten"), Role::Ketenpartner, ymd(2025, 10, 7), actor())
        .unwrap();
    assert!(c.involves(&who("keten")));
    c.decide(decision(
        ymd(2025, 10, 20),
        DecisionKind::VoWij { consent: false },
    ))
    .unwrap();
    assert!(!c.involves(&who("keten")), "consent withdrawn: released");
    // Leerplicht needs no consent decision.
    c.involve(
        &who("lpa"),
        Role::Leerplichtambtenaar,
        ymd(2025, 10, 21),
        actor(),
    )
    .unwrap();
}

#[test]
fn partners_get_no_school_notes_and_no_sight_of_the_jeugdarts() {
    let d = ymd(2025, 10, 6);
    let mut c = case_at(CaseStep::S3b, d);
    let mut dec = decision(d, DecisionKind::Jeugdarts { consent: true });
    dec.note = "notitie-a".into();
    c.decide(dec).unwrap();
    c.involve(&who("arts"), Role::Jeugdarts, d, actor())
        .unwrap();
    let mut ect = decision(d, DecisionKind::Ect);
    ect.note = "notitie-b".into();
    c.decide(ect).unwrap();
    c.move_to(CaseStep::S4b, ymd(2025, 10, 7), actor(), "notitie-c")
        .unwrap();
    for role in [Role::Leerplichtambtenaar, Role::Ketenpartner] {
        let r = c.redacted_for(role);
        assert!(r.involved.is_empty(), "{role} does not see the jeugdarts");
        assert_eq!(r.decisions.len(), 1, "the ECT decision is shared");
        let text = format!("{:?}", r.trail_nl());
        for n in ["notitie-a", "notitie-b", "notitie-c"] {
            assert!(!text.contains(n), "{role}: {n}");
        }
    }
    let arts = c.redacted_for(Role::Jeugdarts);
    assert_eq!(arts.involved.len(), 1);
    assert_eq!(arts.decisions.len(), 2);
    assert_eq!(c.redacted_for(Role::Mentor).history[0].why, "notitie-c");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The next weekly check is 1–7 days after the latest check (or the
    /// start) and on a school day; only when those seven days hold no
    /// school day is it the first school day after them.
    #[test]
    fn weekly_check_is_due_within_seven_days(
        start in school_year_date(),
        offsets in proptest::collection::vec(0u64..60, 0..6),
    ) {
        let cal = example_calendar();
        let mut c = case_at(CaseStep::S4b, start);
        let i = c
            .start_intervention(InterventionKind::Afspraken, "afspraken", start, actor())
            .unwrap();
        let a = c.add_agreement(agreement(start)).unwrap();
        for o in &offsets {
            c.check_agreement(a, WeeklyCheck { on: start + Days::new(*o), kept: true, note: String::new() })
                .unwrap();
        }
        let anchor = offsets.iter().max().map_or(start, |o| start + Days::new(*o));
        let due = c.next_weekly_check(&cal, i).unwrap();
        let gap = (due - anchor).num_days();
        if cal.on_or_after(anchor + Days::new(7)).is_none() {
            // Past the calendar: a working day within the seven days.
            prop_assert!((1..=7).contains(&gap), "gap {gap}");
            prop_assert!(cal.is_working_day(due));
            return Ok(());
        }
        prop_assert!(cal.is_school_day(due));
        let school_day_in_week = (1..=7).any(|k| cal.is_school_day(anchor + Days::new(k)));
        if school_day_in_week {
            prop_assert!((1..=7).contains(&gap), "gap {gap}");
        } else {
            prop_assert!(gap > 7);
            prop_assert!((8..gap).all(|k| !cal.is_school_day(anchor + Days::new(u64::try_from(k).unwrap()))));
        }
        // The task is overdue exactly when today is past it.
        let t = c.tasks(&cal, due + Days::new(1));
        let w = t.iter().find(|t| matches!(t.kind, TaskKind::WeeklyCheck { .. })).unwrap();
        prop_assert!(w.overdue);
        let t = c.tasks(&cal, due);
        let w = t.iter().find(|t| matches!(t.kind, TaskKind::WeeklyCheck { .. })).unwrap();
        prop_assert!(!w.overdue);
    }

    /// The evaluation is never later than six weeks after its anchor
    /// when a school day lies in between, and always on a school day.
    #[test]
    fn evaluation_within_six_weeks(start in school_year_date()) {
        let cal = example_calendar();
        let mut c = case_at(CaseStep::S4a, start);
        let i = c.start_intervention(InterventionKind::Afspraken, "x", start, actor()).unwrap();
        let due = c.interventions[i].evaluation_due(&cal);
        prop_assert!(cal.is_school_day(due) || cal.on_or_after(due).is_none());
        prop_assert!(due > start);
        prop_assert!(due <= start + Days::new(EVALUATION_DAYS));
    }

    /// Any sequence of attempted moves keeps the case consistent: the
    /// history chains from the first step to the current one, every
    /// step 5 was entered from 4, 5 or 6, every step 6 from 5, and the
    /// checklist holds each step's items once.
    #[test]
    fn moves_keep_the_case_consistent(
        moves in proptest::collection::vec((0usize..7, any::<bool>(), 0u8..4), 0..30),
    ) {
        let mut c = case_at(CaseStep::S3a, ymd(2025, 9, 1));
        let mut day = ymd(2025, 9, 1);
        for (to, coop, extra) in moves {
            day = day + Days::new(1);
            match extra {
                0 => c.decide(decision(day, DecisionKind::Cooperation { cooperates: coop })).unwrap(),
                1 => c.decide(decision(day, DecisionKind::Vrijstelling)).unwrap(),
                _ => {}
            }
            let before = c.clone();
            let to = CaseStep::ALL[to];
            match c.move_to(to, day, actor(), "stap") {
                Ok(()) => prop_assert_eq!(c.step, to),
                Err(_) => prop_assert_eq!(&c, &before),
            }
        }
        let mut step = c.first_step;
        for h in &c.history {
            prop_assert_eq!(h.from, step);
            match h.to.level() {
                5 => prop_assert!(h.from.level() >= 4),
                6 => prop_assert_eq!(h.from.level(), 5),
                _ => {}
            }
            step = h.to;
        }
        prop_assert_eq!(step, c.step);
        let pairs: BTreeSet<(CaseStep, &str)> =
            c.checklist.iter().map(|i| (i.step, i.key.as_str())).collect();
        prop_assert_eq!(pairs.len(), c.checklist.len());
    }
}
