"""Categories and deadlines, from the editable files in grievances/data/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Category:
    code: str
    names: dict[str, str]
    asks_about_whom: bool = False
    # False for categories filed from a household's own flows (they need the household).
    in_report_flow: bool = True

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names.get("zh_Hans") or self.code


@dataclass(frozen=True)
class Deadlines:
    accept: timedelta
    resolve: timedelta


@cache
def categories() -> dict[str, Category]:
    records = yaml.safe_load((DATA / "categories.yaml").read_text(encoding="utf-8"))
    return {record["code"]: Category(**record) for record in records}


def report_flow_categories() -> list[Category]:
    """The categories a villager chooses from in /report, in order."""
    return [category for category in categories().values() if category.in_report_flow]


@cache
def _deadline_rules() -> dict:
    return yaml.safe_load((DATA / "deadlines.yaml").read_text(encoding="utf-8"))


def deadlines(category: str, region_path: list[str]) -> Deadlines:
    """The deadlines of a case: the most specific override for its category and region wins."""
    rules = _deadline_rules()
    days = dict(rules["default"])
    matching = [
        rule for rule in rules.get("overrides", [])
        if rule.get("category", category) == category
        and (rule.get("region") is None or rule["region"] in region_path)
    ]  # fmt: skip

    def specificity(rule: dict) -> tuple[int, bool]:
        """Deeper regions first decide, then a category: sorted so that later rules win."""
        depth = region_path.index(rule["region"]) + 1 if rule.get("region") else 0
        return depth, "category" in rule

    for rule in sorted(matching, key=specificity):
        days.update({key: value for key, value in rule.items() if key.endswith("_days")})
    return Deadlines(timedelta(days=days["accept_days"]), timedelta(days=days["resolve_days"]))


def reminder_lead() -> Deadlines:
    hours = _deadline_rules()["remind_before_hours"]
    return Deadlines(timedelta(hours=hours["accept"]), timedelta(hours=hours["resolve"]))


def rating_window() -> timedelta:
    return timedelta(days=_deadline_rules()["rate_within_days"])
