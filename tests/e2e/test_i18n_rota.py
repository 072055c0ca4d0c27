"""Rotas in the reader's language: a Spanish client's replies and refusals, a Spanish server's
alerts and DMs, the calendar file's text; the same start formats in every language."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services.text import discord_day
from tests.harness import Harness, bot_of
from tests.helpers import add_slots, make_rota, run_at, set_up_rotas, train

TUE_19 = datetime(2026, 3, 3, 19, 0, tzinfo=UTC)


async def test_a_spanish_supporter_claims_views_and_lists_shifts_in_spanish(
    hearth: Harness,
) -> None:
    await set_up_rotas(hearth)
    await make_rota(hearth, needed=2)
    slot_id = (await add_slots(hearth, "Evening duty", "2026-03-03 19:00"))[0]
    await train(hearth, hearth.supporter)
    hearth.fake.actions.set_locale(hearth.supporter, "es-ES")

    view = await hearth.slash(hearth.supporter, hearth.channel, "rota view", rota="Evening duty")
    assert view.ephemeral
    assert "Evening duty — semana del lun 2 mar 2026" in view.text  # day names in Spanish too
    assert "Las horas se muestran en tu propia zona horaria." in view.text
    assert "⚠️ **2 libres**" in view.text
    assert [c.label for c in view.components] == [f"Reservar #{slot_id}"]

    claimed = await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id))
    assert claimed.ephemeral
    assert claimed.content.startswith("Estás en **Evening duty** el <t:")
    assert f"(franja #{slot_id}, ahora 1/2)" in claimed.content
    assert "Gracias por estar ahí." in claimed.content

    mine = await hearth.slash(hearth.supporter, hearth.channel, "rota mine", ics=True)
    assert "**Tus turnos** (1)" in mine.text
    calendar = mine.file("hearth-shifts.ics").data.decode()
    assert "X-WR-CALNAME:Mis turnos · " in calendar
    assert "SUMMARY:Evening duty (turno de apoyo entre pares)" in calendar

    # English stays English, byte for byte.
    english = await hearth.slash(hearth.coordinator, hearth.channel, "rota onduty")
    assert english.content.startswith("No one is on duty right now. The next shift starts <t:")


async def test_rota_refusals_reach_a_spanish_client_in_spanish_and_change_nothing(
    hearth: Harness,
) -> None:
    await set_up_rotas(hearth)
    await make_rota(hearth)
    slot_id = (await add_slots(hearth, "Evening duty", "2026-03-03 19:00"))[0]
    await train(hearth, hearth.supporter)
    hearth.fake.actions.set_locale(hearth.supporter, "es-ES")
    await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id))

    again = await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id))
    assert again.ephemeral
    assert again.content == "Ya has reservado ese turno: está en `/turnos mis_turnos`."

    member = await hearth.slash(hearth.member, hearth.channel, "rota claim", slot=str(slot_id))
    assert "Only peer supporters can take shifts" in member.content  # an English client

    # A Spanish coordinator: the same start formats, and Spanish day names too.
    hearth.fake.actions.set_locale(hearth.coordinator, "es-ES")
    refused = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota slots add",
        rota="Evening duty", start="lundi 19:00", duration="2h",
    )  # fmt: skip
    assert refused.content.startswith("«lundi» no es un día de la semana. Indica el inicio como")
    added = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota slots add",
        rota="Evening duty", start="Miércoles 19:00", duration="2h",
    )  # fmt: skip
    assert added.content.startswith("He añadido 1 franja a **Evening duty**:")
    wednesday = int(datetime(2026, 3, 4, 19, 0, tzinfo=UTC).timestamp())
    assert f"<t:{wednesday}:F>" in added.content


async def test_a_spanish_server_gets_rota_alerts_and_debriefs_in_spanish(hearth: Harness) -> None:
    await set_up_rotas(hearth)
    await bot_of(hearth).settings.update(hearth.guild.id, None, language="es")
    hearth.fake.actions.set_locale(hearth.coordinator, "en-GB")
    hearth.fake.actions.set_locale(hearth.supporter, "en-GB")
    await make_rota(hearth, needed=2)
    first, second = await add_slots(hearth, "Evening duty", "2026-03-03 19:00", repeat_weeks=2)
    await train(hearth, hearth.supporter)
    for slot_id in (first, second):
        await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id))

    # A personal DM follows the supporter's own client language where Hearth has seen it.
    await run_at(hearth, TUE_19 + timedelta(hours=2))
    await hearth.wait_for(
        lambda: any("How was that shift?" in m.content for m in hearth.dms(hearth.supporter)),
        what="the English debrief",
    )

    # A release at short notice: the supporter reads English, the coordinators' alert is Spanish.
    await run_at(hearth, datetime(2026, 3, 9, 20, 0, tzinfo=UTC))
    released = await hearth.slash(
        hearth.supporter, hearth.channel, "rota release", slot=str(second)
    )
    assert released.content.startswith("You've released **Evening duty**")
    await hearth.wait_for(
        lambda: any("ya no puede cubrir" in m.content for m in hearth.messages(hearth.alerts)),
        what="the Spanish short-notice alert",
    )
    alert = next(m.content for m in hearth.messages(hearth.alerts) if "ya no puede" in m.content)
    assert f"🔔 <@{hearth.supporter.id}> ya no puede cubrir **Evening duty**" in alert
    assert "ahora tiene 0/2. Por favor, ayudad a encontrar" in alert


async def test_a_debrief_dm_is_written_in_the_servers_language(hearth: Harness) -> None:
    await set_up_rotas(hearth)
    await make_rota(hearth)
    slot_id = (await add_slots(hearth, "Evening duty", "2026-03-03 19:00"))[0]
    await train(hearth, hearth.supporter)
    await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id))
    await bot_of(hearth).settings.update(hearth.guild.id, None, language="es")

    await run_at(hearth, TUE_19 + timedelta(hours=2))
    await hearth.wait_for(
        lambda: any("¿Qué tal el turno?" in m.content for m in hearth.dms(hearth.supporter)),
        what="the Spanish debrief",
    )
    debrief = next(m for m in hearth.dms(hearth.supporter) if "¿Qué tal el turno?" in m.content)
    assert debrief.content.startswith("Tu turno de **Evening duty** en **")
    assert [c.label for c in debrief.components][-2:] == ["Sí, por favor", "No, gracias"]
    hearth.fake.actions.set_locale(hearth.supporter, "es-ES")
    await hearth.click(hearth.supporter, debrief, label="2")
    assert "Parece que ha sido difícil." in debrief.content
    assert [c.label for c in debrief.components] == ["Sí, por favor", "No, gracias"]


async def test_a_spanish_servers_training_digest_and_renewal_dm_are_in_spanish(
    hearth: Harness,
) -> None:
    await set_up_rotas(hearth)
    await bot_of(hearth).settings.update(hearth.guild.id, None, language="es")
    await train(hearth, hearth.supporter, expires="2026-03-20")
    expires = datetime(2026, 3, 21, 0, 0, tzinfo=UTC)  # the local midnight after (GMT)

    await run_at(hearth, datetime(2026, 3, 9, 9, 0, tzinfo=UTC))  # the first weekly digest
    await hearth.wait_for(
        lambda: any("Resumen semanal" in m.content for m in hearth.messages(hearth.alerts)),
        what="the Spanish digest",
    )
    digest = next(m.content for m in hearth.messages(hearth.alerts) if "Resumen" in m.content)
    assert digest.startswith("📋 **Resumen semanal de formación**\nFormación caducada o que")
    assert f"• <@{hearth.supporter.id}> — caduca el <t:{int(expires.timestamp())}:D>" in digest
    assert "`/turnos formación registrar`" in digest

    await run_at(hearth, expires - timedelta(days=7))
    await hearth.wait_for(
        lambda: any("🌱" in m.content for m in hearth.dms(hearth.supporter)), what="the renewal"
    )
    renewal = next(m.content for m in hearth.dms(hearth.supporter) if "🌱" in m.content)
    assert renewal.startswith("🌱 Tu formación de apoyo en **")


async def test_slot_choices_and_refused_dates_read_in_the_readers_language(
    hearth: Harness,
) -> None:
    """Where `<t:…>` can't go (autocomplete choices) a day is written out by Babel in the
    reader's language, and a refusal's day is a `<t:…>`; English stays as it was."""
    await set_up_rotas(hearth)
    await make_rota(hearth, needed=2)
    slot_id = (await add_slots(hearth, "Evening duty", "2026-03-03 19:00"))[0]
    await train(hearth, hearth.supporter)
    hearth.fake.actions.set_locale(hearth.supporter, "es-ES")

    choices = await hearth.autocomplete(hearth.supporter, hearth.channel, "rota claim", "slot", "")
    assert choices == [
        {"name": f"#{slot_id} mar 3 mar 19:00–21:00 · Evening duty (0/2)", "value": str(slot_id)}
    ]
    typed = await hearth.autocomplete(hearth.supporter, hearth.channel, "rota claim", "slot", "mar")
    assert [c["value"] for c in typed] == [str(slot_id)]

    past = await hearth.slash(hearth.supporter, hearth.channel, "rota away", start="2026-03-01")
    assert past.ephemeral
    zone = ZoneInfo((await bot_of(hearth).settings.get(hearth.guild.id)).timezone)
    day = discord_day(date(2026, 3, 1), zone)  # each reader's app writes it in their language
    assert past.content == f"El {day} ya ha pasado. Un descanso puede empezar hoy o más adelante."

    english = await hearth.autocomplete(
        hearth.coordinator, hearth.channel, "rota claim", "slot", ""
    )
    assert english[0]["name"] == f"#{slot_id} Tue 3 Mar 19:00–21:00 · Evening duty (0/2)"
