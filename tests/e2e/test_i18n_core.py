"""The core and coordinators' tools in the reader's language: `/setup`, `/admin`, `/mydata`,
the shared pager, `/about`'s plural counts, and what Hearth sends on its own for them."""

from __future__ import annotations

from tests.harness import Harness, bot_of
from tests.helpers import create_group
from tests.pseudo_locale import given, shown

TZ_FIELD_ES = "Zona horaria (IANA, p. ej. Europe/Madrid)"


async def test_a_spanish_coordinator_gets_the_setup_panel_in_spanish(hearth: Harness) -> None:
    cora = hearth.coordinator
    hearth.fake.actions.set_locale(cora, "es-ES")
    panel = await hearth.slash(cora, hearth.general, "setup")
    assert panel.ephemeral
    assert "**Configura Hearth** — paso 1 de 2: roles y zona horaria" in panel.text
    assert "**Rol de coordinación:** sin configurar" in panel.text
    assert "**Zona horaria:** UTC" in panel.text
    assert "**Mis permisos:** todo en orden ✅" in panel.text
    assert "Set up Hearth" not in panel.text and "not set" not in panel.text

    modal = await hearth.click(cora, panel, label="Elegir zona horaria")
    assert modal.modal is not None and modal.modal.field(TZ_FIELD_ES).value == "UTC"
    saved = await hearth.submit_modal(cora, modal, {TZ_FIELD_ES: "madrid"})
    assert "Guardado: Zona horaria ahora es Europe/Madrid." in saved.text

    page2 = await hearth.click(cora, panel, label="Siguiente: canales →")
    assert "paso 2 de 2: canales" in page2.text
    done = await hearth.click(cora, panel, label="Terminar la configuración")
    assert "**Hearth ya está configurado.** Usa `/configurar`" in done.text
    # What is stored stays as it was: audit actions and details are English, as recorded.
    rows = await bot_of(hearth).db.fetchall(
        "SELECT detail FROM audit_log WHERE guild_id = ? AND action = 'setup.timezone'",
        (hearth.guild.id,),
    )
    assert [row["detail"] for row in rows] == ["set to Europe/Madrid"]


async def test_spanish_refusals_from_services_and_checks(hearth: Harness) -> None:
    cora = hearth.coordinator
    hearth.fake.actions.set_locale(cora, "es-ES")
    refused = await hearth.slash(
        cora, hearth.general, "admin set", key="retention_days", value="many"
    )
    assert refused.ephemeral
    assert refused.content == "`retention_days` admite un número entero."
    too_many = await hearth.slash(
        cora, hearth.general, "admin set", key="max_shifts_per_week", value="99"
    )
    assert too_many.content == (
        "Ese ajuste no es válido: `max_shifts_per_week` tiene que ser como máximo 21."
    )

    zone = await hearth.slash(cora, hearth.general, "setup", timezone="Londn")
    assert zone.text == (
        "No conozco la zona horaria “Londn”. Usa un nombre como `Europe/Madrid` o "
        "`America/Mexico_City`. No se ha cambiado nada."
    )


async def test_admin_settings_audit_and_mydata_in_spanish(hearth: Harness) -> None:
    cora = hearth.coordinator
    hearth.fake.actions.set_locale(cora, "es-ES")
    settings = await hearth.slash(cora, hearth.general, "admin settings")
    embed = settings.embeds[0]
    assert embed["title"] == "Ajustes de Hearth"
    assert "**`timezone`**: UTC — Zona horaria del servidor (nombre IANA" in embed["description"]
    assert "Cambia uno con /admin cambiar" in embed["footer"]["text"]

    changed = await hearth.slash(
        cora, hearth.general, "admin set", key="max_shifts_per_week", value="4"
    )
    assert changed.content == "Cambiado max_shifts_per_week: 3 → 4."
    audit = await hearth.slash(cora, hearth.general, "admin audit")
    assert "**Registro de auditoría**, últimos 30 días: 1 entrada (página 1 de 1)" in audit.text

    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    await bot_of(hearth).notices.hold(hearth.guild.id, hearth.member.id, given("held for you"))
    shown = await hearth.slash(hearth.member, hearth.general, "mydata show")
    assert "Lo que Hearth guarda sobre ti en este servidor:" in shown.text
    assert "• mensajes guardados mientras tus mensajes directos estaban cerrados: 1" in shown.text
    ask = await hearth.slash(hearth.member, hearth.general, "mydata delete")
    assert "**No se puede deshacer.**" in ask.text
    done = await hearth.click(hearth.member, ask, label="Sí, borra mis datos")
    assert "Hecho. Esto es lo que he borrado en este servidor:" in done.text


async def test_about_counts_use_the_readers_plural_forms(hearth: Harness) -> None:
    await create_group(hearth, "Walkers")
    english = await hearth.slash(hearth.member, hearth.channel, "about")
    assert "1 group," in english.content and "0 rotas" in english.content
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    spanish = await hearth.slash(hearth.member, hearth.channel, "about")
    assert "1 grupo, 0 turnos" in spanish.content
    await create_group(hearth, "Runners")
    spanish = await hearth.slash(hearth.member, hearth.channel, "about")
    assert "2 grupos" in spanish.content


