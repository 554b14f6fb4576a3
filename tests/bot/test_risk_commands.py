"""Risk limits, alerts, rate limits and broadcasts through the real Dispatcher."""

from __future__ import annotations

from decimal import Decimal

from aiogram.methods import AnswerCallbackQuery, SendMessage

from engine.risk.limits import DEFAULT_LIMITS, LimitName
from engine.users.models import RiskProfile
from tests.conftest import ADMIN_ID
from tests.harness import BotHarness, button_data, buttons, plain, register, texts

USER = 61


async def admin(harness: BotHarness, command: str) -> list[str]:
    return [plain(text) for text in texts(await harness.send(ADMIN_ID, command, username="boss"))]


async def order_count(harness: BotHarness) -> int:
    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    async with harness.services.uow(read_only=True) as uow:
        return (await uow.orders.list_for_user(user.id))[1]


async def test_card_shows_risk_figures(harness: BotHarness) -> None:
    await register(harness, USER)
    card = plain(texts(await harness.send(USER, "/buy BTCUSDT 0.01"))[0])
    assert "✅ balance" in card
    assert "✅ order size: 4.35 % (limit 10.00 %)" in card  # 0.01 × 43472.87 of 10000 equity
    assert "✅ leverage after: 0.04× (limit 3×)" in card
    assert "✅ VaR 95 % (24 h) after:" in card


async def test_order_over_max_order_is_denied_with_what_would_pass(harness: BotHarness) -> None:
    await register(harness, USER)
    reply = texts(await harness.send(USER, "/buy BTCUSDT 0.03"))
    assert len(reply) == 1
    assert "POSITION_SIZE_LIMIT_EXCEEDED" in reply[0]
    text = plain(reply[0])
    assert "max order limit would be broken: this order brings it to 13.04 %, the limit is 10.00 %" in text
    assert "largest quantity that would pass: 0.023 BTC" in text
    assert await order_count(harness) == 0


async def test_admin_changes_profile_limits_and_it_is_audited(harness: BotHarness) -> None:
    table = (await admin(harness, "/limits"))[0]
    assert "max_position    10.00 %  20.00 %  35.00 %  50.00 %" in table
    assert "max_leverage    1×       3×       10×      20×" in table

    changed = (await admin(harness, "/limits medium max_order=0.05 leverage=5"))[0]
    assert "max_order: 10.00 % → 5.00 %" in changed
    assert "max_leverage: 3× → 5×" in changed
    limits = await harness.services.risk.profile_limits()
    assert limits[RiskProfile.MEDIUM].max_order == Decimal("0.05")

    entries, _ = await harness.services.admin.recent_audit(page=0, page_size=5)
    change = next(entry for entry in entries if entry.action == "risk.limits.change")
    assert change.details == {"profile": "MEDIUM", "max_order": "0.1 -> 0.05", "max_leverage": "3 -> 5"}

    await register(harness, USER)
    denied = plain(texts(await harness.send(USER, "/buy BTCUSDT 0.02"))[0])
    assert "the limit is 5.00 %" in denied


async def test_bad_limit_changes_change_nothing(harness: BotHarness) -> None:
    assert "LIMIT_UNKNOWN" in (await admin(harness, "/limits LOW max_fun=1"))[0]
    assert "LIMIT_OUT_OF_RANGE" in (await admin(harness, "/limits LOW max_order=1.5"))[0]
    assert "LIMIT_OUT_OF_RANGE" in (await admin(harness, "/limits LOW leverage=0"))[0]
    assert "INVALID_NUMBER" in (await admin(harness, "/limits LOW max_order=abc"))[0]
    assert "not a risk profile" in (await admin(harness, "/limits EXTREME"))[0]
    assert "LIMIT=VALUE" in (await admin(harness, "/limits LOW max_order"))[0]
    assert await harness.services.risk.profile_limits() == DEFAULT_LIMITS
    entries, _ = await harness.services.admin.recent_audit(page=0, page_size=20)
    assert not [entry for entry in entries if entry.action == "risk.limits.change"]


async def test_user_tightens_but_cannot_loosen(harness: BotHarness) -> None:
    await register(harness, USER)
    page = await harness.press(USER, "st:limits")
    edit = button_data(page, "rl:edit:max_order")
    await harness.press(USER, edit)
    saved = plain(texts(await harness.send(USER, "3%"))[0])
    assert "max order is now 3.00 %" in saved

    await harness.press(USER, edit)
    looser = texts(await harness.send(USER, "0.5"))[0]
    assert "LIMIT_ABOVE_PROFILE" in looser and "at most 10.00 %" in plain(looser)

    user = await harness.services.users.get_by_telegram_id(USER)
    assert user is not None
    limits = await harness.services.risk.user_limits(user)
    assert limits.effective.get(LimitName.MAX_ORDER) == Decimal("0.03")
    denied = plain(texts(await harness.send(USER, "/buy BTCUSDT 0.01"))[0])
    assert "the limit is 3.00 %" in denied

    await harness.press(USER, "rl:reset:")
    assert (await harness.services.risk.user_limits(user)).personal.is_empty


