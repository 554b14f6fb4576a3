"""/orders: the list with filters and pages, each order's details, and its Modify and Cancel buttons.

Every order id in a button is looked up among the presser's own orders, so a
forged or forwarded button of another user's order gets "not found".
"""

from __future__ import annotations

import uuid

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import order_keyboards
from bot.callbacks import OrderAction, OrdersPage
from bot.commands import CommandSpec, register
from bot.error_texts import describe_error
from bot.filters import MenuButton
from bot.formatting import esc, number
from bot.keyboards import clamp_page
from bot.order_flow import show_card
from bot.order_input import STATUS_FILTERS, ListFilter, parse_list_filter, parse_modify_options
from bot.replies import answer_long
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views.order_list import order_details, orders_page
from bot.views.orders import order_result
from engine.common.money import parse_positive_decimal
from engine.errors import PatriotError, ValidationError
from engine.orders.models import Order
from engine.orders.ports import OrderFilter
from engine.orders.state import MODIFIABLE
from engine.users.models import Permission, User

router = RouterBlueprint(__name__)
TRADE = {"permission": Permission.TRADE}
PAGE_SIZE = 5
MODIFY_FIELDS = {"mp": "price", "mq": "quantity", "ms": "stop_price"}

register(
    CommandSpec(
        "orders",
        __("Your orders: open by default, with filters and pages"),
        usage=__(
            "/orders [open|all|filled|cancelled|rejected|pending] [SYMBOL] [buy|sell] [from=DATE] [to=DATE]"
        ),
        menu_label=__("📋 Orders"),
        order=14,
    )
)
register(
    CommandSpec(
        "modify",
        __("Change an open order's price, quantity or stop price"),
        usage=__("/modify ORDER_ID [price=…] [qty=…] [stop=…]"),
        order=16,
    )
)


class ModifyStates(StatesGroup):
    value = State()


# reads_first: the page's read comes before any network call (bot/middlewares/gate.py).
@router.message(Command("orders"), flags={"permission": Permission.VIEW_PORTFOLIO, "reads_first": True})
@router.message(MenuButton("orders"), flags={"permission": Permission.VIEW_PORTFOLIO, "reads_first": True})
async def list_orders(
    message: Message, user: User, services: Services, command: CommandObject | None = None
) -> None:
    where = parse_list_filter(command.args if command else None)
    account_hex = ""
    if where.account:
        account_hex = (await services.orders.accounts.find(user, where.account)).id.hex[:8]
    text, markup = await _page(services, user, where, 0, account_hex)
    await answer_long(message, text, reply_markup=markup)


@router.callback_query(OrdersPage.filter(), flags={"permission": Permission.VIEW_PORTFOLIO})
async def turn_page(query: CallbackQuery, callback_data: OrdersPage, user: User, services: Services) -> None:
    await query.answer()
    where = order_keyboards.filter_from_page(callback_data)
    text, markup = await _page(services, user, where, clamp_page(callback_data.page), callback_data.account)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


