"""Roles and statistics from the command line, as a county office runs them: regions by name,
one clear line for what does not exist, the configured language in `cases stats`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from db.models import OutboxMessage, User
from db.session import open_database
from db.users import UserRepo
from grievances.service import CaseService, Report
from tests.e2e.conftest import huhuqing

HONGXING = "530627101201"  # 红星村, in 以古镇 (530627101), 镇雄县 (530627)


def demo(cli_env: dict[str, str]) -> dict[str, str]:
    assert huhuqing("db", "upgrade", env=cli_env).returncode == 0
    assert huhuqing("demo", env=cli_env).returncode == 0
    return cli_env


def one_line_error(result, needle: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_grant_by_name_list_and_revoke(cli_env: dict[str, str]) -> None:
    env = demo(cli_env)
    granted = huhuqing("users", "grant", "501", "cadre", "--region", "以古镇", env=env)
    assert granted.returncode == 0, granted.stderr
    assert "user 501 is now cadre for 云南省昭通市镇雄县以古镇" in granted.stdout
    assert huhuqing("users", "grant", "502", "admin", "--region", "镇雄县", env=env).returncode == 0
    assert huhuqing("users", "grant", "503", "admin", env=env).returncode == 0

    listed = huhuqing("users", "list", env=env).stdout.splitlines()
    assert "501\tcadre\t530627101\t云南省昭通市镇雄县以古镇" in listed
    assert "502\tadmin\t530627\t云南省昭通市镇雄县" in listed
    assert "503\tadmin\t-\teverything" in listed
    only_cadres = huhuqing("users", "list", "--role", "cadre", "--region", "镇雄县", env=env)
    assert only_cadres.stdout.splitlines() == ["501\tcadre\t530627101\t云南省昭通市镇雄县以古镇"]

    revoked = huhuqing("users", "revoke", "501", env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert "user 501 is a villager again (was cadre for 530627101)" in revoked.stdout
    assert "501\t" not in huhuqing("users", "list", env=env).stdout
    one_line_error(huhuqing("users", "revoke", "501", env=env), "nothing to revoke")
    told = asyncio.run(_outbox(env["HUHUQING_DATABASE_URL"], 501))  # the bot sends them later
    assert told[0].startswith("您现在是云南省昭通市镇雄县以古镇的干部。")
    assert told[1].startswith("您已不再是干部")


async def _outbox(url: str, chat_id: int) -> list[str]:
    database = await open_database(url)
    try:
        async with database.sessionmaker() as session:
            query = select(OutboxMessage.text).where(OutboxMessage.chat_id == chat_id)
            return list((await session.scalars(query.order_by(OutboxMessage.id))).all())
    finally:
        await database.close()


def test_region_names_and_what_does_not_exist(cli_env: dict[str, str]) -> None:
    env = demo(cli_env)
    one_line_error(
        huhuqing("users", "grant", "601", "cadre", "--region", "红星村", env=env),
        "is a village; a cadre's area is a township or above",
    )
    one_line_error(
        huhuqing("users", "grant", "601", "cadre", "--region", "火星村", env=env),
        "--region 火星村: no region has this code or name; did you mean 红星村",
    )
    one_line_error(huhuqing("users", "grant", "601", "cadre", env=env), "a cadre needs --region")
    one_line_error(huhuqing("cases", "stats", "--region", "月球", env=env), "--region 月球")
    route = huhuqing("cases", "route", "--region", "月球", "--level", "county", env=env)
    one_line_error(route, "--region 月球")
    routed = huhuqing("cases", "route", "--region", "镇雄县", "--level", "county", env=env)
    assert routed.returncode == 0, routed.stderr
    assert "in 530627 go to the county" in routed.stdout
    assert huhuqing("users", "list", env=env).stdout.strip() == "no such users"


async def _one_case(database_url: str) -> None:
    database = await open_database(database_url)
    try:
        async with database.sessionmaker() as session:
            reporter: User = await UserRepo(session).touch(701)
            report = Report(reporter, "zh_Hans", "water", HONGXING, "水管坏了")
            await CaseService(session, lambda notice: ("notice", None)).submit(report)
    finally:
        await database.close()


def test_case_stats_speak_the_default_language_and_count_in_agreement(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = demo(cli_env)
    asyncio.run(_one_case(env["HUHUQING_DATABASE_URL"]))

    in_english = {**env, "HUHUQING_DEFAULT_LOCALE": "en"}
    english = huhuqing("cases", "stats", "--region", "以古镇", env=in_english)
    assert english.returncode == 0, english.stderr
    assert english.stdout.splitlines()[0] == "Cases created in the last 30 days"
    assert "以古镇: 1 case, 0 overdue now; response 0%, resolution 0%" in english.stdout

    chinese = huhuqing("cases", "stats", "--region", "以古镇", "--days", "1", env=env)
    assert chinese.stdout.splitlines()[0] == "最近一天提交的诉求"
    assert "以古镇：1件，目前超期0件；响应率0%，解决率0%" in chinese.stdout
    traditional = huhuqing(
        "cases", "stats", "--region", "以古镇", env={**env, "HUHUQING_DEFAULT_LOCALE": "zh_Hant"}
    )
    assert traditional.stdout.splitlines()[0] == "最近30天提交的訴求"
