"""A kept read-only unit of work goes on in the task's next one and ends before anything else."""

from __future__ import annotations

import asyncio

import pytest

from bot.services import Services
from engine.users.service import Registration
from storage.uow import KeptRead


def _checked_out(services: Services) -> int:
    return services.database.read_engine.pool.checkedout()  # type: ignore[no-any-return]


async def _load(services: Services) -> None:
    with KeptRead.next_read():
        assert await services.users.get_by_telegram_id(7) is not None


async def test_next_read_continues_the_kept_one(services: Services) -> None:
    await services.users.register(Registration(7, "trader7", "T", "en"))
    async with KeptRead.scope():
        async with services.uow(read_only=True) as first:
            with KeptRead.next_read():
                pass  # only a unit of work that exits inside next_read is kept
        assert _checked_out(services) == 0

        with KeptRead.next_read():
            async with services.uow(read_only=True) as kept:
                assert await kept.users.get_by_telegram_id(7) is not None
        assert _checked_out(services) == 1  # still open after its block

        async with services.uow(read_only=True) as after:
            assert after.session is kept.session
            assert await after.users.get_by_telegram_id(7) is not None
        assert _checked_out(services) == 0
        async with services.uow(read_only=True) as fresh:
            assert fresh.session is not kept.session
    assert first.session is not kept.session


async def test_write_ends_the_kept_read_first(services: Services) -> None:
    user, _ = await services.users.register(Registration(7, "trader7", "T", "en"))
    async with KeptRead.scope():
        await _load(services)
        assert _checked_out(services) == 1
        assert await services.users.touch(user.id) is not None  # a write unit of work
        assert _checked_out(services) == 0


async def test_end_and_scope_close_it(services: Services) -> None:
    await services.users.register(Registration(7, "trader7", "T", "en"))
    async with KeptRead.scope():
        await _load(services)
        await KeptRead.end()
        assert _checked_out(services) == 0
        await _load(services)
        assert _checked_out(services) == 1
    assert _checked_out(services) == 0


async def test_other_tasks_and_errors_keep_nothing(services: Services) -> None:
    await services.users.register(Registration(7, "trader7", "T", "en"))
    async with KeptRead.scope():
        await _load(services)

        async def elsewhere() -> int:
            async with services.uow(read_only=True) as uow:
                assert await uow.users.get_by_telegram_id(7) is not None
                return _checked_out(services)

        # A task started inside the scope reads on a connection of its own, beside the kept one.
        assert await asyncio.create_task(elsewhere()) == 2
        assert _checked_out(services) == 1
        await KeptRead.end()

        with pytest.raises(LookupError), KeptRead.next_read():
            async with services.uow(read_only=True) as failed:
                assert await failed.users.get_by_telegram_id(7) is not None
                raise LookupError("read failed")
        assert _checked_out(services) == 0


async def test_nothing_kept_outside_a_scope(services: Services) -> None:
    await services.users.register(Registration(7, "trader7", "T", "en"))
    await _load(services)
    assert _checked_out(services) == 0
