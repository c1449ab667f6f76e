"""The per-request record (architecture.md `request`) and its derived latencies.

Definitions follow `vllm bench serve` so qtui and the peer agree
(vllm/benchmarks/lib/endpoint_request_func.py and vllm/benchmarks/serve.py::calculate_metrics):
- a *token chunk* is an SSE event whose first choice carries non-empty `text` (completions) or
  `delta.content` (chat); the trailing usage event, `[DONE]`, chat role-only chunks and empty
  finish-only chunks (llama.cpp) are not; chunk_times holds their arrival offsets from t_send.
  (`vllm bench serve` also times vLLM's chat role chunk, sent in the same step as the first
  token, so TTFT agrees to within that step's serialisation);
- TTFT = first token chunk − send; ITL = gaps between consecutive token chunks (one value per
  gap, pooled over requests); e2e latency = last token chunk − send;
- TPOT = (e2e − TTFT) / (completion_tokens − 1), only when completion_tokens > 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any, Literal

Phase = Literal["warmup", "measure", "cooldown"]
ErrorClass = Literal["none", "connect", "timeout", "http", "malformed", "disconnect", "cancelled"]
ERROR_CLASSES: tuple[ErrorClass, ...] = (
    "connect", "timeout", "http", "malformed", "disconnect", "cancelled",
)  # fmt: skip


@dataclass(slots=True)
class RequestRecord:
    """One request as the client saw it; times are time.time() seconds, offsets in seconds."""

    endpoint: str
    request_id: str
    phase: Phase = "measure"
    level: float = 0.0
    t_send: float = 0.0
    t_first_token: float | None = None
    t_end: float = 0.0
    chunk_times: list[float] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    usage_source: Literal["server", "counted"] = "server"
    finish_reason: str | None = None
    error_class: ErrorClass = "none"
    error_detail: str = ""
    http_status: int | None = None

    @property
    def ok(self) -> bool:
        return self.error_class == "none"

    @property
    def ttft(self) -> float | None:
        return self.chunk_times[0] if self.chunk_times else None

    @property
    def e2e(self) -> float | None:
        return self.chunk_times[-1] if self.chunk_times else None

    @property
    def tpot(self) -> float | None:
        n = self.completion_tokens or 0
        if n <= 1 or not self.chunk_times:
            return None
        return (self.chunk_times[-1] - self.chunk_times[0]) / (n - 1)

    def itl(self) -> list[float]:
        c = self.chunk_times
        return [b - a for a, b in pairwise(c)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
