"""Texts about brackets: the confirmation card, a bracket's state, the list, and each step's message."""

from __future__ import annotations

from decimal import Decimal

from aiogram.utils.i18n import gettext as _

from bot.error_texts import explain_reason
from bot.formatting import amount, esc, money, number, percent
from bot.texts import side_name
from bot.views.orders import base_quote, check_lines, impact_lines
from engine.brackets.models import Bracket, BracketStatus, CloseReason, ExitMode, LegRole
from engine.brackets.service import BracketPreview, BracketView
from engine.common.money import ZERO


def short(bracket: Bracket) -> str:
    return f"<code>{bracket.short_id}</code>"


def status_name(status: BracketStatus) -> str:
    return {
        BracketStatus.PENDING: _("waiting for the entry"),
        BracketStatus.ENTERING: _("entry partly filled"),
        BracketStatus.OPEN: _("open"),
        BracketStatus.CLOSING: _("closing"),
        BracketStatus.CLOSED: _("closed"),
        BracketStatus.CANCELLED: _("cancelled"),
    }[status]


def close_reason_text(reason: CloseReason | None) -> str:
    if reason is None:
        return "-"
    return {
        CloseReason.STOP: _("by the stop-loss"),
        CloseReason.STOP_PASSED: _("at market: the price was already beyond the stop"),
        CloseReason.TARGETS: _("by the last target"),
        CloseReason.USER: _("by you"),
        CloseReason.POSITION_GONE: _("because the account no longer holds what the bracket needs to close"),
        CloseReason.DUST: _("with a rest below the market's minimum left in the account"),
        CloseReason.ENTRY_CANCELLED: _("the entry was cancelled before it filled"),
        CloseReason.ENTRY_REJECTED: _("the entry was rejected"),
        CloseReason.ENTRY_NOT_SENT: _("the entry never reached the exchange"),
    }[reason]


def exit_mode_text(mode: ExitMode) -> str:
    if mode is ExitMode.NATIVE:
        return _(
            "Exits rest on the exchange as OCO orders, a take-profit and a stop for each target, "
            "so they protect the position even while the bot is offline."
        )
    return _(
        "Exits are watched by the bot, which sends a market order when the stop or a target is reached. "
        "This protection works only while the bot runs."
    )


def stop_limit_text(stop: Decimal, offset: Decimal, quote: str, locale: str) -> str:
    """Warn that a stop leg resting as a stop-limit may stay unfilled when the price gaps past its limit."""
    return "ℹ️ " + _(
        "This exchange has no market-priced stop for this pair, so each stop rests as a stop-limit order: "
        "when the price reaches {stop}, it places a limit order {offset} beyond the stop. If the price "
        "jumps past that limit, the order stays unfilled until the bot sees it and exits at market, "
        "which works only while the bot runs."
    ).format(stop=amount(stop, quote, locale), offset=percent(offset, locale))


def signed_money(value: Decimal, asset: str, locale: str) -> str:
    sign = "+" if value >= ZERO else "−"
    return f"{sign}{money(abs(value), asset, locale)}"


def entry_text(side_and_size: str, price: Decimal | None, quote: str, locale: str) -> str:
    if price is None:
        return _("{order} at market").format(order=side_and_size)
    return _("{order}, limit at {price}").format(order=side_and_size, price=amount(price, quote, locale))


# ----- the confirmation card -------------------------------------------------------------


