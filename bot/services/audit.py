"""The audit trail: who did which admin action when, for coordinators to review.

An entry is stored as its action code (`group.created`: machine-readable, what the export and
any filtering use) and its detail as a template and values (`Phrase`): the catalogue's English
msgid with named parameters, as JSON. So each reader sees it in their language when it is
shown (`/admin audit` in the reader's, the log-channel post in the server's, rendered when the
entry is recorded), and `detail` keeps the English rendering for the export and older readers.
A parameter is data (names, mentions, numbers, `<t:…>`: shown as written) or itself a `Phrase`
(a translatable phrase such as "no limit" or a day name: stored as its msgid, never as English
words), or a list of them. Rows written before the template columns existed show their detail
as stored.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from pydantic import BaseModel

from bot.db import Tx, from_ts, to_ts
from bot.errors import UserFacingError
from bot.i18n import ENGLISH, N_, Texts
from bot.services.base import Service
from bot.services.data import PersonColumn, TableData
from bot.services.outbox import OutboxSpec, insert_in
from bot.services.text import discord_time

MAX_AUDIT_DAYS = 3650
LOG_POST_KIND = "audit.log"

# Each action's human name, shown instead of its code (which stays in the database and the
# export). Codes are "feature.what_happened" (the AUDIT_* constants beside each feature's
# service); tests/unit/test_audit.py checks that every one of them has a name here. A code
# without a name (an older or a test's) is shown as it is.
ACTION_NAMES: dict[str, str] = {
    "checkin.schedule_added": N_("Check-in added"),
    "checkin.schedule_paused": N_("Check-in paused"),
    "checkin.schedule_removed": N_("Check-in removed"),
    "checkin.schedule_resumed": N_("Check-in resumed"),
    "checkin.schedule_tested": N_("Check-in tested"),
    "crisis.channel_unwatched": N_("Channel no longer watched"),
    "crisis.channel_watched": N_("Channel watched"),
    "crisis.phrase_added": N_("Watched phrase added"),
    "crisis.phrase_removed": N_("Watched phrase removed"),
    "crisis.resource_added": N_("Helpline added"),
    "crisis.resource_removed": N_("Helpline removed"),
    "crisis.watch_set": N_("Keyword watch switched"),
    "export.created": N_("Data exported"),
    "group.archived": N_("Group archived"),
    "group.created": N_("Group created"),
    "group.edited": N_("Group edited"),
    "group.member_removed": N_("Member removed from a group"),
    "group.panel_posted": N_("Sign-up panel posted"),
    "group.reopened": N_("Group reopened"),
    "guidelines.edited": N_("Guidelines edited"),
    "guidelines.gate_off": N_("Guidelines no longer required to join"),
    "guidelines.gate_on": N_("Guidelines required to join"),
    "guidelines.posted": N_("Guidelines posted"),
    "guidelines.repost_scheduled": N_("Guidelines re-posting started"),
    "guidelines.repost_stopped": N_("Guidelines re-posting stopped"),
    "mydata.deleted": N_("A member deleted their data"),
    "rota.created": N_("Rota created"),
    "rota.limits_set": N_("Shift limits changed"),
    "rota.slots_added": N_("Rota slots added"),
    "rota.slots_removed": N_("Rota slot removed"),
    "rota.training_granted": N_("Training recorded"),
    "rota.training_revoked": N_("Training removed"),
    "session.added": N_("Sessions planned"),
    "session.cancelled": N_("Sessions cancelled"),
    "session.facilitation_set": N_("Session facilitation changed"),
    "session.moved": N_("Sessions moved"),
    "session.places_set": N_("Session places changed"),
    "session.room_set": N_("Session room changed"),
    "settings.changed": N_("Setting changed"),
    "setup.alerts_channel_id": N_("Setup: alerts channel"),
    "setup.completed": N_("Setup completed"),
    "setup.coordinator_role_id": N_("Setup: coordinator role"),
    "setup.created": N_("Setup: role or channel created"),
    "setup.language": N_("Setup: server language"),
    "setup.log_channel_id": N_("Setup: log channel"),
    "setup.support_channel_id": N_("Setup: support channel"),
    "setup.supporter_role_id": N_("Setup: peer supporter role"),
    "setup.timezone": N_("Setup: time zone"),
}


def action_name(action: str, tr: Texts = ENGLISH) -> str:
    """An action's human name in `tr`'s language; a code without one is shown as it is."""
    name = ACTION_NAMES.get(action)
    return tr.gettext(name) if name is not None else action[:100]


# --- details: a template and its values ----------------------------------------------------------
# A parameter: data (str, int) shown as written, a translatable `Phrase`, or a list of them
# (shown joined by ", ").
Param: TypeAlias = "str | int | Phrase | Sequence[Param]"


@dataclass(frozen=True, init=False)
class Phrase:
    """A catalogue message (its English msgid, marked `N_` or `Nn_` where it is written) and its
    named values, rendered in any language when shown: `Phrase(N_("{name}: {places}"),
    name=group, places=Phrase(N_("no limit")))`. A plural pair (`Nn_`) picks its form from the
    parameter `n`."""

    msgid: str
    plural: str | None
    params: Mapping[str, Param] = field(default_factory=dict)

    def __init__(self, message: str | tuple[str, str], /, **params: Param) -> None:
        msgid, plural = (message, None) if isinstance(message, str) else message
        if plural is not None and not isinstance(params.get("n"), int):
            raise ValueError(f"the plural {msgid!r} needs a whole number n=")
        object.__setattr__(self, "msgid", msgid)
        object.__setattr__(self, "plural", plural)
        object.__setattr__(self, "params", params)

    def render(self, tr: Texts = ENGLISH, *, clip: int | None = None) -> str:
        """The phrase in `tr`'s language; with `clip`, each data value is cut to that length
        (for a display with little room; the catalogue's text is never cut)."""
        if self.plural is not None:
            count = self.params["n"]
            template = tr.ngettext(self.msgid, self.plural, count if isinstance(count, int) else 0)
        else:
            template = tr.gettext(self.msgid)
        return template.format(**{k: render_param(v, tr, clip) for k, v in self.params.items()})

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"msgid": self.msgid}
        if self.plural is not None:
            found["plural"] = self.plural
        if self.params:
            found["params"] = {key: _to_json(value) for key, value in self.params.items()}
        return found

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Phrase:
        message = str(value["msgid"])
        plural = value.get("plural")
        params = {key: _from_json(item) for key, item in (value.get("params") or {}).items()}
        return cls((message, str(plural)) if plural is not None else message, **params)


