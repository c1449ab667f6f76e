"""GPU telemetry: NVML on this host, DCGM / nvitop exporters elsewhere, behind one Protocol.

    from qtui.gpu.factory import build_sources
    from qtui.gpu.sampler import TelemetrySampler

    sources = build_sources(profile.endpoints, pids={"bf16": 4242})
    with TelemetrySampler(sources, rate_hz=2.0, on_snapshot=handler):
        ...  # handler(key, GpuSnapshot) runs in the sampler thread

Import the submodules directly: ``qtui.gpu.nvml`` needs only nvidia-ml-py (no httpx, pydantic).
"""
