"""/link: connect an exchange account with its API keys.

Steps: exchange → account name → API key → secret → passphrase (OKX) →
real or test environment (where the exchange has one) → check → saved.

Every message that carries a key, secret or passphrase is deleted as soon as
it is read, whether it is valid or not. Between steps the conversation state
keeps the keys encrypted by the vault, so a Redis FSM storage never contains
them in plain text. /cancel (bot/handlers/conversation.py) or the Cancel
button leaves at any step and stores nothing.
"""

from __future__ import annotations

import logging

from aiogram import F
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.callbacks import LinkExchangeChoice, LinkStep
from bot.commands import CommandSpec, register
from bot.error_texts import describe_error
from bot.filters import NotACommand
from bot.formatting import esc
from bot.pin_guard import PinPurpose
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views import account_errors  # noqa: F401 - registers the error texts
from bot.views import account_keyboards as keyboards
from bot.views.accounts import addresses_text, exchange_name, link_success_text, problem_text, testnet_name
from engine.accounts.linking import LinkRequest
from engine.accounts.models import LIVE_EXCHANGES, ApiCredentials, Exchange
from engine.accounts.validation import needs_passphrase, parse_key_part
from engine.errors import ValidationError
from engine.exchanges.capabilities import has_testnet
from engine.users.models import Permission, User

logger = logging.getLogger(__name__)
router = RouterBlueprint(__name__)

register(CommandSpec("link", __("Link an exchange account with its API keys"), order=31))

MANAGE = {"permission": Permission.MANAGE_ACCOUNTS}
# A key, secret or passphrase is always text; anything else in a key step is deleted too.
KEY_PARTS = ("api_key", "secret", "passphrase")


class LinkStates(StatesGroup):
    exchange = State()
    name = State()
    api_key = State()
    secret = State()
    passphrase = State()
    environment = State()
    check = State()


# ----- start, exchange and name ---------------------------------------------------


