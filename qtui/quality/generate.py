"""Deterministic, verifiable golden items from a seed (pure): enough of them to decide a floor.

Every item's answer is computed, never written by hand, and checked against its own checker
(``GoldenItem``) before it is returned. Tasks: multi-step arithmetic, date arithmetic, unit
conversion, extraction to JSON (checked by schema and values), classification and multiple
choice with a known answer; each tagged by task and risk.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from qtui.errors import ConfigError
from qtui.quality.golden import GoldenItem

Item = dict[str, Any]

_NAMES = ("Maria Lopez", "Chen Wei", "Amara Okafor", "Lukas Becker", "Priya Nair", "Jonas Berg",
          "Sofia Rossi", "Kenji Sato", "Fatima Zahra", "Oliver Smith", "Ines Duarte")  # fmt: skip
_CITIES = ("Lisbon", "Osaka", "Lagos", "Berlin", "Pune", "Oslo", "Turin", "Austin", "Porto")
_UNITS = (("km", "m", 1000), ("kg", "g", 1000), ("hours", "minutes", 60), ("m", "cm", 100),
          ("days", "hours", 24), ("litres", "millilitres", 1000))  # fmt: skip
_POSITIVE = ("works perfectly", "arrived early and well packed", "exceeded every expectation",
             "is fast, quiet and reliable")  # fmt: skip
_NEGATIVE = ("broke after two days", "never arrived and support ignored me",
             "is slow and keeps crashing", "was missing half the parts")  # fmt: skip
_PRODUCTS = ("kettle", "laptop", "headset", "router", "desk lamp", "backpack", "phone case")


def _arithmetic(r: random.Random, i: int) -> Item:
    a, b, c, d = r.randint(12, 99), r.randint(2, 60), r.randint(2, 9), r.randint(1, 80)
    return {
        "id": f"gen-math-{i}",
        "prompt": f"Compute ({a} + {b}) × {c} − {d}. Answer with the number only.",
        "expected": str((a + b) * c - d),
        "check": {"type": "numeric"},
        "tags": {"task": "arithmetic", "risk": "high"},
        "max_tokens": 12,
    }


def _dates(r: random.Random, i: int) -> Item:
    start = date(2024, 1, 1) + timedelta(days=r.randint(0, 700))
    days = r.randint(3, 120)
    end = start + timedelta(days=days)
    return {
        "id": f"gen-date-{i}",
        "prompt": f"What is the date {days} days after {start.isoformat()}? "
        "Answer in YYYY-MM-DD format only.",
        "expected": end.isoformat(),
        "check": {"type": "exact"},
        "tags": {"task": "date", "risk": "high"},
        "max_tokens": 12,
    }


def _units(r: random.Random, i: int) -> Item:
    big, small, factor = r.choice(_UNITS)
    qty = r.randint(2, 40) + r.choice((0, 0.5, 0.25))
    return {
        "id": f"gen-unit-{i}",
        "prompt": f"Convert {qty:g} {big} to {small}. Answer with the number only.",
        "expected": f"{qty * factor:g}",
        "check": {"type": "numeric"},
        "tags": {"task": "units", "risk": "medium"},
        "max_tokens": 12,
    }


def _extraction(r: random.Random, i: int) -> Item:
    name, city, age = r.choice(_NAMES), r.choice(_CITIES), r.randint(19, 71)
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "city": {"type": "string"},
        },
        "required": ["name", "age", "city"],
        "additionalProperties": False,
    }
    return {
        "id": f"gen-json-{i}",
        "prompt": 'Extract the person as JSON with keys "name" (string), "age" (integer) and '
        '"city" (string). Reply with JSON only.\n'
        f"Text: {name}, {age}, moved to {city} last spring.\nJSON:",
        "expected": json.dumps({"name": name, "age": age, "city": city}),
        "check": {"type": "json_schema", "schema": schema, "match": "equal"},
        "tags": {"task": "extraction", "risk": "high"},
        "max_tokens": 48,
    }


def _classification(r: random.Random, i: int) -> Item:
    label = r.choice(("positive", "negative"))
    text = r.choice(_POSITIVE if label == "positive" else _NEGATIVE)
    return {
        "id": f"gen-cls-{i}",
        "prompt": "Classify the sentiment of the review as positive or negative. Answer with "
        f"one word.\nReview: The {r.choice(_PRODUCTS)} {text}.\nSentiment:",
        "expected": label,
        "check": {"type": "normalized"},
        "tags": {"task": "classification", "risk": "low"},
        "max_tokens": 4,
    }


def _choice(r: random.Random, i: int) -> Item:
    values = r.sample(range(10, 999), 4)
    letters = "ABCD"
    right = letters[values.index(max(values))]
    options = "\n".join(f"{L}) {v}" for L, v in zip(letters, values, strict=True))
    return {
        "id": f"gen-mcq-{i}",
        "prompt": f"Which number is the largest?\n{options}\nAnswer with the letter only.\nAnswer:",
        "expected": right,
        "check": {"type": "choice", "choices": letters},
        "tags": {"task": "choice", "risk": "low"},
        "max_tokens": 4,
    }


TASKS: dict[str, Callable[[random.Random, int], Item]] = {
    "arithmetic": _arithmetic,
    "date": _dates,
    "units": _units,
    "extraction": _extraction,
    "classification": _classification,
    "choice": _choice,
}


def generate(n: int, seed: int = 0, tasks: Sequence[str] | None = None) -> list[Item]:
    """``n`` items, the tasks in turn, the same for the same (n, seed, tasks); each validated."""
    if n < 1:
        raise ConfigError(f"golden generate: n must be at least 1, got {n}")
    names = list(tasks or TASKS)
    unknown = [t for t in names if t not in TASKS]
    if unknown:
        raise ConfigError(
            f"golden generate: unknown task {unknown[0]!r} (known: {', '.join(TASKS)})"
        )
    r = random.Random(seed)
    out = []
    for i in range(n):
        item = TASKS[names[i % len(names)]](r, i + 1)
        GoldenItem.model_validate(item)  # the answer passes its own check
        out.append(item)
    return out


def to_jsonl(items: Sequence[Item]) -> str:
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
