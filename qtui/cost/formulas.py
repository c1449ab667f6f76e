"""The cost arithmetic, one formula per function (docs/cost-formulas.md); no I/O, no rounding.

Every function takes and returns plain floats in the units its name says; callers decide what a
missing input means. Invalid inputs (non-positive throughput, negative prices) raise ValueError:
they are programming errors here, because the builders check inputs and report reasons first.
"""

from __future__ import annotations

import math

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86_400.0
TOKENS_PER_MILLION = 1_000_000.0
HOURS_PER_MONTH_DEFAULT = 730.0  # 365 d × 24 h ÷ 12: the convention cloud price pages use
HOURS_PER_MONTH_MAX = 744.0  # 31 days × 24 h
HEADROOM_DEFAULT = 1.2
_CEIL_EPS = 1e-9  # 24.000000000000004 replicas is 24, not 25


def _positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _non_negative(name: str, value: float) -> None:
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")


def usd_per_replica_hour(usd_per_gpu_hour: float, gpus_per_replica: int) -> float:
    """A replica's hourly price: $/GPU-hour × GPUs per replica."""
    _non_negative("usd_per_gpu_hour", usd_per_gpu_hour)
    _positive("gpus_per_replica", gpus_per_replica)
    return usd_per_gpu_hour * gpus_per_replica


def usd_per_million_tokens(
    usd_per_gpu_hour: float, gpus_per_replica: int, tokens_per_s: float
) -> float:
    """$/1M tokens = $/GPU-h × GPUs ÷ (tok/s per replica × 3600) × 10^6.

    Use SLO-compliant output tok/s for $/1M output tokens, input tok/s for $/1M input tokens.
    """
    _positive("tokens_per_s", tokens_per_s)
    per_hour = usd_per_replica_hour(usd_per_gpu_hour, gpus_per_replica)
    return per_hour / (tokens_per_s * SECONDS_PER_HOUR) * TOKENS_PER_MILLION


def blended_usd_per_million(usd_per_m_output: float, input_per_output: float) -> float:
    """$/1M tokens of traffic (input + output) at the workload mix: $/1M output ÷ (1 + in/out).

    Each request of i input and o output tokens costs what its o output tokens cost, and it
    carries i + o tokens; so the blended price is C_out × o / (i + o) = C_out / (1 + i/o).
    Equal to 1 / (1/C_in + 1/C_out) when C_in comes from the same measurement. Not the
    API-style weighted average of C_in and C_out, which would count the GPU-hour twice.
    """
    _non_negative("usd_per_m_output", usd_per_m_output)
    _non_negative("input_per_output", input_per_output)
    return usd_per_m_output / (1.0 + input_per_output)


def usd_per_request(usd_per_gpu_hour: float, gpus_per_replica: int, rps: float) -> float:
    """$/request = $/GPU-h × GPUs ÷ (SLO-compliant req/s per replica × 3600)."""
    _positive("rps", rps)
    return usd_per_replica_hour(usd_per_gpu_hour, gpus_per_replica) / (rps * SECONDS_PER_HOUR)


def peak_rps_from_daily(daily_requests: float, peak_factor: float) -> float:
    """Peak req/s = daily requests ÷ 86400 × peak factor (peak over the day's mean rate)."""
    _positive("daily_requests", daily_requests)
    _positive("peak_factor", peak_factor)
    return daily_requests / SECONDS_PER_DAY * peak_factor


def replicas_needed(
    peak_rps: float, capacity_rps: float, headroom: float = HEADROOM_DEFAULT
) -> int:
    """ceil(peak req/s × headroom ÷ SLO-compliant req/s per replica); at least 1."""
    _positive("peak_rps", peak_rps)
    _positive("capacity_rps", capacity_rps)
    _positive("headroom", headroom)
    return max(1, math.ceil(peak_rps * headroom / capacity_rps - _CEIL_EPS))


def monthly_cost(
    replicas: int,
    gpus_per_replica: int,
    usd_per_gpu_hour: float,
    hours_per_month: float = HOURS_PER_MONTH_DEFAULT,
) -> float:
    """$/month = replicas × GPUs per replica × $/GPU-h × hours per month."""
    _positive("replicas", replicas)
    _positive("hours_per_month", hours_per_month)
    return replicas * usd_per_replica_hour(usd_per_gpu_hour, gpus_per_replica) * hours_per_month


def energy_kwh_month(
    power_w_per_gpu: float,
    replicas: int,
    gpus_per_replica: int,
    hours_per_month: float = HOURS_PER_MONTH_DEFAULT,
) -> float:
    """kWh/month = W per GPU × replicas × GPUs per replica × hours ÷ 1000."""
    _non_negative("power_w_per_gpu", power_w_per_gpu)
    _positive("replicas", replicas)
    _positive("gpus_per_replica", gpus_per_replica)
    _positive("hours_per_month", hours_per_month)
    return power_w_per_gpu * replicas * gpus_per_replica * hours_per_month / 1000.0


def energy_cost_month(
    power_w_per_gpu: float,
    replicas: int,
    gpus_per_replica: int,
    usd_per_kwh: float,
    hours_per_month: float = HOURS_PER_MONTH_DEFAULT,
) -> float:
    """$/month of electricity = kWh/month × $/kWh."""
    _non_negative("usd_per_kwh", usd_per_kwh)
    kwh = energy_kwh_month(power_w_per_gpu, replicas, gpus_per_replica, hours_per_month)
    return kwh * usd_per_kwh


def reduction_pct(baseline: float, candidate: float) -> float:
    """How much cheaper the candidate is, in % of the baseline: (base − cand) ÷ base × 100."""
    _positive("baseline", baseline)
    return (baseline - candidate) / baseline * 100.0
