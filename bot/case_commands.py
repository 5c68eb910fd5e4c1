"""`huhuqing cases stats | route | routes`: what admins do with cases from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalogs import translation
from bot.region_arg import region_code
from db.models import RegionLevel, RoutingRule, utcnow
from grievances.catalog import categories
from grievances.routing import set_rule
from grievances.stats import Period, TownshipStats, area_stats


async def print_stats(
    session: AsyncSession, region: str | None, days: int, as_json: bool, locale: str, out: TextIO
) -> None:
    """Per township; the text in HUHUQING_DEFAULT_LOCALE, the JSON's keys always English."""
    area = await region_code(session, region)
    now = utcnow()
    period = Period.last_days(days, now)
    rows = (await area_stats(session, area, period, now)).townships
    if as_json:
        payload = {
            "since": period.since.isoformat(),
            "until": period.until.isoformat(),
            "townships": [row.as_dict() for row in rows],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2), file=out)
        return
    _ = translation(locale).gettext
    if days == 1:
        print(_("Cases created in the last day"), file=out)
    else:
        print(_("Cases created in the last {days} days").format(days=days), file=out)
    for row in rows:
        print(_stats_line(row, _), file=out)
    if not rows:
        print(_("No cases in this period."), file=out)


def _stats_line(row: TownshipStats, _: Callable[[str], str]) -> str:
    """One township; "1 case", "2 cases" (the catalogs have no plural forms: two msgids)."""
    cases = _("{count} case") if row.cases == 1 else _("{count} cases")
    rate = {
        name: "—" if value is None else f"{value:.0%}"
        for name, value in (
            ("response", row.response_rate),
            ("resolution", row.resolution_rate),
            ("on_time", row.on_time_rate),
            ("satisfaction", row.satisfaction_rate),
        )
    }
    return _(
        "{township}: {cases}, {overdue} overdue now; response {response}, resolution "
        "{resolution}, on time {on_time}, satisfaction {satisfaction}"
    ).format(
        township=row.township,
        cases=cases.format(count=row.cases),
        overdue=row.overdue_now,
        **rate,
    )


async def set_route(
    session: AsyncSession, region: str | None, category: str | None, level: str, out: TextIO
) -> None:
    region = await region_code(session, region)
    if category and category not in categories():
        raise ValueError(f"no category {category}; one of {', '.join(categories())}")
    await set_rule(session, region, category, RegionLevel(level), "command line")
    print(f"cases of {category or 'every category'} in {region or 'every region'} "
          f"go to the {level}", file=out)  # fmt: skip


async def list_routes(session: AsyncSession, out: TextIO) -> None:
    rules = (await session.scalars(select(RoutingRule).order_by(RoutingRule.id))).all()
    if not rules:
        print("no rules: every case goes to the township of its village", file=out)
    for rule in rules:
        state = f"retired {rule.retired_at:%Y-%m-%d}" if rule.retired_at else "active"
        print(f"{rule.id}: {rule.region_code or '*'} {rule.category or '*'} → {rule.level} "
              f"({rule.created_by}, {rule.created_at:%Y-%m-%d}, {state})", file=out)  # fmt: skip
