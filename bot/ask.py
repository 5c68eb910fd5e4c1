"""`huhuqing ask`: the knowledge base from the command line, without aiogram (fast start)."""

from __future__ import annotations

import json
from typing import TextIO

from db.regions import RegionRepo, resolve_region
from db.session import Database
from knowledge.answers import as_json, unsearched_as_json
from knowledge.intent import chatter, looks_like_grievance
from knowledge.own_household import asks_about_own_household, needs_record
from knowledge.service import KnowledgeBase


async def _answer(
    knowledge: KnowledgeBase, database: Database, question: str, region: str | None
) -> dict:
    """What the bot would do with ``question``, in the bot's order: talk is answered in kind, a
    question only the asker's household record answers from it, the rest from the knowledge base."""
    if chatter(question) is not None:
        return unsearched_as_json("chatter")
    aspect = asks_about_own_household(question)
    if aspect and needs_record(question, aspect) and not looks_like_grievance(question):
        return unsearched_as_json("household")
    async with database.sessionmaker() as session:
        names = await resolve_region(RegionRepo(session), region)
    index = await knowledge.index()
    return as_json(index.search(question, names))


async def answer_one(
    database: Database, question: str, region: str | None, as_json_line: bool, out: TextIO
) -> None:
    knowledge = KnowledgeBase(database.sessionmaker)
    await knowledge.seed()
    answer = await _answer(knowledge, database, question, region)
    if as_json_line:
        print(json.dumps(answer, ensure_ascii=False), file=out)
        return
    if answer["confident"]:
        print(answer["answer"], file=out)
        print(f"source: {answer['source']}", file=out)
    elif answer["intent"] == "grievance":
        print("this reads as a complaint: the bot offers the report flow", file=out)
    else:
        print("not sure" if answer["alternatives"] else "no answer in the knowledge base", file=out)
    for alternative in answer["alternatives"]:
        print(f"  related: {alternative['question']} ({alternative['entry_id']})", file=out)


async def answer_lines(database: Database, source: TextIO, out: TextIO) -> None:
    """One JSON answer line per {"q", "region"} line, in order; a bad line gets an error object."""
    knowledge = KnowledgeBase(database.sessionmaker)
    await knowledge.seed()
    for line in source:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            answer = await _answer(knowledge, database, str(request["q"]), request.get("region"))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            answer = {"error": f"bad input line: {error}", "confident": False, "intent": "unknown"}
        print(json.dumps(answer, ensure_ascii=False), file=out, flush=True)
