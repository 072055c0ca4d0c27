"""The persistent-item base: one route gives the template and the custom_id, and errors are
routed to the one handler."""

from __future__ import annotations

from typing import Any

import discord
import pytest

import cogs._ui
from bot.errors import UserFacingError
from cogs._routes import PersistentButton, Route


def test_a_route_makes_custom_ids_its_template_reads_back() -> None:
    route = Route("hearth:t.x:{guild}:{answer:yes|no}:{score:[1-5]}")
    made = route.custom_id(42, "yes", 3)
    assert made == "hearth:t.x:42:yes:3"
    match = route.template.fullmatch(made)
    assert match is not None
    assert route.values(match) == [42, "yes", 3]
    assert route.template.fullmatch("hearth:tXx:42:yes:3") is None  # literal text is escaped


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ((42, "maybe", 3), ValueError),  # outside its pattern: a press could never match it
        ((42, "yes", 9), ValueError),
        ((10**99, "yes", 3), ValueError),  # longer than Discord's 100 characters
        ((42, "yes"), TypeError),
    ],
)
def test_a_custom_id_that_would_not_route_back_is_refused(
    values: tuple[object, ...], error: type[Exception]
) -> None:
    route = Route("hearth:t:{guild}:{answer:yes|no}:{score:[1-5]}")
    with pytest.raises(error):
        route.custom_id(*values)


def test_a_route_naming_a_field_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        Route("hearth:t:{id}:{id}")


class Probe(PersistentButton, route="hearth:test:probe:{guild}:{kind:up|down}"):
    def __init__(self, guild_id: int, kind: str) -> None:
        super().__init__(self.button(guild_id, kind, label="Probe"))
        self.guild_id, self.kind = guild_id, kind

    async def callback(self, interaction: discord.Interaction) -> None:
        raise UserFacingError(f"refused {self.guild_id} {self.kind}")


async def test_a_press_is_rebuilt_from_its_custom_id_and_its_error_reaches_the_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent = Probe(7, "down")
    assert sent.custom_id == "hearth:test:probe:7:down"
    match = Probe.route.template.fullmatch(sent.custom_id)
    assert match is not None
    pressed = await Probe.from_custom_id(None, sent.item, match)  # type: ignore[arg-type]  # unused
    assert (pressed.guild_id, pressed.kind) == (7, "down")

    reported: list[BaseException] = []

    async def report(interaction: Any, error: BaseException) -> None:
        reported.append(error)

    monkeypatch.setattr(cogs._ui, "report_error", report)
    await pressed.callback(None)  # type: ignore[arg-type]  # the probe never reads it
    assert [str(error) for error in reported] == ["refused 7 down"]
