"""`huhuqing ask` and `huhuqing kb`, as scripts and the evaluation use them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import ROOT, huhuqing

EVAL = ROOT / "tests" / "eval"


def test_ask_json_has_the_documented_fields(cli_env: dict[str, str]) -> None:
    huhuqing("db", "upgrade", env=cli_env)
    result = huhuqing("ask", "小额信贷能贷多少钱", "--json", env=cli_env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == {
        "answer", "confident", "intent", "entry_id", "source", "region", "effective", "score",
        "alternatives",
    }  # fmt: skip
    assert answer["confident"] is True
    assert answer["intent"] == "question"
    assert "5万元" in answer["answer"]
    assert answer["region"] == "all"
    assert answer["effective"] == "2017"


def test_ask_json_says_where_a_regional_answer_applies(cli_env: dict[str, str]) -> None:
    huhuqing("db", "upgrade", env=cli_env)
    question = "贫困户识别的收入标准是多少"
    changchun = json.loads(
        huhuqing("ask", question, "--region", "长春市", "--json", env=cli_env).stdout
    )
    assert (changchun["confident"], changchun["region"]) == (True, "长春市")
    assert "3200" in changchun["answer"]
    yunnan = json.loads(
        huhuqing("ask", question, "--region", "云南省", "--json", env=cli_env).stdout
    )
    assert (yunnan["confident"], yunnan["region"]) == (False, "长春市")
    assert yunnan["answer"].startswith("您所在地区的文件里没有这方面的规定。下面是长春市的规定")


def test_ask_jsonl_answers_in_order_and_survives_a_bad_line(cli_env: dict[str, str]) -> None:
    huhuqing("db", "upgrade", env=cli_env)
    huhuqing("demo", env=cli_env)
    lines = [
        {"q": "年收入多少钱算贫困户", "region": "长春市"},
        "not json",
        {"q": "举报村干部贪污"},
        {"q": "今天天气怎么样", "region": None},
        {"q": "年收入多少钱算贫困户", "region": "红星村"},  # a Yunnan village
        {"q": "你是机器人吗"},  # talk, answered in kind by the bot, not searched
        {"q": "俺家的帮扶干部是哪个"},  # only the household's record answers it
    ]
    stdin = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    result = huhuqing("ask", "--jsonl", env=cli_env, stdin=stdin + "\n")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == 7
    assert "3200" in answers[0]["answer"]
    assert "error" in answers[1]
    assert answers[2]["intent"] == "grievance"
    assert (answers[3]["confident"], answers[3]["intent"]) == (False, "unknown")
    # Changchun's line is not Yunnan's, and nothing else is passed off as the answer.
    assert (answers[4]["confident"], answers[4]["answer"]) == (False, "")
    assert (answers[5]["confident"], answers[5]["intent"]) == (False, "chatter")
    assert (answers[6]["confident"], answers[6]["intent"]) == (False, "household")


def test_kb_import_refuses_a_bad_file_and_imports_a_good_one(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    huhuqing("db", "upgrade", env=cli_env)
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: x.y\n  topic: microcredit\n", encoding="utf-8")
    result = huhuqing("kb", "import", str(bad), env=cli_env)
    assert result.returncode == 1
    assert f"{bad}:1: questions: Field required" in result.stderr

    exported = tmp_path / "export"
    assert huhuqing("kb", "export", str(exported), env=cli_env).returncode == 0
    result = huhuqing("kb", "import", *map(str, sorted(exported.glob("*.yaml"))), env=cli_env)
    assert result.returncode == 0, result.stderr
    assert re.match(r"0 added, 0 changed, \d+ unchanged", result.stdout)


def test_eval_set_scores_at_least_90_percent(cli_env: dict[str, str]) -> None:
    huhuqing("db", "upgrade", env=cli_env)
    scored = subprocess.run(
        [sys.executable, str(EVAL / "score.py"), str(EVAL / "dev.jsonl"), "--",
         sys.executable, "-m", "bot", "ask", "--jsonl"],
        capture_output=True, text=True, env=cli_env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    match = re.search(r"score: (\d+)/(\d+)", scored.stdout)
    assert match, scored.stdout + scored.stderr
    passed, total = map(int, match.groups())
    assert passed / total >= 0.9, scored.stdout


def test_ask_knows_chinas_divisions_without_a_registry(cli_env: dict[str, str]) -> None:
    """`--region` takes any province, prefecture or county, with or without its level word, on
    a database where no region was imported; a name two counties share names neither."""
    huhuqing("db", "upgrade", env=cli_env)
    lines = [
        {"q": "贫困户识别的收入标准是多少", "region": region}
        for region in ("九台区", "长春", "昭通", "朝阳区")  # 朝阳区: Beijing's and Changchun's
    ]
    stdin = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n"
    result = huhuqing("ask", "--jsonl", env=cli_env, stdin=stdin)
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [answer["confident"] for answer in answers] == [True, True, False, False]
    assert all("3200" in answer["answer"] for answer in answers[:2])
    assert answers[2]["answer"].startswith("您所在地区的文件里没有这方面的规定。下面是长春市的规定")
