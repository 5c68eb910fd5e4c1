"""Search as a villager notices it: typos, traditional characters, noise, regions, complaints."""

from __future__ import annotations

import pytest

from knowledge.entries import Entry
from knowledge.loader import bundled_files, load_files
from knowledge.question_shapes import asks_a_particular
from knowledge.search import MAX_SUGGESTIONS, Decision, KnowledgeIndex
from knowledge.tokens import tokenize

INDEX = KnowledgeIndex(load_files(bundled_files()))


def answer_of(question: str, region: list[str] | None = None) -> Entry:
    result = INDEX.search(question, region)
    assert result.decision is Decision.ANSWER, (question, result.decision, result.best)
    assert result.best is not None
    return result.best.entry


@pytest.mark.parametrize(
    "question",
    [
        "小额信贷能贷多少钱",
        "小額信貸能貸多少錢",  # traditional characters
        "小额信代能贷多少钱",  # 代 for 贷: same pinyin, the first candidate of many keyboards
        "ＸＩＡＯ额信贷能贷多少钱？？？",  # full-width letters, stray punctuation
        "请问一下，俺家小额信贷能贷多少钱呀",  # filler words and dialect
    ],
)
def test_noisy_phrasings_still_find_the_loan_amount(question: str) -> None:
    assert "5万元" in answer_of(question).answer


@pytest.mark.parametrize("question", ["", "   ", "😀😀😀", "？？！！", "\u200b"])
def test_empty_or_emoji_only_messages_are_not_searched(question: str) -> None:
    assert INDEX.search(question).decision is Decision.EMPTY


def test_very_long_message_is_searched_without_error() -> None:
    """A villager's whole story, pasted many times over: thousands of words reach the index."""
    story = (
        "俺家老大在外头打工，过年回不来，老二在县城念书，俺和老伴在家种地，去年盖房子借了亲戚"
        "三万块钱，今年想贷点款养牛，小额信贷能贷多少钱，要啥手续？"
    )
    message = story * 60
    assert len(tokenize(message)) > 5000  # no filler: every word is searched
    result = INDEX.search(message)
    assert result.decision in (Decision.ANSWER, Decision.UNSURE, Decision.OUT_OF_SCOPE)
    assert result.best is not None  # ranked against the entries
    assert 0 <= result.best.coverage <= 1
    assert len(result.suggestions) <= MAX_SUGGESTIONS


@pytest.mark.parametrize(
    "question",
    ["今天天气怎么样", "帮我买一张火车票", "怎么做红烧肉", "给我讲个笑话"],
)
def test_out_of_scope_is_never_answered_confidently(question: str) -> None:
    assert INDEX.search(question).decision is Decision.OUT_OF_SCOPE


# What villagers also ask a helper bot. Several share the policies' words (村, 开会, 通知, 乡政府,
# 赶集) and are kept from a confident answer only by the coverage threshold.
EVERYDAY_QUESTIONS = [
    "明天会下雨吗", "这几天要降温不",  # weather
    "村里几点开会", "明天村里开大会不", "开会通知发了没", "村里广播说的啥",  # village meetings
    "乡政府几点上班", "村部今天有人不",  # office hours
    "你多大了", "陪我聊会天",  # chit-chat
    "最近国家有啥大事", "电视上说的那个事是真的不",  # news
    "昨晚球赛谁赢了", "世界杯啥时候开始", "篮球赛几点直播",  # sports
    "今年辣椒能卖多少钱一斤", "猪肉价格还会涨不", "镇上赶集是哪天",  # the market
    "手机怎么充话费", "话费没了咋充",  # phones
]  # fmt: skip
# Policy questions in words no phrasing uses, covering only part of their entry's words.
NEAR_MISSES = [
    ("俺想养几头牛，扶贫贷款能借到多少", "microcredit.amount"),
    ("贷了款几年内得还上", "microcredit.term"),
    ("家里有人得了大病，住院能报多少", "medical.three_layers"),
    ("房子裂了缝能申请危房改造不", "housing.renovation"),
    ("脱贫了低保还给不给", "exit.policy_after_changchun"),
    ("防贫保是谁给交的钱", "monitoring.fangpinbao"),
    ("边缘户都是些啥样的人家", "monitoring.who"),
    ("易地搬迁搬走了老房子咋办", "relocation.follow_up"),
    ("贫困户家的娃读大学有啥补助", "education.aid"),
    ("养老保险贫困户要自己交钱不", "social_security.pension"),
    ("看病先看后付钱是咋回事", "medical.pay_after_treatment"),
]


@pytest.mark.parametrize("question", EVERYDAY_QUESTIONS)
def test_everyday_questions_are_not_answered_confidently(question: str) -> None:
    result = INDEX.search(question)
    assert not result.confident, (question, result.best and result.best.entry.id)


