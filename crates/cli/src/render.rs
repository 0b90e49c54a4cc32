//! The readable Dutch table of `aanwezig evaluate`.

use std::fmt::Write;

use aanwezig_domain::explain::{counted_nl, date_nl, short_date_nl};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, ContentArrangement, Table};

use crate::commands::evaluate::EvaluationOutput;
use crate::session::Loaded;

/// Renders the output as text for a terminal.
pub fn table(out: &EvaluationOutput, loaded: &Loaded) -> String {
    let mut s = String::new();
    let Some(through) = out.evaluated_through else {
        let _ = writeln!(
            s,
            "Peildatum {} ligt voor de eerste schooldag van de kalender: nog niets te melden.",
            date_nl(out.as_of)
        );
        return s;
    };
    let heading = match (&out.period, out.scope) {
        (Some(p), _) => format!(
            "Nieuwe signalen in de lesweek van {} tot en met {}",
            date_nl(p.from),
            date_nl(p.to)
        ),
        (None, "open") => format!("Openstaande signalen op {}", date_nl(through)),
        _ => format!("Alle signalen tot en met {}", date_nl(through)),
    };
    let _ = writeln!(s, "{heading}");
    if through != out.as_of {
        let _ = writeln!(
            s,
            "(peildatum {} is geen schooldag; geteld tot en met de schooldag ervoor)",
            date_nl(out.as_of)
        );
    }
    let students_with: std::collections::BTreeSet<&str> =
        out.signals.iter().map(|x| x.student.as_str()).collect();
    let _ = writeln!(
        s,
        "{} bij {} van de {} leerlingen.\n",
        counted_nl(out.signals.len() as u64, "signaal", "signalen"),
        students_with.len(),
        out.students
    );

    if !out.signals.is_empty() {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header([
                "Stap", "Leerling", "Klas", "Regel", "Sinds", "Uren", "Termijn", "Waarom",
            ]);
        if t.width().is_none() {
            t.set_width(160);
        }
        for r in &out.signals {
            let pos = aanwezig_domain::StudentId::parse(&r.student)
                .ok()
                .and_then(|id| loaded.school.position(&id));
            let (name, class) = pos
                .map(|i| {
                    let st = &loaded.school.students()[i];
                    (format!("{} ({})", st.name, st.id), st.class.clone())
                })
                .unwrap_or_else(|| (r.student.clone(), String::new()));
            t.add_row([
                Cell::new(r.step.to_string()),
                Cell::new(name),
                Cell::new(class),
                Cell::new(r.title),
                Cell::new(short_date_nl(r.fired_on)),
                Cell::new(r.hours.map(|h| h.to_string()).unwrap_or_default()),
                Cell::new(r.deadline.map(short_date_nl).unwrap_or_default()),
                Cell::new(&r.explanation),
            ]);
        }
        let _ = writeln!(s, "{t}");
    }

    // The step of every student today, counted.
    let mut counts: Vec<(String, usize)> = Vec::new();
    for st in &out.steps {
        let k = st.step.to_string();
        match counts.iter_mut().find(|(x, _)| *x == k) {
            Some((_, n)) => *n += 1,
            None => counts.push((k, 1)),
        }
    }
    if counts.is_empty() {
        let _ = writeln!(
            s,
            "Op {} staat geen leerling boven stap 1.",
            date_nl(through)
        );
    } else {
        let parts: Vec<String> = counts
            .iter()
            .map(|(k, n)| format!("stap {k}: {n}"))
            .collect();
        let _ = writeln!(
            s,
            "Stap van de leerlingen op {}: {}.",
            date_nl(through),
            parts.join(", ")
        );
    }
    s
}
