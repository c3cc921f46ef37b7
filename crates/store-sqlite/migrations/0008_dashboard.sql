-- Dashboard sign-in (issue #7): browser sessions and sign-in throttling.

-- A signed-in browser. The cookie holds a random secret; only its SHA-256 is stored.
CREATE TABLE browser_sessions (
    id_hash      TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id),
    user_email   TEXT    NOT NULL,
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id),
    csrf_secret  TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;

CREATE INDEX browser_sessions_expires ON browser_sessions (expires_at);

-- Failed sign-ins per (lower-case) e-mail address, whether or not a user has it.
CREATE TABLE sign_in_throttle (
    email             TEXT    NOT NULL PRIMARY KEY,
    failures          INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL,
    locked_until      INTEGER
) STRICT;
