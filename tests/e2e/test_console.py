"""The README's first experience: upgrade, demo data, then a scripted chat through a pipe."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import sqlite3
import sys
import time

from tests.e2e.conftest import ROOT, huhuqing


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


def test_ctrl_c_ends_the_console_at_once_and_quietly(cli_env: dict[str, str]) -> None:
    """In a terminal, Ctrl-C while the console waits for a line ends it (exit 130), without a
    traceback; it used to wait for one more line."""
    assert huhuqing("db", "upgrade", env=cli_env).returncode == 0
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the console in a terminal
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "bot", "chat"], cli_env)
    try:
        os.write(terminal, b"/start\n")
        shown = _read_until(terminal, "you> ", after="bot> ")
        os.write(terminal, b"\x03")  # Ctrl-C
        shown += _read_until(terminal, "", timeout=15)  # to the end of the output
        status = _exit_status(pid, timeout=10)
        assert status == 130, shown
    finally:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(terminal)
    assert "Traceback" not in shown


def _exit_status(pid: int, timeout: float) -> int | None:
    """The child's exit code once it has ended (its terminal closes a moment before), or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ended, status = os.waitpid(pid, os.WNOHANG)
        if ended:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    return None


def _read_until(terminal: int, text: str, after: str = "", timeout: float = 60) -> str:
    """What the terminal shows until ``text`` appears after ``after`` (or the output ends)."""
    shown, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text and after in shown and text in shown.rpartition(after)[2]:
            return shown
        if select.select([terminal], [], [], 0.2)[0]:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # the console has ended
                return shown
            if not chunk:
                return shown
            shown += chunk.decode(errors="replace")
    raise AssertionError(f"the console did not show {text!r} in time:\n{shown}")


def test_log_lines_stay_out_of_the_conversation_and_the_answer(cli_env: dict[str, str]) -> None:
    """A new database's first start seeds the knowledge base (an INFO line elsewhere)."""
    upgraded = huhuqing("db", "upgrade", env=cli_env)
    assert upgraded.stdout.startswith("created the tables in the SQLite file /")
    chat = huhuqing("chat", env=cli_env, stdin="/start\n")
    assert "bot> " in chat.stdout
    asked = huhuqing("ask", "低保怎么申请", env={**cli_env, "HUHUQING_LOG_LEVEL": "INFO"})
    assert asked.returncode == 0, asked.stderr
    for result in (chat, asked):
        assert " INFO " not in result.stdout + result.stderr


def test_chat_help_names_the_default_user_and_the_language_codes() -> None:
    shown = huhuqing("chat", "--help", env=dict(os.environ)).stdout
    assert "default 10001" in shown
    for code in ("zh-hans", "zh-hant", "en"):
        assert code in shown


def test_db_upgrade_says_which_file_and_what_it_did(cli_env: dict[str, str]) -> None:
    database = cli_env["HUHUQING_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    refused = huhuqing("ask", "低保", env=cli_env)
    assert f"(the SQLite file {database}) has no tables yet" in refused.stderr
    assert "Run: huhuqing db upgrade" in refused.stderr
    first = huhuqing("db", "upgrade", env=cli_env)
    assert first.stdout.startswith(f"created the tables in the SQLite file {database} (revision ")
    again = huhuqing("db", "upgrade", env=cli_env)
    assert again.stdout.startswith(f"the SQLite file {database} is up to date (revision ")


def test_a_notification_waiting_at_start_is_shown_once(cli_env: dict[str, str]) -> None:
    """The console's first act can be a notification (a role given, a case for a cadre): with
    aiogram's types built on first use, its send once failed, showed, and was sent again."""
    huhuqing("db", "upgrade", env=cli_env)
    huhuqing("demo", env=cli_env)
    granted = huhuqing("users", "grant", "4343", "cadre", "--region", "以古镇", env=cli_env)
    assert granted.returncode == 0, granted.stderr
    chat = huhuqing("chat", "--user", "4343", env=cli_env, stdin="/cases\n")
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.count("您现在是云南省昭通市镇雄县以古镇的干部。") == 1
    database = cli_env["HUHUQING_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with contextlib.closing(sqlite3.connect(database)) as connection:
        sent = connection.execute("SELECT attempts, last_error, sent_at FROM outbox").fetchall()
    [(attempts, error, sent_at)] = sent
    assert (attempts, error) == (1, None)  # delivered at the first try
    assert sent_at is not None
