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


# A particular person's name or number, a local office's whereabouts, this week's events: no
# policy document holds them ("第一书记电话多少", "村委会在哪", "扶贫车间今天招人不"). A person's
# number is answered only by an entry that says where that person's number is written
# ("包保干部电话多少": on the 明白纸).
_PERSON = (
    "干部|书记|队长|主任|村长|支书|会计|嘎查达|组长|工作队|包保人|帮扶人|责任人|村医|校长|老师"
)
_OFFICE = (
    "村委会|村委|村部|村办公室|乡政府|镇政府|苏木政府|民政办|信用社|银行|医院|卫生院|卫生室|"
    "派出所|物业|菜市场|施工队"
)
_CONTACT = re.compile(
    rf"(?:{_PERSON}|{_OFFICE})的?(?:[叫姓]个?(?:啥|什么|甚|哪样)|名字|电话|电画|手机|号码|地址)"
)
# "包保干部的名字和电话写在明白纸上", "包保干部、村干部的联系方式": where to find them.
_CONTACT_GIVEN = re.compile(
    rf"(?:{_PERSON}|{_OFFICE})[^。]{{0,15}}?(?:联系方式|电话|号码|名字|姓名)"
)
_WHEREABOUTS = re.compile(
    rf"(?:{_OFFICE})(?:在哪|在什么地方|在啥地方|咋走|怎么走|几点)|到没到|到了没|到账没|来没来"
)
# Today's or this month's events ("扶贫车间今天招人不") — but "我这个月住院了能报多少" asks a rule,
# the day only tells the story.
_WHEN = re.compile(r"今天|今儿|今晚|明天|明儿|后天|昨天|这周|这礼拜|这个月|下个月|这两天")
# When someone comes or something is held ("干部啥时候来", "评议会好久开"; "多久来一次" asks a
# rule): only an entry that speaks of when ("招聘会什么时候开，文件没写，请问…") answers it.
_WHEN_HELD = re.compile(r"(?:啥时候|什么时候|好久|几时|哪天)(?:来|开会|开)")
_WHEN_GIVEN = re.compile(r"什么时候|啥时候|时间|每年|每月|每季|每周")
_RULE_ASKED = re.compile(r"能报|报销|能贷|补助|补贴|救助|申请|条件|多少|咋办|怎么办|咋整|咋个办")


def asks_a_particular(question: str, answer: str) -> bool:
    """The question asks for a particular name, number, place or day that the answer (like every
    policy document) does not give."""
    asked = clean(question).replace(" ", "")
    if _WHEREABOUTS.search(asked):
        return True
    if _WHEN.search(asked) and not _RULE_ASKED.search(asked):
        return True
    if _WHEN_HELD.search(asked) and not _WHEN_GIVEN.search(answer):
        return True
    return _CONTACT.search(asked) is not None and _CONTACT_GIVEN.search(answer) is None
