"""SQLAlchemy models. Every change here needs an Alembic revision in db/migrations/versions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    true,
)
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
    # A cadre's or admin's area: they see the cases of this region and below it.
    area_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code", ondelete="SET NULL"))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when Telegram answers 403 (the user blocked the bot): nothing more is sent to them.
    blocked_at: Mapped[datetime | None]
    # Reminders about one's household (a loan falling due); /notify off turns them off.
    household_notices: Mapped[bool] = mapped_column(default=True, server_default=true())

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
    reason: Mapped[str | None] = mapped_column(String(300))  # why, as the editor said it


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
    # Set when an admin handled it (a phrasing added, an entry started, dismissed): it leaves
    # the list of unanswered questions.
    handled_at: Mapped[datetime | None]
    handled_how: Mapped[str | None] = mapped_column(String(20))


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
    handled_at: Mapped[datetime | None]  # as for unanswered questions
    handled_how: Mapped[str | None] = mapped_column(String(20))


class CaseStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    INFO_REQUESTED = "info_requested"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


# Open and not yet accepted: the accept deadline runs.
WAITING_STATUSES = (CaseStatus.SUBMITTED, CaseStatus.REOPENED)
OPEN_STATUSES = (
    CaseStatus.SUBMITTED,
    CaseStatus.ACCEPTED,
    CaseStatus.INFO_REQUESTED,
    CaseStatus.REOPENED,
)


class Case(Base):
    """A grievance. Its state is changed only together with a CaseEvent, in one transaction."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    reporter_id: Mapped[int] = mapped_column(BigInteger, index=True)
    reporter_locale: Mapped[str] = mapped_column(String(8))  # notifications speak it
    anonymous: Mapped[bool] = mapped_column(default=True)
    category: Mapped[str] = mapped_column(String(40))
    # For complaints about cadres: whose (village, township, county). Such a case goes to the
    # cadres of the unit above them privately, never to a group the accused may be in.
    about: Mapped[str | None] = mapped_column(String(16))
    place_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    # The township the place belongs to: statistics are kept per township.
    township_code: Mapped[str | None] = mapped_column(String(32))
    # The unit that handles it now, and that unit's path of codes ("53/5306/530627/..."):
    # a cadre's area is a path prefix, so every area filter is one indexed LIKE.
    unit_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    unit_path: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.SUBMITTED)
    outcome: Mapped[str | None] = mapped_column(String(20))
    rating: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    assignee_id: Mapped[int | None] = mapped_column(BigInteger)
    escalations: Mapped[int] = mapped_column(default=0)
    reopened: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accept_due: Mapped[datetime]
    resolve_due: Mapped[datetime]
    # The deadlines the case was first given: statistics judge timeliness by these, not by the
    # fresh deadlines an escalation or transfer grants.
    first_accept_due: Mapped[datetime | None]
    first_resolve_due: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    accept_reminded: Mapped[bool] = mapped_column(default=False)
    resolve_reminded: Mapped[bool] = mapped_column(default=False)
    # The Telegram update that confirmed the report: the same update twice makes one case.
    source_update_id: Mapped[int | None] = mapped_column(BigInteger)
    # The household a 待遇咨询 or 家庭情况变化 case is about, and what was reported, structured
    # (the benefit asked about; the change, the member, …), for the cadre to act on.
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("households.id", ondelete="SET NULL"), index=True
    )
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Optimistic locking: two replicas (or a cadre and the deadline job) changing the same case
    # at once cannot both win; the loser's commit fails and it reloads.
    version: Mapped[int] = mapped_column(default=1)

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[CaseAttachment]] = relationship(
        cascade="all, delete-orphan", order_by="CaseAttachment.id"
    )

    __table_args__ = (
        Index("ix_cases_unit_path_status", "unit_path", "status"),
        Index("ix_cases_status_accept_due", "status", "accept_due"),
        Index("ix_cases_status_resolve_due", "status", "resolve_due"),
        Index("ix_cases_created_at", "created_at"),
        # Statistics read an area's townships over a period: equality, then a range.
        Index("ix_cases_township_created", "township_code", "created_at"),
        UniqueConstraint("reporter_id", "source_update_id", name="uq_cases_reporter_update"),
    )
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class CaseEvent(Base):
    """Who did what to a case, and when: the case's whole history."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)  # None: the system (deadlines)
    actor_role: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")


class CaseAttachment(Base):
    """A photo (Telegram file id) or a location sent with a report."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    file_id: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]


