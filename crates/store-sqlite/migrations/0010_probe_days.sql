-- Daily probe aggregates (docs/dev/schema.md, "Probe days (migration 0010)"). Each probe adds
-- itself to its connection's UTC day here, in the transaction that records it, so the 90-day
-- view no longer needs the raw rows: those are kept for 48 hours (the 24-hour view), the days
-- for 90. Existing probes are rolled up once.

CREATE TABLE connection_probe_days (
    workspace_id     TEXT    NOT NULL,
    connection_id    TEXT    NOT NULL REFERENCES connections (id),
    -- UTC day number since 1970-01-01 (checked_at microseconds / 86,400,000,000).
    day              INTEGER NOT NULL,
    probes           INTEGER NOT NULL,
    ok               INTEGER NOT NULL,
    -- Sum and count of the latencies of the `ok` probes that have one (the mean's parts).
    ok_latency_sum   INTEGER NOT NULL,
    ok_latency_count INTEGER NOT NULL,
    PRIMARY KEY (connection_id, day)
) STRICT, WITHOUT ROWID;

-- The purge by age.
CREATE INDEX connection_probe_days_day ON connection_probe_days (day);

INSERT INTO connection_probe_days
SELECT workspace_id, connection_id, checked_at / 86400000000,
       count(*), sum(status = 'ok'),
       coalesce(sum(CASE WHEN status = 'ok' THEN latency_ms END), 0),
       count(CASE WHEN status = 'ok' THEN latency_ms END)
FROM connection_probes
GROUP BY connection_id, checked_at / 86400000000;
