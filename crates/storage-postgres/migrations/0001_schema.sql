-- aanwezig, PostgreSQL schema version 1: everything the SQLite schema
-- holds after its migration 0009, in PostgreSQL's own types.
--
-- Conventions: dates are `date`, instants `timestamptz` (microseconds;
-- the SQLite backend keeps nanoseconds as text), counts `bigint`, small
-- numbers `smallint`/`integer` with CHECKs for the Rust types they come
-- from. JSON the app reads back through serde is `jsonb`; settings
-- documents are `json`, which keeps the text exactly as saved.
--
-- The triggers that keep the history and guard the append-only tables
-- are in 0002_triggers.sql.

-- Students. `id` is an internal key: registrations refer to it with a
-- 4-byte integer instead of repeating the text student number millions of
-- times. `number` is the school's leerlingnummer (StudentId).
CREATE TABLE students (
    id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number          text NOT NULL UNIQUE,
    name            text NOT NULL,
    class           text NOT NULL,
    mentor          text NOT NULL,
    date_of_birth   date NOT NULL,
    left_on         date,
    -- Nine digits when present; the elfproef is checked when read.
    bsn             text CHECK (bsn ~ '^[0-9]{9}$'),
    onderwijsnummer text CHECK (onderwijsnummer ~ '^[0-9]{9}$')
);

-- For the retention purge.
CREATE INDEX students_left_on ON students (left_on) WHERE left_on IS NOT NULL;

-- The imports log: one row per import of registrations, even when it
-- changed nothing.
CREATE TABLE imports (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_name   text NOT NULL,
    sha256      text NOT NULL,
    imported_by text NOT NULL,
    imported_at timestamptz NOT NULL,
    rows        bigint NOT NULL,
    inserted    bigint NOT NULL,
    updated     bigint NOT NULL,
    unchanged   bigint NOT NULL
);

