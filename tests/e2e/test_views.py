"""Replies with buttons leave nothing behind in the bot's memory, and their buttons still work.

Every button is a `DynamicItem` routed by custom_id, so discord.py need not keep the view that
sent it. If it did, each private reply would hold a view and a 15-minute timer task: at a busy
server's rate, a heap the garbage collector walks while members wait for answers.
"""

from __future__ import annotations

import asyncio

import discord
import pytest

from cogs._ui import DynamicView
from tests.harness import Harness, bot_of
from tests.helpers import add_slots, claims_of, make_rota, set_up_rotas, train


def _listening(bot: discord.Client) -> list[object]:
    store = bot._connection._view_store
    timers = [t for t in asyncio.all_tasks() if "timeout_task" in repr(t.get_coro())]
    return [*store._views.values(), *store._synced_message_views.values(), *timers]


async def test_replies_with_buttons_keep_nothing_listening_and_the_buttons_work(
    hearth: Harness,
) -> None:
    bot = await set_up_rotas(hearth)
    await make_rota(hearth)
    (slot_id,) = await add_slots(hearth, "Evening duty", "2026-03-03 19:00")
    await train(hearth, hearth.supporter)
    views = [
        await hearth.slash(hearth.supporter, hearth.channel, "rota view", rota="Evening duty")
        for _ in range(3)
    ]
    confirm = await hearth.slash(hearth.member, hearth.channel, "mydata delete")
    assert views[0].components and confirm.components
    assert _listening(bot) == []

    clicked = await hearth.click(hearth.supporter, views[2], label=f"Claim #{slot_id}")
    assert "You're on **Evening duty**" in clicked.content
    assert await claims_of(hearth, slot_id) == [hearth.supporter.id]
    assert bot_of(hearth) is bot and _listening(bot) == []


async def test_a_view_refuses_an_item_that_could_never_fire() -> None:
    view = DynamicView()
    with pytest.raises(TypeError, match="not a DynamicItem"):
        view.add_item(discord.ui.Button(label="orphan", custom_id="nobody-listens"))
    assert view.is_finished() and view.children == []
