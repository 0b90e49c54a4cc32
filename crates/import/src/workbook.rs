//! Workbooks from outside: checked before they are read, read as a stream.
//!
//! A workbook (XLSX, XLSB, ODS) is a zip archive of XML or binary parts.
//! Small files can unpack to gigabytes (a zip bomb) or declare a used range
//! of 17 billion cells (one cell at `XFD1048576`), and a reader that trusts
//! either allocates until the process dies. So before calamine sees a file:
//!
//! 1. the archive's directory is read by hand from the end of the file:
//!    at most [`MAX_ENTRIES`] entries, no ZIP64;
//! 2. every entry is unpacked once into nothing, counting bytes: no entry
//!    above [`MAX_ENTRY_BYTES`] (shared strings, held in memory by the
//!    reader, above [`MAX_SHARED_STRINGS_BYTES`]), all together no more
//!    than [`MAX_TOTAL_BYTES`], and no entry above 1 MiB that unpacks to
//!    more than [`MAX_RATIO`] times its packed size. The declared sizes are
//!    checked first, the real ones while unpacking (a lying header gains
//!    nothing);
//! 3. an ODS document's cells are counted with their repeat attributes the
//!    way the reader will expand them, at most [`MAX_ODS_CELLS`].
//!
//! XLSX and XLSB sheets are then read cell by cell (calamine's cell reader),
//! never as one rectangular range: memory is one row, whatever the used
//! range says. A cell right of column [`MAX_COLUMNS`] or below row
//! [`MAX_ROWS`] (Excel's own last row) ends the read with an error naming
//! the cell. The old binary `.xls` format (a compound file, read whole by
//! calamine) is refused with the advice to save as `.xlsx` or `.csv`.
//!
//! The limits come from the largest legitimate file: a full school year of
//! registrations fills at most Excel's 1,048,576 rows of about ten columns,
//! which is a sheet of roughly 400 MB of XML that packs 10–30 times. Every
//! violation is one Dutch error for the file, never a crash.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use calamine::{Data, DataRef, Ods, Reader, Xlsb, Xlsx};
use quick_xml::events::{BytesStart, Event};

use crate::error::{ErrorList, ImportErrors};
use crate::table::{cell_text, map_header, usable, CellRow, Sink};

/// Most entries an archive may have (a workbook has a few dozen).
pub const MAX_ENTRIES: usize = 1_000;
/// Largest unpacked size of one entry (a sheet of a full school year is
/// about 400 MB of XML).
pub const MAX_ENTRY_BYTES: u64 = 512 * 1024 * 1024;
/// Largest unpacked size of the shared strings, which the reader keeps in
/// memory as a whole.
pub const MAX_SHARED_STRINGS_BYTES: u64 = 32 * 1024 * 1024;
/// Largest unpacked size of all entries together.
pub const MAX_TOTAL_BYTES: u64 = 1024 * 1024 * 1024;
/// Highest unpacked/packed ratio of an entry above 1 MiB (XML of a real
/// sheet packs 10–30 times; a bomb of one repeated byte 1,000 times).
pub const MAX_RATIO: u64 = 200;
/// Size from which [`MAX_RATIO`] applies.
const RATIO_FROM: u64 = 1024 * 1024;
/// Most columns read; cells further right end the read.
pub const MAX_COLUMNS: u32 = 256;
/// Most rows read (Excel's own limit).
pub const MAX_ROWS: u32 = 1_048_576;
/// Most cells an ODS document may expand to (its reader keeps them all).
pub const MAX_ODS_CELLS: u64 = 8_000_000;

/// What kind of workbook a file is, by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Xlsx,
    Xlsb,
    Ods,
}

const MIB: u64 = 1024 * 1024;

fn mib(n: u64) -> String {
    format!("{} MB", n.div_ceil(MIB))
}

/// Feeds the first sheet of a workbook to `sink`, with line numbers as the
/// spreadsheet shows them, after the checks of this module.
pub(crate) fn read_workbook<S: Sink>(path: &Path, sink: S) -> Result<S::Output, ImportErrors> {
    // calamine indexes its tables without checking in places (a cell that
    // points into a missing shared-strings part panics, found by the fuzz
    // target): a panic in the reader is a broken file, not a broken server.
    let file = path.display().to_string();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_checked(path, sink)))
        .unwrap_or_else(|_| {
            Err(ImportErrors::single(
                &file,
                None,
                "de werkmap is beschadigd: het werkblad verwijst naar onderdelen die ontbreken"
                    .into(),
            ))
        })
}

