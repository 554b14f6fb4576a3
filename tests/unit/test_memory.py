"""The scheduled-job wrapper that returns freed memory to the operating system."""

from __future__ import annotations

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
