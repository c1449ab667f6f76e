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
    | StepReplicas | SetGpu | SetCategory | SetPriceTable | SetTraffic | SetHours | TogglePlay
    | SetSpeed | Seek
)  # fmt: skip
