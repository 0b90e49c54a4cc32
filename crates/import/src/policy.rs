//! Policy files (TOML) to and from [`aanwezig_domain::Policy`].
//!
//! A policy file holds only the keys a school changes; every other key
//! keeps rules.md's default. Unknown keys are errors (a typo must not
//! silently leave a default in force), and every value passes
//! [`Policy::validate`]. `data/policy/default.toml` documents every key.

use std::path::Path;

use aanwezig_domain::Policy;

use crate::error::ImportError;
use crate::text::find_key_line;
use crate::toml_de::from_toml;

/// Parses and checks a policy file.
///
/// Errors name the file, the key (`duo_16h.window_weeks`) and, where it is
/// written in the file, the line; the reason is Dutch.
pub fn parse_policy(text: &str, file: &str) -> Result<Policy, ImportError> {
    let policy: Policy = from_toml(text, file)?;
    policy.validate().map_err(|source| ImportError::Policy {
        file: file.to_owned(),
        line: find_key_line(text, &source.key),
        source,
    })?;
    Ok(policy)
}

/// Reads and checks a policy file from disk.
pub fn load_policy(path: &Path) -> Result<Policy, ImportError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        file: file.clone(),
        source,
    })?;
    parse_policy(&text, &file)
}

/// Writes a complete policy file: every key, so the result documents the
/// policy in force. [`parse_policy`] reads it back to the same policy.
pub fn policy_to_toml(policy: &Policy) -> String {
    // Serialising a plain struct of numbers, booleans, strings, lists and
    // maps cannot fail; fall back to an empty (= default) file regardless.
    toml::to_string(policy).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use aanwezig_domain::{Category, CategorySet, Hours, LateCounts};

    use super::*;

    #[test]
    fn an_empty_file_is_the_default() {
        assert_eq!(parse_policy("", "p.toml").unwrap(), Policy::default());
    }

    #[test]
    fn a_file_holds_only_what_changes() {
        let text =
            "late_counts = \"lesson\"\n[duo_16h]\nhours = 12.5\n[codes]\nZ = \"reported_sick\"\n";
        let p = parse_policy(text, "p.toml").unwrap();
        assert_eq!(p.late_counts, LateCounts::Lesson);
        assert_eq!(p.duo_16h.hours, Hours::from_minutes(750));
        assert_eq!(p.duo_16h.window_weeks, 4);
        assert_eq!(p.category_of("Z"), Some(Category::ReportedSick));
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = parse_policy("[duo_16h]\nwindow_week = 3\n", "p.toml").unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("p.toml, regel 2"), "{text}");
        assert!(text.contains("onbekende sleutel 'window_week'"), "{text}");
        assert!(text.contains("duo_16h"), "{text}");

        let e = parse_policy("colour = 1\n", "p.toml").unwrap_err();
        assert!(e.to_string().contains("onbekende sleutel 'colour'"), "{e}");
    }

    #[test]
    fn wrong_types_and_categories_are_named() {
        let e = parse_policy("[duo_16h]\nwindow_weeks = \"vier\"\n", "p.toml").unwrap_err();
        match &e {
            ImportError::Syntax { key, line, .. } => {
                assert_eq!(key.as_deref(), Some("duo_16h.window_weeks"));
                assert_eq!(*line, Some(2));
            }
            other => panic!("unexpected {other:?}"),
        }
        let e = parse_policy("[codes]\nZ = \"ziek\"\n", "p.toml").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("codes.Z"), "{text}");
        assert!(text.contains("onbekende waarde 'ziek'"), "{text}");
    }

    #[test]
    fn out_of_range_values_name_key_and_line() {
        let e = parse_policy("[duo_16h]\nhours = 16\nwindow_weeks = 0\n", "p.toml").unwrap_err();
        match &e {
            ImportError::Policy { line, source, .. } => {
                assert_eq!(source.key, "duo_16h.window_weeks");
                assert_eq!(*line, Some(3));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            e.to_string()
                .starts_with("p.toml, regel 3, sleutel duo_16h.window_weeks: moet tussen"),
            "{e}"
        );
        let e =
            parse_policy("unexplained_categories = [\"reported_sick\"]\n", "p.toml").unwrap_err();
        assert!(e.to_string().contains("unexplained_categories"), "{e}");
    }

    #[test]
    fn written_policies_read_back() {
        let mut p = Policy {
            school: "Het \"Noorderlicht\" College".into(),
            ..Policy::default()
        };
        p.codes.insert("Z".into(), Category::ReportedSick);
        p.codes.insert("A B".into(), Category::Unknown); // invalid, but must quote
        p.duo_16h.hours = Hours::from_minutes(100);
        p.afmelding_categories = CategorySet::of(&[Category::ReportedSick]);
        let text = policy_to_toml(&p);
        let back: Policy = toml::from_str(&text).unwrap();
        assert_eq!(back, p);
        p.codes.remove("A B");
        assert_eq!(parse_policy(&policy_to_toml(&p), "p.toml").unwrap(), p);
    }
}
