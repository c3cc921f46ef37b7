-- Status page: components with their daily uptime buckets, incidents and scheduled maintenances
-- with their updates, and which workspaces publish a page of their own. See "Status (migration
-- 0006)" in docs/dev/schema.md, which the PostgreSQL backend follows too. Same conventions as
-- 0001: STRICT tables, INTEGER microseconds, JSON as TEXT, enumerations decoded strictly.

-- One row per evaluated component (`api`, `connector.maintainx`, ...).
CREATE TABLE components (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    description  TEXT,
    group_name   TEXT,
    position     INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    status_since INTEGER NOT NULL,
    detail       TEXT,
    -- The last observation: the next one adds the time since to the status held meanwhile.
    observed_at  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- Time spent in each status per UTC day (`YYYY-MM-DD`), in microseconds so that frequent
-- evaluations do not lose their fractions of a second.
CREATE TABLE component_days (
    component_id          TEXT    NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    day                   TEXT    NOT NULL,
    operational_us        INTEGER NOT NULL DEFAULT 0,
    maintenance_us        INTEGER NOT NULL DEFAULT 0,
    degraded_us           INTEGER NOT NULL DEFAULT 0,
    partial_outage_us     INTEGER NOT NULL DEFAULT 0,
    major_outage_us       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (component_id, day)
) STRICT;

-- Incidents and scheduled maintenances (`kind`). workspace_id NULL: the platform's.
CREATE TABLE incidents (
    id                TEXT    NOT NULL PRIMARY KEY,
    workspace_id      TEXT    REFERENCES workspaces (id),
    kind              TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    impact            TEXT    NOT NULL,
    component_ids     TEXT    NOT NULL,
    auto_component_id TEXT,
    scheduled_for     INTEGER,
    scheduled_until   INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    monitoring_at     INTEGER,
    -- Set exactly while the status is closed (resolved, postmortem, completed).
    resolved_at       INTEGER
) STRICT;

-- Newest-first lists per scope (platform: workspace_id IS NULL).
CREATE INDEX incidents_scope ON incidents (workspace_id, created_at, id);
-- At most one unresolved automatic incident per component, across nodes.
CREATE UNIQUE INDEX incidents_one_open_auto ON incidents (auto_component_id)
    WHERE auto_component_id IS NOT NULL AND resolved_at IS NULL;

CREATE TABLE incident_updates (
    id                  TEXT    NOT NULL PRIMARY KEY,
    incident_id         TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    status              TEXT    NOT NULL,
    body                TEXT    NOT NULL,
    affected_components TEXT    NOT NULL,
    created_at          INTEGER NOT NULL
) STRICT;

CREATE INDEX incident_updates_incident_id ON incident_updates (incident_id, created_at);

-- Workspaces that publish /status/w/{workspace_id}; absent means off.
CREATE TABLE workspace_status_pages (
    workspace_id TEXT    NOT NULL PRIMARY KEY REFERENCES workspaces (id),
    enabled      INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

