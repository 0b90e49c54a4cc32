//! The error policy of the import crate.
//!
//! Two shapes, because files fail in two ways:
//!
//! * [`ImportError`]: the whole file is rejected for one reason (a TOML
//!   syntax error, a policy value out of range, an unreadable workbook).
//!   It names the file and, where known, the line and the key.
//! * [`ImportErrors`]: a table (CSV or XLSX) was read row by row and every
//!   bad row got its own [`RowError`] naming line, column and reason. A
//!   school fixing an export wants all problems at once, not one per run.
//!
//! A third shape is no failure: [`ImportWarnings`], problems that do not
//! stop an import but that a school should look at (a mentor who is no
//! user, a date of birth that makes a pupil 8 years old). They are grouped
//! like row errors.
//!
//! Every message is Dutch: it is shown to the school's administrator.

use std::borrow::Cow;
use std::fmt;

use aanwezig_domain::explain::counted_nl;
use aanwezig_domain::{CalendarError, PolicyError};

/// How many row errors are kept; the rest are only counted.
pub const MAX_STORED_ERRORS: usize = 1000;

/// How many row errors `Display` lists before summarising the rest.
pub const MAX_DISPLAYED_ERRORS: usize = 50;

/// A file rejected as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read or written.
    #[error("{file}: kan het bestand niet lezen of schrijven: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML or JSON, or a value has the wrong type or
    /// an unknown key.
    #[error("{}: {message}", location(file, *line, key.as_deref()))]
    Syntax {
        file: String,
        /// 1-based line, where the parser gives one.
        line: Option<usize>,
        /// The key path, e.g. `school_year[0].first_day` or `duo_16h.hours`.
        key: Option<String>,
        message: String,
    },
    /// The calendar parsed, but its years do not make a valid calendar.
    #[error("{}: {source}", location(file, *line, Some(key)))]
    Calendar {
        file: String,
        line: Option<usize>,
        key: String,
        #[source]
        source: CalendarError,
    },
    /// A value is well-formed but not accepted (a policy value out of range,
    /// an unknown region, a bad start time).
    #[error("{}: {reason}", location(file, *line, Some(key)))]
    Invalid {
        file: String,
        line: Option<usize>,
        key: String,
        reason: String,
    },
    /// The policy's own check ([`aanwezig_domain::Policy::validate`]) failed.
    #[error("{}: {}", location(file, *line, Some(&source.key)), source.reason)]
    Policy {
        file: String,
        line: Option<usize>,
        #[source]
        source: PolicyError,
    },
    /// A spreadsheet could not be opened or has no sheet.
    #[error("{file}: {message}")]
    Workbook { file: String, message: String },
}

/// `file, regel 3, sleutel x.y` with the parts that are known.
pub(crate) fn location(file: &str, line: Option<usize>, key: Option<&str>) -> String {
    let mut s = file.to_owned();
    if let Some(l) = line {
        s.push_str(&format!(", regel {l}"));
    }
    if let Some(k) = key {
        s.push_str(&format!(", sleutel {k}"));
    }
    s
}

/// One problem in one row of a table, or the same problem in several
/// rows: an error that repeats (the same column, the same message, say
/// one unknown code in 350 rows) is kept once, with its first line and
/// how many rows have it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line (of the first row with this problem); the header is
    /// line 1. `None` for problems of the file as a whole (it cannot be
    /// read).
    pub line: Option<u64>,
    /// The column, as named in the file's header.
    pub column: Option<Cow<'static, str>>,
    /// Why, in Dutch.
    pub message: String,
    /// How many rows have this problem (1 or more).
    pub count: u64,
}

impl RowError {
    /// The message, with the number of rows when it repeats:
    /// `code 'XC' staat niet in het beleid (350 regels, eerste op regel 12)`.
    pub fn text(&self) -> String {
        match (self.count, self.line) {
            (0 | 1, _) => self.message.clone(),
            (n, Some(l)) => format!("{} ({n} regels, eerste op regel {l})", self.message),
            (n, None) => format!("{} ({n} keer)", self.message),
        }
    }

    /// The error with its file: `registraties.csv, regel 12, kolom date: …`.
    pub fn in_file<'a>(&'a self, file: &'a str) -> impl fmt::Display + 'a {
        InFile { file, error: self }
    }
}

struct InFile<'a> {
    file: &'a str,
    error: &'a RowError,
}

impl fmt::Display for InFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file)?;
        if let Some(l) = self.error.line {
            write!(f, ", regel {l}")?;
        }
        if let Some(c) = &self.error.column {
            write!(f, ", kolom {c}")?;
        }
        write!(f, ": {}", self.error.text())
    }
}

