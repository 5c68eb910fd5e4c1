"""The README's first experience: upgrade, demo data, then a scripted chat through a pipe."""

from __future__ import annotations

from tests.e2e.conftest import huhuqing


def test_console_script_from_a_pipe(cli_env: dict[str, str]) -> None:
    assert huhuqing("db", "upgrade", env=cli_env).returncode == 0
    demo = huhuqing("demo", env=cli_env)
    assert demo.returncode == 0, demo.stderr
    assert "imported 34 regions" in demo.stdout

    script = "/start\n3\n紅星村\n/language\n3\n/start\n"
    chat = huhuqing("chat", "--user", "42", "--lang", "zh-hans", env=cli_env, stdin=script)

    assert chat.returncode == 0, chat.stderr
    out = chat.stdout
    assert "请选择您所在的省" in out
    assert "[3] 云南省" in out
    assert "已保存。您所在的村：云南省昭通市镇雄县以古镇红星村。" in out
    assert "[3] English" in out
    assert "Language: English" in out
    assert "Your village: 云南省昭通市镇雄县以古镇红星村." in out  # /start in English now


def test_commands_refuse_an_unmigrated_database_with_the_fix(cli_env: dict[str, str]) -> None:
    result = huhuqing("chat", env=cli_env, stdin="/start\n")
    assert result.returncode == 1
    assert "Run: huhuqing db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_region_import_command_reports_bad_rows(cli_env: dict[str, str], tmp_path) -> None:
    huhuqing("db", "upgrade", env=cli_env)
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,level,parent,aliases\n1,,province,,\n", encoding="utf-8")
    result = huhuqing("regions", "import", str(bad), env=cli_env)
    assert result.returncode == 1
    assert "nothing imported" in result.stderr
    assert f"{bad}:2: name is missing" in result.stderr


def test_two_console_sessions_make_two_reports(cli_env: dict[str, str]) -> None:
    huhuqing("db", "upgrade", env=cli_env)
    huhuqing("demo", env=cli_env)
    # /start, village; /report, 饮水, yes (my village), text, done, anonymous, submit
    script = "/start\n红星村\n/report\n4\n1\n{text}\n1\n1\n1\n/mycases\n"
    numbers = []
    for text in ("第一次反映", "第二次反映"):
        chat = huhuqing("chat", env=cli_env, stdin=script.format(text=text))
        assert chat.returncode == 0, chat.stderr
        line = next(line for line in chat.stdout.splitlines() if "诉求编号" in line)
        numbers.append(line.split("诉求编号是")[1].strip(" 。"))
    assert numbers[0] != numbers[1]
    listed = huhuqing("chat", env=cli_env, stdin="/mycases\n").stdout
    assert all(number in listed for number in numbers)
