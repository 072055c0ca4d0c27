"""Guidelines and safety in the reader's language: the starter template in the server's
language (what a coordinator saves stays exactly as written), `/support` and its buttons,
refusals, and the crisis text inside the keyword-watch DM."""

from __future__ import annotations

from typing import Any

import pytest

from bot.services.guidelines import STARTER_TEMPLATE
from tests.harness import Harness, bot_of
from tests.helpers import (
    FIELD,
    add_helpline,
    add_support_channel,
    dict_rows,
    post,
    put_on_duty,
    save,
    watch_general,
)

SPANISH_START = "**El apoyo entre pares es una relación entre iguales.**"
SPANISH_EMERGENCY = "**Si estás en peligro inmediato"


async def spanish_server(hearth: Harness) -> None:
    await bot_of(hearth).settings.update(hearth.guild.id, None, language="es")


async def test_a_spanish_server_starts_from_the_spanish_template_and_keeps_what_is_written(
    hearth: Harness,
) -> None:
    await spanish_server(hearth)
    form = await hearth.slash(hearth.coordinator, hearth.channel, "guidelines edit")
    assert form.modal is not None
    offered = form.modal.field(FIELD).value or ""
    assert offered.startswith(SPANISH_START) and "`/crisis`" in offered
    assert "Peer support" not in offered and offered != STARTER_TEMPLATE

    # The coordinator changes one line (in English, even): it is stored and offered as written.
    own = offered.replace("nada ilegal;", "nothing illegal, please;")
    await hearth.submit_modal(hearth.coordinator, form, {FIELD: own})
    [row] = await dict_rows(hearth, "SELECT body FROM guideline_versions")
    assert row["body"] == own.strip()
    again = await hearth.slash(hearth.coordinator, hearth.channel, "guidelines edit")
    assert again.modal is not None and again.modal.field(FIELD).value == own.strip()
    shown = await hearth.slash(hearth.member, hearth.channel, "guidelines show")
    assert "nothing illegal, please;" in shown.embeds[0]["description"]

    # /guidelines template: the words around it in the reader's language, the body the server's.
    hearth.fake.actions.set_locale(hearth.coordinator, "es-ES")
    template = await hearth.slash(hearth.coordinator, hearth.channel, "guidelines template")
    assert "`/pautas editar`" in template.text
    assert template.embeds[0]["title"] == "Plantilla inicial"
    assert template.embeds[0]["description"].startswith(SPANISH_START)


async def test_an_english_server_keeps_the_english_starter_template(hearth: Harness) -> None:
    form = await hearth.slash(hearth.coordinator, hearth.channel, "guidelines edit")
    assert form.modal is not None and form.modal.field(FIELD).value == STARTER_TEMPLATE[:4000]


async def test_a_spanish_client_asks_for_support_with_no_one_on_duty_and_gets_spanish_help(
    hearth: Harness,
) -> None:
    await add_support_channel(hearth)
    await add_helpline(hearth, "Teléfono de la Esperanza", "717 003 717")
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    reply = await hearth.slash(hearth.member, hearth.general, "support")
    assert "**ahora mismo no hay ninguna persona de apoyo de guardia.**" in reply.text
    assert "Todavía no hay ningún turno programado." in reply.text
    assert SPANISH_EMERGENCY in reply.text
    assert "Teléfono de la Esperanza" in reply.text  # the helpline as written
    assert "no peer supporter" not in reply.text
    # The coordinators' alert is in the server's language (English here).
    alerts = [m.content for m in hearth.fake.channel_messages(hearth.alerts)]
    assert any("no one is on duty right now" in text for text in alerts)


