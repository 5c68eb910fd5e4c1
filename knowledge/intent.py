"""Is the message a complaint? Then the user is offered the report flow instead of an answer."""

from __future__ import annotations

import re

from knowledge.normalize import compact

# Words that only a complaint uses.
_COMPLAINT = re.compile(
    "举报|投诉|告状|上访|信访|申诉|检举|揭发|克扣|扣了|被扣|扣钱|扣发|少发|没发|不发|拖欠|"
    "贪污|挪用|侵占|截留|冒领|虚报|套取|骗取|索要|索贿|受贿|行贿|好处费|回扣|红包|吃拿卡要|"
    "优亲厚友|厚亲|关系户|人情保|不作为|乱作为|不公平|不公正|不合理|刁难|推诿|威胁|打人|骂人|"
    "欺负|不给办|不给我办|没给我|不给我|凭什么"
)


def looks_like_grievance(text: str) -> bool:
    return bool(_COMPLAINT.search(compact(text)))