async def test_a_spanish_server_gets_the_support_alert_in_spanish(hearth: Harness) -> None:
    bot = bot_of(hearth)
    await bot.settings.update(
        hearth.guild.id, None, language="es", alerts_channel_id=hearth.alerts.id
    )
    bot.features.remove("safety")  # the core's own fallback: coordinators alerted directly
    said = await bot.request_support(hearth.guild.id, hearth.member.id, "checkin")
    assert shown(said) == (
        "Gracias por contármelo. Coordinación ya lo sabe; alguien se pondrá en contacto contigo."
    )
    await hearth.wait_for(lambda: hearth.messages(hearth.alerts), what="the alert")
    alert = hearth.messages(hearth.alerts)[-1].content
    assert alert == (
        f"<@{hearth.member.id}> ha pedido que alguien se ponga en contacto (desde un seguimiento)."
    )


async def test_help_lists_commands_by_their_spanish_names(hearth: Harness) -> None:
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    shown = await hearth.slash(hearth.member, hearth.channel, "help")
    embed = shown.embeds[0]
    assert embed["title"] == "Comandos que puedes usar"
    names = [field["name"] for field in embed["fields"]]
    assert "/acerca" in names and "/about" not in names
    about = next(field for field in embed["fields"] if field["name"] == "/acerca")
    assert about["value"] == "Qué es Hearth y qué no es"
    details = await hearth.slash(hearth.member, hearth.channel, "help", command="acerca")
    assert details.embeds[0]["title"] == "/acerca"
    # Its suggestions name each command as the reader's client does, found by either name.
    suggested = await hearth.autocomplete(hearth.member, hearth.channel, "help", "command", "ace")
    assert suggested == [{"name": "/acerca", "value": "about"}]
    by_english = await hearth.autocomplete(hearth.member, hearth.channel, "help", "command", "ab")
    assert {"name": "/acerca", "value": "about"} in by_english


async def test_a_spanish_coordinators_choices_and_setting_descriptions_are_in_spanish(
    hearth: Harness,
) -> None:
    """Autocomplete choices are text Hearth writes too: zone suggestions, setting keys with
    their descriptions (other features' settings as well), on/off."""
    cora = hearth.coordinator
    hearth.fake.actions.set_locale(cora, "es-ES")
    zones = await hearth.autocomplete(cora, hearth.general, "setup", "timezone", "new york")
    assert zones[0] == {"name": "America/New_York (ahora UTC-05:00)", "value": "America/New_York"}
    keys = await hearth.autocomplete(cora, hearth.general, "admin set", "key", "checkin_grace")
    assert keys[0]["value"] == "checkin_grace_minutes"
    assert keys[0]["name"] == (
        "checkin_grace_minutes — Cuánto retraso puede tener aún un seguimiento pendiente para "
        "enviarse"
    )
    # Found by a word of the description in the reader's language, and every label whole.
    by_word = await hearth.autocomplete(cora, hearth.general, "admin set", "key", "idioma")
    assert [c["value"] for c in by_word] == ["language"]
    every = await hearth.autocomplete(cora, hearth.general, "admin set", "key", "")
    assert every and all(len(c["name"]) < 100 for c in every)  # none cut at 100
    values = await hearth.autocomplete(
        cora, hearth.general, "admin set", "value", "", key="keyword_watch_enabled"
    )
    assert [c["name"] for c in values] == ["activado", "desactivado"]
    listed = await hearth.slash(cora, hearth.general, "admin settings")
    assert (
        "Idioma de Hearth en el servidor (auto: el idioma de Discord del servidor)" in listed.text
    )
    assert "Recursos de crisis ante frases vigiladas" in listed.text
    assert "Avisa si nadie atiende una petición de apoyo en este tiempo" in listed.text

    english = await hearth.autocomplete(hearth.owner, hearth.general, "setup", "timezone", "london")
    assert english[0]["name"] == "Europe/London (UTC+00:00 now)"


async def test_a_spanish_servers_new_roles_and_channels_are_named_in_spanish(
    hearth: Harness,
) -> None:
    """The roles and private channels `/setup` creates are the server's: named in its language,
    whoever pressed the button."""
    bot = bot_of(hearth)
    await bot.settings.update(hearth.guild.id, None, language="es")
    panel = await hearth.slash(hearth.owner, hearth.general, "setup")
    hearth.fake.actions.set_locale(hearth.owner, "en-US")
    await hearth.click(hearth.owner, panel, label="Create missing roles and channels")
    await hearth.wait_for(lambda: "Created" in panel.text, what="the created things")
    guild = hearth.guild
    coordinators = guild.role("Coordinación")
    supporters = guild.role("Apoyo entre pares")
    log = guild.channel("hearth-registro")
    alerts = guild.channel("hearth-avisos")
    stored = (await bot.settings.get(guild.id)).model_dump()
    assert stored["coordinator_role_id"] == coordinators.id
    assert stored["supporter_role_id"] == supporters.id
    assert (stored["log_channel_id"], stored["alerts_channel_id"]) == (log.id, alerts.id)
    assert f"<#{log.id}>" in panel.text and "private channel" in panel.text


async def test_a_spanish_servers_audit_log_reasons_are_spanish(hearth: Harness) -> None:
    """Discord's own audit log shows moderators why Hearth made a role or gave it: in the
    server's language, like everything else Hearth writes there."""
    await bot_of(hearth).settings.update(hearth.guild.id, None, language="es")
    await create_group(hearth)
    joined = await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    assert joined.ephemeral
    reasons = [reason for _, reason in hearth.fake.audit_reasons]
    assert reasons[0].startswith("Hearth: el nuevo grupo «Carers circle»"), reasons
    assert any(reason.startswith("se unió al grupo ") for reason in reasons), reasons
    assert not any("group" in reason for reason in reasons), reasons
