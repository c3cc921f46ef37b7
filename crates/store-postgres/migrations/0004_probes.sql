-- Connection health probes (docs/dev/schema.md, "Health (migration 0004)"). One row per probe;
-- the connection's health_* columns (0001) hold a copy of the latest. Rows older than 90 days
-- are purged. Kept in step with the SQLite backend's 0004.

CREATE TABLE connection_probes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  text NOT NULL,
    connection_id text NOT NULL REFERENCES connections (id),
    checked_at    timestamptz NOT NULL,
    status        text NOT NULL,
    latency_ms    bigint,
    error         text
);

-- A connection's history in time order (the 24-hour view and the daily aggregates).
CREATE INDEX connection_probes_connection_idx ON connection_probes (connection_id, checked_at);
-- The purge by age.
CREATE INDEX connection_probes_checked_at_idx ON connection_probes (checked_at);
