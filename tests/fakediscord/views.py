"""What a person sees: live views over the fake's messages and interactions.

Views read the fake's state on every access, so `reply.content` is always what the user sees now
(after the bot's later edits), and `reply.followups` grows as the bot sends more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .actions import flatten_components
from .models import FakeAttachment, FakeInteraction, FakeMessage

if TYPE_CHECKING:
    from .server import FakeDiscord

_KIND_NAMES = {
    2: "button",
    3: "select",
    4: "text_input",
    5: "user_select",
    6: "role_select",
    7: "mentionable_select",
    8: "channel_select",
}
_REPLY_KINDS = {
    4: "message",
    5: "thinking",
    6: "deferred_update",
    7: "update",
    8: "autocomplete",
    9: "modal",
}


@dataclass(frozen=True)
class Component:
    """A button or select as the user sees it (flattened out of rows/containers)."""

    type: int
    custom_id: str | None
    label: str | None = None
    style: int | None = None
    disabled: bool = False
    url: str | None = None
    placeholder: str | None = None
    options: list[tuple[str, str]] = field(
        default_factory=list
    )  # (label, value) of a string select
    min_values: int = 1
    max_values: int = 1

    @property
    def kind(self) -> str:
        return _KIND_NAMES.get(self.type, str(self.type))

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Component:
        return cls(
            type=data["type"],
            custom_id=data.get("custom_id"),
            label=data.get("label"),
            style=data.get("style"),
            disabled=bool(data.get("disabled")),
            url=data.get("url"),
            placeholder=data.get("placeholder"),
            options=[(o["label"], o["value"]) for o in data.get("options") or []],
            min_values=data.get("min_values", 1),
            max_values=data.get("max_values", 1),
        )


@dataclass(frozen=True)
class ModalField:
    custom_id: str
    label: str | None
    style: int
    required: bool
    value: str | None
    placeholder: str | None
    min_length: int | None
    max_length: int | None


@dataclass(frozen=True)
class Modal:
    """A form the bot opened; submit it with `harness.submit_modal(person, modal, {...})`."""

    title: str
    custom_id: str
    fields: list[ModalField]
    opened_by: FakeInteraction

    def field(self, key: str) -> ModalField:
        return next(f for f in self.fields if key in (f.custom_id, f.label))

    @classmethod
    def from_interaction(cls, inter: FakeInteraction) -> Modal:
        data = inter.modal or {}
        fields = []
        for row in data.get("components", []):
            inner = row.get("components") if row.get("type") == 1 else [row.get("component", {})]
            for comp in inner or []:
                if comp.get("type") == 4:
                    fields.append(
                        ModalField(
                            custom_id=comp["custom_id"],
                            label=comp.get("label") or row.get("label"),
                            style=comp.get("style", 1),
                            required=comp.get("required", True),
                            value=comp.get("value"),
                            placeholder=comp.get("placeholder"),
                            min_length=comp.get("min_length"),
                            max_length=comp.get("max_length"),
                        )
                    )
        return cls(data.get("title", ""), data.get("custom_id", ""), fields, inter)


class MessageView:
    """One message as its reader sees it."""

    def __init__(self, fake: FakeDiscord, message_id: int) -> None:
        self.fake = fake
        self._message_id = message_id

    @property
    def message_id(self) -> int:
        return self._message_id

    @property
    def message(self) -> FakeMessage:
        return self.fake.messages[self.message_id]

    @property
    def channel_id(self) -> int:
        return self.message.channel_id

    @property
    def content(self) -> str:
        return self.message.content

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.message.embeds

    @property
    def ephemeral(self) -> bool:
        return self.message.ephemeral

    @property
    def deleted(self) -> bool:
        return self.message.deleted

    @property
    def pinned(self) -> bool:
        return self.message.pinned

    @property
    def files(self) -> list[FakeAttachment]:
        return self.message.attachments

    def file(self, filename: str) -> FakeAttachment:
        return next(a for a in self.files if a.filename == filename)

    @property
    def components(self) -> list[Component]:
        flat = flatten_components(self.message.components)
        return [Component.from_payload(c) for c in flat if c.get("type") != 10]

    @property
    def texts(self) -> list[str]:
        """Text displays of a components-v2 layout."""
        return [
            c.get("content", "")
            for c in flatten_components(self.message.components)
            if c.get("type") == 10
        ]

    @property
    def text(self) -> str:
        """Everything readable: content, embed titles/descriptions/fields/footers, text displays."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            for item in embed.get("fields") or []:
                parts += [item.get("name", ""), item.get("value", "")]
            parts.append((embed.get("footer") or {}).get("text", ""))
        parts += self.texts
        return "\n".join(p for p in parts if p)

    def button(self, label: str | None = None, *, custom_id: str | None = None) -> Component:
        for comp in self.components:
            if (
                comp.type == 2
                and label in (None, comp.label)
                and custom_id in (None, comp.custom_id)
            ):
                return comp
        shown = [c.label for c in self.components if c.type == 2]
        raise AssertionError(f"no button {label or custom_id!r}; buttons: {shown}")

    def __repr__(self) -> str:
        flags = " ephemeral" if self.ephemeral else ""
        shown = [c.label or c.custom_id for c in self.components]
        return f"<MessageView{flags} {self.text[:80]!r} components={shown}>"


