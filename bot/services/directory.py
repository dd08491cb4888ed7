"""Referral directory: where a resident can go (trusted addresses, shelters, legal aid,
police, health), most relevant and nearest first, in words that fit a phone screen.

Places live in the `places` table, but a resident waits on every lookup and operators edit
rarely, so lookups run on an in-memory index that is re-read only when the table's row
count or latest `updated_at` changes (checked at most every few seconds, and at once after
an import in the same process). In production only verified entries are ever shown; demo
mode adds the sample entries of data/places_demo.csv, whose names start with "[Mẫu] ".
"""

from __future__ import annotations

import csv
import heapq
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from itertools import chain, repeat
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import settings
from bot.nlu.normalize import nfc
from bot.services.gazetteer import Unit, gazetteer
from bot.storage.db import session_scope
from bot.storage.models import Place, utcnow

log = logging.getLogger(__name__)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEMO_FILE = Path(__file__).with_name("data") / "places_demo.csv"
KINDS = (
    "trusted_address", "shelter", "legal_aid", "police", "health",
    "social_work", "womens_union", "hotline",
)
COLUMNS = (
    "key", "name", "kind", "unit", "address", "phones", "hours", "open_24_7", "hours_note",
    "lat", "lon", "services", "verified", "source", "last_verified", "sample",
)
REQUIRED_COLUMNS = ("key", "name", "kind", "verified")
SAMPLE_PREFIX = "[Mẫu] "
EARTH_KM = 6371.0088
REFRESH_SECONDS = 5.0
STALE_AFTER = timedelta(days=365)

# What was asked for → the kinds that answer it first; every other kind ranks after them.
RELEVANT: dict[str, tuple[str, ...]] = {
    "trusted_address": ("trusted_address", "shelter"),
    "shelter": ("trusted_address", "shelter"),
    "legal_aid": ("legal_aid",),
    "police": ("police",),
    "health": ("health",),
    "social_work": ("social_work",),
    "womens_union": ("womens_union",),
}

# ---------------------------------------------------------------- resident-facing text

EMERGENCY_LINE = "Nếu nguy hiểm ngay lúc này, gọi 113."
HOTLINES_LINE = EMERGENCY_LINE + " Cấp cứu y tế: 115. Bảo vệ trẻ em, chống mua bán người: 111 (miễn phí, 24/7)."
ASK_PLACE_TEXT = (
    "Bạn đang ở phường, xã nào? Hãy chọn bên dưới hoặc gõ tên (tên cũ như Tứ Hạ, Hương Chữ, "
    "Bình Thành cũng được).\nBạn cũng có thể gửi vị trí của mình để tìm nơi gần nhất."
)
KIND_VI = {
    "trusted_address": "Địa chỉ tin cậy",
    "shelter": "Nơi tạm lánh",
    "legal_aid": "Trợ giúp pháp lý",
    "police": "Công an",
    "health": "Y tế",
    "social_work": "Công tác xã hội",
    "womens_union": "Hội Phụ nữ",
    "hotline": "Đường dây nóng",
}
REQUEST_VI = {
    "trusted_address": "Địa chỉ tin cậy, nơi tạm lánh",
    "shelter": "Địa chỉ tin cậy, nơi tạm lánh",
    "legal_aid": "Nơi trợ giúp pháp lý",
    "police": "Công an",
    "health": "Cơ sở y tế",
    "social_work": "Nơi hỗ trợ công tác xã hội",
    "womens_union": "Hội Phụ nữ",
    None: "Nơi hỗ trợ",
}
# Nothing of the kind asked for in the directory: what the law gives, or where to go, and how
# to ask for it today. {where} is "phường Hương Trà" or "phường, xã nơi bạn ở".
NOT_FOUND_VI = {
    "trusted_address": (
        "Theo luật, UBND phường, xã phải lập và công bố danh sách địa chỉ tin cậy (Điều 36 Luật "
        "Phòng, chống bạo lực gia đình 2022). Bạn có thể nhờ một người bạn tin hỏi UBND {where} danh sách này."
    ),
    "police": "Bạn có thể đến trụ sở công an {where}, hoặc gọi 113 bất cứ lúc nào.",
    "health": "Bạn có thể đến trạm y tế {where}; cần cấp cứu, gọi 115.",
    "legal_aid": (
        "Bạn có thể gọi 1800 1233 (trợ giúp pháp lý quốc gia, 8h–17h thứ Hai đến thứ Sáu), hoặc hỏi "
        "UBND {where} cách liên hệ Trung tâm Trợ giúp pháp lý."
    ),
    None: "Bạn có thể hỏi UBND {where}, hoặc gọi các số trên bất cứ lúc nào.",
}
NOT_FOUND_VI["shelter"] = NOT_FOUND_VI["trusted_address"]
DAY_VI = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")

