"""Reason codes stored on an order or a bracket are explained without the fields of the error.

An order or a bracket keeps only the code of the error that stopped it
(``reject_reason``, ``fallback_reason``). Codes whose explanation names the
error's values (PRICE_STEP, COST_BELOW_MIN, ...) reach these views too, for
example when the ccxt gateway's own checks refuse an OCO leg.
"""

from __future__ import annotations

import pytest

from bot.error_texts import _EXPLAINERS, explain_reason
from bot.views.orders import reason_text
from tests.harness import BotHarness


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_every_stored_code_is_explained(harness: BotHarness, locale: str) -> None:
    with harness.services.i18n.context(), harness.services.i18n.use_locale(locale):
        for code in sorted(_EXPLAINERS):
            assert explain_reason(code, locale), code
            assert reason_text(code), code


async def test_code_needing_fields_is_named(harness: BotHarness) -> None:
    with harness.services.i18n.context(), harness.services.i18n.use_locale("en"):
        assert explain_reason("COST_BELOW_MIN", "en") == "COST_BELOW_MIN"
        assert explain_reason("PRICE_STEP<b>", "en") == "PRICE_STEP&lt;b&gt;"
