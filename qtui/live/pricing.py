"""Save the what-if's own prices as a new price table from the app, with the file I/O off the UI
loop: the feed builds the table (pure, quick), a thread writes it, the feed then offers it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from pathlib import Path
from typing import Protocol, runtime_checkable

from qtui.config.pricing import PriceTable
from qtui.cost.overrides import default_name, save_price_table


@runtime_checkable
class SavesPriceTables(Protocol):
    """A feed whose what-if can be saved as a price table (live and replay; not the fake)."""

    def price_table_to_save(
        self, endpoint: str, now: float
    ) -> tuple[str, PriceTable, Collection[str]]:
        """(base table name, the new table, names already taken); QtuiError when nothing to save."""
        ...

    def add_price_table(self, name: str, table: PriceTable, path: Path) -> None:
        """Offer a saved table in the what-if's price-table cycle (and record it)."""
        ...


async def save_whatif_table(
    feed: SavesPriceTables,
    endpoint: str,
    name: str,
    directory: Path | None = None,
    now: float | None = None,
) -> Path:
    """Write the own prices on ``endpoint``'s table as ``<name>.toml`` in the user pricing dir
    (``directory`` if given) in a thread; QtuiError (one line) when refused, nothing changed."""
    now = time.time() if now is None else now
    base, table, taken = feed.price_table_to_save(endpoint, now)
    name = name.strip() or default_name(base, now)
    path = await asyncio.to_thread(save_price_table, table, name, directory, None, taken)
    feed.add_price_table(path.stem, table, path)
    return path
