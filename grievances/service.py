"""The case lifecycle. Every change writes the case, its event and its notifications (outbox
rows) in one transaction: a crash after the commit loses nothing, a crash before it changes
nothing."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from db.household_cases import AppliedChange, apply_change, awaiting_confirmation
from db.models import (
    OPEN_STATUSES,
    WAITING_STATUSES,
    Case,
    CaseAttachment,
    CaseEvent,
    CaseStatus,
    OutboxMessage,
    Region,
    RegionLevel,
    Role,
    UnitChat,
    User,
    utcnow,
)
from db.outbox import OutboxRepo
from db.regions import RegionRepo
from grievances.catalog import deadlines
from grievances.numbers import new_number
from grievances.routing import handling_level, unit_at, unit_path

log = logging.getLogger(__name__)
T = TypeVar("T")


class Outcome(StrEnum):
    FIXED = "fixed"
    PARTLY_FIXED = "partly_fixed"
    NOT_OURS = "not_ours"  # with a note saying who is responsible
    NO_ACTION = "no_action"


class Rating(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY = "basically"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


class Notify(StrEnum):
    RECEIVED = "received"  # to the reporter: the tracking number
    NEW_CASE = "new_case"  # to the unit: a case to accept
    ACCEPTED = "accepted"
    REPLY = "reply"
    INFO_REQUESTED = "info_requested"
    INFO_ADDED = "info_added"  # to the unit
    RESOLVED = "resolved"
    TRANSFERRED = "transferred"  # to the reporter
    ESCALATED = "escalated"  # to the reporter
    REMINDER = "reminder"  # to the unit
    REOPENED = "reopened"  # to the reporter
    CLOSED = "closed"  # to the reporter
    UNSTAFFED = "unstaffed"  # to the area's admins: a unit had nobody, its case went elsewhere


class Reach(StrEnum):
    """Who has a case new to its unit."""

    UNIT = "unit"  # its own unit's group or cadres
    UP = "up"  # the unit had nobody: the nearest unit above that has someone
    ADMINS = "admins"  # no unit up to the top has anyone: the area's admins
    NOBODY = "nobody"  # not even an admin: it waits until someone is registered


@dataclass(frozen=True)
class Staffing:
    """Who receives a case new to its unit, and why them."""

    recipients: list[tuple[int, str]]
    reach: Reach
    empty: str = ""  # the full name of the unit that had nobody

    @property
    def extra(self) -> dict[str, Any]:
        return {"empty": self.empty} if self.empty else {}


class CaseError(Exception):
    """The action does not fit the case's state (the message says why, for the user)."""


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    role: str

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.telegram_id, user.role)


SYSTEM = Actor(None, "system")


@dataclass(frozen=True)
class Notice:
    """One notification to render in the recipient's language and put in the outbox."""

    kind: Notify
    chat_id: int
    locale: str
    case: Case
    place: str
    unit: str
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Renderer(Protocol):
    def __call__(self, notice: Notice) -> tuple[str, dict[str, Any] | None]:
        """The text (HTML) and the inline keyboard (as Bot API JSON) of a notification."""


@dataclass
class Report:
    """What the villager confirmed in the report flow."""

    reporter: User
    locale: str
    category: str
    place_code: str
    description: str
    anonymous: bool = True
    about: RegionLevel | None = None  # for complaints about cadres: whose
    photos: list[str] = field(default_factory=list)
    location: tuple[float, float] | None = None
    # For 待遇咨询 and 家庭情况变化: the household, and what exactly was asked or reported.
    household_id: int | None = None
    details: dict[str, Any] | None = None


