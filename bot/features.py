"""The one contract between a feature and the rest of Hearth.

A feature's cog declares a `Feature` when it loads (`bot.features.add(...)`) and withdraws it
when it unloads (`bot.features.remove(name)`). The declaration says everything the feature adds
to what others do:

- `about`: the counts it adds to `/about` ("12 groups");
- `join_gates`: the steps it puts before a group join (the guidelines feature's "read and
  agree"); the groups feature asks every gate for its next step and shows the first;
- `on_settings_changed`: what it brings in line when a coordinator changes a server's settings;
- `apis`: the typed calls it offers other features, each under an `ApiKey` declared here, so a
  caller gets a typed callable or None (the feature is not loaded) — never a cog looked up by
  name.

Nothing else is shared between features: no attributes hung on the bot, no cog names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

import discord

if TYPE_CHECKING:
    from bot.services.settings import GuildSettings

T = TypeVar("T")

StatCounter = Callable[[int], Awaitable[int]]
SettingsChanged = Callable[[int, "GuildSettings", "GuildSettings"], Awaitable[None]]


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
    about: Mapping[str, StatCounter] = field(default_factory=dict)
    join_gates: Sequence[JoinGate] = ()
    on_settings_changed: SettingsChanged | None = None
    apis: Mapping[ApiKey[Any], object] = field(default_factory=dict)

    def offering(self, key: ApiKey[T], call: T) -> Feature:
        """This declaration with one more API: typed here, so a wrong callable fails mypy."""
        return Feature(
            name=self.name,
            about=self.about,
            join_gates=self.join_gates,
            on_settings_changed=self.on_settings_changed,
            apis={**self.apis, key: call},
        )


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

    def about(self) -> list[tuple[str, StatCounter]]:
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
