"""The fake shards like Discord: GET /gateway/bot, routing by shard, 4010/4011, per-shard RESUME
and the session start limits. Each test talks to the gateway as a bare websocket client does, so
it sees exactly the frames and close codes Discord would send.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from tests.fakediscord import FakeDiscord, FakeGuild, schema
from tests.fakediscord.gateway import GUILD_MEMBERS, GUILDS, MAX_GUILDS_PER_SHARD, shard_of

INTENTS = GUILDS | GUILD_MEMBERS | (1 << 12)  # + direct messages


@dataclass
class RawShard:
    """One websocket to the fake, as a bot's shard holds it."""

    ws: aiohttp.ClientWebSocketResponse
    events: list[dict[str, Any]] = field(default_factory=list)
    opcodes: list[int] = field(default_factory=list)
    session_id: str = ""
    seq: int = 0

    async def receive(self, timeout: float = 2.0) -> dict[str, Any] | None:  # noqa: ASYNC109
        """The next frame, or None once the fake closed the socket."""
        msg = await self.ws.receive(timeout=timeout)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return None
        frame: dict[str, Any] = json.loads(msg.data)
        self.opcodes.append(frame["op"])
        if frame["op"] == 0:
            self.events.append(frame)
            self.seq = frame["s"]
            if frame["t"] == "READY":
                self.session_id = frame["d"]["session_id"]
        return frame

    async def until(self, event: str) -> dict[str, Any]:
        while True:
            frame = await self.receive()
            assert frame is not None, f"closed with {self.ws.close_code} before {event}"
            if frame.get("t") == event:
                return frame["d"]  # type: ignore[no-any-return]  # JSON

    async def closed_with(self) -> int | None:
        while await self.receive() is not None:
            pass
        return self.ws.close_code

    def names(self, event: str) -> list[str]:
        return [e["d"]["user"]["username"] for e in self.events if e["t"] == event]

    def guild_ids(self, event: str) -> list[int]:
        return [int(e["d"]["id"]) for e in self.events if e["t"] == event]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def connect(http: aiohttp.ClientSession, fake: FakeDiscord) -> RawShard:
    ws = await http.ws_connect(fake.gateway_url + "?v=10&encoding=json")
    shard = RawShard(ws)
    hello = await shard.receive()
    assert hello is not None and hello["op"] == 10
    return shard


async def identify(
    http: aiohttp.ClientSession, fake: FakeDiscord, shard: Any = None, *, wait: bool = True
) -> RawShard:
    """IDENTIFY (with `shard` unless None); waits for READY unless told not to."""
    raw = await connect(http, fake)
    d: dict[str, Any] = {"token": fake.token, "intents": INTENTS, "properties": {}}
    if shard is not None:
        d["shard"] = shard
    await raw.ws.send_json({"op": 2, "d": d})
    if wait:
        await raw.until("READY")
    return raw


def spread(fake: FakeDiscord, count: int) -> list[FakeGuild]:
    """One server on each of `count` shards, each with a member named after its shard."""
    guilds = [fake.add_guild(f"Server {i}", shard=(i, count)) for i in range(count)]
    for i, guild in enumerate(guilds):
        assert shard_of(guild.id, count) == i
        guild.add_member(f"first-{i}")
        guild.add_text_channel("general")
    return guilds


