"""Hold GPU memory and burn energy through the CUDA driver API (ctypes), no torch needed.

Used to verify telemetry against nvidia-smi on a real GPU (tests/gpu, benchmarks/gpu).
"""

from __future__ import annotations

import ctypes
import time
from types import TracebackType


class CudaError(RuntimeError):
    """A CUDA driver call failed (or libcuda.so.1 is missing)."""


class CudaHold:
    """``nbytes`` of device memory held in this process until ``close()``."""

    def __init__(self, nbytes: int, device: int = 0) -> None:
        try:
            self._cu = ctypes.CDLL("libcuda.so.1")
        except OSError as exc:
            raise CudaError(f"libcuda.so.1 not loadable: {exc}") from exc
        self.nbytes = nbytes
        self._check(self._cu.cuInit(0), "cuInit")
        dev = ctypes.c_int()
        self._check(self._cu.cuDeviceGet(ctypes.byref(dev), device), "cuDeviceGet")
        self._dev = dev
        self._ctx = ctypes.c_void_p()
        self._check(
            self._cu.cuDevicePrimaryCtxRetain(ctypes.byref(self._ctx), dev),
            "cuDevicePrimaryCtxRetain",
        )
        self._check(self._cu.cuCtxSetCurrent(self._ctx), "cuCtxSetCurrent")
        self._ptr = ctypes.c_uint64()
        self._check(
            self._cu.cuMemAlloc_v2(ctypes.byref(self._ptr), ctypes.c_size_t(nbytes)), "cuMemAlloc"
        )
        self.load(0.0)  # touch the memory so it is resident

    def _check(self, rc: int, what: str) -> None:
        if rc != 0:
            raise CudaError(f"{what} failed with CUDA error {rc}")

    def load(self, seconds: float) -> int:
        """Memset the whole buffer over and over for ``seconds`` (memory-bound load); passes run."""
        passes = 0
        end = time.monotonic() + seconds
        while True:
            self._check(
                self._cu.cuMemsetD8_v2(
                    self._ptr, ctypes.c_ubyte(passes & 0xFF), ctypes.c_size_t(self.nbytes)
                ),
                "cuMemsetD8",
            )
            self._check(self._cu.cuCtxSynchronize(), "cuCtxSynchronize")
            passes += 1
            if time.monotonic() >= end:
                return passes

    def close(self) -> None:
        if self._ptr.value:
            self._cu.cuMemFree_v2(self._ptr)
            self._ptr = ctypes.c_uint64()
            self._cu.cuDevicePrimaryCtxRelease(self._dev)

    def __enter__(self) -> CudaHold:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
