-- A sign-up panel spans several messages when its groups don't fit in one (Discord allows 6,000
-- characters of embeds and 25 menu options per message). Each row is one message of a panel:
-- `panel_id` is the id of the panel's first message and `part` the message's place in it
-- (0 for the first). Panels posted before this migration are one message each.
ALTER TABLE group_panels ADD COLUMN panel_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE group_panels ADD COLUMN part INTEGER NOT NULL DEFAULT 0;
UPDATE group_panels SET panel_id = message_id;
CREATE INDEX group_panels_panel ON group_panels(guild_id, panel_id, part);
