"""Callback data factories; every payload fits Telegram's 64-byte limit.

Ids travel as 32-character hex UUIDs. Every id that comes back is checked
against the presser's own records by the handler, never trusted.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from engine.users.models import RiskProfile


class RiskProfileChoice(CallbackData, prefix="rp"):
    profile: str
    purpose: str  # "reg" during registration, "set" from /settings

    def risk_profile(self) -> RiskProfile | None:
        """Return the chosen profile, or None for a forged or outdated value."""
        try:
            return RiskProfile(self.profile)
        except ValueError:
            return None


class SkipEmail(CallbackData, prefix="se"):
    pass


class SettingsAction(CallbackData, prefix="st"):
    action: str  # language, risk, email, email_clear, timezone, limits, slippage


class LanguageChoice(CallbackData, prefix="lg"):
    language: str


class DraftAction(CallbackData, prefix="od"):
    action: str  # ok, no
    draft: str  # hex UUID


class UsersPage(CallbackData, prefix="au"):
    page: int
    query: str  # letters, digits and _ only (a username or id fragment), max 24


class AuditPage(CallbackData, prefix="aa"):
    page: int


class UserStatusAction(CallbackData, prefix="us"):
    action: str  # suspend, activate
    telegram_id: int


class RebalanceAction(CallbackData, prefix="rb"):
    action: str  # ok, no
    plan: str  # hex UUID


class LinkExchangeChoice(CallbackData, prefix="lx"):
    exchange: str  # BINANCE, BYBIT, OKX, MEXC


class LinkStep(CallbackData, prefix="lk"):
    action: str  # start, default_name, real, testnet, retry, rekey, cancel


class AccountAction(CallbackData, prefix="ac"):
    action: str  # open, rename, off, on, default, check, remove, remove_yes
    account: str  # hex UUID


class AccountsView(CallbackData, prefix="av"):
    exchange: str  # ALL or an Exchange value
    active: str  # all, on, off


class AlertAction(CallbackData, prefix="al"):
    action: str  # sev (toggle a severity), quiet, report_on, report_off, report_time
    value: str = ""  # the severity for sev


class RiskLimitAction(CallbackData, prefix="rl"):
    action: str  # edit, reset
    limit: str = ""  # a LimitName value for edit


class OrderAction(CallbackData, prefix="oa"):
    action: str  # d details, m modify menu, c cancel, mp / mq / ms modify price / quantity / stop price
    order: str  # hex UUID


class OrdersPage(CallbackData, prefix="ol"):
    page: int
    status: str  # a key of bot.order_input.STATUS_FILTERS
    side: str  # "", BUY or SELL
    symbol: str  # compact symbol (BTCUSDT) or ""
    account: str  # first 8 hex digits of the account id, or ""
    since: str  # YYYYMMDD or ""
    until: str  # YYYYMMDD or ""


class CancelAll(CallbackData, prefix="ca"):
    symbol: str  # compact symbol or "" for every symbol
    confirmed: int  # 0 asks for confirmation, 1 cancels


class OrderFormChoice(CallbackData, prefix="of"):
    step: str  # account, symbol, side, type, quantity, tif
    value: str


class TwapSetup(CallbackData, prefix="tw"):
    draft: str  # hex UUID of the market-order draft
    slices: int  # 0 until chosen
    interval: int  # seconds; 0 until chosen


class TwapStart(CallbackData, prefix="ts"):
    draft: str
    slices: int
    interval: int


class TwapCancel(CallbackData, prefix="tc"):
    twap: str  # hex UUID


class PinAction(CallbackData, prefix="pn"):
    action: str  # set, change, remove


class BracketDraftAction(CallbackData, prefix="bd"):
    action: str  # ok, no
    draft: str  # hex UUID of the bracket's draft


class BracketAction(CallbackData, prefix="bk"):
    action: str  # d details, c ask to close, cy close
    bracket: str  # hex UUID


class BracketFormChoice(CallbackData, prefix="bf"):
    step: str  # account, symbol, side, entry, split, breakeven, exits
    value: str
