-- Discord's global limit (about 50 requests a second) is per bot, across every process of it.
-- One row per bot holds the next free moment in its shared schedule (`tat_us`, the
-- "theoretical arrival time" of GCRA, in microseconds on the database server's clock); each
-- process takes its requests' slots from it with one short statement (bot/pacing.py). Only
-- PostgreSQL deployments use it: on SQLite there is one process and its pacer is in memory.
CREATE TABLE rate_budget (
    bucket TEXT PRIMARY KEY,
    tat_us INTEGER NOT NULL
) WITHOUT ROWID;
