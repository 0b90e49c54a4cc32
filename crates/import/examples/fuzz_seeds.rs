//! Writes the small workbooks of the workbook fuzz target's seed corpus
//! (`crates/import/fuzz/corpus/workbook/`): students and registrations as
//! XLSX (text cells, and real number and date cells as a spreadsheet made
//! by hand has them) and as ODS.
//!
//! `cargo run -p aanwezig-import --example fuzz_seeds -- DIR`

use std::error::Error;
use std::io::Write as _;
use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

/// A cell of a seed sheet.
enum Cell {
    Text(&'static str),
    Number(f64),
    /// Year, month, day.
    Date(u16, u8, u8),
    Empty,
}

use Cell::{Date, Empty, Number, Text};

fn students() -> Vec<Vec<Cell>> {
    vec![
        vec![
            Text("student_id"),
            Text("name"),
            Text("class"),
            Text("mentor"),
            Text("date_of_birth"),
            Text("left_on"),
        ],
        vec![
            Text("240101"),
            Text("Sanne de Vries"),
            Text("2A"),
            Text("hdejong"),
            Date(2012, 3, 14),
            Empty,
        ],
        vec![
            Number(240104.0),
            Text("Milan Visser"),
            Text("3C"),
            Text("kboer"),
            Text("2010-12-30"),
            Date(2026, 1, 30),
        ],
    ]
}

fn registrations() -> Vec<Vec<Cell>> {
    let header = [
        "student_id",
        "date",
        "lesson",
        "minutes",
        "code",
        "category",
        "minutes_late",
        "note",
    ];
    vec![
        header.iter().map(|h| Text(h)).collect(),
        vec![
            Text("240101"),
            Date(2025, 9, 1),
            Number(1.0),
            Empty,
            Empty,
            Text("present"),
            Empty,
            Empty,
        ],
        vec![
            Number(240103.0),
            Text("2025-09-03"),
            Number(1.0),
            Number(50.0),
            Text("L"),
            Empty,
            Number(12.0),
            Empty,
        ],
        vec![
            Text("240105"),
            Date(2025, 9, 9),
            Text("3"),
            Empty,
            Text("O"),
            Empty,
            Empty,
            Text("afgemeld door moeder om 08:05"),
        ],
    ]
}

fn write_xlsx(path: &Path, rows: &[Vec<Cell>]) -> Result<(), Box<dyn Error>> {
    let mut wb = Workbook::new();
    let date_format = Format::new().set_num_format("dd-mm-yyyy");
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (u32::try_from(r)?, u16::try_from(c)?);
            match cell {
                Text(s) => {
                    ws.write_string(r, c, *s)?;
                }
                Number(v) => {
                    ws.write_number(r, c, *v)?;
                }
                Date(y, m, d) => {
                    let x = ExcelDateTime::from_ymd(*y, *m, *d)?;
                    ws.write_date_with_format(r, c, &x, &date_format)?;
                }
                Empty => {}
            }
        }
    }
    wb.save(path)?;
    Ok(())
}

/// The smallest ODS calamine reads: `mimetype` (stored, first),
/// `META-INF/manifest.xml` and `content.xml` with one table.
fn write_ods(path: &Path, rows: &[Vec<Cell>]) -> Result<(), Box<dyn Error>> {
    let mut content = String::from(concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        r#"<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" "#,
        r#"xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" "#,
        r#"xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">"#,
        r#"<office:body><office:spreadsheet><table:table table:name="Blad1">"#,
    ));
    for row in rows {
        content.push_str("<table:table-row>");
        for cell in row {
            content.push_str(&match cell {
                Text(s) => format!(
                    r#"<table:table-cell office:value-type="string"><text:p>{s}</text:p></table:table-cell>"#
                ),
                Number(v) => format!(
                    r#"<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>"#
                ),
                Date(y, m, d) => format!(
                    r#"<table:table-cell office:value-type="date" office:date-value="{y:04}-{m:02}-{d:02}"><text:p>{d:02}-{m:02}-{y:04}</text:p></table:table-cell>"#
                ),
                Empty => "<table:table-cell/>".to_owned(),
            });
        }
        content.push_str("</table:table-row>");
    }
    content.push_str("</table:table></office:spreadsheet></office:body></office:document-content>");
    let manifest = concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        r#"<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">"#,
        r#"<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>"#,
        r#"<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>"#,
        r#"</manifest:manifest>"#,
    );
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path)?);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("mimetype", stored)?;
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")?;
    zip.start_file("META-INF/manifest.xml", stored)?;
    zip.write_all(manifest.as_bytes())?;
    zip.start_file("content.xml", stored)?;
    zip.write_all(content.as_bytes())?;
    zip.finish()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("gebruik: fuzz_seeds MAP (de map voor de werkmappen)")?;
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir)?;
    write_xlsx(&dir.join("students.xlsx"), &students())?;
    write_xlsx(&dir.join("registrations.xlsx"), &registrations())?;
    write_ods(&dir.join("students.ods"), &students())?;
    write_ods(&dir.join("registrations.ods"), &registrations())?;

    // The seeds must be valid files: read them back against the shipped
    // calendar and Magister policy.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cal = aanwezig_import::load_calendar(&[root.join("data/calendars/2025-2026-noord.toml")])?;
    let policy = aanwezig_import::load_policy(&root.join("data/policy/magister.toml"))?;
    for ext in ["xlsx", "ods"] {
        let students = aanwezig_import::read_students_file(&dir.join(format!("students.{ext}")))?;
        let regs = aanwezig_import::read_registrations_file(
            &dir.join(format!("registrations.{ext}")),
            &cal,
            &policy,
            |_| true,
        )?;
        println!(
            "{ext}: {} leerlingen, {} registraties",
            students.len(),
            regs.len()
        );
    }
    Ok(())
}
