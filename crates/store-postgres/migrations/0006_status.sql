-- Status page (docs/dev/schema.md, "Status (migration 0006)"): components with their daily
-- uptime buckets, incidents and scheduled maintenances with their updates, and which
-- workspaces publish a page of their own. Kept in step with the SQLite backend's 0006.

-- One row per evaluated component (`api`, `connector.maintainx`, ...).
CREATE TABLE components (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    description  text,
    group_name   text,
    position     bigint NOT NULL,
    status       text NOT NULL,
    status_since timestamptz NOT NULL,
    detail       text,
    -- The last observation: the next one adds the time since to the status held meanwhile.
    observed_at  timestamptz NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

-- Time spent in each status per UTC day, in microseconds so that frequent evaluations do not
-- lose their fractions of a second.
CREATE TABLE component_days (
    component_id      text NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    day               date NOT NULL,
    operational_us    bigint NOT NULL DEFAULT 0,
    maintenance_us    bigint NOT NULL DEFAULT 0,
    degraded_us       bigint NOT NULL DEFAULT 0,
    partial_outage_us bigint NOT NULL DEFAULT 0,
    major_outage_us   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (component_id, day)
);

-- Incidents and scheduled maintenances (`kind`). workspace_id NULL: the platform's.
CREATE TABLE incidents (
    id                text PRIMARY KEY,
    workspace_id      text REFERENCES workspaces (id),
    kind              text NOT NULL,
    name              text NOT NULL,
    status            text NOT NULL,
    impact            text NOT NULL,
    component_ids     jsonb NOT NULL,
    auto_component_id text,
    scheduled_for     timestamptz,
    scheduled_until   timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    monitoring_at     timestamptz,
    -- Set exactly while the status is closed (resolved, postmortem, completed).
    resolved_at       timestamptz
);

-- Newest-first lists per scope (platform: workspace_id IS NULL).
CREATE INDEX incidents_scope_idx ON incidents (workspace_id, created_at, id);
-- At most one unresolved automatic incident per component, across nodes.
CREATE UNIQUE INDEX incidents_one_open_auto_idx ON incidents (auto_component_id)
    WHERE auto_component_id IS NOT NULL AND resolved_at IS NULL;

CREATE TABLE incident_updates (
    id                  text PRIMARY KEY,
    incident_id         text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    status              text NOT NULL,
    body                text NOT NULL,
    affected_components jsonb NOT NULL,
    created_at          timestamptz NOT NULL
);

CREATE INDEX incident_updates_incident_id_idx ON incident_updates (incident_id, created_at);

-- Workspaces that publish /status/w/{workspace_id}; absent means off.
CREATE TABLE workspace_status_pages (
    workspace_id text PRIMARY KEY REFERENCES workspaces (id),
    enabled      boolean NOT NULL,
    updated_at   timestamptz NOT NULL
);
