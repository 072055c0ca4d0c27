"""The catalogues: locale fallback, plurals from the catalogue, the pseudo-locale and its
checker, and that `locales/` is up to date with the code (README, "Languages")."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from bot import i18n
from bot.i18n import COMMAND_CHOICE, COMMAND_DESCRIPTION, COMMAND_NAME
from bot.services.locales import AUTO, parse_language, server_language
from tests.pseudo_locale import untranslated

ROOT = Path(__file__).resolve().parents[2]
# Discord's rule for a chat-input command or option name (as tests/fakediscord/validation.py
# checks it): letters, digits, - and _, 1-32 of them, lowercase.
COMMAND_NAME_RULE = re.compile(r"^[-_\w]{1,32}$")


@pytest.fixture
def pseudo_on() -> Iterator[None]:
    enabled, accent = i18n.pseudo_settings()  # the pseudo-locale run has it on already
    i18n.enable_pseudo(True, accent=True)
    yield
    i18n.enable_pseudo(enabled, accent=accent)


def ids(catalog: Catalog) -> set[tuple[str | None, str | tuple[str, ...]]]:
    return {
        (m.context, tuple(m.id) if isinstance(m.id, list | tuple) else m.id)
        for m in catalog
        if m.id
    }


def test_a_discord_locale_falls_back_to_its_language_then_english() -> None:
    assert i18n.find("es-ES") is not None and i18n.find("es-ES").language == "es"  # type: ignore[union-attr]
    assert i18n.texts("es-419").language == "es"
    assert i18n.texts("en-US").language == "en"
    assert i18n.texts("en-GB").language == "en"
    assert i18n.find("fr") is None and i18n.find("pt-BR") is None and i18n.find(None) is None
    # A client locale without a catalogue: the server's language, then English.
    assert i18n.texts("fr", "es").language == "es"
    assert i18n.texts("fr", "de").language == "en"
    assert i18n.texts("../../etc", "es").language == "es"  # never a path


def test_spanish_commands_and_english_source() -> None:
    spanish = i18n.texts("es-ES")
    assert spanish.pgettext(COMMAND_NAME, "about") == "acerca"
    assert spanish.translated(COMMAND_NAME, "about") == "acerca"
    assert i18n.ENGLISH.translated(COMMAND_NAME, "about") is None
    assert spanish.translated(COMMAND_NAME, "not a message") is None


COVERAGE = (
    "🔔 **{rota}** {starts} ({relative}) still needs {count} more supporter "
    "({claimed}/{needed}, slot #{slot}). Supporters can claim it with `/rota claim`.",
    "🔔 **{rota}** {starts} ({relative}) still needs {count} more supporters "
    "({claimed}/{needed}, slot #{slot}). Supporters can claim it with `/rota claim`.",
)


def test_plurals_come_from_the_catalogue() -> None:
    spanish = i18n.texts("es")
    assert "aún falta {count} persona de apoyo" in spanish.ngettext(*COVERAGE, 1)
    assert "aún faltan {count} personas de apoyo" in spanish.ngettext(*COVERAGE, 3)
    assert i18n.ENGLISH.ngettext(*COVERAGE, 1) == COVERAGE[0]
    assert i18n.ENGLISH.ngettext(*COVERAGE, 2) == COVERAGE[1]


def test_the_server_language_setting_takes_a_catalogue_or_auto_and_refuses_the_rest() -> None:
    assert parse_language("auto") == AUTO
    assert parse_language("es-ES") == "es" and parse_language("ES") == "es"
    assert parse_language("en") == "en"
    with pytest.raises(ValueError, match=r"no translation for “klingon”.*`es` \(español\)"):
        parse_language("klingon")
    assert server_language(AUTO, "es-ES") == "es-ES"
    assert server_language("en", "es-ES") == "en"


def test_pseudo_keeps_placeholders_code_and_discord_markup() -> None:
    shown = i18n.pseudo("Hello {name}, use `/crisis` at <t:1:F> with %(count)s and <@1> **now**")
    assert shown.startswith("⟦") and shown.endswith("⟧")
    for kept in ("{name}", "`/crisis`", "<t:1:F>", "%(count)s", "<@1>", "**"):
        assert kept in shown
    assert "Hélló" in shown and "ñów" in shown


def test_the_pseudo_locale_is_built_from_the_template(pseudo_on: None) -> None:
    pseudo = i18n.texts(i18n.PSEUDO_LOCALE)
    assert pseudo.language == i18n.PSEUDO_LANGUAGE
    assert pseudo.gettext("Running for {uptime}.") == "⟦Rúññíñg fór {uptime}.⟧"
    assert i18n.find(i18n.PSEUDO_LOCALE) is not None


def test_the_pseudo_locale_does_not_exist_unless_enabled() -> None:
    enabled, accent = i18n.pseudo_settings()
    i18n.enable_pseudo(False)
    try:
        assert i18n.find(i18n.PSEUDO_LOCALE) is None
        with pytest.raises(ValueError):
            parse_language("xx")
    finally:
        i18n.enable_pseudo(enabled, accent=accent)


def test_untranslated_finds_words_outside_the_brackets_but_not_data_or_markup() -> None:
    shown = [
        "⟦Héllo⟧ <t:5:F> `/crisis`",
        "⟦Óné ⟦nésted⟧ pláce⟧ 42 — :wave:",
        "Hello world",
        "⟦Grúpó⟧: Carers",
    ]
    found = untranslated(shown, data=["Carers"])
    assert [f.text for f in found] == ["Hello world"]
    assert found[0].rest == "Hello world"
    assert [f.rest for f in untranslated(["⟦Grúpó⟧: Carers"])] == [": Carers"]
    # Data hides only whole words: a role named "coordinator" is not "coordinators".
    found = untranslated(["Only coordinators can"], data=["coordinator"])
    assert [f.rest for f in found] == ["Only coordinators can"]
    # Data shown cut short is still data; a catalogue text cut short is still wrapped; keys,
    # time-zone names and offsets are codes, not prose.
    long_name = "Carers who meet on Tuesdays and more words"
    assert untranslated(["⟦Jóín⟧ Carers who meet on Tu…", "⟦Jóín Carers who me"], [long_name]) == []
    assert untranslated(["`x` max_shifts_per_week Europe/London (UTC+01:00)"]) == []
    assert [f.rest for f in untranslated(["Carers who meet, and Join"], [long_name])] == [
        "Carers who meet, and Join"  # not cut short there: not the data
    ]


# --- the catalogues are up to date ------------------------------------------------------------
def extract(into: Path) -> Catalog:
    """What `pybabel extract` (README) gives from the code as it is now."""
    target = into / "hearth.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-o",
            str(target),
            "--no-location",
            "--sort-output",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return i18n.read_catalogue(target)


def test_the_template_is_up_to_date_with_the_code(tmp_path: Path) -> None:
    committed = ids(i18n.read_catalogue(i18n.LOCALES_DIR / i18n.TEMPLATE))
    fresh = ids(extract(tmp_path))
    assert sorted(fresh - committed, key=str) == [], (
        "strings in the code missing from locales/hearth.pot: run the README's extract command"
    )
    assert sorted(committed - fresh, key=str) == [], (
        "locales/hearth.pot has strings the code no longer uses: run the extract command"
    )


@pytest.mark.parametrize("language", i18n.catalogue_languages())
def test_every_catalogue_translates_every_message(language: str) -> None:
    template = i18n.read_catalogue(i18n.LOCALES_DIR / i18n.TEMPLATE)
    path = i18n.LOCALES_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    catalog = i18n.read_catalogue(path, language)
    assert not catalog.fuzzy, f"{path}: the header is marked fuzzy"
    assert ids(template) <= ids(catalog), f"{path}: run `pybabel update` (README)"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        raw = message.string if isinstance(message.string, tuple | list) else (message.string,)
        strings = [str(s or "") for s in raw]
        label = f"{message.context or ''}|{message.id}"
        if message.fuzzy:
            problems.append(f"fuzzy: {label}")
        if not all(strings):
            problems.append(f"untranslated: {label}")
        if message.context == COMMAND_NAME and not all(
            COMMAND_NAME_RULE.match(s) and s == s.lower() for s in strings
        ):
            problems.append(f"not a valid Discord command name: {label} -> {strings}")
        if message.context in (COMMAND_DESCRIPTION, COMMAND_CHOICE) and not all(
            1 <= len(s) <= 100 for s in strings
        ):
            problems.append(f"over 100 characters: {label}")
        placeholders = set(re.findall(r"\{[^{}]*\}", str(message.id)))
        if not all(placeholders <= set(re.findall(r"\{[^{}]*\}", s)) for s in strings):
            problems.append(f"placeholders differ: {label}")
    assert problems == []
