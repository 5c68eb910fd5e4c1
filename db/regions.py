"""Region registry queries: the tree, paths and lookup by a typed name."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.divisions import divisions
from db.models import Region, RegionAlias, RegionLevel
from db.region_keys import region_key
from knowledge.normalize import compact

FUZZY_CUTOFF = 0.6
MAX_MATCHES = 8


@dataclass(frozen=True)
class Lookup:
    regions: list[Region]
    exact: bool


class RegionRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, code: str) -> Region | None:
        return await self.session.get(Region, code)

    async def children(self, parent_code: str | None) -> list[Region]:
        query = select(Region).where(
            Region.parent_code == parent_code
            if parent_code is not None
            else Region.parent_code.is_(None)
        )
        return list((await self.session.scalars(query.order_by(Region.code))).all())

    async def path(self, code: str) -> list[Region]:
        """The region and its ancestors, from the top down."""
        chain: list[Region] = []
        region = await self.get(code)
        while region is not None:
            chain.append(region)
            region = await self.get(region.parent_code) if region.parent_code else None
        return chain[::-1]

    async def full_name(self, code: str) -> str:
        return "".join(region.name for region in await self.path(code))

    async def find(self, text: str, level: RegionLevel | None = None) -> list[Region]:
        """Regions whose name or alias matches what the user typed, best first."""
        return (await self.lookup(text, level)).regions

    async def lookup(self, text: str, level: RegionLevel | None = None) -> Lookup:
        """Exact matches (after normalisation, without the level word) if any; otherwise the
        closest names by similarity, so that one wrong character still finds the place — but
        then ``exact`` is False and the user should confirm (火星村 is not 红星村)."""
        key = region_key(text)
        if not key:
            return Lookup([], exact=False)
        exact = await self._by_key(key, level)
        if exact:
            return Lookup(exact, exact=True)
        return Lookup(await self._similar(key, compact(text), level), exact=False)

    async def _by_key(self, key: str, level: RegionLevel | None) -> list[Region]:
        alias_codes = select(RegionAlias.region_code).where(RegionAlias.key == key)
        query = select(Region).where(or_(Region.key == key, Region.code.in_(alias_codes)))
        if level is not None:
            query = query.where(Region.level == level)
        return list((await self.session.scalars(query.order_by(Region.code))).all())

    async def _similar(self, key: str, typed: str, level: RegionLevel | None) -> list[Region]:
        # Candidates share at least one character with the key; rank them in Python.
        has_char = [Region.key.contains(char, autoescape=True) for char in set(key)]
        query = select(Region).where(or_(*has_char)).limit(500)
        if level is not None:
            query = query.where(Region.level == level)
        candidates = (await self.session.scalars(query)).all()
        scored = []
        for region in candidates:
            pairs = [(key, region.key), (typed, compact(region.name))]
            pairs += [(key, alias.key) for alias in region.aliases]
            score = max(difflib.SequenceMatcher(None, a, b).ratio() for a, b in pairs)
            if score >= FUZZY_CUTOFF:
                scored.append((score, region))
        scored.sort(key=lambda item: (-item[0], item[1].code))
        best = scored[0][0] if scored else 0
        return [region for score, region in scored if score == best][:MAX_MATCHES]

    async def count(self) -> int:
        return await self.session.scalar(select(func.count()).select_from(Region)) or 0


async def region_names(repo: RegionRepo, code: str | None) -> list[str] | None:
    """The names of a region and its ancestors, top down, for scoping answers; None if unknown.

    Ancestors the registry lacks (a county imported without its province), and the official
    names of those it has under other names (a province imported as 云南), come from the national
    table of divisions by the code's prefix."""
    if code is None:
        return None
    path = await repo.path(code)
    if not path:
        return None
    names = [region.name for region in path]
    return [name for name in divisions().ancestry(path[0].code) if name not in names] + names


async def resolve_region(repo: RegionRepo, text: str | None) -> list[str] | None:
    """A region given by code or name → its names up the tree: from the registry, else from the
    national divisions (昭通 → 云南省, 昭通市); a name known to neither as itself."""
    if not text:
        return None
    region = await repo.get(text)
    if region is None:
        matches = await repo.find(text)
        region = matches[0] if matches else None
    if region is not None:
        return await region_names(repo, region.code)
    code = divisions().named(text)
    return divisions().ancestry(code) if code else [text]
