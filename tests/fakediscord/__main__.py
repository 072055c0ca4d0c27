"""Run the fake as its own process with a sample server, to start Hearth against it by hand.

    python -m tests.fakediscord --port 8765

prints the `[discord]` config lines and the token, then serves until Ctrl-C. People in the sample
server can act from the prompt (type `help`), so the bot can be tried without Discord.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from .guild import FakeGuild
from .models import FakeInteraction
from .permissions import Perm
from .server import FakeDiscord

HELP = """commands:
  say NAME CHANNEL TEXT        post a message as NAME in #CHANNEL
  slash NAME CHANNEL PATH      run /PATH (no options) as NAME in #CHANNEL
  show CHANNEL                 print the last 10 messages of #CHANNEL
  dms NAME                     print what NAME received in DMs
  quit"""


def build_sample_server(fake: FakeDiscord) -> FakeGuild:
    """A small peer-support server: coordinator/supporter roles, #general #alerts #log."""
    guild = fake.add_guild("Hearth Sample", owner="olive")
    coordinator = guild.add_role("coordinator", Perm.MANAGE_GUILD)
    supporter = guild.add_role("supporter")
    for name in ("general", "alerts", "log"):
        guild.add_text_channel(name)
    guild.add_member("cora", roles=[coordinator])
    guild.add_member("sam", roles=[supporter])
    guild.add_member("max")
    guild.add_member("quinn", dms_closed=True)
    return guild


def _print_config(fake: FakeDiscord) -> None:
    print("[discord]")
    print(f'api_base = "{fake.api_base}"')
    print(f'gateway_url = "{fake.gateway_url}"')
    print()
    print(f"# token for the bot: export DISCORD_TOKEN='{fake.token}'")
    sys.stdout.flush()


async def _console(fake: FakeDiscord, guild: FakeGuild, stop: asyncio.Event) -> None:
    """A tiny prompt so a human can act as the sample members while the bot runs."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        words = line.split(maxsplit=3)
        try:
            if not words:
                continue
            if words[0] == "quit":
                stop.set()
            elif words[0] == "say" and len(words) == 4:
                fake.actions.send_message(guild.member(words[1]), guild.channel(words[2]), words[3])
            elif words[0] == "slash" and len(words) == 4:
                inter = fake.actions.slash(
                    guild.member(words[1]), guild.channel(words[2]), words[3], {}
                )

                def acknowledged(i: FakeInteraction = inter) -> bool:
                    return i.acknowledged

                await fake.wait_for(acknowledged, 3.5)
                message = fake.message(inter.original_id or 0)
                print(message.content if message else f"(answer type {inter.response_type})")
            elif words[0] == "show" and len(words) == 2:
                for message in fake.channel_messages(guild.channel(words[1]))[-10:]:
                    print(f"{message.author.username}: {message.content}")
            elif words[0] == "dms" and len(words) == 2:
                for message in fake.dm_messages(guild.member(words[1]).user):
                    print(message.content)
            else:
                print(HELP)
        except (StopIteration, AssertionError) as exc:
            print(f"cannot do that: {exc or 'unknown name'}")


async def main(host: str, port: int, interactive: bool) -> None:
    fake = FakeDiscord()
    guild = build_sample_server(fake)
    await fake.start(host, port)
    _print_config(fake)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    console = asyncio.create_task(_console(fake, guild, stop)) if interactive else None
    await stop.wait()
    if console is not None:
        console.cancel()
    await fake.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-console", action="store_true", help="do not read commands from stdin")
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port, not args.no_console))
