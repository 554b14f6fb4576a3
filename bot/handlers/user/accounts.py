"""/accounts: the user's exchange accounts, with rename, (de)activate, default, key check and remove.

Every account id that comes back in a button is resolved through the account
service for the presser, so another user's id is "not found" like an id that
does not exist.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.callbacks import AccountAction, AccountsView
from bot.commands import CommandSpec, register
from bot.filters import MenuButton
from bot.formatting import esc
from bot.pin_guard import PinPurpose
from bot.replies import answer_long
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views import account_errors  # noqa: F401 - registers the error texts
from bot.views import account_keyboards as keyboards
from bot.views.accounts import account_card, account_line, permission_warnings, problem_text
from engine.accounts.models import Account, Exchange
from engine.errors import NotFoundError, ValidationError
from engine.users.models import Permission, User

router = RouterBlueprint(__name__)

register(
    CommandSpec(
        "accounts",
        __("Your exchange accounts: balances, keys, default"),
        menu_label=__("🏦 Accounts"),
        order=30,
    )
)

MANAGE = {"permission": Permission.MANAGE_ACCOUNTS}


class AccountStates(StatesGroup):
    rename = State()


# ----- the list -------------------------------------------------------------------


@router.message(Command("accounts"))
@router.message(MenuButton("accounts"))
async def show_accounts(message: Message, user: User, services: Services, state: FSMContext) -> None:
    await state.clear()
    text, markup = await _list_view(user, services, "ALL", "all")
    await answer_long(message, text, reply_markup=markup)


@router.callback_query(AccountsView.filter())
async def filter_accounts(
    query: CallbackQuery, callback_data: AccountsView, user: User, services: Services
) -> None:
    await query.answer()
    text, markup = await _list_view(user, services, callback_data.exchange, callback_data.active)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


async def _list_view(
    user: User, services: Services, exchange_filter: str, active_filter: str
) -> tuple[str, InlineKeyboardMarkup]:
    everything = await services.accounts.list_accounts(user)
    exchange = Exchange(exchange_filter) if exchange_filter in Exchange.__members__ else None
    active = {"on": True, "off": False}.get(active_filter)
    shown = [
        account
        for account in everything
        if (exchange is None or account.exchange is exchange)
        and (active is None or account.is_active is active)
    ]
    balances = await _balances(user, services)

    lines = [_("🏦 <b>Your accounts</b>")]
    if not shown:
        lines.append(_("No accounts match this filter."))
    for account in shown:
        total, error = balances.get(account.id, (None, None))
        lines.append(account_line(account, total, error, user))
    lines.append("")
    lines.append(_("★ marks the default account. Balances are valued in USDT."))
    present = sorted({account.exchange for account in everything}, key=list(Exchange).index)
    markup = keyboards.account_list(shown, present, exchange.value if exchange else "ALL", active_filter)
    return "\n".join(lines), markup


async def _balances(user: User, services: Services) -> dict[uuid.UUID, tuple[Decimal | None, str | None]]:
    """Value every active account once (the portfolio service reports unreachable ones)."""
    summary = await services.portfolio.summary(user)
    return {valuation.account.id: (valuation.total, valuation.error) for valuation in summary.accounts}


# ----- one account ----------------------------------------------------------------


def _account_id(callback_data: AccountAction) -> uuid.UUID:
    try:
        return uuid.UUID(hex=callback_data.account)
    except ValueError as exc:
        raise NotFoundError("account") from exc


async def _show_card(query: CallbackQuery, account: Account, user: User) -> None:
    if isinstance(query.message, Message):
        await query.message.edit_text(
            account_card(account, user), reply_markup=keyboards.account_card(account)
        )


@router.callback_query(AccountAction.filter(F.action == "open"))
async def open_account(
    query: CallbackQuery, callback_data: AccountAction, user: User, services: Services
) -> None:
    account = await services.accounts.get(user, _account_id(callback_data))
    await query.answer()
    await _show_card(query, account, user)


@router.callback_query(AccountAction.filter(F.action.in_({"on", "off"})), flags=MANAGE)
async def toggle_account(
    query: CallbackQuery, callback_data: AccountAction, user: User, services: Services
) -> None:
    active = callback_data.action == "on"
    account = await services.accounts.set_active(user, _account_id(callback_data), active)
    await query.answer(_("Activated") if active else _("Deactivated"))
    await _show_card(query, account, user)


@router.callback_query(AccountAction.filter(F.action == "default"), flags=MANAGE)
async def make_default(
    query: CallbackQuery, callback_data: AccountAction, user: User, services: Services
) -> None:
    account = await services.accounts.set_default(user, _account_id(callback_data))
    await query.answer(_("Default account changed"))
    await _show_card(query, account, user)


@router.callback_query(AccountAction.filter(F.action == "check"), flags=MANAGE)
async def recheck_keys(
    query: CallbackQuery, callback_data: AccountAction, user: User, services: Services
) -> None:
    account_id = _account_id(callback_data)
    await services.accounts.get(user, account_id)  # not found before any network call
    await query.answer(_("Checking…"))
    account, check = await services.key_monitor.recheck(user, account_id)
    if check.ok:
        lines = [_("✅ The key of “{name}” works.").format(name=esc(account.name))]
        lines.extend(permission_warnings(check.permissions, account.exchange, user))
    else:
        lines = ["⚠️ " + problem_text(check.problem or "EXCHANGE_ERROR", account.exchange)]
    if isinstance(query.message, Message):
        await query.message.answer("\n".join(lines))
    await _show_card(query, account, user)


@router.callback_query(AccountAction.filter(F.action == "remove"), flags=MANAGE)
async def ask_removal(
    query: CallbackQuery, callback_data: AccountAction, user: User, services: Services
) -> None:
    account = await services.accounts.get(user, _account_id(callback_data))
    if account.is_paper:
        raise ValidationError("PAPER_NOT_REMOVABLE", name=account.name)  # its card has no Remove button
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _(
                "Remove “{name}”? Its API keys are erased from PATRIOT at once and cannot be recovered; "
                "its order history stays. Delete the key on the exchange as well."
            ).format(name=esc(account.name)),
            reply_markup=keyboards.confirm_removal(account),
        )


@router.callback_query(
    AccountAction.filter(F.action == "remove_yes"), flags={**MANAGE, "pin": PinPurpose.REMOVE_ACCOUNT}
)
async def remove_account(
    query: CallbackQuery, callback_data: AccountAction, user: User, services: Services
) -> None:
    account = await services.accounts.remove(user, _account_id(callback_data))
    await query.answer(_("Removed"))
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("🗑 “{name}” was removed and its API keys were erased.").format(name=esc(account.name))
        )


# ----- rename ---------------------------------------------------------------------


@router.callback_query(AccountAction.filter(F.action == "rename"), flags=MANAGE)
async def ask_new_name(
    query: CallbackQuery, callback_data: AccountAction, user: User, services: Services, state: FSMContext
) -> None:
    account = await services.accounts.get(user, _account_id(callback_data))
    await query.answer()
    await state.set_state(AccountStates.rename)
    await state.update_data(account=account.id.hex)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Send the new name for “{name}”, or /cancel to keep it.").format(name=esc(account.name))
        )


@router.message(AccountStates.rename, F.text, ~F.text.startswith("/"), flags=MANAGE)
async def rename_account(message: Message, user: User, services: Services, state: FSMContext) -> None:
    account_id = uuid.UUID(hex=(await state.get_data())["account"])
    account = await services.accounts.rename(user, account_id, message.text or "")
    await state.clear()
    await message.answer(account_card(account, user), reply_markup=keyboards.account_card(account))
