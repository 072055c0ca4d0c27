"""Peer groups in the reader's language: replies and refusals in the member's client language,
the sign-up panel and coordinators' alerts in the server's, the waitlist DM in the member's;
group names stay as the coordinators wrote them, and English stays English."""

from __future__ import annotations

from tests.fakediscord import DEFAULT_BOT, Perm
from tests.harness import Harness, bot_of
from tests.helpers import configure, create_group, dms_saying, rows


async def test_a_spanish_member_joins_and_is_queued_in_spanish(hearth: Harness) -> None:
    await create_group(hearth, capacity=1, meets="Martes 19:00")
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    hearth.fake.actions.set_locale(hearth.supporter, "es-419")

    listed = await hearth.slash(hearth.member, hearth.channel, "group list")
    assert listed.ephemeral
    assert "**Grupos de apoyo mutuo de este servidor** (1)" in listed.content
    assert "• **Carers circle** · se reúne Martes 19:00 — Queda 1 plaza (de 1)" in listed.content
    assert "`/grupo info` te cuenta más; `/grupo unirse` te apunta en privado." in listed.content

    joined = await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    assert joined.ephemeral
    assert "Ya estás en «Carers circle». Ahora tienes el rol del grupo." in joined.content
    assert "Se reúne: Martes 19:00." in joined.content
    assert "`/grupo salir`" in joined.content and "/group" not in joined.content

    queued = await hearth.slash(
        hearth.supporter, hearth.channel, "group join", name="Carers circle"
    )
    assert "«Carers circle» está completo ahora mismo" in queued.content
    assert "estás en el puesto **1**" in queued.content
    info = await hearth.slash(hearth.supporter, hearth.channel, "group info", name="Carers circle")
    assert "**Plazas:** Completo (1 plaza) · 1 en la lista de espera" in info.text

    # An English client in the same server still reads English.
    english = await hearth.slash(hearth.owner, hearth.channel, "group info", name="Carers circle")
    assert "**Places:** Full (1 place) · 1 on the waitlist" in english.text


async def test_a_service_refusal_reaches_a_spanish_client_in_spanish(hearth: Harness) -> None:
    await create_group(hearth)
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    missing = await hearth.slash(hearth.member, hearth.channel, "group join", name="Knitting")
    assert missing.ephemeral
    assert missing.content == (
        "No he encontrado ningún grupo llamado «Knitting». "
        "`/grupo lista` muestra los grupos de este servidor."
    )
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    again = await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    assert again.content == "Ya estás en «Carers circle». No se ha cambiado nada."
    hearth.fake.actions.set_locale(hearth.coordinator, "es-ES")
    edit = await hearth.slash(
        hearth.coordinator, hearth.channel, "group edit", name="Carers circle"
    )
    assert edit.content == "Dime al menos una cosa que cambiar. No se ha cambiado nada."
    changed = await hearth.slash(
        hearth.coordinator, hearth.channel, "group edit", name="Carers circle", capacity=3
    )
    assert "He actualizado «Carers circle» (capacidad sin límite → 3)." in changed.content
    # The audit record stays in English, whoever made the change.
    assert await rows(hearth, "SELECT detail FROM audit_log WHERE action = 'group.edited'") == [
        ("Carers circle: capacity no limit → 3",)
    ]


async def test_a_spanish_server_gets_its_panel_promotion_dm_and_role_alert_in_spanish(
    hearth: Harness,
) -> None:
    await configure(hearth)
    await bot_of(hearth).settings.update(hearth.guild.id, None, language="es")
    await create_group(hearth, capacity=1)
    posted = await hearth.slash(
        hearth.coordinator, hearth.channel, "group panel", channel=hearth.general
    )
    assert "Posted the sign-up panel" in posted.content  # an English client: English reply
    panel = hearth.messages(hearth.general)[0]
    assert "Grupos de apoyo mutuo" in panel.text and "Queda 1 plaza (de 1)" in panel.text
    assert "Solo tú ves la respuesta" in panel.text
    assert [c.label for c in panel.components] == [
        "Unirme a Carers circle",
        "Salir de Carers circle",
    ]

    # A client language Hearth has no catalogue for: the DM is in the server's language.
    hearth.fake.actions.set_locale(hearth.supporter, "fr")
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    await hearth.slash(hearth.supporter, hearth.channel, "group join", name="Carers circle")
    await hearth.slash(hearth.member, hearth.channel, "group leave", name="Carers circle")
    await hearth.wait_for(lambda: dms_saying(hearth, hearth.supporter, "Buenas noticias"))
    dm = dms_saying(hearth, hearth.supporter, "Buenas noticias")[0]
    assert "Se ha abierto una plaza en «Carers circle»" in dm
    assert "`/grupo salir` deja la plaza libre." in dm

    hearth.guild.set_bot_permissions(DEFAULT_BOT & ~Perm.MANAGE_ROLES)
    await hearth.fake.flush()
    await hearth.slash(hearth.supporter, hearth.channel, "group leave", name="Carers circle")
    await hearth.wait_for(
        lambda: any("Gestionar roles" in m.content for m in hearth.messages(hearth.log)),
        what="the Spanish role alert",
    )
    alert = next(m.content for m in hearth.messages(hearth.log) if "Gestionar roles" in m.content)
    assert alert.startswith("⚠️ Grupo **Carers circle**:")
    assert "estaba saliendo, pero no he podido cambiar su rol del grupo" in alert
