//! Crafted workbooks: each is refused with one Dutch error for the file,
//! never read into memory whole. The files are built here byte by byte
//! (zip entries of our own XML), so the test shows what the reader does
//! with exactly the shape an attacker would send.

#![expect(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]
use std::io::Write;
use std::path::{Path, PathBuf};

use aanwezig_import::workbook::{MAX_COLUMNS, MAX_ENTRIES, MAX_SHARED_STRINGS_BYTES};
use aanwezig_import::{read_students_file, ImportErrors};
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Blad1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;

fn cell(r: &str, text: &str) -> String {
    format!(r#"<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

/// The cells of one student's row.
fn student(row: u32, id: &str, class: &str) -> String {
    [id, "Sam de Vries", class, "jansen", "2011-03-04"]
        .iter()
        .zip(["A", "B", "C", "D", "E"])
        .map(|(t, c)| cell(&format!("{c}{row}"), t))
        .collect()
}

/// A sheet: the students header in row 1 plus `extra` XML, with a
/// `<dimension>` of `dim`.
fn sheet(dim: &str, rows: &str) -> String {
    let header = ["student_id", "name", "class", "mentor", "date_of_birth"]
        .iter()
        .zip(["A1", "B1", "C1", "D1", "E1"])
        .map(|(t, r)| cell(r, t))
        .collect::<String>();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{dim}"/><sheetData><row r="1">{header}</row>{rows}</sheetData></worksheet>"#
    )
}

/// Writes a zip of `parts` (name, bytes) to `dir/name`.
fn zip_file(dir: &Path, name: &str, parts: &[(&str, &[u8])]) -> PathBuf {
    let path = dir.join(name);
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(false);
    for (n, bytes) in parts {
        z.start_file(*n, opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
    path
}

fn xlsx(dir: &Path, name: &str, sheet_xml: &str, extra: &[(&str, &[u8])]) -> PathBuf {
    let mut parts: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("xl/workbook.xml", WORKBOOK.as_bytes()),
        ("xl/_rels/workbook.xml.rels", RELS.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet_xml.as_bytes()),
    ];
    parts.extend_from_slice(extra);
    zip_file(dir, name, &parts)
}

fn one_error(e: ImportErrors) -> String {
    assert_eq!(e.errors.len(), 1, "{:?}", e.errors);
    e.errors[0].message.clone()
}

#[test]
fn a_plain_crafted_sheet_reads() {
    // The builder itself makes files the reader accepts: the refusals
    // below are about the hostile parts, not about the shape.
    let dir = tempfile::tempdir().unwrap();
    let rows = format!(
        r#"<row r="2">{}</row><row r="5">{}</row>"#,
        student(2, "100001", "2A"),
        student(5, "100002", "2B"),
    );
    let p = xlsx(dir.path(), "ok.xlsx", &sheet("A1:C5", &rows), &[]);
    let students = read_students_file(&p).unwrap();
    assert_eq!(students.len(), 2);
    assert_eq!(students[1].student.class, "2B");
}

#[test]
fn one_cell_at_the_far_corner_is_refused_by_name() {
    // The 1.9 KB file that made the old reader allocate ~550 GB.
    let dir = tempfile::tempdir().unwrap();
    let rows = format!(r#"<row r="1048576">{}</row>"#, cell("XFD1048576", "x"));
    let p = xlsx(dir.path(), "hoek.xlsx", &sheet("A1:XFD1048576", &rows), &[]);
    assert!(std::fs::metadata(&p).unwrap().len() < 4096);
    let msg = one_error(read_students_file(&p).unwrap_err());
    assert!(msg.contains("cel XFD1048576"), "{msg}");
    assert!(msg.contains(&format!("{MAX_COLUMNS} kolommen")), "{msg}");
}

#[test]
fn empty_styled_cells_far_away_do_not_count() {
    // A used range that reaches the corner only through empty cells is
    // harmless: those cells hold nothing to read.
    let dir = tempfile::tempdir().unwrap();
    let rows = format!(
        r#"<row r="2">{}</row><row r="1048576"><c r="XFD1048576" s="1"/></row>"#,
        student(2, "100001", "2A"),
    );
    let p = xlsx(dir.path(), "leeg.xlsx", &sheet("A1:XFD1048576", &rows), &[]);
    assert_eq!(read_students_file(&p).unwrap().len(), 1);
}

#[test]
fn a_shared_string_bomb_is_refused_before_reading() {
    // One shared string larger than the limit, packed ~1000:1.
    let dir = tempfile::tempdir().unwrap();
    let n = (MAX_SHARED_STRINGS_BYTES + 1024 * 1024) as usize;
    let mut sst = Vec::with_capacity(n + 200);
    sst.extend_from_slice(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#);
    sst.resize(sst.len() + n, b'A');
    sst.extend_from_slice(b"</t></si></sst>");
    let p = xlsx(
        dir.path(),
        "bom.xlsx",
        &sheet("A1:C1", ""),
        &[("xl/sharedStrings.xml", &sst)],
    );
    let packed = std::fs::metadata(&p).unwrap().len();
    assert!(packed < 200 * 1024, "{packed}");
    let msg = one_error(read_students_file(&p).unwrap_err());
    assert!(msg.contains("zip-bom") || msg.contains("te groot"), "{msg}");
    assert!(msg.contains("sharedStrings.xml"), "{msg}");
}

#[test]
fn a_highly_packed_part_is_refused_even_under_the_size_limit() {
    // 8 MB of one byte in a sheet: below every size limit, but no real
    // sheet packs 1000 times.
    let dir = tempfile::tempdir().unwrap();
    let filler = format!("<!--{}-->", "A".repeat(8 * 1024 * 1024));
    let xml = sheet("A1:C1", &filler);
    let p = xlsx(dir.path(), "ratio.xlsx", &xml, &[]);
    let msg = one_error(read_students_file(&p).unwrap_err());
    assert!(msg.contains("zip-bom"), "{msg}");
    assert!(msg.contains("xl/worksheets/sheet1.xml"), "{msg}");
}

#[test]
fn too_many_entries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!("x/{i}.xml")).collect();
    let extra: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"<a/>"[..])).collect();
    let p = xlsx(dir.path(), "veel.xlsx", &sheet("A1:C1", ""), &extra);
    let msg = one_error(read_students_file(&p).unwrap_err());
    assert!(msg.contains("onderdelen"), "{msg}");
    assert!(msg.contains(&MAX_ENTRIES.to_string()), "{msg}");
}

