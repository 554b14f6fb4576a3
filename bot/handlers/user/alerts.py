"""/alerts: open and recent risk alerts, and the alert settings."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.callbacks import AlertAction
from bot.commands import CommandSpec, register
from bot.formatting import esc
from bot.keyboards import button
from bot.replies import answer_long
from bot.routing import RouterBlueprint
from bot.services import Services
from bot.views.limits import SEVERITY_MARKS, alert_history_line, open_alert_line, severity_name
from engine.risk.models import AlertSettings, Severity
from engine.users.models import User

router = RouterBlueprint(__name__)

RECENT_ALERTS = 10

register(
    CommandSpec(
        "alerts", __("Risk alerts, quiet hours and the daily report"), menu_label=__("🔔 Alerts"), order=40
    )
)


class AlertStates(StatesGroup):
    quiet_hours = State()
    report_time = State()


# reads_first: the overview's read comes before any network call (bot/middlewares/gate.py), so
# the conversation state, which may be kept in Redis, is cleared after it.
@router.message(Command("alerts"), flags={"reads_first": True})
async def show_alerts(message: Message, user: User, services: Services, state: FSMContext) -> None:
    try:
        text, markup = await alerts_view(user, services)
    finally:
        await state.clear()
    await answer_long(message, text, reply_markup=markup)


async def alerts_view(user: User, services: Services) -> tuple[str, InlineKeyboardMarkup]:
    locale = user.language
    overview = await services.risk.alerts_overview(user, RECENT_ALERTS)
    settings, open_alerts, recent = overview.settings, overview.open_alerts, overview.recent

    lines = [_("🔔 <b>Alerts</b>"), "", _("<b>Limits broken now</b>")]
    lines += [f"  {open_alert_line(state, locale)}" for state in open_alerts] or [
        _("  None: everything is within your limits.")
    ]
    lines += ["", _("<b>Recent alerts</b>")]
    lines += [f"  {alert_history_line(alert, user.timezone, locale)}" for alert in recent] or [
        _("  No alerts yet.")
    ]
    lines += ["", *settings_lines(settings, user)]
    return "\n".join(lines), alert_keyboard(settings)


def settings_lines(settings: AlertSettings, user: User) -> list[str]:
    chosen = [severity_name(severity) for severity in Severity if settings.receives(severity)]
    lines = [
        _("<b>Settings</b>"),
        _("You receive: {severities}.").format(severities=", ".join(chosen)),
        _("CRITICAL alerts are always delivered, also during quiet hours."),
    ]
    if settings.quiet_start is not None and settings.quiet_end is not None:
        lines.append(
            _("Quiet hours: {start}–{end} ({zone}). Other alerts wait until they end.").format(
                start=settings.quiet_start.strftime("%H:%M"),
                end=settings.quiet_end.strftime("%H:%M"),
                zone=esc(user.timezone),
            )
        )
    else:
        lines.append(_("Quiet hours: off."))
    if settings.report_enabled:
        lines.append(
            _("Daily P&L report: every day at {time} ({zone}).").format(
                time=settings.report_time.strftime("%H:%M"), zone=esc(user.timezone)
            )
        )
    else:
        lines.append(_("Daily P&L report: off."))
    return lines


def alert_keyboard(settings: AlertSettings) -> InlineKeyboardMarkup:
    """Return the settings keyboard, built once per language and settings and shared by every update.

    No PATRIOT code mutates a markup after building it, so sharing one is safe.
    """
    key = (get_i18n().current_locale, settings.severities, settings.report_enabled)
    keyboard = _KEYBOARDS.get(key)
    if keyboard is None:
        keyboard = _KEYBOARDS[key] = _build_alert_keyboard(settings)
    return keyboard


# At most 2 languages x 16 sets of severities x 2 report states.
_KEYBOARDS: dict[tuple[str, frozenset[Severity], bool], InlineKeyboardMarkup] = {}


def _build_alert_keyboard(settings: AlertSettings) -> InlineKeyboardMarkup:
    severities = []
    for severity in Severity:
        if severity is Severity.CRITICAL:
            severities.append(
                button("🔒 " + SEVERITY_MARKS[severity], AlertAction(action="sev", value=severity.value))
            )
            continue
        mark = "✓ " if severity in settings.severities else "✗ "
        severities.append(
            button(mark + SEVERITY_MARKS[severity], AlertAction(action="sev", value=severity.value))
        )
    report = (
        button(_("📊 Daily report: turn off"), AlertAction(action="report_off"))
        if settings.report_enabled
        else button(_("📊 Daily report: turn on"), AlertAction(action="report_on"))
    )
    return InlineKeyboardMarkup(
        inline_keyboard=[
            severities,
            [button(_("🌙 Quiet hours"), AlertAction(action="quiet"))],
            [report, button(_("🕗 Report time"), AlertAction(action="report_time"))],
        ]
    )


@router.callback_query(AlertAction.filter(F.action == "sev"))
async def toggle_severity(
    query: CallbackQuery, callback_data: AlertAction, user: User, services: Services
) -> None:
    try:
        severity = Severity(callback_data.value)
    except ValueError:
        await query.answer(_("This button is no longer active."))
        return
    if severity is Severity.CRITICAL:
        await query.answer(_("CRITICAL alerts are always delivered."), show_alert=True)
        return
    await services.risk.toggle_severity(user, severity)
    await query.answer(_("Saved"))
    await _refresh(query, user, services)


@router.callback_query(AlertAction.filter(F.action.in_({"report_on", "report_off"})))
async def toggle_report(
    query: CallbackQuery, callback_data: AlertAction, user: User, services: Services
) -> None:
    await services.risk.set_report(user, enabled=callback_data.action == "report_on")
    await query.answer(_("Saved"))
    await _refresh(query, user, services)


@router.callback_query(AlertAction.filter(F.action == "quiet"))
async def ask_quiet_hours(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(AlertStates.quiet_hours)
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Send your quiet hours in your time zone, like 22:00-07:00, or off. "
                "CRITICAL alerts still come through. /cancel keeps the current setting."
            )
        )


@router.message(AlertStates.quiet_hours, F.text, ~F.text.startswith("/"))
async def set_quiet_hours(message: Message, user: User, state: FSMContext, services: Services) -> None:
    await services.risk.set_quiet_hours(user, message.text or "")
    await state.clear()
    text, markup = await alerts_view(user, services)
    await answer_long(message, _("Quiet hours saved.") + "\n\n" + text, reply_markup=markup)


@router.callback_query(AlertAction.filter(F.action == "report_time"))
async def ask_report_time(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(AlertStates.report_time)
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Send the time of the daily report in your time zone, like 20:00. "
                "/cancel keeps the current one."
            )
        )


@router.message(AlertStates.report_time, F.text, ~F.text.startswith("/"))
async def set_report_time(message: Message, user: User, state: FSMContext, services: Services) -> None:
    await services.risk.set_report(user, enabled=True, at=message.text or "")
    await state.clear()
    text, markup = await alerts_view(user, services)
    await answer_long(
        message, _("Daily report time saved; the report is on.") + "\n\n" + text, reply_markup=markup
    )


async def _refresh(query: CallbackQuery, user: User, services: Services) -> None:
    if not isinstance(query.message, Message):
        return
    text, markup = await alerts_view(user, services)
    if len(text) <= 4096:
        await query.message.edit_text(text, reply_markup=markup)
    else:
        await query.message.edit_reply_markup(reply_markup=markup)