fn read_checked<S: Sink>(path: &Path, sink: S) -> Result<S::Output, ImportErrors> {
    let file = path.display().to_string();
    let fail = |msg: String| ImportErrors::single(&file, None, msg);
    let f = File::open(path).map_err(|e| fail(format!("kan de werkmap niet openen: {e}")))?;
    let kind = check(&f).map_err(fail)?;
    let reader = BufReader::new(f);
    match kind {
        Kind::Xlsx => {
            let mut wb: Xlsx<_> =
                Xlsx::new(reader).map_err(|e| fail(format!("kan de werkmap niet openen: {e}")))?;
            let name = first_sheet(&wb.sheet_names()).map_err(fail)?;
            let mut cells = wb
                .worksheet_cells_reader(&name)
                .map_err(|e| fail(format!("kan het eerste werkblad niet lezen: {e}")))?;
            stream(&file, sink, || cells.next_cell())
        }
        Kind::Xlsb => {
            let mut wb: Xlsb<_> =
                Xlsb::new(reader).map_err(|e| fail(format!("kan de werkmap niet openen: {e}")))?;
            let name = first_sheet(&wb.sheet_names()).map_err(fail)?;
            let mut cells = wb
                .worksheet_cells_reader(&name)
                .map_err(|e| fail(format!("kan het eerste werkblad niet lezen: {e}")))?;
            stream(&file, sink, || cells.next_cell())
        }
        Kind::Ods => {
            let mut wb: Ods<_> =
                Ods::new(reader).map_err(|e| fail(format!("kan de werkmap niet openen: {e}")))?;
            let range = match wb.worksheet_range_at(0) {
                Some(Ok(r)) => r,
                Some(Err(e)) => {
                    return Err(fail(format!("kan het eerste werkblad niet lezen: {e}")))
                }
                None => return Err(fail("de werkmap heeft geen werkblad".into())),
            };
            read_range(&file, &range, sink)
        }
    }
}

fn first_sheet(names: &[String]) -> Result<String, String> {
    names
        .first()
        .cloned()
        .ok_or_else(|| "de werkmap heeft geen werkblad".into())
}

/// Checks the archive and says what kind of workbook it is.
fn check(f: &File) -> Result<Kind, String> {
    let mut f = f;
    let mut magic = [0u8; 8];
    let n =
        read_up_to(&mut f, &mut magic).map_err(|e| format!("kan de werkmap niet lezen: {e}"))?;
    if magic[..n].starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err("dit is het oude Excel-formaat (.xls, van vóór 2007); dat leest aanwezig niet. Open het bestand in Excel en kies Opslaan als → Excel-werkmap (.xlsx) of CSV".into());
    }
    if !magic[..n].starts_with(b"PK\x03\x04") {
        return Err("het bestand is geen werkmap (.xlsx, .xlsb of .ods); is het een CSV-bestand met een verkeerde naam?".into());
    }
    check_directory(f)?;
    f.seek(SeekFrom::Start(0))
        .map_err(|e| format!("kan de werkmap niet lezen: {e}"))?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| format!("de werkmap is beschadigd: {e}"))?;
    if zip.len() > MAX_ENTRIES {
        return Err(too_many(zip.len()));
    }
    let mut kind = None;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| format!("de werkmap is beschadigd: {e}"))?;
        let name = entry.name().to_owned();
        match name.as_str() {
            "xl/workbook.xml" => kind = Some(Kind::Xlsx),
            "xl/workbook.bin" => kind = Some(Kind::Xlsb),
            "content.xml" if kind.is_none() => kind = Some(Kind::Ods),
            _ => {}
        }
        let limit = if name.ends_with("sharedStrings.xml") || name.ends_with("sharedStrings.bin") {
            MAX_SHARED_STRINGS_BYTES
        } else {
            MAX_ENTRY_BYTES
        };
        let packed = entry.compressed_size();
        let declared = entry.size();
        size_ok(&name, declared, packed, limit)?;
        if total.saturating_add(declared) > MAX_TOTAL_BYTES {
            return Err(too_big_total());
        }
        // The real size, whatever the header says: unpack into nothing.
        let cap = limit.min(MAX_TOTAL_BYTES - total);
        let real = std::io::copy(&mut (&mut entry).take(cap + 1), &mut std::io::sink())
            .map_err(|e| format!("de werkmap is beschadigd ({name}): {e}"))?;
        if real > cap {
            return Err(if cap < limit {
                too_big_total()
            } else {
                too_big(&name, limit)
            });
        }
        size_ok(&name, real, packed, limit)?;
        total += real;
    }
    let kind = kind.ok_or_else(|| {
        "het bestand is een zip-archief, maar geen werkmap (.xlsx, .xlsb of .ods)".to_owned()
    })?;
    if kind == Kind::Ods {
        let entry = zip
            .by_name("content.xml")
            .map_err(|e| format!("de werkmap is beschadigd: {e}"))?;
        let cells = ods_cells(BufReader::new(entry))?;
        if cells > MAX_ODS_CELLS {
            return Err(format!(
                "het werkblad is te groot: het beslaat {cells} cellen, aanwezig leest er hoogstens {MAX_ODS_CELLS} uit een .ods-bestand; sla het op als .xlsx of .csv of verwijder lege rijen en kolommen"
            ));
        }
    }
    Ok(kind)
}

