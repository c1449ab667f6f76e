"""Reference data: GPU specs and model shapes are complete enough for the simulator."""

from qtui.data import gpu_specs, model_shapes


def test_gpus_named_in_the_issue_are_present() -> None:
    specs = gpu_specs()
    for key in ("H100", "H200", "A100-80GB", "L40S", "L4", "A10G", "T4"):
        assert specs[key].memory_bandwidth_tb_s > 0
        assert specs[key].bf16_dense_tflops


def test_kv_bytes_per_token_llama_8b() -> None:
    # 2 (K,V) × 32 layers × 8 KV heads × 128 dims × 2 bytes = 131072 bytes = 128 KiB per token
    assert model_shapes()["llama-3.1-8b"].kv_bytes_per_token(2) == 131072
