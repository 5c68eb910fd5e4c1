"""The case queries a cadre's list and a villager's /mycases rest on, on both databases (gaps
the mutation run found: TESTING.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.cases import CaseRepo
from db.models import CaseStatus, utcnow
from db.session import Database
from tests.integration.web.conftest import REPORTER, make_case

pytestmark = pytest.mark.both_databases
YIGU_PATH = "530000/530600/530627/530627101/"


async def test_a_reporters_case_is_the_one_asked_for(database: Database) -> None:
    """/mycases opens the case whose number (or list position) was asked, not another one of
    the same reporter's."""
    first = await make_case(database, category="housing")
    second = await make_case(database, category="water")
    async with database.sessionmaker() as session:
        repo = CaseRepo(session)
        for number in (first, second):
            found = await repo.of_reporter(REPORTER, number)
            assert found is not None
            assert found.number == number
        assert await repo.of_reporter(REPORTER + 1, second) is None  # someone else's


async def test_the_cadres_list_puts_the_nearest_deadline_first(database: Database) -> None:
    """A housing case (30 days) reported first, then a water case (7 days): water leads."""
    housing = await make_case(database, category="housing")
    water = await make_case(database, category="water")
    async with database.sessionmaker() as session:
        page, total = await CaseRepo(session).open_in_area(YIGU_PATH, 0, 10)
    assert [case.number for case in page] == [water, housing]
    assert total == 2


async def test_an_accepted_case_past_its_resolve_deadline_is_overdue(database: Database) -> None:
    number = await make_case(database)
    async with database.sessionmaker() as session:
        repo = CaseRepo(session)
        case = await repo.in_area(YIGU_PATH, number)
        assert case is not None
        case.status = CaseStatus.ACCEPTED
        case.accepted_at = utcnow()
        await session.commit()
        assert await repo.overdue(utcnow()) == []
        late = case.resolve_due + timedelta(minutes=1)
        assert [overdue.number for overdue in await repo.overdue(late)] == [number]


async def test_only_resolved_cases_wait_for_a_rating(database: Database) -> None:
    waiting, reopened = await make_case(database), await make_case(database)
    async with database.sessionmaker() as session:
        repo = CaseRepo(session)
        for number, status in ((waiting, CaseStatus.RESOLVED), (reopened, CaseStatus.REOPENED)):
            case = await repo.in_area(YIGU_PATH, number)
            assert case is not None
            case.status, case.resolved_at = status, utcnow() - timedelta(days=10)
        await session.commit()
        unrated = await repo.unrated_since(utcnow() - timedelta(days=7))
    assert [case.number for case in unrated] == [waiting]
