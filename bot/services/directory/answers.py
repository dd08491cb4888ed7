"""What a resident reads: the places found, or where to ask, in words that fit a phone
screen. The words are in bot/content/places.yml."""

from __future__ import annotations

from bot import content
from bot.geo.hours import hours_vi
from bot.geo.names import gazetteer
from bot.services.directory.index import Found


def _for_kind(prefix: str, kind: str | None) -> str:
    """The name of the text for `kind` (place_request_police), or the general one (place_request_any)."""
    name = f"{prefix}_{kind}"
    return name if name in content.texts() else f"{prefix}_any"


def _km(distance: float) -> str:
    if distance < 0.1:
        return content.text("place_under_100_m")
    return content.text("place_about_km", km=f"{distance:.1f}".replace(".", ",") if distance < 10 else f"{distance:.0f}")


def format_places(found: list[Found], *, kind: str | None = None, unit: str | None = None) -> str:
    """The answer for a phone screen: emergency numbers first, then the top places with
    address, phone, hours (open now or not), distance and a map link."""
    home = gazetteer().resolve(unit) if unit else None
    title = content.text(_for_kind("place_request", kind))
    lines = [content.text("place_hotlines"), ""]
    if not found:
        unit_name = home.name[:1].lower() + home.name[1:] if home else None
        if unit_name:
            lines.append(content.text("place_none_in", what=title.lower(), unit=unit_name))
        else:
            lines.append(content.text("place_none", what=title.lower()))
        where = unit_name or content.text("place_somewhere")
        lines.append(content.text(_for_kind("place_not_found", kind), where=where))
        return "\n".join(lines)
    if home:
        lines.append(content.text("place_near", what=title, unit=home.name))
    else:
        lines.append(content.text("place_near_you", what=title))
    if home and any(f.distance_km is not None for f in found):
        measured = "place_measured_from_estimate" if home.estimate else "place_measured_from"
        lines.append(content.text(measured, unit=home.name))
    for number, item in enumerate(found, 1):
        e = item.entry
        lines += ["", f"{number}. {e.name} – {content.texts().get(f'place_kind_{e.kind}', e.kind)}"]
        address = e.address or e.unit
        distance = _km(item.distance_km) if item.distance_km is not None else None
        if address and distance:
            lines.append(content.text("place_address_distance", address=address, distance=distance))
        elif address:
            lines.append(content.text("place_address", address=address))
        elif distance:
            lines.append(content.text("place_distance", distance=distance))
        if e.phones:
            lines.append(content.text("place_phones", phones=", ".join(e.phones)))
        if e.open_24_7:
            hours = content.text("place_open_24_7")
        elif e.rules:
            hours = content.text("place_hours", hours=hours_vi(e.rules))
        else:
            hours = content.text("place_hours_unknown")
        if item.open_now is not None:
            hours += " – " + content.text("place_open_now" if item.open_now else "place_closed_now")
        lines.append(hours)
        if e.hours_note:
            lines.append(e.hours_note)
        if e.map_url:
            lines.append(content.text("place_map", url=e.map_url))
    if any(f.entry.sample for f in found):
        lines += ["", content.text("place_samples")]
    return "\n".join(lines)


def format_ask_place() -> str:
    """What to say when neither a location nor a ward is known."""
    return f"{content.text('place_hotlines')}\n\n{content.text('place_ask')}"
