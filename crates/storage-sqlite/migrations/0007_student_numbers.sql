-- aanwezig, SQLite schema version 7: a student's BSN and onderwijsnummer.
--
-- Both optional, nine digits when present (the import checked the
-- elfproef; the CHECK keeps anything else out). They serve the DUO
-- melding only and are shown only to the coordinators. A students file
-- without a `bsn` (or `onderwijsnummer`) column leaves these as they are;
-- a file with the column sets them, and an empty cell clears one.
-- No UNIQUE index: two stored students may briefly share a number while a
-- school corrects its administration, and the import checks each file for
-- repeats already.
ALTER TABLE students ADD COLUMN bsn TEXT
    CHECK (bsn IS NULL OR (length(bsn) = 9 AND bsn NOT GLOB '*[^0-9]*'));

ALTER TABLE students ADD COLUMN onderwijsnummer TEXT
    CHECK (onderwijsnummer IS NULL
           OR (length(onderwijsnummer) = 9 AND onderwijsnummer NOT GLOB '*[^0-9]*'));