def _one_writer(change: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """If someone changed the case meanwhile (its version moved on), undo ours and say so."""

    @functools.wraps(change)
    async def guarded(self: CaseService, *args: Any, **kwargs: Any) -> T:
        try:
            return await change(self, *args, **kwargs)
        except StaleDataError:
            await self.session.rollback()
            raise CaseError("the case was changed by someone else meanwhile") from None

    return guarded


class CaseService:
    def __init__(
        self,
        session: AsyncSession,
        render: Renderer,
        default_locale: str = "zh_Hans",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session = session
        self.render = render
        self.default_locale = default_locale
        self.clock = clock
        self.regions = RegionRepo(session)

    # --- the villager -------------------------------------------------------------------

    async def submit(self, report: Report, source_update_id: int | None = None) -> Case:
        """Create the case, commit it with its notifications (the reporter's tracking number
        among them), and only then return it.

        The same confirming update twice returns the first case instead of a second one.
        """
        existing = await self._by_update(report.reporter.telegram_id, source_update_id)
        if existing is not None:
            return existing
        path = await self.regions.path(report.place_code)
        level = await handling_level(self.session, path, report.category, report.about)
        unit = unit_at(path, level)
        unit_chain = path[: path.index(unit) + 1]
        township = next((r for r in path if r.level == RegionLevel.TOWNSHIP), None)
        now = self.clock()
        limits = deadlines(report.category, [region.code for region in path])
        case = Case(
            reporter_id=report.reporter.telegram_id,
            reporter_locale=report.locale,
            anonymous=report.anonymous,
            category=report.category,
            about=report.about.value if report.about else None,
            place_code=report.place_code,
            township_code=township.code if township else None,
            unit_code=unit.code,
            unit_path=unit_path(unit_chain),
            status=CaseStatus.SUBMITTED,
            description=report.description,
            created_at=now,
            accept_due=now + limits.accept,
            resolve_due=now + limits.resolve,
            first_accept_due=now + limits.accept,
            first_resolve_due=now + limits.resolve,
            source_update_id=source_update_id,
            household_id=report.household_id,
            details=report.details,
        )
        case.attachments = [CaseAttachment(kind="photo", file_id=file) for file in report.photos]
        if report.location:
            latitude, longitude = report.location
            case.attachments.append(
                CaseAttachment(kind="location", latitude=latitude, longitude=longitude)
            )
        case.number = await self._unused_number()
        self.session.add(case)
        data = {"unit": unit.code, "about": report.about.value if report.about else None}
        self._event(case, "submitted", Actor.of(report.reporter), None, data)
        # Who handles it is settled first: the reporter is told the unit that really has it.
        staffing = await self._staff(case)
        # The tracking number goes through the outbox, committed with the case: a crash or a
        # failed send after the commit delays it, never loses it.
        await self._notify_reporter(
            case, Notify.RECEIVED, reach=staffing.reach.value, **staffing.extra
        )
        await self._notify_unit(
            case, Notify.NEW_CASE, recipients=staffing.recipients, **staffing.extra
        )
        try:
            await self.session.commit()  # a new case has no concurrent writer: no _commit
        except IntegrityError:
            # Another instance committed the same update a moment ago: that case is this one.
            await self.session.rollback()
            existing = await self._by_update(report.reporter.telegram_id, source_update_id)
            if existing is None:
                raise
            return existing
        log.info("case %s submitted to %s", case.number, case.unit_code)
        return case

    @_one_writer
    async def add_information(self, case: Case, reporter: User, text: str) -> bool:
        """Add the reporter's text to the case; True when someone was told of it."""
        self._require(case.reporter_id == reporter.telegram_id, "not your case")
        self._require(case.status in OPEN_STATUSES, "the case is not open")
        if case.status == CaseStatus.INFO_REQUESTED:
            case.status = CaseStatus.ACCEPTED
        self._event(case, "info_added", Actor.of(reporter), text)
        told = await self._notify_unit(case, Notify.INFO_ADDED, note=text)
        await self.session.commit()
        return bool(told)

    @_one_writer
    async def rate(
        self, case: Case, reporter: User, rating: Rating, reason: str | None = None
    ) -> None:
        """满意/基本满意 close the case; 不满意 reopens it once, one level up, else closes it.
        The reporter's ``reason`` for 不满意 goes to the unit that reopens it."""
        self._require(case.reporter_id == reporter.telegram_id, "not your case")
        self._require(case.status == CaseStatus.RESOLVED, "the case is not waiting for a rating")
        now = self.clock()
        case.rating = rating
        self._event(case, "rated", Actor.of(reporter), reason, {"rating": rating.value})
        if rating is Rating.UNSATISFIED and not case.reopened:
            case.reopened = True
            case.status = CaseStatus.REOPENED
            case.outcome = None
            case.resolved_at = None  # not resolved any more, for the statistics too
            case.assignee_id = None
            await self._move_up(case, Actor.of(reporter), "reopened")
            self._fresh_deadlines(case, now)
            staffing = await self._staff(case)
            await self._notify_reporter(case, Notify.REOPENED, reach=staffing.reach.value)
            await self._notify_unit(
                case,
                Notify.NEW_CASE,
                note=reason,
                recipients=staffing.recipients,
                why="reopened",
                **staffing.extra,
            )
        else:
            case.status = CaseStatus.CLOSED
            case.closed_at = now
            self._event(case, "closed", SYSTEM)
            await self._notify_reporter(case, Notify.CLOSED)
        await self.session.commit()

    # --- the cadre ----------------------------------------------------------------------

    @_one_writer
    async def accept(self, case: Case, actor: Actor) -> None:
        self._require(case.status in WAITING_STATUSES, "already accepted")
        case.status = CaseStatus.ACCEPTED
        case.assignee_id = actor.user_id
        case.accepted_at = case.accepted_at or self.clock()
        self._event(case, "accepted", actor)
        await self._notify_reporter(case, Notify.ACCEPTED)
        await self.session.commit()

    @_one_writer
    async def reply(self, case: Case, actor: Actor, text: str) -> None:
        """A message to the reporter, relayed by the bot: neither side sees the other's id."""
        self._require_open(case)
        self._event(case, "replied", actor, text)
        await self._notify_reporter(case, Notify.REPLY, note=text)
        await self.session.commit()

    @_one_writer
    async def request_information(self, case: Case, actor: Actor, question: str) -> None:
        self._require_open(case)
        case.status = CaseStatus.INFO_REQUESTED
        case.accepted_at = case.accepted_at or self.clock()  # asking back is a response
        case.assignee_id = case.assignee_id or actor.user_id
        self._event(case, "info_requested", actor, question)
        await self._notify_reporter(case, Notify.INFO_REQUESTED, note=question)
        await self.session.commit()

    @_one_writer
    async def resolve(self, case: Case, actor: Actor, outcome: Outcome, note: str) -> None:
        self._require_open(case)
        now = self.clock()
        case.status = CaseStatus.RESOLVED
        case.outcome = outcome
        case.resolved_at = now
        case.accepted_at = case.accepted_at or now
        self._event(case, "resolved", actor, note, {"outcome": outcome.value})
        await self._notify_reporter(case, Notify.RESOLVED, note=note, outcome=outcome.value)
        await self.session.commit()

    @_one_writer
    async def transfer(
        self, case: Case, actor: Actor, target: Region | None, reason: str
    ) -> Region:
        """To another unit (a region outside the path is fine) or, with no target, one level up."""
        self._require_open(case)
        if target is None:
            moved = await self._move_up(case, actor, "transferred", reason)
            self._require(moved is not None, "there is no level above")
            target = moved
        else:
            self._require(target.code != case.unit_code, "the case is already there")
            self._require(target.level != RegionLevel.VILLAGE, "a village does not handle cases")
            previous = case.unit_code
            await self._set_unit(case, target)
            self._event(case, "transferred", actor, reason, {"from": previous, "to": target.code})
        case.status = CaseStatus.SUBMITTED
        case.assignee_id = None
        self._fresh_deadlines(case, self.clock())
        staffing = await self._staff(case)
        await self._notify_unit(
            case,
            Notify.NEW_CASE,
            note=reason,
            recipients=staffing.recipients,
            why="transferred",
            **staffing.extra,
        )
        await self._notify_reporter(case, Notify.TRANSFERRED, reach=staffing.reach.value)
        await self.session.commit()
        return target

    @_one_writer
    async def confirm_change(self, case: Case, actor: Actor) -> AppliedChange:
        """A cadre confirms a reported household change: the registry changes (a new version of
        the household) in the case's transaction, with its event. Raises db.household_cases.
        ChangeError, nothing changed, when the record no longer fits the report."""
        self._require(awaiting_confirmation(case), "not a change waiting to be confirmed")
        applied = await apply_change(self.session, case, f"telegram:{actor.user_id}", self.clock())
        # A new details value, so the case row (and its version) changes: two cadres confirming
        # at once cannot both apply it.
        case.details = {**(case.details or {}), "confirmed_by": actor.user_id}
        self._event(case, "change_confirmed", actor, None, applied.data)
        await self.session.commit()
        return applied

    # --- deadlines ----------------------------------------------------------------------

    @_one_writer
    async def remind(self, case: Case, which: str) -> None:
        if which == "accept":
            case.accept_reminded = True
        else:
            case.resolve_reminded = True
        self._event(case, "reminded", SYSTEM, None, {"deadline": which})
        await self._notify_unit(case, Notify.REMINDER, deadline=which)
        await self.session.commit()

    @_one_writer
    async def close_unrated(self, case: Case) -> None:
        """The reporter did not rate in time: the case closes, its outcome stays as it was."""
        self._require(case.status == CaseStatus.RESOLVED, "the case is not waiting for a rating")
        case.status = CaseStatus.CLOSED
        case.closed_at = self.clock()
        self._event(case, "closed", SYSTEM, None, {"reason": "not rated in time"})
        await self._notify_reporter(case, Notify.CLOSED, unrated=True)
        await self.session.commit()

    @_one_writer
    async def escalate(self, case: Case, which: str) -> None:
        """A missed deadline: the case goes to the level above, to be accepted there anew, with
        fresh deadlines. At the top of the tree it stays, and the unit is told again."""
        moved = await self._move_up(case, SYSTEM, "escalated", None, deadline=which)
        staffing = Staffing([], Reach.UNIT)
        if moved is None:
            self._event(case, "overdue", SYSTEM, None, {"deadline": which})
        else:
            case.escalations += 1
            case.status = CaseStatus.SUBMITTED
            case.assignee_id = None
            staffing = await self._staff(case)
            await self._notify_reporter(case, Notify.ESCALATED, reach=staffing.reach.value)
        self._fresh_deadlines(case, self.clock())
        await self._notify_unit(
            case,
            Notify.NEW_CASE,
            recipients=staffing.recipients or None,
            why="escalated",
            **staffing.extra,
        )
        await self.session.commit()

    # --- helpers ------------------------------------------------------------------------

    async def _by_update(self, reporter_id: int, update_id: int | None) -> Case | None:
        """The reporter's case confirmed by this update (update ids alone are not unique for
        ever: Telegram may restart them, and the console numbers its own)."""
        if update_id is None:
            return None
        return await self.session.scalar(
            select(Case).where(Case.reporter_id == reporter_id, Case.source_update_id == update_id)
        )

    async def _unused_number(self) -> str:
        while True:
            number = new_number()
            if await self.session.scalar(select(Case.id).where(Case.number == number)) is None:
                return number

    async def _move_up(
        self, case: Case, actor: Actor, kind: str, note: str | None = None, **data: Any
    ) -> Region | None:
        """Hand the case to the unit above; None (and nothing changed) at the top."""
        unit = await self.regions.get(case.unit_code)
        parent = await self.regions.get(unit.parent_code) if unit and unit.parent_code else None
        if parent is None:
            return None
        previous = case.unit_code
        await self._set_unit(case, parent)
        self._event(case, kind, actor, note, {"from": previous, "to": parent.code, **data})
        return parent

    async def _set_unit(self, case: Case, unit: Region) -> None:
        case.unit_code = unit.code
        case.unit_path = unit_path(await self.regions.path(unit.code))

    def _fresh_deadlines(self, case: Case, now: datetime) -> None:
        path = [code for code in case.unit_path.split("/") if code]
        limits = deadlines(case.category, path)
        case.accept_due = now + limits.accept
        case.resolve_due = now + limits.resolve
        case.accept_reminded = case.resolve_reminded = False

    def _event(
        self,
        case: Case,
        kind: str,
        actor: Actor,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        # Added through the session, not case.events: that collection may not be loaded.
        self.session.add(
            CaseEvent(
                case=case,
                kind=kind,
                actor_id=actor.user_id,
                actor_role=actor.role,
                note=note,
                data=data,
                at=self.clock(),
            )
        )

    def _require(self, condition: bool, reason: str) -> None:
        if not condition:
            raise CaseError(reason)

    def _require_open(self, case: Case) -> None:
        self._require(
            case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED), "the case is not open"
        )

    async def _names(self, case: Case) -> tuple[str, str]:
        return (
            await self.regions.full_name(case.place_code),
            await self.regions.full_name(case.unit_code),
        )

    async def _notify_reporter(self, case: Case, kind: Notify, note: str | None = None,
                               **extra: Any) -> None:  # fmt: skip
        reporter = await self.session.get(User, case.reporter_id)
        if reporter is None or reporter.blocked_at is not None:
            return
        place, unit = await self._names(case)
        locale = reporter.locale or case.reporter_locale
        self._enqueue(Notice(kind, case.reporter_id, locale, case, place, unit, note, extra))

    async def _notify_unit(
        self,
        case: Case,
        kind: Notify,
        note: str | None = None,
        recipients: list[tuple[int, str]] | None = None,
        **extra: Any,
    ) -> list[tuple[int, str]]:
        """Tell the case's unit (``recipients``, if already known); returns who was told."""
        if "attachments" in inspect(case).unloaded:  # the card says what the reporter attached
            await self.session.refresh(case, attribute_names=["attachments"])
        place, unit = await self._names(case)
        if recipients is None:
            recipients = await self.unit_recipients(
                case.unit_code, groups=case.about is None
            ) or await self.area_admins(case.place_code)
        if not recipients:
            log.warning("case %s: nobody to notify at %s or above", case.number, case.unit_code)
        for chat_id, locale in recipients:
            self._enqueue(Notice(kind, chat_id, locale, case, place, unit, note, extra))
        return recipients

    async def _staff(self, case: Case) -> Staffing:
        """Who receives a case new to its unit. A unit with no linked group and no cadre hands
        it to the nearest unit above that has someone (an event says so), else the area's
        admins receive it; the area's admins are told that the unit has nobody."""
        empty = case.unit_code
        staffed, recipients = await self._staffed_unit(empty, groups=case.about is None)
        if staffed == empty:
            return Staffing(recipients, Reach.UNIT)
        region = await self.regions.get(staffed) if staffed else None
        if region is not None:
            await self._set_unit(case, region)
            self._event(case, "unstaffed", SYSTEM, None, {"from": empty, "to": staffed})
            reach = Reach.UP
        else:
            recipients = await self.area_admins(case.place_code)
            reach = Reach.ADMINS if recipients else Reach.NOBODY
        staffing = Staffing(recipients, reach, await self.regions.full_name(empty))
        told = {chat for chat, _ in recipients}  # their card says it (Notice.extra "empty")
        place, unit = await self._names(case)
        for chat_id, locale in await self.area_admins(empty):
            if chat_id not in told:
                notice = Notice(Notify.UNSTAFFED, chat_id, locale, case, place, unit)
                self._enqueue(replace(notice, extra=staffing.extra))
        return staffing

    def _enqueue(self, notice: Notice) -> None:
        text, markup = self.render(notice)
        self.session.add(
            OutboxMessage(
                chat_id=notice.chat_id,
                text=text,
                reply_markup=markup,
                case=notice.case,  # delivery runs on the real clock, not the case's clock
            )
        )

    async def area_admins(self, place_code: str) -> list[tuple[int, str]]:
        """The admins of the place's area (the nearest area on its path that has any, else
        those of everything): who receives a case when no unit at or above its own has anyone,
        such as a complaint about township cadres with no county cadre registered."""
        path = [region.code for region in await self.regions.path(place_code)]
        admins = await OutboxRepo(self.session).admins_for(path)
        return [(admin.telegram_id, admin.locale or self.default_locale) for admin in admins]

    async def unit_recipients(self, unit_code: str, groups: bool = True) -> list[tuple[int, str]]:
        """The unit's group chat (unless ``groups`` is False), else its cadres; a unit with
        neither passes it up."""
        return (await self._staffed_unit(unit_code, groups))[1]

    async def _staffed_unit(
        self, unit_code: str, groups: bool
    ) -> tuple[str | None, list[tuple[int, str]]]:
        """The nearest unit at or above ``unit_code`` with a linked group (if ``groups``) or a
        cadre, and those; (None, []) when no unit up to the top has anyone."""
        code: str | None = unit_code
        while code is not None:
            chat = await self.session.get(UnitChat, code) if groups else None
            if chat is not None:
                return code, [(chat.chat_id, self.default_locale)]
            cadres = (
                await self.session.scalars(
                    select(User).where(
                        User.area_code == code,
                        User.role.in_((Role.CADRE, Role.ADMIN)),
                        User.blocked_at.is_(None),
                    )
                )
            ).all()
            if cadres:
                return code, [(c.telegram_id, c.locale or self.default_locale) for c in cadres]
            region = await self.regions.get(code)
            code = region.parent_code if region else None
        return None, []
