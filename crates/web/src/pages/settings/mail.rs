//! Instellingen → E-mail: the SMTP server and sender the app mails agreements with.
//!
//! Beheerder only. The password is never sent back to the browser: the
//! field is always empty, and leaving it empty keeps the stored password.
//! Each save is a new version of the settings document and an audit entry
//! (Settings); so is each test message.

use aanwezig_storage::{AuditAction, DocumentKind};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use crate::error::PageError;
use crate::guard::ManageSettings;
use crate::layout::{section, Layout};
use crate::mail::{self, MailSettings, Outgoing, Security};
use crate::state::AppState;

/// What the form shows and submits (never the password).
#[derive(Debug, Default, Deserialize)]
struct MailForm {
    #[serde(default)]
    host: String,
    #[serde(default)]
    poort: String,
    #[serde(default)]
    beveiliging: String,
    #[serde(default)]
    gebruikersnaam: String,
    #[serde(default)]
    wachtwoord: String,
    /// The "wachtwoord wissen" checkbox.
    wachtwoord_wissen: Option<String>,
    #[serde(default)]
    afzender: String,
    #[serde(default)]
    afzender_naam: String,
    #[serde(default)]
    antwoordadres: String,
}

impl MailForm {
    fn from_settings(s: &MailSettings) -> MailForm {
        MailForm {
            host: s.host.clone(),
            poort: if s.port == 0 {
                String::new()
            } else {
                s.port.to_string()
            },
            beveiliging: s.security.as_str().to_owned(),
            gebruikersnaam: s.username.clone(),
            wachtwoord: String::new(),
            wachtwoord_wissen: None,
            afzender: s.from_address.clone(),
            afzender_naam: s.from_name.clone(),
            antwoordadres: s.reply_to.clone().unwrap_or_default(),
        }
    }
}

struct SecurityOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings_mail.html")]
struct MailPage {
    layout: Layout,
    form: MailForm,
    options: Vec<SecurityOption>,
    has_password: bool,
    configured: bool,
    errors: Vec<(&'static str, String)>,
    saved: bool,
    test_to: String,
    test_error: Option<String>,
    test_sent: bool,
}

impl MailPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    fn summary(&self) -> Vec<crate::layout::ErrorLink> {
        crate::layout::error_links(
            &[
                ("host", "m-host"),
                ("poort", "m-poort"),
                ("beveiliging", "m-beveiliging"),
                ("gebruikersnaam", "m-gebruikersnaam"),
                ("afzender", "m-afzender"),
                ("afzender_naam", "m-afzender-naam"),
                ("antwoordadres", "m-antwoord"),
            ],
            |f| self.error(f),
        )
    }
}

