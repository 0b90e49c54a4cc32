//! `aanwezig evaluate`: the stappenplan's rules on the registrations, as a
//! Dutch table or as JSON (docs/signals-json.md).

use crate::session::Database;

use aanwezig_domain::explain::{Period, SignalReport};
use aanwezig_domain::{Engine, Evaluation, Step, StudentId};
use anyhow::Context;
use chrono::NaiveDate;
use serde::Serialize;

use crate::session::{self, Loaded};
use crate::{render, EvaluateArgs, Format, Scope};

/// A student's step on the day evaluated.
#[derive(Debug, Serialize)]
pub struct StudentStep {
    pub student: String,
    pub name: String,
    pub class: String,
    pub mentor: String,
    pub step: Step,
}

/// The output of `evaluate`; its JSON form is documented.
#[derive(Debug, Serialize)]
pub struct EvaluationOutput {
    /// The date asked for.
    pub as_of: NaiveDate,
    /// The last school day on or before `as_of` (rules run up to it).
    pub evaluated_through: Option<NaiveDate>,
    pub scope: &'static str,
    /// For scope `week`: the school days of that teaching week.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// Number of students evaluated.
    pub students: usize,
    pub signals: Vec<SignalReport>,
    /// Every evaluated student above step 1 on `evaluated_through`.
    pub steps: Vec<StudentStep>,
}

/// Runs the rules for `loaded` as of `as_of`.
pub fn evaluate(
    loaded: &Loaded,
    as_of: NaiveDate,
    scope: Scope,
    student: Option<&str>,
) -> anyhow::Result<EvaluationOutput> {
    let Loaded {
        cal,
        policy,
        school,
    } = loaded;
    let engine = Engine::new(cal, policy);
    let scope_name = match scope {
        Scope::Week => "week",
        Scope::Open => "open",
        Scope::All => "all",
    };
    let mut out = EvaluationOutput {
        as_of,
        evaluated_through: None,
        scope: scope_name,
        period: None,
        students: 0,
        signals: Vec::new(),
        steps: Vec::new(),
    };
    let Some(d) = cal.on_or_before(as_of) else {
        return Ok(out);
    };
    out.evaluated_through = Some(cal.date(d));

    let (indices, evaluations): (Vec<usize>, Vec<Evaluation>) = match student {
        Some(id) => {
            let sid = StudentId::parse(id).with_context(|| format!("leerlingnummer '{id}'"))?;
            let i = school
                .position(&sid)
                .with_context(|| format!("leerling {id} bestaat niet"))?;
            (vec![i], vec![school.evaluate_one(&engine, i, Some(d))])
        }
        None => (
            (0..school.students().len()).collect(),
            school.evaluate_all(&engine, Some(d)),
        ),
    };
    out.students = indices.len();

    let week = cal.week_days(d);
    if scope == Scope::Week {
        out.period = Some(Period {
            from: cal.date(*week.start()),
            to: cal.date(*week.end()),
        });
    }
    for (i, ev) in indices.iter().zip(&evaluations) {
        let st = &school.students()[*i];
        let regs = school.registrations(*i);
        for s in &ev.signals {
            let keep = match scope {
                Scope::Week => week.contains(&s.fired_on),
                Scope::Open => s.is_open_on(d),
                Scope::All => true,
            };
            if keep {
                out.signals
                    .push(SignalReport::new(s, st.id.as_str(), cal, policy, regs, d));
            }
        }
        let step = ev.step_on(&engine, d);
        if step != Step::NONE {
            out.steps.push(StudentStep {
                student: st.id.to_string(),
                name: st.name.clone(),
                class: st.class.clone(),
                mentor: st.mentor.clone(),
                step,
            });
        }
    }
    // Most urgent first: higher step, then b before a, then the oldest.
    let rank = |s: Step| (s.level, s.b, s.a);
    out.signals.sort_by(|x, y| {
        rank(y.step)
            .cmp(&rank(x.step))
            .then(x.fired_on.cmp(&y.fired_on))
            .then(x.student.cmp(&y.student))
    });
    out.steps.sort_by(|x, y| {
        rank(y.step)
            .cmp(&rank(x.step))
            .then(x.student.cmp(&y.student))
    });
    Ok(out)
}

/// `aanwezig evaluate`.
pub async fn run(db: &Database, args: &EvaluateArgs, today: NaiveDate) -> anyhow::Result<()> {
    let loaded = if let Some(students) = &args.students {
        session::from_files(
            &args.calendars,
            students,
            &args.registrations,
            args.policy.as_deref(),
            args.timetable.as_deref(),
            &aanwezig_import::ImportSettings::of(
                args.registrations_format
                    .map_or(aanwezig_import::Format::Canonical, Into::into),
            ),
            today,
        )?
    } else {
        if !db.exists() {
            anyhow::bail!(
                "database {} bestaat niet: maak er een met `aanwezig demo` of `aanwezig import`, \
                 of geef --calendar, --students en --registrations om zonder database te werken",
                db
            );
        }
        let store = session::open_store(db).await?;
        session::from_store(store.as_ref()).await?
    };
    let as_of = args.as_of.unwrap_or(today);
    let out = evaluate(&loaded, as_of, args.scope, args.student.as_deref())?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&out)?),
        Format::Table => print!("{}", render::table(&out, &loaded)),
    }
    Ok(())
}
