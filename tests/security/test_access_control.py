"""Access control: every callback factory and every command, driven by an attacker.

The attacker presses buttons that carry the victim's ids, stale actions,
malformed, garbage and over-long payloads, and types every registered command
with the victim's ids and with garbage. Each one must be answered, cleanly,
without an ERROR log, without changing any row of the database, and with the
same reply as for an id that does not exist. A new CallbackData class fails
``test_every_callback_factory_has_attacks`` until it gets attacks here.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_services, close_services, start_services
from bot.commands import Audience, commands
from bot.services import Services
from engine.common.clock import ManualClock
from engine.users.models import UserStatus
from tests.conftest import ADMIN_ID, START
from tests.harness import BotHarness, plain, register
from tests.security.support import (
    ATTACKER,
    Victim,
    answers,
    assert_replied_cleanly,
    build_victim,
    callback_classes,
    changed_tables,
    error_records,
    quiet_settings,
    reply_texts,
    snapshot,
)

# Payload templates per factory; {name} is a field of Victim.
ATTACKS: dict[str, list[str]] = {
    "AccountAction": [
        f"ac:{action}:{{account}}"
        for action in ("open", "rename", "off", "on", "default", "check", "remove", "remove_yes", "zap")
    ],
    "AccountsView": ["av:EVIL:on", "av:ALL:<b>", "av:PAPER:maybe"],
    "AlertAction": ["al:sev:EVIL", "al:sev:", "al:nonsense:x", "al:report_time:{account}"],
    "AuditPage": ["aa:0", "aa:-5", "aa:99999999999999999999999999"],
    "BracketAction": [f"bk:{action}:{{bracket}}" for action in ("d", "c", "cy", "zz")],
    "BracketDraftAction": [
        "bd:ok:{bracket_draft}",
        "bd:no:{bracket_draft}",
        "bd:zz:{bracket_draft}",
        "bd:ok:{draft}",
    ],
    "BracketFormChoice": ["bf:account:{account}", "bf:side:SIDEWAYS", "bf:entry:evil", "bf:exits:EVIL"],
    "CancelAll": ["ca:<script>:1", "ca:BTCUSDT:2", "ca:{account}:1"],
    "DraftAction": [
        "od:ok:{draft}",
        "od:no:{draft}",
        "od:zz:{draft}",
        "od:ok:{filled_order}",
        "od:ok:{bracket_draft}",
    ],
    "LanguageChoice": ["lg:xx", "lg:<b>en</b>", "lg:"],
    "LinkExchangeChoice": ["lx:BINANCE", "lx:PAPER", "lx:{account}"],
    "LinkStep": ["lk:real", "lk:testnet", "lk:retry", "lk:rekey", "lk:default_name", "lk:zap"],
    "OrderAction": [
        f"oa:{action}:{{{order}}}"
        for action in ("d", "m", "c", "mp", "mq", "ms", "zz")
        for order in ("filled_order", "open_order")
    ],
    "OrderFormChoice": ["of:account:{account}", "of:side:SIDEWAYS", "of:type:ICEBERG", "of:tif:DAY"],
    "OrdersPage": [
        "ol:0:open:::{account8}::",
        "ol:999999999999999999999999:open:::::",
        "ol:-3:all:::::",
        "ol:0:evil:UP:EVIL/USDT::20261399:20260231",
        "ol:0:all::BTCUSDT::٢٠٢٦٠١٠١:",
    ],
    "PinAction": ["pn:change", "pn:remove", "pn:evil"],
    "RebalanceAction": ["rb:ok:{plan}", "rb:no:{plan}", "rb:zz:{plan}"],
    "RiskLimitAction": ["rl:edit:evil", "rl:edit:", "rl:zap:max_position"],
    "RiskProfileChoice": ["rp:EVIL:set", "rp:HIGH:evil", "rp:HIGH:reg"],
    "SettingsAction": ["st:evil", "st:"],
    "SkipEmail": ["se"],
    "TwapCancel": ["tc:{twap}", "tc:{draft}"],
    "TwapSetup": ["tw:{draft}:0:0", "tw:{draft}:2:0", "tw:{draft}:2:3600", "tw:{draft}:-1:-1"],
    "TwapStart": ["ts:{draft}:2:3600", "ts:{draft}:99999999999999999999:1"],
    "UserStatusAction": ["us:suspend:{telegram_id}", "us:activate:{telegram_id}", "us:delete:{telegram_id}"],
    "UsersPage": ["au:0:", "au:999999999999999999999:victim", "au:0:<script>"],
}
# Every factory also gets these: stale, malformed and over-long forms of its own prefix.
GENERIC = [
    "{prefix}",
    "{prefix}:",
    "{prefix}:::::::::::",
    "{prefix}:" + "A" * 5000,
    "{prefix}:\u202e\u200b%00'--",
]
VICTIM_FIELDS = ("account", "draft", "filled_order", "open_order", "twap", "plan", "bracket", "bracket_draft")


@pytest.fixture
async def world(tmp_path: Path, migrated_database: Path) -> AsyncIterator[tuple[BotHarness, Victim]]:
    """A victim with one thing of each kind, and a registered attacker; rate limits out of the way."""
    import shutil

    shutil.copy(migrated_database, tmp_path / "test.db")
    settings = quiet_settings(tmp_path)
    services = build_services(settings, clock=ManualClock(START))
    services.i18n.set_current(services.i18n)
    await start_services(services)
    harness = BotHarness(services)
    try:
        victim = await build_victim(harness)
        await register(harness, ATTACKER, username="mallory")
        yield harness, victim
    finally:
        await harness.close()
        await close_services(services)


def fill(template: str, victim: Victim, prefix: str = "") -> str:
    values = {field: getattr(victim, field) for field in VICTIM_FIELDS}
    values["account8"] = victim.account[:8]
    values["telegram_id"] = str(victim.telegram_id)
    values["prefix"] = prefix
    return template.format(**values)


def twin(payload: str, victim: Victim) -> str:
    """The same payload with every victim id replaced by an id that exists nowhere."""
    for field in VICTIM_FIELDS:
        value = getattr(victim, field)
        payload = payload.replace(value, uuid.uuid4().hex).replace(value[:8], uuid.uuid4().hex[:8])
    telegram_id = re.escape(str(victim.telegram_id))
    return re.sub(rf"(?<![0-9A-Za-z]){telegram_id}(?![0-9A-Za-z])", "987654321", payload)


def normalized(requests: list, payload: str) -> list[str]:  # type: ignore[type-arg]
    """Replies with ids (hex runs and long numbers) blanked, to compare a victim's id with a made-up one."""
    shown = [plain(text) for text in reply_texts(requests)] + [a.text or "" for a in answers(requests)]
    return [re.sub(r"[0-9a-f]{8,}|\d{6,}", "ID", text) for text in shown]


