"""`python -m qtui.engines serve PROFILE`: run a profile's llama.cpp servers on its ports."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from qtui.config.load import load_model
from qtui.config.profile import Profile
from qtui.engines.launch import serve_profile, wait_for_signal
from qtui.engines.provision import ensure_engine, ensure_smollm2
from qtui.errors import QtuiError


@click.group()
def main() -> None:
    """Real CPU inference engines (llama.cpp) for qtui profiles."""


@main.command()
def prepare() -> None:
    """Build/install llama-cpp-python and fetch SmolLM2 into the cache (CI warm-up)."""
    engine = ensure_engine(log=click.echo)
    click.echo(f"engine: llama-cpp-python {engine.version} at {engine.python}")
    click.echo(f"model: {ensure_smollm2(log=click.echo)}")


@main.command()
@click.argument("profile", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def serve(profile: Path) -> None:
    """Start one llama.cpp server per endpoint of PROFILE; Ctrl-C stops them all."""
    prof = load_model(profile, Profile)
    with serve_profile(prof, log=click.echo) as servers:
        for s in servers:
            click.echo(f"{s.spec.name}: {s.url} ({s.spec.model.name}, model id {s.spec.alias})")
        click.echo(f"ready; now run: qtui run {profile}   (Ctrl-C here stops the servers)")
        wait_for_signal()


def run() -> None:
    try:
        main(standalone_mode=True)
    except QtuiError as exc:
        click.echo(f"qtui.engines: error: {exc}", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    run()
