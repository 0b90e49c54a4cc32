//! The overview pages: Weekoverzicht (`/`), Leerlingen (`/leerlingen`) and
//! Leerling (`/leerlingen/{id}`). Expected content is computed from the
//! app's own evaluations of the demo school.

use aanwezig_domain::explain::explain;
use aanwezig_domain::{RuleId, Step};
use aanwezig_storage::{AuditAction, AuditFilter};
use reqwest::StatusCode;

use crate::common::{spawn_app, TestApp};

/// Text as askama writes it into HTML.
fn escaped(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// The part of a page from the element with `id` to the next `<section`.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &html[start..];
    let end = rest.find("<section").unwrap_or(rest.len());
    &rest[..end]
}

fn link(id: &str) -> String {
    format!("href=\"/leerlingen/{id}\"")
}

/// A signal fired this teaching week.
struct NewSignal {
    id: String,
    class: String,
    mentor: String,
    title: &'static str,
    explanation: String,
}

/// Every signal that fired in the teaching week of the app's today, one
/// per student (the first), in student order.
fn new_signals(app: &TestApp) -> Vec<NewSignal> {
    let live = app.state.read().unwrap();
    let cal = live.cal.as_ref().unwrap();
    let d = live.through.unwrap();
    let week_first = *cal.week_days(d).start();
    let mut out = Vec::new();
    for (i, s) in live.school.students().iter().enumerate() {
        if let Some(sig) = live.evaluations[i].fired_between(week_first, d).next() {
            out.push(NewSignal {
                id: s.id.to_string(),
                class: s.class.clone(),
                mentor: s.mentor.clone(),
                title: sig.rule.title_nl(),
                explanation: explain(sig, cal, &live.policy, live.school.registrations(i)),
            });
        }
    }
    out
}

#[tokio::test]
async fn coordinator_sees_this_weeks_signals_calls_and_the_chart() {
    let app = spawn_app().await;
    let signals = new_signals(&app);
    assert!(!signals.is_empty(), "the demo school has signals this week");
    let c = app.login("coordinator").await;
    let (status, html) = app.get(&c, "/").await;
    assert_eq!(status, StatusCode::OK);
    let new = section(&html, "nieuw");
    for s in &signals {
        assert!(new.contains(&link(&s.id)), "{} missing", s.id);
        assert!(new.contains(s.title));
    }
    assert!(new.contains(&escaped(&signals[0].explanation)));

    // "Bel vandaag": every open contact signal, with its student.
    let calls: Vec<String> = {
        let live = app.state.read().unwrap();
        let d = live.through.unwrap();
        live.school
            .students()
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                live.evaluations[*i]
                    .open_on(d)
                    .any(|s| s.rule == RuleId::Contact)
            })
            .map(|(_, s)| s.id.to_string())
            .collect()
    };
    let bel = section(&html, "bellen");
    for id in &calls {
        assert!(bel.contains(&link(id)), "call {id} missing");
    }
    if calls.is_empty() {
        assert!(bel.contains("Niemand om te bellen"));
    }

    // The chart: one bar per class, the dashed 90 % line, text for screen
    // readers and a table alternative.
    let chart = section(&html, "aanwezigheid");
    assert!(chart.contains("<svg class=\"chart\""));
    assert!(chart.contains("<line class=\"target\""));
    assert!(chart.contains("90,0 % (streeflijn)"));
    assert!(chart.contains("<desc id=\"grafiek-uitleg\">"));
    assert!(chart.contains("Aanwezigheid per klas als tabel"));
    let classes: std::collections::BTreeSet<String> = {
        let live = app.state.read().unwrap();
        live.school
            .students()
            .iter()
            .map(|s| s.class.clone())
            .collect()
    };
    assert_eq!(chart.matches("<rect class=\"bar").count(), classes.len());

    // One audit entry for the list, without a student.
    let log = app
        .store
        .audit_log(&AuditFilter {
            student: None,
            username: Some("coordinator".into()),
            limit: 10,
        })
        .await
        .unwrap();
    assert!(log.iter().any(|e| e.action == AuditAction::Read
        && e.detail == "weekoverzicht"
        && e.student.is_none()));
}

