"""/start: registration of a new trader, and the welcome of a returning one."""

from __future__ import annotations

import logging

from aiogram import F
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import keyboards
from bot.callbacks import RiskProfileChoice, SkipEmail
from bot.commands import CommandSpec, register
from bot.error_texts import describe_error
from bot.formatting import esc, money
from bot.middlewares.access import PUBLIC
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.texts import risk_profile_name
from engine.errors import ValidationError
from engine.users.models import RiskProfile, User
from engine.users.service import Registration
from engine.users.validation import (
    is_valid_username,
    language_from_telegram,
    validate_email,
    validate_username,
)

logger = logging.getLogger(__name__)
router = RouterBlueprint(__name__)

register(CommandSpec("start", __("Register or show the main menu"), order=0))


class RegistrationStates(StatesGroup):
    username = State()
    risk_profile = State()
    email = State()


@router.message(CommandStart(), flags={"access": PUBLIC})
async def start(
    message: Message, state: FSMContext, user: User | None, services: Services, i18n: I18n
) -> None:
    if user is not None:
        await state.clear()
        await message.answer(
            _("Welcome back, {name}! Choose an action below or send /help.").format(name=esc(user.username)),
            reply_markup=keyboards.main_menu(),
        )
        return

    telegram_user = message.from_user
    assert telegram_user is not None
    language = language_from_telegram(telegram_user.language_code)
    await state.clear()
    await state.set_data({"language": language, "first_name": telegram_user.first_name or ""})

    with i18n.use_locale(language):
        await message.answer(
            _(
                "👋 Welcome to PATRIOT, a trading assistant for crypto exchanges.\n"
                "You get a paper account with {balance} to practise on real market prices."
            ).format(balance=money(services.settings.paper.starting_balance, "USDT", language))
        )
        candidate = telegram_user.username
        if is_valid_username(candidate) and await services.users.is_username_free(candidate or ""):
            await state.update_data(username=candidate)
            await _ask_risk_profile(message, state)
        else:
            await _ask_username(message, state)


async def _ask_username(message: Message, state: FSMContext) -> None:
    await state.set_state(RegistrationStates.username)
    await message.answer(_("Choose a username: 3 to 50 Latin letters, digits or _."))


async def _ask_risk_profile(message: Message, state: FSMContext) -> None:
    await state.set_state(RegistrationStates.risk_profile)
    await message.answer(
        _(
            "Choose your risk profile. It sets the default limits on order size, position size, "
            "leverage and daily loss. You can change it later in /settings."
        ),
        reply_markup=keyboards.risk_profiles("reg"),
    )


@router.message(RegistrationStates.username, F.text, ~F.text.startswith("/"), flags={"access": PUBLIC})
async def receive_username(message: Message, state: FSMContext, services: Services, i18n: I18n) -> None:
    data = await state.get_data()
    with i18n.use_locale(data.get("language", i18n.default_locale)):
        username = validate_username(message.text or "")
        if not await services.users.is_username_free(username):
            raise ValidationError("USERNAME_TAKEN", value=username)
        await state.update_data(username=username)
        if "email" in data:
            # The name was taken at the last step; everything else is already answered.
            await _complete(message, state, services, data["email"])
        else:
            await _ask_risk_profile(message, state)


@router.callback_query(
    RegistrationStates.risk_profile, RiskProfileChoice.filter(F.purpose == "reg"), flags={"access": PUBLIC}
)
async def receive_risk_profile(
    query: CallbackQuery, callback_data: RiskProfileChoice, state: FSMContext, i18n: I18n
) -> None:
    data = await state.get_data()
    profile = callback_data.risk_profile()
    if profile is None:
        await query.answer(_("This button is no longer active."))
        return
    await state.update_data(risk_profile=profile.value)
    await state.set_state(RegistrationStates.email)
    with i18n.use_locale(data.get("language", i18n.default_locale)):
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(
                _("Risk profile: {profile}").format(profile=risk_profile_name(profile))
            )
            await query.message.answer(
                _("Send your email for reports and account notices, or press Skip."),
                reply_markup=keyboards.skip_email(),
            )


@router.message(RegistrationStates.risk_profile, flags={"access": PUBLIC})
async def expect_risk_button(message: Message, state: FSMContext, i18n: I18n) -> None:
    data = await state.get_data()
    with i18n.use_locale(data.get("language", i18n.default_locale)):
        await message.answer(
            _("Choose your risk profile with the buttons:"), reply_markup=keyboards.risk_profiles("reg")
        )


@router.message(RegistrationStates.email, F.text, ~F.text.startswith("/"), flags={"access": PUBLIC})
async def receive_email(message: Message, state: FSMContext, services: Services, i18n: I18n) -> None:
    data = await state.get_data()
    with i18n.use_locale(data.get("language", i18n.default_locale)):
        email = validate_email(message.text or "")
        await _complete(message, state, services, email)


@router.callback_query(RegistrationStates.email, SkipEmail.filter(), flags={"access": PUBLIC})
async def skip_email(query: CallbackQuery, state: FSMContext, services: Services, i18n: I18n) -> None:
    data = await state.get_data()
    with i18n.use_locale(data.get("language", i18n.default_locale)):
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
            await _complete(query.message, state, services, None, telegram_id=query.from_user.id)


async def _complete(
    message: Message,
    state: FSMContext,
    services: Services,
    email: str | None,
    telegram_id: int | None = None,
) -> None:
    await state.update_data(email=email)
    data = await state.get_data()
    sender_id = telegram_id or (message.from_user.id if message.from_user else 0)
    try:
        user, created = await services.users.register(
            Registration(
                telegram_id=sender_id,
                username=data["username"],
                first_name=data.get("first_name", ""),
                language=data["language"],
                risk_profile=RiskProfile(data.get("risk_profile", RiskProfile.MEDIUM.value)),
                email=email,
            )
        )
    except ValidationError as error:
        if error.code != "USERNAME_TAKEN":
            raise
        # Someone registered the same name since it was chosen: pick another, keep the rest.
        await message.answer(describe_error(error, data["language"]))
        await _ask_username(message, state)
        return
    await state.clear()
    if not created:
        await message.answer(_("You are already registered."), reply_markup=keyboards.main_menu())
        return
    await message.answer(
        _(
            "✅ You are registered, {name}.\n"
            "Your paper account holds {balance}. Try <code>/buy BTCUSDT 0.001</code>, "
            "then /portfolio. /help lists every command."
        ).format(
            name=esc(user.username),
            balance=money(services.settings.paper.starting_balance, "USDT", user.language),
        ),
        reply_markup=keyboards.main_menu(),
    )