def bracket_card(preview: BracketPreview, locale: str, ttl_seconds: int) -> str:
    plan = preview.plan
    _base, quote = base_quote(plan.symbol)
    order = _("{side} {quantity} {symbol}").format(
        side=side_name(plan.side), quantity=number(plan.quantity, locale), symbol=esc(plan.symbol)
    )
    lines = [
        _("🎯 <b>Confirm the bracket</b>"),
        _("{entry} on {account}").format(
            entry=entry_text(order, plan.entry_price, quote, locale), account=esc(preview.account.name)
        ),
    ]
    lines.extend(_exit_lines(preview, locale))
    lines.extend(_risk_lines(preview, locale))

    if plan.breakeven:
        lines.append(_("Breakeven: after the first target fills, the stop moves to the average entry price."))
    lines.append(exit_mode_text(plan.exit_mode))
    if preview.stop_limit_offset is not None:
        lines.append(stop_limit_text(plan.stop_price, preview.stop_limit_offset, quote, locale))
    if preview.partial_fill_unprotected:
        lines.append(
            "ℹ️ "
            + _(
                "When a target fills only in part, the exchange cancels its stop. The bot places a new pair "
                "for the rest when it sees that, so the rest is protected only while the bot runs."
            )
        )
    lines.extend(impact_lines(preview.entry, locale))
    lines.append(check_lines(preview.entry.report, locale))
    lines.append(
        _("Nothing is sent until you press Confirm. This offer expires in {seconds} s.").format(
            seconds=ttl_seconds
        )
    )
    return "\n".join(lines)


def _exit_lines(preview: BracketPreview, locale: str) -> list[str]:
    """Return the entry estimate, the stop with its loss, and each target with its quantity and gain."""
    plan, figures = preview.plan, preview.figures
    base, quote = base_quote(plan.symbol)
    lines = []
    if not plan.is_long:
        lines.append(
            "ℹ️ "
            + _(
                "On a spot account this sells {base} you hold and buys it back: "
                "lower at the targets, higher at the stop."
            ).format(base=esc(base))
        )
    if plan.entry_price is None or figures.entry_price != plan.entry_price:
        # A market entry, or a limit already past the market, which fills at the market's price.
        lines.append(_("Estimated entry: {price}").format(price=amount(figures.entry_price, quote, locale)))
    lines.append(
        _("Stop-loss: {price}; loss at the stop {loss}").format(
            price=amount(plan.stop_price, quote, locale),
            loss=signed_money(-figures.loss_at_stop, quote, locale),
        )
    )

    lines.append(_("Targets:"))
    merged = {merge.target for merge in plan.merges}
    for index, (target, gain) in enumerate(zip(plan.targets, figures.gains, strict=True), start=1):
        if target.quantity <= ZERO:
            if index not in merged:
                lines.append(
                    "ℹ️ "
                    + _("Target {number} gets no quantity: its share rounds to zero.").format(number=index)
                )
            continue
        lines.append(
            "  "
            + _("{number}. {price} for {quantity}: {gain}").format(
                number=index,
                price=amount(target.price, quote, locale),
                quantity=amount(target.quantity, base, locale),
                gain=signed_money(gain, quote, locale),
            )
        )
        if gain <= ZERO:
            lines.append(
                "⚠️ "
                + _("Target {number} gains nothing after fees: move it further from the entry.").format(
                    number=index
                )
            )
    for merge in plan.merges:
        lines.append(
            "ℹ️ "
            + _(
                "The share of target {target} ({quantity}) is below the market's minimum, "
                "so it goes to target {into}."
            ).format(target=merge.target, quantity=amount(merge.quantity, base, locale), into=merge.into)
        )
    return lines


def _risk_lines(preview: BracketPreview, locale: str) -> list[str]:
    figures = preview.figures
    lines = [_("Gains and losses include the fees of both trades at the taker rate.")]
    ratio = figures.reward_to_risk
    if ratio is not None:
        lines.append(
            _("Reward to risk: {ratio} (every target against the stop)").format(
                ratio=("−" if ratio < ZERO else "") + number(abs(ratio), locale, 2)
            )
        )
    share = figures.equity_at_risk
    if share is not None:
        lines.append(_("Equity at risk: {share}").format(share=percent(share, locale)))
    return lines


# ----- state ---------------------------------------------------------------------------


