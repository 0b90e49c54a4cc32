//! What a role may read of a case, and a partner's view from the day they came in.

use chrono::NaiveDate;

use super::{
    keep_from, may_read_confidential, may_see_meldcode, Case, DecisionKind, ItemStatus, OpenReason,
};
use crate::access::Role;

impl Case {
    /// The case as `role` may see it: without the meldcode part unless the
    /// role handles the meldcode.
    ///
    /// - The meldcode part only for the roles that handle it.
    /// - The jeugdarts's confidential notes only for the jeugdarts.
    /// - External partners see what is shared with them: steps, checklist,
    ///   agreements, decisions and interventions, and of each contact
    ///   moment when, how and with whom, but not the conversation itself
    ///   (answers and note), the parents' addresses or whom mail went to,
    ///   nor the school's working notes (the reason "zorgen", checklist,
    ///   step, decision, evaluation, check and closing notes); a referral
    ///   to the jeugdarts, and the jeugdarts's part in the case, only for
    ///   the jeugdarts.
    pub fn redacted_for(&self, role: Role) -> Case {
        let mut c = self.clone();
        if !may_see_meldcode(role) {
            c.decisions.retain(|d| d.kind != DecisionKind::Meldcode);
        }
        if !may_read_confidential(role) {
            c.confidential.clear();
        }
        if role.is_external() {
            for contact in &mut c.contacts {
                contact.answers.clear();
                contact.note.clear();
            }
            // The school's own working notes stay at school.
            if let OpenReason::Zorgen { note } = &mut c.reason {
                note.clear();
            }
            for item in &mut c.checklist {
                match &mut item.status {
                    ItemStatus::Done { note, .. } | ItemStatus::NotApplicable { note, .. } => {
                        note.clear();
                    }
                    ItemStatus::Open => {}
                }
            }
            // The school's notes on steps, decisions, evaluations, checks
            // and closing stay at school too; what was agreed and done
            // (agreements, interventions, decisions, dates) is shared.
            for h in &mut c.history {
                h.why.clear();
            }
            for d in &mut c.decisions {
                d.note.clear();
            }
            for i in &mut c.interventions {
                for e in &mut i.evaluations {
                    e.note.clear();
                }
            }
            for a in &mut c.agreements {
                for k in &mut a.kept {
                    k.note.clear();
                }
            }
            if let Some(cl) = &mut c.closed {
                cl.note.clear();
            }
            for r in &mut c.reopenings {
                r.why.clear();
                r.closure.note.clear();
            }
            // A referral to the jeugdarts touches on health: only the
            // jeugdarts among the partners reads it, or sees that a
            // jeugdarts takes part.
            if role != Role::Jeugdarts {
                c.decisions
                    .retain(|d| !matches!(d.kind, DecisionKind::Jeugdarts { .. }));
                c.involved.retain(|i| i.role != Role::Jeugdarts);
            }
            c.parent_emails.clear();
            c.student_email = None;
            for m in &mut c.mailings {
                m.to.clear();
            }
        }
        c
    }

    /// The case limited to what happened from `from` on, for a partner who
    /// takes part since then (issue: partners see only the period they are
    /// involved in): contact moments and agreements made before `from` are
    /// left out, with the references between them (an agreement's contact,
    /// a mailing's agreements) renumbered to match. Call it on a case
    /// already [`Case::redacted_for`] the partner's role.
    pub fn limited_to_period(&self, from: NaiveDate) -> Case {
        let mut c = self.clone();
        let contact_map = keep_from(&mut c.contacts, |k| k.on >= from);
        let agreement_map = keep_from(&mut c.agreements, |a| a.made_on >= from);
        for a in &mut c.agreements {
            a.contact = a
                .contact
                .and_then(|i| contact_map.get(i).copied().flatten());
        }
        for m in &mut c.mailings {
            m.agreements = m
                .agreements
                .iter()
                .filter_map(|i| agreement_map.get(*i).copied().flatten())
                .collect();
        }
        c.mailings.retain(|m| m.on >= from);
        c
    }
}
