"""The fake refuses what Discord refuses: bodies against Discord's OpenAPI spec, and its limits.

Each test sends a request straight to the fake (aiohttp, as a bot would) and checks Discord's
answer: 400, code 50035 "Invalid Form Body", and the refused field's path in `errors`. Every such
request is also recorded in `fake.violations`, which fails the test that sent it unless it opts
out, as these do with `allow_invalid_requests`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import pytest

from tests.fakediscord import FakeDiscord, FakeGuild, schema
from tests.fakediscord.models import FakeChannel, FakeInteraction
from tests.fakediscord.probe import BareDriver
from tests.harness import ErrorWatch, Harness

MESSAGES = "/channels/{channel_id}/messages"
refusing = pytest.mark.allow_invalid_requests


@dataclass
class Answer:
    status: int
    body: Any

    def refused_at(self, *path: str | int) -> list[str]:
        """The error codes Discord gives for the field at `path`; fails unless a 50035."""
        assert self.status == 400, self.body
        assert self.body["code"] == 50035 and self.body["message"] == "Invalid Form Body"
        node = self.body["errors"]
        for part in path:
            assert str(part) in node, f"no error at {path}: {json.dumps(self.body['errors'])}"
            node = node[str(part)]
        return [e["code"] for e in node["_errors"]]


@dataclass
class Bot:
    """A bot's HTTP session to the fake, and a server with a channel it may post in."""

    fake: FakeDiscord
    http: aiohttp.ClientSession
    guild: FakeGuild
    channel: FakeChannel

    async def send(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Answer:
        url = self.fake.api_base + path.format(
            channel_id=self.channel.id, application_id=self.fake.application_id
        )
        if body is not None:
            kwargs["json"] = body
        async with self.http.request(method, url, **kwargs) as response:
            data = await response.json() if response.content_type == "application/json" else None
            return Answer(response.status, data)

    async def post(self, body: Any) -> Answer:
        return await self.send("POST", MESSAGES, body)

    async def commands(self, commands: list[dict[str, Any]]) -> Answer:
        return await self.send("PUT", "/applications/{application_id}/commands", commands)

    def interaction(self, kind: int = 2) -> FakeInteraction:
        """A member's command (2) or autocomplete (4) waiting for the bot's answer."""
        fake, user = self.fake, self.guild.add_member(f"member{len(self.fake.interactions)}").user
        inter = FakeInteraction(
            id=fake.ids.next(),
            token=f"token{fake.ids.next()}",
            type=kind,
            user=user,
            guild_id=self.guild.id,
            channel_id=self.channel.id,
            data={"id": "1", "name": "ask", "type": 1},
            dispatched_at=fake.monotonic(),
        )
        fake.interactions[inter.id] = inter
        fake.interactions_by_token[inter.token] = inter
        return inter

    async def callback(self, body: dict[str, Any], kind: int = 2) -> Answer:
        inter = self.interaction(kind)
        return await self.send("POST", f"/interactions/{inter.id}/{inter.token}/callback", body)

    async def route(self, where: str) -> tuple[str, str]:
        """The method and path of one place a bot sends a message body to, ready for it."""
        if where == "create":
            return "POST", MESSAGES
        if where == "edit":
            posted = await self.post({"content": "to edit"})
            return "PATCH", f"{MESSAGES}/{posted.body['id']}"
        inter = self.interaction()
        if where == "reply":
            return "POST", f"/interactions/{inter.id}/{inter.token}/callback"
        deferred = await self.send(
            "POST", f"/interactions/{inter.id}/{inter.token}/callback", {"type": 5}
        )
        assert deferred.status == 204, deferred.body
        webhook = f"/webhooks/{self.fake.application_id}/{inter.token}"
        if where == "followup":
            return "POST", webhook
        return "PATCH", f"{webhook}/messages/@original"


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[Bot]:
    guild = fake.add_guild("Spec Server")
    channel = guild.add_text_channel("general")
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        yield Bot(fake, http, guild, channel)


def button(i: int = 0, **extra: Any) -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": "Join", "custom_id": f"b{i}"} | extra


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def select(options: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": 3, "custom_id": "pick", "options": options} | extra


def option(i: int = 0, **extra: Any) -> dict[str, Any]:
    return {"label": f"Group {i}", "value": str(i)} | extra


def command(**extra: Any) -> dict[str, Any]:
    return {"name": "group", "description": "Groups", "type": 1} | extra


def text_option(name: str = "name", **extra: Any) -> dict[str, Any]:
    return {"type": 3, "name": name, "description": "Which one"} | extra


def modal(*rows: dict[str, Any], title: str = "Sign up") -> dict[str, Any]:
    return {"type": 9, "data": {"custom_id": "m", "title": title, "components": list(rows)}}


def text_input(**extra: Any) -> dict[str, Any]:
    return {"type": 4, "custom_id": "t", "style": 1, "label": "Why"} | extra


# -- the spec: shapes -----------------------------------------------------------------------------


@refusing
async def test_a_wrong_type_is_refused_at_its_field(bot: Bot) -> None:
    answer = await bot.post({"content": 5, "tts": "yes", "embeds": [{"color": "red"}]})
    assert answer.refused_at("content") == ["STRING_TYPE_CONVERT"]
    assert answer.refused_at("tts") == ["BOOLEAN_TYPE_CONVERT"]
    assert answer.refused_at("embeds", 0, "color") == ["NUMBER_TYPE_COERCE"]
    assert bot.fake.channel_messages(bot.channel) == []  # nothing was posted


@refusing
async def test_an_unknown_enum_value_is_refused(bot: Bot) -> None:
    answer = await bot.post({"components": [row(button(style=9))]})
    assert answer.refused_at("components", 0, "components", 0, "style") == ["BASE_TYPE_CHOICES"]
    answer = await bot.post({"components": [{"type": 99, "components": []}]})
    assert answer.refused_at("components", 0, "type") == ["BASE_TYPE_CHOICES"]


@refusing
async def test_a_missing_required_field_is_refused(bot: Bot) -> None:
    answer = await bot.post({"components": [row({"type": 2, "label": "x", "custom_id": "a"})]})
    assert answer.refused_at("components", 0, "components", 0, "style") == ["BASE_TYPE_REQUIRED"]
    answer = await bot.commands([command(options=[{"type": 3, "name": "name"}])])
    assert answer.refused_at(0, "options", 0, "description") == ["BASE_TYPE_REQUIRED"]


@refusing
async def test_a_bad_snowflake_is_refused(bot: Bot) -> None:
    answer = await bot.post(
        {
            "content": "hi",
            "allowed_mentions": {"users": ["alice"]},
            "message_reference": {"message_id": "12ab"},
        }
    )
    assert answer.refused_at("allowed_mentions", "users", 0) == ["NUMBER_TYPE_COERCE"]
    assert answer.refused_at("message_reference", "message_id") == ["NUMBER_TYPE_COERCE"]
    refusal = answer.body["errors"]["message_reference"]["message_id"]["_errors"][0]
    assert refusal["message"] == 'Value "12ab" is not snowflake.'


@refusing
async def test_the_whole_body_of_the_wrong_kind_is_refused(bot: Bot) -> None:
    answer = await bot.commands({"name": "group"})  # type: ignore[arg-type]  # wrong on purpose
    assert answer.refused_at() == ["LIST_TYPE_CONVERT"]
    assert bot.fake.commands() == []


@refusing
async def test_invalid_json_is_refused(bot: Bot) -> None:
    answer = await bot.send(
        "POST", MESSAGES, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert answer.status == 400 and answer.body["code"] == 50109


def test_an_extra_field_is_refused_where_the_spec_forbids_it() -> None:
    # Discord's request schemas all allow extra fields (it ignores unknown keys), so the one
    # schema that forbids them, an error body's, shows the refusal is reported at the field.
    forbidding = [
        path
        for path, item in json.loads(schema.SPEC_FILE.read_text())["paths"].items()
        for op in item.values()
        if isinstance(op, dict) and 'additionalProperties": false' in json.dumps(op)
    ]
    assert forbidding == []
    refusals = schema.errors_under("InnerErrors", {"_errors": [], "unknown": 1})
    assert refusals == [(("unknown",), "UNKNOWN_FIELD", "This field is not allowed")]


@refusing
async def test_a_multipart_payload_json_is_checked_too(bot: Bot) -> None:
    form = aiohttp.FormData()
    form.add_field("payload_json", json.dumps({"embeds": [{"title": "x" * 257}]}))
    form.add_field("files[0]", b"hello", filename="a.txt")
    answer = await bot.send("POST", MESSAGES, data=form)
    assert answer.refused_at("embeds", 0, "title") == ["BASE_TYPE_MAX_LENGTH"]
    assert bot.fake.channel_messages(bot.channel) == []


async def test_discords_two_relaxations_pass(bot: Bot) -> None:
    member = bot.guild.add_member("alice")
    first = await bot.post({"content": "first"})
    assert first.status == 200
    answer = await bot.post(
        {
            "content": f"hi <@{member.id}>",
            "flags": "4",  # a numeric string for an integer
            "embeds": [{"title": "t", "color": "255"}],
            "allowed_mentions": {"users": [member.id]},  # integer snowflakes
            "message_reference": {"message_id": int(first.body["id"])},
            "nonce": "12345",  # a numeric string where the spec has integer-or-string
        }
    )
    assert answer.status == 200, answer.body
    assert bot.fake.violations == [] and bot.fake.unchecked == []


@pytest.mark.allow_unimplemented
async def test_a_body_the_spec_has_no_schema_for_is_recorded(bot: Bot) -> None:
    watch = ErrorWatch()  # a watch without this test's opt-out
    watch.fakes.append(bot.fake)
    answer = await bot.send("POST", "/channels/{channel_id}/typing", {"x": 1})
    assert answer.status == 204
    gap = "POST /channels/{channel_id}/typing: the spec has no request body for " + (
        "POST /channels/{channel_id}/typing"
    )
    assert bot.fake.unchecked == [gap]
    assert watch.problems() == [f"Discord's spec cannot check a request: {gap}"]
    with pytest.raises(schema.NoSchema, match="no such route"):
        schema.check("GET", "/channels/{channel_id}/nonsense", None, sent=False)


@refusing
async def test_a_refused_request_fails_the_test_that_sent_it(bot: Bot) -> None:
    watch = ErrorWatch()  # a watch without this test's opt-out
    watch.fakes.append(bot.fake)
    await bot.post({"content": "x" * 2001})
    assert watch.problems() == [
        "Discord would refuse a request: POST /channels/{channel_id}/messages: content: Must be "
        "between 0 and 2000 in length. (BASE_TYPE_BAD_LENGTH)"
    ]


@refusing
async def test_discord_py_raises_the_50035_with_the_field(fake: FakeDiscord) -> None:
    async with Harness.standard(fake, BareDriver()) as world:
        assert world.bot is not None
        channel = world.bot.get_channel(world.general.id)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as caught:
            await channel.send(embed=discord.Embed(title="x" * 257))
        assert caught.value.status == 400 and caught.value.code == 50035
        assert "embeds.0.title" in str(caught.value)
    assert len(fake.violations) == 1


# -- documented limits: messages and embeds ------------------------------------------------------


def embed(**extra: Any) -> dict[str, Any]:
    return {"title": "Groups"} | extra


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"content": "x" * 2001}, ("content",)),
        ({"embeds": [embed()] * 11}, ("embeds",)),
        ({"embeds": [embed(description="x" * 3500)] * 2}, ("embeds",)),
        ({"embeds": [embed(fields=[{"name": "n", "value": "v"}] * 26)]}, ("embeds", 0, "fields")),
        ({"embeds": [embed(title="x" * 257)]}, ("embeds", 0, "title")),
        ({"embeds": [embed(description="x" * 4097)]}, ("embeds", 0, "description")),
        (
            {"embeds": [embed(fields=[{"name": "x" * 257, "value": "v"}])]},
            ("embeds", 0, "fields", 0, "name"),
        ),
        (
            {"embeds": [embed(fields=[{"name": "n", "value": "x" * 1025}])]},
            ("embeds", 0, "fields", 0, "value"),
        ),
        (
            {"embeds": [embed(fields=[{"name": "n", "value": ""}])]},
            ("embeds", 0, "fields", 0, "value"),
        ),
        ({"embeds": [embed(footer={"text": "x" * 2049})]}, ("embeds", 0, "footer", "text")),
        ({"embeds": [embed(author={"name": "x" * 257})]}, ("embeds", 0, "author", "name")),
    ],
    ids=[
        "content-2001",
        "11-embeds",
        "embeds-total-6000",
        "26-fields",
        "title-257",
        "description-4097",
        "field-name-257",
        "field-value-1025",
        "field-value-empty",
        "footer-2049",
        "author-257",
    ],
)
@refusing
async def test_message_and_embed_limits(bot: Bot, body: dict[str, Any], path: tuple[Any]) -> None:
    assert (await bot.post(body)).refused_at(*path)
    assert bot.fake.channel_messages(bot.channel) == []
    assert len(bot.fake.violations) == 1


