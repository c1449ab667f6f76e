"""Which llama.cpp quantizations to build, and the cache keys that name them (pure)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# llama.cpp `enum llama_ftype` values (include/llama.h); stable across releases.
FTYPES: dict[str, int] = {
    "f32": 0,  # ALL_F32: the source's weights dequantized exactly (a same-weights control)
    "q4_0": 2,
    "q4_1": 3,
    "q8_0": 7,
    "q5_0": 8,
    "q5_1": 9,
    "q2_k": 10,
    "q3_k_s": 11,
    "q3_k_m": 12,
    "q3_k_l": 13,
    "q4_k_s": 14,
    "q4_k_m": 15,
    "q5_k_s": 16,
    "q5_k_m": 17,
    "q6_k": 18,
}

# Nominal bits per weight of each quantization's main tensors (llama.cpp's quantize table).
NOMINAL_BPW: dict[str, float] = {
    "q2_k": 2.63,
    "q3_k_s": 3.41,
    "q3_k_m": 3.89,
    "q3_k_l": 4.27,
    "q4_0": 4.50,
    "q4_k_s": 4.58,
    "q4_k_m": 4.89,
    "q4_1": 5.00,
    "q5_0": 5.50,
    "q5_k_s": 5.54,
    "q5_k_m": 5.70,
    "q5_1": 6.00,
    "q6_k": 6.56,
    "q8_0": 8.50,
    "f32": 32.0,
}


@dataclass(frozen=True)
class Variant:
    """One quantization of the source model, served as one endpoint."""

    precision: str  # the profile's precision label, e.g. "q2_k"
    reference: bool = False  # the source file itself, not re-quantized

    @property
    def ftype(self) -> int:
        return FTYPES[self.precision]

    @property
    def bits(self) -> float:
        return NOMINAL_BPW[self.precision]


REFERENCE = Variant("q4_1", reference=True)
# Q4_1 is what SmolLM2's package ships; going "up" restores no precision, so Q8_0 re-encodes the
# reference almost losslessly (a control: agreement ~1) and Q3_K_M / Q2_K are the real candidates.
DEFAULT_VARIANTS: tuple[Variant, ...] = (
    REFERENCE,
    Variant("q8_0"),
    Variant("q3_k_m"),
    Variant("q2_k"),
)


# The reference's own weights in F32 (Q4_1 dequantizes exactly): what changes is only llama.cpp's
# kernel (Q4_1's matmul rounds activations to 8 bits, F32's does not). Its flips against the
# reference are the floor any re-encoding (Q8_0 included) is measured against.
SAME_WEIGHTS = Variant("f32")


def variant(precision: str) -> Variant:
    """The Variant for a precision label; unknown labels name the known ones."""
    key = precision.lower()
    if key not in FTYPES:
        known = ", ".join(FTYPES)
        raise ValueError(f"unknown llama.cpp quantization {precision!r}; known: {known}")
    return Variant(key)


def variant_key(source_sha256: str, precision: str, engine_version: str) -> str:
    """Cache key of a quantized file: changes when the source, target or quantizer changes."""
    text = f"{source_sha256}:{precision}:{engine_version}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def variant_filename(stem: str, precision: str, key: str) -> str:
    """File name of a quantized variant inside the model cache."""
    return f"{stem}.{precision.upper()}.{key}.gguf"
