//! Who may see what (product.md, "Who uses it, and what each may see").
//!
//! Roles and the pure scope rule of which students a user sees. Who may do
//! what is the application layer's one table (`aanwezig_app::permission`),
//! which the web and the command line ask; this rule is what its "read a
//! student" row is tested against.

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
