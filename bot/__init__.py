"""Hearth: a Discord bot for group-based peer-support spaces."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hearth")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.1.0"
