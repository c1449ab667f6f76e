"""pytest helpers: a simulator process for tests in any package (add the fixture to conftest)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qtui.config.paths import demo_profile
from qtui.sim.launcher import SimProcess, start_sim


@contextmanager
def running_sim(
    profile: Path | None = None,
    seed: int = 0,
    golden: Path | None = None,
    write_cost_us: float | None = None,
) -> Iterator[SimProcess]:
    """The demo profile (or ``profile``) served by a real child process; stopped on exit.
    ``write_cost_us``: its pacer's fixed cost per write (the same chunks on any machine)."""
    sim = start_sim(
        profile or demo_profile(), seed=seed, golden=golden, write_cost_us=write_cost_us
    )
    try:
        yield sim
    finally:
        sim.stop()


def sim_demo_fixture() -> Iterator[SimProcess]:
    """Body for a module/session-scoped ``sim_demo`` fixture::

    sim_demo = pytest.fixture(scope="session")(qtui.sim.testing.sim_demo_fixture)
    """
    with running_sim() as sim:
        yield sim
