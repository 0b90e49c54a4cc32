//! The Weekoverzicht as a Monday view (issue 11, item 5): *Bel vandaag*
//! newest absence first with overdue calls after, every list capped at 25
//! rows with a link to the whole list, step 3b ranked by unexplained hours
//! with a "zonder dossier" filter, and a page that stays small for a demo
//! school of 2,000 students.

use std::cmp::Reverse;

use aanwezig_domain::{Category, RuleId};
use chrono::NaiveDate;
use reqwest::StatusCode;

use crate::common::{now, open_case, spawn_app, spawn_app_sized, today, ymd, TestApp};

/// The part of a page from the element with `id` to the next `<h2` or
/// `</section>`, whichever comes first.
fn part<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &html[start..];
    let end = ["<h2", "<h3", "</section>"]
        .iter()
        .filter_map(|m| rest[1..].find(m).map(|i| i + 1))
        .min()
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The body rows of the first table in `html`.
fn rows(html: &str) -> Vec<&str> {
    let Some(body) = html.find("<tbody>") else {
        return Vec::new();
    };
    let body = &html[body..html[body..].find("</tbody>").unwrap() + body];
    body.split("<tr")
        .skip(1)
        .map(|r| r.split("</tr>").next().unwrap())
        .collect()
}

/// The student number each row links to first.
fn linked_ids(rows: &[&str]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            let i = r.find("href=\"/leerlingen/").unwrap() + "href=\"/leerlingen/".len();
            r[i..].split(['"', '/']).next().unwrap().to_owned()
        })
        .collect()
}

/// Students without any signal so far, in school order.
fn quiet_students(app: &TestApp, n: usize) -> Vec<String> {
    let live = app.state.read().unwrap();
    let found: Vec<String> = live
        .school
        .students()
        .iter()
        .zip(&live.evaluations)
        .filter(|(_, e)| e.signals.is_empty())
        .map(|(s, _)| s.id.to_string())
        .take(n)
        .collect();
    assert_eq!(found.len(), n, "{n} students without signals");
    found
}

/// Registers every lesson of `id` on `days` as absent without a report,
/// in the store and in the live school (as the register does).
async fn absent(app: &TestApp, id: &str, days: &[NaiveDate]) {
    let sid = aanwezig_domain::StudentId::parse(id).unwrap();
    let recs = app.store.student_registrations(&sid).await.unwrap();
    for mut r in recs.into_iter().filter(|r| days.contains(&r.date)) {
        r.category = Category::Unknown;
        r.code = Some("O".into());
        app.store
            .set_registration(&r, "coordinator", now())
            .await
            .unwrap();
        app.state.write().unwrap().apply(&r).unwrap();
    }
}

/// Students present at some lesson today and on the school day before:
/// a whole day of absence today is a new absence for each of them.
fn present_students(app: &TestApp, n: usize) -> Vec<String> {
    let live = app.state.read().unwrap();
    let d = live.through.unwrap();
    let present_on = |i: usize, day| {
        live.school
            .registrations(i)
            .iter()
            .any(|r| r.day == day && r.category == Category::Present)
    };
    let found: Vec<String> = (0..live.school.students().len())
        .filter(|&i| present_on(i, d) && present_on(i, d - 1))
        .map(|i| live.school.students()[i].id.to_string())
        .take(n)
        .collect();
    assert_eq!(found.len(), n, "{n} students present today and yesterday");
    found
}

#[tokio::test]
async fn bel_vandaag_puts_the_newest_absence_first_and_overdue_calls_after() {
    let app = spawn_app().await;
    let ids = quiet_students(&app, 3);
    let (long, middle, new) = (&ids[0], &ids[1], &ids[2]);
    // Absent since Monday and since Wednesday: the call (by the next
    // school day) is overdue. Absent since today: due by Monday.
    let week: Vec<NaiveDate> = (10..=14).map(|d| ymd(2025, 11, d)).collect();
    absent(&app, long, &week).await;
    absent(&app, middle, &week[2..]).await;
    absent(&app, new, &[today()]).await;

    let c = app.login("coordinator").await;
    let (status, html) = app.get(&c, "/?bellen=alle").await;
    assert_eq!(status, StatusCode::OK);
    // "Vandaag" comes first, before what is new this week.
    assert!(html.find("id=\"vandaag\"").unwrap() < html.find("id=\"nieuw\"").unwrap());
    let calls = rows(part(&html, "bellen"));
    let order = linked_ids(&calls);
    let at = |id: &str| order.iter().position(|x| x == id).unwrap();
    assert!(at(new) < at(middle), "{order:?}");
    assert!(at(middle) < at(long), "{order:?}");
    assert!(calls[at(long)].starts_with(" class=\"overdue\""));
    assert!(calls[at(middle)].starts_with(" class=\"overdue\""));
    assert!(!calls[at(new)].starts_with(" class=\"overdue\""));
    // All calls still due by their deadline come before every overdue one.
    let overdue: Vec<bool> = calls
        .iter()
        .map(|r| r.starts_with(" class=\"overdue\""))
        .collect();
    let mut sorted = overdue.clone();
    sorted.sort();
    assert_eq!(overdue, sorted, "overdue calls after the others");
    // The column holds what its heading says.
    let bel = part(&html, "bellen");
    assert!(bel.contains("<th scope=\"col\">Lessen op de eerste dag</th>"));
    assert!(!bel.contains(">Eerste dag<"));
    assert!(calls[at(new)].contains("<td>7 lessen onbekend afwezig</td>"));
}

