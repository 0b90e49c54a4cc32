//! The reference pages: the plan with live thresholds, and the glossary.

use reqwest::StatusCode;

use crate::common::{spawn_app, USERS};

#[tokio::test]
async fn every_role_reads_the_plan_with_live_thresholds() {
    let app = spawn_app().await;
    for (who, _) in USERS {
        let c = app.login(who).await;
        let (status, html) = app.get(&c, "/stappenplan").await;
        assert_eq!(status, StatusCode::OK, "{who}");
        assert!(html.contains("4 keer afgemeld in 12 lesweken"), "{html}");
    }
    let c = app.login("coordinator").await;
    let (_, html) = app.get(&c, "/stappenplan").await;
    assert!(html.contains("7e schooldag op rij"));
    assert!(html.contains("16 uur of meer"));
    assert!(html.contains("id=\"leidraad-a\""));
    assert!(html.contains("id=\"leidraad-c\""));
    assert!(html.contains("id=\"jeugdarts\""));
    assert!(html.contains("id=\"stap-4b\""));
    assert!(html.contains("binnen 1 schooldag gedaan"));
    // The step names are the domain's, the same as on the dossier.
    for (step, name) in [
        ("2", "Hele dag afwezig: bellen"),
        ("3a", "Gemeld verzuim: gesprek"),
        ("3b", "Onbekend verzuim: gesprek"),
        ("4a", "Gemeld verzuim houdt aan"),
        ("4b", "Onbekend verzuim houdt aan: DUO-melding"),
        ("5a", "Verzuim houdt aan, gezin werkt mee"),
        ("5b", "Verzuim houdt aan, gezin werkt niet mee"),
    ] {
        assert!(
            html.contains(&format!("Stap {step} · {name}</h3>")),
            "{step}: {html}"
        );
    }
    // Staff are addressed as "u"; only the questions to the student say "je".
    assert!(html.contains("Wanneer schakelt u de jeugdarts in?"));

    // A changed policy changes the page.
    let mut policy = app.store.policy().await.unwrap().unwrap();
    policy.afmelding_count.min_episodes = 5;
    policy.afmelding_count.window_weeks = 10;
    policy.duo_16h.hours = aanwezig_domain::Hours::from_minutes(20 * 60 + 30);
    policy.duo_lrv.enabled = false;
    app.store
        .save_policy(&policy, "test", crate::common::now())
        .await
        .unwrap();
    app.state.reload().await.unwrap();
    let (_, html) = app.get(&c, "/stappenplan").await;
    assert!(html.contains("5 keer afgemeld in 10 lesweken"), "{html}");
    assert!(html.contains("20,5 uur of meer"), "{html}");
    assert!(
        html.contains("langdurig relatief verzuim)"),
        "switched-off rules are named"
    );
}

#[tokio::test]
async fn the_glossary_has_an_anchor_per_term() {
    let app = spawn_app().await;
    let c = app.login("mentor").await;
    let (status, html) = app.get(&c, "/begrippen").await;
    assert_eq!(status, StatusCode::OK);
    for id in [
        "duo-melding",
        "leerplicht",
        "leerplichtambtenaar",
        "jeugdarts",
        "mazl",
        "vo-wij",
        "aoj",
        "ect",
        "iot",
        "opdc",
        "ttvo",
        "doorstart",
        "rebound",
        "thuiswerkplan",
        "indigo",
        "meldcode",
        "veilig-thuis",
        "verzuimloket",
        "relatief-verzuim",
        "luxe-verzuim",
        "16-uur-regel",
        "lesweek",
        "afmelding",
        "afspraak",
        "brin",
        "concept",
        "contactmoment",
        "dossier",
        "gespreksleidraad",
        "interventie",
        "mijn-taken",
        "ouders",
        "partner",
        "streeflijn",
        "werkdag",
        "ziekmelding",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "no anchor {id}");
        assert!(
            html.contains(&format!("href=\"#{id}\"")),
            "no index entry {id}"
        );
    }
    // Sign-in is needed.
    let r = app
        .client()
        .get(app.url("/begrippen"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// An unknown path answers the Dutch "not found" page, signed in or not,
/// and the API its JSON error.
#[tokio::test]
async fn unknown_paths_get_the_dutch_not_found_page() {
    let app = crate::common::spawn_app().await;
    let c = app.login("coordinator").await;
    for path in ["/bestaat-niet", "/agenda/", "/agenda/a/b"] {
        let (status, html) = app.get(&c, path).await;
        assert_eq!(status, reqwest::StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("<html lang=\"nl\""), "{path}: {html}");
    }
    let (status, body) = app.get(&c, "/api/bestaat-niet").await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
    assert!(body.starts_with('{'), "{body}");
}

/// Numbers from the policy take the singular when they are 1: a school
/// that counts afmeldingen over one teaching week and reports within one
/// working day reads "1 lesweek" and "1 werkdag", never "1 lesweken".
#[tokio::test]
async fn the_plan_uses_the_singular_for_one() {
    let app = spawn_app().await;
    let mut policy = app.state.read().unwrap().policy.clone();
    policy.afmelding_count.window_weeks = 1;
    policy.duo_16h.deadline_working_days = 1;
    app.store
        .save_policy(&policy, "test", crate::common::now())
        .await
        .unwrap();
    app.state.reload().await.unwrap();
    let c = app.login("mentor").await;
    let (status, html) = app.get(&c, "/stappenplan").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("in 1 lesweek</strong>"), "{html}");
    assert!(html.contains("melden binnen 1 werkdag;"), "{html}");
    assert!(!html.contains("1 lesweken") && !html.contains("1 werkdagen"));
}
