"""Process-wide configuration, read from TOML plus the token from the environment.

Server-specific settings (time zone, roles, channels, limits) live in the database and are
changed with `/setup` and `/admin set`; this file only holds what the operator of the process
decides: where the database is, how to log, how to reach Discord, and the defaults for new servers.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.db import Database, open_database, without_password

TOKEN_ENV_VAR = "DISCORD_TOKEN"
DATABASE_PASSWORD_ENV_VAR = "HEARTH_DATABASE_PASSWORD"
DEFAULT_CONFIG_PATH = Path("config.toml")


class ConfigError(Exception):
    """A config problem explained for a human; the CLI prints it and exits with status 2."""


# The longest IANA name is 32 characters ("America/Argentina/ComodRivadavia"); a name longer than
# this is refused before zoneinfo tries to open it as a file.
MAX_ZONE_NAME = 64


def validate_timezone_name(name: str) -> str:
    """Reject names zoneinfo cannot load, so a typo fails at start-up, not at the first schedule.

    zoneinfo looks names up as files: a long name raises "File name too long" and a folder
    ("Europe") "Is a directory", both OSErrors, so those are refused as unknown names too.
    """
    try:
        if len(name) > MAX_ZONE_NAME:
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(
            f"'{name}' is not an IANA time zone name (examples: 'Europe/London', "
            "'America/New_York', 'UTC')"
        ) from exc
    return name


TimezoneName = Annotated[str, AfterValidator(validate_timezone_name)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DiscordSection(_Section):
    """Lets the bot talk to a Discord-compatible endpoint (a rate-limit proxy or the test fake)."""

    api_base: str | None = Field(
        default=None, description="REST base URL, e.g. http://127.0.0.1:8080/api/v10"
    )
    gateway_url: str | None = Field(
        default=None, description="Gateway URL, e.g. ws://127.0.0.1:8080/"
    )
    sync_commands: bool = Field(
        default=True, description="Sync slash commands at start-up when they changed"
    )
    message_content: bool = Field(
        default=False,
        description="Request the privileged message-content intent (needed by the keyword watch)",
    )
    shard_count: int | None = Field(
        default=None,
        ge=1,
        description="How many shards the bot runs in all; unset: Discord's recommendation",
    )
    shard_ids: tuple[int, ...] | None = Field(
        default=None,
        description="Which of the shards this process runs, e.g. [0, 1]; unset: all of them",
    )

    @field_validator("api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("gateway_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return value

    @field_validator("shard_ids")
    @classmethod
    def _shard_ids(
        cls, value: tuple[int, ...] | None, info: ValidationInfo
    ) -> tuple[int, ...] | None:
        """Shard ids only mean something against a total, and each must be one of its shards:
        Discord closes a shard outside the total (4010), after the process had started."""
        if value is None:
            return value
        if "shard_count" not in info.data:
            return value  # shard_count itself is refused; one message is enough
        count = info.data["shard_count"]
        if count is None:
            raise ValueError(
                "needs discord.shard_count too: the ids are shards out of a total, and every "
                "process must use the same total"
            )
        if not value:
            raise ValueError("is empty: list this process's shards, or leave it out to run all")
        repeated = sorted({i for i in value if value.count(i) > 1})
        if repeated:
            raise ValueError(f"lists shard {', '.join(map(str, repeated))} more than once")
        outside = [i for i in value if not 0 <= i < count]
        if outside:
            raise ValueError(
                f"has {', '.join(map(str, outside))}, outside the {count} shards "
                f"(shard ids run from 0 to {count - 1})"
            )
        return value

    @property
    def runs_every_shard(self) -> bool:
        """Whether this process runs all the shards (no other process runs any)."""
        if self.shard_ids is None or self.shard_count is None:
            return True
        return set(self.shard_ids) == set(range(self.shard_count))


class DatabaseSection(_Section):
    """SQLite (`path`, the default) or PostgreSQL (`url`), for deployments past one process."""

    path: Path = Field(default=Path("hearth.db"), description="SQLite database file")
    url: str | None = Field(
        default=None,
        description="postgresql://user@host:5432/hearth; when set, PostgreSQL is used, not path",
    )
    pool_size: int = Field(
        default=10, ge=1, le=200, description="PostgreSQL connections this process may hold"
    )
    connect_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="how long to wait for PostgreSQL to answer"
    )

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in {"postgresql", "postgres"} or not parts.hostname:
            raise ValueError(
                "must look like postgresql://user@host:5432/hearth (scheme postgresql, a host)"
            )
        if not parts.path.strip("/"):
            raise ValueError("must name the database at its end, e.g. …:5432/hearth")
        try:
            parts.port  # noqa: B018  # raises for a port that is not a number
        except ValueError:
            raise ValueError("has a port that is not a number") from None
        return value

    @property
    def target(self) -> str | Path:
        """What `open_database` opens: the URL when PostgreSQL is chosen, else the file."""
        return self.url if self.url is not None else self.path

    def shown(self) -> str:
        """The database as check-config prints it: never with a password."""
        return str(self.path) if self.url is None else without_password(self.url)


class LoggingSection(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    discord_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"


class DefaultsSection(_Section):
    """Defaults a new server starts with until a coordinator changes them in `/setup`."""

    timezone: TimezoneName = "UTC"
    removed_server_retention_days: int = Field(default=30, ge=0, le=365)


class DeliverySection(_Section):
    """How Hearth's own messages (reminders, check-ins, alerts) are sent from the outbox."""

    shutdown_grace_seconds: float = Field(
        default=5.0, ge=0, le=60, description="how long sends in flight may finish at a stop"
    )
    lease_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="how long a claimed message is reserved; a crashed process's resend waits this",
    )


