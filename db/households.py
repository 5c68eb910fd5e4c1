"""Household registry queries, and a stored household as the template and the policies see it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.household_template import Helper as HelperData
from db.household_template import HouseholdData, Measure, Visit
from db.models import (
    HelperRole,
    Household,
    MeasureStatus,
    Region,
)
from db.regions import RegionRepo, region_names
from knowledge.households import (
    Benefit,
    BenefitKind,
    Cause,
    FollowUp,
    HouseholdProfile,
    Member,
    MemberFlag,
    MonitorKind,
    Status,
)

PAGE = 1000


def masked_name(name: str) -> str:
    """A name as anyone is shown it: 张三明 → 张*明, 张三 → 张*, 欧阳小明 → 欧**明."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def path_of(regions: list[Region]) -> str:
    """A region's path of codes from the top, as households and cases store it."""
    return "/".join(region.code for region in regions) + "/"


class HouseholdRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, number: str) -> Household | None:
        return await self.session.scalar(select(Household).where(Household.number == number))

    async def area_path(self, region_code: str) -> str | None:
        """The path that every household at or below the region starts with; None if unknown."""
        regions = await RegionRepo(self.session).path(region_code)
        return path_of(regions) if regions else None

    async def numbers(self, area_path: str | None = None) -> list[tuple[str, str, str, str]]:
        """(number, village name, masked head name, status) of the area's households."""
        query = select(Household.number, Region.name, Household.head_name, Household.status).join(
            Region, Region.code == Household.region_code
        )
        if area_path is not None:
            query = query.where(Household.region_path.startswith(area_path, autoescape=True))
        rows = await self.session.execute(query.order_by(Household.number))
        return [
            (number, village, masked_name(head), status) for number, village, head, status in rows
        ]

    async def in_area(self, area_path: str | None = None) -> AsyncIterator[Household]:
        """The area's households in number order, read a page at a time."""
        last = None
        while True:
            query = select(Household).order_by(Household.number).limit(PAGE)
            if area_path is not None:
                query = query.where(Household.region_path.startswith(area_path, autoescape=True))
            if last is not None:
                query = query.where(Household.number > last)
            page = list((await self.session.scalars(query)).all())
            for household in page:
                yield household
            if len(page) < PAGE:
                return
            last = page[-1].number

    async def region_names(self, household: Household) -> list[str]:
        """The names of the household's village and its ancestors, top down, in one query:
        their codes are the household's path (the tree is walked if it has changed since)."""
        codes = [code for code in household.region_path.split("/") if code]
        query = select(Region.code, Region.name, Region.parent_code).where(Region.code.in_(codes))
        found = {code: (name, parent) for code, name, parent in await self.session.execute(query)}
        names, code = [], household.region_code
        while code in found:
            name, code = found.pop(code)
            names.append(name)
        if code is not None:
            return await region_names(RegionRepo(self.session), household.region_code) or []
        return names[::-1]

    async def profile(self, household: Household) -> HouseholdProfile:
        """What the eligibility rules look at: no name, the village and its ancestors."""
        data = data_of(household)
        names = await self.region_names(household)
        return HouseholdProfile(
            number=data.number,
            region_names=tuple(names),
            status=data.status,
            status_year=data.status_year,
            monitor_kind=data.monitor_kind,
            follow_up=data.follow_up,
            causes=((data.main_cause,) if data.main_cause else ()) + data.other_causes,
            members=data.members,
            benefits=data.benefits,
            housing_safe=data.housing_safe,
            safe_water=data.safe_water,
            medical_insurance=data.medical_insurance,
            open_measures=tuple(
                dict.fromkeys(m.kind for m in data.measures if m.status != MeasureStatus.DONE)
            ),
        )


def data_of(household: Household) -> HouseholdData:
    """A stored household (its children loaded) in the template's terms."""
    h = household
    return HouseholdData(
        number=h.number,
        village=h.region_code,
        head_name=h.head_name,
        status=Status(h.status),
        status_year=h.status_year,
        monitor_kind=MonitorKind(h.monitor_kind) if h.monitor_kind else None,
        follow_up=FollowUp(h.follow_up) if h.follow_up else None,
        identified_year=h.identified_year,
        planned_exit_year=h.planned_exit_year,
        actual_exit_year=h.actual_exit_year,
        main_cause=Cause(h.main_cause) if h.main_cause else None,
        other_causes=tuple(Cause(cause) for cause in h.other_causes),
        land_mu=h.land_mu,
        livestock=h.livestock,
        housing_safe=h.housing_safe,
        safe_water=h.safe_water,
        medical_insurance=h.medical_insurance,
        work=h.work,
        members=tuple(
            Member(m.relation, m.age_band, frozenset(MemberFlag(f) for f in m.flags))
            for m in h.members
        ),
        measures=tuple(
            Measure(
                kind=m.kind,
                status=MeasureStatus(m.status),
                project=m.project,
                year=m.year,
                amount=m.amount,
                target=m.target,
                responsible=m.responsible,
            )
            for m in h.measures
        ),
        benefits=tuple(Benefit(BenefitKind(b.kind), b.amount, b.start, b.due) for b in h.benefits),
        incomes=tuple((i.year, i.per_capita) for i in h.incomes),
        helpers=tuple(HelperData(HelperRole(x.role), x.name, x.phone) for x in h.helpers),
        visits=tuple(
            sorted(
                (Visit(v.visited_on, tuple(v.checklist), v.visited_by, v.note) for v in h.visits),
                key=lambda visit: visit.on,
            )
        ),
    )
