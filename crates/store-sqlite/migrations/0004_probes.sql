-- Connection health probes (see "Health (migration 0004)" in docs/dev/schema.md, which the
-- PostgreSQL backend follows too). One row per probe; the connection's health_* columns (0001)
-- hold a copy of the latest. Rows older than 90 days are purged.

CREATE TABLE connection_probes (
    id            INTEGER NOT NULL PRIMARY KEY,
    workspace_id  TEXT    NOT NULL,
    connection_id TEXT    NOT NULL REFERENCES connections (id),
    checked_at    INTEGER NOT NULL,
    status        TEXT    NOT NULL,
    latency_ms    INTEGER,
    error         TEXT
) STRICT;

-- A connection's history in time order (the 24-hour view and the daily aggregates).
CREATE INDEX connection_probes_connection ON connection_probes (connection_id, checked_at);
-- The purge by age.
CREATE INDEX connection_probes_checked_at ON connection_probes (checked_at);
