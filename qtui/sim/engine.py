"""vLLM-style continuous batching on a virtual clock (pure: no I/O, no sleeping).

The driver calls :meth:`Engine.step` repeatedly; each call schedules one engine iteration as
vLLM V1's scheduler does (running requests first, chunked prefill under a token budget, new
requests only while KV blocks last, recompute-preemption of the newest request when they run
out), prices it with the roofline in :mod:`qtui.sim.physics`, and advances ``now`` by its length.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from qtui.sim.physics import BLOCK_SIZE, Plan
from qtui.sim.stats import EngineStats


@dataclass(eq=False)
class SimRequest:
    """One request's bookkeeping; ``target_tokens`` is how many it will generate before stopping."""

    id: str
    prompt_tokens: int
    max_tokens: int
    target_tokens: int
    arrival: float = 0.0  # when the engine got it (queue time counts from here)
    received: float | None = None  # when the server got it (TTFT and e2e count from here)
    prompt_key: int = 0
    block_keys: tuple[int, ...] = ()  # chained keys of its whole prompt blocks (shared prefixes)
    computed: int = 0
    generated: int = 0
    blocks: int = 0
    scheduled_at: float | None = None
    first_token_at: float | None = None
    last_token_at: float | None = None
    prefill_tokens: int = 0
    finished: str | None = None

    @property
    def since(self) -> float:
        """Start of the client-visible latencies: receipt by the server, else engine arrival."""
        return self.arrival if self.received is None else self.received

    @property
    def seq_len(self) -> int:
        return self.prompt_tokens + self.generated


@dataclass
class StepResult:
    """What one engine iteration did, stamped with its end time on the virtual clock."""

    start: float
    end: float
    tokens: list[SimRequest] = field(default_factory=list)
    finished: list[SimRequest] = field(default_factory=list)
    preempted: list[SimRequest] = field(default_factory=list)
    new_tokens: int = 0


