"""The load over 2 Ray actors (a local two-node cluster) vs 2 local worker processes, same
simulator, same run, alternating (run by hand; needs ray):

    python benchmarks/bench_ray.py 256      # N users, 2·N requests of 128 output tokens

Prints per run: requests, wall time, chunks, output tok/s, the driver's CPU and the workers'
CPU after their start-up (for Ray: the actor processes, Ray's own threads included).
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import sys
import time
from typing import Any

from qtui.config.profile import Profile
from qtui.load.engine import LoadRun

TOKENS = 128


def profile(url: str, n: int, **load: Any) -> Profile:
    return Profile.model_validate(
        {
            "profile": {"name": "bench-ray"},
            "endpoints": [{"name": "bf16", "url": url, "precision": "bf16"}],
            "workload": {"input_tokens": {"mean": 32}, "output_tokens": {"mean": TOKENS}},
            "load": {"concurrency": n, "max_requests": 2 * n, "duration_s": 600}
            | {"timeout_s": 120, **load},
        }
    )


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def one(url: str, n: int, label: str, **load: Any) -> None:
    c0, t0 = cpu_s(), time.perf_counter()
    run = LoadRun(profile(url, n, **load), scrape=False, processes=2)
    res = (await run.run())["bf16"]
    wall, driver = time.perf_counter() - t0, cpu_s() - c0
    assert run.pool is not None and res.summary is not None
    chunks = sum(c.get("bf16", 0) for c in run.pool.chunks)
    work, tokens = run.worker_cpu_s, 2 * n * TOKENS
    print(
        f"{label}: requests {res.summary.requests} sent {res.sent} wall {wall:.1f} s "
        f"chunks {chunks} out_tps {res.summary.out_tps:.0f} driver CPU {driver:.2f} s "
        f"workers after start {work:.2f} s ({work / tokens * 1e6:.1f} us/token)",
        flush=True,
    )


def main() -> None:
    from ray.cluster_utils import Cluster

    from qtui.sim.testing import sim_demo_fixture

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    node = {"num_cpus": 1, "object_store_memory": 80 * 2**20}
    head = {**node, "num_cpus": 0, "include_dashboard": False}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    cluster.add_node(**node)
    cluster.add_node(**node)
    cluster.wait_for_nodes()
    sims = sim_demo_fixture()
    url = next(sims).endpoints["bf16"]
    ray = {"hosts": "ray", "ray_address": cluster.address}

    async def runs() -> None:
        for label, load in [("processes", {}), ("ray", ray)] * 2:
            await one(url, n, label, **load)

    try:
        asyncio.run(runs())
    finally:
        with contextlib.suppress(StopIteration):
            next(sims)
        cluster.shutdown()


if __name__ == "__main__":
    main()
