"""Remote exporters: real dcgm-exporter output, nvitop-exporter format, served over 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from qtui.evidence.records import MIB, gpu_records
from qtui.gpu.binding import EndpointBinding
from qtui.gpu.dcgm import ExporterFormatError, PrometheusSource, parse_exporter

FIX = Path(__file__).parents[1] / "fixtures"
L4 = (FIX / "gpu" / "dcgm_l4.txt").read_text()
A100 = (FIX / "gpu" / "dcgm_a100_mig.txt").read_text()
NVITOP = (FIX / "gpu" / "nvitop_h100x2.txt").read_text()
VLLM_METRICS = (FIX / "vllm" / "metrics_before_8000.txt").read_text()


def test_parse_real_dcgm_exporter_output() -> None:
    parsed = parse_exporter(L4)
    assert parsed.flavor == "dcgm"
    [g] = parsed.gpus
    assert (g.gpu, g.name, g.host) == (0, "NVIDIA L4", "i-030791dc5a37cd257")
    assert g.uuid == "GPU-c2f76b33-7953-256e-8f33-1343419b1a1c"
    assert g.memory_used == 0
    assert g.memory_reserved == 470 * MIB
    # total = used + free + reserved = 0 + 22,563 + 470 = 23,033 MiB (an L4 has 23,034 MiB)
    assert g.memory_total == 23_033 * MIB
    assert g.power_w == pytest.approx(16.365)
    assert g.energy_j == pytest.approx(4742.776)  # 4,742,776 mJ
    assert (g.util, g.temperature_c, g.sm_clock_mhz, g.mem_clock_mhz) == (0, 31, 210, 405)
    assert "power_limit_w" in g.na


def test_parse_dcgm_skips_mig_instance_rows_and_names_missing_fields() -> None:
    [g] = parse_exporter(A100).gpus
    assert g.memory_used == 4845 * MIB
    assert g.energy_j == pytest.approx(319_159.391)
    assert g.memory_reserved is None
    assert "not in this dcgm exporter's output" in g.na["memory_reserved"]
    assert g.util is None and "util" in g.na  # GPU_UTIL absent in that sample: N/A, not 0


def test_parse_nvitop_exporter_with_processes() -> None:
    parsed = parse_exporter(NVITOP)
    assert parsed.flavor == "nvitop"
    g0, g1 = parsed.gpus
    assert g0.memory_used == 20207 * MIB and g0.memory_total == 81559 * MIB
    assert g0.power_limit_w == 700.0 and g1.util == 0.0
    assert g0.energy_j is None and "nvitop" in g0.na["energy_j"]
    assert sorted((p.pid, p.used_memory) for p in parsed.processes) == [
        (3574, 10160 * MIB),
        (4052, 10032 * MIB),
    ]


def test_dcgm_blank_sentinel_is_na() -> None:
    text = 'DCGM_FI_DEV_FB_USED{gpu="0"} 10\nDCGM_FI_DEV_GPU_TEMP{gpu="0"} 9223372036854775794\n'
    [g] = parse_exporter(text).gpus
    assert g.temperature_c is None and "no value" in g.na["temperature_c"]


@pytest.mark.parametrize(
    "text",
    ["<html><body>Grafana</body></html>", VLLM_METRICS, ""],
    ids=["html", "vllm-metrics", "empty"],
)
def test_non_exporter_text_is_rejected(text: str) -> None:
    with pytest.raises(ExporterFormatError):
        parse_exporter(text)


# -- over real HTTP -------------------------------------------------------------------------


@pytest.fixture
async def exporter() -> AsyncIterator[str]:
    def serve(body: str):  # type: ignore[no-untyped-def]
        async def handler(_: web.Request) -> web.Response:
            return web.Response(text=body, content_type="text/plain")

        return handler

    app = web.Application()
    app.router.add_get("/dcgm/metrics", serve(L4))
    app.router.add_get("/nvitop", serve(NVITOP))
    app.router.add_get("/vllm", serve(VLLM_METRICS))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def sample(src: PrometheusSource):  # type: ignore[no-untyped-def]
    # Blocking HTTP off the event loop, exactly as the sampler thread does.
    try:
        return await asyncio.to_thread(src.sample)
    finally:
        src.close()


async def test_scrape_dcgm_over_http_attributes_gpus_to_the_endpoint(exporter: str) -> None:
    snap = await sample(PrometheusSource(f"{exporter}/dcgm/metrics", [EndpointBinding("bf16")]))
    assert snap.status == "ok" and snap.source == "dcgm"
    assert snap.gpus[0].endpoint == "bf16"
    [rec] = gpu_records(snap)
    assert rec["source"] == "dcgm" and rec["endpoint"] == "bf16"
    assert rec["energy_j"] == pytest.approx(4742.776)


async def test_scrape_nvitop_maps_processes_by_gpu_index(exporter: str) -> None:
    bindings = [EndpointBinding("bf16", gpu_indices=(0,)), EndpointBinding("fp8", gpu_indices=(1,))]
    snap = await sample(PrometheusSource(f"{exporter}/nvitop", bindings))
    assert snap.source == "nvitop"
    assert [g.endpoint for g in snap.gpus] == ["bf16", "fp8"]
    assert {p.endpoint for p in snap.processes} == {"bf16"}


async def test_wrong_path_and_non_exporter_are_told_apart(exporter: str) -> None:
    missing = await sample(PrometheusSource(f"{exporter}/nope"))
    assert missing.status == "unreachable" and "HTTP 404" in missing.detail
    wrong = await sample(PrometheusSource(f"{exporter}/vllm"))
    assert wrong.status == "not_prometheus" and "DCGM" in wrong.detail


async def test_exporter_down_is_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}/metrics"
    snap = await sample(PrometheusSource(url))
    assert snap.status == "unreachable"
    assert url in snap.detail
    assert gpu_records(snap)[0]["state"] == "unreachable"
