//! The reference pages every signed-in role may read: the quick version of
//! the stappenplan with the conversation guides and the role of the
//! jeugdarts (`/stappenplan`), and the glossary (`/begrippen`).
//!
//! The plan's thresholds are read from the school's live policy, so the page
//! always says what the signals really do ("4 keer in 12 lesweken" becomes
//! whatever the beheerder set). The texts are written for this app in our
//! own words, after the seed (stappenplan v2.1, bijlagen 1–4).

use aanwezig_domain::{CaseStep, Step};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::state::AppState;

/// The policy's numbers as the plan page shows them.
struct Thresholds {
    school: String,
    contact_days: u32,
    count_episodes: u32,
    count_weeks: u16,
    long_day: u32,
    unexplained_hours: String,
    unexplained_any: bool,
    unexplained_weeks: u16,
    persist_episodes: u32,
    persist_day: u32,
    duo_hours: String,
    duo_weeks: u16,
    duo_deadline: u32,
    lrv_weeks: u16,
    lrv_deadline: u32,
    holiday_deadline: u32,
    target: String,
    /// Rules the school switched off, by step label.
    disabled: Vec<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "plan.html")]
struct PlanPage {
    layout: Layout,
    t: Thresholds,
}

impl PlanPage {
    /// The name of step `1` … `6`, from the one domain function every page
    /// uses.
    fn step_name(&self, step: &str) -> &'static str {
        match step {
            "1" => Step::NONE.label_nl(),
            "2" => Step::new(2, None).label_nl(),
            s => CaseStep::parse(s).map_or("", CaseStep::label_nl),
        }
    }
}

async fn plan(State(state): State<AppState>, user: CurrentUser) -> Result<PlanPage, PageError> {
    let t = {
        let live = state.read()?;
        let p = &live.policy;
        let mut disabled = Vec::new();
        // Each rule by its step and the signal's own title, so that the
        // names are the ones the other pages use.
        for (on, label) in [
            (p.contact.enabled, "stap 2 (Hele dag afwezig: bellen)"),
            (p.afmelding_count.enabled, "stap 3a (Vaak afgemeld)"),
            (p.afmelding_long.enabled, "stap 3a (Lang afgemeld)"),
            (
                p.unexplained.enabled,
                "stap 3b (Onbekend verzuim, zonder geldige reden)",
            ),
            (
                p.afmelding_persist.enabled,
                "stap 4a (Afmeldingen houden aan)",
            ),
            (p.duo_16h.enabled, "stap 4b (de 16-urenregel)"),
            (p.duo_lrv.enabled, "stap 4b (langdurig relatief verzuim)"),
            (p.duo_holiday.enabled, "stap 4b (verzuim rond een vakantie)"),
        ] {
            if !on {
                disabled.push(label);
            }
        }
        Thresholds {
            school: p.school.clone(),
            contact_days: p.contact.deadline_school_days,
            count_episodes: p.afmelding_count.min_episodes,
            count_weeks: p.afmelding_count.window_weeks,
            long_day: p.afmelding_long.day,
            unexplained_hours: p.unexplained.min_hours.to_string(),
            unexplained_any: p.unexplained.min_hours.minutes() == 0,
            unexplained_weeks: p.unexplained.window_weeks,
            persist_episodes: p.afmelding_persist.min_new_episodes,
            persist_day: p.afmelding_persist.day,
            duo_hours: p.duo_16h.hours.to_string(),
            duo_weeks: p.duo_16h.window_weeks,
            duo_deadline: p.duo_16h.deadline_working_days,
            lrv_weeks: p.duo_lrv.window_weeks,
            lrv_deadline: p.duo_lrv.deadline_working_days,
            holiday_deadline: p.duo_holiday.deadline_working_days,
            target: format!("{:.0}", p.attendance.target * 100.0),
            disabled,
        }
    };
    Ok(PlanPage {
        layout: Layout::new(&user, section::PLAN, "Stappenplan"),
        t,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "glossary.html")]
struct GlossaryPage {
    layout: Layout,
}

async fn glossary(user: CurrentUser) -> GlossaryPage {
    GlossaryPage {
        layout: Layout::new(&user, section::GLOSSARY, "Begrippen"),
    }
}

/// `/stappenplan` and `/begrippen`.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/stappenplan", plan)
        .get("/begrippen", glossary)
}
