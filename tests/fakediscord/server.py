"""The aiohttp server: routing, auth, rate limits, request accounting and the catch-all for gaps.

A request to a route the fake does not implement gets Discord's 404 shape and is recorded in
`fake.unimplemented`, and a crash inside a handler is answered with a 400 (so discord.py does not
retry it for seconds) and recorded in `fake.internal_errors`. Every body is checked against the
route's request schema in Discord's spec (`schema`) and the documented limits (`validation`)
before and while it is handled: a refusal gets Discord's 400 / 50035 and is recorded in
`fake.violations`, and a body the spec cannot check in `fake.unchecked`. The test fixtures fail on
any of these.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable
from datetime import datetime
from urllib.parse import unquote

from aiohttp import web

from . import rest_channels, rest_events, rest_guilds, rest_interactions, rest_threads, schema
from .actions import UserActions
from .context import FAKE_KEY
from .errors import INVALID_JSON, ApiError
from .messages import read_body, replace_body
from .models import FakeAttachment, FakeInteraction
from .ratelimit import RateLimiter, success_headers
from .state import ClockLike, FakeState

log = logging.getLogger("tests.fakediscord")
API = "/api/v10"
_CATCH_ALL = "/{tail}"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakeDiscord(FakeState):
    """A loopback Discord (REST v10 + gateway) for the real discord.py client. See package docs."""

    def __init__(self, *, clock: ClockLike | None = None, bot_name: str = "Hearth") -> None:
        super().__init__(clock=clock, bot_name=bot_name)
        self.attachments: dict[int, FakeAttachment] = {}
        self.interactions_by_token: dict[str, FakeInteraction] = {}
        self.denials: list[str] = []
        # (author id, nonce) → (message id, when): `enforce_nonce` returns the first message.
        self.nonces: dict[tuple[int, str], tuple[int, datetime]] = {}
        self.nonce_repeats = 0  # sends answered with the earlier message
        self.ratelimits = RateLimiter()
        self.actions = UserActions(self)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        app[FAKE_KEY] = self
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_get(API + "/gateway/bot", self._bot_gateway)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._cdn)
        app.add_routes(rest_channels.routes)
        app.add_routes(rest_threads.routes)
        app.add_routes(rest_events.routes)
        app.add_routes(rest_guilds.routes)
        app.add_routes(rest_interactions.routes)
        app.router.add_route("*", API + "/{tail:.*}", self._unimplemented)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeDiscord:
        self._runner = web.AppRunner(self.build_app(), handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server) and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        base = f"{host}:{self.port}"
        self.api_base = f"http://{base}{API}"
        self.gateway_url = f"ws://{base}/gateway"
        self.cdn_base = f"http://{base}"
        return self

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- gateway controls ----------------------------------------------------------------------

    @property
    def bot_connected(self) -> bool:
        return self.gateway.connected

    def drop_connection(self, code: int = 4000, *, shard: int | None = None) -> None:
        """Cut the bot's websocket like a network blip; discord.py reconnects and RESUMEs.

        `shard` cuts only that shard's socket; the other shards stay connected.
        """
        self.gateway.drop(code, shard=shard)

    def request_reconnect(self, *, shard: int | None = None) -> None:
        self.gateway.request_reconnect(shard=shard)

    async def _bot_gateway(self, request: web.Request) -> web.Response:
        """GET /gateway/bot: the gateway URL, the recommended shard count and the session start
        limit (see `Gateway.bot_gateway`; tests set `fake.gateway.recommended_shards`,
        `max_concurrency`, `session_start_remaining` ...)."""
        return web.json_response(self.gateway.bot_gateway())

    async def flush(self) -> None:
        """Wait until every queued gateway event was written to the bot's socket."""
        await self.gateway.flush()

    # -- rate limits ---------------------------------------------------------------------------

    def rate_limit_next(
        self,
        method: str,
        path_regex: str,
        retry_after: float = 0.05,
        global_: bool = False,
        count: int = 1,
    ) -> None:
        """Answer the next `count` matching requests (path after /api/v10) with a realistic 429."""
        self.ratelimits.limit_next(method, path_regex, retry_after, global_, count)

    def fail_next(self, method: str, path_regex: str, status: int = 503, count: int = 1) -> None:
        """Answer the next `count` matching requests with a server error (Discord having a bad
        moment). 503 reaches the bot at once; discord.py itself retries 500/502/504 a few times."""
        self.ratelimits.fail_next(method, path_regex, status, count)

    def enforce_global_limit(self, per_second: int | None = 50, window: float = 1.0) -> None:
        """Refuse bot requests beyond `per_second` per sliding `window` seconds with global 429s.

        Interaction callbacks and interaction webhooks are exempt, as on Discord. None turns it
        off; a shorter window keeps tests fast while keeping the same shape of refusal.
        """
        self.ratelimits.enforce_global(per_second, window)

    @property
    def rate_limited(self) -> list[tuple[str, str, bool]]:
        return self.ratelimits.hits

    def peak_requests_per_second(self, token: str | None = None) -> int:
        """The most counted requests (callbacks and webhooks exempt) the bot `token` sent in
        any sliding second: what Discord's global limit of 50 is measured against."""
        return self.ratelimits.max_per_second.get(f"Bot {token or self.token}", 0)

    # -- http plumbing -------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API + "/"):
            return await handler(request)
        response = await self._api(request, handler)
        if response.headers.get("Content-Type", "").startswith("application/json"):
            # discord.py only parses JSON when the header is exactly this, as Discord sends it.
            response.headers["Content-Type"] = "application/json"
        return response

    async def _api(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path[len(API) :]
        resource = request.match_info.route.resource
        template = resource.canonical[len(API) :] if resource is not None else path
        exempt = path.startswith(("/interactions/", "/webhooks/"))
        if not exempt and request.headers.get("Authorization") != f"Bot {self.token}":
            self.request_log.append((request.method, path, 401))
            return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        limited = self.ratelimits.check(
            request.method, path, exempt=exempt, token=request.headers.get("Authorization")
        )
        if limited is not None:
            self.request_log.append((request.method, path, limited.status))
            return limited
        self.requests[f"{request.method} {template}"] += 1
        try:
            if template != _CATCH_ALL:
                await self._hook_body(request, template)
                await self._check_shape(request, template)
            response = await handler(request)
        except ApiError as exc:
            if exc.violation:
                self.violations.append(f"{request.method} {template}: {exc.summary()}")
            response = exc.response()
        except Exception as exc:
            text = f"{request.method} {path}: {exc!r}\n{traceback.format_exc()}"
            log.error("fake Discord crashed handling %s", text)
            self.internal_errors.append(text)
            response = web.json_response(
                {"message": f"fake internal error: {exc!r}", "code": 0}, status=400
            )
        self.request_log.append((request.method, path, response.status))
        if response.status < 300 and not response.prepared:
            response.headers.update(success_headers(request.method, template))
        self.notify()
        return response

    async def _hook_body(self, request: web.Request, template: str) -> None:
        # What moderators read in the server's audit log (discord.py quotes it for the header).
        reason = unquote(request.headers.get("X-Audit-Log-Reason", "")) or None
        hook = self.bot_body_hook
        if hook is None or "/commands" in template:
            if reason is not None:
                self.audit_reasons.append((f"{request.method} {template}", reason))
            return
        if reason is not None:
            reason = hook(f"{request.method} {template}", {"reason": reason}, [])["reason"]
            self.audit_reasons.append((f"{request.method} {template}", reason))
        if not request.body_exists:
            return
        try:
            body, uploads = await read_body(request)
        except ValueError:
            return  # the spec check refuses it as Discord would
        if isinstance(body, dict):
            changed = hook(f"{request.method} {template}", body, uploads)
            replace_body(request, changed, uploads)

    async def _check_shape(self, request: web.Request, template: str) -> None:
        """Refuse, as Discord would, a body its route's schema in Discord's spec refuses."""
        sent = request.body_exists
        try:
            body = (await read_body(request))[0] if sent else None
        except ValueError:
            raise ApiError(
                400, INVALID_JSON, "The request body contains invalid JSON.", violation=True
            ) from None
        try:
            schema.check(request.method, template, body, sent=sent)
        except schema.NoSchema as gap:
            self.unchecked.append(f"{request.method} {template}: {gap}")
            log.warning("fake Discord cannot check %s %s: %s", request.method, template, gap)

    async def _unimplemented(self, request: web.Request) -> web.Response:
        entry = f"{request.method} {request.path[len(API) :]}"
        self.unimplemented.append(entry)
        log.warning("fake Discord does not implement %s", entry)
        return web.json_response({"message": "404: Not Found", "code": 0}, status=404)

    async def _cdn(self, request: web.Request) -> web.Response:
        attachment = self.attachments.get(int(request.match_info["attachment_id"]))
        if attachment is None:
            return web.Response(status=404)
        content_type = attachment.content_type or "application/octet-stream"
        return web.Response(body=attachment.data, content_type=content_type)
