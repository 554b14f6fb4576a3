"""The PAPER exchange's books, read and written with SQLAlchemy Core (every PAPER order runs them)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from engine.exchanges.models import ExchangeOrderState, ExchangeTrade
from engine.exchanges.paper.ledger import PaperBalance, PaperOrder
from engine.orders.models import OrderSide, OrderType, TimeInForce
from storage.models import PaperBalanceRow, PaperOrderRow, PaperTradeRow
from storage.prepared import PreparedRead, PreparedWrite, read_many, read_now, write_later
from storage.raw import RawDecoder, chunks, raw

_BALANCES = PaperBalanceRow.__table__
_ORDERS = PaperOrderRow.__table__
_TRADES = PaperTradeRow.__table__
_IN_CHUNK = 2000

# Built once: every PAPER order runs these, and a statement built anew costs
# more Python than SQLite takes to run it.
_SELECT_BALANCES = select(_BALANCES.c.asset, _BALANCES.c.free, _BALANCES.c.locked).where(
    _BALANCES.c.account_id == bindparam("account_id")
)
# Reads and writes every order runs go to the driver directly on SQLite (storage.prepared).
_BALANCES_READ = PreparedRead(_SELECT_BALANCES)
_BALANCES_FOR_UPDATE = PreparedRead(_SELECT_BALANCES.with_for_update())
_SELECT_BALANCE_ROW = select(_BALANCES.c.asset).where(
    _BALANCES.c.account_id == bindparam("account_id"), _BALANCES.c.asset == bindparam("asset")
)
_INSERT_BALANCE = insert(_BALANCES)
_UPDATE_BALANCE = PreparedWrite(
    update(_BALANCES).where(
        _BALANCES.c.account_id == bindparam("key_account"), _BALANCES.c.asset == bindparam("key_asset")
    )
)
_INSERT_ORDER = PreparedWrite(insert(_ORDERS))
_UPDATE_ORDER = update(_ORDERS).where(_ORDERS.c.exchange_order_id == bindparam("key"))
_INSERT_TRADE = PreparedWrite(insert(_TRADES))
_SELECT_BY_CLIENT_ID = select(_ORDERS).where(
    _ORDERS.c.account_id == bindparam("account_id"), _ORDERS.c.client_order_id == bindparam("client_id")
)
# Every order looks its client order id up and almost never finds it, so only the id is selected.
_CLIENT_ID_TAKEN = PreparedRead(
    select(_ORDERS.c.exchange_order_id).where(
        _ORDERS.c.account_id == bindparam("account_id"), _ORDERS.c.client_order_id == bindparam("client_id")
    )
)
_OPEN_STATES = (ExchangeOrderState.OPEN.value,)
_ORDER_FIELDS = (
    "account_id",
    "client_order_id",
    "symbol",
    "quantity",
    "price",
    "stop_price",
    "filled_quantity",
    "average_price",
    "fee",
    "fee_asset",
    "reason",
    "created_at",
    "updated_at",
    "reduce_only",
    "post_only",
    "triggered",
    "locked",
    "matched_until",
    "liquidity_candle",
    "liquidity_used",
    "oco_with",
)


def _trade_from_row(row: Any) -> ExchangeTrade:
    return ExchangeTrade(
        trade_id=row.trade_id,
        exchange_order_id=row.exchange_order_id,
        symbol=row.symbol,
        side=OrderSide(row.side),
        price=row.price,
        quantity=row.quantity,
        fee=row.fee,
        fee_asset=row.fee_asset,
        is_maker=row.is_maker,
        executed_at=row.executed_at,
    )


def _order_from_row(row: Any, trades: list[ExchangeTrade]) -> PaperOrder:
    values = {name: getattr(row, name) for name in _ORDER_FIELDS}
    return PaperOrder(
        exchange_order_id=row.exchange_order_id,
        side=OrderSide(row.side),
        type=OrderType(row.type),
        state=ExchangeOrderState(row.state),
        time_in_force=TimeInForce(row.time_in_force),
        trades=trades,
        **values,
    )


def _order_values(order: PaperOrder) -> dict[str, Any]:
    values = {name: getattr(order, name) for name in _ORDER_FIELDS}
    values.update(
        side=order.side.value,
        type=order.type.value,
        state=order.state.value,
        time_in_force=order.time_in_force.value,
    )
    return values


class SqlPaperLedger:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # Balance rows this ledger has seen, so a save knows whether to UPDATE or INSERT.
        self._stored_balances: set[tuple[uuid.UUID, str]] = set()

    async def get_balances(
        self, account_id: uuid.UUID, *, for_update: bool = False
    ) -> dict[str, PaperBalance]:
        statement = _BALANCES_FOR_UPDATE if for_update else _BALANCES_READ
        rows = await read_now(self._session, statement, {"account_id": account_id})
        self._stored_balances.update((account_id, asset) for asset, _free, _locked in rows)
        return {asset: PaperBalance(asset, free, locked) for asset, free, locked in rows}

    async def get_balances_for_new_order(
        self, account_id: uuid.UUID, client_order_id: str
    ) -> dict[str, PaperBalance] | None:
        taken, rows = await read_many(
            self._session,
            [
                (_CLIENT_ID_TAKEN, {"account_id": account_id, "client_id": client_order_id}),
                (_BALANCES_FOR_UPDATE, {"account_id": account_id}),
            ],
        )
        if taken:
            return None
        self._stored_balances.update((account_id, asset) for asset, _free, _locked in rows)
        return {asset: PaperBalance(asset, free, locked) for asset, free, locked in rows}

    async def get_balances_many(
        self, account_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, PaperBalance]]:
        found: dict[uuid.UUID, dict[str, PaperBalance]] = {}
        ids = list(account_ids)
        columns = _BALANCES.c
        statement = select(raw(columns.account_id), columns.asset, raw(columns.free), raw(columns.locked))
        # Many accounts: read the whole table once and keep the wanted ones, which is
        # cheaper than IN lists (chunked to stay under every database's parameter limit).
        # Raw values are decoded once per distinct value: balances repeat a lot.
        if len(ids) <= _IN_CHUNK:
            statement = statement.where(columns.account_id.in_(ids))
        result = await self._session.execute(statement)
        # Grouped by the raw key first: hashing text is far cheaper than hashing uuid.UUID.
        by_key: dict[Any, dict[str, PaperBalance]] = {}
        decode = RawDecoder()
        async for rows in chunks(result):
            for account_key, asset, free, locked in rows:
                balance = PaperBalance(asset, decode.decimal(free), decode.decimal(locked))
                by_key.setdefault(account_key, {})[asset] = balance
        wanted = set(ids)
        for account_key, balances in by_key.items():
            account_id = decode.uuid(account_key)
            if account_id in wanted:
                found[account_id] = balances
        return found

    async def save_balances(self, account_id: uuid.UUID, balances: Sequence[PaperBalance]) -> None:
        # Rows read in this transaction take one executemany UPDATE, so an order's quote and
        # base balances are one statement. The other rows need save_balance's INSERT-or-UPDATE.
        known = [balance for balance in balances if (account_id, balance.asset) in self._stored_balances]
        for balance in balances:
            if (account_id, balance.asset) not in self._stored_balances:
                await self.save_balance(account_id, balance)
        if known:
            await write_later(
                self._session,
                _UPDATE_BALANCE,
                [
                    {
                        "key_account": account_id,
                        "key_asset": balance.asset,
                        "free": balance.free,
                        "locked": balance.locked,
                    }
                    for balance in known
                ],
            )

    async def save_balance(self, account_id: uuid.UUID, balance: PaperBalance) -> None:
        key = (account_id, balance.asset)
        values = {"free": balance.free, "locked": balance.locked}
        if key not in self._stored_balances:
            found = await self._session.execute(
                _SELECT_BALANCE_ROW, {"account_id": account_id, "asset": balance.asset}
            )
            self._stored_balances.add(key)
            if found.first() is None:
                await self._session.execute(
                    _INSERT_BALANCE, {"account_id": account_id, "asset": balance.asset, **values}
                )
                return
        await write_later(
            self._session,
            _UPDATE_BALANCE,
            [{"key_account": account_id, "key_asset": balance.asset, **values}],
        )

    async def add_order(self, order: PaperOrder) -> None:
        await write_later(
            self._session,
            _INSERT_ORDER,
            [{"exchange_order_id": order.exchange_order_id, **_order_values(order)}],
        )

    async def update_order(self, order: PaperOrder) -> None:
        result = await self._session.execute(
            _UPDATE_ORDER, {"key": order.exchange_order_id, **_order_values(order)}
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise LookupError(f"paper order {order.exchange_order_id} does not exist")

    async def add_trade(self, account_id: uuid.UUID, trade: ExchangeTrade) -> None:
        await write_later(
            self._session,
            _INSERT_TRADE,
            [{
                "trade_id": trade.trade_id,
                "account_id": account_id,
                "exchange_order_id": trade.exchange_order_id,
                "symbol": trade.symbol,
                "side": trade.side.value,
                "price": trade.price,
                "quantity": trade.quantity,
                "fee": trade.fee,
                "fee_asset": trade.fee_asset,
                "is_maker": trade.is_maker,
                "executed_at": trade.executed_at,
            }],
        )

    async def get_order(
        self,
        account_id: uuid.UUID,
        *,
        exchange_order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> PaperOrder | None:
        if exchange_order_id is None and client_order_id is None:
            raise ValueError("get_order needs exchange_order_id or client_order_id")
        if exchange_order_id is None:
            parameters = {"account_id": account_id, "client_id": client_order_id}
            if not await read_now(self._session, _CLIENT_ID_TAKEN, parameters):
                return None
            row = (await self._session.execute(_SELECT_BY_CLIENT_ID, parameters)).first()
            return (await self._with_trades([row]))[0] if row else None
        statement = select(_ORDERS).where(_ORDERS.c.account_id == account_id)
        if exchange_order_id is not None:
            statement = statement.where(_ORDERS.c.exchange_order_id == exchange_order_id)
        if client_order_id is not None:
            statement = statement.where(_ORDERS.c.client_order_id == client_order_id)
        row = (await self._session.execute(statement)).first()
        return (await self._with_trades([row]))[0] if row else None

    async def list_open_orders(self, account_id: uuid.UUID, symbol: str | None = None) -> list[PaperOrder]:
        statement = select(_ORDERS).where(
            _ORDERS.c.account_id == account_id, _ORDERS.c.state.in_(_OPEN_STATES)
        )
        if symbol is not None:
            statement = statement.where(_ORDERS.c.symbol == symbol)
        rows = (await self._session.execute(statement.order_by(_ORDERS.c.created_at))).all()
        return await self._with_trades(rows)

    async def accounts_with_open_orders(self) -> list[uuid.UUID]:
        rows = await self._session.scalars(
            select(PaperOrderRow.account_id).where(PaperOrderRow.state.in_(_OPEN_STATES)).distinct()
        )
        return list(rows)

    async def list_trades(
        self, account_id: uuid.UUID, symbol: str, since: datetime | None = None
    ) -> list[ExchangeTrade]:
        statement = select(_TRADES).where(_TRADES.c.account_id == account_id, _TRADES.c.symbol == symbol)
        if since is not None:
            statement = statement.where(_TRADES.c.executed_at >= since)
        rows = await self._session.execute(statement.order_by(_TRADES.c.executed_at))
        return [_trade_from_row(row) for row in rows]

    async def _with_trades(self, rows: Sequence[Any]) -> list[PaperOrder]:
        if not rows:
            return []
        trade_rows = await self._session.execute(
            select(_TRADES)
            .where(_TRADES.c.exchange_order_id.in_([row.exchange_order_id for row in rows]))
            .order_by(_TRADES.c.executed_at)
        )
        by_order: dict[str, list[ExchangeTrade]] = {row.exchange_order_id: [] for row in rows}
        for trade_row in trade_rows:
            by_order[trade_row.exchange_order_id].append(_trade_from_row(trade_row))
        return [_order_from_row(row, by_order[row.exchange_order_id]) for row in rows]
