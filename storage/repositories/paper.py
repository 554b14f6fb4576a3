"""The PAPER exchange's books."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.exchanges.models import ExchangeOrderState, ExchangeTrade
from engine.exchanges.paper.ledger import PaperBalance, PaperOrder
from engine.orders.models import OrderSide, OrderType, TimeInForce
from storage.models import PaperBalanceRow, PaperOrderRow, PaperTradeRow

_IN_CHUNK = 2000
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


def _trade_from_row(row: PaperTradeRow) -> ExchangeTrade:
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


def _order_from_row(row: PaperOrderRow, trades: list[ExchangeTrade]) -> PaperOrder:
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


def _fill_order_row(row: PaperOrderRow, order: PaperOrder) -> None:
    for name in _ORDER_FIELDS:
        setattr(row, name, getattr(order, name))
    row.side = order.side.value
    row.type = order.type.value
    row.state = order.state.value
    row.time_in_force = order.time_in_force.value


class SqlPaperLedger:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # The session's identity map keeps only weak references to rows, so keeping the rows this
        # ledger loaded lets the saves reuse them instead of selecting again.
        self._balance_rows: dict[tuple[uuid.UUID, str], PaperBalanceRow] = {}
        self._order_rows: dict[str, PaperOrderRow] = {}

    async def get_balances(
        self, account_id: uuid.UUID, *, for_update: bool = False
    ) -> dict[str, PaperBalance]:
        statement = select(PaperBalanceRow).where(PaperBalanceRow.account_id == account_id)
        if for_update:
            statement = statement.with_for_update()
        rows = list(await self._session.scalars(statement))
        self._balance_rows.update(((row.account_id, row.asset), row) for row in rows)
        return {row.asset: PaperBalance(row.asset, row.free, row.locked) for row in rows}

    async def get_balances_many(
        self, account_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, PaperBalance]]:
        found: dict[uuid.UUID, dict[str, PaperBalance]] = {}
        ids = list(account_ids)
        columns = PaperBalanceRow.__table__.c
        statement = select(columns.account_id, columns.asset, columns.free, columns.locked)
        # Many accounts: read the whole table once and keep the wanted ones, which is
        # cheaper than IN lists (chunked to stay under every database's parameter limit).
        if len(ids) > _IN_CHUNK:
            wanted = set(ids)
            connection = await self._session.connection()
            for account_id, asset, free, locked in (await connection.execute(statement)).all():
                if account_id in wanted:
                    found.setdefault(account_id, {})[asset] = PaperBalance(asset, free, locked)
            return found
        rows = await self._session.execute(statement.where(columns.account_id.in_(ids)))
        for account_id, asset, free, locked in rows.all():
            found.setdefault(account_id, {})[asset] = PaperBalance(asset, free, locked)
        return found

    async def save_balance(self, account_id: uuid.UUID, balance: PaperBalance) -> None:
        key = (account_id, balance.asset)
        row = self._balance_rows.get(key) or await self._session.get(PaperBalanceRow, key)
        if row is None:
            row = PaperBalanceRow(account_id=account_id, asset=balance.asset)
            self._session.add(row)
        self._balance_rows[key] = row
        row.free = balance.free
        row.locked = balance.locked
        await self._session.flush()

    async def add_order(self, order: PaperOrder) -> None:
        row = PaperOrderRow(exchange_order_id=order.exchange_order_id)
        _fill_order_row(row, order)
        self._session.add(row)
        self._order_rows[row.exchange_order_id] = row
        await self._session.flush()

    async def update_order(self, order: PaperOrder) -> None:
        row = self._order_rows.get(order.exchange_order_id) or await self._session.get(
            PaperOrderRow, order.exchange_order_id
        )
        if row is None:
            raise LookupError(f"paper order {order.exchange_order_id} does not exist")
        _fill_order_row(row, order)
        await self._session.flush()

    async def add_trade(self, account_id: uuid.UUID, trade: ExchangeTrade) -> None:
        self._session.add(
            PaperTradeRow(
                trade_id=trade.trade_id,
                account_id=account_id,
                exchange_order_id=trade.exchange_order_id,
                symbol=trade.symbol,
                side=trade.side.value,
                price=trade.price,
                quantity=trade.quantity,
                fee=trade.fee,
                fee_asset=trade.fee_asset,
                is_maker=trade.is_maker,
                executed_at=trade.executed_at,
            )
        )
        await self._session.flush()

    async def get_order(
        self,
        account_id: uuid.UUID,
        *,
        exchange_order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> PaperOrder | None:
        if exchange_order_id is None and client_order_id is None:
            raise ValueError("get_order needs exchange_order_id or client_order_id")
        statement = select(PaperOrderRow).where(PaperOrderRow.account_id == account_id)
        if exchange_order_id is not None:
            statement = statement.where(PaperOrderRow.exchange_order_id == exchange_order_id)
        if client_order_id is not None:
            statement = statement.where(PaperOrderRow.client_order_id == client_order_id)
        row = await self._session.scalar(statement)
        return (await self._with_trades([row]))[0] if row else None

    async def list_open_orders(self, account_id: uuid.UUID, symbol: str | None = None) -> list[PaperOrder]:
        statement = select(PaperOrderRow).where(
            PaperOrderRow.account_id == account_id, PaperOrderRow.state.in_(_OPEN_STATES)
        )
        if symbol is not None:
            statement = statement.where(PaperOrderRow.symbol == symbol)
        rows = list(await self._session.scalars(statement.order_by(PaperOrderRow.created_at)))
        return await self._with_trades(rows)

    async def accounts_with_open_orders(self) -> list[uuid.UUID]:
        rows = await self._session.scalars(
            select(PaperOrderRow.account_id).where(PaperOrderRow.state.in_(_OPEN_STATES)).distinct()
        )
        return list(rows)

    async def list_trades(
        self, account_id: uuid.UUID, symbol: str, since: datetime | None = None
    ) -> list[ExchangeTrade]:
        statement = select(PaperTradeRow).where(
            PaperTradeRow.account_id == account_id, PaperTradeRow.symbol == symbol
        )
        if since is not None:
            statement = statement.where(PaperTradeRow.executed_at >= since)
        rows = await self._session.scalars(statement.order_by(PaperTradeRow.executed_at))
        return [_trade_from_row(row) for row in rows]

    async def _with_trades(self, rows: list[PaperOrderRow]) -> list[PaperOrder]:
        if not rows:
            return []
        self._order_rows.update((row.exchange_order_id, row) for row in rows)
        trade_rows = await self._session.scalars(
            select(PaperTradeRow)
            .where(PaperTradeRow.exchange_order_id.in_([row.exchange_order_id for row in rows]))
            .order_by(PaperTradeRow.executed_at)
        )
        by_order: dict[str, list[ExchangeTrade]] = {row.exchange_order_id: [] for row in rows}
        for trade_row in trade_rows:
            by_order[trade_row.exchange_order_id].append(_trade_from_row(trade_row))
        return [_order_from_row(row, by_order[row.exchange_order_id]) for row in rows]
