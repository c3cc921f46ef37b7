-- Webhooks: endpoints, their deliveries (the per-endpoint outbox of events) and the attempts of
-- each delivery. See "Webhooks (migration 0003)" in docs/dev/schema.md, which the PostgreSQL
-- backend follows too. Same conventions as 0001: STRICT tables, INTEGER microseconds, JSON as
-- TEXT, booleans as INTEGER 0/1, enumerations decoded strictly (no CHECK constraints).

-- Events not yet fanned out to endpoints. Events written before webhooks existed are done.
ALTER TABLE events ADD COLUMN fanned_out INTEGER NOT NULL DEFAULT 0;
UPDATE events SET fanned_out = 1;
CREATE INDEX events_not_fanned_out ON events (id) WHERE fanned_out = 0;

CREATE TABLE webhook_endpoints (
    id                         TEXT    NOT NULL PRIMARY KEY,
    workspace_id               TEXT    NOT NULL REFERENCES workspaces (id),
    url                        TEXT    NOT NULL,
    description                TEXT,
    event_types                TEXT    NOT NULL,
    connection_ids             TEXT    NOT NULL,
    disabled                   INTEGER NOT NULL DEFAULT 0,
    disabled_reason            TEXT,
    sealed_secret              BLOB    NOT NULL,
    sealed_previous_secret     BLOB,
    previous_secret_expires_at INTEGER,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
) STRICT;

-- Newest-first listing of a workspace's endpoints.
CREATE INDEX webhook_endpoints_workspace_id ON webhook_endpoints (workspace_id, id);

CREATE TABLE webhook_deliveries (
    id               TEXT    NOT NULL PRIMARY KEY,
    workspace_id     TEXT    NOT NULL,
    endpoint_id      TEXT    NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         TEXT    NOT NULL,
    event_type       TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    first_attempt_at INTEGER,
    last_attempt_at  INTEGER,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    created_at       INTEGER NOT NULL,
    -- One delivery per (endpoint, event): a fan-out that runs twice creates no duplicate.
    UNIQUE (endpoint_id, event_id)
) STRICT;

-- Claiming due deliveries; newest-first listing of a workspace's deliveries.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_workspace_id ON webhook_deliveries (workspace_id, id);

CREATE TABLE webhook_attempts (
    id               INTEGER NOT NULL PRIMARY KEY,
    delivery_id      TEXT    NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at     INTEGER NOT NULL,
    status_code      INTEGER,
    duration_ms      INTEGER NOT NULL,
    response_excerpt TEXT,
    error            TEXT
) STRICT;

CREATE INDEX webhook_attempts_delivery_id ON webhook_attempts (delivery_id, id);