def bracket_state(view: BracketView, locale: str) -> str:
    bracket, position = view.bracket, view.position
    base, quote = base_quote(bracket.symbol)
    lines = [
        _("🎯 <b>Bracket {bracket_id}</b>: {status}").format(
            bracket_id=short(bracket), status=status_name(bracket.status)
        ),
        _("{side} {quantity} {symbol}").format(
            side=side_name(bracket.side),
            quantity=number(bracket.quantity, locale),
            symbol=esc(bracket.symbol),
        ),
    ]
    lines.extend(_entry_and_targets(view, locale))

    if bracket.status.is_active and position.entered > ZERO:
        lines.append(_("Open: {quantity}").format(quantity=amount(position.open_quantity, base, locale)))
    stopped = position.exited(LegRole.STOP) + position.exited(LegRole.CLOSE)
    if stopped > ZERO:
        lines.append(
            _("Closed by stop or at market: {quantity}").format(quantity=amount(stopped, base, locale))
        )
    if position.exited_total > ZERO:
        lines.append(_("Realized: {result}").format(result=signed_money(position.realized(), quote, locale)))

    if bracket.status.is_terminal:
        lines.append(close_line(bracket))
    else:
        lines.append(exit_mode_text(bracket.exit_mode))
    if bracket.fallback_reason:
        lines.append(
            _("Native exits were rejected: {reason}").format(
                reason=explain_reason(bracket.fallback_reason, locale)
            )
        )
    return "\n".join(lines)


def _entry_and_targets(view: BracketView, locale: str) -> list[str]:
    bracket, position = view.bracket, view.position
    base, quote = base_quote(bracket.symbol)
    lines = []
    entry = position.entry
    if entry is not None and entry.filled_quantity > ZERO and entry.average_price is not None:
        lines.append(
            _("Entry: {filled} at an average {price}").format(
                filled=amount(position.entered, base, locale),
                price=amount(entry.average_price, quote, locale),
            )
        )
    elif bracket.entry_price is not None:
        lines.append(
            _("Entry: limit at {price}, not filled yet").format(
                price=amount(bracket.entry_price, quote, locale)
            )
        )
    stop = _("Stop: {price}").format(price=amount(bracket.active_stop, quote, locale))
    if bracket.stop_moved and bracket.active_stop != bracket.stop_price:
        stop += " " + _("(moved to breakeven)")
    lines.append(stop)

    exited = position.exited_by_targets()
    for index, (target, done) in enumerate(zip(bracket.targets, exited, strict=True), start=1):
        if target.quantity <= ZERO:
            continue
        lines.append(
            f"  {_fill_mark(done, target.quantity)} "
            + _("Target {number}: {price} for {quantity}, filled {done}").format(
                number=index,
                price=amount(target.price, quote, locale),
                quantity=number(target.quantity, locale),
                done=number(done, locale),
            )
        )
    return lines


def _fill_mark(done: Decimal, planned: Decimal) -> str:
    if done >= planned:
        return "✅"
    if done > ZERO:
        return "🔸"
    return "▫️"


def close_line(bracket: Bracket) -> str:
    if bracket.status is BracketStatus.CANCELLED:
        return _("Cancelled: {reason}. Nothing was armed.").format(
            reason=close_reason_text(bracket.close_reason)
        )
    return _("Closed {reason}.").format(reason=close_reason_text(bracket.close_reason))


def brackets_list(views: list[BracketView], locale: str) -> str:
    if not views:
        return _(
            "No bracket is running. Start one with /bracket, e.g. "
            "<code>/bracket BTCUSDT buy 0.01 entry=market sl=42000 tp=44000,45000</code>"
        )
    lines = [_("🎯 <b>Brackets</b>")]
    for view in views:
        bracket, position = view.bracket, view.position
        base, quote = base_quote(bracket.symbol)
        lines.append(
            _("{bracket_id} {side} {symbol}: {status}, open {open}, stop {stop}").format(
                bracket_id=short(bracket),
                side=side_name(bracket.side),
                symbol=esc(bracket.symbol),
                status=status_name(bracket.status),
                open=amount(position.open_quantity, base, locale),
                stop=amount(bracket.active_stop, quote, locale),
            )
        )
    return "\n".join(lines)


