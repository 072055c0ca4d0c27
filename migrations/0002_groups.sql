-- Peer groups: a Discord role (and usually a private channel) members sign up for.

-- name_key is the casefolded, space-collapsed name: names are unique per server, ignoring case.
-- capacity NULL means no limit. archived_at set: no new joins, members keep their role.
CREATE TABLE groups (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    capacity    INTEGER CHECK (capacity IS NULL OR capacity >= 1),
    meets       TEXT,
    role_id     INTEGER NOT NULL,
    channel_id  INTEGER,
    archived_at INTEGER,
    created_at  INTEGER NOT NULL,
    created_by  INTEGER,
    UNIQUE (guild_id, name_key)
);
CREATE INDEX groups_guild_archived ON groups(guild_id, archived_at);
CREATE INDEX groups_guild_role ON groups(guild_id, role_id);

-- Who is in which group. The (group_id, user_id) key makes joining twice impossible.
CREATE TABLE group_members (
    group_id  INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    guild_id  INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_guild_user ON group_members(guild_id, user_id);

-- Members waiting for a place, first come first served: position orders the queue (it is the
-- never-reused rowid, so an undone promotion puts the member back at their old place).
CREATE TABLE group_waitlist (
    position  INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id  INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    guild_id  INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    queued_at INTEGER NOT NULL,
    UNIQUE (group_id, user_id)
);
CREATE INDEX group_waitlist_group_order ON group_waitlist(group_id, position);
CREATE INDEX group_waitlist_guild_user ON group_waitlist(guild_id, user_id);

-- Sign-up panels posted with /group panel, edited in place when groups or counts change.
CREATE TABLE group_panels (
    message_id INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    created_by INTEGER
);
CREATE INDEX group_panels_guild ON group_panels(guild_id);
