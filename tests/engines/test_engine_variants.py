"""Variant table and cache keys: pure, checked by hand."""

from __future__ import annotations

import pytest

from qtui.engines.variants import (
    DEFAULT_VARIANTS,
    FTYPES,
    NOMINAL_BPW,
    REFERENCE,
    variant,
    variant_filename,
    variant_key,
)


def test_default_variants_start_with_the_shipped_reference() -> None:
    assert DEFAULT_VARIANTS[0] is REFERENCE
    assert REFERENCE.precision == "q4_1" and REFERENCE.reference
    assert [v.precision for v in DEFAULT_VARIANTS] == ["q4_1", "q8_0", "q3_k_m", "q2_k"]


def test_ftypes_match_llama_h() -> None:
    # include/llama.h: Q4_1 = 3, Q8_0 = 7, Q2_K = 10, Q3_K_M = 12
    assert (FTYPES["q4_1"], FTYPES["q8_0"], FTYPES["q2_k"], FTYPES["q3_k_m"]) == (3, 7, 10, 12)


def test_candidates_have_fewer_nominal_bits_than_the_reference_except_the_control() -> None:
    bits = {v.precision: v.bits for v in DEFAULT_VARIANTS}
    assert bits["q2_k"] < bits["q3_k_m"] < bits["q4_1"] < bits["q8_0"]
    assert set(FTYPES) == set(NOMINAL_BPW)


def test_variant_lookup_is_case_insensitive_and_names_known_ones() -> None:
    assert variant("Q2_K").ftype == 10
    with pytest.raises(ValueError, match="q8_0"):
        variant("q1_x")


def test_variant_key_changes_with_source_target_and_engine() -> None:
    base = variant_key("abc", "q2_k", "0.3.36")
    assert len(base) == 16
    assert base == variant_key("abc", "q2_k", "0.3.36")
    assert base != variant_key("abd", "q2_k", "0.3.36")
    assert base != variant_key("abc", "q8_0", "0.3.36")
    assert base != variant_key("abc", "q2_k", "0.3.37")


def test_variant_filename() -> None:
    assert variant_filename("SmolLM2-135M-Instruct", "q2_k", "0123") == (
        "SmolLM2-135M-Instruct.Q2_K.0123.gguf"
    )
