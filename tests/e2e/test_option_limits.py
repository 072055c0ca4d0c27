"""Every option is declared to Discord with the limits Hearth keeps, so a member sees the limit in
their client before sending, and a value Hearth could not store cannot be typed at all.

The tree is read from what the bot synced to the fake, never written down here, so a command
added later is checked too.
"""

from __future__ import annotations

from typing import Any

from bot.config import MAX_ZONE_NAME
from bot.db import ROW_ID_MAX
from bot.services import crisis, group_names, groups
from bot.services.checkins import MAX_PROMPT
from bot.services.rota.rotas import MAX_NAME as ROTA_NAME_MAX
from bot.services.rota.rotas import MAX_SLOT_TEXT
from bot.services.setting_values import MAX_SETTING_VALUE
from bot.services.settings import field_bounds
from tests.fakediscord.options import GROUP, INTEGER, NUMBER, STRING, SUBCOMMAND
from tests.harness import Harness
from tests.helpers import leaf_commands, synced_leaves

DISCORD_INTEGER_MAX = 2**53  # what Discord accepts as an integer option's bound
SQLITE_INTEGER_MAX = 2**63 - 1


def test_the_walk_finds_nested_subcommands() -> None:
    tree: list[dict[str, Any]] = [
        {"name": "a", "options": [{"type": STRING, "name": "x"}]},
        {
            "name": "b",
            "options": [
                {"type": GROUP, "name": "c", "options": [{"type": SUBCOMMAND, "name": "d"}]},
                {"type": SUBCOMMAND, "name": "e", "options": []},
            ],
        },
        {"name": "menu", "type": 2},
    ]
    assert [path for path, _ in leaf_commands(tree)] == ["a", "b c d", "b e"]


async def test_every_option_declares_its_limits(hearth: Harness) -> None:
    leaves = synced_leaves(hearth)
    assert len(leaves) > 50, sorted(leaves)
    missing: list[str] = []
    for path, options in leaves.items():
        for option in options:
            where = f"/{path} {option['name']}"
            if option.get("choices"):
                continue  # a fixed list of values is a tighter declaration than any length
            if option["type"] == STRING:
                low, high = option.get("min_length"), option.get("max_length")
                if low is None or high is None:
                    missing.append(f"{where}: text without min_length/max_length")
                elif not 0 <= low <= high <= 6000:
                    missing.append(f"{where}: lengths {low}..{high} are not ones Discord takes")
            elif option["type"] in (INTEGER, NUMBER):
                low, high = option.get("min_value"), option.get("max_value")
                if low is None or high is None:
                    missing.append(f"{where}: number without min_value/max_value")
                elif not -DISCORD_INTEGER_MAX <= low <= high <= DISCORD_INTEGER_MAX:
                    missing.append(f"{where}: bounds {low}..{high} are not ones Discord takes")
                elif high > SQLITE_INTEGER_MAX:
                    missing.append(f"{where}: {high} does not fit an SQLite INTEGER")
    assert not missing, "\n".join(missing)


STORED_LIMITS: list[tuple[str, str, tuple[int, int]]] = [
    ("group create", "name", (1, group_names.NAME_MAX)),
    ("group join", "name", (1, group_names.NAME_MAX)),
    ("group create", "description", (1, groups.DESCRIPTION_MAX)),
    ("group create", "meets", (1, groups.MEETS_MAX)),
    ("group create", "capacity", (0, groups.CAPACITY_MAX)),
    ("guidelines show", "group", (1, group_names.NAME_MAX)),
    ("rota create", "name", (1, ROTA_NAME_MAX)),
    ("rota claim", "slot", (1, MAX_SLOT_TEXT)),
    ("rota swap offer", "slot", (1, MAX_SLOT_TEXT)),
    ("rota limits", "max_per_week", field_bounds("max_shifts_per_week")),
    ("rota limits", "min_rest_hours", field_bounds("min_rest_hours")),
    ("checkin schedule add", "prompt", (1, MAX_PROMPT)),
    ("checkin schedule pause", "id", (1, ROW_ID_MAX)),
    ("checkin me on", "timezone", (1, MAX_ZONE_NAME)),
    ("setup", "timezone", (1, MAX_ZONE_NAME)),
    ("admin set", "value", (1, MAX_SETTING_VALUE)),
    ("admin crisis add", "contact", (1, crisis.MAX_FIELD["contact"])),
    ("admin crisis watch-phrase", "phrase", (crisis.MIN_PHRASE, crisis.MAX_PHRASE)),
]


async def test_declared_limits_are_the_stored_ones(hearth: Harness) -> None:
    """The client refuses exactly what the service would refuse: both read one constant."""
    leaves = synced_leaves(hearth)
    wrong = []
    for path, name, stored in STORED_LIMITS:
        found = next(o for o in leaves[path] if o["name"] == name)
        keys = (
            ("min_length", "max_length") if found["type"] == STRING else ("min_value", "max_value")
        )
        declared = (found.get(keys[0]), found.get(keys[1]))
        if declared != stored:
            wrong.append(f"/{path} {name}: declares {declared}, the service keeps {stored}")
    assert not wrong, "\n".join(wrong)