#[tokio::test]
async fn a_mentor_sees_only_own_class_on_the_dashboard() {
    let app = spawn_app().await;
    let c = app.login("mentor").await;
    let (status, html) = app.get(&c, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains(&app.other_student),
        "other class's student shown"
    );
    let others: Vec<NewSignal> = new_signals(&app)
        .into_iter()
        .filter(|s| s.class != app.mentor_class)
        .collect();
    for s in &others {
        assert!(!html.contains(&link(&s.id)));
    }
    for s in new_signals(&app)
        .iter()
        .filter(|s| s.class == app.mentor_class)
    {
        assert!(html.contains(&link(&s.id)), "own student {} missing", s.id);
    }
    // One class in the chart and in the class filter.
    assert_eq!(html.matches("<rect class=\"bar").count(), 1);
    let other_class = {
        let live = app.state.read().unwrap();
        live.school
            .students()
            .iter()
            .find(|s| s.class != app.mentor_class)
            .unwrap()
            .class
            .clone()
    };
    assert!(!html.contains(&format!("<option value=\"{other_class}\"")));
    assert!(html.contains(&format!("<option value=\"{}\"", app.mentor_class)));
}

#[tokio::test]
async fn dashboard_filters_by_class_and_mentor() {
    let app = spawn_app().await;
    let signals = new_signals(&app);
    let a = &signals[0];
    let b = signals
        .iter()
        .find(|s| s.class != a.class && s.mentor != a.mentor)
        .expect("signals in two classes this week");
    let c = app.login("coordinator").await;

    let (status, html) = app.get(&c, &format!("/?klas={}", a.class)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&link(&a.id)));
    assert!(!html.contains(&link(&b.id)));
    assert!(html.contains(&format!("<option value=\"{}\" selected>", a.class)));
    assert_eq!(html.matches("<rect class=\"bar").count(), 1);

    let (_, html) = app.get(&c, &format!("/?mentor={}", b.mentor)).await;
    assert!(html.contains(&link(&b.id)));
    assert!(!html.contains(&link(&a.id)));

    // The new signals of an earlier week, by query.
    let earlier: Vec<String> = {
        let live = app.state.read().unwrap();
        let cal = live.cal.as_ref().unwrap();
        let days = cal.week_days(
            cal.index(chrono::NaiveDate::from_ymd_opt(2025, 11, 3).unwrap())
                .unwrap(),
        );
        live.school
            .students()
            .iter()
            .zip(&live.evaluations)
            .filter(|(_, e)| e.fired_between(*days.start(), *days.end()).next().is_some())
            .map(|(s, _)| s.id.to_string())
            .collect()
    };
    assert!(!earlier.is_empty());
    let (_, html) = app.get(&c, "/?week=2025-11-05").await;
    let new = section(&html, "nieuw");
    assert!(new.contains("in de lesweek van maandag 3 november 2025"));
    for id in &earlier {
        assert!(new.contains(&link(id)));
    }
    assert!(
        new.contains("href=\"/?#nieuw\""),
        "a link back to this week"
    );

    // A class nobody has: an empty selection, not an error.
    let (status, html) = app.get(&c, "/?klas=9Z").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Geen klassen in deze selectie"));
}

