"""The gateway websocket: HELLO/IDENTIFY/READY/RESUME, heartbeats, member chunks, event dispatch.

Sharding works as on Discord: IDENTIFY may carry `shard: [shard_id, shard_count]` (none means
[0, 1]); each session then gets only its guilds, those with `(guild_id >> 22) % shard_count ==
shard_id` (READY, GUILD_CREATE and every event of the guild, interactions included), and DMs
(events without a guild) go to shard 0. A bad `shard` is closed with 4010 (Invalid shard), and a
session that would hold more than `max_guilds_per_shard` (2,500, as on Discord; tests lower it)
guilds with 4011 (Sharding required). Each shard's session is RESUMEd on its own.

Session starts are limited as `GET /gateway/bot` says (`session_start_limit`); see `_identify`
for what happens when a bot goes over `remaining` or `max_concurrency`.

Frames go out zlib-compressed through one shared compressor per connection with Z_SYNC_FLUSH, as
Discord does for `compress=zlib-stream`, so discord.py's real decompression path is exercised.
Events are filtered per session by the intents it identified with, by whether the bot is in the
guild, and by whether the bot can see the channel; MESSAGE_* payloads lose their content when the
session lacks the message-content intent (except DMs, mentions of the bot and its own messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import math
import secrets
import zlib
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .permissions import Perm

if TYPE_CHECKING:
    from .guild import FakeGuild
    from .models import FakeChannel
    from .state import FakeState

log = logging.getLogger("tests.fakediscord.gateway")

GUILDS, GUILD_MEMBERS, GUILD_PRESENCES = 1 << 0, 1 << 1, 1 << 8
GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT = 1 << 9, 1 << 12, 1 << 15
GUILD_SCHEDULED_EVENTS = 1 << 16
HEARTBEAT_INTERVAL_MS = 41250
MAX_GUILDS_PER_SHARD = 2500  # more than this on one session: 4011 Sharding required
GUILDS_PER_RECOMMENDED_SHARD = 1000  # what Discord's `shards` recommendation aims at
IDENTIFY_WINDOW_SECONDS = 5.0  # one IDENTIFY per rate-limit key per window (max_concurrency)
SESSION_START_TOTAL = 1000  # IDENTIFYs a bot may make per day
_GUILD_KEYED = ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE")  # the guild's id is `id`

_EVENT_INTENTS = {
    "GUILD_MEMBER_ADD": GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": GUILD_MEMBERS,
    "THREAD_MEMBERS_UPDATE": GUILD_MEMBERS,
    "GUILD_SCHEDULED_EVENT_CREATE": GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_UPDATE": GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_DELETE": GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_USER_ADD": GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_USER_REMOVE": GUILD_SCHEDULED_EVENTS,
    "INTERACTION_CREATE": 0,
}
_MESSAGE_EVENTS = ("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "CHANNEL_PINS_UPDATE")
_CONTENT_KEYS = {"content": "", "embeds": [], "attachments": [], "components": []}


class Connection:
    """One websocket; a writer task sends queued frames in order so sync code can dispatch."""

    def __init__(self, state: FakeState, ws: web.WebSocketResponse, compress: bool) -> None:
        self.state = state
        self.ws = ws
        self.compressor = zlib.compressobj() if compress else None
        self.queue: asyncio.Queue[str | int] = asyncio.Queue()
        self.closed_by_server: int | None = None
        self.writer = asyncio.create_task(self._write(), name="fakediscord-gateway-writer")

    def send(self, frame: str) -> None:
        self.queue.put_nowait(frame)

    def close(self, code: int) -> None:
        """Close once the frames already queued went out (4014 refuses, 4000 drops resumably)."""
        if self.closed_by_server is None:
            self.closed_by_server = code
        self.queue.put_nowait(code)

    async def _write(self) -> None:
        while True:
            item = await self.queue.get()
            try:
                if isinstance(item, int):
                    await self.ws.close(code=item)
                    return
                if self.ws.closed:
                    continue
                if self.compressor is None:
                    await self.ws.send_str(item)
                else:
                    data = self.compressor.compress(item.encode())
                    await self.ws.send_bytes(data + self.compressor.flush(zlib.Z_SYNC_FLUSH))
            except ConnectionError:
                continue
            finally:
                self.queue.task_done()
                self.state.notify()


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a guild's events to."""
    return (guild_id >> 22) % shard_count