class RoutingRule(Base):
    """Where cases of a category in a region go: the level that handles them.

    Rules are never edited in place: a change adds a row and retires the old one, so every
    edit is kept with who made it.
    """

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    category: Mapped[str | None] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class UnitChat(Base):
    """A township's (or county's) group chat, linked by an admin inside that group."""

    __tablename__ = "unit_chats"

    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    linked_by: Mapped[int] = mapped_column(BigInteger)
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A notification, written in the transaction of the change it announces; a worker sends it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    reply_markup: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    pieces_sent: Mapped[int] = mapped_column(default=0)  # of a text split under the limit
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The lease: the instance sending the row (HUHUQING_INSTANCE_NAME) and until when.
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    # "notice", or "alert": an admin told that notices are stuck (never itself reported as stuck).
    kind: Mapped[str] = mapped_column(String(16), default="notice", server_default="notice")
    # When the area's admins were told that this row is stuck (once per row).
    alerted_at: Mapped[datetime | None]

    case: Mapped[Case | None] = relationship()

    __table_args__ = (
        Index("ix_outbox_pending", "sent_at", "failed_at", "next_attempt_at"),
        Index("ix_outbox_chat_id", "chat_id"),
    )


class HelperRole(StrEnum):
    BAOBAO = "包保干部"
    FIRST_SECRETARY = "第一书记"
    VILLAGE_CADRE = "村干部"


class MeasureStatus(StrEnum):
    PLANNED = "未开始"
    IN_PROGRESS = "进行中"
    DONE = "已完成"


class Household(Base):
    """One household of the county's registry (statuses, causes and benefits are the plain
    values of knowledge/households.py). No ID-card or bank number is ever stored."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Opaque, as the county's system gives it; re-imports update by it.
    number: Mapped[str] = mapped_column(String(40), unique=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    # The village's path of codes ("53/5306/.../530627101201/"): an area filter is one LIKE.
    region_path: Mapped[str] = mapped_column(String(200), index=True)
    head_name: Mapped[str] = mapped_column(String(50))  # shown masked (张*明) to everyone
    status: Mapped[str] = mapped_column(String(16))
    status_year: Mapped[int | None]
    monitor_kind: Mapped[str | None] = mapped_column(String(16))
    follow_up: Mapped[str | None] = mapped_column(String(16))
    identified_year: Mapped[int | None]
    planned_exit_year: Mapped[int | None]
    actual_exit_year: Mapped[int | None]
    main_cause: Mapped[str | None] = mapped_column(String(20))
    other_causes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # 家底
    land_mu: Mapped[float | None]
    livestock: Mapped[str | None] = mapped_column(String(200))
    housing_safe: Mapped[bool | None]
    safe_water: Mapped[bool | None]
    medical_insurance: Mapped[bool | None]
    work: Mapped[str | None] = mapped_column(String(300))  # who works where
    is_sample: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[HouseholdMember]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="HouseholdMember.id"
    )
    measures: Mapped[list[HouseholdMeasure]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="HouseholdMeasure.id"
    )
    benefits: Mapped[list[HouseholdBenefit]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="HouseholdBenefit.id"
    )
    incomes: Mapped[list[HouseholdIncome]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="HouseholdIncome.year"
    )
    helpers: Mapped[list[HouseholdHelper]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="HouseholdHelper.id"
    )
    visits: Mapped[list[HouseholdVisit]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="HouseholdVisit.id"
    )


class HouseholdMember(Base):
    __tablename__ = "household_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    relation: Mapped[str] = mapped_column(String(20))
    age_band: Mapped[str] = mapped_column(String(8))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)


class HouseholdMeasure(Base):
    """A help measure (帮扶措施): type, project, year, money, target result, who answers for it."""

    __tablename__ = "household_measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    project: Mapped[str | None] = mapped_column(String(100))
    year: Mapped[int | None]
    amount: Mapped[int | None]  # yuan
    target: Mapped[str | None] = mapped_column(String(200))
    responsible: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(10))


class HouseholdBenefit(Base):
    """A benefit received: 低保, a microcredit loan (with its start and due date) …"""

    __tablename__ = "household_benefits"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int | None]  # yuan
    start: Mapped[date | None]
    due: Mapped[date | None] = mapped_column(index=True)  # loan reminders look for these


class HouseholdIncome(Base):
    """Per-capita net income of one year, in yuan."""

    __tablename__ = "household_incomes"

    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    per_capita: Mapped[int]


class HouseholdHelper(Base):
    """A helper cadre (包保干部, 第一书记, 村干部) and how to reach them."""

    __tablename__ = "household_helpers"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(30))


class HouseholdVisit(Base):
    """A helper's visit: the date, the checklist items looked at (七看), a note, by whom."""

    __tablename__ = "household_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    visited_on: Mapped[date]
    checklist: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    visited_by: Mapped[str | None] = mapped_column(String(50))

    # The cadre's list asks for each household's last visit.
    __table_args__ = (Index("ix_household_visits_household_date", "household_id", "visited_on"),)


