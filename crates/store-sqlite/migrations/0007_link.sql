-- Link (issue #7): the sessions through which end users connect their systems, and workspace
-- branding. See docs/dev/schema.md. `expired` is never stored: a pending session past its
-- expires_at reads as expired.

CREATE TABLE link_sessions (
    id                      TEXT    NOT NULL PRIMARY KEY,
    workspace_id            TEXT    NOT NULL REFERENCES workspaces (id),
    -- SHA-256 of the token in the end user's URL; the token itself is never stored.
    link_token_hash         TEXT    NOT NULL UNIQUE,
    -- create | reauthorize
    purpose                 TEXT    NOT NULL,
    -- JSON array of connector ids the end user may choose from.
    connectors              TEXT    NOT NULL,
    name                    TEXT,
    metadata                TEXT    NOT NULL,
    redirect_uri            TEXT,
    -- JSON array of origins allowed to frame the flow and receive its postMessage.
    allowed_origins         TEXT    NOT NULL,
    -- The connection to reauthorize, or the one a create session made.
    connection_id           TEXT    REFERENCES connections (id),
    -- pending | completed | exchanged
    status                  TEXT    NOT NULL,
    expires_at              INTEGER NOT NULL,
    public_token_hash       TEXT    UNIQUE,
    public_token_expires_at INTEGER,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    completed_at            INTEGER,
    exchanged_at            INTEGER
) STRICT;

-- Keyset pagination of a workspace's sessions.
CREATE INDEX link_sessions_workspace ON link_sessions (workspace_id, id);

CREATE TABLE workspace_branding (
    workspace_id  TEXT    NOT NULL PRIMARY KEY REFERENCES workspaces (id),
    logo_data_uri TEXT,
    accent_color  TEXT,
    updated_at    INTEGER NOT NULL
) STRICT;
