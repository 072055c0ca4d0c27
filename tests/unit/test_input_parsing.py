"""What a Discord client (or the raw API) can send, refused kindly by the services themselves.

The declared option limits stop most of this in the client; these prove the services do not rely
on that: a number SQLite cannot hold, a time zone zoneinfo cannot open, a digit `int()` cannot
read, a date at the end of the calendar.
"""

from __future__ import annotations

import typing
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import discord.utils
import pytest

from bot.clock import FakeClock
from bot.config import validate_timezone_name
from bot.db import ROW_ID_MAX, Database
from bot.errors import UserFacingError
from bot.i18n import ENGLISH
from bot.services import rota
from bot.services.checkin_schedules import CheckinSchedules
from bot.services.checkins import parse_time, parse_zone
from bot.services.group_names import clean_name, name_key
from bot.services.rota.parsing import parse_duration, parse_expiry, parse_start
from bot.services.settings import GuildSettings, SettingsService
from bot.services.text import TimeStyle, discord_time, one_line, paragraphs
from tests.services import rota_service

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
HUGE = 9999999999999999999999  # larger than SQLite's INTEGER (2**63-1)


@pytest.mark.parametrize("typed", [str(HUGE), f"#{HUGE}", f"{HUGE} Evening duty", "0"])
def test_a_slot_number_out_of_range_is_no_such_slot(typed: str) -> None:
    with pytest.raises(UserFacingError, match=r"There's no slot #\d+ on this server"):
        rota.parse_slot_id(typed)


@pytest.mark.parametrize("typed", ["²", "٣", "-1", "", "   ", "#", "1e3", "twelve"])
def test_a_slot_that_is_not_a_number_is_explained(typed: str) -> None:
    with pytest.raises(UserFacingError, match="isn't a slot I know"):
        rota.parse_slot_id(typed)


def test_a_slot_number_in_range_is_read_from_a_picker_label() -> None:
    assert rota.parse_slot_id(" #12 Evening duty Tue 3 Mar ") == 12
    assert rota.parse_slot_id(str(ROW_ID_MAX)) == ROW_ID_MAX


async def test_slot_services_refuse_numbers_sqlite_cannot_hold(db: Database) -> None:
    """Callers that skip the parser (a button, another feature) still get the kind refusal."""
    settings = GuildSettings()
    with pytest.raises(UserFacingError, match="There's no slot #"):
        await rota_service(db).slot(1, HUGE)
    for call in (
        rota_service(db, NOW).claim_slot(settings, 1, HUGE, 5, is_supporter=True),
        rota_service(db, NOW).release_claim(1, HUGE, 5),
        rota_service(db, NOW).offer_swap(1, HUGE, 5),
        rota_service(db).withdraw_swap(1, HUGE, 5),
        rota_service(db, NOW).take_swap(settings, 1, -HUGE, 6, is_supporter=True),
    ):
        with pytest.raises(UserFacingError, match="There's no slot #"):
            await call
    assert await rota_service(db).slot_if_any(1, HUGE) is None


async def test_checkin_schedule_ids_out_of_range_are_no_such_schedule(db: Database) -> None:
    clock = FakeClock(NOW)
    schedules = CheckinSchedules(db, clock, SettingsService(db, clock))
    for call in (
        schedules.get_group(1, HUGE),
        schedules.pause_group(1, HUGE),
        schedules.resume_group(1, -HUGE),
        schedules.remove_group(1, HUGE),
    ):
        with pytest.raises(UserFacingError, match="no check-in schedule #"):
            await call


@pytest.mark.parametrize("name", ["Europe", "a" * 300, "Europe/London/..", "", "../etc"])
def test_time_zone_names_zoneinfo_cannot_open_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not an IANA time zone name"):
        validate_timezone_name(name)
    with pytest.raises(UserFacingError, match="isn't a time zone I know"):
        parse_zone(name)


