"""The households pages of the console: the area's list (search, filters, pages), one household
in full, the registry import (checked first, applied on request) and the printable sheet of
binding codes; all kept to the viewer's area and written to the audit log."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import segno
from aiohttp import FormData
from sqlalchemy import func, select, update

from bot.bind_links import bind_link
from bot.config import Settings
from db.bindings import code_hash
from db.household_import import SAMPLE_HOUSEHOLDS, import_households
from db.households import HouseholdRepo
from db.models import (
    AdminAction,
    BindingCode,
    Household,
    HouseholdBenefit,
    HouseholdView,
    Role,
)
from db.session import Database
from handlers.household_visits import local_today
from knowledge.eligibility import gaps
from knowledge.service import KnowledgeBase
from tests.integration.web.conftest import (
    HONGXING,
    TANGFANG,
    YIGU,
    ZHENXIONG,
    Console,
    give_role,
)

pytestmark = pytest.mark.both_databases
CADRE, OTHER_CADRE, ADMIN, OTHER_ADMIN = 7401, 7402, 7403, 7404
YIGU_HOUSEHOLDS = (
    "SAMPLE-530627101201-01",
    "SAMPLE-530627101201-02",
    "SAMPLE-530627101202-01",
    "SAMPLE-530627101202-02",
)
OUTSIDE = "SAMPLE-530627102201-01"  # 塘房镇
BOT = "huhuqing_test_bot"
NOT_FOUND = "找不到"


@pytest.fixture(autouse=True)
async def households(database: Database) -> None:
    async with database.sessionmaker() as session:
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)


async def signed_in(console: Console, database: Database, who: int, role: Role, area: str) -> None:
    await give_role(database, who, role, area)
    await console.sign_in(who)


async def views(database: Database, action: str) -> list[tuple[str, str, str]]:
    """(number, viewer, role) of the audit rows of this kind."""
    async with database.sessionmaker() as session:
        rows = await session.execute(
            select(HouseholdView.household_number, HouseholdView.viewer, HouseholdView.viewer_role)
            .where(HouseholdView.action == action)
            .order_by(HouseholdView.household_number)
        )
        return [tuple(row) for row in rows]


def numbers_on(page: str) -> list[str]:
    return re.findall(r'<td><a href="/households/([^"?/]+)">', page)


# The list


async def test_a_cadre_lists_their_area_and_each_shown_household_is_audited(
    console: Console, database: Database
) -> None:
    await signed_in(console, database, CADRE, Role.CADRE, YIGU)
    page = await console.text("/households")
    assert numbers_on(page) == list(YIGU_HOUSEHOLDS)
    assert "张*明" in page
    assert "张三明" not in page
    assert "红星村" in page
    assert "2026-11-20" in page
    assert await views(database, "list") == [(n, f"web:{CADRE}", "cadre") for n in YIGU_HOUSEHOLDS]


async def test_search_by_number_or_name_and_filter_by_status_and_loan(
    console: Console, database: Database
) -> None:
    await signed_in(console, database, CADRE, Role.CADRE, YIGU)
    assert numbers_on(await console.text("/households?q=张三明")) == [YIGU_HOUSEHOLDS[0]]
    assert numbers_on(await console.text("/households?q=sample-530627101202")) == list(
        YIGU_HOUSEHOLDS[2:]
    )
    assert numbers_on(await console.text("/households?q=刘桂兰")) == []  # another township's
    assert numbers_on(await console.text("/households?status=未脱贫")) == [YIGU_HOUSEHOLDS[1]]
    async with database.sessionmaker() as session:
        household = await HouseholdRepo(session).get(YIGU_HOUSEHOLDS[3])
        await session.execute(update(HouseholdBenefit).values(due=None))
        session.add(
            HouseholdBenefit(
                household_id=household.id, kind="小额信贷", due=local_today() + timedelta(10)
            )
        )
        await session.commit()
    loans = await console.text("/households?loan=1")
    assert numbers_on(loans) == [YIGU_HOUSEHOLDS[3]]
    assert (local_today() + timedelta(10)).isoformat() in loans


async def test_the_gaps_filter_shows_what_the_eligibility_rules_find(
    console: Console, database: Database
) -> None:
    entries = (await KnowledgeBase(database.sessionmaker).index()).entries
    async with database.sessionmaker() as session:
        repo = HouseholdRepo(session)
        expected = [
            number
            for number in YIGU_HOUSEHOLDS
            if gaps(await repo.profile(await repo.get(number)), entries)
        ]
    assert 0 < len(expected) < len(YIGU_HOUSEHOLDS)  # the filter leaves some out
    await signed_in(console, database, CADRE, Role.CADRE, YIGU)
    assert numbers_on(await console.text("/households?gaps=1")) == expected


async def test_the_list_is_paged_by_fifty(
    console: Console, database: Database, tmp_path: Path
) -> None:
    lines = SAMPLE_HOUSEHOLDS.read_text(encoding="utf-8").splitlines()
    header, first = lines[2], lines[3]
    path = tmp_path / "more.csv"
    rows = [first.replace(YIGU_HOUSEHOLDS[0], f"MORE-{n:03}", 1) for n in range(55)]
    path.write_text("\n".join([header, *rows]), encoding="utf-8")
    async with database.sessionmaker() as session:
        await import_households(session, path, "test")
    await signed_in(console, database, CADRE, Role.CADRE, YIGU)
    first_page = await console.text("/households?q=MORE-")
    assert len(numbers_on(first_page)) == 50
    assert "第 1 页，共 2 页" in first_page
    second = await console.text("/households?q=MORE-&page=2")
    assert numbers_on(second) == [f"MORE-{n:03}" for n in range(50, 55)]


# One household


async def test_the_household_page_shows_its_six_clears_and_is_audited(
    console: Console, database: Database
) -> None:
    await signed_in(console, database, CADRE, Role.CADRE, YIGU)
    response = await console.get(f"/households/{YIGU_HOUSEHOLDS[0]}")
    assert response.status == 200
    page = await response.text()
    for label in ("家底", "致贫原因", "帮扶措施", "收入", "帮扶责任", "脱贫时序"):
        assert f"<dt>{label}</dt>" in page
    assert "红星村 张*明" in page
    assert "张三明" not in page
    assert "孙德福" in page
    assert "138-0000-0001" in page
    assert "家里都好" in page  # the visit's note
    assert "这一户能享受的政策和原因" in page  # the policies that apply, with their reasons
    assert await views(database, "view") == [(YIGU_HOUSEHOLDS[0], f"web:{CADRE}", "cadre")]


async def test_a_household_outside_the_area_is_not_found(
    console: Console, database: Database
) -> None:
    await signed_in(console, database, CADRE, Role.CADRE, YIGU)
    outside = await console.get(f"/households/{OUTSIDE}")  # the number edited in the URL
    missing = await console.get("/households/NO-SUCH-HOUSEHOLD")
    assert outside.status == missing.status == 404
    assert NOT_FOUND in await outside.text()
    assert OUTSIDE not in numbers_on(await console.text("/households?q=" + OUTSIDE))
    assert await views(database, "view") == []


async def test_the_pages_speak_the_chosen_language(console: Console, database: Database) -> None:
    await signed_in(console, database, ADMIN, Role.ADMIN, ZHENXIONG)
    for language, words in (
        ("zh_Hans", ("家底", "农户", "红星村", "最近走访")),
        ("zh_Hant", ("家底", "農戶", "紅星村", "最近走訪")),
        ("en", ("Basics", "Households", "Last visit")),
    ):
        await console.get(f"/language/{language}?next=/")
        page = await console.text(f"/households/{YIGU_HOUSEHOLDS[0]}")
        listing = await console.text("/households")
        assert len(numbers_on(listing)) == 8
        for word in words:
            assert word in page + listing


# Binding codes


def svg_modules(svg: str) -> list[list[int]]:
    """The dark (1) and light (0) modules drawn by an inline SVG QR code, quiet zone removed."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    grid = [[0] * size for _ in range(size)]
    x = y = 0.0
    for op, a, b in re.findall(
        r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", re.search(r' d="([^"]+)"', svg).group(1)
    ):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for step in range(int(a)):
                grid[int(y)][int(x) + step] = 1
            x += int(a)
    return [row[4:-4] for row in grid[4:-4]]


async def test_a_village_sheet_holds_a_card_and_a_fresh_code_per_household(
    console: Console, database: Database, settings: Settings
) -> None:
    settings.bot_username = BOT
    await signed_in(console, database, CADRE, Role.CADRE, YIGU)
    choose = await console.text("/households/bindcodes")
    assert "红星村" in choose
    assert "凉水井村" not in choose
    made = await console.post("/households/bindcodes", {"village": HONGXING})
    assert made.status == 200
    assert "sheet=" in str(made.url)
    sheet = await made.text()
    cards = re.findall(r'<section class="bind-card">(.*?)</section>', sheet, re.S)
    assert len(cards) == 2
    async with database.sessionmaker() as session:
        for card, number in zip(cards, YIGU_HOUSEHOLDS[:2], strict=True):
            assert number in card
            assert "红星村" in card
            code = re.search(r'<p class="code">([A-Z0-9-]+)</p>', card).group(1)
            stored = await session.scalar(
                select(BindingCode).where(BindingCode.code_hash == code_hash(code))
            )
            assert stored.household_id == (await HouseholdRepo(session).get(number)).id
            assert stored.created_by == f"web:{CADRE}"
            expected = segno.make(bind_link(BOT, code), error="m", micro=False).matrix
            assert svg_modules(card) == [list(row) for row in expected]
        logged = await session.scalar(
            select(AdminAction).where(AdminAction.action == "households.bindcodes")
        )
    assert "张*明" in sheet
    assert "张三明" not in sheet
    assert logged.actor_id == CADRE
    assert logged.details == {"created": 2, "revoked": 0}
    assert await views(database, "bindcode") == [
        (n, f"web:{CADRE}", "cadre") for n in YIGU_HOUSEHOLDS[:2]
    ]
    again = await (await console.post("/households/bindcodes", {"village": HONGXING})).text()
    assert 'class="bind-card"' not in again  # each household has an unused code already
    assert "没有生成新绑定码" in again
    assert "已经有还没用的绑定码的农户" in again
    replaced = await console.post("/households/bindcodes", {"village": HONGXING, "replace": "1"})
    assert len(re.findall('class="bind-card"', await replaced.text())) == 2
    async with database.sessionmaker() as session:
        revoked = await session.scalar(
            select(func.count()).where(BindingCode.revoked_at.is_not(None))
        )
    assert revoked == 2


async def test_a_village_outside_the_area_has_no_sheet_and_a_sheet_is_its_makers(
    console: Console, second_console: Console, database: Database
) -> None:
    await signed_in(console, database, OTHER_CADRE, Role.CADRE, TANGFANG)
    assert (await console.get(f"/households/bindcodes?village={HONGXING}")).status == 404
    refused = await console.post("/households/bindcodes", {"village": HONGXING})  # forged field
    assert refused.status == 404
    assert (await console.post("/households/bindcodes", {"village": YIGU})).status == 404
    async with database.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(BindingCode)) == 0
    # A sheet is shown only to the browser that made it.
    await signed_in(second_console, database, CADRE, Role.CADRE, YIGU)
    made = await second_console.post("/households/bindcodes", {"village": HONGXING})
    sheet = await made.text()  # no bot username configured: the code without a QR code
    assert len(re.findall('class="bind-card"', sheet)) == 2
    assert "<svg" not in sheet
    assert "HUHUQING_BOT_USERNAME" in sheet
    await signed_in(console, database, ADMIN, Role.ADMIN, ZHENXIONG)
    stolen = await console.text(made.url.path_qs)
    assert 'class="bind-card"' not in stolen
    assert "不能再显示" in stolen


# Import


def registry_file(*rows: str) -> bytes:
    lines = SAMPLE_HOUSEHOLDS.read_text(encoding="utf-8").splitlines()
    return "\n".join([lines[2], *rows]).encode()


def sample_row(number: str) -> str:
    lines = SAMPLE_HOUSEHOLDS.read_text(encoding="utf-8").splitlines()
    return next(line for line in lines if line.startswith(number + ","))


async def upload(console: Console, content: bytes, name: str = "households.csv"):
    form = FormData()
    form.add_field("csrf", console.csrf)
    form.add_field("file", content, filename=name, content_type="text/csv")
    return await console.client.post("/households/import", data=form)


async def land_of(database: Database, number: str) -> float | None:
    async with database.sessionmaker() as session:
        return await session.scalar(select(Household.land_mu).where(Household.number == number))


async def test_an_import_is_checked_first_and_applied_on_request(
    console: Console, database: Database
) -> None:
    await signed_in(console, database, ADMIN, Role.ADMIN, ZHENXIONG)
    form = await console.text("/households/import")
    assert "/households/import/template.xlsx" in form
    template = await console.get("/households/import/template.xlsx")
    assert template.status == 200
    assert (await template.read()).startswith(b"PK")
    changed = sample_row(YIGU_HOUSEHOLDS[0]).replace(",3.5,", ",4.5,")
    added = sample_row(YIGU_HOUSEHOLDS[1]).replace(YIGU_HOUSEHOLDS[1], "NEW-0001")
    checked = await upload(console, registry_file(changed, added, sample_row(OUTSIDE)))
    report = await checked.text()
    assert checked.status == 200
    assert "新增农户：1" in report
    assert "有改动的农户：1" in report
    assert "没有改动的农户：1" in report
    assert await land_of(database, YIGU_HOUSEHOLDS[0]) == 3.5  # nothing applied yet
    assert await land_of(database, "NEW-0001") is None
    apply_path = re.search(r'action="(/households/import/[^"]+/apply)"', report).group(1)
    applied = await console.post(apply_path)
    assert "已导入" in await applied.text()
    assert await land_of(database, YIGU_HOUSEHOLDS[0]) == 4.5
    assert await land_of(database, "NEW-0001") == 2
    async with database.sessionmaker() as session:
        logged = await session.scalar(
            select(AdminAction).where(AdminAction.action == "households.import")
        )
    assert logged.actor_id == ADMIN
    assert logged.target == "households.csv"
    assert logged.details == {"added": 1, "changed": 1, "unchanged": 1}
    assert logged.area_path == "530000/530600/530627/"
    again = await console.post(apply_path)  # a second press changes nothing more
    assert "已导入" in await again.text()
    async with database.sessionmaker() as session:
        imports = select(func.count()).where(AdminAction.action == "households.import")
        assert await session.scalar(imports) == 1


async def test_rows_outside_the_admins_area_are_problems_and_nothing_is_applied(
    console: Console, second_console: Console, database: Database
) -> None:
    await signed_in(console, database, ADMIN, Role.ADMIN, YIGU)
    changed = sample_row(YIGU_HOUSEHOLDS[0]).replace(",3.5,", ",4.5,")
    elsewhere = sample_row("SAMPLE-530627102202-01")  # 沙坝村, 塘房镇
    moved_in = sample_row(OUTSIDE).replace(",530627102201,", f",{HONGXING},")
    report = await (await upload(console, registry_file(changed, elsewhere, moved_in))).text()
    problems = re.findall(r"<li>(households\.csv:.*?)</li>", report)
    assert problems == [
        "households.csv:3: village: 530627102202 不在您的辖区内",
        f"households.csv:4: number: {OUTSIDE} 不在您的辖区内",
    ]
    assert "/apply" not in report  # nothing to apply
    assert await land_of(database, YIGU_HOUSEHOLDS[0]) == 3.5
    async with database.sessionmaker() as session:
        assert (
            await session.scalar(select(Household.region_code).where(Household.number == OUTSIDE))
            == "530627102201"
        )


async def test_the_import_is_for_admins_and_each_upload_for_its_own_session(
    console: Console, second_console: Console, database: Database
) -> None:
    await signed_in(console, database, CADRE, Role.CADRE, ZHENXIONG)
    assert (await console.get("/households/import")).status == 403
    assert (await upload(console, registry_file(sample_row(OUTSIDE)))).status == 403
    await signed_in(second_console, database, OTHER_ADMIN, Role.ADMIN, ZHENXIONG)
    checked = await upload(second_console, registry_file(sample_row(OUTSIDE)))
    await signed_in(console, database, ADMIN, Role.ADMIN, ZHENXIONG)
    assert (await console.get(checked.url.path)).status == 404
    assert (await console.post(checked.url.path + "/apply")).status == 404
    assert (await console.get("/households/import/..%2F..%2Fetc")).status == 404