/// Every problem found in one table. When a table has any, none of its rows
/// are imported (all or nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportErrors {
    /// The file name used in messages.
    pub file: String,
    /// The first [`MAX_STORED_ERRORS`] distinct problems, in file order of
    /// their first row; a repeated one counts its rows.
    pub errors: Vec<RowError>,
    /// Rows with problems beyond those kept.
    pub omitted: usize,
}

impl ImportErrors {
    /// The number of problems found in rows, kept or not, repeats included.
    pub fn total(&self) -> usize {
        let kept: u64 = self.errors.iter().map(|e| e.count.max(1)).sum();
        usize::try_from(kept).unwrap_or(usize::MAX) + self.omitted
    }

    /// One error for the file as a whole.
    pub fn single(file: &str, line: Option<u64>, message: String) -> ImportErrors {
        ImportErrors {
            file: file.to_owned(),
            errors: vec![RowError {
                line,
                column: None,
                message,
                count: 1,
            }],
            omitted: 0,
        }
    }
}

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.total();
        if total == 1 {
            write!(f, "1 fout in {}; er is niets ingelezen", self.file)?;
        } else {
            write!(f, "{total} fouten in {}; er is niets ingelezen", self.file)?;
        }
        for e in self.errors.iter().take(MAX_DISPLAYED_ERRORS) {
            write!(f, "\n{}", e.in_file(&self.file))?;
        }
        let shown: u64 = self
            .errors
            .iter()
            .take(MAX_DISPLAYED_ERRORS)
            .map(|e| e.count.max(1))
            .sum();
        let shown = usize::try_from(shown).unwrap_or(usize::MAX);
        if total > shown {
            write!(
                f,
                "\nen nog {}",
                counted_nl((total - shown) as u64, "fout", "fouten")
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportErrors {}

impl From<ImportError> for ImportErrors {
    fn from(e: ImportError) -> ImportErrors {
        let file = match &e {
            ImportError::Io { file, .. }
            | ImportError::Syntax { file, .. }
            | ImportError::Calendar { file, .. }
            | ImportError::Invalid { file, .. }
            | ImportError::Policy { file, .. }
            | ImportError::Workbook { file, .. } => file.clone(),
        };
        ImportErrors::single(&file, None, e.to_string())
    }
}

/// Problems in a table that do not stop its import, grouped like
/// [`ImportErrors`]: a warning that repeats (the same column and message) is
/// kept once with its first line and how many rows have it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportWarnings {
    /// The file name used in messages.
    pub file: String,
    /// The first [`MAX_STORED_ERRORS`] distinct warnings, in file order of
    /// their first row.
    pub warnings: Vec<RowError>,
    /// Rows with warnings beyond those kept.
    pub omitted: usize,
}

impl ImportWarnings {
    /// Whether there is nothing to warn about.
    pub fn is_empty(&self) -> bool {
        self.warnings.is_empty() && self.omitted == 0
    }

    /// The number of rows with a warning, kept or not, repeats included.
    pub fn total(&self) -> usize {
        let kept: u64 = self.warnings.iter().map(|e| e.count.max(1)).sum();
        usize::try_from(kept).unwrap_or(usize::MAX) + self.omitted
    }

    /// One line per distinct warning, with its file, line and column:
    /// `leerlingen.csv, regel 4, kolom mentor: … (12 regels, eerste op regel 4)`.
    pub fn lines(&self) -> Vec<String> {
        self.warnings
            .iter()
            .map(|w| w.in_file(&self.file).to_string())
            .collect()
    }
}

impl fmt::Display for ImportWarnings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.total() {
            0 => return write!(f, "geen waarschuwingen in {}", self.file),
            1 => write!(f, "1 waarschuwing in {}", self.file)?,
            n => write!(f, "{n} waarschuwingen in {}", self.file)?,
        }
        f.write_str(" (het bestand wordt wel ingelezen)")?;
        for w in self.warnings.iter().take(MAX_DISPLAYED_ERRORS) {
            write!(f, "\n{}", w.in_file(&self.file))?;
        }
        let shown: u64 = self
            .warnings
            .iter()
            .take(MAX_DISPLAYED_ERRORS)
            .map(|e| e.count.max(1))
            .sum();
        let shown = usize::try_from(shown).unwrap_or(usize::MAX);
        if self.total() > shown {
            write!(
                f,
                "\nen nog {}",
                counted_nl(
                    (self.total() - shown) as u64,
                    "waarschuwing",
                    "waarschuwingen"
                )
            )?;
        }
        Ok(())
    }
}