def test_every_callback_factory_has_attacks() -> None:
    names = {cls.__name__ for cls in callback_classes()}
    assert names - set(ATTACKS) == set(), "add attacks for these callback factories"
    assert set(ATTACKS) - names == set(), "these factories no longer exist"


async def test_forged_callbacks_change_nothing_and_reveal_nothing(
    world: tuple[BotHarness, Victim], caplog: pytest.LogCaptureFixture
) -> None:
    harness, victim = world
    caplog.set_level(logging.INFO)
    before = snapshot(harness.services)
    payloads = [fill(template, victim) for templates in ATTACKS.values() for template in templates]
    payloads += [fill(template, victim, cls.__prefix__) for cls in callback_classes() for template in GENERIC]

    for payload in payloads:
        pressed = await harness.press(ATTACKER, payload, username="mallory")
        assert answers(pressed), f"{payload[:60]!r} was not answered"
        assert_replied_cleanly(pressed, payload[:60])
        assert changed_tables(before, snapshot(harness.services)) == [], payload[:60]
        if twin(payload, victim) != payload:
            made_up = await harness.press(ATTACKER, twin(payload, victim), username="mallory")
            assert normalized(pressed, payload) == normalized(made_up, payload), payload[:60]
    assert error_records(caplog.records) == []


ID_ARGUMENTS = ["{filled_order}", "{open_order}", "{open_order8}", "{account}", "{telegram_id}", "@victim301"]
GARBAGE_ARGUMENTS = [
    "<b>x</b> &amp; 'OR 1=1--",
    "\u202e\u200b\u2066",
    "9" * 40,
    "x" * 4500,
    "all " + "a" * 50,
]


