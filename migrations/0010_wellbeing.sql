-- Supporters' wellbeing: stepping back from the rota, and debrief follow-ups that aren't dropped.
-- Training renewal DMs, the weekly training digest and follow-up re-alerts are one-shot timers
-- (kinds rota.renewal / rota.training_digest / rota.followup_due / rota.away_end) that become
-- outbox rows in the transaction that consumes them.

-- A supporter's break. There is deliberately no reason column: none is asked for or stored.
-- starts_at/ends_at are local midnights of the server's zone; ends_at NULL is "until I say".
-- One break per supporter and server: setting another replaces it.
CREATE TABLE rota_away (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER CHECK (ends_at IS NULL OR ends_at > starts_at),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;

-- A supporter's "yes, check in with me" after a shift. taken_by is the coordinator who pressed
-- I'll reach out first (one guarded UPDATE); the answer to "how was it" is never stored.
CREATE TABLE rota_followups (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    taken_by   INTEGER,
    taken_at   INTEGER
);
CREATE INDEX rota_followups_guild_user ON rota_followups(guild_id, user_id);
