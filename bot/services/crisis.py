"""Crisis signposting: the server's helplines, and the optional watch for worrying phrases.

The watch never stores or logs a message: it only answers "does this text contain a watched
phrase?" and remembers when a member was last signposted, so a member gets at most one private
note an hour however much they write.
"""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel

from bot.db import to_ts
from bot.errors import UserFacingError
from bot.i18n import ENGLISH, N_, Texts
from bot.services.base import Service
from bot.services.data import TableData
from bot.services.settings import Setting
from bot.services.text import one_line

# Audit actions: "feature.what_happened", lowercase, past tense (stored in audit_log).
AUDIT_CRISIS_ADDED = "crisis.resource_added"
AUDIT_CRISIS_REMOVED = "crisis.resource_removed"
AUDIT_CRISIS_WATCH_SET = "crisis.watch_set"
AUDIT_CRISIS_CHANNEL_WATCHED = "crisis.channel_watched"
AUDIT_CRISIS_CHANNEL_UNWATCHED = "crisis.channel_unwatched"
AUDIT_CRISIS_PHRASE_ADDED = "crisis.phrase_added"
AUDIT_CRISIS_PHRASE_REMOVED = "crisis.phrase_removed"

# Translated when shown (`crisis_text`): each language names the emergency numbers of the
# places it is spoken (112 is the EU's and works on most mobile networks), and tells
# coordinators to list their own region's helplines.
EMERGENCY_LINE = N_(
    "**If you are in immediate danger, contact your local emergency services now** "
    "(for example 999 in the UK, 911 in the US and Canada, 112 in the EU, 000 in Australia)."
)
NOT_A_CRISIS_SERVICE = N_(
    "Hearth and its volunteers are peers, not a crisis service: they can listen, but they can't "
    "respond to an emergency."
)
SIGNPOST_INTERVAL = timedelta(hours=1)

# The safety feature's own setting (bot/services/settings.py): read as settings[KEYWORD_WATCH].
KEYWORD_WATCH = Setting[bool](
    "keyword_watch_enabled",
    bool,
    False,
    N_("Signpost crisis resources on watched phrases (needs message content)"),
)
SETTINGS = (KEYWORD_WATCH,)
# Enough for a region's lines; `/crisis` shows them all, in as many messages as they need.
MAX_RESOURCES = 50
MAX_PHRASES = 100
MAX_FIELD = {"name": 100, "contact": 200, "region": 60, "hours": 60}
MIN_PHRASE = 3
MAX_PHRASE = 100


class Resource(BaseModel):
    id: int
    name: str
    contact: str
    region: str
    hours: str

    def line(self, tr: Texts = ENGLISH) -> str:
        """One bullet: the coordinators' words as written, in `tr`'s punctuation."""
        extras = ", ".join(part for part in (self.region, self.hours) if part)
        if extras:
            return tr.gettext("• **{name}** — {contact} ({details})").format(
                name=self.name, contact=self.contact, details=extras
            )
        return tr.gettext("• **{name}** — {contact}").format(name=self.name, contact=self.contact)


def _key(text: str) -> str:
    return one_line(text).casefold()


# One whole sentence per field (a field's name is not a placeholder: it is part of the phrase).
_EMPTY = {
    "name": N_("The name can't be empty. Nothing was added."),
    "contact": N_("The contact can't be empty. Nothing was added."),
}
_TOO_LONG = {
    "name": N_("The name is {length} characters; please keep it to {limit}. Nothing was added."),
    "contact": N_(
        "The contact is {length} characters; please keep it to {limit}. Nothing was added."
    ),
    "region": N_(
        "The region is {length} characters; please keep it to {limit}. Nothing was added."
    ),
    "hours": N_("The hours is {length} characters; please keep it to {limit}. Nothing was added."),
}


