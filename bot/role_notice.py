"""What a person is told when an administrator gives them a role or takes it back, from the
bot, the command line or the web console alike (queued in the outbox with the change)."""

from __future__ import annotations

from html import escape

from bot.catalogs import translation
from db.models import Role
from grievances.roles import N_, RoleChange
from knowledge.normalize import to_traditional

ROLE_NAMES = {
    Role.VILLAGER: N_("villager"),
    Role.CADRE: N_("cadre"),
    Role.ADMIN: N_("administrator"),
}


class RoleAnnouncer:
    """Renders the notice in the person's locale (the default one if they never chose); no
    aiogram, so that `huhuqing users` starts fast."""

    def __init__(self, default_locale: str) -> None:
        self.default_locale = default_locale

    def __call__(self, change: RoleChange, locale: str | None, area_name: str) -> str:
        locale = locale or self.default_locale
        _ = translation(locale).gettext
        area = escape(to_traditional(area_name) if locale == "zh_Hant" else area_name)
        if change.revoked:
            return _(
                "You are no longer {role}: you use me as a villager now, and your command menu "
                "has changed."
            ).format(role=_(ROLE_NAMES[change.former_role]))
        if change.role == Role.CADRE:
            return _(
                "You are now a cadre for {area}. /start shows your open and overdue cases, "
                "/cases lists them, /households the households you help, /web signs you in to "
                "the web console; /help lists all your commands."
            ).format(area=area)
        return _(
            "You are now an administrator for {area}. /start shows the open and overdue cases, "
            "/web signs you in to the web console; /help lists all your commands."
        ).format(area=area or _("everything"))
