//! Tables (CSV and the first sheet of a workbook) as rows of byte fields.
//!
//! The student and registration readers validate rows through one
//! [`Sink`] each; this module feeds a sink from a CSV stream or from an
//! XLSX/ODS/XLS workbook, so the validation is written once and both file
//! types give the same errors with the same line numbers (header = line 1).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use calamine::Data;

use crate::error::{ErrorList, ImportErrors};

/// A row of a table: its fields as bytes (missing fields read as empty).
pub(crate) trait Row {
    fn field(&self, i: usize) -> &[u8];
    fn width(&self) -> usize;
}

impl Row for csv::ByteRecord {
    #[inline]
    fn field(&self, i: usize) -> &[u8] {
        self.get(i).unwrap_or(b"")
    }
    fn width(&self) -> usize {
        self.len()
    }
}

/// A workbook row, converted to text cell by cell.
pub(crate) struct CellRow(pub(crate) Vec<String>);

impl Row for CellRow {
    fn field(&self, i: usize) -> &[u8] {
        self.0.get(i).map_or(b"", |s| s.as_bytes())
    }
    fn width(&self) -> usize {
        self.0.len()
    }
}

/// What a reader does with a table.
pub(crate) trait Sink {
    type Output;
    /// The canonical columns: name and whether the header must have it.
    fn columns(&self) -> &'static [(&'static str, bool)];
    /// Receives, for each of [`Sink::columns`], its position in the file.
    /// Returns false when the file cannot be read with these columns (for
    /// a rule the plain column list cannot express); errors are pushed.
    fn header(&mut self, positions: &[Option<usize>], errs: &mut ErrorList) -> bool;
    /// Which of [`Sink::columns`] a header name means; by default the one
    /// of that name (trimmed, any case).
    fn column_of(&self, name: &str) -> Option<usize> {
        let name = name.trim().to_lowercase();
        self.columns().iter().position(|(c, _)| *c == name)
    }
    /// Whether header names the sink does not know are passed over (an
    /// administration system's export carries many) rather than refused.
    fn passes_over_other_columns(&self) -> bool {
        false
    }
    /// The header as it is, before [`Sink::header`]: each used column
    /// with the file's own name for it, and the names passed over.
    fn header_names(&mut self, _used: &[(&'static str, String)], _other: &[String]) {}
    /// Validates one data row.
    fn row<R: Row>(&mut self, line: u64, row: &R, errs: &mut ErrorList);
    /// The result when no row had an error.
    fn finish(self) -> Self::Output;
}

/// For a header that needs at least one of two optional columns: false,
/// with `message` as the header's error, when it has neither.
pub(crate) fn either_column(
    a: Option<usize>,
    b: Option<usize>,
    message: &str,
    errs: &mut ErrorList,
) -> bool {
    let ok = a.is_some() || b.is_some();
    if !ok {
        errs.push(1, None, message.to_owned());
    }
    ok
}

/// The header read against a sink's columns.
pub(crate) struct Header {
    /// For each of the sink's columns, its position in the file.
    pub(crate) positions: Vec<Option<usize>>,
    /// The number of fields a row may have.
    pub(crate) width: usize,
    /// Each used column with the file's own name for it.
    pub(crate) used: Vec<(&'static str, String)>,
    /// Names the sink passed over.
    pub(crate) other: Vec<String>,
}

/// Maps the header's names onto the sink's columns (through
/// [`Sink::column_of`]). An unknown (unless the sink passes over other
/// columns), repeated or missing required column is an error. Empty names
/// at the end of the header (a trailing separator, an empty spreadsheet
/// column) are ignored.
pub(crate) fn map_header<S: Sink>(names: &[String], sink: &S, errs: &mut ErrorList) -> Header {
    let columns = sink.columns();
    let mut positions = vec![None; columns.len()];
    let mut other = Vec::new();
    let width = names
        .iter()
        .rposition(|n| !n.trim().is_empty())
        .map_or(0, |i| i + 1);
    let allowed = || {
        columns
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (i, raw) in names.iter().take(width).enumerate() {
        let name = raw.trim();
        if name.is_empty() {
            if !sink.passes_over_other_columns() {
                errs.push(
                    1,
                    None,
                    format!("kolom {} in de kopregel heeft geen naam", i + 1),
                );
            }
            continue;
        }
        match sink.column_of(name) {
            Some(c) if positions[c].is_some() => errs.push(
                1,
                Some(columns[c].0),
                format!(
                    "kolom '{name}' staat twee keer in de kopregel (of twee kolommen betekenen {})",
                    columns[c].0
                ),
            ),
            Some(c) => positions[c] = Some(i),
            None if sink.passes_over_other_columns() => other.push(name.to_owned()),
            None => errs.push(
                1,
                None,
                format!(
                    "kolom '{name}' is onbekend; toegestane kolommen: {}",
                    allowed()
                ),
            ),
        }
    }
    let missing: Vec<&str> = columns
        .iter()
        .zip(&positions)
        .filter(|((_, required), p)| *required && p.is_none())
        .map(|((c, _), _)| *c)
        .collect();
    if !missing.is_empty() {
        let hint = if positions.iter().all(Option::is_none) {
            " (de eerste regel moet de kolomnamen bevatten)"
        } else {
            ""
        };
        errs.push(
            1,
            None,
            format!(
                "{} in de kopregel: {}{hint}",
                if missing.len() == 1 {
                    "verplichte kolom ontbreekt"
                } else {
                    "verplichte kolommen ontbreken"
                },
                missing.join(", ")
            ),
        );
    }
    let used = columns
        .iter()
        .zip(&positions)
        .filter_map(|((c, _), p)| p.map(|i| (*c, names[i].trim().to_owned())))
        .collect();
    Header {
        positions,
        width,
        used,
        other,
    }
}

/// Checks a data row's width against the header's and says whether to
/// validate it. Trailing empty fields are tolerated (spreadsheet exports
/// add them); a completely empty row is skipped.
pub(crate) fn usable<R: Row>(line: u64, row: &R, width: usize, errs: &mut ErrorList) -> bool {
    let n = row.width();
    if (0..n).all(|i| row.field(i).trim_ascii().is_empty()) {
        return false;
    }
    if n < width {
        errs.push(
            line,
            None,
            format!("de regel heeft {n} velden, de kopregel {width}"),
        );
        return false;
    }
    if (width..n).any(|i| !row.field(i).trim_ascii().is_empty()) {
        errs.push(
            line,
            None,
            format!("de regel heeft meer velden ({n}) dan de kopregel ({width})"),
        );
        return false;
    }
    true
}

/// Reads a text file as UTF-8 whatever Dutch Excel saved it as.
///
/// - A byte-order mark decides: UTF-8 (dropped), UTF-16 LE or BE
///   (Excel's "Unicode-tekst", decoded).
/// - Without one, bytes pass through unchanged up to the first byte above
///   ASCII; if that byte starts a valid UTF-8 character the file is UTF-8,
///   otherwise it is Windows-1252 (Excel's plain "CSV", ANSI) and the rest
///   is decoded from there. ASCII is the same in both.
///
/// Decoding is encoding_rs's; nothing is decoded by hand.
struct ToUtf8<R> {
    inner: R,
    mode: Mode,
    /// Bytes read from `inner` and not yet converted.
    raw: Vec<u8>,
    /// Converted bytes, handed out from `pos`.
    out: Vec<u8>,
    pos: usize,
    eof: bool,
    started: bool,
}

enum Mode {
    /// Only ASCII seen so far.
    Undecided,
    Utf8,
    Decode(encoding_rs::Decoder),
}

const CHUNK: usize = 1 << 16;

impl<R: Read> ToUtf8<R> {
    fn new(inner: R) -> Self {
        ToUtf8 {
            inner,
            mode: Mode::Undecided,
            raw: Vec::with_capacity(CHUNK),
            out: Vec::with_capacity(CHUNK),
            pos: 0,
            eof: false,
            started: false,
        }
    }

    fn fill(&mut self) -> std::io::Result<()> {
        let start = self.raw.len();
        self.raw.resize(start + CHUNK, 0);
        let read = loop {
            match self.inner.read(&mut self.raw[start..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                other => break other,
            }
        };
        let n = match read {
            Ok(n) => n,
            Err(e) => {
                self.raw.truncate(start);
                return Err(e);
            }
        };
        self.raw.truncate(start + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(())
    }

    /// Looks at the start of the file for a byte-order mark.
    fn start(&mut self) -> std::io::Result<()> {
        while self.raw.len() < 3 && !self.eof {
            self.fill()?;
        }
        self.started = true;
        if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(&self.raw) {
            self.raw.drain(..bom);
            if enc != encoding_rs::UTF_8 {
                self.mode = Mode::Decode(enc.new_decoder_without_bom_handling());
            } else {
                self.mode = Mode::Utf8;
            }
        }
        Ok(())
    }

    /// Moves what can be converted from `raw` to `out`.
    fn convert(&mut self) {
        if let Mode::Undecided = self.mode {
            let Some(p) = self.raw.iter().position(|b| !b.is_ascii()) else {
                self.out.append(&mut self.raw);
                return;
            };
            match std::str::from_utf8(&self.raw[p..]) {
                Ok(_) => self.mode = Mode::Utf8,
                Err(e) if e.valid_up_to() > 0 => self.mode = Mode::Utf8,
                // A character cut off at the end of what was read: decide
                // once the rest of it is there.
                Err(e) if e.error_len().is_none() && !self.eof => {
                    self.out.extend(self.raw.drain(..p));
                    return;
                }
                Err(_) => {
                    self.mode =
                        Mode::Decode(encoding_rs::WINDOWS_1252.new_decoder_without_bom_handling());
                }
            }
        }
        match &mut self.mode {
            Mode::Undecided | Mode::Utf8 => self.out.append(&mut self.raw),
            Mode::Decode(dec) => {
                let room = dec
                    .max_utf8_buffer_length(self.raw.len())
                    .unwrap_or(self.raw.len() * 3 + 16);
                let at = self.out.len();
                self.out.resize(at + room, 0);
                let (_, read, written, _) =
                    dec.decode_to_utf8(&self.raw, &mut self.out[at..], self.eof);
                self.out.truncate(at + written);
                self.raw.drain(..read);
            }
        }
    }
}

impl<R: Read> Read for ToUtf8<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.started {
            self.start()?;
        }
        loop {
            if self.pos < self.out.len() {
                let n = buf.len().min(self.out.len() - self.pos);
                buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            self.out.clear();
            self.pos = 0;
            if self.eof && self.raw.is_empty() {
                return Ok(0);
            }
            if !self.eof {
                self.fill()?;
            }
            self.convert();
            if self.eof && self.out.is_empty() && !self.raw.is_empty() {
                // Only a cut-off character is left at the very end: let the
                // field's UTF-8 check report it.
                self.out.append(&mut self.raw);
            }
        }
    }
}

/// The field separator of a CSV file, from its header line: the most
/// frequent of `,` `;` and tab outside quotes (a comma when none occurs).
/// Dutch Excel writes `;`, "Unicode-tekst" a tab.
fn detect_separator(head: &[u8]) -> u8 {
    let line = head.split(|b| *b == b'\n').next().unwrap_or(head);
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let seps = [b',', b';', b'\t'];
    let best = (0..3)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        seps[best]
    }
}

/// Feeds a CSV stream to `sink`. Row errors are collected; any error
/// means no output.
pub(crate) fn read_csv<R: Read, S: Sink>(
    r: R,
    file: &str,
    mut sink: S,
) -> Result<S::Output, ImportErrors> {
    let mut r = std::io::BufReader::with_capacity(1 << 16, ToUtf8::new(r));
    let head = std::io::BufRead::fill_buf(&mut r).map_err(|e| {
        ImportErrors::single(file, None, format!("kan het bestand niet lezen: {e}"))
    })?;
    let separator = detect_separator(head);
    // Records end at '\n' only: with the default CRLF handling the reader
    // leaves the '\n' of "\r\n" for the next record, and its line numbers
    // then lag one behind after a quoted field with a line break. The '\r'
    // that stays at the end of the last field is trimmed like all space.
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(separator)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(1 << 16)
        .from_reader(r);
    let mut errs = ErrorList::default();
    let mut rec = csv::ByteRecord::new();

    match rdr.read_byte_record(&mut rec) {
        Ok(true) => {}
        Ok(false) => {
            return Err(ImportErrors::single(
                file,
                Some(1),
                "het bestand is leeg; de eerste regel moet de kolomnamen bevatten".into(),
            ))
        }
        Err(e) => return Err(ImportErrors::single(file, Some(1), csv_message(&e))),
    }
    let mut names = Vec::with_capacity(rec.len());
    for f in rec.iter() {
        match std::str::from_utf8(f) {
            Ok(s) => names.push(s.to_owned()),
            Err(_) => {
                return Err(ImportErrors::single(
                    file,
                    Some(1),
                    "de kopregel is geen leesbare tekst; sla het bestand op als 'CSV UTF-8'".into(),
                ))
            }
        }
    }
    let head = map_header(&names, &sink, &mut errs);
    sink.header_names(&head.used, &head.other);
    errs.name_columns(&head.used);
    if !errs.is_empty() || !sink.header(&head.positions, &mut errs) {
        return Err(errs.into_errors(file));
    }
    let width = head.width;

    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {
                let line = rec.position().map_or(0, csv::Position::line);
                if usable(line, &rec, width, &mut errs) {
                    sink.row(line, &rec, &mut errs);
                }
            }
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(csv::Position::line);
                errs.push_file(line, csv_message(&e));
                break;
            }
        }
    }
    if errs.is_empty() {
        Ok(sink.finish())
    } else {
        Err(errs.into_errors(file))
    }
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => format!("kan het bestand niet lezen: {io}"),
        _ => format!("ongeldige CSV: {e}"),
    }
}

