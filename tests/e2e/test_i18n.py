"""Hearth in the member's language: command names and replies in the client's language, the
server's language for what Hearth sends on its own, English as the source and the fallback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import i18n
from bot.i18n_discord import texts_for_member
from bot.services.locales import MemberLocales
from tests.fakediscord import validation
from tests.harness import Harness, bot_of
from tests.helpers import add_slots, make_rota, run_at, set_up_rotas, train
from tests.pseudo_locale import Checker, Untranslated, untranslated

TUE_19 = datetime(2026, 3, 3, 19, 0, tzinfo=UTC)
FRI_19 = datetime(2026, 3, 6, 19, 0, tzinfo=UTC)
SPANISH = ("es-ES", "es-419")
NAME_RULE = re.compile(r"^[-_\w]{1,32}$")


def nodes(items: list[Any], path: str = "") -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Each level of the synced tree (top level, each command's options), with its path."""
    yield path or "/", items
    for item in items:
        children = item.get("options") or []
        if children:
            yield from nodes(children, f"{path}/{item['name']}")


def test_every_command_is_synced_with_valid_spanish_names_and_descriptions(
    hearth: Harness,
) -> None:
    commands: list[dict[str, Any]] = [
        c for c in hearth.fake.commands() if (c.get("type") or 1) == 1
    ]
    about = next(c for c in commands if c["name"] == "about")
    for locale in SPANISH:
        assert about["name_localizations"][locale] == "acerca"
        assert about["description_localizations"][locale] == "Qué es Hearth y qué no es"
    group = next(c for c in commands if c["name"] == "group")
    assert group["name_localizations"]["es-ES"] == "grupo"
    join = next(o for o in group["options"] if o["name"] == "join")
    assert join["name_localizations"]["es-ES"] == "unirse"
    assert "pt-BR" not in about["name_localizations"]  # no catalogue: Discord's English

    untranslated = []
    for path, level in nodes(commands):
        for locale in SPANISH:
            names = [item.get("name_localizations", {}).get(locale, item["name"]) for item in level]
            assert len(set(names)) == len(names), f"{path}: two {locale} names alike: {names}"
            for name in names:
                assert NAME_RULE.match(name) and name == name.lower(), f"{path}: {name!r}"
        for item in level:
            if "description" in item and "value" not in item:
                spanish = (item.get("description_localizations") or {}).get("es-ES")
                if spanish is None and item["description"] not in ("…",):
                    untranslated.append(f"{path}/{item['name']}: {item['description']}")
                assert spanish is None or 1 <= len(spanish) <= 100
            for choice in item.get("choices") or []:
                localized: dict[str, str] = choice.get("name_localizations") or {}
                spanish = i18n.texts("es").translated(i18n.COMMAND_CHOICE, choice["name"])
                same = spanish or choice["name"]
                assert localized.get("es-ES") or same == choice["name"], choice
    assert untranslated == []
    # Discord counts every name, description and choice of a command toward 4,000 per locale
    # (the fake refuses a sync past it: the test would fail on the violation).
    for command in commands:
        assert validation._size(command, "es-ES") <= 4000


async def test_a_spanish_client_gets_spanish_about_and_crisis_and_english_stays_english(
    hearth: Harness,
) -> None:
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    about = await hearth.slash(hearth.member, hearth.channel, "about")
    assert about.ephemeral
    assert "**Hearth 0.1.0**: una compañía de apoyo mutuo para este servidor." in about.content
    assert "En marcha desde hace" in about.content
    assert "no un servicio de crisis" in about.content and "112" in about.content
    assert "Running for" not in about.content

    crisis = await hearth.slash(hearth.member, hearth.channel, "crisis")
    assert "Este servidor aún no ha añadido líneas de ayuda" in crisis.text
    assert "Coordinación: añadid las de vuestra región" in crisis.text
    assert "`/admin crisis añadir`" in crisis.text
    assert "el 112 en España y en toda la UE" in crisis.text
    assert "usa `/apoyo`" in crisis.text

    # A Latin American client is served from the same Spanish catalogue.
    hearth.fake.actions.set_locale(hearth.member, "es-419")
    assert (
        "no un servicio de crisis"
        in (await hearth.slash(hearth.member, hearth.channel, "about")).content
    )

    # The server is Spanish too, but an English client has a catalogue (the source): English.
    hearth.guild.set_preferred_locale("es-ES")
    await bot_of(hearth).settings.update(hearth.guild.id, None, language="es")
    english = await hearth.slash(hearth.coordinator, hearth.channel, "crisis")
    assert "This server hasn't listed any helplines yet" in english.text
    assert "999 in the UK" in english.text


