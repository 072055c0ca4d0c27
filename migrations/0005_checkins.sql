-- Check-ins: recurring schedules (group prompts and personal DMs), what was sent, and answers.
-- Times are integer Unix seconds (UTC); local times are kept as wall-clock text plus an IANA zone
-- so every next occurrence is computed DST-safely from them.

-- One row per schedule. The dispatcher reads only `next_due_at` of active rows (partial index),
-- and claims an occurrence by moving `next_due_at` forward with a guarded UPDATE, recording the
-- occurrence it sent in `last_occurrence_at`.
CREATE TABLE checkin_schedules (
    id                 INTEGER PRIMARY KEY,
    guild_id           INTEGER NOT NULL,
    kind               TEXT    NOT NULL CHECK (kind IN ('group', 'personal')),
    channel_id         INTEGER,            -- group: where the prompt is posted
    user_id            INTEGER,            -- personal: the member who is DMed
    prompt             TEXT    NOT NULL DEFAULT '',
    open_thread        INTEGER NOT NULL DEFAULT 0,
    days               INTEGER NOT NULL CHECK (days BETWEEN 1 AND 127),  -- bit 0 = Monday
    local_time         TEXT    NOT NULL,   -- 'HH:MM', 24-hour
    zone               TEXT    NOT NULL,
    next_due_at        INTEGER NOT NULL,
    last_occurrence_at INTEGER,
    paused             INTEGER NOT NULL DEFAULT 0,
    paused_reason      TEXT,
    snoozed_until      INTEGER,            -- personal: "pause for N days" ends here by itself
    created_by         INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    CHECK ((kind = 'group' AND channel_id IS NOT NULL) OR
           (kind = 'personal' AND user_id IS NOT NULL))
);
CREATE INDEX checkin_schedules_due ON checkin_schedules(next_due_at) WHERE paused = 0;
CREATE INDEX checkin_schedules_guild ON checkin_schedules(guild_id, kind);
CREATE UNIQUE INDEX checkin_schedules_member
    ON checkin_schedules(guild_id, user_id) WHERE kind = 'personal';
CREATE INDEX checkin_schedules_user ON checkin_schedules(user_id) WHERE user_id IS NOT NULL;

-- Each prompt or DM actually sent; its id is in the buttons, so answers attach to it. A removed
-- schedule keeps its past occurrences (members' own history) until retention deletes them.
CREATE TABLE checkin_occurrences (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    schedule_id INTEGER REFERENCES checkin_schedules(id) ON DELETE SET NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('group', 'personal')),
    user_id     INTEGER,                   -- personal: the only member who may answer
    due_at      INTEGER NOT NULL,
    is_test     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX checkin_occurrences_schedule ON checkin_occurrences(schedule_id, due_at);
CREATE INDEX checkin_occurrences_guild_due ON checkin_occurrences(guild_id, due_at);

-- One answer per member per occurrence; answering again updates it. Private to its author.
CREATE TABLE checkin_answers (
    occurrence_id INTEGER NOT NULL REFERENCES checkin_occurrences(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL,
    guild_id      INTEGER NOT NULL,
    mood          INTEGER CHECK (mood BETWEEN 1 AND 5),
    note          TEXT,
    answered_at   INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (occurrence_id, user_id)
) WITHOUT ROWID;
CREATE INDEX checkin_answers_member ON checkin_answers(guild_id, user_id, answered_at);
CREATE INDEX checkin_answers_age ON checkin_answers(guild_id, answered_at);