fn read_up_to(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match f.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

fn size_ok(name: &str, size: u64, packed: u64, limit: u64) -> Result<(), String> {
    if size > limit {
        return Err(too_big(name, limit));
    }
    if size > RATIO_FROM && size / packed.max(1) > MAX_RATIO {
        return Err(format!(
            "de werkmap lijkt een zip-bom: onderdeel {name} pakt uit tot {} uit {} bytes (meer dan {MAX_RATIO} keer zo groot); aanwezig leest het niet",
            mib(size),
            packed
        ));
    }
    Ok(())
}

fn too_big(name: &str, limit: u64) -> String {
    format!(
        "de werkmap is te groot: onderdeel {name} pakt uit tot meer dan {}; sla het bestand op als CSV of splits het",
        mib(limit)
    )
}

fn too_big_total() -> String {
    format!(
        "de werkmap is te groot: uitgepakt meer dan {} samen; sla het bestand op als CSV of splits het",
        mib(MAX_TOTAL_BYTES)
    )
}

fn too_many(n: usize) -> String {
    format!("de werkmap heeft {n} onderdelen, aanwezig leest er hoogstens {MAX_ENTRIES}; is het wel een werkmap?")
}

/// Reads the end-of-central-directory record by hand, before the zip
/// reader trusts it: the number of entries, and no ZIP64 (a workbook never
/// needs it, and its 64-bit counts are what a crafted file would use).
fn check_directory(mut f: &File) -> Result<(), String> {
    let io = |e: std::io::Error| format!("kan de werkmap niet lezen: {e}");
    let len = f.seek(SeekFrom::End(0)).map_err(io)?;
    let tail_len = len.min(22 + 65_535);
    f.seek(SeekFrom::Start(len - tail_len)).map_err(io)?;
    let mut tail = vec![0u8; tail_len as usize];
    f.read_exact(&mut tail).map_err(io)?;
    let Some(at) = tail
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .filter(|&at| at + 22 <= tail.len())
    else {
        return Err("de werkmap is beschadigd: het einde van het zip-archief ontbreekt".into());
    };
    let eocd = &tail[at..at + 22];
    let entries = u16::from_le_bytes([eocd[10], eocd[11]]);
    let zip64_locator = at >= 20 && &tail[at - 20..at - 16] == b"PK\x06\x07";
    if entries == u16::MAX || zip64_locator {
        return Err("de werkmap is een ZIP64-archief; zo slaat een spreadsheetprogramma geen werkmap op. Sla het bestand opnieuw op als .xlsx".into());
    }
    if usize::from(entries) > MAX_ENTRIES {
        return Err(too_many(entries.into()));
    }
    Ok(())
}

/// The number of cells calamine's ODS reader materialises for a document,
/// an upper bound: per table, the rows up to the last non-empty one times
/// the widest row, plus the cells of every row as read.
fn ods_cells(r: impl std::io::BufRead) -> Result<u64, String> {
    let mut xml = quick_xml::Reader::from_reader(r);
    let mut buf = Vec::new();
    let bad = |e: &dyn std::fmt::Display| format!("de werkmap is beschadigd (content.xml): {e}");
    let mut total: u64 = 0;
    // Per table.
    let (mut rows, mut rows_to_last, mut widest) = (0u64, 0u64, 0u64);
    // Per row.
    let (mut row_repeat, mut row_cells, mut pending, mut row_used) = (1u64, 0u64, 0u64, false);
    let mut in_row = false;
    loop {
        let ev = xml.read_event_into(&mut buf).map_err(|e| bad(&e))?;
        let (start, empty) = match &ev {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            match e.name().as_ref() {
                b"table:table" => (rows, rows_to_last, widest) = (0, 0, 0),
                b"table:table-row" => {
                    row_repeat = repeat(e, b"table:number-rows-repeated").map_err(|m| bad(&m))?;
                    (row_cells, pending, row_used, in_row) = (0, 0, false, !empty);
                    if empty {
                        rows = rows.saturating_add(row_repeat);
                    }
                }
                b"table:table-cell" | b"table:covered-table-cell" if in_row => {
                    let n = repeat(e, b"table:number-columns-repeated").map_err(|m| bad(&m))?;
                    let has_value = !empty
                        || e.attributes()
                            .flatten()
                            .any(|a| a.key.as_ref() == b"office:value-type");
                    if has_value {
                        row_cells = row_cells.saturating_add(pending).saturating_add(n);
                        pending = 0;
                        row_used = true;
                    } else {
                        pending = pending.saturating_add(n);
                    }
                }
                _ => {}
            }
        }
        match ev {
            Event::End(e) if e.name().as_ref() == b"table:table-row" => {
                in_row = false;
                rows = rows.saturating_add(row_repeat);
                total = total.saturating_add(row_cells);
                if row_used {
                    rows_to_last = rows;
                    widest = widest.max(row_cells);
                }
            }
            Event::End(e) if e.name().as_ref() == b"table:table" => {
                total = total.saturating_add(rows_to_last.saturating_mul(widest));
            }
            Event::Eof => break,
            _ => {}
        }
        if total > MAX_ODS_CELLS {
            break;
        }
        buf.clear();
    }
    Ok(total)
}

fn repeat(e: &BytesStart, key: &[u8]) -> Result<u64, String> {
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        if a.key.as_ref() == key {
            let v = std::str::from_utf8(&a.value).map_err(|e| e.to_string())?;
            return v
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("ongeldige herhaling '{v}'"));
        }
    }
    Ok(1)
}

