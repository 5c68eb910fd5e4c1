"""Is the message a complaint? Then the user is offered the report flow instead of an answer.
Is it only talk ("你好", "在吗", "谢谢")? Then it gets a word back, not a search.

Villagers rarely say "投诉": they tell what happened ("村长找我要了两百块才给办"). Besides the words
only a complaint uses, a few story shapes are recognised: someone demanded or took money, kept
what was ours, favoured relatives, never came, did shoddy work, did not pay what was promised,
or threatened the teller. Every phrasing of the knowledge base is checked not to match (tests).
"""

from __future__ import annotations

import re
from enum import StrEnum

from knowledge.normalize import compact
from knowledge.tokens import clean

# Words that only a complaint uses.
_COMPLAINT_WORDS = (
    "举报|投诉|告状|上访|信访|申诉|检举|揭发|克扣|扣了|被扣|扣钱|扣发|少发|没发|不发|拖欠|"
    "贪污|挪用|侵占|截留|冒领|虚报|套取|骗取|索要|索贿|受贿|行贿|好处费|回扣|红包|吃拿卡要|"
    "优亲厚友|厚亲|关系户|人情保|不作为|乱作为|不公平|不公正|不合理|刁难|推诿|威胁|打人|骂人|"
    "欺负|不给办|(?<!给)不给我|没给我|凭什么|偏心|走后门|开后门|靠关系|看人下菜|豆腐渣|偷工减料|"
    "糊弄|应付了事|踢皮球|推来推去|不管不问|打击报复|报复|吓唬|穿小鞋|私吞|吞了|贪了"
)
_ACTOR = (
    "(?:干部|村长|村主任|主任|书记|支书|会计|组长|队长|领导|他们|他|她|人家|村里|乡里|镇上|镇里|"
    "工作人员|包村的|帮扶的)"
)
_STORIES = (
    # someone demanded money or a gift
    rf"{_ACTOR}.{{0,10}}(?:要|收|拿|让我交|叫我交|让我给|叫我给|让我送|叫我送)了?.{{0,8}}(?:钱|块|元|好处|烟|酒|礼|费)",
    r"(?:送|塞|给)了?.{0,6}(?:钱|烟|酒|礼|好处).{0,6}(?:才|就给|就办|就让)",
    r"(?:送|塞)了?.{0,8}才(?:给|肯|能|让)",
    r"让我(?:给他|给他们)?(?:送|塞)",
    r"不(?:送|给|塞)(?:钱|礼|好处|烟|酒)?.{0,4}不(?:给|让|批|办|评)",
    r"(?:得|要|先)给(?:他|他们|村长|书记|支书|主任|干部)(?:送|塞|拿)",
    # someone took or kept what was ours
    rf"{_ACTOR}.{{0,10}}(?:拿走|拿去|占了|扣下|扣着|卡着|领走|揣兜|截了|给领了|自己领)",
    r"(?:叫|被|让).{0,10}(?:顶了|顶替|占了|抢了)",
    r"到手(?:就|只|才)|剩下的.{0,4}(?:哪去了|没了)|不知道(?:哪去了|去哪了)",
    r"一分(?:钱)?(?:都|也)没|没见(?:到|着)?一分钱",
    r"(?:我家|我的|我们的|我妈的|我爸的).{0,8}(?:补助|钱|低保|贷款|分红|工资).{0,8}(?:被|让|叫).{0,8}(?:拿|领|占|扣|吞|用|贷)",
    # favouritism
    r"(?:贫困户|低保|名额|补助|评上|评的|评).{0,12}(?:都是|全是|尽是|净是|都给了|全给了).{0,8}(?:亲戚|亲属|家里人|关系|熟人|自己人|村长家|书记家|干部家)",
    r"(?:亲戚|小舅子|小姨子|家属|兄弟|儿子|闺女|女婿).{0,12}(?:评上|都是|当上|吃上|领上)了?.{0,4}(?:贫困户|低保|补助)",
    r"(?:开着|开上|有)(?:小轿车|轿车|小车|楼房).{0,8}(?:都是|还是|评上|当上)",
    r"(?:反倒|反而|倒)没评上",
    # never came, nobody acts
    r"(?:从来|一次|一直|一年|半年|好几个月|几年|好几年|这么久|多少年).{0,4}(?:没有?|不)(?:来|见|露面|上门|管|理)",
    r"(?:没来过|没见过人|人影都没|没人影)|(?:见不着|见不到|找不着|找不到).{0,3}(?:人|影)",
    r"(?:找|反映|说|报|问|打电话).{0,12}(?:没人管|没人理|不管|不理|没下文|没回音|没动静)",
    r"(?:说|找|反映|报|问)了.{0,6}(?:也|都|还是)?没人(?:来|管|理|修)",
    # shoddy work
    r"(?:修|盖|建|改|弄|打)(?:的|了|好).{0,12}(?:就|又|没几天|不到).{0,6}(?:坏|裂|漏|塌|不出水|不能用)",
    r"(?:裂了|漏了|塌了|坏了).{0,8}(?:没人|不管|不修|不给修)",
    # promised but not paid
    r"(?:说好|答应|承诺|说给).{0,12}(?:没给|没到|没发|没见|不给|还没)",
    r"(?:补助|钱|工资|分红|工钱).{0,8}(?:一直|到现在|几个月|半年|一年|好几个月)(?:都|也|还)?(?:没|不)(?:到|发|给|见)",
    r"等了.{0,6}(?:也|都|还)没(?:见|到|发|给)",
    # the teller is threatened
    r"不(?:让|许)我(?:说|反映|告)",
    r"再(?:去|说|告|找|反映|闹).{0,10}就(?:把|让|给|叫|要)",
    r"让我好看|给我好看|要我好看|堵.{0,6}门",
)
_STORY = re.compile("|".join(_STORIES))
_WORDS = re.compile(_COMPLAINT_WORDS)
# Asking how reporting works ("举报电话在哪", "信访了能给回话不") is a question, not a report; so is
# a "what if" ("要是有人挪用扶贫的钱咋办", "别让人给贪了") when no story is told.
_CHANNEL_ONLY = re.compile(r"^(?:举报|投诉|告状|上访|信访|申诉|检举|揭发)$")
_ASKS_HOW = re.compile(
    r"电话|号码|热线|在哪|去哪|哪里|找谁|找哪个|怎么|如何|流程|回话|回复|答复|多久|管用|有用"
)
_WHAT_IF = re.compile(r"^(?:要是|如果|万一|假如)|别让|不让人|防止|防着|盯着")


