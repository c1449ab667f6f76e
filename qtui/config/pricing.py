"""Price tables (pricing/*.toml): GPU instance prices with their source and as-of date."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from qtui.config.profile import Strict, _check_gpu


class PriceRow(Strict):
    """One instance type: its GPUs and what an hour of it costs."""

    gpu: str
    instance: str
    gpus_per_instance: int = Field(ge=1, le=64)
    region: str
    on_demand_usd_per_hour: float | None = Field(None, gt=0)
    spot_usd_per_hour: float | None = Field(None, gt=0)
    notes: str = ""

    @field_validator("gpu")
    @classmethod
    def _gpu(cls, v: str) -> str:
        return _check_gpu(v)

    @model_validator(mode="after")
    def _some_price(self) -> PriceRow:
        if self.on_demand_usd_per_hour is None and self.spot_usd_per_hour is None:
            raise ValueError(f"{self.instance}: needs on_demand_usd_per_hour or spot_usd_per_hour")
        return self

    def usd_per_gpu_hour(self, category: str, committed_discount_pct: float = 0.0) -> float | None:
        """$/GPU-hour for a pricing category; None when the table has no such price."""
        if category == "spot":
            price = self.spot_usd_per_hour
        else:
            price = self.on_demand_usd_per_hour
            if price is not None and category == "committed":
                price *= 1 - committed_discount_pct / 100
        return None if price is None else price / self.gpus_per_instance


class PriceTableMeta(Strict):
    provider: str = Field(min_length=1)
    region: str = ""
    currency: str = "USD"
    source: str = Field(min_length=1)
    as_of: str = Field(min_length=4)
    notes: list[str] = Field(default_factory=list)
    based_on: str | None = None


class PriceTable(Strict):
    """A provider's (or a negotiated) price list."""

    table: PriceTableMeta
    rows: list[PriceRow] = Field(min_length=1)

    def rows_for(self, gpu: str) -> list[PriceRow]:
        return [r for r in self.rows if r.gpu == gpu]
