//! The acting user of a use case, as web and command line build it.

use aanwezig_domain::{Role, Student, StudentId};

use crate::permission::{self, Permission, StudentFacts};
use crate::AppError;

/// Who is acting: what a use case needs of the signed-in user (the web's
/// `CurrentUser`) or of the person at the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// Written into the audit log.
    pub username: String,
    /// The account's stable id (empty for the command line).
    pub account_id: String,
    pub role: Role,
    /// The classes a mentor mentors.
    pub classes: Vec<String>,
    /// The students whose open case this account is brought into (sorted).
    pub brought_in: Vec<StudentId>,
    /// For the leerplichtambtenaar: the students with a sent DUO melding
    /// (sorted).
    pub sent_melding: Vec<StudentId>,
}

impl Actor {
    /// The person at the command line: whoever may run the binary on the
    /// school's database holds the beheerder's rights, and the audit log
    /// names them `username` (the CLI's "cli" or `--door`).
    pub fn command_line(username: impl Into<String>) -> Actor {
        Actor {
            username: username.into(),
            account_id: String::new(),
            role: Role::Beheerder,
            classes: Vec::new(),
            brought_in: Vec::new(),
            sent_melding: Vec::new(),
        }
    }

    /// A school user without partner relations (tests, jobs).
    pub fn new(username: impl Into<String>, role: Role, classes: Vec<String>) -> Actor {
        Actor {
            username: username.into(),
            account_id: String::new(),
            role,
            classes,
            brought_in: Vec::new(),
            sent_melding: Vec::new(),
        }
    }

    /// What this actor is to `student`.
    pub fn facts(&self, student: &Student) -> StudentFacts {
        StudentFacts::of(
            &self.classes,
            student,
            self.brought_in.binary_search(&student.id).is_ok(),
            self.sent_melding.binary_search(&student.id).is_ok(),
        )
    }

    /// Whether this actor holds `permission` for some student or
    /// school-wide.
    pub fn may(&self, permission: Permission) -> bool {
        permission::may(self.role, permission)
    }

    /// Whether this actor holds `permission` for `student`.
    pub fn may_for(&self, permission: Permission, student: &Student) -> bool {
        permission::may_for(self.role, permission, self.facts(student))
    }

    /// [`AppError::Forbidden`] unless this actor holds `permission` at all.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// [`AppError::NotFound`] unless this actor holds `permission` for
    /// `student`: a student out of reach looks like no student at all.
    pub fn require_for(&self, permission: Permission, student: &Student) -> Result<(), AppError> {
        if self.may_for(permission, student) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}
