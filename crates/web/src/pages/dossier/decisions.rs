//! Referrals and decisions (`POST …/besluit`).

use aanwezig_app::permission::{self, Permission};
use aanwezig_domain::case::{Decision, DecisionKind, OpdcTrajectory};
use aanwezig_domain::Role;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;

use super::forms::{apply_as, case_err, date_field, Posted, PARTIES};
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::state::AppState;

/// Decision kinds as form values, with their Dutch labels.
pub(super) fn decision_choices(role: Role) -> Vec<(&'static str, &'static str)> {
    let mut v = vec![
        (
            "jeugdarts_ja",
            "Verwijzing jeugdarts, ouders geven toestemming",
        ),
        (
            "jeugdarts_nee",
            "Jeugdarts voorgesteld, ouders geven geen toestemming",
        ),
        (
            "preventief_spreekuur",
            "Aanmelding preventief spreekuur leerplicht",
        ),
        ("vowij_ja", "Inzet VO WIJ, ouders geven toestemming"),
        ("vowij_nee", "Inzet VO WIJ, ouders geven geen toestemming"),
    ];
    if permission::may(role, Permission::SeeMeldcode) {
        v.push((
            "meldcode",
            "Meldcode huiselijk geweld en kindermishandeling volgen",
        ));
    }
    v.extend([
        ("ect", "ECT vragen mee te denken over maatwerk"),
        ("indigo_ja", "Melding in de Indigo-verzuimmodule nodig"),
        (
            "indigo_nee",
            "Geen melding in de Indigo-verzuimmodule nodig",
        ),
        (
            "meewerken_ja",
            "Leerling en ouders werken mee aan hulpverlening (naar 5a)",
        ),
        (
            "meewerken_nee",
            "Leerling en ouders werken niet mee aan hulpverlening (naar 5b)",
        ),
        ("opdc_ttvo", "Maatwerk: OPDC-traject TTVO"),
        ("opdc_doorstart", "Maatwerk: OPDC-traject Doorstart"),
        ("opdc_rebound8", "Maatwerk: OPDC-traject Rebound, 8 weken"),
        ("opdc_rebound13", "Maatwerk: OPDC-traject Rebound, 13 weken"),
        ("vrijstelling", "Maatwerk: vrijstelling via leerplicht"),
        ("maatwerk", "Ander maatwerk (omschrijf in de notitie)"),
    ]);
    v
}

fn decision_kind(value: &str, role: Role) -> Option<DecisionKind> {
    Some(match value {
        "jeugdarts_ja" => DecisionKind::Jeugdarts { consent: true },
        "jeugdarts_nee" => DecisionKind::Jeugdarts { consent: false },
        "preventief_spreekuur" => DecisionKind::PreventiefSpreekuur,
        "vowij_ja" => DecisionKind::VoWij { consent: true },
        "vowij_nee" => DecisionKind::VoWij { consent: false },
        "meldcode" if permission::may(role, Permission::SeeMeldcode) => DecisionKind::Meldcode,
        "ect" => DecisionKind::Ect,
        "indigo_ja" => DecisionKind::IndigoCheck { needed: true },
        "indigo_nee" => DecisionKind::IndigoCheck { needed: false },
        "meewerken_ja" => DecisionKind::Cooperation { cooperates: true },
        "meewerken_nee" => DecisionKind::Cooperation { cooperates: false },
        "opdc_ttvo" => DecisionKind::Opdc {
            trajectory: OpdcTrajectory::Ttvo,
        },
        "opdc_doorstart" => DecisionKind::Opdc {
            trajectory: OpdcTrajectory::Doorstart,
        },
        "opdc_rebound8" => DecisionKind::Opdc {
            trajectory: OpdcTrajectory::Rebound8,
        },
        "opdc_rebound13" => DecisionKind::Opdc {
            trajectory: OpdcTrajectory::Rebound13,
        },
        "vrijstelling" => DecisionKind::Vrijstelling,
        "maatwerk" => DecisionKind::OtherMaatwerk,
        _ => return None,
    })
}

/// `POST …/besluit`.
pub(super) async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let role = user.role();
    apply_as(
        &state,
        &user,
        &id,
        "besluit",
        Posted(fields),
        Permission::ManagePartners,
        |case, by, today, p| {
            let kind = decision_kind(p.get("soort"), role).ok_or("kies wat er is besloten")?;
            let on = date_field(p, "datum", today)?;
            let parties = p
                .all("partij")
                .into_iter()
                .filter_map(|v| {
                    PARTIES
                        .iter()
                        .find(|(k, _)| *k == v)
                        .map(|(_, p)| p.clone())
                })
                .collect();
            let note = p.get("notitie").trim().to_owned();
            if kind == DecisionKind::OtherMaatwerk && note.is_empty() {
                return Err("omschrijf in de notitie welk maatwerk is afgesproken".into());
            }
            // The audit log is read by the beheerder: one text for every
            // decision, so it never tells a meldcode or a consent outcome.
            let detail = "dossier: verwijzing of besluit vastgelegd".to_owned();
            case.decide(Decision {
                on,
                by,
                kind,
                parties,
                note,
            })
            .map_err(case_err)?;
            Ok(detail)
        },
    )
    .await
}
