"""`qtui report SESSION`: write the decision record (Markdown, HTML, CSV) into --out."""

from __future__ import annotations

from pathlib import Path

import click

from qtui.session.report import write_report


def run(session: Path | tuple[Path, ...], out: Path = Path(".")) -> None:
    """Write the record for one session (or several merged) and print where each file went."""
    paths = [session] if isinstance(session, Path) else list(session)
    for f in write_report(paths, out):
        click.echo(str(f))
