"""Encrypted API keys of exchange accounts, apart from the account rows."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime


class AccountKeyRow(Base):
    """One account's keys, each a vault token (Fernet); plain text is never stored.

    Kept in its own table so that removing the keys of an account erases them
    while the account row, and the order history pointing at it, stays.
    """

    __tablename__ = "account_keys"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    api_key: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    passphrase: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
