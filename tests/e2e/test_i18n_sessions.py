"""Group sessions in the reader's language: a Spanish client's replies, buttons and refusals in
Spanish; what Hearth sends on its own (reminders, notices, the facilitator alert, the Discord
event it writes) in the member's or the server's language; dates and data as they are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.fakediscord import DEFAULT_BOT, Perm
from tests.harness import Harness, bot_of
from tests.helpers import (
    TUE_19,
    add_session,
    dms_saying,
    join_group,
    make_rota,
    member_going,
    rows,
    run_at,
    session_ids,
    sessions_list,
    set_up_sessions,
)

WED_18 = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)  # 18:00 in London


async def test_a_spanish_coordinator_plans_with_a_spanish_day_and_a_member_answers_in_spanish(
    hearth: Harness,
) -> None:
    await set_up_sessions(hearth)
    hearth.fake.actions.set_locale(hearth.coordinator, "es-ES")
    added = await add_session(hearth, start="Miércoles 18:00")
    assert added.ephemeral
    assert "Planificada una sesión para **Carers circle**" in added.content, added.content
    assert f"<t:{int(WED_18.timestamp())}:F>" in added.content
    assert "`/grupo sesiones lista`" in added.content and "Planned" not in added.content
    [session_id] = await session_ids(hearth)
    found = await rows(hearth, "SELECT starts_at FROM group_sessions")
    assert found == [(int(WED_18.timestamp()),)]
    # The event every member sees is written in the server's language (English here).
    [event] = hearth.fake.scheduled_events(hearth.guild)
    assert event.description == f"A Carers circle session, planned in Hearth (#{session_id})."

    await join_group(hearth, hearth.member)
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    listing = await sessions_list(hearth, hearth.member)
    assert "**Carers circle**: próximas sesiones" in listing.content, listing.content
    assert "van 0" in listing.content and "Para responder, usa los botones" in listing.content
    labels = [c.label for c in listing.components if c.label]
    assert f"Voy · #{session_id} mié 04 mar 18:00" in labels, labels
    assert f"No puedo ir · #{session_id} mié 04 mar 18:00" in labels, labels
    going = await hearth.click(
        hearth.member, listing, custom_id=f"hearth:session:going:{session_id}"
    )
    assert going.ephemeral and "**Vas** a **Carers circle**" in going.content, going.content
    assert "van 1" in going.content and "going" not in going.content
    again = await sessions_list(hearth, hearth.member)
    assert "van 1 · vas" in again.content

    off = await hearth.slash(hearth.member, hearth.channel, "group sessions reminders", on=False)
    assert "Los recordatorios de sesiones están **desactivados**" in off.content


async def test_service_refusals_reach_a_spanish_client_in_spanish_and_change_nothing(
    hearth: Harness,
) -> None:
    await set_up_sessions(hearth)
    hearth.fake.actions.set_locale(hearth.coordinator, "es-ES")
    await add_session(hearth)
    overlap = await add_session(hearth, start="2026-03-03 20:00")
    assert "Se solaparía con la sesión del grupo" in overlap.content, overlap.content
    assert f"<t:{int(TUE_19.timestamp())}:F>" in overlap.content
    assert "No se ha cambiado nada" in overlap.content
    assert len(await session_ids(hearth)) == 1
    bad = await hearth.slash(
        hearth.coordinator, hearth.channel, "group sessions cancel", session="la del martes"
    )
    assert "Elige una sesión entre las sugerencias" in bad.content, bad.content
    [session_id] = await session_ids(hearth)
    assert await rows(hearth, "SELECT cancelled_at FROM group_sessions") == [(None,)]

    # Someone outside the group presses Going: refused in Spanish, nothing stored.
    hearth.fake.actions.set_locale(hearth.supporter, "es-ES")
    theirs = await sessions_list(hearth, hearth.supporter)
    outsider = await hearth.click(
        hearth.supporter, theirs, custom_id=f"hearth:session:going:{session_id}"
    )
    assert "Solo las personas que forman parte de **Carers circle**" in outsider.content
    assert "`/grupo unirse`" in outsider.content
    assert await rows(hearth, "SELECT user_id FROM session_rsvps") == []


async def test_a_spanish_server_gets_its_notices_reminders_and_event_in_spanish(
    hearth: Harness,
) -> None:
    session_id = await member_going(hearth)
    await bot_of(hearth).settings.update(hearth.guild.id, None, language="es")
    # A moved session's notice, in the server's language (the member's client never said).
    await hearth.slash(
        hearth.coordinator, hearth.channel, "group sessions move",
        session=str(session_id), start="2026-03-04 18:00", reason="la sala está ocupada",
    )  # fmt: skip
    await run_at(hearth, hearth.clock.now())
    await hearth.wait_for(lambda: len(dms_saying(hearth, hearth.member, "se ha movido")) == 1)
    [moved] = dms_saying(hearth, hearth.member, "se ha movido")
    assert moved.startswith("La sesión de **Carers circle** del <t:"), moved
    assert f"<t:{int(WED_18.timestamp())}:F>" in moved
    assert "Motivo: la sala está ocupada" in moved and "`/grupo sesiones lista`" in moved
    # The reminder before it.
    await run_at(hearth, WED_18 - timedelta(hours=24))
    await hearth.wait_for(lambda: len(dms_saying(hearth, hearth.member, "Recordatorio")) == 1)
    [reminder] = dms_saying(hearth, hearth.member, "Recordatorio")
    assert "⏰ Recordatorio: **Carers circle** se reúne el" in reminder
    assert "**No puedo ir**" in reminder and "Reminder" not in reminder
    # The cancellation, with the way to support in Spanish command names.
    await hearth.slash(
        hearth.coordinator, hearth.channel, "group sessions cancel", session=str(session_id)
    )
    await run_at(hearth, hearth.clock.now())
    await hearth.wait_for(lambda: len(dms_saying(hearth, hearth.member, "se ha cancelado")) == 1)
    [cancelled] = dms_saying(hearth, hearth.member, "se ha cancelado")
    assert "Siento el cambio" in cancelled and "`/apoyo`" in cancelled
    assert "`/crisis`" in cancelled

    # A new session's event, which every member sees, is written in the server's language.
    await add_session(hearth, start="2026-03-10 19:00")
    newest = max(await session_ids(hearth))
    descriptions = [e.description for e in hearth.fake.scheduled_events(hearth.guild)]
    assert f"Una sesión de Carers circle, planificada en Hearth (n.º {newest})." in descriptions


async def test_an_english_member_of_a_spanish_server_gets_english_dms(hearth: Harness) -> None:
    session_id = await member_going(hearth)
    await bot_of(hearth).settings.update(hearth.guild.id, None, language="es")
    hearth.fake.actions.set_locale(hearth.member, "en-GB")
    await sessions_list(hearth, hearth.member)  # Hearth sees their client's language
    await hearth.slash(
        hearth.coordinator, hearth.channel, "group sessions cancel", session=str(session_id)
    )
    await run_at(hearth, hearth.clock.now())
    await hearth.wait_for(lambda: len(dms_saying(hearth, hearth.member, "is cancelled")) == 1)
    [text] = dms_saying(hearth, hearth.member, "is cancelled")
    assert "I'm sorry for the change" in text and "`/support`" in text


async def test_a_spanish_coordinator_is_told_the_manage_events_fix_in_spanish(
    hearth: Harness,
) -> None:
    await set_up_sessions(hearth)
    hearth.guild.set_bot_permissions(DEFAULT_BOT & ~Perm.MANAGE_EVENTS & ~Perm.CREATE_EVENTS)
    hearth.fake.actions.set_locale(hearth.coordinator, "es-ES")
    reply = await add_session(hearth)
    assert reply.ephemeral and "Planificada una sesión" in reply.content, reply.content
    assert "necesito el permiso **Gestionar eventos**" in reply.content
    assert "Manage Events" not in reply.content
    assert len(await session_ids(hearth)) == 1  # the session stands


async def test_a_spanish_servers_coordinators_get_the_facilitator_alert_in_spanish(
    hearth: Harness,
) -> None:
    await set_up_sessions(hearth)
    await make_rota(hearth, "Hosts")
    hearth.fake.actions.set_locale(hearth.coordinator, "es-ES")
    reply = await hearth.slash(
        hearth.coordinator, hearth.channel, "group sessions facilitation",
        group="Carers circle", rota="Hosts", opens_only_with_facilitator=True,
    )  # fmt: skip
    assert "tendrá una franja en **Hosts**" in reply.content, reply.content
    assert "Una sesión que nadie reserve antes de empezar se cancela" in reply.content
    await add_session(hearth)
    [session_id] = await session_ids(hearth)
    await bot_of(hearth).settings.update(hearth.guild.id, None, language="es")
    await run_at(hearth, TUE_19 - timedelta(hours=24))

    def spanish_alerts() -> list[str]:
        return [
            m.content for m in hearth.messages(hearth.alerts) if "persona facilitadora" in m.content
        ]

    await hearth.wait_for(lambda: len(spanish_alerts()) == 1)
    [alert] = spanish_alerts()
    assert alert.startswith("🔔 La sesión de **Carers circle** del <t:"), alert
    assert "`/turnos reservar`" in alert and "(van 0)" in alert
    # Nobody claimed it by its start: cancelled, with Hearth's own reason in the list's language.
    await run_at(hearth, TUE_19)
    await join_group(hearth, hearth.member)
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    listing = await sessions_list(hearth, hearth.member)
    assert f"~~#{session_id}" in listing.content, listing.content
    assert "cancelada: no había ninguna persona facilitadora formada disponible" in listing.content


async def test_a_long_series_is_paged_in_the_readers_language(hearth: Harness) -> None:
    """The pager's "(page x of y)" and its buttons follow the reader, like the list itself."""
    await set_up_sessions(hearth)
    await add_session(hearth, repeat_weeks=25)
    await join_group(hearth, hearth.member)
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    listing = await sessions_list(hearth, hearth.member)
    assert "**Carers circle**: próximas sesiones (página 1 de 3)" in listing.content
    assert "page" not in listing.content
    ids = await session_ids(hearth)
    labels = [c.label for c in listing.components if c.label]
    assert f"Voy · #{ids[0]} mar 03 mar 19:00" in labels, labels
    page2 = await hearth.click(hearth.member, listing, label="Siguiente →")
    assert "(página 2 de 3)" in page2.text and f"#{ids[10]}" in page2.text
