"""Per-server settings: one validated model, stored as key/value rows so new keys need no migration.

The server's own structure (time zone, coordinator and supporter roles, log and alerts channels)
and the settings several features share are fields of `GuildSettings` here. A setting only one
feature reads is declared by that feature, in its own service module: `KEY = Setting(name, type,
default, description, low=, high=, parse=)` listed in a module-level `SETTINGS` tuple, found by
walking `bot.services` (as table declarations are) and read typed as `settings[KEY]`. Both kinds
carry their default, bounds and a plain description, which `/admin settings`, `/admin set` (with
autocomplete) and `/setup` all use; nothing central is edited to add one.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Annotated, Any, Generic, TypeVar, cast, overload

from annotated_types import Ge, Le
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from bot.clock import Clock
from bot.config import validate_timezone_name
from bot.db import Database, Tx, to_ts
from bot.errors import InvalidValue, UserFacingError
from bot.i18n import N_
from bot.services.base import Service
from bot.services.data import (
    DeclarationError,
    TableData,
    per_walk,
)
from bot.services.setting_values import (
    MAX_SHOWN_VALUE,
    is_number,
    parse_typed,
    refusal,
)
from bot.services.text import one_line

T = TypeVar("T")

# Audit actions: "feature.what_happened", lowercase, past tense (stored in audit_log).
AUDIT_SETTINGS_CHANGED = "settings.changed"
SETTINGS_TOPIC = "settings"  # `tx.invalidate(SETTINGS_TOPIC, guild_id)`: other processes re-read
AUDIT_SETUP_CREATED = "setup.created"
AUDIT_SETUP_COMPLETED = "setup.completed"


def audit_setup_step(key: str) -> str:
    """A setup step names the setting it saved ("setup.timezone"), so the trail reads as a
    checklist of what setup chose."""
    return f"setup.{key}"


# "24,1" up to five reminders of up to 168 hours, with spaces: what `reminder_hours` can hold.
MAX_REMINDER_HOURS_TEXT = 40
MAX_REMINDERS = 5
MAX_REMINDER_HOUR = 168


# The longest setting name `/admin set` accepts (Discord checks it before Hearth sees it).
MAX_SETTING_KEY = 40
# The module attribute listing a service module's settings.
SETTINGS_ATTRIBUTE = "SETTINGS"


@dataclass(frozen=True, eq=False)
class Setting(Generic[T]):
    """One per-server setting a feature declares beside its rules (`SETTINGS = (KEY, ...)` in its
    service module), read as `settings[KEY]`, typed `T`."""

    name: str
    annotation: object  # the stored type: int, bool, int | None, list[int], str
    default: T
    description: str  # shown by /admin settings and /admin set
    low: int | None = None  # whole numbers: the bounds /admin set (and any option) accepts
    high: int | None = None
    parse: Callable[[Any], Any] | None = None  # what was typed or stored, into the type

    def field(self) -> tuple[Any, FieldInfo]:
        annotation: Any = self.annotation
        if self.parse is not None:
            annotation = Annotated[annotation, BeforeValidator(self.parse)]
        default = self.default
        info = Field(
            default_factory=lambda: copy.deepcopy(default),
            ge=self.low,
            le=self.high,
            description=self.description,
        )
        return annotation, cast(FieldInfo, info)  # typed as the default, for model bodies


def _settings_of(modules: dict[str, ModuleType]) -> tuple[Setting[Any], ...]:
    """Every setting these modules declare, refusing a name declared twice or a core one."""
    found: dict[str, str] = {}
    settings: list[Setting[Any]] = []
    for module_name, module in modules.items():
        listed = getattr(module, SETTINGS_ATTRIBUTE, ())
        if not isinstance(listed, tuple) or not all(isinstance(s, Setting) for s in listed):
            raise DeclarationError(f"{module_name}.{SETTINGS_ATTRIBUTE} must be a tuple of Setting")
        for setting in listed:
            if setting.name in GuildSettings.model_fields or setting.name in found:
                where = found.get(setting.name, __name__)
                raise DeclarationError(
                    f"setting {setting.name} is declared twice: in {where} and {module_name}"
                )
            if len(setting.name) > MAX_SETTING_KEY:
                raise DeclarationError(f"setting {setting.name} is over {MAX_SETTING_KEY} long")
            found[setting.name] = module_name
            settings.append(setting)
    return tuple(settings)


# Every setting a service module declares (walked once; see `bot/services/data.py`).
declared_settings: Callable[[], tuple[Setting[Any], ...]] = per_walk(_settings_of)


@functools.lru_cache(maxsize=4)
def _model_of(settings: tuple[Setting[Any], ...]) -> type[BaseModel]:
    fields: dict[str, Any] = {setting.name: setting.field() for setting in settings}
    return create_model("DeclaredSettings", __config__=ConfigDict(extra="ignore"), **fields)


def declared_model() -> type[BaseModel]:
    """The features' declared settings as one model (rebuilt only when the declarations change)."""
    return _model_of(declared_settings())


