"""How every feature finds a group by what a member typed: one rule, owned by the groups feature.

A name matches ignoring case and spacing ("Carers  circle" is "carers circle"); suggestions are
names containing what was typed, with `%` and `_` taken literally, open groups unless asked.
Features outside groups call these with their own unit of work instead of reading `groups`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from bot.db import Tx
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.text import contains_pattern, one_line

NAME_MAX = 80

GroupState = Literal["open", "archived", "all"]
_STATE_WHERE: dict[GroupState, str] = {
    "open": " AND archived_at IS NULL",
    "archived": " AND archived_at IS NOT NULL",
    "all": "",
}


class GroupRef(BaseModel):
    """A group as other features see it: enough to link to it and name it."""

    id: int
    name: str
    archived: bool = False


def clean_name(name: str) -> str:
    """Collapse spacing so names read well in roles, buttons and lists."""
    cleaned = one_line(name)
    if not cleaned:
        raise UserFacingError(N_("A group needs a name. Nothing was changed."))
    if len(cleaned) > NAME_MAX:
        raise UserFacingError(
            N_("Group names can be at most {most} characters. Nothing was changed."), most=NAME_MAX
        )
    return cleaned


def name_key(name: str) -> str:
    """The one rule every feature finds a group by: case- and spacing-insensitive."""
    return one_line(name).casefold()


def find_group(tx: Tx, guild_id: int, name: str) -> GroupRef | None:
    """The group called `name` here, archived ones too (the caller decides), for any feature."""
    row = tx.fetchone(
        "SELECT id, name, archived_at FROM groups WHERE guild_id = ? AND name_key = ?",
        (guild_id, name_key(name)),
    )
    if row is None:
        return None
    return GroupRef(id=row["id"], name=row["name"], archived=row["archived_at"] is not None)


def group_names(
    tx: Tx, guild_id: int, typed: str, *, which: GroupState = "open", limit: int = 25
) -> list[str]:
    """Group names containing what was typed, for any feature's autocomplete."""
    rows = tx.fetchall(
        f"SELECT name FROM groups WHERE guild_id = ?{_STATE_WHERE[which]} "
        "AND name_key LIKE ? ESCAPE '\\' ORDER BY name_key LIMIT ?",
        (guild_id, contains_pattern(typed), limit),
    )
    return [row["name"] for row in rows]
