"""The pre-trade inputs read in one hand-off equal what the separate reads return."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.services import Services
from engine.common.clock import ManualClock
from engine.risk.limits import PersonalLimits, RiskLimits
from engine.risk.models import EquityMarks, PreTradeInputs
from engine.users.models import RiskProfile
from engine.users.service import Registration

STRICT = RiskLimits(
    max_position=Decimal("0.25"),
    max_order=Decimal("0.1"),
    max_leverage=Decimal("1.5"),
    max_daily_loss=Decimal("0.03"),
    max_drawdown=Decimal("0.12"),
    max_var=Decimal("0.045"),
)


async def test_pretrade_inputs_match_reads(services: Services, clock: ManualClock) -> None:
    user, _ = await services.users.register(Registration(7, "trader7", "T", "en"))
    other, _ = await services.users.register(Registration(8, "trader8", "T", "en"))
    now = clock.now()
    marks = EquityMarks(user.id, date(2026, 1, 1), Decimal("10000.5"), Decimal("10250"), now)
    async with services.uow() as uow:
        await uow.risk.save_profile_limits(RiskProfile.LOW, STRICT, now)
        await uow.risk.save_personal_limits(user.id, PersonalLimits(max_order=Decimal("0.05")), now)
        await uow.risk.insert_marks([marks])
        await uow.commit()

    async with services.uow(read_only=True) as uow:
        together = await uow.risk.pretrade_inputs(user.id)
        separate = PreTradeInputs(
            user.id,
            await uow.accounts.list_for_user(user.id),
            await uow.risk.profile_limits(),
            await uow.risk.personal_limits(user.id),
            await uow.risk.marks(user.id),
        )
        nothing = await uow.risk.pretrade_inputs(other.id)

    assert together == separate
    assert len(together.accounts) == 1
    assert together.accounts[0].is_paper
    assert together.profile_limits == {RiskProfile.LOW: STRICT}
    assert together.personal_limits == PersonalLimits(max_order=Decimal("0.05"))
    assert together.marks == marks
    assert nothing.personal_limits is None
    assert nothing.marks is None
    assert [account.user_id for account in nothing.accounts] == [other.id]