class HouseholdVersion(Base):
    """Every content a household had (as its template row): who changed it, when."""

    __tablename__ = "household_versions"

    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class BindingCode(Base):
    """A one-time code that links a Telegram account to a household. Only its hash is kept."""

    __tablename__ = "binding_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[str] = mapped_column(String(120))  # "telegram:800", "cli:alice"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[datetime | None]


class HouseholdBinding(Base):
    """A Telegram account linked to a household (one household per account at a time)."""

    __tablename__ = "household_bindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(
        ForeignKey("users.telegram_id", ondelete="CASCADE"), index=True
    )
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    bound_at: Mapped[datetime] = mapped_column(default=utcnow)
    unbound_at: Mapped[datetime | None]

    household: Mapped[Household] = relationship(lazy="joined")


class BindingAttempt(Base):
    """One try at a binding code (never the code itself): wrong ones within an hour are limited."""

    __tablename__ = "binding_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool]

    __table_args__ = (Index("ix_binding_attempts_user_at", "telegram_id", "at"),)


class HouseholdView(Base):
    """The audit log: every time a cadre or admin looked at a household (never what they saw).
    The number and the village's path are copied so the log stays readable and filterable by
    area on its own."""

    __tablename__ = "household_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("households.id", ondelete="SET NULL"), index=True
    )
    household_number: Mapped[str] = mapped_column(String(40))
    region_path: Mapped[str] = mapped_column(String(200))
    viewer: Mapped[str] = mapped_column(String(120))  # "telegram:800", "cli:alice"
    viewer_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(20))  # "view", "list", "bindings", "export", …
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_household_views_path_at", "region_path", "at"),)


class LoanReminder(Base):
    """A loan reminder already queued: one per household and due date, however often the job
    runs or how many instances run it."""

    __tablename__ = "loan_reminders"

    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), primary_key=True
    )
    due: Mapped[date] = mapped_column(primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebSignIn(Base):
    """A one-time sign-in link for the web console, sent by the bot to a cadre or admin. Only
    the token's hash is stored: a copy of the database opens nothing."""

    __tablename__ = "web_sign_ins"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.telegram_id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser. The cookie carries the session's token (signed); the row, its
    hash, so that signing out or a revoked role ends it at once on every instance."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.telegram_id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    remote: Mapped[str | None] = mapped_column(String(64))  # the address it signed in from


class AdminAction(Base):
    """The append-only log of admin actions and of every change made in the web console: who,
    what, when, from where. `area_path` is the path of the region the action concerns (empty
    for the whole country), so that admins read the log of their own area only. The database
    refuses updates and deletes of these rows (triggers in migration 0009)."""

    __tablename__ = "admin_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)  # None: the command line
    actor_role: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(80))  # "web 203.0.113.5", "bot", "cli"
    action: Mapped[str] = mapped_column(String(40))  # "case.accept", "kb.save", "role.grant", …
    target: Mapped[str] = mapped_column(String(120))  # a case number, an entry id, a user id
    area_path: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_admin_actions_path_at", "area_path", "at"),)


class SiteSecret(Base):
    """Keys the instances share and that are made on first use (the console's cookie key when
    HUHUQING_WEB_SECRET is unset)."""

    __tablename__ = "site_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
