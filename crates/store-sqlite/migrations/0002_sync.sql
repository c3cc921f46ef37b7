-- The synced store: records gain their unified extras, plus the event outbox, sync runs, per
-- entity sync state and idempotency keys. See "Synced store (migration 0002)" in
-- docs/dev/schema.md, which the PostgreSQL backend follows too. Same conventions as 0001:
-- STRICT tables, INTEGER microseconds, JSON as TEXT, enumerations decoded strictly.

ALTER TABLE records ADD COLUMN custom_fields     TEXT    NOT NULL DEFAULT '{}';
ALTER TABLE records ADD COLUMN display_name      TEXT;
ALTER TABLE records ADD COLUMN remote_created_at INTEGER;
ALTER TABLE records ADD COLUMN remote_updated_at INTEGER;

-- The outbox: written in the same transaction as its cause; ids are time-ordered ULIDs.
CREATE TABLE events (
    id            TEXT    NOT NULL PRIMARY KEY,
    workspace_id  TEXT    NOT NULL,
    connection_id TEXT,
    type          TEXT    NOT NULL,
    data          TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;

-- Oldest-first listing of a workspace's events, and the same filtered by (prefix of) type.
CREATE INDEX events_workspace_id ON events (workspace_id, id);
CREATE INDEX events_workspace_type_id ON events (workspace_id, type, id);

CREATE TABLE sync_runs (
    id            TEXT    NOT NULL PRIMARY KEY,
    workspace_id  TEXT    NOT NULL,
    connection_id TEXT    NOT NULL REFERENCES connections (id),
    entity        TEXT    NOT NULL,
    mode          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    cursor_from   TEXT,
    checkpoint    TEXT,
    pages         INTEGER NOT NULL DEFAULT 0,
    created       INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    deleted       INTEGER NOT NULL DEFAULT 0,
    unchanged     INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER
) STRICT;

-- Never two running runs of one (connection, entity).
CREATE UNIQUE INDEX sync_runs_one_running ON sync_runs (connection_id, entity)
    WHERE status = 'running';
-- Newest-first listing of a connection's runs.
CREATE INDEX sync_runs_connection_id ON sync_runs (connection_id, id);

-- record_count and running_run_id are computed on read, never stored.
CREATE TABLE sync_state (
    connection_id   TEXT    NOT NULL REFERENCES connections (id),
    entity          TEXT    NOT NULL,
    cursor          TEXT,
    last_success_at INTEGER,
    last_run_at     INTEGER,
    next_run_at     INTEGER,
    last_status     TEXT,
    error           TEXT,
    paused          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (connection_id, entity)
) STRICT, WITHOUT ROWID;

-- Stored answers to idempotent requests, purged after 24 h.
CREATE TABLE idempotency_keys (
    workspace_id TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, key)
) STRICT, WITHOUT ROWID;

-- Live records only, covering: deletion reconciliation reads every live remote id of an entity
-- and sync status counts them, both without touching the table.
CREATE INDEX records_live ON records (connection_id, entity, remote_id) WHERE deleted_at IS NULL;
