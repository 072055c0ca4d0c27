"""People-like test helpers: run the real bot against FakeDiscord and act as server members.

    reply = await hearth.slash(alice, hearth.channel, "group join", name="Carers")
    reply = await hearth.click(alice, reply, label="I agree")
    await hearth.wait_for(lambda: len(hearth.fake.dm_messages(alice)) == 1, what="alice's DM")

Answers resolve when the user sees an answer: at once for a message/update/modal/autocomplete
callback; for a deferred "thinking" reply, once the bot replaced it (edit of @original or first
followup). A deferred component update (type 6) resolves at once with `reply.deferred` set; later
edits show up live on the view, and `await reply.followup(n)` waits for followups. If the bot does
not acknowledge within Discord's 3 s, or logs an unexpected error meanwhile, the call fails with
that reason instead of hanging.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import discord
import yarl

from tests.fakediscord import (
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    Perm,
)
from tests.fakediscord.models import FakeInteraction
from tests.fakediscord.views import MessageView, Modal, Reply
from tests.stores import new_target

if TYPE_CHECKING:
    from bot.app import HearthBot

Person = FakeMember | FakeUser
Target = Reply | MessageView | FakeMessage
ACK_DEADLINE = 3.0
WATCHED_LOGGERS = ("discord", "bot", "cogs")


class ErrorWatch(logging.Handler):
    """Collects ERROR+ records from discord.*, bot.* and cogs.*; unexpected ones fail the test."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.expected: list[re.Pattern[str]] = []  # must occur
        self.allowed: list[re.Pattern[str]] = []  # may occur
        self.allow_all = False
        self.allow_unimplemented = False
        self.allow_invalid_requests = False
        self.fakes: list[FakeDiscord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # another thread; waiters notice on the next fake change
        for fake in self.fakes:
            fake.notify()

    def install(self) -> None:
        for name in WATCHED_LOGGERS:
            logging.getLogger(name).addHandler(self)

    def uninstall(self) -> None:
        for name in WATCHED_LOGGERS:
            logging.getLogger(name).removeHandler(self)

    def expect(self, *patterns: str) -> None:
        """Allow error records matching these regexes; each must occur at least once."""
        self.expected += [re.compile(p) for p in patterns]

    def allow(self, *patterns: str) -> None:
        """Allow error records matching these regexes, whether or not they occur."""
        self.allowed += [re.compile(p) for p in patterns]

    @staticmethod
    def describe(record: logging.LogRecord) -> str:
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return text

    def unexpected(self) -> list[str]:
        if self.allow_all:
            return []
        texts = [self.describe(r) for r in self.records]
        patterns = self.expected + self.allowed
        return [t for t in texts if not any(p.search(t) for p in patterns)]

    def problems(self) -> list[str]:
        found = [f"unexpected error log: {t}" for t in self.unexpected()]
        texts = [self.describe(r) for r in self.records]
        found += [
            f"expected error never logged: /{p.pattern}/"
            for p in self.expected
            if not any(p.search(t) for t in texts)
        ]
        for fake in self.fakes:
            if not self.allow_unimplemented:
                found += [
                    f"bot used a route the fake does not implement: {u}" for u in fake.unimplemented
                ]
                found += [f"Discord's spec cannot check a request: {u}" for u in fake.unchecked]
            if not self.allow_invalid_requests:
                found += [f"Discord would refuse a request: {v}" for v in fake.violations]
            found += [f"fake Discord crashed: {e}" for e in fake.internal_errors]
        return found


class BotDriver(Protocol):
    """How to build a bot against a fake and know it is ready (HearthBot or a bare client)."""

    def build(self, fake: FakeDiscord) -> discord.Client: ...

    async def wait_ready(self, bot: discord.Client) -> None: ...


def point_discord_py_at(fake: FakeDiscord) -> None:
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)


class HearthDriver:
    def __init__(self, db_path: Path, clock: Any, overrides: dict[str, Any] | None = None) -> None:
        # The SQLite file in the test's folder, or a fresh PostgreSQL database (tests.stores).
        self.db_target = new_target(db_path)
        self.clock = clock
        self.overrides = overrides or {}
        self.extensions: list[str] | None = None
        # The shards this bot runs (None: as the config says). Set after validation, so a test
        # may run some shards on SQLite: the config check against that is about several
        # processes sharing one file, which a test with one bot per database does not do.
        self.shard_count: int | None = None
        self.shard_ids: list[int] | None = None

    def build(self, fake: FakeDiscord) -> HearthBot:
        from bot.app import HearthBot
        from bot.config import HearthConfig

        raw: dict[str, Any] = {
            "discord": {"api_base": fake.api_base, "gateway_url": fake.gateway_url},
            "database": (
                {"path": str(self.db_target)}
                if isinstance(self.db_target, Path)
                else {"url": self.db_target}
            ),
        }
        for section, values in self.overrides.items():
            raw.setdefault(section, {}).update(values)
        config = HearthConfig.model_validate(raw)
        if self.shard_count is not None:
            ids = tuple(self.shard_ids) if self.shard_ids is not None else None
            shards = config.discord.model_copy(
                update={"shard_count": self.shard_count, "shard_ids": ids}
            )
            config = config.model_copy(update={"discord": shards})
        # discord.py waits guild_ready_timeout (2 s) after the last GUILD_CREATE before READY;
        # the fake sends them all at once, so a short wait keeps each start-up fast.
        return HearthBot(
            config,
            clock=self.clock,
            extensions=self.extensions,
            guild_ready_timeout=0.05,
        )

    async def wait_ready(self, bot: discord.Client) -> None:
        from bot.app import HearthBot

        assert isinstance(bot, HearthBot)
        await bot.wait_until_hearth_ready()