def looks_like_grievance(text: str) -> bool:
    message = clean(text).replace(" ", "")
    if _STORY.search(message):
        return True
    words = {match.group() for match in _WORDS.finditer(message)}
    if not words:
        return False
    if _WHAT_IF.search(message):
        return False
    return not (all(_CHANNEL_ONLY.match(word) for word in words) and _ASKS_HOW.search(message))


class Chatter(StrEnum):
    """A message that is not a question but talk: it gets a word back, not a search."""

    GREETING = "greeting"
    THANKS = "thanks"
    GOODBYE = "goodbye"
    ACKNOWLEDGEMENT = "acknowledgement"


_CHATTER_WORDS = {
    Chatter.GREETING: (
        "你好 您好 你们好 您们好 大家好 哈喽 哈啰 哈罗 嗨 hello hi hey 早上好 上午好 中午好 "
        "下午好 晚上好 早安 早 在不在 在没在 在不 在没有 在没 在线 在 有没有人 有人在 有人没 "
        "有人不 有人 喂 打扰了 打扰一下 老师好 同志好 领导好 师傅好 大哥好 大姐好 各位好 "
        # asking who the bot is and what it does: the greeting says it
        "是谁 是机器人 是真人 是人 会干什么 会干啥 能干什么 能干啥 能做什么 会做什么 能帮我什么 "
        "能帮我干啥 有什么用 怎么用 干什么的 干啥的 干嘛的 做啥的 做甚的 嘎哈的 做什么的 "
        # "what are you up to" in the regions' words
        "干啥呢 干嘛呢 做啥呢 做甚呢 嘎哈呢 整啥呢 在干嘛 在干啥 "
        # "what is this thing" about the bot itself
        "这是啥东西 这是甚东西 这是什么东西 这是啥玩意 这是个啥 这是个甚 这是个什么 这是啥 这是甚 "
        "这是什么"
    ),
    Chatter.THANKS: (
        "谢谢 谢了 谢啦 多谢 感谢 感激 thank thanks thx 辛苦了 辛苦 麻烦你了 麻烦您了 麻烦了"
    ),
    Chatter.GOODBYE: "再见 拜拜 bye 回头见 下次再聊",
    Chatter.ACKNOWLEDGEMENT: (
        "好的 好滴 好嘞 好 嗯嗯 嗯 哦哦 哦 噢 ok okay 知道了 明白了 晓得了 懂了 收到 是的 对"
    ),
}
# Words that go with talk but say nothing themselves: particles, "you", ways of addressing.
_NEUTRAL = (
    "吗 嘛 么 呢 吧 啊 呀 哇 嘞 啦 哈 呵 哟 噻 嗦 了 不 没 是 个 东西 you 你们 您们 你 您 非常 太 "
    "真 很 大家 各位 老师 同志 领导 师傅 小助手 助手 机器人 户户清 大哥 大姐 亲"
)
# Longest first, so that "你好" is not read as "你" and "好"; each phrase is a group of its own.
_PHRASES: list[tuple[str, Chatter | None]] = sorted(
    [(word, kind) for kind, words in _CHATTER_WORDS.items() for word in words.split()]
    + [(word, None) for word in _NEUTRAL.split()],
    key=lambda phrase: -len(phrase[0]),
)
_CHATTER = re.compile("|".join(f"({re.escape(word)})" for word, _ in _PHRASES))
# Said together, the last-listed kind gives way: "好的谢谢" is thanks, "你好在吗" a greeting.
_PRECEDENCE = (Chatter.THANKS, Chatter.GOODBYE, Chatter.GREETING, Chatter.ACKNOWLEDGEMENT)


def chatter(text: str) -> Chatter | None:
    """What kind of talk the message is, when it is nothing but talk ("你好", "在吗", "谢谢")."""
    message = compact(text)
    kinds: set[Chatter] = set()
    position = 0
    while position < len(message):
        match = _CHATTER.match(message, position)
        if match is None:
            return None
        kind = _PHRASES[(match.lastindex or 1) - 1][1]
        if kind is not None:
            kinds.add(kind)
        position = match.end()
    return next((kind for kind in _PRECEDENCE if kind in kinds), None)