@router.message(Command("link"), flags={**MANAGE, "pin": PinPurpose.LINK})
async def start_link(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(LinkStates.exchange)
    await message.answer(_link_intro(), reply_markup=keyboards.exchanges())


@router.callback_query(LinkStep.filter(F.action == "start"), flags={**MANAGE, "pin": PinPurpose.LINK})
async def start_link_button(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.clear()
    await state.set_state(LinkStates.exchange)
    if isinstance(query.message, Message):
        await query.message.answer(_link_intro(), reply_markup=keyboards.exchanges())


def _link_intro() -> str:
    return _(
        "Which exchange do you want to link?\n\n"
        "Create a new API key for PATRIOT with <b>spot trading only</b>: reading and trading on, "
        "<b>withdrawals off</b>, restricted to {addresses}."
    ).format(addresses=addresses_text())


@router.callback_query(LinkStates.exchange, LinkExchangeChoice.filter(), flags=MANAGE)
async def choose_exchange(query: CallbackQuery, callback_data: LinkExchangeChoice, state: FSMContext) -> None:
    try:
        exchange = Exchange(callback_data.exchange)
    except ValueError:
        exchange = None
    if exchange not in LIVE_EXCHANGES:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    await state.update_data(exchange=exchange.value)
    await state.set_state(LinkStates.name)
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Exchange: {exchange}").format(exchange=exchange_name(exchange)))
        await query.message.answer(
            _("Send a name for this account (up to 32 characters), for example “{example}”.").format(
                example=esc(exchange_name(exchange) + " main")
            ),
            reply_markup=keyboards.default_name(exchange),
        )


@router.message(LinkStates.name, F.text, ~F.text.startswith("/"), flags=MANAGE)
async def name_account(message: Message, state: FSMContext, user: User, services: Services) -> None:
    exchange = Exchange((await state.get_data())["exchange"])
    text = message.text or ""
    if _looks_like_a_key(exchange, text):
        await _delete_secret_message(message)
        await message.answer(
            _("That looks like an API key, so I deleted it. Send a name for the account first.")
        )
        return
    try:
        name = await services.account_links.validate_name(user, text)
    except ValidationError as error:
        await message.answer(describe_error(error, user.language))
        return
    await _ask_for_key(message, state, exchange, name)


@router.callback_query(LinkStates.name, LinkStep.filter(F.action == "default_name"), flags=MANAGE)
async def use_default_name(query: CallbackQuery, state: FSMContext, user: User, services: Services) -> None:
    exchange = Exchange((await state.get_data())["exchange"])
    name = await services.account_links.validate_name(user, exchange_name(exchange))
    await query.answer()
    if isinstance(query.message, Message):
        await _ask_for_key(query.message, state, exchange, name)


async def _ask_for_key(message: Message, state: FSMContext, exchange: Exchange, name: str) -> None:
    await state.update_data(name=name)
    await state.set_state(LinkStates.api_key)
    await message.answer(
        _(
            "Account name: <b>{name}</b>.\n\n"
            "Now send the {exchange} <b>API key</b>. I delete your message as soon as I have read it."
        ).format(name=esc(name), exchange=exchange_name(exchange))
    )


def _looks_like_a_key(exchange: Exchange, text: str) -> bool:
    for part in ("api_key", "secret"):
        try:
            parse_key_part(exchange, part, text)
        except ValidationError:
            continue
        return True
    return False


# ----- key, secret, passphrase ----------------------------------------------------


@router.message(LinkStates.api_key, NotACommand(), flags=MANAGE)
async def receive_api_key(message: Message, state: FSMContext, user: User, services: Services) -> None:
    if await _receive_part(message, state, user, services, "api_key"):
        await state.set_state(LinkStates.secret)
        await message.answer(_("Key received and your message deleted. Now send the <b>API secret</b>."))


@router.message(LinkStates.secret, NotACommand(), flags=MANAGE)
async def receive_secret(message: Message, state: FSMContext, user: User, services: Services) -> None:
    if not await _receive_part(message, state, user, services, "secret"):
        return
    exchange = Exchange((await state.get_data())["exchange"])
    if needs_passphrase(exchange):
        await state.set_state(LinkStates.passphrase)
        await message.answer(
            _("Secret received and deleted. Now send the <b>passphrase</b> of this {exchange} key.").format(
                exchange=exchange_name(exchange)
            )
        )
        return
    await _ask_for_environment(message, state, user, services, exchange)


@router.message(LinkStates.passphrase, NotACommand(), flags=MANAGE)
async def receive_passphrase(message: Message, state: FSMContext, user: User, services: Services) -> None:
    if await _receive_part(message, state, user, services, "passphrase"):
        exchange = Exchange((await state.get_data())["exchange"])
        await _ask_for_environment(message, state, user, services, exchange)


async def _receive_part(
    message: Message, state: FSMContext, user: User, services: Services, part: str
) -> bool:
    """Delete the message, check the shape of the part and keep it encrypted; return whether it was valid."""
    await _delete_secret_message(message)
    if not message.text:
        await message.answer(_("Send it as a text message, please."))
        return False

    exchange = Exchange((await state.get_data())["exchange"])
    try:
        secret = parse_key_part(exchange, part, message.text)
    except ValidationError as error:
        await message.answer(describe_error(error, user.language))
        return False
    await state.update_data({part: services.vault.seal(secret)})
    return True


async def _delete_secret_message(message: Message) -> None:
    try:
        await message.delete()
    except TelegramAPIError as exc:
        logger.warning("Could not delete a key message of user %s: %s", message.chat.id, exc)
        await message.answer(_("⚠️ I could not delete your message with the key. Please delete it yourself."))


# ----- environment, check, save ---------------------------------------------------


async def _ask_for_environment(
    message: Message, state: FSMContext, user: User, services: Services, exchange: Exchange
) -> None:
    if has_testnet(exchange):
        await state.set_state(LinkStates.environment)
        await message.answer(
            _("Is this key for the real {exchange} account or for {testnet}?").format(
                exchange=exchange_name(exchange), testnet=testnet_name(exchange)
            ),
            reply_markup=keyboards.environments(exchange),
        )
        return
    await message.answer(
        _("{exchange} has no testnet, so this links your real {exchange} account.").format(
            exchange=exchange_name(exchange)
        )
    )
    await state.update_data(testnet=False)
    await _check_and_save(message, state, user, services)


@router.callback_query(
    LinkStates.environment, LinkStep.filter(F.action.in_({"real", "testnet"})), flags=MANAGE
)
async def choose_environment(
    query: CallbackQuery, callback_data: LinkStep, state: FSMContext, user: User, services: Services
) -> None:
    await query.answer()
    await state.update_data(testnet=callback_data.action == "testnet")
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _check_and_save(query.message, state, user, services)


@router.callback_query(LinkStates.check, LinkStep.filter(F.action == "retry"), flags=MANAGE)
async def check_again(query: CallbackQuery, state: FSMContext, user: User, services: Services) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _check_and_save(query.message, state, user, services)


@router.callback_query(LinkStates.check, LinkStep.filter(F.action == "rekey"), flags=MANAGE)
async def enter_keys_again(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    data = await state.get_data()
    await state.set_data({key: value for key, value in data.items() if key not in KEY_PARTS})
    await state.set_state(LinkStates.api_key)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            _("Send the {exchange} <b>API key</b> again.").format(
                exchange=exchange_name(Exchange(data["exchange"]))
            )
        )


async def _check_and_save(message: Message, state: FSMContext, user: User, services: Services) -> None:
    data = await state.get_data()
    exchange = Exchange(data["exchange"])
    await state.set_state(LinkStates.check)
    await message.answer(_("Checking the keys with {exchange}…").format(exchange=exchange_name(exchange)))

    vault = services.vault
    request = LinkRequest(
        exchange=exchange,
        name=data["name"],
        credentials=ApiCredentials(
            api_key=vault.open(data["api_key"]),
            secret=vault.open(data["secret"]),
            passphrase=vault.open(data["passphrase"]) if data.get("passphrase") else None,
        ),
        testnet=bool(data.get("testnet")),
    )
    check, account = await services.account_links.link(user, request)
    if account is None:
        await message.answer(
            "⚠️ " + problem_text(check.problem or "EXCHANGE_ERROR", exchange) + "\n" + _("Nothing was saved."),
            reply_markup=keyboards.check_failed(),
        )
        return
    await state.clear()
    await message.answer(link_success_text(account, check, user))


@router.callback_query(LinkStep.filter(F.action == "cancel"))
async def cancel_link(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(_("Cancelled"))
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Cancelled. Nothing was saved."))
