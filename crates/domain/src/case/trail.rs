//! The case told as dated Dutch lines, for reports and the AVG inzage.

use chrono::NaiveDate;
use serde::Serialize;

use super::{Case, ItemStatus, Party};

/// One event of a case's trail, for reports and the AVG inzage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrailEntry {
    pub on: NaiveDate,
    /// Who did it (username), where known.
    pub by: String,
    /// What happened, in Dutch.
    pub what_nl: String,
}

impl Case {
    /// Everything that happened in the case as dated Dutch lines, oldest
    /// first (stable for events on one day): opening, step changes,
    /// checklist items done or set aside, contact moments (with the guide's
    /// answers), agreements and their checks, decisions, interventions and
    /// evaluations, partners, mailings, closings and reopenings. It shows
    /// what the case holds; call it on a case redacted for the reader.
    pub fn trail_nl(&self) -> Vec<TrailEntry> {
        let mut out = Vec::new();
        let mut push = |on: NaiveDate, by: &str, what_nl: String| {
            out.push(TrailEntry {
                on,
                by: by.to_owned(),
                what_nl,
            });
        };
        push(
            self.opened_on,
            &self.opened_by.user,
            format!(
                "Dossier geopend op stap {} ({}); aanleiding: {}",
                self.first_step,
                self.first_step.label_nl(),
                self.reason.label_nl()
            ),
        );
        let with_note = |head: String, note: &str| {
            if note.is_empty() {
                head
            } else {
                format!("{head}: {note}")
            }
        };
        for c in &self.history {
            push(
                c.at_date,
                &c.by.user,
                with_note(format!("Stap {} → {}", c.from, c.to), &c.why),
            );
        }
        for i in &self.checklist {
            let (on, by, note, word) = match &i.status {
                ItemStatus::Open => continue,
                ItemStatus::Done { on, by, note } => (on, by, note, "gedaan"),
                ItemStatus::NotApplicable { on, by, note } => (on, by, note, "niet van toepassing"),
            };
            let note = if note.is_empty() {
                String::new()
            } else {
                format!(" ({note})")
            };
            push(
                *on,
                &by.user,
                format!("Stap {}: '{}' {word}{note}", i.step, i.label_nl),
            );
        }
        for c in &self.contacts {
            let who: Vec<&str> = c.participants.iter().map(Party::label_nl).collect();
            let mut line = format!(
                "Contactmoment ({}) met {}",
                c.kind.label_nl(),
                who.join(", ")
            );
            if let Some(m) = c.minutes {
                line.push_str(&format!(", {m} minuten"));
            }
            if let Some(g) = c.guide {
                line.push_str(&format!("; leidraad {}", g.label_nl()));
                for a in &c.answers {
                    let q = g.question(&a.key).map_or(a.key.as_str(), |q| q.text_nl);
                    line.push_str(&format!(" — {q} {}", a.text));
                }
            }
            if !c.note.is_empty() {
                line.push_str(&format!(" — notitie: {}", c.note));
            }
            push(c.on, &c.by.user, line);
        }
        for a in &self.agreements {
            let by_when = a
                .by_when
                .map(|d| format!(", uiterlijk {}", crate::explain::date_nl(d)))
                .unwrap_or_default();
            push(
                a.made_on,
                "",
                format!("Afspraak ({}): {}{by_when}", a.who.label_nl(), a.what),
            );
            for k in &a.kept {
                push(
                    k.on,
                    "",
                    format!(
                        "Controle afspraak '{}': {}{}",
                        a.what,
                        if k.kept {
                            "nagekomen"
                        } else {
                            "niet nagekomen"
                        },
                        if k.note.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", k.note)
                        }
                    ),
                );
            }
        }
        for d in &self.decisions {
            let note = if d.note.is_empty() {
                String::new()
            } else {
                format!(": {}", d.note)
            };
            push(
                d.on,
                &d.by.user,
                format!("Besluit: {}{note}", d.kind.label_nl()),
            );
        }
        for i in &self.interventions {
            push(
                i.started_on,
                &i.started_by.user,
                format!(
                    "Interventie gestart ({}): {}",
                    i.kind.label_nl(),
                    i.description
                ),
            );
            for e in &i.evaluations {
                push(
                    e.on,
                    &e.by.user,
                    with_note(format!("Evaluatie van '{}'", i.description), &e.note),
                );
            }
            if let Some(end) = i.ended_on {
                push(end, "", format!("Interventie beëindigd: {}", i.description));
            }
        }
        for p in &self.involved {
            push(
                p.since,
                &p.by.user,
                format!(
                    "{} ({}) betrokken bij het dossier",
                    p.user,
                    p.role.label_nl()
                ),
            );
            if let Some(u) = p.until {
                push(u, "", format!("{} niet meer betrokken", p.user));
            }
        }
        for h in &self.handovers {
            push(
                h.on,
                &h.by.user,
                format!("Dossierhouder {} → {}", h.from, h.to),
            );
        }
        for n in &self.confidential {
            push(
                n.on,
                &n.by.user,
                format!("Vertrouwelijke notitie: {}", n.text),
            );
        }
        for m in &self.mailings {
            let to = if m.to.is_empty() {
                String::new()
            } else {
                format!(" aan {}", m.to.join(", "))
            };
            push(
                m.on,
                &m.by.user,
                format!(
                    "{} per e-mail gedeeld{to}",
                    crate::explain::counted_nl(m.agreements.len() as u64, "afspraak", "afspraken")
                ),
            );
        }
        for r in &self.reopenings {
            push(
                r.closure.on,
                &r.closure.by.user,
                format!("Dossier gesloten: {}", r.closure.reason.label_nl()),
            );
            push(
                r.on,
                &r.by.user,
                with_note("Dossier heropend".to_owned(), &r.why),
            );
        }
        if let Some(c) = &self.closed {
            let note = if c.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", c.note)
            };
            push(
                c.on,
                &c.by.user,
                format!("Dossier gesloten: {}{note}", c.reason.label_nl()),
            );
        }
        out.sort_by_key(|e| e.on);
        out
    }
}
