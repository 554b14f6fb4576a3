"""The outbox's messenger: one sendMessage per outbox row, Telegram errors mapped to their retry meaning."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)

from engine.notifications.ports import (
    DeliveryBlocked,
    DeliveryRejected,
    DeliveryRetryAfter,
    DeliveryTemporaryError,
)


class TelegramSender:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, chat_id: int, text: str) -> None:
        try:
            await self._bot.send_message(chat_id, text)
        except TelegramRetryAfter as exc:
            raise DeliveryRetryAfter(float(exc.retry_after)) from exc
        except TelegramForbiddenError as exc:
            raise DeliveryBlocked(exc.message) from exc
        except (TelegramBadRequest, TelegramNotFound, TelegramEntityTooLarge, TelegramMigrateToChat) as exc:
            raise DeliveryRejected(exc.message) from exc
        except (TelegramNetworkError, TelegramServerError) as exc:
            raise DeliveryTemporaryError(exc.message) from exc
        except TelegramAPIError as exc:
            # 401, 409 and codes aiogram does not name: retried with backoff, never lost silently.
            raise DeliveryTemporaryError(f"{type(exc).__name__}: {exc.message}") from exc
