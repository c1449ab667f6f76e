"""Simulated answer quality on a golden set: right, or a deterministic fraction wrong (pure).

An item is answered wrong when u(item id, seed) < quality_error_rate, with u uniform in [0, 1).
The same u is used by every endpoint, so the items a 6 % endpoint misses are also missed by a
10.7 % one: harder items fail first, as they tend to with real quantization. The demo's rates
come from published recovery per precision (``RECOVERY``, ``grounded_error_rate``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtui.errors import ConfigError
from qtui.sim.text import stable_hash

# Published accuracy recovery (quantized ÷ BF16) for Llama-3.1-8B-Instruct, the demo's model:
# Kurtic et al., "Give Me BF16 or Give Me Death", arXiv 2411.02355 (FP8 W8A8 lossless, INT8
# W8A8 within 1–3 %, INT4 weight-only a few points), and the model cards built from it (OpenLLM
# v1 average: FP8 73.44 vs 73.79; W8A8 INT8 within 1.3 % on each task; W4A16 67.57 vs 69.32).
# INT4 is taken at the harder end of "a few points" (95 %). docs/simulator.md cites them.
RECOVERY: dict[str, float] = {"bf16": 1.0, "fp16": 1.0, "fp8": 0.995, "int8": 0.985, "int4": 0.95}
BASELINE_ERROR = 0.06  # the simulated BF16 misses 6 % of the demo set: an 8B model is not perfect


def grounded_error_rate(weights: str, baseline_error: float = BASELINE_ERROR) -> float:
    """The simulated fraction answered wrong at ``weights``: 1 − (1 − baseline error) × recovery
    (rounded to 4 places, as the demo profile writes it)."""
    return round(1 - (1 - baseline_error) * RECOVERY[weights], 4)


_LABELS = (
    "positive",
    "negative",
    "neutral",
    "yes",
    "no",
    "politics",
    "sports",
    "business",
    "science",
    "spam",
    "ham",
    "unknown",
)
_NUM = re.compile(r"-?\d[\d,]*\.?\d*")


@dataclass(frozen=True, slots=True)
class GoldenAnswer:
    """What the golden set says about one prompt."""

    id: str
    expected: str
    check: dict[str, Any]


def load_golden(path: Path) -> dict[str, GoldenAnswer]:
    """Prompt text (or last user message) → answer; only the fields the simulator needs."""
    out: dict[str, GoldenAnswer] = {}
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read golden set ({exc})") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            key = item.get("prompt")
            if key is None:
                users = [m["content"] for m in item["messages"] if m.get("role") == "user"]
                key = users[-1]
            out[key.strip()] = GoldenAnswer(str(item["id"]), str(item["expected"]), item["check"])
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise ConfigError(f"{path}:{n}: not a golden item ({exc})") from None
    return out


def is_wrong(item_id: str, seed: int, error_rate: float) -> bool:
    """Deterministic and nested across error rates (see module docstring)."""
    u = (stable_hash("quality", item_id, seed) % 1_000_000) / 1_000_000
    return u < error_rate


def self_flipped(item_id: str, endpoint: str, seed: int, asked: int, rate: float) -> bool:
    """This ask's answer is reworded: independent per endpoint and per ask (the n-th time the
    item is asked), as batch-dependent numerics flip greedy outputs between runs."""
    key = f"self-flip|{item_id}|{endpoint}|{seed}|{asked}".encode()
    u = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2**64
    return u < rate  # blake2b: asks differing in their last digit are independent (FNV is not)


def reworded(ans: GoldenAnswer) -> str | None:
    """The right answer worded otherwise, still passing the item's check and no longer (a flip
    that is no error): another capitalisation for case-blind checks, another JSON layout; None
    where this cannot be done safely (exact, regex, numeric, choice)."""
    kind = ans.check.get("type")
    exp = ans.expected.strip()
    if kind == "normalized" or (kind == "contains" and not ans.check.get("case_sensitive")):
        other = exp.capitalize() if exp != exp.capitalize() else exp.lower()
        return other if other != exp else None  # same length: it fits the item's max_tokens
    if kind == "json_schema":
        try:
            obj = json.loads(exp)
        except ValueError:
            return None
        tight = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
        return tight if tight != exp else json.dumps(obj, ensure_ascii=False)
    return None


def wrong_answer(ans: GoldenAnswer) -> str:
    """A plausible answer that fails the item's check."""
    kind = ans.check.get("type")
    exp = ans.expected.strip()
    h = stable_hash("wrong", ans.id)
    if kind == "numeric":
        m = _NUM.search(exp)
        if m:
            value = float(m.group().replace(",", "") or 0)
            tol = float(ans.check.get("tolerance", 0)) + abs(value) * float(
                ans.check.get("rel_tolerance", 0)
            )
            delta = max(1.0, abs(value) * 0.1, 2 * tol + 1)
            wrong = value + delta if h % 2 else value - delta
            return f"{wrong:g}" if "." in m.group() else str(round(wrong))
    if kind == "choice":
        letters = str(ans.check.get("choices", "ABCDE"))
        first = next((c for c in exp if c in letters), letters[0])
        return letters[(letters.index(first) + 1 + h % (len(letters) - 1)) % len(letters)]
    if kind == "json_schema":
        try:
            obj = json.loads(exp)
        except ValueError:
            return exp[: len(exp) // 2]
        if h % 3 == 0 or not isinstance(obj, dict) or not obj:
            return exp[:-1]  # truncated JSON: a schema failure
        key = sorted(obj)[h % len(obj)]
        val = obj[key]
        if isinstance(val, bool):
            obj[key] = not val
        elif isinstance(val, int | float):
            obj[key] = val + 1
        elif isinstance(val, str):
            obj[key] = val[::-1] if len(val) > 1 else val + "x"
        else:
            obj.pop(key)
        return json.dumps(obj)
    if kind == "regex":
        pattern = str(ans.check.get("pattern", ""))
        flags = re.IGNORECASE if ans.check.get("ignore_case") else 0
        for cand in (
            re.sub(r"\d", lambda d: str((int(d.group()) + 1) % 10), exp),
            exp.replace("@", " at ").replace(".", " "),
            "I could not find it.",
        ):
            if not re.search(pattern, cand, flags):
                return cand
    norm = exp.lower().strip(" .")
    if " " not in norm:
        options = [w for w in _LABELS if w != norm]
        return options[h % len(options)]
    return "I am not sure."
