//! Who may do what: one table ([`GRANTS`]) of which role holds which
//! [`Permission`], and through which [`Relation`] to the student concerned.
//! Every check in the web pages, the JSON API and the command line asks
//! this table; the route × role tests read their expectations from it.
//!
//! product.md, "Who uses it, and what each may see": the coordinators see
//! every student; a mentor the students of their own classes; the external
//! partners (leerplichtambtenaar, jeugdarts, ketenpartner) only the
//! students whose open case they were brought into, and the
//! leerplichtambtenaar also the students of a melding sent to DUO; the
//! beheerder runs the school's data and reads no student's file.

use aanwezig_domain::{Role, Student};
use serde::Serialize;

/// Something a user can do in aanwezig.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read a student's attendance, signals and student page.
    ReadStudent,
    /// See lists of students: Leerlingen, the class views, the overview.
    ListStudents,
    /// See a student's BSN and onderwijsnummer (they serve the DUO melding).
    SeePersonalNumbers,
    /// Register or correct attendance.
    Register,
    /// Record a call with parents about an absence (stap 2).
    RecordCall,
    /// Read a student's case dossier, and the task lists that come from it.
    ReadCase,
    /// Open a case and change it: steps, contacts, agreements, mailings.
    ChangeCase,
    /// Record referrals and decisions, bring partners in or release them.
    ManagePartners,
    /// Read and write the jeugdarts's confidential notes.
    ConfidentialNotes,
    /// See the meldcode part of a case (the IOT).
    SeeMeldcode,
    /// Read DUO meldingen.
    ReadMeldingen,
    /// Make DUO meldingen and take them through their lifecycle.
    ManageMeldingen,
    /// Export a student's complete data (an AVG inzage request).
    ExportStudent,
    /// Import students, registrations and timetables.
    Import,
    /// Change how the school's exports are read (the import settings).
    EditImportSettings,
    /// Change calendar, policy, school and mail settings.
    ManageSettings,
    /// Add, change and remove user accounts.
    ManageUsers,
    /// Read the audit log (logboek).
    ReadAuditLog,
}

impl Permission {
    /// Every permission, in the order of the enum.
    pub const ALL: [Permission; 18] = [
        Permission::ReadStudent,
        Permission::ListStudents,
        Permission::SeePersonalNumbers,
        Permission::Register,
        Permission::RecordCall,
        Permission::ReadCase,
        Permission::ChangeCase,
        Permission::ManagePartners,
        Permission::ConfidentialNotes,
        Permission::SeeMeldcode,
        Permission::ReadMeldingen,
        Permission::ManageMeldingen,
        Permission::ExportStudent,
        Permission::Import,
        Permission::EditImportSettings,
        Permission::ManageSettings,
        Permission::ManageUsers,
        Permission::ReadAuditLog,
    ];
}

/// Through what a role holds a permission for a student.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// For every student of the school, and for school-wide actions.
    School,
    /// For the students of the classes the user mentors.
    OwnClass,
    /// For the students whose open case the user is brought into.
    BroughtIn,
    /// For the students with a DUO melding that was sent.
    SentMelding,
}

/// One row of the table: `role` holds `permission` through `relation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub role: Role,
    pub permission: Permission,
    pub relation: Relation,
}

const fn g(role: Role, permission: Permission, relation: Relation) -> Grant {
    Grant {
        role,
        permission,
        relation,
    }
}

use Permission as P;
use Relation::{BroughtIn, OwnClass, School, SentMelding};
use Role::{
    Beheerder as BH, Jeugdarts as JA, Ketenpartner as KP, Leerplichtambtenaar as LPA, Mentor as MT,
    Ondersteuningscoordinator as OC, Verzuimcoordinator as VC,
};

