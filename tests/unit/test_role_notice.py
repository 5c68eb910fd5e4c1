"""The notice a person gets when given a role or when it is taken back, in their language."""

from __future__ import annotations

from bot.role_notice import RoleAnnouncer
from db.models import Role
from grievances.roles import RoleChange

CADRE_OF_YIGU = RoleChange(5, Role.CADRE, "530627101", Role.VILLAGER, None)
NO_LONGER_ADMIN = RoleChange(5, Role.VILLAGER, None, Role.ADMIN, "530627")
YIGU = "云南省昭通市镇雄县以古镇"


def test_each_language_and_traditional_place_names() -> None:
    announce = RoleAnnouncer("zh_Hans")
    assert announce(CADRE_OF_YIGU, None, YIGU).startswith(f"您现在是{YIGU}的干部。")
    assert announce(CADRE_OF_YIGU, "zh_Hant", YIGU).startswith(
        "您現在是雲南省昭通市鎮雄縣以古鎮的幹部。"
    )
    assert announce(CADRE_OF_YIGU, "en", YIGU).startswith(f"You are now a cadre for {YIGU}.")
    assert announce(NO_LONGER_ADMIN, "en", "").startswith("You are no longer administrator")
    assert announce(NO_LONGER_ADMIN, None, "").startswith("您已不再是管理员")


def test_an_area_name_is_never_read_as_html() -> None:
    assert "&lt;b&gt;" in RoleAnnouncer("en")(CADRE_OF_YIGU, None, "<b>")
