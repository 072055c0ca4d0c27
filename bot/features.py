"""The one contract between a feature and the rest of Hearth.

A feature's cog declares a `Feature` when it loads (`bot.features.add(...)`) and withdraws it
when it unloads (`bot.features.remove(name)`). The declaration says everything the feature adds
to what others do:

- `about`: the counts it adds to `/about` ("12 groups"), each under its label's singular and
  plural (`Nn_("{n} group", "{n} groups")`), so `/about` picks the reader's plural form;
- `join_gates`: the steps it puts before a group join (the guidelines feature's "read and
  agree"); the groups feature asks every gate for its next step and shows the first;
- `on_settings_changed`: what it brings in line when a coordinator changes a server's settings;
- `on_guild_added` / `on_guild_removed`: what it does when Hearth arrives in a server it was not
  in (first time, or back within the retention window) and when it is removed from one (the
  greeting; the purge after the retention window). The bot calls every feature's hook in load
  order, live and when it catches up at start-up; one hook failing is logged and does not stop
  the others;
- `apis`: the typed calls it offers other features, each under an `ApiKey` declared here, so a
  caller gets a typed callable or None (the feature is not loaded) — never a cog looked up by
  name.

Nothing else is shared between features: no attributes hung on the bot, no cog names, no
custom events (`bot.dispatch`; a test refuses them). What a feature stores is declared next to its
SQL instead (`bot/services/data.py`): what `/admin export` and `/mydata` do with each table;
and so is a setting only it reads (`Setting` in `bot/services/settings.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

import discord

from bot.i18n import N_, Texts

if TYPE_CHECKING:
    from bot.services.settings import GuildSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

StatCounter = Callable[[int], Awaitable[int]]
AboutLabel = tuple[str, str]  # ("{n} group", "{n} groups"): English singular and plural, `Nn_`
SettingsChanged = Callable[[int, "GuildSettings", "GuildSettings"], Awaitable[None]]
GuildAdded = Callable[[discord.Guild], Awaitable[None]]
GuildRemoved = Callable[[int], Awaitable[None]]


@dataclass
class GateStep:
    """What to show the member next before a join: typically an embed with an Agree button."""

    embed: discord.Embed
    view: discord.ui.View
    content: str | None = None


class JoinGate(Protocol):
    async def next_step(self, guild_id: int, user_id: int, group_id: int) -> GateStep | None:
        """The first thing this member still has to do before joining, or None."""
        ...


class ApiKey(Generic[T]):
    """Names one typed call a feature offers; the type parameter is what callers get back."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"ApiKey({self.name!r})"


# Route a member's explicit "yes, I'd like someone to reach out" (guild, user, where from) and
# return what to tell them; offered by the safety feature.
SUPPORT_ROUTING: ApiKey[Callable[[int, int, str], Awaitable[str]]] = ApiKey("support routing")
# Where such a yes came from, as the coordinators' alert names it ("… (from a check-in).").
SUPPORT_SOURCES = {"checkin": N_("a check-in")}


def support_source(tr: Texts, source: str) -> str:
    """A yes's source in `tr`'s words; an unknown one as its code (a newer feature's)."""
    return tr.gettext(SUPPORT_SOURCES[source]) if source in SUPPORT_SOURCES else source


# Give a group's free places to the next people waiting (with their role and a DM); offered by
# the groups feature, used wherever a place is freed (a leave, a /mydata delete).
FILL_PLACES: ApiKey[Callable[[discord.Guild, int], Awaitable[None]]] = ApiKey("fill places")
# Carry on a member's join after they completed a gate's step; offered by the groups feature.
CONTINUE_JOIN: ApiKey[Callable[[discord.Interaction, int], Awaitable[None]]] = ApiKey(
    "continue join"
)


@dataclass(frozen=True)
class Feature:
    name: str
    about: Mapping[AboutLabel, StatCounter] = field(default_factory=dict)
    join_gates: Sequence[JoinGate] = ()
    on_settings_changed: SettingsChanged | None = None
    on_guild_added: GuildAdded | None = None
    on_guild_removed: GuildRemoved | None = None
    apis: Mapping[ApiKey[Any], object] = field(default_factory=dict)

    def offering(self, key: ApiKey[T], call: T) -> Feature:
        """This declaration with one more API: typed here, so a wrong callable fails mypy."""
        return replace(self, apis={**self.apis, key: call})


class Features:
    """The declarations of the loaded features, in load order."""

    def __init__(self) -> None:
        self._features: dict[str, Feature] = {}

    def add(self, feature: Feature) -> None:
        if feature.name in self._features:
            raise ValueError(f"feature {feature.name!r} is already declared")
        self._features[feature.name] = feature

    def remove(self, name: str) -> None:
        self._features.pop(name, None)

    def about(self) -> list[tuple[AboutLabel, StatCounter]]:
        return [(label, count) for f in self._features.values() for label, count in f.about.items()]

    def join_gates(self) -> list[JoinGate]:
        return [gate for feature in self._features.values() for gate in feature.join_gates]

    def api(self, key: ApiKey[T]) -> T | None:
        for feature in self._features.values():
            if key in feature.apis:
                return cast(T, feature.apis[key])
        return None

    async def settings_changed(
        self, guild_id: int, before: GuildSettings, after: GuildSettings
    ) -> None:
        for feature in list(self._features.values()):
            if feature.on_settings_changed is not None:
                await feature.on_settings_changed(guild_id, before, after)

    async def guild_added(self, guild: discord.Guild) -> None:
        """Hearth arrived in `guild` (new, or back within the retention window)."""
        for feature in list(self._features.values()):
            if (hook := feature.on_guild_added) is not None:
                await _isolated(feature, "on_guild_added", guild.id, lambda: hook(guild))

    async def guild_removed(self, guild_id: int) -> None:
        """Hearth was removed from a server (or found gone at start-up)."""
        for feature in list(self._features.values()):
            if (hook := feature.on_guild_removed) is not None:
                await _isolated(feature, "on_guild_removed", guild_id, lambda: hook(guild_id))


async def _isolated(
    feature: Feature, hook: str, guild_id: int, call: Callable[[], Awaitable[None]]
) -> None:
    """Run one feature's hook; a failure is logged, so the next feature still hears of it
    (a greeting that could not be sent must not stop a removed server's purge being planned)."""
    try:
        await call()
    except Exception:
        log.exception("feature %s failed in %s for guild %s", feature.name, hook, guild_id)
