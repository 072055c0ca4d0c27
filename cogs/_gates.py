"""Steps a member must complete before joining a group (e.g. accepting boundary guidelines).

The groups feature owns the join flow; other features add gates without the groups code
knowing them. `/group join` (and the panel) call `continue_join`, which asks every gate for its
next pending step and shows it; a gate's own button (say "I have read and agree") records its
step and calls `continue_join` again, which completes the join once no gate has anything left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import discord


@dataclass
class GateStep:
    """What to show the member next: typically an embed with an Agree button."""

    embed: discord.Embed
    view: discord.ui.View
    content: str | None = None


class JoinGate(Protocol):
    async def next_step(self, guild_id: int, user_id: int, group_id: int) -> GateStep | None:
        """The first thing this member still has to do before joining, or None."""
        ...
