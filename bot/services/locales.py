"""Which language Hearth speaks in a server, and the language each member's Discord client uses.

- The server's language (`language`, set with `/admin set language` or in `/setup`): what Hearth
  writes when nobody's client language is known (alerts, reminders, prompts) and to members whose
  client language has no catalogue. `auto` (the default) follows the server's own Discord
  language (its `preferred_locale`) when Hearth has a catalogue for it, else English.
- A member's most recent client locale (`member_locales`), so a personal DM can be written in
  their language: kept only when it is another language than the server's, and written only
  when that changes (an in-memory LRU remembers what is settled, so a member's usual
  interactions cost nothing here).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from bot import i18n
from bot.clock import Clock
from bot.db import Database, to_ts
from bot.errors import InvalidValue
from bot.i18n import N_
from bot.services.data import PersonColumn, TableData
from bot.services.settings import Setting

AUTO = "auto"
MAX_LOCALE = 16  # Discord's longest locale code is 6 ("es-419"); anything longer is not one
REMEMBERED = 10_000  # members whose stored locale this process remembers


def parse_language(value: Any) -> str:
    """`auto`, or a language with a catalogue (`es`, `es-ES`, `ES`): stored as its catalogue's
    code. Anything else is refused with the list of what is available."""
    text = str(value).strip()
    if text.lower() in {AUTO, ""}:
        return AUTO
    found = i18n.find(text) if len(text) <= MAX_LOCALE else None
    if found is None or found.language == i18n.PSEUDO_LANGUAGE:
        raise InvalidValue(
            N_(
                "Hearth has no translation for “{text}”. Choose `auto` (the server's Discord "
                "language) or one of {languages}. Nothing was changed."
            ),
            text=text[:MAX_LOCALE],
            languages=i18n.describe_languages(),
        )
    return found.language


LANGUAGE = Setting[str](
    "language",
    str,
    AUTO,
    N_("Language of Hearth's messages to the server (auto: the server's Discord language)"),
    parse=parse_language,
)
SETTINGS = (LANGUAGE,)


def server_language(setting: str, preferred_locale: str | None) -> str | None:
    """The locale to try for the server: its setting, or with `auto` its Discord language."""
    return preferred_locale if setting == AUTO else setting


class MemberLocales:
    """Members' client locales, kept only where they differ from the server's language: a
    member who reads the server's language has nothing stored (and `/mydata` shows nothing)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        # What this process last settled per member: (their locale, the server's language).
        self._settled: OrderedDict[tuple[int, int], tuple[str, str]] = OrderedDict()

    def _remember(self, key: tuple[int, int], seen: tuple[str, str]) -> None:
        self._settled[key] = seen
        self._settled.move_to_end(key)
        while len(self._settled) > REMEMBERED:
            self._settled.popitem(last=False)

    async def seen(self, guild_id: int, user_id: int, locale: str, server: str) -> bool:
        """Note a member's client locale in a server whose language is `server` (a catalogue's
        code). Stored when it has a catalogue of another language, removed when it reads the
        server's own; True when the database was written."""
        key, now_seen = (guild_id, user_id), (locale, server)
        if self._settled.get(key) == now_seen:
            self._settled.move_to_end(key)
            return False
        found = i18n.find(locale) if len(locale) <= MAX_LOCALE else None
        wanted = locale if found is not None and found.language != server else None
        written = False
        if await self.of(guild_id, user_id) != wanted:
            written = True
            if wanted is None:
                await self._db.execute(
                    "DELETE FROM member_locales WHERE guild_id = ? AND user_id = ?",
                    (guild_id, user_id),
                )
            else:
                await self._db.execute(
                    "INSERT INTO member_locales (guild_id, user_id, locale, seen_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (guild_id, user_id) DO UPDATE SET "
                    "locale = excluded.locale, seen_at = excluded.seen_at",
                    (guild_id, user_id, wanted, to_ts(self._clock.now())),
                )
        self._remember(key, now_seen)
        return written

    async def of(self, guild_id: int, user_id: int) -> str | None:
        """The member's client locale in this server, if Hearth saw one other than the
        server's language."""
        value = await self._db.fetchval(
            "SELECT locale FROM member_locales WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        return str(value) if value is not None else None

    def forget(self, guild_id: int, user_id: int) -> None:
        self._settled.pop((guild_id, user_id), None)


# What /admin export and /mydata do with this module's table (bot/services/data.py).
TABLES = (
    TableData(
        "member_locales",
        export="never",
        why="each member's Discord client language, only to write to them in it",
        people=(PersonColumn("user_id", "delete", N_("the language your Discord client uses")),),
    ),
)
