-- aanwezig, SQLite schema version 1.
--
-- Conventions: dates are ISO text 'YYYY-MM-DD'; instants are RFC 3339 UTC
-- text with nanoseconds ('2025-09-01T08:00:00.000000000Z'), so that text
-- order is time order. Every table is STRICT: SQLite then refuses a value of
-- the wrong type instead of storing it as given.

-- Students. `id` is an internal key: registrations refer to it with a 1-3
-- byte integer instead of repeating the text student number millions of
-- times. `number` is the school's leerlingnummer (StudentId).
CREATE TABLE students (
    id            INTEGER PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    class         TEXT NOT NULL,
    mentor        TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    left_on       TEXT
) STRICT;

-- The imports log: one row per import of registrations, even when it
-- changed nothing.
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    file_name   TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    inserted    INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL
) STRICT;

-- Change sets: who changed registrations, when, and through which import
-- (NULL for a single edit in the app). Registrations and their history
-- refer to a change by id, so the user name is not repeated per row.
CREATE TABLE changes (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    by        TEXT NOT NULL,
    import_id INTEGER REFERENCES imports (id)
) STRICT;

-- The categories of rules.md §2. Registrations store a category as its
-- number here, which is the domain's `Category as u8` (a fixed, explicit
-- discriminant): one byte per row, and a cheap range CHECK instead of a
-- list of strings, which measured twice as slow on bulk import. This table
-- and the view below keep the database readable in a shell.
CREATE TABLE categories (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
) STRICT;

INSERT INTO categories (id, name) VALUES
    (0, 'present'), (1, 'late_unexcused'), (2, 'late_excused'), (3, 'reported_sick'),
    (4, 'reported_other'), (5, 'authorized'), (6, 'unknown'), (7, 'unauthorized'),
    (8, 'not_absence');

-- The current state of every registered lesson. WITHOUT ROWID: the
-- primary key is the table's only b-tree, so an upsert is one b-tree
-- search, and reading a student's lessons in (date, lesson) order is a
-- range scan.
CREATE TABLE registrations (
    student_id   INTEGER NOT NULL REFERENCES students (id),
    date         TEXT NOT NULL,
    lesson       INTEGER NOT NULL,
    minutes      INTEGER NOT NULL,
    code         TEXT,
    category     INTEGER NOT NULL CHECK (category BETWEEN 0 AND 8),
    minutes_late INTEGER NOT NULL,
    note         TEXT,
    -- The change that gave the lesson its current state.
    change_id    INTEGER NOT NULL REFERENCES changes (id),
    PRIMARY KEY (student_id, date, lesson),
    -- product.md: never record the nature of an illness (3 = reported_sick).
    CHECK (note IS NULL OR category <> 3)
) STRICT, WITHOUT ROWID;

-- Earlier states of registrations: the old values, the change that had set
-- them (`change_id`) and the change that replaced them (`replaced_by`).
CREATE TABLE registration_history (
    id           INTEGER PRIMARY KEY,
    student_id   INTEGER NOT NULL REFERENCES students (id),
    date         TEXT NOT NULL,
    lesson       INTEGER NOT NULL,
    minutes      INTEGER NOT NULL,
    code         TEXT,
    category     INTEGER NOT NULL,
    minutes_late INTEGER NOT NULL,
    note         TEXT,
    change_id    INTEGER NOT NULL REFERENCES changes (id),
    replaced_by  INTEGER NOT NULL REFERENCES changes (id)
) STRICT;

CREATE INDEX registration_history_lesson
    ON registration_history (student_id, date, lesson);

-- The history is kept by the database itself, so that no code path (bulk
-- import, single edit, a future bulk correction) can change a registration
-- without leaving its old state behind. Callers only update rows that
-- really differ, so every history row is a real change.
CREATE TRIGGER registrations_keep_history
AFTER UPDATE ON registrations
BEGIN
    INSERT INTO registration_history
        (student_id, date, lesson, minutes, code, category, minutes_late, note,
         change_id, replaced_by)
    VALUES
        (OLD.student_id, OLD.date, OLD.lesson, OLD.minutes, OLD.code, OLD.category,
         OLD.minutes_late, OLD.note, OLD.change_id, NEW.change_id);
END;

-- For people reading the database: registrations with student numbers and
-- category names.
CREATE VIEW registrations_named AS
SELECT s.number AS student, r.date, r.lesson, r.minutes, r.code, c.name AS category,
       r.minutes_late, r.note, r.change_id
FROM registrations r
JOIN students s ON s.id = r.student_id
JOIN categories c ON c.id = r.category;

-- Settings documents (calendar, policy) as JSON, every version kept.
CREATE TABLE documents (
    kind     TEXT NOT NULL,
    version  INTEGER NOT NULL,
    json     TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (kind, version)
) STRICT;
