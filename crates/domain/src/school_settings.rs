//! The school's own details as a settings document: its name, BRIN and
//! vestiging (for DUO meldingen) and the telephone number a melding names
//! for its reporter.
//!
//! Kept as a JSON document with every version (the web's Instellingen →
//! School page edits it, `aanwezig demo` seeds it); DUO melding drafts take
//! BRIN, vestiging and phone from the latest one.

use serde::{Deserialize, Serialize};

/// The school document as stored. Every field defaults to empty, so a
/// document saved before a field existed still reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SchoolSettings {
    pub name: String,
    /// Two digits and two capitals, e.g. `12AB` ([`crate::duo::is_brin`]).
    pub brin: String,
    /// Two digits, e.g. `00` ([`crate::duo::is_vestiging`]).
    pub vestiging: String,
    /// The phone number a DUO melding names for its reporter by default.
    pub phone: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_document_keeps_its_field_names_and_reads_when_fields_are_missing() {
        let s = SchoolSettings {
            name: "Het Lyceum".into(),
            brin: "12AB".into(),
            vestiging: "00".into(),
            phone: "050 123 4567".into(),
        };
        let json = serde_json::to_string(&s).expect("serialise");
        assert_eq!(
            json,
            r#"{"name":"Het Lyceum","brin":"12AB","vestiging":"00","phone":"050 123 4567"}"#
        );
        assert_eq!(serde_json::from_str::<SchoolSettings>(&json).ok(), Some(s));
        let old: SchoolSettings = serde_json::from_str(r#"{"name":"X"}"#).expect("partial");
        assert_eq!(old.brin, "");
    }
}
