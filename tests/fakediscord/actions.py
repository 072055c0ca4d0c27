"""What a person can do in the Discord client, turned into the gateway payloads the bot receives.

Each action first checks what the client itself would stop: a member who cannot see the channel,
a command hidden by `default_member_permissions`, an option value outside its choices or range, a
disabled button, someone else's ephemeral message. Those raise `ActionError` (an AssertionError),
so the test fails with a readable reason instead of sending something Discord never would.
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING, Any

from . import permissions as perms
from .messages import Upload, create_message, message_payload, new_attachment
from .models import (
    FakeAttachment,
    FakeChannel,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
)
from .options import build_options, find_command

if TYPE_CHECKING:
    from .guild import FakeGuild
    from .server import FakeDiscord

Person = FakeMember | FakeUser


class ActionError(AssertionError):
    """The Discord client would not let this person do that."""


def flatten_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every interactive or text component in a (possibly nested, v2) component tree, in order."""
    found: list[dict[str, Any]] = []
    for comp in components:
        if comp.get("type") in (2, 3, 4, 5, 6, 7, 8, 10):
            found.append(comp)
        for key in ("components", "items"):
            if isinstance(comp.get(key), list):
                found.extend(flatten_components(comp[key]))
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                found.extend(flatten_components([comp[key]]))
    return found


# The pseudo-locale run (bot/i18n.py): every person's client shows Hearth in the pseudo-locale.
DEFAULT_LOCALE = (
    "xx-PSEUDO" if os.environ.get("HEARTH_PSEUDO_LOCALE", "") not in ("", "0") else "en-US"
)


