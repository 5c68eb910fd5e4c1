"""Policy answers (admins only): search and browse the entries, edit one with a preview of what
the bot would answer, its history with diffs and rollback, retire, create, upload a YAML file.

Every admin reads every entry; one with an area edits only the entries of their area and below.
Every save is a new version, refused if another was saved since the editor opened the entry.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from db.admin_log import record_action
from db.knowledge import EntryChanged, KnowledgeRepo
from db.models import KnowledgeEntry
from db.regions import RegionRepo, region_names
from db.unanswered import HandledHow, mark_handled, open_rows_among
from handlers.ask import TOPIC_NAMES
from handlers.notices import local_time
from knowledge.entries import TOPICS, Entry, seed_titles
from knowledge.loader import KnowledgeFileError, load_text
from knowledge.normalize import compact
from knowledge.review import review_problems
from knowledge.service import entry_content, index_with
from web.context import KNOWLEDGE, LOCALE, Viewer, admin, database_session, origin, redirect
from web.knowledge_forms import (
    Checked,
    EntryForm,
    check_content,
    form_from_post,
    form_of,
    may_edit,
    preview_regions,
    region_path,
)
from web.knowledge_preview import diff_lines, picks, villager_view
from web.render import page

routes = web.RouteTableDef()
MAX_REASON = 300  # KnowledgeEntryVersion.reason


def _topics() -> dict[str, str]:
    """Every topic, named as the bot's topic menu names it, in the page's language."""
    return {topic: str(TOPIC_NAMES[topic]) for topic in TOPICS}


def _author(who: Viewer) -> str:
    return f"web:{who.telegram_id}"


def _entry(content: dict[str, Any]) -> Entry | None:
    """A stored entry as the bot reads it; None if this release cannot read it."""
    try:
        return Entry.model_validate(content)
    except ValidationError:
        return None


async def _editable_entry(session: AsyncSession, who: Viewer, entry_id: str) -> KnowledgeEntry:
    """The stored entry, if this admin may change it; else 404, as if it did not exist."""
    stored = await KnowledgeRepo(session).entry(entry_id)
    if stored is None or not may_edit(who, await region_path(session, stored.region)):
        raise web.HTTPNotFound()
    return stored


def _record(
    session: AsyncSession, request: web.Request, who: Viewer, action: str, entry_id: str,
    area_path: str, **details: Any,
) -> None:  # fmt: skip
    """An audit row for a change to an entry, in the change's transaction."""
    record_action(session, who, origin(request), action, entry_id, area_path, details or None)


# ---------------------------------------------------------------- the list


def _matches(row: KnowledgeEntry, words: str) -> bool:
    """The search text in the id, a phrasing or the answer, after the bot's normalisation."""
    content = row.content
    texts = [row.id, content.get("answer", ""), *content.get("questions", [])]
    return any(words in compact(text) for text in texts)


@routes.get("/knowledge")
async def entry_list(request: web.Request) -> web.Response:
    admin(request)
    text, topic = request.query.get("q", "").strip(), request.query.get("topic", "")
    region, status = request.query.get("region", ""), request.query.get("status", "active")
    async with database_session(request) as session:
        rows = await KnowledgeRepo(session).all_entries()
    regions = sorted({row.region for row in rows})
    words = compact(text)
    shown = [
        row
        for row in rows
        if (not topic or row.topic == topic)
        and (not region or row.region == region)
        and (status == "all" or row.active == (status == "active"))
        and (not words or _matches(row, words))
    ]
    return page(
        request, "knowledge/list.html", entries=shown, topics=_topics(), regions=regions,
        q=text, topic=topic, region=region, state=status,
    )  # fmt: skip


# ---------------------------------------------------------------- upload a file


