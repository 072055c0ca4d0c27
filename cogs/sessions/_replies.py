"""What coordinators and members are told after a sessions command, in the reader's language
(`tr`): the text only, so the commands in `__init__` stay about what they do."""

from __future__ import annotations

from discord.utils import format_dt

from bot.i18n import N_, Texts
from bot.services.sessions import Change


def planned(tr: Texts, change: Change, group: str) -> str:
    first, many = change.sessions[0], len(change.sessions)
    text = (
        tr.gettext(
            "Planned {many} weekly sessions for **{group}**, the first {starts} until "
            "{ends} (#{id}). Members answer in `/group sessions list`."
        )
        if many > 1
        else tr.gettext(
            "Planned a session for **{group}**, the first {starts} until {ends} (#{id}). "
            "Members answer in `/group sessions list`."
        )
    )
    return text.format(
        many=many,
        group=group,
        starts=format_dt(first.starts_at, "F"),
        ends=format_dt(first.ends_at, "t"),
        id=first.id,
    )


def moved(tr: Texts, change: Change) -> str:
    return _changed(
        tr,
        N_(
            "Moved {count} session(s) of **{group}**; the first is now {starts}. {told} "
            "notice(s) are on their way to the people going."
        ),
        change,
    )


def cancelled(tr: Texts, change: Change) -> str:
    return _changed(
        tr,
        N_(
            "Cancelled {count} session(s) of **{group}**, from {starts}. {told} notice(s) "
            "are on their way to the people going."
        ),
        change,
    )


def _changed(tr: Texts, message: str, change: Change) -> str:
    """A move's or a cancel's answer: how many, the group, the first session, who was told."""
    first = change.sessions[0]
    return tr.gettext(message).format(
        count=len(change.sessions),
        group=first.group_name,
        starts=format_dt(first.starts_at, "F"),
        told=change.told,
    )


def places_set(tr: Texts, group: str, places: int | None) -> str:
    if places:
        return tr.gettext(
            "**{group}** sessions now have {places} places. Answers already given stand."
        ).format(group=group, places=places)
    return tr.gettext(
        "**{group}** sessions now have no limit on places. Answers already given stand."
    ).format(group=group)


def facilitation_set(
    tr: Texts, group: str, rota: str | None, alert_hours: int, required: bool
) -> str:
    if rota is None:
        return tr.gettext("**{group}** sessions no longer get a facilitator slot.").format(
            group=group
        )
    rule = (
        " "
        + tr.gettext(
            "A session nobody claims by its start is cancelled, and the people going told."
        )
        if required
        else ""
    )
    return tr.gettext(
        "Each **{group}** session planned from now on gets a slot on **{rota}** for "
        "supporters to claim (`/rota claim`, with the usual training, caps and rest). "
        "Coordinators are alerted {hours}h before a session nobody has claimed.{rule}"
    ).format(group=group, rota=rota, hours=alert_hours, rule=rule)


def reminders_set(tr: Texts, on: bool) -> str:
    if on:
        return tr.gettext(
            "Session reminders are **on**: I'll DM you before sessions you're going to."
        )
    return tr.gettext(
        "Session reminders are **off**. You'll still hear if a session you're going "
        "to is cancelled or moved."
    )
