"""House rules that keep the core testable without Discord."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_services_never_import_discord() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "bot" / "services").rglob("*.py")
        if "discord" in _imports(path)
    ]
    assert offenders == []


def test_no_source_file_grows_past_450_lines() -> None:
    long_files = [
        f"{path.relative_to(ROOT)} ({count} lines)"
        for folder in ("bot", "cogs")
        for path in (ROOT / folder).rglob("*.py")
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > 450
    ]
    assert long_files == []


SQL = re.compile(
    r"\s*(SELECT\s.*\bFROM\b|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b"
    r"|REPLACE\s+INTO\b|(CREATE|DROP)\s+(TABLE|INDEX|UNIQUE|TRIGGER|VIEW)\b|ALTER\s+TABLE\b"
    r"|PRAGMA\s|WITH\s+\w+\s+AS\b)",
    re.S,
)


def _sql_in(source: str) -> list[int]:
    """Lines of string literals (and f-strings) that start an SQL statement."""
    found: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        # An f-string's leading text is a literal of its own, so f-strings are found here too.
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
            found.add(node.lineno)
    return sorted(found)


def test_the_sql_detector_finds_statements_and_ignores_prose() -> None:
    source = (
        'a = "SELECT id FROM groups WHERE guild_id = ?"\n'
        'b = f"UPDATE guilds SET left_at = {x}"\n'
        'c = "Delete everything"\n'
        'd = "Select a group from the list"\n'
        'e = "INSERT OR IGNORE INTO t VALUES (1)"\n'
    )
    assert _sql_in(source) == [1, 2, 5]


def test_sql_lives_only_in_the_store_and_the_services() -> None:
    """Cogs and the core reach the database through services, so a second engine can replace
    the store without touching Discord glue."""
    allowed = {
        ROOT / "bot" / "db.py",
        *(ROOT / "bot" / "engines").rglob("*.py"),
        *(ROOT / "bot" / "services").rglob("*.py"),
    }
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in ("bot", "cogs")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path not in allowed
        for line in _sql_in(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_test_modules_share_helpers_instead_of_importing_each_other() -> None:
    """Shared helpers live in tests/harness.py, tests/helpers.py (or a helper module such as
    tests/bigworld.py), never in a test module another one imports."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module
        for name in [node.module]
        if name.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert offenders == []


def test_cogs_ask_the_bot_for_services_instead_of_building_them() -> None:
    """`HearthBot.service(Kind)` builds each feature service once, from the bot's store and
    clock; a cog constructing one with `(bot.db, bot.clock)` is a second way of doing it."""
    built_here = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in (ROOT / "cogs").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and len(node.args) == 2
        and [ast.unparse(arg).rsplit(".", 1)[-1] for arg in node.args] == ["db", "clock"]
    ]
    assert built_here == []


def test_no_cog_registers_commands_by_an_import_side_effect() -> None:
    """Commands are methods of a cog, so loading and unloading the cog adds and removes them;
    a module imported only for its decorators (`# noqa: F401`) escapes that."""
    side_effects = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "cogs").rglob("*.py")
        if "noqa: F401" in path.read_text(encoding="utf-8")
    ]
    assert side_effects == []


def test_every_persistent_item_takes_its_custom_id_from_one_route() -> None:
    """`cogs._routes.Persistent` is the one way to write a persistent component: a class built
    straight on `DynamicItem` would keep a template and a custom_id that can drift apart, and
    would have to remember to route its errors."""
    by_hand = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in (ROOT / "cogs").rglob("*.py")
        if path.name != "_routes.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and any("DynamicItem" in ast.unparse(base) for base in node.bases)
    ]
    assert by_hand == []


def test_timestamps_are_written_by_format_dt_or_its_one_discord_free_twin() -> None:
    """Cogs call `discord.utils.format_dt`; services, which can't import discord, call
    `bot.services.text.discord_time`. A hand-written `<t:` is a helper that can drift."""
    by_hand = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("bot", "cogs")
        for path in (ROOT / folder).rglob("*.py")
        if path != ROOT / "bot" / "services" / "text.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "<t:{" in line
    ]
    assert by_hand == []


def _custom_events(source: str) -> list[str]:
    """Calls of `<anything>.dispatch(...)` and `on_hearth_*` listeners: Hearth's own events."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "dispatch"
        ):
            found.append((node.lineno, ".dispatch("))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "on_hearth_"
        ):
            found.append((node.lineno, node.name))
    return [f"{line}: {what}" for line, what in sorted(found)]


def test_the_custom_event_detector_finds_dispatches_and_listeners() -> None:
    source = (
        'self.dispatch("hearth_guild_added", guild)\n'
        "bot.dispatch('hearth_thing')\n"
        "self.bot.dispatcher.poke()\n"
        "async def on_hearth_guild_removed(self, guild_id): ...\n"
        "async def on_guild_join(self, guild): ...\n"
    )
    assert _custom_events(source) == [
        "1: .dispatch(",
        "2: .dispatch(",
        "4: on_hearth_guild_removed",
    ]


def test_features_meet_through_their_declarations_not_custom_events() -> None:
    """A custom event (`bot.dispatch("hearth_…")`) is a contract nobody declared: who listens,
    in what order, and what a failure does are all invisible. Features declare hooks on their
    `Feature` (bot/features.py) instead, and the bot calls them in load order."""
    offenders = [
        f"{path.relative_to(ROOT)}:{found}"
        for folder in ("bot", "cogs")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for found in _custom_events(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