async def test_helplines_are_shown_as_the_coordinators_wrote_them(hearth: Harness) -> None:
    added = await hearth.slash(
        hearth.coordinator, hearth.channel, "admin crisis add",
        name="Teléfono de la Esperanza", contact="717 003 717", region="España",
    )  # fmt: skip
    assert added.ephemeral
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    crisis = await hearth.slash(hearth.member, hearth.channel, "crisis")
    assert "**Líneas de ayuda que ha añadido la coordinación de este servidor:**" in crisis.text
    assert "• **Teléfono de la Esperanza** — 717 003 717 (España)" in crisis.text


async def test_a_client_without_a_catalogue_gets_the_servers_language(hearth: Harness) -> None:
    hearth.fake.actions.set_locale(hearth.member, "fr")
    about = await hearth.slash(hearth.member, hearth.channel, "about")
    assert "Running for" in about.content  # the server's language: English by default

    # `auto` follows the server's own Discord language when Hearth has a catalogue for it.
    hearth.guild.set_preferred_locale("es-ES")
    await hearth.wait_for(
        lambda: (
            (guild := bot_of(hearth).get_guild(hearth.guild.id)) is not None
            and guild.preferred_locale.value == "es-ES"
        ),
        what="the server's new language",
    )
    about = await hearth.slash(hearth.member, hearth.channel, "about")
    assert "En marcha desde hace" in about.content

    # A coordinator's choice wins over the server's Discord language.
    await bot_of(hearth).settings.update(hearth.guild.id, None, language="en")
    about = await hearth.slash(hearth.member, hearth.channel, "about")
    assert "Running for" in about.content


async def test_the_server_language_is_a_setting_that_refuses_what_has_no_catalogue(
    hearth: Harness,
) -> None:
    bot = bot_of(hearth)
    refused = await hearth.slash(
        hearth.coordinator, hearth.channel, "admin set", key="language", value="klingon"
    )
    assert refused.ephemeral
    assert "no translation for “klingon”" in refused.content
    assert "`en` (English), `es` (español)" in refused.content
    assert (await bot.settings.get(hearth.guild.id)).model_dump()["language"] == "auto"

    changed = await hearth.slash(
        hearth.coordinator, hearth.channel, "admin set", key="language", value="es-ES"
    )
    assert "Changed language: auto → es." in changed.content
    assert (await bot.settings.get(hearth.guild.id)).model_dump()["language"] == "es"
    # A validator's own refusal reaches a Spanish coordinator in Spanish.
    hearth.fake.actions.set_locale(hearth.coordinator, "es-ES")
    for key, value, said in (
        ("language", "klingon", "Hearth no tiene traducción para «klingon»"),
        ("timezone", "Mars/Base", "«Mars/Base» no es un nombre de zona horaria IANA"),
        ("reminder_hours", "soon", "Indica horas enteras separadas por comas"),
    ):
        refused = await hearth.slash(
            hearth.coordinator, hearth.channel, "admin set", key=key, value=value
        )
        assert refused.ephemeral and said in refused.content, refused.content


async def test_a_spanish_server_gets_its_reminder_dm_and_alerts_in_spanish(
    hearth: Harness,
) -> None:
    await set_up_rotas(hearth)
    await bot_of(hearth).settings.update(hearth.guild.id, None, language="es")
    await make_rota(hearth, needed=2)
    slot_id = (await add_slots(hearth, "Evening duty", "2026-03-06 19:00"))[0]
    await train(hearth, hearth.supporter)
    await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id))

    await run_at(hearth, FRI_19 - timedelta(hours=48))
    await hearth.wait_for(lambda: hearth.messages(hearth.alerts), what="the coverage alert")
    alert = hearth.messages(hearth.alerts)[0].content
    assert f"aún falta 1 persona de apoyo (1/2, franja n.º {slot_id})" in alert

    await run_at(hearth, FRI_19 - timedelta(hours=24))
    await hearth.wait_for(lambda: hearth.dms(hearth.supporter), what="the reminder DM")
    reminder = hearth.dms(hearth.supporter)[-1].content
    assert reminder.startswith("⏰ Recordatorio: estás en **Evening duty** en **")
    assert f"<t:{int(FRI_19.timestamp())}:F>" in reminder  # times stay Discord timestamps
    assert "`/turnos intercambio ofrecer` o `/turnos liberar`" in reminder


