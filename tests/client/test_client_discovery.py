import json
from pathlib import Path

import pytest
from aiohttp import web
from fakevllm import Behaviour, FakeServer, refused_url, serving

from qtui.client.discovery import ServerInfo, api_key, discover, precision_warning
from qtui.config.profile import Endpoint
from qtui.errors import QtuiError

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "vllm"


async def test_discover_real_models_capture() -> None:
    models = json.loads((FIX / "models_8000.json").read_text())

    async def m(_: web.Request) -> web.Response:
        return web.json_response(models)

    async def v(_: web.Request) -> web.Response:
        return web.json_response({"version": "0.26.0"})

    async def h(_: web.Request) -> web.Response:
        return web.Response()

    app = web.Application()
    app.router.add_get("/v1/models", m)
    app.router.add_get("/version", v)
    app.router.add_get("/health", h)
    async with serving(app) as url:
        info = await discover(url)
    assert (info.model_id, info.root, info.max_model_len) == ("smol-bf16", "/root/smol", 2048)
    assert info.version == "0.26.0" and info.healthy and info.detail == ""
    assert info.honours_ignore_eos  # vLLM: fixed lengths without min_tokens


async def test_discover_dead_server_says_why() -> None:
    info = await discover(refused_url(), timeout=1.0)
    assert not info.healthy and "unreachable" in info.detail


async def test_awq_server_under_fp16_label_warns() -> None:
    async with FakeServer(Behaviour(model="llama-awq", root="/m/Llama-3.1-8B-AWQ")) as url:
        info = await discover(url)
    w = precision_warning("a", "fp16", info)
    assert w is not None and "int4" in w and "fp16" in w
    assert precision_warning("a", "int4-awq", info) is None


@pytest.mark.parametrize(
    ("precision", "model", "warns"),
    [("bf16", "llama-fp8-dynamic", True), ("fp8", "llama-fp8", False),
     ("bf16", "llama-3.1-8b", False), ("int8", "llama-w8a8", False), ("fp8", "qwen-gptq", True)],
)  # fmt: skip
def test_precision_warning_table(precision: str, model: str, warns: bool) -> None:
    assert (precision_warning("e", precision, ServerInfo("u", model_id=model)) is not None) == warns


def test_api_key_from_named_env(monkeypatch: pytest.MonkeyPatch) -> None:
    e = Endpoint(name="a", url="http://h", precision="bf16", api_key_env="QTUI_TEST_KEY")
    monkeypatch.delenv("QTUI_TEST_KEY", raising=False)
    with pytest.raises(QtuiError, match="QTUI_TEST_KEY"):
        api_key(e)
    monkeypatch.setenv("QTUI_TEST_KEY", "sk-secret")
    assert api_key(e) == "sk-secret"


async def _discover_with_health(status: int, models_status: int = 200) -> ServerInfo:
    """Discovery against a real server whose /health answers `status` (llama.cpp: 404)."""

    async def m(_: web.Request) -> web.Response:
        if models_status != 200:
            return web.Response(status=models_status)
        return web.json_response({"object": "list", "data": [{"id": "smollm2", "owned_by": "me"}]})

    async def h(_: web.Request) -> web.Response:
        return web.Response(status=status)

    app = web.Application()
    app.router.add_get("/v1/models", m)
    app.router.add_get("/health", h)  # no /version route at all: aiohttp answers 404
    async with serving(app) as url:
        return await discover(url)


async def test_health_404_means_no_health_route_when_models_answer() -> None:
    info = await _discover_with_health(404)
    assert info.healthy and info.detail == "" and info.model_id == "smollm2"
    assert info.version is None and not info.honours_ignore_eos  # llama-cpp-python: min_tokens


async def test_health_404_with_models_failing_is_unhealthy() -> None:
    info = await _discover_with_health(404, models_status=500)
    assert not info.healthy and "/v1/models answered HTTP 500" in info.detail


async def test_health_503_is_unhealthy_even_when_models_answer() -> None:
    info = await _discover_with_health(503)
    assert not info.healthy and "/health answered HTTP 503" in info.detail
