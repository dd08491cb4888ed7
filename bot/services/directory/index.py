"""The places residents are shown: an in-memory index of the `places` table, the nearest and
most relevant of them, the start-up check, and the operators' listing.

A resident waits on every lookup and operators edit rarely, so lookups run on an index that
is re-read only when the table's row count or latest `updated_at` changes, or the day does
(checked at most every few seconds, and at once after an import in the same process). In
production only entries whose verification is current are ever shown (verified less than
six months ago); demo mode shows verified entries and the sample entries.
"""

from __future__ import annotations

import calendar
import heapq
import logging
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, repeat

from sqlalchemy import func, select

from bot.config import settings
from bot.geo.distance import haversine_km, unit_vector
from bot.geo.hours import Rule, is_open, local_time, parse_hours
from bot.geo.names import Unit, gazetteer
from bot.storage.db import session_scope
from bot.storage.models import Place

log = logging.getLogger(__name__)

KINDS = (
    "trusted_address", "shelter", "legal_aid", "police", "health",
    "social_work", "womens_union", "hotline",
)
REFRESH_SECONDS = 5.0
VALID_MONTHS = 6  # a verification is due again six calendar months later

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


def due_date(verified_on: date) -> date:
    """When a verification is due again: six calendar months on (31 August → end of February)."""
    month = verified_on.month - 1 + VALID_MONTHS
    year, month = verified_on.year + month // 12, month % 12 + 1
    return date(year, month, min(verified_on.day, calendar.monthrange(year, month)[1]))


def current(verified: bool, last_verified: date | None, today: date) -> bool:
    """Verified, and not yet due again on `today`."""
    return bool(verified) and last_verified is not None and today < due_date(last_verified)


def split_phones(text: str | None) -> tuple[str, ...]:
    """"0234 111; 113" → ("0234 111", "113"), as phones are written in the table and the CSV."""
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
    def __init__(self, rows: Iterable, signature: tuple, today: date):
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
                phones=split_phones(row.phones), hours=row.hours, open_24_7=bool(row.open_24_7),
                hours_note=row.hours_note, lat=row.lat, lon=row.lon, services=row.services,
                verified=bool(row.verified), source=row.source, last_verified=row.last_verified,
                sample=bool(row.sample), rules=() if row.open_24_7 else parsed.get(hours, ()),
                schedule=schedules.setdefault((bool(row.open_24_7), hours), len(schedules)),
                xyz=unit_vector(row.lat, row.lon) if located else None,
            ))
        self.entries = entries
        self.schedules: dict[int, Entry] = {e.schedule: e for e in entries}  # one entry per schedule
        # production → real entries verified less than six months ago; demo → verified entries and samples.
        self.visible = {
            True: [e for e in entries if current(e.verified, e.last_verified, today) and not e.sample],
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
        today = local_time().date()
        signature = (*session.execute(select(func.count(Place.id), func.max(Place.updated_at))).one(), today)
        if index is None or index.signature != signature:
            index = _Index(session.execute(select(Place.__table__)).all(), signature, today)
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
    q = unit_vector(*origin)
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
    overdue = [e.key for e in index.entries if e.verified and not e.sample and not current(e.verified, e.last_verified, today)]
    if production and overdue:
        warnings.append(f"{len(overdue)} verified places are due for re-verification and hidden from residents: "
                        f"{', '.join(overdue[:10])} (the console lists them: /console/places/due)")
    return warnings


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


def trusted_addresses(unit: str) -> list[str]:
    """"Name, address" of the trusted addresses (Điều 36) of one current unit that residents
    may be shown: verified ones (and, in demo mode, the samples)."""
    shown = Place.verified.is_(True) if _production() else (Place.verified.is_(True) | Place.sample.is_(True))
    query = (select(Place.name, Place.address).where(Place.kind == "trusted_address", Place.unit == unit, shown)
             .order_by(Place.name))
    with session_scope() as session:
        return [", ".join(p for p in row if p) for row in session.execute(query)]


def area_units() -> list[Unit]:
    """The current units of the area (what the resident is asked to choose from)."""
    return [u for u in gazetteer().units if u.in_area]
