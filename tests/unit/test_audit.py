"""The audit trail's entries as templates and values: one stored row shown in any language, the
log post rendered in the server's language when recorded, older rows shown as stored, and every
action with a human name."""

from __future__ import annotations

import importlib
import json
import pkgutil
from datetime import UTC, datetime, timedelta

import pytest

import bot.services
from bot import i18n
from bot.clock import FakeClock
from bot.db import Database
from bot.i18n import N_, Nn_
from bot.services.audit import ACTION_NAMES, AuditService, Phrase, PostTo, action_name
from bot.services.checkins import when_phrase
from cogs.setup._views import NAMES as SETUP_STEPS

GUILD = 7
LEASE = timedelta(minutes=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))


def plain(text: str) -> str:
    """The text without the pseudo-locale run's ⟦ ⟧ marks (every catalogue is marked there)."""
    return text.translate(str.maketrans("", "", i18n.OPEN + i18n.CLOSE))


def audit_codes() -> set[str]:
    """Every AUDIT_* code the services declare, and the setup steps (`setup.<key>`)."""
    found: set[str] = set()
    for module in pkgutil.walk_packages(bot.services.__path__, "bot.services."):
        loaded = importlib.import_module(module.name)
        found.update(
            value
            for name, value in vars(loaded).items()
            if name.startswith("AUDIT_") and isinstance(value, str)
        )
    return found | {f"setup.{key}" for key in (*SETUP_STEPS, "language")}


def test_every_action_has_a_human_name_and_every_name_an_action() -> None:
    codes = audit_codes()
    assert "group.created" in codes and "setup.timezone" in codes
    assert sorted(codes - ACTION_NAMES.keys()) == [], "add a name to ACTION_NAMES"
    assert sorted(ACTION_NAMES.keys() - codes) == [], "ACTION_NAMES names an unknown action"
    spanish = i18n.texts("es")
    assert action_name("group.created") == "Group created"
    assert plain(action_name("group.created", spanish)) == "Grupo creado"
    assert action_name("settings.update", spanish) == "settings.update"  # no name: the code


async def test_one_stored_entry_renders_in_english_and_spanish(
    db: Database, clock: FakeClock
) -> None:
    audit = AuditService(db, clock)
    detail = Phrase(
        N_("#{id} in {channel}, {when}"),
        id=3,
        channel="<#55>",
        when=when_phrase(0b0000101, "19:00", "Europe/Madrid"),
    )
    await audit.record(GUILD, 5, "checkin.schedule_added", detail)
    await audit.record(
        GUILD, 5, "session.places_set", N_("{group}: {places}"), post=None
    )  # a plain string is stored as written (a row as before templates)
    await audit.record(
        GUILD,
        5,
        "mydata.deleted",
        Phrase(Nn_("{n} record", "{n} records"), n=1),
    )
    entries, total = await audit.list(GUILD)
    assert total == 3
    deleted, old, added = entries  # newest first, same second: by id
    spanish = i18n.texts("es")

    assert added.detail == "#3 in <#55>, Mon, Wed at 19:00 (Europe/Madrid)"  # English, stored
    assert added.detail_in() == added.detail
    assert plain(added.detail_in(spanish)) == "#3 en <#55>, lun, mié a las 19:00 (Europe/Madrid)"
    assert plain(added.name_in(spanish)) == "Seguimiento añadido"
    # The day names are stored as msgids, not as the English words shown.
    params = json.loads(added.detail_params or "")
    assert params["when"]["params"]["days"] == [{"msgid": "Mon"}, {"msgid": "Wed"}]

    assert deleted.detail == "1 record" and plain(deleted.detail_in(spanish)) == "1 registro"

    assert old.detail_msgid is None and old.phrase is None
    assert old.detail_in(spanish) == "{group}: {places}"  # as stored, never formatted


async def test_the_log_post_is_rendered_in_the_servers_language_when_recorded(
    db: Database, clock: FakeClock
) -> None:
    audit = AuditService(db, clock)
    detail = Phrase(N_("{group}: {places}"), group="Carers", places=Phrase(N_("no limit")))
    entry = await audit.record(
        GUILD, 5, "session.places_set", detail, post=PostTo(99, "me", LEASE, i18n.texts("es"))
    )
    payload = await db.fetchval("SELECT payload FROM outbox WHERE id = ?", (entry.post_id,))
    assert plain(json.loads(payload)["content"]) == (
        "<t:1772452800:f> <@5> **Plazas de las sesiones cambiadas** — Carers: sin límite"
    )
    assert entry.detail == "Carers: no limit"


async def test_a_detail_that_no_longer_fits_its_values_shows_as_stored(
    db: Database, clock: FakeClock
) -> None:
    audit = AuditService(db, clock)
    await audit.record(GUILD, 5, "group.reopened", Phrase(N_("{name}"), name="Carers"))
    await db.execute("UPDATE audit_log SET detail_params = '{}'")  # a value went missing
    [entry], _ = await audit.list(GUILD)
    assert entry.detail_in(i18n.texts("es")) == "Carers"
    await db.execute("UPDATE audit_log SET detail_params = 'not json'")
    [entry], _ = await audit.list(GUILD)
    assert entry.detail_in(i18n.texts("es")) == "Carers"


def test_a_phrase_keeps_data_as_written_and_clips_only_data() -> None:
    long_name = "x" * 100
    phrase = Phrase(N_("{name}: {changes}"), name=long_name, changes=[Phrase(N_("description"))])
    assert Phrase.from_json(phrase.to_json()) == phrase
    assert phrase.render(clip=10) == "xxxxxxxxx…: description"
    with pytest.raises(ValueError):
        Phrase(Nn_("{n} record", "{n} records"))  # a plural needs its count
