"""An answer's source line names each document it rests on and the clause in it, as the user
reads it in the bot (simplified and traditional characters) and in `huhuqing ask --json`."""

from __future__ import annotations

import pytest

from bot.i18n import create_i18n
from handlers.ask import render_answer
from knowledge.answers import as_json
from knowledge.entries import Entry, seed_title
from knowledge.loader import bundled_files, load_files
from knowledge.normalize import to_traditional
from knowledge.search import KnowledgeIndex

ENTRIES = {entry.id: entry for entry in load_files(bundled_files())}
# Two documents (Changchun's and Bayannur's), each cited with its own clause.
LOAN_AMOUNT = ENTRIES["microcredit.amount"]


def rendered(entry: Entry, locale: str) -> str:
    i18n = create_i18n("zh_Hans")
    with i18n.context(), i18n.use_locale(locale):
        return render_answer(entry, locale)


def source_part(text: str) -> str:
    [line] = [line for line in text.split("\n") if line.startswith("📄")]
    return line


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant"])
def test_the_answer_names_each_document_with_its_clause(locale: str) -> None:
    line = source_part(rendered(LOAN_AMOUNT, locale))
    assert len(LOAN_AMOUNT.sources) == 2
    for cited in LOAN_AMOUNT.sources:
        named = f"{seed_title(cited.file)} {cited.clause}"
        assert (to_traditional(named) if locale == "zh_Hant" else named) in line, line


def test_every_entrys_source_line_carries_every_clause() -> None:
    missing = [
        (entry.id, cited.clause)
        for entry in ENTRIES.values()
        for cited in entry.sources
        if f"{seed_title(cited.file)} {cited.clause}" not in entry.source_line()
    ]
    assert missing == []


def test_ask_json_source_names_the_document_and_the_clause() -> None:
    answer = as_json(KnowledgeIndex(list(ENTRIES.values())).search("小额信贷能贷多少钱"))
    assert answer["entry_id"] == LOAN_AMOUNT.id
    assert "《关于进一步推进脱贫攻坚工作的意见》 八、24.强化扶贫资金投入" in answer["source"]
    assert "二、(二)3.做好扶贫小额信贷工作" in answer["source"]
