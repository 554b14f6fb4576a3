"""ORM tables. Importing this package registers every table on ``Base.metadata``."""

from storage.models.account_keys import AccountKeyRow
from storage.models.base import Base
from storage.models.brackets import BracketRow
from storage.models.orders import FillRow, HoldingRow, OrderDraftRow, OrderRow, TwapRow
from storage.models.outbox import BroadcastRow, OutboxRow, UnreachableChatRow
from storage.models.paper import PaperBalanceRow, PaperOrderRow, PaperTradeRow
from storage.models.portfolio import (
    AccountValuationRow,
    EquitySnapshotRow,
    RebalancePlanRow,
    StressScenarioRow,
)
from storage.models.risk import (
    AlertSettingsRow,
    AlertStateRow,
    EquityMarkRow,
    ProfileLimitsRow,
    RiskAlertRow,
    UserLimitsRow,
)
from storage.models.security import UserPinRow
from storage.models.users import AccountRow, AuditRow, UserRow

__all__ = [
    "AccountKeyRow",
    "AccountRow",
    "AccountValuationRow",
    "AlertSettingsRow",
    "AlertStateRow",
    "AuditRow",
    "Base",
    "BracketRow",
    "BroadcastRow",
    "EquityMarkRow",
    "EquitySnapshotRow",
    "FillRow",
    "HoldingRow",
    "OrderDraftRow",
    "OrderRow",
    "OutboxRow",
    "PaperBalanceRow",
    "PaperOrderRow",
    "PaperTradeRow",
    "ProfileLimitsRow",
    "RebalancePlanRow",
    "RiskAlertRow",
    "StressScenarioRow",
    "TwapRow",
    "UnreachableChatRow",
    "UserLimitsRow",
    "UserPinRow",
    "UserRow",
]
