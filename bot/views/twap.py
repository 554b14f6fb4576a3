"""Texts about TWAP executions: the plan, progress and the end."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from aiogram.utils.i18n import gettext as _

from bot.formatting import amount, esc, number
from bot.order_keyboards import interval_label
from bot.texts import side_name
from bot.views.orders import base_quote, reason_text
from engine.orders.models import OrderRequest
from engine.orders.twap import TwapProgress
from engine.orders.twap_models import TwapStatus, slice_quantity


def twap_slices_question(request: OrderRequest, locale: str) -> str:
    return _("🧩 Split {side} {quantity} {symbol} into how many slices?").format(
        side=side_name(request.side), quantity=number(request.quantity, locale), symbol=esc(request.symbol)
    )


def twap_interval_question(slices: int) -> str:
    return _("{slices} slices. How long between two slices?").format(slices=slices)


def twap_plan(request: OrderRequest, slices: int, interval: int, step: Decimal, locale: str) -> str:
    base, _quote = base_quote(request.symbol)
    duration = timedelta(seconds=interval * (slices - 1))
    return "\n".join(
        [
            _("🧩 <b>TWAP</b>: {side} {quantity} {symbol}").format(
                side=side_name(request.side),
                quantity=number(request.quantity, locale),
                symbol=esc(request.symbol),
            ),
            _(
                "{slices} market orders of {slice} each, one every {interval}; the last one after {duration}."
            ).format(
                slices=slices,
                slice=amount(slice_quantity(request.quantity, slices, 0, step), base, locale),
                interval=interval_label(interval),
                duration=str(duration),
            ),
            _("The first slice goes out when you press Start. You can stop the TWAP at any time."),
        ]
    )


def twap_progress(progress: TwapProgress, locale: str) -> str:
    twap = progress.twap
    base, quote = base_quote(twap.symbol)
    text = _("🧩 TWAP {twap_id}: {sent} of {slices} slices sent, filled {filled} of {total}").format(
        twap_id=f"<code>{twap.short_id}</code>",
        sent=twap.slices_sent,
        slices=twap.slices,
        filled=amount(progress.filled_quantity, base, locale),
        total=number(twap.total_quantity, locale),
    )
    if progress.average_price is not None:
        text += ", " + _("average price {price}").format(price=amount(progress.average_price, quote, locale))
    return text + "."


def twap_end(progress: TwapProgress, locale: str) -> str:
    twap = progress.twap
    head = {
        TwapStatus.COMPLETED: _("✅ TWAP finished."),
        TwapStatus.CANCELLED: _("⏹ TWAP stopped; no more slices will be sent."),
        TwapStatus.FAILED: _("❌ TWAP stopped after an error: {reason}").format(
            reason=reason_text(twap.reason)
        ),
        TwapStatus.ACTIVE: "",
    }[twap.status]
    return (head + "\n" if head else "") + twap_progress(progress, locale)


def active_twaps(progresses: list[TwapProgress], locale: str) -> str:
    if not progresses:
        return _(
            "No TWAP is running. A market order whose price impact is above your maximum slippage offers one."
        )
    return "\n".join([_("<b>Running TWAPs</b>")] + [twap_progress(item, locale) for item in progresses])
