"""Errors users see as one clear line (exit code 2), never a traceback."""

from __future__ import annotations


class QtuiError(Exception):
    """A problem with user input or the environment, explained in one line."""

    exit_code = 2


class ConfigError(QtuiError):
    """A file qtui reads is missing, malformed or invalid."""


class NotBuiltYet(QtuiError):
    """A subcommand whose capability does not exist yet."""

    exit_code = 3
