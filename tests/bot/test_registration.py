"""Registration on /start through the real Dispatcher."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from aiogram.types import Chat, Message, Update

from engine.users.models import Permission, RiskProfile, UserStatus
from tests.harness import BotHarness, button_data, plain, register, texts


async def test_registration_in_english_creates_funded_paper_account(harness: BotHarness) -> None:
    started = await harness.send(1, "/start", language="en", username="alice_01")
    assert "Welcome to PATRIOT" in plain(texts(started)[0])
    assert "10,000.00 USDT" in plain(texts(started)[0])

    await harness.press(1, button_data(started, "rp:HIGH:reg"), language="en", username="alice_01")
    finished = await harness.press(1, "se", language="en", username="alice_01")
    assert "You are registered, alice_01" in plain(texts(finished)[-1])

    user = await harness.services.users.get_by_telegram_id(1)
    assert user is not None
    assert user.username == "alice_01"
    assert user.language == "en"
    assert user.risk_profile is RiskProfile.HIGH
    assert user.status is UserStatus.ACTIVE
    assert user.email is None
    assert user.permissions == {Permission.TRADE, Permission.VIEW_PORTFOLIO, Permission.MANAGE_ACCOUNTS}

    summary = await harness.services.portfolio.summary(user)
    assert [a.account.name for a in summary.accounts] == ["Paper"]
    assert summary.total == Decimal("10000")


async def test_registration_in_russian_replies_in_russian(harness: BotHarness) -> None:
    started = await harness.send(2, "/start", language="ru-RU", username="boris")
    assert "Добро пожаловать" in plain(texts(started)[0])
    assert "Выберите профиль риска" in plain(texts(started)[-1])

    await harness.press(2, button_data(started, "rp:LOW:reg"), language="ru", username="boris")
    finished = await harness.press(2, "se", language="ru", username="boris")
    assert "Регистрация завершена" in plain(texts(finished)[-1])
    user = await harness.services.users.get_by_telegram_id(2)
    assert user is not None and user.language == "ru"


async def test_unsupported_language_falls_back_to_english(harness: BotHarness) -> None:
    started = await harness.send(3, "/start", language="de", username="claus")
    assert "Welcome to PATRIOT" in plain(texts(started)[0])
    await register(harness, 4, language="fr", username="dora")
    user = await harness.services.users.get_by_telegram_id(4)
    assert user is not None and user.language == "en"


async def test_missing_username_is_asked_and_validated(harness: BotHarness) -> None:
    started = await harness.send(5, "/start", username=None)
    assert "Choose a username" in plain(texts(started)[-1])

    too_short = await harness.send(5, "ab", username=None)
    assert "USERNAME_INVALID" in texts(too_short)[0]
    assert "“ab”" in plain(texts(too_short)[0])

    accepted = await harness.send(5, "eve_trader", username=None)
    await harness.press(5, button_data(accepted, "rp:MEDIUM:reg"), username=None)
    await harness.press(5, "se", username=None)
    user = await harness.services.users.get_by_telegram_id(5)
    assert user is not None and user.username == "eve_trader"


async def test_invalid_telegram_username_is_replaced_by_a_chosen_one(harness: BotHarness) -> None:
    started = await harness.send(6, "/start", username="ab")
    assert "Choose a username" in plain(texts(started)[-1])


async def test_taken_username_is_refused(harness: BotHarness) -> None:
    await register(harness, 7, username="same_name")
    started = await harness.send(8, "/start", username="Same_Name")
    assert "Choose a username" in plain(texts(started)[-1])

    taken = await harness.send(8, "SAME_NAME", username="Same_Name")
    assert "USERNAME_TAKEN" in texts(taken)[0]


async def test_email_is_validated_then_stored(harness: BotHarness) -> None:
    started = await harness.send(9, "/start", username="frank")
    await harness.press(9, button_data(started, "rp:MEDIUM:reg"), username="frank")

    bad = await harness.send(9, "not-an-email", username="frank")
    assert "EMAIL_INVALID" in texts(bad)[0]
    assert await harness.services.users.get_by_telegram_id(9) is None

    await harness.send(9, "Frank@Example.COM", username="frank")
    user = await harness.services.users.get_by_telegram_id(9)
    assert user is not None and user.email == "frank@example.com"


async def test_returning_user_is_welcomed_back_not_registered_twice(harness: BotHarness) -> None:
    await register(harness, 10, username="gina")
    again = await harness.send(10, "/start", username="gina")
    assert "Welcome back, gina" in plain(texts(again)[0])

    users, total = await harness.services.admin.search_users("gina", page=0, page_size=10)
    assert total == 1
    summary = await harness.services.portfolio.summary(users[0])
    assert len(summary.accounts) == 1


async def test_command_before_registration_asks_to_start(harness: BotHarness) -> None:
    replies = await harness.send(11, "/portfolio")
    assert "Send /start" in plain(texts(replies)[0])


async def test_username_taken_during_the_flow_asks_only_for_a_new_name(harness: BotHarness) -> None:
    started = await harness.send(20, "/start", username="racer")
    await harness.press(20, button_data(started, "rp:HIGH:reg"), username="racer")
    await register(harness, 21, username="racer")  # wins the race for the name

    lost = await harness.press(20, "se", username="racer")
    assert "USERNAME_TAKEN" in texts(lost)[0]
    assert "Choose a username" in plain(texts(lost)[-1])

    done = await harness.send(20, "racer_two", username="racer")
    assert "You are registered, racer_two" in plain(texts(done)[-1])
    user = await harness.services.users.get_by_telegram_id(20)
    assert user is not None and user.risk_profile is RiskProfile.HIGH


async def test_text_in_risk_step_shows_the_buttons_again(harness: BotHarness) -> None:
    await harness.send(22, "/start", username="typer")
    again = await harness.send(22, "medium please", username="typer")
    assert "buttons" in plain(texts(again)[0])
    assert button_data(again, "rp:MEDIUM:reg")


async def test_forged_risk_profile_button_is_ignored(harness: BotHarness) -> None:
    await harness.send(23, "/start", username="forger")
    forged = await harness.press(23, "rp:GODMODE:reg", username="forger")
    assert texts(forged) == []
    assert await harness.services.users.get_by_telegram_id(23) is None


async def test_command_mid_form_leaves_the_form(harness: BotHarness) -> None:
    await register(harness, 24, username="leaver")
    await harness.press(24, "st:email", username="leaver")
    await harness.send(24, "/help", username="leaver")
    typed = texts(await harness.send(24, "🟢 Buy", username="leaver"))
    assert "Usage" in plain(typed[0])
    not_email = texts(await harness.send(24, "hello@example.com", username="leaver"))
    assert "did not understand" in plain(not_email[0])


async def test_command_in_a_caption_leaves_the_form(harness: BotHarness) -> None:
    await register(harness, 25, username="captioner")
    await harness.press(25, "st:email", username="captioner")
    photo = Message(
        message_id=900,
        date=datetime.now(UTC),
        chat=Chat(id=25, type="private"),
        from_user=harness.telegram_user(25, username="captioner"),
        caption="/help",
        photo=[],
    )
    await harness.dispatcher.feed_update(harness.bot, Update(update_id=900, message=photo))
    not_email = texts(await harness.send(25, "hello@example.com", username="captioner"))
    assert "did not understand" in plain(not_email[0])
