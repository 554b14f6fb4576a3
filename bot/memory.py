"""Give memory back to the operating system after a job that built many objects at once.

CPython frees the objects of a large job, such as the risk scan over every user, but
the C allocator keeps the freed pages mapped in the process. ``malloc_trim`` asks
glibc to return them; where the C library has no such call, nothing happens.
``gc_paused`` keeps the garbage collector out of large imports at start-up.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import cache, wraps
from typing import Any

logger = logging.getLogger(__name__)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None  # not glibc (musl, macOS)


def release_memory() -> None:
    """Collect garbage, then return the allocator's free pages to the operating system."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def releasing_memory(job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    """Wrap a scheduled job so the memory it freed goes back to the system when it ends."""

    @wraps(job)
    async def run() -> Any:
        try:
            return await job()
        finally:
            release_memory()

    return run


@contextmanager
def gc_paused() -> Iterator[None]:
    """Suspend the cyclic garbage collector inside the block, for imports whose objects all stay alive.

    Collections during a large import traverse the new objects again and again
    and find almost no garbage. The collector's earlier state is restored after
    the block.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
