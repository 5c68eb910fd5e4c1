"""Free-text questions → policy answers with their source; /topics; 👍/👎 feedback."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.conversation_data import recall_question, remember_question
from bot.metrics import ANSWERS
from db.knowledge import KnowledgeRepo
from db.models import User
from db.regions import RegionRepo, region_names
from handlers.filters import PLAIN_TEXT, PRIVATE, PRIVATE_CALLBACK
from handlers.keyboards import AnswerFeedback, AnswerMore, AnswerShow, TopicPick
from handlers.places import VillageChoice, region_picker
from handlers.report import report_button
from knowledge.entries import TOPICS, Entry
from knowledge.intent import Chatter, chatter
from knowledge.normalize import to_traditional
from knowledge.search import Decision, SearchResult
from knowledge.service import KnowledgeBase

MAX_QUESTION = 500  # longer messages are searched and stored by their beginning
TOPIC_PAGE = 8

TOPIC_NAMES = {
    "microcredit": __("Small loans (小额信贷)"),
    "medical": __("Medical costs"),
    "education": __("School and student aid"),
    "housing": __("Safe housing"),
    "water": __("Drinking water"),
    "roads": __("Roads"),
    "employment": __("Jobs and training"),
    "industry": __("Farming and business"),
    "identification": __("Who counts as poor"),
    "exit": __("Leaving poverty"),
    "monitoring": __("Preventing a fall back"),
    "social_security": __("Basic living support"),
    "relocation": __("Relocated households"),
    "assistance": __("Help and contacts"),
    "supervision": __("Openness and complaints"),
    "glossary": __("What the words mean"),
}


def create_router() -> Router:
    router = Router(name="ask")
    router.message.filter(PRIVATE)
    router.callback_query.filter(PRIVATE_CALLBACK)
    router.message.register(show_topics, Command("topics"))
    router.callback_query.register(pick_topic, TopicPick.filter())
    router.callback_query.register(show_entry, AnswerShow.filter())
    router.callback_query.register(show_details, AnswerMore.filter())
    router.callback_query.register(give_feedback, AnswerFeedback.filter())
    router.message.register(ask, PLAIN_TEXT)
    # A command no step or feature took (a typo, /skip after the step): never silence.
    router.message.register(unknown_command, F.text.startswith("/"))
    return router


def localized(text: str, locale: str) -> str:
    """Answers are written in simplified Chinese; zh_Hant readers get traditional characters."""
    return to_traditional(text) if locale == "zh_Hant" else text


def render_answer(entry: Entry, locale: str) -> str:
    parts = []
    if locale == "en":
        parts.append(_("From the Chinese policy documents (answer in Chinese):"))
    parts.append(escape(localized(entry.answer, locale)))
    if entry.is_regional:
        parts.append(
            _("Applies in: {region}").format(region=escape(localized(entry.region, locale)))
        )
    source = localized(entry.source_line(), locale)
    parts.append(
        "📄 "
        + _("Source: {source}, issued {date}").format(source=escape(source), date=entry.effective)
    )
    return "\n\n".join(parts)


def answer_keyboard(entry: Entry, version: int) -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    if entry.details:
        keyboard.button(text=_("More details"), callback_data=AnswerMore(entry_id=entry.id))
    keyboard.button(
        text="👍", callback_data=AnswerFeedback(entry_id=entry.id, version=version, helpful=True)
    )
    keyboard.button(
        text="👎", callback_data=AnswerFeedback(entry_id=entry.id, version=version, helpful=False)
    )
    keyboard.adjust(1, 2) if entry.details else keyboard.adjust(2)
    return keyboard.as_markup()


def entry_buttons(entries: list[Entry], locale: str) -> InlineKeyboardBuilder:
    keyboard = InlineKeyboardBuilder()
    for entry in entries:
        label = localized(entry.questions[0], locale)
        keyboard.button(text=label, callback_data=AnswerShow(entry_id=entry.id))
    keyboard.adjust(1)
    return keyboard


def topics_keyboard() -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    for topic in TOPICS:
        keyboard.button(text=str(TOPIC_NAMES[topic]), callback_data=TopicPick(topic=topic))
    keyboard.adjust(2)
    return keyboard.as_markup()


async def ask(
    message: Message,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    regions: RegionRepo,
    knowledge: KnowledgeBase,
    i18n: I18n,
    settings: Settings,
) -> None:
    question = (message.text or "")[:MAX_QUESTION]
    talk = chatter(question)
    if talk is not None:
        await reply_to_chatter(message, talk)
        return
    await answer_question(
        message, question, state, account, session, regions, knowledge, i18n, settings
    )


async def answer_question(
    message: Message,
    question: str,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    regions: RegionRepo,
    knowledge: KnowledgeBase,
    i18n: I18n,
    settings: Settings,
) -> None:
    """Answer ``question`` under ``message``: the user's question, or the bot's own message when
    a question asked before the village was known is answered after it."""
    index = await knowledge.index()
    result = index.search(question, await region_names(regions, account.region_code))
    ANSWERS.labels(result.decision.value).inc()
    locale = i18n.current_locale
    if result.decision is Decision.ANSWER and result.best:
        entry = result.best.entry
        if needs_village_first(account, entry, index.regions_named_in(question)):
            await ask_village_first(message, state, regions, question)
            return
        sent = await message.reply(
            render_answer(entry, locale),
            reply_markup=answer_keyboard(entry, knowledge.version_of(entry.id)),
        )
        await _remember_question(state, sent.message_id, question, settings)
        return
    # Complaints are not "unanswered questions": their text belongs to the report, if any.
    if result.decision not in (Decision.EMPTY, Decision.GRIEVANCE):
        await KnowledgeRepo(session).record_unanswered(
            question,
            result.decision.value,
            result.best.entry.id if result.best else None,
            account.region_code,
            locale,
        )
    if result.decision is Decision.OTHER_REGION and result.best:
        entry = result.best.entry
        sent = await message.reply(
            render_other_region(entry, locale),
            reply_markup=answer_keyboard(entry, knowledge.version_of(entry.id)),
        )
        await _remember_question(state, sent.message_id, question, settings)
        return
    text, markup = _not_answered(result, locale, settings.hotline)
    if result.decision is Decision.GRIEVANCE:
        # The complaint becomes the description if the user goes on to report it.
        await state.update_data(report_prefill=question)
    await message.reply(text, reply_markup=markup)


async def reply_to_chatter(message: Message, talk: Chatter) -> None:
    """A greeting gets a greeting and what the bot can do; thanks and the like a short word."""
    if talk is Chatter.GREETING:
        await message.answer(
            _(
                "Hello! I answer questions about poverty-alleviation policies and take your "
                "reports of problems (/report). Type your question, or choose a topic:"
            ),
            reply_markup=topics_keyboard(),
        )
        return
    replies = {
        Chatter.THANKS: _("You are welcome! Ask me again any time."),
        Chatter.GOODBYE: _("Goodbye! Come back whenever you have a question."),
        Chatter.ACKNOWLEDGEMENT: _("All right. If you have another question, just type it."),
    }
    await message.answer(replies[talk])


def needs_village_first(account: User, entry: Entry, named_regions: list[str]) -> bool:
    """A regional rule is told only once the user's region is known (or the question names it)."""
    return entry.is_regional and not account.region_code and not named_regions


