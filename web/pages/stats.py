"""Statistics: 响应率、解决率、按期办结率、满意率 per township of the viewer's area and week by
week, for a period (Beijing dates; by default the last 30 days, as the bot's /stats), as tables,
inline SVG charts and a CSV file. The figures are grievances/stats.py's, as the bot's."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from aiogram.utils.i18n import gettext as _
from aiohttp import web
from multidict import MultiMapping

from db.models import utcnow
from grievances.chart import SERIES
from grievances.stats import (
    DEFAULT_DAYS,
    LOCAL_TIME,
    AreaStats,
    Period,
    TownshipStats,
    WeekStats,
    area_stats,
)
from handlers.places import local_name
from web.context import database_session, viewer
from web.render import page

routes = web.RouteTableDef()

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
MAX_DAYS = 3 * 366  # a longer period's weekly chart would be unreadable

# Chart geometry, in SVG units: about one unit a CSS pixel on a phone.
WIDTH = 360
LABEL_HEIGHT = 18
BAR_HEIGHT = 9
BAR_GAP = 2
GROUP_GAP = 12
BAR_LEFT = 4
BAR_RIGHT = 44  # room for the value after the longest bar
LINE_TOP, LINE_HEIGHT, LINE_LEFT, LINE_RIGHT = 10, 140, 34, 10


def rate_names() -> dict[str, str]:
    return {
        "response_rate": _("Response rate (accepted in time)"),
        "resolution_rate": _("Resolution rate (fixed)"),
        "on_time_rate": _("On-time rate (resolved in time)"),
        "satisfaction_rate": _("Satisfaction rate"),
    }


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


@dataclass(frozen=True)
class Choice:
    """The period asked for, and a polite line when what was asked could not be used."""

    period: Period
    problem: str | None


def choose_period(query: MultiMapping[str], now: datetime) -> Choice:
    """The period of ?from=YYYY-MM-DD&to=YYYY-MM-DD; the last 30 days when absent or bad."""
    default = Period.last_days(DEFAULT_DAYS, now)
    given = query.get("from", "").strip(), query.get("to", "").strip()
    if not any(given):
        return Choice(default, None)
    today = now.astimezone(LOCAL_TIME).date()
    try:
        first = date.fromisoformat(given[0]) if given[0] else default.first_day
        last = date.fromisoformat(given[1]) if given[1] else today
    except ValueError:
        return Choice(default, _("Dates are written like 2026-01-31; showing the last 30 days."))
    if not (EARLIEST <= first <= LATEST and EARLIEST <= last <= LATEST):
        return Choice(default, _("Choose dates from 2000 to 2100; showing the last 30 days."))
    if first > last:
        return Choice(default, _("The start must not be after the end; showing the last 30 days."))
    if (last - first).days >= MAX_DAYS:
        return Choice(default, _("Choose at most three years; showing the last 30 days."))
    return Choice(Period.of_dates(first, last), None)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    value: str


def township_chart(rows: list[TownshipStats]) -> dict:
    """Each township's name over its four rates as horizontal bars."""
    span = WIDTH - BAR_LEFT - BAR_RIGHT
    group = LABEL_HEIGHT + len(SERIES) * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP
    groups = []
    for number, row in enumerate(rows):
        top = number * group
        bars = [
            Bar(
                BAR_LEFT,
                top + LABEL_HEIGHT + index * (BAR_HEIGHT + BAR_GAP),
                round(span * (getattr(row, name) or 0), 1),
                BAR_HEIGHT,
                colour,
                percent(getattr(row, name)),
            )
            for index, (name, colour, _square) in enumerate(SERIES)
        ]
        label = local_name(row.township)
        groups.append({"label": label, "label_y": top + LABEL_HEIGHT - 5, "bars": bars})
    return {"width": WIDTH, "height": max(group * len(rows), 1), "groups": groups}