/// Collects row errors up to [`MAX_STORED_ERRORS`] distinct ones; an error
/// with the same column and message as an earlier one only counts a row
/// more on that one.
#[derive(Debug, Default)]
pub(crate) struct ErrorList {
    errors: Vec<RowError>,
    /// (column, message) → index into `errors`.
    seen: std::collections::HashMap<(Option<&'static str>, String), usize>,
    omitted: usize,
    /// aanwezig's column name → the file's, where they differ.
    names: Vec<(&'static str, String)>,
}

impl ErrorList {
    pub(crate) fn push(&mut self, line: u64, column: Option<&'static str>, message: String) {
        self.add(Some(line), column, message);
    }

    pub(crate) fn push_file(&mut self, line: Option<u64>, message: String) {
        self.add(line, None, message);
    }

    fn add(&mut self, line: Option<u64>, column: Option<&'static str>, message: String) {
        let key = (column, message);
        if let Some(&i) = self.seen.get(&key) {
            self.errors[i].count += 1;
        } else if self.errors.len() < MAX_STORED_ERRORS {
            self.errors.push(RowError {
                line,
                column: column.map(Cow::Borrowed),
                message: key.1.clone(),
                count: 1,
            });
            self.seen.insert(key, self.errors.len() - 1);
        } else {
            self.omitted += 1;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_empty() && self.omitted == 0
    }

    /// Names the columns as the file's header does, where that differs
    /// from aanwezig's name (`stamnr` for `student_id`), in the errors
    /// [`ErrorList::into_errors`] gives.
    pub(crate) fn name_columns(&mut self, names: &[(&'static str, String)]) {
        self.names = names.iter().filter(|(c, n)| c != n).cloned().collect();
    }

    pub(crate) fn into_errors(mut self, file: &str) -> ImportErrors {
        for e in &mut self.errors {
            if let Some(Cow::Borrowed(c)) = e.column {
                if let Some((_, n)) = self.names.iter().find(|(k, _)| *k == c) {
                    e.column = Some(Cow::Owned(n.clone()));
                }
            }
        }
        ImportErrors {
            file: file.to_owned(),
            errors: self.errors,
            omitted: self.omitted,
        }
    }

    /// The same list, as warnings.
    pub(crate) fn into_warnings(self, file: &str) -> ImportWarnings {
        ImportWarnings {
            file: file.to_owned(),
            warnings: self.errors,
            omitted: self.omitted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_error_is_one_line_with_its_count_and_first_row() {
        let mut list = ErrorList::default();
        for i in 0..350 {
            list.push(
                12 + i,
                Some("code"),
                "code 'XC' staat niet in het beleid".into(),
            );
        }
        list.push(20, Some("date"), "'x' is geen datum".into());
        list.push(
            30,
            Some("lesson"),
            "code 'XC' staat niet in het beleid".into(),
        );
        let errs = list.into_errors("r.csv");
        assert_eq!(
            errs.errors.len(),
            3,
            "same message in another column is another error"
        );
        assert_eq!(errs.total(), 352);
        let text = errs.to_string();
        assert!(text.starts_with("352 fouten in r.csv"), "{text}");
        assert!(
            text.contains(
                "r.csv, regel 12, kolom code: code 'XC' staat niet in het beleid (350 regels, eerste op regel 12)"
            ),
            "{text}"
        );
        assert!(
            text.contains("r.csv, regel 20, kolom date: 'x' is geen datum\n"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 4);
    }

    #[test]
    fn warnings_group_like_errors_and_say_the_file_is_imported() {
        let mut list = ErrorList::default();
        for line in [4, 9, 12] {
            list.push(line, Some("mentor"), "mentor 'x' is geen gebruiker".into());
        }
        list.push(7, Some("date_of_birth"), "te jong".into());
        let w = list.into_warnings("s.csv");
        assert_eq!(w.total(), 4);
        assert_eq!(
            w.lines(),
            [
                "s.csv, regel 4, kolom mentor: mentor 'x' is geen gebruiker (3 regels, eerste op regel 4)",
                "s.csv, regel 7, kolom date_of_birth: te jong",
            ]
        );
        let text = w.to_string();
        assert!(
            text.starts_with("4 waarschuwingen in s.csv (het bestand wordt wel ingelezen)\n"),
            "{text}"
        );
        assert!(ImportWarnings::default().is_empty());
    }

    #[test]
    fn display_lists_fifty_and_counts_the_rest() {
        let mut list = ErrorList::default();
        for i in 0..(MAX_STORED_ERRORS + 5) {
            list.push(i as u64 + 2, Some("date"), format!("fout {i}"));
        }
        let errs = list.into_errors("r.csv");
        assert_eq!(errs.errors.len(), MAX_STORED_ERRORS);
        assert_eq!(errs.omitted, 5);
        let text = errs.to_string();
        assert!(text.starts_with("1005 fouten in r.csv"), "{text}");
        assert!(text.contains("r.csv, regel 2, kolom date: fout 0"));
        assert!(text.ends_with("en nog 955 fouten"), "{text}");
        assert_eq!(text.lines().count(), 1 + 50 + 1);
    }
}
