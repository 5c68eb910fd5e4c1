"""The commands' ``--region``: a region given by its code or by its name, as `ask` takes it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Region
from db.regions import RegionRepo


async def named_region(session: AsyncSession, text: str) -> Region:
    """The one region with this code or exact name (level word optional: 以古 = 以古镇);
    ValueError, in one line, when none or several match."""
    repo = RegionRepo(session)
    found = await repo.get(text.strip())
    if found is not None:
        return found
    lookup = await repo.lookup(text)
    matches = lookup.regions if lookup.exact else []
    if len(matches) > 1:
        names = ", ".join(
            f"{region.code} {await repo.full_name(region.code)}" for region in matches
        )
        raise ValueError(f"--region {text} names several regions ({names}): give the code")
    if not matches:
        hint = ""
        if lookup.regions:
            hint = f"; did you mean {lookup.regions[0].name} ({lookup.regions[0].code})?"
        raise ValueError(f"--region {text}: no region has this code or name{hint}")
    return matches[0]


async def region_code(session: AsyncSession, text: str | None) -> str | None:
    """The code of ``--region`` (None when it was not given)."""
    return (await named_region(session, text)).code if text else None
