-- Peer-supporter rotas: rotas, their time slots, supporters' claims on slots, and training.
-- Times are integer Unix seconds (UTC). Reminders, debriefs and coverage alerts are one-shot
-- timers (kinds rota.reminder / rota.debrief / rota.coverage) keyed by claim or slot id.

-- A rota ("Evening duty", "Thursday group hosts"), optionally linked to a group.
-- requires_training = 0 lets untrained supporters claim (e.g. a social hosting rota).
CREATE TABLE rotas (
    id                INTEGER PRIMARY KEY,
    guild_id          INTEGER NOT NULL,
    name              TEXT    NOT NULL,
    name_key          TEXT    NOT NULL,
    group_id          INTEGER REFERENCES groups(id) ON DELETE SET NULL,
    needed            INTEGER NOT NULL DEFAULT 1 CHECK (needed BETWEEN 1 AND 20),
    requires_training INTEGER NOT NULL DEFAULT 1,
    created_by        INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    UNIQUE (guild_id, name_key)
);
CREATE INDEX rotas_group ON rotas(group_id) WHERE group_id IS NOT NULL;

-- One shift of a rota. guild_id is repeated so per-server time-range queries use one index.
CREATE TABLE rota_slots (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    rota_id    INTEGER NOT NULL REFERENCES rotas(id) ON DELETE CASCADE,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL CHECK (ends_at > starts_at),
    created_by INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (rota_id, starts_at)
);
CREATE INDEX rota_slots_guild_start ON rota_slots(guild_id, starts_at);
CREATE INDEX rota_slots_guild_end ON rota_slots(guild_id, ends_at);

-- A supporter's place on a slot. A swap offer keeps the claim (and the cover) until someone
-- takes it: taking moves user_id in one guarded UPDATE. debrief_closed_at only records that
-- the after-shift question was answered (never the answer), so a "yes" is acted on once.
CREATE TABLE rota_claims (
    id                INTEGER PRIMARY KEY,
    guild_id          INTEGER NOT NULL,
    slot_id           INTEGER NOT NULL REFERENCES rota_slots(id) ON DELETE CASCADE,
    user_id           INTEGER NOT NULL,
    claimed_at        INTEGER NOT NULL,
    swap_offered_at   INTEGER,
    debrief_closed_at INTEGER,
    UNIQUE (slot_id, user_id)
);
CREATE INDEX rota_claims_guild_user ON rota_claims(guild_id, user_id);
CREATE INDEX rota_claims_swaps ON rota_claims(slot_id, swap_offered_at)
    WHERE swap_offered_at IS NOT NULL;

-- Who has done supporter training, and until when (NULL: no expiry).
CREATE TABLE rota_training (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    granted_by INTEGER NOT NULL,
    granted_at INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