async def test_a_spanish_member_is_refused_taking_their_own_request_in_spanish(
    hearth: Harness,
) -> None:
    await spanish_server(hearth)
    support = await add_support_channel(hearth)
    await put_on_duty(hearth, hearth.supporter)
    await hearth.slash(hearth.member, hearth.general, "support")
    [thread] = hearth.fake.threads(support)
    ping = hearth.messages(thread)[0]
    assert "quiere hablar con una persona de apoyo" in ping.content
    assert ping.button("Me encargo yo") and ping.button("Cerrar")
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    refused = await hearth.click(hearth.member, ping, label="Me encargo yo")
    assert "Solo las personas de apoyo y las coordinadoras" in refused.text
    [row] = await dict_rows(hearth, "SELECT claimed_by FROM support_requests")
    assert row["claimed_by"] is None


class TestTheWatchInSpanish:
    @pytest.fixture
    def hearth_config(self) -> dict[str, Any]:
        return {"discord": {"message_content": True}}

    async def test_a_spanish_server_signposts_in_spanish(self, hearth: Harness) -> None:
        await spanish_server(hearth)
        await watch_general(hearth, "want to disappear")
        await put_on_duty(hearth, hearth.supporter)
        await hearth.say(hearth.member, hearth.general, "i just want to disappear")
        await hearth.wait_for(lambda: len(hearth.fake.dm_messages(hearth.supporter)) == 1)
        note = "\n".join(m.content for m in hearth.dms(hearth.member))
        assert note.startswith("Hola, soy Hearth")
        assert SPANISH_EMERGENCY in note and "Samaritans" in note
        assert "emergency services" not in note
        [alert] = hearth.dms(hearth.supporter)
        assert "coincide con una frase" in alert.content and "disappear" not in alert.content


async def test_a_spanish_coordinator_is_refused_by_the_crisis_service_in_spanish(
    hearth: Harness,
) -> None:
    hearth.fake.actions.set_locale(hearth.coordinator, "es-ES")
    await add_helpline(hearth, "Samaritans", "116 123")
    refused = await hearth.slash(
        hearth.coordinator, hearth.general, "admin crisis remove", name="Nadie"
    )
    assert refused.text == (
        "No hay ninguna línea de ayuda llamada “Nadie”. `/admin crisis lista` las muestra. "
        "No se ha quitado nada."
    )
    listed = await hearth.slash(hearth.coordinator, hearth.general, "admin crisis list")
    assert "**Líneas de ayuda en `/crisis`** (1)" in listed.text
    assert "**Vigilancia de frases:** desactivada" in listed.text and "Samaritans" in listed.text


async def test_guidelines_are_framed_in_spanish_and_their_text_is_shown_as_written(
    hearth: Harness,
) -> None:
    await save(hearth, "**Be kind.** Sé amable.")
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    shown = await hearth.slash(hearth.member, hearth.channel, "guidelines show")
    assert "Pulsa **Las he leído y estoy de acuerdo** cuando las hayas leído." in shown.text
    assert shown.embeds[0]["title"] == "Pautas del servidor"
    assert shown.embeds[0]["description"] == "**Be kind.** Sé amable."
    accepted = await hearth.click(hearth.member, shown, label="Las he leído y estoy de acuerdo")
    assert "Gracias: has aceptado la versión 1 de las pautas del servidor." in accepted.text
    [row] = await dict_rows(hearth, "SELECT version, user_id FROM guideline_acceptances")
    assert row == {"version": 1, "user_id": hearth.member.id}

    # A copy posted in a Spanish server's channel is framed in Spanish for everyone.
    await spanish_server(hearth)
    await post(hearth, hearth.general)
    [copy] = hearth.messages(hearth.general)
    assert copy.embeds[0]["title"] == "Pautas del servidor"
    assert copy.embeds[0]["description"] == "**Be kind.** Sé amable."
    assert copy.button("Las he leído y estoy de acuerdo")


async def test_a_spanish_coordinator_is_refused_empty_guidelines_in_spanish(
    hearth: Harness,
) -> None:
    hearth.fake.actions.set_locale(hearth.coordinator, "es-ES")
    refused = await save(hearth, "   \n  ")
    assert "Las pautas no pueden estar vacías. No se ha guardado nada." in refused.text
    assert await dict_rows(hearth, "SELECT version FROM guideline_versions") == []