async def _upload_plan(
    session: AsyncSession, who: Viewer, text: str, name: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """What the file would change (each entry: id, kind, diff, area path) and every problem that
    stops it, as `kb import` checks a file, plus the editor's area."""
    try:
        entries = load_text(text, name)
    except KnowledgeFileError as error:
        return [], error.problems
    problems = review_problems(entries)
    repo, plan = KnowledgeRepo(session), []
    for entry in entries:
        content = entry_content(entry)
        stored = await repo.entry(entry.id)
        path = await region_path(session, entry.region)
        if not may_edit(who, path) or (
            stored and not may_edit(who, await region_path(session, stored.region))
        ):
            problems.append(
                _("{id}: region {region} is outside your area").format(
                    id=entry.id, region=entry.region
                )
            )
        if stored is None:
            kind = "added"
        elif stored.content == content and stored.active:
            kind = "unchanged"
        else:
            kind = "changed"
        old = stored.content if stored else None
        plan.append({"id": entry.id, "kind": kind, "diff": diff_lines(old, content),
                     "path": path or "", "content": content})  # fmt: skip
    return plan, problems


@routes.get("/knowledge/upload")
async def upload_form(request: web.Request) -> web.Response:
    admin(request)
    return page(request, "knowledge/upload.html", plan=None, problems=[], text="", name="", why="")


@routes.post("/knowledge/upload")
async def upload(request: web.Request) -> web.Response:
    who = admin(request)
    posted = await request.post()
    sent = posted.get("file")
    if not isinstance(sent, web.FileField):
        problems = [_("Choose a YAML file to upload.")]
        return page(request, "knowledge/upload.html", status=422, plan=None, problems=problems,
                    text="", name="", why="")  # fmt: skip
    name = sent.filename or "upload.yaml"
    try:
        text = sent.file.read().decode("utf-8")
    except UnicodeDecodeError:
        problems = [_("The file is not UTF-8 text.")]
        return page(request, "knowledge/upload.html", status=422, plan=None, problems=problems,
                    text="", name=name, why="")  # fmt: skip
    async with database_session(request) as session:
        plan, problems = await _upload_plan(session, who, text, name)
    return page(request, "knowledge/upload.html", plan=plan, problems=problems, text=text,
                name=name, why="")  # fmt: skip


@routes.post("/knowledge/upload/apply")
async def apply_upload(request: web.Request) -> web.StreamResponse:
    who = admin(request)
    posted = await request.post()
    text = str(posted.get("text", "")).replace("\r\n", "\n")
    name, why = str(posted.get("name", "upload.yaml")), str(posted.get("why", "")).strip()
    async with database_session(request) as session:
        plan, problems = await _upload_plan(session, who, text, name)
        if not why:
            problems.append(_("Say why you make this change."))
        elif len(why) > MAX_REASON:
            problems.append(_("The reason is too long."))
        if problems or not plan:
            return page(request, "knowledge/upload.html", status=422, plan=plan,
                        problems=problems, text=text, name=name, why=why)  # fmt: skip
        contents = [item["content"] for item in plan]
        report = await KnowledgeRepo(session).stage(contents, _author(who), why)
        for item in plan:
            if item["id"] in report.added or item["id"] in report.changed:
                _record(session, request, who, "kb.upload", item["id"], item["path"], file=name)
        await session.commit()
    return redirect(f"/knowledge?added={len(report.added)}&changed={len(report.changed)}")


# ---------------------------------------------------------------- one entry, its history


@routes.get("/knowledge/new")
async def new_entry(request: web.Request) -> web.Response:
    who = admin(request)
    form = EntryForm(
        region=who.area_name if who.area else "",
        handles=request.query.get("handles", ""),
    ).with_phrasing(request.query.get("phrasing", ""))
    async with database_session(request) as session:
        return await _editor(request, session, form, None)


@routes.get("/knowledge/{id}")
async def show_entry(request: web.Request) -> web.Response:
    who = admin(request)
    async with database_session(request) as session:
        stored = await KnowledgeRepo(session).entry(request.match_info["id"])
        if stored is None:
            raise web.HTTPNotFound()
        editable = may_edit(who, await region_path(session, stored.region))
    entry = _entry(stored.content)
    view = villager_view(entry, request[LOCALE]) if entry else None
    return page(
        request, "knowledge/entry.html", stored=stored, entry=entry, view=view,
        editable=editable, seeds=seed_titles(), topics=_topics(),
    )  # fmt: skip


@routes.get("/knowledge/{id}/history")
async def history(request: web.Request) -> web.Response:
    admin(request)
    async with database_session(request) as session:
        return await _history(request, session, request.match_info["id"])


async def _history(
    request: web.Request, session: AsyncSession, entry_id: str, problems: list[str] | None = None,
    status: int = 200,
) -> web.Response:  # fmt: skip
    who = admin(request)
    repo = KnowledgeRepo(session)
    stored = await repo.entry(entry_id)
    if stored is None:
        raise web.HTTPNotFound()
    versions = await repo.versions(entry_id)
    numbers = [v.version for v in versions]
    older, newer = (
        _version_query(request, "a", numbers, -2),
        _version_query(request, "b", numbers, -1),
    )
    by_number = {v.version: v for v in versions}
    diff = diff_lines(by_number[older].content, by_number[newer].content) if versions else []
    return page(
        request, "knowledge/history.html", status=status, stored=stored, versions=versions,
        older=older, newer=newer, diff=diff, problems=problems or [],
        editable=may_edit(who, await region_path(session, stored.region)),
    )  # fmt: skip


def _version_query(request: web.Request, name: str, numbers: list[int], default: int) -> int:
    asked = request.query.get(name, "")
    if asked.isdecimal() and int(asked) in numbers:
        return int(asked)
    return numbers[max(default, -len(numbers))] if numbers else 0


# ---------------------------------------------------------------- the editor


@routes.get("/knowledge/{id}/edit")
async def edit_entry(request: web.Request) -> web.Response:
    who = admin(request)
    async with database_session(request) as session:
        stored = await _editable_entry(session, who, request.match_info["id"])
        form = form_of(stored.content, stored.version)
        form = replace(
            form.with_phrasing(request.query.get("add_phrasing", "")),
            handles=request.query.get("handles", ""),
            preview_region=await _region_code(session, stored.region),
        )
        return await _editor(request, session, form, stored)


async def _region_code(session: AsyncSession, region: str) -> str:
    """The code of an entry's region in the registry; "" for all regions or an unknown one."""
    path = await region_path(session, region)
    return path.rstrip("/").rpartition("/")[2] if path else ""


async def _editor(
    request: web.Request, session: AsyncSession, form: EntryForm, stored: KnowledgeEntry | None,
    *, status: int = 200, **context: Any,
) -> web.Response:  # fmt: skip
    """The edit form (for a new entry when ``stored`` is None), with whatever a refused save or a
    preview has to show beside it."""
    context.setdefault("problems", [])
    return page(
        request, "knowledge/edit.html", status=status, form=form, stored=stored,
        topics=_topics(), seeds=seed_titles(), regions=await preview_regions(session),
        action=f"/knowledge/{stored.id}" if stored else "/knowledge/new",
        preview=context.pop("preview", None), conflict=context.pop("conflict", None), **context,
    )  # fmt: skip


async def _posted_form(request: web.Request, entry_id: str | None) -> EntryForm:
    return form_from_post(await request.post(), entry_id)


@routes.post("/knowledge/{id}/preview")
async def preview_edit(request: web.Request) -> web.Response:
    who = admin(request)
    form = await _posted_form(request, request.match_info["id"])
    entries = await _active_entries(request)
    async with database_session(request) as session:
        stored = await _editable_entry(session, who, form.id)
        return await _preview(request, session, who, form, stored, entries)


@routes.post("/knowledge/new/preview")
async def preview_new(request: web.Request) -> web.Response:
    who = admin(request)
    form = await _posted_form(request, None)
    entries = await _active_entries(request)
    async with database_session(request) as session:
        return await _preview(request, session, who, form, None, entries)


async def _active_entries(request: web.Request) -> list[Entry]:
    """The entries the bot answers with now (before a session is opened: this may need one)."""
    return list((await request.app[KNOWLEDGE].index()).entries)


async def _preview(
    request: web.Request, session: AsyncSession, who: Viewer, form: EntryForm,
    stored: KnowledgeEntry | None, entries: list[Entry],
) -> web.Response:  # fmt: skip
    """The edited entry as the bot would use it, in place of its current version among the
    ``entries`` the bot answers with; nothing is saved."""
    checked = await check_content(session, who, form.content())
    preview = None
    if checked.entry is not None:
        entry = checked.entry
        names = await region_names(RegionRepo(session), form.preview_region or None)
        index = index_with(entries, entry)
        questions = [*entry.questions, *form.extra_question_list]
        preview = {
            "view": villager_view(entry, request[LOCALE]),
            "details": entry.details,
            "picks": picks(index, questions, names, entry.id),
        }
    return await _editor(request, session, form, stored, preview=preview, problems=checked.problems)


@routes.post("/knowledge/{id}/edit")
async def save_edit(request: web.Request) -> web.StreamResponse:
    who = admin(request)
    form = await _posted_form(request, request.match_info["id"])
    async with database_session(request) as session:
        stored = await _editable_entry(session, who, form.id)
        checked = await _checked_save(session, who, form)
        if checked.valid and checked.content == stored.content:
            checked.problems.append(_("Nothing changed."))
        if not checked.valid:
            return await _editor(
                request, session, form, stored, status=422, problems=checked.problems
            )
        if form.version is None:  # a forged form: no version it was opened at
            raise web.HTTPNotFound()
        return await _save(request, session, who, form, checked, form.version)


@routes.post("/knowledge/new")
async def save_new(request: web.Request) -> web.StreamResponse:
    who = admin(request)
    form = await _posted_form(request, None)
    async with database_session(request) as session:
        checked = await _checked_save(session, who, form)
        if form.id and await KnowledgeRepo(session).entry(form.id) is not None:
            checked.problems.append(_("id: {id} is already used").format(id=form.id))
        if not checked.valid:
            return await _editor(
                request, session, form, None, status=422, problems=checked.problems
            )
        return await _save(request, session, who, form, checked, None)


async def _checked_save(session: AsyncSession, who: Viewer, form: EntryForm) -> Checked:
    checked = await check_content(session, who, form.content())
    if not form.why:
        checked.problems.append(_("Say why you make this change."))
    elif len(form.why) > MAX_REASON:
        checked.problems.append(_("The reason is too long."))
    return checked


async def _save(
    request: web.Request, session: AsyncSession, who: Viewer, form: EntryForm, checked: Checked,
    expected: int | None,
) -> web.StreamResponse:  # fmt: skip
    """Save the checked form as a new version, with its audit row and the unanswered questions it
    answers, in one transaction; a conflict shows the editor's text beside the current one."""
    repo = KnowledgeRepo(session)
    content = checked.content
    try:
        version = await repo.save_one(content, _author(who), form.why, expected)
    except EntryChanged:
        await session.rollback()
        return await _conflict(request, session, form)
    action = "kb.create" if expected is None else "kb.save"
    _record(session, request, who, action, content["id"], checked.area_path, version=version)
    if form.handled_refs:  # only those this admin may see: a forged reference is dropped
        how = HandledHow.NEW_ENTRY if expected is None else HandledHow.PHRASING
        visible = await open_rows_among(session, form.handled_refs, who.area_code)
        await mark_handled(session, [row.ref for row in visible], how)
    await session.commit()
    return redirect(f"/knowledge/{content['id']}")


async def _conflict(request: web.Request, session: AsyncSession, form: EntryForm) -> web.Response:
    """Someone saved first: the editor keeps their text, sees the current one beside it, and may
    save again over the version they have now seen."""
    repo = KnowledgeRepo(session)
    current = await repo.entry(form.id)
    if current is None:  # a new entry of that id was not kept after all: they may try again
        return await _editor(request, session, form, None, status=409)
    latest = (await repo.versions(form.id))[-1]
    when = local_time(latest.changed_at)
    if form.version is None:
        message = _("An entry with the id {id} was made by {who} at {when}.").format(
            id=form.id, who=latest.changed_by, when=when
        )
        return await _editor(request, session, form, None, status=409, problems=[message])
    message = _("This entry was changed by {who} at {when} since you opened it.").format(
        who=latest.changed_by, when=when
    )
    return await _editor(
        request, session, replace(form, version=current.version), current, status=409,
        problems=[message], conflict=form_of(current.content, current.version),
    )  # fmt: skip


# ---------------------------------------------------------------- rollback, retire


@routes.post("/knowledge/{id}/rollback")
async def rollback(request: web.Request) -> web.StreamResponse:
    who = admin(request)
    posted = await request.post()
    target, expected = str(posted.get("version", "")), str(posted.get("expected", ""))
    if not (target.isdecimal() and expected.isdecimal()):
        raise web.HTTPNotFound()
    async with database_session(request) as session:
        entry_id = (await _editable_entry(session, who, request.match_info["id"])).id
        old = await KnowledgeRepo(session).version(entry_id, int(target))
        if old is None:
            raise web.HTTPNotFound()
        checked = await check_content(session, who, old.content)
        if not checked.valid:
            return await _history(request, session, entry_id, checked.problems, 422)
        reason = f"rollback to v{target}"
        try:
            version = await KnowledgeRepo(session).save_one(
                checked.content, _author(who), reason, int(expected)
            )
        except EntryChanged:
            await session.rollback()
            changed = _("This entry was changed since you opened it: look again and retry.")
            return await _history(request, session, entry_id, [changed], 409)
        _record(session, request, who, "kb.rollback", entry_id, checked.area_path,
                version=version, restored=int(target))  # fmt: skip
        await session.commit()
    return redirect(f"/knowledge/{entry_id}")


async def _set_active(request: web.Request, active: bool) -> web.StreamResponse:
    who = admin(request)
    async with database_session(request) as session:
        stored = await _editable_entry(session, who, request.match_info["id"])
        path = await region_path(session, stored.region) or ""
        if await KnowledgeRepo(session).set_active(stored.id, active):
            action = "kb.reactivate" if active else "kb.retire"
            _record(session, request, who, action, stored.id, path)
            await session.commit()
    return redirect(f"/knowledge/{stored.id}")


@routes.post("/knowledge/{id}/retire")
async def retire(request: web.Request) -> web.StreamResponse:
    return await _set_active(request, False)


@routes.post("/knowledge/{id}/reactivate")
async def reactivate(request: web.Request) -> web.StreamResponse:
    return await _set_active(request, True)