@refusing
async def test_embed_total_counts_every_counted_part_across_embeds(bot: Bot) -> None:
    parts = {
        "title": "t" * 256,
        "description": "d" * 1000,
        "footer": {"text": "f" * 400},
        "author": {"name": "a" * 200},
        "fields": [{"name": "n" * 100, "value": "v" * 44}],
    }  # 2,000 characters
    assert (await bot.post({"embeds": [parts] * 3})).status == 200  # exactly 6,000
    parts["fields"] = [{"name": "n" * 100, "value": "v" * 45}]
    codes = (await bot.post({"embeds": [parts] * 3})).refused_at("embeds")
    assert codes == ["MAX_EMBED_SIZE_EXCEEDED"]


# -- documented limits: components, everywhere a message can carry them --------------------------

IN_ROW = ("components", 0, "components", 0)
MESSAGE_ROUTES = ["create", "edit", "reply", "followup", "edit-original"]


@pytest.mark.parametrize(
    ("components", "path"),
    [
        ([row(button(i)) for i in range(6)], ("components",)),
        ([row(*[button(i) for i in range(6)])], ("components", 0, "components")),
        ([row(select([option(i) for i in range(26)]))], (*IN_ROW, "options")),
        ([row(button(label="x" * 81))], (*IN_ROW, "label")),
        ([row(button(custom_id="x" * 101))], (*IN_ROW, "custom_id")),
        ([row(select([option(label="x" * 101)]))], (*IN_ROW, "options", 0, "label")),
        ([row(select([option(value="x" * 101)]))], (*IN_ROW, "options", 0, "value")),
        ([row(select([option(description="x" * 101)]))], (*IN_ROW, "options", 0, "description")),
        ([row(select([option()], custom_id="x" * 101))], (*IN_ROW, "custom_id")),
        ([row(button(0), button(0))], ("components", 0, "components", 1, "custom_id")),
        ([row({"type": 2, "style": 5, "label": "Docs"})], (*IN_ROW, "url")),
    ],
    ids=[
        "6-rows",
        "6-buttons",
        "26-options",
        "button-label-81",
        "custom-id-101",
        "option-label-101",
        "option-value-101",
        "option-description-101",
        "select-custom-id-101",
        "duplicate-custom-id",
        "link-without-url",
    ],
)
@pytest.mark.parametrize("where", MESSAGE_ROUTES)
@refusing
async def test_component_limits_on_every_message_route(
    bot: Bot, components: list[dict[str, Any]], path: tuple[Any, ...], where: str
) -> None:
    method, route = await bot.route(where)
    body: dict[str, Any] = {"content": "Pick one", "components": components}
    prefix = ("data",) if where == "reply" else ()
    answer = await bot.send(method, route, {"type": 4, "data": body} if prefix else body)
    assert answer.refused_at(*prefix, *path)
    assert len(bot.fake.violations) == 1