-- Change sets of registrations: who changed them, when, and through which
-- import (NULL for an edit in the app). A lesson's revision is the id of
-- the change set that gave it its state. The names of this and every
-- other table and column are the SQLite schema's, so that `aanwezig
-- migrate` can move a school between the backends row for row.
CREATE TABLE changes (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL,
    by        text NOT NULL,
    import_id bigint REFERENCES imports (id)
);

-- The categories of rules.md §2, by the domain's `Category as u8`, for
-- people reading the database; registrations store the number.
CREATE TABLE categories (
    id   smallint PRIMARY KEY,
    name text NOT NULL UNIQUE
);

INSERT INTO categories (id, name) VALUES
    (0, 'present'), (1, 'late_unexcused'), (2, 'late_excused'), (3, 'reported_sick'),
    (4, 'reported_other'), (5, 'authorized'), (6, 'unknown'), (7, 'unauthorized'),
    (8, 'not_absence');

-- The current state of every registered lesson, keyed by (student, date,
-- lesson): a student's lessons are one range of the primary key, in the
-- order the engine reads them. `fillfactor` leaves room on each page so
-- that a correction is usually a HOT update (no new index entry).
--
-- `student_id` refers to students and `change_id` to changes, but not
-- by a FOREIGN KEY clause: PostgreSQL checks those with one query per row
-- (two per registration, a quarter of the import's speed on 27 million
-- rows). Statement-level triggers in 0002 check the same, once per
-- statement over all its rows: every student and change set referred to
-- exists (and is locked against deletion until the transaction ends), a
-- student with registrations cannot be deleted, and change sets are never
-- deleted.
CREATE TABLE registrations (
    student_id   integer NOT NULL,
    date         date NOT NULL,
    lesson       smallint NOT NULL CHECK (lesson BETWEEN 0 AND 255),
    minutes      integer NOT NULL CHECK (minutes BETWEEN 0 AND 65535),
    code         text,
    category     smallint NOT NULL CHECK (category BETWEEN 0 AND 8),
    minutes_late integer NOT NULL CHECK (minutes_late BETWEEN 0 AND 65535),
    note         text,
    change_id    bigint NOT NULL,
    PRIMARY KEY (student_id, date, lesson),
    -- product.md: never record the nature of an illness (3 = reported_sick).
    CONSTRAINT registrations_no_note_when_sick CHECK (note IS NULL OR category <> 3)
) WITH (fillfactor = 90);

-- Earlier states of registrations: the old values, the change set that
-- had set them (`change_id`) and the one that replaced them
-- (`replaced_by`). Written by the trigger in 0002 only.
CREATE TABLE registration_history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student_id   integer NOT NULL REFERENCES students (id),
    date         date NOT NULL,
    lesson       smallint NOT NULL,
    minutes      integer NOT NULL,
    code         text,
    category     smallint NOT NULL,
    minutes_late integer NOT NULL,
    note         text,
    change_id    bigint NOT NULL REFERENCES changes (id),
    replaced_by  bigint NOT NULL REFERENCES changes (id)
);

CREATE INDEX registration_history_lesson
    ON registration_history (student_id, date, lesson);

-- For people reading the database: registrations with student numbers and
-- category names.
CREATE VIEW registrations_named AS
SELECT s.number AS student, r.date, r.lesson, r.minutes, r.code, c.name AS category,
       r.minutes_late, r.note, r.change_id
FROM registrations r
JOIN students s ON s.id = r.student_id
JOIN categories c ON c.id = r.category;

-- Settings documents as JSON, every version kept. `json` (not `jsonb`):
-- a version reads back exactly as it was saved.
CREATE TABLE documents (
    kind     text NOT NULL,
    version  integer NOT NULL CHECK (version >= 1),
    json     json NOT NULL,
    saved_by text NOT NULL,
    saved_at timestamptz NOT NULL,
    PRIMARY KEY (kind, version)
);

-- People who sign in. `username` is the key everywhere (sessions, the
-- audit log's text); `account_id` is the stable identity (128 random bits
-- in SQLite; here a random UUID's 122 bits as 32 hex digits), given by the
-- database, unique, never changed (trigger in 0002).
CREATE TABLE users (
    username      text PRIMARY KEY CHECK (username <> ''),
    display_name  text NOT NULL,
    -- The domain's `Role::as_str`; a new role needs a migration (the
    -- conformance suite stores every role).
    role          text NOT NULL CHECK (role IN ('beheerder', 'verzuimcoordinator',
                      'ondersteuningscoordinator', 'mentor', 'leerplichtambtenaar',
                      'jeugdarts', 'ketenpartner')),
    -- A mentor's classes, in the order given; only mentors have any.
    classes       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(classes) = 'array'),
    email         text CHECK (email <> ''),
    active        boolean NOT NULL,
    -- argon2id PHC string; never the password.
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL,
    account_id    text NOT NULL UNIQUE
                      DEFAULT replace(gen_random_uuid()::text, '-', '')
                      CHECK (account_id <> ''),
    CONSTRAINT users_classes_only_for_mentors CHECK (role = 'mentor' OR classes = '[]')
);

-- Signed-in sessions, keyed by the SHA-256 of the cookie's token.
CREATE TABLE sessions (
    id_hash      text PRIMARY KEY,
    username     text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);

CREATE INDEX sessions_username ON sessions (username);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- The "Mijn taken" calendar feed: one secret address per user, only its
-- hash kept.
CREATE TABLE feed_tokens (
    username   text PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

-- The audit log (product.md: every read and change of a student's data).
-- Append-only (triggers in 0002). `username` and `student` are plain
-- text, not foreign keys: entries outlive accounts and students.
CREATE TABLE audit_log (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL,
    username text NOT NULL,
    action   text NOT NULL,
    student  text,
    detail   text NOT NULL
);

-- Newest first, overall, per student and per user: each read is an index
-- scan backwards in (at, id) order, without a sort.
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_student ON audit_log (student, at, id) WHERE student IS NOT NULL;
CREATE INDEX audit_log_username ON audit_log (username, at, id);

-- Case dossiers: the current version of each case as JSON of the domain's
-- `Case`, with `opened_on` and `is_open` copied out for filtering. A case
-- is (student, opened_on); at most one open case per student.
CREATE TABLE cases (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student_id integer NOT NULL REFERENCES students (id),
    opened_on  date NOT NULL,
    is_open    boolean NOT NULL,
    version    integer NOT NULL CHECK (version >= 1),
    json       jsonb NOT NULL,
    saved_by   text NOT NULL,
    saved_at   timestamptz NOT NULL,
    UNIQUE (student_id, opened_on)
);

CREATE UNIQUE INDEX cases_one_open_per_student ON cases (student_id) WHERE is_open;

-- Every version of every case, the current one included.
CREATE TABLE case_versions (
    case_id  bigint NOT NULL REFERENCES cases (id),
    version  integer NOT NULL,
    json     jsonb NOT NULL,
    saved_by text NOT NULL,
    saved_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, version)
);

-- DUO melding drafts. `signal` is the JSON of the draft's `SignalRef`
-- (NULL for a draft made by hand): one draft per signal of a student;
-- NULLs are distinct, so hand-made drafts are not limited.
CREATE TABLE meldingen (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student_id    integer NOT NULL REFERENCES students (id),
    signal        jsonb,
    status        text NOT NULL,
    deadline      date NOT NULL,
    registered_on date,
    version       integer NOT NULL CHECK (version >= 1),
    json          jsonb NOT NULL,
    saved_by      text NOT NULL,
    saved_at      timestamptz NOT NULL,
    UNIQUE (student_id, signal)
);

CREATE INDEX meldingen_status ON meldingen (status);

CREATE TABLE melding_versions (
    melding_id bigint NOT NULL REFERENCES meldingen (id),
    version    integer NOT NULL,
    json       jsonb NOT NULL,
    saved_by   text NOT NULL,
    saved_at   timestamptz NOT NULL,
    PRIMARY KEY (melding_id, version)
);

-- Calls after a whole day of absence (stap 2), kept as recorded.
CREATE TABLE calls (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student_id    integer NOT NULL REFERENCES students (id),
    absent_from   date NOT NULL,
    called_on     date NOT NULL,
    by_user       text NOT NULL,
    reached       text NOT NULL CHECK (reached IN ('ouder', 'leerling', 'niemand')),
    how           text NOT NULL,
    school_can_do text NOT NULL,
    expected_back date,
    worries       boolean NOT NULL
);

CREATE INDEX calls_by_student ON calls (student_id, absent_from);
CREATE INDEX calls_absent_from ON calls (absent_from);

-- "Afgestemd met leerplicht: geen nieuwe melding", one per DUO signal
-- (rule + fired_on) of a student, kept as recorded.
CREATE TABLE duo_afstemmingen (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student_id  integer NOT NULL REFERENCES students (id),
    rule        text NOT NULL,
    fired_on    date NOT NULL,
    melding_id  bigint,
    agreed_on   date NOT NULL,
    with_whom   text NOT NULL,
    why         text NOT NULL,
    by_user     text NOT NULL,
    recorded_at timestamptz NOT NULL,
    UNIQUE (student_id, rule, fired_on)
);

-- The change feed: one row per committed change of stored data (not
-- sessions, not audit entries), written in the change's own transaction,
-- followed by `pg_notify('aanwezig_changes', number)`. Every app server on
-- the database LISTENs and reads the rows after the last number it saw.
-- `student` is the student number the change is about, NULL for a change
-- of many or of none (an import).
CREATE TABLE change_feed (
    number  bigserial PRIMARY KEY,
    kind    text NOT NULL CHECK (kind IN ('students', 'registrations', 'document', 'case',
                'melding', 'call', 'afstemming', 'accounts', 'purge')),
    student text
);
