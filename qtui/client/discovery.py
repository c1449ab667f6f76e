"""What an endpoint says about itself: /v1/models, /version, /health; precision-label check."""

from __future__ import annotations

import functools
import os
import re
import ssl
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from qtui.config.profile import Endpoint
from qtui.errors import QtuiError


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """The served model and server facts; fields the server did not give stay None."""

    url: str
    model_id: str | None = None
    root: str | None = None
    max_model_len: int | None = None
    version: str | None = None
    healthy: bool = False
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def honours_ignore_eos(self) -> bool:
        """vLLM (the server that answers /version) runs a request to max_tokens on ignore_eos
        alone; other servers also get min_tokens (llama-cpp-python ignores ignore_eos)."""
        return self.version is not None


def api_key(endpoint: Endpoint) -> str | None:
    """The key from the environment variable the profile names (the key itself is never stored)."""
    if endpoint.api_key_env is None:
        return None
    key = os.environ.get(endpoint.api_key_env)
    if not key:
        raise QtuiError(
            f"endpoint {endpoint.name}: environment variable {endpoint.api_key_env} "
            "(api_key_env) is not set; export it or remove api_key_env"
        )
    return key


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The system's CA store, read once a process (reading it costs tens of ms of CPU, which a
    new httpx client pays each time when it is not given a context)."""
    return ssl.create_default_context()


def auth_headers(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


async def discover(
    url: str, key: str | None = None, timeout: float = 5.0, client: httpx.AsyncClient | None = None
) -> ServerInfo:
    """Ask /v1/models, /version and /health; never raises for a bad server, says why in detail.

    A 404 on /health means "no health route" (llama.cpp), not unhealthy, when /v1/models
    answered with a model.
    """
    own = client is None
    # plain http speaks no TLS (redirects are not followed): no CA store to read for it
    c = client or httpx.AsyncClient(
        timeout=timeout, verify=tls_context() if url.startswith("https:") else False
    )
    problems: list[str] = []
    model_id = root = version = None
    max_len: int | None = None
    healthy = False
    try:
        try:
            r = await c.get(f"{url}/v1/models", headers=auth_headers(key), timeout=timeout)
            if r.status_code != 200:
                problems.append(f"/v1/models answered HTTP {r.status_code}")
            else:
                data = r.json().get("data") or []
                if data:
                    m = data[0]
                    model_id, root = m.get("id"), m.get("root")
                    ml = m.get("max_model_len")
                    max_len = int(ml) if isinstance(ml, int | float) else None
                else:
                    problems.append("/v1/models lists no model")
        except httpx.TimeoutException:
            problems.append(f"/v1/models did not answer within {timeout:g} s")
        except httpx.HTTPError as exc:
            problems.append(f"/v1/models unreachable ({type(exc).__name__})")
        except (ValueError, AttributeError):
            problems.append("/v1/models is not JSON of the OpenAI shape")
        try:
            r = await c.get(f"{url}/version", timeout=timeout)
            if r.status_code == 200:
                version = str(r.json().get("version"))
        except (httpx.HTTPError, ValueError, AttributeError):
            pass
        try:
            r = await c.get(f"{url}/health", timeout=timeout)
            if r.status_code == 404 and model_id is not None:
                healthy = True  # no health route (llama.cpp): /v1/models answering is enough
            else:
                healthy = r.status_code == 200
                if not healthy:
                    problems.append(f"/health answered HTTP {r.status_code}")
        except httpx.TimeoutException:
            problems.append(f"/health did not answer within {timeout:g} s")
        except httpx.HTTPError as exc:
            problems.append(f"/health unreachable ({type(exc).__name__})")
    finally:
        if own:
            await c.aclose()
    return ServerInfo(url, model_id, root, max_len, version, healthy, "; ".join(problems))


# markers in a model name/path → the weight-precision family they imply
_MARKERS: tuple[tuple[str, str], ...] = (
    (r"awq", "int4"), (r"gptq", "int4"), (r"w4a16", "int4"), (r"int4", "int4"),
    (r"nf4", "int4"), (r"bnb[-_]?4bit", "int4"), (r"4[-_]?bit", "int4"), (r"q4_", "int4"),
    (r"fp8", "fp8"), (r"w8a8", "int8"), (r"w8a16", "int8"), (r"int8", "int8"),
    (r"8[-_]?bit", "int8"), (r"q8_0", "int8"), (r"bf16", "16bit"), (r"fp16", "16bit"),
)  # fmt: skip


def precision_family(label: str) -> str:
    """bf16/fp16/fp32 → 16bit, fp8 → fp8, int8/w8a8/q8_0 → int8, anything 4-bit → int4."""
    lab = label.lower()
    if lab in ("bf16", "fp16", "fp32"):
        return "16bit"
    if lab == "fp8":
        return "fp8"
    if lab in ("int8", "w8a8", "q8_0"):
        return "int8"
    return "int4" if any(x in lab for x in ("4", "awq", "gptq", "nf4")) else lab


def name_families(*names: str | None) -> set[str]:
    text = " ".join(n.lower() for n in names if n)
    return {fam for pat, fam in _MARKERS if re.search(pat, text)}


def precision_warning(endpoint_name: str, precision: str, info: ServerInfo) -> str | None:
    """A warning when the served model's id/root names a precision other than the profile's."""
    found = name_families(info.model_id, info.root)
    want = precision_family(precision)
    if not found or want in found:
        return None
    said = ", ".join(sorted(found))
    return (
        f"endpoint {endpoint_name}: profile says precision {precision!r} but the served model "
        f"({info.model_id or '?'}, root {info.root or '?'}) looks like {said}; check the profile"
    )
