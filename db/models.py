"""SQLAlchemy models. Every change here needs an Alembic revision in db/migrations/versions."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, ForeignKey, Index, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite returns naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class RegionLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"

    @property
    def depth(self) -> int:
        return list(RegionLevel).index(self)


class Role(StrEnum):
    VILLAGER = "villager"
    CADRE = "cadre"
    ADMIN = "admin"


class Region(Base):
    """One unit of the administrative tree: province → city → county → township → village."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("regions.code", ondelete="RESTRICT"), index=True
    )
    # The name normalised for lookup (simplified characters, no level suffix such as 村/镇).
    key: Mapped[str] = mapped_column(String(100), index=True)
    is_sample: Mapped[bool] = mapped_column(default=False)

    aliases: Mapped[list[RegionAlias]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="RegionAlias.alias"
    )


class RegionAlias(Base):
    """Another name people use for a region (old name, dialect, abbreviation)."""

    __tablename__ = "region_aliases"

    region_code: Mapped[str] = mapped_column(
        ForeignKey("regions.code", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)


class User(Base):
    """A Telegram user as the bot remembers them."""

    __tablename__ = "users"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The language the user chose with /language; None means "follow Telegram's language".
    locale: Mapped[str | None] = mapped_column(String(8))
    role: Mapped[str] = mapped_column(String(16), default=Role.VILLAGER)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code", ondelete="SET NULL"))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_users_role", "role"),)


class KnowledgeEntry(Base):
    """The current version of one policy answer; its history is in knowledge_entry_versions."""

    __tablename__ = "knowledge_entries"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    topic: Mapped[str] = mapped_column(String(40), index=True)
    region: Mapped[str] = mapped_column(String(40))
    version: Mapped[int]
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnowledgeEntryVersion(Base):
    """Every version an entry ever had: who changed it, when, and what it said."""

    __tablename__ = "knowledge_entry_versions"

    entry_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge_entries.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnowledgeRevision(Base):
    """One row: a counter bumped by every KB change, so that each instance rebuilds its index."""

    __tablename__ = "knowledge_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class UnansweredQuestion(Base):
    """A question the bot could not answer with confidence, kept for the admins."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(500))
    decision: Mapped[str] = mapped_column(String(20))
    best_entry_id: Mapped[str | None] = mapped_column(String(80))
    region_code: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str | None] = mapped_column(String(8))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AnswerFeedback(Base):
    """👍 or 👎 on an answer; 👎 questions are shown to admins with the unanswered ones."""

    __tablename__ = "answer_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(80), index=True)
    entry_version: Mapped[int]
    helpful: Mapped[bool]
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    question: Mapped[str | None] = mapped_column(String(500))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
