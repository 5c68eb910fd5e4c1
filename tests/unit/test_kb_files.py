"""`kb import` checks every entry first and reports problems as file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.loader import KnowledgeFileError, load_files

GOOD = """\
- id: test.one
  topic: microcredit
  questions: [能贷多少, 贷款额度, 最多借多少]
  answer: 5万元以下。
  source: {file: 002_4a97d43123b46257.txt, clause: "八、24"}
  region: 长春市
  effective: "2017"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_loads(tmp_path: Path) -> None:
    [entry] = load_files([write(tmp_path, "a.yaml", GOOD)])
    assert entry.id == "test.one"
    assert (entry.region, entry.effective) == ("长春市", "2017")


def test_every_problem_is_reported_with_file_and_line(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "b.yaml",
        GOOD  # line 1: a duplicate of the entry in a.yaml
        + "- id: test.two\n"  # line 8
        + "  topic: weather\n"  # line 9: unknown topic
        + "  questions: [只有一个]\n"  # line 10: too few phrasings
        + "  answer: 好。\n"
        + "  source: {file: nosuch.txt, clause: x}\n"  # line 12: not a seed
        + "- id: test.three\n"  # line 13: no answer, no source
        + "  topic: medical\n"
        + "  questions: [a, b, c]\n",
    )
    first = write(tmp_path, "a.yaml", GOOD)
    with pytest.raises(KnowledgeFileError) as caught:
        load_files([first, bad])
    problems = caught.value.problems
    assert f"{bad}:1: id test.one is already used at {first}:1" in problems
    assert any(p.startswith(f"{bad}:9: topic: unknown topic 'weather'") for p in problems)
    assert any(p.startswith(f"{bad}:10: questions:") for p in problems)
    assert any(p.startswith(f"{bad}:12: source.file: no seed document") for p in problems)
    assert any(p.startswith(f"{bad}:13: answer: Field required") for p in problems)
    assert any(p.startswith(f"{bad}:13: source: Field required") for p in problems)


def test_not_yaml_is_reported(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeFileError, match=r"c.yaml:2: not valid YAML"):
        load_files([write(tmp_path, "c.yaml", "- id: [\n  - : :\n")])


def test_a_general_rule_from_one_regions_document_needs_a_reason(tmp_path: Path) -> None:
    general = GOOD.replace("region: 长春市", "region: all")
    with pytest.raises(KnowledgeFileError) as caught:
        load_files([write(tmp_path, "d.yaml", general)])
    [problem] = caught.value.problems
    assert problem.startswith(f"{tmp_path / 'd.yaml'}:1: entry: region: 'all' rests on 长春市's")
    noted = general + '  general_note: "national terms, restated by Changchun"\n'
    [entry] = load_files([write(tmp_path, "e.yaml", noted)])
    assert not entry.is_regional


def test_an_entry_without_its_date_is_refused(tmp_path: Path) -> None:
    undated = GOOD.replace('  effective: "2017"\n', "")
    with pytest.raises(KnowledgeFileError, match=r"f.yaml:1: effective: Field required"):
        load_files([write(tmp_path, "f.yaml", undated)])
