-- aanwezig, SQLite schema version 6: every account gets a stable id.
--
-- A username is the key of `users`, but it is not an identity: after an
-- account is removed, the same name can be given to someone else. What an
-- account was given (a partner brought into a case dossier) refers to the
-- account id instead, so that the newcomer inherits nothing. The id is
-- random (128 bits as 32 lower-case hex digits), set once by the store
-- when the account is created, never changed and never reused.
ALTER TABLE users ADD COLUMN account_id TEXT;

UPDATE users SET account_id = lower(hex(randomblob(16))) WHERE account_id IS NULL;

CREATE UNIQUE INDEX users_account_id ON users (account_id);

-- A column added by ALTER TABLE cannot get NOT NULL without a default;
-- these triggers hold what a NOT NULL and "never changes" would.
CREATE TRIGGER users_account_id_required
BEFORE INSERT ON users
WHEN NEW.account_id IS NULL OR NEW.account_id = ''
BEGIN
    SELECT RAISE(ABORT, 'users.account_id is required');
END;

CREATE TRIGGER users_account_id_fixed
BEFORE UPDATE OF account_id ON users
WHEN NEW.account_id IS NOT OLD.account_id
BEGIN
    SELECT RAISE(ABORT, 'users.account_id never changes');
END;
