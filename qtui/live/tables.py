"""Load the price tables a profile names (file I/O at the edge, once, before the app starts)."""

from __future__ import annotations

from qtui.config.catalog import list_price_tables, load_price_table
from qtui.config.pricing import PriceTable
from qtui.config.profile import Profile


def tables_for(profile: Profile) -> dict[str, PriceTable]:
    """Every shipped or user table (what-ifs may switch to any), the profile's ones guaranteed."""
    names = set(list_price_tables())
    names |= {profile.cost.price_table} | {
        e.price_table for e in profile.endpoints if e.price_table
    }
    return {n: load_price_table(n) for n in sorted(names)}