/// The one table of who may do what. A role not listed for a permission
/// does not hold it.
pub const GRANTS: &[Grant] = &[
    // Students and attendance.
    g(VC, P::ReadStudent, School),
    g(OC, P::ReadStudent, School),
    g(MT, P::ReadStudent, OwnClass),
    g(LPA, P::ReadStudent, BroughtIn),
    g(LPA, P::ReadStudent, SentMelding),
    g(JA, P::ReadStudent, BroughtIn),
    g(KP, P::ReadStudent, BroughtIn),
    g(VC, P::ListStudents, School),
    g(OC, P::ListStudents, School),
    g(MT, P::ListStudents, OwnClass),
    g(VC, P::SeePersonalNumbers, School),
    g(OC, P::SeePersonalNumbers, School),
    // The beheerder sees the numbers in the students file they import,
    // never on a student's page (they read no student pages).
    g(BH, P::SeePersonalNumbers, School),
    g(VC, P::Register, School),
    g(OC, P::Register, School),
    g(MT, P::Register, OwnClass),
    g(VC, P::RecordCall, School),
    g(OC, P::RecordCall, School),
    g(MT, P::RecordCall, OwnClass),
    // Case dossiers.
    g(VC, P::ReadCase, School),
    g(OC, P::ReadCase, School),
    g(MT, P::ReadCase, OwnClass),
    g(LPA, P::ReadCase, BroughtIn),
    g(JA, P::ReadCase, BroughtIn),
    g(KP, P::ReadCase, BroughtIn),
    g(VC, P::ChangeCase, School),
    g(OC, P::ChangeCase, School),
    g(MT, P::ChangeCase, OwnClass),
    g(VC, P::ManagePartners, School),
    g(OC, P::ManagePartners, School),
    g(JA, P::ConfidentialNotes, BroughtIn),
    g(OC, P::SeeMeldcode, School),
    // DUO meldingen.
    g(VC, P::ReadMeldingen, School),
    g(OC, P::ReadMeldingen, School),
    g(LPA, P::ReadMeldingen, SentMelding),
    g(VC, P::ManageMeldingen, School),
    g(OC, P::ManageMeldingen, School),
    g(VC, P::ExportStudent, School),
    g(OC, P::ExportStudent, School),
    // Running the school's data.
    g(BH, P::Import, School),
    g(VC, P::Import, School),
    g(BH, P::EditImportSettings, School),
    g(VC, P::EditImportSettings, School),
    g(BH, P::ManageSettings, School),
    g(BH, P::ManageUsers, School),
    g(BH, P::ReadAuditLog, School),
];

/// The relations through which `role` holds `permission` (empty: not at
/// all).
pub fn relations(role: Role, permission: Permission) -> impl Iterator<Item = Relation> {
    GRANTS
        .iter()
        .filter(move |g| g.role == role && g.permission == permission)
        .map(|g| g.relation)
}

/// Whether `role` holds `permission` for some student (or school-wide):
/// the check before a page or form that is not about one student.
pub fn may(role: Role, permission: Permission) -> bool {
    relations(role, permission).next().is_some()
}

/// Whether `role` holds `permission` for every student of the school.
pub fn school_wide(role: Role, permission: Permission) -> bool {
    relations(role, permission).any(|r| r == Relation::School)
}

/// What the acting user is to one student, for [`may_for`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StudentFacts {
    /// The student is in a class the user mentors.
    pub own_class: bool,
    /// The user is brought into the student's open case.
    pub brought_in: bool,
    /// The student has a DUO melding that was sent.
    pub sent_melding: bool,
}

impl StudentFacts {
    /// The facts for a mentor of `classes` (compared as
    /// [`Scope::may_see`](aanwezig_domain::Scope::may_see) does), with the
    /// partner facts given.
    pub fn of(classes: &[String], student: &Student, brought_in: bool, sent_melding: bool) -> Self {
        StudentFacts {
            own_class: classes
                .iter()
                .any(|c| c.eq_ignore_ascii_case(&student.class)),
            brought_in,
            sent_melding,
        }
    }
}

/// Whether `role` holds `permission` for a student with these `facts`.
pub fn may_for(role: Role, permission: Permission, facts: StudentFacts) -> bool {
    relations(role, permission).any(|r| match r {
        Relation::School => true,
        Relation::OwnClass => facts.own_class,
        Relation::BroughtIn => facts.brought_in,
        Relation::SentMelding => facts.sent_melding,
    })
}

#[cfg(test)]
mod tests {
    use aanwezig_domain::{Scope, StudentId};
    use chrono::NaiveDate;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn every_row_is_there_once() {
        for (i, a) in GRANTS.iter().enumerate() {
            assert!(!GRANTS[..i].contains(a), "twice: {a:?}");
        }
    }

    #[test]
    fn the_beheerder_reads_no_student_and_no_case() {
        for p in [
            P::ReadStudent,
            P::ListStudents,
            P::ReadCase,
            P::ChangeCase,
            P::ReadMeldingen,
            P::RecordCall,
            P::Register,
            P::ExportStudent,
        ] {
            assert!(!may(BH, p), "{p:?}");
        }
        assert!(may(BH, P::ManageUsers) && may(BH, P::ReadAuditLog));
    }