fn page(
    user: &crate::auth::CurrentUser,
    stored: Option<&MailSettings>,
    form: MailForm,
) -> MailPage {
    let options = Security::ALL
        .into_iter()
        .map(|s| SecurityOption {
            value: s.as_str(),
            label: s.label_nl(),
            selected: s.as_str() == form.beveiliging,
        })
        .collect();
    MailPage {
        layout: Layout::new(user, section::SETTINGS, "E-mail"),
        form,
        options,
        has_password: stored.is_some_and(|s| !s.password.is_empty()),
        configured: stored.is_some_and(MailSettings::is_configured),
        errors: Vec::new(),
        saved: false,
        test_to: String::new(),
        test_error: None,
        test_sent: false,
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Shown {
    opgeslagen: Option<String>,
    test: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Query(q): Query<Shown>,
) -> Result<MailPage, PageError> {
    let stored = mail::load(&state).await?;
    let form = stored
        .as_ref()
        .map(MailForm::from_settings)
        .unwrap_or_else(|| MailForm {
            poort: "587".into(),
            beveiliging: Security::Starttls.as_str().into(),
            ..MailForm::default()
        });
    let mut p = page(&user, stored.as_ref(), form);
    p.saved = q.opgeslagen.is_some();
    p.test_sent = q.test.is_some();
    Ok(p)
}

/// Checks the form; `stored` gives the password to keep.
fn check(
    form: &MailForm,
    stored: Option<&MailSettings>,
) -> Result<MailSettings, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let host = form.host.trim();
    if host.is_empty() {
        errors.push(("host", "Vul de naam van de mailserver in.".to_owned()));
    } else if host.len() > 253
        || host
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == ':')
    {
        errors.push((
            "host",
            "Alleen de naam van de server, zoals smtp.school.nl (zonder poort of https://)."
                .to_owned(),
        ));
    }
    let port = match form.poort.trim().parse::<u16>() {
        Ok(p) if p > 0 => p,
        _ => {
            errors.push((
                "poort",
                "Vul een poortnummer in van 1 tot 65535.".to_owned(),
            ));
            0
        }
    };
    let security = Security::parse(&form.beveiliging).unwrap_or_else(|| {
        errors.push((
            "beveiliging",
            "Kies hoe de verbinding beveiligd wordt.".to_owned(),
        ));
        Security::default()
    });
    let from = form.afzender.trim();
    if !mail::valid_address(from) {
        errors.push((
            "afzender",
            "Vul een geldig e-mailadres in als afzender, zoals verzuim@school.nl.".to_owned(),
        ));
    }
    let name = form.afzender_naam.trim();
    if name.chars().count() > 100 || name.contains(['<', '>', '"', '\n', '\r']) {
        errors.push((
            "afzender_naam",
            "De naam mag hoogstens 100 tekens hebben en geen < > of \".".to_owned(),
        ));
    }
    let reply = form.antwoordadres.trim();
    if !reply.is_empty() && !mail::valid_address(reply) {
        errors.push((
            "antwoordadres",
            "Dit is geen geldig e-mailadres.".to_owned(),
        ));
    }
    let username = form.gebruikersnaam.trim();
    if username.len() > 254 {
        errors.push(("gebruikersnaam", "De gebruikersnaam is te lang.".to_owned()));
    }
    let password = if form.wachtwoord_wissen.is_some() {
        String::new()
    } else if form.wachtwoord.is_empty() {
        stored.map(|s| s.password.clone()).unwrap_or_default()
    } else {
        form.wachtwoord.clone()
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(MailSettings {
        host: host.to_owned(),
        port,
        security,
        username: username.to_owned(),
        password,
        from_address: from.to_owned(),
        from_name: name.to_owned(),
        reply_to: (!reply.is_empty()).then(|| reply.to_owned()),
    })
}

async fn save(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Form(form): Form<MailForm>,
) -> Result<Response, PageError> {
    let stored = mail::load(&state).await?;
    let settings = match check(&form, stored.as_ref()) {
        Ok(s) => s,
        Err(errors) => {
            let form = MailForm {
                wachtwoord: String::new(),
                ..form
            };
            let mut p = page(&user, stored.as_ref(), form);
            p.errors = errors;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
        }
    };
    let json = serde_json::to_string(&settings)
        .map_err(|e| PageError::Internal(format!("mail settings: {e}")))?;
    let password = match (form.wachtwoord_wissen.is_some(), form.wachtwoord.is_empty()) {
        (true, _) => ", wachtwoord gewist",
        (false, false) => ", nieuw wachtwoord",
        (false, true) => "",
    };
    // Checked against the version stored now and audited in the same
    // transaction.
    state
        .save_setting(
            &user,
            aanwezig_storage::DocumentWrite::Settings(DocumentKind::Mail, &json),
            None,
            |version| {
                format!(
                    "e-mailinstellingen versie {version}: server {}:{} ({}), afzender {}{password}",
                    settings.host,
                    settings.port,
                    settings.security.as_str(),
                    settings.from_address
                )
            },
            "/instellingen/email",
        )
        .await?;
    Ok(Redirect::to("/instellingen/email?opgeslagen=1").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct TestForm {
    #[serde(default)]
    aan: String,
}

async fn test(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Form(form): Form<TestForm>,
) -> Result<Response, PageError> {
    let stored = mail::load(&state).await?;
    let shown = stored
        .as_ref()
        .map(MailForm::from_settings)
        .unwrap_or_default();
    let to = form.aan.trim().to_owned();
    let mut p = page(&user, stored.as_ref(), shown);
    p.test_to = to.clone();
    if !mail::valid_address(&to) {
        p.test_error =
            Some("Vul een geldig e-mailadres in om het testbericht naar te sturen.".into());
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
    }
    let Some(settings) = stored.filter(MailSettings::is_configured) else {
        p.test_error = Some(
            "Er is nog geen mailserver opgeslagen. Sla eerst de instellingen hierboven op.".into(),
        );
        return Ok((StatusCode::CONFLICT, p).into_response());
    };
    let message = Outgoing {
        to: to.clone(),
        subject: "Testbericht van aanwezig".into(),
        body: format!(
            "Dit is een testbericht van aanwezig.\n\nKomt dit bericht aan, dan kan aanwezig e-mail versturen via {}.\n\nU hoeft niets te doen.\n",
            settings.host
        ),
        reply_to: None,
        at: state.clock.now(),
    };
    let outcome = match mail::send(&settings, std::slice::from_ref(&message)).await {
        Ok(mut results) => results.pop().unwrap_or(Ok(())),
        Err(e) => Err(e),
    };
    let detail = match &outcome {
        Ok(()) => format!("testbericht verstuurd naar {to}"),
        Err(e) => format!("testbericht naar {to} mislukt: {e}"),
    };
    user.audit(&state, AuditAction::Settings, None, detail)
        .await?;
    match outcome {
        Ok(()) => Ok(Redirect::to("/instellingen/email?test=verzonden").into_response()),
        Err(e) => {
            p.test_error = Some(format!("Het testbericht is niet verstuurd. {e}"));
            Ok((StatusCode::BAD_GATEWAY, p).into_response())
        }
    }
}

/// This area's routes.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/instellingen/email", show)
        .post("/instellingen/email", save)
        .post("/instellingen/email/test", test)
}
