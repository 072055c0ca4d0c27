"""The audit trail in the reader's language: the log-channel post in the server's language,
rendered when it is recorded; `/admin audit` in each reader's; the stored code and the English
detail unchanged for the export; rows written before templates shown as stored."""

from __future__ import annotations

import json

from tests.harness import Harness, bot_of
from tests.helpers import create_group, rows


async def _spanish_server_with_a_log(hearth: Harness) -> None:
    await hearth.wait_for(lambda: hearth.dms(hearth.owner), what="the owner's greeting")
    await bot_of(hearth).settings.update(
        hearth.guild.id, None, language="es", log_channel_id=hearth.log.id
    )


async def test_a_spanish_servers_log_channel_post_is_spanish(hearth: Harness) -> None:
    await _spanish_server_with_a_log(hearth)
    cora = hearth.coordinator  # the coordinator reads English…
    reply = await hearth.slash(
        cora, hearth.general, "admin set", key="alerts_channel_id", value="#alerts"
    )
    assert f"Changed alerts_channel_id: not set → <#{hearth.alerts.id}>." in reply.content
    reply = await hearth.slash(cora, hearth.general, "rota training grant", member=hearth.member)
    assert "with no expiry" in reply.text
    await create_group(hearth, capacity=1)
    await hearth.slash(cora, hearth.general, "group edit", name="Carers circle", capacity=0)
    await hearth.wait_for(lambda: len(hearth.messages(hearth.log)) == 4, what="four log posts")

    # …the log channel is the server's: action names and details in Spanish.
    posted = [m.text for m in hearth.messages(hearth.log)]
    assert posted[0].endswith(
        f"<@{cora.id}> **Ajuste cambiado** — alerts_channel_id: sin configurar → "
        f"<#{hearth.alerts.id}>"
    )
    assert posted[1].endswith(
        f"<@{cora.id}> **Formación registrada** — <@{hearth.member.id}>, sin caducidad"
    )
    assert "**Grupo creado** — Carers circle (rol " in posted[2]
    assert posted[3].endswith("**Grupo editado** — Carers circle: capacidad 1 → sin límite")
    for text in posted:
        assert "settings." not in text and "not set" not in text and "no expiry" not in text

    # What is stored keeps the code and the English rendering, beside the template and values.
    stored = await rows(
        hearth,
        "SELECT action, detail, detail_msgid, detail_params FROM audit_log "
        "WHERE guild_id = ? AND action IN ('settings.changed', 'rota.training_granted') "
        "ORDER BY id",
        hearth.guild.id,
    )
    assert [row[:3] for row in stored] == [
        (
            "settings.changed",
            f"alerts_channel_id: not set → <#{hearth.alerts.id}>",
            "{key}: {before} → {after}",
        ),
        (
            "rota.training_granted",
            f"<@{hearth.member.id}> with no expiry",
            "{member} with no expiry",
        ),
    ]
    # A translatable value is stored as its msgid, never as the English words shown.
    assert json.loads(stored[0][3])["before"] == {"msgid": "not set"}


async def test_admin_audit_is_in_each_readers_language_and_old_rows_still_show(
    hearth: Harness,
) -> None:
    await hearth.wait_for(lambda: hearth.dms(hearth.owner), what="the owner's greeting")
    bot = bot_of(hearth)
    cora = hearth.coordinator
    await create_group(hearth, "Old circle")
    # A row written before the template columns existed: only its detail, as it was stored.
    now = int(bot.clock.now().timestamp())
    await bot.db.execute(
        "INSERT INTO audit_log (guild_id, actor_id, action, detail, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (hearth.guild.id, cora.id, "group.reopened", "Old circle", now - 60),
    )
    await hearth.slash(
        cora,
        hearth.general,
        "checkin schedule add",
        channel=hearth.general,
        prompt="How are you?",
        days="mon,wed",
        time="19:00",
        timezone="UTC",
    )
    await hearth.slash(cora, hearth.general, "admin set", key="keyword_watch_enabled", value="on")

    english = await hearth.slash(cora, hearth.general, "admin audit")
    assert "**Audit trail**, last 30 days: 4 entries (page 1 of 1)" in english.text
    assert "**Setting changed** — keyword_watch_enabled: off → on" in english.text
    assert (
        f"**Check-in added** — #1 in <#{hearth.general.id}>, Mon, Wed at 19:00 (UTC)"
        in english.text
    )
    assert f"<t:{now - 60}:f> <@{cora.id}> **Group reopened** — Old circle\n" in english.text

    owner = hearth.owner
    hearth.fake.actions.set_locale(owner, "es-ES")
    spanish = await hearth.slash(owner, hearth.general, "admin audit")
    assert "auditoría" in spanish.text
    assert "**Ajuste cambiado** — keyword_watch_enabled: desactivado → activado" in spanish.text
    assert (
        f"**Seguimiento añadido** — #1 en <#{hearth.general.id}>, lun, mié a las 19:00 (UTC)"
        in spanish.text
    )
    # The old row: its action has a name now, its detail shows as it was stored.
    assert "**Grupo reabierto** — Old circle" in spanish.text
    assert "**Grupo creado** — Old circle (rol " in spanish.text
    assert "Setting changed" not in spanish.text and "checkin." not in spanish.text

    # The export keeps the codes: it is machine-readable.
    stored = await rows(hearth, "SELECT action FROM audit_log ORDER BY id")
    assert stored == [
        ("group.created",),
        ("group.reopened",),
        ("checkin.schedule_added",),
        ("settings.changed",),
    ]