async def test_an_english_server_keeps_english_reminders(hearth: Harness) -> None:
    await set_up_rotas(hearth)
    await make_rota(hearth)
    slot_id = (await add_slots(hearth, "Evening duty", "2026-03-03 19:00"))[0]
    await train(hearth, hearth.supporter)
    await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id))
    await run_at(hearth, TUE_19 - timedelta(hours=1))
    await hearth.wait_for(lambda: hearth.dms(hearth.supporter), what="the reminder DM")
    assert hearth.dms(hearth.supporter)[-1].content.startswith("⏰ Reminder: you're on")


async def test_a_members_client_locale_is_kept_for_their_dms_and_written_only_on_change(
    hearth: Harness,
) -> None:
    bot = bot_of(hearth)
    locales = bot.service(MemberLocales)
    await bot.settings.update(hearth.guild.id, None, language="en")  # in any run: English
    hearth.fake.actions.set_locale(hearth.member, "es-ES")
    await hearth.slash(hearth.member, hearth.channel, "about")
    assert await locales.of(hearth.guild.id, hearth.member.id) == "es-ES"
    assert (await texts_for_member(bot, hearth.guild.id, hearth.member.id)).language == "es"
    # The same locale again: settled, nothing written.
    assert not await locales.seen(hearth.guild.id, hearth.member.id, "es-ES", "en")
    # Back to the server's language: nothing is kept about them.
    hearth.fake.actions.set_locale(hearth.member, "en-GB")
    await hearth.slash(hearth.member, hearth.channel, "about")
    assert await locales.of(hearth.guild.id, hearth.member.id) is None
    assert (await texts_for_member(bot, hearth.guild.id, hearth.member.id)).language == "en"
    # In a Spanish server, an English client is what differs, so it is kept.
    await bot.settings.update(hearth.guild.id, None, language="es")
    await hearth.slash(hearth.member, hearth.channel, "about")
    assert await locales.of(hearth.guild.id, hearth.member.id) == "en-GB"
    assert (await texts_for_member(bot, hearth.guild.id, hearth.member.id)).language == "en"
    # Never seen: the server's language.
    assert (await texts_for_member(bot, hearth.guild.id, hearth.owner.id)).language == "es"


@pytest.fixture
def pseudo_locale() -> Iterator[None]:
    enabled, accent = i18n.pseudo_settings()  # the pseudo-locale run has it on already
    i18n.enable_pseudo(True, accent=True)
    yield
    i18n.enable_pseudo(enabled, accent=accent)


async def test_under_the_pseudo_locale_the_slice_shows_only_catalogue_text(
    hearth: Harness, pseudo_locale: None
) -> None:
    hearth.fake.bot_body_hook = None  # the pseudo-locale run's own check would unwrap it
    hearth.fake.actions.set_locale(hearth.member, i18n.PSEUDO_LOCALE)
    about = await hearth.slash(hearth.member, hearth.channel, "about")
    crisis = await hearth.slash(hearth.member, hearth.channel, "crisis")
    assert "⟦" in about.content and "⟦" in crisis.text
    assert untranslated([about.text, crisis.text]) == []
    # /help is converted too; the checker does see what was not wrapped.
    help_reply = await hearth.slash(hearth.member, hearth.channel, "help")
    assert untranslated([help_reply.text]) == []
    assert untranslated([help_reply.text + "\nNot wrapped."]) != []