def _routing_guild_id(event: str, data: dict[str, Any]) -> int | None:
    raw = data.get("id") if event in _GUILD_KEYED else data.get("guild_id")
    return int(raw) if raw is not None else None


class Session:
    def __init__(
        self, session_id: str, intents: int, shard_id: int = 0, shard_count: int = 1
    ) -> None:
        self.id = session_id
        self.intents = intents
        self.shard_id = shard_id
        self.shard_count = shard_count
        self.seq = 0
        self.buffer: deque[tuple[int, str]] = deque(maxlen=5000)
        self.conn: Connection | None = None
        self.alive = True
        self.events: list[str] = []  # event names sent, for tests that check what the bot got

    def send(self, event: str, data: Any) -> None:
        self.seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": self.seq, "d": data})
        self.buffer.append((self.seq, frame))
        self.events.append(event)
        if self.conn is not None:
            self.conn.send(frame)

    def owns(self, guild_id: int | None) -> bool:
        """Whether this session's shard gets the guild's events (no guild: shard 0)."""
        if guild_id is None:
            return self.shard_id == 0
        return shard_of(guild_id, self.shard_count) == self.shard_id


class Gateway:
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        self.identify_count = 0
        self.resume_count = 0
        # Sharding rules, settable by tests (Discord's values by default).
        self.max_guilds_per_shard = MAX_GUILDS_PER_SHARD
        self.guilds_per_recommended_shard = GUILDS_PER_RECOMMENDED_SHARD
        self.recommended_shards: int | None = None  # None: one per 1,000 guilds, at least 1
        # session_start_limit, as GET /gateway/bot reports it; each IDENTIFY spends `remaining`.
        self.session_start_total = SESSION_START_TOTAL
        self.session_start_remaining = SESSION_START_TOTAL
        self.session_start_reset_after_ms = 24 * 3600 * 1000
        self.max_concurrency = 1
        self.identify_window = IDENTIFY_WINDOW_SECONDS
        self._identified_at: dict[int, float] = {}  # rate-limit key -> when (state.monotonic)
        self.identify_refusals = 0  # IDENTIFYs refused for max_concurrency (op 9)
        self.token_resets = 0  # IDENTIFYs past session_start_limit.remaining
        self.closed_with: list[tuple[Any, int]] = []  # (IDENTIFY's shard, close code) refused

    # -- what GET /gateway/bot says ------------------------------------------------------------

    @property
    def recommended_shard_count(self) -> int:
        if self.recommended_shards is not None:
            return self.recommended_shards
        present = sum(1 for g in self.state.guilds.values() if g.bot_present)
        return max(1, math.ceil(present / self.guilds_per_recommended_shard))

    def bot_gateway(self) -> dict[str, Any]:
        return {
            "url": self.state.gateway_url,
            "shards": self.recommended_shard_count,
            "session_start_limit": {
                "total": self.session_start_total,
                "remaining": max(0, self.session_start_remaining),
                "reset_after": self.session_start_reset_after_ms,
                "max_concurrency": self.max_concurrency,
            },
        }

    def forget_identify_window(self) -> None:
        """Let the next IDENTIFY of every rate-limit key through at once, as if the last ones
        were long ago (the harness's restart stands in for a process started later)."""
        self._identified_at.clear()

    # -- dispatch ------------------------------------------------------------------------------

    @property
    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.alive]

    @property
    def connected(self) -> bool:
        return any(s.conn is not None for s in self.live_sessions)

    def connected_for(self, guild_id: int | None) -> bool:
        """Whether a connected session would get this guild's events (None: DMs, shard 0)."""
        return any(s.conn is not None and s.owns(guild_id) for s in self.live_sessions)

    def shard_sessions(self, shard_id: int) -> list[Session]:
        """The live sessions of one shard (one, unless an old one was never closed)."""
        return [s for s in self.live_sessions if s.shard_id == shard_id]

    def dispatch(
        self,
        event: str,
        data: dict[str, Any],
        *,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
    ) -> None:
        guild_id = guild.id if guild is not None else _routing_guild_id(event, data)
        for session in self.live_sessions:
            if session.owns(guild_id) and self._wants(session, event, data, guild, channel):
                session.send(event, self._shape(session, event, data, channel))
        self.state.notify()

    def _wants(
        self,
        session: Session,
        event: str,
        data: dict[str, Any],
        guild: FakeGuild | None,
        channel: FakeChannel | None,
    ) -> bool:
        bot = self.state.bot_user
        if guild is not None and not guild.bot_present:
            return False
        if event in _MESSAGE_EVENTS:
            needed = DIRECT_MESSAGES if channel is not None and channel.is_dm else GUILD_MESSAGES
        elif event == "GUILD_MEMBER_UPDATE" and data.get("user", {}).get("id") == str(bot.id):
            needed = GUILDS  # Discord tells a bot about its own member without the intent
        else:
            needed = _EVENT_INTENTS.get(event, GUILDS)
        if needed and not session.intents & needed:
            return False
        if (
            guild is not None
            and channel is not None
            and (event in _MESSAGE_EVENTS or channel.is_thread)
        ):
            me = guild.members.get(bot.id)
            if me is None or not guild.permissions_for(me, channel) & Perm.VIEW_CHANNEL:
                return False
        return True

    def _shape(
        self, session: Session, event: str, data: dict[str, Any], channel: FakeChannel | None
    ) -> dict[str, Any]:
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE") or session.intents & MESSAGE_CONTENT:
            return data
        bot_id = str(self.state.bot_user.id)
        is_dm = channel is not None and channel.is_dm
        mentioned = any(u.get("id") == bot_id for u in data.get("mentions", []))
        if is_dm or mentioned or data.get("author", {}).get("id") == bot_id:
            return data
        shaped = copy.copy(data)
        shaped.update(copy.deepcopy(_CONTENT_KEYS))
        shaped.pop("poll", None)
        return shaped

    # -- connections ---------------------------------------------------------------------------

    def ready_payload(self, session: Session, shard: Any) -> dict[str, Any]:
        state = self.state
        user = state.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0}
        data: dict[str, Any] = {
            "v": 10,
            "user": user,
            "guilds": [
                {"id": str(g.id), "unavailable": True}
                for g in state.guilds.values()
                if g.bot_present and session.owns(g.id)
            ],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": state.gateway_url,
            "application": {"id": str(state.application_id), "flags": state.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
        }
        if shard is not None:
            data["shard"] = shard
        return data

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = Connection(self.state, ws, request.query.get("compress") == "zlib-stream")
        self.connections.add(conn)
        conn.send(json.dumps({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}))
        if request.query.get("encoding", "json") != "json" or request.query.get("v") != "10":
            conn.close(4012)  # Invalid API version / encoding
        session: Session | None = None
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                payload = json.loads(msg.data)
                session = self._on_op(conn, session, payload.get("op"), payload.get("d"))
        finally:
            # aiohttp reports the code of whoever closed last; what matters is who started it.
            await self._closed(conn, session, conn.closed_by_server or ws.close_code)
        return ws

    async def _closed(self, conn: Connection, session: Session | None, code: int | None) -> None:
        self.connections.discard(conn)
        conn.writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await conn.writer
        if session is not None and session.conn is conn:
            session.conn = None
            # The bot closing cleanly (1000/1001) ends the session; anything else may be RESUMEd.
            if code in (1000, 1001) and conn.closed_by_server is None:
                session.alive = False
        self.state.notify()

    def _on_op(self, conn: Connection, session: Session | None, op: Any, d: Any) -> Session | None:
        if op == 1:
            conn.send(json.dumps({"op": 11}))
        elif op == 2:
            return self._identify(conn, session, d)
        elif op == 6:
            return self._resume(conn, session, d)
        elif session is None:
            conn.close(4003)  # Not authenticated
        elif op == 8:
            self._chunk(session, d)
        elif op not in (3, 4):
            conn.close(4001)  # Unknown opcode
        return session

    def _identify(
        self, conn: Connection, session: Session | None, d: dict[str, Any]
    ) -> Session | None:
        """Start a session, or refuse as Discord does.

        Past `session_start_limit.remaining` the bot's token is reset (`_reset_token`). Two
        IDENTIFYs of one rate-limit key (`shard_id % max_concurrency`) within 5 s: the later
        one gets opcode 9 Invalid Session (d=false), as Discord documents for going over
        max_concurrency; discord.py then closes and IDENTIFYs again after its
        `before_identify_hook`. A refused IDENTIFY spends nothing.
        """
        if session is not None:
            conn.close(4005)  # Already authenticated
            return session
        if d.get("token") != self.state.token:
            conn.close(4004)  # Authentication failed
            return None
        intents = d.get("intents")
        if not isinstance(intents, int):
            conn.close(4013)  # Invalid intent(s)
            return None
        allowed = self.state.privileged
        for flag, key in ((GUILD_MEMBERS, "members"), (MESSAGE_CONTENT, "message_content")):
            if intents & flag and not allowed[key]:
                conn.close(4014)  # Disallowed intent(s)
                return None
        if intents & GUILD_PRESENCES and not allowed["presences"]:
            conn.close(4014)
            return None
        shard = d.get("shard")
        shard_id, shard_count = 0, 1
        if (
            isinstance(shard, list)
            and len(shard) == 2
            and all(type(n) is int for n in shard)
            and shard[1] >= 1
            and 0 <= shard[0] < shard[1]
        ):
            shard_id, shard_count = int(shard[0]), int(shard[1])
        elif shard is not None:
            self._refuse(conn, shard, 4010)  # Invalid shard
            return None
        if self.session_start_remaining <= 0:
            self._reset_token()
            self._refuse(conn, shard, 4004)
            return None
        bucket = shard_id % self.max_concurrency  # Discord's rate_limit_key
        now = self.state.monotonic()
        last = self._identified_at.get(bucket)
        if last is not None and now - last < self.identify_window:
            self.identify_refusals += 1
            conn.send(json.dumps({"op": 9, "d": False}))
            return None
        held = [
            g
            for g in self.state.guilds.values()
            if g.bot_present and shard_of(g.id, shard_count) == shard_id
        ]
        if len(held) > self.max_guilds_per_shard:
            self._refuse(conn, shard, 4011)  # Sharding required
            return None
        self._identified_at[bucket] = now
        self.session_start_remaining -= 1
        self.identify_count += 1
        session = Session(secrets.token_hex(16), intents, shard_id, shard_count)
        session.conn = conn
        self.sessions[session.id] = session
        session.send("READY", self.ready_payload(session, shard))
        if intents & GUILDS:
            for guild in held:
                session.send("GUILD_CREATE", guild.payload(full=True))
        self.state.notify()
        return session

    def _refuse(self, conn: Connection, shard: Any, code: int) -> None:
        self.closed_with.append((shard, code))
        conn.close(code)

    def _reset_token(self) -> None:
        """What Discord documents for an IDENTIFY past `session_start_limit.remaining`: every
        active session of the bot is terminated and its token is reset (the owner is emailed).

        So the fake gives the bot a new token (its REST calls now get 401) and closes every
        connection with 4004 Authentication failed, the code an IDENTIFY with the old token
        gets; discord.py treats 4004 as fatal and stops. Hearth checks `remaining` before it
        starts its shards so that this never happens.
        """
        self.token_resets += 1
        self.state.token = f"{self.state.bot_user.id}.fake.{secrets.token_urlsafe(24)}"
        for session in self.live_sessions:
            session.alive = False
            if session.conn is not None:
                session.conn.close(4004)

    def _resume(
        self, conn: Connection, session: Session | None, d: dict[str, Any]
    ) -> Session | None:
        found = self.sessions.get(d.get("session_id", ""))
        seq = d.get("seq") or 0
        oldest = found.buffer[0][0] if found and found.buffer else 1
        if (
            found is None
            or not found.alive
            or d.get("token") != self.state.token
            or (seq + 1 < oldest)
        ):
            conn.send(json.dumps({"op": 9, "d": False}))
            return session
        if found.conn is not None and found.conn is not conn:
            found.conn.close(4000)
        found.conn = conn
        self.resume_count += 1
        for number, frame in found.buffer:
            if number > seq:
                conn.send(frame)
        found.send("RESUMED", {})
        self.state.notify()
        return found

    def _chunk(self, session: Session, d: dict[str, Any]) -> None:
        guild_ids = d.get("guild_id")
        raw_ids: list[Any] = guild_ids if isinstance(guild_ids, list) else [guild_ids]
        for raw_id in raw_ids:
            guild = self.state.guilds.get(int(raw_id))
            if guild is None or not guild.bot_present or not session.owns(guild.id):
                continue
            members = list(guild.members.values())
            not_found: list[str] = []
            user_ids = [int(u) for u in d.get("user_ids") or []]
            query = d.get("query")
            if user_ids:
                not_found = [str(u) for u in user_ids if u not in guild.members]
                members = [m for m in members if m.id in user_ids]
            elif query:
                members = [m for m in members if m.name.lower().startswith(query.lower())]
            elif not session.intents & GUILD_MEMBERS:
                members = []  # the whole list needs the members intent
            limit = d.get("limit") or 0
            if limit:
                members = members[:limit]
            chunks = [members[i : i + 1000] for i in range(0, len(members), 1000)] or [[]]
            for index, chunk in enumerate(chunks):
                data: dict[str, Any] = {
                    "guild_id": str(guild.id),
                    "members": [m.payload() for m in chunk],
                    "chunk_index": index,
                    "chunk_count": len(chunks),
                }
                if d.get("nonce"):
                    data["nonce"] = d["nonce"]
                if not_found:
                    data["not_found"] = not_found
                if d.get("presences"):
                    data["presences"] = []
                session.send("GUILD_MEMBERS_CHUNK", data)

    # -- test controls -------------------------------------------------------------------------

    def drop(self, code: int = 4000, *, shard: int | None = None) -> None:
        """Close the bot's websocket(s) as a network blip would; the session stays resumable
        (unless it was invalidated).

        `shard` drops only that shard's connection; the others stay up and keep their events.
        """
        for session in self.sessions.values():
            if session.conn is not None and shard in (None, session.shard_id):
                session.conn.close(code)

    def request_reconnect(self, *, shard: int | None = None) -> None:
        """Send op 7 RECONNECT, which makes discord.py reconnect and RESUME."""
        for session in self.live_sessions:
            if session.conn is not None and shard in (None, session.shard_id):
                session.conn.send(json.dumps({"op": 7, "d": None}))

    def invalidate_sessions(self, *, shard: int | None = None) -> None:
        """Forget every session (or one shard's), so the next RESUME gets INVALID_SESSION and
        must IDENTIFY. The connections stay up until dropped."""
        for session in self.sessions.values():
            if shard in (None, session.shard_id):
                session.alive = False

    async def flush(self) -> None:
        """Wait until every queued frame was written to its socket."""
        for conn in list(self.connections):
            joined = asyncio.ensure_future(conn.queue.join())
            await asyncio.wait([joined, conn.writer], return_when=asyncio.FIRST_COMPLETED)
            joined.cancel()

    async def close_all(self) -> None:
        for conn in list(self.connections):
            conn.close(1001)
        for conn in list(self.connections):
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([conn.writer], timeout=2)
