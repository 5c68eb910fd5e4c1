"""The words villagers use for a change in the family, and the questions that are not one."""

from __future__ import annotations

import pytest

from db.household_cases import ChangeKind
from grievances.household_changes import reported_change
from knowledge.normalize import to_simplified


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我家添了个孩子", ChangeKind.BIRTH),
        ("俺家儿媳生了个大胖小子！", ChangeKind.BIRTH),
        ("家里老人走了", ChangeKind.DEATH),
        ("我爹上个月去世了", ChangeKind.DEATH),
        ("我家老伴没了", ChangeKind.DEATH),
        ("俺家有人得了大病", ChangeKind.ILLNESS),
        ("我家老头查出了癌", ChangeKind.ILLNESS),
        ("俺儿子娶了媳妇", ChangeKind.MARRIED_IN),
        ("我家闺女嫁到外村了", ChangeKind.MARRIED_OUT),
        ("我打工的厂子倒闭了，回老家了", ChangeKind.JOBLESS),
        ("我家房子被洪水冲了", ChangeKind.DISASTER),
        ("俺家今年收入少了一大半", ChangeKind.INCOME_DROP),
        ("我家添了個孩子", ChangeKind.BIRTH),  # traditional characters
        ("家裡老人過世了", ChangeKind.DEATH),
    ],
)
def test_a_change_told_in_plain_words(text: str, kind: ChangeKind) -> None:
    assert reported_change(to_simplified(text)) is kind


@pytest.mark.parametrize(
    "text",
    [
        "孩子出生了有啥补贴",  # a question: the knowledge base answers it
        "家里有人得大病咋报销",
        "老人去世了丧葬费怎么领",
        "我家添了个孩子，能办低保吗？",
        "受灾了政府管不管",
        "我家的帮扶干部是谁",
        "我家还能享受啥",
        "小额信贷能贷多少",
        "我家人没了工作",  # "没了" is not a death here
        "家里老人身体挺好的，孩子在外面打工，每个月寄钱回来，日子过得还不错，就是地少了点",
    ],
)
def test_questions_and_other_messages_are_not_a_change(text: str) -> None:
    assert reported_change(to_simplified(text)) is None
