"""The gateway websocket: HELLO/IDENTIFY/READY/RESUME, heartbeats, member chunks, event dispatch.

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


class Session:
    def __init__(self, session_id: str, intents: int) -> None:
        self.id = session_id
        self.intents = intents
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


class Gateway:
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        self.identify_count = 0
        self.resume_count = 0

    # -- dispatch ------------------------------------------------------------------------------

    @property
    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.alive]

    @property
    def connected(self) -> bool:
        return any(s.conn is not None for s in self.live_sessions)

    def dispatch(
        self,
        event: str,
        data: dict[str, Any],
        *,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
    ) -> None:
        for session in self.live_sessions:
            if self._wants(session, event, data, guild, channel):
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
                if g.bot_present
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
        self.identify_count += 1
        session = Session(secrets.token_hex(16), intents)
        session.conn = conn
        self.sessions[session.id] = session
        session.send("READY", self.ready_payload(session, d.get("shard")))
        for guild in self.state.guilds.values():
            if guild.bot_present and intents & GUILDS:
                session.send("GUILD_CREATE", guild.payload(full=True))
        self.state.notify()
        return session

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
            if guild is None or not guild.bot_present:
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

    def drop(self, code: int = 4000) -> None:
        """Close the bot's websocket(s) as a network blip would; the session stays resumable."""
        for session in self.live_sessions:
            if session.conn is not None:
                session.conn.close(code)

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT, which makes discord.py reconnect and RESUME."""
        for session in self.live_sessions:
            if session.conn is not None:
                session.conn.send(json.dumps({"op": 7, "d": None}))

    def invalidate_sessions(self) -> None:
        """Forget every session, so the next RESUME gets INVALID_SESSION and must IDENTIFY."""
        for session in self.sessions.values():
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