/// A cell as text, the way it would appear in a CSV export.
pub(crate) fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            // Whole numbers (lesson 3, minutes 50) are stored as floats.
            if f.fract() == 0.0 && f.abs() < 1e15 {
                let i = *f as i64;
                i.to_string()
            } else {
                f.to_string()
            }
        }
        Data::Bool(b) => b.to_string(),
        // A date with a time of day (Somtoday's begin and end) keeps the
        // time; a plain date reads as the date alone.
        Data::DateTime(dt) => dt
            .as_datetime()
            .map(|t| {
                if t.time() == chrono::NaiveTime::MIN {
                    t.date().format("%Y-%m-%d").to_string()
                } else {
                    t.format("%Y-%m-%dT%H:%M:%S").to_string()
                }
            })
            .unwrap_or_else(|| dt.as_f64().to_string()),
        Data::DateTimeIso(s) => match s.get(10..) {
            Some(t)
                if t.trim_start_matches(['T', ' '])
                    .trim_start_matches(['0', ':', '.'])
                    .is_empty() =>
            {
                s.get(..10).unwrap_or(s).to_owned()
            }
            Some(_) => s.clone(),
            None => s.clone(),
        },
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Whether `path` names a workbook (by its extension) rather than a CSV.
pub fn is_workbook(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["xlsx", "xlsm", "xlsb", "xls", "ods"]
            .iter()
            .any(|w| e.eq_ignore_ascii_case(w))
    })
}