def _clean(field: str, value: str, *, required: bool) -> str:
    text = one_line(value)
    if required and not text:
        raise UserFacingError(_EMPTY[field])
    if len(text) > MAX_FIELD[field]:
        raise UserFacingError(_TOO_LONG[field], length=len(text), limit=MAX_FIELD[field])
    return text


def crisis_text(resources: list[Resource], *, in_server: bool, tr: Texts = ENGLISH) -> str:
    """What `/crisis` (and every signpost) shows: helplines, then the lines that always apply.
    The helplines are shown as the coordinators wrote them, in any language."""
    lines: list[str] = []
    if in_server:
        if resources:
            lines.append(tr.gettext("**Helplines this server's coordinators have listed:**"))
            lines += [resource.line(tr) for resource in resources]
        else:
            lines.append(
                tr.gettext(
                    "This server hasn't listed any helplines yet (coordinators can add them with "
                    "`/admin crisis add`)."
                )
            )
        lines.append("")
    lines.append(tr.gettext(EMERGENCY_LINE))
    lines.append(tr.gettext(NOT_A_CRISIS_SERVICE))
    if in_server:
        lines.append(tr.gettext("If you'd like to talk to a peer supporter, use `/support`."))
    return "\n".join(lines)


class CrisisService(Service):
    # --- helplines ------------------------------------------------------------------------
    async def resources(self, guild_id: int) -> list[Resource]:
        rows = await self._db.fetchall(
            "SELECT id, name, contact, region, hours FROM crisis_resources "
            "WHERE guild_id = ? ORDER BY id",
            (guild_id,),
        )
        return [Resource(**dict(row)) for row in rows]

    async def add(
        self, guild_id: int, actor_id: int, name: str, contact: str, region: str, hours: str
    ) -> Resource:
        clean_name = _clean("name", name, required=True)
        values = (
            clean_name,
            _clean("contact", contact, required=True),
            _clean("region", region, required=False),
            _clean("hours", hours, required=False),
        )
        inserted = await self._db.execute(
            "INSERT INTO crisis_resources "
            "(guild_id, name, name_key, contact, region, hours, added_by, added_at) "
            "SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM crisis_resources "
            "WHERE guild_id = ?) < ? ON CONFLICT (guild_id, name_key) DO NOTHING",
            (
                guild_id,
                values[0],
                _key(clean_name),
                *values[1:],
                actor_id,
                to_ts(self._clock.now()),
                guild_id,
                MAX_RESOURCES,
            ),
        )
        if not inserted:
            if any(
                r.name.casefold() == clean_name.casefold() for r in await self.resources(guild_id)
            ):
                raise UserFacingError(
                    N_(
                        "There is already a helpline called “{name}”. Remove it first to "
                        "change it. Nothing was added."
                    ),
                    name=clean_name,
                )
            raise UserFacingError(
                N_(
                    "This server already lists {limit} helplines, the most `/crisis` "
                    "keeps. Remove one first. Nothing was added."
                ),
                limit=MAX_RESOURCES,
            )
        return next(r for r in await self.resources(guild_id) if r.name == clean_name)

    async def remove(self, guild_id: int, name: str) -> str:
        rows = await self._db.write_fetchall(
            "DELETE FROM crisis_resources WHERE guild_id = ? AND name_key = ? RETURNING name",
            (guild_id, _key(name)),
        )
        if not rows:
            raise UserFacingError(
                N_(
                    "There is no helpline called “{name}”. "
                    "`/admin crisis list` shows them. Nothing was removed."
                ),
                name=name.strip()[:100],
            )
        return str(rows[0]["name"])

    # --- keyword watch --------------------------------------------------------------------
    async def watched_channels(self, guild_id: int) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT channel_id FROM crisis_watch_channels WHERE guild_id = ? ORDER BY channel_id",
            (guild_id,),
        )
        return [row["channel_id"] for row in rows]

    async def is_watched(self, guild_id: int, channel_id: int) -> bool:
        return bool(
            await self._db.fetchval(
                "SELECT EXISTS (SELECT 1 FROM crisis_watch_channels "
                "WHERE guild_id = ? AND channel_id = ?)",
                (guild_id, channel_id),
            )
        )

    async def watch_channel(self, guild_id: int, actor_id: int, channel_id: int) -> bool:
        return bool(
            await self._db.execute(
                "INSERT INTO crisis_watch_channels (guild_id, channel_id, added_by, added_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (guild_id, channel_id, actor_id, to_ts(self._clock.now())),
            )
        )

    async def unwatch_channel(self, guild_id: int, channel_id: int) -> bool:
        return bool(
            await self._db.execute(
                "DELETE FROM crisis_watch_channels WHERE guild_id = ? AND channel_id = ?",
                (guild_id, channel_id),
            )
        )

    async def phrases(self, guild_id: int) -> list[str]:
        rows = await self._db.fetchall(
            "SELECT phrase FROM crisis_watch_phrases WHERE guild_id = ? ORDER BY phrase",
            (guild_id,),
        )
        return [row["phrase"] for row in rows]

    async def add_phrase(self, guild_id: int, actor_id: int, phrase: str) -> str:
        key = _key(phrase)
        if not MIN_PHRASE <= len(key) <= MAX_PHRASE:
            raise UserFacingError(
                N_(
                    "A watched phrase needs {least} to {most} characters, so it doesn't "
                    "match ordinary words by accident. Nothing was added."
                ),
                least=MIN_PHRASE,
                most=MAX_PHRASE,
            )
        inserted = await self._db.execute(
            "INSERT INTO crisis_watch_phrases (guild_id, phrase, added_by, added_at) "
            "SELECT ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM crisis_watch_phrases "
            "WHERE guild_id = ?) < ? ON CONFLICT DO NOTHING",
            (guild_id, key, actor_id, to_ts(self._clock.now()), guild_id, MAX_PHRASES),
        )
        if not inserted:
            if key in await self.phrases(guild_id):
                raise UserFacingError(N_("“{phrase}” is already watched."), phrase=key)
            raise UserFacingError(
                N_("This server already watches {limit} phrases. Remove one first."),
                limit=MAX_PHRASES,
            )
        return key

    async def remove_phrase(self, guild_id: int, phrase: str) -> str:
        key = _key(phrase)
        if not await self._db.execute(
            "DELETE FROM crisis_watch_phrases WHERE guild_id = ? AND phrase = ?", (guild_id, key)
        ):
            raise UserFacingError(
                N_("“{phrase}” isn't a watched phrase. Nothing was removed."), phrase=key[:100]
            )
        return key

    async def matches(self, guild_id: int, text: str) -> bool:
        """Whether the text contains a watched phrase as whole words (case-insensitive)."""
        phrases = await self.phrases(guild_id)
        if not phrases:
            return False
        folded = _key(text)
        return any(
            re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", folded) for phrase in phrases
        )

    async def claim_signpost(self, guild_id: int, user_id: int) -> bool:
        """Record a signpost unless one went out within the hour; True if this one may go."""
        now = to_ts(self._clock.now())
        cutoff = now - int(SIGNPOST_INTERVAL.total_seconds())
        return bool(
            await self._db.execute(
                "INSERT INTO crisis_watch_signposted (guild_id, user_id, last_at) VALUES (?, ?, ?) "
                "ON CONFLICT (guild_id, user_id) DO UPDATE SET last_at = excluded.last_at "
                "WHERE crisis_watch_signposted.last_at <= ?",
                (guild_id, user_id, now, cutoff),
            )
        )


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData.server_setup("crisis_resources", "added_by", N_("helplines you added")),
    TableData.server_setup("crisis_watch_channels", "added_by", N_("channels you set watching")),
    TableData.server_setup("crisis_watch_phrases", "added_by", N_("phrases you set watching")),
    TableData.members_own(
        "crisis_watch_signposted",
        N_("when you were last signposted"),
        why="when a member was signposted to crisis help",
    ),
)
