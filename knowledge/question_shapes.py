"""Shapes of questions that an entry must fit to answer them: an amount asked, a term defined."""

from __future__ import annotations

import re

from knowledge.tokens import clean

# "How much money / how many days / how many years": the number an answer must give to answer it.
# (A year such as 2020年 is a date, not a number of years.)
_NUMBERS_ASKED = (
    (
        re.compile(r"(?<!了)多少钱|几块|多少块|多少元|几万|[领发给拿]多少"),
        re.compile(r"\d[\d.]*(?:万|元|块)"),
    ),
    (re.compile(r"多少天|几天"), re.compile(r"\d[\d.]*天|[一二三四五六七八九十两百]+天")),
    (re.compile(r"几年|多少年"), re.compile(r"(?<!\d)\d{1,2}年|[一二三四五六七八九十两]+年")),
)


def lacks_the_number_asked(question: str, answer: str) -> bool:
    """The question asks for an amount the answer does not give ("低保一个月发多少钱")."""
    asked = clean(question)
    return any(ask.search(asked) and not given.search(answer) for ask, given in _NUMBERS_ASKED)


# "雨露计划是什么", "啥叫建档立卡": the term asked about must be in the entry that defines it.
_DEFINITION = re.compile(
    r"^(?:什么是|什么叫|啥是|啥叫)(?P<after>\w{2,10})$"
    r"|^(?P<before>\w{2,10}?)(?:是什么意思|什么意思|啥意思|是什么|是指什么|指什么|是干什么的)$"
)

_POINTING = re.compile("那个|这个|那些|这些|那块|这块")


def term_defined(question: str) -> str | None:
    """The term a "what is X" question asks about, or None for another kind of question."""
    match = _DEFINITION.match(clean(question).replace(" ", ""))
    if match is None:
        return None
    return _POINTING.sub("", match.group("after") or match.group("before"))
