"""Risk limits, equity marks, alerts and alert settings.

The scan reads these tables for a batch of users at a time (or every row when
no user ids are given), so the bulk reads select plain columns (no ORM identity
map) and the bulk writes are executemany calls.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

from sqlalchemy import Row, String, bindparam, delete, insert, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from engine.accounts.models import Account, Exchange
from engine.risk.limits import LimitName, PersonalLimits, RiskLimits
from engine.risk.models import (
    AlertKind,
    AlertSettings,
    AlertState,
    AlertType,
    EquityMarks,
    PreTradeInputs,
    RiskAlert,
    Severity,
)
from engine.risk.ports import IdRange
from engine.risk.scan_inputs import MarkFigures, ScanSubject
from engine.users.models import RiskProfile, User, UserStatus
from storage.models import (
    AccountRow,
    AlertSettingsRow,
    AlertStateRow,
    EquityMarkRow,
    PaperBalanceRow,
    ProfileLimitsRow,
    RiskAlertRow,
    UserLimitsRow,
    UserRow,
)
from storage.prepared import PreparedRead, read_many, read_now
from storage.raw import CHUNK_ROWS, RawDecoder, chunks, day, raw, utc, uuid_of
from storage.repositories.users import _SELECT_USER_ACCOUNTS as SELECT_USER_ACCOUNTS
from storage.repositories.users import RISK_PROFILES, account_from_raw, user_from_raw

_IN_CHUNK = 2000
_LIMIT_COLUMNS = tuple(name.value for name in LimitName)

# Built once: every pre-trade check reads these.
_USER_LIMITS = UserLimitsRow.__table__
_MARKS = EquityMarkRow.__table__
# They go to the SQLite driver directly (storage.prepared).
_SELECT_PROFILE_LIMITS = PreparedRead(select(ProfileLimitsRow.__table__))
_SELECT_USER_LIMITS = PreparedRead(select(_USER_LIMITS).where(_USER_LIMITS.c.user_id == bindparam("user_id")))
_SELECT_MARKS = PreparedRead(select(_MARKS).where(_MARKS.c.user_id == bindparam("user_id")))
# The query of SqlAccountRepository.list_for_user; account_from_raw also takes its decoded values.
_SELECT_USER_ACCOUNTS = PreparedRead(SELECT_USER_ACCOUNTS)
_STATES = AlertStateRow.__table__
# The reads of /alerts, sent in one hand-off (alerts_view).
_ALERTS = RiskAlertRow.__table__
_SETTINGS = AlertSettingsRow.__table__
_READ_SETTINGS = PreparedRead(select(_SETTINGS).where(_SETTINGS.c.user_id == bindparam("user_id")))
_READ_OPEN_STATES = PreparedRead(
    select(_STATES).where(_STATES.c.user_id == bindparam("user_id")).order_by(_STATES.c.opened_at)
)
# SQLite's LIMIT comes with an OFFSET, and a prepared statement's values are all named.
_READ_RECENT_ALERTS = PreparedRead(
    select(_ALERTS)
    .where(_ALERTS.c.user_id == bindparam("user_id"))
    .order_by(_ALERTS.c.created_at.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_WRITE_CHUNK = 1_000  # rows per executemany between two turns of the event loop


def _key(column: Any) -> Any:
    """The user id as the driver returns it, labelled ``key``: the scan groups rows by it."""
    return type_coerce(column, String).label("key")


def _scan_statements() -> tuple[Any, ...]:
    """Build the risk scan's reads for one range of user ids (once, at import).

    Only the columns the scan uses, all raw: no timestamp is parsed and no
    ORM object is built for the 10,000 users a scan reads.
    """
    users, accounts, balances = UserRow.__table__, AccountRow.__table__, PaperBalanceRow.__table__
    settings = AlertSettingsRow.__table__
    low, high = bindparam("low"), bindparam("high")
    limits = [raw(_USER_LIMITS.c[name]) for name in _LIMIT_COLUMNS]
    subjects = (
        select(
            raw(users.c.id),
            users.c.telegram_id,
            users.c.language,
            users.c.timezone,
            users.c.risk_profile,
            users.c.status,
            raw(_MARKS.c.day),
            raw(_MARKS.c.day_start_equity),
            raw(_MARKS.c.peak_equity),
            type_coerce(_USER_LIMITS.c.user_id, String).label("limits_key"),
            *limits,
        )
        .outerjoin(_MARKS, _MARKS.c.user_id == users.c.id)
        .outerjoin(_USER_LIMITS, _USER_LIMITS.c.user_id == users.c.id)
        .where(users.c.id.between(low, high))
        .order_by(users.c.id)
    )
    active = accounts.c.is_active.is_(True)
    paper = (
        select(_key(accounts.c.user_id), balances.c.asset, raw(balances.c.free), raw(balances.c.locked))
        .join(balances, balances.c.account_id == accounts.c.id)
        .where(accounts.c.user_id.between(low, high), active, accounts.c.exchange == Exchange.PAPER.value)
    )
    live = (
        select(*(raw(column) for column in accounts.columns))
        .where(accounts.c.user_id.between(low, high), active, accounts.c.exchange != Exchange.PAPER.value)
        .order_by(accounts.c.created_at)
    )
    states = select(_key(_STATES.c.user_id), _STATES).where(_STATES.c.user_id.between(low, high))
    alert_settings = select(_key(settings.c.user_id), settings).where(settings.c.user_id.between(low, high))
    return subjects, paper, live, states, alert_settings


_SCAN_USERS, _SCAN_PAPER, _SCAN_LIVE, _SCAN_STATES, _SCAN_SETTINGS = _scan_statements()
_ACTIVE = UserStatus.ACTIVE.value


class SqlRiskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- limits --------------------------------------------------------------------

    async def profile_limits(self) -> dict[RiskProfile, RiskLimits]:
        return _profile_limits(await read_now(self._session, _SELECT_PROFILE_LIMITS, {}))

    async def pretrade_inputs(self, user_id: uuid.UUID) -> PreTradeInputs:
        # Every order's risk checks read these: one hand-off to the SQLite driver for the four.
        accounts, profiles, personal, marks = await read_many(
            self._session,
            [
                (_SELECT_USER_ACCOUNTS, {"user_id": user_id}),
                (_SELECT_PROFILE_LIMITS, {}),
                (_SELECT_USER_LIMITS, {"user_id": user_id}),
                (_SELECT_MARKS, {"user_id": user_id}),
            ],
        )
        decode = RawDecoder()
        return PreTradeInputs(
            user_id=user_id,
            accounts=[account_from_raw(row, decode) for row in accounts],
            profile_limits=_profile_limits(profiles),
            personal_limits=_personal(personal[0]) if personal else None,
            marks=_marks(marks[0]) if marks else None,
        )

    async def save_profile_limits(self, profile: RiskProfile, limits: RiskLimits, at: datetime) -> None:
        row = await self._session.get(ProfileLimitsRow, profile.value)
        if row is None:
            row = ProfileLimitsRow(profile=profile.value)
            self._session.add(row)
        for name in _LIMIT_COLUMNS:
            setattr(row, name, getattr(limits, name))
        row.updated_at = at
        await self._session.flush()

    async def personal_limits(self, user_id: uuid.UUID) -> PersonalLimits | None:
        rows = await read_now(self._session, _SELECT_USER_LIMITS, {"user_id": user_id})
        return _personal(rows[0]) if rows else None

    async def all_personal_limits(self, between: IdRange | None = None) -> dict[uuid.UUID, PersonalLimits]:
        rows = await self._session.execute(
            _where_between(select(_USER_LIMITS), _USER_LIMITS.c.user_id, between)
        )
        return {row.user_id: _personal(row) for row in rows.all()}

    async def save_personal_limits(self, user_id: uuid.UUID, limits: PersonalLimits, at: datetime) -> None:
        row = await self._session.get(UserLimitsRow, user_id)
        if limits.is_empty:
            if row is not None:
                await self._session.delete(row)
                await self._session.flush()
            return
        if row is None:
            row = UserLimitsRow(user_id=user_id)
            self._session.add(row)
        for name in _LIMIT_COLUMNS:
            setattr(row, name, getattr(limits, name))
        row.updated_at = at
        await self._session.flush()

    # -- equity marks --------------------------------------------------------------

    async def marks(self, user_id: uuid.UUID) -> EquityMarks | None:
        rows = await read_now(self._session, _SELECT_MARKS, {"user_id": user_id})
        return _marks(rows[0]) if rows else None

    async def all_marks(self, between: IdRange | None = None) -> dict[uuid.UUID, EquityMarks]:
        decode = RawDecoder()
        statement = _where_between(
            select(*(raw(column) for column in _MARKS.columns)), _MARKS.c.user_id, between
        )
        marks: dict[uuid.UUID, EquityMarks] = {}
        async for rows in chunks(await self._session.execute(statement)):
            for row in rows:
                mark = EquityMarks(
                    decode.uuid(row.user_id),
                    day(row.day),  # type: ignore[arg-type]
                    decode.decimal(row.day_start_equity),
                    decode.decimal(row.peak_equity),
                    utc(row.updated_at),  # type: ignore[arg-type]
                )
                marks[mark.user_id] = mark
        return marks

    async def insert_marks(self, marks: Sequence[EquityMarks]) -> None:
        await self._execute_many(insert(_MARKS), [_marks_values(mark) for mark in marks])

    async def update_marks(self, marks: Sequence[EquityMarks]) -> None:
        if not marks:
            return
        # A Core executemany: the ORM's bulk update costs several times more per row.
        table = EquityMarkRow.__table__
        statement = (
            update(table)
            .where(table.c.user_id == bindparam("key"))
            .values(
                day=bindparam("day"),
                day_start_equity=bindparam("day_start_equity"),
                peak_equity=bindparam("peak_equity"),
                updated_at=bindparam("updated_at"),
            )
        )
        await self._execute_many(statement, [{**_marks_values(mark), "key": mark.user_id} for mark in marks])

    async def _execute_many(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        """A Core executemany in chunks, with a turn of the event loop between them."""
        connection = await self._session.connection()
        for start in range(0, len(rows), _WRITE_CHUNK):
            if start:
                await asyncio.sleep(0)
            await connection.execute(statement, rows[start : start + _WRITE_CHUNK])

    # -- alerts --------------------------------------------------------------------

    async def alert_states(
        self, between: IdRange | None = None
    ) -> dict[tuple[uuid.UUID, AlertType], AlertState]:
        rows = await self._session.execute(_where_between(select(_STATES), _STATES.c.user_id, between))
        states = [_state(row) for row in rows.all()]
        return {(state.user_id, state.type): state for state in states}

    async def open_alerts(self, user_id: uuid.UUID) -> list[AlertState]:
        rows = await self._session.execute(
            select(AlertStateRow.__table__)
            .where(AlertStateRow.user_id == user_id)
            .order_by(AlertStateRow.opened_at)
        )
        return [_state(row) for row in rows.all()]

    async def insert_alert_states(self, states: Sequence[AlertState]) -> None:
        await self._execute_many(insert(_STATES), [_state_values(state) for state in states])

    async def update_alert_states(self, states: Sequence[AlertState]) -> None:
        statement = update(_STATES).where(
            _STATES.c.user_id == bindparam("key_user"), _STATES.c.alert_type == bindparam("key_type")
        )
        rows = [
            {**_state_values(state), "key_user": state.user_id, "key_type": state.type.value}
            for state in states
        ]
        await self._execute_many(statement, rows)

    async def delete_alert_states(self, keys: Sequence[tuple[uuid.UUID, AlertType]]) -> None:
        for user_id, alert_type in keys:
            await self._session.execute(
                delete(AlertStateRow).where(
                    AlertStateRow.user_id == user_id, AlertStateRow.alert_type == alert_type.value
                )
            )

    async def add_alerts(self, alerts: Sequence[RiskAlert]) -> None:
        if not alerts:
            return
        values = [
            {
                "id": alert.id,
                "user_id": alert.user_id,
                "alert_type": alert.type.value,
                "kind": alert.kind.value,
                "severity": alert.severity.value,
                "value": alert.value,
                "limit": alert.limit,
                "symbol": alert.symbol,
                "delivered": alert.delivered,
                "created_at": alert.created_at,
            }
            for alert in alerts
        ]
        await self._execute_many(insert(RiskAlertRow.__table__), values)

    async def recent_alerts(self, user_id: uuid.UUID, limit: int) -> list[RiskAlert]:
        rows = await self._session.execute(
            select(RiskAlertRow.__table__)
            .where(RiskAlertRow.user_id == user_id)
            .order_by(RiskAlertRow.created_at.desc())
            .limit(limit)
        )
        return [_alert(row) for row in rows.all()]

    async def alerts_view(
        self, user_id: uuid.UUID, recent_limit: int
    ) -> tuple[AlertSettings | None, list[AlertState], list[RiskAlert]]:
        by_user = {"user_id": user_id}
        settings, states, alerts = await read_many(
            self._session,
            [
                (_READ_SETTINGS, by_user),
                (_READ_OPEN_STATES, by_user),
                (_READ_RECENT_ALERTS, {"user_id": user_id, "limit": recent_limit, "offset": 0}),
            ],
        )
        return (
            _settings(settings[0]) if settings else None,
            [_state(row) for row in states],
            [_alert(row) for row in alerts],
        )

    # -- alert settings ------------------------------------------------------------

    async def alert_settings(self, user_id: uuid.UUID) -> AlertSettings | None:
        row = await self._session.get(AlertSettingsRow, user_id)
        return _settings(row) if row else None

    async def all_alert_settings(self, between: IdRange | None = None) -> dict[uuid.UUID, AlertSettings]:
        table = AlertSettingsRow.__table__
        rows = await self._session.execute(_where_between(select(table), table.c.user_id, between))
        return {row.user_id: _settings(row) for row in rows.all()}

    async def save_alert_settings(self, settings: AlertSettings, at: datetime) -> None:
        row = await self._session.get(AlertSettingsRow, settings.user_id)
        if row is None:
            row = AlertSettingsRow(user_id=settings.user_id)
            self._session.add(row)
        row.severities = ",".join(severity.value for severity in Severity if severity in settings.severities)
        row.quiet_start = _clock_text(settings.quiet_start)
        row.quiet_end = _clock_text(settings.quiet_end)
        row.report_enabled = settings.report_enabled
        row.report_time = _clock_text(settings.report_time) or "20:00"
        row.last_report_on = settings.last_report_on
        row.last_report_equity = settings.last_report_equity
        row.last_report_at = settings.last_report_at
        row.updated_at = at
        await self._session.flush()

    # -- who is scanned ------------------------------------------------------------

    async def active_id_ranges(self, size: int) -> list[IdRange]:
        """Return the ids of every ACTIVE user in id order, cut into ranges of ``size`` users.

        Only the first and last id of each range are decoded.
        """
        users = UserRow.__table__
        active = users.c.status == UserStatus.ACTIVE.value
        statement = select(raw(users.c.id)).where(active).order_by(users.c.id)
        keys: list[Any] = []
        async for rows in chunks(await self._session.execute(statement)):
            keys.extend(row.id for row in rows)
        return [
            (uuid_of(keys[start]), uuid_of(keys[min(start + size, len(keys)) - 1]))
            for start in range(0, len(keys), size)
        ]

    async def active_users_with_accounts(
        self, user_ids: Sequence[uuid.UUID] | None = None
    ) -> list[tuple[User, list[Account]]]:
        # Raw columns decoded once per distinct value: the scan reads every user and account.
        users_table, accounts_table = UserRow.__table__, AccountRow.__table__
        active = users_table.c.status == UserStatus.ACTIVE.value
        user_rows: list[Row[Any]] = []
        account_rows: list[Row[Any]] = []
        for chunk in _id_chunks(user_ids):
            users = select(*(raw(column) for column in users_table.columns)).where(active)
            accounts = (
                select(*(raw(column) for column in accounts_table.columns))
                .join(users_table, users_table.c.id == accounts_table.c.user_id)
                .where(active, accounts_table.c.is_active.is_(True))
                .order_by(accounts_table.c.created_at)
            )
            if chunk is not None:
                users = users.where(users_table.c.id.in_(chunk))
                accounts = accounts.where(accounts_table.c.user_id.in_(chunk))
            async for rows in chunks(await self._session.execute(users)):
                user_rows.extend(rows)
            async for rows in chunks(await self._session.execute(accounts)):
                account_rows.extend(rows)
        return await _subjects(user_rows, account_rows)

    async def scan_subjects(self, between: IdRange) -> list[ScanSubject]:
        """ACTIVE users whose id is within ``between`` (both ends included), with what the scan needs.

        The users query filters on the ids only and leaves out other statuses here:
        with ``status = 'ACTIVE'`` in it, SQLite reads every ACTIVE user through
        ix_users_status for each batch instead of the range of the primary key.
        Rows are grouped by the raw user id: hashing text is far cheaper than
        hashing uuid.UUID.
        """
        decode = RawDecoder()
        bounds = {"low": between[0], "high": between[1]}
        user_rows = (await self._session.execute(_SCAN_USERS, bounds)).all()
        await asyncio.sleep(0)
        paper = await self._scan_paper(bounds, decode)
        await asyncio.sleep(0)
        live: dict[Any, list[Account]] = {}
        for row in (await self._session.execute(_SCAN_LIVE, bounds)).all():
            live.setdefault(row.user_id, []).append(account_from_raw(row, decode))
        states, settings = await self._scan_alerts(bounds)
        await asyncio.sleep(0)
        return [
            _scan_subject(row, decode, paper, live, states, settings)
            for row in user_rows
            if row.status == _ACTIVE
        ]

    async def _scan_paper(
        self, bounds: dict[str, Any], decode: RawDecoder
    ) -> dict[Any, list[tuple[str, Any]]]:
        """Return the (asset, free + locked) holdings of the users' active PAPER accounts, by raw user id.

        SQLite returns them in index order: by account (user, then rowid) and
        by asset within an account.
        """
        paper: dict[Any, list[tuple[str, Any]]] = {}
        for key, asset, free, locked in (await self._session.execute(_SCAN_PAPER, bounds)).all():
            paper.setdefault(key, []).append((asset, decode.decimal(free) + decode.decimal(locked)))
        return paper

    async def _scan_alerts(
        self, bounds: dict[str, Any]
    ) -> tuple[dict[Any, dict[AlertType, AlertState]], dict[Any, AlertSettings]]:
        """Return the open alert states and the saved alert settings of the users, by raw user id."""
        states: dict[Any, dict[AlertType, AlertState]] = {}
        for row in (await self._session.execute(_SCAN_STATES, bounds)).all():
            state = _state(row)
            states.setdefault(row.key, {})[state.type] = state
        rows = (await self._session.execute(_SCAN_SETTINGS, bounds)).all()
        return states, {row.key: _settings(row) for row in rows}


async def _subjects(
    user_rows: list[Row[Any]], account_rows: list[Row[Any]]
) -> list[tuple[User, list[Account]]]:
    """Decode user and account rows (raw columns) into users paired with their accounts."""
    decode = RawDecoder()
    # Keyed by the raw user id: hashing text is far cheaper than hashing uuid.UUID.
    by_user: dict[Any, list[Account]] = {}
    subjects: list[tuple[User, list[Account]]] = []
    for index, row in enumerate(account_rows):
        if index and index % CHUNK_ROWS == 0:
            await asyncio.sleep(0)
        by_user.setdefault(row.user_id, []).append(account_from_raw(row, decode))
    for index, row in enumerate(user_rows):
        if index and index % CHUNK_ROWS == 0:
            await asyncio.sleep(0)
        subjects.append((user_from_raw(row, decode), by_user.get(row.id, [])))
    return subjects


def _scan_subject(
    row: Any,
    decode: RawDecoder,
    paper: dict[Any, list[tuple[str, Any]]],
    live: dict[Any, list[Account]],
    states: dict[Any, dict[AlertType, AlertState]],
    settings: dict[Any, AlertSettings],
) -> ScanSubject:
    key = row.id
    marks = None
    if row.day is not None:
        marks = MarkFigures(
            day(row.day),  # type: ignore[arg-type]
            decode.decimal(row.day_start_equity),
            decode.decimal(row.peak_equity),
        )
    personal = None
    if row.limits_key is not None:
        values = row._mapping
        personal = PersonalLimits(**{name: decode.optional_decimal(values[name]) for name in _LIMIT_COLUMNS})
    return ScanSubject(
        uuid_of(key),
        row.telegram_id,
        row.language,
        row.timezone,
        RISK_PROFILES[row.risk_profile],
        paper.get(key, []),
        live.get(key, []),
        marks,
        personal,
        settings.get(key),
        states.get(key, {}),
    )


def _where_between(statement: Any, column: Any, between: IdRange | None) -> Any:
    return statement if between is None else statement.where(column.between(*between))


def _id_chunks(user_ids: Sequence[uuid.UUID] | None) -> list[list[uuid.UUID] | None]:
    """``[None]`` (no filter) without ids, else the ids in IN lists short enough for every database."""
    if user_ids is None:
        return [None]
    ids = list(user_ids)
    return [ids[start : start + _IN_CHUNK] for start in range(0, len(ids), _IN_CHUNK)]


def _profile_limits(rows: Sequence[Any]) -> dict[RiskProfile, RiskLimits]:
    return {
        RiskProfile(row.profile): RiskLimits(**{name: getattr(row, name) for name in _LIMIT_COLUMNS})
        for row in rows
    }


def _personal(row: Any) -> PersonalLimits:
    return PersonalLimits(**{name: getattr(row, name) for name in _LIMIT_COLUMNS})


def _marks(row: Any) -> EquityMarks:
    return EquityMarks(row.user_id, row.day, row.day_start_equity, row.peak_equity, row.updated_at)


def _marks_values(mark: EquityMarks) -> dict[str, Any]:
    return {
        "user_id": mark.user_id,
        "day": mark.day,
        "day_start_equity": mark.day_start_equity,
        "peak_equity": mark.peak_equity,
        "updated_at": mark.updated_at,
    }


def _state(row: Any) -> AlertState:
    return AlertState(
        user_id=row.user_id,
        type=AlertType(row.alert_type),
        severity=Severity(row.severity),
        value=row.value,
        limit=row.limit,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        symbol=row.symbol,
        notified=row.notified,
    )


def _alert(row: Any) -> RiskAlert:
    return RiskAlert(
        id=row.id,
        user_id=row.user_id,
        type=AlertType(row.alert_type),
        kind=AlertKind(row.kind),
        severity=Severity(row.severity),
        value=row.value,
        limit=row.limit,
        created_at=row.created_at,
        symbol=row.symbol,
        delivered=row.delivered,
    )


def _state_values(state: AlertState) -> dict[str, Any]:
    return {
        "user_id": state.user_id,
        "alert_type": state.type.value,
        "severity": state.severity.value,
        "value": state.value,
        "limit": state.limit,
        "symbol": state.symbol,
        "notified": state.notified,
        "opened_at": state.opened_at,
        "updated_at": state.updated_at,
    }


def _settings(row: Any) -> AlertSettings:
    return AlertSettings(
        user_id=row.user_id,
        severities=frozenset(Severity(value) for value in row.severities.split(",") if value),
        quiet_start=_clock(row.quiet_start),
        quiet_end=_clock(row.quiet_end),
        report_enabled=row.report_enabled,
        report_time=_clock(row.report_time) or time(20, 0),
        last_report_on=row.last_report_on,
        last_report_equity=row.last_report_equity,
        last_report_at=row.last_report_at,
    )


def _clock(text: str | None) -> time | None:
    if not text:
        return None
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _clock_text(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None
