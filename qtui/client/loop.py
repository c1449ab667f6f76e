"""The event loop the load client runs on: uvloop's where it is installed, else asyncio's.

uvloop reads sockets and waits on epoll in C; measured with the same client, same server, same
run, it cuts the CPU per streamed chunk (benchmarks/results/load-cpu.md). It is optional: every
result is the same on asyncio's own loop, only dearer.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
ENV = "QTUI_LOOP"  # "asyncio" forces the stdlib loop (to compare, or to rule uvloop out)


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's new_event_loop when it is installed and not ruled out, else None (asyncio's)."""
    if os.environ.get(ENV, "").lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def loop_name() -> str:
    return "asyncio" if loop_factory() is None else "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on the load client's loop."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