class Reply(MessageView):
    """What the user saw in answer to an interaction.

    `message` is the response message: the new message (callback 4, or 5 once the thinking state
    was replaced) or the message the component sat on (6/7). Modal and autocomplete answers have
    no message; the text properties are then empty.
    """

    def __init__(self, fake: FakeDiscord, interaction: FakeInteraction) -> None:
        super().__init__(fake, interaction.original_id or 0)
        self.interaction = interaction

    @property
    def kind(self) -> str:
        return _REPLY_KINDS.get(self.interaction.response_type or 0, "none")

    @property
    def deferred(self) -> bool:
        return self.interaction.response_type in (5, 6)

    @property
    def has_message(self) -> bool:
        return self.interaction.original_id is not None

    @property
    def message(self) -> FakeMessage:
        if self.interaction.original_id is None:
            raise AssertionError(
                f"the bot answered {self.interaction.name} with a {self.kind}, not a message"
            )
        return self.fake.messages[self.interaction.original_id]

    @property
    def message_id(self) -> int:
        return self.interaction.original_id or 0

    @property
    def channel_id(self) -> int:
        return self.interaction.channel_id

    @property
    def content(self) -> str:
        return self.message.content if self.has_message else ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.message.embeds if self.has_message else []

    @property
    def components(self) -> list[Component]:
        return super().components if self.has_message else []

    @property
    def texts(self) -> list[str]:
        return super().texts if self.has_message else []

    @property
    def files(self) -> list[FakeAttachment]:
        return self.message.attachments if self.has_message else []

    @property
    def ephemeral(self) -> bool:
        return self.message.ephemeral if self.has_message else False

    @property
    def loading(self) -> bool:
        """Still showing 'Bot is thinking…'."""
        return self.has_message and self.message.loading and not self.message.deleted

    @property
    def followups(self) -> list[MessageView]:
        return [MessageView(self.fake, i) for i in self.interaction.followup_ids]

    @property
    def modal(self) -> Modal | None:
        return Modal.from_interaction(self.interaction) if self.interaction.modal else None

    @property
    def choices(self) -> list[dict[str, Any]]:
        return list(self.interaction.choices or [])

    async def settled(self, timeout: float = 5.0) -> Reply:  # noqa: ASYNC109 - timeout -> readable assertion
        """Wait until a 'thinking' reply was replaced by the bot's real answer."""
        if not await self.fake.wait_for(lambda: not self.loading, timeout):
            raise AssertionError(f"{self.interaction.name}: still 'thinking' after {timeout}s")
        return self

    async def followup(
        self,
        index: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109 - a timeout here becomes a readable assertion
    ) -> MessageView:
        """The index-th followup message, waiting for it to arrive."""
        if not await self.fake.wait_for(
            lambda: len(self.interaction.followup_ids) > index, timeout
        ):
            raise AssertionError(
                f"{self.interaction.name}: followup #{index} did not arrive within {timeout}s "
                f"(got {len(self.interaction.followup_ids)})"
            )
        return self.followups[index]

    def __repr__(self) -> str:
        if not self.has_message:
            return f"<Reply {self.kind} to {self.interaction.name}>"
        return f"<Reply {self.kind} to {self.interaction.name}: {super().__repr__()}>"
