"""The words villagers use to tell of a change in their family ("我家添了个孩子", "家里老人走了",
"俺家有人得了大病"): a short statement about themselves or their home that names a change.
A question ("孩子出生了有啥补贴", "家里有人得大病咋报销") is not one: the knowledge base
answers it."""

from __future__ import annotations

import re

from db.household_cases import ChangeKind

MAX_STATEMENT = 40  # longer messages are stories or complaints, not a change told in passing

_OWN = re.compile(r"[我俺咱]|家里|家中|屋头|屋里")
_QUESTION = re.compile(
    r"[?？]|吗|么|嘛|啥|咋|怎|如何|多少|能不能|能否|可不可以|可以|是否|有没有|哪|谁|几"
    r"|补贴|补助|报销|政策|申请|办理|领|条件|标准|规定"
)
_CHILD = r"(孩子|娃娃|娃儿|娃|小孩|儿子|闺女|女儿|丫头|孙子|孙女|外孙|宝宝|小子)"
_ELDER = r"(老人|老爷子|老太太|爷爷|奶奶|姥姥|姥爷|外公|外婆|父亲|母亲|老爹|老娘|爹|娘|爸|妈|老伴)"
_DAUGHTER = r"(闺女|女儿|姑娘|丫头|妹妹|姐姐|孙女)"

# Checked in this order: the first kind whose words appear wins.
_WORDS: tuple[tuple[ChangeKind, re.Pattern[str]], ...] = (
    (
        ChangeKind.DEATH,
        re.compile(rf"{_ELDER}.?(走了|去世|过世|死了|病逝|不在了|没了$)|去世|过世|病逝|病故"),
    ),
    (
        ChangeKind.BIRTH,
        re.compile(
            rf"(添|生|得)了?(个|一个|一对|对)?(大胖|胖)?{_CHILD}|{_CHILD}(出生|生下来|落地)了"
            r"|新生儿|添丁|添了?口人"
        ),
    ),
    (
        ChangeKind.MARRIED_IN,
        re.compile(
            r"娶(了|进|回)?(个|一个)?(媳妇|儿媳|老婆)|(媳妇|儿媳)(进门|过门)"
            r"|嫁(到|进)了?[我俺咱]|入赘|上门女婿|招了?(个|一个)?女婿"
        ),
    ),
    (
        ChangeKind.MARRIED_OUT,
        re.compile(rf"{_DAUGHTER}(出嫁|嫁人|嫁出去|嫁了|嫁到|远嫁)|嫁出去|出嫁了"),
    ),
    (
        ChangeKind.ILLNESS,
        re.compile(
            r"(得|患|查出|检查出|确诊)了?(个)?(大病|重病|癌|肿瘤|尿毒症|白血病|脑梗|脑溢血|中风|心脏病)"
            r"|大病|重病|瘫痪"
        ),
    ),
    (
        ChangeKind.DISASTER,
        re.compile(
            r"受灾|遭灾|遭了灾|冰雹|洪水|水灾|旱灾|泥石流|滑坡|地震|雪灾|火灾|着火|失火"
            r"|(房子|房|屋|圈|棚)(子)?(塌|倒|冲|淹|烧)|被(淹|冲|烧)|绝收"
        ),
    ),
    (
        ChangeKind.JOBLESS,
        re.compile(
            r"失业|下岗|没(活|工作|活儿)(干|做)?了|找不到(活|工作)|丢了(工作|饭碗)|被辞退|被裁"
            r"|厂子?(倒闭|关门|停工)|返乡|回(乡|老家)了|打工回来"
        ),
    ),
    (
        ChangeKind.INCOME_DROP,
        re.compile(
            r"收入(大幅|一下子)?(下降|减少|降了|少了|没了|锐减)|(挣|赚)不(到|着)钱"
            r"|没(啥)?(收入|进项)了|(猪|牛|羊|鸡)(都)?(死|病死)了|(价格|价钱)(掉|跌)"
        ),
    ),
)


def reported_change(text: str) -> ChangeKind | None:
    """The change a short statement tells of, or None (a question, or no change named).

    ``text`` in simplified characters (knowledge.normalize.to_simplified), punctuation kept."""
    text = text.strip().rstrip("。！!.~～ ")
    if len(text) > MAX_STATEMENT or not _OWN.search(text) or _QUESTION.search(text):
        return None
    return next((kind for kind, words in _WORDS if words.search(text)), None)
