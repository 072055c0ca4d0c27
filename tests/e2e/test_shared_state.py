"""The running bot hears what another process changes (bot/invalidation.py), on PostgreSQL.

"Another process" is a second store over the bot's database with its own services, as a second
bot process would have; what the test checks is what a member or coordinator of the running bot
sees next. Waiting is on the bot's listener hearing the change (an event), at most a second.
"""

from __future__ import annotations

import pytest

from bot.db import open_database
from bot.services.notices import NoticeService
from bot.services.settings import SettingsService
from tests.harness import Harness, bot_of
from tests.pseudo_locale import given
from tests.stores import on_postgres

WITHIN = 1.0

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="one process on SQLite: nothing to keep in step"
)


async def test_what_another_process_changes_shows_in_the_running_bot(hearth: Harness) -> None:
    bot = bot_of(hearth)
    assert bot.invalidations.listening.is_set()
    guild_id = hearth.guild.id
    assert (await bot.settings.get(guild_id)).max_shifts_per_week == 3  # cached by the bot
    other = open_database(bot.db.describe())
    await other.connect()
    try:
        mark = bot.invalidations.mark()  # the harness's own set-up changed settings already
        await SettingsService(other, hearth.clock).update(guild_id, None, max_shifts_per_week=5)
        assert await bot.invalidations.wait_heard(f"settings:{guild_id}", WITHIN, after=mark)
        assert (await bot.settings.get(guild_id)).max_shifts_per_week == 5
        # A DM another process could not deliver is shown at the member's next command here.
        notices = NoticeService(other, hearth.clock)
        await notices.hold(guild_id, hearth.member.id, given("Your group has a place."))
        assert await bot.invalidations.wait_heard(f"notices:{hearth.member.id}", WITHIN)
    finally:
        await other.close()
    reply = await hearth.slash(hearth.member, hearth.channel, "about")
    notice = await reply.followup(0)
    assert notice.ephemeral and "Your group has a place." in notice.content