class UserActions:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        # Each person's Discord client language (User Settings → Language), by user id.
        self.locales: dict[int, str] = {}

    def set_locale(self, person: Person, locale: str) -> None:
        """This person's client now runs in `locale` ("es-ES"): their interactions carry it."""
        self.locales[person.id] = locale

    def locale_of(self, person: Person) -> str:
        return self.locales.get(person.id, DEFAULT_LOCALE)

    # -- context -------------------------------------------------------------------------------

    def _place(
        self, person: Person, channel: FakeChannel | None
    ) -> tuple[FakeUser, FakeGuild | None, FakeChannel, FakeMember | None]:
        user = person.user if isinstance(person, FakeMember) else person
        if channel is None or channel.is_dm:
            return user, None, self.fake.get_or_create_dm(user), None
        guild = self.fake.guild_of(channel)
        if guild is None or user.id not in guild.members:
            raise ActionError(f"{user.name} is not a member of the server that has #{channel.name}")
        member = guild.members[user.id]
        if not guild.permissions_for(member, channel) & perms.Perm.VIEW_CHANNEL:
            raise ActionError(f"{user.name} cannot see #{channel.name}")
        return user, guild, channel, member

    def _require_bot(self, guild: FakeGuild | None = None) -> None:
        """The shard that gets this guild's interactions (DMs: shard 0) must be connected."""
        if not self.fake.gateway.connected_for(guild.id if guild is not None else None):
            raise ActionError("the bot is not connected to the gateway, nobody would answer")

    # -- messages ------------------------------------------------------------------------------

    def send_message(
        self,
        person: Person,
        channel: FakeChannel | None,
        content: str = "",
        *,
        files: list[tuple[str, bytes]] | None = None,
        reply_to: FakeMessage | None = None,
    ) -> FakeMessage:
        """Post as a person (MESSAGE_CREATE); `channel=None` means a DM to the bot."""
        user, guild, target, member = self._place(person, channel)
        if member is not None and guild is not None:
            needed = (
                perms.Perm.SEND_MESSAGES_IN_THREADS
                if target.is_thread
                else perms.Perm.SEND_MESSAGES
            )
            if not guild.permissions_for(member, target) & needed:
                raise ActionError(f"{user.name} cannot send messages in #{target.name}")
        body: dict[str, Any] = {"content": content}
        if reply_to is not None:
            body["message_reference"] = {
                "message_id": reply_to.id,
                "channel_id": reply_to.channel_id,
            }
        uploads = [Upload(i, name, data) for i, (name, data) in enumerate(files or [])]
        return create_message(self.fake, target, user, body, uploads)

    # -- interactions --------------------------------------------------------------------------

    def _interaction(
        self,
        kind: int,
        person: Person,
        channel: FakeChannel | None,
        data: dict[str, Any],
        *,
        message: FakeMessage | None = None,
        parent: FakeInteraction | None = None,
    ) -> FakeInteraction:
        user, guild, target, member = self._place(person, channel)
        self._require_bot(guild)
        fake = self.fake
        inter = FakeInteraction(
            id=fake.ids.next(),
            token="aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48),
            type=kind,
            user=user,
            guild_id=guild.id if guild else None,
            channel_id=target.id,
            data=data,
            dispatched_at=fake.monotonic(),
            message_id=message.id if message else None,
            parent=parent,
        )
        fake.interactions[inter.id] = inter
        fake.interactions_by_token[inter.token] = inter
        payload: dict[str, Any] = {
            "id": str(inter.id),
            "application_id": str(fake.application_id),
            "type": kind,
            "data": data,
            "token": inter.token,
            "version": 1,
            "locale": self.locale_of(user),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "channel_id": str(target.id),
        }
        if guild is not None and member is not None:
            user_perms = guild.permissions_for(member, target)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
                guild_locale=guild.preferred_locale,
                member=member.payload(permissions=user_perms),
                app_permissions=str(guild.permissions_for(fake.bot_user, target)),
                channel=target.payload(permissions=user_perms),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(
                user=user.payload(),
                app_permissions=str(perms.ALL & ~perms.Perm.ADMINISTRATOR),
                channel=target.payload(permissions=perms.DEFAULT_EVERYONE),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = message_payload(fake, message)
        fake.dispatch("INTERACTION_CREATE", payload)
        return inter

    def _command(
        self, person: Person, channel: FakeChannel | None, path: str
    ) -> tuple[dict[str, Any], FakeGuild | None]:
        guild = self.fake.guild_of(channel) if channel is not None and not channel.is_dm else None
        command = find_command(self.fake, guild, path.split()[0])
        if guild is not None:
            member = guild.members.get(person.id)
            required = command.get("default_member_permissions")
            if member is None:
                raise ActionError(f"{person.name} is not a member of {guild.name}")
            have = guild.permissions_for(member, channel)
            if required is not None and not perms.has(have, int(required)):
                raise ActionError(
                    f"{person.name} cannot see /{path}: it needs {perms.names(int(required))}"
                )
            if not have & perms.Perm.USE_APPLICATION_COMMANDS:
                raise ActionError(f"{person.name} may not use commands in #{guild.name}")
        else:
            contexts = command.get("contexts")
            if contexts is not None and 1 not in contexts:
                raise ActionError(f"/{path} cannot be used in DMs")
            if contexts is None and command.get("dm_permission") is False:
                raise ActionError(f"/{path} cannot be used in DMs")
        return command, guild

    def slash(
        self, person: Person, channel: FakeChannel | None, path: str, options: dict[str, Any]
    ) -> FakeInteraction:
        """Run `/path` (subcommands space-separated), options typed per the registered schema."""
        command, guild = self._command(person, channel, path)
        data = build_options(self, command, guild, channel, path, options, focused=None)
        return self._interaction(2, person, channel, data)

    def autocomplete(
        self,
        person: Person,
        channel: FakeChannel | None,
        path: str,
        option: str,
        typed: str,
        options: dict[str, Any],
    ) -> FakeInteraction:
        command, guild = self._command(person, channel, path)
        data = build_options(
            self, command, guild, channel, path, options | {option: typed}, focused=option
        )
        return self._interaction(4, person, channel, data)

    def context_menu(
        self,
        person: Person,
        channel: FakeChannel,
        name: str,
        target: FakeMember | FakeUser | FakeMessage,
    ) -> FakeInteraction:
        """Right-click → Apps → `name` on a user or a message."""
        kind = 3 if isinstance(target, FakeMessage) else 2
        guild = self.fake.guild_of(channel)
        command = find_command(self.fake, guild, name, kind=kind)
        resolved: dict[str, Any]
        if isinstance(target, FakeMessage):
            resolved = {"messages": {str(target.id): message_payload(self.fake, target)}}
        else:
            user = target.user if isinstance(target, FakeMember) else target
            resolved = {"users": {str(user.id): user.payload()}}
            member = guild.members.get(user.id) if guild else None
            if guild is not None and member is not None:
                resolved["members"] = {
                    str(user.id): member.payload(
                        with_user=False, permissions=guild.permissions_for(member, channel)
                    )
                }
        data = {
            "id": command["id"],
            "name": command["name"],
            "type": kind,
            "target_id": str(target.id),
            "resolved": resolved,
        }
        if guild is not None:
            data["guild_id"] = str(guild.id)
        return self._interaction(2, person, channel, data)

    def upload(self, channel: FakeChannel | None, filename: str, data: bytes) -> FakeAttachment:
        """A file picked for an attachment option (Discord uploads it before the command runs)."""
        attachment = new_attachment(self.fake, channel.id if channel else 0, filename, data)
        attachment.ephemeral = True
        return attachment

    def _visible_message(self, person: Person, message: FakeMessage) -> FakeChannel:
        if message.deleted:
            raise ActionError("that message was deleted")
        if message.ephemeral and message.visible_to != person.id:
            raise ActionError(f"{person.name} cannot see that ephemeral message")
        channel = self.fake.channel(message.channel_id)
        assert channel is not None
        return channel

    def _find_component(
        self, message: FakeMessage, kinds: tuple[int, ...], label: str | None, custom_id: str | None
    ) -> dict[str, Any]:
        candidates = [c for c in flatten_components(message.components) if c.get("type") in kinds]
        for comp in candidates:
            if (custom_id is None or comp.get("custom_id") == custom_id) and (
                label is None or comp.get("label") == label
            ):
                return comp
        shown = [c.get("label") or c.get("placeholder") or c.get("custom_id") for c in candidates]
        raise ActionError(
            f"no component label={label!r} custom_id={custom_id!r} on the message; it has {shown}"
        )

    def click(
        self,
        person: Person,
        message: FakeMessage,
        *,
        label: str | None = None,
        custom_id: str | None = None,
    ) -> FakeInteraction:
        channel = self._visible_message(person, message)
        button = self._find_component(message, (2,), label, custom_id)
        if button.get("disabled"):
            raise ActionError(f"button {button.get('label')!r} is disabled")
        if button.get("style") in (5, 6) or "custom_id" not in button:
            raise ActionError(
                f"button {button.get('label')!r} is a link, not something the bot receives"
            )
        data = {"custom_id": button["custom_id"], "component_type": 2}
        return self._interaction(3, person, channel, data, message=message)

    def select(
        self,
        person: Person,
        message: FakeMessage,
        values: list[Any],
        *,
        custom_id: str | None = None,
    ) -> FakeInteraction:
        channel = self._visible_message(person, message)
        menu = self._find_component(message, (3, 5, 6, 7, 8), None, custom_id)
        if menu.get("disabled"):
            raise ActionError(f"select {menu.get('custom_id')!r} is disabled")
        lo, hi = menu.get("min_values", 1), menu.get("max_values", 1)
        if not lo <= len(values) <= hi:
            raise ActionError(
                f"select {menu['custom_id']!r} takes {lo}..{hi} values, got {len(values)}"
            )
        data: dict[str, Any] = {"custom_id": menu["custom_id"], "component_type": menu["type"]}
        if menu["type"] == 3:
            allowed = [o["value"] for o in menu.get("options", [])]
            by_label = {o["label"]: o["value"] for o in menu.get("options", [])}
            chosen = [v if v in allowed else by_label.get(v, v) for v in values]
            bad = [v for v in chosen if v not in allowed]
            if bad:
                raise ActionError(
                    f"{bad} are not options of {menu['custom_id']!r}; options: {allowed}"
                )
            data["values"] = chosen
        else:
            resolved: dict[str, Any] = {}
            ids = []
            guild = self.fake.guild_of(channel)
            for value in values:
                ids.append(str(value.id))
                _resolve_entity(self.fake, guild, channel, value, resolved)
            data.update(values=ids, resolved=resolved)
        return self._interaction(3, person, channel, data, message=message)

    def submit_modal(
        self, person: Person, opened_by: FakeInteraction, values: dict[str, Any]
    ) -> FakeInteraction:
        modal = opened_by.modal
        if modal is None:
            raise ActionError("the bot did not open a modal")
        if person.id != opened_by.user.id:
            raise ActionError("only the person who opened the modal can submit it")
        remaining = dict(values)
        rows: list[dict[str, Any]] = []
        for row in modal.get("components", []):
            inner = (
                row.get("components")
                if row.get("type") == 1
                else [row["component"]]
                if row.get("type") == 18
                else []
            )
            label = row.get("label")
            submitted = []
            for comp in inner or []:
                if comp.get("type") != 4:
                    continue
                key = (
                    comp["custom_id"]
                    if comp["custom_id"] in remaining
                    else (comp.get("label") or label)
                )
                value = str(remaining.pop(key, comp.get("value") or ""))
                name = comp.get("label") or label or comp["custom_id"]
                if comp.get("required", True) and not value:
                    raise ActionError(f"modal field {name!r} is required")
                if not comp.get("min_length", 0) <= len(value) <= comp.get("max_length", 4000):
                    raise ActionError(
                        f"modal field {name!r} must be "
                        f"{comp.get('min_length', 0)}..{comp.get('max_length', 4000)} characters"
                    )
                submitted.append(
                    {
                        "type": 4,
                        "custom_id": comp["custom_id"],
                        "value": value,
                        "id": comp.get("id", 0),
                    }
                )
            if row.get("type") == 18 and submitted:
                rows.append({"type": 18, "id": row.get("id", 0), "component": submitted[0]})
            elif submitted:
                rows.append({"type": 1, "components": submitted})
        if remaining:
            raise ActionError(f"modal has no fields {sorted(remaining)}")
        channel = self.fake.channel(opened_by.channel_id)
        message = self.fake.messages.get(opened_by.message_id) if opened_by.message_id else None
        data = {"custom_id": modal["custom_id"], "components": rows}
        return self._interaction(5, person, channel, data, message=message, parent=opened_by)


def _resolve_entity(
    fake: FakeDiscord,
    guild: FakeGuild | None,
    channel: FakeChannel | None,
    value: Any,
    resolved: dict[str, Any],
) -> None:
    """Fill Discord's `resolved` block for a user/member/role/channel/attachment value."""
    if isinstance(value, FakeMember | FakeUser):
        user = value.user if isinstance(value, FakeMember) else value
        resolved.setdefault("users", {})[str(user.id)] = user.payload()
        member = guild.members.get(user.id) if guild else None
        if member is not None and guild is not None:
            member_perms = guild.permissions_for(member, channel)
            resolved.setdefault("members", {})[str(user.id)] = member.payload(
                with_user=False, permissions=member_perms
            )
    elif isinstance(value, FakeRole):
        resolved.setdefault("roles", {})[str(value.id)] = value.payload()
    elif isinstance(value, FakeChannel):
        me = guild.members.get(fake.bot_user.id) if guild else None
        shown = guild.permissions_for(me, value) if guild and me else 0
        resolved.setdefault("channels", {})[str(value.id)] = value.payload(permissions=shown)
    elif isinstance(value, FakeAttachment):
        resolved.setdefault("attachments", {})[str(value.id)] = value.payload()
    else:
        raise ActionError(f"cannot resolve {value!r}")
