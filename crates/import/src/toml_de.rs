//! Deserialising TOML with errors that name the file, the line and the key.

use serde::de::DeserializeOwned;

use crate::error::ImportError;
use crate::text::{dutch, line_of};

/// Deserialises `text`, tracking the key path so that an error can say
/// which key (`school_year[0].first_day`, `duo_16h.hours`) is wrong.
pub(crate) fn from_toml<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, ImportError> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let line = inner.span().map(|s| line_of(text, s.start));
        // The parser's messages can span lines; an error is one line.
        let message = dutch(inner.message()).replace('\n', "; ");
        let key = (path != "." && !path.is_empty()).then_some(path);
        let message = match (&key, untranslated(&message)) {
            (None, true) => format!("ongeldige TOML: {message}"),
            (Some(_), true) => format!("ongeldige waarde: {message}"),
            (_, false) => message,
        };
        ImportError::Syntax {
            file: file.to_owned(),
            line,
            key,
            message,
        }
    })
}

/// The parser's own (English) messages get a Dutch lead-in; the messages
/// `dutch` already translated do not.
fn untranslated(message: &str) -> bool {
    !(message.starts_with("onbekende")
        || message.starts_with("verplichte")
        || message.starts_with("verkeerd")
        || message.starts_with("ongeldige")
        || message.starts_with("sleutel")
        || message.starts_with("datum"))
}
