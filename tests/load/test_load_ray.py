"""The load engine spread over a local Ray cluster on 127.0.0.1 (a head with no CPU for actors
and two worker nodes, each its own raylet process), against the real simulator."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

from qtui.config.profile import Profile  # noqa: E402
from qtui.evidence.records import RequestRecord, Stats  # noqa: E402
from qtui.load import ray_pool  # noqa: E402
from qtui.load.engine import LoadRun  # noqa: E402
from qtui.load.procs import ProcessSender  # noqa: E402
from qtui.load.ray_pool import Host, RayPool  # noqa: E402
from qtui.load.scraper import scrape_once  # noqa: E402
from qtui.metrics.crosscheck import crosscheck  # noqa: E402
from qtui.metrics.vllm import VllmSnapshot  # noqa: E402
from qtui.sim.launcher import SimProcess  # noqa: E402

NODE = {"num_cpus": 1, "object_store_memory": 80 * 2**20}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    head = {**NODE, "num_cpus": 0, "include_dashboard": False}
    c = Cluster(initialize_head=True, head_node_args=head)
    c.add_node(**NODE)
    c.add_node(**NODE)
    c.wait_for_nodes()
    try:
        yield c
    finally:
        c.shutdown()


def profile(url: str, address: str, out: int = 12, **load: Any) -> Profile:
    return Profile.model_validate(
        {
            "profile": {"name": "ray"},
            "endpoints": [{"name": "bf16", "url": url, "precision": "bf16"}],
            "workload": {"input_tokens": {"mean": 24}, "output_tokens": {"mean": out}},
            "load": {"concurrency": 6, "duration_s": 120, "timeout_s": 60, "hosts": "ray"}
            | {"ray_address": address, **load},
            "slo": {"max_error_rate": 0.0},
        }
    )


async def snapshot(url: str) -> VllmSnapshot:
    async with httpx.AsyncClient() as http:
        snap, status = await scrape_once(http, f"{url}/metrics")
    assert snap is not None, status.detail
    return snap


def when(run: LoadRun, holds: Callable[[RayPool], bool]) -> asyncio.Event:
    """Set by the engine's own 1 s tick once ``holds(pool)``."""
    ready = asyncio.Event()

    def tick(_: Stats) -> None:
        pool = run.pool
        if isinstance(pool, RayPool) and holds(pool):
            ready.set()

    run.on_second = tick
    return ready


def streaming_everywhere(run: LoadRun) -> asyncio.Event:
    """Set once every actor has streamed tokens."""
    return when(run, lambda pool: all(c.get("bf16", 0) > 0 for c in pool.chunks))


def two_worker_nodes(cluster: Cluster) -> None:
    """A test before may have taken one away."""
    while len(cluster.worker_nodes) < 2:
        cluster.add_node(**NODE)
    cluster.wait_for_nodes()


async def drop_host(cluster: Cluster, host: Host) -> None:
    node = next(n for n in cluster.worker_nodes if n.node_id == host.node_id)
    await asyncio.to_thread(cluster.remove_node, node, False)


async def test_two_hosts_serve_exactly_what_the_server_counted(
    cluster: Cluster, sim_demo: SimProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ray_pool, "REALIGN_S", 0.2)  # pinged again while the load runs
    url = sim_demo.endpoints["bf16"]
    recs: list[RequestRecord] = []
    seconds: list[Stats] = []
    events: list[str] = []
    before = await snapshot(url)
    run = LoadRun(
        profile(url, cluster.address, max_requests=30, warmup_s=0.2),
        scrape=False, on_record=recs.append, on_second=seconds.append,
        on_event=lambda k, m: events.append(m),
    )  # fmt: skip
    res = (await asyncio.wait_for(run.run(), 180))["bf16"]
    after = await snapshot(url)
    pool = run.pool
    assert isinstance(pool, RayPool) and run.processes == 2
    assert len({h.node_id for h in pool.hosts}) == 2  # one actor on each worker node
    assert all(c.get("bf16", 0) > 0 for c in pool.chunks)  # both hosts streamed
    # the same machine: the true offsets are 0, so each estimate is within its own bound
    for c in pool.clocks:
        assert abs(c.perf_s) <= c.bound_s and abs(c.wall_s) <= c.bound_s + 1e-3
    assert pool.realigns > 0
    hosts = run.load_hosts()
    assert hosts is not None and len(hosts["hosts"]) == 2 and hosts["dropped"] == []
    assert 0 < hosts["clock_bound_ms"] == round(pool.skew_bound_s * 1e3, 3)
    assert any("2 Ray actors on 2 hosts; clocks aligned within ±" in m for m in events), events
    # no loss, no double count: 30 distinct requests numbered 1..30 across the hosts
    assert len(recs) == 30 and all(r.ok for r in recs), [r.error_detail for r in recs]
    assert sorted(int(r.request_id.rsplit("-", 1)[1]) for r in recs) == list(range(1, 31))
    cc = crosscheck(recs, before, after)
    assert cc.counts_agree, cc.to_dict()
    assert cc.requests_server == 30 and cc.tokens_server == cc.tokens_client == 30 * 12
    # merged into the same windows, step and cumulative stats as worker processes are
    assert sum(s.requests for s in seconds) == 30 and res.sent == 30
    measured = [r for r in recs if r.phase == "measure"]
    assert res.summary is not None and res.summary.requests == len(measured) > 0
    assert res.summary.completion_tokens == 12 * len(measured)
    assert len(run.health) == len(seconds) and run.worker_cpu_s > 0
    assert not ray.is_initialized()  # the run joined the cluster, and left it


