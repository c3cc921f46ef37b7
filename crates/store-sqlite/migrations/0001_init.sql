-- The initial schema; see docs/dev/schema.md, which the PostgreSQL backend follows too.
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC), JSON is TEXT, binary is BLOB.
-- Tables are STRICT so that a value of the wrong type is refused on write instead of being
-- discovered when a row fails to decode. Enumerations (statuses, job states) deliberately have
-- no CHECK constraint: SQLite cannot alter a CHECK without rebuilding the table, and the
-- backend decodes strictly anyway.

CREATE TABLE workspaces (
    id                    TEXT    NOT NULL PRIMARY KEY,
    name                  TEXT    NOT NULL,
    credit_limit          INTEGER NOT NULL,
    rate_limit_per_minute INTEGER,
    secret_key_hash       TEXT    NOT NULL UNIQUE,
    wrapped_data_key      BLOB    NOT NULL,
    created_at            INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    workspace_id  TEXT    NOT NULL REFERENCES workspaces (id),
    -- Stored lower-case; the unique index therefore compares case-insensitively.
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX users_workspace ON users (workspace_id);

CREATE TABLE connections (
    id                 TEXT    NOT NULL PRIMARY KEY,
    workspace_id       TEXT    NOT NULL REFERENCES workspaces (id),
    connector          TEXT    NOT NULL,
    deployment         TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    credits            INTEGER NOT NULL,
    metadata           TEXT    NOT NULL,
    sealed_credentials BLOB    NOT NULL,
    sync_settings      TEXT    NOT NULL,
    field_mappings     TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    disconnected_at    INTEGER,
    data_deleted_at    INTEGER,
    last_sync_at       INTEGER,
    health_status      TEXT,
    health_checked_at  INTEGER,
    health_latency_ms  INTEGER,
    health_error       TEXT
) STRICT;

-- Keyset pagination of a workspace's connections, and the credit sum.
CREATE INDEX connections_workspace_id ON connections (workspace_id, id);

CREATE TABLE connection_tokens (
    id            TEXT    NOT NULL PRIMARY KEY,
    connection_id TEXT    NOT NULL REFERENCES connections (id),
    workspace_id  TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    scopes        TEXT    NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    created_at    INTEGER NOT NULL
) STRICT;

-- Rotation and disconnection revoke every token of one connection.
CREATE INDEX connection_tokens_connection ON connection_tokens (connection_id);

CREATE TABLE jobs (
    id               TEXT    NOT NULL PRIMARY KEY,
    kind             TEXT    NOT NULL,
    workspace_id     TEXT,
    connection_id    TEXT,
    payload          TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    run_at           INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    last_error       TEXT,
    dedupe_key       TEXT,
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER
) STRICT;

-- At most one live (queued or running) job per dedupe key; finished jobs keep their key.
CREATE UNIQUE INDEX jobs_dedupe_live ON jobs (dedupe_key)
    WHERE state IN ('queued', 'running');
-- Claiming scans due jobs by state and run_at.
CREATE INDEX jobs_state_run_at ON jobs (state, run_at);
-- Disconnection cancels the live jobs of one connection.
CREATE INDEX jobs_connection ON jobs (connection_id) WHERE connection_id IS NOT NULL;

CREATE TABLE request_logs (
    request_id      TEXT    NOT NULL PRIMARY KEY,
    workspace_id    TEXT,
    connection_id   TEXT,
    method          TEXT    NOT NULL,
    path            TEXT    NOT NULL,
    status          INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL,
    request_headers TEXT    NOT NULL,
    request_body    TEXT,
    response_body   TEXT,
    error_code      TEXT,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX request_logs_workspace ON request_logs (workspace_id, request_id);
-- Retention purges by age.
CREATE INDEX request_logs_created_at ON request_logs (created_at);

CREATE TABLE records (
    id            TEXT    NOT NULL PRIMARY KEY,
    workspace_id  TEXT    NOT NULL,
    connection_id TEXT    NOT NULL,
    entity        TEXT    NOT NULL,
    remote_id     TEXT    NOT NULL,
    data          TEXT    NOT NULL,
    remote_data   TEXT,
    content_hash  TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    deleted_at    INTEGER,
    UNIQUE (connection_id, entity, remote_id)
) STRICT;

CREATE INDEX records_connection_entity_updated ON records (connection_id, entity, updated_at, id);
