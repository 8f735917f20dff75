"""Local days as UTC windows: a source's date is a day in the country's own time.

UCDP and ACLED give dates, not times. A date is the whole local day, from its
midnight to the next, in the country's time zone. On a day the clocks change at
midnight (Syria did until 2022) local midnight may not exist or may happen
twice; the window then takes the earlier start and the later end, so it is at
most an hour too wide and never too narrow. A country not in the table (or
one spanning several zones) is read in UTC widened by every offset in use:
from the day's start at UTC+14 to its end at UTC-12.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

# Country names as UCDP and ACLED write them (lower case, a "(former name)" dropped),
# ISO 3166 alpha-3 codes (HXL's #country+code) and Gleditsch-Ward numbers ("gw:652",
# UCDP's country_id): single-zone countries where these datasets record most events.
_ZONES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Asia/Damascus": ("syria", ("SYR", "gw:652")),
    "Asia/Baghdad": ("iraq", ("IRQ", "gw:645")),
    "Asia/Beirut": ("lebanon", ("LBN", "gw:660")),
    "Asia/Amman": ("jordan", ("JOR", "gw:663")),
    "Asia/Jerusalem": ("israel", ("ISR", "gw:666")),
    "Asia/Gaza": ("palestine", ("PSE",)),
    "Europe/Istanbul": ("turkey", ("TUR", "gw:640")),
    "Asia/Tehran": ("iran", ("IRN", "gw:630")),
    "Asia/Aden": ("yemen", ("YEM", "gw:678", "gw:679")),
    "Asia/Riyadh": ("saudi arabia", ("SAU", "gw:670")),
    "Africa/Cairo": ("egypt", ("EGY", "gw:651")),
    "Africa/Tripoli": ("libya", ("LBY", "gw:620")),
    "Africa/Tunis": ("tunisia", ("TUN", "gw:616")),
    "Africa/Algiers": ("algeria", ("DZA", "gw:615")),
    "Africa/Khartoum": ("sudan", ("SDN", "gw:625")),
    "Africa/Juba": ("south sudan", ("SSD", "gw:626")),
    "Africa/Mogadishu": ("somalia", ("SOM", "gw:520")),
    "Africa/Addis_Ababa": ("ethiopia", ("ETH", "gw:530")),
    "Africa/Bamako": ("mali", ("MLI", "gw:432")),
    "Africa/Niamey": ("niger", ("NER", "gw:436")),
    "Africa/Ouagadougou": ("burkina faso", ("BFA", "gw:439")),
    "Africa/Lagos": ("nigeria", ("NGA", "gw:475")),
    "Africa/Ndjamena": ("chad", ("TCD", "gw:483")),
    "Africa/Bangui": ("central african republic", ("CAF", "gw:482")),
    "Africa/Maputo": ("mozambique", ("MOZ", "gw:541")),
    "Asia/Kabul": ("afghanistan", ("AFG", "gw:700")),
    "Asia/Karachi": ("pakistan", ("PAK", "gw:770")),
    "Asia/Kolkata": ("india", ("IND", "gw:750")),
    "Asia/Yangon": ("myanmar", ("MMR", "gw:775")),
    "Asia/Manila": ("philippines", ("PHL", "gw:840")),
    "Europe/Kyiv": ("ukraine", ("UKR", "gw:369")),
    "Asia/Tbilisi": ("georgia", ("GEO", "gw:372")),
    "Asia/Yerevan": ("armenia", ("ARM", "gw:371")),
    "Asia/Baku": ("azerbaijan", ("AZE", "gw:373")),
    "America/Bogota": ("colombia", ("COL", "gw:100")),
}
_BY_KEY: dict[str, str] = {}
for _zone, (_name, _codes) in _ZONES.items():
    _BY_KEY[_name] = _zone
    for _code in _codes:
        _BY_KEY[_code.lower()] = _zone

WIDEST_AHEAD = timedelta(hours=14)  # UTC+14 (Kiribati): the earliest any day starts
WIDEST_BEHIND = timedelta(hours=12)  # UTC-12: the latest any day ends
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?")
_MONTH_NAMES = {
    m: i + 1
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ]
    )
}


def zone_for(*keys: str) -> str | None:
    """The IANA zone of the first key (country name, ISO alpha-3, G-W number) known."""
    for key in keys:
        k = re.sub(r"\s*\(.*\)\s*$", "", key.strip()).lower()
        if k in _BY_KEY:
            return _BY_KEY[k]
    return None


def parse_date(text: str) -> date | None:
    """`YYYY-MM-DD` (optionally with a midnight time, as some UCDP releases write it) or
    ACLED's older `DD Month YYYY`; None if neither."""
    text = text.strip()
    m = _DATE.fullmatch(text)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    parts = text.split()
    if len(parts) == 3 and parts[0].isdigit() and parts[2].isdigit():
        month = _MONTH_NAMES.get(parts[1].lower())
        if month:
            try:
                return date(int(parts[2]), month, int(parts[0]))
            except ValueError:
                return None
    return None


def day_window(first: date, last: date, zone: str | None) -> tuple[str, str]:
    """(start, end) as ISO 8601 with offset: from the start of local day `first` to the
    start of the day after `last` (exclusive)."""
    following = last + timedelta(days=1)
    if zone is None:
        start = datetime.combine(first, time(), timezone(WIDEST_AHEAD))
        end = datetime.combine(following, time(), timezone(-WIDEST_BEHIND))
        return start.isoformat(), end.isoformat()
    tz = ZoneInfo(zone)
    starts = [datetime.combine(first, time(), tz).replace(fold=f) for f in (0, 1)]
    ends = [datetime.combine(following, time(), tz).replace(fold=f) for f in (0, 1)]
    start = min(starts, key=lambda d: d.astimezone(UTC))
    end = max(ends, key=lambda d: d.astimezone(UTC))
    return _iso(start), _iso(end)


def _iso(local: datetime) -> str:
    """The instant with the offset it had (a fold-1 time keeps its own offset)."""
    offset = local.utcoffset()
    assert offset is not None
    return local.replace(tzinfo=timezone(offset)).isoformat()
