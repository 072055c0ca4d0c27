-- The most recent Discord client locale Hearth saw for each member of a server ("es-ES"), so a
-- personal DM can be written in the member's language. Written only when it changes. Private
-- to the member: never exported; deleted by their /mydata delete and with the server's purge.
CREATE TABLE member_locales (
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    locale   TEXT    NOT NULL,
    seen_at  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
