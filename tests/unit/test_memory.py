"""The scheduled-job wrapper that returns freed memory to the operating system, and SQLite's limit."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from bot import memory


async def test_wrapped_job_returns_its_result_and_releases(monkeypatch: pytest.MonkeyPatch) -> None:
    released: list[bool] = []
    monkeypatch.setattr(memory, "release_memory", lambda: released.append(True))

    async def job() -> int:
        return 7

    assert await memory.releasing_memory(job)() == 7
    assert released == [True]


async def test_failing_job_still_releases(monkeypatch: pytest.MonkeyPatch) -> None:
    released: list[bool] = []
    monkeypatch.setattr(memory, "release_memory", lambda: released.append(True))

    async def job() -> None:
        raise RuntimeError("scan failed")

    with pytest.raises(RuntimeError):
        await memory.releasing_memory(job)()
    assert released == [True]


def test_release_collects_then_trims(monkeypatch: pytest.MonkeyPatch) -> None:
    steps: list[str] = []
    monkeypatch.setattr(memory.gc, "collect", lambda: steps.append("collect"))
    monkeypatch.setattr(memory, "_malloc_trim", lambda: lambda pad: steps.append(f"trim {pad}"))

    memory.release_memory()

    assert steps == ["collect", "trim 0"]


def soft_heap_limit() -> int:
    with closing(sqlite3.connect(":memory:")) as connection:
        value: int = connection.execute("PRAGMA soft_heap_limit").fetchone()[0]
        return value


def test_sqlite_limit_holds_for_connections_opened_later() -> None:
    before = soft_heap_limit()
    try:
        memory.limit_sqlite_memory(3 * 2**20)
        assert soft_heap_limit() == 3 * 2**20
    finally:
        memory.limit_sqlite_memory(before)  # the limit is process-wide: leave other tests as they were
    assert soft_heap_limit() == before


def test_arena_cap_is_set_through_glibc() -> None:
    # A generous cap, so this test process keeps the arenas it may need.
    assert memory.limit_malloc_arenas(64) is True


def test_arena_cap_without_glibc_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory.ctypes.util, "find_library", lambda name: None)

    assert memory.limit_malloc_arenas() is False
