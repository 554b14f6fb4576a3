"""The risk inputs read in one hand-off equal what the separate reads return."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.services import Services
from engine.common.clock import ManualClock
from engine.risk.limits import PersonalLimits, RiskLimits
from engine.risk.models import EquityMarks
from engine.users.models import RiskProfile
from engine.users.service import Registration


async def test_limits_and_marks_match_reads(services: Services, clock: ManualClock) -> None:
    user, _ = await services.users.register(Registration(7, "trader7", "T", "en"))
    other, _ = await services.users.register(Registration(8, "trader8", "T", "en"))
    now = clock.now()
    strict = RiskLimits(
        max_position=Decimal("0.25"),
        max_order=Decimal("0.1"),
        max_leverage=Decimal("1.5"),
        max_daily_loss=Decimal("0.03"),
        max_drawdown=Decimal("0.12"),
        max_var=Decimal("0.045"),
    )
    async with services.uow() as uow:
        await uow.risk.save_profile_limits(RiskProfile.LOW, strict, now)
        await uow.risk.save_personal_limits(user.id, PersonalLimits(max_order=Decimal("0.05")), now)
        await uow.risk.insert_marks(
            [EquityMarks(user.id, date(2026, 1, 1), Decimal("10000.5"), Decimal("10250"), now)]
        )
        await uow.commit()

    async with services.uow(read_only=True) as uow:
        together = await uow.risk.limits_and_marks(user.id)
        profiles = await uow.risk.profile_limits()
        separate = (profiles, await uow.risk.personal_limits(user.id), await uow.risk.marks(user.id))
        nothing = await uow.risk.limits_and_marks(other.id)

    assert together == separate
    assert together[0] == {RiskProfile.LOW: strict}
    assert together[1] == PersonalLimits(max_order=Decimal("0.05"))
    assert together[2] == EquityMarks(user.id, date(2026, 1, 1), Decimal("10000.5"), Decimal("10250"), now)
    assert nothing == ({RiskProfile.LOW: strict}, None, None)
