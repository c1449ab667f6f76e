"""What the user asked for: small immutable messages the app sends to its feed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from qtui.live.model import Mode


@dataclass(frozen=True, slots=True)
class StartLoad:
    pass


@dataclass(frozen=True, slots=True)
class StopLoad:
    pass


@dataclass(frozen=True, slots=True)
class SetMode:
    mode: Mode


@dataclass(frozen=True, slots=True)
class StepLevel:
    """Up (+1) or down (-1) one step on the level ladder."""

    direction: Literal[1, -1]


@dataclass(frozen=True, slots=True)
class SetWorkload:
    name: str


@dataclass(frozen=True, slots=True)
class RunQuality:
    pass


@dataclass(frozen=True, slots=True)
class SetReplicas:
    endpoint: str
    replicas: int | Literal["auto"]


@dataclass(frozen=True, slots=True)
class StepReplicas:
    endpoint: str
    delta: int


@dataclass(frozen=True, slots=True)
class SetGpu:
    endpoint: str
    gpu: str


@dataclass(frozen=True, slots=True)
class SetCategory:
    endpoint: str
    category: str


@dataclass(frozen=True, slots=True)
class SetPriceTable:
    endpoint: str
    table: str


@dataclass(frozen=True, slots=True)
class SetRegion:
    """Price from one region's rows; None: the cheapest row in any region."""

    endpoint: str
    region: str | None


@dataclass(frozen=True, slots=True)
class SetGpuHourPrice:
    """The user's own $/GPU-hour for the endpoint; None: back to the price table's."""

    endpoint: str
    usd: float | None


@dataclass(frozen=True, slots=True)
class SetDiscount:
    """Committed-use discount, % off on-demand (the endpoint moves to committed pricing)."""

    endpoint: str
    pct: float


@dataclass(frozen=True, slots=True)
class SetTraffic:
    rps: float


@dataclass(frozen=True, slots=True)
class SetHours:
    hours: float


@dataclass(frozen=True, slots=True)
class TogglePlay:
    pass


@dataclass(frozen=True, slots=True)
class SetSpeed:
    speed: float


@dataclass(frozen=True, slots=True)
class Seek:
    """Move the replay clock by ``delta_s`` seconds (negative: back)."""

    delta_s: float


Intent = (
    StartLoad | StopLoad | SetMode | StepLevel | SetWorkload | RunQuality | SetReplicas
    | StepReplicas | SetGpu | SetCategory | SetPriceTable | SetRegion | SetGpuHourPrice
    | SetDiscount | SetTraffic | SetHours | TogglePlay | SetSpeed | Seek
)  # fmt: skip
COST = (
    SetReplicas, StepReplicas, SetGpu, SetCategory, SetPriceTable, SetRegion, SetGpuHourPrice,
    SetDiscount, SetTraffic, SetHours,
)  # fmt: skip
"""The what-if intents: applied to the view state's ``WhatIf``, never sent to the worker."""