#[tokio::test]
async fn long_lists_show_25_rows_and_link_to_the_whole_list() {
    let app = spawn_app().await;
    // 30 students absent all day today: 30 new calls and 30 new signals.
    for id in present_students(&app, 30) {
        absent(&app, &id, &[today()]).await;
    }
    let c = app.login("coordinator").await;
    let (_, html) = app.get(&c, "/").await;

    let bel = part(&html, "bellen");
    let total: usize = {
        let live = app.state.read().unwrap();
        let d = live.through.unwrap();
        (0..live.school.students().len())
            .map(|i| {
                live.evaluations[i]
                    .open_on(d)
                    .filter(|s| s.rule == RuleId::Contact)
                    .filter(|s| matches!(live.call_due(i, s), aanwezig_domain::CallDue::Due { .. }))
                    .count()
            })
            .sum()
    };
    assert!(total > 25, "{total} calls");
    assert!(bel.contains(&format!("Bel vandaag ({total})")));
    assert_eq!(rows(bel).len(), 25);
    assert!(bel.contains("href=\"/?bellen=alle#bellen\""), "{bel}");
    assert!(bel.contains(&format!("Toon alle {total} te bellen leerlingen")));
    let (_, full) = app.get(&c, "/?bellen=alle").await;
    let full_bel = part(&full, "bellen");
    assert_eq!(rows(full_bel).len(), total);
    assert!(
        full_bel.contains("href=\"/?#bellen\""),
        "back to the short list"
    );

    // The week's new signals: a count per step, 25 rows, each on one line
    // with its explanation folded away, and a link to all of them.
    let nieuw = &html[html.find("id=\"nieuw\"").unwrap()..];
    let nieuw = &nieuw[..nieuw.find("</section>").unwrap()];
    let signals = &nieuw[nieuw.find("class=\"data signals\"").unwrap()..];
    let shown = rows(signals);
    assert_eq!(shown.len(), 25);
    assert!(shown
        .iter()
        .all(|r| r.contains("<details><summary>Uitleg</summary>")));
    let new_total: usize = {
        let live = app.state.read().unwrap();
        let cal = live.cal.as_ref().unwrap();
        let d = live.through.unwrap();
        let first = *cal.week_days(d).start();
        live.evaluations
            .iter()
            .map(|e| e.fired_between(first, d).count())
            .sum()
    };
    assert!(nieuw.contains(&format!("Nieuw deze week ({new_total})")));
    assert!(nieuw.contains("href=\"/?nieuw=alle#nieuw\""));
    let (_, all) = app.get(&c, "/?nieuw=alle").await;
    let all = &all[all.find("class=\"data signals\"").unwrap()..];
    assert_eq!(rows(all).len(), new_total);

    // The count of step 2 links to all its new signals.
    let counts = rows(&nieuw[nieuw.find("class=\"data new-counts\"").unwrap()..]);
    let two = counts
        .iter()
        .find(|r| r.contains("badge step-2\">2<"))
        .unwrap();
    let n: usize = two
        .split("#nieuw\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 30);
    let (_, step2) = app.get(&c, "/?nieuw=2").await;
    let step2 = &step2[step2.find("class=\"data signals\"").unwrap()..];
    let step2 = rows(step2);
    assert_eq!(step2.len(), n);
    assert!(step2.iter().all(|r| r.contains("badge step-2\">2<")));

    // A mentor's view holds the own class only, capped the same way.
    let m = app.login("mentor").await;
    let (_, html) = app.get(&m, "/?bellen=alle").await;
    let live = app.state.read().unwrap();
    for id in linked_ids(&rows(part(&html, "bellen"))) {
        let i = live.position(&id).unwrap();
        assert_eq!(live.school.students()[i].class, app.mentor_class);
    }
}

/// Students at step 3b with their unexplained minutes in the 3b window,
/// most first (then by name).
fn ranked_3b(app: &TestApp) -> Vec<(String, u32)> {
    let live = app.state.read().unwrap();
    let engine = live.engine().unwrap();
    let d = live.through.unwrap();
    let p = &live.policy;
    let from = engine.window_start(d, p.unexplained.window_weeks);
    let mut out: Vec<(u32, String, String)> = Vec::new();
    for (i, s) in live.school.students().iter().enumerate() {
        let step = live.evaluations[i].step_on(&engine, d);
        if !(step.level == 3 && step.b) {
            continue;
        }
        let minutes = live
            .school
            .registrations(i)
            .iter()
            .filter(|r| r.day >= from && r.day <= d)
            .map(|r| p.unexplained_minutes(r.category, r.minutes, r.minutes_late))
            .sum();
        out.push((minutes, s.name.clone(), s.id.to_string()));
    }
    out.sort_by(|a, b| (Reverse(a.0), &a.1).cmp(&(Reverse(b.0), &b.1)));
    out.into_iter().map(|(m, _, id)| (id, m)).collect()
}

#[tokio::test]
async fn step_3b_is_ranked_by_unexplained_hours_with_a_zonder_dossier_filter() {
    let app = spawn_app().await;
    let want = ranked_3b(&app);
    assert!(want.len() >= 3, "the demo school has students at 3b");
    assert!(want[0].1 > want[want.len() - 1].1, "hours differ");
    let c = app.login("coordinator").await;
    let (_, html) = app.get(&c, "/").await;
    let b3 = part(&html, "stap-3b");
    let shown = rows(b3);
    let ids = linked_ids(&shown);
    let expected: Vec<String> = want.iter().take(25).map(|(id, _)| id.clone()).collect();
    assert_eq!(ids, expected, "most unexplained hours first");
    let first_hours = aanwezig_domain::Hours::from_minutes(want[0].1);
    assert!(
        shown[0].contains(&format!("<td class=\"num\">{first_hours} uur</td>")),
        "{}",
        shown[0]
    );
    assert!(b3.contains(&format!("{} leerlingen op stap 3b", want.len())));
    assert!(b3.contains("href=\"/?zonder_dossier=1#stap-3b\""));

    // A dossier for the top student: the filter leaves them out.
    let top = &want[0].0;
    open_case(&app, top, "3b", &[]).await;
    app.state.changed();
    let (_, html) = app.get(&c, "/").await;
    let b3 = part(&html, "stap-3b");
    let top_row = rows(b3)[0];
    assert!(top_row.contains(&format!("href=\"/leerlingen/{top}/dossier\">open</a>")));
    assert!(b3.contains(&format!("{} daarvan zonder dossier", want.len() - 1)));
    let (_, html) = app.get(&c, "/?zonder_dossier=1").await;
    let b3 = part(&html, "stap-3b");
    let ids = linked_ids(&rows(b3));
    assert!(!ids.contains(top), "{ids:?}");
    assert_eq!(ids[0], want[1].0);
    assert!(rows(b3).iter().all(|r| r.contains("<td>geen</td>")));
    assert!(b3.contains("Toon ook de leerlingen met een dossier"));

    // The full list: Leerlingen on 3b without a dossier, by hours.
    let (status, list) = app
        .get(&c, "/leerlingen?stap=3b&zonder_dossier=1&sorteer=uren")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&format!("{} leerlingen gevonden", want.len() - 1)));
    assert!(!list.contains(&format!("href=\"/leerlingen/{top}\"")));
    let first = &list[list.find("<tbody>").unwrap()..];
    let first = &first[first.find("href=\"/leerlingen/").unwrap()..];
    assert!(first.starts_with(&format!("href=\"/leerlingen/{}\"", want[1].0)));
    assert!(list.contains(
        "id=\"zonder_dossier\" name=\"zonder_dossier\" type=\"checkbox\" value=\"1\" checked"
    ));
}

/// The Weekoverzicht of a demo school of 2,000 students, for the
/// coordinator, stays under 60 KB of HTML: every list is capped.
#[tokio::test]
async fn the_coordinators_overview_of_a_demo_school_of_2000_students_stays_under_60_kb() {
    let app = spawn_app_sized(2000).await;
    let c = app.login("coordinator").await;
    let (status, html) = app.get(&c, "/").await;
    assert_eq!(status, StatusCode::OK);
    eprintln!("Weekoverzicht, 2,000 students: {} bytes", html.len());
    if let Ok(path) = std::env::var("WEEKOVERZICHT_HTML") {
        std::fs::write(path, &html).unwrap();
    }
    assert!(html.len() <= 60 * 1024, "{} bytes", html.len());
    for id in ["bellen", "duo", "stap-3b"] {
        assert!(rows(part(&html, id)).len() <= 25, "#{id}");
    }
    // The page still leads to the whole lists.
    assert!(html.contains("href=\"/?bellen=alle#bellen\""));
    assert!(html.contains("href=\"/leerlingen?stap=3b&#38;sorteer=uren\""));
}
