"""/settings and /language."""

from __future__ import annotations

from engine.users.models import RiskProfile
from tests.harness import BotHarness, button_data, plain, register, texts

USER = 55


async def test_language_switch_changes_replies_and_menu(harness: BotHarness) -> None:
    await register(harness, USER)
    menu = await harness.send(USER, "/language")
    switched = await harness.press(USER, button_data(menu, "lg:ru"))
    assert "Русский" in plain(texts(switched)[-1])
    help_text = plain(texts(await harness.send(USER, "/help"))[0])
    assert "Команды" in help_text


async def test_risk_profile_change(harness: BotHarness) -> None:
    await register(harness, USER)
    settings = await harness.send(USER, "/settings")
    choices = await harness.press(USER, button_data(settings, "st:risk"))
    await harness.press(USER, button_data(choices, "rp:ULTRA_HIGH:set"))
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None and user.risk_profile is RiskProfile.ULTRA_HIGH


async def test_email_change_validates_and_cancel_keeps_old(harness: BotHarness) -> None:
    await register(harness, USER)
    await harness.press(USER, "st:email")
    bad = texts(await harness.send(USER, "nope"))
    assert "EMAIL_INVALID" in bad[0]
    await harness.send(USER, "/cancel")
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None and user.email is None

    await harness.press(USER, "st:email")
    await harness.send(USER, "me@example.org")
    await harness.press(USER, "st:email_clear")
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None and user.email is None


async def test_time_zone_is_validated_and_used(harness: BotHarness) -> None:
    await register(harness, USER)
    await harness.press(USER, "st:timezone")
    assert "TIMEZONE_INVALID" in texts(await harness.send(USER, "Mars/Olympus"))[0]
    saved = texts(await harness.send(USER, "europe/moscow"))
    assert "Europe/Moscow" in plain(saved[0])
    portfolio = plain(texts(await harness.send(USER, "/portfolio"))[0])
    assert "03:00 (Europe/Moscow)" in portfolio
