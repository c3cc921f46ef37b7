-- Millwright's first PostgreSQL schema. The tables and columns are those of docs/dev/schema.md,
-- kept in step with the SQLite backend; only the column types differ where the engine does
-- (timestamptz, jsonb, bytea, bigint).
--
-- `schema_migrations` itself is created by the migration runner before this file runs, so that
-- it can record which files are applied.

CREATE TABLE workspaces (
    id                    text PRIMARY KEY,
    name                  text NOT NULL,
    credit_limit          bigint NOT NULL,
    rate_limit_per_minute bigint,
    secret_key_hash       text NOT NULL UNIQUE,
    wrapped_data_key      bytea NOT NULL,
    created_at            timestamptz NOT NULL
);

CREATE TABLE users (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (id),
    -- Stored lower-case by the backend, so a plain unique index makes e-mails case-insensitive.
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL
);

CREATE INDEX users_workspace_idx ON users (workspace_id);

CREATE TABLE connections (
    id                 text PRIMARY KEY,
    workspace_id       text NOT NULL REFERENCES workspaces (id),
    connector          text NOT NULL,
    deployment         text NOT NULL,
    name               text NOT NULL,
    status             text NOT NULL,
    credits            bigint NOT NULL,
    metadata           jsonb NOT NULL,
    sealed_credentials bytea NOT NULL,
    sync_settings      jsonb NOT NULL,
    field_mappings     jsonb NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    disconnected_at    timestamptz,
    data_deleted_at    timestamptz,
    last_sync_at       timestamptz,
    health_status      text,
    health_checked_at  timestamptz,
    health_latency_ms  bigint,
    health_error       text
);

-- Lists and credit sums are always per workspace; keyset pagination walks `id`.
CREATE INDEX connections_workspace_id_idx ON connections (workspace_id, id);

CREATE TABLE connection_tokens (
    id            text PRIMARY KEY,
    connection_id text NOT NULL REFERENCES connections (id),
    workspace_id  text NOT NULL,
    token_hash    text NOT NULL UNIQUE,
    -- Space separated, the OAuth way (millwright_core::scope::join).
    scopes        text NOT NULL,
    expires_at    timestamptz,
    revoked_at    timestamptz,
    created_at    timestamptz NOT NULL
);

-- Rotation and disconnection revoke every token of one connection.
CREATE INDEX connection_tokens_connection_idx ON connection_tokens (connection_id);

CREATE TABLE jobs (
    id               text PRIMARY KEY,
    kind             text NOT NULL,
    workspace_id     text,
    connection_id    text,
    payload          jsonb NOT NULL,
    state            text NOT NULL,
    run_at           timestamptz NOT NULL,
    attempts         bigint NOT NULL DEFAULT 0,
    lease_owner      text,
    lease_expires_at timestamptz,
    last_error       text,
    dedupe_key       text,
    created_at       timestamptz NOT NULL,
    finished_at      timestamptz
);

-- At most one live job per dedupe key; finished jobs keep their key for the record.
CREATE UNIQUE INDEX jobs_dedupe_live_idx ON jobs (dedupe_key) WHERE state IN ('queued', 'running');
-- What claim_jobs scans.
CREATE INDEX jobs_state_run_at_idx ON jobs (state, run_at);
-- What disconnect_connection cancels.
CREATE INDEX jobs_connection_live_idx ON jobs (connection_id) WHERE state IN ('queued', 'running');

CREATE TABLE request_logs (
    request_id      text PRIMARY KEY,
    workspace_id    text,
    connection_id   text,
    method          text NOT NULL,
    path            text NOT NULL,
    status          bigint NOT NULL,
    duration_ms     bigint NOT NULL,
    request_headers jsonb NOT NULL,
    request_body    text,
    response_body   text,
    error_code      text,
    created_at      timestamptz NOT NULL
);

CREATE INDEX request_logs_workspace_idx ON request_logs (workspace_id, request_id);
-- Retention purges by age.
CREATE INDEX request_logs_created_at_idx ON request_logs (created_at);

CREATE TABLE records (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL,
    connection_id text NOT NULL REFERENCES connections (id),
    entity        text NOT NULL,
    remote_id     text NOT NULL,
    data          jsonb NOT NULL,
    remote_data   jsonb,
    content_hash  text NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz,
    UNIQUE (connection_id, entity, remote_id)
);

CREATE INDEX records_connection_entity_updated_idx ON records (connection_id, entity, updated_at, id);
