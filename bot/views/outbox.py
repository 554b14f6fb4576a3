"""The outbox figures on /stats."""

from __future__ import annotations

from decimal import Decimal

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.formatting import esc, moment, number
from engine.notifications.models import OutboxStats


def outbox_lines(stats: OutboxStats) -> list[str]:
    locale = get_i18n().current_locale
    lines = [
        _("<b>Notifications</b>"),
        _("Waiting: {pending} (in flight {sending})").format(pending=stats.pending, sending=stats.sending),
    ]
    if stats.oldest_pending_at is not None:
        lines.append(
            _("Oldest waiting since {time}").format(time=moment(stats.oldest_pending_at, "UTC", locale))
        )
    rate = number(Decimal(stats.sent_last_minute) / 60, locale, places=2)
    lines += [
        _("Sent: {minute} in the last minute ({rate}/s), {hour} in the last hour").format(
            minute=stats.sent_last_minute, rate=rate, hour=stats.sent_last_hour
        ),
        _("Failed in 24 h: {failed}; skipped: {skipped}; chats that blocked the bot: {blocked}").format(
            failed=stats.failed_last_day, skipped=stats.skipped_last_day, blocked=stats.unreachable_chats
        ),
    ]
    for reason, count in stats.top_failures:
        lines.append(f"  {count} × {esc(reason[:120])}")
    return lines
