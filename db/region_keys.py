"""How a typed region name is compared with the registry's: 红星村 = 红星, 以古镇 = 以古."""

from __future__ import annotations

import re

from knowledge.normalize import compact

# Level words people add to or leave off a name.
_LEVEL_SUFFIX = re.compile(
    r"(自治区|自治州|自治县|特别行政区|社区居委会|居委会|村委会|社区|街道|嘎查|苏木|"
    r"省|市|州|盟|县|区|旗|乡|镇|村|组|屯)$"
)


def region_key(name: str) -> str:
    """The lookup key of a name: simplified, compact, without its level word."""
    key = compact(name)
    stripped = _LEVEL_SUFFIX.sub("", key)
    return stripped if len(stripped) >= 2 else key
