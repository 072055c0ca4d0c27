"""[discord] shard_count and shard_ids: what is accepted, and bad input refused before anything
connects (one line on stderr, exit status 2)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, HearthConfig, load_config
from tests.fakediscord import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = '[database]\nurl = "postgresql://hearth@127.0.0.1:1/hearth"\n'
# A closed port: had `run` got as far as Discord, it would say it cannot reach it.
NOWHERE = '[discord]\napi_base = "http://127.0.0.1:1/api/v10"\n'


def load(tmp_path: Path, text: str) -> HearthConfig:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_unset_means_discords_recommendation_and_every_shard(tmp_path: Path) -> None:
    config = load(tmp_path, "")
    assert config.discord.shard_count is None and config.discord.shard_ids is None
    assert config.discord.runs_every_shard


def test_every_shard_in_one_process_is_fine_on_sqlite(tmp_path: Path) -> None:
    config = load(tmp_path, "[discord]\nshard_count = 4\n")
    assert config.discord.shard_count == 4 and config.discord.runs_every_shard
    config = load(tmp_path, "[discord]\nshard_count = 3\nshard_ids = [2, 0, 1]\n")
    assert config.discord.shard_ids == (2, 0, 1) and config.discord.runs_every_shard


def test_some_shards_on_postgresql_are_fine(tmp_path: Path) -> None:
    config = load(tmp_path, "[discord]\nshard_count = 8\nshard_ids = [0, 1, 2, 3]\n" + POSTGRES)
    assert config.discord.shard_ids == (0, 1, 2, 3) and not config.discord.runs_every_shard


@pytest.mark.parametrize(
    ("discord", "message"),
    [
        ("shard_count = 4\nshard_ids = [1, 4]", r"discord\.shard_ids: has 4, outside the 4 shards"),
        ("shard_count = 4\nshard_ids = [-1]", r"discord\.shard_ids: has -1, outside the 4 shards"),
        ("shard_count = 4\nshard_ids = []", r"discord\.shard_ids: is empty"),
        ("shard_count = 4\nshard_ids = [1, 1]", r"shard_ids: lists shard 1 more than once"),
        ("shard_ids = [0]", r"discord\.shard_ids: needs discord\.shard_count too"),
        ("shard_count = 0", r"discord\.shard_count: Input should be greater than or equal to 1"),
        ("shard_count = 4\nshard_ids = [0, 1]", r"sharded processes on SQLite: .* PostgreSQL"),
    ],
)
def test_bad_shards_are_named(tmp_path: Path, discord: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, f"[discord]\n{discord}\n" + (POSTGRES if "SQLite" not in message else ""))


@pytest.mark.parametrize(
    ("discord", "message"),
    [
        ("shard_count = 2\nshard_ids = [2]", "outside the 2 shards"),
        ("shard_count = 2\nshard_ids = []", "is empty"),
        ("shard_count = 2\nshard_ids = [0, 0]", "more than once"),
        ("shard_ids = [0]", "needs discord.shard_count"),
        ("shard_count = 2\nshard_ids = [1]", "sharded processes on SQLite"),
    ],
)
def test_run_refuses_bad_shards_before_anything_connects(
    tmp_path: Path, discord: str, message: str
) -> None:
    config = NOWHERE + discord + '\n[database]\npath = "h.db"\n'
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"], cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "DISCORD_TOKEN": "x"},
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "reach Discord" not in done.stderr
    heading, problem = done.stderr.strip().splitlines()  # the file, then its one problem
    assert heading.startswith("hearth: ") and message in problem
    assert not (tmp_path / "h.db").exists()


async def test_run_explains_too_few_session_starts_and_connects_nothing(tmp_path: Path) -> None:
    """`python -m bot run`'s coroutine against the fake: a ConfigError (so exit 2, one line)."""
    from bot.__main__ import run_bot

    fake = await FakeDiscord().start()
    fake.gateway.session_start_remaining = 1
    config = HearthConfig.model_validate(
        {
            "discord": {"api_base": fake.api_base, "gateway_url": fake.gateway_url},
            "database": {"path": str(tmp_path / "h.db")},
        }
    )
    fake.gateway.recommended_shards = 2
    loop = asyncio.get_running_loop()
    try:
        with pytest.raises(ConfigError, match=r"allows 1 more gateway session starts") as refused:
            await run_bot(config, fake.token)
        assert "\n" not in str(refused.value)
        assert fake.gateway.identify_count == 0 and fake.gateway.session_start_remaining == 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # run_bot's, for a process of its own
            loop.remove_signal_handler(signum)
        await fake.stop()
