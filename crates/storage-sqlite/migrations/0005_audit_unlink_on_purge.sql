-- aanwezig, SQLite schema version 5: the audit log stays append-only, with
-- one exception for the retention purge (five years after a student left):
-- the entries about that student are unlinked — `student` set to NULL and
-- `detail` to a fixed text — so that who did what when stays, but nothing
-- ties it to the student any more. No other change passes the trigger.
DROP TRIGGER audit_log_no_update;

CREATE TRIGGER audit_log_no_update
BEFORE UPDATE ON audit_log
WHEN NOT (
    OLD.student IS NOT NULL
    AND NEW.student IS NULL
    AND NEW.detail = 'verwijderd na de bewaartermijn'
    AND NEW.id = OLD.id
    AND NEW.at = OLD.at
    AND NEW.username = OLD.username
    AND NEW.action = OLD.action
)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
