"""Registration, profile settings and the admin actions on users."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from engine.accounts.models import Account, Exchange
from engine.common.clock import Clock
from engine.common.ids import new_id
from engine.common.money import ZERO
from engine.errors import NotFoundError, ValidationError
from engine.exchanges.paper.ledger import PaperBalance
from engine.uow import UnitOfWorkFactory
from engine.users.models import MAX_SLIPPAGE_LIMIT, RiskProfile, User, UserStatus
from engine.users.validation import (
    validate_email,
    validate_language,
    validate_timezone,
    validate_username,
)

logger = logging.getLogger(__name__)

PAPER_ACCOUNT_NAME = "Paper"


@dataclass(frozen=True)
class Registration:
    telegram_id: int
    username: str
    first_name: str
    language: str
    risk_profile: RiskProfile = RiskProfile.MEDIUM
    email: str | None = None


class UserService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        opening_paper_balances: list[PaperBalance],
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._opening_balances = opening_paper_balances

    async def get_by_telegram_id(self, telegram_id: int) -> User | None:
        async with self._uow(read_only=True) as uow:
            return await uow.users.get_by_telegram_id(telegram_id)

    async def touch(self, user_id: uuid.UUID) -> User | None:
        """Record that the user has just written to the bot."""
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                return None
            user.last_seen_at = self._clock.now()
            await uow.users.update(user)
            await uow.commit()
        return user

    async def is_username_free(self, username: str) -> bool:
        async with self._uow(read_only=True) as uow:
            return await uow.users.get_by_username(username) is None

    async def register(self, registration: Registration) -> tuple[User, bool]:
        """Create the user with a funded PAPER account; return (user, created).

        A Telegram id that is already registered returns the existing user and
        ``created=False``: registering twice is not an error and changes nothing.
        """
        username = validate_username(registration.username)
        language = validate_language(registration.language)
        email = validate_email(registration.email) if registration.email else None
        now = self._clock.now()

        async with self._uow() as uow:
            existing = await uow.users.get_by_telegram_id(registration.telegram_id)
            if existing is not None:
                return existing, False
            if await uow.users.get_by_username(username) is not None:
                raise ValidationError("USERNAME_TAKEN", value=username)

            user = User(
                id=new_id(),
                telegram_id=registration.telegram_id,
                username=username,
                language=language,
                risk_profile=registration.risk_profile,
                status=UserStatus.ACTIVE,
                created_at=now,
                updated_at=now,
                email=email,
                first_name=registration.first_name[:128],
                last_seen_at=now,
            )
            await uow.users.add(user)
            paper = Account(
                id=new_id(),
                user_id=user.id,
                exchange=Exchange.PAPER,
                name=PAPER_ACCOUNT_NAME,
                is_testnet=False,
                is_active=True,
                is_default=True,
                created_at=now,
                updated_at=now,
            )
            await uow.accounts.add(paper)
            for balance in self._opening_balances:
                await uow.paper.save_balance(
                    paper.id, PaperBalance(balance.asset, balance.free, balance.locked)
                )
            await uow.commit()

        logger.info("Registered user %s (@%s) with PAPER account %s", user.telegram_id, username, paper.id)
        return user, True

    async def update_profile(
        self,
        user_id: uuid.UUID,
        *,
        language: str | None = None,
        risk_profile: RiskProfile | None = None,
        email: str | None = None,
        clear_email: bool = False,
        timezone: str | None = None,
    ) -> User:
        """Change the given fields after validating each; nothing changes if one is invalid."""
        changes = {
            "language": validate_language(language) if language is not None else None,
            "risk_profile": risk_profile,
            "email": validate_email(email) if email is not None else None,
            "timezone": validate_timezone(timezone) if timezone is not None else None,
        }
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFoundError("user")
            for field_name, value in changes.items():
                if value is not None:
                    setattr(user, field_name, value)
            if clear_email:
                user.email = None
            user.updated_at = self._clock.now()
            await uow.users.update(user)
            await uow.commit()
        return user

    async def set_max_slippage(self, user_id: uuid.UUID, fraction: Decimal) -> User:
        """Store the price impact above which a market order gets a TWAP offer (0.005 is 0.5 %)."""
        if not ZERO < fraction <= MAX_SLIPPAGE_LIMIT:
            raise ValidationError("MAX_SLIPPAGE_INVALID", value=fraction, maximum=MAX_SLIPPAGE_LIMIT)
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFoundError("user")
            user.max_slippage = fraction
            user.updated_at = self._clock.now()
            await uow.users.update(user)
            await uow.commit()
        logger.info("User %s set the maximum slippage to %s", user.telegram_id, fraction)
        return user
