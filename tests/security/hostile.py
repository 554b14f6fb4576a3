"""Hostile text and the conversation steps it is typed into, for the hostile-input suites.

``CORPUS`` holds hand-picked strings; ``hostile_text`` generates more with
hypothesis from the same ingredients. ``STEPS`` lists every conversation
step that reads typed text: how to reach it, the FSM state it waits in, and
an oracle that says which texts the step accepts (and may store).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hypothesis import strategies as st

from bot.handlers.user.risk_limits import parse_user_value
from engine.accounts.validation import validate_account_name
from engine.common.money import parse_positive_decimal
from engine.errors import PatriotError
from engine.risk.limits import LimitName
from engine.risk.service import parse_clock_time
from engine.security.pin import read_pin
from engine.users.validation import validate_email, validate_timezone
from tests.bot.linking import KEYS
from tests.harness import BotHarness

CORPUS = [
    "",
    " ",
    "\n\n\t",
    "A" * 5000,
    "9" * 5000,
    "Привет, мир",
    "🚀" * 200,
    "\u202eevil\u202c",
    "\u200fRTL\u200e mark",
    "zero\u200bwidth\u200c\u200d\ufeff",
    "\u2066isolate",
    "e\u0301" * 60,
    "<b>bold</b>",
    "<script>alert(1)</script>",
    "<a href='javascript:x'>x</a>",
    "&amp; &lt; & <",
    "*bold* _it_ `code` [link](http://127.0.0.1)",
    "'; DROP TABLE users; --",
    "1 OR 1=1",
    '" OR ""="',
    "1e309",
    "NaN",
    "-0",
    "0.1+0.2",
    "10^30",
    "1" + "0" * 30,
    "0." + "0" * 99 + "1",
    "１２３４",
    "٣١٤١",
    "Infinity",
    "-1",
    "0",
    "0x1F",
    "1_000",
    "1,5",
    "%s%s%n{0}{user}",
    "../../etc/passwd",
    "\x00\x01\x7f",
    "null",
    "ǅǈǋ ﬁ ℌ",
]

# One string of each family, for the default suite; the slow suite types the whole corpus.
SHORT_CORPUS = [
    CORPUS[index]
    for index in (0, 2, 3, 5, 6, 7, 9, 11, 13, 15, 16, 17, 20, 21, 22, 23, 24, 26, 27, 28, 33, 34, 37, 39)
]

# Ingredients of generated text: each family the corpus has one example of.
_PIECES = st.sampled_from(
    [
        "<",
        ">",
        "&",
        "</b>",
        "<b>",
        "\u202e",
        "\u200b",
        "\ufeff",
        "'",
        '"',
        ";",
        "--",
        "e",
        "E",
        "+",
        "-",
        ".",
        ",",
        "%",
        "/",
        "１",
        "٣",
        "0",
        "1",
        "9",
        "inf",
        "nan",
        " ",
        "\n",
        "_",
        "*",
        "`",
        "\\",
    ]
)
hostile_text = st.one_of(
    st.lists(_PIECES, max_size=30).map("".join),
    st.text(max_size=80),
    st.from_regex(r"-?[0-9]{0,40}(\.[0-9]{0,120})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    st.builds(lambda n: "7" * n, st.integers(4097, 6000)),
)


def _never(text: str) -> bool:
    return False


def _accepts(check: Callable[[str], object]) -> Callable[[str], bool]:
    def accepted(text: str) -> bool:
        try:
            check(text)
        except PatriotError:
            return False
        return True

    return accepted


def _clock_time(text: str) -> object:
    return parse_clock_time(text, code="X", original=text)


def _positive_decimal(text: str) -> object:
    return parse_positive_decimal(text, field="price")


def _slippage(text: str) -> object:
    return parse_positive_decimal(text.strip().removesuffix("%").strip(), field="max_slippage")


def _limit_value(text: str) -> object:
    return parse_user_value(LimitName.MAX_POSITION, text)


def _pin(text: str) -> object:
    return read_pin(text)


def _quiet_hours(text: str) -> bool:
    import re

    if text.strip().lower() in ("off", "выкл", "нет"):
        return True
    parts = re.split(r"\s*[-–—]\s*", text.strip())
    return len(parts) == 2 and all(_accepts(_clock_time)(part) for part in parts) and parts[0] != parts[1]


Enter = Callable[[BotHarness, int], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    """A conversation step that reads typed text."""

    name: str
    state: str  # the FSM state the step waits in
    enter: Enter
    accepts: Callable[[str], bool] = _never
    registered: bool = True
    # Steps that always delete what was typed, because it may be a secret.
    deletes: bool = False
    # A user of its own, for a step that leaves lasting settings (a PIN) behind.
    own_user: bool = False


async def _press(harness: BotHarness, user: int, *data: str) -> None:
    for item in data:
        await harness.press(user, item)


async def _send(harness: BotHarness, user: int, *texts: str) -> None:
    for text in texts:
        await harness.send(user, text)


def _presses(*data: str) -> Enter:
    return lambda harness, user: _press(harness, user, *data)


def _sends(*texts: str) -> Enter:
    return lambda harness, user: _send(harness, user, *texts)


async def _start_anonymous(harness: BotHarness, user: int) -> None:
    await harness.send(user, "/start", username=None)


async def _registration_email(harness: BotHarness, user: int) -> None:
    await harness.send(user, "/start", username=None)
    await harness.send(user, f"hostile{user}", username=None)
    await harness.press(user, "rp:MEDIUM:reg", username=None)


async def _modify(harness: BotHarness, user: int) -> None:
    harness_user = await harness.services.users.get_by_telegram_id(user)
    assert harness_user is not None
    orders = await harness.services.orders.changes.open_orders(harness_user)
    if not orders:
        card = await harness.send(user, "/buy BTCUSDT 0.001 40000")
        from tests.harness import button_data

        await harness.press(user, button_data(card, "od:ok:"))
        orders = await harness.services.orders.changes.open_orders(harness_user)
    await harness.press(user, f"oa:mp:{orders[0].id.hex}")


async def _rename(harness: BotHarness, user: int) -> None:
    account = await harness.services.users.get_by_telegram_id(user)
    assert account is not None
    paper = (await harness.services.accounts.list_accounts(account))[0]
    await harness.press(user, f"ac:rename:{paper.id.hex}")


async def _order_form(harness: BotHarness, user: int, *presses: str, texts: tuple[str, ...] = ()) -> None:
    await harness.send(user, "/order")
    await _press(harness, user, *presses)
    await _send(harness, user, *texts)


async def _bracket_form(harness: BotHarness, user: int, texts: tuple[str, ...] = ()) -> None:
    await harness.send(user, "/bracket")
    if texts:
        await _press(harness, user, "bf:symbol:BTCUSDT", "bf:side:BUY")
    await _send(harness, user, *texts[1:])


async def _link_to(harness: BotHarness, user: int, step: str) -> None:
    keys = KEYS["OKX"]
    await harness.send(user, "/link")
    await harness.press(user, "lx:OKX")
    typed = {"name": [], "api_key": ["Hostile"], "secret": ["Hostile", keys.api_key]}
    typed["passphrase"] = [*typed["secret"], keys.secret]
    await _send(harness, user, *typed[step])


async def _pin_guard(harness: BotHarness, user: int) -> None:
    from engine.common.secrets import Secret

    services = harness.services
    account = await services.users.get_by_telegram_id(user)
    assert account is not None
    if (await services.pins.status(account)).state == "NOT_SET":
        await services.pins.set_first(account, Secret("480271"))
    await harness.press(user, "rp:HIGH:set")  # a risk profile change asks for the PIN


STEPS = [
    Step("registration username", "RegistrationStates:username", _start_anonymous, registered=False),
    Step("registration risk profile", "RegistrationStates:risk_profile", _sends("/start"), registered=False),
    Step(
        "registration email",
        "RegistrationStates:email",
        _registration_email,
        accepts=_accepts(validate_email),
        registered=False,
    ),
    Step("settings email", "SettingsStates:email", _presses("st:email"), accepts=_accepts(validate_email)),
    Step(
        "settings time zone",
        "SettingsStates:timezone",
        _presses("st:timezone"),
        accepts=_accepts(validate_timezone),
    ),
    Step(
        "risk limit value",
        "RiskLimitStates:value",
        _presses("rl:edit:max_position"),
        accepts=_accepts(_limit_value),
    ),
    Step("maximum slippage", "SlippageStates:value", _presses("st:slippage"), accepts=_accepts(_slippage)),
    Step("quiet hours", "AlertStates:quiet_hours", _presses("al:quiet:"), accepts=_quiet_hours),
    Step(
        "report time", "AlertStates:report_time", _presses("al:report_time:"), accepts=_accepts(_clock_time)
    ),
    Step("order symbol", "OrderFormStates:symbol", lambda h, u: _order_form(h, u)),
    Step(
        "order quantity",
        "OrderFormStates:quantity",
        lambda h, u: _order_form(h, u, "of:symbol:BTCUSDT", "of:side:BUY", "of:type:LIMIT"),
    ),
    Step(
        "order price",
        "OrderFormStates:price",
        lambda h, u: _order_form(h, u, "of:symbol:BTCUSDT", "of:side:BUY", "of:type:LIMIT", texts=("0.001",)),
    ),
    Step(
        "order stop price",
        "OrderFormStates:stop_price",
        lambda h, u: _order_form(
            h, u, "of:symbol:BTCUSDT", "of:side:SELL", "of:type:STOP_MARKET", texts=("0.001",)
        ),
    ),
    Step("bracket symbol", "BracketFormStates:symbol", lambda h, u: _bracket_form(h, u)),
    Step("bracket quantity", "BracketFormStates:quantity", lambda h, u: _bracket_form(h, u, ("",))),
    Step("bracket entry", "BracketFormStates:entry", lambda h, u: _bracket_form(h, u, ("", "0.001"))),
    Step("bracket stop", "BracketFormStates:stop", lambda h, u: _bracket_form(h, u, ("", "0.001", "40000"))),
    Step(
        "bracket targets",
        "BracketFormStates:targets",
        lambda h, u: _bracket_form(h, u, ("", "0.001", "40000", "39000")),
    ),
    Step(
        "bracket split",
        "BracketFormStates:split",
        lambda h, u: _bracket_form(h, u, ("", "0.001", "40000", "39000", "41000,42000")),
    ),
    Step("modify price", "ModifyStates:value", _modify, accepts=_accepts(_positive_decimal)),
    Step("account rename", "AccountStates:rename", _rename, accepts=_accepts(validate_account_name)),
    Step("link account name", "LinkStates:name", lambda h, u: _link_to(h, u, "name")),
    Step("link API key", "LinkStates:api_key", lambda h, u: _link_to(h, u, "api_key"), deletes=True),
    Step("link secret", "LinkStates:secret", lambda h, u: _link_to(h, u, "secret"), deletes=True),
    Step("link passphrase", "LinkStates:passphrase", lambda h, u: _link_to(h, u, "passphrase"), deletes=True),
    Step("new PIN", "PinSetupStates:new", _presses("pn:set"), deletes=True),
    Step("PIN prompt", "PinStates:entry", _pin_guard, accepts=_accepts(_pin), deletes=True, own_user=True),
]
