"""ORM tables. Importing this package registers every table on ``Base.metadata``."""

from storage.models.account_keys import AccountKeyRow
from storage.models.base import Base
from storage.models.orders import FillRow, OrderDraftRow, OrderRow
from storage.models.paper import PaperBalanceRow, PaperOrderRow, PaperTradeRow
from storage.models.portfolio import (
    AccountValuationRow,
    EquitySnapshotRow,
    RebalancePlanRow,
    StressScenarioRow,
)
from storage.models.users import AccountRow, AuditRow, UserRow

__all__ = [
    "AccountKeyRow",
    "AccountRow",
    "AccountValuationRow",
    "AuditRow",
    "Base",
    "EquitySnapshotRow",
    "FillRow",
    "OrderDraftRow",
    "OrderRow",
    "PaperBalanceRow",
    "PaperOrderRow",
    "PaperTradeRow",
    "RebalancePlanRow",
    "StressScenarioRow",
    "UserRow",
]
