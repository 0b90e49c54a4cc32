-- aanwezig, SQLite schema version 3: the case dossier and DUO melding
-- drafts, as JSON documents of the domain types (`Case`, `MeldingDraft`),
-- with every saved version kept (the dossier's trail). Same conventions as
-- 0001: STRICT tables, dates as 'YYYY-MM-DD', instants as RFC 3339 UTC text
-- with nanoseconds.

-- Cases. A case is identified by its student and the day it was opened
-- (the domain's `Case` has no id of its own, and reopening a closed case
-- keeps `opened_on`, so it stays the same row). A student may have several
-- cases over the years, but at most one open at a time (the partial unique
-- index below). `is_open` and `opened_on` are copies of the JSON's fields,
-- kept for filtering; `json` is the current version.
CREATE TABLE cases (
    id         INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES students (id),
    opened_on  TEXT NOT NULL,
    is_open    INTEGER NOT NULL CHECK (is_open IN (0, 1)),
    version    INTEGER NOT NULL CHECK (version >= 1),
    json       TEXT NOT NULL CHECK (json_valid(json)),
    saved_by   TEXT NOT NULL,
    saved_at   TEXT NOT NULL,
    UNIQUE (student_id, opened_on)
) STRICT;

CREATE UNIQUE INDEX cases_one_open_per_student ON cases (student_id) WHERE is_open = 1;

-- Every version of every case, the current one included: who saved what,
-- when.
CREATE TABLE case_versions (
    case_id  INTEGER NOT NULL REFERENCES cases (id),
    version  INTEGER NOT NULL,
    json     TEXT NOT NULL CHECK (json_valid(json)),
    saved_by TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (case_id, version)
) STRICT, WITHOUT ROWID;

-- DUO melding drafts. `signal` is the JSON of the draft's `SignalRef`
-- (NULL for a draft made by hand): one draft per signal of a student. NULLs
-- are distinct in a UNIQUE constraint, so hand-made drafts are not limited.
-- `status`, `deadline` and `registered_on` are copies of the JSON's fields
-- for the list filters.
CREATE TABLE meldingen (
    id            INTEGER PRIMARY KEY,
    student_id    INTEGER NOT NULL REFERENCES students (id),
    signal        TEXT CHECK (signal IS NULL OR json_valid(signal)),
    status        TEXT NOT NULL,
    deadline      TEXT NOT NULL,
    registered_on TEXT,
    version       INTEGER NOT NULL CHECK (version >= 1),
    json          TEXT NOT NULL CHECK (json_valid(json)),
    saved_by      TEXT NOT NULL,
    saved_at      TEXT NOT NULL,
    UNIQUE (student_id, signal)
) STRICT;

CREATE INDEX meldingen_status ON meldingen (status);

CREATE TABLE melding_versions (
    melding_id INTEGER NOT NULL REFERENCES meldingen (id),
    version    INTEGER NOT NULL,
    json       TEXT NOT NULL CHECK (json_valid(json)),
    saved_by   TEXT NOT NULL,
    saved_at   TEXT NOT NULL,
    PRIMARY KEY (melding_id, version)
) STRICT, WITHOUT ROWID;