def bot_of(hearth: Harness) -> HearthBot:
    """The running HearthBot of a harness, typed (the harness also drives bare clients)."""
    from bot.app import HearthBot

    assert isinstance(hearth.bot, HearthBot), "Hearth is not running"
    return hearth.bot


class Harness:
    """A started fake, a standard server and the bot; methods act as the people in it."""

    guild: FakeGuild  # set by build_standard_server, or by a test that builds its own

    def __init__(
        self, fake: FakeDiscord, driver: BotDriver, errors: ErrorWatch | None = None
    ) -> None:
        self.fake = fake
        self.driver = driver
        self.errors = errors or ErrorWatch()
        if fake not in self.errors.fakes:
            self.errors.fakes.append(fake)
        self.bot: discord.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self.ack_timeout = ACK_DEADLINE + 0.5
        self.settle_timeout = 5.0
        self.start_timeout = 15.0
        self.clock: Any = None

    @classmethod
    def standard(
        cls,
        fake: FakeDiscord,
        driver: BotDriver,
        errors: ErrorWatch | None = None,
        clock: Any = None,
    ) -> Harness:
        """A harness over the standard server (`build_standard_server`), its bot not started."""
        harness = cls(fake, driver, errors)
        harness.clock = clock
        harness.build_standard_server()
        return harness

    async def __aenter__(self) -> Harness:
        """`async with harness:` runs the bot for the block and stops it after, however it ends."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def build_standard_server(self) -> None:
        """Roles coordinator (Manage Server) and supporter; #general #alerts #log; four people."""
        g = self.guild = self.fake.add_guild("Test Server", owner="owner")
        self.coordinator_role: FakeRole = g.add_role("coordinator", Perm.MANAGE_GUILD)
        self.supporter_role: FakeRole = g.add_role("supporter")
        self.general: FakeChannel = g.add_text_channel("general")
        self.channel = self.general
        self.alerts: FakeChannel = g.add_text_channel("alerts")
        self.log: FakeChannel = g.add_text_channel("log")
        self.owner: FakeMember = g.owner
        self.coordinator: FakeMember = g.add_member("cora", roles=[self.coordinator_role])
        self.supporter: FakeMember = g.add_member("sam", roles=[self.supporter_role])
        self.member: FakeMember = g.add_member("max")

    # -- bot lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        point_discord_py_at(self.fake)
        # A restart here stands for a process started later, not within Discord's 5 s between
        # IDENTIFYs (max_concurrency); tests of that window leave the harness out.
        self.fake.gateway.forget_identify_window()
        bot = self.bot = self.driver.build(self.fake)
        self._task = asyncio.create_task(bot.start(self.fake.token), name="bot-under-test")
        ready = asyncio.ensure_future(self.driver.wait_ready(bot))
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=self.start_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready in done:
            return
        ready.cancel()
        task, self._task, self.bot = self._task, None, None
        await bot.close()  # discord.py leaves its HTTP session open after e.g. a 4014
        if task in done:
            task.result()  # the login or connection failure, as the bot would report it
            raise AssertionError("the bot stopped before it was ready")
        task.cancel()
        raise AssertionError(f"the bot was not ready within {self.start_timeout}s{self._context()}")

    async def stop(self) -> None:
        """Close the bot as production shutdown does (which lets running handlers finish first),
        surfacing any crash of its main task."""
        if self.bot is not None and self._task is not None:
            await self.bot.close()
            await self._task
        self.bot = self._task = None

    async def restart(self) -> None:
        """Stop the bot cleanly and start a new one (same fake, same database)."""
        await self.stop()
        await self.start()

    # -- waiting -------------------------------------------------------------------------------

    def expect_errors(self, *patterns: str) -> None:
        self.errors.expect(*patterns)

    def _context(self) -> str:
        recent = "\n  ".join(f"{m} {p} -> {s}" for m, p, s in self.fake.request_log[-8:])
        text = f"\nrecent requests:\n  {recent}" if recent else ""
        if self.fake.denials:
            text += "\npermission denials: " + "; ".join(self.fake.denials[-5:])
        if self.errors.unexpected():
            text += "\nerror logs:\n" + "\n".join(self.errors.unexpected()[-3:])
        return text

    async def wait_for(
        self,
        predicate: Callable[[], object],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the timeout becomes a descriptive AssertionError
        what: str | None = None,
    ) -> None:
        """Wait until `predicate()` is true; re-checked on every fake change, never by sleeping.

        Bot-internal state (its cache, its database) does not wake the wait by itself: wait on
        what the fake records (messages, roles, interactions), as a person would observe it.
        """
        seen = len(self.errors.unexpected())
        ok = await self.fake.wait_for(
            lambda: predicate() or len(self.errors.unexpected()) > seen, timeout
        )
        waited_for = what or _source(predicate)
        if len(self.errors.unexpected()) > seen and not predicate():
            raise AssertionError(
                f"the bot logged an error while waiting for {waited_for}{self._context()}"
            )
        if not ok:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {waited_for}{self._context()}"
            )

    async def _answer(self, inter: FakeInteraction) -> Reply:
        fake = self.fake
        await self.wait_for(
            lambda: inter.acknowledged or fake.monotonic() - inter.dispatched_at > ACK_DEADLINE,
            timeout=self.ack_timeout,
            what=f"the bot to answer {inter.name}",
        )
        if not inter.acknowledged:
            raise AssertionError(
                f"the bot did not answer {inter.name} within 3 s: the user sees "
                f"'The application did not respond'{self._context()}"
            )
        reply = Reply(fake, inter)
        if inter.response_type == 5:
            await self.wait_for(
                lambda: not reply.loading,
                timeout=self.settle_timeout,
                what=f"the bot to replace its 'thinking…' reply to {inter.name}",
            )
        return reply

    # -- acting as people ----------------------------------------------------------------------

    async def slash(
        self, person: Person, channel: FakeChannel | None, path: str, /, **options: Any
    ) -> Reply:
        """`/path` with options (user/member/role/channel objects, `(filename, bytes)` files)."""
        return await self._answer(self.fake.actions.slash(person, channel, path, options))

    async def autocomplete(
        self,
        person: Person,
        channel: FakeChannel | None,
        path: str,
        option: str,
        typed: str,
        /,
        **options: Any,
    ) -> list[dict[str, Any]]:
        """The choices the user sees while typing `typed` into `option`."""
        reply = await self._answer(
            self.fake.actions.autocomplete(person, channel, path, option, typed, options)
        )
        return reply.choices

    async def context_menu(
        self,
        person: Person,
        channel: FakeChannel,
        name: str,
        target: FakeMember | FakeUser | FakeMessage,
    ) -> Reply:
        return await self._answer(self.fake.actions.context_menu(person, channel, name, target))

    def _message(self, target: Target) -> FakeMessage:
        return target if isinstance(target, FakeMessage) else target.message

    async def click(
        self,
        person: Person,
        target: Target,
        *,
        label: str | None = None,
        custom_id: str | None = None,
    ) -> Reply:
        return await self._answer(
            self.fake.actions.click(person, self._message(target), label=label, custom_id=custom_id)
        )

    async def select(
        self, person: Person, target: Target, values: list[Any], *, custom_id: str | None = None
    ) -> Reply:
        """Pick `values` (option values or labels; members/roles/channels for entity selects)."""
        return await self._answer(
            self.fake.actions.select(person, self._message(target), values, custom_id=custom_id)
        )

    async def submit_modal(
        self, person: Person, modal: Modal | Reply, values: dict[str, Any]
    ) -> Reply:
        """Fill fields by custom_id or label and press Submit."""
        opened = modal.interaction if isinstance(modal, Reply) else modal.opened_by
        return await self._answer(self.fake.actions.submit_modal(person, opened, values))

    async def say(
        self,
        person: Person,
        channel: FakeChannel | None,
        content: str,
        *,
        files: list[tuple[str, bytes]] | None = None,
        reply_to: FakeMessage | None = None,
    ) -> FakeMessage:
        """Post a plain message (channel=None: DM the bot); returns once it was sent to the bot."""
        message = self.fake.actions.send_message(
            person, channel, content, files=files, reply_to=reply_to
        )
        await self.fake.flush()
        return message

    # -- reading what people see ---------------------------------------------------------------

    def messages(self, channel: FakeChannel) -> list[MessageView]:
        return [MessageView(self.fake, m.id) for m in self.fake.channel_messages(channel)]

    def dms(self, person: Person) -> list[MessageView]:
        return [MessageView(self.fake, m.id) for m in self.fake.dm_messages(person.id)]

    def role_names(self, person: Person) -> set[str]:
        member = self.guild.members[person.id]
        return {r.name for r in member.roles}


def _source(predicate: Callable[[], object]) -> str:
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return repr(predicate)