@pytest.mark.parametrize(
    ("load", "level", "share"),
    [
        ({"concurrency": 4}, 4.0, "2 users"),
        ({"mode": "rate", "rate": 20.0, "arrival": "constant"}, 20.0, "10 req/s"),
    ],
    ids=["closed", "open"],
)
async def test_a_dropped_hosts_share_moves_to_the_host_left(
    cluster: Cluster, sim_demo: SimProcess, load: dict[str, Any], level: float, share: str
) -> None:
    two_worker_nodes(cluster)
    url = sim_demo.endpoints["bf16"]
    recs: list[RequestRecord] = []
    events: list[str] = []
    run = LoadRun(
        profile(url, cluster.address, out=64, **load),
        scrape=False, on_record=recs.append, on_event=lambda k, m: events.append(m),
    )  # fmt: skip
    streaming = streaming_everywhere(run)
    await run.start()
    await asyncio.wait_for(streaming.wait(), 120)
    pool, sender = run.pool, run.eps["bf16"].sender
    assert isinstance(pool, RayPool) and isinstance(sender, ProcessSender)
    assert [lv["bf16"] for lv in pool.levels] == [level / 2] * 2  # as each actor says
    survivor, victim = pool.hosts
    # the survivor alone runs the whole level, as it says; a closed loop's users all stream
    closed = "mode" not in load
    moved = when(
        run,
        lambda p: (
            1 in p.dead
            and p.levels[0].get("bf16") == level
            and (not closed or p.in_flight[0].get("bf16") == level)
        ),
    )
    before = len(recs)
    kept = {r.request_id for r in recs}
    await drop_host(cluster, victim)
    try:
        await asyncio.wait_for(moved.wait(), 120)
    except TimeoutError:
        await run.stop()  # leave the cluster, for the tests after
        raise AssertionError(f"the survivor never ran level {level}: {pool.levels}") from None
    assert sender.running_level == level == sender.level
    dropped = [m for m in events if "dropped out" in m]
    assert len(dropped) == 1, events
    named = rf"load host {re.escape(victim.name())} dropped out at \d\d:\d\d:\d\d \("
    assert re.search(named, dropped[0])
    assert f"; its {share} of bf16 moved to host {survivor.name()}; " in dropped[0]
    assert "\n" not in dropped[0]
    grown = when(run, lambda p: len(recs) > before + 4)  # the survivor goes on recording
    await asyncio.wait_for(grown.wait(), 120)
    res = (await asyncio.wait_for(run.stop(), 120))["bf16"]
    # every record received before the drop is kept, in the records and in the summary (which
    # leaves out the requests the stop cancelled)
    assert kept <= {r.request_id for r in recs} and all(r.ok for r in recs[:before])
    finished = sum(r.error_class != "cancelled" for r in recs)
    assert res.summary is not None and res.summary.requests == finished > before
    assert (run.load_hosts() or {})["dropped"] == [victim.name()]


async def test_a_host_that_drops_out_is_named_and_the_other_goes_on(
    cluster: Cluster, sim_demo: SimProcess
) -> None:
    """It takes one of the two worker nodes away."""
    two_worker_nodes(cluster)
    url = sim_demo.endpoints["int4-awq"]
    recs: list[RequestRecord] = []
    events: list[str] = []
    run = LoadRun(
        profile(url, cluster.address, out=64, concurrency=4, max_requests=40),
        scrape=False, on_record=recs.append, on_event=lambda k, m: events.append(m),
    )  # fmt: skip
    streaming = streaming_everywhere(run)
    await run.start()
    await asyncio.wait_for(streaming.wait(), 120)
    pool = run.pool
    assert isinstance(pool, RayPool)
    victim = pool.hosts[1]
    kept = [r.request_id for r in recs if int(r.request_id.rsplit("-", 1)[1]) % 2 == 0]
    await drop_host(cluster, victim)
    res = (await asyncio.wait_for(run.wait(), 180))["bf16"]
    dropped = [m for m in events if "dropped out" in m]
    assert len(dropped) == 1 and victim.node_id[:8] in dropped[0], events
    assert (run.load_hosts() or {})["dropped"] == [victim.name()]
    assert "its requests in flight are lost; ~" in dropped[0]  # its unsent share of 20 even ids
    unsent = int(dropped[0].split("; ~")[1].split()[0])
    assert 0 < unsent <= 20 - len(kept)
    assert all(r.ok for r in recs)
    ids = [int(r.request_id.rsplit("-", 1)[1]) for r in recs]
    # the survivor (odd ids) sent its whole share; what the lost host sent back is kept
    assert sorted(i for i in ids if i % 2 == 1) == list(range(1, 41, 2))
    assert set(kept) <= {r.request_id for r in recs}
    assert res.summary is not None and res.summary.requests == len(recs)
