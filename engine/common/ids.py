"""Identifier generation for users' records and exchange client order ids."""

from __future__ import annotations

import re
import secrets
import uuid

# 32 letters and digits: accepted by Binance (max 36, [.A-Z:/a-z0-9_-]),
# Bybit orderLinkId (max 36), OKX clOrdId (max 32, letters and digits only)
# and MEXC (max 32).
CLIENT_ORDER_ID_PREFIX = "pt"
CLIENT_ORDER_ID_LENGTH = 32
USER_CLIENT_ORDER_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")


def new_id() -> uuid.UUID:
    """Return a new random UUID for a stored record."""
    return uuid.uuid4()


def new_client_order_id() -> str:
    """Return a fresh client order id, generated before the order is submitted."""
    random_part = secrets.token_hex((CLIENT_ORDER_ID_LENGTH - len(CLIENT_ORDER_ID_PREFIX)) // 2)
    return CLIENT_ORDER_ID_PREFIX + random_part


def new_incident_id() -> str:
    """Return a short id that ties an error reply to its log line."""
    return secrets.token_hex(4).upper()
