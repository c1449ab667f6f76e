"""EleutherAI lm-evaluation-harness as a source of golden answers (``pip install 'qtui[lmeval]'``).

A task runs against every endpoint through the harness's OpenAI-compatible completions model
(``local-completions``); its per-item results (``log_samples``) become ``QualityRecord``s, so the
same verdicts, noise floor and session as a golden set follow. ``records_of`` is pure; the
harness is imported only when a task runs. docs/golden-set.md ("lm-evaluation-harness").
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import importlib.util
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtui.config.profile import Profile
from qtui.errors import ConfigError
from qtui.evidence.records import QualityRecord
from qtui.quality.noise import again_name
from qtui.quality.runner import QualityTarget
from qtui.quality.summary import QualitySummary, summarize

INSTALL = "pip install 'qtui[lmeval]'"
LOCAL_MODEL = "local-completions"  # the harness's model for an OpenAI-compatible /v1/completions


@dataclass(frozen=True)
class LmevalRun:
    """What `qtui bench --lmeval TASK` runs instead of the golden set."""

    task: str
    include: Path | None = None  # a directory of the user's task YAMLs
    limit: int | None = None  # at most this many documents (all when None)
    tokenizer: str | None = None  # a Hugging Face tokenizer, for log-likelihood tasks

    def prepare(self) -> None:
        """Before any request: the extra is installed and the task exists (one line if not)."""
        if not available():
            raise ConfigError(f"--lmeval needs EleutherAI lm-evaluation-harness: {INSTALL}")
        check_task(self.task, task_manager(self.include), self.include)


def available() -> bool:
    """The harness and what its API models need (``lm-eval[api]``) are installed: the extra."""
    return all(importlib.util.find_spec(m) is not None for m in ("lm_eval", "tenacity", "aiohttp"))


def _context(sample: Mapping[str, Any]) -> str:
    """The prompt the harness sent: arguments as a dict (0.4.3+) or as a list of tuples."""
    args = sample.get("arguments")
    first: Any = None
    if isinstance(args, Mapping) and args:
        first = next(iter(args.values()))
        first = first.get("arg_0") if isinstance(first, Mapping) else first
    elif isinstance(args, list | tuple) and args:
        first = args[0][0] if isinstance(args[0], list | tuple) and args[0] else args[0]
    return first if isinstance(first, str) else ""


def _response(sample: Mapping[str, Any]) -> str:
    resp = sample.get("filtered_resps")
    while isinstance(resp, list | tuple) and resp:
        resp = resp[0]
    return resp if isinstance(resp, str) else ("" if resp is None else str(resp))


def records_of(
    endpoint: str, task: str, samples: Sequence[Mapping[str, Any]], metric: str | None = None
) -> list[QualityRecord]:
    """One record per sample: passed when its pass/fail metric (``metric``, else the sample's
    first) is 1. ConfigError naming the task when that metric is not pass/fail (e.g. BLEU)."""
    out: list[QualityRecord] = []
    for s in samples:
        names = s.get("metrics") or []
        name = metric or (names[0] if names else None)
        if name is None or name not in s:
            raise ConfigError(f"lm-eval task {task}: sample {s.get('doc_id')} has no metric "
                              f"{name or '(none listed)'}")  # fmt: skip
        value = s[name]
        if isinstance(value, list | tuple):  # some metrics log (value, weight)
            value = value[0]
        if value not in (0, 1, True, False):
            raise ConfigError(f"lm-eval task {task}: metric {name} is {value!r} on sample "
                              f"{s.get('doc_id')}, not pass/fail (0 or 1)")  # fmt: skip
        passed = bool(value)
        out.append(
            QualityRecord(
                endpoint=endpoint,
                item_id=f"{task}/{s.get('doc_id')}",
                passed=passed,
                reason="ok" if passed else "wrong",
                output_text=_response(s),
                check=f"lm-eval:{name}",
                tags=[f"task:{task}", "source:lm-eval"],
                detail="" if passed else f"target {str(s.get('target'))[:120]!r}",
                t=time.time(),
            )
        )
    return out


@functools.lru_cache(maxsize=4)
def task_manager(include: Path | None) -> Any:
    """The harness's task index with ``include`` (a directory of task YAMLs) added; indexing
    thousands of task files is slow, so it is built once per directory."""
    from lm_eval.tasks import TaskManager

    if include is not None and not include.is_dir():
        raise ConfigError(f"{include}: not a directory of lm-eval task YAML files")
    return TaskManager(include_path=str(include) if include else None)


def check_task(task: str, manager: Any, include: Path | None) -> None:
    """ConfigError, one line naming the task, when the harness does not know it."""
    if task not in manager.all_tasks:
        where = f" (nor in {include})" if include else " (give --lmeval-include DIR for your own)"
        raise ConfigError(f"lm-eval task {task!r} not found in the harness's tasks{where}")


def evaluate(
    task: str,
    target: QualityTarget,
    manager: Any,
    *,
    limit: int | None = None,
    num_concurrent: int = 4,
    seed: int = 0,
    timeout_s: float = 120.0,
    tokenizer: str | None = None,
) -> list[dict[str, Any]]:
    """Run ``task`` on one endpoint through ``local-completions``; its samples (blocking).
    Without ``tokenizer`` nothing is downloaded (generation tasks); log-likelihood tasks
    (multiple choice) need one, and a server that returns prompt logprobs."""
    import lm_eval

    model_args: dict[str, Any] = {
        "model": target.model,
        "base_url": target.url_for("completions"),
        "tokenizer_backend": "huggingface" if tokenizer else None,
        "tokenized_requests": False,
        "num_concurrent": num_concurrent,
        "max_retries": 3,
        "timeout": timeout_s,
        "seed": seed,
    }
    if tokenizer:
        model_args["tokenizer"] = tokenizer
    if target.api_key:  # sent as the harness's request header; its model-args log is silenced
        model_args["header"] = {"Authorization": f"Bearer {target.api_key}"}
    try:
        with _quiet_harness():
            res = _simple_evaluate(lm_eval, task, manager, model_args, limit, seed)
    except AssertionError as exc:
        if "okenizer" not in str(exc):
            raise
        raise ConfigError(
            f"lm-eval task {task!r} scores log-likelihoods: give --lmeval-tokenizer (a Hugging "
            "Face tokenizer name or path) and endpoints that return prompt logprobs"
        ) from None
    if not res or task not in (res.get("samples") or {}):
        raise ConfigError(f"lm-eval task {task!r}: the harness returned no samples")
    return list(res["samples"][task])


@contextlib.contextmanager
def _quiet_harness() -> Iterator[None]:
    """The harness logs its model arguments at INFO (a key among them): WARNING and up only."""
    log = logging.getLogger("lm_eval")
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)


def _simple_evaluate(
    lm_eval: Any, task: str, manager: Any, model_args: dict[str, Any], limit: int | None, seed: int
) -> Any:
    return lm_eval.simple_evaluate(
        model=LOCAL_MODEL,
        model_args=model_args,
        tasks=[task],
        task_manager=manager,
        log_samples=True,
        limit=limit,
        random_seed=seed,
        numpy_random_seed=seed,
        torch_random_seed=seed,
        fewshot_random_seed=seed,
    )


async def run_profile_lmeval(
    profile: Profile,
    task: str,
    targets: Sequence[QualityTarget],
    *,
    include: Path | None = None,
    limit: int | None = None,
    tokenizer: str | None = None,
    on_record: Callable[[QualityRecord], None] | None = None,
    baseline_twice: bool = True,
) -> tuple[list[QualityRecord], QualitySummary]:
    """``task`` on every endpoint in turn (the baseline a second time last, as
    ``<baseline>~again``: the noise floor), in a thread; records and the verdicts."""
    if not available():
        raise ConfigError(f"--lmeval needs EleutherAI lm-evaluation-harness: {INSTALL}")
    manager = await asyncio.to_thread(task_manager, include)
    check_task(task, manager, include)
    tgts = list(targets)
    if baseline_twice:
        base = next(t for t in tgts if t.name == profile.baseline.name)
        tgts.append(dataclasses.replace(base, name=again_name(base.name)))
    recs: list[QualityRecord] = []
    for t in tgts:
        samples = await asyncio.to_thread(
            evaluate, task, t, manager, limit=limit, seed=profile.workload.seed,
            timeout_s=profile.load.timeout_s, tokenizer=tokenizer,
        )  # fmt: skip
        for rec in records_of(t.name, task, samples):
            recs.append(rec)
            if on_record is not None:
                on_record(rec)
    names = [e.name for e in profile.endpoints]
    return recs, summarize(recs, names, profile.baseline.name, profile.slo.quality)