class Engine:
    """The scheduler and its KV-cache block pool for one simulated endpoint."""

    def __init__(self, plan: Plan, now: float = 0.0, prefix_cache_tokens: int | None = None):
        self.plan = plan
        self.now = now
        self.running: list[SimRequest] = []
        self.waiting: deque[SimRequest] = deque()
        self.free_blocks = plan.num_gpu_blocks
        self.stats = EngineStats(max_model_len=plan.max_model_len)
        self._by_id: dict[str, SimRequest] = {}
        self._prefix: OrderedDict[int, int] = OrderedDict()
        self._prefix_cap = prefix_cache_tokens or plan.kv_capacity_tokens // 2
        self._prefix_used = 0
        self._busy_marks: deque[tuple[float, float]] = deque([(now, 0.0)])
        self.last_step_s = 0.0

    # --- requests in and out -------------------------------------------------------------
    def add(self, req: SimRequest, at: float | None = None) -> None:
        """Queue a request that arrived at ``at`` (default: now); an idle engine jumps to it."""
        t = self.now if at is None else at
        if not self.has_work():
            self.now = max(self.now, t)
        req.arrival = min(t, self.now)
        self.waiting.append(req)
        self._by_id[req.id] = req
        self.stats.observe("request_params_max_tokens", req.max_tokens)
        self.stats.observe("request_params_n", 1)

    def abort(self, request_id: str) -> bool:
        """Drop a request (client went away): free its blocks, count it as aborted."""
        req = self._by_id.pop(request_id, None)
        if req is None or req.finished:
            return False
        if req in self.running:
            self.running.remove(req)
        elif req in self.waiting:
            self.waiting.remove(req)
        self._free(req)
        req.finished = "abort"
        self.stats.success["abort"] += 1
        return True

    def has_work(self) -> bool:
        return bool(self.running or self.waiting)

    @property
    def kv_usage(self) -> float:
        total = self.plan.num_gpu_blocks
        return (total - self.free_blocks) / total if total else 0.0

    def utilization(self, now: float, window: float = 1.0) -> float:
        """Busy fraction of the ``window`` seconds before ``now`` (for GPU telemetry)."""
        horizon = now - window
        busy_at_horizon = 0.0
        for t, b in self._busy_marks:
            if t > horizon:
                break
            busy_at_horizon = b
        else:
            busy_at_horizon = self.stats.busy_s
        return min(1.0, max(0.0, (self.stats.busy_s - busy_at_horizon) / window))

    # --- one iteration -------------------------------------------------------------------
    def step(self) -> StepResult | None:
        """Schedule, price and complete one iteration; None when there is nothing to do."""
        if not self.has_work():
            return None
        plan = self.plan
        budget = plan.max_num_batched_tokens
        batch: list[tuple[SimRequest, int]] = []
        preempted: list[SimRequest] = []
        i = 0
        while i < len(self.running) and budget > 0:
            req = self.running[i]
            n = min(req.seq_len - req.computed, budget)
            if not self._reserve(req, n, preempted):
                continue  # req itself was preempted; running shrank
            batch.append((req, n))
            budget -= n
            i += 1
        if not preempted:
            while self.waiting and budget > 0 and len(self.running) < plan.max_num_seqs:
                req = self.waiting[0]
                if req.computed == 0 and req.scheduled_at is None:
                    self._prefix_lookup(req)
                n = min(req.seq_len - req.computed, budget)
                need = math.ceil((req.computed + n) / BLOCK_SIZE) - req.blocks
                if need > self.free_blocks:
                    break
                self.waiting.popleft()
                self.free_blocks -= need
                req.blocks += need
                if req.scheduled_at is None:
                    req.scheduled_at = self.now
                    self.stats.observe("request_queue_time_seconds", self.now - req.arrival)
                self.running.append(req)
                batch.append((req, n))
                budget -= n
        new_tokens = sum(n for _, n in batch)
        kv_read = sum(r.computed + n for r, n in batch)
        attended = sum(n * (r.computed + n / 2) for r, n in batch)
        dt = plan.step_time(new_tokens, kv_read, attended) if batch else 0.0
        self.last_step_s = dt
        start, self.now = self.now, self.now + dt
        self.stats.busy_s += dt
        self._busy_marks.append((self.now, self.stats.busy_s))
        while len(self._busy_marks) > 2 and self._busy_marks[1][0] < self.now - 2.0:
            self._busy_marks.popleft()
        out = StepResult(start=start, end=self.now, preempted=preempted, new_tokens=new_tokens)
        if batch:
            self.stats.observe("iteration_tokens_total", new_tokens)
        for req, n in batch:
            self._advance(req, n, out)
        return out

    # --- internals -----------------------------------------------------------------------
    def _reserve(self, req: SimRequest, n: int, preempted: list[SimRequest]) -> bool:
        """Blocks for ``n`` more tokens of a running request, preempting the newest as needed."""
        need = math.ceil((req.computed + n) / BLOCK_SIZE) - req.blocks
        while need > self.free_blocks:
            victim = self.running.pop()
            self._preempt(victim)
            preempted.append(victim)
            if victim is req:
                return False
        self.free_blocks -= need
        req.blocks += need
        return True

    def _preempt(self, req: SimRequest) -> None:
        """Recompute preemption: drop the KV cache, go back to the head of the queue."""
        self._free(req)
        req.computed = 0
        self.waiting.appendleft(req)
        self.stats.preemptions += 1

    def _free(self, req: SimRequest) -> None:
        self.free_blocks += req.blocks
        req.blocks = 0

    def _prefix_lookup(self, req: SimRequest) -> None:
        """A hit skips the prefill of the cached leading blocks (never the last token)."""
        self.stats.prefix_queries += req.prompt_tokens
        if req.block_keys:  # blocks: shared as far as the prompts agree
            n = 0
            for key in req.block_keys:
                if key not in self._prefix:
                    break
                self._prefix.move_to_end(key)
                n += 1
            cached = n * BLOCK_SIZE
        else:
            cached = self._prefix.get(req.prompt_key, 0) if req.prompt_key else 0
            if cached:
                self._prefix.move_to_end(req.prompt_key)
        hit = min(cached, (req.prompt_tokens - 1) // BLOCK_SIZE * BLOCK_SIZE)
        if hit > 0:
            req.computed = hit
            self.stats.prefix_hits += hit

    def cache_blocks(self, keys: tuple[int, ...]) -> None:
        """Keep a finished sequence's whole blocks, prompt and answer (vLLM caches the blocks
        its decode filled too): a conversation's next turn resends them as its history."""
        self._store_keys(keys)
        self._evict()

    def _store_keys(self, keys: tuple[int, ...]) -> None:
        for key in keys:
            if key in self._prefix:
                self._prefix.move_to_end(key)
            else:
                self._prefix[key] = BLOCK_SIZE
                self._prefix_used += BLOCK_SIZE

    def _prefix_store(self, req: SimRequest) -> None:
        """Keep the prompt's blocks (or whole prompt), least recently used out past the cap."""
        if req.block_keys:
            self._store_keys(req.block_keys)
        elif req.prompt_key and req.prompt_key not in self._prefix:
            self._prefix[req.prompt_key] = req.prompt_tokens
            self._prefix_used += req.prompt_tokens
        self._evict()

    def _evict(self) -> None:
        while self._prefix_used > self._prefix_cap and self._prefix:
            _, size = self._prefix.popitem(last=False)
            self._prefix_used -= size

    def _advance(self, req: SimRequest, n: int, out: StepResult) -> None:
        t = self.now
        if req.generated == 0:
            req.prefill_tokens += n
        req.computed += n
        if req.computed < req.seq_len:
            return  # prefill chunk; more to come
        if req.first_token_at is None:
            self.stats.prompt_tokens += req.prompt_tokens
            self._prefix_store(req)
        req.generated += 1
        self.stats.generation_tokens += 1
        if req.first_token_at is None:
            req.first_token_at = t
            self.stats.observe("time_to_first_token_seconds", t - req.since)
        elif req.last_token_at is not None:
            self.stats.observe("inter_token_latency_seconds", t - req.last_token_at)
        req.last_token_at = t
        out.tokens.append(req)
        if req.generated >= req.target_tokens:
            self._finish(req, "length" if req.generated >= req.max_tokens else "stop", out)

    def _finish(self, req: SimRequest, reason: str, out: StepResult) -> None:
        self.running.remove(req)
        self._free(req)
        self._by_id.pop(req.id, None)
        req.finished = reason
        s = self.stats
        s.success[reason] += 1
        first = req.first_token_at if req.first_token_at is not None else self.now
        sched = req.scheduled_at if req.scheduled_at is not None else req.arrival
        s.observe("e2e_request_latency_seconds", self.now - req.since)
        s.observe("request_inference_time_seconds", self.now - sched)
        s.observe("request_prefill_time_seconds", first - sched)
        s.observe("request_decode_time_seconds", self.now - first)
        s.observe("request_prompt_tokens", req.prompt_tokens)
        s.observe("request_generation_tokens", req.generated)
        s.observe("request_max_num_generation_tokens", req.max_tokens)
        s.observe("request_prefill_kv_computed_tokens", req.prefill_tokens)
        if req.generated > 1:
            tpot = (self.now - first) / (req.generated - 1)
            s.observe("request_time_per_output_token_seconds", tpot)
        out.finished.append(req)
