-- Safety: support requests, crisis helplines and the optional keyword watch.
-- Nothing here holds what anyone wrote: a support request's note lives in its Discord thread,
-- a watched message is never stored, only the time a member was last signposted.

-- One row per `/support` request (or a check-in "yes"). Ids, times and state only.
-- claimed_by/closed_by are set by guarded UPDATEs (`WHERE claimed_by IS NULL`, `WHERE state …`).
CREATE TABLE support_requests (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,          -- the member asking (0 once they deleted their data)
    source      TEXT    NOT NULL CHECK (source IN ('support', 'checkin')),
    thread_id   INTEGER,                   -- the private thread, if one could be opened
    state       TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    claimed_by  INTEGER,
    claimed_at  INTEGER,
    closed_by   INTEGER,
    closed_at   INTEGER,
    created_at  INTEGER NOT NULL
);
-- At most one open request per member and server, enforced by the store itself.
CREATE UNIQUE INDEX support_requests_one_open
    ON support_requests(guild_id, user_id) WHERE state = 'open' AND user_id <> 0;
CREATE INDEX support_requests_guild_time ON support_requests(guild_id, created_at);
CREATE INDEX support_requests_user ON support_requests(user_id);
CREATE INDEX support_requests_claimed_by ON support_requests(claimed_by)
    WHERE claimed_by IS NOT NULL;
CREATE INDEX support_requests_closed_by ON support_requests(closed_by)
    WHERE closed_by IS NOT NULL;

-- Helplines a server lists in `/crisis`. position keeps the coordinators' order.
CREATE TABLE crisis_resources (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    name_key   TEXT    NOT NULL,
    contact    TEXT    NOT NULL,
    region     TEXT    NOT NULL DEFAULT '',
    hours      TEXT    NOT NULL DEFAULT '',
    added_by   INTEGER NOT NULL,
    added_at   INTEGER NOT NULL,
    UNIQUE (guild_id, name_key)
);
CREATE INDEX crisis_resources_added_by ON crisis_resources(added_by);

-- Channels whose messages the keyword watch reads (only when it is switched on).
CREATE TABLE crisis_watch_channels (
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    added_by   INTEGER NOT NULL,
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
) WITHOUT ROWID;
CREATE INDEX crisis_watch_channels_added_by ON crisis_watch_channels(added_by);

-- Phrases that trigger signposting, stored casefolded.
CREATE TABLE crisis_watch_phrases (
    guild_id   INTEGER NOT NULL,
    phrase     TEXT    NOT NULL,
    added_by   INTEGER NOT NULL,
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (guild_id, phrase)
) WITHOUT ROWID;
CREATE INDEX crisis_watch_phrases_added_by ON crisis_watch_phrases(added_by);

-- When a member was last signposted, so it happens at most once an hour. Only the time is kept.
CREATE TABLE crisis_watch_signposted (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
CREATE INDEX crisis_watch_signposted_user ON crisis_watch_signposted(user_id);
