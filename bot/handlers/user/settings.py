"""/settings and /language: language, risk profile, email and time zone."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import keyboards
from bot.callbacks import LanguageChoice, RiskProfileChoice, SettingsAction
from bot.commands import CommandSpec, register
from bot.filters import MenuButton
from bot.formatting import esc, percent
from bot.pin_guard import PinPurpose
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.texts import LANGUAGE_NAMES, risk_profile_name
from engine.users.models import User

router = RouterBlueprint(__name__)

register(
    CommandSpec(
        "settings", __("Language, risk profile, email and time zone"), menu_label=__("⚙️ Settings"), order=80
    )
)
register(CommandSpec("language", __("Switch the language"), order=81))


class SettingsStates(StatesGroup):
    email = State()
    timezone = State()


def settings_text(user: User) -> str:
    return "\n".join(
        [
            _("<b>Settings</b>"),
            _("Username: {value}").format(value=esc(user.username)),
            _("Language: {value}").format(value=LANGUAGE_NAMES[user.language]),
            _("Risk profile: {value}").format(value=risk_profile_name(user.risk_profile)),
            _("Email: {value}").format(value=esc(user.email) if user.email else _("not set")),
            _("Time zone: {value}").format(value=esc(user.timezone)),
            _("Maximum slippage of market orders: {value}").format(
                value=percent(user.max_slippage, user.language)
            ),
        ]
    )


@router.message(Command("settings"))
@router.message(MenuButton("settings"))
async def show_settings(message: Message, user: User, state: FSMContext) -> None:
    await state.clear()
    await message.answer(settings_text(user), reply_markup=keyboards.settings_menu(bool(user.email)))


@router.message(Command("language"))
async def choose_language(message: Message, user: User) -> None:
    await message.answer(_("Choose your language:"), reply_markup=keyboards.languages(user.language))


@router.callback_query(SettingsAction.filter(F.action == "language"))
async def choose_language_button(query: CallbackQuery, user: User) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Choose your language:"), reply_markup=keyboards.languages(user.language)
        )


@router.callback_query(LanguageChoice.filter())
async def set_language(
    query: CallbackQuery, callback_data: LanguageChoice, user: User, services: Services, i18n: I18n
) -> None:
    updated = await services.users.update_profile(user.id, language=callback_data.language)
    with i18n.use_locale(updated.language):
        await query.answer(_("Language changed"))
        if isinstance(query.message, Message):
            await query.message.answer(
                _("The language is now {language}.").format(language=LANGUAGE_NAMES[updated.language]),
                reply_markup=keyboards.main_menu(),
            )


@router.callback_query(SettingsAction.filter(F.action == "risk"))
async def choose_risk_profile(query: CallbackQuery, user: User) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Choose your risk profile:"), reply_markup=keyboards.risk_profiles("set", user.risk_profile)
        )


@router.callback_query(RiskProfileChoice.filter(F.purpose == "set"), flags={"pin": PinPurpose.LIMITS})
async def set_risk_profile(
    query: CallbackQuery, callback_data: RiskProfileChoice, user: User, services: Services
) -> None:
    profile = callback_data.risk_profile()
    if profile is None:
        await query.answer(_("This button is no longer active."))
        return
    await services.users.update_profile(user.id, risk_profile=profile)
    await query.answer(_("Risk profile changed"))
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Risk profile: {profile}").format(profile=risk_profile_name(profile)))


@router.callback_query(SettingsAction.filter(F.action == "email"))
async def ask_email(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(SettingsStates.email)
    if isinstance(query.message, Message):
        await query.message.answer(_("Send your new email address, or /cancel to keep the current one."))


@router.message(SettingsStates.email, F.text, ~F.text.startswith("/"))
async def set_email(message: Message, user: User, state: FSMContext, services: Services) -> None:
    updated = await services.users.update_profile(user.id, email=message.text or "")
    await state.clear()
    await message.answer(_("Email saved: {email}").format(email=esc(updated.email)))


@router.callback_query(SettingsAction.filter(F.action == "email_clear"))
async def clear_email(query: CallbackQuery, user: User, services: Services) -> None:
    await services.users.update_profile(user.id, clear_email=True)
    await query.answer(_("Email removed"))
    if isinstance(query.message, Message):
        await query.message.answer(_("Email removed."))


@router.callback_query(SettingsAction.filter(F.action == "timezone"))
async def ask_timezone(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(SettingsStates.timezone)
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Send your time zone, for example Europe/Moscow, Asia/Dubai or UTC. "
                "/cancel keeps the current one."
            )
        )


@router.message(SettingsStates.timezone, F.text, ~F.text.startswith("/"))
async def set_timezone(message: Message, user: User, state: FSMContext, services: Services) -> None:
    updated = await services.users.update_profile(user.id, timezone=message.text or "")
    await state.clear()
    await message.answer(_("Time zone saved: {timezone}").format(timezone=esc(updated.timezone)))