# ---------------------------------------------------------------- opening hours

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")
Rule = tuple[frozenset[int], int, int]  # weekdays (Mon=0), start minute, end minute


def parse_hours(text: str) -> tuple[Rule, ...]:
    """Parse "Mon-Fri 07:30-11:30,13:30-17:00; Sat 07:30-11:30" (also "Daily", "Sat,Sun",
    "Fri-Mon"). A range whose end is before its start crosses midnight: "Mon 22:00-06:00"
    is open Monday night until Tuesday 06:00. Raises ValueError saying what is wrong."""
    rules: list[Rule] = []
    for group in (g.strip() for g in text.split(";")):
        if not group:
            continue
        days_text, _, ranges_text = group.partition(" ")
        if not ranges_text.strip():
            raise ValueError(f"{group!r}: expected days then times, e.g. 'Mon-Fri 07:30-11:30'")
        days = _parse_days(days_text)
        for part in ranges_text.replace(" ", "").split(","):
            match = _RANGE.fullmatch(part)
            if not match:
                raise ValueError(f"{part!r}: expected a time range HH:MM-HH:MM")
            h1, m1, h2, m2 = map(int, match.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if m1 > 59 or m2 > 59 or start >= 24 * 60 or end > 24 * 60:
                raise ValueError(f"{part!r}: not a time of day (00:00-23:59, 24:00 only as an end)")
            if start == end:
                raise ValueError(f"{part!r}: empty range")
            rules.append((days, start, end))
    if not rules:
        raise ValueError("no opening hours given")
    return tuple(rules)


def _parse_days(text: str) -> frozenset[int]:
    if text.lower() == "daily":
        return frozenset(range(7))
    days: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        try:
            day, end = DAYS.index(first.lower()), DAYS.index((last or first).lower())
        except ValueError:
            raise ValueError(f"{part!r}: days are Mon Tue Wed Thu Fri Sat Sun, 'Mon-Fri' or 'Daily'") from None
        days.add(day)
        while day != end:
            day = (day + 1) % 7
            days.add(day)
    return frozenset(days)


def is_open(rules: Iterable[Rule], local: datetime) -> bool:
    """Whether the rules cover `local` (a wall-clock time in Huế)."""
    weekday, minute = local.weekday(), local.hour * 60 + local.minute
    for days, start, end in rules:
        if start < end:
            if weekday in days and start <= minute < end:
                return True
        elif (weekday in days and minute >= start) or ((weekday - 1) % 7 in days and minute < end):
            return True
    return False


def local_time(now: datetime | None = None) -> datetime:
    """`now` as wall-clock time in Huế; a naive datetime is taken as UTC (server clocks)."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(TZ)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _days_vi(days: frozenset[int]) -> str:
    if len(days) == 7:
        return "Hằng ngày"
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(DAY_VI[r[0]] if len(r) == 1 else f"{DAY_VI[r[0]]}–{DAY_VI[r[-1]]}" for r in runs)


def hours_vi(rules: Iterable[Rule]) -> str:
    """"T2–T6: 07:30–11:30, 13:30–17:00; T7: 07:30–11:30"."""
    grouped: dict[frozenset[int], list[str]] = {}
    for days, start, end in rules:
        grouped.setdefault(days, []).append(f"{_hhmm(start)}–{_hhmm(end)}")
    return "; ".join(f"{_days_vi(days)}: {', '.join(ranges)}" for days, ranges in grouped.items())


# ---------------------------------------------------------------- distance

def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def _unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    """A point on the unit sphere: the straight-line (chord) distance between two of them
    grows exactly as the great-circle distance does, so ranking by `math.dist` (one C call)
    gives the haversine order without trigonometry per place."""
    phi, lam = math.radians(lat), math.radians(lon)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))


# ---------------------------------------------------------------- the in-memory index

@dataclass(frozen=True)
class Entry:
    """One place as residents see it (a read-only copy of a `places` row)."""

    key: str
    name: str
    kind: str
    unit: str | None
    address: str | None
    phones: tuple[str, ...]
    hours: str | None
    open_24_7: bool
    hours_note: str | None
    lat: float | None
    lon: float | None
    services: str | None
    verified: bool
    source: str | None
    last_verified: date | None
    sample: bool
    rules: tuple[Rule, ...] = ()
    schedule: int = 0  # id shared by entries with the same hours, so open-now is computed once
    xyz: tuple[float, float, float] | None = None

    def open_at(self, now: datetime | None = None) -> bool | None:
        """Open at `now`; None when the hours are unknown."""
        if self.open_24_7:
            return True
        if not self.rules:
            return None
        return is_open(self.rules, local_time(now))

    @property
    def map_url(self) -> str | None:
        if self.lat is None or self.lon is None:
            return None
        lat, lon = f"{self.lat:.5f}", f"{self.lon:.5f}"
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"


@dataclass(frozen=True)
class Found:
    """A place returned by `nearest`, with what the answer says about it."""

    entry: Entry
    distance_km: float | None
    open_now: bool | None
    in_unit: bool


def _split_phones(text: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(";") if p.strip())


_NOWHERE = (math.inf, 0.0, 0.0)  # places without coordinates rank after every located one


@dataclass
class _Bucket:
    """Visible places of one unit, kind and schedule, with their points kept in a flat list
    so distances are computed by `map(math.dist, …)` in C rather than a Python loop."""

    entries: list[Entry] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    points: list[tuple[float, float, float]] = field(default_factory=list)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)
        self.keys.append(entry.key)
        self.points.append(entry.xyz or _NOWHERE)


class _Index:
    def __init__(self, rows: Iterable, signature: tuple):
        self.signature = signature
        self.checked = time.monotonic()
        schedules: dict[tuple[bool, str], int] = {}
        parsed: dict[str, tuple[Rule, ...]] = {}
        entries = []
        for row in rows:
            hours = row.hours or ""
            if hours and not row.open_24_7 and hours not in parsed:
                try:
                    parsed[hours] = parse_hours(hours)
                except ValueError as exc:  # edited by hand in the database: shown as unknown hours
                    log.warning("place %s: bad hours ignored: %s", row.key, exc)
                    parsed[hours] = ()
            located = row.lat is not None and row.lon is not None
            entries.append(Entry(
                key=row.key, name=row.name, kind=row.kind, unit=row.unit, address=row.address,
                phones=_split_phones(row.phones), hours=row.hours, open_24_7=bool(row.open_24_7),
                hours_note=row.hours_note, lat=row.lat, lon=row.lon, services=row.services,
                verified=bool(row.verified), source=row.source, last_verified=row.last_verified,
                sample=bool(row.sample), rules=() if row.open_24_7 else parsed.get(hours, ()),
                schedule=schedules.setdefault((bool(row.open_24_7), hours), len(schedules)),
                xyz=_unit_vector(row.lat, row.lon) if located else None,
            ))
        self.entries = entries
        self.schedules: dict[int, Entry] = {e.schedule: e for e in entries}  # one entry per schedule
        # production → verified real entries only; demo → verified entries and samples.
        self.visible = {
            True: [e for e in entries if e.verified and not e.sample],
            False: [e for e in entries if e.verified or e.sample],
        }
        self.buckets: dict[bool, dict[tuple[str | None, str], dict[int, _Bucket]]] = {}
        for production, visible in self.visible.items():
            groups: dict[tuple[str | None, str], dict[int, _Bucket]] = {}
            for e in visible:
                groups.setdefault((e.unit, e.kind), {}).setdefault(e.schedule, _Bucket()).add(e)
            self.buckets[production] = groups


_indexes: dict[str, _Index] = {}
_lock = threading.Lock()


def _index() -> _Index:
    url = settings().database_url
    index = _indexes.get(url)
    if index is not None and time.monotonic() - index.checked < REFRESH_SECONDS:
        return index
    with _lock, session_scope() as session:
        signature = tuple(session.execute(select(func.count(Place.id), func.max(Place.updated_at))).one())
        if index is None or index.signature != signature:
            index = _Index(session.execute(select(Place.__table__)).all(), signature)
        index.checked = time.monotonic()
        _indexes[url] = index
    return index


def invalidate() -> None:
    """Drop the cached index so the next lookup re-reads the table (after writing places)."""
    _indexes.clear()


def _production() -> bool:
    return not settings().demo


def _closest(q: tuple[float, float, float], buckets: list[_Bucket], need: int) -> list[Entry]:
    rows = heapq.nsmallest(need, chain.from_iterable(
        zip(map(math.dist, repeat(q), b.points), b.keys, b.entries, strict=True) for b in buckets
    ))
    return [entry for _, _, entry in rows]


# ---------------------------------------------------------------- lookups

def nearest(
    *,
    lat: float | None = None,
    lon: float | None = None,
    unit: str | None = None,
    kind: str | None = None,
    now: datetime | None = None,
    limit: int = 3,
) -> list[Found]:
    """The `limit` best places for a resident.

    Order: kinds that answer `kind` first (a shelter request also takes trusted addresses),
    then, when only a unit is known, places in that unit; then open now before closed
    before unknown hours; then great-circle distance from the location, or from the
    unit's centroid. With neither a location nor a resolvable unit, returns [] so the
    caller asks where. National hotlines are never listed here (see `hotlines()`).
    """
    if kind is not None and kind not in RELEVANT:
        raise ValueError(f"unknown kind {kind!r}; one of: {', '.join(RELEVANT)}")
    located = lat is not None and lon is not None
    home = None if located or not unit else gazetteer().resolve(unit)
    if not located and home is None:
        return []
    origin = (lat, lon) if located else (home.lat, home.lon)
    q = _unit_vector(*origin)
    index = _index()
    groups = index.buckets[_production()]
    local = local_time(now)
    states: dict[int, int] = {}  # schedule → 0 open now, 1 closed, 2 hours unknown

    def state(schedule: int) -> int:
        if schedule not in states:
            is_open_now = index.schedules[schedule].open_at(local)
            states[schedule] = 2 if is_open_now is None else (0 if is_open_now else 1)
        return states[schedule]

    listed = tuple(k for k in KINDS if k != "hotline")
    wanted = RELEVANT.get(kind, (kind,)) if kind else listed
    others = tuple(k for k in listed if k not in wanted)
    scopes = (True, False) if home else (None,)  # in the unit first, when a unit was named
    picked: list[Entry] = []
    for tier, inside in [(tier, inside) for tier in (wanted, others) for inside in scopes]:
        by_state: dict[int, list[_Bucket]] = {0: [], 1: [], 2: []}
        for (place_unit, place_kind), by_schedule in groups.items():
            if place_kind in tier and (inside is None or (place_unit == home.name) == inside):
                for schedule, bucket in by_schedule.items():
                    by_state[state(schedule)].append(bucket)
        for buckets in by_state.values():
            if buckets and len(picked) < limit:
                picked += _closest(q, buckets, limit - len(picked))
        if len(picked) >= limit:
            break
    return [
        Found(
            entry=e,
            distance_km=haversine_km(*origin, e.lat, e.lon) if e.xyz else None,
            open_now=e.open_at(local),
            in_unit=home is not None and e.unit == home.name,
        )
        for e in picked
    ]


def hotlines() -> list[Entry]:
    """Verified national hotlines (113, 115, 111…) in the directory."""
    return sorted((e for e in _index().visible[_production()] if e.kind == "hotline"), key=lambda e: e.phones)


def check_directory() -> list[str]:
    """Problems for the supervisor to log at start-up. The loud one: production without a
    verified trusted address means a resident asking for a safe place gets only hotlines."""
    index = _index()
    production = _production()
    visible = index.visible[production]
    warnings: list[str] = []
    trusted_units = {e.unit for e in visible if e.kind == "trusted_address"}
    if production and not trusted_units:
        warnings.append(
            "!!! NO VERIFIED TRUSTED ADDRESS (địa chỉ tin cậy) IN THE DIRECTORY: residents asking "
            "for a safe place will get only hotlines. Import verified places with "
            "`gbvbot places import FILE.csv` (see docs/places_csv.md). !!!"
        )
    elif production:
        for unit in gazetteer().units:
            if unit.in_area and unit.name not in trusted_units:
                warnings.append(f"no verified trusted address in {unit.name}")
    if production and not any(e.kind == "hotline" for e in visible):
        warnings.append("no verified hotline entries (113/115/111) in the directory")
    samples = sum(e.sample for e in index.entries)
    if production and samples:
        warnings.append(f"{samples} sample places are in the table (hidden in production)")
    if not production:
        warnings.append(f"demo mode: {samples} sample places (names start with '[Mẫu] ') are shown to residents")
    today = local_time().date()
    for e in visible:
        if e.verified and e.last_verified and today - e.last_verified > STALE_AFTER:
            warnings.append(f"place {e.key}: last verified {e.last_verified.isoformat()}, over a year ago")
    return warnings


# ---------------------------------------------------------------- answers

def _km(distance: float) -> str:
    if distance < 0.1:
        return "dưới 100 m"
    return f"khoảng {distance:.1f} km".replace(".", ",") if distance < 10 else f"khoảng {distance:.0f} km"


def format_places(found: list[Found], *, kind: str | None = None, unit: str | None = None) -> str:
    """The answer for a phone screen: emergency numbers first, then the top places with
    address, phone, hours (open now or not), distance and a map link."""
    home = gazetteer().resolve(unit) if unit else None
    title = REQUEST_VI.get(kind, REQUEST_VI[None])
    lines = [HOTLINES_LINE, ""]
    if not found:
        unit_name = home.name[:1].lower() + home.name[1:] if home else None
        where = f" ở {unit_name}" if unit_name else ""
        lines.append(f"Chưa có {title.lower()} nào{where} trong danh bạ của mình.")
        lines.append(NOT_FOUND_VI.get(kind, NOT_FOUND_VI[None]).format(where=unit_name or "phường, xã nơi bạn ở"))
        return "\n".join(lines)
    lines.append(f"{title} gần {home.name if home else 'bạn'}:")
    if home and any(f.distance_km is not None for f in found):
        estimate = " (vị trí ước lượng)" if home.estimate else ""
        lines.append(f"Khoảng cách tính từ trung tâm {home.name}{estimate}.")
    for number, item in enumerate(found, 1):
        e = item.entry
        lines += ["", f"{number}. {e.name} – {KIND_VI.get(e.kind, e.kind)}"]
        where = e.address or e.unit or ""
        if item.distance_km is not None:
            where = f"{where} (cách {_km(item.distance_km)})" if where else f"Cách {_km(item.distance_km)}"
        if where:
            lines.append(f"Địa chỉ: {where}")
        if e.phones:
            lines.append(f"Điện thoại: {', '.join(e.phones)}")
        if e.open_24_7:
            hours = "Mở cửa 24/7"
        elif e.rules:
            hours = f"Giờ mở cửa: {hours_vi(e.rules)}"
        else:
            hours = "Giờ mở cửa: chưa rõ, hãy gọi trước"
        if item.open_now is not None:
            hours += " – " + ("Đang mở cửa" if item.open_now else "Đang đóng cửa")
        lines.append(hours)
        if e.hours_note:
            lines.append(e.hours_note)
        if e.map_url:
            lines.append(f"Bản đồ: {e.map_url}")
    if any(f.entry.sample for f in found):
        lines += ["", "Các mục có chữ [Mẫu] là dữ liệu thử nghiệm, không phải địa chỉ thật."]
    return "\n".join(lines)


def format_ask_place() -> str:
    """What to say when neither a location nor a ward is known."""
    return f"{HOTLINES_LINE}\n\n{ASK_PLACE_TEXT}"


# ---------------------------------------------------------------- operators: CSV

@dataclass
class ImportReport:
    """What `import_csv` did; `errors` (English, line-numbered) means nothing was written."""

    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_PHONE = re.compile(r"\+?[0-9][0-9 .()-]*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LIMITS = {"name": 200, "address": 300, "phones": 200, "hours": 200, "hours_note": 300}


def _validate(line: int, record: dict[str, str | None]) -> tuple[dict | None, list[str]]:
    """One CSV row → column values for `Place`, or errors saying line and column."""
    errors: list[str] = []

    def error(column: str, problem: str) -> None:
        errors.append(f"line {line}: {column}: {problem}")

    raw = {c: _uncell(nfc((record.get(c) or "").strip())) for c in COLUMNS}
    values: dict = {c: raw[c] or None for c in ("name", "address", "hours", "hours_note", "services", "source")}

    def flag(column: str, required: bool = False) -> bool | None:
        text = raw[column].lower()
        if text in ("true", "false"):
            return text == "true"
        if text or required:
            error(column, f"must be true or false, got {raw[column]!r}")
        return None

    if not _KEY.fullmatch(raw["key"]):
        error("key", "required: lowercase letters, digits and '-', at most 64, e.g. 'kim-tra-police'")
    values["key"] = raw["key"]
    if not raw["name"]:
        error("name", "required")
    for column, limit in _LIMITS.items():
        if len(raw[column]) > limit:
            error(column, f"longer than {limit} characters")
    if raw["kind"] not in KINDS:
        error("kind", f"unknown kind {raw['kind']!r}; one of: {', '.join(KINDS)}")
    values["kind"] = raw["kind"]

    values["unit"] = None
    if raw["unit"]:
        unit = gazetteer().resolve(raw["unit"])
        if unit is None:
            error("unit", f"unknown phường/xã {raw['unit']!r} (current or former name, e.g. 'Phường Hương Trà' or 'Tứ Hạ')")
        else:
            values["unit"] = unit.name
    elif raw["kind"] != "hotline":
        error("unit", "required (the phường/xã the place is in); only hotlines may leave it empty")

    phones = _split_phones(raw["phones"])
    for phone in phones:
        digits = sum(ch.isdigit() for ch in phone)
        if not _PHONE.fullmatch(phone) or not 3 <= digits <= 15:
            error("phones", f"{phone!r} is not a phone number (digits, spaces, . - ( ) +; several separated by ';')")
    if raw["kind"] == "hotline" and not phones:
        error("phones", "a hotline needs a phone number")
    values["phones"] = ";".join(phones) or None

    if raw["hours"]:
        try:
            parse_hours(raw["hours"])
        except ValueError as exc:
            error("hours", str(exc))
    values["open_24_7"] = bool(flag("open_24_7"))

    values["lat"] = values["lon"] = None
    if bool(raw["lat"]) != bool(raw["lon"]):
        error("lat/lon", "give both or neither")
    elif raw["lat"]:
        for column, bound in (("lat", 90), ("lon", 180)):
            try:
                number = float(raw[column])
            except ValueError:
                error(column, f"not a number: {raw[column]!r}")
                continue
            if not -bound <= number <= bound:
                error(column, f"{number} is outside -{bound}..{bound}")
            values[column] = number

    verified, sample = flag("verified", required=True), bool(flag("sample"))
    values["verified"], values["sample"] = bool(verified), sample
    values["last_verified"] = None
    if raw["last_verified"]:
        try:
            if not _DATE.fullmatch(raw["last_verified"]):
                raise ValueError
            values["last_verified"] = date.fromisoformat(raw["last_verified"])
        except ValueError:
            error("last_verified", f"expected a date YYYY-MM-DD, got {raw['last_verified']!r}")
    if verified and sample:
        error("verified", "a sample entry cannot be verified")
    if verified and not raw["source"]:
        error("source", "a verified entry needs its source (URL or who confirmed it)")
    if verified and not raw["last_verified"]:
        error("last_verified", "a verified entry needs the date it was last checked")
    if sample and not raw["name"].startswith(SAMPLE_PREFIX):
        error("name", f"a sample entry's name must start with {SAMPLE_PREFIX!r}")
    if not sample and raw["name"].startswith(SAMPLE_PREFIX.strip()):
        error("sample", f"name starts with {SAMPLE_PREFIX.strip()!r} but sample is not true")
    return (None if errors else values), errors


def _read(stream: TextIO) -> tuple[list[dict], list[str]]:
    """Validate a whole CSV file; rows are returned only when every row is valid."""
    reader = csv.DictReader(stream)
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        return [], ["line 1: empty file; expected a header row: " + ",".join(COLUMNS)]
    reader.fieldnames = header
    errors = [f"line 1: missing column {c!r}" for c in REQUIRED_COLUMNS if c not in header]
    errors += [f"line 1: unknown column {c!r}; columns are: {','.join(COLUMNS)}" for c in header if c not in COLUMNS]
    if errors:
        return [], errors
    rows: list[dict] = []
    first_line: dict[str, int] = {}
    for record in reader:
        # line where the record starts (a quoted field may span lines)
        line = reader.line_num - sum(v.count("\n") for v in record.values() if isinstance(v, str))
        if None in record:
            errors.append(f"line {line}: more fields than columns in the header")
            continue
        values, row_errors = _validate(line, record)
        errors += row_errors
        key = (record.get("key") or "").strip()
        if key in first_line:
            errors.append(f"line {line}: key: {key!r} is also on line {first_line[key]}")
        first_line.setdefault(key, line)
        if values:
            rows.append(values)
    return ([] if errors else rows), errors


def _upsert(session: Session, rows: list[dict], progress: Callable[[int, int], None] | None) -> tuple[int, int, int]:
    """Insert or update by key; rows already identical are left alone (and keep updated_at)."""
    existing = {p.key: p for p in session.scalars(select(Place))}
    inserted = updated = unchanged = 0
    stamp = utcnow()
    total = len(rows)
    step = max(1, -(-total // 100))  # at most ~100 calls
    for done, values in enumerate(rows, 1):
        place = existing.get(values["key"])
        if place is None:
            session.add(Place(**values, updated_at=stamp))
            inserted += 1
        elif any(getattr(place, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(place, k, v)
            place.updated_at = stamp
            updated += 1
        else:
            unchanged += 1
        if progress and (done % step == 0 or done == total):
            progress(done, total)
    session.flush()
    return inserted, updated, unchanged


def import_csv(path: str | Path, progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Validate every row, then upsert all of them by key in one transaction — or, if any
    row is wrong, write nothing and return the errors. `progress(done, total)` is called
    while writing (at most ~100 times) so the CLI can draw a bar."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            rows, errors = _read(stream)
    except UnicodeDecodeError as exc:
        return ImportReport(errors=[f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"])
    report = ImportReport(rows=len(rows), errors=errors)
    if errors:
        return report
    with session_scope() as session:
        report.inserted, report.updated, report.unchanged = _upsert(session, rows, progress)
    invalidate()
    return report


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _uncell(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def _cell(value) -> str:
    """A CSV cell; text a spreadsheet would run as a formula (=, +, -, @) gets a leading '
    (the import takes it off again)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export_csv(out: str | Path | TextIO) -> int:
    """Write every place in the import format (so export → import round-trips); returns the count."""
    with session_scope() as session:
        places = session.scalars(select(Place).order_by(Place.key)).all()
    if isinstance(out, (str, Path)):
        with open(out, "w", encoding="utf-8", newline="") as stream:
            return _write(stream, places)
    return _write(out, places)


def _write(stream: TextIO, places: list[Place]) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    for place in places:
        writer.writerow([_cell(getattr(place, column)) for column in COLUMNS])
    return len(places)


def list_places(ward: str | None = None) -> list[Place]:
    """Every place (verified or not, for operators), optionally in one ward — current or
    former name. Raises ValueError for a ward the gazetteer does not know."""
    query = select(Place).order_by(Place.unit, Place.kind, Place.name)
    if ward:
        unit = gazetteer().resolve(ward)
        if unit is None:
            raise ValueError(f"unknown ward {ward!r}")
        query = query.where(Place.unit == unit.name)
    with session_scope() as session:
        return list(session.scalars(query).all())


def seed_demo(session: Session) -> int:
    """Load data/places_demo.csv into an empty table (demo start-up); returns rows added."""
    if session.scalar(select(func.count(Place.id))):
        return 0
    with open(DEMO_FILE, encoding="utf-8", newline="") as stream:
        rows, errors = _read(stream)
    if errors:
        raise ValueError("places_demo.csv is invalid:\n" + "\n".join(errors))
    inserted, _, _ = _upsert(session, rows, None)
    invalidate()
    return inserted


def area_units() -> list[Unit]:
    """The current units of the area (what the resident is asked to choose from)."""
    return [u for u in gazetteer().units if u.in_area]
