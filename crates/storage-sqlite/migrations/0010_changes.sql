-- aanwezig, SQLite schema version 10: the change feed (`Changes` in
-- aanwezig-storage). Every committed change of stored data (not sessions,
-- not audit entries) adds its row(s) here in the same transaction, so that
-- every app server on this database can follow what the others wrote.
--
-- The table is called `change_feed` because `changes` already holds the
-- change sets of registrations (who and when, schema version 1).
--
-- `number` is AUTOINCREMENT so that a number is never given twice, even
-- after old rows are removed: a follower's position stays meaningful.
-- Writers hold SQLite's write lock (BEGIN IMMEDIATE), so numbers commit in
-- order and a reader never sees a later number before an earlier one.
-- `student` is the student number as text, not a foreign key: a purge
-- names the student it removed.
CREATE TABLE change_feed (
    number  INTEGER PRIMARY KEY AUTOINCREMENT,
    kind    TEXT NOT NULL CHECK (kind IN ('students', 'registrations', 'document', 'case',
                'melding', 'call', 'afstemming', 'accounts', 'purge')),
    student TEXT CHECK (student IS NULL OR student <> ''),
    at      TEXT
) STRICT;
