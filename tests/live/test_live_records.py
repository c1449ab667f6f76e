from qtui.evidence.records import MIB, GpuSample, GpuSnapshot, ProcessSample
from qtui.live.state import ViewState
from qtui.session import rows as records
from qtui.tui.widgets.endpoints.lines import memory, memory_bar

GIB = 1024 * MIB


def three_servers_on_one_gpu() -> GpuSnapshot:
    """The H100 procedure's layout: bf16, fp8 and nf4 servers on GPU 0, GPU 1 idle."""
    gpu = GpuSample(gpu=0, uuid="GPU-0", name="H100", memory_total=80 * GIB,
                    memory_used=27 * GIB, memory_reserved=GIB // 2, util=90.0, power_w=400.0,
                    energy_j=1e6)  # fmt: skip
    idle = GpuSample(gpu=1, uuid="GPU-1", name="H100", memory_total=80 * GIB, memory_used=0)
    procs = (
        ProcessSample(pid=10, gpu=0, used_memory=9 * GIB, endpoint="bf16"),
        ProcessSample(pid=11, gpu=0, used_memory=GIB, endpoint="bf16"),  # its engine core
        ProcessSample(pid=20, gpu=0, used_memory=8 * GIB, endpoint="fp8"),
        ProcessSample(pid=30, gpu=0, used_memory=None, endpoint="nf4"),  # the driver cannot say
    )
    return GpuSnapshot("nvml", 5.0, "ok", gpus=(gpu, idle), processes=procs)


def test_shared_gpu_gives_each_endpoint_its_own_processes_memory() -> None:
    rows = records.gpu_samples(three_servers_on_one_gpu(), ["bf16", "fp8", "nf4"])
    by = {r["endpoint"]: r for r in rows}
    assert by["bf16"]["memory_used"] == 10 * GIB and by["fp8"]["memory_used"] == 8 * GIB
    assert by["bf16"]["memory_total"] == 80 * GIB and by["bf16"]["gpu"] == 0
    # the whole GPU's power and energy are not handed to any one of the servers
    assert by["bf16"]["power_w"] is None and by["bf16"]["energy_j"] is None
    assert by["bf16"]["state"] == "shared" and "GPU 0 shared" in by["bf16"]["detail"]
    # no memory figure for its process: said, not a zero
    assert by["nf4"]["state"] == "unattributed" and by["nf4"]["memory_used"] is None


def test_shared_gpu_in_the_column() -> None:
    from qtui.config.load import load_model
    from qtui.config.paths import demo_profile
    from qtui.config.profile import Profile
    from qtui.live.model import RunView
    from qtui.live.tables import tables_for

    prof = load_model(demo_profile(), Profile)
    s = ViewState(prof, tables_for(prof))
    snap = three_servers_on_one_gpu()
    for rec in records.gpu_samples(snap, ["bf16", "fp8"]):
        s.ingest("gpu_sample", rec)
    views = {v.name: v for v in s.snapshot(RunView()).endpoints}
    bf16 = views["bf16"]
    assert bf16.gpu_mem.shared and bf16.gpu_mem.used == 10 * GIB
    assert memory(bf16) == "GPU mem 10.0/80.0 GiB" and "shared GPU" in memory_bar(bf16)
    assert "not split" in bf16.energy.reason


def test_the_recorder_keeps_each_server_memory_and_each_whole_gpu() -> None:
    from qtui.commands.bench import _Collector

    col = _Collector(endpoints=["bf16", "fp8", "nf4"])
    col.gpu_sample("nvml", three_servers_on_one_gpu())
    whole = [r for r in col.gpu if r["endpoint"] is None]
    assert [r["gpu"] for r in whole] == [0, 1]  # every GPU as it is, attributed to no one
    assert whole[0]["memory_used"] == 27 * GIB and whole[0]["power_w"] == 400.0
    own = {r["endpoint"]: r["memory_used"] for r in col.gpu if r["endpoint"] is not None}
    assert own == {"bf16": 10 * GIB, "fp8": 8 * GIB, "nf4": None}  # nf4's: unknown
