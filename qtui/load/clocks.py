"""Aligning a load worker's clocks on another host with the driver's (pure).

A worker on another host has its own ``time.perf_counter()`` (CLOCK_MONOTONIC: its boot) and its
own ``time.time()`` (its NTP). The driver pings it: it reads its monotonic and wall clocks,
asks the worker for both, and reads its monotonic clock again when the answer is back. Taking
the worker's reading as made halfway through the round trip, the offsets (worker − driver) are
known to within half the round trip: the worker answered somewhere inside it. Of several pings
the one with the shortest round trip is kept (the tightest bound). Step bounds go out shifted
by the monotonic offset; records come back shifted by the wall offset, so every record sits in
the driver's windows as a local worker's would. Two hosts' clocks drift apart (tens of ppm
between NTP corrections), so the driver pings again every `REALIGN_S` and takes the new
estimate unless its round trip was much longer than the best seen (`realigned`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from qtui.evidence.records import RequestRecord

REALIGN_S = 30.0  # how often the driver pings each worker again
WORSE = 2.0  # a new estimate is taken unless its bound is past WORSE × the best bound seen


@dataclass(frozen=True, slots=True)
class Ping:
    """One round trip: the driver's clocks before, the worker's answer, the driver's after."""

    perf0: float  # driver time.perf_counter() when asking
    wall0: float  # driver time.time() read right after perf0
    remote_perf: float  # the worker's time.perf_counter()
    remote_wall: float  # the worker's time.time()
    perf1: float  # driver time.perf_counter() when the answer was back


@dataclass(frozen=True, slots=True)
class ClockOffset:
    """Worker clock − driver clock (s), each known within ± ``bound_s``."""

    perf_s: float
    wall_s: float
    bound_s: float

    def to_remote_perf(self, t: float) -> float:
        """A driver ``perf_counter`` instant on the worker's monotonic clock."""
        return t + self.perf_s

    def to_driver_wall(self, t: float) -> float:
        """A worker ``time.time()`` instant on the driver's wall clock."""
        return t - self.wall_s


def offset(pings: Sequence[Ping]) -> ClockOffset:
    """The offsets from the ping with the shortest round trip (bound: half of it)."""
    if not pings:
        raise ValueError("no pings")
    p = min(pings, key=lambda q: q.perf1 - q.perf0)
    rtt = max(0.0, p.perf1 - p.perf0)
    mid = p.perf0 + rtt / 2
    return ClockOffset(p.remote_perf - mid, p.remote_wall - (p.wall0 + rtt / 2), rtt / 2)


def realigned(current: ClockOffset, new: ClockOffset, best_bound_s: float) -> ClockOffset:
    """The offsets to use after a new round of pings: the new ones (they follow the drift)
    unless that round was slowed (a bound past WORSE × the best seen: keep the current)."""
    return new if new.bound_s <= WORSE * best_bound_s else current


def to_driver(rec: RequestRecord, off: ClockOffset) -> RequestRecord:
    """A worker's record with its wall times on the driver's clock (offsets from t_send are
    durations on one clock: unchanged)."""
    first = None if rec.t_first_token is None else off.to_driver_wall(rec.t_first_token)
    return dataclasses.replace(
        rec,
        t_send=off.to_driver_wall(rec.t_send),
        t_first_token=first,
        t_end=off.to_driver_wall(rec.t_end),
    )
