"""Place names of the area: every current unit and every former name, matched the way
residents type them ("tu ha", "Hương Vân", "huong chu", "P. Tứ Hạ", "binh dienn").

Words typed with diacritics must carry the same marks as the name (so "từ Hà Nội" is not
"Tứ Hạ"); words typed without any mark are compared folded. Names of eight or more
letters also match with one typo when nothing matches exactly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.vietnamese import strip_marks

DATA_FILE = Path(__file__).with_name("gazetteer.yml")
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Unit:
    name: str  # canonical current name, e.g. "Phường Hương Trà"
    kind: str  # "phuong" | "xa"
    in_area: bool
    lat: float
    lon: float
    estimate: bool
    former: tuple[str, ...]


@dataclass(frozen=True)
class PlaceMatch:
    unit: Unit
    start: int
    end: int
    alias: str


def _signature(word: str) -> tuple[str, frozenset[str]]:
    """A word's letters and its set of marks, independent of tone placement (hoà = hòa)."""
    lowered = unicodedata.normalize("NFD", word.lower())
    marks = frozenset(ch for ch in lowered if unicodedata.combining(ch))
    if "đ" in word.lower():
        marks |= {"đ"}
    return strip_marks(word), marks


def _distance_at_most_one(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


class Gazetteer:
    def __init__(self, units: list[Unit]):
        self.units = units
        # alias → (unit, the alias's words as signatures)
        self._aliases: list[tuple[Unit, str, tuple[tuple[str, frozenset[str]], ...]]] = []
        for unit in units:
            short = re.sub(r"^(phường|xã)\s+", "", unit.name, flags=re.IGNORECASE)
            for alias in dict.fromkeys((short, *unit.former)):
                words = tuple(_signature(w) for w in _WORD.findall(alias))
                self._aliases.append((unit, alias, words))
        self._aliases.sort(key=lambda a: -len(a[2]))

    @classmethod
    def load(cls, path: Path = DATA_FILE) -> Gazetteer:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        units = [
            Unit(
                name=u["name"], kind=u["kind"], in_area=bool(u["in_area"]),
                lat=float(u["lat"]), lon=float(u["lon"]), estimate=bool(u["estimate"]),
                former=tuple(u.get("former") or ()),
            )
            for u in raw["units"]
        ]
        return cls(units)

    def by_name(self, name: str) -> Unit | None:
        for unit in self.units:
            if unit.name == name:
                return unit
        return None

    def find(self, text: str) -> list[PlaceMatch]:
        """Every place named in `text`, left to right, without overlaps."""
        words = list(_WORD.finditer(text))
        sigs = [_signature(w.group()) for w in words]
        found: list[PlaceMatch] = []
        i = 0
        while i < len(words):
            match = self._match_at(words, sigs, i)
            if match:
                unit, alias, n = match
                found.append(PlaceMatch(unit, words[i].start(), words[i + n - 1].end(), alias))
                i += n
            else:
                i += 1
        return found

    def resolve(self, name: str) -> Unit | None:
        """The unit a typed name refers to ("tu ha", "P. Hương Vân", "Xã Bình Điền")."""
        name = name.strip()
        exact = self.by_name(name)
        if exact:
            return exact
        matches = self.find(name)
        return matches[0].unit if len(matches) == 1 else None

    def _match_at(self, words, sigs, i):
        fuzzy = []
        for unit, alias, alias_sigs in self._aliases:
            n = len(alias_sigs)
            window = sigs[i:i + n]
            if len(window) < n:
                continue
            if all(self._word_equal(w, a) for w, a in zip(window, alias_sigs)):
                return unit, alias, n
            typed = " ".join(w[0] for w in window)
            target = " ".join(a[0] for a in alias_sigs)
            if len(target) >= 8 and not any(w[1] for w in window) and _distance_at_most_one(typed, target):
                fuzzy.append((unit, alias, n))
        units = {f[0] for f in fuzzy}
        return fuzzy[0] if len(units) == 1 else None

    @staticmethod
    def _word_equal(typed, alias) -> bool:
        if typed[1]:  # typed with marks: marks must agree
            return typed == alias
        return typed[0] == alias[0]


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    return Gazetteer.load()