def week_chart(weeks: list[WeekStats]) -> dict:
    """The four rates week by week as lines (a gap where a week had no case to rate)."""
    span = WIDTH - LINE_LEFT - LINE_RIGHT
    step = span / max(len(weeks) - 1, 1)

    def point(index: int, value: float) -> tuple[float, float]:
        return round(LINE_LEFT + index * step, 1), round(LINE_TOP + (1 - value) * LINE_HEIGHT, 1)

    lines = []
    for name, colour, _square in SERIES:
        runs: list[list[tuple[float, float]]] = [[]]
        for index, week in enumerate(weeks):
            value = getattr(week, name)
            if value is None:
                runs.append([])
            else:
                runs[-1].append(point(index, value))
        lines.append({
            "colour": colour,
            "runs": [" ".join(f"{x},{y}" for x, y in run) for run in runs if len(run) > 1],
            "dots": [spot for run in runs for spot in run],
        })  # fmt: skip
    grid = [
        {"y": round(LINE_TOP + (1 - share) * LINE_HEIGHT, 1), "label": f"{share:.0%}"}
        for share in (0, 0.5, 1)
    ]
    ticks = sorted({0, len(weeks) // 2, len(weeks) - 1}) if weeks else []
    anchors = {0: "start", len(weeks) - 1: "end"}  # the first and last labels stay inside
    labels = [
        {
            "x": point(index, 0)[0],
            "text": local_day(weeks[index].since),
            "anchor": anchors.get(index, "middle"),
        }
        for index in ticks
    ]
    return {
        "width": WIDTH,
        "height": LINE_TOP + LINE_HEIGHT + 24,
        "left": LINE_LEFT,
        "right": WIDTH - LINE_RIGHT,
        "bottom": LINE_TOP + LINE_HEIGHT,
        "grid": grid,
        "lines": lines,
        "labels": labels,
    }


def local_day(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TIME).date().isoformat()


async def _report(request: web.Request) -> tuple[Choice, AreaStats]:
    """The figures of the viewer's area, for those the bot shows /stats to (as in the bot, a
    township cadre has none: statistics are for supervision)."""
    if not viewer(request).sees_stats:
        raise web.HTTPForbidden()
    now = utcnow()
    choice = choose_period(request.query, now)
    async with database_session(request) as session:
        report = await area_stats(session, viewer(request).area_code, choice.period, now)
    return choice, report


@routes.get("/stats")
async def stats_page(request: web.Request) -> web.Response:
    choice, report = await _report(request)
    period = report.period
    return page(
        request,
        "stats/stats.html",
        problem=choice.problem,
        first_day=period.first_day.isoformat(),
        last_day=period.last_day.isoformat(),
        csv_query=f"from={period.first_day.isoformat()}&to={period.last_day.isoformat()}",
        rows=report.townships,
        weeks=report.weeks,
        total=report.total,
        names=rate_names(),
        series=SERIES,
        percent=percent,
        local_day=local_day,
        township_chart=township_chart(report.townships),
        week_chart=week_chart(report.weeks),
    )


@routes.get("/stats.csv")
async def stats_csv(request: web.Request) -> web.Response:
    """The per-township table as a spreadsheet (UTF-8 with BOM, which Excel needs)."""
    _choice, report = await _report(request)
    names = rate_names()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([
        _("Township code"), _("Township"), _("Number of cases"), _("Accepted in time"),
        _("Resolved"), _("Fixed"), _("Resolved in time"), _("Rated"), _("Satisfied"),
        _("Overdue now"),
        *names.values(),
    ])  # fmt: skip
    for row in report.townships:
        writer.writerow([
            row.township_code or "", row.township, row.cases, row.accepted_in_time,
            row.resolved, row.fixed, row.resolved_in_time, row.rated, row.satisfied,
            row.overdue_now, *("" if (v := getattr(row, n)) is None else v for n in names),
        ])  # fmt: skip
    filename = f"stats-{report.period.first_day}-{report.period.last_day}.csv"
    return web.Response(
        body=out.getvalue().encode(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
