//! External partners brought into a case, the dossierhouder, the jeugdarts's confidential notes and the agreements shared by e-mail.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{need_reason, Actor, Case, CaseError, DecisionKind};
use crate::access::Role;

/// A user of an external role (leerplichtambtenaar, jeugdarts,
/// ketenpartner) brought into the case: from `since` on, that account sees
/// the student and the case as [`Case::redacted_for`] shows it.
///
/// Access follows the account, not the name: a username can be given to
/// someone else after its account was removed, and the newcomer must not
/// inherit the dossiers the old account was brought into (see
/// [`Involvement::is_of`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Involvement {
    /// The partner's username when brought in: for display and the trail.
    pub user: String,
    /// The partner's account id (the store's stable, never reused id);
    /// `None` for an involvement recorded before accounts had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub role: Role,
    pub since: NaiveDate,
    pub by: Actor,
    /// Set when the partner no longer takes part; the access ends then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
}

/// Who a partner is, for matching an [`Involvement`]: the account's
/// username, its stable id, and the (school) date it was created. The
/// caller reads these from its user store; the domain only compares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartnerIdentity<'a> {
    pub username: &'a str,
    pub account_id: &'a str,
    pub created_on: NaiveDate,
}

impl Involvement {
    /// Whether the involvement is current.
    pub fn is_active(&self) -> bool {
        self.until.is_none()
    }

    /// Whether the involvement is of the account `who` (current or not).
    ///
    /// With an account id recorded, only that id counts: the same username
    /// on another account is someone else. An involvement recorded before
    /// accounts had ids matches on the username, and only an account that
    /// already existed on the day the partner was brought in (`since`): an
    /// account created later under a reused name was not the one brought in.
    pub fn is_of(&self, who: &PartnerIdentity<'_>) -> bool {
        match &self.account {
            Some(account) => account == who.account_id,
            None => self.user == who.username && who.created_on <= self.since,
        }
    }
}

/// A confidential note of the jeugdarts: only the jeugdarts role reads it
/// (the school and other partners never do). It is for the doctor's own
/// follow-up; like everything else it holds no diagnosis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfidentialNote {
    pub on: NaiveDate,
    pub by: Actor,
    pub text: String,
}

/// Agreements sent by e-mail to parents and partners: the trail of sharing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailing {
    pub on: NaiveDate,
    pub by: Actor,
    /// The addresses it went to.
    pub to: Vec<String>,
    /// Indexes into [`Case::agreements`].
    pub agreements: Vec<usize>,
}

/// A change of the case's lead (dossierhouder).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handover {
    pub from: String,
    pub to: String,
    pub on: NaiveDate,
    pub by: Actor,
}

/// Whether `role` may read the jeugdarts's confidential notes.
pub fn may_read_confidential(role: Role) -> bool {
    role == Role::Jeugdarts
}

impl Case {
    /// The username of whoever leads the case.
    pub fn owner(&self) -> &str {
        self.owner.as_deref().unwrap_or(&self.opened_by.user)
    }

    /// Hands the case over to `to`, a user of the school who may lead it
    /// (the coordinators, a mentor); recorded with who and when.
    pub fn hand_over(
        &mut self,
        to: &str,
        to_role: Role,
        on: NaiveDate,
        by: Actor,
    ) -> Result<(), CaseError> {
        self.ensure_open()?;
        if to_role.is_external() || to_role == Role::Beheerder {
            return Err(CaseError::NotALead(to_role));
        }
        if to == self.owner() {
            return Err(CaseError::SameLead(to.to_owned()));
        }
        self.handovers.push(Handover {
            from: self.owner().to_owned(),
            to: to.to_owned(),
            on,
            by,
        });
        self.owner = Some(to.to_owned());
        Ok(())
    }

    /// Whether the account `who` is a current partner on the case
    /// ([`Involvement::is_of`]).
    pub fn involves(&self, who: &PartnerIdentity<'_>) -> bool {
        self.involved.iter().any(|i| i.is_active() && i.is_of(who))
    }