async def test_components_at_the_limits_are_accepted(bot: Bot) -> None:
    rows = [row(*[button(5 * r + i, label="x" * 80) for i in range(5)]) for r in range(4)]
    options = [
        option(i, label="l" * 100, value=f"{i:0>100}", description="d" * 100) for i in range(25)
    ]
    rows.append(row(select(options, custom_id="c" * 100)))
    assert (await bot.post({"content": "x" * 2000, "components": rows})).status == 200


# -- documented limits: modals and autocomplete --------------------------------------------------


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (modal(row(text_input()), title="x" * 46), ("data", "title")),
        (modal(*[row(text_input(custom_id=f"t{i}")) for i in range(6)]), ("data", "components")),
        (modal(row(text_input(label="x" * 46))), ("data", *IN_ROW, "label")),
        (modal(row(text_input(value="x" * 4001))), ("data", *IN_ROW, "value")),
        (
            modal({"type": 18, "label": "x" * 46, "component": text_input(label=None)}),
            ("data", "components", 0, "label"),
        ),
        (
            modal({"type": 18, "label": "Pick", "component": select([option(label="x" * 101)])}),
            ("data", "components", 0, "component", "options", 0, "label"),
        ),
        (
            {
                "type": 8,
                "data": {"choices": [{"name": f"{i}", "value": f"{i}"} for i in range(26)]},
            },
            ("data", "choices"),
        ),
        (
            {"type": 8, "data": {"choices": [{"name": "x" * 101, "value": "a"}]}},
            ("data", "choices", 0, "name"),
        ),
        (
            {"type": 8, "data": {"choices": [{"name": "a", "value": "x" * 101}]}},
            ("data", "choices", 0, "value"),
        ),
    ],
    ids=[
        "modal-title-46",
        "modal-6-inputs",
        "input-label-46",
        "input-value-4001",
        "label-46",
        "modal-select-option-101",
        "26-choices",
        "choice-name-101",
        "choice-value-101",
    ],
)
@refusing
async def test_modal_and_autocomplete_limits(
    bot: Bot, body: dict[str, Any], path: tuple[Any, ...]
) -> None:
    answer = await bot.callback(body, kind=4 if body["type"] == 8 else 2)
    assert answer.refused_at(*path)
    assert len(bot.fake.violations) == 1


