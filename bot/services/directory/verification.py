"""Who checked a place, when and how, and what is due: a place reaches residents (in
production) only while its verification is current — verified, and less than six months
ago. Changing what a resident would read (name, kind, unit, address, phones, hours,
position) takes the verification away until someone checks again. Every change is audited.

Places are edited with the same validation as the CSV import (csvio._validate), so the
console and the file can never disagree about what a valid place is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from bot.geo.hours import local_time
from bot.services.directory.csvio import COLUMNS, HOWS, _validate
from bot.services.directory.index import current, due_date, invalidate
from bot.services.escalation import audit
from bot.storage.db import session_scope
from bot.storage.models import Place, utcnow

SOON_DAYS = 30  # the console lists places due within this many days
# What a resident reads: changing any of these needs a new check.
FACTS = ("name", "kind", "unit", "address", "phones", "hours", "open_24_7", "hours_note", "lat", "lon")
EDITABLE = FACTS + ("services",)


def today() -> date:
    return local_time().date()


@dataclass(frozen=True)
class Saved:
    key: str | None
    errors: list[str]
    unverified: bool = False  # a verified place's facts changed: it needs a new check


def _record(place: Place | None) -> dict[str, str]:
    """A place as the CSV's strings (what _validate reads)."""
    record = {c: "" for c in COLUMNS}
    if place is not None:
        for column in COLUMNS:
            value = getattr(place, column)
            record[column] = ("true" if value else "false") if isinstance(value, bool) else \
                value.isoformat() if isinstance(value, date) else "" if value is None else str(value)
    else:
        record["verified"] = "false"
    return record


def save(key: str | None, fields: dict[str, str], actor: str) -> Saved:
    """Create (`key` None: `fields["key"]` names it) or edit a place from the console form.
    The verification fields are kept unless a fact changed; nothing is written on errors."""
    with session_scope() as session:
        place = session.scalar(select(Place).where(Place.key == key)) if key else None
        if key and place is None:
            return Saved(None, [f"no place {key!r}"])
        record = _record(place)
        record.update({c: fields.get(c, "") for c in EDITABLE})
        record["open_24_7"] = "true" if fields.get("open_24_7") else "false"
        if place is None:
            record["key"] = fields.get("key", "")
            if session.scalar(select(Place.id).where(Place.key == record["key"])) is not None:
                return Saved(None, [f"key: {record['key']!r} is taken"])
        values, errors = _validate(0, record)
        if errors:
            return Saved(None, [e.removeprefix("line 0: ") for e in errors])
        changed = place is not None and any(getattr(place, c) != values[c] for c in FACTS)
        unverified = changed and bool(place.verified)
        if unverified:
            values.update(verified=False, verified_by=None, verified_how=None)
        if place is None:
            place = Place(**values, updated_at=utcnow())
            session.add(place)
        else:
            for column, value in values.items():
                setattr(place, column, value)
            place.updated_at = utcnow()
        session.flush()
        place_id, saved_key = place.id, place.key
    audit(actor, "place_create" if key is None else "place_edit", subject=f"place:{place_id}")
    if unverified:
        audit(actor, "place_unverified", subject=f"place:{place_id}")
    invalidate()
    return Saved(saved_key, [], unverified)


def verify(key: str, actor: str, how: str, source: str, on: date | None = None) -> list[str]:
    """Record a check: `actor` confirmed the place's facts `how`, from `source`, on `on`
    (today by default; never in the future). Returns errors (English), empty when done."""
    on = on or today()
    source = (source or "").strip()
    errors = []
    if how not in HOWS:
        errors.append(f"how: one of {', '.join(HOWS)}")
    if not source or len(source) > 300:
        errors.append("source: who confirmed it, or the list's address (1-300 characters)")
    if on > today() or not current(True, on, today()):
        errors.append("date: today or within the last six months")
    with session_scope() as session:
        place = session.scalar(select(Place).where(Place.key == key))
        if place is None:
            return [f"no place {key!r}"]
        if place.sample:
            errors.append("a sample place cannot be verified")
        if errors:
            return errors
        place.verified, place.last_verified, place.verified_how, place.verified_by = True, on, how, actor
        place.source, place.updated_at = source, utcnow()
        place_id = place.id
    audit(actor, "place_verify", subject=f"place:{place_id}")
    invalidate()
    return []


def due(on: date | None = None) -> list[tuple[Place, date]]:
    """Verified places due again within SOON_DAYS (overdue first), with their due date."""
    on = on or today()
    with session_scope() as session:
        places = list(session.scalars(select(Place).where(Place.verified.is_(True), Place.sample.is_(False))))
    found = [(p, due_date(p.last_verified)) for p in places if p.last_verified]
    return sorted(((p, d) for p, d in found if (d - on).days <= SOON_DAYS), key=lambda pair: (pair[1], pair[0].key))


def unverified() -> list[Place]:
    """Real places nobody has verified (yet, or since their facts changed)."""
    with session_scope() as session:
        return list(session.scalars(select(Place).where(Place.verified.is_(False), Place.sample.is_(False))
                                    .order_by(Place.unit, Place.name)))
