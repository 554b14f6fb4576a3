"""Inline keyboards of /accounts and /link."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.callbacks import AccountAction, AccountsView, LinkExchangeChoice, LinkStep
from bot.keyboards import button
from bot.views.accounts import EXCHANGE_NAMES, exchange_name, testnet_name
from engine.accounts.models import LIVE_EXCHANGES, Account, Exchange

ACCOUNT_BUTTON_TEXT_MAX = 40


def cancel_row() -> list[InlineKeyboardButton]:
    return [button(_("✖ Cancel"), LinkStep(action="cancel"))]


def exchanges() -> InlineKeyboardMarkup:
    rows = [
        [button(EXCHANGE_NAMES[exchange], LinkExchangeChoice(exchange=exchange.value))]
        for exchange in LIVE_EXCHANGES
    ]
    return InlineKeyboardMarkup(inline_keyboard=[*rows, cancel_row()])


def default_name(exchange: Exchange) -> InlineKeyboardMarkup:
    label = _("Use “{name}”").format(name=exchange_name(exchange))
    return InlineKeyboardMarkup(
        inline_keyboard=[[button(label, LinkStep(action="default_name"))], cancel_row()]
    )


def environments(exchange: Exchange) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("Real account"), LinkStep(action="real"))],
            [button(testnet_name(exchange), LinkStep(action="testnet"))],
            cancel_row(),
        ]
    )


def check_failed() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("🔁 Check again"), LinkStep(action="retry"))],
            [button(_("🔑 Enter the keys again"), LinkStep(action="rekey"))],
            cancel_row(),
        ]
    )


def account_list(
    accounts: list[Account], present: list[Exchange], exchange: str, active: str
) -> InlineKeyboardMarkup:
    rows = [
        [button(_account_label(account), AccountAction(action="open", account=account.id.hex))]
        for account in accounts
    ]
    if len(present) > 1:
        rows.append(
            [
                button(_mark(exchange == "ALL") + _("All"), AccountsView(exchange="ALL", active=active)),
                *(
                    button(
                        _mark(exchange == item.value) + exchange_name(item),
                        AccountsView(exchange=item.value, active=active),
                    )
                    for item in present
                ),
            ]
        )
    rows.append(
        [
            button(_mark(active == value) + label, AccountsView(exchange=exchange, active=value))
            for value, label in (("all", _("All")), ("on", _("Active")), ("off", _("Inactive")))
        ]
    )
    rows.append([button(_("➕ Link an exchange account"), LinkStep(action="start"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def account_card(account: Account) -> InlineKeyboardMarkup:
    key = account.id.hex
    rows = [[button(_("✏️ Rename"), AccountAction(action="rename", account=key))]]
    if account.is_active:
        rows[0].append(button(_("⏸ Deactivate"), AccountAction(action="off", account=key)))
        if not account.is_default:
            rows.append([button(_("★ Make default"), AccountAction(action="default", account=key))])
    else:
        rows[0].append(button(_("▶️ Activate"), AccountAction(action="on", account=key)))
    if not account.is_paper:
        rows.append(
            [
                button(_("🔑 Re-check keys"), AccountAction(action="check", account=key)),
                button(_("🗑 Remove"), AccountAction(action="remove", account=key)),
            ]
        )
    rows.append([button(_("« All accounts"), AccountsView(exchange="ALL", active="all"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_removal(account: Account) -> InlineKeyboardMarkup:
    key = account.id.hex
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(
                    _("🗑 Yes, remove it and erase its keys"), AccountAction(action="remove_yes", account=key)
                )
            ],
            [button(_("Keep it"), AccountAction(action="open", account=key))],
        ]
    )


def _account_label(account: Account) -> str:
    marks = "★ " if account.is_default else ""
    if not account.is_active:
        marks += "⏸ "
    label = f"{marks}{account.name} · {exchange_name(account.exchange)}"
    return label[:ACCOUNT_BUTTON_TEXT_MAX]


def _mark(selected: bool) -> str:
    return "✓ " if selected else ""
