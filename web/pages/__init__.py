"""The console's pages: every module here has a `routes` table (aiohttp's RouteTableDef) and
its templates in web/templates/<module>/ (or at the top for the few shared ones)."""

from __future__ import annotations

import importlib
import pkgutil

from aiohttp import web


def all_routes() -> list[web.RouteTableDef]:
    return [
        importlib.import_module(f"{__name__}.{module.name}").routes
        for module in pkgutil.iter_modules(__path__)
    ]
