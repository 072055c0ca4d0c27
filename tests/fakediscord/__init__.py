"""A loopback fake of Discord (REST API v10 + gateway) for testing the real discord.py client.

Start it, point discord.py at it, build a server, act as people, inspect what they would see::

    fake = FakeDiscord(clock=clock)          # anything with .now(): ids and timestamps follow it
    await fake.start(port=0)                 # -> fake.api_base, fake.gateway_url, fake.token
    g = fake.add_guild("Test Server")        # the bot joins with its managed role (g.bot_role)
    coord = g.add_role("coordinator", permissions=Perm.MANAGE_GUILD)
    alice = g.add_member("alice", roles=[coord])
    general = g.add_text_channel("general", overwrites={g.everyone_role: (0, Perm.VIEW_CHANNEL)})
    ...
    await fake.stop()

World building (sync; each change is also sent to a connected bot as the matching gateway event):
  fake.add_user(name, bot=False, dms_closed=False) -> FakeUser        (user.dms_closed = True)
  fake.add_guild(name, owner=None, with_bot=True, bot_permissions=DEFAULT_BOT,
                 shard=(shard_id, shard_count) or None) -> FakeGuild  (an id on that shard)
  fake.add_bot_to_guild(g) / fake.remove_bot_from_guild(g)             GUILD_CREATE / GUILD_DELETE
  g.add_role(name, permissions=0, position=None)  (default: just below the bot's role)
                                                                       GUILD_ROLE_CREATE
  g.set_role_permissions(role, p) / g.set_bot_permissions(p) / g.move_role(role, pos)
                                                                       GUILD_ROLE_UPDATE
  g.add_member(name, roles=(), bot=False, nick=None, dms_closed=False) GUILD_MEMBER_ADD
  g.remove_member(m)                                                   GUILD_MEMBER_REMOVE
  g.set_member_roles(m, roles)                                         GUILD_MEMBER_UPDATE
  g.add_text_channel(name, overwrites={role|member: (allow, deny)}, topic=None, category=None)
  g.add_category(name, overwrites) / g.add_thread(parent, name, private=False, members=())
  g.delete_channel(c)                                             CHANNEL_DELETE / THREAD_DELETE
  g.everyone_role, g.bot_role, g.bot_member, g.owner, g.role(name), g.member(name), g.channel(name)
  g.permissions_for(member, channel=None) -> int
  fake.set_privileged_intents(members=, message_content=, presences=)  (IDENTIFY then may get 4014)

People (fake.actions, all sync; raise ActionError when the Discord client would not allow it):
  send_message(person, channel|None, content, files=[(name, bytes)], reply_to=None) -> FakeMessage
  slash(person, channel|None, "group sub", {option: value}) -> FakeInteraction
  autocomplete(person, channel, path, option, typed, {other options}) -> FakeInteraction
  context_menu(person, channel, name, target_member_or_message) -> FakeInteraction
  click(person, message, label=None, custom_id=None)
  select(person, message, values, custom_id=None)
  submit_modal(person, interaction_that_opened_it, {custom_id_or_label: text}) -> FakeInteraction

Inspection (sync): fake.channel_messages(c, include_ephemeral=False), fake.dm_messages(user),
  fake.dm_channel(user), fake.ephemeral_messages(user), fake.pins(c), fake.threads(parent=None)
  (thread.members, .archived, .locked, .is_private_thread), fake.message(id), fake.channel(id),
  fake.mark_interested(g, event, user, on=True), fake.delete_event_by_hand(g, event),
  fake.interaction(id) (response_type, original_id, followup_ids, modal, choices,
  rejected_callbacks), fake.commands(guild_id=None), fake.scheduled_events(g),
  g.member_role_ids(m), fake.requests and
  fake.request_count("PUT", "/applications/{application_id}/commands"),
  fake.request_log, fake.denials (why a 403 was given), fake.unimplemented, fake.internal_errors,
  fake.violations (requests Discord would refuse: spec or limits), fake.unchecked (bodies the
  spec has no schema for),
  fake.gateway.sessions[...].events, fake.gateway.identify_count / resume_count.

Waiting and time: `await fake.wait_for(predicate, timeout) -> bool` wakes on every state change
  (no polling); `await fake.flush()` waits until queued gateway events were written;
  `fake.advance_time(s)` moves the clock of interaction deadlines (3 s to answer, 15 min token).
Faults: fake.rate_limit_next(method, path_regex, retry_after=0.05, global_=False, count=1),
  fake.enforce_global_limit(per_second=50, window=1.0) (None turns it off; fake.rate_limited
  lists every 429), fake.drop_connection(code=4000) (the bot RESUMEs and gets missed events),
  fake.request_reconnect() (op 7), fake.gateway.invalidate_sessions().
Sharding (gateway.py): IDENTIFY's `shard` routes each guild's events to its shard's session
  (DMs to shard 0); 4010 for a bad shard, 4011 past fake.gateway.max_guilds_per_shard (2,500).
  GET /gateway/bot: fake.gateway.recommended_shards (None: 1 per guilds_per_recommended_shard),
  session_start_remaining / _total / _reset_after_ms, max_concurrency, identify_window (5 s;
  op 9 for a second IDENTIFY of one key, token reset past remaining: see Gateway._identify).
  fake.drop_connection(shard=i) / request_reconnect(shard=i) touch one shard;
  fake.gateway.shard_sessions(i), connected_for(guild_id), identify_refusals, closed_with.

Modules: state (world + inspection), guild (server building), models (payload shapes),
  permissions, schema (bodies against Discord's OpenAPI spec in spec/), validation (the limits
  the spec leaves out), gateway, server (HTTP plumbing), rest_* (routes),
  messages, actions/options (people), views (what people see: Reply, MessageView, Modal),
  probe (a bare discord.py bot for testing the fake), __main__ (standalone).
Run standalone with a sample server: `python -m tests.fakediscord --port 8765`.
"""

from .actions import ActionError, flatten_components
from .guild import FakeGuild
from .models import (
    FakeAttachment,
    FakeChannel,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeScheduledEvent,
    FakeUser,
    Overwrite,
)
from .permissions import DEFAULT_BOT, DEFAULT_EVERYONE, Perm
from .server import FakeDiscord

__all__ = [
    "DEFAULT_BOT",
    "DEFAULT_EVERYONE",
    "ActionError",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeScheduledEvent",
    "FakeUser",
    "Overwrite",
    "Perm",
    "flatten_components",
]
