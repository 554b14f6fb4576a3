"""/bracket without arguments: the bracket asked for step by step, with buttons where they help.

Steps: account (when the user has several), symbol, side, quantity, entry
(market or a limit price), stop-loss, targets, split (with two or three
targets), breakeven, and the kind of exits where the exchange offers both.
Each price is checked against the side as soon as it is typed, so a wrong
one is asked for again instead of failing at the end.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import bracket_keyboards
from bot.bracket_input import EXIT_MODES, parse_entry, parse_split, parse_targets
from bot.callbacks import BracketFormChoice
from bot.formatting import amount, esc
from bot.routing import RouterBlueprint
from bot.services import Services
from engine.accounts.models import Account
from engine.brackets.plan import BracketRequest, check_sides
from engine.common.money import parse_positive_decimal
from engine.errors import ValidationError
from engine.market.symbols import compact_symbol, normalize_symbol
from engine.orders.models import OrderSide
from engine.users.models import Permission, User

router = RouterBlueprint(__name__)
TRADE = {"permission": Permission.TRADE}
SYMBOL_BUTTONS = 9


class BracketFormStates(StatesGroup):
    account = State()
    symbol = State()
    side = State()
    quantity = State()
    entry = State()
    stop = State()
    targets = State()
    split = State()
    breakeven = State()
    exits = State()


async def start_form(message: Message, user: User, services: Services, state: FSMContext) -> None:
    accounts = await services.orders.accounts.active(user)
    if len(accounts) > 1:
        await state.set_state(BracketFormStates.account)
        options = [(f"{account.name} ({account.exchange.value})", account.id.hex[:8]) for account in accounts]
        await message.answer(
            _("🎯 New bracket. Which account?"), reply_markup=bracket_keyboards.choices("account", options, 1)
        )
        return
    await _ask_symbol(message, user, services, state)


def _text_step(step: State) -> Any:
    return router.message(step, F.text, ~F.text.startswith("/"), flags=TRADE)


def _press_step(step: State, name: str) -> Any:
    return router.callback_query(step, BracketFormChoice.filter(F.step == name), flags=TRADE)


@_press_step(BracketFormStates.account, "account")
async def press_account(
    query: CallbackQuery, callback_data: BracketFormChoice, user: User, services: Services, state: FSMContext
) -> None:
    account = await services.orders.accounts.find(user, callback_data.value)
    await query.answer()
    await state.update_data(account=account.id.hex)
    if isinstance(query.message, Message):
        await _ask_symbol(query.message, user, services, state)


async def _ask_symbol(message: Message, user: User, services: Services, state: FSMContext) -> None:
    gateway = await services.gateways.gateway_for(await _account(services, user, await state.get_data()))
    symbols = sorted(await gateway.load_markets())[:SYMBOL_BUTTONS]
    await state.set_state(BracketFormStates.symbol)
    await message.answer(
        _("🎯 New bracket. Which pair? Press a button or type it, e.g. BTCUSDT. /cancel stops."),
        reply_markup=bracket_keyboards.choices(
            "symbol", [(compact_symbol(s), compact_symbol(s)) for s in symbols]
        ),
    )


@_text_step(BracketFormStates.symbol)
async def type_symbol(message: Message, user: User, services: Services, state: FSMContext) -> None:
    await _take_symbol(message, user, services, state, message.text or "")


@_press_step(BracketFormStates.symbol, "symbol")
async def press_symbol(
    query: CallbackQuery, callback_data: BracketFormChoice, user: User, services: Services, state: FSMContext
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _take_symbol(query.message, user, services, state, callback_data.value)


async def _take_symbol(
    message: Message, user: User, services: Services, state: FSMContext, text: str
) -> None:
    symbol = normalize_symbol(text)
    gateway = await services.gateways.gateway_for(await _account(services, user, await state.get_data()))
    await gateway.market(symbol)  # raises SYMBOL_UNKNOWN with the list of pairs
    await state.update_data(symbol=symbol)
    await state.set_state(BracketFormStates.side)
    await message.answer(
        _(
            "{symbol}: buy and sell higher, or sell and buy back lower? "
            "On a spot account a sell bracket sells what you hold."
        ).format(symbol=esc(symbol)),
        reply_markup=bracket_keyboards.choices("side", [(_("🟢 Buy"), "BUY"), (_("🔴 Sell"), "SELL")], 2),
    )


@_press_step(BracketFormStates.side, "side")
async def press_side(
    query: CallbackQuery, callback_data: BracketFormChoice, user: User, services: Services, state: FSMContext
) -> None:
    side = OrderSide(callback_data.value)
    await query.answer()
    data = await state.get_data()
    await state.update_data(side=side.value)
    account = await _account(services, user, data)
    gateway = await services.gateways.gateway_for(account)
    market = await gateway.market(data["symbol"])
    asset = market.quote if side is OrderSide.BUY else market.base
    entry = (await gateway.fetch_balance()).get(asset)
    free = entry.free if entry is not None else Decimal(0)
    await state.set_state(BracketFormStates.quantity)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("How much {base}? Type a quantity like 0.01 (free: {free}).").format(
                base=esc(market.base), free=amount(free, asset, user.language)
            )
        )


@_text_step(BracketFormStates.quantity)
async def type_quantity(message: Message, user: User, services: Services, state: FSMContext) -> None:
    quantity = parse_positive_decimal(message.text or "", field="quantity")
    data = await state.get_data()
    if OrderSide(data["side"]) is OrderSide.SELL:
        await _require_holding(services, user, data, quantity)
    await state.update_data(quantity=str(quantity))
    last = await _last_price(services, user, data)
    await state.set_state(BracketFormStates.entry)
    await message.answer(
        _("Entry: press Market, or type a limit price (last price {last}).").format(
            last=amount(last, _quote(data), user.language)
        ),
        reply_markup=bracket_keyboards.choices("entry", [(_("Market"), "market")]),
    )


@_text_step(BracketFormStates.entry)
async def type_entry(message: Message, user: User, services: Services, state: FSMContext) -> None:
    await _take_entry(message, user, services, state, message.text or "")


@_press_step(BracketFormStates.entry, "entry")
async def press_entry(
    query: CallbackQuery, callback_data: BracketFormChoice, user: User, services: Services, state: FSMContext
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _take_entry(query.message, user, services, state, callback_data.value)


async def _take_entry(message: Message, user: User, services: Services, state: FSMContext, text: str) -> None:
    entry = parse_entry(text)
    await state.update_data(entry=str(entry) if entry is not None else "market")
    await state.set_state(BracketFormStates.stop)
    data = await state.get_data()
    if OrderSide(data["side"]) is OrderSide.BUY:
        prompt = _("Stop-loss price? For a buy it is below the entry.")
    else:
        prompt = _("Stop-loss price? For a sell it is above the entry.")
    await message.answer(prompt)


@_text_step(BracketFormStates.stop)
async def type_stop(message: Message, user: User, services: Services, state: FSMContext) -> None:
    stop = parse_positive_decimal(message.text or "", field="stop_price")
    data = await state.get_data()
    entry = await _entry_reference(services, user, data)
    check_sides(OrderSide(data["side"]) is OrderSide.BUY, entry, stop, ())
    await state.update_data(stop=str(stop))
    await state.set_state(BracketFormStates.targets)
    await message.answer(
        _("Take-profit targets? One to three prices separated by commas, nearest first, e.g. 44000,45000.")
    )


@_text_step(BracketFormStates.targets)
async def type_targets(message: Message, user: User, services: Services, state: FSMContext) -> None:
    targets = parse_targets(message.text or "")
    data = await state.get_data()
    entry = await _entry_reference(services, user, data)
    check_sides(OrderSide(data["side"]) is OrderSide.BUY, entry, Decimal(data["stop"]), targets)
    await state.update_data(targets=",".join(str(price) for price in targets))
    if len(targets) == 1:
        await _ask_breakeven(message, state)
        return
    await state.set_state(BracketFormStates.split)
    await message.answer(
        _("How to split the quantity over the targets, in percent? Press a button or type e.g. 50,30,20."),
        reply_markup=bracket_keyboards.split_choices(len(targets)),
    )


@_text_step(BracketFormStates.split)
async def type_split(message: Message, user: User, services: Services, state: FSMContext) -> None:
    await _take_split(message, state, message.text or "")


@_press_step(BracketFormStates.split, "split")
async def press_split(query: CallbackQuery, callback_data: BracketFormChoice, state: FSMContext) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _take_split(query.message, state, callback_data.value)


async def _take_split(message: Message, state: FSMContext, text: str) -> None:
    split = parse_split(text)
    data = await state.get_data()
    count = len(data["targets"].split(","))
    if len(split) != count:
        raise ValidationError("BRACKET_SPLIT_COUNT", value=len(split), targets=count)
    if sum(split) != 100:
        raise ValidationError("BRACKET_SPLIT_SUM", value=sum(split))
    await state.update_data(split=",".join(str(share) for share in split))
    await _ask_breakeven(message, state)


async def _ask_breakeven(message: Message, state: FSMContext) -> None:
    await state.set_state(BracketFormStates.breakeven)
    await message.answer(
        _("Move the stop to the average entry price once the first target fills?"),
        reply_markup=bracket_keyboards.yes_no("breakeven"),
    )


@_press_step(BracketFormStates.breakeven, "breakeven")
async def press_breakeven(
    query: CallbackQuery, callback_data: BracketFormChoice, user: User, services: Services, state: FSMContext
) -> None:
    await query.answer()
    await state.update_data(breakeven=callback_data.value == "yes")
    if not isinstance(query.message, Message):
        return
    gateway = await services.gateways.gateway_for(await _account(services, user, await state.get_data()))
    if gateway.capabilities.oco:
        await state.set_state(BracketFormStates.exits)
        await query.message.answer(
            _("Where should the exits live? On the exchange they protect even while the bot is offline."),
            reply_markup=bracket_keyboards.exit_choices(),
        )
        return
    await _finish(query.message, user, services, state)


@_press_step(BracketFormStates.exits, "exits")
async def press_exits(
    query: CallbackQuery, callback_data: BracketFormChoice, user: User, services: Services, state: FSMContext
) -> None:
    await query.answer()
    if callback_data.value not in EXIT_MODES:
        raise ValidationError("BRACKET_EXITS_INVALID", value=callback_data.value[:20])
    await state.update_data(exits=callback_data.value)
    if isinstance(query.message, Message):
        await _finish(query.message, user, services, state)


async def _finish(message: Message, user: User, services: Services, state: FSMContext) -> None:
    from bot.handlers.user.brackets import show_bracket_card

    data = await state.get_data()
    await state.clear()
    request = BracketRequest(
        symbol=data["symbol"],
        side=OrderSide(data["side"]),
        quantity=Decimal(data["quantity"]),
        entry_price=None if data["entry"] == "market" else Decimal(data["entry"]),
        stop_price=Decimal(data["stop"]),
        targets=tuple(Decimal(price) for price in data["targets"].split(",")),
        split=tuple(Decimal(share) for share in data["split"].split(",")) if "split" in data else None,
        breakeven=bool(data.get("breakeven", False)),
        exit_mode=EXIT_MODES[data["exits"]] if "exits" in data else None,
    )
    account = await _account(services, user, data)
    await show_bracket_card(message, user, services, request, account.id)


async def _account(services: Services, user: User, data: dict[str, Any]) -> Account:
    account_hex = data.get("account")
    if account_hex is None:
        return await services.orders.account(user, None)
    try:
        return await services.orders.account(user, uuid.UUID(hex=account_hex))
    except ValueError as exc:
        raise ValidationError("ACCOUNT_UNKNOWN", value=account_hex, known=[]) from exc


async def _require_holding(services: Services, user: User, data: dict[str, Any], quantity: Decimal) -> None:
    """Raise BRACKET_SHORT_NEEDS_HOLDING at this step, not at the end, when a sell bracket lacks the base."""
    gateway = await services.gateways.gateway_for(await _account(services, user, data))
    base = str(data["symbol"]).partition("/")[0]
    entry = (await gateway.fetch_balance()).get(base)
    free = entry.free if entry is not None else Decimal(0)
    if free < quantity:
        raise ValidationError("BRACKET_SHORT_NEEDS_HOLDING", asset=base, value=quantity, available=free)


async def _last_price(services: Services, user: User, data: dict[str, Any]) -> Decimal:
    gateway = await services.gateways.gateway_for(await _account(services, user, data))
    return (await gateway.fetch_ticker(data["symbol"])).last


async def _entry_reference(services: Services, user: User, data: dict[str, Any]) -> Decimal:
    """Return the typed limit price, or the last price for a market entry."""
    if data.get("entry", "market") != "market":
        return Decimal(data["entry"])
    return await _last_price(services, user, data)


def _quote(data: dict[str, Any]) -> str:
    return str(data["symbol"]).partition("/")[2]
