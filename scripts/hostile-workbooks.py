#!/usr/bin/env python3
"""Writes the crafted workbooks of the hardening issue into a folder.

    scripts/hostile-workbooks.py DIR [--big]

corner.xlsx      a header and one cell at XFD1048576 (the "550 GB" file)
sst-bomb.xlsx    one shared string of 40 MB, packed about 1000:1
many.xlsx        1,001 zip entries
repeat-bomb.ods  an ODS cell repeated 16,384 x 1,000,000 times
sst-2gb.xlsx     (--big) one shared string of 2,000,000,000 bytes, ~1.9 MB

Only the standard library; the files are for tests and measurements
(`/usr/bin/time -v aanwezig import --students FILE`).
"""
import sys
import zipfile
from pathlib import Path

CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="xml" ContentType="application/xml"/></Types>')
WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
      '<sheet name="Blad1" sheetId="1" r:id="rId1"/></sheets></workbook>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        '</Relationships>')
HEADER = ["student_id", "name", "class", "mentor", "date_of_birth"]


def cell(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet(dim, rows=""):
    head = "".join(cell(f"{c}1", t) for c, t in zip("ABCDE", HEADER))
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="{dim}"/><sheetData><row r="1">{head}</row>{rows}</sheetData></worksheet>')


def xlsx(path, sheet_xml, extra=()):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CT)
        z.writestr("xl/workbook.xml", WB)
        z.writestr("xl/_rels/workbook.xml.rels", RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        for name, data in extra:
            if callable(data):
                with z.open(name, "w") as f:
                    data(f)
            else:
                z.writestr(name, data)


def sst_writer(n):
    def write(f):
        f.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>')
        chunk = b"A" * (1 << 20)
        left = n
        while left > 0:
            f.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
        f.write(b"</t></si></sst>")
    return write


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    xlsx(out / "corner.xlsx", sheet("A1:XFD1048576", f'<row r="1048576">{cell("XFD1048576", "x")}</row>'))
    xlsx(out / "sst-bomb.xlsx", sheet("A1:E1"), [("xl/sharedStrings.xml", sst_writer(40_000_000))])
    xlsx(out / "many.xlsx", sheet("A1:E1"), [(f"x/{i}.xml", "<a/>") for i in range(1001)])
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body><office:spreadsheet>'
               '<table:table table:name="Blad1"><table:table-row table:number-rows-repeated="1000000">'
               '<table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"/>'
               '</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(out / "repeat-bomb.ods", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
    if "--big" in sys.argv:
        xlsx(out / "sst-2gb.xlsx", sheet("A1:E1"), [("xl/sharedStrings.xml", sst_writer(2_000_000_000))])
    for p in sorted(out.iterdir()):
        print(f"{p.name}: {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
