//! Who may see what (product.md, "Who uses it, and what each may see").
//!
//! Roles and the pure scope rules; the web layer enforces them on every
//! page and API call with the signed-in user's role and classes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::student::Student;

/// A user's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// School administrator: users, calendar, policy, codes, imports; no
    /// case content by default.
    Beheerder,
    /// The school's attendance coordinator: all students.
    Verzuimcoordinator,
    /// Coordinator of the internal support team (IOT): all students and cases.
    Ondersteuningscoordinator,
    /// A class's mentor: only the students of their classes.
    Mentor,
    /// The municipality's attendance officer (external).
    Leerplichtambtenaar,
    /// The GGD youth doctor (external).
    Jeugdarts,
    /// VO WIJ, ECT or AOJ member (external).
    Ketenpartner,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 7] = [
        Role::Beheerder,
        Role::Verzuimcoordinator,
        Role::Ondersteuningscoordinator,
        Role::Mentor,
        Role::Leerplichtambtenaar,
        Role::Jeugdarts,
        Role::Ketenpartner,
    ];

    /// The identifier used in files, the database and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Beheerder => "beheerder",
            Role::Verzuimcoordinator => "verzuimcoordinator",
            Role::Ondersteuningscoordinator => "ondersteuningscoordinator",
            Role::Mentor => "mentor",
            Role::Leerplichtambtenaar => "leerplichtambtenaar",
            Role::Jeugdarts => "jeugdarts",
            Role::Ketenpartner => "ketenpartner",
        }
    }

    /// Parses [`Role::as_str`]; also accepts the spelling with diaeresis.
    pub fn parse(s: &str) -> Option<Role> {
        let s = s.trim().to_lowercase().replace('ö', "o");
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The Dutch name shown to people.
    pub fn label_nl(self) -> &'static str {
        match self {
            Role::Beheerder => "beheerder",
            Role::Verzuimcoordinator => "verzuimcoördinator",
            Role::Ondersteuningscoordinator => "ondersteuningscoördinator",
            Role::Mentor => "mentor",
            Role::Leerplichtambtenaar => "leerplichtambtenaar",
            Role::Jeugdarts => "jeugdarts",
            Role::Ketenpartner => "ketenpartner",
        }
    }

    /// Whether the role sees every student of the school.
    pub fn sees_all_students(self) -> bool {
        matches!(
            self,
            Role::Verzuimcoordinator | Role::Ondersteuningscoordinator
        )
    }

    /// Whether the role may register or correct attendance.
    pub fn may_register(self) -> bool {
        matches!(
            self,
            Role::Verzuimcoordinator | Role::Ondersteuningscoordinator | Role::Mentor
        )
    }

    /// Whether the role manages users, calendar, policy, codes and imports.
    pub fn is_admin(self) -> bool {
        self == Role::Beheerder
    }

    /// Whether the role may see a student's BSN and onderwijsnummer. They
    /// serve one purpose, the DUO melding, which the coordinators make and
    /// register (both verzuim- and ondersteuningscoördinator); the
    /// beheerder imports the file they come in. Mentors and external
    /// partners never see them.
    pub fn sees_personal_numbers(self) -> bool {
        matches!(
            self,
            Role::Verzuimcoordinator | Role::Ondersteuningscoordinator | Role::Beheerder
        )
    }

    /// Whether the role is an external partner (sees only involved students).
    pub fn is_external(self) -> bool {
        matches!(
            self,
            Role::Leerplichtambtenaar | Role::Jeugdarts | Role::Ketenpartner
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_nl())
    }
}

/// What a signed-in user is, for scope checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope<'a> {
    pub role: Role,
    /// The classes a mentor mentors (empty for other roles).
    pub classes: &'a [String],
    /// Students an external partner is involved with (filled by the case
    /// dossier; empty until then).
    pub involved: &'a [crate::student::StudentId],
}

impl Scope<'_> {
    /// Whether this user may see `student` at all.
    pub fn may_see(&self, student: &Student) -> bool {
        match self.role {
            Role::Verzuimcoordinator | Role::Ondersteuningscoordinator => true,
            Role::Mentor => self
                .classes
                .iter()
                .any(|c| c.eq_ignore_ascii_case(&student.class)),
            Role::Leerplichtambtenaar | Role::Jeugdarts | Role::Ketenpartner => {
                self.involved.contains(&student.id)
            }
            // The beheerder manages the school's data but reads no student
            // dossiers by default (product.md).
            Role::Beheerder => false,
        }
    }

    /// Whether this user may see `student`'s BSN and onderwijsnummer: a
    /// role that sees them ([`Role::sees_personal_numbers`]) and a student
    /// in scope.
    pub fn may_see_personal_numbers(&self, student: &Student) -> bool {
        self.role.sees_personal_numbers() && self.may_see(student)
    }

    /// Whether this user may change `student`'s registrations.
    pub fn may_register(&self, student: &Student) -> bool {
        self.role.may_register() && self.may_see(student)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::student::StudentId;

    fn student(class: &str) -> Student {
        Student {
            id: StudentId::parse("1").unwrap(),
            name: "A".into(),
            class: class.into(),
            mentor: "m".into(),
            date_of_birth: NaiveDate::from_ymd_opt(2012, 1, 1).unwrap(),
            bsn: None,
            onderwijsnummer: None,
        }
    }

    #[test]
    fn only_the_coordinators_see_personal_numbers() {
        let seeing: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.sees_personal_numbers())
            .collect();
        assert_eq!(
            seeing,
            [
                Role::Beheerder,
                Role::Verzuimcoordinator,
                Role::Ondersteuningscoordinator
            ]
        );
        let classes = vec!["2B".to_owned()];
        let s = student("2B");
        let scope = |role| Scope {
            role,
            classes: &classes,
            involved: &[],
        };
        assert!(scope(Role::Verzuimcoordinator).may_see_personal_numbers(&s));
        assert!(!scope(Role::Mentor).may_see_personal_numbers(&s));
        // The beheerder reads no student pages, so sees no one's number.
        assert!(!scope(Role::Beheerder).may_see_personal_numbers(&s));
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(
            Role::parse("verzuimcoördinator"),
            Some(Role::Verzuimcoordinator)
        );
    }

    #[test]
    fn mentors_see_only_their_classes() {
        let classes = vec!["2B".to_owned()];
        let scope = Scope {
            role: Role::Mentor,
            classes: &classes,
            involved: &[],
        };
        assert!(scope.may_see(&student("2B")));
        assert!(scope.may_see(&student("2b")));
        assert!(!scope.may_see(&student("3A")));
        assert!(scope.may_register(&student("2B")));
    }

    #[test]
    fn beheerder_and_outsiders_see_no_student_by_default() {
        for role in [
            Role::Beheerder,
            Role::Leerplichtambtenaar,
            Role::Jeugdarts,
            Role::Ketenpartner,
        ] {
            let scope = Scope {
                role,
                classes: &[],
                involved: &[],
            };
            assert!(!scope.may_see(&student("2B")), "{role}");
        }
        let scope = Scope {
            role: Role::Verzuimcoordinator,
            classes: &[],
            involved: &[],
        };
        assert!(scope.may_see(&student("2B")));
    }
}
