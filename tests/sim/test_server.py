"""The simulator over real HTTP in a real child process, checked against real vLLM captures."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from qtui.config.load import load_model
from qtui.config.paths import demo_profile
from qtui.config.profile import Profile
from qtui.errors import QtuiError
from qtui.sim.launcher import SimProcess, start_sim
from qtui.sim.quality import is_wrong, load_golden, reworded

FIXTURES = Path(__file__).parent.parent / "fixtures" / "vllm"
GOLDEN = demo_profile().parent / "golden" / "demo.jsonl"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    with start_sim(demo_profile(), seed=3) as s:
        yield s


def shape(obj: Any) -> Any:
    """Keys (recursively) and value types, not values: what 'same wire format' means."""
    if isinstance(obj, dict):
        return {
            k: (
                ["token→float"]
                if k == "top_logprobs"
                and isinstance(v, list)
                and v
                and isinstance(v[0], dict)
                and "token" not in v[0]
                else shape(v)
            )
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [shape(obj[0])] if obj else []
    return type(obj).__name__ if obj is not None else None


def sse(url: str, body: dict[str, Any]) -> list[dict[str, Any] | str]:
    out: list[dict[str, Any] | str] = []
    with httpx.stream("POST", url, json=body, timeout=30) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                data = line[6:]
                out.append(data if data == "[DONE]" else json.loads(data))
    return out


def capture(name: str) -> list[dict[str, Any] | str]:
    lines = (FIXTURES / name).read_text().splitlines()
    return [ln[6:] if ln[6:] == "[DONE]" else json.loads(ln[6:]) for ln in lines if ln]


def test_models_and_version_have_vllm_shape(sim: SimProcess) -> None:
    url = sim.endpoints["bf16"]
    real = json.loads((FIXTURES / "models_8000.json").read_text())
    got = httpx.get(f"{url}/v1/models").json()
    assert shape(got) == shape(real)
    card = got["data"][0]
    assert card["owned_by"] == "qtui-sim" and card["max_model_len"] == 131072
    assert httpx.get(f"{url}/version").json() == {"version": "0.26.0"}
    assert httpx.get(f"{url}/health").status_code == 200


def test_streamed_completion_matches_capture(sim: SimProcess) -> None:
    url = sim.endpoints["fp8"]
    real = capture("sse_completion_8000.txt")
    got = sse(
        f"{url}/v1/completions",
        {
            "prompt": "The capital of France is",
            "max_tokens": 16,
            "logprobs": 3,
            "temperature": 0,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    )
    assert got[-1] == "[DONE]" and real[-1] == "[DONE]"
    assert shape(got[0]) == shape(real[0])
    assert shape(got[-2]) == shape(real[-2])  # usage chunk: choices [] + usage + fingerprint
    usage = got[-2]["usage"]  # type: ignore[index]
    assert usage["completion_tokens"] == 16 and usage["prompt_tokens"] == 6
    assert got[-3]["choices"][0]["finish_reason"] == "length"  # type: ignore[index]
    assert len(got[0]["choices"][0]["logprobs"]["top_logprobs"][0]) == 3  # type: ignore[index]


def test_streamed_chat_matches_capture(sim: SimProcess) -> None:
    url = sim.endpoints["bf16"]
    real = capture("sse_chat_8000.txt")
    got = sse(
        f"{url}/v1/chat/completions",
        {
            "messages": [{"role": "user", "content": "What is 2+2?"}],
            "max_tokens": 64,
            "temperature": 0,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    )
    assert shape(got[0]) == shape(real[0])  # role chunk
    assert shape(got[1]) == shape(real[1])  # content chunk
    assert shape(got[-2]) == shape(real[-2])  # usage chunk
    last = got[-3]["choices"][0]  # type: ignore[index]
    assert last["finish_reason"] in ("stop", "length")
    if last["finish_reason"] == "stop":
        assert shape(got[-3]) == shape(real[-3])


def test_include_usage_off_means_no_usage_chunk(sim: SimProcess) -> None:
    got = sse(
        f"{sim.endpoints['bf16']}/v1/completions", {"prompt": "x", "max_tokens": 3, "stream": True}
    )
    assert got[-1] == "[DONE]" and all("usage" not in c for c in got[:-1])


def test_ignore_eos_and_min_tokens(sim: SimProcess) -> None:
    url = f"{sim.endpoints['int4-awq']}/v1/completions"
    r = httpx.post(url, json={"prompt": "hello", "max_tokens": 40, "ignore_eos": True}).json()
    assert r["usage"]["completion_tokens"] == 40 and r["choices"][0]["finish_reason"] == "length"
    for i in range(5):
        r = httpx.post(url, json={"prompt": f"p{i}", "max_tokens": 500, "min_tokens": 30}).json()
        assert r["usage"]["completion_tokens"] >= 31


def test_greedy_is_deterministic_and_seeded_sampling_repeats(sim: SimProcess) -> None:
    url = f"{sim.endpoints['bf16']}/v1/completions"
    body = {"prompt": "Tell me about GPUs", "max_tokens": 20, "temperature": 0}
    assert (
        httpx.post(url, json=body).json()["choices"][0]["text"]
        == httpx.post(url, json=body).json()["choices"][0]["text"]
    )
    seeded = {**body, "temperature": 1.0, "seed": 11}
    a = httpx.post(url, json=seeded).json()["choices"][0]["text"]
    assert a == httpx.post(url, json=seeded).json()["choices"][0]["text"]


@pytest.mark.parametrize(
    ("body", "status", "kind", "param"),
    [
        (b"{not json", 400, "Bad Request", "body.1"),
        (b'{"model": "nope", "prompt": "a"}', 404, "NotFoundError", "model"),
        (b'{"prompt": "a", "max_tokens": 0}', 400, "BadRequestError", "max_tokens"),
        (b'{"prompt": "a", "max_tokens": -5}', 400, "BadRequestError", "max_tokens"),
        (b'{"prompt": "a", "max_tokens": 131072}', 400, "BadRequestError", "input_tokens"),
        (b'{"max_tokens": 3}', 400, "Bad Request", "body.prompt"),
    ],
)
def test_errors_have_vllm_shape(
    sim: SimProcess, body: bytes, status: int, kind: str, param: str
) -> None:
    r = httpx.post(
        f"{sim.endpoints['bf16']}/v1/completions",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == status
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert (err["type"], err["param"], err["code"]) == (kind, param, status)


def test_prompt_longer_than_max_model_len_is_400(sim: SimProcess) -> None:
    r = httpx.post(
        f"{sim.endpoints['bf16']}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "x" * 600_000}]},
    )
    assert r.status_code == 400
    assert "maximum context length is 131072 tokens" in r.json()["error"]["message"]


def metric(url: str, name: str, **labels: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    raise KeyError(name)


def test_client_disconnect_aborts_and_server_keeps_serving(sim: SimProcess) -> None:
    url = sim.endpoints["fp8"]
    before = metric(url, "vllm:request_success_total", finished_reason="abort")
    with httpx.stream(
        "POST",
        f"{url}/v1/completions",
        json={"prompt": "long", "max_tokens": 2000, "ignore_eos": True, "stream": True},
    ) as r:
        next(r.iter_lines())
    deadline = time.monotonic() + 10  # the server notices on its next write (~1 decode step)
    while metric(url, "vllm:request_success_total", finished_reason="abort") == before:
        assert time.monotonic() < deadline, "abort never counted"
        httpx.post(f"{url}/v1/completions", json={"prompt": "ping", "max_tokens": 2})
    assert metric(url, "vllm:num_requests_running") == 0
    ok = httpx.post(f"{url}/v1/completions", json={"prompt": "after", "max_tokens": 3})
    assert ok.status_code == 200


def test_golden_answers_and_simulated_errors(sim: SimProcess) -> None:
    golden = load_golden(GOLDEN)
    wrong = {"bf16": 0, "int4-awq": 0}
    prof = load_model(demo_profile(), Profile)
    rate = {n: prof.endpoint(n).simulate.quality_error_rate for n in wrong}  # type: ignore[union-attr]
    for name in wrong:
        url = f"{sim.endpoints[name]}/v1/completions"
        for prompt, ans in list(golden.items())[::4]:  # a quarter of the set: each kind of item
            out = httpx.post(url, json={"prompt": prompt, "max_tokens": 200, "temperature": 0})
            text = out.json()["choices"][0]["text"]
            if text.strip() not in (ans.expected.strip(), reworded(ans)):  # a self-flip is right
                wrong[name] += 1
                assert is_wrong(ans.id, 3, rate[name])
    sent = list(golden.values())[::4]
    expected = {n: sum(is_wrong(a.id, 3, rate[n]) for a in sent) for n in wrong}
    assert wrong == expected and expected["bf16"] < expected["int4-awq"]


def test_logprobs_differ_between_precisions_but_are_reproducible(sim: SimProcess) -> None:
    body = {"prompt": "Compare precisions", "max_tokens": 12, "temperature": 0, "logprobs": 3}

    def lps(name: str) -> list[float]:
        r = httpx.post(f"{sim.endpoints[name]}/v1/completions", json=body).json()
        return r["choices"][0]["logprobs"]["token_logprobs"]

    assert lps("int4-awq") == lps("int4-awq")
    assert lps("bf16") != lps("int4-awq")


def test_dcgm_metrics_served_and_simulated(sim: SimProcess) -> None:
    text = httpx.get(sim.dcgm_urls["int4-awq"]).text
    names = {f.name for f in text_string_to_metric_families(text)}
    assert {
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_FB_FREE",
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
    } <= names
    assert "simulated" in text


def test_model_that_does_not_fit_fails_at_start_with_one_line(tmp_path: Path) -> None:
    prof = tmp_path / "big.toml"
    prof.write_text(
        '[profile]\nname = "big"\n[[endpoints]]\nname = "l4"\nprecision = "bf16"\n'
        'gpu = "L4"\n[endpoints.simulate]\nmodel = "llama-3.1-70b"\n'
    )
    with pytest.raises(QtuiError) as err:
        start_sim(prof)
    assert "'l4'" in str(err.value) and "\n" not in str(err.value)


def test_stop_frees_ports_and_leaves_no_process() -> None:
    s = start_sim(demo_profile())
    port = int(s.endpoints["bf16"].rsplit(":", 1)[1])
    assert s.stop() == 0
    assert s.proc.poll() is not None
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))  # would raise if the port were still held