async def test_gateway_bot_says_url_recommended_shards_and_limits(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    async def ask() -> dict[str, Any]:
        headers = {"Authorization": f"Bot {fake.token}"}
        async with http.get(fake.api_base + "/gateway/bot", headers=headers) as response:
            assert response.status == 200
            body: dict[str, Any] = await response.json()
        assert schema.errors_under("GatewayBotResponse", body) == []
        return body

    body = await ask()
    assert body["url"] == fake.gateway_url and body["shards"] == 1
    assert body["session_start_limit"] == {
        "total": 1000,
        "remaining": 1000,
        "reset_after": 86_400_000,
        "max_concurrency": 1,
    }
    fake.gateway.guilds_per_recommended_shard = 2  # one shard per 2 servers, for the test
    for i in range(5):
        fake.add_guild(f"Server {i}")
    fake.add_guild("Without the bot", with_bot=False)
    assert (await ask())["shards"] == 3
    fake.gateway.recommended_shards = 7
    assert (await ask())["shards"] == 7
    await identify(http, fake, [0, 1])
    assert (await ask())["session_start_limit"]["remaining"] == 999


async def test_each_guilds_events_go_only_to_its_shard(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    guilds = spread(fake, 3)
    fake.gateway.max_concurrency = 3  # the three shards may IDENTIFY at once
    shards = [await identify(http, fake, [i, 3]) for i in range(3)]
    for i, raw in enumerate(shards):
        ready = raw.events[0]["d"]
        assert ready["shard"] == [i, 3]
        assert [int(g["id"]) for g in ready["guilds"]] == [guilds[i].id]
        await raw.until("GUILD_CREATE")
        assert raw.guild_ids("GUILD_CREATE") == [guilds[i].id]
    guilds[1].add_member("newcomer")
    fake.global_commands.append({"id": "1", "name": "ping", "type": 1, "description": "Ping"})
    fake.actions.slash(guilds[2].member("first-2"), guilds[2].channel("general"), "ping", {})
    fake.actions.send_message(guilds[0].member("first-0"), None, "a DM")
    await shards[1].until("GUILD_MEMBER_ADD")
    interaction = await shards[2].until("INTERACTION_CREATE")
    assert int(interaction["guild_id"]) == guilds[2].id
    dm = await shards[0].until("MESSAGE_CREATE")
    assert "guild_id" not in dm
    fake.actions.slash(guilds[1].member("first-1"), None, "ping", {})  # in DMs: shard 0
    assert "guild_id" not in await shards[0].until("INTERACTION_CREATE")
    await fake.flush()
    for i, raw in enumerate(shards):
        got = [e["t"] for e in raw.events if e["t"] not in ("READY", "GUILD_CREATE")]
        assert (
            got
            == [
                ["MESSAGE_CREATE", "INTERACTION_CREATE"],
                ["GUILD_MEMBER_ADD"],
                ["INTERACTION_CREATE"],
            ][i]
        )
    fake.remove_bot_from_guild(guilds[1])  # GUILD_DELETE carries the guild's id as `id`
    assert await shards[1].until("GUILD_DELETE") == {"id": str(guilds[1].id)}
    await fake.flush()
    assert not any(e["t"] == "GUILD_DELETE" for raw in (shards[0], shards[2]) for e in raw.events)


async def test_identify_without_shard_is_shard_0_of_1(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    guilds = spread(fake, 2)
    raw = await identify(http, fake)
    assert "shard" not in raw.events[0]["d"]
    assert len(raw.events[0]["d"]["guilds"]) == 2
    await raw.until("GUILD_CREATE")
    await raw.until("GUILD_CREATE")
    assert sorted(raw.guild_ids("GUILD_CREATE")) == sorted(g.id for g in guilds)


@pytest.mark.parametrize(
    "shard", [[-1, 2], [2, 2], [0, 0], [0], [0, 1, 2], "0,1", [0, "1"], [True, 2], [0.0, 1]]
)
async def test_an_invalid_shard_is_closed_with_4010(
    fake: FakeDiscord, http: aiohttp.ClientSession, shard: Any
) -> None:
    raw = await identify(http, fake, shard, wait=False)
    assert await raw.closed_with() == 4010
    assert fake.gateway.identify_count == 0 and fake.gateway.live_sessions == []


async def test_too_many_guilds_on_one_session_is_closed_with_4011(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    fake.gateway.max_guilds_per_shard = 3  # Discord's 2,500, lowered for the test
    for i in range(4):
        fake.add_guild(f"Server {i}", shard=(i % 2, 2))
    raw = await identify(http, fake, wait=False)
    assert await raw.closed_with() == 4011
    raw = await identify(http, fake, [0, 1], wait=False)
    assert await raw.closed_with() == 4011
    assert fake.gateway.identify_count == 0
    assert fake.gateway.session_start_remaining == 1000  # a refused IDENTIFY spends nothing
    fake.gateway.max_concurrency = 2  # both shards at once
    first, second = [await identify(http, fake, [i, 2]) for i in range(2)]
    assert len(first.events[0]["d"]["guilds"]) == len(second.events[0]["d"]["guilds"]) == 2


async def test_4011_at_discords_real_2500(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    assert fake.gateway.max_guilds_per_shard == MAX_GUILDS_PER_SHARD == 2500
    for i in range(2500):
        fake.add_guild(f"Server {i}", owner=fake.app_owner)
    raw = await identify(http, fake)  # exactly 2,500 is allowed
    assert len(raw.events[0]["d"]["guilds"]) == 2500
    await raw.ws.close()
    fake.gateway.forget_identify_window()
    fake.add_guild("One too many", owner=fake.app_owner)
    raw = await identify(http, fake, wait=False)
    assert await raw.closed_with() == 4011


async def test_one_shard_resumes_alone_and_gets_what_it_missed(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    guilds = spread(fake, 2)
    fake.gateway.max_concurrency = 2
    shards = [await identify(http, fake, [i, 2]) for i in range(2)]
    fake.drop_connection(shard=1)
    assert await shards[1].closed_with() == 4000
    await fake.wait_for(lambda: not fake.gateway.connected_for(guilds[1].id))
    assert fake.gateway.connected_for(guilds[0].id)
    guilds[1].add_member("while-away")  # shard 1 is away: kept for its RESUME
    guilds[0].add_member("still-here")  # shard 0 gets it at once
    assert (await shards[0].until("GUILD_MEMBER_ADD"))["user"]["username"] == "still-here"
    back = await connect(http, fake)
    await back.ws.send_json(
        {
            "op": 6,
            "d": {"token": fake.token, "session_id": shards[1].session_id, "seq": shards[1].seq},
        }
    )
    missed = await back.until("GUILD_MEMBER_ADD")
    assert missed["user"]["username"] == "while-away"
    await back.until("RESUMED")
    assert fake.gateway.resume_count == 1 and fake.gateway.identify_count == 2
    assert shards[0].names("GUILD_MEMBER_ADD") == ["still-here"]
    assert not shards[0].ws.closed


async def test_max_concurrency_refuses_a_second_identify_of_one_key_within_5s(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    fake.gateway.max_concurrency = 2  # keys: shard_id % 2
    await identify(http, fake, [0, 4])
    await identify(http, fake, [1, 4])  # another key: at once
    refused = await identify(http, fake, [2, 4], wait=False)  # key 0 again within 5 s
    frame = await refused.receive()
    assert frame is not None and frame["op"] == 9 and frame["d"] is False
    assert fake.gateway.identify_refusals == 1 and fake.gateway.identify_count == 2
    fake.advance_time(5.0)  # the fake's clock of deadlines, so the test never sleeps
    await identify(http, fake, [2, 4])
    assert fake.gateway.identify_count == 3
    assert fake.gateway.session_start_remaining == 997


async def test_identify_past_remaining_resets_the_token_and_ends_every_session(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    fake.gateway.max_concurrency = 16
    fake.gateway.session_start_remaining = 1
    old_token = fake.token
    live = await identify(http, fake, [0, 2])
    late = await identify(http, fake, [1, 2], wait=False)
    assert await late.closed_with() == 4004
    assert await live.closed_with() == 4004
    assert fake.token != old_token and fake.gateway.token_resets == 1
    assert fake.gateway.live_sessions == []
    headers = {"Authorization": f"Bot {old_token}"}
    async with http.get(fake.api_base + "/users/@me", headers=headers) as response:
        assert response.status == 401
