"""`huhuqing households import | list | export | bindcode` and `demo`, as the county office runs
them."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from db.bindings import code_hash
from db.household_import import TEMPLATE_XLSX
from tests.e2e.conftest import huhuqing
from tests.qr_check import assert_qr_of


def test_import_list_export_and_a_bad_file(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert huhuqing("db", "upgrade", env=cli_env).returncode == 0
    demo = huhuqing("demo", env=cli_env)
    assert demo.returncode == 0, demo.stderr
    assert "imported 34 regions" in demo.stdout
    assert "imported 28 fictional sample households" in demo.stdout

    imported = huhuqing("households", "import", str(TEMPLATE_XLSX), env=cli_env)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("1 added, 0 changed, 0 unchanged")

    listed = huhuqing("households", "list", "--region", "红星村", env=cli_env)
    assert listed.returncode == 0, listed.stderr
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == [
        "EXAMPLE-0001", "SAMPLE-530627101201-01", "SAMPLE-530627101201-02",
    ]  # fmt: skip
    assert "张*明" in listed.stdout
    assert "张三明" not in listed.stdout

    exported = tmp_path / "yunnan.csv"
    result = huhuqing("households", "export", str(exported), "--region", "530000", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "exported 13 households" in result.stdout
    again = huhuqing("households", "import", str(exported), env=cli_env)
    assert again.stdout.startswith("0 added, 0 changed, 13 unchanged"), again.stderr

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "number,village,head_name,status,bank_account\nH-1,530627101201,张三明,一般农户,\n",
        encoding="utf-8",
    )
    refused = huhuqing("households", "import", str(bad), env=cli_env)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "huhuqing: nothing imported, 1 problem(s):",
        f"{bad}:1: bank_account: a column of ID-card or bank numbers is refused; "
        "such numbers are never stored",
    ]
    for path in (tmp_path / "missing.csv", bad.with_suffix(".xls")):
        result = huhuqing("households", "import", str(path), env=cli_env)
        assert result.returncode == 1
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    result = huhuqing("households", "import", str(broken), env=cli_env)
    assert result.stderr.strip() == f"huhuqing: {broken}: not a readable XLSX file"
    unknown = huhuqing("households", "list", "--region", "火星村", env=cli_env)
    assert (unknown.returncode, unknown.stderr.strip()) == (
        1, "huhuqing: no region has the code or name 火星村",
    )  # fmt: skip


def test_bindcode_prints_the_code_then_the_link_and_writes_the_qr_code(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    assert huhuqing("db", "upgrade", env=cli_env).returncode == 0
    assert huhuqing("demo", env=cli_env).returncode == 0
    number = "SAMPLE-530627101201-01"

    plain = huhuqing("households", "bindcode", number, env=cli_env)
    assert plain.returncode == 0, plain.stderr
    [code] = plain.stdout.splitlines()  # without the bot's username, no link
    assert re.fullmatch(r"[34679A-Y]{4}-[34679A-Y]{4}", code)

    qr = tmp_path / "card.png"
    env = {**cli_env, "HUHUQING_BOT_USERNAME": "@huhuqing_bot"}
    linked = huhuqing("households", "bindcode", number, "--qr", str(qr), env=env)
    assert linked.returncode == 0, linked.stderr
    code, link, written = linked.stdout.splitlines()
    assert link == f"https://t.me/huhuqing_bot?start=bind_{code.replace('-', '')}"
    assert written == f"QR code written to {qr}"
    assert_qr_of(qr.read_bytes(), link)

    # Both codes are stored as hashes, open, valid for 7 days, made by the operator.
    database = cli_env["HUHUQING_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT code_hash, created_by, used_at FROM binding_codes")
        stored = {row[0]: row[1:] for row in rows}
    assert set(stored) == {code_hash(plain.stdout), code_hash(code)}
    assert all(by.startswith("cli:") and used is None for by, used in stored.values())

    unknown = huhuqing("households", "bindcode", "NO-SUCH-1", env=cli_env)
    assert (unknown.returncode, unknown.stderr.strip()) == (
        1, "huhuqing: no household has the number NO-SUCH-1",
    )  # fmt: skip
    no_name = huhuqing("households", "bindcode", number, "--qr", str(qr), env=cli_env)
    assert no_name.returncode == 2
    assert "HUHUQING_BOT_USERNAME" in no_name.stderr
