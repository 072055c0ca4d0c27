-- Each server's own Discord language ("es-ES"), so a process that does not have the server in
-- its cache (a yes pressed in a DM reaches shard 0's process, whatever the server) still writes
-- to it in its language when its `language` setting is `auto`. Written only when it changes.
ALTER TABLE guilds ADD COLUMN preferred_locale TEXT;