# -- documented limits: slash commands -----------------------------------------------------------


def sized(total: int) -> dict[str, Any]:
    """A command of exactly `total` characters as Discord counts them (every name, description
    and choice value), spread over options and their choices."""
    cmd = command(options=[])
    left = total - len(cmd["name"]) - len(cmd["description"])
    while left > 0:
        name = f"o{len(cmd['options'])}"
        opt = text_option(name, description="d" * min(100, left - len(name)))
        left -= len(name) + len(opt["description"])
        choices: list[dict[str, str]] = []
        while left > 3 and len(choices) < 25:
            value = "v" * min(100, left - 3)
            choices.append({"name": f"c{len(choices):02}", "value": value})
            left -= 3 + len(value)
        cmd["options"].append(opt | ({"choices": choices} if choices else {}))
    assert left == 0
    return cmd


@pytest.mark.parametrize(
    ("commands", "path"),
    [
        ([command(name="Group")], (0, "name")),
        ([command(name="x" * 33)], (0, "name")),
        ([command(name="")], (0, "name")),
        ([command(name="two words")], (0, "name")),
        ([command(description="")], (0, "description")),
        ([command(description="x" * 101)], (0, "description")),
        ([command(options=[text_option(f"o{i}") for i in range(26)])], (0, "options")),
        (
            [
                command(
                    options=[
                        text_option(choices=[{"name": f"{i}", "value": f"{i}"} for i in range(26)])
                    ]
                )
            ],
            (0, "options", 0, "choices"),
        ),
        ([command(options=[text_option("Name")])], (0, "options", 0, "name")),
        ([command(options=[text_option(description="")])], (0, "options", 0, "description")),
        (
            [
                command(
                    options=[
                        {
                            "type": 1,
                            "name": "join",
                            "description": "d",
                            "options": [text_option("Bad")],
                        }
                    ]
                )
            ],
            (0, "options", 0, "options", 0, "name"),
        ),
        ([command(name_localizations={"fr": "Groupe"})], (0, "name_localizations", "fr")),
        ([command(name_localizations={"fr": "x" * 33})], (0, "name_localizations", "fr")),
        ([command(description_localizations={"fr": ""})], (0, "description_localizations", "fr")),
        (
            [command(options=[text_option(name_localizations={"de": "Name"})])],
            (0, "options", 0, "name_localizations", "de"),
        ),
        ([sized(4001)], (0,)),
        ([command(name=f"c{i}") for i in range(101)], ()),
        ([command(), command()], (1, "name")),
        (
            [command(options=[text_option("a"), text_option("b", required=True)])],
            (0, "options", 1, "required"),
        ),
    ],
    ids=[
        "uppercase-name",
        "name-33",
        "name-empty",
        "name-space",
        "description-empty",
        "description-101",
        "26-options",
        "26-choices",
        "option-uppercase",
        "option-description-empty",
        "subcommand-option-name",
        "localized-name-uppercase",
        "localized-name-33",
        "localized-description-empty",
        "localized-option-name",
        "command-4001-characters",
        "101-commands",
        "duplicate-names",
        "required-after-optional",
    ],
)
@refusing
async def test_command_limits(
    bot: Bot, commands: list[dict[str, Any]], path: tuple[Any, ...]
) -> None:
    assert (await bot.commands(commands)).refused_at(*path)
    assert bot.fake.commands() == []


