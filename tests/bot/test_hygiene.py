"""HTML escaping, long replies, unexpected errors and the command menu."""

from __future__ import annotations

import logging
from html.parser import HTMLParser

import pytest
from aiogram.methods import SendMessage, SetMyCommands
from aiogram.types import BotCommandScopeChat

from bot.commands import publish_commands
from bot.formatting import TELEGRAM_TEXT_LIMIT, split_message
from bot.handlers.user import portfolio
from tests.conftest import ADMIN_ID
from tests.harness import BotHarness, button_data, plain, register, texts

# Tags Telegram's HTML parse mode accepts and that PATRIOT uses.
ALLOWED_TAGS = {"b", "i", "code", "pre", "u", "s", "a", "tg-spoiler", "blockquote"}


class TelegramHtmlChecker(HTMLParser):
    """Fails on any tag Telegram would reject, which is how an unescaped '<' shows up."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bad_tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.bad_tags.append(tag)


def assert_valid_telegram_html(text: str) -> None:
    checker = TelegramHtmlChecker()
    checker.feed(text)
    assert checker.bad_tags == [], text


async def test_hostile_first_name_and_username_are_escaped(harness: BotHarness) -> None:
    await register(harness, 31, username="a_b")
    harness.session.clear()
    await harness.send(ADMIN_ID, "/user @a_b", username="boss")
    await harness.send(31, "/settings", username="a_b")
    await harness.send(31, "/start", username="a_b", first_name="abdo <")
    for text in texts(harness.session.requests):
        assert_valid_telegram_html(text)
    assert any("@a_b" in plain(text) for text in texts(harness.session.requests))


async def test_hostile_input_is_escaped_in_error_replies(harness: BotHarness) -> None:
    await register(harness, 32, username="eve")
    for attack in ("/buy <script>x</script> 1", "/buy BTCUSDT <b>1</b>", "/users <i>", "/buy BTCUSDT 1&amp;"):
        for text in texts(await harness.send(32, attack, username="eve")):
            assert_valid_telegram_html(text)


async def test_hostile_email_is_escaped(harness: BotHarness) -> None:
    started = await harness.send(33, "/start", username="zed")
    await harness.press(33, button_data(started, "rp:MEDIUM"), username="zed")
    for text in texts(await harness.send(33, "<a href='x'>@evil.com", username="zed")):
        assert_valid_telegram_html(text)


def test_reply_over_4096_chars_is_split() -> None:
    text = "<b>Report</b>\n" + "\n".join(f"<code>line {i}</code> &amp; more" for i in range(500))
    parts = split_message(text)
    assert len(parts) > 1
    for part in parts:
        assert len(part) <= TELEGRAM_TEXT_LIMIT
        assert_valid_telegram_html(part)
        assert part.count("<code>") == part.count("</code>")
    assert plain("".join(parts)).count("line ") == 500


def test_single_long_line_is_split_without_cutting_tags_or_entities() -> None:
    text = "<b>" + "word &amp; " * 1000 + "</b>"
    parts = split_message(text)
    assert len(parts) >= 3
    for part in parts:
        assert len(part) <= TELEGRAM_TEXT_LIMIT
        assert part.startswith("<b>") and part.endswith("</b>")
        assert "&amp" not in part.replace("&amp;", "")


async def test_long_portfolio_is_sent_in_parts(harness: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    await register(harness, 34)
    monkeypatch.setattr(portfolio, "portfolio_text", lambda summary, user: "x" * 9000)
    sent = [r for r in await harness.send(34, "/portfolio") if isinstance(r, SendMessage)]
    assert [len(r.text) for r in sent] == [4096, 4096, 808]


async def test_unexpected_error_replies_with_incident_id_in_log(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await register(harness, 35)

    async def explode(user: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(harness.services.portfolio, "summary", explode)
    with caplog.at_level(logging.ERROR):
        reply = texts(await harness.send(35, "/portfolio"))[0]
    incident = plain(reply).split("Incident ")[1].split(":")[0]
    assert len(incident) == 8
    records = [r for r in caplog.records if incident in r.getMessage()]
    assert records and records[0].exc_info is not None
    assert "database on fire" not in reply

    monkeypatch.undo()
    assert "Portfolio" in plain(texts(await harness.send(35, "/portfolio"))[0])


async def test_commands_are_published_per_language_and_for_admins(harness: BotHarness) -> None:
    await publish_commands(harness.bot, harness.services.i18n, [ADMIN_ID])
    calls = [r for r in harness.session.requests if isinstance(r, SetMyCommands)]
    by_scope = {(type(c.scope).__name__, c.language_code): [cmd.command for cmd in c.commands] for c in calls}

    assert "buy" in by_scope[("BotCommandScopeDefault", "en")]
    assert "suspend" not in by_scope[("BotCommandScopeDefault", "ru")]
    assert "suspend" in by_scope[("BotCommandScopeChat", "en")]
    ru_default = next(
        c for c in calls if c.language_code == "ru" and not isinstance(c.scope, BotCommandScopeChat)
    )
    en_default = next(
        c for c in calls if c.language_code == "en" and not isinstance(c.scope, BotCommandScopeChat)
    )
    assert ru_default.commands[1].description != en_default.commands[1].description


EXPECTED_MENU = [
    "🟢 Buy",
    "🔴 Sell",
    "📝 Order",
    "📋 Orders",
    "💼 Portfolio",
    "📈 Positions",
    "📊 Performance",
    "🛡 Risk",
    "🏦 Accounts",
    "🔔 Alerts",
    "⚙️ Settings",
    "❓ Help",
]


async def test_help_and_menu_come_from_one_registry(harness: BotHarness) -> None:
    await register(harness, 36)
    help_text = plain(texts(await harness.send(36, "/help"))[0])
    menu = next(r for r in await harness.send(36, "/menu") if isinstance(r, SendMessage)).reply_markup
    labels = [button.text for row in menu.keyboard for button in row]
    assert labels == EXPECTED_MENU
    for command in (
        "/buy",
        "/sell",
        "/order",
        "/orders",
        "/cancel",
        "/portfolio",
        "/positions",
        "/alerts",
        "/accounts",
        "/link",
        "/settings",
        "/help",
    ):
        assert command in help_text

    pressed = texts(await harness.send(36, "💼 Portfolio"))
    assert "Portfolio" in plain(pressed[0])
    ru_label = texts(await harness.send(36, "💼 Портфель"))
    assert "Portfolio" in plain(ru_label[0])
