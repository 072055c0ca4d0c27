-- Boundary guidelines: versioned text per scope, posted copies, repost schedules, acceptances.
-- A scope is the whole server (group_id NULL) or one group. `scope_id` (0 for the server, else
-- the group id) is generated so uniqueness and lookups work without NULL comparisons.

-- Every saved version; the current text of a scope is its highest version. Never updated.
CREATE TABLE guideline_versions (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    group_id   INTEGER REFERENCES groups(id) ON DELETE CASCADE,
    scope_id   INTEGER NOT NULL GENERATED ALWAYS AS (IFNULL(group_id, 0)) VIRTUAL,
    version    INTEGER NOT NULL CHECK (version > 0),
    body       TEXT    NOT NULL,
    edited_by  INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX guideline_versions_scope ON guideline_versions(guild_id, scope_id, version);

-- Who accepted which version when; one row per (scope, version, member).
CREATE TABLE guideline_acceptances (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    group_id    INTEGER REFERENCES groups(id) ON DELETE CASCADE,
    scope_id    INTEGER NOT NULL GENERATED ALWAYS AS (IFNULL(group_id, 0)) VIRTUAL,
    version     INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    accepted_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX guideline_acceptances_once
    ON guideline_acceptances(guild_id, scope_id, user_id, version);
CREATE INDEX guideline_acceptances_user ON guideline_acceptances(guild_id, user_id);

-- Copies posted in channels, edited in place when a new version is saved.
CREATE TABLE guideline_posts (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    group_id   INTEGER REFERENCES groups(id) ON DELETE CASCADE,
    scope_id   INTEGER NOT NULL GENERATED ALWAYS AS (IFNULL(group_id, 0)) VIRTUAL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL UNIQUE,
    version    INTEGER NOT NULL,
    posted_by  INTEGER NOT NULL,
    posted_at  INTEGER NOT NULL
);
CREATE INDEX guideline_posts_scope ON guideline_posts(guild_id, scope_id, channel_id);

-- Recurring re-posts: a fresh copy every N days at the same local time.
CREATE TABLE guideline_reposts (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    group_id    INTEGER REFERENCES groups(id) ON DELETE CASCADE,
    scope_id    INTEGER NOT NULL GENERATED ALWAYS AS (IFNULL(group_id, 0)) VIRTUAL,
    channel_id  INTEGER NOT NULL,
    every_days  INTEGER NOT NULL CHECK (every_days > 0),
    local_time  TEXT    NOT NULL,
    next_due_at INTEGER NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX guideline_reposts_channel ON guideline_reposts(guild_id, channel_id, scope_id);
CREATE INDEX guideline_reposts_due ON guideline_reposts(next_due_at);

-- Groups whose join does not require accepting guidelines (the gate is on unless listed here).
CREATE TABLE guideline_gate_off (
    group_id      INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
    guild_id      INTEGER NOT NULL,
    turned_off_by INTEGER NOT NULL,
    turned_off_at INTEGER NOT NULL
);
CREATE INDEX guideline_gate_off_guild ON guideline_gate_off(guild_id);
