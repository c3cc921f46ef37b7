-- Webhooks (docs/dev/schema.md, "Webhooks (migration 0003)"): endpoints, their deliveries (the
-- per-endpoint outbox of events) and the attempts of each delivery. Kept in step with the
-- SQLite backend's 0003.

-- Events not yet fanned out to endpoints. Events written before webhooks existed are done:
-- adding the column with default `true` marks them without rewriting the table, and every
-- later insert gets `false`.
ALTER TABLE events ADD COLUMN fanned_out boolean NOT NULL DEFAULT true;
ALTER TABLE events ALTER COLUMN fanned_out SET DEFAULT false;
-- What fan_out_events scans (oldest first); it stays small, holding only the backlog.
CREATE INDEX events_not_fanned_out_idx ON events (id) WHERE NOT fanned_out;

CREATE TABLE webhook_endpoints (
    id                         text PRIMARY KEY,
    workspace_id               text NOT NULL REFERENCES workspaces (id),
    url                        text NOT NULL,
    description                text,
    -- JSON arrays of strings; empty means every type / every connection.
    event_types                jsonb NOT NULL,
    connection_ids             jsonb NOT NULL,
    disabled                   boolean NOT NULL DEFAULT false,
    disabled_reason            text,
    sealed_secret              bytea NOT NULL,
    sealed_previous_secret     bytea,
    previous_secret_expires_at timestamptz,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL
);

-- Newest-first listing of a workspace's endpoints.
CREATE INDEX webhook_endpoints_workspace_id_idx ON webhook_endpoints (workspace_id, id);

CREATE TABLE webhook_deliveries (
    id               text PRIMARY KEY,
    workspace_id     text NOT NULL,
    endpoint_id      text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         text NOT NULL,
    event_type       text NOT NULL,
    status           text NOT NULL,
    attempts         bigint NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    first_attempt_at timestamptz,
    last_attempt_at  timestamptz,
    lease_owner      text,
    lease_expires_at timestamptz,
    created_at       timestamptz NOT NULL,
    -- One delivery per (endpoint, event): a fan-out that runs twice (or on two nodes) creates
    -- no duplicate, with ON CONFLICT DO NOTHING.
    UNIQUE (endpoint_id, event_id)
);

CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_workspace_id_idx ON webhook_deliveries (workspace_id, id);
-- claim_deliveries walks each endpoint's due deliveries, oldest due first, taking at most
-- `per_endpoint` of them: without this index a backlog on one endpoint is sorted on every claim.
CREATE INDEX webhook_deliveries_endpoint_pending_idx ON webhook_deliveries (endpoint_id, next_attempt_at, id)
    WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    id               bigserial PRIMARY KEY,
    delivery_id      text NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at     timestamptz NOT NULL,
    status_code      bigint,
    duration_ms      bigint NOT NULL,
    response_excerpt text,
    error            text
);

CREATE INDEX webhook_attempts_delivery_id_idx ON webhook_attempts (delivery_id, id);