class HearthConfig(_Section):
    discord: DiscordSection = DiscordSection()
    delivery: DeliverySection = DeliverySection()
    database: DatabaseSection = DatabaseSection()
    logging: LoggingSection = LoggingSection()
    defaults: DefaultsSection = DefaultsSection()

    @model_validator(mode="after")
    def _shared_store_for_shared_shards(self) -> HearthConfig:
        """A process that runs only some shards means other processes run the rest, all on one
        database; a SQLite file has one writer process, so that needs PostgreSQL."""
        if not self.discord.runs_every_shard and self.database.url is None:
            raise ValueError(
                "sharded processes on SQLite: discord.shard_ids runs only some of the "
                f"{self.discord.shard_count} shards, so other processes run the rest, and SQLite "
                "serves one process only; set database.url to PostgreSQL (README: Sharding), "
                "or leave shard_ids out to run every shard in this process"
            )
        return self


def _describe(error: ValidationError) -> str:
    """Name each failing field and what is expected, in words a volunteer admin can act on."""
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        if not where:  # a rule across sections says which settings it is about
            lines.append(f"- {item['msg'].removeprefix('Value error, ')}")
        elif item["type"] == "extra_forbidden":
            lines.append(
                f"- {where}: unknown setting (check the spelling against config.example.toml)"
            )
        else:
            message = item["msg"].removeprefix("Value error, ")
            lines.append(f"- {where}: {message}")
    return "\n".join(lines)


def load_config(path: Path = DEFAULT_CONFIG_PATH) -> HearthConfig:
    if not path.exists():
        raise ConfigError(
            f"No config file at {path}. Copy config.example.toml to {path} and edit it."
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}") from None
    try:
        return HearthConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path} has problems:\n{_describe(exc)}") from None


def load_token(environ: dict[str, str] | None = None) -> SecretStr:
    """The token only ever comes from the environment, so it never lands in a file or a repo."""
    value = (os.environ if environ is None else environ).get(TOKEN_ENV_VAR, "").strip()
    if not value:
        raise ConfigError(
            f"The bot token is missing: set the environment variable {TOKEN_ENV_VAR} "
            "to the token from the Discord developer portal."
        )
    return SecretStr(value)


def database_password(environ: dict[str, str] | None = None) -> str | None:
    """A PostgreSQL password kept out of the config file (the URL may carry one instead)."""
    value = (os.environ if environ is None else environ).get(DATABASE_PASSWORD_ENV_VAR, "")
    return value or None


def open_configured_database(config: HearthConfig) -> Database:
    """The store the config names, not yet connected; the one place it is built."""
    section = config.database
    return open_database(
        section.target,
        pool_size=section.pool_size,
        connect_timeout=section.connect_timeout_seconds,
        password=database_password(),
    )