def render_param(value: Param, tr: Texts = ENGLISH, clip: int | None = None) -> str:
    """A parameter in `tr`'s language: data as written, a phrase translated, a list joined."""
    if isinstance(value, Phrase):
        return value.render(tr, clip=clip)
    if isinstance(value, str):
        return value if clip is None or len(value) <= clip else value[: clip - 1] + "…"
    if isinstance(value, int):
        return str(value)
    return ", ".join(render_param(item, tr, clip) for item in value)


def _to_json(value: Param) -> Any:
    if isinstance(value, Phrase):
        return value.to_json()
    if isinstance(value, str | int):
        return value
    return [_to_json(item) for item in value]


def _from_json(value: Any) -> Param:
    if isinstance(value, dict):
        return Phrase.from_json(value)
    if isinstance(value, list):
        return [_from_json(item) for item in value]
    if isinstance(value, bool | float):
        return str(value)
    if isinstance(value, int):
        return value
    return str(value)


@dataclass(frozen=True)
class PostTo:
    """Where an entry is also posted (the log channel), who sends it and for how long, and in
    which language it is written (the server's)."""

    channel_id: int
    owner: str
    lease: timedelta
    tr: Texts = ENGLISH


def log_line(moment: datetime, actor_id: int, name: str, detail: str) -> str:
    """One entry as a line: when, who, the action's name and its detail (already in the
    reader's language)."""
    text = f"{discord_time(moment)} <@{actor_id}> **{name}**"
    return (text + (f" — {detail}" if detail else ""))[:2000]