async def _page(
    services: Services, user: User, where: ListFilter, page: int, account_hex: str
) -> tuple[str, InlineKeyboardMarkup]:
    account_id = None
    if account_hex:
        account_id = (await services.orders.accounts.find(user, account_hex)).id
    since, until = where.window()
    query = OrderFilter(
        statuses=STATUS_FILTERS[where.status],
        account_id=account_id,
        symbol=where.symbol,
        side=where.side,
        since=since,
        until=until,
    )
    orders, total = await services.orders.changes.page(user, query, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    text = orders_page(orders, where, page, pages, user)
    return text, order_keyboards.orders_keyboard(orders, where, page, pages, account_hex)


async def _owned(services: Services, user: User, order_hex: str) -> Order:
    try:
        order_id = uuid.UUID(hex=order_hex)
    except ValueError as exc:
        raise ValidationError("ORDER_ID_INVALID", value=order_hex) from exc
    return await services.orders.changes.get(user, order_id)


@router.callback_query(OrderAction.filter(F.action == "d"), flags={"permission": Permission.VIEW_PORTFOLIO})
async def show_order(
    query: CallbackQuery, callback_data: OrderAction, user: User, services: Services
) -> None:
    order = await _owned(services, user, callback_data.order)
    await query.answer()
    accounts = {account.id: account for account in await services.orders.accounts.active(user)}
    if isinstance(query.message, Message):
        await answer_long(
            query.message,
            order_details(order, accounts.get(order.account_id), user),
            reply_markup=order_keyboards.order_keyboard(order),
        )


@router.callback_query(OrderAction.filter(F.action == "c"), flags=TRADE)
async def cancel_order(
    query: CallbackQuery, callback_data: OrderAction, user: User, services: Services
) -> None:
    order = await _owned(services, user, callback_data.order)
    await query.answer(_("Cancelling…"))
    try:
        cancelled = await services.orders.changes.cancel(user, order.id)
    except PatriotError as error:
        text = describe_error(error, user.language)
    else:
        text = order_result(cancelled, user.language)
    if isinstance(query.message, Message):
        await query.message.answer(text)


@router.callback_query(OrderAction.filter(F.action == "m"), flags=TRADE)
async def modify_menu(
    query: CallbackQuery, callback_data: OrderAction, user: User, services: Services
) -> None:
    order = await _owned(services, user, callback_data.order)
    _require_modifiable(order)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("What do you want to change in order {order_id}?").format(
                order_id=f"<code>{order.short_id}</code>"
            ),
            reply_markup=order_keyboards.modify_fields(order),
        )


@router.callback_query(OrderAction.filter(F.action.in_(tuple(MODIFY_FIELDS))), flags=TRADE)
async def ask_new_value(
    query: CallbackQuery, callback_data: OrderAction, user: User, services: Services, state: FSMContext
) -> None:
    order = await _owned(services, user, callback_data.order)
    _require_modifiable(order)
    field = MODIFY_FIELDS[callback_data.action]
    current = {"price": order.price, "quantity": order.quantity, "stop_price": order.stop_price}[field]
    await query.answer()
    await state.set_state(ModifyStates.value)
    await state.update_data(order=order.id.hex, field=field)
    prompts = {
        "price": _("Send the new price (now {current}). /cancel keeps it."),
        "quantity": _("Send the new total quantity, filled part included (now {current}). /cancel keeps it."),
        "stop_price": _("Send the new stop price (now {current}). /cancel keeps it."),
    }
    if isinstance(query.message, Message):
        shown = number(current, user.language) if current is not None else "-"
        await query.message.answer(prompts[field].format(current=shown))


@router.message(ModifyStates.value, F.text, ~F.text.startswith("/"), flags=TRADE)
async def take_new_value(message: Message, user: User, services: Services, state: FSMContext) -> None:
    data = await state.get_data()
    value = parse_positive_decimal(message.text or "", field=data["field"])
    await state.clear()
    preview = await services.orders.changes.preview_modify(
        user, uuid.UUID(hex=data["order"]), **{data["field"]: value}
    )
    await show_card(message, user, services, preview)


@router.message(Command("modify"), flags=TRADE)
async def modify_command(message: Message, user: User, services: Services, command: CommandObject) -> None:
    parts = (command.args or "").split()
    if len(parts) < 2:
        usage = _("/modify ORDER_ID [price=…] [qty=…] [stop=…]")
        await message.answer(_("Usage: {usage}").format(usage=f"<code>{esc(usage)}</code>"))
        return
    order = await services.orders.changes.resolve(user, parts[0])
    values = parse_modify_options(parts[1:])
    preview = await services.orders.changes.preview_modify(user, order.id, **values)
    await show_card(message, user, services, preview)


def _require_modifiable(order: Order) -> None:
    if order.status not in MODIFIABLE:
        raise ValidationError("ORDER_NOT_MODIFIABLE", order=order.short_id, status=order.status)