async def test_commands_at_the_limits_are_accepted(bot: Bot) -> None:
    many = [command(name=f"c{i}") for i in range(99)]
    answer = await bot.commands([*many, sized(4000), command(name="x" * 32, type=2)])
    assert answer.status == 200, answer.body
    assert len(bot.fake.commands()) == 101


@refusing
async def test_the_4000_characters_count_each_locale(bot: Bot) -> None:
    cmd = sized(3990)
    cmd["description_localizations"] = {"de": "G" * 16}  # 10 more characters in German
    assert (await bot.commands([cmd])).status == 200
    cmd["description_localizations"] = {"de": "G" * 17}
    assert (await bot.commands([cmd])).refused_at(0) == ["APPLICATION_COMMAND_TOO_LARGE"]


@refusing
async def test_a_101st_command_created_alone_is_refused(bot: Bot) -> None:
    assert (await bot.commands([command(name=f"c{i}") for i in range(100)])).status == 200
    one = "/applications/{application_id}/commands"
    replaced = await bot.send("POST", one, command(name="c0", description="Renamed"))
    assert replaced.status == 200  # same name: replaces, the count stays 100
    answer = await bot.send("POST", one, command(name="c100"))
    assert answer.status == 400 and answer.body["code"] == 30032
    assert len(bot.fake.commands()) == 100 and len(bot.fake.violations) == 1