/// The spreadsheet name of a cell: `A1`, `XFD1048576`.
fn cell_ref(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut c = u64::from(col) + 1;
    while c > 0 {
        let r = ((c - 1) % 26) as u8;
        letters.push(b'A' + r);
        c = (c - 1) / 26;
    }
    letters.reverse();
    format!(
        "{}{}",
        String::from_utf8_lossy(&letters),
        u64::from(row) + 1
    )
}

/// Feeds cells, row by row in the sheet's order, to `sink`. The first row
/// with a value is the header; its first used column is column 1.
fn stream<'a, S: Sink, E: std::fmt::Display>(
    file: &str,
    mut sink: S,
    mut next: impl FnMut() -> Result<Option<calamine::Cell<DataRef<'a>>>, E>,
) -> Result<S::Output, ImportErrors> {
    let fail = |line: Option<u64>, msg: String| ImportErrors::single(file, line, msg);
    let mut errs = ErrorList::default();
    // The row being collected: its index and its cells from column `left`.
    let mut current: Option<u32> = None;
    let mut cells: Vec<String> = Vec::new();
    let mut header: Option<(u32, usize)> = None; // (left column, width)
    loop {
        let cell = next().map_err(|e| fail(None, format!("kan het werkblad niet lezen: {e}")))?;
        let Some(cell) = cell else { break };
        let (row, col) = cell.get_position();
        let text = cell_text(&Data::from(cell.get_value().clone()));
        if text.is_empty() {
            continue;
        }
        if col >= MAX_COLUMNS || row >= MAX_ROWS {
            return Err(fail(
                Some(u64::from(row) + 1),
                format!(
                    "cel {} ligt buiten het bereik dat aanwezig leest ({MAX_COLUMNS} kolommen, {MAX_ROWS} rijen)",
                    cell_ref(row, col)
                ),
            ));
        }
        match current {
            Some(r) if r == row => {}
            Some(r) if row < r => {
                return Err(fail(
                    Some(u64::from(row) + 1),
                    format!(
                        "de cellen van het werkblad staan niet op volgorde (cel {} na rij {})",
                        cell_ref(row, col),
                        u64::from(r) + 1
                    ),
                ))
            }
            Some(r) => {
                if !flush_row(r, &mut cells, &mut header, &mut sink, &mut errs) {
                    return Err(errs.into_errors(file));
                }
                current = Some(row);
            }
            None => current = Some(row),
        }
        let c = col as usize;
        if cells.len() <= c {
            cells.resize(c + 1, String::new());
        }
        cells[c] = text;
    }
    if let Some(r) = current {
        if !flush_row(r, &mut cells, &mut header, &mut sink, &mut errs) {
            return Err(errs.into_errors(file));
        }
    }
    if header.is_none() {
        return Err(fail(
            Some(1),
            "het werkblad is leeg; de eerste regel moet de kolomnamen bevatten".into(),
        ));
    }
    if errs.is_empty() {
        Ok(sink.finish())
    } else {
        Err(errs.into_errors(file))
    }
}

