"""`qtui report SESSION...`: write the decision record (Markdown, HTML, CSV) into --out."""

from __future__ import annotations

from pathlib import Path

import click

from qtui.session.report import write_report


def run(session: Path | tuple[Path, ...], out: Path = Path(".")) -> None:
    """Write the record for one session (or several merged) and print where each file went."""
    paths = [session] if isinstance(session, Path) else list(session)

    def warn(line: str) -> None:
        click.echo(f"qtui: warning: {line}", err=True)

    for f in write_report(paths, out, on_warning=warn):
        click.echo(str(f))
