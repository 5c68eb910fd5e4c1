"""A knowledge-base entry: one policy answer, its phrasings and where it comes from."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

SEEDS_DIR = Path(__file__).resolve().parent / "seeds"
DATA_DIR = Path(__file__).resolve().parent / "data"
ALL_REGIONS = "all"
MAX_ANSWER = 300
MAX_DETAILS = 800

TOPICS = (
    "microcredit", "medical", "education", "housing", "water", "roads", "employment", "industry",
    "identification", "exit", "monitoring", "social_security", "relocation", "assistance",
    "supervision",
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
    region: str = ALL_REGIONS
    effective: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")

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

    @property
    def is_regional(self) -> bool:
        return self.region != ALL_REGIONS

    def source_line(self) -> str:
        """How the answer names its source: the document and the clause."""
        return f"{seed_title(self.source.file)} {self.source.clause}"


@cache
def seed_titles() -> dict[str, str]:
    """Seed file name → the title users see (knowledge/seeds/sources.yaml)."""
    catalog = yaml.safe_load((SEEDS_DIR / "sources.yaml").read_text(encoding="utf-8"))
    return {name: meta["title"] for name, meta in catalog.items()}


def seed_title(file_name: str) -> str:
    return seed_titles().get(file_name, file_name)