/// Hands one collected row to `sink`: the first as the header, the others
/// as data padded to the header's width. False when the header is unusable.
fn flush_row<S: Sink>(
    row: u32,
    cells: &mut Vec<String>,
    header: &mut Option<(u32, usize)>,
    sink: &mut S,
    errs: &mut ErrorList,
) -> bool {
    let line = u64::from(row) + 1;
    let Some((left, width)) = *header else {
        let left = cells.iter().position(|c| !c.is_empty()).unwrap_or(0);
        let names: Vec<String> = cells.drain(..).skip(left).collect();
        let head = map_header(&names, sink, errs);
        sink.header_names(&head.used, &head.other);
        errs.name_columns(&head.used);
        *header = Some((left as u32, head.width));
        return errs.is_empty() && sink.header(&head.positions, errs);
    };
    let left = left as usize;
    if let Some(c) = cells[..left.min(cells.len())]
        .iter()
        .position(|c| !c.is_empty())
    {
        errs.push(
            line,
            None,
            format!(
                "cel {} staat links van de kopregel",
                cell_ref(row, c as u32)
            ),
        );
        cells.clear();
        return true;
    }
    let mut fields: Vec<String> = cells.drain(..).skip(left).collect();
    if fields.len() < width {
        fields.resize(width, String::new());
    }
    let row = CellRow(fields);
    if usable(line, &row, width, errs) {
        sink.row(line, &row, errs);
    }
    true
}

/// Feeds a sheet read as a whole (ODS, after [`ods_cells`]) to `sink`.
fn read_range<S: Sink>(
    file: &str,
    range: &calamine::Range<Data>,
    mut sink: S,
) -> Result<S::Output, ImportErrors> {
    // Rows above the used range are empty; the first used row is the header.
    let first_row = u64::from(range.start().map_or(0, |(r, _)| r));
    let mut rows = range.rows();
    let Some(header) = rows.next() else {
        return Err(ImportErrors::single(
            file,
            Some(1),
            "het werkblad is leeg; de eerste regel moet de kolomnamen bevatten".into(),
        ));
    };
    let mut errs = ErrorList::default();
    let names: Vec<String> = header.iter().map(cell_text).collect();
    let head = map_header(&names, &sink, &mut errs);
    sink.header_names(&head.used, &head.other);
    errs.name_columns(&head.used);
    let width = head.width;
    if !errs.is_empty() || !sink.header(&head.positions, &mut errs) {
        return Err(errs.into_errors(file));
    }
    for (i, cells) in rows.enumerate() {
        let line = first_row + 2 + i as u64;
        let row = CellRow(cells.iter().map(cell_text).collect());
        if usable(line, &row, width, &mut errs) {
            sink.row(line, &row, &mut errs);
        }
    }
    if errs.is_empty() {
        Ok(sink.finish())
    } else {
        Err(errs.into_errors(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references_are_spreadsheet_names() {
        assert_eq!(cell_ref(0, 0), "A1");
        assert_eq!(cell_ref(9, 25), "Z10");
        assert_eq!(cell_ref(0, 26), "AA1");
        assert_eq!(cell_ref(1_048_575, 16_383), "XFD1048576");
    }

    #[test]
    fn ods_cells_count_repeats_as_the_reader_expands_them() {
        let doc = br#"<office:document-content><table:table>
            <table:table-row><table:table-cell office:value-type="string"><text:p>a</text:p></table:table-cell><table:table-cell table:number-columns-repeated="1000"/></table:table-row>
            <table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>
            </table:table></office:document-content>"#;
        // Trailing empty cells and rows are not expanded.
        assert_eq!(ods_cells(&doc[..]).unwrap(), 2);
        let bomb = br#"<table:table><table:table-row table:number-rows-repeated="100000"><table:table-cell table:number-columns-repeated="1000" office:value-type="float"/></table:table-row></table:table>"#;
        assert!(ods_cells(&bomb[..]).unwrap() > MAX_ODS_CELLS);
    }
}
