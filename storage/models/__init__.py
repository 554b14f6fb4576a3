"""ORM tables. Importing this package registers every table on ``Base.metadata``."""

from storage.models.base import Base
from storage.models.orders import FillRow, HoldingRow, OrderDraftRow, OrderRow, TwapRow
from storage.models.paper import PaperBalanceRow, PaperOrderRow, PaperTradeRow
from storage.models.users import AccountRow, AuditRow, UserRow

__all__ = [
    "AccountRow",
    "AuditRow",
    "Base",
    "FillRow",
    "HoldingRow",
    "OrderDraftRow",
    "OrderRow",
    "PaperBalanceRow",
    "PaperOrderRow",
    "PaperTradeRow",
    "TwapRow",
    "UserRow",
]
