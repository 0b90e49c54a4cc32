-- aanwezig, SQLite schema version 2: the web app's users, sessions and
-- audit log. Same conventions as 0001: STRICT tables, instants as RFC 3339
-- UTC text with nanoseconds (text order is time order).

-- People who sign in. `username` is the key everywhere (sessions, the
-- audit log's text), lower case by the applications' rules.
CREATE TABLE users (
    username      TEXT PRIMARY KEY CHECK (username <> ''),
    display_name  TEXT NOT NULL,
    -- The domain's `Role::as_str`. A new role needs a migration that
    -- rebuilds this small table; the conformance suite stores every role,
    -- so a forgotten migration fails the tests.
    role          TEXT NOT NULL CHECK (role IN ('beheerder', 'verzuimcoordinator',
                      'ondersteuningscoordinator', 'mentor', 'leerplichtambtenaar',
                      'jeugdarts', 'ketenpartner')),
    -- A mentor's classes as a JSON array of strings, in the order given:
    -- read with the user in one row, and only ever used as a whole.
    classes       TEXT NOT NULL DEFAULT '[]'
                      CHECK (json_valid(classes) AND json_type(classes) = 'array'),
    email         TEXT CHECK (email IS NULL OR email <> ''),
    active        INTEGER NOT NULL CHECK (active IN (0, 1)),
    -- argon2id PHC string; never the password.
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    -- Only mentors have classes (access.rs: a class widens only a
    -- mentor's scope).
    CHECK (role = 'mentor' OR classes = '[]')
) STRICT, WITHOUT ROWID;

-- Signed-in sessions. The key is the SHA-256 of the cookie's random token;
-- the token itself is never stored. Deleting a user ends their sessions
-- (the store also deletes them explicitly, so a connection without
-- foreign keys would not leave any behind).
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    username     TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_username ON sessions (username);
-- For the idle purge.
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- The audit log (product.md: every read and change of a student's data).
-- Append-only: the triggers below refuse UPDATE and DELETE, whoever asks.
-- `username` and `student` are plain text, not foreign keys: entries
-- outlive accounts and must never block deleting a user, and a failed
-- sign-in names whatever was typed. `action` has no CHECK list: adding an
-- action must not force a rebuild of what may be millions of rows; the
-- store writes only `AuditAction::as_str` and reads back through `parse`.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    username TEXT NOT NULL,
    action   TEXT NOT NULL,
    student  TEXT,
    detail   TEXT NOT NULL
) STRICT;

-- Newest first, overall, per student and per user. Each index ends with
-- the rowid, so `ORDER BY at DESC, id DESC` is an index scan, not a sort.
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_student ON audit_log (student, at) WHERE student IS NOT NULL;
CREATE INDEX audit_log_username ON audit_log (username, at);

CREATE TRIGGER audit_log_no_update
BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete
BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