class AuditEntry(BaseModel):
    id: int
    guild_id: int
    actor_id: int
    action: str
    detail: str  # the English rendering (or, for a row older than templates, all there is)
    created_at: datetime
    post_id: int | None = None  # its log-channel post in the outbox, when one was recorded
    detail_msgid: str | None = None
    detail_plural: str | None = None
    detail_params: str | None = None  # JSON: the template's named values

    @property
    def phrase(self) -> Phrase | None:
        """The detail as a template and values; None for a row older than templates."""
        if self.detail_msgid is None:
            return None
        return Phrase.from_json(
            {
                "msgid": self.detail_msgid,
                "plural": self.detail_plural,
                "params": json.loads(self.detail_params or "{}"),
            }
        )

    def name_in(self, tr: Texts = ENGLISH) -> str:
        return action_name(self.action, tr)

    def detail_in(self, tr: Texts = ENGLISH, *, clip: int | None = None) -> str:
        """The detail in `tr`'s language; a row older than templates (or one whose template no
        longer fits its values) shows the detail as stored."""
        try:
            phrase = self.phrase
            return self.detail if phrase is None else phrase.render(tr, clip=clip)
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            return self.detail


class AuditService(Service):
    async def record(
        self,
        guild_id: int,
        actor_id: int,
        action: str,
        detail: Phrase | str | None = None,
        *,
        post: PostTo | None = None,
    ) -> AuditEntry:
        """Record an action; with `post`, also its log-channel post (rendered now, in
        `post.tr`'s language) as an outbox row, in the same transaction, born leased to the
        sender (`post.owner`), its id in `post_id`. `detail` is a `Phrase`; a plain string is
        stored as written, as rows were before templates (tests, data)."""
        now = self._clock.now()
        phrase = detail if isinstance(detail, Phrase) else None
        english = phrase.render() if phrase is not None else str(detail or "")
        template: dict[str, Any] = phrase.to_json() if phrase is not None else {}
        msgid, plural = template.get("msgid"), template.get("plural")
        params = json.dumps(template.get("params", {})) if phrase is not None else None
        content = ""
        if post is not None:  # rendered once, now: the outbox row holds the finished text
            shown = english
            if phrase is not None:  # a translation that doesn't fit its values: English
                with contextlib.suppress(KeyError, IndexError, ValueError):
                    shown = phrase.render(post.tr)
            content = log_line(now, actor_id, action_name(action, post.tr), shown)

        def write(tx: Tx) -> tuple[int, int | None]:
            entry_id = tx.fetchval(
                "INSERT INTO audit_log (guild_id, actor_id, action, detail, created_at, "
                "detail_msgid, detail_plural, detail_params) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (guild_id, actor_id, action, english, to_ts(now), msgid, plural, params),
            )
            if post is None:
                return entry_id, None
            spec = OutboxSpec(
                guild_id=guild_id,
                kind=LOG_POST_KIND,
                due_at=now,
                channel_id=post.channel_id,
                payload={"content": content},
            )
            return entry_id, insert_in(tx, spec, now, (post.owner, now + post.lease))

        entry_id, post_id = await self._db.write(write)
        return AuditEntry(
            id=entry_id,
            guild_id=guild_id,
            actor_id=actor_id,
            action=action,
            detail=english,
            created_at=now.replace(microsecond=0),
            post_id=post_id,
            detail_msgid=msgid,
            detail_plural=plural,
            detail_params=params,
        )

    async def list(
        self,
        guild_id: int,
        *,
        actor_id: int | None = None,
        days: int = 30,
        limit: int = 10,
        offset: int = 0,
    ) -> tuple[list[AuditEntry], int]:
        """A page of entries, newest first, and the total count for paging."""
        if not 1 <= days <= MAX_AUDIT_DAYS:
            raise UserFacingError(
                N_("The audit trail looks back 1 to {days} days."), days=MAX_AUDIT_DAYS
            )
        since = to_ts(self._clock.now() - timedelta(days=days))
        where = "guild_id = ? AND created_at >= ?"
        params: list[object] = [guild_id, since]
        if actor_id is not None:
            where += " AND actor_id = ?"
            params.append(actor_id)
        total = await self._db.fetchval(f"SELECT COUNT(*) FROM audit_log WHERE {where}", params)
        rows = await self._db.fetchall(
            f"SELECT * FROM audit_log WHERE {where} ORDER BY created_at DESC, id DESC "
            "LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        entries = [
            AuditEntry(**{**dict(row), "created_at": from_ts(row["created_at"])}) for row in rows
        ]
        return entries, int(total)


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData(
        "audit_log",
        export="rows",
        why="the trail coordinators answer to; never answers or notes",
        people=(
            PersonColumn(
                "actor_id",
                "none",
                N_("admin actions you took"),
                "the audit trail is how a server holds its coordinators to account; it never "
                "holds members' answers or notes",
            ),
        ),
    ),
)
