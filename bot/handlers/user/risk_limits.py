"""The "Risk limits" page of /settings: a user may tighten their own limits, never loosen them."""

from __future__ import annotations

from decimal import Decimal

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.callbacks import RiskLimitAction, SettingsAction
from bot.keyboards import button
from bot.pin_guard import PinPurpose
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.texts import risk_profile_name
from bot.views.limits import limit_label, limit_value
from engine.common.money import parse_positive_decimal, to_canonical
from engine.risk.limits import LimitName, parse_limit_value
from engine.risk.service import UserLimits
from engine.users.models import User

router = RouterBlueprint(__name__)


class RiskLimitStates(StatesGroup):
    value = State()


def limits_text(user: User, limits: UserLimits) -> str:
    locale = user.language
    lines = [
        _("<b>Your risk limits</b> (profile {profile})").format(profile=risk_profile_name(user.risk_profile)),
        _(
            "Fractions of equity; leverage as a multiple. "
            "You can tighten a limit below your profile's, never loosen it."
        ),
    ]
    for name in LimitName:
        own = limits.personal.get(name)
        line = f"{limit_label(name)}: <b>{limit_value(name, limits.effective.get(name), locale)}</b>"
        if own is not None:
            line += " " + _("(yours; profile {value})").format(
                value=limit_value(name, limits.profile.get(name), locale)
            )
        lines.append(line)
    return "\n".join(lines)


def limits_keyboard(limits: UserLimits) -> InlineKeyboardMarkup:
    rows = [
        [
            button(
                _("Tighten {limit}").format(limit=limit_label(name)),
                RiskLimitAction(action="edit", limit=name.value),
            )
        ]
        for name in LimitName
    ]
    if not limits.personal.is_empty:
        rows.append([button(_("Back to the profile's limits"), RiskLimitAction(action="reset"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


@router.callback_query(SettingsAction.filter(F.action == "limits"))
async def show_limits(query: CallbackQuery, user: User, services: Services) -> None:
    await query.answer()
    limits = await services.risk.user_limits(user)
    if isinstance(query.message, Message):
        await query.message.answer(limits_text(user, limits), reply_markup=limits_keyboard(limits))


@router.callback_query(RiskLimitAction.filter(F.action == "edit"), flags={"pin": PinPurpose.LIMITS})
async def ask_value(
    query: CallbackQuery, callback_data: RiskLimitAction, user: User, state: FSMContext, services: Services
) -> None:
    try:
        name = LimitName(callback_data.limit)
    except ValueError:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    limits = await services.risk.user_limits(user)
    await state.set_state(RiskLimitStates.value)
    await state.update_data(limit=name.value)
    if isinstance(query.message, Message):
        example = "2" if name.is_multiple else "5%"
        await query.message.answer(
            _(
                "Send the new {limit}, at most {maximum} (e.g. {example}). /cancel keeps the current one."
            ).format(
                limit=limit_label(name),
                maximum=limit_value(name, limits.profile.get(name), user.language),
                example=example,
            )
        )


@router.message(RiskLimitStates.value, F.text, ~F.text.startswith("/"))
async def set_value(message: Message, user: User, state: FSMContext, services: Services) -> None:
    data = await state.get_data()
    name = LimitName(data["limit"])
    value = parse_user_value(name, message.text or "")
    limits = await services.risk.tighten(user, name, value)
    await state.clear()
    await message.answer(
        _("Saved: {limit} is now {value}.").format(
            limit=limit_label(name), value=limit_value(name, limits.effective.get(name), user.language)
        )
        + "\n\n"
        + limits_text(user, limits),
        reply_markup=limits_keyboard(limits),
    )


@router.callback_query(RiskLimitAction.filter(F.action == "reset"), flags={"pin": PinPurpose.LIMITS})
async def reset(query: CallbackQuery, user: User, services: Services) -> None:
    limits = await services.risk.reset_personal(user)
    await query.answer(_("Your profile's limits apply again"))
    if isinstance(query.message, Message):
        await query.message.edit_text(limits_text(user, limits), reply_markup=limits_keyboard(limits))


def parse_user_value(name: LimitName, text: str) -> Decimal:
    """Accept ``5%`` or ``0.05`` for fractions and ``2`` or ``2x`` for leverage."""
    cleaned = text.strip().lower().replace("×", "x")
    if name.is_multiple:
        return parse_limit_value(name, cleaned.removesuffix("x").strip())
    if cleaned.endswith("%"):
        percent = parse_positive_decimal(cleaned.removesuffix("%").strip(), field="limit")
        return parse_limit_value(name, to_canonical(percent / 100))
    return parse_limit_value(name, cleaned)
