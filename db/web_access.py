"""Sign-in links and sessions of the web console. Tokens are random; only their SHA-256 is
stored, so a copy of the database signs nobody in."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SiteSecret, User, WebSession, WebSignIn, utcnow

LINK_LIFETIME = timedelta(minutes=10)
# last_seen_at is written at most this often: a page view does not always write.
TOUCH_EVERY = timedelta(minutes=1)
COOKIE_KEY = "web.cookie"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_sign_in(session: AsyncSession, user_id: int, now: datetime | None = None) -> str:
    """A new one-time link token for this user, valid LINK_LIFETIME, committed."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        WebSignIn(
            token_hash=token_hash(token),
            user_id=user_id,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    await session.commit()
    return token


async def use_sign_in(session: AsyncSession, token: str, now: datetime | None = None) -> int | None:
    """The user the link signs in, marking it used; None when it is unknown, used or expired.

    One UPDATE claims it, so two tabs opening the same link at once sign in only one.
    """
    now = now or utcnow()
    claimed = await session.execute(
        update(WebSignIn)
        .where(
            WebSignIn.token_hash == token_hash(token),
            WebSignIn.used_at.is_(None),
            WebSignIn.expires_at > now,
        )
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        return None
    user_id = await session.scalar(
        select(WebSignIn.user_id).where(WebSignIn.token_hash == token_hash(token))
    )
    await session.commit()
    return user_id


async def start_session(
    session: AsyncSession, user_id: int, remote: str | None, now: datetime | None = None
) -> str:
    """A new session for the user; returns its token (for the cookie). Committed."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=token_hash(token),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            remote=(remote or "")[:64] or None,
        )
    )
    await session.commit()
    return token


async def active_session(
    session: AsyncSession, token: str, idle: timedelta, now: datetime | None = None
) -> tuple[WebSession, User] | None:
    """The session and its user if it is open and was used within ``idle``; an idle one is
    ended. The caller checks the user's role (it may have been revoked since)."""
    now = now or utcnow()
    row = (
        await session.execute(
            select(WebSession, User)
            .join(User, User.telegram_id == WebSession.user_id)
            .where(WebSession.token_hash == token_hash(token), WebSession.ended_at.is_(None))
        )
    ).first()
    if row is None:
        return None
    web_session, user = row
    if now - web_session.last_seen_at > idle:
        web_session.ended_at = now
        await session.commit()
        return None
    if now - web_session.last_seen_at > TOUCH_EVERY:
        web_session.last_seen_at = now
        await session.commit()
    return web_session, user


async def end_session(session: AsyncSession, token: str, now: datetime | None = None) -> None:
    await session.execute(
        update(WebSession)
        .where(WebSession.token_hash == token_hash(token), WebSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )
    await session.commit()


async def end_sessions_of(session: AsyncSession, user_id: int) -> None:
    """Sign the user out everywhere (their role was revoked). Not committed."""
    await session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


async def cookie_secret(session: AsyncSession) -> str:
    """The key that signs cookies when HUHUQING_WEB_SECRET is unset: made once and kept in the
    database, so that every instance signs alike. Two instances starting at once keep one."""
    query = select(SiteSecret.value).where(SiteSecret.name == COOKIE_KEY)
    value = await session.scalar(query)
    if value is None:
        session.add(SiteSecret(name=COOKIE_KEY, value=secrets.token_urlsafe(48)))
        try:
            await session.commit()
        except IntegrityError:  # another instance made it first
            await session.rollback()
        value = await session.scalar(query)
    assert value is not None
    return value
