"""Which unit handles a case: 属地管理 by default (the village's township), rules per region
and category, and one level up when the complaint is about the unit's own cadres."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Region, RegionLevel, RoutingRule, utcnow

DEFAULT_LEVEL = RegionLevel.TOWNSHIP
# A complaint about the cadres of this level is handled one level above them.
SUBJECT_LEVELS = (RegionLevel.VILLAGE, RegionLevel.TOWNSHIP, RegionLevel.COUNTY)


def level_above(level: RegionLevel) -> RegionLevel:
    return list(RegionLevel)[max(level.depth - 1, 0)]


async def handling_level(
    session: AsyncSession, path: list[Region], category: str, about: RegionLevel | None
) -> RegionLevel:
    if about is not None:
        return level_above(about)
    codes = [region.code for region in path]
    rules = (
        await session.scalars(
            select(RoutingRule).where(
                RoutingRule.retired_at.is_(None),
                or_(RoutingRule.region_code.in_(codes), RoutingRule.region_code.is_(None)),
                or_(RoutingRule.category == category, RoutingRule.category.is_(None)),
            )
        )
    ).all()
    if not rules:
        return DEFAULT_LEVEL

    def specificity(rule: RoutingRule) -> tuple[int, int]:
        depth = codes.index(rule.region_code) + 1 if rule.region_code else 0
        return depth, rule.category is not None

    return RegionLevel(max(rules, key=specificity).level)


def unit_at(path: list[Region], level: RegionLevel) -> Region:
    """The region of the path at that level, or the nearest one above it."""
    candidates = [region for region in path if RegionLevel(region.level).depth <= level.depth]
    return candidates[-1] if candidates else path[0]


def unit_path(path: list[Region]) -> str:
    return "/".join(region.code for region in path) + "/"


async def set_rule(
    session: AsyncSession,
    region_code: str | None,
    category: str | None,
    level: RegionLevel,
    changed_by: str,
) -> RoutingRule:
    """Add a rule and retire the one it replaces; both rows stay as the history."""
    now = utcnow()
    current = await session.scalars(
        select(RoutingRule).where(
            RoutingRule.retired_at.is_(None),
            RoutingRule.region_code.is_(None)
            if region_code is None
            else RoutingRule.region_code == region_code,
            RoutingRule.category.is_(None)
            if category is None
            else RoutingRule.category == category,
        )
    )
    for rule in current:
        rule.retired_at = now
    rule = RoutingRule(
        region_code=region_code, category=category, level=level, created_by=changed_by
    )
    session.add(rule)
    await session.commit()
    return rule