async def test_setup_and_admin_set_offer_the_languages_hearth_has(hearth: Harness) -> None:
    bot = bot_of(hearth)
    offered = await hearth.autocomplete(
        hearth.coordinator, hearth.general, "admin set", "value", "", key="language"
    )
    assert [c["value"] for c in offered] == ["auto", "en", "es"]
    assert [c["name"] for c in offered][1:] == ["English", "español"]

    reply = await hearth.slash(hearth.coordinator, hearth.channel, "setup", language="es")
    assert reply.ephemeral
    assert "Saved: Hearth writes to this server in español." in reply.text
    assert (await bot.settings.get(hearth.guild.id)).model_dump()["language"] == "es"
    actions = await bot.db.fetchall(
        "SELECT action FROM audit_log WHERE guild_id = ?", (hearth.guild.id,)
    )
    assert "setup.language" in [row[0] for row in actions]


async def test_the_runs_check_sees_text_that_missed_the_catalogue_and_hides_the_marks(
    hearth: Harness, pseudo_locale: None
) -> None:
    """What the pseudo-locale run (`.ci/run`) does to every end-to-end test, on one."""
    found: list[Untranslated] = []
    hearth.fake.bot_body_hook = Checker(hearth.fake, found)
    hearth.fake.actions.set_locale(hearth.member, i18n.PSEUDO_LOCALE)
    about = await hearth.slash(hearth.member, hearth.channel, "about")
    assert found == [] and "⟦" not in about.content and "Héárth" in about.content
    await bot_of(hearth).dm(hearth.guild.id, hearth.member.id, "Written without a catalogue.")
    assert [problem.rest for problem in found] == ["Written without a catalogue."]
    assert hearth.dms(hearth.member)[-1].content == "Written without a catalogue."


def test_commands_quoted_in_spanish_texts_are_their_spanish_names(hearth: Harness) -> None:
    """A reply tells a Spanish client the command as their client shows it (`/apoyo`)."""
    paths: set[str] = set()

    def walk(items: list[dict[str, Any]], prefix: str) -> None:
        for item in items:
            if item.get("type") not in (None, 1, 2):  # commands and groups, not options
                continue
            name = (item.get("name_localizations") or {}).get("es-ES", item["name"])
            paths.add(f"{prefix}{name}")
            walk(item.get("options") or [], f"{prefix}{name} ")

    walk([c for c in hearth.fake.commands() if (c.get("type") or 1) == 1], "/")
    assert {"/apoyo", "/turnos intercambio ofrecer", "/admin crisis añadir"} <= paths
    assert "/support" not in paths
    catalogue = i18n.read_catalogue(i18n.LOCALES_DIR / "es" / "LC_MESSAGES" / "hearth.po", "es")
    wrong = []
    for message in catalogue:
        if not message.id or (message.context or "").startswith("command"):
            continue
        strings = message.string if isinstance(message.string, tuple | list) else [message.string]
        for text in strings:
            for quoted in re.findall(r"`(/[^`]+)`", str(text)):
                if quoted not in paths:
                    wrong.append(quoted)
    assert wrong == []


async def test_a_changed_translation_syncs_the_commands_again(
    hearth: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = bot_of(hearth)
    assert not await bot.sync_commands_if_changed()  # nothing changed since start-up
    monkeypatch.setattr("bot.app.catalogue_fingerprint", lambda: "a translator's fix")
    assert await bot.sync_commands_if_changed()


async def test_a_server_whose_discord_language_is_spanish_is_greeted_in_spanish(
    hearth: Harness,
) -> None:
    await hearth.wait_for(lambda: hearth.dms(hearth.owner), what="the first server's greeting")
    assert hearth.dms(hearth.owner)[0].content.startswith("Hello! Thanks for adding **Hearth**")
    owner = hearth.fake.add_user("dueña")
    guild = hearth.fake.add_guild("Servidor", owner=owner, with_bot=False)
    guild.preferred_locale = "es-ES"
    hearth.fake.add_bot_to_guild(guild)
    await hearth.wait_for(lambda: hearth.fake.dm_messages(owner), what="the greeting")
    [greeting] = hearth.fake.dm_messages(owner)
    assert greeting.content.startswith("¡Hola! Gracias por añadir **Hearth** a **Servidor**.")
    assert "usa `/configurar`" in greeting.content and "`/ayuda`" in greeting.content
