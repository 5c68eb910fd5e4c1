"""A knowledge-base entry: one policy answer, its phrasings and where it comes from."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SEEDS_DIR = Path(__file__).resolve().parent / "seeds"
DATA_DIR = Path(__file__).resolve().parent / "data"
ALL_REGIONS = "all"
MAX_ANSWER = 300
MAX_DETAILS = 800

TOPICS = (
    "microcredit", "medical", "education", "housing", "water", "roads", "employment", "industry",
    "identification", "exit", "monitoring", "social_security", "relocation", "assistance",
    "supervision", "glossary",
)  # fmt: skip


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str = Field(description="a seed document in knowledge/seeds/")
    clause: str = Field(min_length=1, description="section, clause or paragraph in that document")
    quote: str | None = Field(default=None, description="a short verbatim excerpt")

    @field_validator("file")
    @classmethod
    def _seed_exists(cls, value: str) -> str:
        if value not in seed_titles():
            raise ValueError(f"no seed document named {value!r} in knowledge/seeds/")
        return value


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_-]+)+$")
    topic: str
    questions: tuple[str, ...] = Field(min_length=3)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER)
    details: str | None = Field(default=None, max_length=MAX_DETAILS)
    source: Source
    also: tuple[Source, ...] = Field(default=(), description="other seeds stating the same rule")
    region: str = Field(min_length=1, description='"all", or the region the rule governs')
    effective: str = Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$", description="document's date")
    general_note: str | None = Field(
        default=None, description="why an all-region entry resting on one region's seed is general"
    )

    @field_validator("topic")
    @classmethod
    def _known_topic(cls, value: str) -> str:
        if value not in TOPICS:
            raise ValueError(f"unknown topic {value!r}; one of {', '.join(TOPICS)}")
        return value

    @field_validator("questions")
    @classmethod
    def _questions_not_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not question.strip() for question in value):
            raise ValueError("a question is empty")
        return tuple(question.strip() for question in value)

    @field_validator("answer", "details")
    @classmethod
    def _one_paragraph(cls, value: str | None) -> str | None:
        return re.sub(r"\s*\n\s*", "\n", value.strip()) if value else value

    @model_validator(mode="after")
    def _general_only_with_reason(self) -> Entry:
        if self.is_regional or self.general_note:
            return self
        regions = {seed_region(source.file) for source in self.sources}
        if len(regions) == 1:
            [region] = regions
            raise ValueError(
                f"region: 'all' rests on {region}'s document alone; scope it to {region}, cite "
                "another region's seed in `also`, or say in `general_note` why it is general"
            )
        return self

    @property
    def is_regional(self) -> bool:
        return self.region != ALL_REGIONS

    @property
    def sources(self) -> tuple[Source, ...]:
        return (self.source, *self.also)

    def source_line(self) -> str:
        """How the answer names its sources: each document and its clause."""
        return "；".join(f"{seed_title(cited.file)} {cited.clause}" for cited in self.sources)


@cache
def seed_catalog() -> dict[str, dict[str, str]]:
    """Seed file name → its title, region and date (knowledge/seeds/sources.yaml)."""
    return yaml.safe_load((SEEDS_DIR / "sources.yaml").read_text(encoding="utf-8"))


def seed_titles() -> dict[str, str]:
    """Seed file name → the title users see."""
    return {name: meta["title"] for name, meta in seed_catalog().items()}


def seed_title(file_name: str) -> str:
    return seed_titles().get(file_name, file_name)


def seed_region(file_name: str) -> str:
    return seed_catalog()[file_name]["region"]


def seed_date(file_name: str) -> str:
    return str(seed_catalog()[file_name]["date"])
