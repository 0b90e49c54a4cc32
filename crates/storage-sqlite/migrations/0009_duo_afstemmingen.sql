-- aanwezig, SQLite schema version 9: "afgestemd met leerplicht: geen
-- nieuwe melding" (issue 11, item 2; seed 5b "Leerplicht: afstemmen over
-- DUO melding").
--
-- One row per DUO signal (rule + fired_on) of a student that needs no new
-- melding because school and leerplicht agreed so; kept as recorded (the
-- trail), removed only with the student. `melding_id` is the registered
-- melding the signal follows. `why` never holds the nature of an illness
-- (the application refuses it).
CREATE TABLE duo_afstemmingen (
    id          INTEGER PRIMARY KEY,
    student_id  INTEGER NOT NULL REFERENCES students (id),
    rule        TEXT NOT NULL,
    fired_on    TEXT NOT NULL,
    melding_id  INTEGER,
    agreed_on   TEXT NOT NULL,
    with_whom   TEXT NOT NULL,
    why         TEXT NOT NULL,
    by_user     TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (student_id, rule, fired_on)
) STRICT;

CREATE TRIGGER duo_afstemmingen_are_kept
BEFORE UPDATE ON duo_afstemmingen
BEGIN
    SELECT RAISE(ABORT, 'afstemmingen are kept as recorded');
END;