#[tokio::test]
async fn beheerder_and_partners_get_no_student_data() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let (status, html) = app.get(&c, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("href=\"/importeren\""));
    assert!(html.contains("href=\"/gebruikers\""));
    assert!(!html.contains(&app.own_student));
    let (status, _) = app
        .get(&c, &format!("/leerlingen/{}", app.own_student))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.get(&c, "/leerlingen").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let c = app.login("leerplicht").await;
    let (status, html) = app.get(&c, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(&app.own_student));
    let (status, _) = app
        .get(&c, &format!("/leerlingen/{}", app.own_student))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn student_list_searches_filters_and_sorts() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;

    let (status, html) = app.get(&c, "/leerlingen").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("60 leerlingen gevonden"));

    let (_, html) = app
        .get(&c, &format!("/leerlingen?zoek={}", app.own_student))
        .await;
    assert!(html.contains("1 leerling gevonden"), "{html}");
    assert!(html.contains(&link(&app.own_student)));

    // By name, case-insensitively.
    let name = {
        let live = app.state.read().unwrap();
        live.school.students()[0].name.clone()
    };
    let first_word = name.split_whitespace().next().unwrap().to_uppercase();
    let (_, html) = app.get(&c, &format!("/leerlingen?zoek={first_word}")).await;
    assert!(html.contains(&link(&app.own_student)));

    // By step: a student on a step above 1 is found, one on step 1 is not.
    let (above, key, at_one) = {
        let live = app.state.read().unwrap();
        let engine = live.engine().unwrap();
        let d = live.through.unwrap();
        let steps: Vec<(String, Step)> = live
            .school
            .students()
            .iter()
            .zip(&live.evaluations)
            .map(|(s, e)| (s.id.to_string(), e.step_on(&engine, d)))
            .collect();
        let (above, step) = steps
            .iter()
            .find(|(_, s)| s.level >= 3)
            .cloned()
            .expect("a student at step 3 or 4");
        let key = format!("{}{}", step.level, if step.b { "b" } else { "a" });
        let at_one = steps
            .iter()
            .find(|(_, s)| *s == Step::NONE)
            .map(|(id, _)| id.clone())
            .expect("a student at step 1");
        (above, key, at_one)
    };
    let (_, html) = app.get(&c, &format!("/leerlingen?stap={key}")).await;
    assert!(html.contains(&link(&above)), "stap={key}");
    assert!(!html.contains(&link(&at_one)));
    assert!(html.contains(&format!("badge step-{key}")));

    // Sorting by attendance puts the lowest rate first.
    let (_, html) = app.get(&c, "/leerlingen?sorteer=aanwezigheid").await;
    assert!(html.contains("aria-sort=\"ascending\""));
    let lowest = {
        let live = app.state.read().unwrap();
        let d = live.through.unwrap();
        let (i, _) = (0..live.school.students().len())
            .map(|i| {
                let (a, n) = aanwezig_domain::engine::attendance(
                    live.cal.as_ref().unwrap(),
                    live.policy.presence,
                    live.school.context(i).week.as_ref(),
                    live.school.registrations(i),
                    0,
                    d,
                );
                (i, f64::from(a) / f64::from(n.max(1)))
            })
            .min_by(|x, y| x.1.total_cmp(&y.1))
            .unwrap();
        live.school.students()[i].id.to_string()
    };
    let first_row = html.find("<tbody>").unwrap();
    let first_link = html[first_row..].find("href=\"/leerlingen/").unwrap() + first_row;
    assert!(html[first_link..].starts_with(&link(&lowest)));

    // A mentor's list holds the own class only.
    let m = app.login("mentor").await;
    let (_, html) = app.get(&m, "/leerlingen").await;
    assert!(html.contains(&link(&app.own_student)));
    assert!(!html.contains(&app.other_student));
}

#[tokio::test]
async fn student_page_shows_heat_map_signals_and_registrations() {
    let app = spawn_app().await;
    // The student with the most signals.
    let (id, explanations, evidence) = {
        let live = app.state.read().unwrap();
        let cal = live.cal.as_ref().unwrap();
        let (i, e) = live
            .evaluations
            .iter()
            .enumerate()
            .max_by_key(|(_, e)| e.signals.len())
            .unwrap();
        let regs = live.school.registrations(i);
        (
            live.school.students()[i].id.to_string(),
            e.signals
                .iter()
                .map(|s| explain(s, cal, &live.policy, regs))
                .collect::<Vec<_>>(),
            e.signals.iter().any(|s| !s.evidence.is_empty()),
        )
    };
    assert!(!explanations.is_empty());
    let c = app.login("coordinator").await;
    let (status, html) = app.get(&c, &format!("/leerlingen/{id}")).await;
    assert_eq!(status, StatusCode::OK);

    // The heat map: a cell per school day up to today, with a legend.
    let school_days = {
        let live = app.state.read().unwrap();
        let cal = live.cal.as_ref().unwrap();
        let y = cal.years()[0].clone();
        cal.school_days()
            .iter()
            .filter(|d| **d >= y.first_day && **d <= y.last_day)
            .count()
    };
    assert!(html.contains("<svg class=\"heatmap\""));
    let heat = section(&html, "jaar");
    assert_eq!(heat.matches("<rect class=").count(), school_days);
    assert!(heat.contains("<rect class=\"present"));
    assert!(heat.contains("<rect class=\"future"));
    assert!(heat.contains("class=\"swatch unknown\""));

    // Every signal with its explanation, and its lessons.
    let sig = section(&html, "signalen");
    assert_eq!(
        sig.matches("<li class=\"signal").count(),
        explanations.len()
    );
    for e in &explanations {
        assert!(sig.contains(&escaped(e)), "explanation missing: {e}");
    }
    if evidence {
        assert!(sig.contains("lessen achter dit signaal"));
    }

    // This week's registrations, with a link to correct each lesson.
    let regs = section(&html, "registraties");
    assert!(regs.contains("<table class=\"data lessons\""));
    assert!(regs.contains(&format!(
        "/leerlingen/{id}/les?datum=2025-11-14&#38;lesuur=1"
    )));
    assert!(regs.contains("vr 14 nov"));
    assert!(html.contains("Gewijzigde lessen"));

    // An older week by query.
    let (_, html) = app
        .get(&c, &format!("/leerlingen/{id}?week=2025-09-01"))
        .await;
    assert!(section(&html, "registraties").contains("ma 1 sep"));
}

