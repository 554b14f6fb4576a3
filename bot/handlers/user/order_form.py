"""/order: every order type as a quick form, or step by step with buttons when given no arguments.

Steps: account (when the user has several), symbol, side, type, quantity (an
amount or a share of the free balance), price and stop price where the type
needs them, time in force for limit types, then the confirmation card.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import order_keyboards
from bot.callbacks import OrderFormChoice
from bot.commands import CommandSpec, register
from bot.filters import MenuButton
from bot.formatting import amount, esc
from bot.order_flow import preview_form
from bot.order_input import (
    OrderForm,
    parse_order_command,
    parse_quantity,
    parse_side,
    parse_time_in_force,
    parse_type,
)
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.texts import side_name
from bot.views.orders import order_type_name
from engine.accounts.models import Account
from engine.common.money import parse_positive_decimal
from engine.errors import ValidationError
from engine.market.symbols import compact_symbol, normalize_symbol
from engine.orders.models import OrderSide, OrderType, TimeInForce
from engine.users.models import Permission, User

router = RouterBlueprint(__name__)
TRADE = {"permission": Permission.TRADE}
SYMBOL_BUTTONS = 9

USAGE = __(
    "/order SYMBOL SIDE TYPE QTY [price=…] [stop=…] [tif=GTC|IOC|FOK] [reduce] [post] [account=…] [id=…]"
)

register(
    CommandSpec(
        "order",
        __("Place any order type, step by step or in one line"),
        usage=USAGE,
        menu_label=__("📝 Order"),
        order=12,
    )
)


class OrderFormStates(StatesGroup):
    account = State()
    symbol = State()
    side = State()
    order_type = State()
    quantity = State()
    price = State()
    stop_price = State()
    time_in_force = State()


@router.message(Command("order"), flags=TRADE)
@router.message(MenuButton("order"), flags=TRADE)
async def order_command(
    message: Message, user: User, services: Services, state: FSMContext, command: CommandObject | None = None
) -> None:
    await state.clear()
    arguments = command.args if command else None
    if arguments:
        form = parse_order_command(arguments)
        if form is None:
            await message.answer(_("Usage: {usage}").format(usage=f"<code>{esc(USAGE)}</code>"))
            return
        await preview_form(message, user, services, form)
        return

    accounts = await services.orders.accounts.active(user)
    if len(accounts) > 1:
        await state.set_state(OrderFormStates.account)
        await message.answer(
            _("📝 New order. Which account?"), reply_markup=order_keyboards.account_choices(accounts)
        )
        return
    await _ask_symbol(message, user, services, state)


@router.callback_query(OrderFormStates.account, OrderFormChoice.filter(F.step == "account"), flags=TRADE)
async def choose_account(
    query: CallbackQuery, callback_data: OrderFormChoice, user: User, services: Services, state: FSMContext
) -> None:
    account = await services.orders.accounts.find(user, callback_data.value)
    await query.answer()
    await state.update_data(account=account.id.hex)
    if isinstance(query.message, Message):
        await _ask_symbol(query.message, user, services, state)


async def _ask_symbol(message: Message, user: User, services: Services, state: FSMContext) -> None:
    gateway = await services.gateways.gateway_for(await _account(services, user, await state.get_data()))
    symbols = sorted(await gateway.load_markets())[:SYMBOL_BUTTONS]
    await state.set_state(OrderFormStates.symbol)
    await message.answer(
        _("Which pair? Press a button or type it, e.g. BTCUSDT. /cancel stops."),
        reply_markup=order_keyboards.choices(
            "symbol", [(compact_symbol(s), compact_symbol(s)) for s in symbols]
        ),
    )


@router.message(OrderFormStates.symbol, F.text, ~F.text.startswith("/"), flags=TRADE)
async def type_symbol(message: Message, user: User, services: Services, state: FSMContext) -> None:
    await _take_symbol(message, user, services, state, message.text or "")


@router.callback_query(OrderFormStates.symbol, OrderFormChoice.filter(F.step == "symbol"), flags=TRADE)
async def press_symbol(
    query: CallbackQuery, callback_data: OrderFormChoice, user: User, services: Services, state: FSMContext
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
    await state.set_state(OrderFormStates.side)
    await message.answer(
        _("{symbol}: buy or sell?").format(symbol=esc(symbol)), reply_markup=order_keyboards.side_choices()
    )


@router.callback_query(OrderFormStates.side, OrderFormChoice.filter(F.step == "side"), flags=TRADE)
async def press_side(
    query: CallbackQuery, callback_data: OrderFormChoice, user: User, services: Services, state: FSMContext
) -> None:
    side = parse_side(callback_data.value)  # a forged value is explained, not an incident
    await query.answer()
    await state.update_data(side=side.value)
    gateway = await services.gateways.gateway_for(await _account(services, user, await state.get_data()))
    await state.set_state(OrderFormStates.order_type)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("{side}: which order type?").format(side=side_name(side)),
            reply_markup=order_keyboards.type_choices(gateway.capabilities.order_types),
        )


@router.callback_query(OrderFormStates.order_type, OrderFormChoice.filter(F.step == "type"), flags=TRADE)
async def press_type(
    query: CallbackQuery, callback_data: OrderFormChoice, user: User, services: Services, state: FSMContext
) -> None:
    order_type = parse_type(callback_data.value)
    await query.answer()
    await state.update_data(type=order_type.value)
    data = await state.get_data()
    account = await _account(services, user, data)
    gateway = await services.gateways.gateway_for(account)
    market = await gateway.market(data["symbol"])
    side = OrderSide(data["side"])
    asset = market.quote if side is OrderSide.BUY else market.base
    entry = (await gateway.fetch_balance()).get(asset)
    free = entry.free if entry else Decimal(0)
    await state.set_state(OrderFormStates.quantity)
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "{type}. How much {base}? Type a quantity like 0.01, or a share of your free balance "
                "like 25% (free: {free})."
            ).format(
                type=order_type_name(order_type),
                base=esc(market.base),
                free=amount(free, asset, user.language),
            ),
            reply_markup=order_keyboards.share_choices(),
        )


@router.message(OrderFormStates.quantity, F.text, ~F.text.startswith("/"), flags=TRADE)
async def type_quantity(message: Message, user: User, services: Services, state: FSMContext) -> None:
    await _take_quantity(message, user, services, state, message.text or "")


@router.callback_query(OrderFormStates.quantity, OrderFormChoice.filter(F.step == "quantity"), flags=TRADE)
async def press_quantity(
    query: CallbackQuery, callback_data: OrderFormChoice, user: User, services: Services, state: FSMContext
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _take_quantity(query.message, user, services, state, callback_data.value)


async def _take_quantity(
    message: Message, user: User, services: Services, state: FSMContext, text: str
) -> None:
    parse_quantity(text)  # raises with the fix when the text is no quantity
    await state.update_data(quantity=text.strip())
    await _next_step(message, user, services, state)


@router.message(OrderFormStates.price, F.text, ~F.text.startswith("/"), flags=TRADE)
async def type_price(message: Message, user: User, services: Services, state: FSMContext) -> None:
    price = parse_positive_decimal(message.text or "", field="price")
    await state.update_data(price=str(price))
    await _next_step(message, user, services, state)


@router.message(OrderFormStates.stop_price, F.text, ~F.text.startswith("/"), flags=TRADE)
async def type_stop(message: Message, user: User, services: Services, state: FSMContext) -> None:
    stop = parse_positive_decimal(message.text or "", field="stop_price")
    await state.update_data(stop=str(stop))
    await _next_step(message, user, services, state)


@router.callback_query(OrderFormStates.time_in_force, OrderFormChoice.filter(F.step == "tif"), flags=TRADE)
async def press_tif(
    query: CallbackQuery, callback_data: OrderFormChoice, user: User, services: Services, state: FSMContext
) -> None:
    await query.answer()
    post = callback_data.value == "POST"
    tif = TimeInForce.GTC if post else parse_time_in_force(callback_data.value)
    await state.update_data(tif=tif.value, post=post)
    if isinstance(query.message, Message):
        await _next_step(query.message, user, services, state)


async def _next_step(message: Message, user: User, services: Services, state: FSMContext) -> None:
    """Ask for the next missing detail, or show the confirmation card when nothing is missing."""
    data = await state.get_data()
    order_type = OrderType(data["type"])
    if order_type.needs_stop_price and "stop" not in data:
        await state.set_state(OrderFormStates.stop_price)
        await message.answer(_("At which price should the order trigger (stop price)?"))
        return
    if order_type.needs_price and "price" not in data:
        await state.set_state(OrderFormStates.price)
        await message.answer(_("Limit price?"))
        return
    if order_type.needs_price and "tif" not in data:
        await state.set_state(OrderFormStates.time_in_force)
        await message.answer(
            _("How long should it stay in the book?"), reply_markup=order_keyboards.tif_choices()
        )
        return

    await state.clear()
    await preview_form(message, user, services, _form(data))


def _form(data: dict[str, Any]) -> OrderForm:
    return OrderForm(
        symbol=data["symbol"],
        side=OrderSide(data["side"]),
        type=OrderType(data["type"]),
        quantity=parse_quantity(data["quantity"]),
        price=Decimal(data["price"]) if "price" in data else None,
        stop_price=Decimal(data["stop"]) if "stop" in data else None,
        time_in_force=TimeInForce(data.get("tif", TimeInForce.GTC.value)),
        post_only=bool(data.get("post", False)),
        account=data.get("account"),
    )


async def _account(services: Services, user: User, data: dict[str, Any]) -> Account:
    account_hex = data.get("account")
    if account_hex is None:
        return await services.orders.account(user, None)
    try:
        return await services.orders.account(user, uuid.UUID(hex=account_hex))
    except ValueError as exc:
        raise ValidationError("ACCOUNT_UNKNOWN", value=account_hex, known=[]) from exc
