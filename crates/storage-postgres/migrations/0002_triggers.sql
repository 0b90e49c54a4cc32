-- aanwezig, PostgreSQL schema version 2: the rules the database keeps
-- itself, whoever writes (the store, a tool, someone in psql).
--
-- A trigger that refuses a write raises SQLSTATE 23000
-- (integrity_constraint_violation) with a short English text; the store
-- reports it as a conflict.

-- History of registrations: every UPDATE of `registrations` leaves the old
-- state of each row it changed in `registration_history`, with the change
-- set that had set it and the one that replaced it. A statement-level
-- trigger over the transition tables: an import's set-based upsert writes
-- its history rows in one INSERT ... SELECT instead of one call per row.
-- Old and new rows are paired by their key, which `registrations_key_fixed`
-- keeps from changing.
CREATE FUNCTION registrations_keep_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO registration_history
        (student_id, date, lesson, minutes, code, category, minutes_late, note,
         change_id, replaced_by)
    SELECT o.student_id, o.date, o.lesson, o.minutes, o.code, o.category, o.minutes_late,
           o.note, o.change_id, n.change_id
    FROM old_rows o
    JOIN new_rows n
      ON n.student_id = o.student_id AND n.date = o.date AND n.lesson = o.lesson;
    RETURN NULL;
END;
$$;

CREATE TRIGGER registrations_keep_history
AFTER UPDATE ON registrations
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION registrations_keep_history();

-- The foreign keys of `registrations` (see 0001), checked per statement:
-- the referenced students and change sets are locked `FOR KEY SHARE` (as
-- PostgreSQL's own foreign keys do, so that none is deleted before this
-- transaction ends) and must all exist. After an INSERT both columns are
-- checked; after an UPDATE only `change_id` (the key never changes).
CREATE FUNCTION registrations_check_references() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM 1 FROM students s
        WHERE s.id IN (SELECT DISTINCT n.student_id FROM new_rows n)
        FOR KEY SHARE;
        IF EXISTS (SELECT 1 FROM (SELECT DISTINCT n.student_id FROM new_rows n) n
                   WHERE NOT EXISTS (SELECT 1 FROM students s WHERE s.id = n.student_id))
        THEN
            RAISE EXCEPTION USING
                ERRCODE = 'foreign_key_violation',
                CONSTRAINT = 'registrations_student_id_fkey',
                MESSAGE = 'registration of an unknown student';
        END IF;
    END IF;
    PERFORM 1 FROM changes c
    WHERE c.id IN (SELECT DISTINCT n.change_id FROM new_rows n)
    FOR KEY SHARE;
    IF EXISTS (SELECT 1 FROM (SELECT DISTINCT n.change_id FROM new_rows n) n
               WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.id = n.change_id))
    THEN
        RAISE EXCEPTION USING
            ERRCODE = 'foreign_key_violation',
            CONSTRAINT = 'registrations_change_id_fkey',
            MESSAGE = 'registration of an unknown change set';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER registrations_references_on_insert
AFTER INSERT ON registrations
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION registrations_check_references();

CREATE TRIGGER registrations_references_on_update
AFTER UPDATE ON registrations
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION registrations_check_references();

-- A student with registrations cannot be deleted (the retention purge
-- deletes them first).
CREATE FUNCTION students_keep_referenced() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o
               WHERE EXISTS (SELECT 1 FROM registrations r WHERE r.student_id = o.id))
    THEN
        RAISE EXCEPTION USING
            ERRCODE = 'foreign_key_violation',
            CONSTRAINT = 'registrations_student_id_fkey',
            MESSAGE = 'the student still has registrations';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER students_keep_referenced
AFTER DELETE ON students
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION students_keep_referenced();

-- Change sets are the history's who and when: kept for good.
CREATE FUNCTION changes_are_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'integrity_constraint_violation',
        MESSAGE = 'change sets are kept';
END;
$$;

CREATE TRIGGER changes_are_kept
BEFORE UPDATE OR DELETE ON changes
FOR EACH ROW EXECUTE FUNCTION changes_are_kept();

-- A registration's key never changes (a different lesson is a different
-- row): that keeps the history's pairing above exact.
CREATE FUNCTION refuse_key_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'integrity_constraint_violation',
        MESSAGE = TG_TABLE_NAME || ': the key of a row never changes';
END;
$$;

CREATE TRIGGER registrations_key_fixed
BEFORE UPDATE OF student_id, date, lesson ON registrations
FOR EACH ROW
WHEN (OLD.student_id IS DISTINCT FROM NEW.student_id
      OR OLD.date IS DISTINCT FROM NEW.date
      OR OLD.lesson IS DISTINCT FROM NEW.lesson)
EXECUTE FUNCTION refuse_key_change();

-- The audit log is append-only. The one change allowed is the retention
-- purge's unlinking (five years after a student left): `student` set to
-- NULL and `detail` to a fixed text, everything else as it was, so that
-- who did what when stays but nothing ties it to the student any more.
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.student IS NOT NULL
       AND NEW.student IS NULL
       AND NEW.detail = 'verwijderd na de bewaartermijn'
       AND NEW.id = OLD.id
       AND NEW.at = OLD.at
       AND NEW.username = OLD.username
       AND NEW.action = OLD.action
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'integrity_constraint_violation',
        MESSAGE = 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_update
BEFORE UPDATE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_delete
BEFORE DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate
BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Calls and afstemmingen are kept as recorded: never updated (they are
-- deleted only with their student, by the retention purge).
CREATE FUNCTION kept_as_recorded() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'integrity_constraint_violation',
        MESSAGE = TG_TABLE_NAME || ' are kept as recorded';
END;
$$;

CREATE TRIGGER calls_are_kept
BEFORE UPDATE ON calls
FOR EACH ROW EXECUTE FUNCTION kept_as_recorded();

CREATE TRIGGER duo_afstemmingen_are_kept
BEFORE UPDATE ON duo_afstemmingen
FOR EACH ROW EXECUTE FUNCTION kept_as_recorded();

-- An account's id never changes.
CREATE FUNCTION users_account_id_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'integrity_constraint_violation',
        MESSAGE = 'users.account_id never changes';
END;
$$;

CREATE TRIGGER users_account_id_fixed
BEFORE UPDATE OF account_id ON users
FOR EACH ROW
WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id)
EXECUTE FUNCTION users_account_id_fixed();

-- Writes a row of the change feed and notifies the listeners; the
-- notification is delivered when the transaction commits, and not at all
-- when it rolls back. Returns the change's number.
--
-- Numbers must become visible in order: a follower that has read up to
-- number n never looks below n again, so a transaction holding number 5
-- must not commit after one holding 6. The transaction-scoped advisory
-- lock serialises the writers from here to their commit; the store calls
-- this as the last statement before COMMIT, so the lock is held for
-- moments, not for the length of an import.
CREATE FUNCTION record_change(change_kind text, change_student text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    -- 0x61616e77 ('aanw'), 1: the change feed's lock.
    PERFORM pg_advisory_xact_lock(1633771127, 1);
    INSERT INTO change_feed (kind, student) VALUES (change_kind, change_student)
    RETURNING number INTO n;
    PERFORM pg_notify('aanwezig_changes', n::text);
    RETURN n;
END;
$$;
