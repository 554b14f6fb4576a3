"""The PIN guard: a guarded action asks for the trading PIN, then runs once the PIN is right.

Two ways to guard a handler, both backed by ``PinCheck``:

- a flag, for actions that always need the PIN:
  ``@router.callback_query(..., flags={"pin": PinPurpose.LINK})``;
- a call, for actions that need it only sometimes (a live order, not a PAPER one):
  ``if not await pin.confirmed(PinPurpose.LIVE_ORDER, applies=is_live): return``
  where the handler takes ``pin: PinCheck`` and ``is_live`` is an async callable.

When the user has no PIN, or entered it within PIN_SESSION_SECONDS, the
action runs at once. Otherwise the guard answers the press, stores what the
user did (the button's callback data, or the command text) in the
conversation state and asks for the PIN. ``bot.handlers.user.pin`` checks
the answer and, when it is right, feeds the same update through the
dispatcher again with ``pin_confirmed`` set, so the action runs with every
other check (ownership, draft still open, rate limits) done again. During a
lockout a guarded action is refused with the time it ends.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from aiogram.dispatcher.flags import get_flag
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.formatting import moment
from bot.services import Services
from engine.security.service import PinState
from engine.users.models import User

logger = logging.getLogger(__name__)

# Key of the handler data that marks the replay of an action after a correct PIN.
CONFIRMED_KEY = "pin_confirmed"


class PinPurpose(StrEnum):
    # Confirm of an order, a TWAP, a rebalance or a bracket on a live (non-PAPER) account.
    LIVE_ORDER = "live_order"
    LINK = "link"  # /link: new API keys
    REMOVE_ACCOUNT = "remove_account"
    LIMITS = "limits"  # the user's risk limits and risk profile
    ADMIN = "admin"  # an admin changing limits or another user's PIN


class PinStates(StatesGroup):
    entry = State()


def purpose_text(purpose: str) -> str:
    texts = {
        PinPurpose.LIVE_ORDER: _("This order goes to a live exchange account."),
        PinPurpose.LINK: _("You are linking an exchange account."),
        PinPurpose.REMOVE_ACCOUNT: _("You are removing an exchange account."),
        PinPurpose.LIMITS: _("You are changing your risk limits."),
        PinPurpose.ADMIN: _("This admin action changes other users' settings."),
    }
    return texts.get(purpose, _("This action is protected by your PIN."))


def lockout_text(until: datetime | None, user: User) -> str:
    when = moment(until, user.timezone, user.language) if until else "?"
    return _(
        "🔒 Too many wrong PINs: orders on live accounts, linking and removing accounts and limit changes "
        "are locked until {time}. If you forgot the PIN, ask an admin to reset it."
    ).format(time=when)


def live_account(services: Services, user: User, account_id: uuid.UUID) -> Callable[[], Awaitable[bool]]:
    """Return the ``applies`` check of an order: True when its account is on a live exchange."""

    async def is_live() -> bool:
        account = await services.orders.account(user, account_id)
        return not account.is_paper

    return is_live


class PinCheck:
    """Asks for the PIN before one guarded action of one update; handlers receive it as ``pin``."""

    def __init__(self, event: TelegramObject, data: dict[str, Any]) -> None:
        self._event = event
        self._data = data

    async def confirmed(self, purpose: str, *, applies: Callable[[], Awaitable[bool]] | None = None) -> bool:
        """Return True when the action may run now; otherwise ask for the PIN (or refuse) and return False.

        ``applies`` is awaited only when the PIN would be asked, to learn
        whether this action needs it at all (a live account, say).
        """
        if self._data.get(CONFIRMED_KEY) == purpose:
            return True  # the replay after the user entered the right PIN
        user: User | None = self._data.get("user")
        if user is None:
            return True  # admins who never registered have no PIN
        services: Services = self._data["services"]
        status = await services.pins.status(user)
        if status.state in (PinState.NOT_SET, PinState.CONFIRMED):
            return True
        if applies is not None and not await applies():
            return True

        if status.state is PinState.LOCKED:
            logger.info("Refused a %s action of user %s: the PIN is locked", purpose, user.telegram_id)
            await self._reply(lockout_text(status.locked_until, user), alert=True)
            return False
        await self._ask(purpose, user, services)
        return False

    async def _ask(self, purpose: str, user: User, services: Services) -> None:
        state: FSMContext = self._data["state"]
        resume = self._resume()
        if resume is None:
            return
        await state.set_state(PinStates.entry)
        await state.set_data(
            {"purpose": purpose, "resume": resume, "asked_at": services.clock.now().isoformat()}
        )
        seconds = services.settings.pin.prompt_seconds
        logger.info("Asked user %s for the PIN before a %s action", user.telegram_id, purpose)
        if isinstance(self._event, CallbackQuery):
            await self._event.answer(_("Enter your PIN to continue"))
        chat = self._chat_message()
        if chat is not None:
            await chat.answer(
                "🔐 "
                + purpose_text(purpose)
                + "\n"
                + _(
                    "Send your trading PIN within {seconds} s. I delete your message as soon as I "
                    "have read it. /cancel drops the action."
                ).format(seconds=seconds)
            )

    def _resume(self) -> dict[str, Any] | None:
        """Describe the update so it can be fed again: a button press or a command."""
        event = self._event
        if isinstance(event, CallbackQuery) and isinstance(event.message, Message) and event.data:
            return {"kind": "callback", "data": event.data, "message_id": event.message.message_id}
        # A command may come as a photo's caption (aiogram's Command reads it too); its replay is text.
        command = event.text or event.caption if isinstance(event, Message) else None
        if command:
            return {"kind": "message", "text": command}
        return None

    def _chat_message(self) -> Message | None:
        if isinstance(self._event, Message):
            return self._event
        if isinstance(self._event, CallbackQuery) and isinstance(self._event.message, Message):
            return self._event.message
        return None

    async def _reply(self, text: str, *, alert: bool) -> None:
        if isinstance(self._event, CallbackQuery):
            await self._event.answer(_strip_markup(text)[:200], show_alert=alert)
            return
        if isinstance(self._event, Message):
            await self._event.answer(text)


def _strip_markup(text: str) -> str:
    return text.replace("<b>", "").replace("</b>", "")


async def guard(event: TelegramObject, data: dict[str, Any]) -> bool:
    """Give the handler a ``pin`` check; for handlers flagged ``{"pin": purpose}`` run it first.

    Return False when the PIN prompt (or the lockout notice) replaced the action.
    """
    check = PinCheck(event, data)
    data["pin"] = check
    purpose = get_flag(data, "pin")
    return purpose is None or await check.confirmed(str(purpose))
