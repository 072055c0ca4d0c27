"""A bot under measurement in its own process, driven over stdin/stdout by the benchmark.

In production Discord is another machine: its work never competes with the bot's for a CPU or
for the interpreter lock. Running the bot (Hearth, or the bare baseline) in a child process
against the fake in the benchmark's process keeps that true here, so a latency figure is the
bot's, not the bot's plus the fake's. Both bots are measured the same way.

    python -m bench.botproc hearth|bare API GATEWAY TOKEN DB [OVERRIDES]

DB is a SQLite path (or, with `HEARTH_TEST_DATABASE_URL` set, a fresh PostgreSQL database in its
place, as in the tests), or a PostgreSQL URL used as it is, so several processes can share it.
OVERRIDES is Hearth's configuration on top, as JSON (`{"discord": {"shard_ids": [0, 1]}}`).

The child prints one JSON line when ready, then answers one JSON line per request line:
`configure` (Hearth's server settings), `query` (read its database), `run_due` (move its clock
and fire what is due), `stop` (close cleanly, reporting any unexpected error it logged).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

STOP_TIMEOUT = 60.0


def build_bot(
    kind: str, api: str, gateway: str, db: str, clock: Any, overrides: dict[str, Any] | None = None
) -> tuple[Any, Any]:
    """Hearth (on database `db`, configured with `overrides`) or the bare baseline, pointed at
    the fake's endpoints; and the coroutine function that waits until it is ready to serve."""
    import discord

    from tests.harness import HearthDriver, point_discord_py_at

    class Endpoint:
        api_base, gateway_url = api, gateway

    point_discord_py_at(Endpoint)  # type: ignore[arg-type]  # has the two URLs it reads
    if kind == "hearth":
        if db.startswith(("postgresql://", "postgres://")):
            from bench.world import hearth_driver  # exactly this database, shared with others

            driver = hearth_driver(db, clock)
        else:
            driver = HearthDriver(Path(db), clock)
        driver.overrides = overrides or {}
        bot = driver.build(Endpoint)  # type: ignore[arg-type]  # as above
        return bot, bot.wait_until_hearth_ready
    from bench.world import BareBot

    bare = BareBot(Endpoint, discord.Intents(guilds=True, members=True))  # type: ignore[arg-type]  # as above
    return bare, bare.ready.wait


async def _serve(
    kind: str, api: str, gateway: str, token: str, db: str, overrides: str = "{}"
) -> None:
    from bot.clock import FakeClock
    from tests.harness import ErrorWatch

    errors = ErrorWatch()
    errors.install()
    clock = FakeClock()
    bot, ready = build_bot(kind, api, gateway, db, clock, json.loads(overrides))
    task = asyncio.create_task(bot.start(token))
    await asyncio.wait_for(ready(), 120)
    if kind == "hearth":
        # In production the bare bot would be another application; here both share the fake's
        # one, and the bare bot's turn replaced Hearth's commands with its own.
        await bot.sync_commands_if_changed(force=True)
    _say({"ready": True})

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        request = json.loads(line)
        op = request.pop("op")
        if op == "stop":
            break
        try:
            _say({"result": await _handle(bot, clock, op, request)})
        except Exception as exc:  # the parent raises it with this text
            _say({"error": f"{op}: {type(exc).__name__}: {exc}"})
    await bot.close()
    await task
    _say({"problems": errors.problems()})


async def _handle(bot: Any, clock: Any, op: str, request: dict[str, Any]) -> Any:
    if op == "configure":
        await bot.settings.update(request.pop("guild_id"), None, **request)
        return None
    if op == "query":
        rows = await bot.db.fetchall(request["sql"], request.get("params", ()))
        return [list(row) for row in rows]
    if op == "run_due":
        clock.set(datetime.fromisoformat(request["at"]))
        await bot.dispatcher.run_due()
        return None
    raise ValueError(f"unknown request {op!r}")


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


class BotProcess:
    """The parent's handle on one child bot."""

    def __init__(self, process: asyncio.subprocess.Process, kind: str) -> None:
        self._process = process
        self.kind = kind

    async def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = await self._process.stdout.readline()
        if not line:
            code = await self._process.wait()
            raise RuntimeError(f"the {self.kind} bot process exited (code {code})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def call(self, op: str, **arguments: Any) -> Any:
        assert self._process.stdin is not None
        self._process.stdin.write((json.dumps({"op": op, **arguments}) + "\n").encode())
        answer = await self._read()
        if "error" in answer:
            raise RuntimeError(f"the {self.kind} bot refused {answer['error']}")
        return answer["result"]

    async def query(self, sql: str, *params: Any) -> list[list[Any]]:
        rows: list[list[Any]] = await self.call("query", sql=sql, params=list(params))
        return rows

    async def stop(self) -> list[str]:
        assert self._process.stdin is not None
        self._process.stdin.write(b'{"op": "stop"}\n')
        answer = await asyncio.wait_for(self._read(), STOP_TIMEOUT)
        await self._process.wait()
        return list(answer.get("problems", []))


@asynccontextmanager
async def bot_process(
    kind: str, fake: Any, db: Path | str | None = None, overrides: dict[str, Any] | None = None
) -> AsyncIterator[BotProcess]:
    """A started child bot; fails loudly if it logged an unexpected error meanwhile."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.botproc", kind, fake.api_base, fake.gateway_url,
        fake.token, str(db or ""), json.dumps(overrides or {}),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    handle = BotProcess(process, kind)
    try:
        if not (await asyncio.wait_for(handle._read(), 180)).get("ready"):
            raise RuntimeError(f"the {kind} bot did not start")
        yield handle
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    problems = await handle.stop()
    if problems:
        raise RuntimeError(f"the {kind} bot's run was not clean:\n" + "\n".join(problems[:5]))


if __name__ == "__main__":
    from bench.world import quiet_logs

    quiet_logs()
    asyncio.run(_serve(*sys.argv[1:7]))
