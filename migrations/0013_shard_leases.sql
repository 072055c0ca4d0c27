-- Which Hearth process runs which gateway shards, so two processes never run the same one (each
-- would claim and send the same servers' work, and each keeps its own guild cache). A process
-- claims its shards (for its shard_count) before it connects to Discord, renews the lease every
-- few seconds while it runs and deletes its rows on a clean stop; a process that was killed
-- leaves rows whose lease runs out, and the next process takes them over.
--
-- Per process, not per server: no guild_id, and nothing about any person (export policy
-- "never"). `holder` is the process's unique name (host:pid:random, as the outbox's lease_owner);
-- `host` and `pid` let a process restarted on the same machine see at once that the holder it
-- replaces is gone, instead of waiting for its lease to run out.
CREATE TABLE shard_leases (
    shard_count INTEGER NOT NULL,
    shard_id    INTEGER NOT NULL,
    holder      TEXT    NOT NULL,
    host        TEXT,                    -- boot id and pid namespace, where the OS gives them
    pid         INTEGER,
    claimed_at  INTEGER NOT NULL,
    ready_at    INTEGER,                 -- when all the holder's shards were ready (status)
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (shard_count, shard_id)
);
CREATE INDEX shard_leases_expires ON shard_leases(expires_at);
CREATE INDEX shard_leases_holder ON shard_leases(holder);