class GuildSettings(BaseModel):
    # Declared settings are kept as extras, validated by their declarations (`_declared`).
    model_config = ConfigDict(extra="allow", validate_assignment=True)

    timezone: str = Field("UTC", description=N_("Server time zone (IANA name, e.g. Europe/London)"))
    coordinator_role_id: int | None = Field(None, description=N_("Role whose members coordinate"))
    supporter_role_id: int | None = Field(None, description=N_("Role of trained peer supporters"))
    log_channel_id: int | None = Field(None, description=N_("Channel for the audit trail"))
    alerts_channel_id: int | None = Field(
        None, description=N_("Channel for coordinator alerts (uncovered shifts, requests)")
    )
    support_channel_id: int | None = Field(
        None, description=N_("Channel where private support threads are opened")
    )
    guidelines_role_id: int | None = Field(
        None, description=N_("Role given on accepting the server guidelines (optional)")
    )
    retention_days: int = Field(
        90, ge=1, le=3650, description=N_("Days check-in answers and notes are kept")
    )
    max_shifts_per_week: int = Field(
        3, ge=1, le=21, description=N_("Most shifts a supporter may hold a week")
    )
    min_rest_hours: int = Field(8, ge=0, le=72, description=N_("Rest required between two shifts"))
    reminder_hours: list[int] = Field(
        default_factory=lambda: [24, 1],
        description=N_("Hours before a shift to remind (e.g. 24,1)"),
    )
    coverage_alert_hours: int = Field(
        48, ge=1, le=336, description=N_("Alert coordinators this long before an uncovered slot")
    )
    setup_completed: bool = Field(False, description=N_("Whether /setup has been completed"))

    @model_validator(mode="wrap")
    @classmethod
    def _declared(
        cls, data: Any, handler: ModelWrapValidatorHandler[GuildSettings]
    ) -> GuildSettings:
        """The fields above as usual; each declared setting checked (and defaulted) by its
        declaration; anything else (a setting no longer declared, still stored) ignored."""
        if not isinstance(data, dict):
            return handler(data)
        model = declared_model()
        theirs = model.model_validate({k: v for k, v in data.items() if k in model.model_fields})
        ours = {key: value for key, value in data.items() if key in cls.model_fields}
        return handler({**ours, **theirs.model_dump()})

    def __getitem__(self, key: Setting[T]) -> T:
        """A declared setting's value, typed by its declaration."""
        return cast(T, getattr(self, key.name))

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            return validate_timezone_name(value)
        except ValueError:  # the config's own wording is for operators; this is for people
            raise InvalidValue(
                N_(
                    "“{name}” is not an IANA time zone name (for example `Europe/London`, "
                    "`America/New_York` or `UTC`). Nothing was changed."
                ),
                name=value[:MAX_SHOWN_VALUE],
            ) from None

    @field_validator("reminder_hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part for part in one_line(value).replace(" ", ",").split(",") if part]
            if not parts:
                raise InvalidValue(N_("Give at least one hour, e.g. `24,1`. Nothing was changed."))
            if len(value) > MAX_REMINDER_HOURS_TEXT or not all(is_number(p) for p in parts):
                raise InvalidValue(
                    N_("Give whole hours separated by commas, e.g. `24,1`. Nothing was changed.")
                )
            value = [int(part) for part in parts]
        if isinstance(value, list):
            if len(value) > MAX_REMINDERS or any(
                not 0 < int(hour) <= MAX_REMINDER_HOUR for hour in value
            ):
                raise InvalidValue(
                    N_(
                        "Up to {count} reminders, each between 1 and {most} hours. "
                        "Nothing was changed."
                    ),
                    count=MAX_REMINDERS,
                    most=MAX_REMINDER_HOUR,
                )
            return sorted({int(hour) for hour in value}, reverse=True)
        return value


class _SettingKeys(Sequence[str]):
    """Every setting's name: the fields of `GuildSettings`, then the declared ones. Read when
    used, since declarations are found by walking the services, which import this module."""

    def _keys(self) -> tuple[str, ...]:
        return (*GuildSettings.model_fields, *declared_model().model_fields)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._keys()[index]

    def __len__(self) -> int:
        return len(self._keys())

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __contains__(self, key: object) -> bool:
        return key in self._keys()


SETTING_KEYS: Sequence[str] = _SettingKeys()


def setting_field(key: str) -> FieldInfo:
    """How one setting is stored and checked, wherever it is declared."""
    found = GuildSettings.model_fields.get(key) or declared_model().model_fields.get(key)
    if found is None:
        raise KeyError(key)
    return found


def field_bounds(key: str) -> tuple[int, int]:
    """The (lowest, highest) a whole-number setting accepts, so a command offering the same
    number can declare exactly these bounds to Discord."""
    metadata = setting_field(key).metadata
    low = next(m.ge for m in metadata if isinstance(m, Ge))
    high = next(m.le for m in metadata if isinstance(m, Le))
    assert isinstance(low, int) and isinstance(high, int), key
    return low, high


def describe(key: str) -> str:
    return setting_field(key).description or key


SettingsListener = Callable[[int, GuildSettings, GuildSettings], Awaitable[None]]


class SettingsService(Service):
    def __init__(self, db: Database, clock: Clock, default_timezone: str = "UTC") -> None:
        super().__init__(db, clock)
        self._default_timezone = default_timezone
        self._cache: dict[int, GuildSettings] = {}
        self._listeners: list[SettingsListener] = []
        # Other processes change settings too (bot/invalidation.py): `_epoch` moves on at every
        # invalidation, so a read that raced one is used once but never cached; while changes
        # may go unheard (`_trusted` false), nothing is cached.
        self._epoch = 0
        self._trusted = True

    def on_change(self, listener: SettingsListener) -> None:
        """Call `listener(guild_id, before, after)` after every stored change, so a feature can
        bring what it already scheduled in line (e.g. reminders of claims made earlier)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: SettingsListener) -> None:
        self._listeners.remove(listener)

    async def get(self, guild_id: int) -> GuildSettings:
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        epoch = self._epoch
        rows = await self._db.fetchall(
            "SELECT key, value FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        values: dict[str, Any] = {"timezone": self._default_timezone}
        values.update({row["key"]: json.loads(row["value"]) for row in rows})
        settings = GuildSettings.model_validate(values)
        self._keep(guild_id, settings, epoch)
        return settings

    def _keep(self, guild_id: int, settings: GuildSettings, epoch: int) -> None:
        if self._trusted and epoch == self._epoch:
            self._cache[guild_id] = settings
        else:
            self._cache.pop(guild_id, None)

    async def update(self, guild_id: int, actor_id: int | None, **changes: Any) -> GuildSettings:
        """Validate all changes together, then store them in one transaction."""
        unknown = set(changes) - set(SETTING_KEYS)
        if unknown:
            raise UserFacingError(N_("Unknown setting: {keys}."), keys=", ".join(sorted(unknown)))
        epoch = self._epoch
        current = await self.get(guild_id)
        try:
            updated = GuildSettings.model_validate({**current.model_dump(), **changes})
        except ValidationError as exc:
            raise refusal(exc) from None
        now = to_ts(self._clock.now())
        rows = [
            (guild_id, key, json.dumps(getattr(updated, key)), now, actor_id) for key in changes
        ]

        def store(tx: Tx) -> None:
            tx.executemany(
                "INSERT INTO guild_settings (guild_id, key, value, updated_at, updated_by) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, key) DO UPDATE SET "
                "value = excluded.value, updated_at = excluded.updated_at, "
                "updated_by = excluded.updated_by",
                rows,
            )
            tx.invalidate(SETTINGS_TOPIC, guild_id)  # every other process reads it afresh

        await self._db.write(store)
        # `updated` holds the other keys as this process last read them: cached only if no
        # other process changed the server's settings since.
        self._keep(guild_id, updated, epoch)
        for listener in self._listeners:
            await listener(guild_id, current, updated)
        return updated

    async def set_from_text(
        self, guild_id: int, actor_id: int, key: str, raw: str
    ) -> GuildSettings:
        if key not in SETTING_KEYS:
            raise UserFacingError(
                N_("There is no setting called `{key}`. `/admin settings` lists them all."), key=key
            )
        return await self.update(
            guild_id, actor_id, **{key: parse_typed(key, raw, setting_field(key).annotation)}
        )

    def forget(self, guild_id: int) -> None:
        """Drop the cached copy after a purge, so a re-invited server starts from defaults."""
        self._cache.pop(guild_id, None)
        self._epoch += 1

    # --- kept right across processes (bot/invalidation.py) -------------------------------------
    def invalidate(self, key: str) -> None:
        self.forget(int(key))

    def distrust(self) -> None:
        self._trusted = False
        self._cache.clear()
        self._epoch += 1

    async def trust(self) -> None:
        self._cache.clear()
        self._epoch += 1
        self._trusted = True


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData.server_setup(
        "guild_settings",
        "updated_by",
        N_("server settings you changed"),
        why="the server's own settings",
    ),
)
