-- aanwezig, SQLite schema version 8: calls after a whole day of absence
-- (stap 2, guide A), recorded without a dossier.
--
-- One row per call, never changed or deleted except with the student
-- after the retention period: the call history of a student. `absent_from`
-- names the absence run (its first whole day absent); `reached` is
-- `ouder`, `leerling` or `niemand`. The free texts never hold the nature
-- of an illness (the application refuses it).
CREATE TABLE calls (
    id            INTEGER PRIMARY KEY,
    student_id    INTEGER NOT NULL REFERENCES students (id),
    absent_from   TEXT NOT NULL,
    called_on     TEXT NOT NULL,
    by_user       TEXT NOT NULL,
    reached       TEXT NOT NULL CHECK (reached IN ('ouder', 'leerling', 'niemand')),
    how           TEXT NOT NULL,
    school_can_do TEXT NOT NULL,
    expected_back TEXT,
    worries       INTEGER NOT NULL CHECK (worries IN (0, 1))
) STRICT;

CREATE INDEX calls_by_student ON calls (student_id, absent_from);

CREATE TRIGGER calls_are_kept
BEFORE UPDATE ON calls
BEGIN
    SELECT RAISE(ABORT, 'calls are kept as recorded');
END;
