"""/web: a one-time link that signs a cadre or admin in to the web console (web/pages/signin.py)."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import LinkPreviewOptions, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from db.models import User
from db.regions import RegionRepo
from db.web_access import create_sign_in
from handlers.access import HANDLER_ROLES, area_path


def create_router() -> Router:
    router = Router(name="web_link")
    router.message.register(send_link, Command("web"))
    return router


async def send_link(
    message: Message, account: User, session: AsyncSession, settings: Settings
) -> None:
    if account.role not in HANDLER_ROLES:
        await message.answer(_("The web console is for cadres and administrators."))
        return
    if message.chat.type != "private":  # a link that signs in must not be read by a group
        await message.answer(_("Send /web to me in a private chat: the link signs you in."))
        return
    if await area_path(account, RegionRepo(session)) is None:
        await message.answer(
            _("You have no area yet: ask an administrator to give you one, then send /web again.")
        )
        return
    token = await create_sign_in(session, account.telegram_id)
    link = f"{settings.web_url}/signin/{token}"
    await message.answer(
        _(
            "Your sign-in link to the web console, for you alone: it works once, within 10 "
            "minutes.\n{link}"
        ).format(link=f'<a href="{escape(link)}">{escape(link)}</a>'),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
