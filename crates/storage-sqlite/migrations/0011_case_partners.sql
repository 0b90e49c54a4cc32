-- An index of the partners currently brought into each case, so that a
-- partner's students are one query instead of reading every case. Kept by
-- triggers from the case's JSON (`involved`, the entries without `until`),
-- so that every way a case is written keeps it right.

CREATE TABLE case_partners (
    case_id  INTEGER NOT NULL REFERENCES cases (id),
    account  TEXT,
    username TEXT NOT NULL
) STRICT;

CREATE INDEX case_partners_account ON case_partners (account);
CREATE INDEX case_partners_username ON case_partners (username);
CREATE INDEX case_partners_case ON case_partners (case_id);

CREATE TRIGGER case_partners_on_insert
AFTER INSERT ON cases
BEGIN
    INSERT INTO case_partners (case_id, account, username)
    SELECT NEW.id, json_extract(i.value, '$.account'), json_extract(i.value, '$.user')
    FROM json_each(NEW.json, '$.involved') i
    WHERE json_extract(i.value, '$.until') IS NULL;
END;

CREATE TRIGGER case_partners_on_update
AFTER UPDATE OF json ON cases
BEGIN
    DELETE FROM case_partners WHERE case_id = NEW.id;
    INSERT INTO case_partners (case_id, account, username)
    SELECT NEW.id, json_extract(i.value, '$.account'), json_extract(i.value, '$.user')
    FROM json_each(NEW.json, '$.involved') i
    WHERE json_extract(i.value, '$.until') IS NULL;
END;

CREATE TRIGGER case_partners_on_delete
BEFORE DELETE ON cases
BEGIN
    DELETE FROM case_partners WHERE case_id = OLD.id;
END;

INSERT INTO case_partners (case_id, account, username)
SELECT c.id, json_extract(i.value, '$.account'), json_extract(i.value, '$.user')
FROM cases c, json_each(c.json, '$.involved') i
WHERE json_extract(i.value, '$.until') IS NULL;
