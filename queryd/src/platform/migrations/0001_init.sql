-- OpenTrace queryd platform schema, version 1.
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC), like log rows.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
    environments  TEXT    NOT NULL DEFAULT '[]',  -- JSON array of environment names
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    INTEGER NOT NULL
);

-- At most one row ever: the account created by the first /connect. The CHECK plus the
-- primary key make a second first-admin insert fail inside the creating transaction.
CREATE TABLE first_admin (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    user_id    INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash   TEXT    NOT NULL UNIQUE,          -- hex SHA-256 of the full token
    prefix       TEXT    NOT NULL,                 -- first 12 characters, for display
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX tokens_user ON tokens(user_id);

CREATE TABLE invites (
    id           INTEGER PRIMARY KEY,
    code_hash    TEXT    NOT NULL UNIQUE,          -- hex SHA-256 of the code
    role         TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
    environments TEXT    NOT NULL DEFAULT '[]',
    created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    used_by      INTEGER REFERENCES users(id) ON DELETE SET NULL
);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,                      -- JSON
    updated_at INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER,
    user_email TEXT,
    action     TEXT    NOT NULL,
    target     TEXT,
    details    TEXT,                                -- JSON
    ip         TEXT,
    at         INTEGER NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);

CREATE TABLE error_groups (
    fingerprint      TEXT    NOT NULL,
    environment      TEXT    NOT NULL,
    service          TEXT    NOT NULL DEFAULT '',
    exception_class  TEXT    NOT NULL DEFAULT '',
    message          TEXT    NOT NULL DEFAULT '',
    source_file      TEXT,
    source_line      INTEGER,
    status           TEXT    NOT NULL DEFAULT 'unresolved'
                     CHECK (status IN ('unresolved', 'resolved', 'ignored')),
    first_seen_at    INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    occurrence_count INTEGER NOT NULL DEFAULT 0,
    last_seq         INTEGER,
    reopened_count   INTEGER NOT NULL DEFAULT 0,
    resolved_at      INTEGER,
    ignored_at       INTEGER,
    unique_users     INTEGER NOT NULL DEFAULT 0,
    issue_url        TEXT,
    PRIMARY KEY (fingerprint, environment)
);
CREATE INDEX error_groups_env_status ON error_groups(environment, status, last_seen_at);

CREATE TABLE error_group_events (
    id          INTEGER PRIMARY KEY,
    fingerprint TEXT    NOT NULL,
    environment TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    reason      TEXT,
    user_id     INTEGER,
    created_at  INTEGER NOT NULL,
    FOREIGN KEY (fingerprint, environment)
        REFERENCES error_groups(fingerprint, environment) ON DELETE CASCADE
);
CREATE INDEX error_group_events_group ON error_group_events(fingerprint, environment, created_at);

CREATE TABLE deploys (
    id            INTEGER PRIMARY KEY,
    service       TEXT    NOT NULL,
    environment   TEXT    NOT NULL,
    version       TEXT    NOT NULL,                -- commit hash or release name
    first_seen_at INTEGER NOT NULL,
    UNIQUE (service, environment, version)
);

CREATE TABLE notes (
    id          INTEGER PRIMARY KEY,
    entity_type TEXT    NOT NULL,
    entity_id   TEXT    NOT NULL,
    note        TEXT    NOT NULL,
    created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (entity_type, entity_id)
);

-- Single row: the last log sequence number whose derived state (error groups, deploys) has
-- been applied. Updated in the same transaction as the state it covers.
CREATE TABLE follower_cursor (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    last_seq   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
