-- Link (issue #7): the sessions through which end users connect their systems, and workspace
-- branding; the same tables as the SQLite backend (docs/dev/schema.md). `expired` is never
-- stored: a pending session past its expires_at reads as expired.

CREATE TABLE link_sessions (
    id                      text PRIMARY KEY,
    workspace_id            text NOT NULL REFERENCES workspaces (id),
    -- SHA-256 of the token in the end user's URL; the token itself is never stored.
    link_token_hash         text NOT NULL UNIQUE,
    purpose                 text NOT NULL,
    -- Arrays of connector ids and of origins.
    connectors              jsonb NOT NULL,
    name                    text,
    metadata                jsonb NOT NULL,
    redirect_uri            text,
    allowed_origins         jsonb NOT NULL,
    connection_id           text REFERENCES connections (id),
    status                  text NOT NULL,
    expires_at              timestamptz NOT NULL,
    public_token_hash       text UNIQUE,
    public_token_expires_at timestamptz,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    completed_at            timestamptz,
    exchanged_at            timestamptz
);

CREATE INDEX link_sessions_workspace_idx ON link_sessions (workspace_id, id);

CREATE TABLE workspace_branding (
    workspace_id  text PRIMARY KEY REFERENCES workspaces (id),
    logo_data_uri text,
    accent_color  text,
    updated_at    timestamptz NOT NULL
);
