-- OpenTrace queryd platform schema, version 2: state derived by the follower.
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC).

-- unique_users x log2(occurrence_count + 1), maintained by the follower; the impact score
-- is impact_base x recency(now - last_seen_at), computed when read (recency decays).
ALTER TABLE error_groups ADD COLUMN impact_base REAL NOT NULL DEFAULT 0;
-- impact_base x recency as of the last change of the group (for raw readers).
ALTER TABLE error_groups ADD COLUMN impact_score REAL NOT NULL DEFAULT 0;

CREATE INDEX error_groups_env_count ON error_groups(environment, occurrence_count);
CREATE INDEX error_groups_env_first ON error_groups(environment, first_seen_at);

-- Per-user impact of an error group.
CREATE TABLE error_impacts (
    fingerprint      TEXT    NOT NULL,
    environment      TEXT    NOT NULL,
    user_id          TEXT    NOT NULL,
    service          TEXT    NOT NULL DEFAULT '',
    first_seen_at    INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    occurrence_count INTEGER NOT NULL DEFAULT 0,
    last_seq         INTEGER NOT NULL,
    PRIMARY KEY (fingerprint, environment, user_id)
);
CREATE INDEX error_impacts_user ON error_impacts(environment, user_id, last_seen_at);

CREATE INDEX deploys_env_seen ON deploys(environment, first_seen_at);