#[tokio::test]
async fn a_corrected_lesson_shows_in_the_history() {
    let app = spawn_app().await;
    let id = app.own_student.clone();
    let sid = aanwezig_domain::StudentId::parse(&id).unwrap();
    let mut rec = app
        .store
        .student_registrations(&sid)
        .await
        .unwrap()
        .into_iter()
        .rfind(|r| r.category == aanwezig_domain::Category::Present)
        .unwrap();
    // Present → unknown (O) at 09:00 UTC, then unknown → sick (Z) at 10:00.
    for (code, category, hour) in [
        ("O", aanwezig_domain::Category::Unknown, 0),
        ("Z", aanwezig_domain::Category::ReportedSick, 1),
    ] {
        rec.category = category;
        rec.code = Some(code.into());
        let at = crate::common::now() + chrono::Duration::hours(hour);
        app.store
            .set_registration(&rec, "coordinator", at)
            .await
            .unwrap();
        app.state.write().unwrap().apply(&rec).unwrap();
    }
    let c = app.login("coordinator").await;
    let (_, html) = app.get(&c, &format!("/leerlingen/{id}")).await;
    let hist = section(&html, "geschiedenis");
    assert_eq!(hist.matches("<tr><td>").count(), 2, "{hist}");
    // Newest first, in Dutch time (UTC+1 in November).
    let newest = hist.find("14 nov 2025 11:00").unwrap();
    let older = hist.find("14 nov 2025 10:00").unwrap();
    assert!(newest < older);
    assert!(hist.contains("<td>O (onbekend afwezig)</td><td>ziek gemeld</td>"));
    assert!(hist.contains("<td>aanwezig</td><td>O (onbekend afwezig)</td>"));
    assert!(hist.contains("coordinator"));
}