    #[test]
    fn partners_only_through_their_relation() {
        for role in [LPA, JA, KP] {
            for p in Permission::ALL {
                assert!(!school_wide(role, p), "{role:?} {p:?}");
                assert!(!may_for(role, p, StudentFacts::default()), "{role:?} {p:?}");
            }
            assert!(!may(role, P::ChangeCase) && !may(role, P::Register));
        }
        let sent = StudentFacts {
            sent_melding: true,
            ..StudentFacts::default()
        };
        assert!(may_for(LPA, P::ReadStudent, sent));
        assert!(may_for(LPA, P::ReadMeldingen, sent));
        assert!(
            !may_for(LPA, P::ReadCase, sent),
            "the dossier only when brought in"
        );
        assert!(!may_for(JA, P::ReadStudent, sent));
        assert!(may_for(
            JA,
            P::ConfidentialNotes,
            StudentFacts {
                brought_in: true,
                ..StudentFacts::default()
            }
        ));
        assert!(!may(KP, P::ConfidentialNotes) && !may(VC, P::ConfidentialNotes));
    }

    #[test]
    fn only_the_iot_sees_the_meldcode() {
        let holders: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| may(*r, P::SeeMeldcode))
            .collect();
        assert_eq!(holders, vec![OC]);
    }

    fn holders(p: Permission) -> Vec<Role> {
        Role::ALL.into_iter().filter(|r| may(*r, p)).collect()
    }

    /// What the web's checks said before they moved here (the meldingen
    /// pages, the AVG inzage, the personal numbers, the case's meldcode and
    /// confidential parts): kept as they were.
    #[test]
    fn the_former_checks_hold() {
        assert_eq!(holders(P::ManageMeldingen), [VC, OC]);
        assert_eq!(holders(P::ReadMeldingen), [VC, OC, LPA]);
        assert_eq!(holders(P::ExportStudent), [VC, OC]);
        assert_eq!(holders(P::SeePersonalNumbers), [BH, VC, OC]);
        assert_eq!(holders(P::Import), [BH, VC]);
        assert_eq!(holders(P::EditImportSettings), [BH, VC]);
        assert_eq!(holders(P::ManageSettings), [BH]);
        assert_eq!(holders(P::ManageUsers), [BH]);
        assert_eq!(holders(P::ReadAuditLog), [BH]);
        assert_eq!(holders(P::ChangeCase), [VC, OC, MT]);
        assert_eq!(holders(P::ManagePartners), [VC, OC]);
        assert_eq!(holders(P::ListStudents), [VC, OC, MT]);
        assert_eq!(holders(P::Register), [VC, OC, MT]);
        assert_eq!(holders(P::RecordCall), [VC, OC, MT]);
        // Every role but the beheerder reads cases (subject to relation).
        assert_eq!(holders(P::ReadCase), [VC, OC, MT, LPA, JA, KP]);
    }

    /// The domain redacts a case by its own rules for the meldcode and the
    /// confidential notes; the table must agree with them.
    #[test]
    fn the_table_agrees_with_the_cases_redaction() {
        use aanwezig_domain::case::{may_read_confidential, may_see_meldcode};
        for role in Role::ALL {
            assert_eq!(
                may(role, P::SeeMeldcode),
                may_see_meldcode(role),
                "{role:?}"
            );
            assert_eq!(
                may(role, P::ConfidentialNotes),
                may_read_confidential(role),
                "{role:?}"
            );
        }
    }

    fn student(class: &str) -> Student {
        Student {
            id: StudentId::parse("123456").expect("valid"),
            name: "Leerling".to_owned(),
            class: class.to_owned(),
            mentor: "m".to_owned(),
            date_of_birth: NaiveDate::from_ymd_opt(2012, 1, 1).expect("valid"),
            bsn: None,
            onderwijsnummer: None,
        }
    }

    proptest! {
        /// The table agrees with the domain's scope rule for reading a
        /// student, for every role and every combination of facts.
        #[test]
        fn reading_a_student_is_the_domains_scope(
            role in proptest::sample::select(Role::ALL.to_vec()),
            mentors_it in any::<bool>(),
            involved in any::<bool>(),
            sent in any::<bool>(),
        ) {
            let s = student("2B");
            let classes = if mentors_it { vec!["2b".to_owned()] } else { vec!["3C".to_owned()] };
            // The domain's scope gets the partner's students as the web
            // builds them: brought in, and for the leerplichtambtenaar also
            // a sent melding.
            let listed = involved || (sent && role == LPA);
            let ids = if listed { vec![s.id.clone()] } else { vec![] };
            let scope = Scope { role, classes: &classes, involved: &ids };
            let facts = StudentFacts::of(&classes, &s, involved, sent);
            prop_assert_eq!(may_for(role, P::ReadStudent, facts), scope.may_see(&s));
            // Registering is a subset of reading.
            prop_assert!(!may_for(role, P::Register, facts) || scope.may_see(&s));
        }
    }
}
