//! One step everywhere (rules.md §4): the API, the Leerlingen list, each
//! student's page and the Weekoverzicht's "Leerlingen per stap" give every
//! demo student the same step.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::spawn_app;

/// The text between `start` and the next `end` after it, for every
/// occurrence.
fn between<'a>(html: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    html.match_indices(start)
        .filter_map(|(i, _)| {
            let rest = &html[i + start.len()..];
            rest.find(end).map(|j| &rest[..j])
        })
        .collect()
}

#[tokio::test]
async fn every_page_and_the_api_give_each_student_the_same_step() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;

    // The API.
    let r = c.get(app.url("/api/leerlingen")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let list: Value = r.json().await.unwrap();
    let api: BTreeMap<String, String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["step"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(api.len(), 60);
    assert!(
        api.values().any(|s| s != "1"),
        "the demo school has students above step 1: {api:?}"
    );

    // The Leerlingen list: one row per student, the step in its badge.
    let (status, html) = app.get(&c, "/leerlingen").await;
    assert_eq!(status, StatusCode::OK);
    let mut listed = BTreeMap::new();
    for row in between(&html, "<tr>\n      <td>", "</tr>") {
        let id = row.split('<').next().unwrap().trim().to_owned();
        let badge = between(row, "<span class=\"badge ", "</span>");
        let step = badge[0].split('>').nth(1).unwrap().trim().to_owned();
        listed.insert(id, step);
    }
    assert_eq!(listed, api, "Leerlingen and the API");

    // Each student's page.
    for (id, step) in &api {
        let (status, html) = app.get(&c, &format!("/leerlingen/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        let shown = between(&html, "Stap <span class=\"badge big ", "</span>");
        let shown = shown[0].split('>').nth(1).unwrap();
        assert_eq!(shown, step, "student page of {id}");
    }

    // The Weekoverzicht: per step the number of students, linked to the
    // Leerlingen list on that step, which lists exactly them (a student
    // at 3a/3b counts under both tracks).
    let (status, html) = app.get(&c, "/").await;
    assert_eq!(status, StatusCode::OK);
    let section = &html[html.find("id=\"open\"").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    for key in ["4b", "4a", "3b", "3a", "2", "1"] {
        let head = format!("<span class=\"badge step-{key}\">{key}</span>");
        let at = section.find(&head).unwrap_or_else(|| panic!("{key} row"));
        let row = &section[at..section[at..].find("</tr>").unwrap() + at];
        let href = between(row, "<a href=\"", "\"")[0].replace("&#38;", "&");
        let count: usize = between(row, "<td class=\"num\"><a href=\"", "</a>")[0]
            .split("\">")
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let level = &key[..1];
        let track = &key[1..];
        let want: BTreeSet<String> = api
            .iter()
            .filter(|(_, s)| s.starts_with(level) && s[1..].contains(track))
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(count, want.len(), "Weekoverzicht, step {key}");
        assert_eq!(href, format!("/leerlingen?stap={key}&sorteer=stap"));
        let (_, list) = app.get(&c, &href).await;
        let shown: BTreeSet<String> = between(&list, "<tr>\n      <td>", "<")
            .into_iter()
            .map(|id| id.trim().to_owned())
            .collect();
        assert_eq!(shown, want, "Leerlingen on step {key}");
    }
}
