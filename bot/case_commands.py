"""`huhuqing cases stats | route | routes`: what admins do with cases from the command line."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RegionLevel, RoutingRule, utcnow
from db.regions import RegionRepo
from grievances.catalog import categories
from grievances.routing import set_rule
from grievances.stats import township_stats, townships_under


async def print_stats(
    session: AsyncSession, region: str | None, days: int, as_json: bool, out: TextIO
) -> None:
    if region and await RegionRepo(session).get(region) is None:
        raise ValueError(f"no region has the code {region}")
    now = utcnow()
    since = now - timedelta(days=days)
    rows = await township_stats(session, await townships_under(session, region), since, now, now)
    if as_json:
        payload = {
            "since": since.isoformat(),
            "until": now.isoformat(),
            "townships": [row.as_dict() for row in rows],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2), file=out)
        return
    print(f"cases created in the last {days} days", file=out)
    for row in rows:
        rates = (row.response_rate, row.resolution_rate, row.on_time_rate, row.satisfaction_rate)
        shown = " ".join("—" if rate is None else f"{rate:.0%}" for rate in rates)
        print(f"{row.township}: {row.cases} cases, {row.overdue_now} overdue; "
              f"response/resolution/on-time/satisfaction {shown}", file=out)  # fmt: skip


async def set_route(
    session: AsyncSession, region: str | None, category: str | None, level: str, out: TextIO
) -> None:
    if region and await RegionRepo(session).get(region) is None:
        raise ValueError(f"no region has the code {region}")
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