async def test_every_command_with_victim_ids_and_garbage(
    world: tuple[BotHarness, Victim], caplog: pytest.LogCaptureFixture
) -> None:
    harness, victim = world
    caplog.set_level(logging.INFO)
    before = snapshot(harness.services)
    values = {field: getattr(victim, field) for field in VICTIM_FIELDS}
    values |= {"open_order8": victim.open_order[:8], "telegram_id": str(victim.telegram_id)}

    for spec in commands():
        for argument in ID_ARGUMENTS + GARBAGE_ARGUMENTS:
            text = f"/{spec.name} {argument.format(**values)}"
            sent = await harness.send(ATTACKER, text, username="mallory")
            assert_replied_cleanly(sent, text[:60])
            if spec.audience is Audience.ADMIN:
                assert [plain(t) for t in reply_texts(sent)] == [
                    "Unknown command. /help lists what I can do."
                ]
            assert changed_tables(before, snapshot(harness.services)) == [], text[:60]
            await harness.send(ATTACKER, "/cancel", username="mallory")  # leave any conversation it opened
    assert error_records(caplog.records) == []


@pytest.mark.parametrize("status", [UserStatus.SUSPENDED, UserStatus.CLOSED])
async def test_blocked_user_is_refused_everywhere(
    world: tuple[BotHarness, Victim], status: UserStatus, caplog: pytest.LogCaptureFixture
) -> None:
    harness, victim = world
    services: Services = harness.services
    await services.admin.set_status(ADMIN_ID, victim.telegram_id, status, "test")
    before = snapshot(harness.services)
    caplog.set_level(logging.INFO)

    for spec in commands(Audience.USER):
        sent = await harness.send(victim.telegram_id, f"/{spec.name}")
        assert len(reply_texts(sent)) == 1, spec.name
        assert "⛔" in reply_texts(sent)[0], spec.name
    for cls in callback_classes():
        for template in ATTACKS[cls.__name__][:1]:
            pressed = await harness.press(victim.telegram_id, fill(template, victim))
            popups = [answer.text or "" for answer in answers(pressed)]
            assert len(popups) == 1, cls.__name__
            assert "⛔" in popups[0], cls.__name__
            assert reply_texts(pressed) == [], cls.__name__
    assert changed_tables(before, snapshot(harness.services)) == []
    assert error_records(caplog.records) == []


async def _order_form_at(harness: BotHarness, step: str) -> None:
    """Walk the attacker's guided /order to ``step`` (symbol, side, type, quantity or tif)."""
    path = {
        "symbol": [],
        "side": ["of:symbol:BTCUSDT"],
        "type": ["of:symbol:BTCUSDT", "of:side:BUY"],
        "quantity": ["of:symbol:BTCUSDT", "of:side:BUY", "of:type:LIMIT"],
        "tif": ["of:symbol:BTCUSDT", "of:side:BUY", "of:type:LIMIT"],
    }[step]
    await harness.send(ATTACKER, "/order", username="mallory")
    for data in path:
        await harness.press(ATTACKER, data, username="mallory")
    if step == "tif":
        await harness.send(ATTACKER, "0.001", username="mallory")
        await harness.send(ATTACKER, "40000", username="mallory")


@pytest.mark.parametrize(
    ("step", "payloads"),
    [
        ("symbol", ["of:symbol:EVILUSDT", "of:symbol:" + "A" * 3000, "of:symbol:<b>"]),
        ("side", ["of:side:SIDEWAYS", "of:side:", "of:side:buy'--"]),
        ("type", ["of:type:ICEBERG", "of:type:", "of:type:MARKET\u202e"]),
        ("quantity", ["of:quantity:-1", "of:quantity:1e309", "of:quantity:NaN", "of:quantity:999%"]),
        ("tif", ["of:tif:DAY", "of:tif:", "of:tif:POSTX"]),
    ],
)
async def test_forged_order_form_choices_are_refused_in_their_step(
    world: tuple[BotHarness, Victim], step: str, payloads: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    harness, victim = world
    caplog.set_level(logging.INFO)
    for payload in [*payloads, f"of:account:{victim.account}", f"of:{step}:{victim.account}"]:
        await _order_form_at(harness, step)
        before = snapshot(harness.services)
        pressed = await harness.press(ATTACKER, payload, username="mallory")
        assert answers(pressed), payload[:60]
        assert_replied_cleanly(pressed, payload[:60])
        assert changed_tables(before, snapshot(harness.services)) == [], payload[:60]
    assert error_records(caplog.records) == []
