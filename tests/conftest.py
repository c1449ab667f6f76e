"""Fixtures shared by every test package."""

from __future__ import annotations

import pytest

from qtui.sim.testing import sim_demo_fixture

sim_demo = pytest.fixture(scope="session")(sim_demo_fixture)
"""The demo profile served by one real simulator process for the whole session (``sim_demo``)."""
