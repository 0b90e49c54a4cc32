-- aanwezig, SQLite schema version 4: per-user secret addresses of the
-- "Mijn taken" calendar feed. Only a hash of the secret is kept (like
-- sessions): the address itself is shown once to its user. One feed per
-- user; a new secret replaces the old one, which stops working at once.
-- (School and mail settings are documents of new kinds in `documents`.)
CREATE TABLE feed_tokens (
    username   TEXT PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
) STRICT;
