"""A throwaway feature service module, as a new feature would add one: nothing else is edited.

`service_module` writes a module into a temporary folder that joins the `bot.services` package's
search path, so `bot.services.data.service_modules()` finds it by walking the package exactly as
it finds the real ones (its tables and settings are then declared); everything is undone when
the block ends.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import bot.services
from bot.services.data import service_modules


@contextmanager
def service_module(folder: Path, name: str, source: str) -> Iterator[str]:
    """`bot.services.<name>` with this source (kept in `folder`, not the source tree)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    full_name = f"bot.services.{name}"
    search = bot.services.__path__
    search.append(str(folder))
    sys.modules.pop(full_name, None)
    importlib.invalidate_caches()
    service_modules.cache_clear()
    try:
        yield full_name
    finally:
        search.remove(str(folder))
        sys.modules.pop(full_name, None)
        service_modules.cache_clear()
