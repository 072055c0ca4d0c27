"""Hearth in the member's language: gettext catalogues, read from `locales/` with Babel.

English is the source: every message is written in English in the code, wrapped as
`tr.gettext("…")` (or `tr.ngettext(singular, plural, n)`, `tr.pgettext(context, "…")`), and each
language is one `locales/<lang>/LC_MESSAGES/hearth.po`. The .po files are compiled in memory when
first needed (no binary .mo in git, nothing to build after a clone); a fuzzy entry is not used.
`N_("…")` marks a string for extraction where it is defined and translated later.

A locale is chosen by a fallback chain: a Discord locale (`es-ES`, `es-419`, `pt-BR`, `en-US`)
is tried exactly (`es_ES`), then as its language (`es`), then English, the source. Which locale
a message uses (the member's, the server's) is the caller's choice: `bot/i18n_discord.py`.

The pseudo-locale (`xx-PSEUDO`) is built from `locales/hearth.pot` at run time: every message
wrapped in ⟦…⟧ and accented, placeholders, markdown, code and Discord markup kept, so a test can
see any visible text that did not go through a catalogue (`untranslated`). It exists only when
enabled (`enable_pseudo()`, or HEARTH_PSEUDO_LOCALE=1 in the environment; =wrap wraps without
accenting). The whole suite runs under it with `-p tests.pseudo_locale` (README, "Languages").

No discord import here: services use it as well as cogs.
"""

from __future__ import annotations

import functools
import gettext
import hashlib
import io
import os
import re
import threading
from datetime import date, datetime
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "hearth"
TEMPLATE = "hearth.pot"
SOURCE_LANGUAGE = "en"
PSEUDO_LANGUAGE = "xx"
PSEUDO_LOCALE = "xx-PSEUDO"  # what a fake interaction carries in the pseudo-locale run
PSEUDO_ENV = "HEARTH_PSEUDO_LOCALE"
OPEN, CLOSE = "⟦", "⟧"

# The contexts of command strings (discord.py's translator asks for them at sync): names follow
# Discord's rules (lowercase, no spaces, 1-32 characters), descriptions and choices 1-100.
COMMAND_NAME = "command name"
COMMAND_DESCRIPTION = "command description"
COMMAND_CHOICE = "command choice"

# Discord locales whose catalogue has another name than the Discord code turned into gettext's.
_ALIASES = {"no": "nb"}


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it here (it is translated when shown)."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural pair for extraction (babel.cfg's `Nn_` keyword); `tr.ngettext(*pair, n)`
    translates it when shown."""
    return singular, plural


class Texts:
    """The messages of one language, with English (the source) behind every missing one."""

    def __init__(
        self, language: str, translations: gettext.NullTranslations, *, marked: bool = False
    ) -> None:
        self.language = language
        self._t = translations
        # In the pseudo-locale run every catalogue's text is marked ⟦…⟧ (Spanish as much as the
        # pseudo-locale), so the check tells it from text that never went through one.
        self._open, self._close = (OPEN, CLOSE) if marked else ("", "")
        # Dates written by Babel are the locale's own data, not a catalogue's: marked in that
        # run too, and in the pseudo-locale (whose catalogue marks its own text).
        self._marks_data = marked or language == PSEUDO_LANGUAGE

    def gettext(self, message: str) -> str:
        return self._open + self._t.gettext(message) + self._close

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form for `n` from the catalogue's own plural rule (Spanish has two, Polish three)."""
        return self._open + self._t.ngettext(singular, plural, n) + self._close

    def pgettext(self, context: str, message: str) -> str:
        return self._open + self._t.pgettext(context, message) + self._close

    def format_day(self, moment: date | datetime, pattern: str) -> str:
        """A day (and time) written out in words, for places `<t:…>` can't go: button labels,
        thread names, autocomplete choices, texts a service fills in. `pattern` is a CLDR
        pattern ("EEE d MMM y" → "Tue 3 Mar 2026", "EEE dd MMM HH:mm" → "Tue 03 Mar 19:00");
        the day and month names are this language's, from Babel's CLDR data; a language Babel
        doesn't know (the pseudo-locale) reads as English. A datetime is written as its own wall
        clock: pass it already in the zone it is read in.

        The one place Hearth writes a date in words, so every feature's dates follow the
        reader's language; the names are locale data, not missing translations, so they are
        marked like a catalogue's text in the pseudo-locale run.
        """
        locale = _babel_locale(self.language)
        if isinstance(moment, datetime):
            shown = format_datetime(moment.replace(tzinfo=None), pattern, locale=locale)
        else:
            shown = format_date(moment, pattern, locale=locale)
        return OPEN + shown + CLOSE if self._marks_data else shown

    def translated(self, context: str | None, message: str) -> str | None:
        """The catalogue's translation, or None when it has none (English, or not translated):
        what discord.py's command translator must answer to leave Discord's default."""
        found = self._t.pgettext(context, message) if context else self._t.gettext(message)
        if self.language == SOURCE_LANGUAGE or found == message:
            return None
        return found

    def __repr__(self) -> str:
        return f"Texts({self.language!r})"


