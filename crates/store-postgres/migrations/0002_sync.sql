-- The synced store (docs/dev/schema.md, "Synced store (migration 0002)"): the records the sync
-- engine writes, the events outbox, sync runs and per-entity sync state, and stored answers to
-- idempotent requests. Kept in step with the SQLite backend's 0002.

ALTER TABLE records
    ADD COLUMN custom_fields     jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN display_name      text,
    ADD COLUMN remote_created_at timestamptz,
    ADD COLUMN remote_updated_at timestamptz;

CREATE TABLE events (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL,
    connection_id text,
    type          text NOT NULL,
    data          jsonb NOT NULL,
    created_at    timestamptz NOT NULL
);

-- list_events walks a workspace's events by id (time-ordered), optionally of one type.
CREATE INDEX events_workspace_id_idx ON events (workspace_id, id);
CREATE INDEX events_workspace_type_id_idx ON events (workspace_id, type, id);

CREATE TABLE sync_runs (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL,
    connection_id text NOT NULL REFERENCES connections (id),
    entity        text NOT NULL,
    mode          text NOT NULL,
    status        text NOT NULL,
    cursor_from   text,
    checkpoint    text,
    pages         bigint NOT NULL DEFAULT 0,
    created       bigint NOT NULL DEFAULT 0,
    updated       bigint NOT NULL DEFAULT 0,
    deleted       bigint NOT NULL DEFAULT 0,
    unchanged     bigint NOT NULL DEFAULT 0,
    error         text,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz
);

-- Never two runs of one (connection, entity) at once: start_sync_run inserts with
-- ON CONFLICT on this index and resumes the run already running.
CREATE UNIQUE INDEX sync_runs_one_running_idx ON sync_runs (connection_id, entity) WHERE status = 'running';
CREATE INDEX sync_runs_connection_id_idx ON sync_runs (connection_id, id);

CREATE TABLE sync_state (
    connection_id   text NOT NULL,
    entity          text NOT NULL,
    cursor          text,
    last_success_at timestamptz,
    last_run_at     timestamptz,
    next_run_at     timestamptz,
    last_status     text,
    error           text,
    paused          boolean NOT NULL DEFAULT false,
    PRIMARY KEY (connection_id, entity)
);

CREATE TABLE idempotency_keys (
    workspace_id text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       bigint NOT NULL,
    body         text NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, key)
);

-- Purged by age.
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
