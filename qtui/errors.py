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


class NothingCompleted(QtuiError):
    """`qtui bench`: an endpoint completed no request (what was recorded is kept)."""

    exit_code = 4


class ClientBound(QtuiError):
    """`qtui bench`: the client, not the server, was the limit (figures are lower bounds)."""

    exit_code = 5


# `qtui bench`'s exit codes (README.md and `qtui bench --help` show this table)
BENCH_EXIT_CODES: tuple[tuple[int, str], ...] = (
    (0, "every endpoint completed requests and the client was never the limit"),
    (2, "bad input: a profile, flag, file or environment variable (one line names it)"),
    (NothingCompleted.exit_code, "an endpoint completed no request (the line names it and why)"),
    (
        ClientBound.exit_code,
        "the client was the limit (figures are lower bounds; the line says where)",
    ),
)
