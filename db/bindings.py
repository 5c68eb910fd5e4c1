"""Linking Telegram accounts to households: one-time codes, the links, and guessing limits."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    BindingAttempt,
    BindingCode,
    Household,
    HouseholdBinding,
    User,
    utcnow,
)

# The case numbers' alphabet (grievances/numbers.py): nothing that looks or sounds like another.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 8  # 25⁸ ≈ 1.5·10¹¹ codes
CODE_VALID = timedelta(days=7)
ATTEMPT_WINDOW = timedelta(hours=1)
MAX_WRONG_ATTEMPTS = 5

log = logging.getLogger(__name__)


def new_code() -> str:
    """Like "K7MQ-4QXA": read over the phone in two groups of four."""
    letters = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{letters[:4]}-{letters[4:]}"


def normalize_code(text: str) -> str:
    """What a user typed ("k7mq 4qxa", "K7MQ-4QXA") → the compact form that is hashed."""
    return "".join(char for char in text.upper() if char.isalnum())


def code_hash(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


class Outcome(StrEnum):
    BOUND = "bound"
    ALREADY_BOUND = "already_bound"
    INVALID = "invalid"  # wrong, expired, used or revoked: the user is not told which
    BLOCKED = "blocked"  # too many wrong codes lately: nothing was checked


@dataclass(frozen=True)
class BindResult:
    outcome: Outcome
    household: Household | None = None
    wait: timedelta | None = None  # how long a blocked user must wait


class BindingRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create_code(
        self,
        household: Household,
        created_by: str,
        now: datetime | None = None,
        *,
        commit: bool = True,
    ) -> tuple[str, datetime]:
        """A new one-time code for the household and when it expires; only its hash is stored.
        With ``commit`` False it goes with the caller's transaction."""
        now = now or utcnow()
        code = new_code()
        expires = now + CODE_VALID
        self.session.add(
            BindingCode(
                code_hash=code_hash(code),
                household_id=household.id,
                created_by=created_by[:120],
                created_at=now,
                expires_at=expires,
            )
        )
        if commit:
            await self.session.commit()
        return code, expires

    async def revoke_codes(
        self, household: Household, now: datetime | None = None, *, commit: bool = True
    ) -> int:
        """Revoke the household's codes that could still be used; how many there were."""
        now = now or utcnow()
        result = await self.session.execute(
            update(BindingCode)
            .where(BindingCode.household_id == household.id, *_usable(now))
            .values(revoked_at=now)
        )
        if commit:
            await self.session.commit()
        return result.rowcount  # type: ignore[attr-defined]

    async def open_codes(self, household: Household, now: datetime | None = None) -> int:
        now = now or utcnow()
        return await self.session.scalar(
            select(func.count())
            .select_from(BindingCode)
            .where(BindingCode.household_id == household.id, *_usable(now))
        )

    async def wait_before_next(self, telegram_id: int, now: datetime | None = None) -> timedelta:
        """How long the user must wait before a code is checked again (zero: not blocked)."""
        now = now or utcnow()
        failures = (
            await self.session.scalars(
                select(BindingAttempt.at)
                .where(
                    BindingAttempt.telegram_id == telegram_id,
                    BindingAttempt.at > now - ATTEMPT_WINDOW,
                    BindingAttempt.ok.is_(False),
                )
                .order_by(BindingAttempt.at.desc())
                .limit(MAX_WRONG_ATTEMPTS)
            )
        ).all()
        if len(failures) < MAX_WRONG_ATTEMPTS:
            return timedelta(0)
        return failures[-1] + ATTEMPT_WINDOW - now

    async def bind(self, user: User, typed: str, now: datetime | None = None) -> BindResult:
        """Check a typed code (unless the user is blocked), link the account to its household,
        and set the user's village to the household's. Every attempt is logged, never the code."""
        now = now or utcnow()
        result = await self._bind(user, typed, now)
        log.info("binding attempt user=%s outcome=%s", user.telegram_id, result.outcome)
        return result

    async def _bind(self, user: User, typed: str, now: datetime) -> BindResult:
        wait = await self.wait_before_next(user.telegram_id, now)
        if wait > timedelta(0):
            return BindResult(Outcome.BLOCKED, wait=wait)
        code = await self.session.scalar(
            select(BindingCode).where(BindingCode.code_hash == code_hash(typed), *_usable(now))
        )
        current = await self.active(user.telegram_id)
        if code is not None and current is not None and current.household_id == code.household_id:
            self.session.add(BindingAttempt(telegram_id=user.telegram_id, at=now, ok=True))
            await self.session.commit()
            return BindResult(Outcome.ALREADY_BOUND, current.household)
        claimed = False
        if code is not None:
            # One statement marks the code used: two people typing it at once cannot both win.
            marked = await self.session.execute(
                update(BindingCode)
                .where(BindingCode.id == code.id, *_usable(now))
                .values(used_at=now, used_by=user.telegram_id)
            )
            claimed = marked.rowcount == 1  # type: ignore[attr-defined]
        self.session.add(BindingAttempt(telegram_id=user.telegram_id, at=now, ok=claimed))
        if not claimed or code is None:
            await self.session.commit()
            return BindResult(Outcome.INVALID)
        if current is not None:
            current.unbound_at = now  # an account belongs to one household at a time
        household = await self.session.get_one(Household, code.household_id)
        self.session.add(
            HouseholdBinding(telegram_id=user.telegram_id, household_id=household.id, bound_at=now)
        )
        user.region_code = household.region_code
        await self.session.commit()
        return BindResult(Outcome.BOUND, household)

    async def active(self, telegram_id: int) -> HouseholdBinding | None:
        """The account's current link, with its household."""
        return await self.session.scalar(
            select(HouseholdBinding)
            .where(
                HouseholdBinding.telegram_id == telegram_id,
                HouseholdBinding.unbound_at.is_(None),
            )
            .order_by(HouseholdBinding.id.desc())
            .limit(1)
        )

    async def get(self, binding_id: int) -> HouseholdBinding | None:
        """A current link by its id; None once it has ended."""
        binding = await self.session.get(HouseholdBinding, binding_id)
        return binding if binding is not None and binding.unbound_at is None else None

    async def members(self, household: Household) -> list[HouseholdBinding]:
        """The accounts now linked to the household, oldest first."""
        rows = await self.session.scalars(
            select(HouseholdBinding)
            .where(
                HouseholdBinding.household_id == household.id,
                HouseholdBinding.unbound_at.is_(None),
            )
            .order_by(HouseholdBinding.id)
        )
        return list(rows.all())

    async def unbind(self, binding: HouseholdBinding, now: datetime | None = None) -> None:
        binding.unbound_at = now or utcnow()
        await self.session.commit()


def _usable(now: datetime) -> tuple:
    """Conditions of a code that can still be used."""
    return (
        BindingCode.used_at.is_(None),
        BindingCode.revoked_at.is_(None),
        BindingCode.expires_at > now,
    )
