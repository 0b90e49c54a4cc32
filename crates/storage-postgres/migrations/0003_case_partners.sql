-- aanwezig, PostgreSQL schema version 3: an index of the partners
-- currently brought into each case (the SQLite schema's 0011), so that a
-- partner's students are one query instead of reading every case. Kept by
-- a trigger from the case's JSON (`involved`, the entries without
-- `until`), so that every way a case is written keeps it right; removed
-- with its case.
CREATE TABLE case_partners (
    case_id  bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    account  text,
    username text NOT NULL
);

CREATE INDEX case_partners_account ON case_partners (account);
CREATE INDEX case_partners_username ON case_partners (username);
CREATE INDEX case_partners_case ON case_partners (case_id);

CREATE FUNCTION case_partners_of(case_json jsonb) RETURNS TABLE (account text, username text)
LANGUAGE sql IMMUTABLE AS $$
    SELECT i->>'account', i->>'user'
    FROM jsonb_array_elements(
             CASE WHEN jsonb_typeof(case_json->'involved') = 'array'
                  THEN case_json->'involved' ELSE '[]'::jsonb END) i
    WHERE i->>'until' IS NULL AND i->>'user' IS NOT NULL
$$;

CREATE FUNCTION cases_keep_partners() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM case_partners WHERE case_id = NEW.id;
    END IF;
    INSERT INTO case_partners (case_id, account, username)
    SELECT NEW.id, p.account, p.username FROM case_partners_of(NEW.json) p;
    RETURN NULL;
END;
$$;

CREATE TRIGGER cases_keep_partners_on_insert
AFTER INSERT ON cases
FOR EACH ROW EXECUTE FUNCTION cases_keep_partners();

CREATE TRIGGER cases_keep_partners_on_update
AFTER UPDATE OF json ON cases
FOR EACH ROW EXECUTE FUNCTION cases_keep_partners();

INSERT INTO case_partners (case_id, account, username)
SELECT c.id, p.account, p.username FROM cases c, case_partners_of(c.json) p;