    /// Brings an external partner into the case, recording both the
    /// account id (which access follows) and the username (for display and
    /// the trail). Only external roles are brought in this way (the
    /// school's own roles see students by their role); bringing in an
    /// account already involved is refused, the jeugdarts only after a
    /// referral the parents consented to (MAZL: the latest jeugdarts
    /// decision on or before `on` says yes), and a ketenpartner only after
    /// the parents consented to VO WIJ (the latest VO WIJ decision says
    /// yes).
    pub fn involve(
        &mut self,
        who: &PartnerIdentity<'_>,
        role: Role,
        on: NaiveDate,
        by: Actor,
    ) -> Result<(), CaseError> {
        self.ensure_open()?;
        if !role.is_external() {
            return Err(CaseError::NotAPartner(role));
        }
        if self.involves(who) {
            return Err(CaseError::AlreadyInvolved(who.username.to_owned()));
        }
        if role == Role::Jeugdarts
            && self
                .latest_decision(on, |k| matches!(k, DecisionKind::Jeugdarts { .. }))
                .is_none_or(|d| d.kind != DecisionKind::Jeugdarts { consent: true })
        {
            return Err(CaseError::NoConsent);
        }
        // Care partners too: their access rests on the parents' consent
        // (rules.md §5, consent before care partners).
        if role == Role::Ketenpartner
            && self
                .latest_decision(on, |k| matches!(k, DecisionKind::VoWij { .. }))
                .is_none_or(|d| d.kind != DecisionKind::VoWij { consent: true })
        {
            return Err(CaseError::NoCareConsent);
        }
        self.involved.push(Involvement {
            user: who.username.to_owned(),
            account: Some(who.account_id.to_owned()),
            role,
            since: on,
            by,
            until: None,
        });
        Ok(())
    }

    /// Ends a partner's current involvement (and with it their access) on
    /// `on`, as a coordinator asks for it on the dossier page: with
    /// `account`, the involvement of that account; without, every current
    /// involvement recorded under the username `user` (ending access never
    /// gives anyone access, so a name is precise enough here).
    pub fn release(
        &mut self,
        user: &str,
        account: Option<&str>,
        on: NaiveDate,
    ) -> Result<(), CaseError> {
        let ended = self.end_involvements(on, |i| match account {
            Some(a) => i.account.as_deref() == Some(a),
            None => i.user == user,
        });
        if ended == 0 {
            return Err(CaseError::NotInvolved(user.to_owned()));
        }
        Ok(())
    }

    /// Ends every current involvement of the account `who`
    /// ([`Involvement::is_of`]) on `on`, as when the account is removed;
    /// returns how many there were (0: nothing changed).
    pub fn release_partner(&mut self, who: &PartnerIdentity<'_>, on: NaiveDate) -> usize {
        self.end_involvements(on, |i| i.is_of(who))
    }

    /// Sets `until` on every current involvement `which` picks; returns
    /// how many.
    fn end_involvements(&mut self, on: NaiveDate, which: impl Fn(&Involvement) -> bool) -> usize {
        let mut n = 0;
        for i in self.involved.iter_mut().filter(|i| i.is_active()) {
            if which(i) {
                i.until = Some(on.max(i.since));
                n += 1;
            }
        }
        n
    }

    /// Adds a confidential note; only the jeugdarts writes them.
    pub fn add_confidential(&mut self, note: ConfidentialNote) -> Result<(), CaseError> {
        if !may_read_confidential(note.by.role) {
            return Err(CaseError::NotAllowed);
        }
        let text = need_reason(&note.text).map_err(|_| CaseError::EmptyNote)?;
        self.confidential.push(ConfidentialNote { text, ..note });
        Ok(())
    }

    /// Records that agreements were e-mailed.
    pub fn record_mailing(&mut self, mailing: Mailing) -> Result<(), CaseError> {
        if let Some(i) = mailing
            .agreements
            .iter()
            .find(|i| **i >= self.agreements.len())
        {
            return Err(CaseError::UnknownAgreement(*i));
        }
        self.mailings.push(mailing);
        Ok(())
    }

    /// The first day of the period in which the account `who` takes part
    /// in the case: the earliest start of its current involvements; `None`
    /// when the account is not brought in.
    pub fn partner_since(&self, who: &PartnerIdentity<'_>) -> Option<NaiveDate> {
        self.involved
            .iter()
            .filter(|i| i.is_active() && i.is_of(who))
            .map(|i| i.since)
            .min()
    }
}
