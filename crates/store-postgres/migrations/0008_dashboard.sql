-- Dashboard sign-in (issue #7): browser sessions and sign-in throttling.

-- A signed-in browser. The cookie holds a random secret; only its SHA-256 is stored.
CREATE TABLE browser_sessions (
    id_hash      text PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id),
    user_email   text NOT NULL,
    workspace_id text NOT NULL REFERENCES workspaces (id),
    csrf_secret  text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);

CREATE INDEX browser_sessions_expires_idx ON browser_sessions (expires_at);

-- Failed sign-ins per (lower-case) e-mail address, whether or not a user has it.
CREATE TABLE sign_in_throttle (
    email             text PRIMARY KEY,
    failures          bigint NOT NULL,
    window_started_at timestamptz NOT NULL,
    locked_until      timestamptz
);