ENGLISH = Texts(SOURCE_LANGUAGE, gettext.NullTranslations())


@functools.lru_cache(maxsize=64)
def _babel_locale(language: str) -> Locale:
    """Babel's data for a language, English for one it doesn't know (the pseudo-locale)."""
    try:
        return Locale.parse(language)
    except (ValueError, UnknownLocaleError):
        return Locale.parse(SOURCE_LANGUAGE)


def _catalogue_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def _compiled(catalog: Catalog) -> gettext.GNUTranslations:
    """A .po compiled in memory, fuzzy entries left out (they wait for a translator's review)."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def catalogue_languages() -> list[str]:
    """The languages with a catalogue in `locales/` (besides English, the source)."""
    if not LOCALES_DIR.is_dir():
        return []
    return sorted(p.name for p in LOCALES_DIR.iterdir() if _catalogue_path(p.name).is_file())


# --- the pseudo-locale ----------------------------------------------------------------------
_ACCENTS = str.maketrans(
    "aeiouyAEIOUYcnCNsz", "áéíóúýÁÉÍÓÚÝçñÇÑšž"
)  # one-to-one, so text stays readable and the length barely changes
# What a message keeps exactly: placeholders ({name}, %(name)s, %s), code spans, Discord markup
# (<t:…>, <@…>, <#…>, </cmd:…>), links and :emoji: names.
_KEEP = re.compile(
    r"\{[^{}]*\}|%\([^)]*\)[sdifr]|%[sdifr]|`[^`]*`|<[^<>\s]+>|https?://\S+|:[a-z0-9_]+:"
)


def pseudo(message: str, *, accent: bool = True) -> str:
    """⟦accented message⟧, with everything `_KEEP` matches unchanged. Without `accent`, only
    wrapped: English assertions on substrings still hold, so a whole test suite runs through."""
    if not accent:
        return OPEN + message + CLOSE
    out: list[str] = []
    last = 0
    for match in _KEEP.finditer(message):
        out.append(message[last : match.start()].translate(_ACCENTS))
        out.append(match.group())
        last = match.end()
    out.append(message[last:].translate(_ACCENTS))
    return OPEN + "".join(out) + CLOSE


def pseudo_catalogue(template: Catalog, *, accent: bool = True) -> Catalog:
    catalog = Catalog(locale="en", domain=DOMAIN)  # two plural forms, as English
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            string: str | tuple[str, ...] = tuple(
                pseudo(str(part), accent=accent) for part in message.id
            )
        else:
            string = pseudo(message.id, accent=accent)
        catalog.add(message.id, string, context=message.context)
    return catalog


_pseudo_enabled = os.environ.get(PSEUDO_ENV, "") not in ("", "0")
_pseudo_accent = os.environ.get(PSEUDO_ENV, "") != "wrap"  # =wrap: wrapped, not accented


def enable_pseudo(enabled: bool = True, *, accent: bool | None = None) -> None:
    """Serve the pseudo-locale (`xx-PSEUDO`); tests switch it on, as the environment can."""
    global _pseudo_enabled, _pseudo_accent
    accent = _pseudo_accent if accent is None else accent
    if (enabled, accent) != (_pseudo_enabled, _pseudo_accent):  # catalogues compile once
        _pseudo_enabled, _pseudo_accent = enabled, accent
        _loaded.cache_clear()


def pseudo_settings() -> tuple[bool, bool]:
    """(enabled, accented) now, for a test that changes them to put back."""
    return _pseudo_enabled, _pseudo_accent


# --- choosing a language ----------------------------------------------------------------------
def _candidates(locale: str) -> list[str]:
    """`es-ES` → es_ES, es; `pt-BR` → pt_BR, pt; `no` → no, nb; `xx-PSEUDO` → xx."""
    code = locale.strip().replace("-", "_")
    found = [code]
    language = code.split("_")[0].lower()
    found += [language]
    if language in _ALIASES:
        found.append(_ALIASES[language])
    return list(dict.fromkeys(part for part in found if part))


_lock = threading.Lock()


@functools.lru_cache(maxsize=64)
def _loaded(language: str) -> Texts | None:
    """The compiled catalogue of one language, once per process (tests clear it)."""
    if language == SOURCE_LANGUAGE:
        # English chosen (a client's, a server's, the fallback) is a language like the others:
        # marked in the pseudo-locale run, so the check tells it from text that never went
        # through a catalogue. `ENGLISH`, the default a caller forgot to replace, stays unmarked.
        if _pseudo_enabled:
            return Texts(SOURCE_LANGUAGE, gettext.NullTranslations(), marked=True)
        return ENGLISH
    if language == PSEUDO_LANGUAGE:
        if not _pseudo_enabled:
            return None
        template = read_catalogue(LOCALES_DIR / TEMPLATE)
        catalog = pseudo_catalogue(template, accent=_pseudo_accent)
        return Texts(PSEUDO_LANGUAGE, _compiled(catalog))
    path = _catalogue_path(language)
    if not path.is_file():
        return None
    with _lock:
        return Texts(language, _compiled(read_catalogue(path, language)), marked=_pseudo_enabled)


def find(locale: str | None) -> Texts | None:
    """The catalogue for a Discord locale (exact, then its language), or None if there is none.
    English has one: the source."""
    if not locale:
        return None
    for candidate in _candidates(locale):
        found = _loaded(candidate) if re.fullmatch(r"[A-Za-z_0-9]+", candidate) else None
        if found is not None:
            return found
    return None


def texts(*locales: str | None) -> Texts:
    """The first of these locales that has a catalogue, else English: e.g.
    `texts(interaction_locale, server_language)`."""
    for locale in locales:
        found = find(locale)
        if found is not None:
            return found
    return _loaded(SOURCE_LANGUAGE) or ENGLISH


def available_languages() -> list[str]:
    """What the server language setting accepts: English and every catalogue."""
    return sorted({SOURCE_LANGUAGE, *catalogue_languages()})


def language_name(language: str) -> str:
    """A language in its own words ("español"), for lists of what is available."""
    try:
        return Locale.parse(language).get_display_name() or language
    except (ValueError, UnknownLocaleError):
        return language


def describe_languages() -> str:
    return ", ".join(f"`{code}` ({language_name(code)})" for code in available_languages())


def clear_cache() -> None:
    """Forget compiled catalogues (after a .po changed, in tests)."""
    _loaded.cache_clear()


def catalogue_fingerprint() -> str:
    """Changes whenever a catalogue does, so a changed translation of a command re-syncs."""
    digest = hashlib.sha256()
    for language in catalogue_languages():
        digest.update(language.encode() + b"\0" + _catalogue_path(language).read_bytes())
    return digest.hexdigest()
