"""Give memory back to the operating system after a job that built many objects at once.

CPython frees the objects of a large job, such as the risk scan over every user, but
the C allocator keeps the freed pages mapped in the process. ``malloc_trim`` asks
glibc to return them; where the C library has no such call, nothing happens.
``gc_paused`` keeps the garbage collector out of large imports at start-up, and
``limit_sqlite_memory`` bounds what SQLite's page caches hold.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing, contextmanager
from functools import cache, wraps
from typing import Any

logger = logging.getLogger(__name__)

# SQLite gives each connection a page cache of about 2 MB, and the bot keeps several
# pooled connections, each filled from its own aiosqlite thread. After a risk scan over
# 10,000 users, the heaps of 6 such threads had grown by about 15 MiB in all, mostly
# with cached pages the idle bot never reads again. Past this process-wide soft limit a
# connection reuses its oldest pages instead of allocating more, and nothing fails. With
# 2 MiB the scan took the same CPU time (bench/risk_scan.py, one run each way): the
# pages it reads again come from the operating system's cache.
SQLITE_SOFT_HEAP_BYTES = 2 * 2**20


# glibc gives each thread that allocates its own heap ("arena"), up to 8 per core, and
# memory freed in one arena cannot serve another. The aiosqlite connection threads each
# grew one. With a single arena `patriot run` (10,000 users, aiosqlite) was about 4 MiB
# lower after start-up and after a risk scan, in one run each way. The cost is contention
# for the arena's lock, expected to be small because those threads mostly wait on SQLite
# (not measured).
MALLOC_ARENAS = 1
_M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas; return False where the C library has no ``mallopt`` (not glibc).

    Call it before the process starts threads: glibc fixes the cap when a second
    thread first allocates.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


def limit_sqlite_memory(limit: int = SQLITE_SOFT_HEAP_BYTES) -> None:
    """Set SQLite's soft heap limit, which holds for every connection of the process."""
    with closing(sqlite3.connect(":memory:")) as connection:
        connection.execute(f"PRAGMA soft_heap_limit={int(limit)}")


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
