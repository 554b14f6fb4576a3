"""The last stop for exceptions from handlers.

Engine errors (bad input, failed checks, exchange rejections) become the
localized explanation of their code. Anything else is an incident: it is
logged with a traceback under a short id, and the user gets that id.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import ErrorEvent, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.error_texts import describe_error
from bot.i18n import localized
from bot.routing import RouterBlueprint
from bot.services import Services
from engine.common.ids import new_incident_id
from engine.errors import PatriotError
from engine.users.validation import language_from_telegram

logger = logging.getLogger(__name__)
router = RouterBlueprint(__name__)


@router.errors()
async def handle_error(event: ErrorEvent, bot: Bot, i18n: I18n, services: Services) -> bool:
    update = event.update
    error = event.exception
    telegram_user_id, chat_id = _origin(update)
    language = await _language(services, update, telegram_user_id)

    if isinstance(error, TelegramForbiddenError):
        # The user blocked the bot: there is nobody to reply to.
        logger.info("Update %s: user %s has blocked the bot", update.update_id, telegram_user_id)
        return True
    if isinstance(error, TelegramRetryAfter | TelegramServerError | TelegramNetworkError) and chat_id:
        # Telegram refused or lost a reply (flood control, 5xx, no network): no bug of
        # ours, so no incident. The outbox tells the user once Telegram takes messages again.
        logger.warning(
            "Update %s from user %s: Telegram did not take the reply (%s); queuing a notice",
            update.update_id,
            telegram_user_id,
            type(error).__name__,
        )
        await _notice_lost_reply(services, i18n, chat_id, language)
        return True

    with localized(i18n, language):
        if isinstance(error, PatriotError):
            logger.info(
                "Update %s from user %s: %s %s", update.update_id, telegram_user_id, error.code, error
            )
            text = describe_error(error, language)
        else:
            incident = new_incident_id()
            logger.error(
                "Incident %s while handling update %s from user %s",
                incident,
                update.update_id,
                telegram_user_id,
                exc_info=error,
            )
            text = _(
                "⚠️ Something went wrong on our side. Incident <code>{incident}</code>: please tell "
                "support this id. Check /portfolio before you repeat an order."
            ).format(incident=incident)
        await _reply(bot, update, chat_id, text)
    return True


async def _notice_lost_reply(services: Services, i18n: I18n, chat_id: int, language: str) -> None:
    user = await services.users.get_by_telegram_id(chat_id)
    with localized(i18n, language):
        text = _(
            "⚠️ Telegram did not deliver my answer to your last message. If it placed, changed or "
            "cancelled an order, check /orders for the result before you repeat it; otherwise send it again."
        )
    await services.notifier.send(chat_id, text, user_id=user.id if user else None)


def _origin(update: Update) -> tuple[int | None, int | None]:
    if update.message is not None:
        sender = update.message.from_user
        return (sender.id if sender else None), update.message.chat.id
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat.id if query.message is not None else query.from_user.id
        return query.from_user.id, chat
    return None, None


async def _language(services: Services, update: Update, telegram_user_id: int | None) -> str:
    if telegram_user_id is None:
        return services.i18n.default_locale
    try:
        user = await services.users.get_by_telegram_id(telegram_user_id)
    except Exception:  # the database may be the very thing that failed
        logger.exception("Could not load user %s for an error reply", telegram_user_id)
        user = None
    if user is not None:
        return user.language
    sender = (
        update.message.from_user
        if update.message
        else (update.callback_query.from_user if update.callback_query else None)
    )
    return language_from_telegram(sender.language_code if sender else None)


async def _reply(bot: Bot, update: Update, chat_id: int | None, text: str) -> None:
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramAPIError as exc:
            # The handler may have answered it already; the message below still goes out.
            logger.debug("Callback query %s not answered again: %s", update.callback_query.id, exc)
    if chat_id is None:
        return
    try:
        await bot.send_message(chat_id, text)
    except TelegramAPIError as exc:
        logger.warning("Could not send the error reply to chat %s: %s", chat_id, exc)
