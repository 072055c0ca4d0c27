-- Everything Hearth sends on its own initiative (check-in prompts and DMs, shift reminders,
-- debriefs, alerts, log posts, reposts, waitlist DMs) is first a row here, written in the same
-- transaction as the change that causes it, then claimed and sent by the dispatcher.
--
-- A row is claimable while status = 'pending' and ready_at <= now. ready_at is the due time, then
-- a retry time after a transient failure, or the end of a lease while a process is sending it:
-- a claim is one guarded UPDATE that moves ready_at forward, so two claimers never both win and a
-- lease left by a dead process simply runs out. Sent, failed and dropped rows keep no payload and
-- are deleted after a retention period.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    channel_id  INTEGER,                 -- a channel target (or NULL: the kind resolves it)
    user_id     INTEGER,                 -- a member to DM, or the member the item is about
    payload     TEXT    NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    expires_at  INTEGER,                 -- not worth sending after this (shift start, grace end)
    ready_at    INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'failed', 'dropped')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    message_id  INTEGER,
    error       TEXT,
    finished_at INTEGER
);
CREATE INDEX outbox_ready ON outbox(ready_at) WHERE status = 'pending';
CREATE INDEX outbox_lease ON outbox(lease_owner) WHERE status = 'pending';
CREATE INDEX outbox_finished ON outbox(finished_at) WHERE status <> 'pending';
CREATE INDEX outbox_guild ON outbox(guild_id, status);
CREATE INDEX outbox_user ON outbox(user_id) WHERE user_id IS NOT NULL;
