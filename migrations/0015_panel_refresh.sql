-- Sign-up panels are edited by one process at a time per server, however many processes run:
-- `wanted` counts the refreshes asked for; `holder` is the process editing now, until
-- `lease_until` (Unix seconds; a crashed holder's claim lapses). The holder releases only if
-- nobody asked since its pass began, else it goes again (cogs/groups/_flow.py).
CREATE TABLE group_panel_refresh (
    guild_id    INTEGER PRIMARY KEY,
    wanted      INTEGER NOT NULL DEFAULT 0,
    holder      TEXT,
    lease_until INTEGER
);