#[test]
fn an_ods_repeat_bomb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let content = br#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Blad1"><table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"/></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#;
    let p = zip_file(
        dir.path(),
        "bom.ods",
        &[
            (
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet",
            ),
            ("content.xml", content),
        ],
    );
    let msg = one_error(read_students_file(&p).unwrap_err());
    assert!(msg.contains("te groot"), "{msg}");
    assert!(msg.contains("cellen"), "{msg}");
}

#[test]
fn old_xls_and_non_workbooks_get_advice() {
    let dir = tempfile::tempdir().unwrap();
    let xls = dir.path().join("oud.xls");
    let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    bytes.resize(4096, 0);
    std::fs::write(&xls, bytes).unwrap();
    let msg = one_error(read_students_file(&xls).unwrap_err());
    assert!(msg.contains(".xlsx") && msg.contains("CSV"), "{msg}");

    let csv = dir.path().join("lijst.xlsx");
    std::fs::write(&csv, "student_id,name,class\n1,a,b\n").unwrap();
    let msg = one_error(read_students_file(&csv).unwrap_err());
    assert!(msg.contains("geen werkmap"), "{msg}");

    let other = zip_file(dir.path(), "archief.xlsx", &[("readme.txt", b"hallo")]);
    let msg = one_error(read_students_file(&other).unwrap_err());
    assert!(msg.contains("geen werkmap"), "{msg}");
}

#[test]
fn a_truncated_archive_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = xlsx(dir.path(), "ok.xlsx", &sheet("A1:C1", ""), &[]);
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let msg = one_error(read_students_file(&p).unwrap_err());
    assert!(msg.contains("beschadigd"), "{msg}");
}

#[test]
fn a_cell_pointing_into_missing_shared_strings_is_an_error_not_a_panic() {
    // Found by the workbook fuzz target: calamine indexes the shared
    // strings without a check.
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/artifacts-found/workbook-missing-shared-strings.xlsx");
    let msg = one_error(read_students_file(&p).unwrap_err());
    assert!(msg.contains("beschadigd"), "{msg}");
}
