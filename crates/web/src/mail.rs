//! Sending e-mail: the school's SMTP settings (stored as a settings
//! document, [`DocumentKind::Mail`]) and sending plain-text messages with
//! lettre over SMTP.
//!
//! The password is stored with the settings because the SMTP server needs
//! it; pages never show it back.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use aanwezig_storage::DocumentKind;
use chrono::{DateTime, Utc};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::error::PageError;
use crate::state::AppState;

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain SMTP (only for a server on the school's own network).
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587).
    #[default]
    Starttls,
    /// TLS from the start (usually port 465).
    Tls,
}

impl Security {
    /// Every choice, in the order the form shows them.
    pub const ALL: [Security; 3] = [Security::Starttls, Security::Tls, Security::None];

    /// The form value.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::None => "none",
            Security::Starttls => "starttls",
            Security::Tls => "tls",
        }
    }

    /// Parses a form value.
    pub fn parse(s: &str) -> Option<Security> {
        Security::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Dutch label.
    pub fn label_nl(self) -> &'static str {
        match self {
            Security::None => "geen (alleen binnen het eigen netwerk)",
            Security::Starttls => "STARTTLS (meestal poort 587)",
            Security::Tls => "TLS (meestal poort 465)",
        }
    }
}

/// The SMTP server and the sender the app mails with.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub security: Security,
    /// Empty: the server needs no sign-in.
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    pub from_address: String,
    #[serde(default)]
    pub from_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &"…")
            .field("from_address", &self.from_address)
            .field("from_name", &self.from_name)
            .field("reply_to", &self.reply_to)
            .finish()
    }
}

impl MailSettings {
    /// Whether enough is filled in to send.
    pub fn is_configured(&self) -> bool {
        !self.host.trim().is_empty() && self.port != 0 && !self.from_address.trim().is_empty()
    }
}

/// The stored settings, if any were saved.
pub async fn load(state: &AppState) -> Result<Option<MailSettings>, PageError> {
    match state.store.settings(DocumentKind::Mail).await? {
        None => Ok(None),
        Some(json) => serde_json::from_str(&json)
            .map(Some)
            .map_err(|e| PageError::Internal(format!("mail settings: {e}"))),
    }
}

/// Whether `s` is one valid e-mail address (no name, no spaces).
pub fn valid_address(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 254
        && !s.chars().any(char::is_whitespace)
        && Address::from_str(s).is_ok_and(|a| a.domain().contains('.') || a.domain() == "localhost")
}

/// One message to send: plain text to one address.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Where answers go, instead of the settings' reply-to.
    pub reply_to: Option<String>,
    /// The message's date (the app's clock, `state.clock.now()`).
    pub at: DateTime<Utc>,
}

/// Why sending failed: a Dutch sentence for everyone, and the server's or
/// library's own words for the beheerder where there are any. `Display`
/// shows both (the e-mail settings page); a mentor sees only `.0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailError(pub String, pub Option<String>);

impl MailError {
    fn plain(sentence: impl Into<String>) -> MailError {
        MailError(sentence.into(), None)
    }
}

impl fmt::Display for MailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)?;
        if let Some(t) = &self.1 {
            write!(f, " (technisch: {t})")?;
        }
        Ok(())
    }
}

fn mailbox(name: &str, address: &str) -> Result<Mailbox, MailError> {
    let a = Address::from_str(address.trim())
        .map_err(|_| MailError::plain(format!("{address} is geen geldig e-mailadres.")))?;
    let name = name.trim();
    Ok(Mailbox::new((!name.is_empty()).then(|| name.to_owned()), a))
}

fn transport(settings: &MailSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let host = settings.host.trim();
    let refused = |e: lettre::transport::smtp::Error| {
        MailError(
            format!(
                "De naam van de mailserver ({host}) is niet te gebruiken voor een beveiligde verbinding. Controleer de servernaam in de e-mailinstellingen."
            ),
            Some(e.to_string()),
        )
    };
    let builder = match settings.security {
        Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        Security::Starttls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(refused)?
        }
        Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(refused)?,
    };
    let mut builder = builder
        .port(settings.port)
        .timeout(Some(Duration::from_secs(20)));
    if !settings.username.trim().is_empty() {
        builder = builder.credentials(Credentials::new(
            settings.username.trim().to_owned(),
            settings.password.clone(),
        ));
    }
    Ok(builder.build())
}

