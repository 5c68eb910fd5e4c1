"""China's provinces, prefectures and counties by their GB/T 2260 codes (bundled, read-only).

The region registry holds what an office imported — often only its own county and below. This
table completes it upwards, so that a county's villagers get their province's rules even when
nobody imported the province, and lets `ask --region 昭通` work on a database with no registry.
A six-digit code names its ancestors by prefix: 530627 镇雄县 → 530600 昭通市 → 530000 云南省.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from db.region_keys import region_key

TABLE = Path(__file__).parent / "data" / "divisions.csv"
# 大理白族自治州 = 大理, 巍山彝族回族自治县 = 巍山, 广西壮族自治区 = 广西
_AUTONOMOUS = re.compile(r"^(.{2,}?)(?:[\u4e00-\u9fff]{1,3}族)+自治(?:区|州|县|旗)$")


@dataclass(frozen=True)
class Divisions:
    names: dict[str, str]  # code → name
    codes_by_key: dict[str, tuple[str, ...]]  # full name, and name without level word → codes

    def ancestry(self, code: str) -> list[str]:
        """The names of a six-digit code's province, prefecture and county that exist, top down."""
        if not (len(code) >= 6 and code[:6].isdigit()):
            return []
        prefixes = (code[:2] + "0000", code[:4] + "00", code[:6])
        return [self.names[p] for p in dict.fromkeys(prefixes) if p in self.names]

    def named(self, text: str) -> str | None:
        """The code of the division called ``text`` (its level word optional; 吉林 is the
        province, which holds 吉林市); None if none is, or several apart (朝阳区 is in Beijing
        and in Changchun)."""
        text = text.strip()
        if text in self.names:
            return text
        codes = self.codes_by_key.get(text) or self.codes_by_key.get(region_key(text), ())
        if not codes:
            return None
        broadest = min(codes, key=_depth)
        prefix = broadest[: 2 + 2 * _depth(broadest)]
        return broadest if all(code.startswith(prefix) for code in codes) else None


def _depth(code: str) -> int:
    """0 for a province (530000), 1 for a prefecture (530600), 2 for a county (530627)."""
    return 0 if code.endswith("0000") else 1 if code.endswith("00") else 2


@cache
def divisions() -> Divisions:
    names: dict[str, str] = {}
    codes_by_key: dict[str, list[str]] = {}
    with TABLE.open(encoding="utf-8") as table:
        for row in csv.DictReader(line for line in table if not line.startswith("#")):
            code, name = row["code"], row["name"]
            names[code] = name
            keys = {name, region_key(name)}
            if short := _AUTONOMOUS.match(name):
                keys.add(short.group(1))
            for key in keys:
                codes_by_key.setdefault(key, []).append(code)
    return Divisions(names, {key: tuple(codes) for key, codes in codes_by_key.items()})