/// Opens a CSV file for [`read_csv`], or says why it cannot.
pub(crate) fn open_csv(path: &Path) -> Result<std::fs::File, ImportErrors> {
    std::fs::File::open(path).map_err(|e| {
        ImportErrors::single(
            &path.display().to_string(),
            None,
            format!("kan het bestand niet openen: {e}"),
        )
    })
}

/// The readers' map for keys they look up once per row (student numbers,
/// codes): foldhash, fast on short keys and, unlike a plain multiplicative
/// hash, spreading keys that differ only in their last bytes (every
/// student number of a school starts alike) over all buckets. Seeded per
/// map, so a crafted file cannot aim its keys at one bucket either.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(bytes: &[u8]) -> String {
        let mut out = String::new();
        ToUtf8::new(bytes).read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn utf8_windows_1252_and_utf16_all_read_as_text() {
        assert_eq!(decoded("Zoë;é\n".as_bytes()), "Zoë;é\n");
        assert_eq!(decoded(b"\xEF\xBB\xBFZo\xC3\xAB"), "Zoë");
        assert_eq!(decoded(b"Zo\xEB;\x80\n"), "Zoë;€\n", "Windows-1252");
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("Zoë\tA".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decoded(&utf16), "Zoë\tA");
        // Far past the first chunk, either way.
        let ascii = "a".repeat(200_000);
        assert_eq!(decoded(format!("{ascii}é").as_bytes()), format!("{ascii}é"));
        let mut latin = ascii.clone().into_bytes();
        latin.extend(b"\xE9x");
        assert_eq!(decoded(&latin), format!("{ascii}éx"));
        assert_eq!(decoded(b""), "");
    }

    #[test]
    fn the_separator_comes_from_the_header() {
        assert_eq!(detect_separator(b"a,b,c\n1;2"), b',');
        assert_eq!(
            detect_separator(b"Leerlingnummer;Datum;Lesuur;Code\n"),
            b';'
        );
        assert_eq!(detect_separator(b"a\tb\tc"), b'\t');
        assert_eq!(
            detect_separator(b"\"a;b\",c"),
            b',',
            "inside quotes does not count"
        );
        assert_eq!(detect_separator(b"single"), b',');
    }

    #[test]
    fn bom_is_stripped_and_short_input_kept() {
        assert_eq!(decoded(b"\xEF\xBB\xBFab"), "ab");
        assert_eq!(decoded(b"a"), "a");
        // Two bytes of a BOM and nothing else is no UTF-8: Windows-1252.
        assert_eq!(decoded(b"\xEF\xBB"), "ï»");
    }

    #[test]
    fn floats_from_sheets_read_as_integers() {
        assert_eq!(cell_text(&Data::Float(3.0)), "3");
        assert_eq!(cell_text(&Data::Float(2.5)), "2.5");
        assert_eq!(
            cell_text(&Data::DateTimeIso("2025-09-01T00:00:00".into())),
            "2025-09-01"
        );
    }
}
