"""Check-ins in the reader's language: a Spanish client's replies, buttons, modal and personal DMs
in Spanish (days typed and listed back in Spanish), a service's refusal in Spanish, and a Spanish
server's group prompt, its replies thread and its coordinators' alert in Spanish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.harness import Harness, bot_of
from tests.helpers import new_channel

MONDAY_19 = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # the harness clock starts Monday 12:00 UTC
WEDNESDAY_8 = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)


async def _fire(hearth: Harness, moment: datetime) -> None:
    hearth.clock.set(moment)
    await bot_of(hearth).dispatcher.run_due()


async def test_a_spanish_member_switches_on_in_spanish_and_gets_spanish_check_ins(
    hearth: Harness,
) -> None:
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    reply = await hearth.slash(
        hearth.member,
        hearth.channel,
        "checkin me on",
        days="Lunes, MIÉRCOLES",
        time="08:00",
        timezone="UTC",
    )
    assert reply.ephemeral
    assert "Los seguimientos personales están activados: lun, mié a las 08:00 (UTC)." in reply.text
    assert f"<t:{int(WEDNESDAY_8.timestamp())}:F>" in reply.text  # Monday 08:00 has passed
    [welcome] = hearth.dms(hearth.member)
    assert welcome.content.startswith("¡Hola! Has activado los seguimientos personales")
    assert "`/seguimiento personal pausar`" in welcome.content

    # The personal DM is written in the member's own language (seen on their last command).
    await _fire(hearth, WEDNESDAY_8 + timedelta(seconds=1))
    [dm] = [m for m in hearth.dms(hearth.member) if "¿Cómo estás hoy?" in m.content]
    assert "1 = lo estoy pasando muy mal" in dm.content
    labels = [c.label for c in dm.components]
    assert labels == ["1", "2", "3", "4", "5", "Saltar", "Añadir una nota privada"]

    opened = await hearth.click(hearth.member, dm, label="Añadir una nota privada")
    assert opened.modal is not None and opened.modal.title == "Una nota privada"
    saved = await hearth.submit_modal(hearth.member, opened, {"Solo tú verás esto": "bien"})
    assert saved.text.startswith("Tu nota privada está guardada.")
    assert "Aún puedes tocar un número" in saved.text

    low = await hearth.click(hearth.member, dm, label="1")
    assert low.ephemeral and low.text.startswith("Gracias por contármelo con sinceridad.")
    assert [c.label for c in low.components] == ["Sí, por favor", "No, gracias"]
    declined = await hearth.click(hearth.member, low, label="No, gracias")
    assert "No pasa nada: no se ha enviado nada a nadie." in declined.text
    assert "`/crisis`" in declined.text
    [row] = await bot_of(hearth).db.fetchall("SELECT mood, note FROM checkin_answers")
    assert (row["mood"], row["note"]) == (1, "bien")

    history = await hearth.slash(hearth.member, hearth.channel, "checkin history")
    assert "**Tus seguimientos, últimos 30 días** — 1 respuesta; ánimo medio 1,0." in history.text

    # English stays byte for byte what it was.
    english = await hearth.slash(
        hearth.coordinator, hearth.channel, "checkin me on", days="mon,wed", time="08:00"
    )
    assert "Personal check-ins are on: Mon, Wed at 08:00" in english.text


async def test_a_refusal_from_the_service_is_in_spanish_and_changes_nothing(
    hearth: Harness,
) -> None:
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    refused = await hearth.slash(
        hearth.member, hearth.channel, "checkin me on", days="lunes, funday", time="08:00"
    )
    assert refused.ephemeral
    assert refused.text.startswith("No reconozco el día “funday”.")
    bad_time = await hearth.slash(
        hearth.member, hearth.channel, "checkin me on", days="dom", time="25:00"
    )
    assert "“25:00” no es una hora que pueda usar" in bad_time.text
    paused = await hearth.slash(hearth.member, hearth.channel, "checkin me pause", days=3)
    assert "Tus seguimientos personales no están activados" in paused.text
    assert "`/seguimiento personal activar`" in paused.text
    assert await bot_of(hearth).db.fetchval("SELECT COUNT(*) FROM checkin_schedules") == 0
    assert hearth.dms(hearth.member) == []


async def test_a_spanish_server_gets_its_group_prompt_thread_and_alert_in_spanish(
    hearth: Harness,
) -> None:
    bot = bot_of(hearth)
    await bot.settings.update(
        hearth.guild.id, None, language="es", alerts_channel_id=hearth.alerts.id
    )
    added = await hearth.slash(
        hearth.coordinator,
        hearth.channel,
        "checkin schedule add",
        channel=hearth.general,
        prompt="¿Qué tal la semana?",
        days="lun, mié, vie",
        time="19:00",
        timezone="UTC",
        thread=True,
    )
    # The coordinator's client is English: their reply is English, the days listed in English.
    assert "Check-in **#1** is set" in added.text and "Mon, Wed, Fri at 19:00 (UTC)" in added.text

    await _fire(hearth, MONDAY_19 + timedelta(seconds=1))
    [prompt] = [m for m in hearth.messages(hearth.general) if "¿Qué tal la semana?" in m.content]
    assert prompt.content.startswith("**Seguimiento** — ¿Qué tal la semana?")
    assert "Tu respuesta es privada" in prompt.content
    assert [c.label for c in prompt.components] == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "Añadir una nota privada",
    ]
    [thread] = hearth.fake.threads(hearth.general)
    assert thread.name == "Respuestas al seguimiento — lun 02 mar"

    # The channel goes away: the coordinators' alert is in the server's language.
    other = await new_channel(hearth, "check-ins")
    await hearth.slash(
        hearth.coordinator,
        hearth.channel,
        "checkin schedule add",
        channel=other,
        prompt="¿Cómo va?",
        days="martes",
        time="19:00",
        timezone="UTC",
    )
    hearth.guild.delete_channel(other)
    await hearth.fake.flush()
    await _fire(hearth, MONDAY_19 + timedelta(days=1, seconds=1))
    await hearth.wait_for(lambda: len(hearth.messages(hearth.alerts)) >= 1)
    alerts: list[Any] = [m.text for m in hearth.messages(hearth.alerts)]
    assert any(
        text.startswith("No se pudo publicar el seguimiento #2: el canal")
        and "Lo he pausado." in text
        and "`/seguimiento programa reanudar` con el número 2" in text
        for text in alerts
    ), alerts
