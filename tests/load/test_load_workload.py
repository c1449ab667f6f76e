from pathlib import Path

import numpy as np
import pytest

from qtui.config.profile import LengthDist, Workload
from qtui.errors import ConfigError
from qtui.load.tokens import TokenPool
from qtui.load.workload import (
    JsonlWorkload,
    SyntheticWorkload,
    make_source,
    sample_length,
    sample_lengths,
)


def test_length_laws() -> None:
    rng = np.random.default_rng(0)
    assert set(sample_lengths(LengthDist(mean=7), rng, 50)) == {7}
    u = sample_lengths(LengthDist(mean=100, dist="uniform", spread=0.2), rng, 2000)
    assert u.min() >= 80 and u.max() <= 120 and abs(u.mean() - 100) < 2
    n = sample_lengths(LengthDist(mean=5, dist="normal", spread=50), rng, 500)
    assert n.min() >= 1


@pytest.mark.parametrize(
    "d",
    [
        LengthDist(mean=7),
        LengthDist(mean=7, dist="uniform", spread=0.0),
        LengthDist(mean=100, dist="uniform", spread=0.2),
        LengthDist(mean=5, dist="normal", spread=50),
    ],
)
def test_one_length_is_the_same_draw_as_an_array_of_one(d: LengthDist) -> None:
    """The per-request fast path (no numpy for a fixed length) changes no prompt: the same
    values, and the generator left in the same state."""
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    assert [sample_length(d, a) for _ in range(200)] == [
        int(sample_lengths(d, b, 1)[0]) for _ in range(200)
    ]
    assert a.random() == b.random()


def test_token_ids_are_drawn_as_one_step_per_token_would() -> None:
    pool = TokenPool(tuple(range(1000, 1300, 3)))
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    for n in (0, 1, 57, 300):
        picks = b.integers(len(pool.ids), size=n)
        assert pool.sample(a, n) == tuple(pool.ids[int(i)] for i in picks)
    assert pool == TokenPool(tuple(range(1000, 1300, 3)))  # the cached array is not compared


def test_synthetic_prompts_are_seeded_and_fit_the_model() -> None:
    w = Workload(input_tokens=LengthDist(mean=3000), output_tokens=LengthDist(mean=2000))
    a, b = SyntheticWorkload(w, max_model_len=2048), SyntheticWorkload(w, max_model_len=2048)
    pa = a.next()
    assert pa == b.next() and pa.fixed_output
    assert pa.max_tokens == 1024 and pa.input_tokens + pa.max_tokens <= 2048
    assert len(pa.text.split()) == pa.input_tokens - 1


def test_each_run_draws_new_words_for_the_seeds_lengths() -> None:
    w = Workload(input_tokens=LengthDist(mean=40, dist="uniform", spread=0.5), seed=9)
    pool = TokenPool(tuple(range(100, 400)))
    for p in (None, pool):
        a, b = SyntheticWorkload(w, pool=p, run=1), SyntheticWorkload(w, pool=p, run=2)
        pa, pb = [a.next() for _ in range(30)], [b.next() for _ in range(30)]
        assert [x.input_tokens for x in pa] == [x.input_tokens for x in pb]
        assert [x.max_tokens for x in pa] == [x.max_tokens for x in pb]
        pairs = zip(pa, pb, strict=True)
        assert all(x.text != y.text or x.token_ids != y.token_ids for x, y in pairs)
        again = SyntheticWorkload(w, pool=p, run=1)
        assert [again.next() for _ in range(30)] == pa  # one run's prompts are its seed's


def test_jsonl_prompts_and_bad_line(tmp_path: Path) -> None:
    f = tmp_path / "p.jsonl"
    f.write_text('{"prompt": "hi", "max_tokens": 3}\n\n{"prompt": "yo"}\n')
    src = JsonlWorkload(f, Workload())
    assert [src.next().text for _ in range(3)] == ["hi", "yo", "hi"]
    f.write_text('{"prompt": "hi"}\n{"text": 1}\n')
    with pytest.raises(ConfigError, match=r"p\.jsonl:2"):
        JsonlWorkload(f, Workload())


def test_golden_workload_needs_a_golden_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="golden_set"):
        make_source(Workload(kind="golden"), tmp_path)
    with pytest.raises(ConfigError, match="prompts_file"):
        make_source(Workload(kind="jsonl"), tmp_path)


def test_shared_prefixes_are_k_texts_shared_by_every_endpoint() -> None:
    w = Workload(input_tokens=LengthDist(mean=6), prefix_count=3, prefix_tokens=10, seed=4)
    a = SyntheticWorkload(w, salt=0)
    prompts = [a.next() for _ in range(60)]
    heads = [p.text.split("\n")[0] for p in prompts]
    assert len(set(heads)) == 3 and all(len(h.split()) == 10 for h in heads)
    tails = [p.text.split("\n")[1] for p in prompts]
    assert len(set(tails)) == 60  # the suffix is unique per request
    assert all(p.input_tokens == 16 for p in prompts)
    other = {SyntheticWorkload(w, salt=1).next().text.split("\n")[0] for _ in range(1)}
    assert other <= set(heads)  # another endpoint draws from the same pool
    fitted = SyntheticWorkload(w.model_copy(update={"input_tokens": LengthDist(mean=900)}), 256)
    p = fitted.next()
    assert p.input_tokens + p.max_tokens <= 256 and p.text.startswith("System ")


def test_shared_prefixes_off_by_default() -> None:
    p = SyntheticWorkload(Workload(input_tokens=LengthDist(mean=8))).next()
    assert "\n" not in p.text and p.input_tokens == 8
