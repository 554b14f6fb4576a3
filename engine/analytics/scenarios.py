"""Stress scenarios that admins add with /scenarios; every change is audited.

A scenario is written as ``NAME ASSET=SHOCK ...`` where each shock is a
percentage (``BTC=-30`` or ``BTC=-30%``) between -100 (exclusive) and +1000,
and ``*=SHOCK`` sets the move of every held asset the scenario does not name.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal, InvalidOperation

from engine.admin.service import AdminService
from engine.analytics.scenario_models import StoredScenario
from engine.common.clock import Clock
from engine.common.ids import new_id
from engine.common.money import to_canonical
from engine.errors import ValidationError
from engine.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)

MAX_SCENARIOS = 20
MIN_SHOCK, MAX_SHOCK = Decimal(-100), Decimal(1000)
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_ASSET = re.compile(r"^(\*|[A-Za-z0-9]{1,20})$")
_PERCENT = re.compile(r"^[+-]?[0-9]{1,4}(\.[0-9]{1,4})?%?$")
HUNDRED = Decimal(100)


def parse_scenario(name: str, terms: list[str]) -> tuple[dict[str, Decimal], Decimal | None]:
    """Parse ``ASSET=PERCENT`` terms into fractions by asset and the ``*`` fraction.

    Raises ValidationError SCENARIO_NAME_INVALID, SCENARIO_EMPTY or
    SCENARIO_SHOCK_INVALID naming the term at fault.
    """
    if not _NAME.match(name):
        raise ValidationError("SCENARIO_NAME_INVALID", value=name)
    if not terms:
        raise ValidationError("SCENARIO_EMPTY")
    shocks: dict[str, Decimal] = {}
    others = None
    for term in terms:
        asset, _, text = term.partition("=")
        percent = _percent(text)
        if not _ASSET.match(asset) or percent is None or not MIN_SHOCK < percent <= MAX_SHOCK:
            raise ValidationError("SCENARIO_SHOCK_INVALID", value=term, minimum=MIN_SHOCK, maximum=MAX_SHOCK)
        if asset == "*":
            others = percent / HUNDRED
        else:
            shocks[asset.upper()] = percent / HUNDRED
    return shocks, others


def _percent(text: str) -> Decimal | None:
    if not _PERCENT.match(text):
        return None
    try:
        return Decimal(text.rstrip("%"))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        return None


class ScenarioService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, admin: AdminService) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._admin = admin

    async def list(self) -> list[StoredScenario]:
        async with self._uow(read_only=True) as uow:
            return await uow.analytics.list_scenarios()

    async def add(self, actor_telegram_id: int, name: str, terms: list[str]) -> StoredScenario:
        """Store a new scenario; raises SCENARIO_EXISTS or SCENARIO_LIMIT besides the parse errors."""
        shocks, others = parse_scenario(name, terms)
        scenario = StoredScenario(
            id=new_id(),
            name=name,
            created_by=actor_telegram_id,
            created_at=self._clock.now(),
            shocks=shocks,
            others=others,
        )
        async with self._uow() as uow:
            if await uow.analytics.get_scenario(name) is not None:
                raise ValidationError("SCENARIO_EXISTS", value=name)
            if len(await uow.analytics.list_scenarios()) >= MAX_SCENARIOS:
                raise ValidationError("SCENARIO_LIMIT", maximum=MAX_SCENARIOS)
            await uow.analytics.add_scenario(scenario)
            await uow.commit()
        described = " ".join(f"{asset}={to_canonical(shock)}" for asset, shock in sorted(shocks.items()))
        if others is not None:
            described += f" *={to_canonical(others)}"
        await self._admin.record(
            actor_telegram_id, "analytics.scenario.add", name=name, shocks=described.strip()
        )
        logger.info("Admin %s added stress scenario %s: %s", actor_telegram_id, name, described)
        return scenario

    async def remove(self, actor_telegram_id: int, name: str) -> None:
        """Delete a scenario by name; raises SCENARIO_NOT_FOUND when there is none."""
        async with self._uow() as uow:
            if not await uow.analytics.delete_scenario(name):
                raise ValidationError("SCENARIO_NOT_FOUND", value=name)
            await uow.commit()
        await self._admin.record(actor_telegram_id, "analytics.scenario.delete", name=name)
        logger.info("Admin %s deleted stress scenario %s", actor_telegram_id, name)