# A particular person's name or number, an office's whereabouts, this week's news: no document
# holds them, though each shares words with an entry (支书, 卫生院, 扶贫车间, 低保, 光伏).
PARTICULARS = [
    "咱村支书叫个啥名", "驻村工作队的队长姓啥",  # names
    "乡政府的电话号码是多少", "村医的电话给一个",  # numbers
    "卫生院在哪个地方", "信用社在哪个街上",  # whereabouts
    "明天扶贫车间上班不", "俺的低保钱到账没", "这个月的光伏钱发了没",  # this week, this month
]  # fmt: skip
REGIONS = {
    "unknown": None,
    "Yunnan": ["云南省", "昭通市", "镇雄县"],
    "Changchun": ["吉林省", "长春市", "榆树市"],
    "Bayannur": ["内蒙古自治区", "巴彦淖尔市", "乌拉特前旗"],
}


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("question", PARTICULARS)
def test_a_particular_name_number_place_or_day_is_not_answered_from_a_policy(
    question: str, region: str
) -> None:
    result = INDEX.search(question, REGIONS[region])
    not_answered = (Decision.PARTICULAR, Decision.OUT_OF_SCOPE)  # the latter: not about policy
    assert result.decision in not_answered, (question, result.decision, result.best)


def test_where_a_persons_number_is_written_is_still_answered() -> None:
    """The 明白纸 entry says where the 包保干部's number is: that answers the question."""
    assert answer_of("帮俺的包保干部电话上哪查", REGIONS["Changchun"]).id == "assistance.mingbaizhi"
    assert answer_of("扶贫车间一般设在啥地方").id == "employment.workshop"


def test_a_day_that_only_tells_the_story_does_not_stop_the_answer() -> None:
    assert answer_of("我娘这个月住院了，能报多少").id == "medical.three_layers"


def test_no_phrasing_asks_a_particular_its_own_entry_does_not_give() -> None:
    """ "招工的啥时候来" is answered by the entry that says when is not in the documents."""
    particular = [
        (entry.id, question)
        for entry in INDEX.entries
        for question in entry.questions
        if asks_a_particular(question, entry.answer)
    ]
    assert particular == []


def test_when_someone_comes_is_a_particular_unless_the_entry_speaks_of_when() -> None:
    assert asks_a_particular("帮扶干部啥时候来俺家", "包保干部帮着解决实际困难。")
    assert not asks_a_particular("招工的啥时候来", "招聘会什么时候、在哪开，文件没写。")


@pytest.mark.parametrize(("question", "entry_id"), NEAR_MISSES)
def test_policy_questions_in_other_words_are_still_answered(question: str, entry_id: str) -> None:
    assert answer_of(question).id == entry_id


@pytest.mark.parametrize(
    "message",
    ["村干部优亲厚友，评贫困户不公平", "举报有人冒领补助", "我家的钱被扣了", "我要投訴"],
)
def test_complaints_are_recognised(message: str) -> None:
    assert INDEX.search(message).decision is Decision.GRIEVANCE


def test_other_regions_rules_are_not_given_as_the_users_own() -> None:
    changchun_line = "identification.income_line"
    assert INDEX.get(changchun_line).region == "长春市"
    assert answer_of("贫困户识别收入标准是多少", ["吉林省", "长春市"]).id == changchun_line
    yunnan = INDEX.search("贫困户识别收入标准是多少", ["云南省", "昭通市"])
    assert not yunnan.confident
    assert yunnan.decision is Decision.OTHER_REGION  # said to be Changchun's, not passed off
    assert yunnan.best.entry.id == changchun_line
    assert all(match.entry.region in ("all", "云南省") for match in yunnan.suggestions)


def test_a_region_named_in_the_question_is_the_region_asked_about() -> None:
    assert answer_of("长春贫困户识别收入标准是多少", ["云南省", "昭通市"]).region == "长春市"
    assert answer_of("长春市贫困户识别收入标准是多少").region == "长春市"


def test_a_regions_own_entry_wins_over_a_general_one() -> None:
    general = Entry.model_validate(
        {
            "id": "test.general",
            "topic": "microcredit",
            "questions": ["贷款额度是多少", "能贷多少", "最多贷多少"],
            "answer": "各地额度不同。",
            "source": {"file": "002_4a97d43123b46257.txt", "clause": "x"},
            "region": "all",
            "effective": "2017",
            "general_note": "a test entry",
        }
    )
    regional = general.model_copy(
        update={"id": "test.regional", "region": "长春市", "answer": "长春市5万元以下。"}
    )
    index = KnowledgeIndex([general, regional])
    assert index.search("贷款额度是多少", ["吉林省", "长春市"]).best.entry.id == "test.regional"
    assert index.search("贷款额度是多少", ["云南省"]).best.entry.id == "test.general"
