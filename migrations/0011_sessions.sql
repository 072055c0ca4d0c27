-- Group sessions: the meetings a peer group holds, and who said they are coming.

-- A weekly series shares series_id (the id of its first session). cancelled_at set: the
-- session stays listed for the record but takes no answers and sends no reminders. event_id is
-- the Discord Scheduled Event standing for it (NULL: none yet, e.g. without Manage Events;
-- 0: someone deleted it in Discord, so it is not recreated).
CREATE TABLE group_sessions (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    group_id     INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    series_id    INTEGER,
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL CHECK (ends_at > starts_at),
    cancelled_at INTEGER,
    reason       TEXT,
    event_id     INTEGER,
    slot_id      INTEGER REFERENCES rota_slots(id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    created_by   INTEGER
);
CREATE INDEX group_sessions_group_start ON group_sessions(group_id, starts_at);
CREATE INDEX group_sessions_guild_start ON group_sessions(guild_id, starts_at);
CREATE INDEX group_sessions_series ON group_sessions(series_id, starts_at);
CREATE INDEX group_sessions_event ON group_sessions(event_id) WHERE event_id IS NOT NULL;

-- One answer per member per session: going = 1 ("Going") or 0 ("Can't make it").
CREATE TABLE session_rsvps (
    session_id  INTEGER NOT NULL REFERENCES group_sessions(id) ON DELETE CASCADE,
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    going       INTEGER NOT NULL CHECK (going IN (0, 1)),
    answered_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, user_id)
) WITHOUT ROWID;
CREATE INDEX session_rsvps_session_going ON session_rsvps(session_id, going);
CREATE INDEX session_rsvps_guild_user ON session_rsvps(guild_id, user_id);

-- Members who switched session reminders off (notices of a cancellation still reach them).
CREATE TABLE session_reminders_off (
    guild_id  INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    since     INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;

-- A group's sessions need a facilitator: each gets a slot on `rota_id` that supporters claim
-- under the rota's rules. alert_hours before an unclaimed session coordinators are alerted;
-- with required = 1 a session nobody claimed by its start is cancelled.
CREATE TABLE session_facilitation (
    group_id    INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
    guild_id    INTEGER NOT NULL,
    rota_id     INTEGER NOT NULL REFERENCES rotas(id) ON DELETE CASCADE,
    alert_hours INTEGER NOT NULL CHECK (alert_hours BETWEEN 1 AND 336),
    required    INTEGER NOT NULL DEFAULT 0 CHECK (required IN (0, 1)),
    set_by      INTEGER,
    set_at      INTEGER NOT NULL
);
CREATE INDEX session_facilitation_guild ON session_facilitation(guild_id);
CREATE INDEX group_sessions_slot ON group_sessions(slot_id) WHERE slot_id IS NOT NULL;

-- Places per session for a group (NULL: no limit), set with /group sessions places; the voice
-- or stage channel its sessions' events are held in (NULL: the group's own channel).
ALTER TABLE groups ADD COLUMN session_places INTEGER CHECK (session_places IS NULL OR session_places >= 1);
ALTER TABLE groups ADD COLUMN session_room_id INTEGER;