def test_settings_refuse_digits_int_cannot_read() -> None:
    service_settings = GuildSettings()
    with pytest.raises(ValueError, match="whole hours"):
        service_settings.reminder_hours = "²"  # type: ignore[assignment]  # a bad value on purpose
    with pytest.raises(ValueError, match="at least one hour"):
        service_settings.reminder_hours = " , "  # type: ignore[assignment]  # a bad value on purpose


async def test_typed_settings_refuse_odd_numbers_kindly(db: Database) -> None:
    service = SettingsService(db, FakeClock(NOW))
    for key, raw in [
        ("max_shifts_per_week", "²"),
        ("max_shifts_per_week", "9" * 40),
        ("checkin_grace_minutes", "-9223372036854775809"),
        ("log_channel_id", "٣"),
        ("timezone", "Europe"),
        ("reminder_hours", " "),
        ("retention_days", "1" * 201),
    ]:
        with pytest.raises(UserFacingError):
            await service.set_from_text(1, 2, key, raw)
    assert await db.fetchall("SELECT * FROM guild_settings") == []


def test_dates_at_the_end_of_the_calendar_are_refused_kindly() -> None:
    with pytest.raises(UserFacingError, match="couldn't read"):
        parse_expiry("9999-12-31", LONDON, NOW)
    with pytest.raises(UserFacingError, match="more than five years ahead"):
        parse_start("9999-12-31 23:59", LONDON, NOW)
    with pytest.raises(UserFacingError, match="too long"):
        parse_duration("1" * 30 + "h")
    with pytest.raises(UserFacingError, match="isn't a time of day"):
        parse_time(" " * 5 + "19:00" + " " * 5 + "x")


def test_days_in_refusals_are_discord_dates_each_reader_sees_in_their_language() -> None:
    """Not English month names: `<t:…:D>`, shown by each reader's app in their language."""
    with pytest.raises(UserFacingError) as ahead:
        parse_start("9999-12-31 23:59", LONDON, NOW)
    noon = datetime(9999, 12, 31, 12, 0, tzinfo=LONDON)
    assert ahead.value.text(ENGLISH).startswith(f"<t:{int(noon.timestamp())}:D> is more than")
    with pytest.raises(UserFacingError) as passed:
        parse_start("2026-03-01 19:00", LONDON, NOW)
    evening = datetime(2026, 3, 1, 19, 0, tzinfo=LONDON)
    assert passed.value.text(ENGLISH) == (
        f"<t:{int(evening.timestamp())}:f> has already passed. "
        "Slots can only be added for times still ahead."
    )


def test_names_lose_what_cannot_be_seen() -> None:
    assert one_line("\u200b Carers\u00a0\u202ecircle\x00\n ") == "Carers circle"
    assert one_line("👩\u200d👩\u200d👧 club") == "👩\u200d👩\u200d👧 club"  # emoji joiners stay
    assert one_line("Carers\u200bcircle") == "Carerscircle"  # it looks like what it is
    assert name_key("\u200fCARERS  circle\u200b") == name_key("Carers circle")
    assert paragraphs("  one \x07\n\n\n  two\u200b ") == "one\n\ntwo"
    with pytest.raises(UserFacingError, match="needs a name"):
        clean_name("\u200b\u200f \t")


def test_what_was_pasted_with_invisible_characters_still_reads() -> None:
    assert rota.parse_slot_id("\u200b#12\u200f") == 12
    assert parse_time("19:00\u200b") == parse_time("19:00")
    assert parse_zone("\u200fEurope/London ") == LONDON
    assert parse_duration("1h\u200b30m") == parse_duration("1h30m")
    assert parse_expiry("\u200e2026-12-31", LONDON, NOW) == parse_expiry("2026-12-31", LONDON, NOW)


@pytest.mark.parametrize("style", typing.get_args(TimeStyle))
def test_the_services_timestamps_are_format_dts(style: TimeStyle) -> None:
    moment = datetime(2026, 3, 29, 1, 30, 59, 900000, tzinfo=UTC)
    assert discord_time(moment, style) == discord.utils.format_dt(moment, style)