async def ask_village_first(
    message: Message, state: FSMContext, regions: RegionRepo, question: str
) -> None:
    """Keep the question, ask for the village, and answer once it is chosen (handlers/start)."""
    await state.set_state(VillageChoice.choosing)
    await state.update_data(pending_question=question)
    text, markup = await region_picker(regions, None, 0)
    await message.reply(
        _(
            "The rules on this differ from place to place. Tell me your village first, and I "
            "will answer for your area. Choose below, or type the name of your village."
        )
    )
    await message.answer(text, reply_markup=markup)


def render_other_region(entry: Entry, locale: str) -> str:
    notice = _(
        "The documents I have for your area say nothing about this. I only know the rule of "
        "{region} ({date}), which may not apply to you: please check with your township or "
        "your helper cadre."
    ).format(region=escape(localized(entry.region, locale)), date=entry.effective)
    return notice + "\n\n" + render_answer(entry, locale)


def _not_answered(
    result: SearchResult, locale: str, hotline: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    if result.decision is Decision.GRIEVANCE:
        return (
            _(
                "It sounds like you want to report a problem. Press the button to report it "
                "here: you get a tracking number, the responsible township must handle it, and "
                "your identity stays hidden unless you choose otherwise. You can also call the "
                "hotline {hotline}."
            ).format(hotline=hotline),
            report_button().as_markup(),
        )
    if result.decision is Decision.UNSURE:
        text = (
            _("I am not sure I understood. Did you mean one of these?")
            + "\n"
            + _("If none fits, ask in other words or call {hotline}.").format(hotline=hotline)
        )
        entries = [match.entry for match in result.suggestions]
        return text, entry_buttons(entries, locale).as_markup()
    if result.decision is Decision.EMPTY:
        return _("Please type your question in words, for example: 小额信贷能贷多少？"), None
    if result.decision is Decision.PARTICULAR:
        return _(
            "The policy documents hold no particular names, phone numbers, addresses or dates. "
            "Your helper cadre's and village cadres' numbers are on your household's 明白纸 "
            "(once your account is linked to your household, ask me “who helps my household”). For "
            "anything else, ask the village committee or call the hotline {hotline}."
        ).format(hotline=hotline), None
    return (
        _(
            "Sorry, I did not find anything about this. I answer questions about "
            "poverty-alleviation policies: choose a topic below, or call the hotline {hotline}."
        ).format(hotline=hotline),
        topics_keyboard(),
    )


async def _remember_question(
    state: FSMContext, message_id: int, question: str, settings: Settings
) -> None:
    """Keep the question behind an answer a short while, so that a 👎 can be stored with it."""
    keep = timedelta(hours=settings.question_ttl_hours)
    await remember_question(state, message_id, question, keep)


async def unknown_command(message: Message) -> None:
    await message.answer(
        _("I cannot do that command here. Send /help to see what I can do, or type your question.")
    )


async def show_topics(message: Message) -> None:
    await message.answer(_("Choose a topic:"), reply_markup=topics_keyboard())


async def pick_topic(
    query: CallbackQuery,
    callback_data: TopicPick,
    account: User,
    regions: RegionRepo,
    knowledge: KnowledgeBase,
    i18n: I18n,
) -> None:
    if callback_data.topic not in TOPIC_NAMES:
        await query.answer(_("That choice is no longer available."), show_alert=True)
        return
    index = await knowledge.index()
    # A villager whose region is known browses their region's rules and the general ones.
    own = await region_names(regions, account.region_code)
    entries = [
        entry
        for entry in index.entries
        if entry.topic == callback_data.topic
        and (own is None or not entry.is_regional or entry.region in own)
    ]
    page = max(callback_data.page, 0)
    keyboard = entry_buttons(
        entries[page * TOPIC_PAGE : (page + 1) * TOPIC_PAGE], i18n.current_locale
    )
    if (page + 1) * TOPIC_PAGE < len(entries):
        keyboard.button(
            text=_("More ▶"), callback_data=TopicPick(topic=callback_data.topic, page=page + 1)
        )
        keyboard.adjust(1)
    if isinstance(query.message, Message):
        await query.message.answer(
            str(TOPIC_NAMES[callback_data.topic]) + "\n" + _("Choose a question:"),
            reply_markup=keyboard.as_markup(),
        )
    await query.answer()


async def show_entry(
    query: CallbackQuery,
    callback_data: AnswerShow,
    state: FSMContext,
    knowledge: KnowledgeBase,
    i18n: I18n,
    settings: Settings,
) -> None:
    entry = (await knowledge.index()).get(callback_data.entry_id)
    if entry is None:
        await query.answer(_("That choice is no longer available."), show_alert=True)
        return
    if isinstance(query.message, Message):
        sent = await query.message.answer(
            render_answer(entry, i18n.current_locale),
            reply_markup=answer_keyboard(entry, knowledge.version_of(entry.id)),
        )
        await _remember_question(state, sent.message_id, entry.questions[0], settings)
    await query.answer()


async def show_details(
    query: CallbackQuery, callback_data: AnswerMore, knowledge: KnowledgeBase, i18n: I18n
) -> None:
    entry = (await knowledge.index()).get(callback_data.entry_id)
    if entry is None or not entry.details:
        await query.answer(_("That choice is no longer available."), show_alert=True)
        return
    if isinstance(query.message, Message):
        await query.message.answer(escape(localized(entry.details, i18n.current_locale)))
    await query.answer()


async def give_feedback(
    query: CallbackQuery,
    callback_data: AnswerFeedback,
    state: FSMContext,
    session: AsyncSession,
    knowledge: KnowledgeBase,
) -> None:
    if (await knowledge.index()).get(callback_data.entry_id) is None:
        await query.answer(_("That choice is no longer available."), show_alert=True)
        return
    question = await recall_question(state, query.message.message_id) if query.message else None
    await KnowledgeRepo(session).record_feedback(
        callback_data.entry_id,
        callback_data.version,
        callback_data.helpful,
        query.from_user.id,
        question,
    )
    thanks = (
        _("Thank you!")
        if callback_data.helpful
        else _("Thank you. The administrators will see that this answer did not help.")
    )
    await query.answer(thanks)
