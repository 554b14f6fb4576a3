"""/cancel outside a conversation: one order, several at once, or all of them after a confirmation.

Inside a conversation, ``bot.handlers.conversation`` takes /cancel first and
leaves the conversation instead.
"""

from __future__ import annotations

from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import order_keyboards
from bot.callbacks import CancelAll
from bot.commands import CommandSpec, register
from bot.formatting import esc
from bot.replies import answer_long
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views.order_list import batch_report
from bot.views.orders import order_result
from engine.market.symbols import compact_symbol, normalize_symbol
from engine.users.models import Permission, User

router = RouterBlueprint(__name__)
TRADE = {"permission": Permission.TRADE}

register(
    CommandSpec(
        "cancel",
        __("Cancel orders by id, or all open orders"),
        usage=__("/cancel ORDER_ID [ORDER_ID …] or /cancel all [SYMBOL]"),
        order=15,
    )
)


@router.message(Command("cancel"), StateFilter(None), flags=TRADE)
async def cancel_command(message: Message, user: User, services: Services, command: CommandObject) -> None:
    parts = (command.args or "").split()
    if not parts:
        usage = _("/cancel ORDER_ID [ORDER_ID …] or /cancel all [SYMBOL]")
        await message.answer(
            _("Usage: {usage}").format(usage=f"<code>{esc(usage)}</code>")
            + "\n"
            + _("The ids are the 8 characters shown in /orders.")
        )
        return
    if parts[0].lower() == "all":
        await _confirm_cancel_all(message, user, services, parts[1:])
        return

    if len(parts) == 1:
        order = await services.orders.changes.resolve(user, parts[0])
        cancelled = await services.orders.changes.cancel(user, order.id)
        await message.answer(order_result(cancelled, user.language))
        return
    outcomes = await services.orders.changes.cancel_references(user, parts)
    await answer_long(message, batch_report(outcomes, user.language))


async def _confirm_cancel_all(message: Message, user: User, services: Services, rest: list[str]) -> None:
    await _ask_cancel_all(message, user, services, normalize_symbol(rest[0]) if rest else None)


async def _ask_cancel_all(message: Message, user: User, services: Services, symbol: str | None) -> None:
    everything = await services.orders.changes.open_orders(user, symbol=symbol)
    orders = [order for order in everything if not order.is_bracket_exit]
    exits = len(everything) - len(orders)
    kept = _("Bracket exits ({count}) stay in place: close a bracket with /brackets.").format(count=exits)
    if not orders:
        await message.answer(_("There are no open orders to cancel.") + ("\n" + kept if exits else ""))
        return
    if symbol:
        text = _("Cancel all open {symbol} orders ({count})?").format(count=len(orders), symbol=esc(symbol))
    else:
        text = _("Cancel all open orders ({count})?").format(count=len(orders))
    shown = ", ".join(f"<code>{order.short_id}</code>" for order in orders[:20])
    await message.answer(
        text + "\n" + shown + ("\n" + kept if exits else ""),
        reply_markup=order_keyboards.cancel_all_confirm(compact_symbol(symbol) if symbol else ""),
    )


@router.callback_query(CancelAll.filter(), flags=TRADE)
async def cancel_all(query: CallbackQuery, callback_data: CancelAll, user: User, services: Services) -> None:
    symbol = normalize_symbol(callback_data.symbol) if callback_data.symbol else None
    if not callback_data.confirmed:
        await query.answer()
        if isinstance(query.message, Message):
            await _ask_cancel_all(query.message, user, services, symbol)
        return
    await query.answer(_("Cancelling…"))
    outcomes = await services.orders.changes.cancel_all(user, symbol=symbol)
    if isinstance(query.message, Message):
        await answer_long(query.message, batch_report(outcomes, user.language))
