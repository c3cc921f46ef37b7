-- Daily probe aggregates (docs/dev/schema.md, "Probe days (migration 0010)"); kept in step with
-- the SQLite backend's 0010. Each probe adds itself to its connection's UTC day here, in the
-- transaction that records it; raw rows are kept for 48 hours, the days for 90. Existing probes
-- are rolled up once.

CREATE TABLE connection_probe_days (
    workspace_id     text   NOT NULL,
    connection_id    text   NOT NULL REFERENCES connections (id),
    day              date   NOT NULL,
    probes           bigint NOT NULL,
    ok               bigint NOT NULL,
    ok_latency_sum   bigint NOT NULL,
    ok_latency_count bigint NOT NULL,
    PRIMARY KEY (connection_id, day)
);

CREATE INDEX connection_probe_days_day_idx ON connection_probe_days (day);

INSERT INTO connection_probe_days
SELECT workspace_id, connection_id, (checked_at AT TIME ZONE 'UTC')::date,
       count(*), count(*) FILTER (WHERE status = 'ok'),
       coalesce(sum(latency_ms) FILTER (WHERE status = 'ok'), 0),
       count(latency_ms) FILTER (WHERE status = 'ok')
FROM connection_probes
GROUP BY workspace_id, connection_id, (checked_at AT TIME ZONE 'UTC')::date;
