"""Texts of /accounts and /link: account lines and cards, key problems and key warnings."""

from __future__ import annotations

from decimal import Decimal

from aiogram.utils.i18n import gettext as _

from bot.formatting import amount, esc, moment, money
from engine.accounts.models import Account, Exchange, KeyCheck, KeyPermissions, KeyStatus
from engine.exchanges.capabilities import has_testnet
from engine.portfolio.service import VALUATION_ASSET
from engine.users.models import User

# This server's public IP addresses (EXCHANGE_IP_WHITELIST), set by bot.app at start-up.
SERVER_ADDRESSES: list[str] = []

EXCHANGE_NAMES = {
    Exchange.BINANCE: "Binance",
    Exchange.BYBIT: "Bybit",
    Exchange.OKX: "OKX",
    Exchange.MEXC: "MEXC",
}
MAX_BALANCES_SHOWN = 5


def exchange_name(exchange: Exchange | str) -> str:
    if str(exchange) == Exchange.PAPER.value:
        return _("PAPER (practice)")
    try:
        return EXCHANGE_NAMES[Exchange(str(exchange))]
    except ValueError:
        return esc(exchange)


def testnet_name(exchange: Exchange) -> str:
    """Return the exchange's own name for its test environment."""
    if exchange is Exchange.OKX:
        return _("Demo trading")
    if exchange is Exchange.BINANCE:
        return _("Spot Testnet")
    return _("Testnet")


def addresses_text() -> str:
    """Return the server's IP addresses for a whitelist, or what to ask for when none are configured."""
    if SERVER_ADDRESSES:
        return ", ".join(f"<code>{esc(address)}</code>" for address in SERVER_ADDRESSES)
    return _("the IP address of this bot's server (ask its operator)")


def problem_text(problem: str, exchange: Exchange | str) -> str:
    """Explain a key problem and the fix, e.g. for AUTHENTICATION_FAILED or IP_NOT_ALLOWED."""
    name = exchange_name(exchange)
    texts = {
        "AUTHENTICATION_FAILED": _(
            "{exchange} did not accept the API key or the secret. Check that you copied both "
            "completely (for OKX also the passphrase) and that the key still exists."
        ),
        "KEY_REJECTED": _(
            "{exchange} rejected the key: either the key is wrong, or this server's IP address is "
            "not on the key's whitelist, or the key lacks a permission. Check the key, allow {addresses} "
            "in its IP whitelist, and enable spot trading."
        ),
        "KEY_EXPIRED": _("The {exchange} API key has expired. Create a new one and link it."),
        "IP_NOT_ALLOWED": _(
            "{exchange} refused this server's IP address. Add {addresses} to the key's IP whitelist, "
            "then check again."
        ),
        "WRONG_ENVIRONMENT": _(
            "This key belongs to the other {exchange} environment: demo trading keys work only in demo "
            "trading, real keys only on the real exchange."
        ),
        "PERMISSION_DENIED": _(
            "The key works but may not trade. Edit it on {exchange}: enable spot trading and keep "
            "withdrawals off."
        ),
        "ACCOUNT_SUSPENDED": _("{exchange} reports that the account is suspended or not enabled."),
        "EXCHANGE_UNREACHABLE": _(
            "{exchange} did not answer (network problem or maintenance). Nothing was saved; check "
            "again in a minute."
        ),
        "TESTNET_UNSUPPORTED": _("{exchange} has no testnet. Link the real account instead."),
    }
    template = texts.get(problem, _("{exchange} refused the keys ({code}). Check them and try again."))
    return template.format(exchange=name, addresses=addresses_text(), code=esc(problem))


def permission_warnings(permissions: KeyPermissions, exchange: Exchange, user: User) -> list[str]:
    """Return loud warnings about what the key may do, and what would make it safer."""
    lines = []
    if permissions.can_withdraw:
        lines.append(
            _(
                "🚨 <b>WARNING: this key can WITHDRAW funds.</b> Anyone who obtains it can empty your "
                "{exchange} account. Create a trade-only key (withdrawals off) restricted to {addresses}, "
                "link it, and delete this one."
            ).format(exchange=exchange_name(exchange), addresses=addresses_text())
        )
    elif permissions.can_withdraw is None:
        lines.append(
            _(
                "⚠️ {exchange} does not tell whether this key can withdraw. Make sure withdrawals are off "
                "for it."
            ).format(exchange=exchange_name(exchange))
        )
    if permissions.ip_restricted is False:
        lines.append(
            _("⚠️ The key works from any IP address. Restrict it to {addresses}.").format(
                addresses=addresses_text()
            )
        )
    if permissions.expires_at is not None:
        lines.append(
            _("⏳ The key expires on {date}.").format(
                date=moment(permissions.expires_at, user.timezone, user.language)
            )
        )
    return lines


def link_success_text(account: Account, check: KeyCheck, user: User) -> str:
    lines = [
        _("✅ Linked <b>{name}</b> ({exchange}).").format(
            name=esc(account.name), exchange=account_kind(account)
        )
    ]
    if check.balances:
        shown = sorted(check.balances.items(), key=lambda item: item[0])[:MAX_BALANCES_SHOWN]
        balances = ", ".join(amount(total, asset, user.language) for asset, total in shown)
        lines.append(_("Balances: {balances}").format(balances=balances))
    else:
        lines.append(_("The account has no balances yet."))
    lines.extend(permission_warnings(check.permissions, account.exchange, user))
    lines.append(_("Manage it in /accounts."))
    return "\n".join(lines)


def account_kind(account: Account) -> str:
    """Return the exchange's name, with its test environment where the account uses one."""
    name = exchange_name(account.exchange)
    if account.is_testnet and has_testnet(account.exchange):
        return f"{name}, {testnet_name(account.exchange)}"
    return name


def key_line(account: Account, user: User) -> str:
    hint = esc(account.key_hint or "")
    if account.key_status is KeyStatus.INVALID:
        return _("⛔ Key {hint} rejected: {problem}").format(
            hint=hint, problem=problem_text(account.key_problem or "AUTHENTICATION_FAILED", account.exchange)
        )
    checked = (
        moment(account.key_checked_at, user.timezone, user.language) if account.key_checked_at else _("never")
    )
    return _("🔑 Key {hint} works, last checked {time}").format(hint=hint, time=checked)


def account_line(account: Account, balance: Decimal | None, error: str | None, user: User) -> str:
    marks = "★ " if account.is_default else ""
    if not account.is_active:
        marks += "⏸ "
        value = _("inactive")
    elif account.key_status is KeyStatus.INVALID:
        value = _("key rejected")
    elif error is not None or balance is None:
        value = _("balance unavailable")
    else:
        value = money(balance, VALUATION_ASSET, user.language)
    return f"{marks}<b>{esc(account.name)}</b> — {account_kind(account)} — {value}"


def account_card(account: Account, user: User) -> str:
    lines = [
        f"<b>{esc(account.name)}</b>",
        _("Exchange: {exchange}").format(exchange=account_kind(account)),
        _("Status: {status}").format(status=_("active") if account.is_active else _("inactive")),
    ]
    if account.is_default:
        lines.append(_("★ Default account: orders go here unless you choose another."))
    if not account.is_paper:
        lines.append(key_line(account, user))
        if account.can_withdraw:
            lines.append(_("🚨 This key can withdraw funds. Replace it with a trade-only key."))
    return "\n".join(lines)