async def test_alerts_keyboard_per_language_and_settings(harness: BotHarness) -> None:
    # The keyboard is shared between updates; each reader still gets their language and settings.
    await register(harness, USER)
    await register(harness, USER + 1, language="ru", username="trader_ru")
    english = buttons(await harness.send(USER, "/alerts"))
    russian = buttons(await harness.send(USER + 1, "/alerts"))
    assert "🌙 Quiet hours" in english
    assert "🌙 Тихие часы" in russian
    assert "✓ 🟡" in english

    await harness.press(USER, english["✓ 🟡"])
    again = buttons(await harness.send(USER, "/alerts"))
    other = buttons(await harness.send(USER + 1, "/alerts"))
    assert "✗ 🟡" in again
    assert "✓ 🟡" not in again
    assert "✓ 🟡" in other


async def test_alerts_page_and_settings(harness: BotHarness) -> None:
    await register(harness, USER)
    page = await harness.send(USER, "/alerts")
    text = plain(texts(page)[0])
    assert "None: everything is within your limits." in text
    assert "CRITICAL alerts are always delivered, also during quiet hours." in text

    toggled = await harness.press(USER, button_data(page, "al:sev:LOW"))
    assert "✗ 🟡" in str(toggled[-1])
    refused = [r for r in await harness.press(USER, "al:sev:CRITICAL") if isinstance(r, AnswerCallbackQuery)]
    assert "always delivered" in (refused[0].text or "")

    await harness.press(USER, "al:quiet:")
    assert "QUIET_HOURS_INVALID" in texts(await harness.send(USER, "late"))[0]
    quiet = plain(texts(await harness.send(USER, "23:00-06:30"))[0])
    assert "Quiet hours: 23:00–06:30 (UTC)." in quiet

    await harness.press(USER, "al:report_time:")
    assert "REPORT_TIME_INVALID" in texts(await harness.send(USER, "25:00"))[0]
    report = plain(texts(await harness.send(USER, "21:15"))[0])
    assert "Daily P&L report: every day at 21:15 (UTC)." in report


async def test_general_rate_limit_answers_with_the_wait(harness: BotHarness) -> None:
    await register(harness, USER)  # /start plus two button presses
    replies = []
    for _ in range(60):
        replies.extend(texts(await harness.send(USER, "/help")))
    limited = [plain(text) for text in replies if "Too many requests" in plain(text)]
    assert len(limited) == 1, "the first refused update is explained, the rest are dropped quietly"
    assert "Try again in" in limited[0]

    for _ in range(70):
        assert texts(await harness.send(ADMIN_ID, "/admin", username="boss")), "admins are exempt"


async def test_broadcast_reaches_active_users_and_reports_the_count(harness: BotHarness) -> None:
    await register(harness, USER)
    await register(harness, USER + 1, username="other", language="ru")
    await register(harness, USER + 2, username="third")
    await admin(harness, f"/suspend {USER + 2}")

    requests = await harness.send(ADMIN_ID, "/broadcast Maintenance <tonight>", username="boss")
    sent = {r.chat_id: r.text for r in requests if isinstance(r, SendMessage)}
    assert "Maintenance &lt;tonight&gt;" in sent[USER] and "Announcement" in sent[USER]
    assert "Объявление" in sent[USER + 1]
    assert USER + 2 not in sent
    assert "queued for 2 users" in plain(sent[ADMIN_ID])

    assert await harness.services.broadcaster.report_progress() == 1
    await harness.delivery.drain()
    final = [r for r in harness.session.requests if isinstance(r, SendMessage) and r.chat_id == ADMIN_ID]
    assert "finished: 2 sent, 0 failed, 0 skipped of 2" in plain(final[-1].text)
    assert await harness.services.broadcaster.report_progress() == 0

    stats = "\n".join(await admin(harness, "/stats"))
    assert "Notifications" in stats and "Waiting: 0" in stats


async def test_blocked_user_is_reachable_again_after_writing(harness: BotHarness) -> None:
    await register(harness, USER)
    await harness.services.reachability.mark_unreachable(USER, "Forbidden: bot was blocked by the user")
    await harness.services.notifier.send(USER, "while blocked")
    assert await harness.delivery.drain() == 0
    assert harness.services.reachability.is_unreachable(USER)

    replies = await harness.send(USER, "/help")
    assert not harness.services.reachability.is_unreachable(USER)
    async with harness.services.uow(read_only=True) as uow:
        assert USER not in await uow.outbox.unreachable_chats()
    sent = [r.text for r in replies if isinstance(r, SendMessage)]
    assert "while blocked" not in sent, "a push queued while blocked is skipped, not sent late"
