"""The sampler thread: off the caller's thread, survives bad sources, stops cleanly."""

from __future__ import annotations

import threading

import pytest

from qtui.evidence.records import GpuSnapshot
from qtui.gpu.nvml import NvmlSource
from qtui.gpu.sampler import TelemetrySampler
from qtui.gpu.source import NoTelemetry, TelemetrySource

from .fake_nvml import FakeGpu, FakeNvml


class Recording:
    """A source that notes which thread sampled it."""

    kind = "dcgm"

    def __init__(self) -> None:
        self.threads: set[int] = set()
        self.closed = False

    def sample(self) -> GpuSnapshot:
        self.threads.add(threading.get_ident())
        return GpuSnapshot("dcgm", 1.0, "ok")

    def close(self) -> None:
        self.closed = True


class Exploding:
    kind = "nvml"

    def sample(self) -> GpuSnapshot:
        raise RuntimeError("driver exploded")

    def close(self) -> None:
        raise RuntimeError("close exploded too")


def test_sources_are_sampled_in_a_background_thread_and_stop_joins() -> None:
    rec = Recording()
    sampler = TelemetrySampler({"remote": rec}, rate_hz=200.0).start()
    key, snap = sampler.get(timeout=10)
    thread = sampler._thread
    sampler.stop()
    assert (key, snap.status) == ("remote", "ok")
    assert threading.get_ident() not in rec.threads
    assert thread is not None and not thread.is_alive()
    assert rec.closed


def test_a_raising_source_becomes_an_error_snapshot_and_sampling_goes_on() -> None:
    with TelemetrySampler({"bad": Exploding(), "ok": Recording()}, rate_hz=200.0) as sampler:
        seen: list[tuple[str, GpuSnapshot]] = [sampler.get(timeout=10) for _ in range(4)]
    bad = [s for k, s in seen if k == "bad"]
    assert len(bad) == 2  # sampled again after failing
    assert bad[0].status == "error" and "driver exploded" in bad[0].detail
    assert bad[0].source == "nvml"


def test_callback_delivery_and_latest() -> None:
    got: list[tuple[str, str]] = []
    sampler = TelemetrySampler(
        {"cpu": NoTelemetry()}, on_snapshot=lambda k, s: got.append((k, s.status))
    )
    sampler.sample_once()
    assert got == [("cpu", "no_telemetry")]
    assert sampler.latest()["cpu"].detail
    assert sampler.get_nowait() is None  # callback mode does not also queue


def test_full_queue_keeps_the_newest() -> None:
    fake = FakeNvml([FakeGpu()])
    src: TelemetrySource = NvmlSource(nvml=fake)  # type: ignore[arg-type]
    sampler = TelemetrySampler({"nvml": src}, maxsize=2)
    for energy in (1000, 2000, 3000):
        fake.gpus[0].energy_mj = energy
        sampler.sample_once()
    energies = []
    while (item := sampler.get_nowait()) is not None:
        energies.append(item[1].gpus[0].energy_j)
    assert energies == [2.0, 3.0]


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rate_hz"):
        TelemetrySampler({}, rate_hz=0)
    assert TelemetrySampler({}).interval_s == pytest.approx(0.5)  # default 2 Hz
