"""The trading PIN in /settings (set, change, remove) and the answer to a PIN prompt of the guard.

Every message that may carry a PIN is deleted before anything else is done
with it, valid or not. The PIN itself is never kept: between the steps of a
change the conversation state holds the entered PINs sealed by the vault,
as /link does with API keys.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, Update
from aiogram.utils.i18n import gettext as _

from bot.callbacks import PinAction, SettingsAction
from bot.error_texts import describe_error
from bot.filters import NotACommand
from bot.keyboards import button
from bot.pin_guard import CONFIRMED_KEY, PinStates, lockout_text
from bot.routing import RouterBlueprint
from bot.security_errors import attempt_text
from bot.services import Services
from engine.common.secrets import Secret
from engine.errors import ValidationError
from engine.security.pin import check_strength, read_pin
from engine.security.service import PinAttempt, PinState, Verdict
from engine.users.models import User

logger = logging.getLogger(__name__)
router = RouterBlueprint(__name__)

# Anything but a registered command that a user sends in a PIN step may be a PIN.
NOT_A_COMMAND = NotACommand()


class PinSetupStates(StatesGroup):
    current = State()  # the current PIN, before a change or a removal
    new = State()
    repeat = State()


# ----- the /settings page ----------------------------------------------------------


@router.callback_query(SettingsAction.filter(F.action == "pin"))
async def show_pin_page(query: CallbackQuery, user: User, services: Services) -> None:
    await query.answer()
    status = await services.pins.status(user)
    if isinstance(query.message, Message):
        await query.message.answer(
            _page_text(status.state, status.locked_until, user), reply_markup=_page_keys(status.state)
        )


def _page_text(state: PinState, locked_until: datetime | None, user: User) -> str:
    lines = [
        _("<b>Trading PIN</b>"),
        _(
            "With a PIN, orders on live exchange accounts, linking and removing accounts and changes of "
            "your risk limits ask for it. PAPER trading never does."
        ),
    ]
    if state is PinState.NOT_SET:
        lines.append(_("You have no PIN."))
    elif state is PinState.LOCKED:
        lines.append(lockout_text(locked_until, user))
    else:
        lines.append(_("Your PIN is set."))
    return "\n".join(lines)


def _page_keys(state: PinState) -> InlineKeyboardMarkup:
    if state is PinState.NOT_SET:
        rows = [[button(_("Set a PIN"), PinAction(action="set"))]]
    else:
        rows = [
            [button(_("Change the PIN"), PinAction(action="change"))],
            [button(_("Remove the PIN"), PinAction(action="remove"))],
        ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


@router.callback_query(PinAction.filter(F.action.in_({"set", "change", "remove"})))
async def start_setup(
    query: CallbackQuery, callback_data: PinAction, user: User, services: Services, state: FSMContext
) -> None:
    status = await services.pins.status(user)
    has_pin = status.state is not PinState.NOT_SET
    if (callback_data.action == "set") == has_pin:
        await query.answer(_("This button is no longer active."))
        return  # an old page: the PIN was set or removed since
    if status.state is PinState.LOCKED:
        await query.answer(lockout_text(status.locked_until, user)[:200].replace("🔒 ", ""), show_alert=True)
        return
    await query.answer()
    await state.clear()
    await state.update_data(goal=callback_data.action)
    if not isinstance(query.message, Message):
        return
    if has_pin:
        await state.set_state(PinSetupStates.current)
        await query.message.answer(
            _("Send your current PIN. I delete the message as soon as I have read it.")
        )
        return
    await _ask_new(query.message, state)


async def _ask_new(message: Message, state: FSMContext) -> None:
    await state.set_state(PinSetupStates.new)
    await message.answer(
        _(
            "Send the new PIN: 4 to 12 digits, not one repeated digit and not a run like 1234. "
            "I delete the message as soon as I have read it. /cancel keeps everything as it is."
        )
    )


@router.message(PinSetupStates.current, NOT_A_COMMAND)
async def receive_current(message: Message, user: User, services: Services, state: FSMContext) -> None:
    await delete_secret_message(message)
    pin = await _read(message, user)
    if pin is None:
        return
    goal = (await state.get_data()).get("goal")
    if goal == "remove":
        attempt = await services.pins.remove(user, pin)
        if attempt.accepted:
            await state.clear()
            await message.answer(_("✅ The PIN is removed. Guarded actions no longer ask for it."))
            return
    else:
        attempt = await services.pins.verify(user, pin, start_session=False)
        if attempt.accepted:
            await state.update_data(current=services.vault.seal(pin))
            await _ask_new(message, state)
            return
    await _refused(message, user, state, attempt)


@router.message(PinSetupStates.new, NOT_A_COMMAND)
async def receive_new(message: Message, user: User, services: Services, state: FSMContext) -> None:
    await delete_secret_message(message)
    pin = await _read(message, user)
    if pin is None:
        return
    try:
        check_strength(pin)
    except ValidationError as error:
        await message.answer(describe_error(error, user.language))
        return
    await state.update_data(new=services.vault.seal(pin))
    await state.set_state(PinSetupStates.repeat)
    await message.answer(_("Send the new PIN once more."))


@router.message(PinSetupStates.repeat, NOT_A_COMMAND)
async def receive_repeat(message: Message, user: User, services: Services, state: FSMContext) -> None:
    await delete_secret_message(message)
    pin = await _read(message, user)
    if pin is None:
        return
    data = await state.get_data()
    new = services.vault.open(data["new"])
    if pin != new:
        await state.set_state(PinSetupStates.new)
        await message.answer(_("The two PINs differ, so nothing changed. Send the new PIN again."))
        return

    if "current" in data:
        attempt = await services.pins.change(user, services.vault.open(data["current"]), new)
        if not attempt.accepted:
            await _refused(message, user, state, attempt)
            return
        text = _("✅ The PIN is changed.")
    else:
        await services.pins.set_first(user, new)
        text = _("✅ The PIN is set. Guarded actions ask for it from now on.")
    await state.clear()
    await message.answer(text)


async def _read(message: Message, user: User) -> Secret | None:
    try:
        return read_pin(message.text)
    except ValidationError as error:
        await message.answer(describe_error(error, user.language))
        return None


async def _refused(message: Message, user: User, state: FSMContext, attempt: PinAttempt) -> None:
    if attempt.verdict is Verdict.LOCKED:
        await state.clear()
    await message.answer(attempt_text(attempt, user))


# ----- the answer to the guard's prompt ---------------------------------------------


@router.message(PinStates.entry, NOT_A_COMMAND)
async def receive_guard_pin(
    message: Message, user: User, services: Services, state: FSMContext, bot: Bot, dispatcher: Dispatcher
) -> None:
    await delete_secret_message(message)
    data = await state.get_data()
    if _prompt_expired(services, data.get("asked_at")):
        await state.clear()
        await message.answer(_("The PIN request has expired and nothing was done. Repeat the action."))
        return
    pin = await _read(message, user)
    if pin is None:
        return

    attempt = await services.pins.verify(user, pin)
    if not attempt.accepted:
        await _refused(message, user, state, attempt)
        return
    await state.clear()
    await message.answer(_("✅ PIN accepted."))
    await replay(dispatcher, bot, message, data)


def _prompt_expired(services: Services, asked_at: str | None) -> bool:
    if not asked_at:
        return True
    age = services.clock.now() - datetime.fromisoformat(asked_at)
    return age.total_seconds() > services.settings.pin.prompt_seconds


async def replay(dispatcher: Dispatcher, bot: Bot, message: Message, data: dict[str, object]) -> None:
    """Feed the guarded update again, marked as confirmed for its purpose, so the action runs now."""
    resume = data["resume"]
    assert isinstance(resume, dict)
    sender, chat = message.from_user, message.chat
    if resume["kind"] == "callback":
        card = Message(message_id=resume["message_id"], date=message.date, chat=chat, text="")
        query = CallbackQuery(
            id=f"pin-{uuid.uuid4().hex}",
            from_user=sender,
            chat_instance=f"pin-{chat.id}",
            data=resume["data"],
            message=card,
        )
        update = Update(update_id=0, callback_query=query)
    else:
        command = Message(
            message_id=message.message_id, date=message.date, chat=chat, from_user=sender, text=resume["text"]
        )
        update = Update(update_id=0, message=command)
    logger.info("Running the %s action of user %s after a correct PIN", data["purpose"], chat.id)
    await dispatcher.feed_update(bot, update, **{CONFIRMED_KEY: data["purpose"]})


async def delete_secret_message(message: Message) -> None:
    """Delete a message that may hold a PIN; if Telegram refuses, ask the user to delete it."""
    try:
        await message.delete()
    except TelegramAPIError as exc:
        logger.warning("Could not delete a PIN message of user %s: %s", message.chat.id, exc)
        await message.answer(_("⚠️ I could not delete your message with the PIN. Please delete it yourself."))
