"""`huhuqing kb import` runs the editorial review on every entry, as the console's editor does:
a file with one unfaithful entry is refused whole, one line per problem."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from bot.__main__ import main
from bot.config import Settings
from db.knowledge import KnowledgeRepo
from db.session import Database
from knowledge.loader import bundled_files

ENTRY = "microcredit.amount"


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """`huhuqing` run in-process on the test's database (in a thread: it runs its own loop)."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("HUHUQING_DATABASE_URL", settings.database_url)
    return tmp_path


async def huhuqing(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


def bundled_entry(entry_id: str) -> dict:
    for path in bundled_files():
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
            if entry["id"] == entry_id:
                return entry
    raise LookupError(entry_id)


async def test_an_entry_with_a_number_its_clause_does_not_have_is_refused_whole(
    cli: Path, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = bundled_entry(ENTRY)
    wrong["answer"] = "扶贫小额信贷最高可贷100万元。"
    wrong["source"] = {**wrong["source"], "clause": "第九十九条", "quote": "最高可贷100万元"}
    good = {**bundled_entry("microcredit.term"), "answer": "扶贫小额信贷的期限在3年以内。"}
    file = cli / "wrong.yaml"
    file.write_text(yaml.safe_dump([good, wrong], allow_unicode=True), encoding="utf-8")
    assert await huhuqing("kb", "import", str(file)) == 1
    problems = capsys.readouterr().err.splitlines()
    assert problems[0] == "huhuqing: nothing imported, 3 problem(s):"
    assert problems[1:] == [
        f"{ENTRY}: numbers not in the cited clauses: ['100']",
        f"{ENTRY}: 100万元 is not in the cited clauses with that unit",
        f"{ENTRY}: quote not found verbatim in 002_4a97d43123b46257.txt",
    ]
    async with database.sessionmaker() as session:
        repo = KnowledgeRepo(session)
        assert [v.changed_by for v in await repo.versions("microcredit.term")] == ["seed"]
        assert [v.changed_by for v in await repo.versions(ENTRY)] == ["seed"]


async def test_a_number_of_another_clause_of_the_same_document_is_refused(
    cli: Path, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """3200元 is the income line of clause 4 of the Changchun document, not of clause 24."""
    wrong = {**bundled_entry(ENTRY), "answer": "年收入3200元以下的贫困户能贷5万元以下。"}
    file = cli / "wrong.yaml"
    file.write_text(yaml.safe_dump([wrong], allow_unicode=True), encoding="utf-8")
    assert await huhuqing("kb", "import", str(file)) == 1
    assert capsys.readouterr().err.splitlines()[1:] == [
        f"{ENTRY}: numbers not in the cited clauses: ['3200']",
        f"{ENTRY}: 3200元 is not in the cited clauses with that unit",
    ]


async def test_the_bundled_files_import_fine(
    cli: Path, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await huhuqing("kb", "import", *map(str, bundled_files())) == 0
    assert capsys.readouterr().out.startswith("0 added, 0 changed, ")