#[tokio::test]
async fn mentors_see_own_students_only_and_every_view_is_audited() {
    let app = spawn_app().await;
    let c = app.login("mentor").await;
    let (status, html) = app
        .get(&c, &format!("/leerlingen/{}", app.own_student))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("corrigeren"),
        "a mentor may correct own students"
    );
    let (status, _) = app
        .get(&c, &format!("/leerlingen/{}", app.other_student))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get(&c, "/leerlingen/bestaat-niet").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let filter = AuditFilter {
        student: Some(aanwezig_domain::StudentId::parse(&app.own_student).unwrap()),
        username: None,
        limit: 100,
    };
    let before = app.store.audit_log(&filter).await.unwrap().len();
    let z = app.login("zorg").await;
    app.get(&z, &format!("/leerlingen/{}", app.own_student))
        .await;
    app.get(&c, &format!("/leerlingen/{}", app.own_student))
        .await;
    let log = app.store.audit_log(&filter).await.unwrap();
    assert_eq!(log.len(), before + 2);
    assert_eq!(log[0].action, AuditAction::Read);
    assert_eq!(log[0].username, "mentor");
    assert_eq!(log[1].username, "zorg");
    // A refused view is not a read.
    let other = AuditFilter {
        student: Some(aanwezig_domain::StudentId::parse(&app.other_student).unwrap()),
        username: None,
        limit: 100,
    };
    assert!(app.store.audit_log(&other).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_change_shows_on_the_overview_pages_at_once() {
    let app = spawn_app().await;
    // A student present all day today, with no open contact signal.
    let id = {
        let live = app.state.read().unwrap();
        let d = live.through.unwrap();
        let i = (0..live.school.students().len())
            .find(|&i| {
                let regs = live.school.registrations(i);
                let day: Vec<_> = regs.iter().filter(|r| r.day == d).collect();
                !day.is_empty()
                    && day
                        .iter()
                        .all(|r| r.category == aanwezig_domain::Category::Present)
                    && live.evaluations[i].open_on(d).next().is_none()
            })
            .expect("a student without open signals, present today");
        live.school.students()[i].id.clone()
    };
    let c = app.login("coordinator").await;
    let (_, html) = app.get(&c, "/").await;
    assert!(!section(&html, "bellen").contains(&link(id.as_str())));

    // Absent without a report all day today.
    let recs = app.store.student_registrations(&id).await.unwrap();
    for mut r in recs
        .into_iter()
        .filter(|r| r.date == crate::common::today())
    {
        r.category = aanwezig_domain::Category::Unknown;
        r.code = Some("O".into());
        app.store
            .set_registration(&r, "coordinator", crate::common::now())
            .await
            .unwrap();
        app.state.write().unwrap().apply(&r).unwrap();
    }
    let (_, html) = app.get(&c, "/").await;
    assert!(
        section(&html, "bellen").contains(&link(id.as_str())),
        "the new absence is in the call list"
    );
    let (_, html) = app.get(&c, "/leerlingen?stap=3b").await;
    assert!(
        html.contains(&link(id.as_str())),
        "and at step 3b in the list"
    );
}

/// The overview names the user's own tasks, overdue ones first; an
/// external partner is pointed to the dossiers they are brought into.
#[tokio::test]
async fn the_overview_counts_my_tasks() {
    /// The number of overdue tasks in the summary (0 without it).
    fn overdue(html: &str) -> usize {
        let Some(i) = html.find("class=\"tasks-summary\"") else {
            return 0;
        };
        let p = &html[i..html[i..].find("</p>").unwrap() + i];
        p.find(" te laat")
            .map(|e| {
                let digits = &p[..e];
                let start = digits.rfind('>').unwrap() + 1;
                digits[start..].parse().unwrap()
            })
            .unwrap_or(0)
    }

    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let (_, html) = app.get(&c, "/").await;
    let before = overdue(&html);

    // An intervention that started seven weeks ago: its evaluation (at
    // most six weeks) is overdue for the case's owner, the coordinator.
    crate::common::open_case(&app, &app.other_student, "3b", &[]).await;
    crate::common::start_intervention(
        &app,
        &app.other_student,
        "dagelijks melden",
        crate::common::ymd(2025, 9, 26),
    )
    .await;
    // Written behind the app's back, so tell it (every change through the
    // app does this itself, as the evaluation below shows). Whether the
    // counts were cached before is the app's business: its background
    // housekeeping may renew them at any moment.
    app.state.changed();
    let (_, html) = app.get(&c, "/").await;
    assert_eq!(overdue(&html), before + 1, "{html}");

    // The evaluation, held through the app: the overdue task is gone at once.
    app.post_ok(
        &c,
        &format!(
            "/leerlingen/{}/dossier/interventie/1/evaluatie",
            app.other_student
        ),
        &[("datum", "2025-11-14"), ("notitie", "gaat beter")],
    )
    .await;
    let (_, html) = app.get(&c, "/").await;
    assert_eq!(overdue(&html), before, "{html}");

    let j = app.login("jeugdarts").await;
    let (_, html) = app.get(&j, "/").await;
    assert!(html.contains("href=\"/dossiers\""));
    assert!(html.contains("href=\"/taken\""));

    // Leerplicht, brought into a case with an overdue school task, reads
    // along on Mijn taken but is not told the school's tasks are theirs.
    crate::common::open_case(&app, &app.own_student, "4b", &["leerplicht"]).await;
    crate::common::start_intervention(
        &app,
        &app.own_student,
        "dagelijks melden",
        crate::common::ymd(2025, 9, 26),
    )
    .await;
    app.state.changed();
    let lpa = app.login("leerplicht").await;
    let (_, tasks) = app.get(&lpa, "/taken").await;
    assert!(tasks.contains("Bekijken"), "reads along: {tasks}");
    let (_, html) = app.get(&lpa, "/").await;
    assert_eq!(overdue(&html), 0, "{html}");
    assert!(!html.contains("class=\"tasks-summary\""), "{html}");
}
