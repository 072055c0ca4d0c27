"""Persistent components described by one route string.

A button or select that must keep working after a restart is a `DynamicItem`: discord.py
matches each press's custom_id against the class's template and rebuilds the item from it.
Written by hand, the template (a regex) and the custom_id (an f-string) are two copies of the
same shape that can drift apart, and every class has to remember to route its errors. Here both
come from one route, such as ``"hearth:ci:mood:{occurrence}:{mood:[1-5]}"``, and the callback's
failures always reach the one error handler (`bot.tree.report_error`).

A field written ``{name}`` is a number (``\\d+``). ``{name:PATTERN}`` matches PATTERN; it is a
number too when PATTERN has no letters (``[1-5]``), and text otherwise (``yes|no``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar, Self, TypeVar

import discord

from cogs._ui import routed_errors

ItemT = TypeVar("ItemT", bound=discord.ui.Item[Any])

_FIELD = re.compile(r"\{(?P<name>[a-z_]+)(?::(?P<pattern>[^{}]+))?\}")
# Discord's limit on a component's custom_id.
MAX_CUSTOM_ID = 100


class Route:
    """One route's template for matching presses and its format for making custom_ids."""

    def __init__(self, route: str) -> None:
        self.route = route
        self.numbers: dict[str, bool] = {}
        parts: list[str] = []
        last = 0
        for found in _FIELD.finditer(route):
            name, pattern = found["name"], found["pattern"]
            if name in self.numbers:
                raise ValueError(f"route {route!r} names {name!r} twice")
            self.numbers[name] = pattern is None or not re.search(r"[A-Za-z]", pattern)
            matches = pattern or r"\d+"
            parts += [re.escape(route[last : found.start()]), f"(?P<{name}>{matches})"]
            last = found.end()
        parts.append(re.escape(route[last:]))
        self.template = re.compile("".join(parts))

    def custom_id(self, *values: object) -> str:
        """The custom_id for these field values, in the route's order; refused if it would not
        be matched back (a value outside its pattern) or Discord would refuse its length."""
        if len(values) != len(self.numbers):
            raise TypeError(f"route {self.route!r} takes {len(self.numbers)} values")
        made = _FIELD.sub(lambda _: "{}", self.route).format(*values)
        if not self.template.fullmatch(made) or len(made) > MAX_CUSTOM_ID:
            raise ValueError(f"{made!r} does not fit the route {self.route!r}")
        return made

    def values(self, match: re.Match[str]) -> list[int | str]:
        return [
            int(match[name]) if number else match[name] for name, number in self.numbers.items()
        ]


class Persistent(discord.ui.DynamicItem[ItemT], template=r"(?!)"):
    """A persistent component whose template and custom_id both come from its ``route``.

    A press is rebuilt as ``cls(*fields)`` in the route's order; a class whose constructor
    takes something else (a flag, the pressed item's label) overrides `from_route`.
    """

    route: ClassVar[Route]

    def __init_subclass__(cls, *, route: str | None = None, **kwargs: Any) -> None:
        if route is None:  # a shared base of persistent items, not one Discord can send
            super().__init_subclass__(template=r"(?!)", **kwargs)
            return
        cls.route = Route(route)
        super().__init_subclass__(template=cls.route.template, **kwargs)
        if "callback" in cls.__dict__:
            # Wrapped once, as the class is made; discord.py's own signature is generic in the
            # client, which the wrapper's plain `discord.Interaction` is an instance of.
            cls.callback = routed_errors(cls.__dict__["callback"])  # type: ignore[method-assign, assignment]

    @classmethod
    def custom_id_for(cls, *values: object) -> str:
        return cls.route.custom_id(*values)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        return cls.from_route(item, *cls.route.values(match))

    @classmethod
    def from_route(cls, item: discord.ui.Item[Any], *values: int | str) -> Self:
        make: Callable[..., Self] = cls  # a subclass's constructor takes the route's fields
        return make(*values)


class PersistentButton(Persistent[discord.ui.Button[Any]]):
    """A persistent button: `button` makes the `discord.ui.Button` with the route's custom_id."""

    @classmethod
    def button(cls, *values: object, **style: Any) -> discord.ui.Button[Any]:
        return discord.ui.Button(custom_id=cls.custom_id_for(*values), **style)


class RecordButton(PersistentButton):
    """A button about one stored thing (a group, a session) whose id is the route's one field.

    `default_label` and `button_style` are the class's; a label given when sending replaces the
    default, and a press is rebuilt with the label that was pressed.
    """

    default_label: ClassVar[str]
    button_style: ClassVar[discord.ButtonStyle] = discord.ButtonStyle.secondary

    def __init__(self, record_id: int, label: str | None = None, row: int | None = None) -> None:
        super().__init__(
            self.button(
                record_id, label=label or self.default_label, style=self.button_style, row=row
            )
        )
        self.record_id = record_id

    @classmethod
    def from_route(cls, item: discord.ui.Item[Any], *values: int | str) -> Self:
        return cls(int(values[0]), getattr(item, "label", None))
