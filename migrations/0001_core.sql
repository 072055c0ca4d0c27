-- Core tables every feature shares. Times are integer Unix seconds (UTC).

-- Servers the bot has been in. left_at marks removal; data is purged after the retention window.
CREATE TABLE guilds (
    guild_id   INTEGER PRIMARY KEY,
    joined_at  INTEGER NOT NULL,
    left_at    INTEGER,
    greeted_at INTEGER
);
CREATE INDEX guilds_left_at ON guilds(left_at) WHERE left_at IS NOT NULL;

-- Per-server settings as validated JSON values; the GuildSettings model defines keys and defaults.
CREATE TABLE guild_settings (
    guild_id   INTEGER NOT NULL,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by INTEGER,
    PRIMARY KEY (guild_id, key)
) WITHOUT ROWID;

-- Who did which admin action when. Details never hold member answers or notes.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    actor_id   INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    detail     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX audit_log_guild_time ON audit_log(guild_id, created_at);
CREATE INDEX audit_log_guild_actor_time ON audit_log(guild_id, actor_id, created_at);

-- One-shot jobs (reminders, alerts, reposts, purges). The dispatcher claims due rows by deleting
-- them, so each fires at most once even across restarts; (kind, ref) lets a feature cancel them.
CREATE TABLE timers (
    id       INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    ref      TEXT    NOT NULL,
    due_at   INTEGER NOT NULL,
    payload  TEXT    NOT NULL DEFAULT '{}',
    UNIQUE (kind, ref)
);
CREATE INDEX timers_due ON timers(due_at);
CREATE INDEX timers_guild ON timers(guild_id);

-- Messages for a member whose DMs were closed, shown privately at their next interaction.
CREATE TABLE pending_notices (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX pending_notices_user ON pending_notices(user_id);
CREATE INDEX pending_notices_guild ON pending_notices(guild_id);

-- Process-level facts, such as the hash of the last synced command tree.
CREATE TABLE bot_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
