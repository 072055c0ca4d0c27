"""Command line: `python -m bot [COMMAND] [--config PATH]`.

Commands: run (the default), migrate, backup PATH, copy-database --to TARGET, check-config, sync,
status.

Configuration problems print a short explanation and exit with status 2 before anything is
created, so a volunteer admin never has to read a traceback to find a typo.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

import aiohttp
import discord

from bot import __version__
from bot.clock import SystemClock
from bot.config import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    HearthConfig,
    database_password,
    load_config,
    load_token,
    open_configured_database,
)
from bot.db import StoreError, open_database
from bot.engines.sqlite import SqliteDatabase
from bot.services.shard_leases import ShardsTaken
from bot.tasks import cancel_and_wait

EXIT_CONFIG = 2
SHARD_CLOSE_CODES = {  # Discord closing a shard for how it was configured
    4010: "Discord refused a shard (4010 Invalid shard): check discord.shard_count and "
    "discord.shard_ids in the config.",
    4011: "Discord requires more shards for this many servers (4011 Sharding required): raise "
    "discord.shard_count, or leave it unset to use Discord's recommendation.",
}
log = logging.getLogger("bot")


def configure_logging(config: HearthConfig) -> None:
    logging.basicConfig(
        level=config.logging.level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("discord").setLevel(config.logging.discord_level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


async def run_bot(config: HearthConfig, token: str) -> None:
    from bot.app import HearthBot
    from bot.gateway_limits import SessionStartLimitReached

    bot = HearthBot(config)
    try:
        await bot.open_store()
        await bot.claim_shards()  # no other live process runs our shards, or ShardsTaken
    except BaseException:
        await bot.close()
        raise
    loop = asyncio.get_running_loop()
    stop = bot.stop_requested  # also set when another process takes our shards over
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(signum, stop.set)
    runner = asyncio.create_task(bot.start(token))
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if stopper in done:
        log.info("shutting down")
    stopper.cancel()
    await bot.close()
    if runner in done:
        try:
            runner.result()  # surface a login or connection failure
        except SessionStartLimitReached as exc:  # explained like bad input: exit 2, one line
            raise ConfigError(str(exc)) from None
    else:
        await cancel_and_wait(runner)
    if bot.shards_lost is not None:
        raise bot.shards_lost


async def migrate(config: HearthConfig) -> list[str]:
    db = open_configured_database(config)
    await db.connect()
    try:
        return await db.migrate()
    finally:
        await db.close()


async def backup(config: HearthConfig, destination: Path) -> None:
    if config.database.url is not None:
        raise ConfigError(
            "backup copies a SQLite file; for PostgreSQL use pg_dump (see the README, "
            "'Running on PostgreSQL')."
        )
    if not config.database.path.exists():
        raise ConfigError(f"There is no database at {config.database.path} to back up.")
    db = SqliteDatabase(config.database.path)
    await db.connect()
    try:
        await db.backup(destination)
    finally:
        await db.close()


async def copy_to(config: HearthConfig, to: str, batch: int) -> str:
    """Copy the configured database into `to` (a SQLite path or a PostgreSQL URL)."""
    from bot.engines.copy import copy_database

    source = open_configured_database(config)
    target = open_database(
        to,
        pool_size=config.database.pool_size,
        connect_timeout=config.database.connect_timeout_seconds,
        password=database_password(),
    )
    if source.describe() == target.describe():
        raise ConfigError("--to names the database the config already uses; nothing was copied")
    if isinstance(target, SqliteDatabase) and not target.path.parent.is_dir():
        raise ConfigError(f"there is no folder {target.path.parent} for {target.path}")
    await source.connect()
    try:
        await target.connect()
        try:
            report = await copy_database(source, target, batch_size=batch)
        finally:
            await target.close()
    finally:
        await source.close()
    lines = [f"{name}: {count}" for name, count in report.rows.items() if count]
    return "\n".join(
        [f"copied {report.total} rows (schema {report.version}) to {target.describe()}:", *lines]
    )


async def sync(config: HearthConfig, token: str) -> None:
    """Force a command sync without starting the gateway, e.g. after a failed deploy."""
    from bot.app import HearthBot

    # setup_hook must not sync on its own: this command always syncs, once.
    bot = HearthBot(
        config.model_copy(
            update={"discord": config.discord.model_copy(update={"sync_commands": False})}
        ),
        run_scheduler=False,
    )
    try:
        await bot.login(token)
        await bot.sync_commands_if_changed(force=True)
    finally:
        await bot.close()


async def database_status(config: HearthConfig) -> str:
    """Reach the database and compare its schema with the code, changing nothing: a SQLite file
    that does not exist yet is reported, not created."""
    if config.database.url is None and not config.database.path.exists():
        return f"  database: none yet at {config.database.path} (created on first start)"
    db = open_configured_database(config)
    await db.connect()
    try:
        pending = await db.pending()
        current = await db.schema_version()
    finally:
        await db.close()
    state = "up to date" if not pending else f"{len(pending)} migrations to apply on start"
    return f"  database: reachable, schema version {current} ({state})"


async def fleet_status(config: HearthConfig) -> tuple[bool, str]:
    """Which processes run which shards, and whether each said all its shards are ready: from
    the shard leases in the database, so it sees every process of a deployment."""
    from bot.services.shard_leases import fleet_report, leases

    db = open_configured_database(config)
    await db.connect()
    try:
        pending = await db.pending()
        if pending:
            return False, (
                f"the database has {len(pending)} migrations to apply: no process of this "
                "version has started on it yet (`python -m bot migrate` applies them)"
            )
        healthy, lines = fleet_report(await leases(db), SystemClock().now())
    finally:
        await db.close()
    verdict = "healthy: every shard is ready" if healthy else "NOT healthy"
    return healthy, "\n".join(
        [f"Hearth {__version__}: {verdict}", *(f"  {line}" for line in lines)]
    )


def describe(config: HearthConfig) -> str:
    lines = [f"Hearth {__version__} would use:"]
    for section, values in config.model_dump(mode="json").items():
        for key, value in values.items():
            if section == "database" and key == "url" and value is not None:
                value = config.database.shown()  # never print a password
            lines.append(f"  {section}.{key} = {value!r}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Run and manage Hearth.")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="start the bot (the default)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    backup_parser = sub.add_parser("backup", help="copy the live database consistently")
    backup_parser.add_argument("path", type=Path)
    copy_parser = sub.add_parser(
        "copy-database", help="copy the database into an empty one (SQLite <-> PostgreSQL)"
    )
    copy_parser.add_argument("--to", required=True, help="a SQLite file or a postgresql:// URL")
    copy_parser.add_argument("--batch", type=int, default=1000, help="rows per transaction")
    sub.add_parser("check-config", help="validate the config and show what would be used")
    sub.add_parser("sync", help="sync slash commands with Discord now")
    sub.add_parser(
        "status", help="which processes run which shards, and whether all are ready (exit 1 if not)"
    )
    args = parser.parse_args(argv)
    command = args.command or "run"

    try:
        config = load_config(args.config)
        token = load_token().get_secret_value() if command in {"run", "sync"} else None
    except ConfigError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(config)

    try:
        if command == "check-config":
            print(describe(config))
            print(
                "  token: "
                + ("set (hidden)" if load_token_quietly() else "NOT SET (DISCORD_TOKEN)")
            )
            print(asyncio.run(database_status(config)))
        elif command == "migrate":
            applied = asyncio.run(migrate(config))
            print("applied: " + ", ".join(applied) if applied else "database is up to date")
        elif command == "backup":
            asyncio.run(backup(config, args.path))
            print(f"backup written to {args.path}")
        elif command == "copy-database":
            print(asyncio.run(copy_to(config, args.to, max(1, args.batch))))
        elif command == "status":
            healthy, report = asyncio.run(fleet_status(config))
            print(report)
            return 0 if healthy else 1
        elif command == "sync":
            assert token is not None
            asyncio.run(sync(config, token))
        else:
            assert token is not None
            asyncio.run(run_bot(config, token))
    except (ConfigError, StoreError, ShardsTaken) as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except discord.LoginFailure:
        print(
            "hearth: Discord refused the token in DISCORD_TOKEN; copy it again from the "
            "developer portal (Bot → Reset Token).",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    except discord.ConnectionClosed as exc:
        if exc.code not in SHARD_CLOSE_CODES:
            raise
        print(f"hearth: {SHARD_CLOSE_CODES[exc.code]}", file=sys.stderr)
        return EXIT_CONFIG
    except discord.PrivilegedIntentsRequired:
        print(
            "hearth: enable the Server Members intent for this bot in the developer portal "
            "(Bot → Privileged Gateway Intents): Hearth needs it to notice members leaving.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    except (aiohttp.ClientConnectionError, OSError) as exc:
        print(
            f"hearth: can't reach Discord ({exc.__class__.__name__}: {exc}); check this "
            "machine's network, or discord.api_base in the config.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    except KeyboardInterrupt:
        pass
    return 0


def load_token_quietly() -> bool:
    try:
        load_token()
    except ConfigError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
