"""Jinja2 templates with the bot's Babel catalogs: `{{ _("Cases of {area}", area=name) }}`
in a template is the same gettext, with the same `{placeholders}`, as `_()` in Python."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import jinja2
from aiogram.utils.i18n import gettext, ngettext
from aiohttp import web

from handlers.notices import local_date, local_time
from handlers.places import local_name
from knowledge.review import Problem
from web.context import LOCALE, VIEWER

CONTENT_TYPE = "text/html"


def _translate(message: str, **values: Any) -> str:
    text = gettext(message)
    return text.format(**values) if values else text


def _translate_plural(singular: str, plural: str, n: int, **values: Any) -> str:
    return ngettext(singular, plural, n).format(n=n, **values)


def _problem(problem: str) -> str:
    """An editorial problem (knowledge/review.py) in the reader's language."""
    if not isinstance(problem, Problem):
        return problem
    values = {name: _problem(value) if isinstance(value, str) else value
              for name, value in problem.values.items()}  # fmt: skip
    return gettext(problem.template).format(**values)


def _when(moment: datetime | None) -> str:
    """To the minute, in Beijing time, as cadres' screens in the bot show it."""
    return local_time(moment) if moment else "—"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(_=_translate, ngettext=_translate_plural)
    env.filters.update(
        when=_when,
        date=lambda moment: local_date(moment) if moment else "—",
        place=local_name,
        problem=_problem,  # a place name in the reader's characters (繁體 for zh_Hant)
    )
    return env


def page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """The template rendered for this request, with the viewer, the CSRF token and the
    locale at hand."""
    viewer = request.get(VIEWER)
    html = (
        environment()
        .get_template(template)
        .render(
            viewer=viewer,
            csrf=viewer.csrf if viewer else "",
            locale=request.get(LOCALE, "zh_Hans"),
            path=request.path,
            query=request.query,
            **context,
        )
    )
    return web.Response(text=html, status=status, content_type=CONTENT_TYPE)