# ----- each step's message -----------------------------------------------------------------


def entry_filled(bracket: Bracket, filled: Decimal, done: bool, price: Decimal | None, locale: str) -> str:
    base, quote = base_quote(bracket.symbol)
    text = _("🎯 Bracket {bracket_id}: entry filled {filled} of {quantity}").format(
        bracket_id=short(bracket),
        filled=amount(filled, base, locale),
        quantity=number(bracket.quantity, locale),
    )
    if price is not None:
        text += " " + _("at an average {price}").format(price=amount(price, quote, locale))
    if not done:
        text += ". " + _("The rest of the entry is still working.")
    return text


def exits_armed(bracket: Bracket, cover: Decimal, layout: tuple[Decimal, ...], locale: str) -> str:
    base, quote = base_quote(bracket.symbol)
    targets = ", ".join(
        _("{price} for {quantity}").format(
            price=amount(target.price, quote, locale), quantity=number(size, locale)
        )
        for target, size in zip(bracket.targets, layout, strict=True)
        if size > ZERO
    )
    text = _("🛡 Bracket {bracket_id}: exits armed for {cover}. Stop {stop}; targets {targets}.").format(
        bracket_id=short(bracket),
        cover=amount(cover, base, locale),
        stop=amount(bracket.active_stop, quote, locale),
        targets=targets or "-",
    )
    return text + "\n" + exit_mode_text(bracket.exit_mode)


def target_hit(
    bracket: Bracket,
    target: int,
    quantity: Decimal,
    price: Decimal | None,
    result: Decimal,
    open_quantity: Decimal,
    locale: str,
) -> str:
    base, quote = base_quote(bracket.symbol)
    template = (
        _("✅ Bracket {bracket_id}: target {number} hit, {quantity} sold at {price}.")
        if bracket.is_long
        else _("✅ Bracket {bracket_id}: target {number} hit, {quantity} bought back at {price}.")
    )
    text = template.format(
        bracket_id=short(bracket),
        number=target,
        quantity=amount(quantity, base, locale),
        # The average fill: a watched target is sold at market, near but not at its price.
        price=amount(price if price is not None else bracket.targets[target - 1].price, quote, locale),
    )
    return (
        text
        + " "
        + _("Realized {result}. Open: {open}.").format(
            result=signed_money(result, quote, locale), open=amount(open_quantity, base, locale)
        )
    )


def stop_moved(bracket: Bracket, stop: Decimal, open_quantity: Decimal, locale: str) -> str:
    base, quote = base_quote(bracket.symbol)
    return _("🔒 Bracket {bracket_id}: stop moved to breakeven {stop} for the open {open}.").format(
        bracket_id=short(bracket), stop=amount(stop, quote, locale), open=amount(open_quantity, base, locale)
    )


def closed(bracket: Bracket, result: Decimal, locale: str) -> str:
    _base, quote = base_quote(bracket.symbol)
    return _("🏁 Bracket {bracket_id} closed {reason}. Result: {result}, fees included.").format(
        bracket_id=short(bracket),
        reason=close_reason_text(bracket.close_reason),
        result=signed_money(result, quote, locale),
    )


def cancelled(bracket: Bracket) -> str:
    return _("✖ Bracket {bracket_id} cancelled: {reason}. Nothing was armed.").format(
        bracket_id=short(bracket), reason=close_reason_text(bracket.close_reason)
    )


def fallback(bracket: Bracket, reason: str, locale: str) -> str:
    return _(
        "⚠️ Bracket {bracket_id}: the exchange refused the exit orders ({reason}). "
        "The bot now watches the prices and exits at market. This protection works only while the bot runs."
    ).format(bracket_id=short(bracket), reason=explain_reason(reason, locale))