/// Sends `messages`, one at a time over one connection setup. The outer
/// error: nothing could be sent (settings incomplete or invalid); the
/// inner results: per message, in order, whether the server took it.
pub async fn send(
    settings: &MailSettings,
    messages: &[Outgoing],
) -> Result<Vec<Result<(), MailError>>, MailError> {
    if !settings.is_configured() {
        return Err(MailError::plain(
            "E-mail is nog niet ingesteld: de beheerder vult de mailserver in bij Instellingen › E-mail.",
        ));
    }
    let from = mailbox(&settings.from_name, &settings.from_address)?;
    let reply_to = match settings.reply_to.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => Some(mailbox("", r)?),
        _ => None,
    };
    let transport = transport(settings)?;
    let mut results = Vec::with_capacity(messages.len());
    for m in messages {
        results.push(
            send_one(
                &transport,
                settings.host.trim(),
                &from,
                reply_to.as_ref(),
                m,
            )
            .await,
        );
    }
    Ok(results)
}

async fn send_one(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    host: &str,
    from: &Mailbox,
    reply_to: Option<&Mailbox>,
    m: &Outgoing,
) -> Result<(), MailError> {
    let mut builder = Message::builder()
        .from(from.clone())
        .to(mailbox("", &m.to)?)
        .subject(m.subject.clone())
        .date(std::time::SystemTime::from(m.at));
    let own_reply = match m.reply_to.as_deref() {
        Some(r) => Some(mailbox("", r)?),
        None => None,
    };
    if let Some(r) = own_reply.as_ref().or(reply_to) {
        builder = builder.reply_to(r.clone());
    }
    // Quoted-printable: readable in any client, safe for long lines and
    // accented letters.
    let body = Body::new_with_encoding(m.body.clone(), ContentTransferEncoding::QuotedPrintable)
        .map_err(|_| {
            MailError::plain(format!(
                "Het bericht aan {} kon niet worden opgemaakt.",
                m.to
            ))
        })?;
    let message = builder
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| {
            MailError(
                format!("Het bericht aan {} kon niet worden opgemaakt.", m.to),
                Some(e.to_string()),
            )
        })?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| explain(&e, host, &m.to))
}

/// A Dutch sentence for what went wrong while talking to the SMTP server
/// `host` about a message to `to`, with lettre's own text in parentheses
/// for the beheerder.
fn explain(e: &lettre::transport::smtp::Error, host: &str, to: &str) -> MailError {
    let technical = e.to_string();
    let lower = technical.to_lowercase();
    let code = e.status().map(|c| c.to_string()).unwrap_or_default();
    let sentence = if e.is_timeout() {
        format!("De mailserver {host} reageerde niet op tijd. Probeer het later opnieuw; blijft het misgaan, vraag de beheerder de instellingen na te kijken.")
    } else if lower.contains("starttls") {
        format!("De mailserver {host} biedt geen STARTTLS aan: de beveiligde verbinding mislukte. De beheerder kiest bij de e-mailinstellingen een andere beveiliging of poort.")
    } else if e.is_tls() {
        format!("De beveiligde verbinding (TLS) met de mailserver {host} mislukte. De beheerder controleert de beveiliging en de poort bij de e-mailinstellingen.")
    } else if lower.contains("authentication")
        || ["530", "534", "535", "538"].contains(&code.as_str())
    {
        format!("De mailserver {host} weigerde het inloggen. De beheerder controleert de gebruikersnaam en het wachtwoord bij de e-mailinstellingen.")
    } else if ["501", "550", "551", "553"].contains(&code.as_str()) {
        format!("De mailserver weigerde het adres {to}. Controleer of het adres klopt.")
    } else if e.is_transient() {
        format!("De mailserver {host} kan het bericht nu niet aannemen. Probeer het later opnieuw.")
    } else if e.is_permanent() {
        format!("De mailserver {host} weigerde het bericht aan {to}.")
    } else if lower.starts_with("connection error") || lower.starts_with("network error") {
        format!("De mailserver {host} is niet bereikbaar. Controleer de servernaam en de poort bij de e-mailinstellingen, of probeer het later opnieuw.")
    } else if e.is_response() {
        format!("De mailserver {host} gaf een antwoord dat de app niet begrijpt.")
    } else {
        format!("Het versturen via de mailserver {host} mislukte.")
    };
    MailError(sentence, Some(technical))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked() {
        assert!(valid_address("ouder@example.nl"));
        assert!(!valid_address("ouder@example"));
        assert!(!valid_address("ouder example.nl"));
        assert!(!valid_address("Ouder <ouder@example.nl>"));
        assert!(!valid_address(""));
    }

    #[test]
    fn debug_hides_the_password() {
        let s = MailSettings {
            password: "geheim123".into(),
            ..MailSettings::default()
        };
        assert!(!format!("{s:?}").contains("geheim123"));
    }
}
